# Shared set-up steps for scripts/run.sh and scripts/test.sh. Each step checks
# first and skips when what it installs is already there (idempotent).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"
CARGO_LEPTOS_VERSION=0.3.10

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_wasm_target() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown && return
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then return; fi
  # no_downloads: the default fetches tools from GitHub at build time, which
  # this network does not reach. 0.3.11 needs a newer rustc.
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 16 min on 2 cores, once per machine)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
}

ensure_wasm_bindgen() {
  local want
  want="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')"
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then return; fi
  # Not --locked: its lockfile pins a webpki-roots the registry here lacks.
  log "installing wasm-bindgen-cli $want (matches Cargo.lock)"
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "$want"
}

ensure_npm_packages() {
  # npm writes node_modules/.package-lock.json; equal to the lockfile's
  # packages means nothing to do.
  if [ -f end2end/node_modules/.package-lock.json ] &&
    node -e 'const a=require("./end2end/package-lock.json").packages,b=require("./end2end/node_modules/.package-lock.json").packages;delete a[""];process.exit(JSON.stringify(Object.keys(a).sort())===JSON.stringify(Object.keys(b).sort())?0:1)'; then
    return
  fi
  log "installing end2end npm packages from package-lock.json"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return
  log "installing Debian chromium"
  apt_install chromium
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

ensure_postgres() {
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] && return
  log "installing Debian postgresql"
  apt_install postgresql
}

ensure_smtp_sink() {
  # A real SMTP server for the email tests (aiosmtpd, from PyPI), and an
  # independent PDF reader (pypdf) that the invoice PDF tests open them with.
  python3 -c 'import aiosmtpd, pypdf' 2>/dev/null && return
  log "installing the aiosmtpd SMTP sink and pypdf (pip)"
  python3 -m pip install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6' 'pypdf==5.1.0'
}

ensure_localstripe() {
  # A stateful Stripe-protocol server with a fake Stripe.js (PyPI; a test
  # tool, never shipped). scripts/stripe/proxy.py adds Stripe's
  # idempotency keys in front of it, with aiohttp, which localstripe brings.
  python3 -c 'import localstripe' 2>/dev/null && return
  log "installing localstripe (pip)"
  python3 -m pip install --quiet --disable-pip-version-check 'localstripe==1.15.10'
}

# localstripe on a free loopback port with the idempotency proxy in front
# (latency LATENCY_MS per call, default 0); sets STRIPE_TEST_URL (the
# proxy: API and Stripe.js at $STRIPE_TEST_URL/js.stripe.com/v3/).
STRIPE_PIDS=""
start_localstripe() {
  local dir="$1" latency="${2:-0}"
  local ls_port proxy_port
  ls_port="$(free_port)"
  proxy_port="$(free_port)"
  mkdir -p "$dir"
  (cd "$dir" && exec python3 "$ROOT/scripts/stripe/localstripe_in_memory.py" --port "$ls_port" \
    --from-scratch >"$dir/localstripe.log" 2>&1) &
  STRIPE_PIDS="$STRIPE_PIDS $!"
  python3 "$(dirname "${BASH_SOURCE[0]}")/stripe/proxy.py" --port "$proxy_port" \
    --upstream "http://127.0.0.1:$ls_port" --latency-ms "$latency" >"$dir/proxy.log" 2>&1 &
  STRIPE_PIDS="$STRIPE_PIDS $!"
  STRIPE_TEST_URL="http://127.0.0.1:$proxy_port"
  for _ in $(seq 100); do
    python3 -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/v1/customers?limit=1",
    headers={"Authorization": "Bearer sk_test_probe"}), timeout=1)' "$STRIPE_TEST_URL" 2>/dev/null && return 0
    sleep 0.1
  done
  log "localstripe did not start: see $dir"
  return 1
}
stop_localstripe() {
  # shellcheck disable=SC2086
  [ -n "$STRIPE_PIDS" ] && kill $STRIPE_PIDS 2>/dev/null || true
  STRIPE_PIDS=""
}

ensure_brotli() {
  command -v brotli >/dev/null && return
  log "installing Debian brotli (client size in the benchmark)"
  apt_install brotli
}

# A throwaway PostgreSQL cluster in DIR on a free loopback port; sets
# PG_URL. Durable (fsync = on) unless the second argument is
# "fsync-off": only the test suite trades that for speed, since its
# figures are never measurements. PostgreSQL refuses to run as root: as
# root the cluster belongs to the postgres user.
PG_STARTED=0
pg_ctl_as() {
  local cmd="$(pg_bin)/pg_ctl -D $PG_DIR/data $*"
  if [ "$(id -u)" = 0 ]; then su postgres -c "$cmd"; else sh -c "$cmd"; fi
}
start_throwaway_postgres() {
  PG_DIR="$1"
  local fsync=on
  [ "${2:-}" = fsync-off ] && fsync=off
  PG_PORT="$(free_port)"
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    chmod 755 "$(dirname "$PG_DIR")"
    su postgres -c "$(pg_bin)/initdb -D $PG_DIR/data -A trust -U postgres" >/dev/null
  else
    "$(pg_bin)/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  fi
  pg_ctl_as "-o \"-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=$fsync\" -l $PG_DIR/log -w start" >/dev/null
  PG_STARTED=1
  PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}
stop_throwaway_postgres() {
  if [ "$PG_STARTED" = 1 ]; then
    pg_ctl_as stop -m fast >/dev/null 2>&1 || true
    PG_STARTED=0
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Builds the server and the WASM client with cargo-leptos.
build_app() {
  local mode="${1:-debug}"
  if [ "$mode" = release ]; then
    # --precompress: .br and .gz beside each file, embedded in the binary.
    cargo leptos build --release --precompress
  else
    cargo leptos build
  fi
}
