//! A Bus Pirate on a pseudo-terminal, for OpenOCD's stock `buspirate` driver: the one adapter
//! of Debian's OpenOCD 0.12 that speaks both JTAG and SWD over something a test can provide
//! (a serial port). Behind it sits the same simulated board as behind the remote_bitbang
//! server, so a fault can show on one transport and not on the other.
//!
//! # The protocol, as OpenOCD 0.12 speaks it (facts from `src/jtag/drivers/buspirate.c`)
//!
//! * Binary mode: the host sends `0x00` bytes; each is answered `BBIO1`. Then `0x06` enters
//!   the OpenOCD JTAG mode (answer `OCD1`) or `0x05` the raw-wire mode used for SWD (`RAW1`).
//!   `0x00` leaves either mode (answer `BBIO1`); `0x0F` in binary mode resets (`0x01`).
//! * JTAG (`OCD1`): `0x01 mode` and `0x02 feature action` have no answer (feature `0x08` is
//!   SRST, `0x04` TRST; action 0 asserts the active-low line); `0x03` answers ten bytes of ADC
//!   readings; `0x05 n_hi n_lo` followed by `ceil(n/8)` (TDI, TMS) byte pairs clocks `n` bits and
//!   answers the three header bytes and the TDO bytes; `0x07 speed` (then `0xAA 0x55` at the
//!   new UART rate) answers `0x07 speed`.
//! * SWD (raw wire, LSB first): `0x1n` writes `n+1` bytes (answer `0x01` and one byte per byte
//!   written), `0x07` reads one bit, `0x06` one byte, `0x2n` clocks `n+1` ticks (`0x01`);
//!   `0x4x` sets the peripherals (bit `0x02` is SRST, low = asserted), `0x6x` the speed,
//!   `0x8x` the configuration (each answers `0x01`). A transaction is one request byte, three
//!   ACK bits, then for a read four data bytes, a parity bit and two turnaround ticks; for a
//!   write two turnaround bits, then four data bytes and a parity byte.
//!
//! The emulation is at that transaction level (the request byte, then the bits OpenOCD reads),
//! not a bit-accurate SWD line: it is the pair Bus Pirate + target that is simulated.
//!
//! # What it cannot show
//!
//! OpenOCD 0.12's buspirate driver has no speed callbacks: `adapter speed` never reaches the
//! device ("This adapter doesn't support configurable speed"), `buspirate speed` only picks the
//! UART rate, and SWD is always clocked at the fixed 400 kHz setting. So no fault here can
//! depend on the adapter clock (see the crate docs of `ocdoctor-investigate`).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::LabConfig;
use crate::chain::Chain;
use crate::dap::SWD_ACK_OK;
use crate::server_thread::ServerThread;

/// The Bus Pirate's protocol mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The user terminal, before binary mode.
    Terminal,
    Binary,
    /// OpenOCD's JTAG mode (`OCD1`).
    Jtag,
    /// Raw wire, which OpenOCD uses for SWD (`RAW1`).
    RawWire,
}

/// What the SWD side expects from the host next.
#[derive(Debug, PartialEq, Eq)]
enum SwdPhase {
    /// A request byte (anything else is idle clocks, line resets, mode switches).
    Request,
    /// The data phase of an acknowledged write: 4 data bytes and a parity byte.
    WriteData {
        ap: bool,
        a: u32,
        ack: u8,
        bytes: Vec<u8>,
    },
}

/// One transaction at a time: the bits the target drives wait in `to_host`.
#[derive(Debug)]
struct Swd {
    phase: SwdPhase,
    to_host: VecDeque<bool>,
    dpidr: u32,
}

/// A simulated Bus Pirate with the lab's board behind it. Pure: bytes in, bytes out.
#[derive(Debug)]
pub(crate) struct Buspirate {
    mode: Mode,
    /// Bytes of a command not complete yet.
    pending: Vec<u8>,
    chain: Chain,
    swd: Swd,
    trst: bool,
    srst: bool,
}

/// A request byte: start 1, APnDP, RnW, A[2:3], parity, stop 0, park 1.
fn parse_request(b: u8) -> Option<(bool, bool, u32)> {
    let start = b & 1 == 1;
    let stop = b & 0x40 != 0;
    let park = b & 0x80 != 0;
    let parity = (b >> 1 & 0x0f).count_ones() % 2 == 1;
    if !start || stop || !park || parity != (b & 0x20 != 0) {
        return None;
    }
    Some((b & 2 != 0, b & 4 != 0, u32::from(b >> 3 & 3)))
}

