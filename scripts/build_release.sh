#!/usr/bin/env bash
# The release binary, with the client embedded and precompressed:
# target/release/billing-center, a single file that runs from any directory.
# The Dockerfile's build stage runs this script; `make test` runs it too
# (step "release"), so that the image's build is exercised where Docker
# cannot run.
source "$(dirname "$0")/lib.sh"

ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_npm_packages   # wasm-opt (binaryen from npm)
log "building the release binary"
build_app release
ls -l "${CARGO_TARGET_DIR:-target}/release/billing-center"
