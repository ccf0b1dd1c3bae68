//! The simulated chip behind the MEM-AP: a Cortex-M debug block (DHCSR,
//! DCRSR/DCRDR, DEMCR, DFSR, AIRCR, CPUID, FPB/DWT id registers) on a sparse
//! STM32-like memory map with just enough of the flash interface for
//! OpenOCD's `flash probe` (device id, flash size, lock and option bits).
//!
//! Everything the debugger can reach goes through [`Board::read32`] and
//! [`Board::write32`]; an address outside the map is a bus error, which the
//! DP turns into a sticky error exactly as real hardware does.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use crate::Chip;

/// A failed bus access (the AHB answered with an error response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BusFault;

/// Fixed facts about a simulated part.
#[derive(Debug)]
pub(crate) struct Profile {
    pub dp_idcode: u32,
    /// The DPIDR the same debug port reads over SWD (its SW-DP).
    pub sw_dpidr: u32,
    pub bs_idcode: u32,
    pub cpuid: u32,
    pub ahb_ap_idr: u32,
    pub dbgmcu_idcode: u32,
    pub flash_kib: u32,
    /// Where the flash-size word lives; the size (KiB) is its low halfword
    /// at `flash_size_addr` (F1) or its high halfword (F4, at +2).
    pub flash_size_word: u32,
    pub flash_size_high_half: bool,
    pub sram: RangeInclusive<u32>,
    pub system_memory: RangeInclusive<u32>,
    pub has_fpu: bool,
    pub flash_if: FlashIf,
}

/// The two flash-controller register layouts the lab knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlashIf {
    /// STM32F2/F4: FLASH at 0x4002_3C00, RDP in OPTCR[15:8], LOCK is CR bit 31.
    F4,
    /// STM32F1: FLASH at 0x4002_2000, RDPRT in OBR bit 1, LOCK is CR bit 7.
    F1,
}

const STM32F4: Profile = Profile {
    dp_idcode: 0x4ba0_0477,
    sw_dpidr: 0x2ba0_1477,
    bs_idcode: 0x0641_3041,
    cpuid: 0x410f_c241, // Cortex-M4 r0p1
    ahb_ap_idr: 0x2477_0011,
    dbgmcu_idcode: 0x1007_6413, // STM32F405/407, rev Z
    flash_kib: 1024,
    flash_size_word: 0x1fff_7a20,
    flash_size_high_half: true,
    sram: 0x2000_0000..=0x2001_ffff,
    system_memory: 0x1fff_0000..=0x1fff_7a2f,
    has_fpu: true,
    flash_if: FlashIf::F4,
};

const STM32F1: Profile = Profile {
    dp_idcode: 0x3ba0_0477, // RM0008 "JTAG debug port": Cortex-M3 r1p1 JTAG-DP
    sw_dpidr: 0x1ba0_1477,  // RM0008 "SW debug port": what target/stm32f1x.cfg expects on SWD
    bs_idcode: 0x1641_0041, // medium-density boundary scan TAP, rev 1
    cpuid: 0x411f_c231,     // Cortex-M3 r1p1
    ahb_ap_idr: 0x1477_0011,
    dbgmcu_idcode: 0x2003_6410, // medium density, rev X
    flash_kib: 64,
    flash_size_word: 0x1fff_f7e0,
    flash_size_high_half: false,
    sram: 0x2000_0000..=0x2000_4fff,
    system_memory: 0x1fff_f000..=0x1fff_f80f,
    has_fpu: false,
    flash_if: FlashIf::F1,
};

impl Chip {
    pub(crate) fn profile(self) -> &'static Profile {
        match self {
            Chip::Stm32f4 => &STM32F4,
            Chip::Stm32f1 => &STM32F1,
        }
    }
}

const FLASH_BASE: u32 = 0x0800_0000;
const PPB: RangeInclusive<u32> = 0xe000_0000..=0xe00f_ffff;
const PERIPHERALS: RangeInclusive<u32> = 0x4000_0000..=0x5fff_ffff;

