//! The user's openocd command line, split into what configures OpenOCD (kept) and what acts
//! on the target (dropped: every step brings its own probe), and each step's command built
//! from it.

use crate::ladder::{Placement, Step};

const CONFIG_COMMANDS: &str = include_str!("../data/config_commands.txt");

/// One configuration argument group, in the user's order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// `-f FILE`, with whether it names a target or board cfg (dropped by `interface_only`).
    File { path: String, target_side: bool },
    /// Any other kept option with its value (`-s DIR`, `-c CMD`, `-d3`…), as given.
    Other(Vec<String>),
}

/// The configuration part of an openocd command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseCommand {
    pub program: String,
    parts: Vec<Part>,
    /// `-c` commands dropped because they act on the target (shown to the user).
    pub dropped: Vec<String>,
}

fn is_config_command(cmd: &str) -> bool {
    let allowed = || {
        CONFIG_COMMANDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    };
    cmd.split([';', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .all(|c| {
            let mut words = c.split_whitespace();
            let first = words.next().unwrap_or_default();
            let second = words.next().unwrap_or_default();
            // `stm32f4x.cpu configure -event …`: an object's configuration.
            allowed().any(|a| a == first) || matches!(second, "configure" | "cget")
        })
}

fn is_target_side(path: &str) -> bool {
    let p = path.replace('\\', "/");
    p.starts_with("target/")
        || p.starts_with("board/")
        || p.contains("/target/")
        || p.contains("/board/")
}

impl BaseCommand {
    /// Split `argv` (the program first). Options openocd takes with a value: `-f`, `-s`, `-c`,
    /// `-l`, `-d` (attached or separate), and their long forms.
    pub fn parse(argv: &[String]) -> BaseCommand {
        let program = argv.first().cloned().unwrap_or_else(|| "openocd".into());
        let mut parts = Vec::new();
        let mut dropped = Vec::new();
        let mut args = argv.iter().skip(1);
        while let Some(a) = args.next() {
            let (flag, attached) = split_flag(a);
            let value = || attached.clone().or_else(|| args.clone().next().cloned());
            let takes_value = matches!(flag.as_str(), "-f" | "-s" | "-c" | "-l");
            let v = if takes_value { value() } else { None };
            if takes_value && attached.is_none() {
                args.next();
            }
            match (flag.as_str(), v) {
                ("-f", Some(path)) => parts.push(Part::File {
                    target_side: is_target_side(&path),
                    path,
                }),
                ("-c", Some(cmd)) if is_config_command(&cmd) => {
                    parts.push(Part::Other(vec!["-c".into(), cmd]))
                }
                ("-c", Some(cmd)) => dropped.push(cmd),
                ("-s" | "-l", Some(v)) => parts.push(Part::Other(vec![flag.clone(), v])),
                _ => parts.push(Part::Other(vec![a.clone()])),
            }
        }
        BaseCommand {
            program,
            parts,
            dropped,
        }
    }

    /// Whether the command names a config file before a target or board one: the place
    /// `after-interface` changes go.
    pub fn has_interface_cfg(&self) -> bool {
        self.parts.iter().any(|p| {
            matches!(
                p,
                Part::File {
                    target_side: false,
                    ..
                }
            )
        })
    }

    /// The transport a `-c "transport select X"` of the command line chooses.
    pub fn selected_transport(&self) -> Option<String> {
        self.parts.iter().rev().find_map(|p| match p {
            Part::Other(args) if args.len() == 2 && args[0] == "-c" => {
                let mut words = args[1].split_whitespace();
                (words.next() == Some("transport") && words.next() == Some("select"))
                    .then(|| words.next().map(String::from))
                    .flatten()
            }
            _ => None,
        })
    }

    /// The arguments (without the program) of `step`'s run; `vars` fill `{name}`s in `add`;
    /// `transport` (the session's) picks the step's probe.
    pub fn for_step(
        &self,
        step: &Step,
        vars: &[(String, String)],
        transport: Option<&str>,
    ) -> Vec<String> {
        let fill = |s: &String| {
            vars.iter()
                .fold(s.clone(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
        };
        let add: Vec<String> = step.add.iter().map(fill).collect();
        let mut out = Vec::new();
        if step.at == Placement::Front {
            out.extend(add.iter().cloned());
        }
        let mut placed_after_interface = false;
        for p in &self.parts {
            match p {
                Part::File { path, target_side } => {
                    if *target_side && step.interface_only {
                        // What follows a target cfg configures its objects: gone with it.
                        break;
                    }
                    if *target_side
                        && step.at == Placement::AfterInterface
                        && !placed_after_interface
                    {
                        out.extend(add.iter().cloned());
                        placed_after_interface = true;
                    }
                    out.extend(["-f".to_owned(), path.clone()]);
                }
                Part::Other(args) => out.extend(args.iter().cloned()),
            }
        }
        if step.at == Placement::AfterConfig
            || (step.at == Placement::AfterInterface && !placed_after_interface)
        {
            out.extend(add);
        }
        out.extend(step.probe(transport));
        out
    }
}

/// `-fX` → (`-f`, Some(X)); `--file=X`/`--file` → `-f`; anything else as it is.
fn split_flag(a: &str) -> (String, Option<String>) {
    let long = [
        ("--file", "-f"),
        ("--search", "-s"),
        ("--command", "-c"),
        ("--log_output", "-l"),
    ];
    for (l, s) in long {
        if a == l {
            return (s.into(), None);
        }
        if let Some(v) = a.strip_prefix(l).and_then(|r| r.strip_prefix('=')) {
            return (s.into(), Some(v.into()));
        }
    }
    for s in ["-f", "-s", "-c", "-l"] {
        if let Some(v) = a.strip_prefix(s).filter(|v| !v.is_empty()) {
            return (s.into(), Some(v.into()));
        }
    }
    (a.into(), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::Ladder;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn actions_are_dropped_config_kept() {
        // The configuration every step runs with, then actions no step may run.
        let config = [
            "-f",
            "interface/stlink.cfg",
            "-f",
            "target/stm32f4x.cfg",
            "-c",
            "adapter speed 4000",
        ];
        let actions = [
            "-c",
            "program fw.elf verify reset exit",
            "-c",
            "init; mww 0x40023c04 0x45670123",
        ];
        let cmd = BaseCommand::parse(&argv(&[&["openocd"][..], &config, &actions].concat()));
        assert_eq!(
            cmd.dropped,
            [
                "program fw.elf verify reset exit",
                "init; mww 0x40023c04 0x45670123"
            ]
        );
        let ladder = Ladder::builtin();
        let slow = ladder.steps.iter().find(|s| s.id == "speed-100").unwrap();
        assert_eq!(
            cmd.for_step(slow, &[], None),
            argv(
                &[
                    &config[..],
                    &["-c", "adapter speed 100", "-c", "init", "-c", "shutdown"],
                ]
                .concat()
            )
        );
        let other = ladder
            .steps
            .iter()
            .find(|s| s.id == "other-transport")
            .unwrap();
        let vars = [("other_transport".to_string(), "hla_jtag".to_string())];
        assert_eq!(
            cmd.for_step(other, &vars, None)[..6],
            argv(&[
                "-f",
                "interface/stlink.cfg",
                "-c",
                "transport select hla_jtag",
                "-f",
                "target/stm32f4x.cfg"
            ])
        );
        let idcode = ladder.steps.iter().find(|s| s.id == "idcode").unwrap();
        let args = cmd.for_step(idcode, &[], Some("jtag"));
        assert!(!args.iter().any(|a| a.contains("target/")), "{args:?}");
        assert!(args.windows(2).any(|w| w == ["-c", "scan_chain"]));
        let swd = cmd.for_step(idcode, &[], Some("swd"));
        assert!(swd.iter().any(|a| a.starts_with("swd newdap")), "{swd:?}");
        assert!(!swd.iter().any(|a| a == "scan_chain"), "{swd:?}");
        assert_eq!(cmd.selected_transport(), None);
        let chosen = BaseCommand::parse(&argv(&[
            "openocd",
            "-f",
            "interface/buspirate.cfg",
            "-c",
            "transport select swd",
        ]));
        assert_eq!(chosen.selected_transport().as_deref(), Some("swd"));
    }

    #[test]
    fn object_configuration_is_kept() {
        assert!(is_config_command(
            "stm32f4x.cpu configure -event reset-start {}"
        ));
        assert!(is_config_command(
            "reset_config srst_only; adapter speed 100"
        ));
        assert!(!is_config_command(
            "flash write_image erase fw.bin 0x08000000"
        ));
        assert!(!is_config_command("stm32f1x unlock 0"));
    }
}
