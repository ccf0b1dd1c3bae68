//! The machine snapshot (`ocdoctor env`) as evidence for a log diagnosis: the env problems, and
//! derived join keys the rules in rules/*/???05* use.

/// The machine's problems as evidence for the log diagnosis. The OS of the snapshot is the OS
/// the log comes from (the default snapshot is this machine's).
pub fn hints_from_env(snap: &ocdoctor_env::EnvSnapshot) -> ocdoctor_core::Hints {
    use ocdoctor_core::kb::Os;
    let os = match snap.os.as_str() {
        "linux" => Some(Os::Linux),
        "macos" => Some(Os::Macos),
        "windows" => Some(Os::Windows),
        _ => None,
    };
    let env = ocdoctor_env::problems(snap)
        .into_iter()
        .map(|p| ocdoctor_core::infer::EnvProblem {
            id: p.id,
            cause: p.cause,
            message: p.message,
            facts: p.facts.into_iter().collect(),
        })
        .collect();
    ocdoctor_core::Hints {
        os,
        env,
        ..Default::default()
    }
}
