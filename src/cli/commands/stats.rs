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
}

pub fn run(
    args: StatsArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    let catalogue = args.catalogue.open()?;
    let stderr = Mutex::new(stderr);
    let stats = catalogue.stats(&warnings(&stderr))?;
    match args.format {
        Format::Text => report::text::stats(stdout, &stats)?,
        Format::Json => report::json::stats(stdout, &stats)?,
    }
    Ok(ExitStatus::Success)
}
