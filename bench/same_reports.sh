#!/usr/bin/env bash
# Do two builds give byte-identical reports? `diagnose --no-env -f json` (and its exit code) of
# every log file in the repository, from binary A and binary B. A scanner change must keep them
# the same. usage: bench/same_reports.sh BIN_A BIN_B   (exit 1 and the differing files if not)
set -eu
A=$1; B=$2
cd "$(dirname "$0")/.."
n=0; bad=0
while IFS= read -r -d '' f; do
    n=$((n + 1))
    ra=$("$A" diagnose --no-env -f json "$f" 2>&1; echo "rc=$?")
    rb=$("$B" diagnose --no-env -f json "$f" 2>&1; echo "rc=$?")
    if [ "$ra" != "$rb" ]; then
        bad=$((bad + 1)); echo "differs: $f"
    fi
done < <(git ls-files -z '*.log')
echo "$n logs, $bad differ"
[ "$bad" -eq 0 ]
