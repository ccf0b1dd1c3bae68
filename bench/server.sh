#!/usr/bin/env bash
# The dashboard's benchmark (not a test): uploads/s on SQLite, page latency at 100,000 incidents.
#   bench/server.sh [SECONDS] [CONNECTIONS] [INCIDENTS]
# Builds in release, starts `ocdoctor serve` on a temp SQLite file, uploads for SECONDS over
# CONNECTIONS keep-alive connections (each upload a new incident: diagnosed, committed), then
# seeds INCIDENTS straight into another database and times every page.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}; conns=${2:-32}; incidents=${3:-100000}
cargo build --release -q -p ocdoctor
cargo build --release -q -p ocdoctor-server --example bench
target=${CARGO_TARGET_DIR:-target}
ocd="$target/release/ocdoctor"; bench="$target/release/examples/bench"
tmp=$(mktemp -d); trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
nproc_note="$(nproc) cores"

serve() {  # serve DATABASE → sets pid, url
    "$ocd" serve --database "$1" --listen 127.0.0.1:0 --rate-limit 100000000 > "$tmp/serve.out" &
    pid=$!
    for _ in $(seq 100); do grep -q listening "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
    url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$tmp/serve.out")
}

echo "== uploads on SQLite ($nproc_note, synchronous=FULL, one commit per batch)"
db="sqlite:$tmp/uploads.db"
token=$("$ocd" serve --database "$db" --create-token bench)
serve "$db"
"$bench" upload "$url" "$token" "$secs" "$conns"
kill $pid; wait $pid 2>/dev/null || true

echo "== pages at $incidents incidents (SQLite)"
db="sqlite:$tmp/pages.db"
token=$("$ocd" serve --database "$db" --create-token bench)
"$bench" seed "$db" bench "$incidents"
serve "$db"
"$bench" pages "$url" "$token" 20
