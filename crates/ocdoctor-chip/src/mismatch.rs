//! Telling an id mismatch apart: wrong config, known clone, or noise.

use crate::clones::{self, CloneEntry};
use crate::decode::{
    CoreInfo, JtagIdcode, arm_debug_port_name, is_arm_debug_port, known_debug_port,
};
use crate::jep106::Maker;
use crate::scripts::{Declared, ScriptsIndex};
use crate::stm32::{self, Stm32DevId};

/// Everything else the log and command line say, used to rank and to decide.
#[derive(Clone, Debug, Default)]
pub struct MismatchContext<'a> {
    /// `Cortex-M4 r0p1 processor detected`.
    pub core: Option<CoreInfo>,
    /// Ids of the other TAPs in the chain (e.g. the boundary-scan TAP).
    pub other_found: Vec<u32>,
    /// "jtag" or "swd" when known.
    pub transport: Option<String>,
    /// Target cfgs in use (`target/stm32f1x.cfg`).
    pub current_cfgs: Vec<String>,
    /// The OpenOCD command line, for board names.
    pub command: Option<String>,
    /// Flash driver in use (`stm32f1x`, `stm32f2x`, `nrf5`…).
    pub flash_driver: Option<String>,
    /// `device id = 0x…` from a flash driver.
    pub dbgmcu: Option<u32>,
    /// One TAP answered different ids within one log.
    pub ids_changed: bool,
    /// `Unexpected idcode after end of chain` was printed.
    pub after_end_of_chain: bool,
    /// Installed scripts, to suggest cfgs that expect the found id.
    pub index: Option<&'a ScriptsIndex>,
}

/// A cfg that would expect what was found, with why.
#[derive(Clone, Debug, PartialEq)]
pub struct CfgSuggestion {
    pub cfg: String,
    /// The id the cfg declares (None when suggested from DBGMCU alone).
    pub expected_id: Option<u32>,
    pub transport_context: String,
    pub score: f32,
    pub why: Vec<String>,
    /// What to type: `-f target/stm32f4x.cfg`.
    pub fix_line: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MismatchKind {
    /// Another chip (or another family) than the cfg describes.
    WrongConfig { suggestions: Vec<CfgSuggestion> },
    /// A known clone / look-alike of the chip the cfg describes.
    Clone {
        entry: &'static CloneEntry,
        fix_line: String,
    },
    /// Garbled bits: a signal-integrity problem, not a config problem.
    Noise { why: Vec<String> },
    /// Only ARM's own debug-port id was read (designer 0x23b: a JTAG-DP IDCODE or SW-DP DPIDR
    /// that chips of many vendors share), the log does not say what the cfg expected, and
    /// nothing else in it (a vendor's TAP, a DBGMCU id) names the chip: neither a clone nor a
    /// cfg can be told from it.
    DebugPortOnly {
        found: u32,
        /// What the id is (`ARM Cortex-M3/M4 SW-DP`).
        port: String,
    },
}

/// Ids and context pulled out of an OpenOCD log.
#[derive(Clone, Debug, Default)]
pub struct LogIds<'a> {
    pub found: Vec<u32>,
    pub expected: Vec<u32>,
    pub context: MismatchContext<'a>,
}

fn hex_after(line: &str, marker: &str) -> Option<u32> {
    let p = line.find(marker)? + marker.len();
    let rest = line[p..].trim_start();
    let rest = rest.strip_prefix("0x").unwrap_or(rest);
    let h: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    if h.is_empty() || h.len() > 8 {
        return None;
    }
    u32::from_str_radix(&h, 16).ok()
}

