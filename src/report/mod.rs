//! Report: renders the engine's views as text for people or JSON for programs. The only layer
//! that formats output; it writes to whatever the caller hands it.

pub mod check;
pub mod ci;
pub mod history;
pub mod json;
pub mod table;
pub mod text;
pub mod watch;

/// Output format of `clones`, `stats` and `similar`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    // For people.
    #[default]
    Text,
    // For programs (schemas in README).
    Json,
}

/// Output format of `clones` and `check`: the formats of [`Format`], and those of CI and code
/// review ([`ci`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum ReportFormat {
    // For people.
    #[default]
    Text,
    // For programs (schemas in README).
    Json,
    // SARIF 2.1.0, for code scanning (GitHub, GitLab, editors).
    Sarif,
    // FILE:LINE:1: warning: ... lines, for problem matchers.
    Gnu,
    // GitHub Actions workflow commands: annotations on the pull request.
    Github,
    // A short summary for a pull-request comment.
    Markdown,
}

/// A similarity with three decimals, as reports show it.
pub(crate) fn round3(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

/// A similarity as a whole percentage, rounded down, as every text report shows it: a copy
/// shown at 80% is at least 0.8 similar, whichever command shows it.
pub(crate) fn percent(similarity: f64) -> f64 {
    (similarity * 100.0).floor()
}
