//! `ocdoctor lsp`: the language server (crate ocdoctor-lsp) on stdin/stdout.

use super::UsageError;

#[derive(clap::Args)]
pub struct LspArgs {
    /// Accepted for clients that always pass it (VS Code's language client does); stdio is
    /// the only transport.
    #[arg(long, hide = true)]
    stdio: bool,
}

pub fn run(_args: LspArgs) -> Result<u8, UsageError> {
    ocdoctor_lsp::run_stdio().map_err(|e| UsageError(e.to_string()))?;
    Ok(0)
}