fn push_unique(v: &mut Vec<u32>, x: u32) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// Pull found/expected ids and context out of an OpenOCD log (any level).
pub fn extract_from_log<'a>(
    log: &str,
    command: Option<&str>,
    index: Option<&'a ScriptsIndex>,
) -> LogIds<'a> {
    let mut out = LogIds::default();
    let mut taps: Vec<(String, u32)> = Vec::new();
    let mut dpidrs: Vec<u32> = Vec::new();
    for line in log.lines() {
        if line.contains("JTAG tap:") {
            out.context.transport.get_or_insert_with(|| "jtag".into());
            let name = line
                .split("JTAG tap:")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or("")
                .to_string();
            if let Some(v) = hex_after(line, "tap/device found:") {
                match taps.iter().find(|(n, _)| *n == name) {
                    Some((_, old)) if *old != v => out.context.ids_changed = true,
                    Some(_) => {}
                    None => taps.push((name, v)),
                }
            } else if let Some(v) = hex_after(line, "UNEXPECTED:") {
                push_unique(&mut out.found, v);
            }
        }
        if let Some(v) = hex_after(line, "UNEXPECTED idcode:") {
            push_unique(&mut out.found, v);
            out.context.transport.get_or_insert_with(|| "swd".into());
        }
        if line.contains(" of ") {
            if let Some(p) = line.find("expected ") {
                if let Some(v) = hex_after(&line[p..], ":") {
                    push_unique(&mut out.expected, v);
                }
            }
        }
        if let Some(v) = hex_after(line, "SWD DPIDR") {
            out.context.transport.get_or_insert_with(|| "swd".into());
            if !dpidrs.is_empty() && !dpidrs.contains(&v) {
                out.context.ids_changed = true;
            }
            push_unique(&mut dpidrs, v);
        }
        if line.contains("Unexpected idcode after end of chain") {
            out.context.after_end_of_chain = true;
        }
        if let Some(c) = CoreInfo::from_log_line(line) {
            out.context.core.get_or_insert(c);
        }
        if let Some(v) =
            hex_after(line, "device id = ").or_else(|| hex_after(line, "device idcode = "))
        {
            out.context.dbgmcu.get_or_insert(v);
        }
    }
    for (_, v) in &taps {
        if !out.found.contains(v) && !out.expected.contains(v) {
            out.context.other_found.push(*v);
        }
    }
    if let Some(cmd) = command {
        out.context.command = Some(cmd.to_string());
        let toks: Vec<&str> = cmd.split_whitespace().collect();
        for w in toks.windows(2) {
            if w[0] == "-f" && w[1].contains("target/") {
                let t = w[1].trim_matches(|c| c == '"' || c == '\'');
                let t = &t[t.find("target/").unwrap_or(0)..];
                out.context.current_cfgs.push(t.to_string());
            }
        }
        if cmd.contains("transport select jtag") {
            out.context.transport = Some("jtag".into());
        } else if cmd.contains("swd") {
            out.context.transport.get_or_insert_with(|| "swd".into());
        }
    }
    out.context.index = index;
    out
}

/// Why an id looks like garbage rather than a real part, if it does.
pub fn garbled_reasons(id: u32) -> Vec<String> {
    let j = JtagIdcode::decode(id);
    let mut why = Vec::new();
    if !j.lsb {
        why.push(format!("0x{id:08x} has bit 0 clear: no IDCODE ends in 0"));
    }
    match j.maker() {
        Maker::Invalid => why.push(format!(
            "0x{id:08x} decodes to manufacturer 0x{:03x} (<invalid>)",
            j.mfg_code()
        )),
        Maker::Unknown => why.push(format!(
            "0x{id:08x} decodes to manufacturer 0x{:03x} (<unknown>)",
            j.mfg_code()
        )),
        Maker::Known(_) => {}
    }
    why
}

fn is_known_id(id: u32, index: Option<&ScriptsIndex>) -> bool {
    known_debug_port(id).is_some()
        || !clones::answering(id).is_empty()
        || index.is_some_and(|ix| !ix.expecting(id).is_empty())
}

