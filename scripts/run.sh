#!/usr/bin/env bash
# `make run`: install what is missing, build in release mode, then serve the
# app on the embedded SQLite database (created and migrated on first start).
source "$(dirname "$0")/lib.sh"

ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_npm_packages   # wasm-opt (binaryen from npm, not Debian's: see README)
log "building (release)"
build_app release

export DATABASE_URL="${DATABASE_URL:-sqlite://data/billing-center.db}"
export LEPTOS_OUTPUT_NAME=billing-center
export LEPTOS_SITE_ROOT=target/site
export LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_ENV=PROD
# Demo data on a fresh database (idempotent: an existing demo is kept).
target/release/billing-center seed-demo
log "serving http://$LEPTOS_SITE_ADDR on ${DATABASE_URL}"
exec target/release/billing-center serve
