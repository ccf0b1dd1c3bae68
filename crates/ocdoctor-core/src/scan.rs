//! The log scanner: one multi-pattern pass over a buffer, not every regex on every line.
//!
//! Phase 1 finds *candidate lines* over the raw bytes (ripgrep's approach): one Aho-Corasick
//! search for the literals every match of a pattern starts with ([`LiteralGate`]), plus one
//! `regex_automata::meta::Regex` of the few patterns without such literals. A line is a
//! candidate when one of the patterns whose literals it holds really matches it. Most lines of
//! a `-d3` log match nothing and are never decoded. Phase 2 cleans and classifies the
//! candidate line ([`LogLine`]) and runs, on its message, each pattern whose literals it
//! holds, to learn every pattern that matches.
//!
//! No pattern is compiled before a line calls for it: building the knowledge base's hundreds
//! of patterns as one automaton took most of a short diagnosis' time, and a log meets a few.
//!
//! The scanner is streaming: [`ScanState::feed`] takes complete lines, keeps a bounded
//! amount of evidence per rule and fact, and so scans a 1 GiB log in constant memory.

use crate::kb::{KnowledgeBase, parse_levels, stage_index};
use crate::literals::LiteralGate;
use crate::logline::{Level, LogLine};
use crate::version::{Banner, parse_banner};
use regex_automata::{Input, meta};
use std::io::Read;
use std::sync::OnceLock;

/// Longest line kept as evidence text (longer lines are cut, with an ellipsis).
const MAX_EVIDENCE_CHARS: usize = 400;
/// Evidence lines kept per rule; the count of further lines is kept.
const MAX_LINES_PER_RULE: usize = 5;
/// Longest text handed to phase 2 at once: a longer line is read in windows of this size
/// around each match, so nothing in it is skipped and memory stays bounded.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Size of the segments checked for binary content.
const SEGMENT: usize = 64 * 1024;
/// Size of the blocks the reader is cut into.
const BLOCK: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Fact(usize),
    Matcher {
        rule: usize,
        matcher: usize,
    },
    /// Any line that may carry an `Error:` (prefix or Tcl traceback form).
    ErrorWord,
    /// The banner `Open On-Chip Debugger …`.
    Banner,
}

/// Past this many bytes an input is big: the whole knowledge base is compiled into
/// [`FullAutomata`], whose build (tens of ms) a short log cannot amortise but a big one does.
const BIG_INPUT: u64 = 4 << 20;

/// The whole knowledge base as automata: phase 1's one regex of every pattern, phase 2's
/// sets. Per byte, faster than the literal gate on `-d3` logs, whose lines hold many literals.
struct FullAutomata {
    prefilter: meta::Regex,
    set: regex::bytes::RegexSet,
    /// The patterns that accept `Debug:` lines (most do not), as their own small set: the bulk
    /// of a `-d3` log is Debug lines, and most of its candidates too.
    debug_set: regex::bytes::RegexSet,
    /// `debug_set`'s pattern index → index into `patterns`.
    debug_ids: Vec<usize>,
}

/// The compiled knowledge base, ready to scan. Build once, scan many logs.
pub struct Scanner {
    kb: &'static KnowledgeBase,
    /// Which patterns a text may match, from their literals (indexes into `sources`).
    gate: LiteralGate,
    /// The patterns the gate cannot rule out (no usable literal), as one automaton for phase 1.
    residual_prefilter: Option<meta::Regex>,
    /// Per pattern, as phase 1 runs it on the raw bytes: compiled on first use.
    raw: Vec<OnceLock<Option<meta::Regex>>>,
    /// Phase 1's sources: the patterns' own, then `Error` and the banner.
    sources: Vec<String>,
    /// Per pattern, as phase 2 runs it on the message: compiled on first use.
    phase2: Vec<OnceLock<Option<regex::bytes::Regex>>>,
    /// Same order as `sources`.
    patterns: Vec<Pattern>,
    /// Built when a scan's input proves big (`None` inside if it failed: the gate goes on).
    full: OnceLock<Option<FullAutomata>>,
    /// Per pattern: the regex for captures (only when it has named groups) and allowed levels.
    captures: Vec<std::sync::OnceLock<Option<regex::Regex>>>,
    /// Pattern sources as phase 2 runs them (for the lazily compiled capture regexes).
    anchored: Vec<String>,
    levels: Vec<Vec<Level>>,
    /// Per pattern: a rule matcher that fires on its line alone (no condition on the rule or
    /// the matcher), so its line is explained whatever else the log shows.
    unconditional: Vec<bool>,
}

