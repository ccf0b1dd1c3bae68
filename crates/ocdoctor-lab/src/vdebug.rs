//! A Cadence vdebug server for OpenOCD's `vdebug` adapter driver: the one adapter of OpenOCD
//! 0.12 a test can provide (a TCP socket) that carries `adapter speed` to the far end, so a
//! fault can depend on the clock. Behind it sits the same simulated board as behind the
//! remote_bitbang server and the Bus Pirate. Debian does not build the driver
//! (`--enable-vdebug`); `.ci/build-openocd-vdebug.sh` builds an OpenOCD 0.12.0 that has it.
//!
//! # The protocol, as OpenOCD 0.12 speaks it (facts from `src/jtag/drivers/vdebug.c`)
//!
//! The client and the server share the image of a memory block; over TCP the client sends
//! its 24-byte header and `wbytes` bytes of its write buffer, the server answers its 16-byte
//! header and `rbytes` bytes of its read buffer. All numbers are little-endian.
//!
//! Client header: `cmd` (u8, offset 0), `type` (u8, 1), `waddr` (u16, 2: in a shift or
//! register batch, the number of requests), `wbytes` (u16, 4), `rbytes` (u16, 6), `wwords`
//! (u16, 8), `rwords` (u16, 10), `rwdata` (u32, 12: a command's one argument), `offset`
//! (u32, 16), `offseth` (u16, 20), `wid` (u16, 22: the client version at open, then a
//! request counter). Server header: `rid` (u16), `awords` (u16), `status` (u32, 0 = no
//! error), `duttime` (u64).
//!
//! Commands: `0x01` open (`wid` = client version 44; `rid` must answer at least that),
//! `0x04` connect to a BFM (`type` 6 = serial JTAG; the write buffer holds the BFM path; the
//! answer's read buffer holds the data width in bits at byte 0 and the address bits at byte
//! 8), `0x05` disconnect, `0x02` close, `0x09` wait `rwdata` clocks, `0x0a` set signals
//! (`rwdata` = mask << 16 | value; reset `0x08` and TRST `0x10` are active low), `0x0f` JTAG
//! clock (`rwdata` = the divider of the BFM clock), `0x1a` JTAG shift.
//!
//! A shift batch is `waddr` requests in a row, each an 8-byte header (bits 0-23 the number
//! of clocks, 30-31 the command: 3 = TDO is read back, 1 = not; 32-47 the number of 32-bit
//! TDI/TMS word pairs that follow; 48-63 the 8-byte TDO words it reads back), then those
//! pairs: 32 TDI bits, then 32 TMS bits, first clock in bit 0. The TDO bits of reading
//! requests go to the read buffer one after the other, each request at a new 8-byte word.
//!
//! `adapter speed N` becomes `divider = (10^9 / (2 · period_ps)) / N`, the period being the
//! one `vdebug bfm_path PATH PERIOD` declares; the divider alone goes over the wire, so the
//! lab's config declares [`VDEBUG_BFM_PERIOD_NS`] and the server decodes with the same.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use crate::chain::Chain;

/// The BFM clock period the lab's interface config declares (`vdebug bfm_path … 20ns`, as the
/// stock `board/vd_m4_jtag.cfg` does): the fastest TCK is then 25 MHz.
pub const VDEBUG_BFM_PERIOD_NS: u32 = 20;

/// The protocol version OpenOCD 0.12 sends and requires at least in return.
const VERSION: u16 = 44;
const BUFFER_LEN: usize = 4024;
const CLIENT_HEADER_LEN: usize = 24;
/// Data width of the simulated BFM in bits: OpenOCD packs 32 TDI/TMS bits per pair for it.
const BFM_WIDTH_BITS: u32 = 64;
const BFM_ADDRESS_BITS: u32 = 32;

const CMD_OPEN: u8 = 0x01;
const CMD_CLOSE: u8 = 0x02;
const CMD_CONNECT: u8 = 0x04;
const CMD_DISCONNECT: u8 = 0x05;
const CMD_WAIT: u8 = 0x09;
const CMD_SIGSET: u8 = 0x0a;
const CMD_JTAGCLOCK: u8 = 0x0f;
const CMD_JTAGSHTAP: u8 = 0x1a;

const BFM_JTAG: u8 = 0x06;
const SIG_RESET: u32 = 0x08;
const SIG_TRST: u32 = 0x10;

const ERR_NOT_IMPL: u32 = 0x0100;
const ERR_PARAM: u32 = 0x0102;
const ERR_NOT_OPEN: u32 = 0x0205;

/// The fastest TCK of the lab's BFM in kHz: what a divider of 1 gives.
fn max_tck_khz() -> u32 {
    1_000_000 / (2 * VDEBUG_BFM_PERIOD_NS)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// One answer: the server header and read buffer, and whether the session ends after it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    pub bytes: Vec<u8>,
    pub close: bool,
}

