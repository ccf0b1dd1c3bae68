//! `ocdoctor explain CODE`: a rule's documentation.

use super::{UsageError, out};
use ocdoctor_core::{KnowledgeBase, render};

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// A rule code (PRB001) or name.
    rule: String,
}

pub fn run(args: ExplainArgs) -> Result<u8, UsageError> {
    match render::rule_doc(KnowledgeBase::embedded(), &args.rule) {
        Some(doc) => {
            out(&doc);
            Ok(0)
        }
        None => Err(UsageError(format!(
            "no rule {:?}; `ocdoctor rules` lists them",
            args.rule
        ))),
    }
}