/// One line kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineHit {
    /// 1-based line number.
    pub line: u64,
    pub level: Level,
    /// The cleaned line (cut to a few hundred characters).
    pub text: String,
}

/// Named captures of a line: (group name, text).
pub type Captures = Vec<(String, String)>;
/// A line a matcher matched: (matcher index, the line, its captures).
pub type MatchedLine = (usize, LineHit, Captures);

/// An unexplained line that the message catalog knows: which format of which source file.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogLine {
    pub line: LineHit,
    pub found: crate::catalog::CatalogMatch,
    /// Rules (indexes) that matched the line but fire only under conditions (a version, the
    /// OS, the machine): when one of them fires, it explains the line and the catalog is mute.
    pub conditional_rules: Vec<usize>,
}

/// Catalogued lines kept per subsystem (the count of further ones is kept).
const MAX_CATALOG_LINES_PER_SUBSYSTEM: usize = 3;

#[derive(Debug, Clone, Default)]
pub struct RuleHits {
    /// How many lines matched (all of them, not only those kept).
    pub count: u64,
    /// The first few: (matcher index, line, named captures). One line may appear once per
    /// matcher that matched it.
    pub lines: Vec<MatchedLine>,
    /// The last line counted, so a line matched by two matchers counts once.
    pub last_line: u64,
}

#[derive(Debug, Clone)]
pub struct FactHits {
    pub count: u64,
    pub first: LineHit,
    pub first_captures: Vec<(String, String)>,
    pub last: LineHit,
}

/// Everything the scanner learned from a log; input to inference.
#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    pub lines: u64,
    /// Lines the first pass picked for a closer look (a measure of the scanner's work).
    pub candidates: u64,
    pub bytes: u64,
    /// Per rule (same order as the knowledge base).
    pub rules: Vec<RuleHits>,
    /// Per fact (same order as the knowledge base).
    pub facts: Vec<Option<FactHits>>,
    pub banner: Option<Banner>,
    pub first_error: Option<LineHit>,
    /// `Error` lines that no rule explained (first few) and how many there were.
    pub unexplained_errors: Vec<LineHit>,
    pub unexplained_error_count: u64,
    /// Unexplained `Error` lines that OpenOCD's message catalog knows (a few per subsystem).
    pub catalogued: Vec<CatalogLine>,
    /// Unexplained `Error` lines per catalog subsystem (all of them).
    pub catalogued_count: std::collections::BTreeMap<String, u64>,
    /// Unexplained `Error` lines the catalog does not know either.
    pub uncatalogued_error_count: u64,
    /// The furthest stage a marker showed before the first error line, and overall.
    pub stage_before_first_error: Option<usize>,
    pub furthest_stage: Option<usize>,
    /// A success marker (gdb server listening, flash verified) was seen after the last error.
    pub success_after_errors: bool,
    pub success_seen: bool,
    /// Bytes skipped as binary (not log text).
    pub binary_bytes: u64,
}

