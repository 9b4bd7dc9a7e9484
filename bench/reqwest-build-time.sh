#!/usr/bin/env bash
# What the Stripe client costs to build: two throwaway crates, one with what
# the server has anyway (axum, tokio, serde_json), one with reqwest as the
# server uses it as well, each built from a clean target (release, then
# debug). Prints the four times and the crate counts. Needs the network to
# the crates registry the first time.
set -euo pipefail
DIR="$(mktemp -d /tmp/reqwest-build.XXXXXX)"
trap 'rm -rf "$DIR"' EXIT
for c in base with; do
  mkdir -p "$DIR/$c/src"
  cat > "$DIR/$c/Cargo.toml" <<TOML
[package]
name = "$c"
version = "0.1.0"
edition = "2024"
[dependencies]
axum = { version = "0.8", features = ["macros"] }
tokio = { version = "1", features = ["rt-multi-thread", "macros", "signal", "time", "sync"] }
serde_json = "1"
TOML
  echo 'fn main() { let _ = serde_json::json!({}); let _ = axum::Router::<()>::new(); }' > "$DIR/$c/src/main.rs"
done
echo 'reqwest = { version = "0.12", default-features = false, features = ["json", "rustls-tls"] }' >> "$DIR/with/Cargo.toml"
echo 'fn main() { let _ = serde_json::json!({}); let _ = axum::Router::<()>::new(); let _ = reqwest::Client::new(); }' > "$DIR/with/src/main.rs"
for c in base with; do (cd "$DIR/$c" && cargo fetch -q); done
for profile in release debug; do
  for c in base with; do
    rm -rf "$DIR/$c/target"
    flag=$([ "$profile" = release ] && echo --release || true)
    start=$(date +%s.%N)
    (cd "$DIR/$c" && cargo build -q $flag)
    echo "$c $profile: $(echo "$(date +%s.%N) - $start" | bc) s"
  done
done
for c in base with; do
  echo "$c crates: $(cd "$DIR/$c" && cargo tree -e normal --prefix none | sort -u | wc -l)"
done
