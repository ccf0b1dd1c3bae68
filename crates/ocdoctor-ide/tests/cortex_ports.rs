//! Cortex-Debug's port block: each kind (gdb, tcl, telnet, swo) gets `numberOfProcessors`
//! consecutive ports from 50000; OpenOCD is given processor 0's port of each kind, GDB connects
//! to `targetProcessor`'s gdb port.

mod common;

use common::Machine;

fn config(extra: &str) -> String {
    format!(
        r#"{{
    "configurations": [
        {{
            "name": "core1",
            "type": "cortex-debug",
            "request": "launch",
            "servertype": "openocd",
            "executable": "build/app.elf",
            {extra}
            "configFiles": ["interface/stlink.cfg", "target/stm32f4x.cfg"]
        }}
    ]
}}
"#
    )
}

fn ports(m: &Machine, extra: &str) -> (Vec<String>, Option<String>) {
    let f = m.load("launch.json", &config(extra));
    let c = &f.configs[0];
    let argv = c.openocd_argv.clone().unwrap();
    let ports = argv
        .iter()
        .filter(|a| a.ends_with("_port") || a.contains("_port "))
        .cloned()
        .collect();
    (ports, c.gdb_target.clone())
}

#[test]
fn one_processor() {
    let m = Machine::new("cdp1");
    let (p, t) = ports(&m, "");
    assert_eq!(p, ["gdb_port 50000", "tcl_port 50001", "telnet_port 50002"]);
    assert_eq!(t.as_deref(), Some("localhost:50000"));
}

#[test]
fn two_processors_get_two_ports_per_kind() {
    let m = Machine::new("cdp2");
    let (p, t) = ports(&m, r#""numberOfProcessors": 2, "targetProcessor": 1,"#);
    assert_eq!(p, ["gdb_port 50000", "tcl_port 50002", "telnet_port 50004"]);
    assert_eq!(t.as_deref(), Some("localhost:50001"));
}

#[test]
fn bad_processor_counts_fall_back() {
    let m = Machine::new("cdp3");
    let (p, t) = ports(&m, r#""numberOfProcessors": "2", "targetProcessor": 5,"#);
    assert_eq!(p, ["gdb_port 50000", "tcl_port 50001", "telnet_port 50002"]);
    assert_eq!(t.as_deref(), Some("localhost:50000"));
}
