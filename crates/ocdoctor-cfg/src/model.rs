//! The session model: what the evaluated configuration sets up. Every item keeps the
//! [`Location`] of the command that set it (file, byte span, line, column).

use crate::problem::Location;
use serde::Serialize;

/// A value set by a command, e.g. `adapter speed 4000`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// The command as written (`adapter speed`, `adapter_khz`, `hla_serial`…).
    pub command: String,
    /// The value(s), space separated; `?` for a value the shallow evaluator could not know.
    pub value: String,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TapKind {
    /// `jtag newtap`, or `swj_newdap` on a JTAG transport.
    Jtag,
    /// `swd newdap`, or `swj_newdap` on SWD.
    Swd,
    /// `hla newtap` (legacy), or `swj_newdap` on an HLA transport.
    Hla,
    /// `swj_newdap` when the transport was not known.
    Unknown,
}

/// A TAP (or SWD DAP) declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tap {
    pub chip: String,
    pub tap: String,
    pub kind: TapKind,
    pub irlen: Option<String>,
    pub expected_ids: Vec<String>,
    pub location: Location,
}

impl Tap {
    /// `chip.tap`, the name `-chain-position` refers to.
    pub fn dotted(&self) -> String {
        format!("{}.{}", self.chip, self.tap)
    }
}

/// `dap create NAME -chain-position TAP`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dap {
    pub name: String,
    pub chain_position: Option<String>,
    pub location: Location,
}

/// `target create NAME TYPE …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub name: String,
    pub kind: String,
    pub dap: Option<String>,
    pub chain_position: Option<String>,
    pub gdb_port: Option<String>,
    pub location: Location,
}

/// An `-event NAME BODY` handler (from `target create` or `TARGET configure`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub target: Option<String>,
    pub name: String,
    /// The body's content (inside the braces).
    pub body: Location,
    pub location: Location,
}

/// `flash bank NAME DRIVER BASE SIZE CHIP_WIDTH BUS_WIDTH TARGET …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlashBank {
    pub name: String,
    pub driver: String,
    pub base: String,
    pub size: String,
    pub target: String,
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Gdb,
    Telnet,
    Tcl,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Gdb => "gdb",
            Service::Telnet => "telnet",
            Service::Tcl => "tcl",
        }
    }
    /// OpenOCD's default port.
    pub fn default_port(self) -> u16 {
        match self {
            Service::Gdb => 3333,
            Service::Telnet => 4444,
            Service::Tcl => 6666,
        }
    }
}

/// `gdb_port N|disabled|pipe`, `telnet_port`, `tcl_port`, master's `gdb port`….
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    pub service: Service,
    pub value: String,
    pub location: Location,
}

/// A `proc` definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcDef {
    pub name: String,
    pub location: Location,
}

/// Everything the configuration set up, in the order it happened.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Model {
    /// `adapter driver X` / legacy `interface X`; more than one is a problem.
    pub adapter_drivers: Vec<Setting>,
    /// `transport select X`.
    pub transports: Vec<Setting>,
    /// The transport in effect at the end (selected, or auto-selected as OpenOCD does).
    pub session_transport: Option<String>,
    /// `adapter speed`, `adapter_khz`, `jtag_khz`.
    pub speeds: Vec<Setting>,
    /// `adapter serial`, `hla_serial`, `cmsis_dap_serial`, `ftdi_serial`, `jlink serial`….
    pub serials: Vec<Setting>,
    /// `adapter usb vid_pid`, `cmsis_dap_vid_pid`, `ftdi vid_pid`, `ftdi_vid_pid`, `hla_vid_pid`….
    pub vid_pids: Vec<Setting>,
    /// `hla_layout` / `hla layout`.
    pub hla_layouts: Vec<Setting>,
    pub taps: Vec<Tap>,
    pub daps: Vec<Dap>,
    pub targets: Vec<Target>,
    pub events: Vec<Event>,
    pub flash_banks: Vec<FlashBank>,
    /// `reset_config …` (each call changes only the groups it names).
    pub reset_configs: Vec<Setting>,
    pub ports: Vec<Port>,
    pub procs: Vec<ProcDef>,
}

impl Model {
    /// The adapter driver OpenOCD uses (the first one; later ones are ignored by OpenOCD).
    pub fn adapter_driver(&self) -> Option<&str> {
        self.adapter_drivers.first().map(|s| s.value.as_str())
    }
    /// The last explicit setting of a port service.
    pub fn port(&self, service: Service) -> Option<&Port> {
        self.ports.iter().rev().find(|p| p.service == service)
    }
}
