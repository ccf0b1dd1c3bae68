//! ocdoctor-env: the machine side of an OpenOCD diagnosis.
//!
//! The only crate of ocdoctor that reads `/sys`, `/proc`, `/dev` and udev rules. Every path is read
//! under [`CollectOptions::root`], so tests run on fixture trees and a real machine is root `/`.
//! [`collect`] returns an [`EnvSnapshot`] (JSON schema `ocdoctor.env/v1`, see [`EnvSnapshot::to_json`] /
//! [`EnvSnapshot::from_json`]); [`problems`] turns a snapshot into stable problem ids with taxonomy causes
//! and fixes; [`render_text`] prints it for a person, problems first.
//!
//! Nothing here panics on bad input or fails the collection: what cannot be read becomes an entry in
//! `notes` or `errors` of the snapshot.

mod access;
mod fsutil;
mod host;
mod installs;
mod model;
pub mod probedb;
mod problems;
mod procs;
mod render;
pub mod udev;
mod usb;

pub use access::{Identity, NodeMeta};
pub use installs::parse_version;
pub use model::*;
pub use problems::{PROBLEM_IDS, describe, problems, serial_for_openocd};
pub use render::render_text;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to collect and how.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Root the machine's files are read under: "/" for the real machine, a fixture directory in tests.
    pub root: PathBuf,
    /// PATH to search for `openocd` (the library never reads the process environment). None: skip the
    /// PATH search.
    pub path_var: Option<OsString>,
    /// Home directory (machine path) for bundled installs (~/.platformio, ~/.espressif, xPack…).
    pub home: Option<PathBuf>,
    /// Ports to check besides 3333 (gdb), 4444 (telnet) and 6666 (tcl).
    pub extra_ports: Vec<u16>,
    /// Run `openocd --version` for each install found. Off in fixture tests so nothing is executed.
    pub run_binaries: bool,
    /// Timeout for each `--version` run.
    pub binary_timeout: Duration,
    /// Evaluate permissions for this identity instead of the collecting process (fixtures, "what would
    /// user X see"). Setting it switches the access check from access(2) to mode bits.
    pub identity: Option<Identity>,
    /// Owner/group/mode of device nodes keyed by machine path (`/dev/bus/usb/001/007`), used instead of
    /// stat(2). Fixture trees need it because git stores no ownership.
    pub node_meta: BTreeMap<String, NodeMeta>,
    /// Value of WSL_DISTRO_NAME, if the caller saw one (the library does not read the environment).
    pub wsl_distro_name: Option<String>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            root: PathBuf::from("/"),
            path_var: None,
            home: None,
            extra_ports: Vec::new(),
            run_binaries: false,
            binary_timeout: Duration::from_secs(5),
            identity: None,
            node_meta: BTreeMap::new(),
            wsl_distro_name: None,
        }
    }
}

impl CollectOptions {
    /// Options for the real machine with the values a CLI would pass: PATH, HOME and WSL_DISTRO_NAME
    /// from the process environment, binaries run. (A convenience for callers; `collect` itself never
    /// reads the environment.)
    pub fn for_this_machine() -> CollectOptions {
        CollectOptions {
            path_var: std::env::var_os("PATH"),
            home: std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .map(PathBuf::from),
            wsl_distro_name: std::env::var("WSL_DISTRO_NAME").ok(),
            run_binaries: true,
            ..CollectOptions::default()
        }
    }
}

impl EnvSnapshot {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail; fall back to a minimal document anyway.
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"schema\":\"{SCHEMA}\",\"error\":\"{e}\"}}"))
    }

    /// Read a snapshot saved by `to_json` (possibly on another machine or by another version).
    /// Rejects documents whose `schema` is not `ocdoctor.env/v1`.
    pub fn from_json(text: &str) -> Result<EnvSnapshot, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        // Fields default so that trimmed or older snapshots load, but the schema must be
        // written out: `{}` or some other JSON document is not a snapshot of any machine.
        if value
            .get("schema")
            .and_then(serde_json::Value::as_str)
            .is_none()
        {
            return Err(format!(
                "not an ocdoctor environment snapshot: no \"schema\" field (expected {SCHEMA:?}; make one with `ocdoctor env --save FILE`)"
            ));
        }
        let snap: EnvSnapshot = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if snap.schema != SCHEMA {
            return Err(format!(
                "not an ocdoctor environment snapshot: schema is {:?}, expected {SCHEMA:?}",
                snap.schema
            ));
        }
        Ok(snap)
    }

    /// Devices that matched the probe database.
    pub fn probes(&self) -> impl Iterator<Item = &UsbDevice> {
        self.usb.devices.iter().filter(|d| d.probe.is_some())
    }
}

