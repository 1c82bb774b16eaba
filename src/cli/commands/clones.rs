//! `cpt clones`: list clone classes.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::{CatalogueArgs, FilterArgs};
use crate::cli::ExitStatus;
use crate::engine::Catalogue;
use crate::engine::view::Filter;
use crate::report::ci::{self, Flagged};
use crate::report::{self, ReportFormat};

#[derive(Debug, Args)]
pub struct ClonesArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: ReportFormat,
    #[command(flatten)]
    filter: FilterArgs,
    /// The catalogue as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or
    /// a commit (the end of its last scan), replayed from the event log
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
}

impl ClonesArgs {
    /// The report filter: flags over the `[report]` table of the root's cpt.toml.
    fn filter(&self, catalogue: &Catalogue) -> Result<Filter> {
        let file = catalogue.report_config()?;
        self.filter.filter(Filter {
            tests: file.tests.unwrap_or_default(),
            noise: file.noise.unwrap_or(false),
            ..Filter::default()
        })
    }
}

pub fn run(
    args: ClonesArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    let catalogue = args.catalogue.open()?;
    let filter = args.filter(&catalogue)?;
    let classes = match &args.at {
        Some(at) => catalogue.classes_at(&catalogue.at(at)?, &filter)?,
        None => catalogue.classes(&filter)?,
    };
    let flagged = || classes.iter().map(Flagged::all).collect::<Vec<_>>();
    match args.format {
        ReportFormat::Text => report::text::clones(stdout, &classes)?,
        ReportFormat::Json => {
            report::json::clones(stdout, &catalogue.root().to_string_lossy(), &classes)?
        }
        ReportFormat::Sarif => {
            for warning in ci::sarif(stdout, catalogue.root(), &flagged())? {
                writeln!(stderr, "cpt: warning: {warning}")?;
            }
        }
        ReportFormat::Gnu => ci::gnu(stdout, &flagged())?,
        ReportFormat::Github => ci::github(stdout, &flagged())?,
        ReportFormat::Markdown => {
            let copies: usize = classes.iter().map(|c| c.copies.len()).sum();
            let title = match classes.len() {
                0 => "cpt: no clones found".to_string(),
                1 => format!("cpt: 1 clone class, {copies} copies"),
                n => format!("cpt: {n} clone classes, {copies} copies"),
            };
            ci::markdown(stdout, &title, &[], &flagged(), 100)?
        }
    }
    Ok(ExitStatus::Success)
}
