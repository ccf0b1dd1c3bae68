//! The 16 real launch configurations in tests/data (sources in tests/data/SOURCES.md): every one
//! parses, and the command lines the front ends would run are checked by hand for 8 of them.

mod common;

use common::data;
use ocdoctor_ide::{FileKind, FrontEnd, IdeContext, Os, load};
use std::path::PathBuf;

fn ctx() -> IdeContext {
    let mut c = IdeContext {
        workspace: PathBuf::from("/ws"),
        os: Os::Linux,
        ..Default::default()
    };
    c.env.insert("PLATFORMIO_CORE_DIR".into(), "/pio".into());
    c.env.insert("PICO_SDK_PATH".into(), "/sdk".into());
    c
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// The part of a Cortex-Debug command line that does not depend on the launch.json.
fn cd_prefix(cwd: &str) -> Vec<&str> {
    vec![
        "openocd",
        "-f",
        "${cortex-debug}/support/openocd-helpers.tcl",
        "-c",
        "gdb_port 50000",
        "-c",
        "tcl_port 50001",
        "-c",
        "telnet_port 50002",
        "-s",
        cwd,
    ]
}

#[test]
fn every_file_parses_with_spans() {
    let mut n = 0;
    for dir in [
        "vscode-cortex-debug",
        "vscode-cppdbg",
        "eclipse-embedcdt",
        "stm32cubeide",
        "platformio",
    ] {
        for e in std::fs::read_dir(data(dir)).unwrap() {
            let p = e.unwrap().path();
            let f = load(&p, &ctx());
            n += 1;
            assert!(
                !f.all_problems().any(|p| p.id == "parse-error"),
                "{}: {:?}",
                p.display(),
                f.problems
            );
            assert!(!f.configs.is_empty(), "{}", p.display());
            for c in &f.configs {
                // Every span points into the text, every origin too.
                assert!(c.span.end <= f.text.len() && c.span.start < c.span.end);
                for o in c.argv_origins.iter().flatten() {
                    assert!(o.end <= f.text.len(), "{}", p.display());
                }
                if let Some(a) = &c.openocd_argv {
                    assert_eq!(a.len(), c.argv_origins.len());
                    let inv = c.invocation().unwrap();
                    assert!(inv.program.is_some(), "{}: {:?}", p.display(), a);
                }
            }
        }
    }
    assert_eq!(n, 16);
}

#[test]
fn pico_probe_swd_cortex_debug() {
    let f = load(
        &data("vscode-cortex-debug/raspberrypi__pico-examples__ide__vscode__launch-probe-swd.json"),
        &ctx(),
    );
    assert_eq!(f.kind, FileKind::VsCodeLaunch);
    let c = &f.configs[0];
    assert_eq!(c.front_end, FrontEnd::CortexDebug);
    let mut want = cd_prefix("/ws");
    want.extend([
        "-f",
        "interface/cmsis-dap.cfg",
        "-f",
        "target/rp2040.cfg",
        "-c",
        "adapter speed 5000",
    ]);
    assert_eq!(c.openocd_argv.as_ref().unwrap(), &s(&want));
    assert_eq!(c.gdb.as_deref(), Some("gdb-multiarch"));
    // The `//` comment inside configFiles did not disturb the spans: the origin of
    // `interface/cmsis-dap.cfg` is that string literal.
    let i = want
        .iter()
        .position(|a| *a == "interface/cmsis-dap.cfg")
        .unwrap();
    let o = c.argv_origins[i].clone().unwrap();
    assert_eq!(&f.text[o], "\"interface/cmsis-dap.cfg\"");
    let inv = c.invocation().unwrap();
    assert_eq!(inv.files().collect::<Vec<_>>().len(), 3);
}

#[test]
fn quickstart_block_comments_trailing_commas() {
    let f = load(
        &data("vscode-cortex-debug/rust-embedded__cortex-m-quickstart__.vscode__launch.json"),
        &ctx(),
    );
    assert_eq!(f.configs.len(), 2);
    assert_eq!(f.configs[0].server_type.as_deref(), Some("qemu"));
    assert!(f.configs[0].openocd_argv.is_none());
    let c = &f.configs[1];
    assert_eq!(c.name, "Debug (OpenOCD)");
    // cwd is `${workspaceRoot}` (the deprecated alias), which is also the default -s dir.
    let mut want = cd_prefix("/ws");
    want.extend([
        "-f",
        "interface/stlink-v2-1.cfg",
        "-f",
        "target/stm32f3x.cfg",
    ]);
    assert_eq!(c.openocd_argv.as_ref().unwrap(), &s(&want));
}

#[test]
fn threadx_az3166_three_configs() {
    let f = load(
        &data(
            "vscode-cortex-debug/eclipse-threadx__getting-started__MXChip__AZ3166__.vscode__launch.json",
        ),
        &ctx(),
    );
    assert_eq!(f.configs.len(), 3);
    let ext = &f.configs[1];
    assert_eq!(ext.server_type.as_deref(), Some("external"));
    assert!(ext.openocd_argv.is_none());
    assert!(ext.notes.iter().any(|n| n.contains("${input:device.host}")));
    let cpp = &f.configs[2];
    assert_eq!(cpp.front_end, FrontEnd::CppTools);
    assert_eq!(
        cpp.openocd_argv.as_ref().unwrap(),
        &s(&["openocd", "-f", "board/stm32f4discovery.cfg"])
    );
    assert_eq!(cpp.gdb_target.as_deref(), Some("localhost:3333"));
    // serverStarted matches and filterStderr is true: no front-end problem there.
    let ids: Vec<_> = cpp.problems.iter().map(|p| p.id.as_str()).collect();
    assert!(!ids.contains(&"filter-stderr-false"), "{ids:?}");
    assert!(!ids.contains(&"server-started-pattern-mismatch"));
    assert!(!ids.contains(&"gdb-port-mismatch"));
    // runToMain in both Cortex-Debug configs.
    assert_eq!(
        f.all_problems()
            .filter(|p| p.id == "deprecated-key")
            .count(),
        2
    );
}

#[test]
fn threadx_l475_cppdbg_quoted_tcl() {
    let f = load(
        &data(
            "vscode-cppdbg/eclipse-threadx__getting-started__STMicroelectronics__B-L475E-IOT01A__.vscode__launch.json",
        ),
        &ctx(),
    );
    let cpp = &f.configs[1];
    // The escaped quotes in debugServerArgs keep the Tcl command one argument.
    assert_eq!(
        cpp.openocd_argv.as_ref().unwrap(),
        &s(&[
            "openocd",
            "-f",
            "board/stm32l4discovery.cfg",
            "-c",
            "$_TARGETNAME configure -rtos auto"
        ])
    );
    assert_eq!(cpp.cwd.as_deref(), Some(std::path::Path::new("/ws")));
}

#[test]
fn mbed_template_is_pyocd_not_openocd() {
    let f = load(
        &data("vscode-cppdbg/ARMmbed__mbed-os__tools__export__vscode__launch.tmpl"),
        &ctx(),
    );
    let c = &f.configs[0];
    assert!(c.openocd_argv.is_none());
    let p = c
        .problems
        .iter()
        .find(|p| p.id == "server-not-openocd")
        .unwrap();
    // The linux block's capitalised debugServerPath, merged over the base object.
    assert_eq!(p.location.line, 30);
    assert!(p.message.contains("pyocd-gdbserver"));
    // MIDebuggerPath (capitalised) read case-insensitively, from the linux block.
    assert_eq!(c.gdb.as_deref(), Some("/usr/bin/arm-none-eabi-gdb"));
}

#[test]
fn eclipse_f4discovery_gnuarmeclipse() {
    let f = load(
        &data(
            "eclipse-embedcdt/micro-os-plus__eclipse-demo-projects__f4discovery-blinky-micro-os-plus__f4discovery-blinky-micro-os-plus-debug-openocd.launch",
        ),
        &ctx(),
    );
    assert_eq!(f.kind, FileKind::EclipseLaunch);
    let c = &f.configs[0];
    assert_eq!(c.front_end, FrontEnd::EclipseEmbedCdt);
    assert_eq!(
        c.openocd_argv.as_ref().unwrap(),
        &s(&[
            "${openocd_path}/openocd",
            "-c",
            "gdb_port 3333",
            "-c",
            "telnet_port 4444",
            "-c",
            "tcl_port 6666",
            "-f",
            "board/stm32f4discovery.cfg",
            "-c",
            "echo \"Started by GNU MCU Eclipse\""
        ])
    );
    assert!(c.notes.iter().any(|n| n.contains("${openocd_path}")));
    assert_eq!(c.gdb_target.as_deref(), Some("localhost:3333"));
}

#[test]
fn mounriver_quoted_path_with_variable() {
    let f = load(
        &data("eclipse-embedcdt/openwch__ch32v307__EVT__EXAM__FSMC__LCD_8bit__LCD_8bit.launch"),
        &ctx(),
    );
    let c = &f.configs[0];
    assert_eq!(
        c.openocd_argv.as_ref().unwrap(),
        &s(&[
            "${eclipse_home}toolchain/OpenOCD/bin/openocd",
            "-c",
            "gdb_port 3333",
            "-c",
            "telnet_port 4444",
            "-c",
            "tcl_port 6666",
            "-f",
            "${eclipse_home}toolchain/OpenOCD/bin/wch-riscv.cfg",
            "-c",
            "echo \"Started by GNU MCU Eclipse\""
        ])
    );
    assert_eq!(
        c.gdb.as_deref(),
        Some("${eclipse_home}toolchain/RISC-V Embedded GCC/bin/riscv-none-embed-gdb.exe")
    );
}

#[test]
fn cubeide_openocd_launch() {
    let mut cx = ctx();
    cx.os = Os::Windows;
    cx.workspace = PathBuf::from("C:\\proj");
    let f = load(
        &data(
            "stm32cubeide/STMicroelectronics__STM32CubeMP1__Projects__STM32MP157C-EV1__Examples__TIM__TIM_TimeBase__STM32CubeIDE__CM4__TIM_TimeBase_CM4 Debug.launch",
        ),
        &cx,
    );
    let c = &f.configs[0];
    assert_eq!(c.front_end, FrontEnd::Stm32CubeIde);
    assert_eq!(
        c.openocd_argv.as_ref().unwrap(),
        &s(&[
            "${stm32cubeide_openocd_path}\\openocd.exe",
            "-f",
            "C:\\proj\\TIM_TimeBase_CM4 Debug.cfg"
        ])
    );
    assert_eq!(c.gdb.as_deref(), Some("arm-none-eabi-gdb"));
}

#[test]
fn platformio_swo_demo_pipe_mode() {
    let f = load(
        &data("platformio/maxgerhardt__pio-swo-demo__platformio.ini"),
        &ctx(),
    );
    assert_eq!(f.kind, FileKind::PlatformIo);
    let c = &f.configs[0];
    assert_eq!(c.name, "nucleo_f103rb");
    // No debug_port: PlatformIO pipes GDB to OpenOCD and lets the shell split each line.
    assert_eq!(
        c.openocd_argv.as_ref().unwrap(),
        &s(&[
            "/pio/packages/tool-openocd/bin/openocd",
            "-c",
            "gdb_port pipe; tcl_port disabled; telnet_port disabled",
            "-f",
            "/pio/packages/tool-openocd/scripts/interface/stlink.cfg",
            "-f",
            "/pio/packages/tool-openocd/scripts/target/stm32f1x.cfg",
            "-c",
            "tpiu config internal - uart off 64000000",
            "-c",
            "itm ports on",
            "-c",
            "tcl_port 6666"
        ])
    );
    assert_eq!(c.cwd.as_deref(), Some(std::path::Path::new("/ws")));
}

#[test]
fn platformio_tools_without_server() {
    let f = load(
        &data(
            "platformio/meshtastic__firmware__variants__rp2040__rpipico-slowclock__platformio.ini",
        ),
        &ctx(),
    );
    let c = &f.configs[0];
    assert_eq!(c.server_type.as_deref(), Some("custom"));
    assert!(c.openocd_argv.is_none());
    assert_eq!(c.gdb_target.as_deref(), Some("localhost:3333"));
    let f = load(
        &data("platformio/meshtastic__firmware__variants__nrf52840__nrf52840.ini"),
        &ctx(),
    );
    let c = &f.configs[0];
    assert_eq!(c.name, "nrf52840_base");
    assert_eq!(c.server_type.as_deref(), Some("stlink"));
    assert!(c.notes.iter().any(|n| n.contains("adapter speed 4000")));
}
