//! Running detectors over a planted tree and reading their clone classes.
//!
//! Every tool runs once per manifest root (one language and round), at its defaults plus the
//! flags that turn on renamed and near-miss detection; member paths are made relative to the
//! tree. Peers live under `$PEERS` (default `/tmp/peers`): jscpd as
//! `node_modules/.bin/jscpd`, dupehound as `dupehound/bin/dupehound`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::manifest::Manifest;
use super::score::{CloneClass, Member};

/// Lines a jscpd near-miss merge may bridge (`--max-gap-lines`).
const JSCPD_GAP_LINES: &str = "5";
/// jscpd's structural similarity floor (`--similarity`, JavaScript and TypeScript only).
const JSCPD_SIMILARITY: &str = "0.7";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// This repository's `cpt`: `scan` then `clones --format json`.
    Cpt,
    /// jscpd with `--mode weak` (comments skipped) `--ignore-identifiers --ignore-literals`
    /// (type 1 and 2).
    JscpdIgnore,
    /// jscpd as above plus `--max-gap-lines` and `--similarity` (near-miss).
    JscpdSimilarity,
    /// dupehound `scan --json`.
    Dupehound,
}

impl Tool {
    pub const NAMES: &[&str] = &["cpt", "jscpd-ignore", "jscpd-similarity", "dupehound"];

