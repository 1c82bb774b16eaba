//! One file per command: its arguments and what it does with the engine.

pub mod clones;
pub mod completions;
pub mod rebuild;
pub mod scan;
pub mod similar;
pub mod stats;
pub mod watch;

use std::path::PathBuf;

use clap::Args;

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
