#!/usr/bin/env bash
# `make test`: install what is missing, then format check, clippy (ssr and
# hydrate), Rust tests on SQLite and on a throwaway PostgreSQL, and the
# Playwright tests in Chromium. Runs every step, prints one summary line,
# exits non-zero if any step failed.
source "$(dirname "$0")/lib.sh"
START=$SECONDS

ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_npm_packages
ensure_chromium
ensure_postgres
ensure_smtp_sink

WORK="$(mktemp -d /tmp/billing-center-test.XXXXXX)"
PG_PORT="$(free_port)"
PG_DIR="$WORK/pg"
PG_STARTED=0
cleanup() {
  if [ "$PG_STARTED" = 1 ]; then
    pg_ctl_as stop -m fast >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: as root the cluster belongs to the
# postgres user.
pg_ctl_as() {
  local cmd="$(pg_bin)/pg_ctl -D $PG_DIR/data $*"
  if [ "$(id -u)" = 0 ]; then su postgres -c "$cmd"; else sh -c "$cmd"; fi
}
start_postgres() {
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    chmod 755 "$WORK"
    su postgres -c "$(pg_bin)/initdb -D $PG_DIR/data -A trust -U postgres" >/dev/null
  else
    "$(pg_bin)/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  fi
  pg_ctl_as "-o \"-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off\" -l $PG_DIR/log -w start" >/dev/null
  PG_STARTED=1
}

declare -a RESULTS=()
FAILED=0
step() {
  local name="$1"
  shift
  log "$name"
  local t0=$SECONDS
  if "$@"; then
    RESULTS+=("$name ok ($((SECONDS - t0))s)")
  else
    RESULTS+=("$name FAILED")
    FAILED=1
  fi
}

rust_tests() {
  TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres" BC_REQUIRE_POSTGRES=1 \
    cargo test --features ssr --all-targets
}

e2e() {
  # Two servers (desktop and phone viewports) on PORT and PORT+2.
  local port
  port="$(python3 -c 'import socket
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    try:
        b = socket.socket(); b.bind(("127.0.0.1", p + 2)); b.close(); a.close(); print(p); break
    except OSError:
        a.close()')"
  build_app debug && (cd end2end && BC_PROFILE=debug BC_E2E_PORT="$port" npx playwright test)
}

step "fmt" cargo fmt --check
step "clippy-ssr" cargo clippy --features ssr --all-targets -- -D warnings
step "clippy-hydrate" cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
step "postgres" start_postgres
step "rust-tests" rust_tests
step "e2e" e2e

SUMMARY="$(printf '%s, ' "${RESULTS[@]}")"
SUMMARY="${SUMMARY%, }"
if [ "$FAILED" = 0 ]; then
  echo "billing-center test: PASS in $((SECONDS - START))s: $SUMMARY"
else
  echo "billing-center test: FAIL in $((SECONDS - START))s: $SUMMARY"
  exit 1
fi
