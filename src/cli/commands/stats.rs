//! `cpt stats`: the catalogue's figures.

use std::io::Write;
use std::sync::Mutex;

use anyhow::Result;
use clap::Args;

use super::CatalogueArgs;
use crate::cli::ExitStatus;
use crate::cli::progress::warnings;
use crate::report::{self, Format};

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// The catalogue as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or
    /// a commit (the end of its last scan), replayed from the event log; the index's figures
    /// are the index's now
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
}

pub fn run(
    args: StatsArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    let catalogue = args.catalogue.open()?;
    let stderr = Mutex::new(stderr);
    let stats = match &args.at {
        Some(at) => catalogue.stats_at(&catalogue.at(at)?, &warnings(&stderr))?,
        None => catalogue.stats(&warnings(&stderr))?,
    };
    match args.format {
        Format::Text => report::text::stats(stdout, &stats)?,
        Format::Json => report::json::stats(stdout, &stats)?,
    }
    Ok(ExitStatus::Success)
}
