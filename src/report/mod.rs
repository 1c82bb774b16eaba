//! Report: renders catalogue results as text for people or JSON for programs. The only layer
//! that formats output; it writes to whatever the caller hands it.

use std::io::{self, Write};

use serde::Serialize;

use crate::engine::{ScanSummary, SimilarAnswer, Stats};
use crate::event::CloneType;
use crate::store::{MemberRow, PatternRow};
use crate::watch::{Report, Update};

/// `cpt clones --format json`: the public contract, schema `cpt.clones/1`.
#[derive(Serialize)]
struct ClonesJson<'a> {
    schema: &'static str,
    root: &'a str,
    patterns: Vec<PatternJson<'a>>,
}

#[derive(Serialize)]
struct PatternJson<'a> {
    id: &'a str,
    kind: &'a str,
    clone_type: &'static str,
    similarity: f64,
    lines: u32,
    tokens: u32,
    members: Vec<MemberJson<'a>>,
}

#[derive(Serialize)]
struct MemberJson<'a> {
    path: &'a str,
    start_line: u32,
    end_line: u32,
    lang: &'a str,
    name: &'a str,
    /// Token similarity to the class's representative.
    similarity: f64,
}

fn pattern_json(p: &PatternRow) -> PatternJson<'_> {
    PatternJson {
        id: &p.id,
        kind: &p.kind,
        clone_type: p.clone_type.as_str(),
        similarity: round3(p.similarity),
        lines: p.lines,
        tokens: p.tokens,
        members: members_json(&p.members),
    }
}

fn members_json(members: &[MemberRow]) -> Vec<MemberJson<'_>> {
    members
        .iter()
        .map(|m| MemberJson {
            path: &m.path,
            start_line: m.start_line,
            end_line: m.end_line,
            lang: &m.lang,
            name: &m.name,
            similarity: round3(m.similarity),
        })
        .collect()
}

pub fn clones_json(out: &mut dyn Write, root: &str, patterns: &[PatternRow]) -> io::Result<()> {
    let doc = ClonesJson {
        schema: "cpt.clones/1",
        root,
        patterns: patterns.iter().map(pattern_json).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A similarity with three decimals, as reports show it.
fn round3(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

pub fn clones_text(out: &mut dyn Write, patterns: &[PatternRow]) -> io::Result<()> {
    for p in patterns {
        let similar = if p.clone_type == CloneType::T3 {
            format!(", {:.0}% similar", f64::from(p.similarity) * 100.0)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{} {}  {}, {} lines, {} tokens, {} copies{similar}",
            p.clone_type.as_str(),
            p.id,
            p.kind,
            p.lines,
            p.tokens,
            p.members.len()
        )?;
        for m in &p.members {
            let mut line = format!("  {}:{}-{}", m.path, m.start_line, m.end_line);
            if !m.name.is_empty() {
                line.push_str("  ");
                line.push_str(&m.name);
            }
            if m.similarity < 1.0 {
                line.push_str(&format!("  ({:.0}%)", f64::from(m.similarity) * 100.0));
            }
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    let copies: usize = patterns.iter().map(|p| p.members.len()).sum();
    match patterns.len() {
        0 => writeln!(out, "no clones found"),
        1 => writeln!(out, "1 clone class, {copies} copies"),
        n => writeln!(out, "{n} clone classes, {copies} copies"),
    }
}

pub fn scan_summary(out: &mut dyn Write, s: &ScanSummary) -> io::Result<()> {
    write!(out, "scanned {} files ({} read", s.files, s.read)?;
    if s.removed > 0 {
        write!(out, ", {} removed", s.removed)?;
    }
    write!(
        out,
        "): {} units, {} patterns, {} skipped",
        s.units,
        s.patterns,
        s.skipped_total()
    )?;
    if s.syntax_errors > 0 {
        write!(out, ", {} with syntax errors", s.syntax_errors)?;
    }
    writeln!(out, " in {:.2}s", s.elapsed_ms as f64 / 1000.0)
}

pub fn stats_json(out: &mut dyn Write, stats: &Stats) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, stats)?;
    writeln!(out)
}

pub fn stats_text(out: &mut dyn Write, s: &Stats) -> io::Result<()> {
    writeln!(out, "root             {}", s.root)?;
    writeln!(out, "files            {}", s.files)?;
    writeln!(out, "lines            {}", s.lines)?;
    writeln!(out, "units            {}", s.units)?;
    writeln!(out, "clone classes    {}", s.patterns)?;
    writeln!(
        out,
        "duplicated lines {} ({:.1}%)",
        s.duplicated_lines,
        s.duplicated_share * 100.0
    )?;
    writeln!(out, "syntax errors    {} files", s.files_with_syntax_errors)?;
    writeln!(out, "events           {}", s.events)?;
    let i = &s.index;
    writeln!(
        out,
        "index            {} bytes, {} units + {} in the delta, {:.1} bytes per unit",
        i.bytes, i.units, i.delta_units, i.bytes_per_unit
    )?;
    writeln!(
        out,
        "bloom filter     {} bits, {} probes; false positives: sized for {:.2}%, expected {:.2}%, measured {:.2}%",
        i.bloom_bits,
        i.bloom_hashes,
        i.bloom_configured_rate * 100.0,
        i.bloom_expected_rate * 100.0,
        i.bloom_measured_rate * 100.0
    )?;
    if !s.languages.is_empty() {
        writeln!(
            out,
            "\n{:<12} {:>8} {:>10} {:>8}",
            "language", "files", "lines", "units"
        )?;
        for (lang, l) in &s.languages {
            writeln!(
                out,
                "{lang:<12} {:>8} {:>10} {:>8}",
                l.files, l.lines, l.units
            )?;
        }
    }
    if !s.skipped.is_empty() {
        writeln!(out, "\n{:<12} {:>8}", "skipped", "files")?;
        for (reason, n) in &s.skipped {
            writeln!(out, "{reason:<12} {n:>8}")?;
        }
    }
    Ok(())
}

/// `cpt similar --format json`: schema `cpt.similar/1`.
pub fn similar_json(out: &mut dyn Write, root: &str, answers: &[SimilarAnswer]) -> io::Result<()> {
    #[derive(Serialize)]
    struct SimilarJson<'a> {
        schema: &'static str,
        root: &'a str,
        queries: Vec<SimilarAnswer>,
    }
    let queries = answers
        .iter()
        .cloned()
        .map(|mut a| {
            for m in &mut a.matches {
                m.similarity = (m.similarity * 1000.0).round() / 1000.0;
            }
            a
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &SimilarJson {
            schema: "cpt.similar/1",
            root,
            queries,
        },
    )?;
    writeln!(out)
}

/// `cpt similar` for people: each query unit, then its matches best first.
pub fn similar_text(out: &mut dyn Write, answers: &[SimilarAnswer]) -> io::Result<()> {
    for (i, a) in answers.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}:{}-{} {} ({})",
            a.path, a.start_line, a.end_line, a.name, a.kind
        )?;
        if a.matches.is_empty() {
            writeln!(out, "  no similar units")?;
        }
        for m in &a.matches {
            write!(
                out,
                "  {} {:>3.0}%  {}:{}-{} {}",
                m.clone_type.as_str(),
                (m.similarity * 100.0).floor(),
                m.path,
                m.start_line,
                m.end_line,
                m.name
            )?;
            match &m.pattern {
                Some(p) => writeln!(out, "  [{p}]")?,
                None => writeln!(out)?,
            }
        }
    }
    Ok(())
}

