//! A JTAG scan chain: TAPs in series between TDI and TDO, one shared TAP
//! state machine, and the wire-level faults (stuck or noisy TDO).
//!
//! `taps[0]` is the TAP nearest TDO, which is also the first TAP OpenOCD's
//! config declares. After Test-Logic-Reset every TAP selects IDCODE (or
//! BYPASS when it has none), which is how OpenOCD reads the IDCODEs of the
//! whole chain with one long DR scan.

use crate::dap::{IR_ABORT, IR_APACC, IR_DPACC, JtagDp};
use crate::rng::Rng;
use crate::tap::TapState;
use crate::target::Board;

/// One TAP.
#[derive(Debug)]
pub(crate) struct Tap {
    irlen: u32,
    ir_capture: u32,
    idcode: Option<u32>,
    ir: u32,
    ir_shift: u64,
    dr_shift: u64,
    dr_len: u32,
    /// The data register selected at Capture-DR, latched until Update-DR.
    dr_sel: Dr,
    dp: Option<Box<JtagDp>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dr {
    Bypass,
    Idcode,
    Dap(u32),
}

impl Tap {
    /// A plain TAP (boundary scan or any other device): IDCODE and BYPASS.
    pub(crate) fn new(irlen: u32, idcode: Option<u32>, ir_capture: u32) -> Tap {
        let mut tap = Tap {
            irlen,
            ir_capture,
            idcode,
            ir: 0,
            ir_shift: 0,
            dr_shift: 0,
            dr_len: 1,
            dr_sel: Dr::Bypass,
            dp: None,
        };
        tap.reset();
        tap
    }

    /// An ARM JTAG-DP TAP (IR capture 0b0001, as ADIv5 requires).
    pub(crate) fn jtag_dp(irlen: u32, idcode: u32, ir_capture: u32, dp: JtagDp) -> Tap {
        let mut tap = Tap::new(irlen, Some(idcode), ir_capture);
        tap.dp = Some(Box::new(dp));
        tap
    }

    fn bypass_opcode(&self) -> u32 {
        ((1u64 << self.irlen) - 1) as u32
    }

    /// IEEE 1149.1 leaves the IDCODE opcode to the vendor; ARM uses 0b1110,
    /// the all-ones pattern minus one, which the lab uses for every TAP.
    fn idcode_opcode(&self) -> u32 {
        self.bypass_opcode() - 1
    }

    fn reset(&mut self) {
        self.ir = if self.idcode.is_some() {
            self.idcode_opcode()
        } else {
            self.bypass_opcode()
        };
    }

    fn capture_dr(&mut self) {
        let dap_ir = self.dp.is_some() && matches!(self.ir, IR_ABORT | IR_DPACC | IR_APACC);
        self.dr_sel = if dap_ir {
            Dr::Dap(self.ir)
        } else if self.idcode.is_some() && self.ir == self.idcode_opcode() {
            Dr::Idcode
        } else {
            Dr::Bypass
        };
        (self.dr_len, self.dr_shift) = match self.dr_sel {
            Dr::Bypass => (1, 0),
            Dr::Idcode => (32, u64::from(self.idcode.unwrap_or(0))),
            Dr::Dap(ir) => match self.dp.as_mut() {
                Some(dp) => (35, dp.capture(ir)),
                None => (1, 0),
            },
        };
    }

    fn update_dr(&mut self) {
        if let (Dr::Dap(ir), Some(dp)) = (self.dr_sel, self.dp.as_mut()) {
            dp.update(ir, self.dr_shift);
        }
    }

    fn capture_ir(&mut self) {
        self.ir_shift = u64::from(self.ir_capture) & ((1u64 << self.irlen) - 1);
    }

    fn update_ir(&mut self) {
        self.ir = self.ir_shift as u32;
    }

    /// Shift one bit through a register of `len` bits: the LSB leaves towards
    /// TDO, `input` enters at the MSB.
    fn shift(reg: &mut u64, len: u32, input: bool) -> bool {
        let out = *reg & 1 == 1;
        *reg = (*reg >> 1) | (u64::from(input) << (len - 1));
        out
    }
}

/// Wire-level behaviour of TDO.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Tdo {
    #[default]
    Normal,
    /// TDO reads this level whatever the chain does (open line, short, no power).
    Stuck(bool),
    /// Each sample is inverted with this probability.
    Noisy(f64),
}

