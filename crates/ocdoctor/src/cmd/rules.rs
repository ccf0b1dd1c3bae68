//! `ocdoctor rules`: every rule, one line each (text, JSON or a Markdown table).

use super::{Format, UsageError, out};
use ocdoctor_core::KnowledgeBase;

#[derive(clap::Args)]
pub struct RulesArgs {
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: RulesArgs) -> Result<u8, UsageError> {
    let kb = KnowledgeBase::embedded();
    match args.format {
        Format::Sarif => {
            return Err(UsageError(
                "rules --format sarif: use text, json or markdown (a SARIF log of `check` or `diagnose` carries the rules)".into(),
            ));
        }
        Format::Json => {
            let rows: Vec<_> = kb
                .rules
                .iter()
                .map(|r| serde_json::json!({"code": r.code, "name": r.name, "cause": r.cause, "severity": r.severity.as_str(), "summary": r.summary}))
                .collect();
            out(&(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"));
        }
        Format::Markdown => {
            let mut s = String::from("| code | name | cause | summary |\n|---|---|---|---|\n");
            for r in &kb.rules {
                s += &format!(
                    "| [{0}](docs/rules/{0}.md) | {1} | `{2}` | {3} |\n",
                    r.code, r.name, r.cause, r.summary
                );
            }
            out(&s);
        }
        Format::Text => {
            let w = kb.rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
            let cw = kb.rules.iter().map(|r| r.cause.len()).max().unwrap_or(0);
            let mut s = String::new();
            for r in &kb.rules {
                s += &format!(
                    "{}  {:w$}  {:cw$}  {}\n",
                    r.code, r.name, r.cause, r.summary
                );
            }
            out(&s);
        }
    }
    Ok(0)
}