    pub fn parse(name: &str) -> Result<Tool> {
        Ok(match name {
            "cpt" => Tool::Cpt,
            "jscpd-ignore" => Tool::JscpdIgnore,
            "jscpd-similarity" => Tool::JscpdSimilarity,
            "dupehound" => Tool::Dupehound,
            other => bail!("unknown tool `{other}` (one of {})", Tool::NAMES.join(", ")),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::Cpt => "cpt",
            Tool::JscpdIgnore => "jscpd-ignore",
            Tool::JscpdSimilarity => "jscpd-similarity",
            Tool::Dupehound => "dupehound",
        }
    }
}

/// The tool's clone classes over every root of the tree, and the seconds its runs took.
pub fn run(tool: Tool, tree: &Path, manifest: &Manifest) -> Result<(Vec<CloneClass>, f64)> {
    let tree = tree
        .canonicalize()
        .with_context(|| format!("cannot find the tree {}", tree.display()))?;
    let work = scratch_dir()?;
    let mut classes = Vec::new();
    let mut seconds = 0.0;
    let result = manifest.roots.iter().try_for_each(|root| -> Result<()> {
        let dir = tree.join(root);
        let started = Instant::now();
        let found = match tool {
            Tool::Cpt => run_cpt(&dir, &work)?,
            Tool::JscpdIgnore => run_jscpd(&dir, &work, false)?,
            Tool::JscpdSimilarity => run_jscpd(&dir, &work, true)?,
            Tool::Dupehound => run_dupehound(&dir)?,
        };
        seconds += started.elapsed().as_secs_f64();
        classes.extend(found.into_iter().map(|class| relative(class, &dir, root)));
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&work);
    result?;
    Ok((classes, seconds))
}

/// A fresh private directory for catalogues and reports.
fn scratch_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("cpt-mutation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Member paths relative to the tree (`root` is the scanned `dir` relative to the tree):
/// tools print them relative to the scanned directory or absolute.
pub fn relative(class: CloneClass, dir: &Path, root: &str) -> CloneClass {
    class
        .into_iter()
        .map(|m| {
            let path = Path::new(&m.path);
            let inside = path.strip_prefix(dir).unwrap_or(path);
            let inside = inside.strip_prefix("./").unwrap_or(inside);
            Member {
                path: format!("{root}/{}", inside.to_string_lossy().replace('\\', "/")),
                ..m
            }
        })
        .collect()
}

/// `$CPT_BIN`, else the `cpt` binary cargo built alongside this bench or test.
pub fn cpt_binary() -> PathBuf {
    std::env::var_os("CPT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cpt")))
}

fn peers() -> PathBuf {
    std::env::var_os("PEERS").map_or_else(|| PathBuf::from("/tmp/peers"), PathBuf::from)
}

/// Run a command; its stdout, or an error naming it with its stderr.
fn output(command: &mut Command) -> Result<String> {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    if !out.status.success() {
        bail!(
            "{shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("{shown} printed non-UTF-8"))
}

fn run_cpt(dir: &Path, work: &Path) -> Result<Vec<CloneClass>> {
    let db = work.join("cpt.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(work.join(format!("cpt.db{suffix}")));
    }
    let bin = cpt_binary();
    output(
        Command::new(&bin)
            .arg("scan")
            .arg(dir)
            .arg("--quiet")
            .arg("--db")
            .arg(&db),
    )?;
    let json = output(
        Command::new(&bin)
            .args(["clones", "--format", "json", "--db"])
            .arg(&db),
    )?;
    cpt_classes(&json).with_context(|| format!("reading cpt's clones of {}", dir.display()))
}

/// The classes of `cpt clones --format json` (schema `cpt.clones/1`).
pub fn cpt_classes(json: &str) -> Result<Vec<CloneClass>> {
    let doc: Value = serde_json::from_str(json).context("not JSON")?;
    let patterns = doc["patterns"].as_array().context("no `patterns` list")?;
    patterns
        .iter()
        .map(|p| {
            p["members"]
                .as_array()
                .context("a pattern without `members`")?
                .iter()
                .map(|m| member(m, "path", "start_line", "end_line"))
                .collect()
        })
        .collect()
}

fn member(value: &Value, path: &str, start: &str, end: &str) -> Result<Member> {
    let line = |key: &str| -> Result<u32> {
        let n = value[key]
            .as_u64()
            .with_context(|| format!("a member without `{key}`"))?;
        u32::try_from(n).context("line number out of range")
    };
    Ok(Member {
        path: value[path]
            .as_str()
            .with_context(|| format!("a member without `{path}`"))?
            .to_string(),
        start_line: line(start)?,
        end_line: line(end)?,
    })
}

fn run_jscpd(dir: &Path, work: &Path, near_miss: bool) -> Result<Vec<CloneClass>> {
    let bin = peers().join("node_modules/.bin/jscpd");
    let report = work.join("jscpd");
    let _ = std::fs::remove_dir_all(&report);
    let mut command = Command::new(&bin);
    command
        .arg(dir)
        .args(["--reporters", "json", "--output"])
        .arg(&report)
        .args([
            "--mode",
            "weak",
            "--ignore-identifiers",
            "--ignore-literals",
            "--absolute",
            "--silent",
            "--no-tips",
            "--no-gitignore",
        ]);
    if near_miss {
        command.args([
            "--max-gap-lines",
            JSCPD_GAP_LINES,
            "--similarity",
            JSCPD_SIMILARITY,
        ]);
    }
    output(&mut command)?;
    let path = report.join("jscpd-report.json");
    let json = std::fs::read_to_string(&path)
        .with_context(|| format!("jscpd wrote no {}", path.display()))?;
    jscpd_classes(&json).with_context(|| format!("reading {}", path.display()))
}

/// jscpd's JSON report: every duplicate is a class of two. Its `start`/`end` lines are
/// 1-based and inclusive (checked against a planted copy).
pub fn jscpd_classes(json: &str) -> Result<Vec<CloneClass>> {
    let doc: Value = serde_json::from_str(json).context("not JSON")?;
    let duplicates = doc["duplicates"]
        .as_array()
        .context("no `duplicates` list")?;
    duplicates
        .iter()
        .map(|d| {
            ["firstFile", "secondFile"]
                .iter()
                .map(|side| member(&d[*side], "name", "start", "end"))
                .collect()
        })
        .collect()
}

fn run_dupehound(dir: &Path) -> Result<Vec<CloneClass>> {
    let bin = peers().join("dupehound/bin/dupehound");
    let json = output(
        Command::new(&bin)
            .arg("scan")
            .arg(dir)
            .args(["--json", "--all"]),
    )?;
    dupehound_classes(&json)
        .with_context(|| format!("reading dupehound's report of {}", dir.display()))
}

/// `dupehound scan --json` (schema_version 1): `clusters[].members[]` with `file`,
/// `start_line`, `end_line`.
pub fn dupehound_classes(json: &str) -> Result<Vec<CloneClass>> {
    let doc: Value = serde_json::from_str(json).context("not JSON")?;
    let clusters = doc["clusters"].as_array().context("no `clusters` list")?;
    clusters
        .iter()
        .map(|c| {
            c["members"]
                .as_array()
                .context("a cluster without `members`")?
                .iter()
                .map(|m| member(m, "file", "start_line", "end_line"))
                .collect()
        })
        .collect()
}
