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

use crate::automata::Matcher;
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
const BLOCK: usize = 8 * 1024 * 1024;
/// The reader's first block (see [`Scanner::scan_reader`]).
const FIRST_BLOCK: usize = 64 * 1024;

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
/// Measured on a 256 MiB real `-d3` log (`bench/run.sh`), its non-Debug lines searched with
/// it and phase 2 answered by its sets take about a third of the CPU the literal gate takes
/// (`-d3` lines hold many literals of patterns that then fail). Both give the same results
/// (tested below on every test log).
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
    /// The patterns the gate cannot rule out (no usable literal), as one automaton for phase 1
    /// (built by build.rs for the embedded knowledge base).
    residual_prefilter: Option<Matcher>,
    /// Per pattern, as phase 1 runs it on the raw bytes: the build-time DFA or compiled, on
    /// first use.
    raw: Vec<OnceLock<Option<Matcher>>>,
    /// Phase 1's sources: the patterns' own, then `Error` and the banner.
    sources: Vec<String>,
    /// Per pattern, as phase 2 runs it on the message: like `raw`.
    phase2: Vec<OnceLock<Option<Matcher>>>,
    /// Same order as `sources`.
    patterns: Vec<Pattern>,
    /// Built when a scan's input proves big (`None` inside if it failed: the gate goes on).
    full: OnceLock<Option<FullAutomata>>,
    /// Per pattern: the regex for captures (only when it has named groups) and allowed levels.
    captures: Vec<std::sync::OnceLock<Option<regex::Regex>>>,
    /// Pattern sources as phase 2 runs them (for the lazily compiled capture regexes).
    anchored: Vec<String>,
    levels: Vec<Vec<Level>>,
    /// Phase 1 for runs of `Debug:` lines: one automaton of the `debug_ok` patterns, compiled
    /// on the first such run (`None` inside if there are none or it failed to compile).
    debug_prefilter: OnceLock<Option<meta::Regex>>,
    /// Per pattern: it can make a `Debug:` line a candidate (it accepts Debug lines, or it is
    /// the banner).
    debug_ok: Vec<bool>,
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
            match Matcher::embedded_residual(&residual) {
                Some(dfa) => Some(dfa),
                None => Some(Matcher::Regex(
                    phase1_builder()
                        .build_many(&residual)
                        .map_err(|e| format!("compiling the knowledge base's patterns: {e}"))?,
                )),
            }
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
        let debug_ok = patterns
            .iter()
            .zip(&levels)
            .map(|(p, l)| *p == Pattern::Banner || l.contains(&Level::Debug))
            .collect();
        Ok(Scanner {
            debug_ok,
            debug_prefilter: OnceLock::new(),
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

    /// Phase 1's automaton for `Debug:` lines.
    fn debug_prefilter(&self) -> Option<&meta::Regex> {
        self.debug_prefilter
            .get_or_init(|| {
                let sources: Vec<&String> = (0..self.sources.len())
                    .filter(|&i| self.debug_ok[i])
                    .map(|i| &self.sources[i])
                    .collect();
                (!sources.is_empty())
                    .then(|| phase1_builder().build_many(&sources).ok())
                    .flatten()
            })
            .as_ref()
    }

    /// Pattern `i` as phase 1 runs it (`None` if it does not compile, which the kb tests rule out).
    fn raw_regex(&self, i: usize) -> Option<&Matcher> {
        self.raw[i]
            .get_or_init(|| line_matcher(&self.sources[i]))
            .as_ref()
    }

    /// Pattern `i` as phase 2 runs it on a message.
    fn phase2_regex(&self, i: usize) -> Option<&Matcher> {
        // ASCII classes, like phase 1: the Unicode versions of `\w`, `\s`, `\d` and case
        // folding make the automata many times bigger and slower to build, and OpenOCD's
        // messages are ASCII. Captures are taken with each pattern's own (Unicode) regex.
        if self.anchored[i] == self.sources[i] {
            // An unanchored pattern is the same regex in both phases, built the same way.
            return self.raw_regex(i);
        }
        self.phase2[i]
            .get_or_init(|| line_matcher(&self.anchored[i]))
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

    /// Scan a reader in blocks; memory stays bounded whatever the size of the input. The
    /// buffer starts at [`FIRST_BLOCK`] and grows fourfold up to [`BLOCK`] while reads fill
    /// it: a short log does not pay for zeroing 8 MiB (it was a tenth of the time of a
    /// diagnosis of a few KB), a long one is read in whole blocks.
    pub fn scan_reader<R: Read>(&self, mut r: R) -> std::io::Result<ScanResult> {
        let mut st = self.start();
        let mut buf = vec![0u8; FIRST_BLOCK];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            st.feed(&buf[..n]);
            if n == buf.len() && buf.len() < BLOCK {
                buf.resize((buf.len() * 4).min(BLOCK), 0);
            }
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
        if self.decoder.passes_through() {
            // Plain UTF-8 with `\n` line ends, the usual log: no copy.
            self.feed_lines(bytes);
        } else {
            let text = self.decoder.feed(bytes);
            self.feed_lines(&text);
        }
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
    /// Phase 1 (finding the candidate lines) needs nothing but the block, so a big block is
    /// cut into parts searched on all cores; phase 2 then takes their candidates in order, so
    /// the result is the one a single pass gives.
    fn block(&mut self, buf: &[u8]) {
        let base_line = self.line;
        let segments = segments(buf);
        let parts = parts_for_threads(buf.len(), &segments);
        let finder = Finder {
            scanner: self.scanner,
            full: self.full,
            buf,
        };
        let found: Vec<Found> = if parts.len() == 1 {
            vec![finder.search(&segments)]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = parts
                    .iter()
                    .map(|range| {
                        let finder = &finder;
                        let segments = &segments[range.clone()];
                        s.spawn(move || finder.search(segments))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        let mut lines_before = 0u64;
        for part in found {
            self.result.binary_bytes += part.binary_bytes;
            for c in &part.candidates {
                self.line_hit(
                    base_line + lines_before + c.lines_before + 1,
                    &buf[c.start..c.end],
                );
            }
            lines_before += part.newlines;
        }
        self.line = base_line + lines_before;
        if !buf.is_empty() && buf[buf.len() - 1] != b'\n' {
            self.line += 1; // a final line without newline
        }
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
        // OpenOCD's banner is its own first line, printed without a prefix: never a pasted
        // message. Asking the catalog about it would build the catalog (most of a short
        // diagnosis' time) for a line every log has.
        if line.level == Level::Plain
            && echoed.as_deref() != Some(line.message().trim())
            && !is_plain_banner(line.message())
        {
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
            // The sets say which patterns match (measured on a 256 MiB `-d3` log: a quarter
            // less CPU than the gate and one regex per pattern).
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
                    // Only a pattern with a named group (`(?P<n>…)` or `(?<n>…)`) has
                    // captures to take: the others are not compiled again.
                    let source = &sc.anchored[pi];
                    (source.contains("(?P<") || source.contains("(?<"))
                        .then(|| regex::Regex::new(source).ok())
                        .flatten()
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
                            // Most candidates of a big log are fact lines: the last one's
                            // text reuses the previous one's buffer (no allocation per line).
                            f.last.line = line_no;
                            f.last.level = line.level;
                            cut_into(&line.text, &mut f.last.text);
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
                        let sub = catalog.subsystem_id(found.format);
                        let n = r.catalogued_count.entry(sub.to_string()).or_default();
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

/// Below this, a block is searched on one core (threads would cost more than they save).
const PARALLEL_MIN_BYTES: usize = 2 << 20;
/// At most this many threads search one block.
const MAX_THREADS: usize = 8;

/// The block cut into segments of about [`SEGMENT`] bytes at line ends: (start, end).
fn segments(buf: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(buf.len() / SEGMENT + 1);
    let mut seg_start = 0;
    while seg_start < buf.len() {
        let seg_end = match buf.len() - seg_start {
            n if n <= SEGMENT => buf.len(),
            _ => memchr::memchr(b'\n', &buf[seg_start + SEGMENT..])
                .map_or(buf.len(), |i| seg_start + SEGMENT + i + 1),
        };
        out.push((seg_start, seg_end));
        seg_start = seg_end;
    }
    out
}

/// The segments (index ranges) each thread searches: one part per core, cut where the bytes
/// are shared evenly, or a single part for a small block.
fn parts_for_threads(len: usize, segments: &[(usize, usize)]) -> Vec<std::ops::Range<usize>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
        .min(len / (PARALLEL_MIN_BYTES / 2) + 1);
    if len < PARALLEL_MIN_BYTES || threads < 2 || segments.len() < 2 {
        return std::iter::once(0..segments.len()).collect();
    }
    let mut parts = Vec::with_capacity(threads);
    let mut first = 0;
    for t in 1..threads {
        let cut = len * t / threads;
        let last = segments.partition_point(|&(start, _)| start < cut);
        if last > first {
            parts.push(first..last);
            first = last;
        }
    }
    parts.push(first..segments.len());
    parts
}

/// A line phase 1 picked: its bytes in the block, and how many lines of the part searched
/// come before it.
struct Candidate {
    lines_before: u64,
    start: usize,
    end: usize,
}

/// What phase 1 found in a part of a block.
struct Found {
    candidates: Vec<Candidate>,
    binary_bytes: u64,
    /// Line ends in the part.
    newlines: u64,
}

/// Phase 1 over one block: which lines are candidates. Reads only the scanner and the block,
/// so parts of a block can be searched side by side.
struct Finder<'s, 'b> {
    scanner: &'s Scanner,
    full: Option<&'s FullAutomata>,
    buf: &'b [u8],
}

/// Where one part's search is: the bytes whose newlines are counted, and their count.
struct Cursor {
    counted: usize,
    lines_before: u64,
    found: Found,
    /// Scratch: the patterns a line may match (kept to avoid an allocation per line).
    possible: Vec<usize>,
}

impl Finder<'_, '_> {
    /// Search consecutive segments (whole lines).
    fn search(&self, segments: &[(usize, usize)]) -> Found {
        let buf = self.buf;
        let (Some(&(from, _)), Some(&(_, to))) = (segments.first(), segments.last()) else {
            return Found {
                candidates: Vec::new(),
                binary_bytes: 0,
                newlines: 0,
            };
        };
        let mut cur = Cursor {
            counted: from,
            lines_before: 0,
            found: Found {
                candidates: Vec::new(),
                binary_bytes: 0,
                newlines: memchr::memchr_iter(b'\n', &buf[from..to]).count() as u64,
            },
            possible: Vec::new(),
        };
        for &(seg_start, seg_end) in segments {
            // A segment that is mostly control bytes is binary (a dump, SWO or semihosting
            // noise, a wrong file), not log text: only its lines that are text themselves are
            // searched, because random bytes make the lazy DFA rebuild its states on every byte.
            if looks_binary(&buf[seg_start..seg_end]) {
                let mut line_start = seg_start;
                while line_start < seg_end {
                    let line_end = memchr::memchr(b'\n', &buf[line_start..seg_end])
                        .map_or(seg_end, |i| line_start + i + 1);
                    if looks_binary(&buf[line_start..line_end]) {
                        cur.found.binary_bytes += (line_end - line_start) as u64;
                    } else {
                        self.search_range(line_start, line_end, &mut cur);
                    }
                    line_start = line_end;
                }
            } else {
                self.search_range(seg_start, seg_end, &mut cur);
            }
        }
        cur.found
    }

    /// Find the candidate lines in `buf[from..to]` (whole lines). The `Debug:` bulk of a `-d3`
    /// log has its own path: only the few patterns that accept Debug lines can make one a
    /// candidate, so a run of Debug lines is searched with their automaton alone.
    fn search_range(&self, from: usize, to: usize, cur: &mut Cursor) {
        let buf = self.buf;
        let mut pos = from;
        while pos < to {
            let debug = is_debug_line(&buf[pos..to]);
            let mut end = pos;
            while end < to && is_debug_line(&buf[end..to]) == debug {
                end = memchr::memchr(b'\n', &buf[end..to]).map_or(to, |i| end + i + 1);
            }
            if debug {
                self.search_debug(pos, end, cur);
            } else {
                self.search_mixed(pos, end, cur);
            }
            pos = end;
        }
    }

    /// Find the candidate lines in `buf[from..to]`, all of them `Debug:` lines.
    fn search_debug(&self, from: usize, to: usize, cur: &mut Cursor) {
        let Some(re) = self.scanner.debug_prefilter() else {
            return;
        };
        let mut pos = from;
        while pos < to {
            let input = Input::new(self.buf).range(pos..to).earliest(true);
            let Some(m) = re.search_half(&input) else {
                break;
            };
            pos = self.candidate_at(m.offset(), pos, cur);
        }
    }

    /// Find the candidate lines in `buf[from..to]` (whole lines, none of them `Debug:` lines).
    fn search_mixed(&self, from: usize, to: usize, cur: &mut Cursor) {
        let (sc, buf) = (self.scanner, self.buf);
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
                pos = self.candidate_at(m.offset(), pos, cur);
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
                sc.gate
                    .possible(&buf[line_start..line_stop], &mut cur.possible);
                for &p in &cur.possible {
                    let Some(re) = sc.raw_regex(p) else { continue };
                    let input = Input::new(buf)
                        .range(pos.max(line_start)..line_stop)
                        .earliest(true);
                    if let Some(m) = re.search_half(&input) {
                        earliest = Some(earliest.map_or(m.offset(), |e| e.min(m.offset())));
                    }
                }
            }
            let Some(offset) = earliest else {
                // Literals but no match: not a candidate.
                pos = line_stop.max(pos + 1);
                continue;
            };
            pos = self.candidate_at(offset, pos, cur);
        }
    }

    /// Record the candidate line holding a match that ends at `offset` (searched from `pos`);
    /// returns where the search goes on.
    fn candidate_at(&self, offset: usize, pos: usize, cur: &mut Cursor) -> usize {
        let buf = self.buf;
        let mut at = offset.saturating_sub(1).max(pos);
        if buf.get(at) == Some(&b'\n') && at > pos {
            at -= 1; // a match that ended on the newline belongs to the line before it
        }
        let start = memchr::memrchr(b'\n', &buf[..at])
            .map_or(0, |i| i + 1)
            .max(pos);
        let end = memchr::memchr(b'\n', &buf[at..]).map_or(buf.len(), |i| at + i);
        cur.lines_before += memchr::memchr_iter(b'\n', &buf[cur.counted..start]).count() as u64;
        cur.counted = start;
        let (range, next) = if end - start <= MAX_LINE_BYTES {
            ((start, end), end + 1)
        } else {
            // A line longer than phase 2 takes: the window around this match, and the
            // search goes on inside the same line.
            let from = at.saturating_sub(MAX_LINE_BYTES / 2).max(start);
            let to = (from + MAX_LINE_BYTES).min(end);
            ((from, to), to.max(at + 1))
        };
        cur.found.candidates.push(Candidate {
            lines_before: cur.lines_before,
            start: range.0,
            end: range.1,
        });
        next
    }
}

/// The banner line alone (`Open On-Chip Debugger 0.12.0 (2023-01-14-23:37)`): the one catalog
/// format that starts with these words goes on with `Licensed under`, so this line matches none.
fn is_plain_banner(message: &str) -> bool {
    let message = message.trim();
    message.starts_with("Open On-Chip Debugger ")
        && !message.contains("Licensed")
        && parse_banner(message).is_some()
}

/// A `Debug:` line (the text starts at a line start): its level is known from its first bytes.
fn is_debug_line(text: &[u8]) -> bool {
    text.starts_with(b"Debug: ")
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

/// `pattern` run on one line or message: its build-time DFA, or compiled now.
fn line_matcher(pattern: &str) -> Option<Matcher> {
    Matcher::embedded(pattern).or_else(|| line_builder().build(pattern).ok().map(Matcher::Regex))
}

/// One pattern run on one line or message (phase 1's confirmation, phase 2): the same syntax as
/// [`phase1_builder`], without the parts that only pay off on long haystacks and cost most of
/// a small regex' build (a full DFA, a literal prefilter, the one-pass DFA). The lazy DFA
/// answers the same; a short diagnosis compiles dozens of these.
fn line_builder() -> meta::Builder {
    let mut b = phase1_builder();
    b.configure(
        meta::Config::new()
            .dfa(false)
            .auto_prefilter(false)
            .onepass(false),
    );
    b
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
    let mut out = String::new();
    cut_into(s, &mut out);
    out
}

/// `out` becomes `s` cut to [`MAX_EVIDENCE_CHARS`] characters (with an ellipsis if cut).
fn cut_into(s: &str, out: &mut String) {
    out.clear();
    // No more bytes than the limit: no more chars either (no count of a short line's chars).
    let cut_at = if s.len() <= MAX_EVIDENCE_CHARS {
        None
    } else {
        s.char_indices().nth(MAX_EVIDENCE_CHARS).map(|(end, _)| end)
    };
    match cut_at {
        None => out.push_str(s),
        Some(end) => {
            out.push_str(&s[..end]);
            out.push('…');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every real log of the repository (test runs and rule fixtures), read from disk.
    fn repo_logs() -> Vec<(std::path::PathBuf, Vec<u8>)> {
        crate::test_logs::repo_logs(&["rules", "crates/ocdoctor-core/tests/data/runs"])
    }

    fn scan_with_full(sc: &Scanner, bytes: &[u8]) -> ScanResult {
        let mut st = sc.start();
        st.full = sc.full();
        assert!(st.full.is_some(), "the whole knowledge base must compile");
        st.feed(bytes);
        st.finish()
    }

    /// The automata of big inputs and the literal gate of short ones find the same things.
    #[test]
    fn the_big_input_automata_and_the_literal_gate_agree_on_every_log() {
        let sc = crate::scanner();
        for (path, bytes) in repo_logs() {
            let gate = sc.scan_bytes(&bytes);
            let full = scan_with_full(sc, &bytes);
            assert_eq!(
                format!("{gate:?}"),
                format!("{full:?}"),
                "{} scans differently",
                path.display()
            );
        }
    }

    /// A block big enough to be searched on several threads gives what small blocks, each
    /// searched on one, give: the same lines, numbered the same, in the same order.
    #[test]
    fn a_block_searched_in_parallel_gives_the_sequential_result() {
        let sc = crate::scanner();
        let mut big = Vec::new();
        for (_, bytes) in repo_logs() {
            big.extend_from_slice(&bytes);
            if !big.ends_with(b"\n") {
                big.push(b'\n');
            }
        }
        while big.len() < 3 * PARALLEL_MIN_BYTES {
            big.extend_from_within(..);
        }
        let segments = segments(&big);
        assert!(parts_for_threads(big.len(), &segments).len() > 1 || num_cores() == 1);
        let parallel = scan_with_full(sc, &big);
        let mut st = sc.start();
        st.full = sc.full();
        for piece in big.chunks(PARALLEL_MIN_BYTES / 4) {
            st.feed(piece);
        }
        let sequential = st.finish();
        assert!(parallel.candidates > 1000);
        assert_eq!(format!("{parallel:?}"), format!("{sequential:?}"));
    }

    fn num_cores() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    #[test]
    fn parts_cover_the_segments_in_order() {
        let segs: Vec<(usize, usize)> =
            (0..100).map(|i| (i * 100_000, (i + 1) * 100_000)).collect();
        let parts = parts_for_threads(10_000_000, &segs);
        assert_eq!(parts.first().unwrap().start, 0);
        assert_eq!(parts.last().unwrap().end, 100);
        for w in parts.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        assert_eq!(parts_for_threads(1000, &segs[..1]).len(), 1);
    }
}