/// Options for a fixture machine: `<dir>/root` is the tree, `<dir>/case.toml` holds what git
/// cannot store (the user's identity, `/dev` node ownership). Used by this crate's tests and by
/// the CLI's tests that join a log with a fixture machine.
pub fn fixture_options(dir: &Path) -> Result<CollectOptions, String> {
    let case = dir.join("case.toml");
    let text = std::fs::read_to_string(&case).map_err(|e| format!("{}: {e}", case.display()))?;
    let v: toml::Value = toml::from_str(&text).map_err(|e| format!("{}: {e}", case.display()))?;
    let int = |v: &toml::Value, k: &str| -> Result<u32, String> {
        v.get(k)
            .and_then(toml::Value::as_integer)
            .map(|i| i as u32)
            .ok_or_else(|| format!("{}: {k} missing", case.display()))
    };
    let id = v
        .get("identity")
        .ok_or_else(|| format!("{}: [identity] missing", case.display()))?;
    let groups = id
        .get("groups")
        .and_then(toml::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let identity = Identity {
        uid: int(id, "uid")?,
        gid: int(id, "gid")?,
        groups: groups
            .iter()
            .filter_map(|g| g.as_integer().map(|i| i as u32))
            .collect(),
        name: None,
    };
    let mut node_meta = BTreeMap::new();
    for n in v
        .get("node")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = n
            .get("path")
            .and_then(toml::Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mode = n.get("mode").and_then(toml::Value::as_str).unwrap_or("0");
        let mode = u32::from_str_radix(mode, 8)
            .map_err(|e| format!("{}: mode {mode:?}: {e}", case.display()))?;
        node_meta.insert(
            path,
            NodeMeta {
                uid: int(n, "uid")?,
                gid: int(n, "gid")?,
                mode,
            },
        );
    }
    Ok(CollectOptions {
        root: dir.join("root"),
        identity: Some(identity),
        node_meta,
        ..CollectOptions::default()
    })
}

/// Collect the snapshot. Never panics: a bug in a collector is caught and reported in `errors`.
pub fn collect(opts: &CollectOptions) -> EnvSnapshot {
    let mut snap = EnvSnapshot {
        root: opts.root.to_string_lossy().into_owned(),
        ..EnvSnapshot::default()
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut s = snap.clone();
        collect_into(opts, &mut s);
        s
    }));
    match result {
        Ok(s) => s,
        Err(_) => {
            snap.errors.push(EnvError {
                what: "collector".into(),
                message:
                    "internal error while collecting (a bug in ocdoctor-env); partial snapshot"
                        .into(),
            });
            snap
        }
    }
}

