#!/bin/sh
# How `ocdoctor check` scales with its input: a launch.json of N Cortex-Debug configurations
# (bench/gen_launch.py) for each N given (default 1000 2000 4000 8000 16000), checked once with
# `--format json`; prints N, the file size, wall time, CPU time, peak RSS, and the time ratio
# to the previous N (about 2.0 per doubling is linear).
# GEN_ARGS=--distinct gives every configuration its own command line.
# OCDOCTOR_BIN picks the binary (default target/release/ocdoctor under $CARGO_TARGET_DIR).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${OCDOCTOR_BIN:-${CARGO_TARGET_DIR:-$here/../target}/release/ocdoctor}
[ $# -gt 0 ] || set -- 1000 2000 4000 8000 16000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%8s %10s %9s %9s %10s %7s\n' N bytes wall_s cpu_s peak_MiB ratio
prev=""
for n in "$@"; do
    rm -rf "$work/p"
    python3 "$here/gen_launch.py" "$n" "$work/p" ${GEN_ARGS:-}
    size=$(wc -c < "$work/p/.vscode/launch.json")
    # exit 1 = problems found (there are some by design); anything else is a failure
    ( cd "$work/p" && /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" check . --format json > "$work/out.json" ) || [ $? -eq 1 ]
    read -r wall user sys rss <<EOF_T
$(tail -1 "$work/time")
EOF_T
    cpu=$(echo "$user + $sys" | bc)
    ratio=-
    if [ -n "$prev" ] && [ "$(echo "$prev > 0" | bc)" = 1 ]; then ratio=$(echo "scale=2; $wall / $prev" | bc); fi
    printf '%8s %10s %9s %9s %10s %7s\n' "$n" "$size" "$wall" "$cpu" "$((rss / 1024))" "$ratio"
    prev=$wall
done
