//! CLI: the command line (clap), its dispatch, and the terminal (progress bar, exit codes).
//! Nothing below this module knows clap.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{self, ScanConfig, Settings};
use crate::engine::{self, Filter, Progress, ScanOptions, TestPolicy};
use crate::event::CloneType;
use crate::report::{self, WatchFormat};
use crate::store::Store;
use crate::watch::{self, WatchOptions};

/// cpt, the Code Periodic Table: finds the patterns a codebase repeats.
#[derive(Debug, Parser)]
#[command(name = "cpt", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Index or refresh a source tree (incremental: only changed files are read again)
    Scan(ScanArgs),
    /// List clone classes: every copy of each repeated function
    Clones(ClonesArgs),
    /// Files, units and languages in the catalogue; skipped files; duplicated lines
    Stats(StatsArgs),
    /// Units similar to a function (FILE:LINE), to every function of a file, or to code on
    /// standard input (-), from the index
    Similar(SimilarArgs),
    /// Recreate the catalogue's tables from its event log, and its index
    Rebuild(CatalogueArgs),
    /// Scan a tree, then keep its catalogue up to date as files change and print what
    /// changed: new clones, resolved clones, classes that grew or shrank
    Watch(WatchArgs),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// Where the catalogue is.
#[derive(Debug, Args)]
struct CatalogueArgs {
    /// Catalogue database [default: .cpt/cpt.db in the current directory or the nearest parent
    /// that has one]
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Root of the tree to scan
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Catalogue database [default: PATH/.cpt/cpt.db]
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Leave out paths matching GLOB (gitignore syntax, relative to the root; repeatable)
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Skip files larger than BYTES [default: 1048576, or cpt.toml]
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Skip files with a line longer than BYTES as minified [default: 1000, or cpt.toml]
    #[arg(long, value_name = "BYTES")]
    max_line_length: Option<u32>,
    /// Smallest unit in tokens [default: 50, or cpt.toml]
    #[arg(long, value_name = "N")]
    min_tokens: Option<u32>,
    /// Smallest unit in lines [default: 6, or cpt.toml]
    #[arg(long, value_name = "N")]
    min_lines: Option<u32>,
    /// Near-miss copies need this token similarity to the copy they pair with
    /// [default: 0.65, or cpt.toml]
    #[arg(long, value_name = "RATIO", value_parser = ratio)]
    min_similarity: Option<f64>,
    /// Exact and renamed copies only: skip near-miss (type-3) detection [or cpt.toml
    /// `near_miss = false`]
    #[arg(long)]
    no_near_miss: bool,
    /// No progress bar, warnings or summary
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct WatchArgs {
    #[command(flatten)]
    scan: ScanArgs,
    /// text for people; jsonl: one JSON object per change (schema in README); gnu:
    /// `path:line:col: warning: …` lines for editors' problem matchers
    #[arg(long, value_enum, default_value_t)]
    format: WatchFormatArg,
    /// Quiet time after a change, in milliseconds, before it is applied
    #[arg(long, value_name = "MS", default_value_t = 10)]
    debounce: u64,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
enum WatchFormatArg {
    #[default]
    Text,
    Jsonl,
    Gnu,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
struct ClonesArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Only classes of this clone type (repeatable)
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    types: Vec<TypeArg>,
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
    tests: Option<TestsArg>,
    /// Also show trivial shapes: accessors and one-liners, import runs, literal tables
    #[arg(long)]
    noise: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TypeArg {
    #[value(name = "T1")]
    T1,
    #[value(name = "T2")]
    T2,
    #[value(name = "T3")]
    T3,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TestsArg {
    Include,
    Exclude,
    Only,
}

impl From<TestsArg> for TestPolicy {
    fn from(t: TestsArg) -> TestPolicy {
        match t {
            TestsArg::Include => TestPolicy::Include,
            TestsArg::Exclude => TestPolicy::Exclude,
            TestsArg::Only => TestPolicy::Only,
        }
    }
}

impl ClonesArgs {
    /// The report filter: flags over the `[report]` table of the root's cpt.toml.
    fn filter(&self, root: &str) -> Result<Filter> {
        let file = if root.is_empty() {
            config::FileConfig::default()
        } else {
            config::load(std::path::Path::new(root))?
        };
        let mut paths = None;
        if !self.path.is_empty() {
            let mut builder = globset::GlobSetBuilder::new();
            for glob in &self.path {
                builder.add(
                    globset::GlobBuilder::new(glob)
                        .literal_separator(false)
                        .build()
                        .with_context(|| format!("--path {glob}: not a valid glob"))?,
                );
            }
            paths = Some(builder.build().context("--path: cannot build the globs")?);
        }
        let langs: Vec<String> = self.lang.clone();
        for lang in &langs {
            if crate::parse::lang::by_id(lang).is_none() {
                let known: Vec<&str> = crate::parse::lang::all().iter().map(|l| l.id).collect();
                anyhow::bail!(
                    "--lang {lang}: unknown language (known: {})",
                    known.join(", ")
                );
            }
        }
        Ok(Filter {
            types: self
                .types
                .iter()
                .map(|t| match t {
                    TypeArg::T1 => CloneType::T1,
                    TypeArg::T2 => CloneType::T2,
                    TypeArg::T3 => CloneType::T3,
                })
                .collect(),
            min_similarity: self.min_similarity.map(|s| s as f32),
            min_lines: self.min_lines,
            min_tokens: self.min_tokens,
            langs,
            paths,
            tests: self
                .tests
                .map(TestPolicy::from)
                .or(file.report.tests)
                .unwrap_or_default(),
            noise: self.noise || file.report.noise.unwrap_or(false),
        })
    }
}

#[derive(Debug, Args)]
struct SimilarArgs {
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

#[derive(Debug, Args)]
struct StatsArgs {
    #[command(flatten)]
    catalogue: CatalogueArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl Shell {
    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::Powershell => clap_complete::Shell::PowerShell,
        }
    }
}

/// A similarity ratio: above 0, at most 1.
fn ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!(
            "`{text}` is not a ratio above 0 and at most 1 (such as 0.8)"
        )),
    }
}

/// The clap definition, for completions and documentation.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Write the completion script for `shell` (`bash`, `zsh`, `fish`, `powershell`).
pub fn completions(shell: &str, out: &mut dyn Write) -> Result<()> {
    let shell = Shell::from_str(shell, true).map_err(|e| anyhow::anyhow!(e))?;
    clap_complete::generate(shell.generator(), &mut command(), "cpt", out);
    Ok(())
}

/// Run `cpt` with these arguments (the first is the program name). Returns the exit code:
/// 0 success, 2 error. A closed output pipe ends the run quietly with 0.
pub fn run_with_args<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut (dyn Write + Send)) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            let (sink, code): (&mut dyn Write, i32) = if e.use_stderr() {
                (stderr, 2)
            } else {
                (stdout, 0)
            };
            let _ = sink.write_all(text.as_bytes());
            let _ = sink.flush();
            return code;
        }
    };
    match run(cli, stdout, stderr).and_then(|()| Ok(stdout.flush()?)) {
        Ok(()) => 0,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            let _ = writeln!(stderr, "cpt: {}", crate::sys::one_line(&e));
            2
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli, stdout: &mut dyn Write, stderr: &mut (dyn Write + Send)) -> Result<()> {
    match cli.command {
        Command::Scan(args) => {
            check_root(&args.path)?;
            crate::sys::limit_allocator_arenas();
            scan(args, stdout, stderr)
        }
        Command::Clones(args) => {
            let store = open_catalogue(&args.catalogue)?;
            let root = store.meta("root")?.unwrap_or_default();
            let patterns = engine::reported_patterns(&store, &args.filter(&root)?)?;
            match args.format {
                Format::Text => report::clones_text(stdout, &patterns)?,
                Format::Json => report::clones_json(stdout, &root, &patterns)?,
            }
            Ok(())
        }
        Command::Stats(args) => {
            let db = catalogue_path(&args.catalogue)?;
            let store = Store::open_for_reading(&db)?;
            let stderr = Mutex::new(stderr);
            let warn = |line: &str| {
                let _ = writeln!(stderr.lock().expect("stderr lock"), "cpt: warning: {line}");
            };
            let stats = engine::stats(&store, &db, &warn)?;
            match args.format {
                Format::Text => report::stats_text(stdout, &stats)?,
                Format::Json => report::stats_json(stdout, &stats)?,
            }
            Ok(())
        }
        Command::Similar(args) => similar(args, stdout, stderr),
        Command::Watch(args) => {
            check_root(&args.scan.path)?;
            crate::sys::limit_allocator_arenas();
            watch(args, stdout, stderr)
        }
        Command::Rebuild(args) => {
            let db = catalogue_path(&args)?;
            let stderr = std::cell::RefCell::new(stderr);
            let events = engine::rebuild(&db, &|m| {
                let _ = writeln!(stderr.borrow_mut(), "cpt: {m}");
            })?;
            writeln!(stdout, "rebuilt {} from {events} events", db.display())?;
            Ok(())
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell.generator(), &mut command(), "cpt", stdout);
            Ok(())
        }
    }
}

