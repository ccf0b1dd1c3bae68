//! The snapshot: plain serde data, schema `ocdoctor.env/v1`.
//!
//! Field names are a contract (a snapshot saved on one machine is diagnosed on another, possibly by a
//! newer ocdoctor): additive changes only. Every field that a collector may be unable to fill is an
//! `Option` or an empty list, and `#[serde(default)]` everywhere lets an older or trimmed JSON load.

use serde::{Deserialize, Serialize};

/// The value of the `schema` field.
pub const SCHEMA: &str = "ocdoctor.env/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvSnapshot {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Version of the ocdoctor-env crate that collected it.
    pub collector_version: String,
    /// `linux`, `macos`, `windows`… (`std::env::consts::OS` of the collecting build). Missing in
    /// a document means unknown (empty), not the OS of whoever reads it.
    #[serde(default)]
    pub os: String,
    /// The root directory the facts were read under ("/" on a real machine, a fixture dir in tests).
    pub root: String,
    pub host: HostInfo,
    pub user: UserInfo,
    pub usb: UsbInfo,
    /// Sockets in LISTEN state on the ports of interest (3333, 4444, 6666 and the extra ones asked for).
    pub listeners: Vec<Listener>,
    /// Running processes that matter for debugging (openocd, J-Link servers, ModemManager…).
    pub processes: Vec<ProcessInfo>,
    pub openocd_installs: Vec<OpenOcdInstall>,
    /// Whether the OpenOCD install search ran (a PATH was given), so "none found" means something.
    pub openocd_search_done: bool,
    /// Things a reader should know (checks skipped, limits of what could be seen).
    pub notes: Vec<String>,
    /// Things that could not be read. Never fatal.
    pub errors: Vec<EnvError>,
}

