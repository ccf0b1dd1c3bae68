//! Fixture machines (tests/fixtures/<case>/root + case.toml, built by make_fixtures.py).

use ocdoctor_env::{CollectOptions, EnvSnapshot, Problem, collect, problems, render_text};
use std::path::{Path, PathBuf};

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
}

/// Options for a fixture: its root, plus the sidecar case.toml (identity and /dev node ownership,
/// which git cannot store).
fn options(case: &str) -> CollectOptions {
    ocdoctor_env::fixture_options(&fixture(case)).expect("fixture case.toml")
}

fn run(case: &str) -> (EnvSnapshot, Vec<Problem>) {
    let snap = collect(&options(case));
    let probs = problems(&snap);
    (snap, probs)
}

fn ids(p: &[Problem]) -> Vec<&str> {
    p.iter().map(|p| p.id.as_str()).collect()
}

fn find<'a>(p: &'a [Problem], id: &str) -> &'a Problem {
    p.iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(p)))
}

#[test]
fn stlink_without_udev_rule_cannot_be_opened() {
    let (s, p) = run("stlink-no-rule");
    assert!(s.usb.bus_visible);
    assert_eq!(s.usb.devices.len(), 1);
    let d = &s.usb.devices[0];
    assert_eq!(d.sysfs_name, "1-2");
    assert_eq!(
        (d.vendor_id.as_str(), d.product_id.as_str()),
        ("0483", "374b")
    );
    assert_eq!(d.serial.as_deref(), Some("066DFF535155878281151932"));
    assert_eq!(d.busnum, Some(1));
    assert_eq!(d.devnum, Some(7));
    assert_eq!(d.port_path.as_deref(), Some("2"));
    assert_eq!(d.speed.as_deref(), Some("12"));
    assert_eq!(d.interfaces.len(), 4);
    assert_eq!(d.interfaces[1].driver.as_deref(), Some("usb-storage"));
    assert_eq!(d.interfaces[2].children, vec!["ttyACM0".to_string()]);
    assert_eq!(d.probe.as_ref().unwrap().id, "stlink-v2-1");
    let node = d.node.as_ref().unwrap();
    assert_eq!(node.path, "/dev/bus/usb/001/007");
    assert_eq!(node.mode_octal.as_deref(), Some("0664"));
    assert_eq!(node.owner.as_deref(), Some("root"));
    assert_eq!(node.accessible, Some(false));
    assert_eq!(node.access_method, "mode-bits");
    assert!(d.udev.rules.is_empty());

    let no = find(&p, "usb-no-access");
    assert_eq!(no.cause, "usb-permission");
    assert!(
        no.message
            .contains("ST-LINK/V2-1 (0483:374b, serial 066DFF535155…) on bus 1 port 2"),
        "{}",
        no.message
    );
    assert!(
        no.message
            .contains("/dev/bus/usb/001/007 is root:root 0664"),
        "{}",
        no.message
    );
    assert!(
        no.message.contains("no udev rule covers 0483:374b"),
        "{}",
        no.message
    );
    assert!(
        no.message.contains("install 60-openocd.rules"),
        "{}",
        no.message
    );
    assert!(
        no.fixes
            .iter()
            .any(|f| f.commands.iter().any(|c| c.contains("udevadm")))
    );
    assert_eq!(
        no.facts.get("serial").map(String::as_str),
        Some("066DFF535155878281151932")
    );
    assert!(!ids(&p).contains(&"no-probe"));
    // Host facts from the fixture.
    assert_eq!(s.host.distro_id.as_deref(), Some("debian"));
    assert!(s.host.wsl.is_none());
    assert_eq!(s.user.name.as_deref(), Some("alice"));
}

#[test]
fn stlink_with_openocd_rules_is_accessible() {
    let (s, p) = run("stlink-with-rules");
    let d = &s.usb.devices[0];
    assert_eq!(d.node.as_ref().unwrap().accessible, Some(true));
    let hit = d
        .udev
        .rules
        .first()
        .expect("60-openocd.rules covers 0483:374b");
    assert_eq!(hit.file, "/lib/udev/rules.d/60-openocd.rules");
    assert!(hit.text.contains("374b"));
    assert_eq!(hit.mode.as_deref(), Some("660"));
    assert_eq!(hit.group.as_deref(), Some("plugdev"));
    assert!(hit.uaccess && !hit.uaccess_too_late && !hit.vendor_wide);
    // Line number points at the rule in the real file.
    let text = std::fs::read_to_string(
        fixture("stlink-with-rules").join("root/lib/udev/rules.d/60-openocd.rules"),
    )
    .unwrap();
    let line = text.lines().nth(hit.line - 1).unwrap();
    assert!(line.contains("ATTRS{idProduct}==\"374b\""), "{line}");
    assert!(s.usb.groups_present.contains(&"plugdev".to_string()));
    assert!(p.is_empty(), "{:?}", ids(&p));
    assert!(render_text(&s).contains("No problems found."));
}

