#!/usr/bin/env bash
# `make bench`: release build, a throwaway PostgreSQL, then every benchmark
# of benches/system (each with its baseline in the same run) and the engine
# micro-benchmarks; writes bench/RESULTS.md.
# BENCH_SIZES=10000,100000,1000000 adds the million-subscription run
# (BENCH_PG_SIZES: the sizes for PostgreSQL, default the same).
source "$(dirname "$0")/lib.sh"
START=$SECONDS

ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_npm_packages
ensure_chromium
ensure_postgres
ensure_brotli

WORK="$(mktemp -d /tmp/billing-center-bench.XXXXXX)"
trap 'stop_throwaway_postgres; rm -rf "$WORK"' EXIT

log "building (release)"
build_app release
log "starting a throwaway PostgreSQL"
start_throwaway_postgres "$WORK/pg"

log "system benchmarks (several minutes)"
BENCH_POSTGRES_URL="$PG_URL" \
  BENCH_SERVER_BIN="$ROOT/target/release/billing-center" \
  BENCH_SITE_ROOT="$ROOT/target/site" \
  cargo bench --features ssr --bench system
log "engine micro-benchmarks"
cargo bench --features ssr --bench engine -- --noplot 2>&1 | grep -E "time:|^[a-z].*quote" || true
echo "billing-center bench: done in $((SECONDS - START))s, see bench/RESULTS.md"