/// Decide what kind of mismatch `found` vs `expected` is.
pub fn classify_mismatch(
    found: &[u32],
    expected: &[u32],
    context: &MismatchContext,
) -> MismatchKind {
    let mut why = Vec::new();
    if context.ids_changed {
        why.push("the same TAP answered different ids within one log".to_string());
    }
    if context.after_end_of_chain {
        why.push(
            "\"Unexpected idcode after end of chain\": more bits came back than the declared TAPs hold"
                .to_string(),
        );
    }
    for &f in found {
        why.extend(garbled_reasons(f));
        if !is_known_id(f, context.index) {
            if let Some(e) = expected.iter().find(|&&e| (e ^ f).count_ones() <= 2) {
                why.push(format!(
                    "0x{f:08x} is {} bit(s) away from the expected 0x{e:08x} and declared by no cfg",
                    (e ^ f).count_ones()
                ));
            }
        }
    }
    if !why.is_empty() {
        return MismatchKind::Noise { why };
    }

    for entry in clones::clones() {
        let pair = found
            .iter()
            .find(|&&f| expected.iter().any(|&e| entry.explains(f, e)));
        let Some(&f) = pair else { continue };
        if let Some(core) = &context.core {
            if core.name != entry.core {
                continue;
            }
            if entry
                .core_rev
                .as_deref()
                .is_some_and(|r| r != core.rev_string())
            {
                continue;
            }
        }
        // The DBGMCU id (flash driver) or, on JTAG, the dev id an ST boundary-scan TAP in the
        // same chain carries: a clone of an F1 sits in a chain whose BS TAP says F1 (0x410),
        // not F4 (0x413).
        let dev_id = context.dbgmcu.map(|d| d & 0xfff).or_else(|| {
            context
                .other_found
                .iter()
                .find_map(|&o| st_bs_tap_dev_id(o).map(u32::from))
        });
        if let (Some(d), Some(want)) = (dev_id, entry.dbgmcu_dev_id) {
            if d != want {
                continue;
            }
        }
        return MismatchKind::Clone {
            entry,
            fix_line: entry.fix_line(f),
        };
    }

    let suggestions = suggest_cfgs(found, context);
    if let ([f], [], true) = (found, expected, suggestions.is_empty()) {
        if let Some(port) = arm_debug_port_name(*f) {
            return MismatchKind::DebugPortOnly { found: *f, port };
        }
    }
    MismatchKind::WrongConfig { suggestions }
}

/// The core a cfg is for, when the STM32 table or the cfg's comments say.
pub fn cfg_core(cfg: &str, index: Option<&ScriptsIndex>) -> Option<String> {
    if let Some(f) = stm32::families().iter().find(|f| f.target_cfg == cfg) {
        return Some(f.core.to_string());
    }
    const STEMS: &[(&str, &str)] = &[
        ("target/nrf51.cfg", "Cortex-M0"),
        ("target/nrf52.cfg", "Cortex-M4"),
        ("target/rp2040.cfg", "Cortex-M0+"),
        ("target/rp2040-core0.cfg", "Cortex-M0+"),
        ("target/gd32e23x.cfg", "Cortex-M23"),
    ];
    if let Some((_, c)) = STEMS.iter().find(|(s, _)| *s == cfg) {
        return Some(c.to_string());
    }
    let info = index?.info(cfg)?;
    (info.cores_mentioned.len() == 1).then(|| info.cores_mentioned[0].clone())
}

fn stem(cfg: &str) -> &str {
    let base = cfg.rsplit('/').next().unwrap_or(cfg);
    base.strip_suffix(".cfg").unwrap_or(base)
}