impl Default for EnvSnapshot {
    fn default() -> Self {
        EnvSnapshot {
            schema: SCHEMA.to_string(),
            collector_version: env!("CARGO_PKG_VERSION").to_string(),
            os: std::env::consts::OS.to_string(),
            root: "/".to_string(),
            host: HostInfo::default(),
            user: UserInfo::default(),
            usb: UsbInfo::default(),
            listeners: Vec::new(),
            processes: Vec::new(),
            openocd_installs: Vec::new(),
            openocd_search_done: false,
            notes: Vec::new(),
            errors: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvError {
    /// What was being read (a path, usually shown without the root prefix).
    pub what: String,
    pub message: String,
}

// ------------------------------------------------------------------------------------------- host

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostInfo {
    /// `/etc/os-release` ID (e.g. `debian`, `ubuntu`, `fedora`).
    pub distro_id: Option<String>,
    /// `/etc/os-release` PRETTY_NAME.
    pub distro_name: Option<String>,
    pub distro_version: Option<String>,
    /// First line of `/proc/version`.
    pub kernel: Option<String>,
    /// Set when running under WSL.
    pub wsl: Option<WslInfo>,
    /// Hypervisor guessed from DMI (`QEMU`, `VMware`, `VirtualBox`, `Hyper-V`…).
    pub vm: Option<String>,
    pub dmi_sys_vendor: Option<String>,
    pub dmi_product_name: Option<String>,
    /// `docker`, `podman`, `kubernetes`, `lxc` when the collector thinks it runs in a container.
    pub container: Option<String>,
    /// `/proc/device-tree/model`, e.g. `Raspberry Pi 4 Model B Rev 1.4`.
    pub board_model: Option<String>,
    /// Seconds since boot (`/proc/uptime`), to tell how long a process has been running.
    pub uptime_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WslInfo {
    /// 1 or 2 when it can be told from the kernel string.
    pub version: Option<u8>,
    pub distro: Option<String>,
}

// ------------------------------------------------------------------------------------------- user

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserInfo {
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub name: Option<String>,
    pub groups: Vec<GroupRef>,
    /// `process` (ids of the collecting process) or `override` (given in CollectOptions).
    pub source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupRef {
    pub gid: u32,
    pub name: Option<String>,
}

// -------------------------------------------------------------------------------------------- usb

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UsbInfo {
    /// `/sys/bus/usb/devices` exists (false in most containers, WSL without usbipd, macOS, Windows).
    pub bus_visible: bool,
    /// Every USB device except root hubs, in sysfs name order.
    pub devices: Vec<UsbDevice>,
    /// Rule files found in the udev folders (after /etc > /run > /usr/lib, /lib shadowing by name).
    pub udev_rule_files: Vec<String>,
    /// Group names that exist in `/etc/group` and matter for probes (plugdev, dialout, uucp).
    pub groups_present: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UsbDevice {
    /// sysfs name, e.g. `1-2` or `3-3.4.4`.
    pub sysfs_name: String,
    pub busnum: Option<u32>,
    pub devnum: Option<u32>,
    /// Port path from the root hub (`devpath`), e.g. `2` or `1.2`.
    pub port_path: Option<String>,
    /// 4 lower-case hex digits as sysfs prints them.
    pub vendor_id: String,
    pub product_id: String,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    /// Serial as text (lossy for non-UTF-8 bytes).
    pub serial: Option<String>,
    /// Hex of the raw serial bytes when they are not valid UTF-8 (old ST-LINK/V2 and clones).
    pub serial_hex: Option<String>,
    /// `1.5`, `12`, `480`, `5000`… Mbit/s.
    pub speed: Option<String>,
    pub device_class: Option<String>,
    pub interfaces: Vec<UsbInterface>,
    pub node: Option<DeviceNode>,
    /// The probe database entry it matched, if any.
    pub probe: Option<ProbeMatch>,
    pub udev: UdevCoverage,
    /// Processes that have the device node open (from /proc/*/fd; others' processes need root).
    pub holders: Vec<ProcRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UsbInterface {
    /// sysfs name, e.g. `1-2:1.0`.
    pub name: String,
    pub number: Option<u8>,
    pub class: Option<String>,
    pub subclass: Option<String>,
    pub protocol: Option<String>,
    /// The iInterface string, e.g. `Black Magic GDB Server`, `CMSIS-DAP v2 Interface`.
    pub interface_string: Option<String>,
    /// Bound kernel driver (`usbfs` = claimed by a libusb program, `ftdi_sio`, `cdc_acm`, `usbhid`…).
    pub driver: Option<String>,
    /// tty / hidraw children created by the driver (`ttyACM0`, `ttyUSB1`, `hidraw3`).
    pub children: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceNode {
    /// `/dev/bus/usb/BBB/DDD` (as on the machine, without the collection root).
    pub path: String,
    pub exists: bool,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Permission bits, e.g. 0o664 (serialised as a number; see `mode_octal`).
    pub mode: Option<u32>,
    /// `0664`.
    pub mode_octal: Option<String>,
    /// Whether this user may open it read-write (what libusb needs). None = unknown.
    pub accessible: Option<bool>,
    /// `access(2)` (the kernel's answer, ACLs included) or `mode-bits` (computed from owner/group/mode:
    /// used on fixture roots and with an identity override; ACLs from `uaccess` are not visible then).
    pub access_method: String,
    /// Where uid/gid/mode came from: `stat` or `override`.
    pub meta_source: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeMatch {
    /// Probe database id, e.g. `stlink-v2-1`.
    pub id: String,
    pub family: String,
    pub model: String,
    /// false: OpenOCD cannot drive it (Black Magic Probe).
    pub openocd: bool,
    pub driver: String,
    pub interface_cfg: String,
    /// OpenOCD release that first ships `interface_cfg` when newer than 0.12.0.
    pub cfg_since: String,
    pub candidates: Vec<String>,
    /// First OpenOCD release that knows the VID:PID ("" = not verified, "master" = after 0.12.0).
    pub since: String,
    pub fork: String,
    pub jtag_interfaces: Vec<u8>,
    pub note: String,
    /// How it matched: `vid:pid`, `vid:pid+string`, `vendor`, `string`.
    pub matched_by: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UdevCoverage {
    /// Rules that match this device and assign MODE, GROUP, OWNER or TAG+="uaccess", in udev order.
    pub rules: Vec<UdevRuleHit>,
    /// Rules that were meant for this device but can never match (`0x` prefix, upper-case hex).
    pub near_misses: Vec<UdevNearMiss>,
    /// What udev would make of the node (the last MODE/GROUP assigned; udev's default is 0664 root).
    pub predicted_mode: Option<String>,
    pub predicted_group: Option<String>,
    pub uaccess: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UdevRuleHit {
    /// Path as on the machine, e.g. `/lib/udev/rules.d/60-openocd.rules`.
    pub file: String,
    /// 1-based line number (first line of a continued rule).
    pub line: usize,
    pub text: String,
    pub mode: Option<String>,
    pub group: Option<String>,
    pub owner: Option<String>,
    pub uaccess: bool,
    /// The rule matches on the vendor only (no product condition).
    pub vendor_wide: bool,
    /// TAG+="uaccess" set by a file that sorts after 73-seat-late.rules: the ACL is never applied.
    pub uaccess_too_late: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UdevNearMiss {
    pub file: String,
    pub line: usize,
    pub text: String,
    pub reason: String,
}

// ------------------------------------------------------------------------------- ports / processes

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcRef {
    pub pid: u32,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Listener {
    /// `tcp` or `tcp6`; `bind-test` when only a bind attempt showed the port busy.
    pub proto: String,
    pub address: String,
    pub port: u16,
    pub inode: Option<u64>,
    /// Owning process, when its /proc/<pid>/fd was readable.
    pub process: Option<ProcRef>,
    /// Standard OpenOCD role of the port: `gdb`, `telnet`, `tcl` or `extra`.
    pub role: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessInfo {
    pub pid: u32,
    /// `/proc/<pid>/comm` (kernel truncates to 15 characters).
    pub comm: String,
    /// argv joined with spaces (lossy).
    pub cmdline: String,
    /// What it is: `openocd`, `jlink-gdb-server`, `st-util`, `pyocd`, `probe-rs`, `stlink-server`,
    /// `modemmanager`, `brltty`.
    pub kind: String,
    /// Start time in seconds after boot (from /proc/<pid>/stat, assuming USER_HZ = 100).
    pub started_after_boot_secs: Option<u64>,
}

// ------------------------------------------------------------------------------------------ installs

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenOcdInstall {
    /// Path of the binary as on the machine.
    pub path: String,
    /// Where it was found: `PATH`, `platformio`, `espressif`, `xpack`, `stm32cubeide`, `usr-local`, `opt`.
    pub found_in: String,
    /// First line of `--version` (only when binaries may be run).
    pub version_line: Option<String>,
    pub version: Option<OpenOcdVersion>,
    /// Scripts folder next to the binary, if one exists.
    pub scripts_dir: Option<String>,
    /// Why the version is missing (not run, timeout, spawn error).
    pub version_error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenOcdVersion {
    /// `0.12.0`.
    pub release: String,
    /// `+dev`: newer than `release`.
    pub dev: bool,
    /// `upstream`, `xpack`, `espressif`, `st`, `git` (an upstream-looking git build of unknown origin).
    pub flavor: String,
    pub commits: Option<u32>,
    pub git_hash: Option<String>,
    pub dirty: bool,
    pub build_date: Option<String>,
    pub esp_date: Option<String>,
    pub url: Option<String>,
}

// ------------------------------------------------------------------------------------------ problems

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable kebab-case id of the problem kind (see the crate README).
    pub id: String,
    /// The taxonomy cause it is evidence for.
    pub cause: String,
    pub severity: Severity,
    /// What it is about: `usb:1-2`, `port:3333`, `process:4242`, `host`.
    pub subject: String,
    pub message: String,
    pub fixes: Vec<Fix>,
    /// Join keys for other engineers' rules: vid, pid, serial, port, pid_holder…
    pub facts: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub title: String,
    pub commands: Vec<String>,
}
