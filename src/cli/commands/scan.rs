//! `cpt scan`: index or refresh a tree.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::ratio;
use crate::cli::ExitStatus;
use crate::cli::progress::TerminalProgress;
use crate::engine::{Catalogue, ScanFlags, ScanRequest};
use crate::report;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Root of the tree to scan
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Catalogue database [default: PATH/.cpt/cpt.db]
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Leave out paths matching GLOB (gitignore syntax, relative to the root; repeatable)
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Skip files larger than BYTES [default: 1048576, or cpt.toml]
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Skip files with a line longer than BYTES as minified [default: 1000, or cpt.toml]
    #[arg(long, value_name = "BYTES")]
    max_line_length: Option<u32>,
    /// Smallest unit in tokens [default: 50, or cpt.toml]
    #[arg(long, value_name = "N")]
    min_tokens: Option<u32>,
    /// Smallest unit in lines [default: 6, or cpt.toml]
    #[arg(long, value_name = "N")]
    min_lines: Option<u32>,
    /// Near-miss copies need this token similarity to the copy they pair with
    /// [default: 0.65, or cpt.toml]
    #[arg(long, value_name = "RATIO", value_parser = ratio)]
    min_similarity: Option<f64>,
    /// Exact and renamed copies only: skip near-miss (type-3) detection [or cpt.toml
    /// `near_miss = false`]
    #[arg(long)]
    no_near_miss: bool,
    /// No progress bar, warnings or summary
    #[arg(short, long)]
    pub quiet: bool,
}

impl ScanArgs {
    /// The scan these flags ask for (`cpt.toml` fills in the rest).
    pub fn request(&self) -> ScanRequest {
        ScanRequest {
            root: self.path.clone(),
            db: self.db.clone(),
            flags: ScanFlags {
                exclude: self.exclude.clone(),
                max_file_size: self.max_file_size,
                max_line_length: self.max_line_length,
                min_tokens: self.min_tokens,
                min_lines: self.min_lines,
                min_similarity: self.min_similarity,
                near_miss: self.no_near_miss.then_some(false),
            },
        }
    }
}

pub fn run(
    args: ScanArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    check_root(&args.path)?;
    crate::sys::limit_allocator_arenas();
    let progress = TerminalProgress::new(args.quiet, stderr);
    let summary = Catalogue::scan(&args.request(), &progress)?;
    if !args.quiet {
        report::text::scan_summary(stdout, &summary)?;
    }
    Ok(ExitStatus::Success)
}

/// A tree to scan or watch is a directory that exists.
pub fn check_root(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => anyhow::bail!(
            "{}: not a directory; scan the directory that holds it",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("{}: no such directory", path.display())
        }
        Err(e) => anyhow::bail!("{}: cannot scan: {e}", path.display()),
    }
}
