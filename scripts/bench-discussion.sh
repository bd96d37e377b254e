#!/usr/bin/env bash
# The Discussion's load benchmark (issue 37): N participants in one session; posts timed to every
# phone beside a bare broadcast of the same size, then posts and likes at a rate, timed as answered
# and as a host's socket receives them, and the likes counted at the end. One Ruche process on
# SQLite, then two sharing PostgreSQL. Run on demand; prints figures and asserts nothing.
#
#   BENCH_PARTICIPANTS      participants in the session                 (default 10000)
#   BENCH_PROBES            posts timed one at a time                   (default 10)
#   BENCH_POSTS             posts within BENCH_SECONDS                  (default 1000)
#   BENCH_SECONDS           how long posts and likes go on              (default 10)
#   BENCH_LIKES_PER_SECOND  likes a second meanwhile                    (default 5000)
#   BENCH_MESSAGES          messages in the session when memory is read (default 10000)
#   BENCH_SPREAD            also two processes sharing PostgreSQL (1, default) or not (0)
#   BENCH_CONNECTIONS       posts and likes on connections kept alive (kept, default), as a
#                           browser sends them, or on a new connection each (fresh)
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build_tools
setup_test_tools
cd "$ROOT"
cargo leptos build --release --precompress --split
RUSTFLAGS="--cfg erase_components" cargo build --release -p bench
bench="$CARGO_TARGET_DIR/release/live-bench"
ulimit -n "$(ulimit -Hn)"
echo "open files per process: $(ulimit -n); cores: $(nproc)"
source "$ROOT/scripts/bench-processes.sh"

options=(--participants "${BENCH_PARTICIPANTS:-10000}" --probes "${BENCH_PROBES:-10}" --posts "${BENCH_POSTS:-1000}"
  --seconds "${BENCH_SECONDS:-10}" --likes-per-second "${BENCH_LIKES_PER_SECOND:-5000}"
  --messages "${BENCH_MESSAGES:-10000}" --connections "${BENCH_CONNECTIONS:-kept}")

ruche 3911 "sqlite://$scratch/discussion.db?mode=rwc"; server=$started
baseline 3950; raw=$started
"$bench" discussion --label "One Ruche process, SQLite" --ruche 127.0.0.1:3911 --ruche-pids "$server" \
  --baseline 127.0.0.1:3950 --baseline-pid "$raw" "${options[@]}"
stop "$server" "$raw"

if [ "${BENCH_SPREAD:-1}" = 1 ]; then
  admin="${RUCHE_TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/test}"
  db="ruche_bench_discussion_$$"
  psql -q "$admin" -c "CREATE DATABASE $db"
  pg_url="${admin%/*}/$db"
  ruche 3912 "$pg_url"; a=$started
  ruche 3913 "$pg_url"; b=$started
  baseline 3950; raw=$started
  "$bench" discussion --label "Two Ruche processes sharing PostgreSQL (participants on both)" \
    --ruche 127.0.0.1:3912,127.0.0.1:3913 --ruche-pids "$a,$b" --baseline 127.0.0.1:3950 --baseline-pid "$raw" "${options[@]}"
  stop "$a" "$b" "$raw"
  psql -q "$admin" -c "DROP DATABASE $db"
fi