#[test]
fn jlink_claimed_by_openocd() {
    let (s, p) = run("jlink-claimed");
    let d = &s.usb.devices[0];
    assert_eq!(d.probe.as_ref().unwrap().family, "J-Link");
    assert_eq!(d.interfaces[2].driver.as_deref(), Some("usbfs"));
    assert_eq!(d.holders.len(), 1);
    assert_eq!(d.holders[0].pid, 4242);
    let c = find(&p, "usb-claimed");
    assert_eq!(c.cause, "probe-busy");
    assert!(c.message.contains("openocd (pid 4242)"), "{}", c.message);
    assert!(c.message.contains("kill 4242"), "{}", c.message);
    // The same openocd holds the ports: reported as port-held, not again as probe-server-running.
    assert!(ids(&p).contains(&"port-held"));
    assert!(!ids(&p).contains(&"probe-server-running"), "{:?}", ids(&p));
    assert!(!ids(&p).contains(&"usb-no-access"));
}

#[test]
fn ftdi_with_ftdi_sio_on_jtag_channel() {
    let (s, p) = run("ftdi-sio-bound");
    let d = &s.usb.devices[0];
    assert_eq!(d.probe.as_ref().unwrap().id, "ftdi-ft2232");
    assert!(d.serial.is_none());
    let k: Vec<&Problem> = p
        .iter()
        .filter(|p| p.id == "usb-kernel-driver-bound")
        .collect();
    assert_eq!(k.len(), 1, "only channel A (JTAG) counts");
    assert_eq!(k[0].cause, "usb-driver");
    assert!(k[0].message.contains("1-3:1.0"), "{}", k[0].message);
    assert!(k[0].message.contains("/dev/ttyUSB0"), "{}", k[0].message);
    assert!(k[0].fixes[0].commands[0].contains("/sys/bus/usb/drivers/ftdi_sio/unbind"));
}

#[test]
fn two_stlinks_need_a_serial() {
    let (s, p) = run("two-stlinks");
    let probes: Vec<_> = s.probes().collect();
    assert_eq!(probes.len(), 2);
    // The hub is a device but not a probe.
    assert!(
        s.usb
            .devices
            .iter()
            .any(|d| d.device_class.as_deref() == Some("09"))
    );
    let old = probes.iter().find(|d| d.product_id == "3748").unwrap();
    assert_eq!(old.sysfs_name, "3-3.4");
    assert_eq!(old.port_path.as_deref(), Some("3.4"));
    assert_eq!(old.serial_hex.as_deref(), Some("55ff6b064970785032181387"));
    let m = find(&p, "multiple-probes");
    assert_eq!(m.cause, "multiple-probes");
    assert!(m.message.contains("2 debug probes"), "{}", m.message);
    let cmds: Vec<&String> = m.fixes.iter().flat_map(|f| f.commands.iter()).collect();
    assert!(
        cmds.iter()
            .any(|c| c.contains("adapter serial 066DFF535155878281151932"))
    );
    assert!(
        cmds.iter()
            .any(|c| c.contains("adapter serial 55ff6b064970785032181387"))
    );
    assert!(!ids(&p).contains(&"usb-no-access"), "{:?}", ids(&p));
}

#[test]
fn black_magic_probe_is_not_an_openocd_probe() {
    let (s, p) = run("blackmagic");
    let d = &s.usb.devices[0];
    assert!(!d.probe.as_ref().unwrap().openocd);
    let b = find(&p, "blackmagic-not-openocd");
    assert_eq!(b.cause, "probe-not-found");
    assert!(b.message.contains("GDB server itself"), "{}", b.message);
    assert!(b.message.contains("/dev/ttyACM0"), "{}", b.message);
    assert!(!ids(&p).contains(&"no-probe"));
    assert!(
        !ids(&p).contains(&"usb-no-access"),
        "BMP is used through its tty, not libusb"
    );
    // ModemManager runs and the probe has ttyACM ports.
    let m = find(&p, "interfering-service");
    assert!(m.message.contains("ModemManager (pid 801)"));
}

