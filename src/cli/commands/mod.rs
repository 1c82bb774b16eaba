//! One file per command: its arguments and what it does with the engine.

pub mod accept;
pub mod check;
pub mod clones;
pub mod completions;
pub mod history;
pub mod log;
pub mod lsp;
pub mod mcp;
pub mod rebuild;
pub mod scan;
pub mod similar;
pub mod stats;
pub mod table;
pub mod watch;

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::engine::view::{CloneType, Filter, TestPolicy};

/// Where the catalogue is.
#[derive(Debug, Args)]
pub struct CatalogueArgs {
    /// Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent
    /// that has one]
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

impl CatalogueArgs {
    /// The catalogue these arguments name (or the nearest one), opened for reading.
    pub fn open(&self) -> anyhow::Result<crate::engine::Catalogue> {
        use crate::engine::Catalogue;
        Catalogue::open(&Catalogue::locate(self.db.as_deref())?)
    }
}

/// A similarity ratio: above 0, at most 1.
pub fn ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!(
            "`{text}` is not a ratio above 0 and at most 1 (such as 0.8)"
        )),
    }
}

/// Which classes and copies a report counts: the filters `clones` and `check` share.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only classes of this clone type (repeatable)
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub types: Vec<CloneType>,
    /// Only copies at least this similar to their class's representative
    #[arg(long, value_name = "RATIO", value_parser = ratio)]
    pub min_similarity: Option<f64>,
    /// Only classes of at least N lines
    #[arg(long, value_name = "N")]
    pub min_lines: Option<u32>,
    /// Only classes of at least N tokens
    #[arg(long, value_name = "N")]
    pub min_tokens: Option<u32>,
    /// Only copies in this language (id such as python or cpp; repeatable)
    #[arg(long, value_name = "LANG")]
    pub lang: Vec<String>,
    /// Only copies whose path (relative to the root) matches GLOB (repeatable)
    #[arg(long, value_name = "GLOB")]
    pub path: Vec<String>,
    /// Copies in test files: include them, exclude them, or show only them [default: include,
    /// or `tests` in cpt.toml]
    #[arg(long, value_enum)]
    pub tests: Option<TestPolicy>,
    /// Also show trivial shapes: accessors and one-liners, import runs, literal tables
    #[arg(long)]
    pub noise: bool,
}

impl FilterArgs {
    /// These flags over `defaults` (what the configuration file says).
    pub fn filter(&self, defaults: Filter) -> Result<Filter> {
        Filter {
            types: if self.types.is_empty() {
                defaults.types
            } else {
                self.types.clone()
            },
            min_similarity: self.min_similarity.map(|s| s as f32),
            min_lines: self.min_lines.or(defaults.min_lines),
            min_tokens: self.min_tokens.or(defaults.min_tokens),
            tests: self.tests.unwrap_or(defaults.tests),
            noise: self.noise || defaults.noise,
            ..Filter::default()
        }
        .with_paths(&self.path)?
        .with_langs(&self.lang)
    }
}
