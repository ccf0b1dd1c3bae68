//! The probe database as data, garbage input, and a smoke test of the real machine.

use ocdoctor_env::probedb::{self, PROBES_TOML};
use ocdoctor_env::{CollectOptions, collect, problems, render_text};
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn probe_db_parses_and_keys_are_unique() {
    let db = probedb::parse(PROBES_TOML).expect("data/probes.toml parses");
    assert!(db.len() >= 40);
    assert_eq!(probedb::entries().len(), db.len());
    let mut keys = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for e in &db {
        assert!(ids.insert(e.id.clone()), "duplicate id {}", e.id);
        let key = (e.vid.clone(), e.pid.clone(), e.match_string.clone());
        assert!(
            keys.insert(key),
            "duplicate VID:PID {}:{} ({:?})",
            e.vid,
            e.pid,
            e.match_string
        );
        let hex4 = |s: &str| {
            s.len() == 4
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        assert!(
            e.vid == "*" || hex4(&e.vid),
            "{}: vid {:?} must be lower-case hex as sysfs prints",
            e.id,
            e.vid
        );
        assert!(e.pid == "*" || hex4(&e.pid), "{}: pid {:?}", e.id, e.pid);
        assert!(
            e.vid != "*" || e.match_string.is_some(),
            "{}: wildcard vid needs match_string",
            e.id
        );
        assert!(
            !e.family.is_empty() && !e.model.is_empty() && !e.source.is_empty(),
            "{}",
            e.id
        );
        for v in [&e.since, &e.cfg_since] {
            assert!(
                v.is_empty() || v == "master" || probedb::cmp_release(v, "0.1.0").is_some(),
                "{}: bad version {v:?}",
                e.id
            );
        }
        if e.openocd == Some(false) {
            assert!(e.interface_cfg.is_empty() && !e.note.is_empty(), "{}", e.id);
        }
    }
}

#[test]
fn probe_db_cfgs_exist_in_installed_openocd() {
    let scripts = Path::new("/usr/share/openocd/scripts");
    if !scripts.is_dir() {
        eprintln!("skipped: {} not installed", scripts.display());
        return;
    }
    for e in probedb::entries() {
        let newer =
            |v: &str| v == "master" || probedb::cmp_release(v, "0.12.0").is_some_and(|o| o.is_gt());
        if !e.interface_cfg.is_empty() && !newer(&e.cfg_since) {
            assert!(
                scripts.join(&e.interface_cfg).is_file(),
                "{}: {} missing",
                e.id,
                e.interface_cfg
            );
        }
        if e.interface_cfg.is_empty() || newer(&e.cfg_since) {
            // Needs a fork or a newer release: the entry must say which.
            assert!(
                !e.fork.is_empty()
                    || !e.cfg_since.is_empty()
                    || !e.candidates.is_empty()
                    || e.openocd == Some(false),
                "{}: no cfg and no fork/candidates",
                e.id
            );
        }
        for c in &e.candidates {
            assert!(
                scripts.join(c).is_file(),
                "{}: candidate {} missing",
                e.id,
                c
            );
        }
    }
}

#[test]
fn lookup_tiers() {
    let m = probedb::lookup("0483", "374B", &[]).unwrap();
    assert_eq!(
        (m.id.as_str(), m.matched_by.as_str()),
        ("stlink-v2-1", "vid:pid")
    );
    let m = probedb::lookup("0403", "6010", &["Tigard V1.1"]).unwrap();
    assert_eq!(m.id, "tigard");
    assert_eq!(
        probedb::lookup("0403", "6010", &["Dual RS232-HS"])
            .unwrap()
            .id,
        "ftdi-ft2232"
    );
    assert_eq!(
        probedb::lookup("1366", "1061", &[]).unwrap().id,
        "jlink-any"
    );
    let m = probedb::lookup("c251", "f001", &["Keil", "CMSIS-DAP v2"]).unwrap();
    assert_eq!(
        (m.id.as_str(), m.matched_by.as_str()),
        ("cmsis-dap-generic", "string")
    );
    // "CMSIS_DAP" (underscore) is not CMSIS-DAP to OpenOCD's udev glob either.
    assert!(probedb::lookup("c251", "f001", &["CMSIS_DAP"]).is_none());
    assert!(probedb::lookup("046d", "c52b", &["USB Receiver"]).is_none());
}

#[test]
fn problem_causes_are_taxonomy_ids() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    // The project's copy of the taxonomy (the knowledge base's).
    let taxonomy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/taxonomy.toml");
    let tax_text = std::fs::read_to_string(&taxonomy).unwrap();
    for (id, cause) in ocdoctor_env::PROBLEM_IDS {
        assert!(
            tax_text.contains(&format!("id = \"{cause}\"")),
            "{cause} not in rules/taxonomy.toml"
        );
        assert!(readme.contains(&format!("`{id}`")), "README lacks {id}");
    }
}