// Cortex-M debug registers.
const CPUID: u32 = 0xe000_ed00;
const AIRCR: u32 = 0xe000_ed0c;
const DFSR: u32 = 0xe000_ed30;
const DHCSR: u32 = 0xe000_edf0;
const DCRSR: u32 = 0xe000_edf4;
const DCRDR: u32 = 0xe000_edf8;
const DEMCR: u32 = 0xe000_edfc;
const MVFR0: u32 = 0xe000_ef40;
const MVFR1: u32 = 0xe000_ef44;
const FP_CTRL: u32 = 0xe000_2000;
const DWT_CTRL: u32 = 0xe000_1000;
const DBGMCU_IDCODE: u32 = 0xe004_2000;

const DBGKEY: u32 = 0xa05f;
const C_DEBUGEN: u32 = 1 << 0;
const C_HALT: u32 = 1 << 1;
const C_STEP: u32 = 1 << 2;
const S_REGRDY: u32 = 1 << 16;
const S_HALT: u32 = 1 << 17;
const S_RETIRE_ST: u32 = 1 << 24;
const S_RESET_ST: u32 = 1 << 25;
const DFSR_HALTED: u32 = 1 << 0;
const DFSR_VCATCH: u32 = 1 << 3;
const VC_CORERESET: u32 = 1 << 0;

/// Stack pointer and entry point of the "firmware" in flash: a `b .` loop.
const RESET_SP: u32 = 0x2000_1000;
const RESET_PC: u32 = 0x0800_0189;

/// What is wrong with the chip, as far as the core and memory are concerned.
#[derive(Clone, Debug, Default)]
pub(crate) struct CoreFaults {
    /// C_HALT and vector catch never take effect (the core keeps running).
    pub never_halts: bool,
    /// DHCSR writes are ignored: C_DEBUGEN can never be set.
    pub debug_disabled: bool,
    /// Accesses in this range raise a bus error.
    pub bus_fault: Option<RangeInclusive<u32>>,
    /// STM32 read-out protection level 1: flash and system memory are not
    /// readable by the debugger and the option bytes say so.
    pub rdp_locked: bool,
    /// The firmware turns the JTAG pins into GPIOs as soon as it runs; only
    /// while SRST holds the chip in reset (or the core was caught at the
    /// reset vector) does the TAP answer.
    pub pins_off_when_running: bool,
}

/// The chip: core state plus memory.
#[derive(Debug)]
pub(crate) struct Board {
    profile: &'static Profile,
    cpuid: u32,
    faults: CoreFaults,
    mem: HashMap<u32, u32>,
    regs: [u32; 0x60],
    dhcsr_ctrl: u32,
    halted: bool,
    reset_seen: bool,
    dcrdr: u32,
    demcr: u32,
    dfsr: u32,
    fp_ctrl_enable: bool,
    in_srst: bool,
    /// The firmware has run since the last reset (relevant only with
    /// `pins_off_when_running`).
    firmware_ran: bool,
    flash_locked: bool,
    flash_key_step: u8,
}

impl Board {
    pub(crate) fn new(profile: &'static Profile, faults: CoreFaults) -> Board {
        let mut mem = HashMap::new();
        // Vector table: initial SP, reset vector, and every other exception
        // pointing at the same idle loop.
        mem.insert(FLASH_BASE, RESET_SP);
        for a in (FLASH_BASE + 4..FLASH_BASE + 0x188).step_by(4) {
            mem.insert(a, RESET_PC);
        }
        mem.insert(RESET_PC & !1, 0xe7fe_e7fe); // b . ; b .
        let mut board = Board {
            profile,
            cpuid: profile.cpuid,
            faults,
            mem,
            regs: [0; 0x60],
            dhcsr_ctrl: 0,
            halted: false,
            reset_seen: true,
            dcrdr: 0,
            demcr: 0,
            dfsr: 0,
            fp_ctrl_enable: false,
            in_srst: false,
            firmware_ran: false,
            flash_locked: true,
            flash_key_step: 0,
        };
        board.core_reset();
        board
    }