/// How `cpt watch` prints what changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchFormat {
    Text,
    /// One JSON object per line, schema `cpt.watch/1` (README).
    Jsonl,
    /// `path:line:col: warning: message` for editors' problem matchers: after every batch,
    /// every copy of every class between a start and an end line.
    Gnu,
}

/// A copy as `path:start-end  name`.
fn copy(m: &MemberRow) -> String {
    if m.name.is_empty() {
        format!("{}:{}-{}", m.path, m.start_line, m.end_line)
    } else {
        format!("{}:{}-{}  {}", m.path, m.start_line, m.end_line, m.name)
    }
}

fn class_title(p: &PatternRow) -> String {
    let similar = if p.clone_type == CloneType::T3 {
        format!(", {:.0}% similar", f64::from(p.similarity) * 100.0)
    } else {
        String::new()
    };
    format!(
        "{} {} {}, {} lines, {} copies{similar}",
        p.clone_type.as_str(),
        p.kind,
        p.id,
        p.lines,
        p.members.len()
    )
}

#[derive(Serialize)]
struct WatchJson<'a> {
    schema: &'static str,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patterns: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<PatternJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<Vec<MemberJson<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<Vec<MemberJson<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incremental: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl WatchJson<'_> {
    fn new(event: &'static str) -> Self {
        WatchJson {
            schema: "cpt.watch/1",
            event,
            root: None,
            files: None,
            patterns: None,
            pattern: None,
            added: None,
            removed: None,
            changes: None,
            read: None,
            incremental: None,
            elapsed_ms: None,
            message: None,
        }
    }
}

/// One report of `cpt watch`, in `format`. Lines are flushed as they are written, so that a
/// reader sees a change when it happens.
pub fn watch(
    out: &mut dyn Write,
    err: &mut dyn Write,
    format: WatchFormat,
    report: &Report<'_>,
) -> io::Result<()> {
    match format {
        WatchFormat::Text => watch_text(out, err, report)?,
        WatchFormat::Jsonl => watch_jsonl(out, report)?,
        WatchFormat::Gnu => watch_gnu(out, err, report)?,
    }
    out.flush()?;
    err.flush()
}