/// Rank cfgs that expect one of `found`, by fit with the rest of the evidence. ARM's own
/// debug-port ids ([`is_arm_debug_port`]) are declared by many vendors' cfgs alike, so a cfg
/// that declares one is suggested only when it also declares another TAP of the chain (a
/// vendor's boundary-scan TAP names the chip); a DBGMCU or boundary-scan dev id names the family
/// on its own.
pub fn suggest_cfgs(found: &[u32], ctx: &MismatchContext) -> Vec<CfgSuggestion> {
    let mut out: Vec<CfgSuggestion> = Vec::new();
    fn add(out: &mut Vec<CfgSuggestion>, s: CfgSuggestion) {
        match out.iter_mut().find(|o| o.cfg == s.cfg) {
            Some(o) if o.score >= s.score => {}
            Some(o) => *o = s,
            None => out.push(s),
        }
    }
    let vendor = |c: &str| stem(c).chars().take(5).collect::<String>();
    if let Some(ix) = ctx.index {
        for &f in found {
            for d in ix.expecting(f) {
                let mut score = 1.0f32;
                let mut why = vec![format!("declares 0x{f:08x} (line {})", d.line)];
                if let Some(t) = &ctx.transport {
                    if d.applies_to(t) {
                        if !d.transport_context.is_empty() {
                            score += 2.0;
                            why.push(format!("for {t}"));
                        }
                    } else {
                        score -= 3.0;
                        why.push(format!("only when not using {t}"));
                    }
                }
                if matches!(d.declared, Declared::SetOnly(_)) {
                    score -= 1.0;
                }
                if let (Some(core), Some(cc)) = (&ctx.core, cfg_core(&d.cfg, Some(ix))) {
                    if core.name == cc {
                        score += 3.0;
                        why.push(format!("{cc} like the detected core"));
                    } else {
                        score -= 2.0;
                    }
                }
                let decl_here = ix.declared_in(&d.cfg);
                let mut names_the_chip = !is_arm_debug_port(f);
                for o in &ctx.other_found {
                    if decl_here.iter().any(|x| x.idcode == Some(*o)) {
                        score += 4.0;
                        why.push(format!("also declares the other TAP 0x{o:08x}"));
                        names_the_chip |= !is_arm_debug_port(*o);
                    }
                }
                if !names_the_chip {
                    continue;
                }
                if let Some(drv) = &ctx.flash_driver {
                    if ix
                        .info(&d.cfg)
                        .is_some_and(|i| i.flash_drivers.contains(drv))
                    {
                        score += 2.0;
                        why.push(format!("uses the {drv} flash driver"));
                    }
                }
                if let Some(cmd) = &ctx.command {
                    if cmd.contains(stem(&d.cfg)) {
                        score += 1.0;
                    }
                }
                if ctx.current_cfgs.iter().any(|c| vendor(c) == vendor(&d.cfg)) {
                    score += 1.0;
                    why.push("same vendor family as the cfg in use".into());
                }
                if d.cfg.starts_with("board/") {
                    score -= 0.5;
                }
                if ctx.current_cfgs.contains(&d.cfg) {
                    continue;
                }
                add(
                    &mut out,
                    CfgSuggestion {
                        cfg: d.cfg.clone(),
                        expected_id: Some(f),
                        transport_context: d.transport_context.clone(),
                        score,
                        why,
                        fix_line: format!("-f {}", d.cfg),
                    },
                );
            }
        }
    }
    // The DBGMCU id from a flash driver, or the one an ST boundary-scan TAP
    // carries in its part number, names the family directly.
    let mut dev_ids: Vec<(u16, String)> = Vec::new();
    if let Some(raw) = ctx.dbgmcu {
        dev_ids.push((
            Stm32DevId::decode(raw).dev_id,
            format!("device id = 0x{raw:08x}"),
        ));
    }
    for &o in &ctx.other_found {
        if let Some(d) = st_bs_tap_dev_id(o) {
            dev_ids.push((d, format!("ST boundary-scan TAP 0x{o:08x}")));
        }
    }
    for (dev_id, origin) in dev_ids {
        if let Some(fam) = stm32::family(dev_id) {
            if fam.target_cfg.starts_with("target/")
                && !ctx.current_cfgs.iter().any(|c| c == fam.target_cfg)
            {
                let boost = out
                    .iter()
                    .find(|o| o.cfg == fam.target_cfg)
                    .map_or(0.0, |o| o.score);
                add(
                    &mut out,
                    CfgSuggestion {
                        cfg: fam.target_cfg.to_string(),
                        expected_id: None,
                        transport_context: String::new(),
                        // A dev id names the family outright; it outweighs every
                        // circumstantial hint above (core, transport, vendor).
                        score: boost + 10.0,
                        why: vec![format!("{origin}: dev id 0x{dev_id:03x} is {}", fam.family)],
                        fix_line: format!("-f {}", fam.target_cfg),
                    },
                );
            }
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.cfg.cmp(&b.cfg)));
    out.truncate(8);
    out
}

/// ST's boundary-scan TAPs answer `0x?6xxx041`: maker STMicroelectronics
/// (0x020) and part `0x6000 | DEV_ID`, the same DEV_ID as DBGMCU_IDCODE
/// (e.g. 0x06413041 on an STM32F407, 0x16410041 on an STM32F103).
pub fn st_bs_tap_dev_id(id: u32) -> Option<u16> {
    let j = JtagIdcode::decode(id);
    (j.lsb && j.mfg_code() == 0x020 && j.part >> 12 == 0x6).then_some(j.part & 0xfff)
}