    /// The same part with another core revision (a clone, say).
    pub(crate) fn with_cpuid(mut self, cpuid: u32) -> Board {
        self.cpuid = cpuid;
        self
    }

    /// Whether the JTAG pins are connected to the TAP right now.
    pub(crate) fn jtag_pins_enabled(&self) -> bool {
        !self.faults.pins_off_when_running || self.in_srst || !self.firmware_ran
    }

    /// The nSRST line from the adapter. Releasing it resets the core.
    pub(crate) fn set_srst(&mut self, asserted: bool) {
        if asserted {
            self.in_srst = true;
            self.reset_seen = true;
            // Reset puts the pins back into their JTAG function.
            self.firmware_ran = false;
        } else if self.in_srst {
            self.in_srst = false;
            self.core_reset();
        }
    }

    #[cfg(test)]
    pub(crate) fn is_halted(&self) -> bool {
        self.halted
    }

    /// A system or core reset: registers from the vector table; the debug
    /// registers (DHCSR control bits, DEMCR) survive, as on real parts.
    fn core_reset(&mut self) {
        self.reset_seen = true;
        self.regs = [0; 0x60];
        self.regs[13] = self.mem.get(&FLASH_BASE).copied().unwrap_or(0);
        self.regs[15] = self.mem.get(&(FLASH_BASE + 4)).copied().unwrap_or(0) & !1;
        self.regs[16] = 0x0100_0000; // xPSR: Thumb bit
        self.regs[17] = self.regs[13]; // MSP
        self.flash_locked = true;
        self.flash_key_step = 0;
        let catch = self.demcr & VC_CORERESET != 0
            && self.dhcsr_ctrl & C_DEBUGEN != 0
            && !self.faults.never_halts;
        if catch {
            self.halted = true;
            self.dfsr |= DFSR_VCATCH;
        } else {
            self.halted = false;
            self.firmware_ran = true;
        }
    }

    fn accessible(&self, addr: u32) -> Result<(), BusFault> {
        if self
            .faults
            .bus_fault
            .as_ref()
            .is_some_and(|r| r.contains(&addr))
        {
            return Err(BusFault);
        }
        let p = self.profile;
        let flash_len = p.flash_kib * 1024;
        let in_flash = (FLASH_BASE..FLASH_BASE + flash_len).contains(&addr) || addr < flash_len;
        // RDP level 1 closes main flash to a debugger; the system memory
        // (bootloader, device signature, flash-size word) stays readable,
        // which is why `flash probe` still works on a locked part.
        if self.faults.rdp_locked && in_flash {
            return Err(BusFault);
        }
        let option_bytes = match p.flash_if {
            FlashIf::F4 => (0x1fff_c000..=0x1fff_c00f).contains(&addr),
            FlashIf::F1 => false, // inside system_memory on the F1
        };
        let f4_ccm = p.flash_if == FlashIf::F4 && (0x1000_0000..=0x1000_ffff).contains(&addr);
        if in_flash
            || option_bytes
            || f4_ccm
            || p.system_memory.contains(&addr)
            || p.sram.contains(&addr)
            || PERIPHERALS.contains(&addr)
            || PPB.contains(&addr)
        {
            Ok(())
        } else {
            Err(BusFault)
        }
    }

