#!/usr/bin/env bash
# Builds a release Ruche, serves it on a scratch database and measures the participant page in
# Chromium (end2end/bench/participant-load.mjs). Prints figures; asserts nothing.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build_tools
setup_test_tools
cd "$ROOT"
cargo leptos build --release --precompress --split
data="$(mktemp -d)"
port="${BENCH_PORT:-3900}"
DATABASE_URL="sqlite://$data/ruche.db?mode=rwc" PUBLIC_URL="http://127.0.0.1:$port" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="target/site" \
  LEPTOS_OUTPUT_NAME="ruche" LEPTOS_ENV="PROD" TRUSTED_PROXIES="127.0.0.1" RUST_LOG=warn \
  "$CARGO_TARGET_DIR/release/server" &
server=$!
trap 'kill $server; rm -rf "$data"' EXIT
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
# Named after its content (hash-files): ruche.<hash>.wasm.
wasm="$(ls target/site/pkg/ruche.*wasm | head -n1)"
echo "wasm on disk: $(stat -c %s $wasm) bytes raw, $(stat -c %s $wasm.gz 2>/dev/null || echo ?) gzip and $(stat -c %s $wasm.br 2>/dev/null || echo ?) brotli as served (precompressed)"
node end2end/bench/participant-load.mjs "http://127.0.0.1:$port" "${BENCH_RUNS:-5}"
