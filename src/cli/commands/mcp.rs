//! `cpt mcp`: serve tools for coding agents (Model Context Protocol) over stdio.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::scan::check_root;
use crate::cli::ExitStatus;
use crate::engine::ScanRequest;

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Root of the repository to serve
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Catalogue database [default: PATH/.cpt/cpt.db]
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
}

pub fn run(
    args: McpArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    check_root(&args.path)?;
    crate::sys::limit_allocator_arenas();
    let scan = ScanRequest {
        root: args.path,
        db: args.db,
        ..ScanRequest::default()
    };
    crate::mcp::serve(scan, &mut std::io::stdin().lock(), stdout, stderr)?;
    Ok(ExitStatus::Success)
}