impl Buspirate {
    pub(crate) fn new(config: &LabConfig) -> Buspirate {
        Buspirate {
            mode: Mode::Terminal,
            pending: Vec::new(),
            chain: config.build_chain(),
            swd: Swd {
                phase: SwdPhase::Request,
                to_host: VecDeque::new(),
                dpidr: config.sw_dpidr(),
            },
            trst: false,
            srst: false,
        }
    }

    /// Process bytes from the host, appending the answers to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        let mut input = std::mem::take(&mut self.pending);
        input.extend_from_slice(bytes);
        let mut at = 0;
        while at < input.len() {
            match self.command(&input[at..], out) {
                Some(used) => at += used,
                None => break,
            }
        }
        input.drain(..at);
        self.pending = input;
    }

    /// Execute the command at the start of `input`: the bytes it took, or `None` when it is
    /// not complete yet.
    fn command(&mut self, input: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        let b = input[0];
        match self.mode {
            Mode::Terminal => {
                if b == 0x00 {
                    self.mode = Mode::Binary;
                    out.extend_from_slice(b"BBIO1");
                }
                Some(1)
            }
            Mode::Binary => {
                match b {
                    0x00 => out.extend_from_slice(b"BBIO1"),
                    0x05 => {
                        self.mode = Mode::RawWire;
                        self.swd.phase = SwdPhase::Request;
                        self.swd.to_host.clear();
                        out.extend_from_slice(b"RAW1");
                    }
                    0x06 => {
                        self.mode = Mode::Jtag;
                        out.extend_from_slice(b"OCD1");
                    }
                    0x0f => {
                        self.mode = Mode::Terminal;
                        out.push(0x01);
                    }
                    _ => {}
                }
                Some(1)
            }
            Mode::Jtag => self.jtag_command(input, out),
            Mode::RawWire => self.raw_wire_command(input, out),
        }
    }

    fn jtag_command(&mut self, input: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        const ADC_3V3: [u8; 2] = [0x02, 0x00]; // 512 / 155.15 = 3.30 V
        const ADC_5V0: [u8; 2] = [0x03, 0x08]; // 776 / 155.15 = 5.00 V
        match input[0] {
            0x00 => {
                self.mode = Mode::Binary;
                out.extend_from_slice(b"BBIO1");
                Some(1)
            }
            0x01 | 0x08 => (input.len() >= 2).then_some(2),
            0x02 => {
                let [_, feature, action] = *input.get(..3)? else {
                    return None;
                };
                match feature {
                    0x04 => self.trst = action == 0,
                    0x08 => self.srst = action == 0,
                    _ => {}
                }
                self.chain.set_reset(self.trst, self.srst);
                Some(3)
            }
            0x03 => {
                out.extend_from_slice(&[0x03, 8]);
                for v in [ADC_3V3, [0, 0], ADC_3V3, ADC_5V0] {
                    out.extend_from_slice(&v);
                }
                Some(1)
            }
            0x05 => {
                let bits = usize::from(*input.get(1)?) << 8 | usize::from(*input.get(2)?);
                let bytes = bits.div_ceil(8);
                let body = input.get(3..3 + 2 * bytes)?;
                out.extend_from_slice(&input[..3]);
                let mut tdo = vec![0u8; bytes];
                for i in 0..bits {
                    let (tdi, tms) = (body[2 * (i / 8)], body[2 * (i / 8) + 1]);
                    let bit = 1 << (i % 8);
                    if self.chain.clock_bit(tms & bit != 0, tdi & bit != 0) {
                        tdo[i / 8] |= bit;
                    }
                }
                out.extend_from_slice(&tdo);
                Some(3 + 2 * bytes)
            }
            0x07 => {
                // The host switches its UART, then sends 0xAA 0x55 at the new rate.
                let cmd = input.get(..4)?;
                out.extend_from_slice(&[0x07, cmd[1]]);
                Some(4)
            }
            _ => Some(1),
        }
    }

    fn raw_wire_command(&mut self, input: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        let b = input[0];
        match b {
            0x00 => {
                self.mode = Mode::Binary;
                out.extend_from_slice(b"BBIO1");
                Some(1)
            }
            0x06 => {
                out.push(self.swd_read_bits(8));
                Some(1)
            }
            0x07 => {
                out.push(self.swd_read_bits(1));
                Some(1)
            }
            0x10..=0x1f => {
                let n = usize::from(b & 0x0f) + 1;
                let data = input.get(1..1 + n)?;
                out.push(0x01);
                for &byte in data {
                    self.swd_host_byte(byte);
                    out.push(0xff);
                }
                Some(1 + n)
            }
            0x20..=0x2f | 0x60..=0x6f | 0x80..=0x8f => {
                out.push(0x01);
                Some(1)
            }
            0x40..=0x4f => {
                // Peripherals: bit 1 is the AUX pin OpenOCD uses as SRST (low = asserted).
                self.srst = b & 0x02 == 0;
                self.chain.set_reset(false, self.srst);
                out.push(0x01);
                Some(1)
            }
            _ => {
                out.push(0x00);
                Some(1)
            }
        }
    }

    /// Bits the target drives, first bit in bit 0. An idle or floating line reads high.
    fn swd_read_bits(&mut self, n: u32) -> u8 {
        (0..n).fold(0, |acc, i| {
            let bit = self.swd.to_host.pop_front().unwrap_or(true);
            acc | (u8::from(bit) << i)
        })
    }

    fn swd_host_byte(&mut self, byte: u8) {
        match &mut self.swd.phase {
            SwdPhase::WriteData { ap, a, ack, bytes } => {
                bytes.push(byte);
                if bytes.len() == 5 {
                    let data = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                    let parity_ok = u32::from(bytes[4] & 1) == data.count_ones() % 2;
                    let (ap, a, ack) = (*ap, *a, *ack);
                    self.swd.phase = SwdPhase::Request;
                    // A write with bad parity is dropped (a real DP also flags WDATAERR).
                    if ack == SWD_ACK_OK && parity_ok {
                        if let Some(dp) = self.chain.dp_mut() {
                            dp.swd_write(ap, a, data);
                        }
                    }
                }
            }
            SwdPhase::Request => {
                if let Some((ap, read, a)) = parse_request(byte) {
                    self.swd_request(ap, read, a);
                }
            }
        }
    }

    fn swd_request(&mut self, ap: bool, read: bool, a: u32) {
        self.swd.to_host.clear();
        let connected = self.chain.swd_pins_connected();
        let Some(dp) = self.chain.dp_mut().filter(|_| connected) else {
            // Nobody drives SWDIO: the ACK and everything after it read as ones.
            return;
        };
        let ack = dp.swd_ack(ap);
        let push = |q: &mut VecDeque<bool>, v: u32, bits: u32| {
            q.extend((0..bits).map(|i| v >> i & 1 == 1));
        };
        push(&mut self.swd.to_host, u32::from(ack), 3);
        if read {
            let data = if ack == SWD_ACK_OK {
                dp.swd_read(ap, a, self.swd.dpidr)
            } else {
                0
            };
            push(&mut self.swd.to_host, data, 32);
            push(&mut self.swd.to_host, data.count_ones() % 2, 1);
        } else {
            // Turnaround, then the host drives the data phase.
            push(&mut self.swd.to_host, 0, 2);
            self.swd.phase = SwdPhase::WriteData {
                ap,
                a,
                ack,
                bytes: Vec::new(),
            };
        }
    }
}

