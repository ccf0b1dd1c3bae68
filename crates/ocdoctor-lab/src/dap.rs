//! An ARM ADIv5 JTAG-DP with one MEM-AP (an AHB-AP) in front of a [`Board`].
//!
//! The DP is a TAP with a 4-bit IR: ABORT (0x8), DPACC (0xA), APACC (0xB),
//! IDCODE (0xE), BYPASS (0xF). DPACC/APACC/ABORT select a 35-bit data
//! register: shifted in it is `{data[31:0], A[3:2], RnW}`; captured it is
//! `{read data[31:0], ACK[2:0]}`. JTAG-DP reads are *posted*: the value a
//! read produces comes out in the capture of the following scan, which is why
//! OpenOCD finishes a batch by reading RDBUFF. ACK is 0b010 for OK/FAULT and
//! 0b001 for WAIT; a WAITed scan is discarded and must be repeated.
//!
//! A bus error in the MEM-AP sets CTRL/STAT.STICKYERR; while it is set, AP
//! transactions are dropped until the debugger clears it (write one).

use crate::target::{Board, BusFault};

pub(crate) const IR_ABORT: u32 = 0x8;
pub(crate) const IR_DPACC: u32 = 0xa;
pub(crate) const IR_APACC: u32 = 0xb;

pub(crate) const ACK_OK_FAULT: u64 = 0b010;
pub(crate) const ACK_WAIT: u64 = 0b001;

const CSYSPWRUPACK: u32 = 1 << 31;
const CSYSPWRUPREQ: u32 = 1 << 30;
const CDBGPWRUPACK: u32 = 1 << 29;
const CDBGPWRUPREQ: u32 = 1 << 28;
const CDBGRSTACK: u32 = 1 << 27;
const CDBGRSTREQ: u32 = 1 << 26;
const WDATAERR: u32 = 1 << 7;
const STICKYERR: u32 = 1 << 5;
const STICKYCMP: u32 = 1 << 4;
const STICKYORUN: u32 = 1 << 1;
const STICKY: u32 = WDATAERR | STICKYERR | STICKYCMP | STICKYORUN;
/// Read/write fields of CTRL/STAT: the three requests, TRNCNT, MASKLANE,
/// TRNMODE and ORUNDETECT.
const CTRL_RW: u32 = CSYSPWRUPREQ | CDBGPWRUPREQ | CDBGRSTREQ | 0x00ff_ff0d;

/// How the DP answers AP accesses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ApWait {
    #[default]
    Never,
    /// Every AP access is answered WAIT this many times before it goes through.
    Times(u32),
    Forever,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct DpFaults {
    /// The power controller never acknowledges CDBGPWRUPREQ/CSYSPWRUPREQ.
    pub no_powerup_ack: bool,
    pub ap_wait: ApWait,
}

/// A MEM-AP of the AHB flavour (what Cortex-M3/M4 parts have as AP #0).
#[derive(Debug)]
pub(crate) struct MemAp {
    idr: u32,
    csw: u32,
    tar: u32,
    pub(crate) board: Board,
}

const CSW_SIZE: u32 = 0b111;
const CSW_ADDRINC: u32 = 0b11 << 4;
const CSW_DEVICE_EN: u32 = 1 << 6;
const CSW_TR_IN_PROG: u32 = 1 << 7;
const CSW_SPIDEN: u32 = 1 << 23;

impl MemAp {
    pub(crate) fn new(idr: u32, board: Board) -> MemAp {
        MemAp {
            idr,
            csw: 0x0300_0042 | CSW_DEVICE_EN, // 32-bit, no increment
            tar: 0,
            board,
        }
    }

    fn size_bytes(&self) -> u32 {
        match self.csw & CSW_SIZE {
            0 => 1,
            1 => 2,
            _ => 4,
        }
    }

