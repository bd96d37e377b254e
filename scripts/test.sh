#!/usr/bin/env bash
# Installs what is missing, then runs every check: formatting and lints first, the Rust tests
# (SQLite and PostgreSQL), then the Playwright suite (desktop, phone, JavaScript off) against a
# freshly built release server, then each benchmark once in smoke mode.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build_tools
setup_test_tools
cd "$ROOT"

say "Formatting and lints (rustfmt, clippy on the server and on the wasm target)"
cargo fmt --all --check
# The same cfg as cargo-leptos, so both share one build of the dependencies.
RUSTFLAGS="--cfg erase_components" cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
RUSTFLAGS="--cfg erase_components" cargo clippy -p frontend --target wasm32-unknown-unknown \
  --target-dir "$CARGO_TARGET_DIR/front" -- -D warnings

say "Rust tests (SQLite and PostgreSQL at ${RUCHE_TEST_DATABASE_URL%%@*}@…)"
# The same cfg as cargo-leptos, so both share one build of the dependencies.
RUSTFLAGS="--cfg erase_components" cargo test --workspace --exclude frontend

say "Browser tests against a release build"
e2e_data="$(mktemp -d)"
# A real SMTP server on loopback: the server mails through it, the specs read its Maildir.
# On a free port, so that nothing else listening (another run, a dev server) can take its mail.
smtp_port="${RUCHE_TEST_SMTP_PORT:-$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$e2e_data/maildir" &
smtp_pid=$!
trap 'kill $smtp_pid 2>/dev/null; rm -rf "$e2e_data"' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$smtp_port") 2>/dev/null && break; sleep 0.2; done
kill -0 "$smtp_pid" 2>/dev/null || { echo "The test SMTP server (aiosmtpd) did not start on port $smtp_port." >&2; exit 1; }
export SMTP_URL="smtp://127.0.0.1:$smtp_port" RUCHE_TEST_MAILDIR="$e2e_data/maildir"
# Every browser is on 127.0.0.1: trusting it as a proxy lets each test context bring its own
# X-Forwarded-For address, so one test's failed joins never lock out another's.
DATABASE_URL="sqlite://$e2e_data/ruche.db?mode=rwc" RUST_LOG="${RUST_LOG:-warn}" TRUSTED_PROXIES="127.0.0.1" \
  cargo leptos end-to-end --release --precompress --split

# Every benchmark once, tiny: a change that breaks one fails here. Figures from these runs mean
# nothing; the full runs are on demand (README, Benchmarks).
say "Benchmarks in smoke mode"
BENCH_PARTICIPANTS=50 BENCH_SPREAD=50 BENCH_ROUNDS=1 "$ROOT/scripts/bench-live.sh"
BENCH_RUNS=1 "$ROOT/scripts/bench-participant.sh"
BENCH_PARTICIPANTS=50 BENCH_PROBES=2 BENCH_POSTS=20 BENCH_SECONDS=1 BENCH_LIKES_PER_SECOND=50 BENCH_MESSAGES=60 \
  "$ROOT/scripts/bench-discussion.sh"
BENCH_LOGINS=20 "$ROOT/scripts/bench-login.sh"
BENCH_SMALL=20 BENCH_LARGE=40 BENCH_PAGES=5 BENCH_TOP=5 "$ROOT/scripts/bench-instructions.sh"