/// A running Bus Pirate lab: a pseudo-terminal whose other end is the simulated adapter.
/// Dropping it stops the server thread.
#[derive(Debug)]
pub struct BuspirateLab {
    path: PathBuf,
    /// Our own open handle on the terminal: it keeps the pair alive between OpenOCD runs (no
    /// hang-up) and lets shutdown wake the server thread.
    terminal: File,
    server: ServerThread,
}

impl BuspirateLab {
    /// Open a pseudo-terminal and serve `config`'s board on it.
    pub fn start(config: LabConfig) -> io::Result<BuspirateLab> {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        use rustix::termios::{OptionalActions, tcgetattr, tcsetattr};
        let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        grantpt(&controller)?;
        unlockpt(&controller)?;
        let path = PathBuf::from(OsString::from_vec(
            ptsname(&controller, Vec::new())?.into_bytes(),
        ));
        let terminal = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
            .open(&path)?;
        // Raw from the start, as OpenOCD will set it: no echo, no line editing.
        let mut termios = tcgetattr(&terminal)?;
        termios.make_raw();
        tcsetattr(&terminal, OptionalActions::Now, &termios)?;
        let mut pirate = Buspirate::new(&config);
        let mut controller = File::from(controller);
        let server = ServerThread::spawn("ocdoctor-lab:buspirate".into(), move |stop| {
            serve(&mut controller, &mut pirate, stop)
        })?;
        Ok(BuspirateLab {
            path,
            terminal,
            server,
        })
    }

