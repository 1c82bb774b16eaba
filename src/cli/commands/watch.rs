//! `cpt watch`: keep a catalogue up to date as files change, and say what changed.

use std::io::Write;

use anyhow::{Context, Result};
use clap::Args;

use super::scan::{ScanArgs, check_root};
use crate::cli::ExitStatus;
use crate::report::watch::WatchFormat;
use crate::watch::{self, Report, WatchOptions};

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// text for people; jsonl: one JSON object per change (schema in README); gnu:
    /// `path:line:col: warning: …` lines for editors' problem matchers
    #[arg(long, value_enum, default_value_t)]
    format: WatchFormat,
    /// Quiet time after a change, in milliseconds, before it is applied
    #[arg(long, value_name = "MS", default_value_t = 10)]
    debounce: u64,
}

pub fn run(
    args: WatchArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    check_root(&args.scan.path)?;
    crate::sys::limit_allocator_arenas();
    let request = args.scan.request();
    let options = WatchOptions {
        root: request.root.clone(),
        db: request.db(),
        flags: request.flags,
        debounce: std::time::Duration::from_millis(args.debounce),
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    // Ctrl-C and SIGTERM end the loop between batches: a batch being applied finishes.
    let stop = sender.clone();
    ctrlc::set_handler(move || {
        let _ = stop.send(watch::Message::Stop);
    })
    .context("cannot install the Ctrl-C handler")?;
    let quiet = args.scan.quiet;
    let format = args.format;
    watch::watch(&options, (sender, receiver), &mut |report| {
        if quiet && matches!(report, Report::Failed(_)) {
            return Ok(());
        }
        Ok(crate::report::watch::report(
            stdout, stderr, format, &report,
        )?)
    })?;
    Ok(ExitStatus::Success)
}
