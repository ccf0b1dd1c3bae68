#!/usr/bin/env python3
"""Added latency of `ocdoctor run` on OpenOCD's ready line.

Serves a healthy simulated STM32F4 (`ocdoctor lab serve`), then starts OpenOCD N times directly
and N times through `ocdoctor run --`, and measures the time from process start until the line
`Listening on port … for gdb connections` is read from stderr. Prints medians and the difference.
usage: bench/ready_latency.py [N] (run `cargo build --release -p ocdoctor` first; OCDOCTOR_BIN=path
measures another build)"""
import os, re, socket, statistics, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
bin_ = os.environ.get("OCDOCTOR_BIN") or os.path.join(here, "..", "target", "release", "ocdoctor")
n = int(sys.argv[1]) if len(sys.argv) > 1 else 20

lab = subprocess.Popen([bin_, "lab", "serve"], stdout=subprocess.PIPE, text=True)
cfg = None
while cfg is None:
    m = re.search(r"openocd -f (\S+)", lab.stdout.readline())
    cfg = m and m.group(1)

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def time_to_ready(prefix):
    gdb = free_port()
    args = prefix + ["openocd", "-f", cfg, "-f", "target/stm32f4x.cfg", "-c", "stm32f4x.cpu configure -event reset-start {}",
                     "-c", f"gdb_port {gdb}", "-c", "tcl_port disabled", "-c", "telnet_port disabled"]
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=d)
        for line in p.stderr:
            if b"for gdb connections" in line:
                dt = time.perf_counter() - t0
                break
        else:
            dt = float("nan")
        p.terminate(); p.wait()
    return dt

try:
    direct, wrapped = [], []
    for _ in range(n):  # interleaved, so drift affects both alike
        direct.append(time_to_ready([]))
        wrapped.append(time_to_ready([bin_, "run", "--"]))
    md, mw = statistics.median(direct), statistics.median(wrapped)
    print(f"time to the gdb ready line, median of {n}: openocd {md*1e3:.1f} ms, ocdoctor run {mw*1e3:.1f} ms, added {(mw-md)*1e3:.1f} ms")
finally:
    lab.terminate()
