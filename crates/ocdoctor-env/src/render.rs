//! Plain-text report for a person: problems first, then the facts behind them.

use crate::model::*;
use crate::problems::{describe, problems};
use std::fmt::Write as _;

pub fn render_text(s: &EnvSnapshot) -> String {
    let mut o = String::new();
    let probs = problems(s);

    // Header: who and where.
    let distro = s.host.distro_name.clone().unwrap_or_else(|| s.os.clone());
    let user = match (&s.user.name, s.user.uid) {
        (Some(n), Some(u)) => format!("{n} (uid {u})"),
        (None, Some(u)) => format!("uid {u}"),
        _ => "unknown user".into(),
    };
    let groups: Vec<String> = s
        .user
        .groups
        .iter()
        .map(|g| g.name.clone().unwrap_or_else(|| g.gid.to_string()))
        .collect();
    let _ = writeln!(
        o,
        "ocdoctor env — {distro}, {user}, groups: {}",
        if groups.is_empty() {
            "-".into()
        } else {
            groups.join(", ")
        }
    );
    if s.root != "/" {
        let _ = writeln!(o, "(facts read under {})", s.root);
    }
    o.push('\n');

    if probs.is_empty() {
        o.push_str("No problems found.\n");
    } else {
        let _ = writeln!(o, "Problems ({}):", probs.len());
        for p in &probs {
            let sev = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let _ = writeln!(o, "  {sev}[{}]: {}", p.id, p.message);
            for f in &p.fixes {
                let _ = writeln!(o, "      fix: {}", f.title);
                for c in &f.commands {
                    let _ = writeln!(o, "        $ {c}");
                }
            }
        }
    }
    o.push('\n');

    write_probes(&mut o, s);
    write_services(&mut o, s);
    write_host(&mut o, s);
    o
}

/// The USB probes and their device nodes, drivers, holders and udev rules.
fn write_probes(o: &mut String, s: &EnvSnapshot) {
    if !s.usb.bus_visible {
        o.push_str("USB: no USB bus visible.\n");
    } else {
        let probes: Vec<&UsbDevice> = s.usb.devices.iter().filter(|d| d.probe.is_some()).collect();
        if probes.is_empty() {
            o.push_str("Probes: none found.\n");
        } else {
            o.push_str("Probes:\n");
        }
        for d in &probes {
            let _ = writeln!(o, "  {}", describe(d));
            if let Some(p) = &d.probe {
                if p.openocd {
                    let cfg = if p.interface_cfg.is_empty() {
                        if p.candidates.is_empty() {
                            "a board-specific cfg".to_string()
                        } else {
                            format!("one of {}", p.candidates.join(", "))
                        }
                    } else {
                        format!("-f {}", p.interface_cfg)
                    };
                    let since = if p.since.is_empty() {
                        String::new()
                    } else {
                        format!(", known since {}", p.since)
                    };
                    let _ = writeln!(o, "    OpenOCD: {cfg} (driver {}{since})", p.driver);
                } else {
                    let _ = writeln!(o, "    not an OpenOCD probe");
                }
            }
            if let Some(n) = &d.node {
                let who = format!(
                    "{}:{}",
                    n.owner
                        .clone()
                        .or(n.uid.map(|u| u.to_string()))
                        .unwrap_or_else(|| "?".into()),
                    n.group
                        .clone()
                        .or(n.gid.map(|g| g.to_string()))
                        .unwrap_or_else(|| "?".into())
                );
                let acc = match n.accessible {
                    Some(true) => "you can open it",
                    Some(false) => "you cannot open it",
                    None => "access unknown",
                };
                let _ = writeln!(
                    o,
                    "    node: {} {who} {} — {acc} ({})",
                    n.path,
                    n.mode_octal.clone().unwrap_or_else(|| "????".into()),
                    n.access_method
                );
            }
            for i in &d.interfaces {
                let drv = i.driver.clone().unwrap_or_else(|| "no driver".into());
                let txt = i
                    .interface_string
                    .as_ref()
                    .map(|t| format!(" \"{t}\""))
                    .unwrap_or_default();
                let kids = if i.children.is_empty() {
                    String::new()
                } else {
                    format!(" → {}", i.children.join(", "))
                };
                let _ = writeln!(
                    o,
                    "    interface {} class {}{txt}: {drv}{kids}",
                    i.name,
                    i.class.clone().unwrap_or_default()
                );
            }
            if d.udev.rules.is_empty() {
                let _ = writeln!(o, "    udev: no rule covers it");
            }
            for r in &d.udev.rules {
                let mut bits = Vec::new();
                if let Some(m) = &r.mode {
                    bits.push(format!("MODE={m}"));
                }
                if let Some(g) = &r.group {
                    bits.push(format!("GROUP={g}"));
                }
                if r.uaccess {
                    bits.push("uaccess".into());
                }
                let _ = writeln!(o, "    udev: {}:{} {}", r.file, r.line, bits.join(" "));
            }
        }
        let others: Vec<&UsbDevice> = s
            .usb
            .devices
            .iter()
            .filter(|d| d.probe.is_none() && d.device_class.as_deref() != Some("09"))
            .collect();
        if !others.is_empty() {
            let _ = writeln!(o, "Other USB devices ({}):", others.len());
            for d in others {
                let _ = writeln!(
                    o,
                    "  {}:{} {} {}",
                    d.vendor_id,
                    d.product_id,
                    d.manufacturer.clone().unwrap_or_default(),
                    d.product.clone().unwrap_or_default()
                );
            }
        }
    }
}