    fn lane_mask(&self, addr: u32) -> u32 {
        match self.size_bytes() {
            1 => 0xff << (8 * (addr & 3)),
            2 => 0xffff << (8 * (addr & 2)),
            _ => !0,
        }
    }

    /// Auto-increment after a DRW access; TAR wraps inside a 1 KiB block,
    /// the smallest block ADIv5 allows and the one OpenOCD assumes.
    fn advance(&mut self) {
        if self.csw & CSW_ADDRINC == 1 << 4 {
            let next = self.tar.wrapping_add(self.size_bytes());
            self.tar = (self.tar & !0x3ff) | (next & 0x3ff);
        }
    }

    pub(crate) fn read(&mut self, reg: u32) -> Result<u32, BusFault> {
        match reg {
            0x00 => Ok(self.csw),
            0x04 => Ok(self.tar),
            0x0c => {
                // Sub-word reads return the whole word; the data sits on its
                // natural byte lanes, which is what the debugger expects.
                let v = self.board.read32(self.tar)?;
                self.advance();
                Ok(v)
            }
            0x10..=0x1c => self.board.read32((self.tar & !0xf) | (reg & 0xc)),
            0xf4 => Ok(0),           // CFG: little endian, 32-bit addresses
            0xf8 => Ok(0xe00f_f003), // BASE: ROM table present
            0xfc => Ok(self.idr),
            _ => Ok(0),
        }
    }

    pub(crate) fn write(&mut self, reg: u32, v: u32) -> Result<(), BusFault> {
        match reg {
            0x00 => {
                let mut csw = v & !(CSW_TR_IN_PROG | CSW_SPIDEN) | CSW_DEVICE_EN;
                // No packed transfers on this AHB-AP (like Cortex-M3/M4):
                // the reserved increment mode reads back as "off", which is
                // how OpenOCD finds out.
                if csw & CSW_ADDRINC == 2 << 4 {
                    csw &= !CSW_ADDRINC;
                }
                self.csw = csw;
            }
            0x04 => self.tar = v,
            0x0c => {
                let mask = self.lane_mask(self.tar);
                self.board.write32(self.tar, v, mask)?;
                self.advance();
            }
            0x10..=0x1c => self.board.write32((self.tar & !0xf) | (reg & 0xc), v, !0)?,
            _ => {}
        }
        Ok(())
    }
}

/// The debug port proper.
#[derive(Debug)]
pub(crate) struct JtagDp {
    faults: DpFaults,
    ctrl_stat: u32,
    select: u32,
    /// Result of the last read; it leaves in the next capture.
    read_result: u32,
    /// The ACK decided at Capture-DR for the scan in flight.
    ack: u64,
    wait_left: Option<u32>,
    /// `None` models a DP whose APs all read as absent.
    pub(crate) ap: Option<MemAp>,
}

impl JtagDp {
    pub(crate) fn new(faults: DpFaults, ap: Option<MemAp>) -> JtagDp {
        JtagDp {
            faults,
            ctrl_stat: 0,
            select: 0,
            read_result: 0,
            ack: ACK_OK_FAULT,
            wait_left: None,
            ap,
        }
    }

    pub(crate) fn board_mut(&mut self) -> Option<&mut Board> {
        self.ap.as_mut().map(|ap| &mut ap.board)
    }

    pub(crate) fn board(&self) -> Option<&Board> {
        self.ap.as_ref().map(|ap| &ap.board)
    }

    /// Capture-DR of ABORT/DPACC/APACC: decide this scan's ACK and present
    /// the previous result.
    pub(crate) fn capture(&mut self, ir: u32) -> u64 {
        self.ack = ACK_OK_FAULT;
        if ir == IR_APACC {
            let wait = match self.faults.ap_wait {
                ApWait::Never => false,
                ApWait::Forever => true,
                ApWait::Times(n) => {
                    let left = self.wait_left.get_or_insert(n);
                    if *left > 0 {
                        *left -= 1;
                        true
                    } else {
                        self.wait_left = None;
                        false
                    }
                }
            };
            if wait {
                self.ack = ACK_WAIT;
            }
        }
        (u64::from(self.read_result) << 3) | self.ack
    }

