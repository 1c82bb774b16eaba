//! Configuration: `cpt.toml` at the scanned root, overridden by command-line flags.

use std::path::Path;

use serde::Deserialize;
use thiserror::Error;

use crate::detect::near::Params;
use crate::fingerprint::Thresholds;

/// The configuration file's name, looked up at the scanned root.
pub const FILE_NAME: &str = "cpt.toml";

/// Default size above which a file is skipped as too large.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1024 * 1024;
/// Default line length above which a file is skipped as minified.
pub const DEFAULT_MAX_LINE_LENGTH: u32 = 1000;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// `cpt.toml` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub scan: ScanConfig,
    #[serde(default)]
    pub report: ReportConfig,
    #[serde(default)]
    pub check: CheckConfig,
}

/// The `[check]` table: the gates `cpt check` applies unless flags say otherwise.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// Fail when more than this percentage of the lines is duplicated.
    pub max_duplication: Option<f64>,
    /// `new` or `any`.
    pub fail_on: Option<String>,
    pub min_lines: Option<u32>,
    pub min_tokens: Option<u32>,
    /// Clone types that count (`T1`, `T2`, `T3`); none: all.
    #[serde(default)]
    pub types: Vec<String>,
    /// `include`, `exclude` or `only` copies in test files.
    #[serde(default, deserialize_with = "test_policy")]
    pub tests: Option<TestPolicy>,
    /// The baseline file, relative to the root.
    pub baseline: Option<std::path::PathBuf>,
    /// The revision whose merge base with HEAD new code is measured from (`--base`).
    pub base: Option<String>,
}

/// The `[report]` table: what `cpt clones` shows unless flags say otherwise.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// `include`, `exclude` or `only` copies in test files.
    #[serde(default, deserialize_with = "test_policy")]
    pub tests: Option<TestPolicy>,
    /// Show trivial shapes too.
    pub noise: Option<bool>,
}

fn test_policy<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<TestPolicy>, D::Error> {
    let text = String::deserialize(d)?;
    match text.as_str() {
        "include" => Ok(Some(TestPolicy::Include)),
        "exclude" => Ok(Some(TestPolicy::Exclude)),
        "only" => Ok(Some(TestPolicy::Only)),
        other => Err(serde::de::Error::custom(format!(
            "tests must be include, exclude or only, not `{other}`"
        ))),
    }
}

/// The `[scan]` table, and the flags that override it. `None` means "not set here".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Globs of paths to leave out, relative to the root (gitignore syntax).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Files larger than this many bytes are skipped as too large.
    pub max_file_size: Option<u64>,
    /// Files with a line longer than this many bytes are skipped as minified.
    pub max_line_length: Option<u32>,
    /// Units with fewer tokens are not fingerprinted.
    pub min_tokens: Option<u32>,
    /// Units with fewer lines are not fingerprinted.
    pub min_lines: Option<u32>,
    /// Near-miss copies need at least this token similarity (0–1) to their class's
    /// representative.
    pub min_similarity: Option<f64>,
    /// Whether near-miss (type-3) detection runs at all.
    pub near_miss: Option<bool>,
}

/// Effective scan settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub exclude: Vec<String>,
    pub max_file_size: u64,
    pub max_line_length: u32,
    pub thresholds: Thresholds,
    /// Near-miss detection.
    pub near: Params,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::resolve(ScanConfig::default(), ScanConfig::default())
    }
}