impl Scanner {
    pub fn new(kb: &'static KnowledgeBase) -> Result<Scanner, String> {
        let mut sources: Vec<String> = Vec::new();
        // The second pass runs on the message alone, so anchors work there.
        let mut anchored: Vec<String> = Vec::new();
        let mut patterns = Vec::new();
        let mut levels = Vec::new();
        for (i, f) in kb.facts.iter().enumerate() {
            sources.push(f.regex.clone());
            anchored.push(f.regex.clone());
            patterns.push(Pattern::Fact(i));
            levels.push(parse_levels(&f.level)?);
        }
        for (ri, r) in kb.rules.iter().enumerate() {
            for (mi, m) in r
                .matchers
                .iter()
                .enumerate()
                .filter(|(_, m)| m.fact.is_none() && m.problem.is_none())
            {
                sources.push(m.regex.clone());
                anchored.push(crate::kb::Anchor::wrap(m.anchor, &m.regex));
                patterns.push(Pattern::Matcher {
                    rule: ri,
                    matcher: mi,
                });
                levels.push(parse_levels(&m.level)?);
            }
        }
        // `Error` finds the OpenOCD prefix and the `file:NN: Error:` traceback form alike.
        sources.push("Error".into());
        patterns.push(Pattern::ErrorWord);
        levels.push(vec![]);
        sources.push("Open On-Chip Debugger".into());
        patterns.push(Pattern::Banner);
        levels.push(vec![]);

        let gate = LiteralGate::new(&sources)?;
        let residual: Vec<&String> = gate.residual.iter().map(|&i| &sources[i]).collect();
        let residual_prefilter = if residual.is_empty() {
            None
        } else {
            Some(
                phase1_builder()
                    .build_many(&residual)
                    .map_err(|e| format!("compiling the knowledge base's patterns: {e}"))?,
            )
        };
        // Compiled on first use: most patterns never match a given log, and compiling all of
        // them would dominate the start-up time.
        let captures = anchored
            .iter()
            .map(|_| std::sync::OnceLock::new())
            .collect();
        let unconditional = patterns
            .iter()
            .map(|p| match *p {
                Pattern::Matcher { rule, matcher } => {
                    let r = &kb.rules[rule];
                    let m = &r.matchers[matcher];
                    r.when.is_always() && m.when.is_always() && m.min_count.is_none()
                }
                _ => false,
            })
            .collect();
        Ok(Scanner {
            phase2: anchored.iter().map(|_| OnceLock::new()).collect(),
            raw: sources.iter().map(|_| OnceLock::new()).collect(),
            anchored,
            sources,
            kb,
            gate,
            residual_prefilter,
            patterns,
            full: OnceLock::new(),
            captures,
            levels,
            unconditional,
        })
    }

