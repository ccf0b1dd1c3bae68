//! Reading a log: one streaming scan (constant memory whatever the size) and a copy of the
//! text when it is small enough for the chip-identity reading (of a bigger log, only the lines
//! that reading looks at are kept); then the report, joined with a
//! machine and a command line when asked.

use crate::chip::IdReading;
use crate::error::EngineError;
use ocdoctor_core::{Hints, Report, ScanResult};
use std::io::Read;
use std::path::Path;
use std::sync::LazyLock;

/// Keep at most this much of the log in memory for enrichment; bigger logs are only scanned.
pub const KEEP_LOG_BYTES: usize = 16 << 20;

/// A log that was read: the scan, a label for the input, and the log text itself when it is
/// small enough to keep (the chip-identity reading reads it again).
#[derive(Debug, Clone)]
pub struct ReadLog {
    pub scan: ScanResult,
    /// The file name shown in evidence (`None` for standard input).
    pub label: Option<String>,
    /// The bytes read, when at most [`KEEP_LOG_BYTES`].
    pub text: Option<Vec<u8>>,
    /// The lines the chip-identity reading looks at, with their 1-based line numbers: what it
    /// reads when the log was too big to keep (at most [`MAX_ID_LINES`]; empty when `text` is
    /// kept).
    pub id_lines: Vec<(u64, String)>,
}

/// What the lines the chip-identity reading uses contain (`ocdoctor_chip::extract_from_log`
/// reads each line alone): a big log keeps only these lines.
const ID_LINE_MARKERS: &[&str] = &[
    "JTAG tap:",
    "UNEXPECTED",
    "expected ",
    "SWD DPIDR",
    "Unexpected idcode",
    " processor detected",
    "device id = ",
    "device idcode = ",
];

/// At most this many id lines are kept (a log that repeats its scan keeps its first ones)...
pub const MAX_ID_LINES: usize = 4096;
/// ...each cut at this length (a line of OpenOCD's that names an id is short).
const MAX_ID_LINE_BYTES: usize = 4096;

/// Picks the id lines out of a stream of bytes, in constant memory. A big log has millions of
/// lines and a few id lines: the markers are searched over each block with one automaton and
/// only the lines holding one are looked at, the others are counted (`memchr`).
#[derive(Default)]
struct IdLines {
    /// The number of the line being read (1-based once the first byte arrives).
    line_no: u64,
    /// The head of the line being read (at most [`MAX_ID_LINE_BYTES`]), when it started in an
    /// earlier block.
    partial: Vec<u8>,
    kept: Vec<(u64, String)>,
}

/// The searcher of [`ID_LINE_MARKERS`], built when a log first proves too big to keep (a kept
/// log never needs it). Eight ASCII literals: a packed (SIMD) searcher; building it cannot fail.
static ID_MARKERS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::new(ID_LINE_MARKERS)
        .unwrap_or_else(|e| panic!("the id line markers: {e}"))
});

impl IdLines {
    fn feed(&mut self, mut bytes: &[u8]) {
        // The line carried from the last block ends at the first newline here.
        if !self.partial.is_empty() {
            let Some(i) = memchr::memchr(b'\n', bytes) else {
                self.push_partial(bytes);
                return;
            };
            self.push_partial(&bytes[..i]);
            self.end_line();
            bytes = &bytes[i + 1..];
        }
        // Whole lines: only those holding a marker somewhere are looked at (a marker past
        // `MAX_ID_LINE_BYTES` is checked again on the line's head by `keep_line`).
        let complete = memchr::memrchr(b'\n', bytes).map_or(0, |i| i + 1);
        let mut counted = 0;
        let mut from = 0;
        while from < complete && self.kept.len() < MAX_ID_LINES {
            let Some(hit) =
                ID_MARKERS.find(aho_corasick::Input::new(&bytes[..complete]).range(from..complete))
            else {
                break;
            };
            let start = memchr::memrchr(b'\n', &bytes[..hit.start()]).map_or(0, |i| i + 1);
            // A marker holds no newline, and `bytes[..complete]` ends with one.
            let end = memchr::memchr(b'\n', &bytes[hit.end()..complete])
                .map_or(complete - 1, |i| hit.end() + i);
            self.line_no += memchr::memchr_iter(b'\n', &bytes[counted..start]).count() as u64 + 1;
            let head = &bytes[start..end.min(start + MAX_ID_LINE_BYTES)];
            self.keep_line(head);
            counted = end + 1;
            from = end + 1;
        }
        self.line_no += memchr::memchr_iter(b'\n', &bytes[counted..complete]).count() as u64;
        // The line going on in the next block.
        self.push_partial(&bytes[complete..]);
    }

