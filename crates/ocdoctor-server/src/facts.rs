//! What an incident is about, read from the uploaded log and command line (never from the
//! client's report): the probe and the target, for the dashboard's breakdowns.

/// Log text → probe family. The first row found in the log wins; order from most specific.
const PROBE_IN_LOG: &[(&str, &str)] = &[
    ("STLINK V", "ST-Link"),
    ("ST-LINK", "ST-Link"),
    ("stlink", "ST-Link"),
    ("J-Link", "J-Link"),
    ("CMSIS-DAP", "CMSIS-DAP"),
    ("esp_usb_jtag", "ESP USB-JTAG"),
    ("picoprobe", "Picoprobe"),
    ("XDS110", "XDS110"),
    ("remote_bitbang", "remote_bitbang"),
    ("ftdi", "FTDI"),
    ("FTDI", "FTDI"),
    ("ULINK", "ULINK"),
    ("Bus Pirate", "Bus Pirate"),
    ("linuxgpiod", "linuxgpiod"),
    ("bcm2835gpio", "bcm2835gpio"),
];

/// `interface/<name>.cfg` (or `adapter driver <name>`) → probe family, by prefix of the name.
const PROBE_BY_INTERFACE: &[(&str, &str)] = &[
    ("stlink", "ST-Link"),
    ("st-link", "ST-Link"),
    ("jlink", "J-Link"),
    ("cmsis-dap", "CMSIS-DAP"),
    ("cmsis_dap", "CMSIS-DAP"),
    ("esp_usb_jtag", "ESP USB-JTAG"),
    ("esp32_devkitj", "FTDI"),
    ("picoprobe", "Picoprobe"),
    ("xds110", "XDS110"),
    ("remote_bitbang", "remote_bitbang"),
    ("ftdi", "FTDI"),
    ("ulink", "ULINK"),
    ("buspirate", "Bus Pirate"),
    ("raspberrypi", "Raspberry Pi GPIO"),
];

/// The probe family: the command's interface script or adapter driver, else the log's words.
pub fn probe(log: &str, command: Option<&str>) -> Option<String> {
    let named = command.and_then(|c| {
        script_arg(c, "interface/")
            .or_else(|| word_after(c, "adapter driver "))
            .map(|n| n.to_ascii_lowercase())
    });
    if let Some(name) = named {
        if let Some((_, family)) = PROBE_BY_INTERFACE.iter().find(|(p, _)| name.starts_with(p)) {
            return Some((*family).to_string());
        }
    }
    PROBE_IN_LOG
        .iter()
        .find(|(needle, _)| log.contains(needle))
        .map(|(_, family)| (*family).to_string())
}

/// The target: the command's `target/<x>.cfg` (or `board/<x>.cfg`), else the first
/// `<x>.cpu` tap name in the log (OpenOCD names taps after the target script).
pub fn target(log: &str, command: Option<&str>) -> Option<String> {
    if let Some(c) = command {
        if let Some(t) = script_arg(c, "target/") {
            return Some(t);
        }
        if let Some(b) = script_arg(c, "board/") {
            return Some(format!("board/{b}"));
        }
    }
    log.lines().take(20_000).find_map(cpu_tap)
}

/// `-f <dir>name.cfg` anywhere in a command line → `name`.
fn script_arg(command: &str, dir: &str) -> Option<String> {
    command.split_whitespace().find_map(|w| {
        let w = w.trim_matches(|c| c == '"' || c == '\'');
        let at = w.find(dir)?;
        let name = w[at + dir.len()..].strip_suffix(".cfg")?;
        (!name.is_empty() && name.len() <= 80).then(|| name.to_string())
    })
}

fn word_after(text: &str, prefix: &str) -> Option<String> {
    let at = text.find(prefix)?;
    let word = text[at + prefix.len()..].split_whitespace().next()?;
    Some(word.trim_matches(|c| c == '"' || c == '\'').to_string())
}

/// `stm32f4x.cpu` in a line → `stm32f4x`.
fn cpu_tap(line: &str) -> Option<String> {
    line.split(|c: char| c.is_whitespace() || c == '[' || c == ']' || c == ',')
        .find_map(|w| {
            let w = w.trim_end_matches(':');
            let stem = w.strip_suffix(".cpu").or_else(|| {
                let at = w.rfind(".cpu")?;
                w[at + 4..]
                    .chars()
                    .all(|c| c.is_ascii_digit())
                    .then(|| &w[..at])
            })?;
            let ok = !stem.is_empty()
                && stem.len() <= 64
                && stem
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
            ok.then(|| stem.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_and_target_from_command_then_log() {
        let cmd = "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg";
        assert_eq!(probe("", Some(cmd)).as_deref(), Some("ST-Link"));
        assert_eq!(target("", Some(cmd)).as_deref(), Some("stm32f4x"));
        assert_eq!(
            target("", Some("openocd -f board/st_nucleo_f4.cfg")).as_deref(),
            Some("board/st_nucleo_f4")
        );
        let log = "Info : Initializing remote_bitbang driver\nInfo : JTAG tap: stm32f1x.cpu tap/device found: 0x4ba00477\n";
        assert_eq!(probe(log, None).as_deref(), Some("remote_bitbang"));
        assert_eq!(target(log, None).as_deref(), Some("stm32f1x"));
        assert_eq!(
            target("Info : [rp2040.cpu0] halted", None).as_deref(),
            Some("rp2040")
        );
        assert_eq!(probe("Error: open failed", None), None);
        assert_eq!(target("Error: open failed", None), None);
    }
}
