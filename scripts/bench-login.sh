#!/usr/bin/env bash
# The log-in flood benchmark (issue 10): one client fires N wrong-password log-ins at once
# against a release server while `GET /` is timed every 10 ms and the server's memory is read
# from /proc; it prints peak memory, `GET /` p50/p99/max, the answers by status and the total
# time. Three cases, each on a fresh server (so that its memory peak is the flood's): all from one
# client address; from 16; and each from an address and for an e-mail of its own, which no
# per-address or per-account limit stops. Run on demand; prints figures and asserts nothing.
#
#   BENCH_LOGINS  log-ins in each flood (default 1000; 20 is a quick smoke run)
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build_tools
cd "$ROOT"
cargo leptos build --release --precompress --split
RUSTFLAGS="--cfg erase_components" cargo build --release -p bench   # shares the release build of the dependencies
flood="$CARGO_TARGET_DIR/release/login-flood"
logins="${BENCH_LOGINS:-1000}"

# A socket per log-in, on both sides.
ulimit -n "$(ulimit -Hn)"
echo "open files per process: $(ulimit -n); cores: $(nproc)"

scratch="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

port=3904
# flood LABEL ARGS…: a fresh server on a fresh SQLite file, one flood, then the server stops.
flood() {
  local label="$1"; shift
  rm -f "$scratch"/ruche.db*
  # 127.0.0.1 is the flood's "proxy": its X-Forwarded-For is each request's client address.
  DATABASE_URL="sqlite://$scratch/ruche.db?mode=rwc" PUBLIC_URL="http://127.0.0.1:$port" LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    LEPTOS_SITE_ROOT="target/site" LEPTOS_OUTPUT_NAME="ruche" LEPTOS_ENV="PROD" RUST_LOG=warn SMTP_URL="" \
    TRUSTED_PROXIES="127.0.0.1" "$CARGO_TARGET_DIR/release/server" >"$scratch/server.log" 2>&1 &
  server=$!
  local up=""
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { up=1; break; }; sleep 0.1; done
  [ -n "$up" ] || { echo "the server did not come up on port $port" >&2; exit 1; }
  "$flood" --ruche "127.0.0.1:$port" --pid "$server" --logins "$logins" --label "$label" "$@"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
  # What the flood costs the log too (RUST_LOG=warn): an attacker's requests should not fill it.
  echo "server log: $(wc -l < "$scratch/server.log") lines"
}

flood "One Ruche process, SQLite" --addresses 1
flood "One Ruche process, SQLite" --addresses 16
flood "One Ruche process, SQLite" --addresses "$logins" --unknown-accounts