    /// Read the aligned word containing `addr`.
    pub(crate) fn read32(&mut self, addr: u32) -> Result<u32, BusFault> {
        let addr = addr & !3;
        self.accessible(addr)?;
        let p = self.profile;
        // Flash is aliased at 0 (boot from main flash).
        let addr = if addr < p.flash_kib * 1024 {
            addr + FLASH_BASE
        } else {
            addr
        };
        Ok(match addr {
            DHCSR => self.dhcsr_read(),
            DCRDR => self.dcrdr,
            DEMCR => self.demcr,
            DFSR => self.dfsr,
            AIRCR => 0xfa05_0000,
            CPUID => self.cpuid,
            MVFR0 if p.has_fpu => 0x1011_0021,
            MVFR1 if p.has_fpu => 0x1100_0011,
            MVFR0 | MVFR1 => 0,
            // 6 code and 2 literal comparators.
            FP_CTRL => 0x260 | u32::from(self.fp_ctrl_enable),
            DWT_CTRL => 0x4000_0000, // 4 comparators
            DBGMCU_IDCODE => p.dbgmcu_idcode,
            a if a == p.flash_size_word => {
                if p.flash_size_high_half {
                    p.flash_kib << 16
                } else {
                    0xffff_0000 | p.flash_kib
                }
            }
            a => self
                .flash_register_read(a)
                .unwrap_or_else(|| self.mem.get(&a).copied().unwrap_or(0)),
        })
    }

    /// Write the byte lanes selected by `mask` of the aligned word at `addr`.
    pub(crate) fn write32(&mut self, addr: u32, value: u32, mask: u32) -> Result<(), BusFault> {
        let addr = addr & !3;
        self.accessible(addr)?;
        let p = self.profile;
        let flash_len = p.flash_kib * 1024;
        match addr {
            DHCSR => self.dhcsr_write(value),
            DCRSR => {
                let sel = (value & 0x7f) as usize;
                if value & (1 << 16) != 0 {
                    if let Some(r) = self.regs.get_mut(sel) {
                        *r = self.dcrdr;
                    }
                } else {
                    self.dcrdr = self.regs.get(sel).copied().unwrap_or(0);
                }
            }
            DCRDR => self.dcrdr = value,
            DEMCR => self.demcr = value,
            DFSR => self.dfsr &= !value, // write one to clear
            AIRCR => {
                // VECTKEY plus SYSRESETREQ (bit 2) or VECTRESET (bit 0).
                if value >> 16 == 0x05fa && value & 0b101 != 0 {
                    self.core_reset();
                }
            }
            FP_CTRL => {
                // ENABLE only changes when KEY (bit 1) is written as one.
                if value & 2 != 0 {
                    self.fp_ctrl_enable = value & 1 != 0;
                }
            }
            CPUID | MVFR0 | MVFR1 | DWT_CTRL | DBGMCU_IDCODE => {}
            a if a == p.flash_size_word => {}
            a if a < flash_len || (FLASH_BASE..FLASH_BASE + flash_len).contains(&a) => {
                // Flash is not writable through the bus without programming;
                // the lab has no programming model, so writes are dropped.
            }
            a if p.system_memory.contains(&a) => {}
            a => {
                if !self.flash_register_write(a, value) {
                    let old = self.mem.get(&a).copied().unwrap_or(0);
                    self.mem.insert(a, (old & !mask) | (value & mask));
                }
            }
        }
        Ok(())
    }

    fn dhcsr_read(&mut self) -> u32 {
        let mut v = self.dhcsr_ctrl | S_REGRDY;
        if self.halted {
            v |= S_HALT;
        } else if !self.in_srst {
            v |= S_RETIRE_ST; // a running core retires instructions
        }
        if self.reset_seen || self.in_srst {
            v |= S_RESET_ST;
        }
        self.reset_seen = false; // sticky until read
        v
    }

    fn dhcsr_write(&mut self, value: u32) {
        if value >> 16 != DBGKEY || self.faults.debug_disabled {
            return;
        }
        self.dhcsr_ctrl = value & 0x2f;
        if self.dhcsr_ctrl & C_DEBUGEN == 0 {
            self.resume();
            return;
        }
        if self.faults.never_halts {
            return;
        }
        if self.dhcsr_ctrl & (C_HALT | C_STEP) != 0 {
            if !self.halted {
                self.dfsr |= DFSR_HALTED;
            }
            // A single step of `b .` ends where it started, halted again.
            self.halted = true;
        } else {
            self.resume();
        }
    }

