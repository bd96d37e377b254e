# Sourced by run.sh and test.sh: installs what is missing, skips what is there.
# Everything Ruche needs on a fresh machine is installed from here, nothing by hand.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.11"
export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# Builds go to a target dir outside the clone, reused by later clones on this machine; a fresh
# machine simply starts it empty.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ruche/target}"
mkdir -p "$CARGO_TARGET_DIR"
# Playwright must use Debian's Chromium, never download its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  say "Installing $* (apt)"
  if [ -z "${RUCHE_APT_UPDATED:-}" ]; then as_root apt-get update -qq; export RUCHE_APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

setup_build_tools() {
  command -v cargo >/dev/null || { echo "Ruche needs Rust: install it with rustup (https://rustup.rs)." >&2; exit 1; }
  command -v npm >/dev/null || apt_install nodejs npm

  # rustfmt and clippy: the test command checks formatting and lints first.
  for component in rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
      say "Adding the $component component"
      rustup component add "$component"
    fi
  done

  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
  fi

  if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes, once)"
    cargo install --locked --ignore-rust-version cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  fi

  # The CLI must be exactly the wasm-bindgen version in Cargo.lock.
  local wbg
  wbg="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
  if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wbg" ]; then
    say "Installing wasm-bindgen-cli $wbg"
    cargo install wasm-bindgen-cli --version "$wbg"
  fi

  # sass, wasm-opt (npm binaryen: Debian's is too old and breaks hydration) and Playwright.
  local lock="$ROOT/end2end/package-lock.json" stamp="$ROOT/end2end/node_modules/.ruche-lock"
  if ! cmp -s "$lock" "$stamp"; then
    say "Installing the npm tools (sass, wasm-opt, Playwright)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$lock" "$stamp"
  fi
}

setup_test_tools() {
  [ -x /usr/bin/chromium ] || apt_install chromium
  # A real QR decoder: the tests read the QR codes Ruche draws.
  command -v zbarimg >/dev/null || apt_install zbar-tools
  # A real SMTP server on loopback for the mail tests (Debian's python, not a pyenv one).
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || apt_install python3-aiosmtpd
  # The SQLite shell: a browser test ages a reset link in the server's database.
  command -v sqlite3 >/dev/null || apt_install sqlite3
  # Debian's nginx: a browser test runs its own (free loopback port, the README's server block)
  # in front of Ruche. The package's own service is not used.
  [ -x /usr/sbin/nginx ] || apt_install nginx

  # The PostgreSQL half of the storage tests. These machines normally run it on 127.0.0.1:5432;
  # otherwise install and start Debian's (scram-sha-256 on 127.0.0.1 by default, no `test`
  # database): a password for postgres and the database make the same URL work on both.
  if [ -z "${RUCHE_TEST_DATABASE_URL:-}" ]; then
    export RUCHE_TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/test"
    if ! pg_answers; then
      command -v pg_ctlcluster >/dev/null || apt_install postgresql
      local version
      version="$(ls /etc/postgresql | sort -V | tail -n1)"
      say "Starting PostgreSQL $version"
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
      for _ in $(seq 1 30); do pg_answers && break; sleep 1; done
      as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\""
      as_root su postgres -c "createdb test" 2>/dev/null || true
    fi
  fi
  export RUCHE_REQUIRE_POSTGRES=1
}

pg_answers() {
  (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
}
