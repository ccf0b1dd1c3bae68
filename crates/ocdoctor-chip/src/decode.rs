//! Bit-level decoders for the numbers OpenOCD prints. Every decoder keeps
//! all bits so that `encode(decode(x)) == x`: a report that silently drops a
//! bit would hide exactly the corruption a user needs to see.

use crate::jep106;

/// A JTAG IDCODE (IEEE 1149.1): version 31..28, part 27..12,
/// JEP106 manufacturer 11..1 (bank 11..8, id 7..1), bit 0 always 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct JtagIdcode {
    pub version: u8,
    pub part: u16,
    /// JEP106 continuation count (0..=15).
    pub bank: u8,
    /// JEP106 id without parity (0..=127).
    pub id: u8,
    /// Must be 1 in a real IDCODE; 0 means a BYPASS bit or garbage was read.
    pub lsb: bool,
}

impl JtagIdcode {
    pub fn decode(raw: u32) -> JtagIdcode {
        JtagIdcode {
            version: (raw >> 28) as u8,
            part: ((raw >> 12) & 0xffff) as u16,
            bank: ((raw >> 8) & 0xf) as u8,
            id: ((raw >> 1) & 0x7f) as u8,
            lsb: raw & 1 == 1,
        }
    }

    pub fn encode(&self) -> u32 {
        (u32::from(self.version & 0xf) << 28)
            | (u32::from(self.part) << 12)
            | (u32::from(self.bank & 0xf) << 8)
            | (u32::from(self.id & 0x7f) << 1)
            | u32::from(self.lsb)
    }

    /// The value OpenOCD prints as `mfg: 0x…` (`bank<<7 | id`).
    pub fn mfg_code(&self) -> u16 {
        (u16::from(self.bank) << 7) | u16::from(self.id)
    }

    pub fn maker(&self) -> jep106::Maker {
        jep106::maker(self.bank, self.id)
    }

    /// The manufacturer name exactly as OpenOCD 0.12 prints it.
    pub fn manufacturer(&self) -> &'static str {
        jep106::openocd_name(self.bank, self.id)
    }

    /// OpenOCD's own validity test (`jtag_idcode_is_valid` style): bit 0 set
    /// and a manufacturer that is not the all-ones/all-zeros pattern.
    pub fn is_plausible(&self) -> bool {
        self.lsb && !matches!(self.maker(), jep106::Maker::Invalid)
    }
}

/// An ADIv5/ADIv6 DPIDR (SW-DP) — the JTAG-DP IDCODE has the same layout for
/// ARM parts: revision 31..28, part 27..20, MIN 16, version 15..12,
/// designer 11..1 (JEP106), bit 0 RAO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dpidr {
    pub revision: u8,
    pub partno: u8,
    /// Bits 19..17 are reserved; kept for the round trip.
    pub reserved: u8,
    /// Minimal DP (no pushed compare / transaction counter): Cortex-M0/M0+.
    pub min: bool,
    /// DP architecture version: 0 = DPv0 (JTAG-DP), 1 = DPv1, 2 = DPv2, 3 = DPv3.
    pub version: u8,
    pub designer_bank: u8,
    pub designer_id: u8,
    pub lsb: bool,
}

impl Dpidr {
    pub fn decode(raw: u32) -> Dpidr {
        Dpidr {
            revision: (raw >> 28) as u8,
            partno: ((raw >> 20) & 0xff) as u8,
            reserved: ((raw >> 17) & 0x7) as u8,
            min: (raw >> 16) & 1 == 1,
            version: ((raw >> 12) & 0xf) as u8,
            designer_bank: ((raw >> 8) & 0xf) as u8,
            designer_id: ((raw >> 1) & 0x7f) as u8,
            lsb: raw & 1 == 1,
        }
    }

    pub fn encode(&self) -> u32 {
        (u32::from(self.revision & 0xf) << 28)
            | (u32::from(self.partno) << 20)
            | (u32::from(self.reserved & 0x7) << 17)
            | (u32::from(self.min) << 16)
            | (u32::from(self.version & 0xf) << 12)
            | (u32::from(self.designer_bank & 0xf) << 8)
            | (u32::from(self.designer_id & 0x7f) << 1)
            | u32::from(self.lsb)
    }

    pub fn designer(&self) -> &'static str {
        jep106::openocd_name(self.designer_bank, self.designer_id)
    }

    pub fn designer_code(&self) -> u16 {
        (u16::from(self.designer_bank) << 7) | u16::from(self.designer_id)
    }
}

/// Cortex-M CPUID (0xE000ED00): implementer 31..24, variant 23..20,
/// architecture 19..16, part 15..4, revision 3..0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cpuid {
    pub implementer: u8,
    pub variant: u8,
    pub architecture: u8,
    pub partno: u16,
    pub revision: u8,
}

