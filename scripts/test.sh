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
ensure_localstripe

WORK="$(mktemp -d /tmp/billing-center-test.XXXXXX)"
trap 'stop_throwaway_postgres; stop_localstripe; rm -rf "$WORK"' EXIT

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
  TEST_POSTGRES_URL="$PG_URL" BC_REQUIRE_POSTGRES=1 \
    TEST_STRIPE_URL="$STRIPE_TEST_URL" BC_REQUIRE_STRIPE=1 \
    cargo test --features ssr --all-targets
}

bench_smoke() {
  # The benchmark command at tiny sizes (dev profile, no HTTP part): proves
  # it runs and that its correctness checks hold; its figures mean nothing.
  BENCH_QUICK=1 BENCH_OUT="$WORK/RESULTS.md" BENCH_POSTGRES_URL="$PG_URL" \
    cargo bench --profile dev --features ssr --bench system
}

release() {
  # The Dockerfile's build stage (scripts/build_release.sh; Docker itself
  # cannot run on these machines), then its run stage: the binary alone in
  # an empty directory (tests/integration/release.rs).
  bash scripts/build_release.sh &&
    TEST_RELEASE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/billing-center" BC_REQUIRE_RELEASE=1 \
      cargo test --features ssr --test integration -- release::
}

packaging() {
  # The systemd unit as systemd reads it (any warning fails), and the
  # compose file as YAML with its two services.
  command -v systemd-analyze >/dev/null || apt_install systemd
  local unit="$WORK/billing-center.service" out
  sed "s#/usr/local/bin/billing-center#$ROOT/target/release/billing-center#" \
    deploy/billing-center.service >"$unit"
  out="$(systemd-analyze verify "$unit" 2>&1)" || { echo "$out"; return 1; }
  [ -z "$out" ] || { echo "$out"; return 1; }
  python3 -c 'import yaml' 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check 'pyyaml==6.0.2'
  python3 -c 'import sys, yaml; s = yaml.safe_load(open("docker-compose.yml"))["services"]; sys.exit(0 if {"db", "app"} <= set(s) else 1)'
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
  # The Stripe flows also run on PostgreSQL, in a database of their own.
  "$(pg_bin)/psql" -q "$PG_URL" -c "CREATE DATABASE bc_e2e_stripe" >/dev/null || return 1
  build_app debug && (cd end2end && BC_PROFILE=debug BC_E2E_PORT="$port" \
    BC_E2E_STRIPE_URL="$STRIPE_TEST_URL" \
    BC_E2E_STRIPE_POSTGRES_URL="${PG_URL%/*}/bc_e2e_stripe" npx playwright test)
}

step "fmt" cargo fmt --check
step "clippy-ssr" cargo clippy --features ssr --all-targets -- -D warnings
step "clippy-hydrate" cargo clippy --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings
# fsync off: the suite asserts behaviour, never speed (the benchmark, the
# soak and the crash tests run PostgreSQL durable).
step "postgres" start_throwaway_postgres "$WORK/pg" fsync-off
step "localstripe" start_localstripe "$WORK/stripe"
step "rust-tests" rust_tests
step "bench-smoke" bench_smoke
step "release" release
step "packaging" packaging
step "e2e" e2e

SUMMARY="$(printf '%s, ' "${RESULTS[@]}")"
SUMMARY="${SUMMARY%, }"
if [ "$FAILED" = 0 ]; then
  echo "billing-center test: PASS in $((SECONDS - START))s: $SUMMARY"
else
  echo "billing-center test: FAIL in $((SECONDS - START))s: $SUMMARY"
  exit 1
fi
