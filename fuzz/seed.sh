#!/bin/sh
# Seed fuzz/corpus/<target> from the repository's test data. Run from fuzz/.
set -e
cd "$(dirname "$0")"
repo=..
# Seeds are kept small: libFuzzer's default -max_len is the largest seed, and every mutation of
# a big seed costs its whole length (cases.jsonl, a 507 KB JSON file of cases, not a log, made
# a log execution take seconds). Over MAX_SEED bytes a file is not a seed; the campaign runs with
# -max_len=$MAX_SEED too (fuzz/README.md).
MAX_SEED=16384
small() { [ "$(wc -c < "$1")" -le $MAX_SEED ]; }
rm -rf corpus/log corpus/cfg corpus/ide corpus/env corpus/redact
mkdir -p corpus/log corpus/cfg corpus/ide corpus/env corpus/redact
n=0
for f in $repo/rules/*/*/hit_*.log $repo/examples/logs/* $repo/crates/ocdoctor-core/tests/data/corpus/* \
         $repo/crates/ocdoctor-chip/tests/data/*.log; do
  [ -f "$f" ] && small "$f" || continue
  n=$((n+1)); cp "$f" corpus/redact/seed$n; cp "$f" corpus/log/seed$n
done
# cfg: "<command line>\0<board.cfg>\0<target.cfg>"
n=0
for d in $repo/crates/ocdoctor-cfg/tests/fixtures/*/; do
  n=$((n+1))
  { cat "$d/cmdline" 2>/dev/null | sed 's/^openocd //' | tr '\n' ' '; printf '\0';
    cat "$d"/*.cfg 2>/dev/null || true; printf '\0'; } > corpus/cfg/seed$n
done
find $repo/crates/ocdoctor-cfg/tests $repo/rules/cfg -name '*.cfg' -size -16k | while IFS= read -r f; do
  n=$((n+1)); { printf '\0'; cat "$f"; } > corpus/cfg/file$n
done
# ide: first byte 0 = launch.json, 1 = .launch, 2 = platformio.ini
n=0
find $repo/crates/ocdoctor-ide/tests/data $repo/rules/ide -type f -size -16k \( -name '*.json' -o -name '*.launch' -o -name '*.ini' \) | while IFS= read -r f; do
  n=$((n+1))
  case "$f" in *.json) p='\000';; *.launch) p='\001';; *) p='\002';; esac
  { printf "$p"; cat "$f"; } > corpus/ide/seed$n
done
n=0
find $repo/rules $repo/crates -size -16k \( -name '*.env.json' -o -name 'env-snapshot.json' -o -name '*.rules' \) | while IFS= read -r f; do
  n=$((n+1)); cp "$f" corpus/env/seed$n
done
for f in $repo/crates/ocdoctor-redact/tests/data/planted/*; do
  [ -f "$f" ] && n=$((n+1)) && cp "$f" corpus/redact/planted$n
done
for t in log cfg ide env redact; do echo "$t: $(ls corpus/$t | wc -l) seeds"; done
