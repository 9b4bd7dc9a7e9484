#!/usr/bin/env bash
# `make soak`: the long versions of the reliability tests, on SQLite and a
# throwaway PostgreSQL: 200 sessions on 20 accounts for 60 s, the server
# SIGKILLed 20 times during orders, the billing run killed 20 times, each
# followed by the books check. Release build (the long run is about load,
# not debug assertions). Prints each test's figures.
source "$(dirname "$0")/lib.sh"
ensure_postgres
WORK="$(mktemp -d /tmp/billing-center-soak.XXXXXX)"
trap 'stop_throwaway_postgres; rm -rf "$WORK"' EXIT
start_throwaway_postgres "$WORK/pg"
SECONDS_OF_LOAD="${BC_SOAK_SECONDS:-60}"
KILLS="${BC_KILLS:-20}"
log "soak: ${SECONDS_OF_LOAD}s of load, ${KILLS} kills (BC_SOAK_SECONDS, BC_KILLS)"
TEST_POSTGRES_URL="$PG_URL" BC_REQUIRE_POSTGRES=1 \
  BC_SOAK_SECONDS="$SECONDS_OF_LOAD" BC_KILLS="$KILLS" \
  cargo test --release --features ssr --test integration -- \
  --nocapture --test-threads 1 soak:: crash:: killed_mid_way db_faults:: 2>&1 |
  tee "$WORK/out" | grep -E '^(soak|crash|billing run|postgres restart|sqlite contention) |^test |test result|panicked'
grep -q '^test result: ok' "$WORK/out"
