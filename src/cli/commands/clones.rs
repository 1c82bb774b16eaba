//! `cpt clones`: list clone classes.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::{CatalogueArgs, ratio};
use crate::cli::ExitStatus;
use crate::engine::Catalogue;
use crate::engine::view::{CloneType, Filter, TestPolicy};
use crate::report::{self, Format};

#[derive(Debug, Args)]
pub struct ClonesArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Only classes of this clone type (repeatable)
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    types: Vec<CloneType>,
    /// Only copies at least this similar to their class's representative
    #[arg(long, value_name = "RATIO", value_parser = ratio)]
    min_similarity: Option<f64>,
    /// Only classes of at least N lines
    #[arg(long, value_name = "N")]
    min_lines: Option<u32>,
    /// Only classes of at least N tokens
    #[arg(long, value_name = "N")]
    min_tokens: Option<u32>,
    /// Only copies in this language (id such as python or cpp; repeatable)
    #[arg(long, value_name = "LANG")]
    lang: Vec<String>,
    /// Only copies whose path (relative to the root) matches GLOB (repeatable)
    #[arg(long, value_name = "GLOB")]
    path: Vec<String>,
    /// Copies in test files: include them, exclude them, or show only them [default: include,
    /// or `tests` in cpt.toml's [report]]
    #[arg(long, value_enum)]
    tests: Option<TestPolicy>,
    /// Also show trivial shapes: accessors and one-liners, import runs, literal tables
    #[arg(long)]
    noise: bool,
}

impl ClonesArgs {
    /// The report filter: flags over the `[report]` table of the root's cpt.toml.
    fn filter(&self, catalogue: &Catalogue) -> Result<Filter> {
        let file = catalogue.report_config()?;
        Filter {
            types: self.types.clone(),
            min_similarity: self.min_similarity.map(|s| s as f32),
            min_lines: self.min_lines,
            min_tokens: self.min_tokens,
            tests: self.tests.or(file.tests).unwrap_or_default(),
            noise: self.noise || file.noise.unwrap_or(false),
            ..Filter::default()
        }
        .with_paths(&self.path)?
        .with_langs(&self.lang)
    }
}

pub fn run(args: ClonesArgs, stdout: &mut dyn Write) -> Result<ExitStatus> {
    let catalogue = args.catalogue.open()?;
    let classes = catalogue.classes(&args.filter(&catalogue)?)?;
    match args.format {
        Format::Text => report::text::clones(stdout, &classes)?,
        Format::Json => {
            report::json::clones(stdout, &catalogue.root().to_string_lossy(), &classes)?
        }
    }
    Ok(ExitStatus::Success)
}