    fn push_partial(&mut self, piece: &[u8]) {
        let room = MAX_ID_LINE_BYTES.saturating_sub(self.partial.len());
        self.partial
            .extend_from_slice(&piece[..piece.len().min(room)]);
    }

    fn end_line(&mut self) {
        self.line_no += 1;
        let head = std::mem::take(&mut self.partial);
        self.keep_line(&head);
        self.partial = head;
        self.partial.clear();
    }

    /// Keep the line (`head`: its first [`MAX_ID_LINE_BYTES`], no newline) if it names an id;
    /// `line_no` is its number.
    fn keep_line(&mut self, head: &[u8]) {
        let line = String::from_utf8_lossy(head);
        let line = line.trim_end_matches('\r');
        if self.kept.len() < MAX_ID_LINES && ID_LINE_MARKERS.iter().any(|m| line.contains(m)) {
            self.kept.push((self.line_no, line.to_string()));
        }
    }

    fn finish(mut self) -> Vec<(u64, String)> {
        if !self.partial.is_empty() {
            self.end_line();
        }
        self.kept
    }
}

/// A reader that hands bytes to the scanner and keeps a copy of the first `KEEP_LOG_BYTES`.
struct Tee<R> {
    inner: R,
    copy: Option<Vec<u8>>,
    id_lines: IdLines,
}

impl<R: Read> Read for Tee<R> {
    /// The id lines are only looked for once the log proves too big to keep (then in the copy
    /// first, so they see the same bytes in the same order): a kept log is read whole.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.copy.as_mut() {
            Some(c) if c.len() + n <= KEEP_LOG_BYTES => c.extend_from_slice(&buf[..n]),
            Some(_) => {
                if let Some(c) = self.copy.take() {
                    self.id_lines.feed(&c);
                }
                self.id_lines.feed(&buf[..n]);
            }
            None => self.id_lines.feed(&buf[..n]),
        }
        Ok(n)
    }
}

/// Scan a log from any reader (a file, standard input, a socket). `label` names it in the
/// evidence; `what` names it in an error ("standard input").
pub fn read_log(reader: impl Read, label: Option<&str>) -> Result<ReadLog, EngineError> {
    read_log_sized(reader, label, None)
}

/// `read_log` of an input whose size may be known: one bigger than [`KEEP_LOG_BYTES`] is not
/// copied at all (the copy would be dropped on the way; it was most of the memory of a big
/// diagnosis).
fn read_log_sized(
    reader: impl Read,
    label: Option<&str>,
    size: Option<u64>,
) -> Result<ReadLog, EngineError> {
    let too_big = size.is_some_and(|n| n > KEEP_LOG_BYTES as u64);
    let mut tee = Tee {
        inner: reader,
        copy: (!too_big).then(Vec::new),
        id_lines: IdLines::default(),
    };
    let scan = ocdoctor_core::scanner()
        .scan_reader(&mut tee)
        .map_err(|source| EngineError::Read {
            what: label.unwrap_or("standard input").to_string(),
            source,
        })?;
    Ok(ReadLog {
        scan,
        label: label.map(str::to_string),
        text: tee.copy,
        id_lines: tee.id_lines.finish(),
    })
}

