#!/usr/bin/env bash
# Every check and every test: formatting, lints for the server and the browser bundle,
# unit and integration tests (on real SQLite files, then again on the real PostgreSQL,
# the read-model tests again with the read models in the real Redis, and the real
# server binary), the release build of the whole site with cargo-leptos, and Playwright
# in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-tools.sh
scripts/services.sh
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "lint: server"
cargo clippy --all-targets --features ssr -- -D warnings

step "lint: browser bundle"
cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "unit and integration tests (SQLite)"
cargo test --features ssr

# Each test makes a schema of its own; drop those of earlier runs first.
postgres="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
step "integration tests (PostgreSQL, $postgres)"
PGOPTIONS="-c client_min_messages=warning" psql "$postgres" -qAt -c "SELECT format('DROP SCHEMA %I CASCADE;', nspname)
  FROM pg_namespace WHERE nspname LIKE 'alloc\_test\_%'" | PGOPTIONS="-c client_min_messages=warning" psql "$postgres" -q
TEST_POSTGRES_URL="$postgres" cargo test --features ssr --test '*'

# Each test keeps its Redis read models under keys of its own; delete those of earlier runs.
redis="redis://127.0.0.1:6379" # as in tests/common
step "read-model tests with the read models in Redis ($redis)"
redis-cli -u "$redis" --scan --pattern 'alloc-test*' | xargs -r -n 500 redis-cli -u "$redis" del >/dev/null
TEST_READ_MODEL=redis cargo test --features ssr --test views --test api --test forms --test reports --test auth

step "release build of the site (server + WebAssembly)"
cargo leptos build --release
bundle="target/site/pkg/allocation-desk.wasm"
printf 'WebAssembly bundle: %s bytes, %s bytes gzipped\n' \
  "$(wc -c <"$bundle")" "$(gzip -9 -c "$bundle" | wc -c)"

step "end-to-end tests (Playwright, Chromium)"
(cd end2end && DESK_SERVER_BIN="$CARGO_TARGET_DIR/release/allocation-desk" npx playwright test)
