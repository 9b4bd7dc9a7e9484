#!/usr/bin/env bash
# Profiles the release server under one benchmark load with `perf`:
#   bash scripts/profile.sh "load GET /billing" /tmp/perf.data   (BENCH_ONLY=ssr)
# Starts the system benchmark, waits until it prints PATTERN, then records
# the server for 4 s (RECORD_S): the SSR part's loads take turns in 5-s
# slices. For call graphs with line numbers build the server with
# CARGO_TARGET_DIR=/tmp/tprof CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
# cargo build --release --features ssr, and pass BIN=/tmp/tprof/release/billing-center.
# Read it with: perf report -i OUT --no-children --sort symbol --stdio -g none
set -euo pipefail
cd "$(dirname "$0")/.."
PAT="$1"
OUT="$2"
LOG="$(mktemp)"
BENCH_ONLY="${BENCH_ONLY:-ssr}" BENCH_OUT="$(mktemp)" \
  BENCH_SERVER_BIN="${BIN:-$PWD/target/release/billing-center}" \
  BENCH_SITE_ROOT="$PWD/target/site" \
  cargo bench --features ssr --bench system >"$LOG" 2>&1 &
until grep -q "$PAT" "$LOG"; do sleep 0.5; done
sleep 0.5
PID=$(pgrep -f "billing-center serve" | head -1)
perf record -F 499 -g --call-graph dwarf,16384 -p "$PID" -o "$OUT" -- sleep "${RECORD_S:-4}"
wait
