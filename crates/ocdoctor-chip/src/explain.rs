//! `explain_id`: one number (or one pasted OpenOCD line) in, a readable
//! account of what it is and which cfg expects it out.

use crate::clones::{self, CloneEntry};
use crate::decode::{
    CoreInfo, Cpuid, Dpidr, JtagIdcode, RP_TARGET_IDS, known_debug_port, nrf_part,
};
use crate::scripts::{IdDecl, ScriptsIndex};
use crate::stm32::Stm32DevId;

/// What the number is, from the line it came from (or a guess for a bare number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// A JTAG TAP IDCODE (`tap/device found`, `UNEXPECTED:`, `expected N of M`).
    JtagIdcode,
    /// What an HLA adapter reports (`UNEXPECTED idcode:`): the DP id, JTAG or SWD.
    DebugPortId,
    /// `SWD DPIDR 0x…`.
    Dpidr,
    /// Cortex-M CPUID.
    Cpuid,
    /// STM32 DBGMCU_IDCODE (`device id = 0x…`).
    Stm32DevId,
    /// nRF FICR INFO.PART.
    NrfPart,
    /// A core line without a number (`Cortex-M4 r0p1 processor detected`).
    Core,
}

#[derive(Clone, Debug)]
pub struct IdReport {
    pub value: u32,
    pub kind: IdKind,
    /// First line: what the number decodes to.
    pub headline: String,
    /// Further decoded facts.
    pub details: Vec<String>,
    /// Installed cfgs declaring this value (empty without an index).
    pub expected_by: Vec<IdDecl>,
    /// Clone entries whose parts answer this value.
    pub clones: Vec<&'static CloneEntry>,
    pub core: Option<CoreInfo>,
}

fn parse_number(s: &str) -> Option<u32> {
    let t = s.trim().trim_end_matches([',', ')', '.']);
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return (!h.is_empty() && h.len() <= 8)
            .then(|| u32::from_str_radix(h, 16).ok())
            .flatten();
    }
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    // Ids are printed as 8 hex digits, so an 8-digit word is hex even when
    // it has no letters; other all-digit words are decimal.
    if t.len() == 8 || t.chars().any(|c| c.is_ascii_alphabetic()) {
        return u32::from_str_radix(t, 16).ok();
    }
    t.parse::<u64>().ok().and_then(|v| u32::try_from(v).ok())
}

fn hex_after(line: &str, marker: &str) -> Option<u32> {
    let p = line.find(marker)? + marker.len();
    let word = line[p..].split_whitespace().next()?;
    parse_number(word.trim_start_matches('='))
}

