#!/usr/bin/env bash
# Batch mode against one process per log, in the same run: a directory of N short real logs
# (the repository's own *.log files of at most 64 KiB, copied round-robin), diagnosed by
# `ocdoctor diagnose --no-env --jobs 1 DIR`, `--jobs 2 DIR`, and a shell loop of single
# `ocdoctor diagnose --no-env -f json FILE` calls. Prints wall and CPU time of each, and checks
# that the batch's reports are the loop's.
# usage: bench/batch.sh [N logs, default 1000]
set -eu
N=${1:-1000}
H=$(cd "$(dirname "$0")" && pwd)
[ -n "${OCDOCTOR_BIN:-}" ] || (cd "$H/.." && cargo build --release -q -p ocdoctor)
BIN=${OCDOCTOR_BIN:-${CARGO_TARGET_DIR:-$H/../target}/release/ocdoctor}
D=$(mktemp -d /tmp/ocdoctor-batch.XXXXXX)
trap 'rm -rf "$D"' EXIT
mapfile -t SRC < <(cd "$H/.." && git ls-files '*.log' | while read -r f; do
    [ "$(stat -c %s "$f")" -le 65536 ] && echo "$H/../$f"; done)
mkdir -p "$D/logs"
for i in $(seq 0 $((N - 1))); do
    cp "${SRC[$((i % ${#SRC[@]}))]}" "$(printf '%s/logs/%05d.log' "$D" "$i")"
done
echo "$N logs ($(du -sb "$D/logs" | cut -f1) bytes) from ${#SRC[@]} real ones; $(nproc) cores"
timed() {
    local name=$1; shift
    /usr/bin/time -f "%e %U %S" -o "$D/time" "$@" > "$D/$name.out" 2>/dev/null || true
    read -r e us sy < <(tail -n 1 "$D/time")
    printf "%-34s wall %7.2f s  CPU %7.2f s  %7.1f logs/s\n" "$name" "$e" \
        "$(python3 -c "print($us+$sy)")" "$(python3 -c "print($N/max($e,1e-9))")"
}
timed "diagnose --jobs 1 DIR" "$BIN" diagnose --no-env --jobs 1 "$D/logs"
timed "diagnose --jobs 2 DIR" "$BIN" diagnose --no-env --jobs 2 "$D/logs"
timed "loop: diagnose --no-env FILE" sh -c "for f in '$D'/logs/*.log; do '$BIN' diagnose --no-env -f json \"\$f\" > \"\$f.json\"; done"
cmp -s "$D/diagnose --jobs 1 DIR.out" "$D/diagnose --jobs 2 DIR.out" || { echo "jobs 1 and 2 differ"; exit 1; }
python3 - "$D" <<'PY'
import json, sys, glob
d = sys.argv[1]
batch = [json.loads(l) for l in open(d + "/diagnose --jobs 1 DIR.out")]
same = sum(json.load(open(b["path"] + ".json")) == b["report"] for b in batch)
print("batch reports equal to the single-file ones: %d of %d" % (same, len(batch)))
sys.exit(0 if same == len(batch) else 1)
PY
