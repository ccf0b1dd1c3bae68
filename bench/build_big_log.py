#!/usr/bin/env python3
"""Build a large realistic OpenOCD log (default 1 GiB) from the real OpenOCD 0.12.0 runs in
crates/ocdoctor-core/tests/data/runs (the -d3 ones weighted up, as real big logs are -d3).
Each copy gets shifted -d3 counters/timestamps so it does not repeat byte for byte.
usage: bench/build_big_log.py OUT [SIZE_BYTES] [SEED]"""
import glob, os, random, re, sys

here = os.path.dirname(os.path.abspath(__file__))
runs = sorted(glob.glob(os.path.join(here, "..", "crates", "ocdoctor-core", "tests", "data", "runs", "*.log")))
hdr = re.compile(rb"^(Debug: |Info : |Warn : |Error: |User : )(\d+) (\d+) ", re.M)

def load(p):
    with open(p, "rb") as f:
        return b"".join(l for l in f.read().splitlines(keepends=True) if not l.startswith(b"# "))

out, size, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30, int(sys.argv[3]) if len(sys.argv) > 3 else 42
rng = random.Random(seed)
logs = [load(p) for p in runs]
weights = [20 if b"Debug: " in l else 1 for l in logs]
written = 0
with open(out, "wb") as f:
    while written < size:
        log = rng.choices(logs, weights)[0]
        off = rng.randrange(1, 10**6)
        chunk = hdr.sub(lambda m: m.group(1) + str(int(m.group(2)) + off).encode() + b" " + str(int(m.group(3)) + off).encode() + b" ", log)
        chunk = chunk[: size - written]
        f.write(chunk)
        written += len(chunk)
print(f"wrote {written} bytes to {out}")