/// Scan a log file.
pub fn read_log_file(path: &Path) -> Result<ReadLog, EngineError> {
    if path.is_dir() {
        return Err(EngineError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    let label = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|source| EngineError::Read {
        what: label.clone(),
        source,
    })?;
    let size = f.metadata().ok().map(|m| m.len());
    read_log_sized(f, Some(&label), size)
}

/// A log held in memory.
pub fn read_log_bytes(log: &[u8], label: Option<&str>) -> ReadLog {
    let keep = log.len() <= KEEP_LOG_BYTES;
    let mut id_lines = IdLines::default();
    if !keep {
        id_lines.feed(log);
    }
    ReadLog {
        scan: ocdoctor_core::scanner().scan_bytes(log),
        label: label.map(str::to_string),
        text: keep.then(|| log.to_vec()),
        id_lines: id_lines.finish(),
    }
}

impl ReadLog {
    /// The chip-identity reading of the kept text, or of the id lines of a log too big to
    /// keep (`None` when there is nothing to read).
    pub fn id_reading(&self) -> Option<IdReading> {
        match self.text.as_deref() {
            Some(text) => IdReading::of(&String::from_utf8_lossy(text)),
            None => IdReading::of_lines(&self.id_lines),
        }
    }
}

/// Which machine a log is joined with.
#[derive(Debug, Clone, Default)]
pub enum Machine {
    /// The log alone (`diagnose --no-env`).
    #[default]
    None,
    /// A snapshot saved elsewhere (`ocdoctor env --save`, `diagnose --env FILE`).
    Snapshot(Box<ocdoctor_env::EnvSnapshot>),
    /// This machine, read now (probes and ports; the installs' versions are not asked).
    ThisMachine,
}

/// What to join a log with.
#[derive(Debug, Clone, Default)]
pub struct DiagnoseOptions {
    pub machine: Machine,
    /// The openocd command line that produced the log: its config is checked and joined.
    pub command: Option<String>,
    /// The OpenOCD installation the command is checked against.
    pub check: crate::check::Options,
}

/// Read an env snapshot file (`ocdoctor env --save`).
pub fn load_snapshot(path: &Path) -> Result<ocdoctor_env::EnvSnapshot, EngineError> {
    let text = std::fs::read_to_string(path).map_err(|source| EngineError::Read {
        what: path.display().to_string(),
        source,
    })?;
    ocdoctor_env::EnvSnapshot::from_json(&text).map_err(|why| EngineError::NotASnapshot {
        path: path.to_path_buf(),
        why,
    })
}

/// The hints of a machine for a log whose banner says `log_version`.
pub fn machine_hints(machine: &Machine, log_version: Option<&str>) -> Hints {
    match machine {
        Machine::None => Hints::default(),
        Machine::Snapshot(snap) => crate::envjoin::hints_from_env(snap, log_version),
        Machine::ThisMachine => crate::envjoin::hints_from_env(&this_machine(), log_version),
    }
}

/// This machine as diagnosing reads it.
fn this_machine() -> ocdoctor_env::EnvSnapshot {
    let mut opts = ocdoctor_env::CollectOptions::for_this_machine();
    // Diagnosing needs the probes and ports, not the versions of every install.
    opts.run_binaries = false;
    ocdoctor_env::collect(&opts)
}

impl Machine {
    /// The same machine with this one read now, once: `ThisMachine` becomes the snapshot each
    /// diagnosis would read, so a batch of logs reads the machine once, not once per log.
    pub fn read_now(self) -> Machine {
        match self {
            Machine::ThisMachine => Machine::Snapshot(Box::new(this_machine())),
            other => other,
        }
    }
}

/// The report of a log read with [`read_log`]: what `ocdoctor diagnose` prints.
pub fn diagnose(log: ReadLog, opts: &DiagnoseOptions) -> Result<Report, EngineError> {
    let log_version = log.scan.banner.as_ref().map(|b| b.version.to_string());
    let mut hints = machine_hints(&opts.machine, log_version.as_deref());
    if let Some(line) = &opts.command {
        hints.problems = crate::check::problems_of_command(line, log_version, &opts.check)?;
    }
    let reading = log.id_reading();
    Ok(crate::chip::report_with_reading(
        log.scan,
        log.label.as_deref(),
        hints,
        reading.as_ref(),
    ))
}

/// Diagnose a log held in memory, alone: the same report as `ocdoctor diagnose --no-env`
/// (scan, chip-identity reading, inference). `path` labels the evidence.
///
/// ```
/// let report = ocdoctor_engine::diagnose_bytes(b"Open On-Chip Debugger 0.12.0\nError: open failed\n", None);
/// assert_eq!(report.outcome, "failed");
/// ```
pub fn diagnose_bytes(log: &[u8], path: Option<&str>) -> Report {
    let read = read_log_bytes(log, path);
    let reading = read.id_reading();
    crate::chip::report_with_reading(read.scan, path, Hints::default(), reading.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The id lines by their definition: every line, cut at `MAX_ID_LINE_BYTES`, read alone.
    fn id_lines_one_by_one(log: &[u8]) -> Vec<(u64, String)> {
        let mut kept = Vec::new();
        let body = log.strip_suffix(b"\n").unwrap_or(log);
        if log.is_empty() {
            return kept;
        }
        for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
            let head = &raw[..raw.len().min(MAX_ID_LINE_BYTES)];
            let line = String::from_utf8_lossy(head);
            let line = line.trim_end_matches('\r');
            if kept.len() < MAX_ID_LINES && ID_LINE_MARKERS.iter().any(|m| line.contains(m)) {
                kept.push((i as u64 + 1, line.to_string()));
            }
        }
        kept
    }

    fn fed_in_pieces(log: &[u8], piece: usize) -> Vec<(u64, String)> {
        let mut ids = IdLines::default();
        for chunk in log.chunks(piece.max(1)) {
            ids.feed(chunk);
        }
        ids.finish()
    }

    /// Lines that test the edges: a marker past the cut of a long line, a marker inside
    /// another (`Unexpected idcode` holds `expected `), CRLF, invalid UTF-8, empty lines.
    fn awkward_log() -> Vec<u8> {
        let mut log = Vec::new();
        log.extend_from_slice(b"Info : JTAG tap: stm32f1x.cpu tap/device found\r\n\n\n");
        log.extend_from_slice(&vec![b'x'; MAX_ID_LINE_BYTES - 5]);
        log.extend_from_slice(b"Unexpected idcode 0x1\n");
        log.extend_from_slice(&vec![b'y'; 3 * MAX_ID_LINE_BYTES]);
        log.extend_from_slice(b" SWD DPIDR 0x2ba01477\n");
        log.extend_from_slice(b"Warn : UNEXPECTED \xff\xfe idcode: 0x2ba01477\n");
        log.extend_from_slice(b"Error: expected 1 of 1: 0x3ba00477\nno newline: device id = 0x1");
        log
    }

    #[test]
    fn the_id_lines_are_those_of_a_line_by_line_reading_in_any_split() {
        let mut log = awkward_log();
        let runs = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ocdoctor-core/tests/data/runs");
        let mut paths: Vec<_> = std::fs::read_dir(&runs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            log.extend_from_slice(&std::fs::read(path).unwrap());
        }
        log.extend_from_slice(&awkward_log());
        let expected = id_lines_one_by_one(&log);
        assert!(expected.len() > 50, "{}", expected.len());
        for piece in [1, 7, 100, 4095, 4096, 65536, log.len()] {
            assert_eq!(
                fed_in_pieces(&log, piece),
                expected,
                "pieces of {piece} bytes"
            );
        }
    }

    #[test]
    fn at_most_max_id_lines_are_kept_and_every_line_is_counted() {
        let mut log = Vec::new();
        for _ in 0..MAX_ID_LINES + 10 {
            log.extend_from_slice(b"Info : JTAG tap: a.cpu tap/device found\nDebug: x\n");
        }
        log.extend_from_slice(b"Info : SWD DPIDR 0x1\n");
        let kept = fed_in_pieces(&log, 1 << 20);
        assert_eq!(kept, id_lines_one_by_one(&log));
        assert_eq!(kept.len(), MAX_ID_LINES);
        assert_eq!(kept.last().unwrap().0, 2 * MAX_ID_LINES as u64 - 1);
    }
}
