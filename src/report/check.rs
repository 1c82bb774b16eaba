//! `cpt check`'s reports: what failed and why (text), the `cpt.check/1` contract (JSON), and
//! the CI formats of [`super::ci`] over the copies that fail the gate.

use std::io::{self, Write};

use serde::Serialize;

use super::ci::{self, Flagged};
use super::json::{PatternJson, pattern_json};
use crate::engine::view::CheckReport;

/// The failing classes as CI formats name them.
pub fn flagged(report: &CheckReport) -> Vec<Flagged<'_>> {
    report
        .failing()
        .map(|c| Flagged {
            class: &c.class,
            copies: c.findings.clone(),
            why: report.why(c),
        })
        .collect()
}

/// One line per gate and what it compared with.
fn summary_lines(report: &CheckReport) -> Vec<String> {
    let mut lines = Vec::new();
    let d = &report.duplication;
    let mut dup = format!(
        "duplicated lines: {} of {} ({:.1}%)",
        d.duplicated_lines,
        d.lines,
        d.share * 100.0
    );
    if let Some(max) = d.max {
        dup.push_str(&format!(
            ", max {:.1}%: {}",
            max * 100.0,
            if d.fails { "FAILED" } else { "passed" }
        ));
    }
    lines.push(dup);
    let failing = report.failing().count();
    let accepted = report
        .classes
        .iter()
        .filter(|c| c.class.accepted.is_some())
        .count();
    let mut classes = format!(
        "clone classes: {failing} failing of {} reported (fail on {})",
        report.classes.len(),
        report.fail_on.as_str()
    );
    if accepted > 0 {
        classes.push_str(&format!(", {accepted} accepted"));
    }
    lines.push(classes);
    if let Some(b) = &report.baseline {
        lines.push(format!(
            "baseline: {} ({} classes{})",
            b.path.display(),
            b.classes,
            if b.written { ", written now" } else { "" }
        ));
    }
    if let Some(diff) = &report.diff {
        let short = &diff.commit[..diff.commit.len().min(12)];
        lines.push(format!(
            "changes since {} ({short}): {} lines in {} files, {} untracked files",
            diff.rev,
            diff.lines(),
            diff.ranges.len(),
            diff.untracked.len()
        ));
    }
    lines
}

/// Text: each failing class with its flagged copies marked `+` and where the others are,
/// then one line per gate and the verdict.
pub fn text(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    for f in flagged(report) {
        let class = f.class;
        writeln!(out, "{}: {}", super::text::class_line(class), f.why)?;
        for (i, m) in class.copies.iter().enumerate() {
            let mark = if f.copies.contains(&i) { '+' } else { ' ' };
            let mut line = format!("  {mark} {}:{}-{}", m.path, m.start_line, m.end_line);
            if !m.name.is_empty() {
                line.push_str("  ");
                line.push_str(&m.name);
            }
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    for line in summary_lines(report) {
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "{}",
        if report.passed() {
            "check passed"
        } else {
            "check FAILED"
        }
    )
}

/// Markdown for a pull-request comment.
pub fn markdown(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    let title = if report.passed() {
        "cpt check passed".to_string()
    } else {
        match report.failing().count() {
            0 => "cpt check failed: too much duplicated code".to_string(),
            1 => "cpt check failed: 1 clone class".to_string(),
            n => format!("cpt check failed: {n} clone classes"),
        }
    };
    ci::markdown(out, &title, &summary_lines(report), &flagged(report), 50)
}

#[derive(Serialize)]
struct CheckJson<'a> {
    schema: &'static str,
    root: String,
    passed: bool,
    fail_on: &'static str,
    duplication: DuplicationJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<BaselineJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<DiffJson<'a>>,
    classes: Vec<ClassJson<'a>>,
}

#[derive(Serialize)]
struct DuplicationJson {
    lines: u64,
    duplicated_lines: u64,
    share: f64,
    max: Option<f64>,
    passed: bool,
}

#[derive(Serialize)]
struct BaselineJson {
    path: String,
    classes: usize,
    written: bool,
}

#[derive(Serialize)]
struct DiffJson<'a> {
    rev: &'a str,
    commit: &'a str,
    files: usize,
    lines: u64,
    untracked_files: usize,
}

#[derive(Serialize)]
struct ClassJson<'a> {
    #[serde(flatten)]
    pattern: PatternJson<'a>,
    fails: bool,
    new: bool,
    why: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_copies: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    touched: Option<bool>,
    /// Indices into `members` of the copies the gate names.
    flagged: &'a [usize],
}

/// `cpt check --format json`: schema `cpt.check/1`.
pub fn json(out: &mut dyn Write, report: &CheckReport) -> io::Result<()> {
    let d = &report.duplication;
    let doc = CheckJson {
        schema: "cpt.check/1",
        root: report.root.to_string_lossy().into_owned(),
        passed: report.passed(),
        fail_on: report.fail_on.as_str(),
        duplication: DuplicationJson {
            lines: d.lines,
            duplicated_lines: d.duplicated_lines,
            share: (d.share * 1e6).round() / 1e6,
            max: d.max,
            passed: !d.fails,
        },
        baseline: report.baseline.as_ref().map(|b| BaselineJson {
            path: b.path.to_string_lossy().into_owned(),
            classes: b.classes,
            written: b.written,
        }),
        diff: report.diff.as_ref().map(|diff| DiffJson {
            rev: &diff.rev,
            commit: &diff.commit,
            files: diff.ranges.len(),
            lines: diff.lines(),
            untracked_files: diff.untracked.len(),
        }),
        classes: report
            .classes
            .iter()
            .map(|c| ClassJson {
                pattern: pattern_json(&c.class),
                fails: c.fails,
                new: c.new,
                why: if c.fails {
                    report.why(c)
                } else {
                    String::new()
                },
                baseline_copies: c.baseline_copies,
                touched: report.diff.as_ref().map(|_| c.touched),
                flagged: if c.fails { &c.findings } else { &[] },
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
