//! From a snapshot to problems: stable ids, the taxonomy cause each is evidence for, a message a person
//! recognises, and fix commands. Pure: works on a snapshot loaded from JSON as well as a fresh one.

use crate::model::*;
use crate::probedb::cmp_release;
use std::collections::BTreeMap;

/// Every problem id this crate can emit, with its taxonomy cause. The README documents each; a test
/// checks the list against it.
pub const PROBLEM_IDS: &[(&str, &str)] = &[
    ("usb-no-access", "usb-permission"),
    ("udev-rule-ineffective", "usb-permission"),
    ("usb-claimed", "probe-busy"),
    ("usb-kernel-driver-bound", "usb-driver"),
    ("multiple-probes", "multiple-probes"),
    ("no-probe", "probe-not-found"),
    ("blackmagic-not-openocd", "probe-not-found"),
    ("probe-needs-newer-openocd", "openocd-version"),
    ("probe-needs-fork", "openocd-version"),
    ("port-held", "port-in-use"),
    ("probe-server-running", "probe-busy"),
    ("interfering-service", "usb-driver"),
    ("wsl-no-usb", "usb-driver"),
    ("usb-not-visible", "usb-driver"),
    ("openocd-not-found", "openocd-launch"),
    ("openocd-several-versions", "openocd-launch"),
];

fn cause_of(id: &str) -> &'static str {
    PROBLEM_IDS
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, c)| *c)
        .unwrap_or("unknown")
}

fn problem(id: &str, severity: Severity, subject: String, message: String) -> Problem {
    Problem {
        id: id.to_string(),
        cause: cause_of(id).to_string(),
        severity,
        subject,
        message,
        fixes: Vec::new(),
        facts: BTreeMap::new(),
    }
}

fn fix(title: &str, commands: &[&str]) -> Fix {
    Fix {
        title: title.to_string(),
        commands: commands.iter().map(|s| s.to_string()).collect(),
    }
}

/// "ST-LINK/V2-1 (0483:374b, serial 066DFF…) on bus 1 port 2"
pub fn describe(d: &UsbDevice) -> String {
    let name = d
        .probe
        .as_ref()
        .map(|p| p.model.clone())
        .or_else(|| d.product.clone())
        .unwrap_or_else(|| "USB device".into());
    let mut s = format!("{name} ({}:{}", d.vendor_id, d.product_id);
    if let Some(ser) = serial_for_openocd(d) {
        let short: String = ser.chars().take(12).collect();
        let ell = if ser.chars().count() > 12 { "…" } else { "" };
        s.push_str(&format!(", serial {short}{ell}"));
    }
    s.push(')');
    match (d.busnum, &d.port_path) {
        (Some(b), Some(p)) => s.push_str(&format!(" on bus {b} port {p}")),
        (Some(b), None) => s.push_str(&format!(" on bus {b}")),
        _ => {}
    }
    s
}

/// The serial as OpenOCD's `adapter serial` wants it: hex for binary serials (old ST-LINK/V2).
pub fn serial_for_openocd(d: &UsbDevice) -> Option<String> {
    d.serial_hex.clone().or_else(|| d.serial.clone())
}

fn dev_facts(d: &UsbDevice) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    f.insert("vid".into(), d.vendor_id.clone());
    f.insert("pid".into(), d.product_id.clone());
    f.insert("sysfs".into(), d.sysfs_name.clone());
    if let Some(s) = serial_for_openocd(d) {
        f.insert("serial".into(), s);
    }
    if let Some(p) = &d.probe {
        f.insert("probe".into(), p.id.clone());
        f.insert("probe_family".into(), p.family.clone());
    }
    if let Some(n) = &d.node {
        f.insert("node".into(), n.path.clone());
    }
    f
}

fn proc_name(p: &ProcRef) -> String {
    p.name.clone().unwrap_or_else(|| "a process".into())
}

fn user_groups(s: &EnvSnapshot) -> Vec<String> {
    s.user
        .groups
        .iter()
        .filter_map(|g| g.name.clone())
        .collect()
}

