//! A JTAG lab for OpenOCD: a `remote_bitbang` server on 127.0.0.1 that plays
//! a simulated STM32 (F4 or F1) with an injected fault, so that the *real*
//! `openocd` binary meets faulty hardware and prints its real messages.
//!
//! # The remote_bitbang protocol
//!
//! OpenOCD's `remote_bitbang` adapter driver connects over TCP and sends one
//! ASCII byte per request; only one request has a reply:
//!
//! * `'0'..='7'` drive the pins: the digit is `tck << 2 | tms << 1 | tdi`.
//! * `'R'` asks for TDO; the server answers `'0'` or `'1'`.
//! * `'r'..='u'` drive the reset lines: the offset from `'r'` is
//!   `trst << 1 | srst` (1 = asserted).
//! * `'B'`/`'b'` switch an LED, `'Q'` ends the session.
//!
//! OpenOCD streams many requests before it reads the answers, so the server
//! reads in large chunks and writes all replies of a chunk at once. In 0.12
//! the driver speaks JTAG only, which is why the lab models a JTAG chain with
//! an ADIv5 JTAG-DP rather than SWD.
//!
//! # Layers
//!
//! * [`tap`]: the TAP state machine; `chain`: TAPs in series and wire faults.
//! * `dap`: JTAG-DP (DPACC/APACC/ABORT/IDCODE) and an AHB MEM-AP.
//! * `target`: Cortex-M debug registers and an STM32-like memory map.
//! * [`faults`]: the fault catalogue (data).
//! * [`Lab`]: the TCP server; [`run_openocd`] runs OpenOCD against it.
//! * [`BuspirateLab`] (`buspirate`): the same board behind a simulated Bus Pirate on a
//!   pseudo-terminal, for OpenOCD's `buspirate` driver, over JTAG or SWD (the SW-DP view of
//!   the same DP); [`run_openocd_with`] runs OpenOCD with its interface config.
//!
//! ```no_run
//! use ocdoctor_lab::{Chip, FaultId, Lab, LabConfig, run_openocd, session_args};
//! use std::{path::Path, time::Duration};
//!
//! let config = LabConfig::new(Chip::Stm32f4).with_fault(FaultId::TdoStuckHigh);
//! let lab = Lab::start(config.clone(), None)?;
//! let out = run_openocd(
//!     Path::new("openocd"),
//!     lab.port(),
//!     &session_args(&config),
//!     Duration::from_secs(20),
//! )?;
//! assert!(out.log.contains("all ones"));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

#[cfg(unix)]
mod buspirate;
mod chain;
mod dap;
pub mod faults;
mod openocd;
mod rng;
mod server;
mod server_thread;
pub mod tap;
mod target;
mod vdebug;

#[cfg(unix)]
pub use buspirate::{BuspirateLab, buspirate_interface_cfg};
pub use faults::{FaultId, FaultInfo, UnknownFault, catalogue};
pub use openocd::{
    RunOutput, SessionRun, interface_cfg, run_openocd, run_openocd_with, session_args,
    session_plan, target_cfg,
};
pub use server::{Lab, LabAdapter};
pub use vdebug::{
    VDEBUG_BFM_PERIOD_NS, VDEBUG_OPENOCD_DEFAULT, vdebug_interface_cfg, vdebug_openocd,
    vdebug_openocd_for_test,
};

use chain::{Chain, Tap, Tdo};
use dap::{ApWait, DpFaults, JtagDp, MemAp};
use target::{Board, CoreFaults};

/// The simulated part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Chip {
    /// STM32F407-like: Cortex-M4 r0p1, JTAG-DP 0x4ba00477, 1 MiB flash.
    Stm32f4,
    /// STM32F103-like: Cortex-M3 r1p1, JTAG-DP 0x3ba00477, 64 KiB flash.
    Stm32f1,
}

impl Chip {
    pub const ALL: [Chip; 2] = [Chip::Stm32f4, Chip::Stm32f1];

    /// The short name used on command lines: `stm32f4`, `stm32f1`.
    pub fn name(self) -> &'static str {
        match self {
            Chip::Stm32f4 => "stm32f4",
            Chip::Stm32f1 => "stm32f1",
        }
    }

    fn other(self) -> Chip {
        match self {
            Chip::Stm32f4 => Chip::Stm32f1,
            Chip::Stm32f1 => Chip::Stm32f4,
        }
    }
}

impl fmt::Display for Chip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Chip {
    type Err = String;

    fn from_str(s: &str) -> Result<Chip, String> {
        match s {
            "stm32f4" | "stm32f4x" => Ok(Chip::Stm32f4),
            "stm32f1" | "stm32f1x" => Ok(Chip::Stm32f1),
            _ => Err(format!("unknown chip `{s}` (stm32f4, stm32f1)")),
        }
    }
}