fn watch_text(out: &mut dyn Write, err: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    match report {
        Report::Ready {
            root,
            summary,
            classes,
        } => writeln!(
            out,
            "watching {}: {} files, {} clone classes (Ctrl-C stops)",
            root.display(),
            summary.files,
            classes.len()
        ),
        Report::Applied { updates, .. } => {
            for update in *updates {
                match update {
                    Update::New(p) => {
                        writeln!(out, "new clone: {}", class_title(p))?;
                        for m in &p.members {
                            writeln!(out, "  {}", copy(m))?;
                        }
                    }
                    Update::Resolved(p) => {
                        writeln!(out, "clone resolved: {}", class_title(p))?;
                        for m in &p.members {
                            writeln!(out, "  was {}", copy(m))?;
                        }
                    }
                    Update::Grew {
                        pattern,
                        added,
                        removed,
                    } => {
                        writeln!(out, "clone grew: {}", class_title(pattern))?;
                        for m in added {
                            writeln!(out, "  + {}", copy(m))?;
                        }
                        for m in removed {
                            writeln!(out, "  - {}", copy(m))?;
                        }
                    }
                    Update::Shrank { pattern, removed } => {
                        writeln!(out, "clone shrank: {}", class_title(pattern))?;
                        for m in removed {
                            writeln!(out, "  - {}", copy(m))?;
                        }
                    }
                }
            }
            Ok(())
        }
        Report::Failed(why) => writeln!(err, "cpt: warning: {why}"),
    }
}

fn watch_jsonl(out: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let mut line = |doc: &WatchJson<'_>| -> io::Result<()> {
        serde_json::to_writer(&mut *out, doc)?;
        writeln!(out)
    };
    match report {
        Report::Ready {
            root,
            summary,
            classes,
        } => {
            let root = root.to_string_lossy();
            line(&WatchJson {
                root: Some(&root),
                files: Some(summary.files),
                patterns: Some(classes.len() as u64),
                ..WatchJson::new("ready")
            })
        }
        Report::Applied {
            updates,
            summary,
            elapsed,
            ..
        } => {
            for update in *updates {
                let doc = match update {
                    Update::New(p) => WatchJson {
                        pattern: Some(pattern_json(p)),
                        ..WatchJson::new("new")
                    },
                    Update::Resolved(p) => WatchJson {
                        pattern: Some(pattern_json(p)),
                        ..WatchJson::new("resolved")
                    },
                    Update::Grew {
                        pattern,
                        added,
                        removed,
                    } => WatchJson {
                        pattern: Some(pattern_json(pattern)),
                        added: Some(members_json(added)),
                        removed: Some(members_json(removed)),
                        ..WatchJson::new("grew")
                    },
                    Update::Shrank { pattern, removed } => WatchJson {
                        pattern: Some(pattern_json(pattern)),
                        removed: Some(members_json(removed)),
                        ..WatchJson::new("shrank")
                    },
                };
                line(&doc)?;
            }
            line(&WatchJson {
                changes: Some(updates.len()),
                read: Some(summary.read),
                incremental: Some(summary.incremental),
                elapsed_ms: Some((elapsed.as_secs_f64() * 1e4).round() / 10.0),
                ..WatchJson::new("applied")
            })
        }
        Report::Failed(why) => line(&WatchJson {
            message: Some(why),
            ..WatchJson::new("error")
        }),
    }
}

/// The start and end lines a VS Code background problem matcher waits for.
pub const GNU_BEGIN: &str = "cpt: checking";
pub const GNU_END: &str = "cpt: checked";

fn watch_gnu(out: &mut dyn Write, err: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let classes = match report {
        Report::Ready { classes, .. } | Report::Applied { classes, .. } => classes,
        Report::Failed(why) => return writeln!(err, "cpt: warning: {why}"),
    };
    writeln!(out, "{GNU_BEGIN}")?;
    for p in classes.values() {
        for m in &p.members {
            let others: Vec<String> = p
                .members
                .iter()
                .filter(|o| !std::ptr::eq(*o, m))
                .map(|o| format!("{}:{}", o.path, o.start_line))
                .collect();
            writeln!(
                out,
                "{}:{}:1: warning: {} clone {} ({}): also at {}",
                m.path,
                m.start_line,
                p.clone_type.as_str(),
                p.id,
                if m.name.is_empty() { &p.kind } else { &m.name },
                others.join(", ")
            )?;
        }
    }
    writeln!(out, "{GNU_END}")
}