/// A tree to scan or watch is a directory that exists.
fn check_root(path: &std::path::Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => anyhow::bail!(
            "{}: not a directory; scan the directory that holds it",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("{}: no such directory", path.display())
        }
        Err(e) => anyhow::bail!("{}: cannot scan: {e}", path.display()),
    }
}

fn catalogue_path(args: &CatalogueArgs) -> Result<PathBuf> {
    if let Some(db) = &args.db {
        return Ok(db.clone());
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    engine::find_db(&cwd).with_context(|| {
        format!(
            "no catalogue in {} or its parents; run `cpt scan [PATH]` first (or pass --db)",
            cwd.display()
        )
    })
}

fn open_catalogue(args: &CatalogueArgs) -> Result<Store> {
    Ok(Store::open_for_reading(&catalogue_path(args)?)?)
}

fn similar(
    args: SimilarArgs,
    stdout: &mut dyn Write,
    stderr: &mut (dyn Write + Send),
) -> Result<()> {
    let db = catalogue_path(&args.catalogue)?;
    let store = Store::open_for_reading(&db)?;
    // One read transaction for the whole query: one state of the catalogue, one lock.
    let _snapshot = store.snapshot()?;
    let root = PathBuf::from(store.meta("root")?.unwrap_or_default());
    let settings = Settings::resolve(config::load(&root)?.scan, ScanConfig::default());
    let (path, rel, source, lang, line) = if args.target == "-" {
        let lang = args
            .lang
            .context("code on standard input needs --lang (such as --lang python)")?;
        let mut source = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut source)
            .context("cannot read standard input")?;
        (String::from("-"), None, source, lang, None)
    } else {
        let (file, line) = split_line(&args.target);
        let source =
            std::fs::read(&file).with_context(|| format!("{}: cannot read", file.display()))?;
        let lang = match args.lang {
            Some(lang) => lang,
            None => crate::parse::lang::for_path(&file)
                .with_context(|| format!("{}: unknown language; pass --lang", file.display()))?
                .id
                .to_string(),
        };
        let rel = file.canonicalize().ok().and_then(|f| {
            f.strip_prefix(&root)
                .ok()
                .map(|r| r.to_string_lossy().replace('\\', "/"))
        });
        let shown = rel.clone().unwrap_or_else(|| file.display().to_string());
        (shown, rel, source, lang, line)
    };
    let in_catalogue = match &rel {
        Some(rel) => store.has_file(rel)?,
        None => false,
    };
    let (units, _) = engine::query_units(
        &store,
        rel.as_deref(),
        &lang,
        &source,
        settings.thresholds,
        line,
    )?;
    if units.is_empty() {
        match line {
            Some(line) => anyhow::bail!("{path}:{line}: no function there"),
            None => anyhow::bail!(
                "{path}: no units (functions of at least {} tokens and {} lines); ask for one \
                 with {path}:LINE",
                settings.thresholds.min_tokens,
                settings.thresholds.min_lines
            ),
        }
    }
    let query = engine::SimilarQuery {
        path,
        in_catalogue,
        units,
    };
    let min_similarity = match args.min_similarity {
        Some(m) => m,
        None => store.near_params()?.min_similarity,
    };
    let stderr = Mutex::new(stderr);
    let warn = |line: &str| {
        let _ = writeln!(stderr.lock().expect("stderr lock"), "cpt: warning: {line}");
    };
    let answers = engine::similar(&store, &db, &query, min_similarity, args.limit, &warn)?;
    match args.format {
        Format::Text => report::similar_text(stdout, &answers)?,
        Format::Json => report::similar_json(stdout, &root.to_string_lossy(), &answers)?,
    }
    Ok(())
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

impl ScanArgs {
    /// The settings given on the command line (`cpt.toml` fills in the rest).
    fn flags(&self) -> ScanConfig {
        ScanConfig {
            exclude: self.exclude.clone(),
            max_file_size: self.max_file_size,
            max_line_length: self.max_line_length,
            min_tokens: self.min_tokens,
            min_lines: self.min_lines,
            min_similarity: self.min_similarity,
            near_miss: self.no_near_miss.then_some(false),
        }
    }

    fn db(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(|| engine::default_db(&self.path))
    }
}

fn scan(args: ScanArgs, stdout: &mut dyn Write, stderr: &mut (dyn Write + Send)) -> Result<()> {
    let file = config::load(&args.path)?;
    let options = ScanOptions {
        db: args.db(),
        settings: Settings::resolve(file.scan, args.flags()),
        root: args.path,
    };
    let progress = TerminalProgress::new(args.quiet, stderr);
    let summary = engine::scan(&options, &progress)?;
    if !args.quiet {
        report::scan_summary(stdout, &summary)?;
    }
    Ok(())
}

fn watch(args: WatchArgs, stdout: &mut dyn Write, stderr: &mut (dyn Write + Send)) -> Result<()> {
    let options = WatchOptions {
        root: args.scan.path.clone(),
        db: args.scan.db(),
        flags: args.scan.flags(),
        debounce: std::time::Duration::from_millis(args.debounce),
    };
    let format = match args.format {
        WatchFormatArg::Text => WatchFormat::Text,
        WatchFormatArg::Jsonl => WatchFormat::Jsonl,
        WatchFormatArg::Gnu => WatchFormat::Gnu,
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    // Ctrl-C and SIGTERM end the loop between batches: a batch being applied finishes.
    let stop = sender.clone();
    ctrlc::set_handler(move || {
        let _ = stop.send(watch::Message::Stop);
    })
    .context("cannot install the Ctrl-C handler")?;
    let quiet = args.scan.quiet;
    watch::watch(&options, (sender, receiver), &mut |report| {
        if quiet && matches!(report, watch::Report::Failed(_)) {
            return Ok(());
        }
        Ok(report::watch(stdout, stderr, format, &report)?)
    })
}

/// Progress on the terminal: a bar on stderr when it is a terminal, warnings as lines.
struct TerminalProgress<'a> {
    bar: Option<ProgressBar>,
    quiet: bool,
    stderr: Mutex<&'a mut (dyn Write + Send)>,
}

impl<'a> TerminalProgress<'a> {
    fn new(quiet: bool, stderr: &'a mut (dyn Write + Send)) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {bar:40} {pos}/{len} files {per_sec} eta {eta}",
                )
                .expect("valid template"),
            );
            bar
        });
        TerminalProgress {
            bar,
            quiet,
            stderr: Mutex::new(stderr),
        }
    }
}

impl Progress for TerminalProgress<'_> {
    fn start(&self, files: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(files);
        }
    }

    fn advance(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn warn(&self, message: &str) {
        if self.quiet {
            return;
        }
        let mut stderr = self.stderr.lock().expect("stderr lock");
        let line = format!("cpt: warning: {message}\n");
        match &self.bar {
            Some(bar) => bar.suspend(|| stderr.write_all(line.as_bytes())),
            None => stderr.write_all(line.as_bytes()),
        }
        .ok();
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