/// What to simulate. `Default` is a healthy STM32F4.
#[derive(Clone, Debug, PartialEq)]
pub struct LabConfig {
    pub chip: Chip,
    pub fault: Option<FaultId>,
    /// Seed of the bit-flip generator.
    pub seed: u64,
    /// `bit-flips`: probability that a TDO sample is inverted.
    pub flip_rate: f64,
    /// `ap-wait-n`: WAIT answers before each AP access goes through.
    pub wait_count: u32,
    /// `drop-mid-session`: bytes received before the connection is closed.
    pub drop_after: u64,
    /// `memory-fault-range`: addresses that answer with a bus error.
    pub fault_range: RangeInclusive<u32>,
    /// `slow-clock-only`: the fastest TCK (kHz) at which TDO still arrives in time.
    pub slow_clock_max_khz: u32,
}

impl Default for LabConfig {
    fn default() -> LabConfig {
        LabConfig::new(Chip::Stm32f4)
    }
}

impl LabConfig {
    /// A healthy chip with the default fault parameters.
    pub fn new(chip: Chip) -> LabConfig {
        LabConfig {
            chip,
            fault: None,
            seed: 1,
            flip_rate: 0.01,
            wait_count: 3,
            // Past the scan-chain check, inside the DAP set-up of `init`.
            drop_after: 20_000,
            // The first 4 KiB of SRAM: where both target configs put the
            // work area that OpenOCD loads its flash algorithm into.
            fault_range: 0x2000_0000..=0x2000_0fff,
            // Between the ladder's two speed steps: 1000 kHz still fails, 100 kHz works.
            slow_clock_max_khz: 500,
        }
    }

    pub fn with_fault(mut self, fault: FaultId) -> LabConfig {
        self.fault = Some(fault);
        self
    }

    pub fn with_seed(mut self, seed: u64) -> LabConfig {
        self.seed = seed;
        self
    }

    fn has(&self, fault: FaultId) -> bool {
        self.fault == Some(fault)
    }

    /// Build the simulated hardware.
    fn build_chain(&self) -> Chain {
        use FaultId::*;
        // With `wrong-chip` the board carries the other part; the config the
        // user runs (see `session_args`) still names `self.chip`.
        let hw = if self.has(WrongChip) {
            self.chip.other()
        } else {
            self.chip
        };
        let profile = hw.profile();
        let core_faults = CoreFaults {
            never_halts: self.has(CoreNeverHalts),
            debug_disabled: self.has(DebugDisabled),
            bus_fault: self.has(MemoryFaultRange).then(|| self.fault_range.clone()),
            rdp_locked: self.has(RdpLocked),
            pins_off_when_running: self.has(DebugOnlyUnderReset),
        };
        let dp_faults = DpFaults {
            no_powerup_ack: self.has(DpNoPowerupAck),
            ap_wait: match self.fault {
                Some(ApWaitN) => ApWait::Times(self.wait_count),
                Some(ApWaitForever) => ApWait::Forever,
                _ => ApWait::Never,
            },
        };
        let (dp_idcode, cpuid) = if self.has(CloneIdcode) && hw == Chip::Stm32f1 {
            // A Cortex-M3 r2p1 in an STM32F103 package: the JTAG-DP of that
            // core revision (the SW-DP would say 0x2ba01477).
            (0x4ba0_0477, 0x412f_c231)
        } else {
            (profile.dp_idcode, profile.cpuid)
        };
        let board = Board::new(profile, core_faults).with_cpuid(cpuid);
        let ap = MemAp::new(profile.ahb_ap_idr, board);
        let dp = JtagDp::new(dp_faults, Some(ap));
        let irlen = if self.has(WrongIrlen) { 5 } else { 4 };
        let ir_capture = if self.has(BadIrCapture) {
            0b0000
        } else {
            0b0001
        };
        let mut taps = vec![Tap::jtag_dp(irlen, dp_idcode, ir_capture, dp)];
        if !self.has(MissingTap) {
            taps.push(Tap::new(5, Some(profile.bs_idcode), 0b00001));
        }
        if self.has(ExtraTap) {
            // A Xilinx XC2C64A CoolRunner-II CPLD in front of the MCU.
            taps.insert(0, Tap::new(8, Some(0x06e5_e093), 0b0000_0001));
        }
        let tdo = match self.fault {
            Some(TdoStuckHigh) => Tdo::Stuck(true),
            Some(TdoStuckLow) => Tdo::Stuck(false),
            Some(BitFlips) => Tdo::Noisy(self.flip_rate),
            _ => Tdo::Normal,
        };
        Chain::new(taps, tdo, self.seed)
            .with_jtag_disabled(self.has(JtagDisabled))
            .with_late_tdo_above(self.has(SlowClockOnly).then_some(self.slow_clock_max_khz))
    }

    /// The DPIDR the board's debug port reads over SWD.
    #[cfg_attr(not(unix), allow(dead_code))]
    fn sw_dpidr(&self) -> u32 {
        let hw = if self.has(FaultId::WrongChip) {
            self.chip.other()
        } else {
            self.chip
        };
        if self.has(FaultId::CloneIdcode) && hw == Chip::Stm32f1 {
            0x2ba0_1477 // the SW-DP of the clone's Cortex-M3 r2p1
        } else {
            hw.profile().sw_dpidr
        }
    }
}
