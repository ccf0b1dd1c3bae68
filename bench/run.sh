#!/usr/bin/env bash
# Throughput of `ocdoctor diagnose` on a ~1 GiB real-OpenOCD log, next to `rg -c -f
# bench/patterns.txt` (175 OpenOCD regexes) and `cat` on the same file, in the same run.
# Prints median wall time, MB/s, CPU time and peak RSS per tool. Needs ripgrep (apt-get install ripgrep).
# Then a short real log: `diagnose --no-env` against `rg -c -f` with the same patterns (hyperfine,
# apt-get install hyperfine), where start-up time is nearly all of it.
# usage: bench/run.sh [N runs] [SIZE_BYTES]
set -eu
N=${1:-3}
SIZE=${2:-1073741824}
H=$(cd "$(dirname "$0")" && pwd)
F=${OCDOCTOR_BENCH_LOG:-/tmp/ocdoctor-bench/openocd_big.log}
mkdir -p "$(dirname "$F")"
if [ ! -f "$F" ] || [ "$(stat -c %s "$F")" -ne "$SIZE" ]; then
    python3 "$H/build_big_log.py" "$F" "$SIZE"
fi
[ -n "${OCDOCTOR_BIN:-}" ] || (cd "$H/.." && cargo build --release -q -p ocdoctor)
BIN=${OCDOCTOR_BIN:-${CARGO_TARGET_DIR:-$H/../target}/release/ocdoctor}
cat "$F" > /dev/null
bench() {
    local name=$1; shift; local t=() m=() c=()
    for _ in $(seq "$N"); do
        /usr/bin/time -f "%e %M %U %S" -o /tmp/_ocd_bt "$@" > /tmp/_ocd_bo 2>&1 || true
        read -r e k us sy < <(tail -n 1 /tmp/_ocd_bt); t+=("$e"); m+=("$k"); c+=("$(python3 -c "print($us+$sy)")")
    done
    python3 - "$name" "$(stat -c %s "$F")" "${t[*]}" "${m[*]}" "${c[*]}" <<'PY'
import sys, statistics as st
name, size, ts, ms, cs = sys.argv[1], int(sys.argv[2]), [float(x) for x in sys.argv[3].split()], [int(x) for x in sys.argv[4].split()], [float(x) for x in sys.argv[5].split()]
med = st.median(ts)
# CPU (user + system) is printed too: on a loaded machine wall time says more about the others.
print("%-36s median %7.3f s  %8.1f MB/s  CPU %7.2f s  peak RSS %7.1f MiB" % (name, med, size / max(med, 1e-9) / 1e6, st.median(cs), max(ms) / 1024))
PY
}
echo "input: $F ($(stat -c %s "$F") bytes)"
bench "cat" sh -c "cat '$F' > /dev/null"
command -v rg >/dev/null && bench "rg -c -f patterns.txt" rg -c -f "$H/patterns.txt" "$F"
bench "ocdoctor diagnose -f json" "$BIN" diagnose -f json "$F"

SHORT=${OCDOCTOR_BENCH_SHORT:-$H/../crates/ocdoctor-core/tests/data/runs/stlink_stm32f4.log}
if command -v hyperfine >/dev/null && command -v rg >/dev/null && [ -f "$SHORT" ]; then
    echo "short log: $SHORT ($(stat -c %s "$SHORT") bytes)"
    hyperfine -N -w 5 -r 40 -i --style basic \
        "rg -c -f $H/patterns.txt $SHORT" \
        "$BIN diagnose --no-env -f json $SHORT" 2>&1 | grep -E "Time|±|faster|Benchmark"
fi