/// Find the number in `input` and what kind it is.
fn locate(input: &str) -> Result<(u32, Option<IdKind>), String> {
    let l = input.trim();
    let lower = l.to_ascii_lowercase();
    let markers: &[(&str, Option<IdKind>)] = &[
        ("SWD DPIDR", Some(IdKind::Dpidr)),
        ("Read DPIDR", Some(IdKind::Dpidr)),
        ("UNEXPECTED idcode:", Some(IdKind::DebugPortId)),
        ("tap/device found:", Some(IdKind::JtagIdcode)),
        ("UNEXPECTED:", Some(IdKind::JtagIdcode)),
        ("idcode=", Some(IdKind::JtagIdcode)),
        ("device idcode =", Some(IdKind::Stm32DevId)),
        ("device id =", Some(IdKind::Stm32DevId)),
    ];
    for (m, k) in markers {
        if let Some(v) = hex_after(l, m) {
            return Ok((v, *k));
        }
    }
    if let Some(p) = l.find("expected ") {
        if l[p..].contains(" of ") {
            if let Some(v) = hex_after(&l[p..], ":") {
                let k = if l.contains("JTAG tap:") {
                    IdKind::JtagIdcode
                } else {
                    IdKind::DebugPortId
                };
                return Ok((v, Some(k)));
            }
        }
    }
    // The nrf5 flash driver's line: `nRF52840-QIAA(build code: D0) 1024kB Flash, 256kB RAM`.
    if let Some(p) = l.find("nRF") {
        let digits: String = l[p + 3..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits.len() == 5 && l[p + 3 + 5..].starts_with('-') {
            if let Ok(v) = u32::from_str_radix(&digits, 16) {
                return Ok((v, Some(IdKind::NrfPart)));
            }
        }
    }
    if let Some(p) = lower.find("cpuid") {
        if let Some(v) = l[p + 5..]
            .split(|c: char| c.is_whitespace() || c == ':' || c == '=')
            .find_map(parse_number)
        {
            return Ok((v, Some(IdKind::Cpuid)));
        }
    }
    if let Some(v) = parse_number(l) {
        return Ok((v, None));
    }
    // Last resort: the first 0x… word anywhere in a pasted line.
    if let Some(v) = l
        .split(|c: char| c.is_whitespace() || c == '(' || c == ':' || c == '=')
        .filter(|w| w.starts_with("0x"))
        .find_map(parse_number)
    {
        return Ok((v, None));
    }
    Err(format!(
        "no id found in `{}`: give a number (0x2ba01477, 2ba01477, decimal) or an OpenOCD line",
        l.chars().take(80).collect::<String>()
    ))
}

fn guess_kind(v: u32) -> IdKind {
    // A CPUID with ARM's implementer code and a known core part is far more
    // likely than an IDCODE from whatever maker its low bits happen to name.
    let c = Cpuid::decode(v);
    if c.core_name().is_some() && known_debug_port(v).is_none() {
        return IdKind::Cpuid;
    }
    let j = JtagIdcode::decode(v);
    if j.is_plausible() {
        return IdKind::JtagIdcode;
    }
    let d = Stm32DevId::decode(v);
    if d.reserved == 0 && d.family().is_some() {
        return IdKind::Stm32DevId;
    }
    if nrf_part(v).is_some() {
        return IdKind::NrfPart;
    }
    IdKind::JtagIdcode
}

fn jtag_headline(v: u32) -> String {
    let j = JtagIdcode::decode(v);
    let maker = match j.maker() {
        crate::jep106::Maker::Known(n) => format!("{n} (JEP106 bank {}, 0x{:02x})", j.bank, j.id),
        crate::jep106::Maker::Unknown => format!(
            "<unknown> maker (JEP106 bank {}, 0x{:02x}: no name in OpenOCD 0.12{})",
            j.bank,
            j.id,
            crate::jep106::master_name(j.bank, j.id)
                .map(|n| format!("; master: {n}"))
                .unwrap_or_default()
        ),
        crate::jep106::Maker::Invalid => format!("<invalid> maker (mfg 0x{:03x})", j.mfg_code()),
    };
    let mut s = format!(
        "0x{v:08x}: {maker} · part 0x{:04x} · version {}",
        j.part, j.version
    );
    let what = known_debug_port(v).or_else(|| {
        RP_TARGET_IDS
            .iter()
            .find(|(id, _)| *id == v)
            .map(|(_, d)| *d)
    });
    if let Some(w) = what {
        s.push_str(&format!(" — {w}"));
    }
    if !j.lsb {
        s.push_str(" — bit 0 is clear: not a valid IDCODE");
    }
    s
}

/// Explain a number or a pasted OpenOCD line.
pub fn explain_id(input: &str) -> Result<IdReport, String> {
    explain_id_with(input, None)
}

/// [`explain_id`], also saying which installed cfgs expect the value.
pub fn explain_id_with(input: &str, index: Option<&ScriptsIndex>) -> Result<IdReport, String> {
    if input.contains("processor detected") {
        let core = CoreInfo::from_log_line(input)
            .ok_or_else(|| format!("cannot read the core from `{}`", input.trim()))?;
        return Ok(IdReport {
            value: 0,
            kind: IdKind::Core,
            headline: format!(
                "{core}: core name and revision as read from CPUID (variant {}, revision {})",
                core.variant, core.revision
            ),
            details: Vec::new(),
            expected_by: Vec::new(),
            clones: clones::clones()
                .iter()
                .filter(|c| {
                    c.core == core.name
                        && c.core_rev.as_deref().is_none_or(|r| r == core.rev_string())
                })
                .collect(),
            core: Some(core),
        });
    }
    let (v, kind) = locate(input)?;
    let kind = kind.unwrap_or_else(|| guess_kind(v));
    let mut details = Vec::new();
    let mut core = None;
    let headline = match kind {
        IdKind::JtagIdcode => jtag_headline(v),
        IdKind::DebugPortId | IdKind::Dpidr => {
            let d = Dpidr::decode(v);
            details.push(format!(
                "as DPIDR: designer {} (0x{:03x}) · part 0x{:02x} · DPv{} · MINDP {} · revision {}",
                d.designer(),
                d.designer_code(),
                d.partno,
                d.version,
                u8::from(d.min),
                d.revision
            ));
            if kind == IdKind::DebugPortId {
                details.push(
                    "reported by an HLA adapter (ST-Link/TI-ICDI): the debug port's id, the DPIDR over SWD"
                        .into(),
                );
            }
            jtag_headline(v)
        }
        IdKind::Cpuid => {
            let c = Cpuid::decode(v);
            core = c.core();
            format!(
                "0x{v:08x}: CPUID {} {} (implementer {} 0x{:02x}, part 0x{:03x}, variant {}, revision {}, architecture 0x{:x})",
                c.core_name().unwrap_or("unknown core"),
                c.rev_string(),
                c.implementer_name(),
                c.implementer,
                c.partno,
                c.variant,
                c.revision,
                c.architecture
            )
        }
        IdKind::Stm32DevId => {
            let d = Stm32DevId::decode(v);
            let fam = d.family();
            let mut s = format!(
                "0x{v:08x}: STM32 DBGMCU dev id 0x{:03x}{} · rev id 0x{:04x}{}",
                d.dev_id,
                fam.map(|f| format!(" = {}", f.family))
                    .unwrap_or_else(|| " (unknown family)".into()),
                d.rev_id,
                d.revision()
                    .map(|r| format!(" = rev {r}"))
                    .unwrap_or_default()
            );
            if let Some(gd) = d.gigadevice_variant() {
                s.push_str(&format!(" — rev id 0x{:04x} is GigaDevice {gd}", d.rev_id));
            }
            if let Some(f) = fam {
                details.push(format!("target cfg: {} ({})", f.target_cfg, f.core));
            }
            s
        }
        IdKind::NrfPart => format!(
            "0x{v:x}: nRF FICR INFO.PART = {}",
            nrf_part(v).unwrap_or("unknown part")
        ),
        IdKind::Core => unreachable_core(),
    };
    let is_id = matches!(
        kind,
        IdKind::JtagIdcode | IdKind::DebugPortId | IdKind::Dpidr
    );
    if is_id && crate::decode::is_arm_debug_port(v) {
        details.push(
            "designer 0x23b (ARM Ltd): ARM's own debug-port id, carried unchanged by chips of many vendors — it names the debug port, not the chip (the cfgs that expect it are of many vendors; the chip's own id is its DBGMCU/ROM-table part number)"
                .into(),
        );
    }
    if let Some(dev) = crate::mismatch::st_bs_tap_dev_id(v).filter(|_| is_id) {
        let fam = crate::stm32::family(dev);
        details.push(format!(
            "ST boundary-scan TAP: part 0x6000 | dev id 0x{dev:03x}{}",
            fam.map(|f| format!(" = {} → {}", f.family, f.target_cfg))
                .unwrap_or_default()
        ));
    }
    if is_id && known_debug_port(v).is_none() && clones::answering(v).is_empty() {
        // A near miss of a well-known debug-port id is the signature of a
        // corrupted read (signal integrity), not of an exotic part.
        for (known, what) in crate::decode::KNOWN_DEBUG_PORTS {
            let bits = (known ^ v).count_ones();
            if bits <= 2 {
                details.push(format!(
                    "{bits} bit(s) away from 0x{known:08x} ({what}): if the chip should be that, suspect wiring/speed (garbled bits), not the config"
                ));
            }
        }
    }
    // All ones and all zeroes are what a scan reads when nothing drives TDO (pulled up or
    // floating high) or TDO is stuck low: the state of a wire, not a part. The cfgs that list
    // such values use them as placeholders, so they are not offered as matches.
    let stuck = is_id && (v == 0xffff_ffff || v == 0);
    if stuck {
        details.push(if v == 0xffff_ffff {
            "all ones: nothing drives TDO/SWDIO (no target power, TDO not connected, wrong pins, target held in reset) — a wiring/power state, not a chip id".to_string()
        } else {
            "all zeroes: TDO is stuck low (shorted, held in reset, missing pull-up) — a wiring state, not a chip id".to_string()
        });
    }
    let expected_by = match (index, is_id && !stuck) {
        (Some(ix), true) => ix.expecting(v).into_iter().cloned().collect(),
        _ => Vec::new(),
    };
    let clones = if is_id {
        clones::answering(v)
    } else {
        Vec::new()
    };
    Ok(IdReport {
        value: v,
        kind,
        headline,
        details,
        expected_by,
        clones,
        core,
    })
}

// `Core` is answered before a number is looked for; keep the match total
// without a panic path.
fn unreachable_core() -> String {
    String::from("core")
}

/// cfg, genuine id, genuine family, where the fix goes, the fix, parts, unverified parts.
type CloneGroup = (
    String,
    u32,
    String,
    String,
    String,
    Vec<String>,
    Vec<String>,
);

impl IdReport {
    pub fn render_text(&self) -> String {
        let mut out = vec![self.headline.clone()];
        out.extend(self.details.iter().cloned());
        let v = self.value;
        // The genuine reading first: 0x2ba01477 is the SW-DP of every STM32F4 (and nRF52…); a
        // clone only explains it where a config expects another id.
        let mut genuine: Vec<String> = Vec::new();
        for c in clones::clones().iter().filter(|c| c.genuine_id(v)) {
            let s = format!("{} ({})", c.genuine_family, c.target_cfg);
            if !genuine.contains(&s) {
                genuine.push(s);
            }
        }
        if !genuine.is_empty() {
            out.push(format!(
                "Genuine: the id of {} — with that config it is the expected answer, nothing to fix",
                genuine.join(", ")
            ));
        }
        // Entries that share the cfg, the genuine id and the fix are one
        // statement; unverified parts are named separately.
        let mut groups: Vec<CloneGroup> = Vec::new();
        for c in &self.clones {
            // Only entries where the stock cfg expects something else are news.
            let Some(ans) = c.answers.iter().find(|a| a.id == v) else {
                continue;
            };
            let Some(genuine) = c
                .genuine
                .iter()
                .find(|g| g.transport == ans.transport)
                .filter(|g| g.id != v)
            else {
                continue;
            };
            let (cfg, fix) = (c.target_cfg.clone(), c.fix_line(v));
            let idx = match groups
                .iter()
                .position(|g| g.0 == cfg && g.1 == genuine.id && g.4 == fix)
            {
                Some(i) => i,
                None => {
                    groups.push((
                        cfg,
                        genuine.id,
                        c.genuine_family.clone(),
                        c.fix_where.clone(),
                        fix,
                        Vec::new(),
                        Vec::new(),
                    ));
                    groups.len() - 1
                }
            };
            let g = &mut groups[idx];
            if c.confidence == "unverified" {
                g.6.extend(c.parts.iter().cloned());
            } else {
                g.5.extend(c.parts.iter().cloned());
            }
        }
        let mut expected = Vec::new();
        for (cfg, gid, fam, fix_where, fix, parts, unverified) in groups {
            let (parts, extra) = if parts.is_empty() {
                (unverified, String::new())
            } else if unverified.is_empty() {
                (parts, String::new())
            } else {
                (
                    parts,
                    format!(" (also reported, unverified: {})", unverified.join(" / ")),
                )
            };
            expected.push(format!(
                "{cfg} as 0x{gid:08x} ({fam}); 0x{v:08x} is what {}-class parts answer{extra} → {fix_where}: {fix}",
                parts.join(" / ")
            ));
        }
        if !expected.is_empty() {
            // Conditional when the id is also a genuine one: the clone fix is for that config.
            let label = if genuine.is_empty() {
                "Expected by"
            } else {
                "Only if OpenOCD calls it UNEXPECTED with"
            };
            out.push(format!("{label}: {}", expected.join("; ")));
        }
        if !self.expected_by.is_empty() {
            let mut cfgs: Vec<String> = Vec::new();
            for d in &self.expected_by {
                let tag = match d.transport_context.as_str() {
                    "jtag" => " (jtag)",
                    "swd(else of using_jtag)" => " (swd)",
                    _ => "",
                };
                let s = format!("{}{tag}", d.cfg);
                if !cfgs.contains(&s) {
                    cfgs.push(s);
                }
            }
            let n = cfgs.len();
            let shown: Vec<String> = cfgs.into_iter().take(10).collect();
            out.push(format!(
                "{} {n} installed cfg{}: {}{}",
                if expected.is_empty() {
                    "Expected by"
                } else {
                    "Also declared by"
                },
                if n == 1 { "" } else { "s" },
                shown.join(", "),
                if n > 10 { ", …" } else { "" }
            ));
        }
        for c in clones::clones() {
            if c.genuine_id(v) && !c.answers_id(v) {
                let alt: Vec<String> = c
                    .answers
                    .iter()
                    .map(|a| format!("0x{:08x} ({})", a.id, a.transport))
                    .collect();
                out.push(format!(
                    "Note: {} parts answer {} where genuine parts answer 0x{v:08x}",
                    c.parts_joined(),
                    alt.join(", ")
                ));
            }
        }
        out.join("\n")
    }
}
