//! The machine snapshot (`ocdoctor env`) as evidence for a log diagnosis: the env problems, and
//! join keys derived from the snapshot (and the log's OpenOCD version) that the joined rules
//! (`rules/*/???05*`, `[when] env = [...]`) use. The derived entries are not problems of the
//! machine, so they never appear in `ocdoctor env`'s report; only the log join sees them.
//!
//! | derived id | when | facts |
//! |---|---|---|
//! | `probe-attached` | each OpenOCD-capable probe on USB | family, model, vid, pid, serial, cfg, since |
//! | `other-probe-not-<family>` | no probe of `<family>` (st-link, j-link, cmsis-dap, ftdi) is attached but another probe is | other_model, other_family, other_cfg, other_since, other_serial, other_id |
//! | `several-<family>` | two or more probes of `<family>` are attached | count, serials, serial_1, model_1, where_1, serial_2, model_2, where_2, cfg |
//! | `log-openocd-not-installed` | the log's OpenOCD release is none of the installs whose version is known | log_version, installed, newest_version, newest_path |
//! | `log-openocd-older-than-installed` | an install newer than the log's OpenOCD exists | log_version, newer_version, newer_path, newer_dir |
//! | `probe-newer-than-log-openocd` | an attached probe is first known to a release newer than the log's OpenOCD | needs, model, vid, pid, probe |

use ocdoctor_core::infer::EnvProblem;
use ocdoctor_env::{EnvSnapshot, UsbDevice, probedb::cmp_release};
use std::cmp::Ordering;

/// The families a log can name (the adapter drivers' not-found messages), with their slugs.
const FAMILIES: &[(&str, &str)] = &[
    ("st-link", "ST-Link"),
    ("j-link", "J-Link"),
    ("cmsis-dap", "CMSIS-DAP"),
    ("ftdi", "FTDI"),
];

/// The machine's problems as evidence for the log diagnosis. The OS of the snapshot is the OS
/// the log comes from (the default snapshot is this machine's). `log_version` is the OpenOCD
/// release of the log's banner (`0.12.0`, `0.12.0+dev`), when it has one.
pub fn hints_from_env(snap: &EnvSnapshot, log_version: Option<&str>) -> ocdoctor_core::Hints {
    use ocdoctor_core::kb::Os;
    let os = match snap.os.as_str() {
        "linux" => Some(Os::Linux),
        "macos" => Some(Os::Macos),
        "windows" => Some(Os::Windows),
        _ => None,
    };
    let mut env: Vec<EnvProblem> = ocdoctor_env::problems(snap)
        .into_iter()
        .map(|p| EnvProblem {
            id: p.id,
            cause: p.cause,
            message: p.message,
            facts: p.facts.into_iter().collect(),
        })
        .collect();
    env.extend(derived(snap, log_version));
    ocdoctor_core::Hints {
        os,
        env,
        ..Default::default()
    }
}

