//! `cpt table`: the periodic table of patterns.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::CatalogueArgs;
use crate::cli::ExitStatus;
use crate::engine::view::{Filter, SourceRequest, TableRequest, TestPolicy};
use crate::report::{self, Format};

#[derive(Debug, Args)]
pub struct TableArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Also write the table as one self-contained HTML page to FILE
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Only copies in this language (id such as python or cpp; repeatable)
    #[arg(long, value_name = "LANG")]
    lang: Vec<String>,
    /// Only copies whose path (relative to the root) matches GLOB (repeatable)
    #[arg(long, value_name = "GLOB")]
    path: Vec<String>,
    /// Copies in test files: include them, exclude them, or show only them [default: include,
    /// or `tests` in cpt.toml]
    #[arg(long, value_enum)]
    tests: Option<TestPolicy>,
    /// Idioms are shapes recurring in at least N files
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..))]
    min_files: u32,
    /// The table as it was then: a date (its end), an RFC 3339 time, scan:N (its end), or a
    /// commit (the end of its last scan), replayed from the event log
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    /// Trends compare each element with the catalogue then (same forms as --at) [default:
    /// what the last scan did]
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
}

/// Elements of the HTML page with source text, and other copies shown beside the
/// representative (docs/decisions.md: the page's size).
const HTML_SOURCES: SourceRequest = SourceRequest {
    elements: 400,
    copies: 3,
    max_lines: 80,
};

pub fn run(
    args: TableArgs,
    stdout: &mut dyn Write,
    _stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    let catalogue = args.catalogue.open()?;
    let file = catalogue.report_config()?;
    let filter = Filter {
        tests: args.tests.or(file.tests).unwrap_or_default(),
        ..Filter::default()
    }
    .with_paths(&args.path)?
    .with_langs(&args.lang)?;
    let table = catalogue.table(&TableRequest {
        filter,
        min_files: args.min_files,
        sources: args.html.is_some().then_some(HTML_SOURCES),
        at: args.at,
        since: args.since,
    })?;
    if let Some(path) = &args.html {
        let mut page = Vec::new();
        report::table::html::html(&mut page, &table)?;
        std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))?;
    }
    match args.format {
        Format::Text => {
            let colour = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            report::table::text(stdout, &table, colour)?
        }
        Format::Json => report::table::json(stdout, &table)?,
    }
    Ok(ExitStatus::Success)
}
