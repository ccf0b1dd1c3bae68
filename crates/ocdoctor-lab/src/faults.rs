//! The fault catalogue, as data: what can be injected, which root cause
//! (taxonomy id) a diagnosis should name for it, which simulated chips it
//! applies to, the OpenOCD commands that make it show, and a line real
//! OpenOCD 0.12.0 prints when it does. The integration tests run every
//! entry against `/usr/bin/openocd` and check that line.

use std::fmt;
use std::str::FromStr;

use crate::Chip;

/// Every injectable fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultId {
    TdoStuckHigh,
    TdoStuckLow,
    NoServer,
    DropMidSession,
    WrongChip,
    CloneIdcode,
    WrongIrlen,
    BadIrCapture,
    ExtraTap,
    MissingTap,
    BitFlips,
    DpNoPowerupAck,
    ApWaitN,
    ApWaitForever,
    CoreNeverHalts,
    DebugDisabled,
    MemoryFaultRange,
    RdpLocked,
    DebugOnlyUnderReset,
    JtagDisabled,
    SlowClockOnly,
}

/// One catalogue entry.
#[derive(Debug)]
pub struct FaultInfo {
    pub fault: FaultId,
    /// Kebab-case id, stable (used on command lines).
    pub id: &'static str,
    pub summary: &'static str,
    /// The root cause a diagnosis should report: an id of the project's
    /// taxonomy (`taxonomy.md`).
    pub cause: &'static str,
    pub chips: &'static [Chip],
    /// OpenOCD `-c` commands (after the target config) that make the fault
    /// visible. Some leave OpenOCD hanging on purpose: run them with a timeout.
    pub commands: &'static [&'static str],
    /// A line (or the distinctive part of one) OpenOCD 0.12.0 prints.
    pub openocd_says: &'static str,
    /// How long one OpenOCD run of this fault may take before it is stopped (faults that
    /// hang OpenOCD on purpose show everything within the first seconds).
    pub run_secs: u64,
    /// Run the session a second time with "connect under reset" added, as the user would
    /// after the first failure: the pair of runs is what tells firmware that blocks debug
    /// from a dead wire.
    pub retry_under_reset: bool,
    /// What a diagnosis of the demonstration's log alone can name, when that is not `cause`:
    /// the log of a JTAG-disabled part is the log of a dead wire; only a run on the other
    /// transport (the Bus Pirate lab) tells them apart. A clock too fast for the wiring reads
    /// like another chip; only a slower run (the vdebug lab) tells them apart.
    pub log_alone_cause: Option<&'static str>,
}

const BOTH: &[Chip] = &[Chip::Stm32f4, Chip::Stm32f1];
const F1_ONLY: &[Chip] = &[Chip::Stm32f1];

const INIT: &[&str] = &["init", "shutdown"];
const HALT: &[&str] = &["init", "halt 1000", "shutdown"];

/// What most faults share (both chips, 20 s a run, no retry under reset, the log alone names
/// the cause); every entry names its own fault, id, summary, cause, commands and line.
const USUAL: FaultInfo = FaultInfo {
    fault: FaultId::TdoStuckHigh,
    id: "",
    summary: "",
    cause: "",
    chips: BOTH,
    commands: INIT,
    openocd_says: "",
    run_secs: 20,
    retry_under_reset: false,
    log_alone_cause: None,
};