/// The BFM side of one connection: the board's chain behind a serial JTAG transactor.
#[derive(Debug)]
pub(crate) struct Bfm<'a> {
    chain: &'a mut Chain,
    connected: bool,
}

impl<'a> Bfm<'a> {
    pub(crate) fn new(chain: &'a mut Chain) -> Bfm<'a> {
        chain.reconnect();
        Bfm {
            chain,
            connected: false,
        }
    }

    /// Answer one client message (`header` is the 24-byte client header, `payload` its
    /// `wbytes` bytes).
    pub(crate) fn request(&mut self, header: &[u8; CLIENT_HEADER_LEN], payload: &[u8]) -> Reply {
        let (cmd, kind) = (header[0], header[1]);
        let rbytes = usize::from(u16_at(header, 6)).min(BUFFER_LEN);
        let rwdata = u32_at(header, 12);
        let wid = u16_at(header, 22);
        let mut read = vec![0u8; rbytes];
        let (rid, status) = match cmd {
            CMD_OPEN => (VERSION.max(wid), 0),
            CMD_CONNECT if kind == BFM_JTAG => {
                self.connected = true;
                // OpenOCD's state tracker starts in Test-Logic-Reset and sends no clocks for
                // a move to the state it believes current: the BFM resets the TAPs when a
                // debugger connects, as a simulation starting up does.
                self.chain.test_logic_reset();
                put_u32(&mut read, 0, BFM_WIDTH_BITS);
                put_u32(&mut read, 8, BFM_ADDRESS_BITS);
                (wid, 0)
            }
            // dapdirect_swd (the DAP-level transactor) is not simulated.
            CMD_CONNECT => (wid, ERR_NOT_IMPL),
            CMD_DISCONNECT => {
                self.connected = false;
                (wid, 0)
            }
            CMD_CLOSE | CMD_WAIT => (wid, 0),
            _ if !self.connected => (wid, ERR_NOT_OPEN),
            CMD_SIGSET => {
                self.set_signals(rwdata);
                (wid, 0)
            }
            CMD_JTAGCLOCK => {
                // A divider of 0 cannot come from OpenOCD's arithmetic; read it as 1.
                self.chain.set_tck_khz(max_tck_khz() / rwdata.max(1));
                (wid, 0)
            }
            CMD_JTAGSHTAP => {
                let requests = usize::from(u16_at(header, 2));
                let status = if self.shift(requests, payload, &mut read) {
                    0
                } else {
                    ERR_PARAM
                };
                (wid, status)
            }
            _ => (wid, ERR_NOT_IMPL),
        };
        let mut bytes = Vec::with_capacity(16 + rbytes);
        bytes.extend_from_slice(&rid.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes()); // awords: unused by OpenOCD
        bytes.extend_from_slice(&status.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes()); // duttime: unused by OpenOCD
        bytes.extend_from_slice(&read);
        Reply {
            bytes,
            close: cmd == CMD_CLOSE,
        }
    }

    /// SIGSET: the upper half selects the signals, the lower half their levels (active low).
    fn set_signals(&mut self, rwdata: u32) {
        let (mask, value) = (rwdata >> 16, rwdata & 0xffff);
        let asserted = |sig: u32| mask & sig != 0 && value & sig == 0;
        self.chain
            .set_reset(asserted(SIG_TRST), asserted(SIG_RESET));
    }

    /// Clock a batch of shift requests through the chain. False when the batch does not fit
    /// the buffers it claims (bad input: nothing past the error is clocked).
    fn shift(&mut self, requests: usize, payload: &[u8], read: &mut [u8]) -> bool {
        let (mut at, mut read_word) = (0usize, 0usize);
        for _ in 0..requests {
            let Some(head) = payload.get(at..at + 8) else {
                return false;
            };
            let head = u64::from_le_bytes(head.try_into().unwrap_or([0; 8]));
            let clocks = (head & 0xff_ffff) as usize;
            let reads = head >> 30 & 3 == 3;
            let pairs = (head >> 32 & 0xffff) as usize;
            let tdo_words = (head >> 48) as usize;
            let Some(bits) = payload.get(at + 8..at + 8 + 8 * pairs) else {
                return false;
            };
            let short_read =
                reads && (clocks > 64 * tdo_words || read.len() < 8 * (read_word + tdo_words));
            if clocks > 32 * pairs || short_read {
                return false;
            }
            for i in 0..clocks {
                let byte = 8 * (i / 32) + (i % 32) / 8;
                let mask = 1u8 << (i % 8);
                let tdi = bits[byte] & mask != 0;
                let tms = bits[byte + 4] & mask != 0;
                let tdo = self.chain.clock_bit(tms, tdi);
                if reads && tdo {
                    read[8 * read_word + i / 8] |= mask;
                }
            }
            if reads {
                read_word += tdo_words;
            }
            at += 8 + 8 * pairs;
        }
        true
    }
}

fn put_u32(buf: &mut [u8], at: usize, v: u32) {
    if let Some(dst) = buf.get_mut(at..at + 4) {
        dst.copy_from_slice(&v.to_le_bytes());
    }
}

/// Serve one client until it closes, disconnects, sends a message that cannot be framed, or
/// `budget` bytes have come in (the `drop-mid-session` fault).
pub(crate) fn session(mut conn: TcpStream, chain: &mut Chain, mut budget: u64) {
    let _ = conn.set_nodelay(true);
    let mut bfm = Bfm::new(chain);
    let mut header = [0u8; CLIENT_HEADER_LEN];
    let mut payload = vec![0u8; BUFFER_LEN];
    loop {
        if read_counted(&mut conn, &mut header, &mut budget).is_err() {
            break;
        }
        let wbytes = usize::from(u16_at(&header, 4));
        if wbytes > BUFFER_LEN {
            break; // not OpenOCD's framing: the rest of the stream cannot be trusted
        }
        if read_counted(&mut conn, &mut payload[..wbytes], &mut budget).is_err() {
            break;
        }
        let reply = bfm.request(&header, &payload[..wbytes]);
        if conn.write_all(&reply.bytes).is_err() || reply.close {
            break;
        }
    }
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// `read_exact` that spends `budget`; fails when the budget runs out first.
fn read_counted(conn: &mut TcpStream, buf: &mut [u8], budget: &mut u64) -> io::Result<()> {
    let n = buf.len() as u64;
    if n > *budget {
        *budget = 0;
        return Err(io::ErrorKind::ConnectionAborted.into());
    }
    conn.read_exact(buf)?;
    *budget -= n;
    Ok(())
}

/// Where `.ci/build-openocd-vdebug.sh` installs its OpenOCD (outside the repository).
pub const VDEBUG_OPENOCD_DEFAULT: &str = "/opt/ocdoctor-openocd-vdebug/bin/openocd";

/// The OpenOCD with the vdebug driver: `$OCDOCTOR_VDEBUG_OPENOCD` if set, else
/// [`VDEBUG_OPENOCD_DEFAULT`] if it exists. Debian's `/usr/bin/openocd` has no vdebug driver.
pub fn vdebug_openocd() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("OCDOCTOR_VDEBUG_OPENOCD") {
        return Some(p.into());
    }
    let default = std::path::Path::new(VDEBUG_OPENOCD_DEFAULT);
    default.is_file().then(|| default.to_path_buf())
}

/// [`vdebug_openocd`] for a test: its absence is a notice and a skip (`None`), unless
/// `OCDOCTOR_REQUIRE_VDEBUG` is set (`.ci/run` sets it after building the binary) — then it
/// fails the test, so CI never skips the speed cases silently.
pub fn vdebug_openocd_for_test() -> Option<std::path::PathBuf> {
    let found = vdebug_openocd();
    if found.is_none() {
        assert!(
            std::env::var_os("OCDOCTOR_REQUIRE_VDEBUG").is_none(),
            "OCDOCTOR_REQUIRE_VDEBUG is set but no vdebug OpenOCD is installed \
             (run .ci/build-openocd-vdebug.sh or set OCDOCTOR_VDEBUG_OPENOCD)"
        );
        eprintln!(
            "NOTICE: no OpenOCD with the vdebug driver (.ci/build-openocd-vdebug.sh); skipping"
        );
    }
    found
}

/// OpenOCD config text for a vdebug lab on 127.0.0.1:`port`, with OpenOCD's own gdb/telnet/tcl
/// servers disabled. Write batching as the stock `interface/vdebug.cfg` sets it.
pub fn vdebug_interface_cfg(port: u16) -> String {
    format!(
        "# vdebug adapter pointed at an ocdoctor lab on loopback; no servers opened\n\
         adapter driver vdebug\n\
         vdebug server 127.0.0.1:{port}\n\
         vdebug bfm_path ocdoctor_lab.jtag_bfm {VDEBUG_BFM_PERIOD_NS}ns\n\
         vdebug batching 1\n\
         gdb_port disabled\n\
         telnet_port disabled\n\
         tcl_port disabled\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Chip, FaultId, LabConfig};

    fn header(cmd: u8, kind: u8, rbytes: u16, rwdata: u32) -> [u8; CLIENT_HEADER_LEN] {
        let mut h = [0u8; CLIENT_HEADER_LEN];
        h[0] = cmd;
        h[1] = kind;
        h[6..8].copy_from_slice(&rbytes.to_le_bytes());
        h[12..16].copy_from_slice(&rwdata.to_le_bytes());
        h
    }

    /// One reading shift request of `clocks` bits with the given TMS bits and TDI zero.
    fn shift_request(clocks: u32, tms: u64) -> (Vec<u8>, u16) {
        let pairs = clocks.div_ceil(32);
        let words = pairs.div_ceil(2);
        let head = u64::from(words) << 48 | u64::from(pairs) << 32 | 3 << 30 | u64::from(clocks);
        let mut p = head.to_le_bytes().to_vec();
        for k in 0..pairs {
            p.extend_from_slice(&[0; 4]);
            p.extend_from_slice(&((tms >> (32 * k)) as u32).to_le_bytes());
        }
        (p, (8 * words) as u16)
    }

    /// Connect, optionally set a clock divider, and read the first IDCODE after a TAP reset.
    fn idcode(config: &LabConfig, divider: Option<u32>) -> u32 {
        let mut chain = config.build_chain();
        let mut bfm = Bfm::new(&mut chain);
        let open = bfm.request(&header(CMD_OPEN, 0, 0, 0), &[]);
        assert!(u16_at(&open.bytes, 0) >= VERSION);
        let c = bfm.request(&header(CMD_CONNECT, BFM_JTAG, 12, 0), b"x\0");
        assert_eq!(u32_at(&c.bytes, 4), 0, "connect status");
        assert_eq!(u32_at(&c.bytes, 16), BFM_WIDTH_BITS);
        if let Some(d) = divider {
            let r = bfm.request(&header(CMD_JTAGCLOCK, 0, 0, d), &[]);
            assert_eq!(u32_at(&r.bytes, 4), 0);
        }
        // Reset (5 × TMS 1), Idle, Select-DR, Capture-DR, Shift-DR, then 32 bits.
        let (payload, rbytes) = shift_request(9 + 32, 0b1_1111 | 0b0010 << 5);
        let mut h = header(CMD_JTAGSHTAP, 0, rbytes, 0);
        h[2] = 1;
        h[4..6].copy_from_slice(&(payload.len() as u16).to_le_bytes());
        let r = bfm.request(&h, &payload);
        assert_eq!(u32_at(&r.bytes, 4), 0, "shift status");
        let tdo = u64::from_le_bytes(r.bytes[16..24].try_into().unwrap());
        (tdo >> 9) as u32
    }

    #[test]
    fn shifts_read_the_idcode_at_any_clock() {
        let healthy = LabConfig::new(Chip::Stm32f4);
        assert_eq!(idcode(&healthy, None), 0x4ba0_0477);
        assert_eq!(idcode(&healthy, Some(1)), 0x4ba0_0477);
    }

    #[test]
    fn a_late_tdo_garbles_fast_clocks_only() {
        let slow = LabConfig::new(Chip::Stm32f4).with_fault(FaultId::SlowClockOnly);
        // 25 MHz / 12 ≈ 2 MHz (the target cfg's speed), 25 MHz / 250 = 100 kHz.
        assert_ne!(idcode(&slow, Some(12)), 0x4ba0_0477);
        assert_ne!(
            idcode(&slow, Some(25)),
            0x4ba0_0477,
            "1000 kHz is still too fast"
        );
        assert_eq!(idcode(&slow, Some(250)), 0x4ba0_0477);
        assert_ne!(
            idcode(&slow, None),
            0x4ba0_0477,
            "no clock announced: full speed"
        );
    }

    #[test]
    fn bad_input_is_an_error_status_not_a_panic() {
        let mut chain = LabConfig::default().build_chain();
        let mut bfm = Bfm::new(&mut chain);
        let before = bfm.request(&header(CMD_JTAGSHTAP, 0, 8, 0), &[]);
        assert_eq!(u32_at(&before.bytes, 4), ERR_NOT_OPEN);
        bfm.request(&header(CMD_CONNECT, BFM_JTAG, 12, 0), b"x\0");
        // Two requests claimed, none sent; then a request claiming more pairs than it has.
        let mut h = header(CMD_JTAGSHTAP, 0, 4000, 0);
        h[2] = 2;
        assert_eq!(u32_at(&bfm.request(&h, &[]).bytes, 4), ERR_PARAM);
        let head: u64 = 1 << 48 | 9 << 32 | 3 << 30 | 0xff_ffff;
        h[2] = 1;
        let r = bfm.request(&h, &head.to_le_bytes());
        assert_eq!(u32_at(&r.bytes, 4), ERR_PARAM);
        assert_eq!(r.bytes.len(), 16 + 4000);
        let unknown = bfm.request(&header(0x77, 0, 0, 0), &[]);
        assert_eq!(u32_at(&unknown.bytes, 4), ERR_NOT_IMPL);
        assert!(bfm.request(&header(CMD_CLOSE, 0, 0, 0), &[]).close);
    }
}