fn collect_into(opts: &CollectOptions, snap: &mut EnvSnapshot) {
    let root = opts.root.as_path();
    let real = root == std::path::Path::new("/");
    // Linux facts come from files; on a fixture root they are read on any OS, on the real machine only
    // on Linux (macOS and Windows have no /sys, /proc, udev).
    let linux_facts = !real || cfg!(target_os = "linux");
    let acc = access::Accounts::load(root);

    // Who we are, and how permissions are decided (see access.rs).
    let process_id = access::process_identity();
    let (ident, mode, source) = match (&opts.identity, real) {
        (Some(id), _) => (Some(id.clone()), "override", "override"),
        (None, true) => (process_id.clone(), "kernel", "process"),
        (None, false) => (process_id.clone(), "computed", "process"),
    };
    let access_mode = match (mode, &ident) {
        ("kernel", Some(_)) if cfg!(unix) => access::AccessMode::Kernel,
        (_, Some(id)) => access::AccessMode::Computed(id),
        _ => access::AccessMode::Unknown,
    };
    snap.user = access::user_info(ident.as_ref(), source, &acc);

    if !linux_facts {
        snap.notes.push(format!(
            "USB devices, udev rules, device permissions and processes are checked on Linux only; on {} \
             this snapshot has the OpenOCD installs and a port bind test",
            std::env::consts::OS
        ));
    }

    // fd tables: socket owners for the ports, device-node holders for USB.
    let fds = if linux_facts {
        procs::scan_fds(root)
    } else {
        procs::FdScan::default()
    };
    if linux_facts && fds.fd_dirs_unreadable > 0 {
        snap.notes.push(format!(
            "{} of {} processes' fd tables were unreadable (other users' processes; run as root to see \
             who holds a port or a probe)",
            fds.fd_dirs_unreadable, fds.pids_seen
        ));
    }

    // USB
    if linux_facts {
        collect_usb(root, opts, snap, &acc, &access_mode, &fds);
    }

    // Ports and processes
    let mut ports: Vec<(u16, String)> = procs::DEFAULT_PORTS
        .iter()
        .map(|(p, r)| (*p, r.to_string()))
        .collect();
    for p in &opts.extra_ports {
        if !ports.iter().any(|(q, _)| q == p) {
            ports.push((*p, "extra".into()));
        }
    }
    let proc_net = fsutil::under(root, "/proc/net/tcp");
    if linux_facts && proc_net.exists() {
        snap.listeners = procs::listeners(root, &ports, &fds, &mut snap.errors);
    } else if real {
        // No /proc (macOS, Windows, odd containers): the portable check is to try binding the port.
        for (port, role) in &ports {
            if let Err(e) = std::net::TcpListener::bind(("127.0.0.1", *port))
                && e.kind() == std::io::ErrorKind::AddrInUse
            {
                snap.listeners.push(Listener {
                    proto: "bind-test".into(),
                    address: "127.0.0.1".into(),
                    port: *port,
                    role: role.clone(),
                    ..Listener::default()
                });
            }
        }
    }
    if linux_facts {
        snap.processes = procs::processes(root);
    }

    // OpenOCD installs
    if opts.path_var.is_some() || opts.home.is_some() {
        snap.openocd_search_done = opts.path_var.is_some();
        snap.openocd_installs =
            installs::find(root, opts.path_var.as_deref(), opts.home.as_deref());
        if opts.run_binaries {
            for inst in &mut snap.openocd_installs {
                installs::probe_version(root, inst, opts.binary_timeout);
            }
        } else if !snap.openocd_installs.is_empty() {
            snap.notes
                .push("OpenOCD binaries were not run (run_binaries off): versions unknown".into());
        }
    }

    // Host
    if linux_facts {
        snap.host = host::collect(root, opts.wsl_distro_name.as_deref());
    }
}

fn collect_usb(
    root: &std::path::Path,
    opts: &CollectOptions,
    snap: &mut EnvSnapshot,
    acc: &access::Accounts,
    access_mode: &access::AccessMode<'_>,
    fds: &procs::FdScan,
) {
    let Some(mut devices) = usb::scan(root) else {
        snap.usb.bus_visible = false;
        snap.notes.push(
            "no USB bus visible (/sys/bus/usb/devices does not exist): a container, WSL without usbipd, \
             or a VM without USB passthrough"
                .into(),
        );
        return;
    };
    snap.usb.bus_visible = true;
    let rules = udev::RuleSet::load(root, &mut snap.errors);
    snap.usb.udev_rule_files = rules.files.clone();
    for g in ["plugdev", "dialout", "uucp"] {
        if acc.gid_of(g).is_some() {
            snap.usb.groups_present.push(g.to_string());
        }
    }
    for dev in &mut devices {
        let mut strings: Vec<&str> = Vec::new();
        if let Some(p) = dev.product.as_deref() {
            strings.push(p);
        }
        if let Some(m) = dev.manufacturer.as_deref() {
            strings.push(m);
        }
        for i in &dev.interfaces {
            if let Some(s) = i.interface_string.as_deref() {
                strings.push(s);
            }
        }
        dev.probe = probedb::lookup(&dev.vendor_id, &dev.product_id, &strings);
        if let (Some(b), Some(d)) = (dev.busnum, dev.devnum) {
            let node = access::device_node(root, b, d, &opts.node_meta, access_mode, acc);
            if let Some(pids) = fds.files.get(&node.path) {
                dev.holders = pids
                    .iter()
                    .map(|pid| ProcRef {
                        pid: *pid,
                        name: fds.names.get(pid).cloned(),
                    })
                    .collect();
            }
            dev.node = Some(node);
        }
        dev.udev = rules.coverage(&udev::DevAttrs {
            vid: &dev.vendor_id,
            pid: &dev.product_id,
            product: dev.product.as_deref(),
            manufacturer: dev.manufacturer.as_deref(),
            serial: dev.serial.as_deref(),
            interface_strings: dev
                .interfaces
                .iter()
                .filter_map(|i| i.interface_string.as_deref())
                .collect(),
        });
    }
    snap.usb.devices = devices;
}