    /// Update-DR of ABORT/DPACC/APACC with the 35 bits shifted in.
    pub(crate) fn update(&mut self, ir: u32, shifted: u64) {
        if self.ack == ACK_WAIT {
            return; // the debugger must repeat a WAITed access
        }
        let rnw = shifted & 1 == 1;
        let a = ((shifted >> 1) & 3) as u32;
        let data = (shifted >> 3) as u32;
        match ir {
            IR_DPACC if rnw => self.read_result = self.dp_read(a),
            IR_DPACC => self.dp_write(a, data),
            IR_APACC => self.ap_access(a, rnw, data),
            // ABORT: DAPABORT cancels nothing here, as no access is ever
            // left pending between scans.
            _ => {}
        }
    }

    fn dp_read(&self, a: u32) -> u32 {
        match a {
            1 => self.ctrl_stat,
            2 => self.select,
            // RDBUFF: its own capture already carried the posted result.
            _ => 0,
        }
    }

    fn dp_write(&mut self, a: u32, data: u32) {
        match a {
            1 => {
                // Sticky flags are cleared by writing one on a JTAG-DP.
                let sticky = self.ctrl_stat & STICKY & !data;
                let mut ctrl = (data & CTRL_RW) | sticky;
                if !self.faults.no_powerup_ack {
                    if data & CDBGPWRUPREQ != 0 {
                        ctrl |= CDBGPWRUPACK;
                    }
                    if data & CSYSPWRUPREQ != 0 {
                        ctrl |= CSYSPWRUPACK;
                    }
                    if data & CDBGRSTREQ != 0 {
                        ctrl |= CDBGRSTACK;
                    }
                }
                self.ctrl_stat = ctrl;
            }
            2 => self.select = data,
            _ => {}
        }
    }

    fn ap_access(&mut self, a: u32, rnw: bool, data: u32) {
        let powered = self.ctrl_stat & (CDBGPWRUPACK | CSYSPWRUPACK) == CDBGPWRUPACK | CSYSPWRUPACK;
        if !powered {
            // The debug domain is off: the access fails.
            self.ctrl_stat |= STICKYERR;
        }
        if self.ctrl_stat & STICKYERR != 0 {
            // Discarded until the debugger clears the sticky flag.
            self.read_result = 0;
            return;
        }
        let apsel = self.select >> 24;
        let reg = (self.select & 0xf0) | (a << 2);
        let Some(ap) = self.ap.as_mut().filter(|_| apsel == 0) else {
            self.read_result = 0; // no such AP: IDR reads as zero
            return;
        };
        let result = if rnw {
            ap.read(reg).map(|v| self.read_result = v)
        } else {
            ap.write(reg, data)
        };
        if result.is_err() {
            self.ctrl_stat |= STICKYERR;
            self.read_result = 0;
        }
    }
}

/// An SWD acknowledge (the three ACK bits, first bit in bit 0).
pub(crate) const SWD_ACK_OK: u8 = 0b001;
pub(crate) const SWD_ACK_WAIT: u8 = 0b010;

// SW-DP ABORT bits that clear the sticky flags (on SWD, writing CTRL/STAT does not).
const STKCMPCLR: u32 = 1 << 1;
const STKERRCLR: u32 = 1 << 2;
const WDERRCLR: u32 = 1 << 3;
const ORUNERRCLR: u32 = 1 << 4;

