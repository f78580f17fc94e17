#!/usr/bin/env bash
# Installs every tool the build and the tests need, from package registries only
# (crates.io, npm, Debian): nothing is downloaded from anywhere else. Idempotent:
# a tool already present at the right version is left alone.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.10
# Must equal the `wasm-bindgen` pin in Cargo.toml: cargo-leptos calls this CLI.
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0

export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION"
  # 0.3.10 is the last release that builds on Rust 1.95; --locked keeps it so.
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: the published lock file names a crate the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# wasm-opt (release builds only). Without it on PATH cargo-leptos would try a download.
if ! command -v wasm-opt >/dev/null 2>&1; then
  log "installing wasm-opt (npm binaryen $BINARYEN_VERSION)"
  npm install --global --no-fund --no-audit "binaryen@$BINARYEN_VERSION"
fi

# The browser for the end-to-end tests: Debian's Chromium (Playwright never downloads one).
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi

log "installing the end-to-end test packages (npm)"
(cd "$(dirname "$0")/../end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error)

log "tools ready: $(cargo leptos --version), $(wasm-bindgen --version), wasm-opt $(wasm-opt --version)"
