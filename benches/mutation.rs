//! The mutation-and-injection benchmark (see `benches/mutation/mod.rs`):
//!
//! ```text
//! cargo bench --bench mutation -- generate --out DIR --seed N --per-category N \
//!     [--python DIR] [--java DIR] [--samples DIR]
//! cargo bench --bench mutation -- score --tree DIR --tool cpt|jscpd-ignore|jscpd-similarity|dupehound \
//!     [--report FILE]
//! cargo bench --bench mutation -- run --out DIR --seed N --per-category N [generate options] \
//!     [--report FILE]
//! ```
//!
//! `cpt` is `$CPT_BIN`, else the binary cargo builds with this bench; peers are found under
//! `$PEERS` (default `/tmp/peers`).

#[path = "mutation/mod.rs"]
mod mutation;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use mutation::generate::{self, Options};
use mutation::manifest::Manifest;
use mutation::score;
use mutation::tools::{self, Tool};

#[derive(Parser)]
#[command(name = "mutation", about = "Mutation-and-injection clone benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a planted tree and its manifest.json
    Generate(GenerateArgs),
    /// Run a tool over a planted tree and print recall per category and language
    Score(ScoreArgs),
    /// generate, then score cpt
    Run {
        #[command(flatten)]
        generate: GenerateArgs,
        /// Also write the score as JSON here
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
}

#[derive(Args)]
struct GenerateArgs {
    /// Output directory (must be empty, missing, or an earlier generated tree)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Pairs per category and language (and controls per language)
    #[arg(long, value_name = "N", default_value_t = 100)]
    per_category: usize,
    /// The Python standard library
    #[arg(long, value_name = "DIR")]
    python: Option<PathBuf>,
    /// Unzipped JDK sources (lib/src.zip)
    #[arg(long, value_name = "DIR")]
    java: Option<PathBuf>,
    /// Sample sources, one directory per language id [default: fixtures/samples]
    #[arg(long, value_name = "DIR")]
    samples: Option<PathBuf>,
}

#[derive(Args)]
struct ScoreArgs {
    /// A tree written by `generate`
    #[arg(long, value_name = "DIR")]
    tree: PathBuf,
    #[arg(long, default_value = "cpt", value_parser = clap::builder::PossibleValuesParser::new(Tool::NAMES))]
    tool: String,
    /// Also write the score as JSON here
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

fn main() {
    // `cargo bench` appends `--bench`.
    let args = std::env::args_os().filter(|a| a != "--bench");
    let cli = Cli::parse_from(args);
    if let Err(e) = dispatch(cli) {
        eprintln!("mutation: {e:#}");
        std::process::exit(2);
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => generate(&args).map(|_| ()),
        Command::Score(args) => {
            score_tree(&args.tree, Tool::parse(&args.tool)?, args.report.as_deref())
        }
        Command::Run {
            generate: args,
            report,
        } => {
            generate(&args)?;
            score_tree(&args.out, Tool::Cpt, report.as_deref())
        }
    }
}

fn generate(args: &GenerateArgs) -> Result<Manifest> {
    let options = Options {
        out: args.out.clone(),
        seed: args.seed,
        per_category: args.per_category,
        python: args.python.clone(),
        java: args.java.clone(),
        samples: args
            .samples
            .clone()
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/samples")),
    };
    let started = std::time::Instant::now();
    let manifest = generate::generate(&options, &mut std::io::stderr())?;
    eprintln!(
        "planted {} pairs and {} controls in {} roots under {} in {:.1}s",
        manifest.pairs.len(),
        manifest.controls.len(),
        manifest.roots.len(),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(manifest)
}

fn score_tree(tree: &Path, tool: Tool, report: Option<&Path>) -> Result<()> {
    let manifest = Manifest::read(tree)?;
    let (classes, seconds) = tools::run(tool, tree, &manifest)?;
    let score = score::score(&manifest, &classes, tool.name(), seconds);
    print!("{}", score.table());
    if let Some(path) = report {
        let json = serde_json::to_string_pretty(&score)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
