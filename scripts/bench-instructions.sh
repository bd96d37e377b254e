#!/usr/bin/env bash
# What one more participant, and one participant page, cost the server, in instructions counted by
# callgrind (issue 14).
# The release server runs under valgrind while `live-bench run` joins BENCH_SMALL participants to
# a session (one round of close, open and new code), then again on a fresh server with
# BENCH_LARGE; the difference of the two totals, divided by the participants between them, is one
# participant's share: its join (the code's request and the socket, not the participant page)
# and 3 messages. A third run joins BENCH_SMALL again, and BENCH_PAGES of them then load the
# participant page as phones do: its difference from the first, per page, is a page's share.
# Counts are steadier than times on a busy machine, so a change of a few per cent to the server's
# own code shows (bench-live.sh's times move more than that from run to run). What callgrind does
# not count: the kernel (TCP, a third of a join's CPU time or more); and valgrind runs the server
# about 50 times slower, so work tied to the clock (the ways in held 1 s, joins grouped per
# write) happens more often per join than at full speed and varies by a few per cent between
# runs. Memory zeroed in large blocks (`rep stosb`) counts one instruction a byte.
#
#   BENCH_SMALL  participants of the first run   (default 300)
#   BENCH_LARGE  participants of the second run  (default 1300)
#   BENCH_PAGES  participant pages loaded in the third run (default 300; 0: no third run)
#   BENCH_TOP    functions listed, by their own instructions per participant or page (default 25)
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build_tools
command -v valgrind >/dev/null || apt_install valgrind
cd "$ROOT"
cargo leptos build --release --precompress --split
RUSTFLAGS="--cfg erase_components" cargo build --release -p bench
bench="$CARGO_TARGET_DIR/release/live-bench"
small="${BENCH_SMALL:-300}"
large="${BENCH_LARGE:-1300}"
pages="${BENCH_PAGES:-300}"
[ "$pages" -le "$small" ] || { echo "BENCH_PAGES ($pages) must be at most BENCH_SMALL ($small)" >&2; exit 1; }
[ "$large" -gt "$small" ] || { echo "BENCH_LARGE ($large) must be above BENCH_SMALL ($small)" >&2; exit 1; }

ulimit -n "$(ulimit -Hn)"
source "$ROOT/scripts/bench-processes.sh"

# count NAME N PAGES: one server under callgrind, N participants of whom the first PAGES then
# load their page; its profile is $scratch/callgrind.NAME.
count() {
  ruche 3904 "sqlite://$scratch/bench-$1.db?mode=rwc" \
    valgrind --tool=callgrind --callgrind-out-file="$scratch/callgrind.$1" --dump-instr=no --log-file="$scratch/valgrind.$1.log"
  local server=$started
  baseline 3951
  local raw=$started
  "$bench" run --label "under callgrind" --ruche 127.0.0.1:3904 --ruche-pids "$server" \
    --baseline 127.0.0.1:3951 --baseline-pid "$raw" --participants "$2" --rounds 1 --page-loads "$3" >"$scratch/run.$1.log" \
    || { cat "$scratch/run.$1.log" >&2; exit 1; }
  # SIGTERM: the server stops gracefully and callgrind writes its profile.
  stop "$raw" "$server"
  [ -s "$scratch/callgrind.$1" ] || { cat "$scratch/valgrind.$1.log" >&2; echo "callgrind wrote no profile" >&2; exit 1; }
}

# compare A B N WHAT: profile B's instructions beyond profile A's, divided by N, as one WHAT's
# cost: the total, then the functions that run most of it (their own instructions).
compare() {
  python3 - "$@" "${BENCH_TOP:-25}" <<'PY'
import re, subprocess, sys

def self_costs(profile):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", profile], capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)$", line)
        if m:
            name = re.sub(r"\s*\[[^\]]*\]$", "", m.group(2)).removeprefix("???:")
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return costs

base, more = self_costs(sys.argv[1]), self_costs(sys.argv[2])
n, what, top = int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
total = (more.pop("PROGRAM TOTALS") - base.pop("PROGRAM TOTALS")) / n
print(f"| instructions per {what} | {total:,.0f} |")
print(f"| its largest parts, by the function that runs them (own instructions) | per {what} |")
print("|---|---|")
rows = sorted(((more.get(k, 0) - base.get(k, 0)) / n, k) for k in set(base) | set(more))
for cost, name in reversed(rows[-top:]):
    print(f"| `{name[:120]}` | {cost:,.0f} ({100 * cost / total:.1f} %) |")
PY
}

count small "$small" 0
count large "$large" 0
echo "## Server instructions per participant (callgrind; $small and $large participants, 1 round of events)"
compare "$scratch/callgrind.small" "$scratch/callgrind.large" "$((large - small))" participant
if [ "$pages" -gt 0 ]; then
  count pages "$small" "$pages"
  # live-bench loads one page uncompressed first, to check it is the participant's, then the
  # BENCH_PAGES as phones do: one more page than asked, and a cheaper one.
  echo "## Server instructions per participant page (callgrind; $small participants, $pages of them load their page)"
  compare "$scratch/callgrind.small" "$scratch/callgrind.pages" "$((pages + 1))" "participant page"
fi
