//! `cpt similar`: what else looks like this code, from the index.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use clap::Args;

use super::{CatalogueArgs, ratio};
use crate::cli::ExitStatus;
use crate::cli::progress::warnings;
use crate::engine::{SimilarRequest, SimilarTarget};
use crate::report::{self, Format};

#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// FILE:LINE (the unit containing that line), FILE (each of its functions), or - (code
    /// on standard input; needs --lang)
    #[arg(value_name = "FILE[:LINE]|-")]
    target: String,
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// Language of the code (id such as python or java) [default: from the file's extension]
    #[arg(long, value_name = "LANG")]
    lang: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// At most N matches per unit
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
    /// Only matches at least this similar [default: the catalogue's near-miss threshold]
    #[arg(long, value_name = "RATIO", value_parser = ratio)]
    min_similarity: Option<f64>,
}

pub fn run(
    args: SimilarArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<ExitStatus> {
    let catalogue = args.catalogue.open()?;
    let target = if args.target == "-" {
        let lang = args
            .lang
            .context("code on standard input needs --lang (such as --lang python)")?;
        let mut source = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut source)
            .context("cannot read standard input")?;
        SimilarTarget::Code { source, lang }
    } else {
        let (file, line) = split_line(&args.target);
        SimilarTarget::File {
            file,
            line,
            lang: args.lang,
        }
    };
    let request = SimilarRequest {
        target,
        limit: args.limit,
        min_similarity: args.min_similarity,
    };
    let stderr = Mutex::new(stderr);
    let answers = catalogue.similar(request, &warnings(&stderr))?;
    match args.format {
        Format::Text => report::text::similar(stdout, &answers)?,
        Format::Json => {
            report::json::similar(stdout, &catalogue.root().to_string_lossy(), &answers)?
        }
    }
    Ok(ExitStatus::Success)
}

/// `FILE:LINE` → (FILE, LINE); a path that exists as given, or has no numeric suffix, is a
/// file.
fn split_line(target: &str) -> (PathBuf, Option<u32>) {
    if !std::path::Path::new(target).exists()
        && let Some((file, line)) = target.rsplit_once(':')
        && let Ok(line) = line.parse::<u32>()
    {
        return (PathBuf::from(file), Some(line));
    }
    (PathBuf::from(target), None)
}
