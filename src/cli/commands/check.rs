//! `cpt check`: an incremental scan, then the gates; the exit status says whether they passed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::FilterArgs;
use super::scan::check_root;
use crate::cli::ExitStatus;
use crate::cli::progress::TerminalProgress;
use crate::engine::view::{CheckRequest, DiffBase, FailOn};
use crate::engine::{Catalogue, ScanFlags, ScanRequest};
use crate::report::ci;
use crate::report::{self, ReportFormat};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Root of the tree to check
    #[arg(value_name = "PATH", default_value = ".")]
    root: PathBuf,
    /// Catalogue database [default: PATH/.cpt/cpt.db]
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Leave out paths matching GLOB when scanning (gitignore syntax; repeatable)
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: ReportFormat,
    /// Fail when more than PCT percent of the lines are duplicated [or cpt.toml [check]]
    #[arg(long, value_name = "PCT", value_parser = percentage)]
    max_duplication: Option<f64>,
    /// Fail on new classes only, or on any class [default: new with --baseline, --diff or
    /// --base, else any]
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// New code is what changed since REV (committed, staged and not; untracked files too)
    #[arg(long, value_name = "REV", conflicts_with = "base")]
    diff: Option<String>,
    /// New code is what changed since HEAD forked from REV (a pull request's changes)
    /// [or cpt.toml [check] base]
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// The classes that already exist: only classes absent from FILE, or with more copies,
    /// are new [or cpt.toml [check] baseline]
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the baseline file from the classes found now (then check against it)
    #[arg(long)]
    update_baseline: bool,
    #[command(flatten)]
    filter: FilterArgs,
    /// No progress bar or warnings
    #[arg(short, long)]
    quiet: bool,
}

/// A percentage from 0 to 100.
fn percentage(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{text}` is not a percentage from 0 to 100 (such as 5)"
        )),
    }
}

pub fn run(
    args: CheckArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    check_root(&args.root)?;
    crate::sys::limit_allocator_arenas();
    let scan = ScanRequest {
        root: args.root.clone(),
        db: args.db.clone(),
        flags: ScanFlags {
            exclude: args.exclude.clone(),
            ..ScanFlags::default()
        },
    };
    {
        let progress = TerminalProgress::new(args.quiet, stderr);
        Catalogue::scan(&scan, &progress)?;
    }
    let catalogue = Catalogue::open(&scan.db())?;
    let configured = catalogue.configured_check()?;
    let request = CheckRequest {
        filter: args.filter.filter(configured.filter)?,
        max_duplication: args
            .max_duplication
            .map(|p| p / 100.0)
            .or(configured.max_duplication),
        fail_on: args.fail_on.or(configured.fail_on),
        diff: match (args.diff, args.base) {
            (Some(rev), _) => Some(DiffBase::Since(rev)),
            (None, Some(rev)) => Some(DiffBase::MergeBase(rev)),
            (None, None) => configured.diff,
        },
        baseline: args.baseline.or(configured.baseline),
        update_baseline: args.update_baseline,
    };
    let outcome = catalogue.check(&request)?;
    match args.format {
        ReportFormat::Text => report::check::text(stdout, &outcome)?,
        ReportFormat::Json => report::check::json(stdout, &outcome)?,
        ReportFormat::Sarif => {
            let warnings = ci::sarif(stdout, &outcome.root, &report::check::flagged(&outcome))?;
            for warning in warnings {
                writeln!(stderr, "cpt: warning: {warning}")?;
            }
        }
        ReportFormat::Gnu => ci::gnu(stdout, &report::check::flagged(&outcome))?,
        ReportFormat::Github => ci::github(stdout, &report::check::flagged(&outcome))?,
        ReportFormat::Markdown => report::check::markdown(stdout, &outcome)?,
    }
    Ok(if outcome.passed() {
        ExitStatus::Success
    } else {
        ExitStatus::Findings
    })
}
