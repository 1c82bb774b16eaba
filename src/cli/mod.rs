//! CLI: the command line (clap), its dispatch, and the terminal (progress bar, exit codes).
//! The only module that knows clap and the terminal; it reaches the rest through
//! [`crate::engine`], prints through [`crate::report`] and serves agents through
//! [`crate::mcp`].

pub mod commands;
pub mod progress;

use std::ffi::OsString;
use std::io::Write;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

use commands::{
    CatalogueArgs,
    accept::{AcceptArgs, UnacceptArgs},
    check::CheckArgs,
    clones::ClonesArgs,
    history::HistoryArgs,
    log::LogArgs,
    lsp::LspArgs,
    mcp::McpArgs,
    scan::ScanArgs,
    similar::SimilarArgs,
    stats::StatsArgs,
    table::TableArgs,
    watch::WatchArgs,
};

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
    /// The periodic table of patterns: clone classes and idioms by family of code and size
    Table(TableArgs),
    /// Units similar to a function (FILE:LINE), to every function of a file, or to code on
    /// standard input (-), from the index
    Similar(SimilarArgs),
    /// Recreate the catalogue's tables from its event log, and its index
    Rebuild(CatalogueArgs),
    /// Scan a tree, then keep its catalogue up to date as files change and print what
    /// changed: new clones, resolved clones, classes that grew or shrank
    Watch(WatchArgs),
    /// CI gate: scan, then fail (exit 1) on new clone classes or too much duplication
    Check(CheckArgs),
    /// Accept a clone class as it is: `check` does not fail on it while its copies stay
    Accept(AcceptArgs),
    /// Withdraw the acceptance of a clone class
    Unaccept(UnacceptArgs),
    /// The catalogue's event log, one event per line (filters: time, scan, commit, kind, path,
    /// class)
    Log(LogArgs),
    /// One clone class's life: created, grew, shrank, moved, accepted, dissolved, with scans
    /// and commits
    History(HistoryArgs),
    /// Language server over stdio: copies as diagnostics, code lenses and actions in the editor
    Lsp(LspArgs),
    /// Serve tools for coding agents (Model Context Protocol) over stdio
    Mcp(McpArgs),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How a run of `cpt` ends, as its exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done.
    Success,
    /// 1: done, and found what the command checks for (`cpt check`).
    Findings,
    /// 2: could not do what was asked; one line on stderr says why.
    Error,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// The clap definition, for completions and documentation.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Write the completion script for `shell` (`bash`, `zsh`, `fish`, `powershell`, `elvish`).
pub fn completions(shell: &str, out: &mut dyn Write) -> Result<()> {
    let shell = <clap_complete::Shell as clap::ValueEnum>::from_str(shell, true)
        .map_err(|e| anyhow::anyhow!(e))?;
    commands::completions::run(shell, out)?;
    Ok(())
}

/// Run `cpt` with these arguments (the first is the program name). Returns the exit code
/// ([`ExitStatus`]). A closed output pipe ends the run quietly with 0.
pub fn run_with_args<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut (dyn Write + Send)) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            let (sink, status): (&mut dyn Write, ExitStatus) = if e.use_stderr() {
                (stderr, ExitStatus::Error)
            } else {
                (stdout, ExitStatus::Success)
            };
            let _ = sink.write_all(text.as_bytes());
            let _ = sink.flush();
            return status.code();
        }
    };
    let status = match run(cli, stdout, stderr).and_then(|s| Ok(stdout.flush().map(|()| s)?)) {
        Ok(status) => status,
        Err(e) if is_broken_pipe(&e) => ExitStatus::Success,
        Err(e) => {
            let _ = writeln!(stderr, "cpt: {}", crate::sys::one_line(&e));
            ExitStatus::Error
        }
    };
    status.code()
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli, stdout: &mut dyn Write, stderr: &mut (dyn Write + Send)) -> Result<ExitStatus> {
    match cli.command {
        Command::Scan(args) => commands::scan::run(args, stdout, stderr),
        Command::Clones(args) => commands::clones::run(args, stdout, stderr),
        Command::Check(args) => commands::check::run(args, stdout, stderr),
        Command::Accept(args) => commands::accept::accept(args, stdout),
        Command::Unaccept(args) => commands::accept::unaccept(args, stdout),
        Command::Log(args) => commands::log::run(args, stdout),
        Command::History(args) => commands::history::run(args, stdout),
        Command::Lsp(args) => commands::lsp::run(args, stderr),
        Command::Mcp(args) => commands::mcp::run(args, stdout, stderr),
        Command::Stats(args) => commands::stats::run(args, stdout, stderr),
        Command::Table(args) => commands::table::run(args, stdout, stderr),
        Command::Similar(args) => commands::similar::run(args, stdout, stderr),
        Command::Rebuild(args) => commands::rebuild::run(args, stdout, stderr),
        Command::Watch(args) => commands::watch::run(args, stdout, stderr),
        Command::Completions { shell } => commands::completions::run(shell, stdout),
    }
}