#[test]
fn garbage_sysfs_does_not_panic() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let dev = root.join("sys/bus/usb/devices/1-9");
    std::fs::create_dir_all(dev.join("1-9:1.0")).unwrap();
    std::fs::write(dev.join("idVendor"), b"\xff\xfe zz\n").unwrap();
    std::fs::write(dev.join("idProduct"), b"").unwrap();
    std::fs::write(dev.join("busnum"), b"-3\n").unwrap();
    std::fs::write(dev.join("devnum"), b"99999999999999999999\n").unwrap();
    std::fs::write(dev.join("serial"), b"\x80\x81\n").unwrap();
    std::fs::write(dev.join("product"), b"\x00\x00\x00").unwrap();
    std::fs::write(dev.join("1-9:1.0/bInterfaceNumber"), b"zz\n").unwrap();
    // a directory where a file is expected, and a dangling driver link
    std::fs::create_dir_all(dev.join("manufacturer")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("../../nowhere/usbfs", dev.join("1-9:1.0/driver")).unwrap();
    std::fs::create_dir_all(root.join("sys/bus/usb/devices/1-:9")).unwrap();
    std::fs::create_dir_all(root.join("proc/net")).unwrap();
    std::fs::create_dir_all(root.join("proc/12/fd")).unwrap();
    std::fs::write(
        root.join("proc/net/tcp"),
        b"garbage\n\xff\xff 0: zz:zz 0A\n   1: 0100007F:FFFF 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 77 1 0000000000000000 100 0 0 10 0\n",
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("socket:[77]", root.join("proc/12/fd/3")).unwrap();
    std::fs::write(root.join("proc/12/stat"), b"12 (x").unwrap();
    std::fs::write(root.join("proc/12/comm"), b"openocd\n").unwrap();
    std::fs::create_dir_all(root.join("etc/udev/rules.d")).unwrap();
    std::fs::write(
        root.join("etc/udev/rules.d/10-x.rules"),
        b"ATTRS{idVendor}==\"[\", MODE=\"\\\n\xff",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), b"::::\nbad\n").unwrap();
    std::fs::write(root.join("etc/os-release"), b"\xff=\xff\n").unwrap();
    let s = collect(&CollectOptions {
        root: root.to_path_buf(),
        path_var: Some("relative:/nonexistent".into()),
        extra_ports: vec![0, 65535],
        ..CollectOptions::default()
    });
    assert_eq!(s.usb.devices.len(), 1);
    assert_eq!(s.usb.devices[0].serial_hex.as_deref(), Some("8081"));
    assert_eq!(s.processes.len(), 1);
    assert_eq!(s.listeners.len(), 1);
    #[cfg(unix)]
    assert_eq!(s.listeners[0].process.as_ref().map(|p| p.pid), Some(12));
    let _ = render_text(&s);
    let _ = problems(&s);
    let back = ocdoctor_env::EnvSnapshot::from_json(&s.to_json()).unwrap();
    assert_eq!(back, s);
}

#[test]
fn smoke_real_machine() {
    let t = std::time::Instant::now();
    let opts = CollectOptions::for_this_machine();
    let s = collect(&opts);
    assert_eq!(s.schema, "ocdoctor.env/v1");
    let text = render_text(&s);
    assert!(!text.is_empty());
    let _ = problems(&s);
    let back = ocdoctor_env::EnvSnapshot::from_json(&s.to_json()).unwrap();
    assert_eq!(back, s);
    eprintln!("{text}\n(collected in {:?})", t.elapsed());
}