    pub fn kb(&self) -> &'static KnowledgeBase {
        self.kb
    }

    /// The whole knowledge base compiled, for big inputs.
    fn full(&self) -> Option<&FullAutomata> {
        self.full.get_or_init(|| self.build_full().ok()).as_ref()
    }

    fn build_full(&self) -> Result<FullAutomata, String> {
        let build_prefilter = || {
            phase1_builder()
                .build_many(&self.sources)
                .map_err(|e| format!("compiling the knowledge base's patterns: {e}"))
        };
        let build_set = || {
            regex::bytes::RegexSetBuilder::new(&self.anchored)
                .unicode(false)
                .dfa_size_limit(64 << 20)
                .size_limit(64 << 20)
                .build()
                .map_err(|e| e.to_string())
        };
        let debug_ids: Vec<usize> = (0..self.anchored.len())
            .filter(|&i| self.levels[i].contains(&Level::Debug))
            .collect();
        let build_debug_set = || {
            regex::bytes::RegexSetBuilder::new(debug_ids.iter().map(|&i| &self.anchored[i]))
                .unicode(false)
                .size_limit(64 << 20)
                .dfa_size_limit(16 << 20)
                .build()
                .map_err(|e| e.to_string())
        };
        // The automata are independent and each takes several ms to build: side by side.
        let panicked = |_| Err("building a pattern set panicked".to_string());
        let (prefilter, set, debug_set) = std::thread::scope(|s| {
            let set = s.spawn(build_set);
            let debug_set = s.spawn(build_debug_set);
            let prefilter = build_prefilter();
            (
                prefilter,
                set.join().unwrap_or_else(panicked),
                debug_set.join().unwrap_or_else(panicked),
            )
        });
        Ok(FullAutomata {
            prefilter: prefilter?,
            set: set?,
            debug_set: debug_set?,
            debug_ids,
        })
    }

    /// Pattern `i` as phase 1 runs it (`None` if it does not compile, which the kb tests rule out).
    fn raw_regex(&self, i: usize) -> Option<&meta::Regex> {
        self.raw[i]
            .get_or_init(|| phase1_builder().build(&self.sources[i]).ok())
            .as_ref()
    }

    /// Pattern `i` as phase 2 runs it on a message.
    fn phase2_regex(&self, i: usize) -> Option<&regex::bytes::Regex> {
        self.phase2[i]
            .get_or_init(|| {
                // ASCII classes, like phase 1: the Unicode versions of `\w`, `\s`, `\d` and
                // case folding make the automata many times bigger and slower to build, and
                // OpenOCD's messages are ASCII. Captures are taken with each pattern's own
                // (Unicode) regex.
                regex::bytes::RegexBuilder::new(&self.anchored[i])
                    .unicode(false)
                    .dfa_size_limit(64 << 20)
                    .size_limit(64 << 20)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    pub fn start(&self) -> ScanState<'_> {
        ScanState {
            scanner: self,
            line: 0,
            result: ScanResult {
                rules: vec![RuleHits::default(); self.kb.rules.len()],
                facts: vec![None; self.kb.facts.len()],
                ..ScanResult::default()
            },
            carry: Vec::new(),
            last_echo: None,
            decoder: crate::decode::Decoder::default(),
            possible: Vec::new(),
            full: None,
        }
    }

    pub fn scan_bytes(&self, bytes: &[u8]) -> ScanResult {
        let mut st = self.start();
        st.feed(bytes);
        st.finish()
    }

    /// Scan a reader in blocks; memory stays bounded whatever the size of the input.
    pub fn scan_reader<R: Read>(&self, mut r: R) -> std::io::Result<ScanResult> {
        let mut st = self.start();
        let mut buf = vec![0u8; BLOCK];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            st.feed(&buf[..n]);
        }
        Ok(st.finish())
    }
}

/// An in-progress scan. Feed it bytes in any split; lines are reassembled.
pub struct ScanState<'s> {
    scanner: &'s Scanner,
    /// Lines fully processed so far.
    line: u64,
    result: ScanResult,
    /// An incomplete last line from the previous block (at most `MAX_LINE_BYTES`: a longer
    /// line is scanned piece by piece, under one line number).
    carry: Vec<u8>,
    /// The text of the last `echo "…"` command seen: its output is that text, without a
    /// prefix, and must not be taken for a pasted OpenOCD message.
    last_echo: Option<String>,
    /// UTF-16, CR-only and NUL-separated logs become UTF-8 lines ended by `\n`.
    decoder: crate::decode::Decoder,
    /// Scratch: the patterns a line may match (kept to avoid an allocation per line).
    possible: Vec<usize>,
    /// The whole knowledge base compiled, once the input proved big.
    full: Option<&'s FullAutomata>,
}