/// OpenOCD's ports and who holds them, probe-related processes, OpenOCD installs.
fn write_services(o: &mut String, s: &EnvSnapshot) {
    o.push_str("Ports:\n");
    let mut ports: Vec<(u16, String)> = vec![
        (3333, "gdb".into()),
        (4444, "telnet".into()),
        (6666, "tcl".into()),
    ];
    for l in &s.listeners {
        if !ports.iter().any(|(p, _)| *p == l.port) {
            ports.push((l.port, l.role.clone()));
        }
    }
    for (port, role) in ports {
        match s.listeners.iter().find(|l| l.port == port) {
            Some(l) => {
                let who = l
                    .process
                    .as_ref()
                    .map(|p| {
                        format!(
                            "{} (pid {})",
                            p.name.clone().unwrap_or_else(|| "?".into()),
                            p.pid
                        )
                    })
                    .unwrap_or_else(|| "an unknown process".into());
                let _ = writeln!(o, "  {port} ({role}): held by {who} on {}", l.address);
            }
            None => {
                let _ = writeln!(o, "  {port} ({role}): free");
            }
        }
    }

    if !s.processes.is_empty() {
        o.push_str("Processes:\n");
        for p in &s.processes {
            let age = match (s.host.uptime_secs, p.started_after_boot_secs) {
                (Some(up), Some(start)) if up >= start => {
                    format!(", started {} ago", human_duration(up - start))
                }
                _ => String::new(),
            };
            let _ = writeln!(o, "  {} {} ({}{age}): {}", p.pid, p.comm, p.kind, p.cmdline);
        }
    }

    if !s.openocd_installs.is_empty() {
        o.push_str("OpenOCD installs:\n");
        for i in &s.openocd_installs {
            let v = i
                .version_line
                .clone()
                .or_else(|| i.version_error.clone())
                .unwrap_or_else(|| "version not checked".into());
            let _ = writeln!(o, "  {} [{}]: {v}", i.path, i.found_in);
            if let Some(sd) = &i.scripts_dir {
                let _ = writeln!(o, "    scripts: {sd}");
            }
        }
    } else if s.openocd_search_done {
        o.push_str("OpenOCD installs: none found\n");
    }
}

/// The host (kernel, WSL, VM, container, board), notes and what could not be read.
fn write_host(o: &mut String, s: &EnvSnapshot) {
    let mut host = Vec::new();
    if let Some(k) = &s.host.kernel {
        host.push(k.clone());
    }
    if let Some(w) = &s.host.wsl {
        host.push(format!(
            "WSL{}",
            w.version.map(|v| v.to_string()).unwrap_or_default()
        ));
    }
    if let Some(v) = &s.host.vm {
        host.push(format!("VM: {v}"));
    }
    if let Some(c) = &s.host.container {
        host.push(format!("container: {c}"));
    }
    if let Some(b) = &s.host.board_model {
        host.push(format!("board: {b}"));
    }
    if !host.is_empty() {
        let _ = writeln!(o, "Host: {}", host.join("; "));
    }
    for n in &s.notes {
        let _ = writeln!(o, "note: {n}");
    }
    for e in &s.errors {
        let _ = writeln!(o, "could not read {}: {}", e.what, e.message);
    }
}

/// `45 s`, `12 min`, `2 h 3 min`, `3 d 4 h`.
fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86400 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86400, secs % 86400 / 3600),
    }
}