impl Cpuid {
    pub fn decode(raw: u32) -> Cpuid {
        Cpuid {
            implementer: (raw >> 24) as u8,
            variant: ((raw >> 20) & 0xf) as u8,
            architecture: ((raw >> 16) & 0xf) as u8,
            partno: ((raw >> 4) & 0xfff) as u16,
            revision: (raw & 0xf) as u8,
        }
    }

    pub fn encode(&self) -> u32 {
        (u32::from(self.implementer) << 24)
            | (u32::from(self.variant & 0xf) << 20)
            | (u32::from(self.architecture & 0xf) << 16)
            | (u32::from(self.partno & 0xfff) << 4)
            | u32::from(self.revision & 0xf)
    }

    /// The core name OpenOCD uses in `… processor detected`, if known.
    pub fn core_name(&self) -> Option<&'static str> {
        core_name(self.implementer, self.partno)
    }

    /// `r2p1` style revision, as OpenOCD prints it.
    pub fn rev_string(&self) -> String {
        format!("r{}p{}", self.variant, self.revision)
    }

    pub fn implementer_name(&self) -> &'static str {
        match self.implementer {
            0x41 => "ARM",
            0x63 => "Arm China",
            _ => "unknown implementer",
        }
    }

    pub fn core(&self) -> Option<CoreInfo> {
        self.core_name().map(|name| CoreInfo {
            name: name.to_owned(),
            variant: self.variant,
            revision: self.revision,
        })
    }
}

/// Core names by (implementer, part number). The ARM ones are OpenOCD 0.12's
/// `cortex_m_parts` table; M52/M85 are ARM's later parts (master knows them).
const CORES: &[(u8, u16, &str)] = &[
    (0x41, 0xc20, "Cortex-M0"),
    (0x41, 0xc60, "Cortex-M0+"),
    (0x41, 0xc21, "Cortex-M1"),
    (0x41, 0xc23, "Cortex-M3"),
    (0x41, 0xc24, "Cortex-M4"),
    (0x41, 0xc27, "Cortex-M7"),
    (0x41, 0xd20, "Cortex-M23"),
    (0x41, 0xd21, "Cortex-M33"),
    (0x41, 0xd31, "Cortex-M35P"),
    (0x41, 0xd22, "Cortex-M55"),
    (0x41, 0xd23, "Cortex-M85"),
    (0x41, 0xd24, "Cortex-M52"),
    (0x63, 0x132, "STAR-MC1"),
];

pub fn core_name(implementer: u8, partno: u16) -> Option<&'static str> {
    CORES
        .iter()
        .find(|(i, p, _)| *i == implementer && *p == partno)
        .map(|(_, _, n)| *n)
}

/// A core as OpenOCD reports it: `Cortex-M4 r0p1 processor detected`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CoreInfo {
    pub name: String,
    pub variant: u8,
    pub revision: u8,
}

impl CoreInfo {
    /// Parse `Cortex-M3 r2p1` out of any line containing `processor detected`.
    pub fn from_log_line(line: &str) -> Option<CoreInfo> {
        let idx = line.find(" processor detected")?;
        let head = &line[..idx];
        let mut words = head.rsplit(' ');
        let rev = words.next()?;
        let name = words.next()?.trim_start_matches(']');
        let rest = rev.strip_prefix('r')?;
        let (v, r) = rest.split_once('p')?;
        Some(CoreInfo {
            name: name.to_owned(),
            variant: v.parse().ok()?,
            revision: r.parse().ok()?,
        })
    }

    pub fn rev_string(&self) -> String {
        format!("r{}p{}", self.variant, self.revision)
    }

    /// The core family without revision, normalised (`M3`, `M0+`, `M33`).
    pub fn short(&self) -> &str {
        self.name.strip_prefix("Cortex-").unwrap_or(&self.name)
    }
}

impl std::fmt::Display for CoreInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.rev_string())
    }
}