static CATALOGUE: &[FaultInfo] = &[
    FaultInfo {
        fault: FaultId::TdoStuckHigh,
        id: "tdo-stuck-high",
        summary: "TDO always reads 1 (open TDO line, target unpowered, wrong header)",
        cause: "no-target-connection",
        commands: INIT,
        openocd_says: "JTAG scan chain interrogation failed: all ones",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::TdoStuckLow,
        id: "tdo-stuck-low",
        summary: "TDO always reads 0 (TDO shorted to ground, missing pull-up, held in reset)",
        cause: "no-target-connection",
        commands: INIT,
        openocd_says: "JTAG scan chain interrogation failed: all zeroes",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::NoServer,
        id: "no-server",
        summary: "nothing listens on the adapter's port (the remote_bitbang probe is absent)",
        cause: "probe-not-found",
        commands: INIT,
        openocd_says: "Error on socket 'Failed to connect'",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::DropMidSession,
        id: "drop-mid-session",
        summary: "the adapter connection closes after a number of bytes (probe unplugged or crashed mid-session)",
        cause: "probe-not-found",
        commands: HALT,
        openocd_says: "remote_bitbang_read_sample: Assertion `!remote_bitbang_recv_buf_empty()' failed.",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::WrongChip,
        id: "wrong-chip",
        summary: "the board carries the other chip (STM32F1 hardware under an F4 config and vice versa)",
        cause: "idcode-mismatch",
        commands: INIT,
        openocd_says: "expected 1 of 1:",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::CloneIdcode,
        id: "clone-idcode",
        summary: "STM32F103 clone with a Cortex-M3 r2p1: JTAG-DP 0x4ba00477 (SW-DP 0x2ba01477) where stm32f1x.cfg expects 0x3ba00477",
        cause: "idcode-mismatch",
        chips: F1_ONLY,
        commands: INIT,
        openocd_says: "UNEXPECTED: 0x4ba00477",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::WrongIrlen,
        id: "wrong-irlen",
        summary: "the CPU TAP's instruction register is 5 bits long, not the declared 4",
        cause: "idcode-mismatch",
        commands: INIT,
        openocd_says: "IR capture error",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::BadIrCapture,
        id: "bad-ir-capture",
        summary: "the CPU TAP captures 0b0000 in Capture-IR instead of the mandatory ...01",
        cause: "no-target-connection",
        commands: INIT,
        openocd_says: "IR capture error; saw 0x",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::ExtraTap,
        id: "extra-tap",
        summary: "another device (a CPLD, irlen 8) sits in the chain nearest TDO, ahead of the declared TAPs",
        cause: "idcode-mismatch",
        commands: INIT,
        openocd_says: "UNEXPECTED: 0x06e5e093",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::MissingTap,
        id: "missing-tap",
        summary: "the boundary-scan TAP the config declares is not in the chain",
        cause: "idcode-mismatch",
        commands: INIT,
        openocd_says: "tap/device found: 0xffffffff",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::BitFlips,
        id: "bit-flips",
        summary: "each TDO sample is inverted at a given rate (seeded): noise, long wires, clock too fast",
        cause: "signal-integrity",
        commands: &["init", "halt 1000", "mdw 0x20000000 8", "shutdown"],
        openocd_says: "Unexpected idcode after end of chain",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::DpNoPowerupAck,
        id: "dp-no-powerup-ack",
        summary: "the DP never acknowledges the debug/system power-up request",
        cause: "no-target-connection",
        // At the default level OpenOCD 0.12 prints no error at all here.
        commands: &["debug_level 3", "init", "shutdown"],
        openocd_says: "DAP: poll 4 timeout",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::ApWaitN,
        id: "ap-wait-n",
        summary: "every AP access is answered WAIT a few times before it succeeds",
        cause: "signal-integrity",
        commands: &["init", "halt 1000", "mdw 0x20000000 2", "shutdown"],
        openocd_says: "DAP transaction stalled (WAIT) - slowing down and resending",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::ApWaitForever,
        id: "ap-wait-forever",
        summary: "every AP access is answered WAIT; OpenOCD retries forever (run it with a timeout)",
        // A WAIT that never ends is not noise on the wires (noise garbles ACKs and parity); it
        // is a bus that never completes the access: a clock-gated or sleeping core, i.e.
        // firmware that blocks debug.
        cause: "target-firmware-blocks-debug",
        commands: INIT,
        openocd_says: "Timeout during WAIT recovery",
        run_secs: 4,
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::CoreNeverHalts,
        id: "core-never-halts",
        summary: "the core accepts C_DEBUGEN but never halts, not even on reset vector catch",
        cause: "target-firmware-blocks-debug",
        commands: HALT,
        openocd_says: "timed out while waiting for target halted",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::DebugDisabled,
        id: "debug-disabled",
        summary: "DHCSR writes are ignored: halting debug cannot be enabled",
        cause: "target-firmware-blocks-debug",
        commands: HALT,
        openocd_says: "timed out while waiting for target halted",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::MemoryFaultRange,
        id: "memory-fault-range",
        summary: "a RAM range answers with bus errors: here the SRAM where OpenOCD loads its flash algorithm",
        cause: "flash-write-failed",
        commands: &[
            "init",
            "halt 1000",
            "flash fillw 0x08000000 0x12345678 4",
            "shutdown",
        ],
        openocd_says: "error writing to flash at address 0x08000000",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::RdpLocked,
        id: "rdp-locked",
        summary: "read-out protection level 1: flash reads fault, option bytes report RDP",
        cause: "flash-protected",
        commands: &[
            "init",
            "halt 1000",
            "flash probe 0",
            "mdw 0x08000000 4",
            "shutdown",
        ],
        openocd_says: "Failed to read memory at 0x08000000",
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::DebugOnlyUnderReset,
        id: "debug-only-under-reset",
        summary: "the firmware turns the JTAG pins into GPIOs; the TAP answers only while SRST is held (connect under reset works)",
        cause: "target-firmware-blocks-debug",
        commands: INIT,
        openocd_says: "JTAG scan chain interrogation failed: all ones",
        retry_under_reset: true,
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::JtagDisabled,
        id: "jtag-disabled",
        summary: "the part answers on SWD only (an SWD-only part, or JTAG turned off): JTAG reads all ones, SWD connects",
        cause: "transport-mismatch",
        commands: INIT,
        openocd_says: "JTAG scan chain interrogation failed: all ones",
        log_alone_cause: Some("no-target-connection"),
        ..USUAL
    },
    FaultInfo {
        fault: FaultId::SlowClockOnly,
        id: "slow-clock-only",
        summary: "TDO arrives a clock late above 500 kHz (long leads, weak driver): works only at a lower adapter speed; only the vdebug adapter carries the speed to the lab",
        cause: "signal-integrity",
        commands: INIT,
        openocd_says: "IR capture error; saw 0x03 not 0x01",
        // Every id is read one bit late: the log reads like another chip (`UNEXPECTED:
        // 0x974008ef`); only a run at a lower speed (`investigate`, over vdebug) tells them apart.
        log_alone_cause: Some("idcode-mismatch"),
        ..USUAL
    },
];

