#!/usr/bin/env bash
# The live channel's load benchmark (issue 6): N participants join one session over the real
# protocol, then close, open and new-code events are timed to every one of them; the same load
# then goes through a bare tokio broadcast server (the baseline), and both are printed side by
# side. Run on demand; prints figures and asserts nothing.
#
#   BENCH_PARTICIPANTS  sizes for one Ruche process on SQLite   (default 1000,10000,19500)
#   BENCH_SPREAD        sizes for two Ruche processes sharing PostgreSQL (default 19500; empty: skip)
#   BENCH_ROUNDS        rounds of each event                    (default 10)
#   BENCH_JOIN_RATE     joins a second of the paced second wave (default 5000)
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build_tools
setup_test_tools
cd "$ROOT"
cargo leptos build --release --precompress --split
RUSTFLAGS="--cfg erase_components" cargo build --release -p bench   # shares the release build of the dependencies
bench="$CARGO_TARGET_DIR/release/live-bench"

# Each process may hold as many sockets as the machine allows (20,000 here).
ulimit -n "$(ulimit -Hn)"
echo "open files per process: $(ulimit -n); cores: $(nproc)"

source "$ROOT/scripts/bench-processes.sh"

rounds="${BENCH_ROUNDS:-10}"
join_rate="${BENCH_JOIN_RATE:-5000}"
IFS=',' read -ra sizes <<< "${BENCH_PARTICIPANTS-1000,10000,19500}"
for n in "${sizes[@]}"; do
  # Fresh processes for each size, so that memory is measured from a clean start.
  ruche 3901 "sqlite://$scratch/bench-$n.db?mode=rwc"; server=$started
  baseline 3950; raw=$started
  "$bench" run --label "One Ruche process, SQLite" --ruche 127.0.0.1:3901 --ruche-pids "$server" \
    --baseline 127.0.0.1:3950 --baseline-pid "$raw" --participants "$n" --rounds "$rounds" --join-rate "$join_rate"
  stop "$server" "$raw"
done

IFS=',' read -ra spread <<< "${BENCH_SPREAD-19500}"
if [ "${#spread[@]}" -gt 0 ]; then
  admin="${RUCHE_TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/test}"
  db="ruche_bench_$$"
  psql -q "$admin" -c "CREATE DATABASE $db"
  pg_url="${admin%/*}/$db"
  for n in "${spread[@]}"; do
    ruche 3902 "$pg_url"; a=$started
    ruche 3903 "$pg_url"; b=$started
    baseline 3950; raw=$started
    "$bench" run --label "Two Ruche processes sharing PostgreSQL (events fired on the first)" \
      --ruche 127.0.0.1:3902,127.0.0.1:3903 --ruche-pids "$a,$b" \
      --baseline 127.0.0.1:3950 --baseline-pid "$raw" --participants "$n" --rounds "$rounds" --join-rate "$join_rate"
    stop "$a" "$b" "$raw"
  done
  psql -q "$admin" -c "DROP DATABASE $db"
fi