    /// The serial port to give OpenOCD (`buspirate port PATH`).
    pub fn port_path(&self) -> &Path {
        &self.path
    }

    /// Stop serving and wait for the server thread.
    pub fn shutdown(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        let terminal = &mut self.terminal;
        // A byte on the terminal wakes the blocking read; the thread then sees `stop`.
        self.server.stop(|| {
            let _ = terminal.write_all(b"\n");
        });
    }
}

impl Drop for BuspirateLab {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

fn serve(controller: &mut File, pirate: &mut Buspirate, stop: &AtomicBool) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(4096);
    loop {
        let n = match controller.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        pirate.feed(&buf[..n], &mut out);
        if !out.is_empty() {
            if controller.write_all(&out).is_err() {
                break;
            }
            out.clear();
        }
    }
}

/// OpenOCD config text for a Bus Pirate lab on `port` (a pseudo-terminal path), with
/// OpenOCD's own gdb/telnet/tcl servers disabled. Both transports are offered: OpenOCD picks
/// JTAG unless told `transport select swd`.
pub fn buspirate_interface_cfg(port: &Path) -> String {
    format!(
        "# buspirate adapter on an ocdoctor lab pseudo-terminal; no servers opened\n\
         adapter driver buspirate\n\
         buspirate port {}\n\
         gdb_port disabled\n\
         telnet_port disabled\n\
         tcl_port disabled\n",
        port.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Chip, FaultId};

    fn pirate(config: LabConfig) -> Buspirate {
        let mut p = Buspirate::new(&config);
        let mut out = Vec::new();
        p.feed(&[0; 20], &mut out);
        assert_eq!(out, b"BBIO1".repeat(20));
        out.clear();
        p.feed(&[0x05], &mut out);
        assert_eq!(out, b"RAW1");
        p
    }

    /// One SWD read as OpenOCD's driver frames it; (ack, data, parity bit).
    fn swd_read(p: &mut Buspirate, request: u8) -> (u8, u32, u8) {
        let mut out = Vec::new();
        p.feed(&[0x10, request, 0x07, 0x07, 0x07], &mut out);
        p.feed(&[0x06, 0x06, 0x06, 0x06, 0x07, 0x21], &mut out);
        let ack = out[2] | out[3] << 1 | out[4] << 2;
        let data = u32::from_le_bytes([out[5], out[6], out[7], out[8]]);
        (ack, data, out[9])
    }

    #[test]
    fn swd_reads_the_dpidr_with_parity() {
        // DP read of address 0: start, RnW, parity 1, park = 0xa5.
        let mut p = pirate(LabConfig::new(Chip::Stm32f4));
        assert_eq!(swd_read(&mut p, 0xa5), (0b001, 0x2ba0_1477, 0));
        let mut p = pirate(LabConfig::new(Chip::Stm32f1));
        assert_eq!(swd_read(&mut p, 0xa5).1, 0x1ba0_1477);
        assert_eq!(parse_request(0xff), None, "a line reset is no request");
        assert_eq!(parse_request(0x00), None);
    }

    #[test]
    fn jtag_shift_reads_the_idcode_unless_jtag_is_off() {
        for (fault, want) in [(None, 0x4ba0_0477u32), (Some(FaultId::JtagDisabled), !0)] {
            let mut config = LabConfig::new(Chip::Stm32f4);
            config.fault = fault;
            let mut p = Buspirate::new(&config);
            let mut out = Vec::new();
            p.feed(&[0x00, 0x06], &mut out);
            assert_eq!(out, b"BBIO1OCD1");
            out.clear();
            // 5 TMS-high clocks (reset), then Idle, Select-DR, Capture-DR, Shift-DR, 32 bits.
            let tms: u64 = 0b1_1111 | 0b0010 << 5;
            let bits: usize = 9 + 32;
            let mut cmd = vec![0x05, 0, bits as u8];
            for i in 0..bits.div_ceil(8) {
                cmd.extend([0x00, (tms >> (8 * i)) as u8]);
            }
            p.feed(&cmd[..4], &mut out);
            assert!(out.is_empty(), "a partial command waits");
            p.feed(&cmd[4..], &mut out);
            assert_eq!(out[..3], cmd[..3]);
            let tdo = out[3..]
                .iter()
                .rev()
                .fold(0u64, |acc, b| acc << 8 | u64::from(*b));
            assert_eq!((tdo >> 9) as u32, want, "{fault:?}");
        }
    }
}
