#!/usr/bin/env bash
# Installs what is missing, then builds and runs Ruche on http://127.0.0.1:3000 with a SQLite
# file under ./data (settings: README, "Configuration").
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_build_tools
cd "$ROOT"
exec cargo leptos serve --release --precompress --split "$@"
