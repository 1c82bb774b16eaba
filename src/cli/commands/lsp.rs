//! `cpt lsp`: the language server, over stdio.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use crate::cli::ExitStatus;

#[derive(Debug, Args)]
pub struct LspArgs {
    /// Accepted for clients that start servers with `--stdio` (stdio is the only transport)
    #[arg(long)]
    stdio: bool,
}

pub fn run(_args: LspArgs, stderr: &mut (dyn Write + Send)) -> Result<ExitStatus> {
    Ok(match crate::lsp::run(stderr)? {
        0 => ExitStatus::Success,
        _ => ExitStatus::Findings,
    })
}