/// Well-known ARM debug-port ids (JTAG-DP IDCODEs and SW-DP DPIDRs). They
/// identify the debug port and core generation, never the chip vendor.
/// Sources: ARM ADIv5 / CoreSight DAP TRMs, RM0008 §31.6.3/§31.8.5 (STM32F1),
/// RM0090 §38.6.3 (STM32F4), idcodes_shared.tsv (which cfgs declare them).
pub const KNOWN_DEBUG_PORTS: &[(u32, &str)] = &[
    (0x0ba00477, "ARM CoreSight JTAG-DP r0"),
    (0x1ba00477, "ARM CoreSight JTAG-DP r1"),
    (
        0x3ba00477,
        "ARM Cortex-M3 r1 JTAG-DP (STM32F1, EM357, OMAP4)",
    ),
    (
        0x4ba00477,
        "ARM CoreSight JTAG-DP (Cortex-M3 r2+/M4/M7/A-class)",
    ),
    (
        0x5ba00477,
        "ARM CoreSight JTAG-DP (STM32F7, Cortex-A53 SoCs)",
    ),
    (0x6ba00477, "ARM CoreSight JTAG-DP (STM32H7/MP1/WB/WL)"),
    (0x0ba04477, "ARM CoreSight SoC-600 JTAG-DP (STM32L5/U5)"),
    (0x1ba01477, "ARM Cortex-M3 r1 SW-DP (genuine STM32F1)"),
    (0x2ba01477, "ARM Cortex-M3/M4 SW-DP"),
    (0x5ba02477, "ARM SW-DP v2 (STM32F7)"),
    (
        0x6ba02477,
        "ARM SW-DP v2 (Cortex-M7/M33: STM32H7/MP1/WB/WL, nRF53/nRF91)",
    ),
    (0x0bb11477, "ARM Cortex-M0 SW-DP (MINDP)"),
    (0x0bc11477, "ARM Cortex-M0+ SW-DP (MINDP)"),
    (0x0bc12477, "ARM Cortex-M0+ SW-DPv2 multidrop (RP2040)"),
    (0x0be11477, "ARM Cortex-M23/M33 SW-DP"),
    (
        0x0be12477,
        "ARM CoreSight SW-DPv2 (Cortex-M33: STM32L5/U5, nRF5340)",
    ),
    (0x0bf11477, "ARM Cortex-M23 SW-DP (GD32E23x)"),
    (0x4c013477, "ARM CoreSight SoC-600 SW-DPv3 (RP2350)"),
];

/// ARM Ltd's JEP106 code (bank 4, id 0x3b) as OpenOCD prints it: `mfg: 0x23b (ARM Ltd)`.
pub const ARM_DESIGNER: u16 = 0x23b;

/// An id whose designer (manufacturer) field is ARM's own: the JTAG-DP IDCODE or the SW-DP
/// DPIDR of ARM's debug-port IP (0x?ba00477, 0x?ba01477, 0x?ba02477, 0x?bb11477, 0x?bc11477,
/// 0x?ba04477…), which every licensee's chip carries unchanged. Such an id names the debug port
/// and its generation, never the chip or its vendor: every id with designer 0x23b that the 0.12
/// scripts declare is one of these, and each is declared by many vendors' cfgs (0x4ba00477 by 57
/// files, 0x2ba01477 by 28). A vendor's own TAP (a boundary-scan TAP, a DBGMCU id) carries the
/// vendor's code instead.
pub fn is_arm_debug_port(raw: u32) -> bool {
    let j = JtagIdcode::decode(raw);
    j.lsb && j.mfg_code() == ARM_DESIGNER
}

/// What an ARM debug-port id is, for a sentence: the table's name when it is a well-known one,
/// else the decoded part.
pub fn arm_debug_port_name(raw: u32) -> Option<String> {
    if !is_arm_debug_port(raw) {
        return None;
    }
    Some(match known_debug_port(raw) {
        Some(name) => name.to_string(),
        None => format!(
            "an ARM debug port, part 0x{:04x} version {}",
            JtagIdcode::decode(raw).part,
            raw >> 28
        ),
    })
}

pub fn known_debug_port(raw: u32) -> Option<&'static str> {
    KNOWN_DEBUG_PORTS
        .iter()
        .find(|(v, _)| *v == raw)
        .map(|(_, d)| *d)
}

/// Raspberry Pi multidrop TARGETIDs (what rp2040.cfg / rp2350.cfg declare as
/// the tap id): TREVISION 31..28, TPARTNO 27..12, TDESIGNER 11..1.
pub const RP_TARGET_IDS: &[(u32, &str)] = &[
    (
        0x01002927,
        "RP2040 (SWD multidrop TARGETID, rev 0, designer Raspberry Pi)",
    ),
    (
        0x00040927,
        "RP2350 (SWD multidrop TARGETID, designer Raspberry Pi)",
    ),
    (0xf1002927, "RP2040 rescue DP (TARGETID instance 0xf)"),
];

/// nRF51/nRF52/nRF53 FICR INFO.PART values (the part number in hex BCD).
pub fn nrf_part(part: u32) -> Option<&'static str> {
    Some(match part {
        0x51822 => "nRF51822",
        0x51422 => "nRF51422",
        0x51824 => "nRF51824",
        0x52805 => "nRF52805",
        0x52810 => "nRF52810",
        0x52811 => "nRF52811",
        0x52820 => "nRF52820",
        0x52832 => "nRF52832",
        0x52833 => "nRF52833",
        0x52840 => "nRF52840",
        0x5340 => "nRF5340",
        0x9160 => "nRF9160",
        _ => return None,
    })
}
