//! `cpt history ID`: one clone class's life, from the event log.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::CatalogueArgs;
use crate::cli::ExitStatus;
use crate::report::{self, Format};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// The class id (16 hex digits, or the first 4 or more; a dissolved class's too)
    id: String,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(args: HistoryArgs, stdout: &mut dyn Write) -> Result<ExitStatus> {
    let catalogue = args.catalogue.open()?;
    let (id, events) = catalogue.class_history(&args.id)?;
    match args.format {
        Format::Text => report::history::history(stdout, id, &events)?,
        Format::Json => report::history::history_json(stdout, id, &events)?,
    }
    Ok(ExitStatus::Success)
}
