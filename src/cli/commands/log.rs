//! `cpt log`: the catalogue's event log, streamed.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::CatalogueArgs;
use crate::cli::ExitStatus;
use crate::engine::history::LogRequest;
use crate::engine::view::Filter;
use crate::report::{self, Format};

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// Only events from this point on: a date (YYYY-MM-DD), an RFC 3339 time, scan:N, or a
    /// commit (its first scan)
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only events up to this point: a date (through its end), an RFC 3339 time, scan:N, or a
    /// commit (its last scan)
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
    /// Only events of this kind (file_added, pattern_created…) or family (file, unit, pattern;
    /// repeatable)
    #[arg(long, value_name = "KIND")]
    kind: Vec<String>,
    /// Only events about files whose path (relative to the root) matches GLOB: file and unit
    /// events, and those of classes with a copy there (repeatable)
    #[arg(long, value_name = "GLOB")]
    path: Vec<String>,
    /// Only events naming the class with this id (16 hex digits, or the first 4 or more)
    #[arg(long, value_name = "ID")]
    pattern: Option<String>,
    /// Output format: a line per event, or a JSON object per line (cpt.log/1)
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: LogArgs, stdout: &mut dyn Write) -> Result<ExitStatus> {
    let catalogue = args.catalogue.open()?;
    let request = LogRequest {
        since: args.since,
        until: args.until,
        kinds: args.kind,
        paths: Filter::default().with_paths(&args.path)?.paths,
        pattern: args.pattern,
    };
    catalogue.log(&request, &mut |entry| {
        match args.format {
            Format::Text => report::history::log_line(stdout, entry)?,
            Format::Json => report::history::log_json(stdout, entry)?,
        }
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}