/// The chain plus the adapter-facing pins.
#[derive(Debug)]
pub(crate) struct Chain {
    taps: Vec<Tap>,
    state: TapState,
    tck: bool,
    tms: bool,
    tdi: bool,
    trst: bool,
    tdo: Tdo,
    rng: Rng,
    flip_threshold: u64,
    /// The chip's JTAG port is off (an SWD-only part, or JTAG disabled by the firmware): the
    /// TAPs see no clock and TDO floats high; the SW-DP (see [`Chain::dp_mut`]) still answers.
    jtag_disabled: bool,
    /// The TCK frequency the adapter announced (vdebug's clock divider); `None` for adapters
    /// that never say (remote_bitbang, the Bus Pirate), which clock as fast as they can.
    tck_khz: Option<u32>,
    /// `slow-clock-only`: above this TCK frequency TDO reaches the adapter one clock late.
    late_tdo_above_khz: Option<u32>,
    /// The chain's TDO level at the previous sample, what a late TDO line still shows.
    previous_tdo: bool,
}

/// What one batch of protocol bytes asked for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Feed {
    Continue,
    Quit,
}

impl Chain {
    pub(crate) fn new(taps: Vec<Tap>, tdo: Tdo, seed: u64) -> Chain {
        let flip_threshold = match tdo {
            // Probability as a fraction of the u64 range.
            Tdo::Noisy(p) => (p.clamp(0.0, 1.0) * u64::MAX as f64) as u64,
            _ => 0,
        };
        Chain {
            taps,
            state: TapState::Reset,
            tck: false,
            tms: false,
            tdi: false,
            trst: false,
            tdo,
            rng: Rng::new(seed),
            flip_threshold,
            jtag_disabled: false,
            tck_khz: None,
            late_tdo_above_khz: None,
            previous_tdo: true,
        }
    }

    /// A TDO line too slow for a fast clock (long leads, weak driver, no ground return): above
    /// `khz` the adapter samples TDO before the new bit arrives and reads the previous one.
    pub(crate) fn with_late_tdo_above(mut self, khz: Option<u32>) -> Chain {
        self.late_tdo_above_khz = khz;
        self
    }

    /// The adapter's TCK frequency, for adapters that tell the target (vdebug).
    pub(crate) fn set_tck_khz(&mut self, khz: u32) {
        self.tck_khz = Some(khz);
    }

    /// Whether TDO arrives a clock late at the current TCK frequency. An adapter that never
    /// announces its clock runs at full speed, so the fault shows there.
    fn tdo_is_late(&self) -> bool {
        self.late_tdo_above_khz
            .is_some_and(|limit| self.tck_khz.is_none_or(|khz| khz > limit))
    }

    pub(crate) fn with_jtag_disabled(mut self, disabled: bool) -> Chain {
        self.jtag_disabled = disabled;
        self
    }

    /// The debug port, for an adapter that speaks SWD to it instead of JTAG.
    pub(crate) fn dp_mut(&mut self) -> Option<&mut JtagDp> {
        self.taps.iter_mut().find_map(|t| t.dp.as_deref_mut())
    }

    /// False while the firmware has taken the debug pins (SWCLK/SWDIO are TCK/TMS).
    pub(crate) fn swd_pins_connected(&self) -> bool {
        self.board().is_none_or(Board::jtag_pins_enabled)
    }

    /// One JTAG clock as an adapter that shifts bit pairs does it (the Bus Pirate's TAP
    /// shift): TMS and TDI set with TCK low, TDO sampled, then the rising edge.
    pub(crate) fn clock_bit(&mut self, tms: bool, tdi: bool) -> bool {
        self.write(false, tms, tdi);
        let tdo = self.sample_tdo();
        self.write(true, tms, tdi);
        tdo
    }

    #[cfg(test)]
    pub(crate) fn state(&self) -> TapState {
        self.state
    }

    fn board(&self) -> Option<&Board> {
        self.taps
            .iter()
            .find_map(|t| t.dp.as_ref().and_then(|dp| dp.board()))
    }

    fn board_mut(&mut self) -> Option<&mut Board> {
        self.taps
            .iter_mut()
            .find_map(|t| t.dp.as_mut().and_then(|dp| dp.board_mut()))
    }

    /// False while the chip's firmware has taken the JTAG pins for itself.
    fn pins_connected(&self) -> bool {
        !self.jtag_disabled && self.board().is_none_or(Board::jtag_pins_enabled)
    }