impl ScanState<'_> {
    pub fn feed(&mut self, bytes: &[u8]) {
        self.result.bytes += bytes.len() as u64;
        if self.full.is_none() && self.result.bytes > BIG_INPUT {
            self.full = self.scanner.full();
        }
        let text = self.decoder.feed(bytes);
        self.feed_lines(&text);
    }

    /// Feed decoded text (lines ended by `\n`, in any split).
    fn feed_lines(&mut self, mut bytes: &[u8]) {
        if !self.carry.is_empty() {
            // Complete the carried line first.
            match memchr::memchr(b'\n', bytes) {
                Some(i) => {
                    self.carry.extend_from_slice(&bytes[..=i]);
                    self.cap_carry();
                    let line = std::mem::take(&mut self.carry);
                    self.block(&line);
                    bytes = &bytes[i + 1..];
                }
                None => {
                    self.carry.extend_from_slice(bytes);
                    self.cap_carry();
                    return;
                }
            }
        }
        let complete = match memchr::memrchr(b'\n', bytes) {
            Some(i) => i + 1,
            None => 0,
        };
        self.block(&bytes[..complete]);
        self.carry.extend_from_slice(&bytes[complete..]);
        self.cap_carry();
    }

    /// A line of megabytes: scan its head as a piece of the same line (one line number) and
    /// keep the rest, so memory stays bounded and nothing is skipped.
    fn cap_carry(&mut self) {
        while self.carry.len() > MAX_LINE_BYTES {
            // Cut after a space near the limit when there is one, so a message is rarely split.
            let window = &self.carry[MAX_LINE_BYTES - 4096..MAX_LINE_BYTES];
            let cut = memchr::memrchr(b' ', window)
                .map_or(MAX_LINE_BYTES, |i| MAX_LINE_BYTES - 4096 + i + 1);
            let mut piece: Vec<u8> = self.carry.drain(..cut).collect();
            if piece.last() == Some(&b'\n') {
                // The whole line fits after all: it is the line itself.
                self.block(&piece);
                continue;
            }
            piece.push(b'\n');
            self.block(&piece);
            // The line goes on in the carry: it was not a line of its own.
            self.line -= 1;
        }
    }

    /// What the scan has found so far, borrowed (the line count is not updated: use `peek`).
    pub fn so_far(&self) -> &ScanResult {
        &self.result
    }

    /// What the scan knows so far (complete lines only), without ending it: the run wrapper
    /// diagnoses while OpenOCD is still running.
    pub fn peek(&self) -> ScanResult {
        let mut r = self.result.clone();
        r.lines = self.line;
        r
    }

    pub fn finish(mut self) -> ScanResult {
        let tail = self.decoder.finish();
        self.feed_lines(&tail);
        if !self.carry.is_empty() {
            let last = std::mem::take(&mut self.carry);
            self.block(&last);
        }
        self.result.lines = self.line;
        self.result
    }

    /// Scan a block made of whole lines (the last one may lack its `\n` only at the very end).
    fn block(&mut self, buf: &[u8]) {
        let mut counted = 0; // bytes whose newlines are already in `self.line`
        let base_line = self.line;
        let mut lines_before = 0u64;
        // Segments of about SEGMENT bytes, cut at line ends. A segment that is mostly control
        // bytes is binary (a dump, SWO or semihosting noise, a wrong file), not log text: it is
        // skipped, because random bytes make the lazy DFA rebuild its states on every byte.
        let mut seg_start = 0;
        while seg_start < buf.len() {
            let seg_end = match buf.len() - seg_start {
                n if n <= SEGMENT => buf.len(),
                _ => memchr::memchr(b'\n', &buf[seg_start + SEGMENT..])
                    .map_or(buf.len(), |i| seg_start + SEGMENT + i + 1),
            };
            // In a binary segment only the lines that are text themselves are searched.
            let ranges: Vec<(usize, usize)> = if looks_binary(&buf[seg_start..seg_end]) {
                let mut text_lines = Vec::new();
                let mut line_start = seg_start;
                while line_start < seg_end {
                    let line_end = memchr::memchr(b'\n', &buf[line_start..seg_end])
                        .map_or(seg_end, |i| line_start + i + 1);
                    if looks_binary(&buf[line_start..line_end]) {
                        self.result.binary_bytes += (line_end - line_start) as u64;
                    } else {
                        text_lines.push((line_start, line_end));
                    }
                    line_start = line_end;
                }
                text_lines
            } else {
                vec![(seg_start, seg_end)]
            };
            for (range_start, range_end) in ranges {
                self.search_range(
                    buf,
                    range_start,
                    range_end,
                    base_line,
                    &mut counted,
                    &mut lines_before,
                );
            }
            seg_start = seg_end;
        }
        self.line = base_line + memchr::memchr_iter(b'\n', buf).count() as u64;
        if !buf.is_empty() && buf[buf.len() - 1] != b'\n' {
            self.line += 1; // a final line without newline
        }
    }

    /// Find and handle the candidate lines in `buf[from..to]` (whole lines).
    fn search_range(
        &mut self,
        buf: &[u8],
        from: usize,
        to: usize,
        base_line: u64,
        counted: &mut usize,
        lines_before: &mut u64,
    ) {
        let sc = self.scanner;
        let mut pos = from;
        // The next literal and the next residual match ending at or after `pos` (both
        // searches report the earliest match end, so a result stays right until `pos` passes
        // it).
        let mut next_literal: Option<usize> = None;
        let mut next_residual: Option<usize> = None;
        while pos < to {
            if let Some(full) = self.full {
                let input = Input::new(buf).range(pos..to).earliest(true);
                let Some(m) = full.prefilter.search_half(&input) else {
                    break;
                };
                pos = self.candidate_at(buf, m.offset(), pos, base_line, counted, lines_before);
                continue;
            }
            if next_literal.is_some_and(|e| e <= pos) {
                next_literal = None;
            }
            if next_literal.is_none() {
                next_literal = sc.gate.next_end(buf, pos, to).or(Some(usize::MAX));
            }
            if next_residual.is_some_and(|e| e <= pos) {
                next_residual = None;
            }
            if next_residual.is_none() {
                next_residual = Some(sc.residual_prefilter.as_ref().map_or(usize::MAX, |re| {
                    re.search_half(&Input::new(buf).range(pos..to).earliest(true))
                        .map_or(usize::MAX, |m| m.offset())
                }));
            }
            let (lit, res) = (
                next_literal.unwrap_or(usize::MAX),
                next_residual.unwrap_or(usize::MAX),
            );
            let first = lit.min(res);
            if first == usize::MAX {
                break;
            }
            // The line holding `first`, and the earliest end there of a pattern that matches.
            let (line_start, line_end) = line_around(buf, first, pos);
            let line_stop = (line_end + 1).min(to);
            let mut earliest = (res <= line_stop).then_some(res);
            if lit <= line_stop {
                let mut possible = std::mem::take(&mut self.possible);
                sc.gate.possible(&buf[line_start..line_stop], &mut possible);
                for &p in &possible {
                    let Some(re) = sc.raw_regex(p) else { continue };
                    let input = Input::new(buf)
                        .range(pos.max(line_start)..line_stop)
                        .earliest(true);
                    if let Some(m) = re.search_half(&input) {
                        earliest = Some(earliest.map_or(m.offset(), |e| e.min(m.offset())));
                    }
                }
                self.possible = possible;
            }
            let Some(offset) = earliest else {
                // Literals but no match: not a candidate.
                pos = line_stop.max(pos + 1);
                continue;
            };
            pos = self.candidate_at(buf, offset, pos, base_line, counted, lines_before);
        }
    }

    /// Handle the candidate line holding a match that ends at `offset` (searched from `pos`);
    /// returns where the search goes on.
    fn candidate_at(
        &mut self,
        buf: &[u8],
        offset: usize,
        pos: usize,
        base_line: u64,
        counted: &mut usize,
        lines_before: &mut u64,
    ) -> usize {
        let mut at = offset.saturating_sub(1).max(pos);
        if buf.get(at) == Some(&b'\n') && at > pos {
            at -= 1; // a match that ended on the newline belongs to the line before it
        }
        let start = memchr::memrchr(b'\n', &buf[..at])
            .map_or(0, |i| i + 1)
            .max(pos);
        let end = memchr::memchr(b'\n', &buf[at..]).map_or(buf.len(), |i| at + i);
        *lines_before += memchr::memchr_iter(b'\n', &buf[*counted..start]).count() as u64;
        *counted = start;
        let (raw, next) = if end - start <= MAX_LINE_BYTES {
            (&buf[start..end], end + 1)
        } else {
            // A line longer than phase 2 takes: the window around this match, and the
            // search goes on inside the same line.
            let from = at.saturating_sub(MAX_LINE_BYTES / 2).max(start);
            let to = (from + MAX_LINE_BYTES).min(end);
            (&buf[from..to], to.max(at + 1))
        };
        self.line_hit(base_line + *lines_before + 1, raw);
        next
    }

    fn line_hit(&mut self, line_no: u64, raw: &[u8]) {
        let sc = self.scanner;
        self.result.candidates += 1;
        let mut line = LogLine::parse(raw);
        let echoed = self.last_echo.take();
        if line.level == Level::Plain {
            if let Some(arg) = line.message().trim().strip_prefix("echo ") {
                self.last_echo = Some(
                    arg.trim_matches(|c| c == '"' || c == '{' || c == '}')
                        .to_string(),
                );
            }
        }
        // The catalog format a pasted line was recognised by, reused below for its evidence.
        let mut pasted = None;
        if line.level == Level::Plain && echoed.as_deref() != Some(line.message().trim()) {
            // A message pasted without its `Error: ` / `Warn : ` prefix keeps its level.
            if let Some((level, found)) =
                crate::catalog::Catalog::embedded().pasted_level(line.message())
            {
                line.level = level;
                pasted = Some(found);
            }
        }
        let line = line;
        let msg = line.message();
        let kb = sc.kb;
        let r = &mut self.result;
        let hit = || LineHit {
            line: line_no,
            level: line.level,
            text: cut(&line.text),
        };

        if r.banner.is_none() && line.text.contains("Open On-Chip Debugger") {
            r.banner = parse_banner(&line.text);
        }

        let mut explained = false;
        let mut conditional: Vec<usize> = Vec::new();
        let mut marker_stage: Option<usize> = None;
        let mut success = false;
        let mut possible = std::mem::take(&mut self.possible);
        match self.full {
            // The sets say which patterns match.
            Some(full) if line.level == Level::Debug => {
                possible.clear();
                let found = full.debug_set.matches(msg.as_bytes());
                possible.extend(found.iter().map(|i| full.debug_ids[i]));
            }
            Some(full) => {
                possible.clear();
                possible.extend(full.set.matches(msg.as_bytes()).iter());
            }
            // The gate says which patterns may match; each is run below.
            None => sc.gate.possible(msg.as_bytes(), &mut possible),
        }
        for &pi in &possible {
            // `Error` and the banner (after the patterns) have no levels: never in phase 2.
            if !sc.levels[pi].contains(&line.level)
                || (self.full.is_none()
                    && !sc
                        .phase2_regex(pi)
                        .is_some_and(|re| re.is_match(msg.as_bytes())))
            {
                continue;
            }
            let caps = || -> Vec<(String, String)> {
                let re = sc.captures[pi].get_or_init(|| {
                    regex::Regex::new(&sc.anchored[pi])
                        .ok()
                        .filter(|re| re.capture_names().flatten().next().is_some())
                });
                let Some(re) = re else {
                    return vec![];
                };
                let Some(c) = re.captures(msg) else {
                    return vec![];
                };
                re.capture_names()
                    .flatten()
                    .filter_map(|n| c.name(n).map(|m| (n.to_string(), m.as_str().to_string())))
                    .collect()
            };
            match sc.patterns[pi] {
                Pattern::Fact(fi) => {
                    let def = &kb.facts[fi];
                    if let Some(s) = def.stage.as_deref().and_then(stage_index) {
                        marker_stage = Some(marker_stage.map_or(s, |m: usize| m.max(s)));
                    }
                    success |= def.success;
                    match &mut r.facts[fi] {
                        Some(f) => {
                            f.count += 1;
                            f.last = hit();
                        }
                        slot @ None => {
                            *slot = Some(FactHits {
                                count: 1,
                                first: hit(),
                                first_captures: caps(),
                                last: hit(),
                            })
                        }
                    }
                }
                Pattern::Matcher { rule, matcher } => {
                    // Any rule that knows the line explains it, including the info rules for
                    // follow-up lines ("Trying to use configured scan chain anyway..."); a
                    // rule with conditions explains it only if it fires (decided by inference).
                    if sc.unconditional[pi] {
                        explained = true;
                    } else if !conditional.contains(&rule) {
                        conditional.push(rule);
                    }
                    let rh = &mut r.rules[rule];
                    if rh.last_line != line_no {
                        rh.count += 1;
                        rh.last_line = line_no;
                    }
                    if rh.lines.len() < MAX_LINES_PER_RULE {
                        rh.lines.push((matcher, hit(), caps()));
                    }
                }
                Pattern::ErrorWord | Pattern::Banner => {}
            }
        }
        self.possible = possible;

        if let Some(s) = marker_stage {
            r.furthest_stage = Some(r.furthest_stage.map_or(s, |m| m.max(s)));
            if r.first_error.is_none() {
                r.stage_before_first_error =
                    Some(r.stage_before_first_error.map_or(s, |m| m.max(s)));
            }
        }
        if line.level == Level::Error {
            if r.first_error.is_none() {
                r.first_error = Some(hit());
            }
            r.success_after_errors = false;
            if !explained && !msg.trim().is_empty() {
                r.unexplained_error_count += 1;
                if r.unexplained_errors.len() < MAX_LINES_PER_RULE {
                    r.unexplained_errors.push(hit());
                }
                let catalog = crate::catalog::Catalog::embedded();
                match pasted.take().or_else(|| catalog.lookup(msg)) {
                    Some(found) => {
                        let sub = &catalog.formats[found.format as usize].subsystem;
                        let n = r.catalogued_count.entry(sub.clone()).or_default();
                        *n += 1;
                        if *n as usize <= MAX_CATALOG_LINES_PER_SUBSYSTEM {
                            r.catalogued.push(CatalogLine {
                                line: hit(),
                                found,
                                conditional_rules: conditional,
                            });
                        }
                    }
                    None => r.uncatalogued_error_count += 1,
                }
            }
        }
        if success {
            r.success_seen = true;
            r.success_after_errors = true;
        }
    }
}

