# Sourced by the live benchmarks: a scratch directory and the servers they start, all gone when
# the benchmark ends however it ends. Needs $bench (the live-bench binary) for `baseline`.
scratch="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# Waits up to a minute (a server under valgrind takes seconds to start) for PORT to answer.
wait_port() {
  for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing answers on port $1" >&2; exit 1
}

# ruche PORT DATABASE_URL [COMMAND…]: starts a release server (run by COMMAND, valgrind say, if
# given); its pid is in $started.
ruche() {
  local port=$1 url=$2
  shift 2
  DATABASE_URL="$url" PUBLIC_URL="http://127.0.0.1:$port" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT="target/site" \
    LEPTOS_OUTPUT_NAME="ruche" LEPTOS_ENV="PROD" RUST_LOG=warn SMTP_URL="" \
    "$@" "$CARGO_TARGET_DIR/release/server" &
  started=$!
  pids+=("$started")
  wait_port "$port"
}

# baseline PORT: starts the raw broadcast server; its pid is in $started.
baseline() {
  "$bench" baseline --addr "127.0.0.1:$1" &
  started=$!
  pids+=("$started")
  wait_port "$1"
}

stop() {
  kill "$@" 2>/dev/null || true
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}