/// The whole fault catalogue.
pub fn catalogue() -> &'static [FaultInfo] {
    CATALOGUE
}

impl FaultId {
    /// This fault's catalogue entry.
    pub fn info(self) -> &'static FaultInfo {
        CATALOGUE
            .iter()
            .find(|f| f.fault == self)
            .expect("every FaultId has a catalogue entry (checked by a unit test)")
    }

    /// The kebab-case id.
    pub fn id(self) -> &'static str {
        self.info().id
    }
}

impl fmt::Display for FaultId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The id is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFault(pub String);

impl fmt::Display for UnknownFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown fault `{}`", self.0)
    }
}

impl std::error::Error for UnknownFault {}

impl FromStr for FaultId {
    type Err = UnknownFault;

    fn from_str(s: &str) -> Result<FaultId, UnknownFault> {
        CATALOGUE
            .iter()
            .find(|f| f.id == s)
            .map(|f| f.fault)
            .ok_or_else(|| UnknownFault(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_consistent() {
        // The causes are the knowledge base's taxonomy (rules/taxonomy.toml, the product contract).
        let kb = ocdoctor_core::KnowledgeBase::embedded();
        let mut ids = std::collections::HashSet::new();
        for f in catalogue() {
            assert!(ids.insert(f.id), "duplicate {}", f.id);
            assert!(kb.cause(f.cause).is_some(), "{}: cause {}", f.id, f.cause);
            assert!(
                f.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                f.id
            );
            assert!(
                !f.summary.is_empty() && !f.openocd_says.is_empty(),
                "{}",
                f.id
            );
            assert_eq!(f.fault.info().id, f.id);
            assert_eq!(f.id.parse::<FaultId>(), Ok(f.fault));
            assert!(!f.chips.is_empty() && !f.commands.is_empty());
        }
        assert_eq!(catalogue().len(), 21);
        assert!("no-such-fault".parse::<FaultId>().is_err());
    }
}