    /// Start of a new client connection: the adapter's pins start low.
    pub(crate) fn reconnect(&mut self) {
        self.tck = false;
        self.tms = false;
        self.tdi = false;
        // A new adapter session starts at its own clock until it announces one.
        self.tck_khz = None;
    }

    /// Process protocol bytes, appending replies to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Feed {
        for &b in bytes {
            match b {
                b'0'..=b'7' => {
                    let v = b - b'0';
                    self.write(v & 4 != 0, v & 2 != 0, v & 1 != 0);
                }
                b'R' => out.push(if self.sample_tdo() { b'1' } else { b'0' }),
                b'r'..=b'u' => {
                    let v = b - b'r';
                    self.set_reset(v & 2 != 0, v & 1 != 0);
                }
                b'Q' => return Feed::Quit,
                // Blink and anything unknown (newlines from a human typing,
                // commands of newer protocol revisions) have no effect.
                _ => {}
            }
        }
        Feed::Continue
    }

    fn write(&mut self, tck: bool, tms: bool, tdi: bool) {
        let rising = tck && !self.tck;
        self.tck = tck;
        self.tms = tms;
        self.tdi = tdi;
        if rising && !self.trst && self.pins_connected() {
            self.clock();
        }
    }

    pub(crate) fn set_reset(&mut self, trst: bool, srst: bool) {
        self.trst = trst;
        if trst {
            self.test_logic_reset();
        }
        let was_connected = self.pins_connected();
        if let Some(board) = self.board_mut() {
            board.set_srst(srst);
        }
        if !was_connected && self.pins_connected() {
            // The pins come back from GPIO mode with the TAP in reset.
            self.test_logic_reset();
        }
    }

    pub(crate) fn test_logic_reset(&mut self) {
        self.state = TapState::Reset;
        self.taps.iter_mut().for_each(Tap::reset);
    }

    /// One rising TCK edge.
    fn clock(&mut self) {
        match self.state {
            TapState::Reset => self.taps.iter_mut().for_each(Tap::reset),
            TapState::CaptureDr => self.taps.iter_mut().for_each(Tap::capture_dr),
            TapState::ShiftDr => self.shift_chain(|t| (&mut t.dr_shift, t.dr_len)),
            TapState::UpdateDr => self.taps.iter_mut().for_each(Tap::update_dr),
            TapState::CaptureIr => self.taps.iter_mut().for_each(Tap::capture_ir),
            TapState::ShiftIr => self.shift_chain(|t| (&mut t.ir_shift, t.irlen)),
            TapState::UpdateIr => self.taps.iter_mut().for_each(Tap::update_ir),
            _ => {}
        }
        self.state = self.state.next(self.tms);
    }

    /// Shift TDI into the last TAP's register (`register` picks the data or instruction
    /// register and its length); each TAP's output feeds the one before it.
    fn shift_chain(&mut self, register: impl Fn(&mut Tap) -> (&mut u64, u32)) {
        let mut carry = self.tdi;
        for t in self.taps.iter_mut().rev() {
            let (reg, len) = register(t);
            carry = Tap::shift(reg, len, carry);
        }
    }

    fn sample_tdo(&mut self) -> bool {
        let level = match self.tdo {
            Tdo::Stuck(level) => return level,
            // A pin that is not driven reads high (pull-up at the adapter).
            _ if !self.pins_connected() => return true,
            _ => match (self.state, self.taps.first()) {
                (TapState::ShiftDr, Some(t)) => t.dr_shift & 1 == 1,
                (TapState::ShiftIr, Some(t)) => t.ir_shift & 1 == 1,
                (TapState::ShiftDr | TapState::ShiftIr, None) => self.tdi,
                _ => true,
            },
        };
        let level = if self.tdo_is_late() {
            std::mem::replace(&mut self.previous_tdo, level)
        } else {
            self.previous_tdo = level;
            level
        };
        if self.flip_threshold > 0 && self.rng.next_u64() < self.flip_threshold {
            !level
        } else {
            level
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drive the chain like an adapter: TMS/TDI per bit, sampling TDO before
    /// each rising edge. Returns the TDO bits.
    fn clock_bits(chain: &mut Chain, tms: &[bool], tdi: &[bool]) -> Vec<bool> {
        let mut tdo = Vec::new();
        for (&m, &d) in tms.iter().zip(tdi) {
            let v = u8::from(m) << 1 | u8::from(d);
            let mut out = Vec::new();
            chain.feed(&[b'0' + v, b'R', b'4' + v], &mut out);
            tdo.push(out == b"1");
        }
        tdo
    }

    fn goto_shift_dr_from_reset(chain: &mut Chain) {
        clock_bits(chain, &[false, true, false, false], &[false; 4]);
        assert_eq!(chain.state(), TapState::ShiftDr);
    }

    fn read_bits(chain: &mut Chain, n: usize, tdi: bool) -> u64 {
        let bits = clock_bits(chain, &vec![false; n], &vec![tdi; n]);
        bits.iter()
            .enumerate()
            .fold(0, |acc, (i, &b)| acc | (u64::from(b) << i))
    }

    fn two_taps() -> Chain {
        Chain::new(
            vec![
                Tap::new(4, Some(0x4ba0_0477), 1),
                Tap::new(5, Some(0x0641_3041), 1),
            ],
            Tdo::Normal,
            1,
        )
    }

    #[test]
    fn idcodes_after_reset_then_ones() {
        let mut c = two_taps();
        goto_shift_dr_from_reset(&mut c);
        assert_eq!(read_bits(&mut c, 32, true), 0x4ba0_0477);
        assert_eq!(read_bits(&mut c, 32, true), 0x0641_3041);
        assert_eq!(
            read_bits(&mut c, 32, true),
            0xffff_ffff,
            "TDI comes through"
        );
    }

    #[test]
    fn ir_capture_and_bypass() {
        let mut c = two_taps();
        // Reset -> Idle -> Shift-IR.
        clock_bits(&mut c, &[false, true, true, false, false], &[false; 5]);
        assert_eq!(c.state(), TapState::ShiftIr);
        // 9 IR bits: 0b0001 from the 4-bit TAP, then 0b00001 from the 5-bit one.
        assert_eq!(read_bits(&mut c, 8, true), 0b0001_0001);
        // Last bit with TMS high: Exit1-IR; then Update-IR -> Idle.
        clock_bits(&mut c, &[true, true, false], &[true, false, false]);
        assert_eq!(c.state(), TapState::Idle);
        // Both in BYPASS: the DR path is 2 bits long, each captures 0.
        clock_bits(&mut c, &[true, false, false], &[false; 3]);
        assert_eq!(read_bits(&mut c, 4, true), 0b1100);
    }

    #[test]
    fn stuck_and_noisy_tdo() {
        for level in [false, true] {
            let mut c = Chain::new(vec![Tap::new(4, Some(1), 1)], Tdo::Stuck(level), 1);
            goto_shift_dr_from_reset(&mut c);
            let expect = if level { 0xffff_ffff } else { 0 };
            assert_eq!(read_bits(&mut c, 32, true), expect);
        }
        let mut c = Chain::new(vec![Tap::new(4, Some(0x4ba0_0477), 1)], Tdo::Noisy(0.5), 7);
        goto_shift_dr_from_reset(&mut c);
        assert_ne!(read_bits(&mut c, 64, true), 0xffff_ffff_4ba0_0477);
    }

    #[test]
    fn srst_gives_the_pins_back_when_firmware_took_them() {
        use crate::{Chip, FaultId, LabConfig};
        let config = LabConfig::new(Chip::Stm32f1).with_fault(FaultId::DebugOnlyUnderReset);
        let mut c = config.build_chain();
        clock_bits(&mut c, &[false, true, false, false], &[false; 4]);
        assert_eq!(c.state(), TapState::Reset, "the TAP sees no clock");
        assert_eq!(read_bits(&mut c, 32, false), 0xffff_ffff, "pins are GPIOs");
        let mut out = Vec::new();
        c.feed(b"s", &mut out); // SRST asserted, TRST not
        goto_shift_dr_from_reset(&mut c);
        assert_eq!(read_bits(&mut c, 32, false), 0x3ba0_0477);
        c.feed(b"r", &mut out); // release: the firmware runs again
        c.feed(b"2626262626", &mut out);
        assert_eq!(read_bits(&mut c, 32, false), 0xffff_ffff);
    }

    #[test]
    fn trst_resets_and_bad_bytes_are_ignored() {
        let mut c = two_taps();
        goto_shift_dr_from_reset(&mut c);
        let mut out = Vec::new();
        assert_eq!(c.feed(b"\n\xffZzB b t", &mut out), Feed::Continue);
        assert_eq!(c.state(), TapState::Reset, "'t' asserts TRST");
        assert!(out.is_empty());
        assert_eq!(c.feed(b"rQ0", &mut out), Feed::Quit);
    }
}
