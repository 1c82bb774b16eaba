//! `cpt accept` and `cpt unaccept`: decide that a clone class may stay as it is.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::CatalogueArgs;
use crate::cli::ExitStatus;
use crate::engine::Catalogue;
use crate::engine::accept::ACCEPTED_FILE;

#[derive(Debug, Args)]
pub struct AcceptArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// The class id (as `cpt clones` shows it; the first 4 or more digits will do)
    id: String,
    /// Why the copies may stay (kept with the decision)
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

#[derive(Debug, Args)]
pub struct UnacceptArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// The class id (16 hex digits)
    id: String,
}

pub fn accept(args: AcceptArgs, stdout: &mut dyn Write) -> Result<ExitStatus> {
    let db = Catalogue::locate(args.catalogue.db.as_deref())?;
    let a = Catalogue::accept(&db, &args.id, &args.reason)?;
    writeln!(
        stdout,
        "accepted {} ({} copies): {}; recorded in the catalogue and {ACCEPTED_FILE}",
        a.id,
        a.copies.len(),
        a.reason
    )?;
    Ok(ExitStatus::Success)
}

pub fn unaccept(args: UnacceptArgs, stdout: &mut dyn Write) -> Result<ExitStatus> {
    let db = Catalogue::locate(args.catalogue.db.as_deref())?;
    Catalogue::unaccept(&db, &args.id)?;
    writeln!(stdout, "{} is no longer accepted", args.id.trim())?;
    Ok(ExitStatus::Success)
}
