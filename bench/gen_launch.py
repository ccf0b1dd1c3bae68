#!/usr/bin/env python3
"""Write a .vscode/launch.json with N Cortex-Debug OpenOCD configurations, for measuring how
`ocdoctor check` scales with its input (bench/check_scale.sh).

Usage: bench/gen_launch.py N [DIR] [--distinct]
(DIR defaults to the current folder; writes DIR/.vscode/launch.json)

The configurations cycle through a few real Debian board/target cfgs; some carry problems the
check finds and fixes: a deprecated `adapter_khz` in `openOCDLaunchCommands` (every 5th), a
cfg file that does not exist (every 7th), an unknown key (every 11th), the deprecated `runToMain`
(every 13th). Each configuration has
its own name and executable, so no two are the same text; with `--distinct` each also has its own
adapter speed, so no two run the same command line (each is resolved on its own).
"""
import json
import os
import sys

TARGETS = [
    ["interface/stlink.cfg", "target/stm32f4x.cfg"],
    ["interface/stlink.cfg", "target/stm32f1x.cfg"],
    ["interface/cmsis-dap.cfg", "target/nrf52.cfg"],
    ["board/st_nucleo_f4.cfg"],
    ["interface/jlink.cfg", "target/stm32l4x.cfg"],
    ["interface/stlink.cfg", "target/stm32h7x.cfg"],
]


def config(i, distinct):
    c = {
        "name": f"Debug {i}",
        "type": "cortex-debug",
        "request": "launch",
        "servertype": "openocd",
        "cwd": "${workspaceFolder}",
        "executable": f"build/app{i}.elf",
        "configFiles": list(TARGETS[i % len(TARGETS)]),
        "runToEntryPoint": "main",
    }
    commands = []
    if distinct:
        commands.append(f"adapter speed {1000 + i}")
    if i % 5 == 0:
        commands.append("adapter_khz 4000")
    if commands:
        c["openOCDLaunchCommands"] = commands
    if i % 7 == 0:
        c["configFiles"].append(f"board/missing_{i % 3}.cfg")
    if i % 11 == 0:
        c["svdPth"] = "STM32F407.svd"
    if i % 13 == 0:
        del c["runToEntryPoint"]
        c["runToMain"] = True
    return c


def main():
    args = [a for a in sys.argv[1:] if a != "--distinct"]
    distinct = len(args) < len(sys.argv) - 1
    n = int(args[0])
    folder = args[1] if len(args) > 1 else "."
    os.makedirs(os.path.join(folder, ".vscode"), exist_ok=True)
    doc = {"version": "0.2.0", "configurations": [config(i, distinct) for i in range(n)]}
    with open(os.path.join(folder, ".vscode", "launch.json"), "w") as f:
        json.dump(doc, f, indent=4)
        f.write("\n")


if __name__ == "__main__":
    main()