#[test]
fn port_3333_held_by_openocd() {
    let (s, p) = run("port-3333-openocd");
    assert_eq!(s.listeners.len(), 3, "{:?}", s.listeners);
    let l = s.listeners.iter().find(|l| l.port == 3333).unwrap();
    assert_eq!(l.address, "127.0.0.1");
    assert_eq!(l.role, "gdb");
    assert_eq!(l.process.as_ref().unwrap().pid, 4242);
    let l6 = s.listeners.iter().find(|l| l.port == 4444).unwrap();
    assert_eq!((l6.proto.as_str(), l6.address.as_str()), ("tcp6", "::1"));
    let oc = s.processes.iter().find(|p| p.pid == 4242).unwrap();
    assert_eq!(oc.kind, "openocd");
    assert!(oc.cmdline.contains("target/stm32f4x.cfg"));
    assert_eq!(oc.started_after_boot_secs, Some(1234));
    assert!(!s.processes.iter().any(|p| p.comm == "bash"));
    let held: Vec<&Problem> = p.iter().filter(|p| p.id == "port-held").collect();
    assert_eq!(held.len(), 3);
    let h = held.iter().find(|p| p.subject == "port:3333").unwrap();
    assert_eq!(h.cause, "port-in-use");
    assert!(
        h.message
            .contains("port 3333 (OpenOCD's gdb port) is held by openocd (pid 4242) → kill 4242"),
        "{}",
        h.message
    );
    // No probe on a visible bus.
    assert!(ids(&p).contains(&"no-probe"));
    let text = render_text(&s);
    assert!(text.find("Problems").unwrap() < text.find("Ports:").unwrap());
    // Uptime 8634 s, started 1234 s after boot: how long the stale server has been running.
    assert_eq!(s.host.uptime_secs, Some(8634));
    assert!(
        text.contains("4242 openocd (openocd, started 2 h 3 min ago)"),
        "{text}"
    );
}

#[test]
fn empty_machine_is_a_clean_answer() {
    let (s, p) = run("empty-machine");
    assert!(!s.usb.bus_visible);
    assert!(s.usb.devices.is_empty());
    assert!(s.listeners.is_empty());
    assert!(s.processes.is_empty());
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(ids(&p), vec!["usb-not-visible"]);
    let text = render_text(&s);
    assert!(text.contains("no USB bus"), "{text}");
}

#[test]
fn udev_rule_with_0x_prefix_never_matches() {
    let (s, p) = run("olimex-0x-rule");
    let d = &s.usb.devices[0];
    assert_eq!(d.probe.as_ref().unwrap().id, "olimex-arm-usb-tiny-h");
    assert!(d.udev.rules.is_empty());
    assert_eq!(d.udev.near_misses.len(), 1);
    assert!(d.udev.near_misses[0].reason.contains("0x"));
    let u = find(&p, "udev-rule-ineffective");
    assert!(
        u.message.contains("/etc/udev/rules.d/69-probe-rs.rules:2"),
        "{}",
        u.message
    );
    let n = find(&p, "usb-no-access");
    assert!(n.message.contains("cannot match"), "{}", n.message);
    // ftdi_sio on channel B (interface 1) is fine for this probe (JTAG is channel A).
    assert!(!ids(&p).contains(&"usb-kernel-driver-bound"));
}

#[test]
fn wsl_without_usbipd() {
    let (s, p) = run("wsl-no-usb");
    assert_eq!(s.host.wsl.as_ref().unwrap().version, Some(2));
    let w = find(&p, "wsl-no-usb");
    assert_eq!(w.cause, "usb-driver");
    assert!(
        w.fixes[0]
            .commands
            .iter()
            .any(|c| c.contains("usbipd attach --wsl"))
    );
    assert!(!ids(&p).contains(&"usb-not-visible"));
}

#[test]
fn installs_are_found_without_running_them() {
    let mut o = options("stlink-no-rule");
    o.path_var = Some("/usr/local/bin:/usr/bin:/bin".into());
    o.home = Some("/home/alice".into());
    let s = collect(&o);
    assert!(s.openocd_search_done);
    let paths: Vec<&str> = s.openocd_installs.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/usr/bin/openocd",
            "/home/alice/.platformio/packages/tool-openocd/bin/openocd"
        ]
    );
    assert_eq!(
        s.openocd_installs[0].scripts_dir.as_deref(),
        Some("/usr/share/openocd/scripts")
    );
    assert_eq!(s.openocd_installs[0].found_in, "PATH");
    assert_eq!(
        s.openocd_installs[1].scripts_dir.as_deref(),
        Some("/home/alice/.platformio/packages/tool-openocd/scripts")
    );
    assert!(s.openocd_installs.iter().all(|i| i.version.is_none()));
    // Search done on a machine without openocd → openocd-not-found.
    let mut o = options("empty-machine");
    o.path_var = Some("/usr/bin".into());
    assert!(ids(&problems(&collect(&o))).contains(&"openocd-not-found"));
}