/// The line (start, end without its newline) holding a match that ends at `match_end`, not
/// before `pos`. A match that ended on the newline belongs to the line before it.
fn line_around(buf: &[u8], match_end: usize, pos: usize) -> (usize, usize) {
    let mut at = match_end.saturating_sub(1).max(pos);
    if buf.get(at) == Some(&b'\n') && at > pos {
        at -= 1;
    }
    let start = memchr::memrchr(b'\n', &buf[..at])
        .map_or(0, |i| i + 1)
        .max(pos);
    let end = memchr::memchr(b'\n', &buf[at..]).map_or(buf.len(), |i| at + i);
    (start, end)
}

/// Phase 1 only picks candidate lines, so it runs byte-oriented and ASCII-only: `\w`, `\b`,
/// `\s` and case folding over Unicode blow up the lazy DFA on binary or noisy input (the meta
/// regex then falls back to a PikeVM, ~1000x slower). OpenOCD's messages are ASCII; phase 2
/// re-checks each candidate, so nothing is lost but a few wasted candidates.
fn phase1_builder() -> meta::Builder {
    let mut b = meta::Regex::builder();
    b.syntax(
        regex_automata::util::syntax::Config::new()
            .unicode(false)
            .utf8(false),
    )
    .configure(
        meta::Config::new()
            .utf8_empty(false)
            .nfa_size_limit(Some(64 << 20))
            .hybrid_cache_capacity(16 << 20),
    );
    b
}

/// More than 5 % control bytes (other than tab, CR, LF, ESC): not text. Log text, even with
/// colour codes and a few stray bytes, stays far below; random data has about 10 %.
fn looks_binary(seg: &[u8]) -> bool {
    let controls = seg
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x1b)) || b == 0x7f)
        .count();
    controls * 20 > seg.len()
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_EVIDENCE_CHARS {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_EVIDENCE_CHARS).collect();
    out.push('…');
    out
}
