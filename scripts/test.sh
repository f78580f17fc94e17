#!/usr/bin/env bash
# Every check and every test: formatting, lints for the server and the browser bundle,
# unit and integration tests (real SQLite files, the real server binary), and the
# release build of the whole site with cargo-leptos.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-tools.sh
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "lint: server"
cargo clippy --all-targets --features ssr -- -D warnings

step "lint: browser bundle"
cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests"
cargo test --features ssr

step "release build of the site (server + WebAssembly)"
cargo leptos build --release
bundle="target/site/pkg/allocation-desk_bg.wasm"
printf 'WebAssembly bundle: %s bytes, %s bytes gzipped\n' \
  "$(wc -c <"$bundle")" "$(gzip -9 -c "$bundle" | wc -c)"