#[test]
fn probe_newer_than_installed_openocd() {
    // Problems are a pure function of the snapshot: edit a fixture snapshot as if collected elsewhere.
    let (mut s, _) = run("stlink-with-rules");
    let d = &mut s.usb.devices[0];
    d.product_id = "3757".into();
    d.probe = ocdoctor_env::probedb::lookup("0483", "3757", &[]);
    s.openocd_installs.push(ocdoctor_env::OpenOcdInstall {
        path: "/usr/bin/openocd".into(),
        found_in: "PATH".into(),
        version_line: Some("Open On-Chip Debugger 0.12.0".into()),
        version: ocdoctor_env::parse_version("Open On-Chip Debugger 0.12.0"),
        ..Default::default()
    });
    let p = problems(&s);
    let n = find(&p, "probe-needs-newer-openocd");
    assert_eq!(n.cause, "openocd-version");
    assert!(n.message.contains("STLINK-V3PWR"), "{}", n.message);
    assert!(
        n.message.contains("0.12.0 (/usr/bin/openocd)"),
        "{}",
        n.message
    );
}

#[test]
fn json_round_trip() {
    for case in [
        "stlink-no-rule",
        "two-stlinks",
        "port-3333-openocd",
        "empty-machine",
    ] {
        let (s, _) = run(case);
        let json = s.to_json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["schema"], "ocdoctor.env/v1");
        let back = EnvSnapshot::from_json(&json).unwrap();
        assert_eq!(back, s, "{case}");
        assert_eq!(problems(&back), problems(&s));
    }
    assert!(EnvSnapshot::from_json(r#"{"schema":"other/v1"}"#).is_err());
    assert!(EnvSnapshot::from_json("not json").is_err());
    // `{}` and other JSON documents without the schema field are not snapshots.
    assert!(EnvSnapshot::from_json("{}").is_err());
    assert!(EnvSnapshot::from_json(r#"{"usb":{"devices":[]}}"#).is_err());
    // A minimal document from an older/trimmed writer loads with defaults.
    let s = EnvSnapshot::from_json(r#"{"schema":"ocdoctor.env/v1"}"#).unwrap();
    assert!(s.usb.devices.is_empty());
    // ... and invents no problem from its defaults (no "no USB bus visible" for an empty list).
    assert!(problems(&s).is_empty(), "{:?}", problems(&s));
}

#[test]
fn problem_ids_are_documented() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for case in [
        "stlink-no-rule",
        "jlink-claimed",
        "ftdi-sio-bound",
        "two-stlinks",
        "blackmagic",
        "port-3333-openocd",
        "empty-machine",
        "olimex-0x-rule",
        "wsl-no-usb",
    ] {
        for p in run(case).1 {
            assert!(
                readme.contains(&format!("`{}`", p.id)),
                "README lacks {}",
                p.id
            );
            assert!(
                readme.contains(&format!("`{}`", p.cause)),
                "README lacks {}",
                p.cause
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn version_is_read_from_stderr_with_a_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("opt/xpack/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(t.path().join("opt/xpack/share/openocd/scripts")).unwrap();
    let good = bin.join("openocd");
    std::fs::write(
        &good,
        "#!/bin/sh\necho 'xPack Open On-Chip Debugger 0.12.0-01004-g9ea7f3d64-dirty (2023-01-30-15:03)' >&2\necho 'Licensed under GNU GPL v2' >&2\n",
    )
    .unwrap();
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o755)).unwrap();
    let slow_dir = t.path().join("slow/bin");
    std::fs::create_dir_all(&slow_dir).unwrap();
    let slow = slow_dir.join("openocd");
    std::fs::write(&slow, "#!/bin/sh\nexec sleep 5\n").unwrap();
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = collect(&CollectOptions {
        root: t.path().to_path_buf(),
        path_var: Some("/slow/bin".into()),
        run_binaries: true,
        binary_timeout: std::time::Duration::from_millis(300),
        ..CollectOptions::default()
    });
    let by_path = |p: &str| s.openocd_installs.iter().find(|i| i.path == p).unwrap();
    let x = by_path("/opt/xpack/bin/openocd");
    assert_eq!(x.found_in, "opt");
    let v = x.version.as_ref().expect("version parsed");
    assert_eq!((v.release.as_str(), v.flavor.as_str()), ("0.12.0", "xpack"));
    assert_eq!(
        x.scripts_dir.as_deref(),
        Some("/opt/xpack/share/openocd/scripts")
    );
    let sl = by_path("/slow/bin/openocd");
    assert!(sl.version.is_none());
    assert!(
        sl.version_error
            .as_deref()
            .unwrap()
            .contains("did not finish"),
        "{:?}",
        sl.version_error
    );
}

#[test]
fn text_report_reads_like_a_person_wrote_it() {
    let (s, _) = run("stlink-no-rule");
    let text = render_text(&s);
    eprintln!("{text}");
    let first_problem = text.find("error[usb-no-access]").expect("problem listed");
    assert!(
        first_problem < text.find("Probes:").unwrap(),
        "problems come first"
    );
    assert!(text.contains("OpenOCD: -f interface/stlink.cfg"));
    assert!(text.contains("$ sudo udevadm control --reload-rules && sudo udevadm trigger"));
}