fn parse_mode(m: &str) -> Option<u32> {
    u32::from_str_radix(m.trim_start_matches("0o"), 8).ok()
}

/// All problems, errors first, then warnings, then infos (stable order within a severity).
pub fn problems(s: &EnvSnapshot) -> Vec<Problem> {
    let mut out = Vec::new();
    let groups = user_groups(s);
    let probes: Vec<&UsbDevice> = s.usb.devices.iter().filter(|d| d.probe.is_some()).collect();
    host_usb_problems(s, &probes, &mut out);
    for d in &probes {
        probe_problems(s, d, &groups, &mut out);
    }
    several_probes_problem(&probes, &mut out);
    let reported_pids = port_problems(s, &mut out);
    process_problems(s, &probes, reported_pids, &mut out);
    install_problems(s, &mut out);
    out.sort_by_key(|p| p.severity);
    out
}

/// Host-level USB visibility: WSL without usbipd, a container or VM without the bus, no probe.
fn host_usb_problems(s: &EnvSnapshot, probes: &[&UsbDevice], out: &mut Vec<Problem>) {
    // A fixture tree (root other than "/") is a Linux layout; a snapshot that names neither
    // (a trimmed document: os and root empty) says nothing about this machine's USB.
    let linux_facts = s.os == "linux" || (!s.root.is_empty() && s.root != "/");
    let wsl = s.host.wsl.is_some();
    if wsl && (!s.usb.bus_visible || probes.is_empty()) {
        let mut p = problem(
            "wsl-no-usb",
            Severity::Error,
            "host".into(),
            format!(
                "this is WSL{} and {}: USB devices are not passed into WSL by default → attach the probe \
                 with usbipd from Windows",
                s.host
                    .wsl
                    .as_ref()
                    .and_then(|w| w.version)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                if s.usb.bus_visible {
                    "no debug probe is attached to it"
                } else {
                    "no USB bus is visible"
                }
            ),
        );
        p.fixes.push(fix(
            "In an administrator PowerShell on Windows (usbipd-win), share and attach the probe",
            &[
                "usbipd list",
                "usbipd bind --busid <BUSID>",
                "usbipd attach --wsl --busid <BUSID>",
            ],
        ));
        out.push(p);
    } else if linux_facts && !s.usb.bus_visible {
        let place = match (&s.host.container, &s.host.vm) {
            (Some(c), _) => format!(" (this looks like a {c} container)"),
            (None, Some(v)) => format!(" (this looks like a {v} virtual machine)"),
            _ => String::new(),
        };
        let mut p = problem(
            "usb-not-visible",
            Severity::Warning,
            "host".into(),
            format!(
                "no USB bus is visible here{place}: /sys/bus/usb does not exist, so OpenOCD cannot see any \
                 USB probe → pass the probe in"
            ),
        );
        p.fixes.push(fix(
            "Container: give it the USB bus (or one device)",
            &["docker run --device=/dev/bus/usb <image>"],
        ));
        p.fixes.push(fix(
            "Virtual machine: enable USB passthrough for the probe in the hypervisor's USB settings",
            &[],
        ));
        out.push(p);
    } else if s.usb.bus_visible && probes.is_empty() {
        let others = s
            .usb
            .devices
            .iter()
            .filter(|d| d.device_class.as_deref() != Some("09"))
            .count();
        let mut p = problem(
            "no-probe",
            Severity::Error,
            "usb".into(),
            format!(
                "no debug probe is attached: none of the {others} USB device(s) is a probe ocdoctor knows → \
                 check the cable (charge-only cables are common), that the probe is powered, and `lsusb`"
            ),
        );
        p.fixes.push(fix(
            "List what the USB bus sees, then re-plug the probe",
            &["lsusb", "sudo dmesg --follow"],
        ));
        out.push(p);
    }
}