    fn resume(&mut self) {
        if self.halted {
            self.halted = false;
            self.firmware_ran = true;
        }
    }

    fn flash_if_base(&self) -> u32 {
        match self.profile.flash_if {
            FlashIf::F4 => 0x4002_3c00,
            FlashIf::F1 => 0x4002_2000,
        }
    }

    fn flash_register_read(&self, addr: u32) -> Option<u32> {
        let off = addr.checked_sub(self.flash_if_base())?;
        let locked = u32::from(self.flash_locked);
        match (self.profile.flash_if, off) {
            (_, 0x0c) => Some(0), // SR: never busy, no errors
            (FlashIf::F4, 0x10) => Some(locked << 31),
            (FlashIf::F4, 0x14) => Some(if self.faults.rdp_locked {
                0x0fff_55ed
            } else {
                0x0fff_aaed
            }),
            (FlashIf::F1, 0x10) => Some(locked << 7),
            // OBR: RDPRT is bit 1; user option bytes erased.
            (FlashIf::F1, 0x1c) => Some(0x03ff_fffc | (u32::from(self.faults.rdp_locked) << 1)),
            (FlashIf::F1, 0x20) => Some(0xffff_ffff), // WRPR: nothing write-protected
            _ => None,
        }
    }

    /// Returns true when the write hit a flash-interface register.
    fn flash_register_write(&mut self, addr: u32, value: u32) -> bool {
        let Some(off) = addr.checked_sub(self.flash_if_base()) else {
            return false;
        };
        match off {
            0x04 => {
                // KEYR: KEY1 then KEY2 unlocks CR; anything else locks until reset.
                self.flash_key_step = match (self.flash_key_step, value) {
                    (0, 0x4567_0123) => 1,
                    (1, 0xcdef_89ab) => {
                        self.flash_locked = false;
                        0
                    }
                    _ => 0,
                };
                true
            }
            0x10 => {
                let lock_bit = match self.profile.flash_if {
                    FlashIf::F4 => 1 << 31,
                    FlashIf::F1 => 1 << 7,
                };
                if value & lock_bit != 0 {
                    self.flash_locked = true;
                }
                true
            }
            0x0c => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f4() -> Board {
        Board::new(Chip::Stm32f4.profile(), CoreFaults::default())
    }

    fn dhcsr(b: &mut Board, ctrl: u32) {
        b.write32(DHCSR, DBGKEY << 16 | ctrl, !0).unwrap();
    }

    #[test]
    fn halt_and_resume() {
        let mut b = f4();
        let first = b.read32(DHCSR).unwrap();
        assert_ne!(first & S_RESET_ST, 0, "power-on reset is reported once");
        assert_eq!(b.read32(DHCSR).unwrap() & S_RESET_ST, 0);
        dhcsr(&mut b, C_DEBUGEN | C_HALT);
        let v = b.read32(DHCSR).unwrap();
        assert_ne!(v & S_HALT, 0);
        assert_ne!(b.read32(DFSR).unwrap() & DFSR_HALTED, 0);
        dhcsr(&mut b, C_DEBUGEN);
        assert_eq!(b.read32(DHCSR).unwrap() & S_HALT, 0);
        // Without the key nothing happens.
        b.write32(DHCSR, C_DEBUGEN | C_HALT, !0).unwrap();
        assert_eq!(b.read32(DHCSR).unwrap() & S_HALT, 0);
    }

    #[test]
    fn core_registers_through_dcrsr() {
        let mut b = f4();
        dhcsr(&mut b, C_DEBUGEN | C_HALT);
        b.write32(DCRSR, 15, !0).unwrap();
        assert_eq!(b.read32(DCRDR).unwrap(), RESET_PC & !1);
        b.write32(DCRDR, 0x1234_5678, !0).unwrap();
        b.write32(DCRSR, 1 << 16 | 3, !0).unwrap();
        b.write32(DCRSR, 3, !0).unwrap();
        assert_eq!(b.read32(DCRDR).unwrap(), 0x1234_5678);
    }

    #[test]
    fn reset_with_vector_catch_halts() {
        let mut b = f4();
        dhcsr(&mut b, C_DEBUGEN);
        b.write32(DEMCR, VC_CORERESET, !0).unwrap();
        b.write32(AIRCR, 0x05fa_0004, !0).unwrap();
        assert!(b.is_halted());
        assert_ne!(b.read32(DFSR).unwrap() & DFSR_VCATCH, 0);
        // Without the catch the core runs after reset.
        b.write32(DEMCR, 0, !0).unwrap();
        b.set_srst(true);
        b.set_srst(false);
        assert!(!b.is_halted());
    }

    #[test]
    fn faults() {
        let mut b = Board::new(
            Chip::Stm32f4.profile(),
            CoreFaults {
                never_halts: true,
                ..CoreFaults::default()
            },
        );
        dhcsr(&mut b, C_DEBUGEN | C_HALT);
        assert_eq!(b.read32(DHCSR).unwrap() & S_HALT, 0);

        let mut b = Board::new(
            Chip::Stm32f4.profile(),
            CoreFaults {
                rdp_locked: true,
                ..CoreFaults::default()
            },
        );
        assert_eq!(b.read32(0x0800_0000), Err(BusFault));
        assert_eq!(b.read32(0x4002_3c14).unwrap() >> 8 & 0xff, 0x55);
        assert_eq!(b.read32(0xe004_2000).unwrap(), 0x1007_6413);
        assert!(b.read32(0x3000_0000).is_err(), "unmapped");
    }

    #[test]
    fn memory_and_ids() {
        let mut b = f4();
        assert_eq!(b.read32(0x0800_0000).unwrap(), RESET_SP);
        assert_eq!(b.read32(0x0000_0004).unwrap(), RESET_PC, "flash alias at 0");
        b.write32(0x2000_0000, 0xaabb_ccdd, !0).unwrap();
        b.write32(0x2000_0000, 0x0000_1100, 0x0000_ff00).unwrap();
        assert_eq!(b.read32(0x2000_0000).unwrap(), 0xaabb_11dd);
        assert_eq!(b.read32(0x1fff_7a20).unwrap() >> 16, 1024);
        let mut f1 = Board::new(Chip::Stm32f1.profile(), CoreFaults::default());
        assert_eq!(f1.read32(CPUID).unwrap(), 0x411f_c231);
        assert_eq!(f1.read32(0x1fff_f7e0).unwrap() & 0xffff, 64);
        assert!(f1.read32(0x2000_5000).is_err(), "20 KiB of SRAM");
    }

    #[test]
    fn pins_follow_reset_when_firmware_disables_debug() {
        let mut b = Board::new(
            Chip::Stm32f1.profile(),
            CoreFaults {
                pins_off_when_running: true,
                ..CoreFaults::default()
            },
        );
        assert!(!b.jtag_pins_enabled(), "firmware already running");
        b.set_srst(true);
        assert!(b.jtag_pins_enabled());
        dhcsr(&mut b, C_DEBUGEN);
        b.write32(DEMCR, VC_CORERESET, !0).unwrap();
        b.set_srst(false);
        assert!(b.is_halted());
        assert!(b.jtag_pins_enabled(), "caught at the reset vector");
        dhcsr(&mut b, C_DEBUGEN);
        b.write32(DEMCR, 0, !0).unwrap();
        b.write32(AIRCR, 0x05fa_0004, !0).unwrap();
        assert!(!b.jtag_pins_enabled());
    }
}
