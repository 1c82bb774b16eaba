//! `cpt rebuild`: recreate the catalogue's tables from its event log, and its index.

use std::io::Write;

use anyhow::Result;

use super::CatalogueArgs;
use crate::cli::ExitStatus;
use crate::engine::Catalogue;
use crate::report;

pub fn run(
    args: CatalogueArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    let db = Catalogue::locate(args.db.as_deref())?;
    let stderr = std::cell::RefCell::new(stderr);
    let events = Catalogue::rebuild(&db, &|m| {
        let _ = writeln!(stderr.borrow_mut(), "cpt: {m}");
    })?;
    report::text::rebuilt(stdout, &db, events)?;
    Ok(ExitStatus::Success)
}