/// One attached probe: not an OpenOCD probe, no access, claimed, kernel driver, version.
fn probe_problems(s: &EnvSnapshot, d: &UsbDevice, groups: &[String], out: &mut Vec<Problem>) {
    let Some(pm) = d.probe.as_ref() else { return };
    let what = describe(d);
    let subject = format!("usb:{}", d.sysfs_name);

    if !pm.openocd {
        let tty = d
            .interfaces
            .iter()
            .flat_map(|i| i.children.iter())
            .find(|c| c.starts_with("ttyACM"))
            .map(|c| format!("/dev/{c}"))
            .unwrap_or_else(|| "/dev/ttyACM0".into());
        let mut p = problem(
            "blackmagic-not-openocd",
            Severity::Warning,
            subject.clone(),
            format!(
                "{what} is not an OpenOCD probe: it is a GDB server itself → connect gdb to {tty} \
                 instead of starting OpenOCD"
            ),
        );
        p.fixes.push(fix(
            "Use the probe's built-in GDB server",
            &[
                &format!("arm-none-eabi-gdb -ex 'target extended-remote {tty}' -ex 'monitor swdp_scan' -ex 'attach 1' firmware.elf"),
            ],
        ));
        p.facts = dev_facts(d);
        out.push(p);
        return;
    }
    access_problems(s, d, &what, &subject, groups, out);
    claimed_problem(d, &what, &subject, out);
    kernel_driver_problems(d, pm, &what, &subject, out);
    version_problems(s, d, pm, &what, &subject, out);
}

/// The device node is not accessible, or the udev rule meant for it can never match.
fn access_problems(
    s: &EnvSnapshot,
    d: &UsbDevice,
    what: &str,
    subject: &str,
    groups: &[String],
    out: &mut Vec<Problem>,
) {
    if let Some(node) = &d.node
        && node.accessible == Some(false)
    {
        out.push(no_access(s, d, node, what, groups));
    }
    if d.node.as_ref().and_then(|n| n.accessible) != Some(true)
        && d.udev.rules.is_empty()
        && !d.udev.near_misses.is_empty()
    {
        let nm = &d.udev.near_misses[0];
        let mut p = problem(
            "udev-rule-ineffective",
            Severity::Warning,
            subject.to_string(),
            format!(
                "the udev rule at {}:{} was written for {} but can never match: {}",
                nm.file, nm.line, what, nm.reason
            ),
        );
        p.fixes.push(fix(
            "Write the IDs as sysfs does (4 lower-case hex digits, no 0x), then reload",
            &["sudo udevadm control --reload-rules && sudo udevadm trigger"],
        ));
        p.facts = dev_facts(d);
        p.facts
            .insert("rule".into(), format!("{}:{}", nm.file, nm.line));
        out.push(p);
    }
}