impl Settings {
    /// File settings first, flags on top; excludes from both apply.
    pub fn resolve(file: ScanConfig, flags: ScanConfig) -> Settings {
        let defaults = Thresholds::default();
        let mut exclude = file.exclude;
        exclude.extend(flags.exclude);
        Settings {
            exclude,
            max_file_size: flags
                .max_file_size
                .or(file.max_file_size)
                .unwrap_or(DEFAULT_MAX_FILE_SIZE),
            max_line_length: flags
                .max_line_length
                .or(file.max_line_length)
                .unwrap_or(DEFAULT_MAX_LINE_LENGTH),
            thresholds: Thresholds {
                min_tokens: flags
                    .min_tokens
                    .or(file.min_tokens)
                    .unwrap_or(defaults.min_tokens),
                min_lines: flags
                    .min_lines
                    .or(file.min_lines)
                    .unwrap_or(defaults.min_lines),
                near_miss: flags
                    .near_miss
                    .or(file.near_miss)
                    .unwrap_or(defaults.near_miss),
            },
            near: Params {
                min_similarity: flags
                    .min_similarity
                    .or(file.min_similarity)
                    .unwrap_or(Params::default().min_similarity),
                ..Params::default()
            },
        }
    }

    /// Everything that decides what a file's stored units are. When it changes between scans,
    /// every file is fingerprinted again. Bump the version when fingerprinting or the skip rules
    /// change.
    pub fn fingerprint_key(&self) -> String {
        const FINGERPRINT_VERSION: u32 = 12;
        format!(
            "v{FINGERPRINT_VERSION} min_tokens={} min_lines={} max_file_size={} max_line_length={}{}",
            self.thresholds.min_tokens,
            self.thresholds.min_lines,
            self.max_file_size,
            self.max_line_length,
            if self.thresholds.near_miss {
                ""
            } else {
                " near_miss=false"
            }
        )
    }
}

/// Read `cpt.toml` at `root`; a missing file is the empty configuration.
pub fn load(root: &Path) -> Result<FileConfig, ConfigError> {
    let path = root.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let config: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
        path: path.display().to_string(),
        message: e.message().to_string()
            + &e.span()
                .map(|s| format!(" (line {})", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default(),
    })?;
    if let Some(sim) = config.scan.min_similarity
        && !(sim > 0.0 && sim <= 1.0)
    {
        return Err(ConfigError::Invalid {
            path: path.display().to_string(),
            message: format!("min_similarity must be above 0 and at most 1, not {sim}"),
        });
    }
    let invalid = |message: String| ConfigError::Invalid {
        path: path.display().to_string(),
        message,
    };
    let check = &config.check;
    if let Some(max) = check.max_duplication
        && !(0.0..=100.0).contains(&max)
    {
        return Err(invalid(format!(
            "[check] max_duplication is a percentage from 0 to 100, not {max}"
        )));
    }
    if let Some(f) = &check.fail_on
        && f != "new"
        && f != "any"
    {
        return Err(invalid(format!(
            "[check] fail_on must be new or any, not `{f}`"
        )));
    }
    if let Some(t) = check
        .types
        .iter()
        .find(|t| !["T1", "T2", "T3"].contains(&t.as_str()))
    {
        return Err(invalid(format!(
            "[check] types are T1, T2 or T3, not `{t}`"
        )));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_excludes_add_up() {
        let file: FileConfig =
            toml::from_str("[scan]\nexclude = [\"vendor/**\"]\nmin_tokens = 30\nmin_lines = 4\n")
                .unwrap();
        let flags = ScanConfig {
            exclude: vec!["gen/**".into()],
            min_tokens: Some(80),
            ..Default::default()
        };
        let s = Settings::resolve(file.scan, flags);
        assert_eq!(s.exclude, ["vendor/**", "gen/**"]);
        assert_eq!(
            s.thresholds,
            Thresholds {
                min_tokens: 80,
                min_lines: 4,
                near_miss: true,
            }
        );
        assert_eq!(s.max_file_size, DEFAULT_MAX_FILE_SIZE);
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            "[scan]\nmin_tokens = 3\nmin_tokns = 4\n",
        )
        .unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("cpt.toml: unknown field `min_tokns`"), "{err}");
        assert!(err.contains("(line 3)"), "{err}");
        assert!(load(&dir.path().join("missing")).is_ok());
    }
}

/// Whether test files take part in a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum TestPolicy {
    // Test files are code like any other.
    #[default]
    Include,
    // Copies in test files are left out.
    Exclude,
    // Only copies in test files.
    Only,
}
