//! The OpenOCD a check resolves against: which binary (`--openocd`, the command's own path, or
//! `openocd` on PATH), its version (`openocd --version`, cached on disk per binary) and its
//! built-in scripts dirs.

use ocdoctor_cfg::ResolveOptions;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::Options;

/// The OpenOCD a check resolves against.
#[derive(Debug, Clone, Default)]
pub struct Installed {
    /// The executable, when found.
    pub program: Option<PathBuf>,
    /// The version text from `openocd --version` (`0.12.0`), when it ran.
    pub version_text: Option<String>,
    pub version: ocdoctor_cfg::Version,
    /// The built-in script dirs (`<bindir>/../share/openocd/site`, `…/scripts`) or `--scripts`.
    pub scripts_dirs: Vec<PathBuf>,
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `openocd --version` of each program, run once per process. Concurrent callers for one program
/// wait for the same run (`check` starts it in the background before it reads anything else).
fn openocd_version(program: &Path) -> Option<String> {
    use std::sync::{Arc, Mutex, OnceLock};
    type Cell = Arc<OnceLock<Option<String>>>;
    static CACHE: OnceLock<Mutex<BTreeMap<PathBuf, Cell>>> = OnceLock::new();
    let cell: Cell = {
        let mut map = CACHE
            .get_or_init(|| Mutex::new(BTreeMap::new()))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(program.to_path_buf()).or_default().clone()
    };
    cell.get_or_init(|| {
        let key = version_cache_key(program);
        if let Some(v) = key.as_deref().and_then(cached_version) {
            return Some(v);
        }
        let v = run_version(program);
        if let (Some(k), Some(v)) = (&key, &v) {
            store_version(k, v);
        }
        v
    })
    .clone()
}

/// The on-disk cache of `openocd --version` answers: running the binary is the slowest part
/// of a `check` (several ms of a ~10 ms run). A line per binary, keyed by its canonical path,
/// size and modification time, so a rebuilt or replaced OpenOCD is asked again.
fn version_cache_file() -> Option<PathBuf> {
    if std::env::var_os("OCDOCTOR_NO_CACHE").is_some() {
        return None;
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("ocdoctor").join("openocd-versions.tsv"))
}

fn version_cache_key(program: &Path) -> Option<String> {
    let real = std::fs::canonicalize(program).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let key = format!(
        "{}|{}|{}.{:09}",
        real.display(),
        meta.len(),
        mtime.as_secs(),
        mtime.subsec_nanos()
    );
    // Tabs and newlines would break the line format; such paths are simply not cached.
    (!key.contains(['\t', '\n'])).then_some(key)
}

fn cached_version(key: &str) -> Option<String> {
    let text = std::fs::read_to_string(version_cache_file()?).ok()?;
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Best effort: a cache that cannot be written only costs the next run a few milliseconds.
fn store_version(key: &str, version: &str) {
    let Some(file) = version_cache_file() else {
        return;
    };
    let old = std::fs::read_to_string(&file).unwrap_or_default();
    // Keep the other binaries' lines (and drop this path's stale ones), at most 64.
    let path = key.split('|').next().unwrap_or(key);
    let mut lines: Vec<&str> = old
        .lines()
        .filter(|l| l.split('|').next() != Some(path))
        .collect();
    let new = format!("{key}\t{version}");
    lines.push(&new);
    let keep = &lines[lines.len().saturating_sub(64)..];
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = crate::fix::write_atomically(&file, (keep.join("\n") + "\n").as_bytes());
}

/// Start `openocd --version` of the OpenOCD `check` will most likely use, on another thread, so
/// its few milliseconds overlap loading the rules and reading the configs.
pub fn prefetch_version(opts: &Options) {
    let program = opts
        .openocd
        .clone()
        .filter(|p| p.is_file())
        .or_else(|| which("openocd"));
    if let Some(p) = program {
        std::thread::spawn(move || openocd_version(&p));
    }
}

/// Run `openocd --version` (bounded) and return the version text of its banner.
fn run_version(program: &Path) -> Option<String> {
    use std::io::Read;
    let mut child = std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < Duration::from_secs(3) => {
                std::thread::sleep(Duration::from_micros(200))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut text = String::new();
    let mut buf = Vec::new();
    // The banner is on stderr; some builds print it on stdout.
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_end(&mut buf);
    }
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_end(&mut buf);
    }
    text.push_str(&String::from_utf8_lossy(&buf));
    text.lines()
        .find_map(ocdoctor_core::version::parse_banner)
        .map(|b| b.version.to_string())
}

/// Find the OpenOCD to check against: `--openocd`, the program of the command line when it is
/// a path, else `openocd` on PATH.
pub fn installed(opts: &Options, program_hint: Option<&str>) -> Installed {
    let program = opts
        .openocd
        .clone()
        .filter(|p| p.is_file())
        .or_else(|| {
            opts.openocd
                .as_ref()
                .and_then(|p| p.to_str())
                .and_then(which)
        })
        .or_else(|| {
            program_hint
                .filter(|p| p.contains(['/', '\\']))
                .map(PathBuf::from)
                .filter(|p| p.is_file())
        })
        .or_else(|| which("openocd"));
    let version_text = program.as_deref().and_then(openocd_version);
    let version = version_text
        .as_deref()
        .and_then(ocdoctor_cfg::Version::parse)
        .unwrap_or_default();
    let scripts_dirs = match &opts.scripts {
        Some(s) => vec![s.clone()],
        None => program
            .as_deref()
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf()))
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .map(|bin| {
                let share = bin.join("../share/openocd");
                vec![share.join("site"), share.join("scripts")]
                    .into_iter()
                    .map(|d| d.canonicalize().unwrap_or(d))
                    .collect()
            })
            .unwrap_or_default(),
    };
    Installed {
        program,
        version_text,
        version,
        scripts_dirs,
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

pub(super) fn resolve_options(inst: &Installed, cwd: &Path) -> ResolveOptions {
    ResolveOptions {
        cwd: cwd.to_path_buf(),
        scripts_dirs: inst.scripts_dirs.clone(),
        bindir: inst
            .program
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf),
        openocd_scripts: env_path("OPENOCD_SCRIPTS"),
        home: env_path("HOME"),
        xdg_config_home: env_path("XDG_CONFIG_HOME"),
        version: inst.version,
        index: None,
    }
}