/// An interface claimed through usbfs by a libusb program.
fn claimed_problem(d: &UsbDevice, what: &str, subject: &str, out: &mut Vec<Problem>) {
    let claimed: Vec<&UsbInterface> = d
        .interfaces
        .iter()
        .filter(|i| i.driver.as_deref() == Some("usbfs"))
        .collect();
    if !claimed.is_empty() {
        let by = if d.holders.is_empty() {
            "a program this user cannot see (run as root to find it)".to_string()
        } else {
            d.holders
                .iter()
                .map(|h| format!("{} (pid {})", proc_name(h), h.pid))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let node_path = d.node.as_ref().map(|n| n.path.clone()).unwrap_or_default();
        let arrow = if d.holders.is_empty() {
            format!("sudo fuser -v {node_path}")
        } else {
            format!(
                "kill {}",
                d.holders
                    .iter()
                    .map(|h| h.pid.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        let mut p = problem(
            "usb-claimed",
            Severity::Warning,
            subject.to_string(),
            format!(
                "{what} is in use: interface {} is claimed through usbfs by {by} → {arrow}",
                claimed
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        if d.holders.is_empty() {
            p.fixes.push(fix(
                "Find the program that holds the probe",
                &[&format!("sudo fuser -v {node_path}")],
            ));
        } else {
            p.fixes
                .push(fix("Stop the program that holds the probe", &[&arrow]));
        }
        p.facts = dev_facts(d);
        if let Some(h) = d.holders.first() {
            p.facts.insert("holder_pid".into(), h.pid.to_string());
        }
        out.push(p);
    }
}

/// A kernel driver (ftdi_sio) on the JTAG channel of an FTDI probe.
fn kernel_driver_problems(
    d: &UsbDevice,
    pm: &ProbeMatch,
    what: &str,
    subject: &str,
    out: &mut Vec<Problem>,
) {
    for i in &d.interfaces {
        let on_jtag = i.number.is_some_and(|n| pm.jtag_interfaces.contains(&n));
        if on_jtag && i.driver.as_deref() == Some("ftdi_sio") {
            let tty = i
                .children
                .first()
                .map(|c| format!(" (/dev/{c})"))
                .unwrap_or_default();
            let mut p = problem(
                "usb-kernel-driver-bound",
                Severity::Warning,
                subject.to_string(),
                format!(
                    "{what}: interface {} (the channel OpenOCD uses for JTAG/SWD) is bound to the \
                     ftdi_sio serial driver{tty}. OpenOCD's ftdi driver normally detaches it when it \
                     opens the probe; if OpenOCD reports 'unable to claim interface' or 'no device \
                     found', unbind it → echo -n {} | sudo tee /sys/bus/usb/drivers/ftdi_sio/unbind",
                    i.name, i.name
                ),
            );
            p.fixes.push(fix(
                "Unbind ftdi_sio from the JTAG channel (until the next re-plug)",
                &[&format!(
                    "echo -n {} | sudo tee /sys/bus/usb/drivers/ftdi_sio/unbind",
                    i.name
                )],
            ));
            p.facts = dev_facts(d);
            p.facts.insert("interface".into(), i.name.clone());
            out.push(p);
        }
    }
}

/// The probe needs a newer OpenOCD than any installed, or a fork.
fn version_problems(
    s: &EnvSnapshot,
    d: &UsbDevice,
    pm: &ProbeMatch,
    what: &str,
    subject: &str,
    out: &mut Vec<Problem>,
) {
    let versions: Vec<(&OpenOcdInstall, &OpenOcdVersion)> = s
        .openocd_installs
        .iter()
        .filter_map(|i| i.version.as_ref().map(|v| (i, v)))
        .collect();
    if !pm.since.is_empty() && !versions.is_empty() {
        let ok = versions.iter().any(|(_, v)| {
            let have = if v.dev { "master" } else { v.release.as_str() };
            matches!(cmp_release(have, &pm.since), Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal))
                // A fork (ST, Espressif) may know newer PIDs before upstream releases them.
                || v.flavor == "st" && pm.family == "ST-Link"
        });
        if !ok {
            let need = if pm.since == "master" {
                "a build newer than 0.12.0".to_string()
            } else {
                format!("OpenOCD {} or newer", pm.since)
            };
            let have = versions
                .iter()
                .map(|(i, v)| {
                    format!(
                        "{}{} ({})",
                        v.release,
                        if v.dev { "+dev" } else { "" },
                        i.path
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let mut p = problem(
                "probe-needs-newer-openocd",
                Severity::Error,
                subject.to_string(),
                format!("{what} needs {need}; installed: {have} → install a newer OpenOCD"),
            );
            p.fixes.push(fix(
                "Install a newer OpenOCD (xPack builds follow upstream closely)",
                &["xpm install --global @xpack-dev-tools/openocd@latest"],
            ));
            if !pm.fork.is_empty() {
                p.fixes.push(fix(&format!("Or use {}", pm.fork), &[]));
            }
            p.facts = dev_facts(d);
            p.facts.insert("needs".into(), pm.since.clone());
            out.push(p);
        }
    }
    let needs_fork =
        !pm.fork.is_empty() && (pm.interface_cfg.is_empty() || pm.cfg_since == "master");
    if needs_fork {
        let has_esp = versions.iter().any(|(_, v)| v.flavor == "espressif");
        if !(pm.family == "Espressif" && has_esp) {
            let mut p = problem(
                "probe-needs-fork",
                Severity::Warning,
                subject.to_string(),
                format!("{what}: {} → use {}", pm.note, pm.fork),
            );
            p.fixes.push(fix(&format!("Use {}", pm.fork), &[]));
            p.facts = dev_facts(d);
            out.push(p);
        }
    }
}

/// Several OpenOCD probes attached: OpenOCD opens the first unless one is selected by serial.
fn several_probes_problem(probes: &[&UsbDevice], out: &mut Vec<Problem>) {
    let ocd_probes: Vec<&&UsbDevice> = probes
        .iter()
        .filter(|d| d.probe.as_ref().is_some_and(|p| p.openocd))
        .collect();
    if ocd_probes.len() > 1 {
        let list = ocd_probes
            .iter()
            .map(|d| describe(d))
            .collect::<Vec<_>>()
            .join("; ");
        let mut p = problem(
            "multiple-probes",
            Severity::Warning,
            "usb".into(),
            format!(
                "{} debug probes are attached: {list}. OpenOCD opens the first one it finds unless you \
                 select one by serial → add -c \"adapter serial <SERIAL>\" after the interface cfg",
                ocd_probes.len()
            ),
        );
        for d in &ocd_probes {
            if let Some(ser) = serial_for_openocd(d) {
                let cfg = d
                    .probe
                    .as_ref()
                    .map(|p| p.interface_cfg.clone())
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "<interface>.cfg".into());
                p.fixes.push(fix(
                    &format!("Use {}", describe(d)),
                    &[&format!(
                        "openocd -f {cfg} -c \"adapter serial {ser}\" -f <target>.cfg"
                    )],
                ));
            }
        }
        p.facts.insert("count".into(), ocd_probes.len().to_string());
        let serials: Vec<String> = ocd_probes
            .iter()
            .filter_map(|d| serial_for_openocd(d))
            .collect();
        p.facts.insert("serials".into(), serials.join(","));
        out.push(p);
    }
}

/// Ports already held; returns the pids reported as holders.
fn port_problems(s: &EnvSnapshot, out: &mut Vec<Problem>) -> Vec<u32> {
    let mut reported_pids: Vec<u32> = Vec::new();
    let mut seen_ports: Vec<u16> = Vec::new();
    for l in &s.listeners {
        if seen_ports.contains(&l.port) {
            continue;
        }
        seen_ports.push(l.port);
        let svc = match l.role.as_str() {
            "gdb" | "telnet" | "tcl" => format!(" (OpenOCD's {} port)", l.role),
            _ => String::new(),
        };
        let (msg, fixes) = match &l.process {
            Some(pr) => {
                reported_pids.push(pr.pid);
                (
                    format!(
                        "port {}{svc} is held by {} (pid {}) → kill {}",
                        l.port,
                        proc_name(pr),
                        pr.pid,
                        pr.pid
                    ),
                    vec![
                        fix(
                            "Stop the program holding the port",
                            &[&format!("kill {}", pr.pid)],
                        ),
                        fix(
                            "Or let this OpenOCD use other ports",
                            &[&format!(
                                "openocd ... -c \"{}_port {}\"",
                                if l.role == "extra" { "gdb" } else { &l.role },
                                l.port.checked_add(1).unwrap_or(l.port - 1)
                            )],
                        ),
                    ],
                )
            }
            None => (
                format!(
                    "port {}{svc} is already in use by a process this user cannot see → sudo ss -ltnp 'sport = :{}'",
                    l.port, l.port
                ),
                vec![fix(
                    "Find who holds it",
                    &[&format!("sudo ss -ltnp 'sport = :{}'", l.port)],
                )],
            ),
        };
        let mut p = problem(
            "port-held",
            Severity::Warning,
            format!("port:{}", l.port),
            msg,
        );
        p.fixes = fixes;
        p.facts.insert("port".into(), l.port.to_string());
        if let Some(pr) = &l.process {
            p.facts.insert("holder_pid".into(), pr.pid.to_string());
            if let Some(n) = &pr.name {
                p.facts.insert("holder".into(), n.clone());
            }
        }
        out.push(p);
    }
    reported_pids
}

/// Probe servers and services that interfere (ModemManager, brltty), except holders already reported.
fn process_problems(
    s: &EnvSnapshot,
    probes: &[&UsbDevice],
    mut reported_pids: Vec<u32>,
    out: &mut Vec<Problem>,
) {
    for d in probes {
        reported_pids.extend(d.holders.iter().map(|h| h.pid));
    }
    for pr in &s.processes {
        match pr.kind.as_str() {
            "openocd" | "jlink-gdb-server" | "jlink" | "st-util" | "stlink-server"
            | "st-gdbserver" | "pyocd" | "probe-rs" => {
                if reported_pids.contains(&pr.pid) {
                    continue;
                }
                let mut p = problem(
                    "probe-server-running",
                    Severity::Warning,
                    format!("process:{}", pr.pid),
                    format!(
                        "{} (pid {}) is running; it may hold the probe or OpenOCD's ports → stop it before \
                         starting OpenOCD (kill {})",
                        pr.comm, pr.pid, pr.pid
                    ),
                );
                p.fixes.push(fix("Stop it", &[&format!("kill {}", pr.pid)]));
                p.facts.insert("holder_pid".into(), pr.pid.to_string());
                p.facts.insert("holder".into(), pr.kind.clone());
                out.push(p);
            }
            "modemmanager" => {
                let acm = probes.iter().any(|d| {
                    d.interfaces
                        .iter()
                        .any(|i| i.driver.as_deref() == Some("cdc_acm"))
                });
                if acm {
                    let mut p = problem(
                        "interfering-service",
                        Severity::Warning,
                        format!("process:{}", pr.pid),
                        format!(
                            "ModemManager (pid {}) is running and a probe has a ttyACM port: ModemManager \
                             probes new serial ports and can disturb the probe's UART or GDB port (Black Magic, \
                             CMSIS-DAP) → tell it to ignore the probe, or stop it",
                            pr.pid
                        ),
                    );
                    p.fixes.push(fix(
                        "Stop ModemManager",
                        &["sudo systemctl stop ModemManager"],
                    ));
                    p.fixes.push(fix(
                        "Or keep it and ignore probes: add ENV{ID_MM_DEVICE_IGNORE}=\"1\" to the probe's udev rule",
                        &["sudo udevadm control --reload-rules && sudo udevadm trigger"],
                    ));
                    p.facts.insert("holder".into(), "ModemManager".into());
                    out.push(p);
                }
            }
            "brltty" => {
                let serial = s.usb.devices.iter().any(|d| {
                    d.interfaces.iter().any(|i| {
                        matches!(i.driver.as_deref(), Some("ftdi_sio" | "ch341" | "cp210x"))
                    }) || d.vendor_id == "0403"
                        || d.vendor_id == "1a86"
                });
                if serial {
                    let mut p = problem(
                        "interfering-service",
                        Severity::Warning,
                        format!("process:{}", pr.pid),
                        format!(
                            "brltty (pid {}) is running: it grabs FTDI/CH34x USB serial adapters as braille \
                             displays → remove it unless you use a braille display",
                            pr.pid
                        ),
                    );
                    p.fixes
                        .push(fix("Remove brltty", &["sudo apt remove brltty"]));
                    p.facts.insert("holder".into(), "brltty".into());
                    out.push(p);
                }
            }
            _ => {}
        }
    }
}

/// No OpenOCD installed, or several different builds.
fn install_problems(s: &EnvSnapshot, out: &mut Vec<Problem>) {
    if s.openocd_search_done && s.openocd_installs.is_empty() {
        let mut p = problem(
            "openocd-not-found",
            Severity::Warning,
            "openocd".into(),
            "no openocd binary was found on PATH or in the usual bundle folders (PlatformIO, ESP-IDF, xPack, \
             STM32CubeIDE, /usr/local, /opt) → install OpenOCD or put it on PATH"
                .into(),
        );
        p.fixes
            .push(fix("Debian/Ubuntu", &["sudo apt install openocd"]));
        p.fixes.push(fix(
            "Any OS (xPack build)",
            &["xpm install --global @xpack-dev-tools/openocd@latest"],
        ));
        out.push(p);
    }
    let mut distinct: Vec<String> = Vec::new();
    for i in &s.openocd_installs {
        if let Some(v) = &i.version {
            let key = format!(
                "{}{} {}",
                v.release,
                if v.dev { "+dev" } else { "" },
                v.flavor
            );
            if !distinct.contains(&key) {
                distinct.push(key);
            }
        }
    }
    if distinct.len() > 1 {
        let list = s
            .openocd_installs
            .iter()
            .filter_map(|i| {
                i.version_line
                    .as_ref()
                    .map(|l| format!("{} — {}", i.path, l))
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut p = problem(
            "openocd-several-versions",
            Severity::Info,
            "openocd".into(),
            format!(
                "{} different OpenOCD builds are installed: {list}. An IDE may start another one than your shell \
                 → check which one your launch configuration names",
                distinct.len()
            ),
        );
        p.fixes.push(fix(
            "See which one the shell runs",
            &["command -v openocd && openocd --version"],
        ));
        out.push(p);
    }
}

fn no_access(
    s: &EnvSnapshot,
    d: &UsbDevice,
    node: &DeviceNode,
    what: &str,
    groups: &[String],
) -> Problem {
    let owner = node
        .owner
        .clone()
        .or(node.uid.map(|u| u.to_string()))
        .unwrap_or_else(|| "?".into());
    let group = node
        .group
        .clone()
        .or(node.gid.map(|g| g.to_string()))
        .unwrap_or_else(|| "?".into());
    let mode = node.mode_octal.clone().unwrap_or_else(|| "????".into());
    let vp = format!("{}:{}", d.vendor_id, d.product_id);
    let pm = d.probe.as_ref();
    // Probes that OpenOCD 0.12's contrib/60-openocd.rules covers (by VID:PID, or by the CMSIS-DAP
    // product string): a released `since`, or a family whose every PID is listed there.
    let in_openocd_rules = pm.is_some_and(|p| {
        (!p.since.is_empty() && p.since != "master")
            || matches!(p.family.as_str(), "CMSIS-DAP" | "J-Link" | "FTDI")
    });
    let rule_line = format!(
        "SUBSYSTEM==\"usb\", ATTRS{{idVendor}}==\"{}\", ATTRS{{idProduct}}==\"{}\", MODE=\"660\", GROUP=\"plugdev\", TAG+=\"uaccess\"",
        d.vendor_id, d.product_id
    );
    let one_line_rule = format!(
        "echo '{rule_line}' | sudo tee /etc/udev/rules.d/60-ocdoctor-{}-{}.rules",
        d.vendor_id, d.product_id
    );
    let reload = "sudo udevadm control --reload-rules && sudo udevadm trigger";
    let has_plugdev = s.usb.groups_present.iter().any(|g| g == "plugdev");

    let mut fixes = Vec::new();
    let (why, arrow) = if d.udev.rules.is_empty() {
        if in_openocd_rules {
            fixes.push(Fix {
                title: "Install OpenOCD's udev rules, then re-plug the probe (Debian/Ubuntu's openocd package puts them in /lib/udev/rules.d; a source build has contrib/60-openocd.rules)".into(),
                commands: vec![
                    "sudo cp <openocd-source>/contrib/60-openocd.rules /etc/udev/rules.d/".into(),
                    reload.into(),
                ],
            });
        }
        fixes.push(Fix {
            title: format!("Or add a rule for exactly this probe ({vp}), then re-plug it"),
            commands: vec![one_line_rule.clone(), reload.into()],
        });
        let near = d
            .udev
            .near_misses
            .first()
            .map(|n| {
                format!(
                    " (the rule at {}:{} cannot match: {})",
                    n.file, n.line, n.reason
                )
            })
            .unwrap_or_default();
        (
            format!("no udev rule covers {vp}{near}"),
            if in_openocd_rules {
                "install 60-openocd.rules".to_string()
            } else {
                "add a udev rule for it".to_string()
            },
        )
    } else {
        let last = d
            .udev
            .rules
            .last()
            .map(|r| format!("{}:{}", r.file, r.line))
            .unwrap_or_default();
        let pg = d.udev.predicted_group.clone();
        let pmode = d
            .udev
            .predicted_mode
            .as_deref()
            .and_then(parse_mode)
            .unwrap_or(0o664);
        let others_rw = pmode & 0o006 == 0o006;
        let in_group = pg.as_ref().is_some_and(|g| groups.iter().any(|x| x == g));
        let group_exists = pg.as_ref().is_some_and(|g| {
            s.usb.groups_present.iter().any(|x| x == g)
                || !matches!(g.as_str(), "plugdev" | "dialout" | "uucp")
        });
        if others_rw || (in_group && pmode & 0o060 == 0o060) {
            fixes.push(fix(
                "Apply the rules to the attached device (or unplug and re-plug it)",
                &[reload],
            ));
            (
                format!(
                    "the udev rule {last} should allow it, but the node does not reflect it (rules added or changed after the probe was plugged in?)"
                ),
                "re-plug the probe or run udevadm trigger".to_string(),
            )
        } else if let Some(g) = pg.as_ref().filter(|_| !group_exists) {
            fixes.push(fix(
                &format!("Create the group {g} and join it (log out and in afterwards)"),
                &[
                    &format!("sudo groupadd --system {g}"),
                    &format!("sudo usermod -aG {g} $USER"),
                    reload,
                ],
            ));
            (
                format!(
                    "the udev rule {last} gives it to group {g}, which does not exist on this system"
                ),
                format!("create {g} and join it"),
            )
        } else if let Some(g) = pg.as_ref().filter(|_| !in_group) {
            let seat = if d.udev.uaccess {
                " (its TAG+=\"uaccess\" only helps a user logged in at the local desktop, not over SSH or in a container)"
            } else {
                ""
            };
            fixes.push(fix(
                &format!("Join the group {g} (log out and in afterwards)"),
                &[&format!("sudo usermod -aG {g} $USER")],
            ));
            (
                format!("the udev rule {last} gives it to group {g} and you are not in {g}{seat}"),
                format!("sudo usermod -aG {g} $USER"),
            )
        } else {
            let late = d.udev.rules.iter().any(|r| r.uaccess_too_late);
            let extra = if late {
                " (its TAG+=\"uaccess\" is in a file sorted after 73-seat-late.rules, so the ACL is never applied)"
            } else {
                ""
            };
            fixes.push(Fix {
                title: format!("Add a rule for exactly this probe ({vp})"),
                commands: vec![one_line_rule.clone(), reload.into()],
            });
            (
                format!("the udev rule {last} does not grant this user read-write access{extra}"),
                "add a udev rule for it".to_string(),
            )
        }
    };
    if !has_plugdev
        && fixes
            .iter()
            .any(|f| f.commands.iter().any(|c| c.contains("plugdev")))
    {
        fixes.push(fix(
            "This system has no plugdev group (Fedora, Arch): create it, or use MODE=\"666\" in the rule",
            &["sudo groupadd --system plugdev", "sudo usermod -aG plugdev $USER"],
        ));
    } else if has_plugdev && !groups.iter().any(|g| g == "plugdev") && d.udev.rules.is_empty() {
        fixes.push(fix(
            "Join plugdev so the rule's GROUP applies also without a desktop seat (log out and in afterwards)",
            &["sudo usermod -aG plugdev $USER"],
        ));
    }
    let msg = format!(
        "{what} — you cannot open it: {} is {owner}:{group} {mode} and {why} → {arrow}",
        node.path
    );
    let mut p = problem(
        "usb-no-access",
        Severity::Error,
        format!("usb:{}", d.sysfs_name),
        msg,
    );
    p.fixes = fixes;
    p.facts = dev_facts(d);
    p.facts
        .insert("access_method".into(), node.access_method.clone());
    p
}