/// The same debug port seen through SWD (an SW-DP, ADIv5 DPv1). The registers, the AP and the
/// faults are the JTAG-DP's; what differs is the framing: DP register 0 reads DPIDR and
/// writes ABORT, sticky flags are cleared through ABORT, DP reads answer at once, and RDBUFF
/// returns the last AP read (AP reads stay posted, as on JTAG).
impl JtagDp {
    /// The ACK of an SWD request, decided before its data phase (WAIT for a stalled AP).
    pub(crate) fn swd_ack(&mut self, ap: bool) -> u8 {
        let ir = if ap { IR_APACC } else { IR_DPACC };
        if self.capture(ir) & 0b111 == ACK_WAIT {
            SWD_ACK_WAIT
        } else {
            SWD_ACK_OK
        }
    }

    /// An SWD read that was acknowledged OK: its data. `a` is A[3:2].
    pub(crate) fn swd_read(&mut self, ap: bool, a: u32, dpidr: u32) -> u32 {
        match (ap, a) {
            (false, 0) => dpidr,
            (false, 3) => self.read_result,
            (false, _) => self.dp_read(a),
            (true, _) => {
                let posted = self.read_result;
                self.ap_access(a, true, 0);
                posted
            }
        }
    }

    /// An SWD write that was acknowledged OK.
    pub(crate) fn swd_write(&mut self, ap: bool, a: u32, data: u32) {
        match (ap, a) {
            (false, 0) => {
                let mut clear = 0;
                for (bit, flag) in [
                    (STKCMPCLR, STICKYCMP),
                    (STKERRCLR, STICKYERR),
                    (WDERRCLR, WDATAERR),
                    (ORUNERRCLR, STICKYORUN),
                ] {
                    if data & bit != 0 {
                        clear |= flag;
                    }
                }
                // The JTAG-DP clears a sticky flag written with one: write exactly those.
                self.dp_write(1, (self.ctrl_stat & CTRL_RW) | clear);
            }
            // Keep the sticky flags: on an SW-DP only ABORT clears them.
            (false, 1) => self.dp_write(1, data & !STICKY),
            (false, _) => self.dp_write(a, data),
            (true, _) => self.ap_access(a, false, data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Chip;
    use crate::target::CoreFaults;

    fn dp(faults: DpFaults) -> JtagDp {
        let p = Chip::Stm32f4.profile();
        let board = Board::new(p, CoreFaults::default());
        JtagDp::new(faults, Some(MemAp::new(p.ahb_ap_idr, board)))
    }

    /// One DR scan as OpenOCD does it: capture, shift in, update. Returns the
    /// captured {data, ack}.
    fn scan(dp: &mut JtagDp, ir: u32, a: u32, rnw: bool, data: u32) -> (u32, u64) {
        let cap = dp.capture(ir);
        dp.update(
            ir,
            (u64::from(data) << 3) | (u64::from(a) << 1) | u64::from(rnw),
        );
        ((cap >> 3) as u32, cap & 7)
    }

    fn power_up(d: &mut JtagDp) {
        scan(d, IR_DPACC, 1, false, CDBGPWRUPREQ | CSYSPWRUPREQ);
    }

    #[test]
    fn powerup_handshake_and_posted_reads() {
        let mut d = dp(DpFaults::default());
        power_up(&mut d);
        scan(&mut d, IR_DPACC, 1, true, 0);
        let (ctrl, ack) = scan(&mut d, IR_DPACC, 3, true, 0);
        assert_eq!(ack, ACK_OK_FAULT);
        assert_eq!(ctrl & 0xf000_0000, 0xf000_0000, "requests and acks");

        let mut d = dp(DpFaults {
            no_powerup_ack: true,
            ..DpFaults::default()
        });
        power_up(&mut d);
        scan(&mut d, IR_DPACC, 1, true, 0);
        let (ctrl, _) = scan(&mut d, IR_DPACC, 3, true, 0);
        assert_eq!(ctrl & (CDBGPWRUPACK | CSYSPWRUPACK), 0);
    }

    #[test]
    fn ap_idr_and_memory() {
        let mut d = dp(DpFaults::default());
        power_up(&mut d);
        scan(&mut d, IR_DPACC, 2, false, 0xf0); // SELECT bank 0xF
        scan(&mut d, IR_APACC, 3, true, 0); // IDR at 0xFC
        let (idr, _) = scan(&mut d, IR_DPACC, 3, true, 0);
        assert_eq!(idr, 0x2477_0011);
        // Other APs are absent.
        scan(&mut d, IR_DPACC, 2, false, 0x0100_00f0);
        scan(&mut d, IR_APACC, 3, true, 0);
        assert_eq!(scan(&mut d, IR_DPACC, 3, true, 0).0, 0);
        // TAR/DRW with auto-increment.
        scan(&mut d, IR_DPACC, 2, false, 0);
        scan(&mut d, IR_APACC, 0, false, 0x0300_0012); // 32-bit, single inc
        scan(&mut d, IR_APACC, 1, false, 0x0800_0000);
        scan(&mut d, IR_APACC, 3, true, 0);
        let (sp, _) = scan(&mut d, IR_APACC, 3, true, 0);
        let (pc, _) = scan(&mut d, IR_DPACC, 3, true, 0);
        assert_eq!((sp, pc), (0x2000_1000, 0x0800_0189));
    }

    #[test]
    fn packed_transfers_are_refused() {
        let mut d = dp(DpFaults::default());
        power_up(&mut d);
        scan(&mut d, IR_APACC, 0, false, 0x0300_0020);
        scan(&mut d, IR_APACC, 0, true, 0);
        let (csw, _) = scan(&mut d, IR_DPACC, 3, true, 0);
        assert_eq!(csw & CSW_ADDRINC, 0);
        assert_ne!(csw & CSW_DEVICE_EN, 0);
    }

    #[test]
    fn bus_error_is_sticky_until_cleared() {
        let mut d = dp(DpFaults::default());
        power_up(&mut d);
        scan(&mut d, IR_APACC, 1, false, 0x3000_0000);
        scan(&mut d, IR_APACC, 3, true, 0);
        scan(&mut d, IR_DPACC, 1, true, 0);
        let (ctrl, _) = scan(&mut d, IR_DPACC, 3, true, 0);
        assert_ne!(ctrl & STICKYERR, 0);
        // AP accesses are dropped while the flag is set.
        scan(&mut d, IR_APACC, 1, false, 0x2000_0000);
        scan(&mut d, IR_APACC, 1, true, 0);
        assert_eq!(scan(&mut d, IR_DPACC, 3, true, 0).0, 0);
        // Write one to clear, keeping the power requests.
        scan(
            &mut d,
            IR_DPACC,
            1,
            false,
            CDBGPWRUPREQ | CSYSPWRUPREQ | STICKYERR,
        );
        scan(&mut d, IR_DPACC, 1, true, 0);
        let (ctrl, _) = scan(&mut d, IR_DPACC, 3, true, 0);
        assert_eq!(ctrl & STICKYERR, 0);
        assert_eq!(ctrl >> 28, 0xf);
    }

    #[test]
    fn wait_n_then_ok_and_wait_forever() {
        let mut d = dp(DpFaults {
            ap_wait: ApWait::Times(2),
            ..DpFaults::default()
        });
        power_up(&mut d);
        let acks: Vec<u64> = (0..4)
            .map(|_| scan(&mut d, IR_APACC, 1, false, 0x2000_0000).1)
            .collect();
        assert_eq!(acks, [ACK_WAIT, ACK_WAIT, ACK_OK_FAULT, ACK_WAIT]);
        assert_eq!(
            scan(&mut d, IR_DPACC, 1, true, 0).1,
            ACK_OK_FAULT,
            "DP never waits"
        );

        let mut d = dp(DpFaults {
            ap_wait: ApWait::Forever,
            ..DpFaults::default()
        });
        power_up(&mut d);
        assert!((0..100).all(|_| scan(&mut d, IR_APACC, 3, true, 0).1 == ACK_WAIT));
    }
}