fn hint(id: &str, cause: &str, message: String, facts: &[(&str, String)]) -> EnvProblem {
    EnvProblem {
        id: id.to_string(),
        cause: cause.to_string(),
        message,
        facts: facts
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

fn openocd_probes(snap: &EnvSnapshot) -> Vec<&UsbDevice> {
    snap.usb
        .devices
        .iter()
        .filter(|d| d.probe.as_ref().is_some_and(|p| p.openocd))
        .collect()
}

fn family_slug(family: &str) -> String {
    family
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn serial(d: &UsbDevice) -> String {
    ocdoctor_env::serial_for_openocd(d).unwrap_or_default()
}

fn place(d: &UsbDevice) -> String {
    match (d.busnum, &d.port_path) {
        (Some(b), Some(p)) => format!("bus {b} port {p}"),
        (Some(b), None) => format!("bus {b}"),
        _ => d.sysfs_name.clone(),
    }
}

/// `0.12.0+dev` → (`0.12.0`, dev).
fn split_dev(v: &str) -> (&str, bool) {
    match v.split_once('+') {
        Some((r, rest)) => (r, rest.starts_with("dev")),
        None => (v, false),
    }
}

/// Order of two (release, dev) pairs; a +dev build sorts after its release.
fn cmp_version(a: (&str, bool), b: (&str, bool)) -> Option<Ordering> {
    Some(cmp_release(a.0, b.0)?.then(a.1.cmp(&b.1)))
}

/// Join keys that are not machine problems: which probes are attached, which family is missing,
/// several probes of one family, and the log's OpenOCD against the installs.
pub fn derived(snap: &EnvSnapshot, log_version: Option<&str>) -> Vec<EnvProblem> {
    let mut out = Vec::new();
    let probes = openocd_probes(snap);
    attached_probes(&probes, &mut out);
    missing_families(&probes, &mut out);
    several_of_a_family(&probes, &mut out);
    if let Some(log_v) = log_version.map(split_dev) {
        probes_newer_than_log(&probes, log_v, log_version, &mut out);
        log_against_installs(snap, log_v, &mut out);
    }
    out
}

/// `probe-attached`: one key per attached OpenOCD probe.
fn attached_probes(probes: &[&UsbDevice], out: &mut Vec<EnvProblem>) {
    for d in probes {
        let Some(p) = &d.probe else { continue };
        out.push(hint(
            "probe-attached",
            "unknown",
            format!(
                "{} is attached (OpenOCD: -f {})",
                ocdoctor_env::describe(d),
                p.interface_cfg
            ),
            &[
                ("family", p.family.clone()),
                ("model", p.model.clone()),
                ("vid", d.vendor_id.clone()),
                ("pid", d.product_id.clone()),
                ("serial", serial(d)),
                ("cfg", p.interface_cfg.clone()),
                ("since", p.since.clone()),
            ],
        ));
    }
}

/// `other-probe-not-<family>`: a probe family the log may name is absent while another probe is
/// attached.
fn missing_families(probes: &[&UsbDevice], out: &mut Vec<EnvProblem>) {
    // A probe family the log may name is absent while another probe is attached.
    let other = probes.iter().find(|d| {
        d.probe
            .as_ref()
            .is_some_and(|p| !p.interface_cfg.is_empty())
    });
    for (slug, name) in FAMILIES {
        let present = probes.iter().any(|d| {
            d.probe
                .as_ref()
                .is_some_and(|p| family_slug(&p.family) == *slug)
        });
        let Some(o) = other.filter(|_| !present) else {
            continue;
        };
        let Some(op) = &o.probe else { continue };
        let since = if op.since.is_empty() || op.since == "master" {
            String::new()
        } else {
            op.since.clone()
        };
        out.push(hint(
            &format!("other-probe-not-{slug}"),
            "probe-not-found",
            format!(
                "no {name} is attached, but {} is: OpenOCD drives it with -f {}",
                ocdoctor_env::describe(o),
                op.interface_cfg
            ),
            &[
                ("other_model", op.model.clone()),
                ("other_family", op.family.clone()),
                ("other_cfg", op.interface_cfg.clone()),
                ("other_since", since),
                ("other_serial", serial(o)),
                ("other_id", op.id.clone()),
            ],
        ));
    }
}

/// `several-<family>`: several probes of one family; OpenOCD opens the first one libusb lists.
fn several_of_a_family(probes: &[&UsbDevice], out: &mut Vec<EnvProblem>) {
    // Several probes of one family: OpenOCD opens the first one libusb lists.
    for (slug, name) in FAMILIES {
        let same: Vec<&&UsbDevice> = probes
            .iter()
            .filter(|d| {
                d.probe
                    .as_ref()
                    .is_some_and(|p| family_slug(&p.family) == *slug)
            })
            .collect();
        if same.len() < 2 {
            continue;
        }
        let model = |i: usize| {
            same[i]
                .probe
                .as_ref()
                .map(|p| p.model.clone())
                .unwrap_or_default()
        };
        let serials: Vec<String> = same.iter().map(|d| serial(d)).collect();
        out.push(hint(
            &format!("several-{slug}"),
            "multiple-probes",
            format!(
                "{} {name} probes are attached: {}",
                same.len(),
                same.iter()
                    .map(|d| ocdoctor_env::describe(d))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            &[
                ("count", same.len().to_string()),
                ("serials", serials.join(", ")),
                ("serial_1", serials[0].clone()),
                ("model_1", model(0)),
                ("where_1", place(same[0])),
                ("serial_2", serials[1].clone()),
                ("model_2", model(1)),
                ("where_2", place(same[1])),
                (
                    "cfg",
                    same[0]
                        .probe
                        .as_ref()
                        .map(|p| p.interface_cfg.clone())
                        .unwrap_or_default(),
                ),
            ],
        ));
    }
}

/// `probe-newer-than-log-openocd`: a probe the log's OpenOCD is too old to know.
fn probes_newer_than_log(
    probes: &[&UsbDevice],
    log_v: (&str, bool),
    log_version: Option<&str>,
    out: &mut Vec<EnvProblem>,
) {
    // A probe the log's OpenOCD is too old to know.
    for d in probes {
        let Some(p) = &d.probe else { continue };
        if p.since.is_empty() {
            continue;
        }
        let newer = if p.since == "master" {
            // Known after 0.12.0: a 0.12.0 release (not +dev) or older lacks it.
            cmp_release(log_v.0, "0.12.0").is_some_and(|o| o != Ordering::Greater) && !log_v.1
        } else {
            cmp_release(log_v.0, &p.since) == Some(Ordering::Less)
        };
        if newer {
            let needs = if p.since == "master" {
                "a build newer than 0.12.0".to_string()
            } else {
                p.since.clone()
            };
            out.push(hint(
                "probe-newer-than-log-openocd",
                "openocd-version",
                format!(
                    "{} is first known to OpenOCD {needs}; the log's OpenOCD is {}",
                    ocdoctor_env::describe(d),
                    log_version.unwrap_or_default()
                ),
                &[
                    ("needs", needs.clone()),
                    ("model", p.model.clone()),
                    ("vid", d.vendor_id.clone()),
                    ("pid", d.product_id.clone()),
                    ("probe", p.id.clone()),
                ],
            ));
        }
    }
}

/// `log-openocd-not-installed`, `log-openocd-older-than-installed`: the log's OpenOCD against
/// the installs whose version is known.
fn log_against_installs(snap: &EnvSnapshot, log_v: (&str, bool), out: &mut Vec<EnvProblem>) {
    // The log's OpenOCD against the installs whose version is known.
    let known: Vec<(&str, (&str, bool))> = snap
        .openocd_installs
        .iter()
        .filter_map(|i| {
            let v = i.version.as_ref()?;
            Some((i.path.as_str(), (v.release.as_str(), v.dev)))
        })
        .collect();
    if known.is_empty() {
        return;
    }
    let show = |(r, dev): (&str, bool)| format!("{r}{}", if dev { "+dev" } else { "" });
    let installed = known
        .iter()
        .map(|(p, v)| format!("{} ({p})", show(*v)))
        .collect::<Vec<_>>()
        .join(", ");
    let newest = known
        .iter()
        .copied()
        .max_by(|a, b| cmp_version(a.1, b.1).unwrap_or(Ordering::Equal))
        .expect("non-empty");
    let log_shown = show(log_v);
    if !known
        .iter()
        .any(|(_, v)| cmp_version(*v, log_v) == Some(Ordering::Equal))
    {
        out.push(hint(
            "log-openocd-not-installed",
            "openocd-launch",
            format!(
                "the log was written by OpenOCD {log_shown}, which is none of the installs found here: {installed}"
            ),
            &[
                ("log_version", log_shown.clone()),
                ("installed", installed.clone()),
                ("newest_version", show(newest.1)),
                ("newest_path", newest.0.to_string()),
            ],
        ));
    }
    if cmp_version(newest.1, log_v) == Some(Ordering::Greater) {
        let dir = std::path::Path::new(newest.0)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(hint(
            "log-openocd-older-than-installed",
            "openocd-launch",
            format!(
                "the log was written by OpenOCD {log_shown}, but a newer one is installed: {} at {}",
                show(newest.1),
                newest.0
            ),
            &[
                ("log_version", log_shown),
                ("newer_version", show(newest.1)),
                ("newer_path", newest.0.to_string()),
                ("newer_dir", dir),
            ],
        ));
    }
}
