//! `cpt watch`'s reports: text, JSON lines (`cpt.watch/1`) and GNU problem lines.

use std::io::{self, Write};

use serde::Serialize;

use super::json::{MemberJson, PatternJson, members_json, pattern_json};
use crate::engine::view::{Class, CloneType, Copy, WatchReport, WatchUpdate as Update};

/// How `cpt watch` prints what changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum WatchFormat {
    #[default]
    Text,
    // One JSON object per line, schema `cpt.watch/1` (README).
    Jsonl,
    // `path:line:col: warning: message` for editors' problem matchers: after every batch,
    // every copy of every class between a start and an end line.
    Gnu,
}

/// A copy as `path:start-end  name`.
fn copy(m: &Copy) -> String {
    if m.name.is_empty() {
        format!("{}:{}-{}", m.path, m.start_line, m.end_line)
    } else {
        format!("{}:{}-{}  {}", m.path, m.start_line, m.end_line, m.name)
    }
}

fn class_title(p: &Class) -> String {
    let similar = if p.clone_type == CloneType::T3 {
        format!(", {:.0}% similar", super::percent(f64::from(p.similarity)))
    } else {
        String::new()
    };
    format!(
        "{} {} {}, {} lines, {} copies{similar}",
        p.clone_type.as_str(),
        p.kind.as_str(),
        p.id,
        p.lines,
        p.copies.len()
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
pub fn report(
    out: &mut dyn Write,
    err: &mut dyn Write,
    format: WatchFormat,
    report: &WatchReport<'_>,
) -> io::Result<()> {
    match format {
        WatchFormat::Text => watch_text(out, err, report)?,
        WatchFormat::Jsonl => watch_jsonl(out, report)?,
        WatchFormat::Gnu => watch_gnu(out, err, report)?,
    }
    out.flush()?;
    err.flush()
}

fn watch_text(
    out: &mut dyn Write,
    err: &mut dyn Write,
    report: &WatchReport<'_>,
) -> io::Result<()> {
    match report {
        WatchReport::Ready {
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
        WatchReport::Applied { updates, .. } => {
            for update in *updates {
                match update {
                    Update::New(p) => {
                        writeln!(out, "new clone: {}", class_title(p))?;
                        for m in &p.copies {
                            writeln!(out, "  {}", copy(m))?;
                        }
                    }
                    Update::Resolved(p) => {
                        writeln!(out, "clone resolved: {}", class_title(p))?;
                        for m in &p.copies {
                            writeln!(out, "  was {}", copy(m))?;
                        }
                    }
                    Update::Grew {
                        class: pattern,
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
                    Update::Shrank {
                        class: pattern,
                        removed,
                    } => {
                        writeln!(out, "clone shrank: {}", class_title(pattern))?;
                        for m in removed {
                            writeln!(out, "  - {}", copy(m))?;
                        }
                    }
                }
            }
            Ok(())
        }
        WatchReport::Failed(why) => writeln!(err, "cpt: warning: {why}"),
    }
}

fn watch_jsonl(out: &mut dyn Write, report: &WatchReport<'_>) -> io::Result<()> {
    let mut line = |doc: &WatchJson<'_>| -> io::Result<()> {
        serde_json::to_writer(&mut *out, doc)?;
        writeln!(out)
    };
    match report {
        WatchReport::Ready {
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
        WatchReport::Applied {
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
                        class: pattern,
                        added,
                        removed,
                    } => WatchJson {
                        pattern: Some(pattern_json(pattern)),
                        added: Some(members_json(added)),
                        removed: Some(members_json(removed)),
                        ..WatchJson::new("grew")
                    },
                    Update::Shrank {
                        class: pattern,
                        removed,
                    } => WatchJson {
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
        WatchReport::Failed(why) => line(&WatchJson {
            message: Some(why),
            ..WatchJson::new("error")
        }),
    }
}

/// The start and end lines a VS Code background problem matcher waits for.
pub const GNU_BEGIN: &str = "cpt: checking";
pub const GNU_END: &str = "cpt: checked";

fn watch_gnu(out: &mut dyn Write, err: &mut dyn Write, report: &WatchReport<'_>) -> io::Result<()> {
    let classes = match report {
        WatchReport::Ready { classes, .. } | WatchReport::Applied { classes, .. } => classes,
        WatchReport::Failed(why) => return writeln!(err, "cpt: warning: {why}"),
    };
    writeln!(out, "{GNU_BEGIN}")?;
    for p in classes.values() {
        for m in &p.copies {
            let others = p.copies.iter().filter(|o| !std::ptr::eq(*o, m));
            writeln!(out, "{}", super::ci::gnu_line(p, m, others, ""))?;
        }
    }
    writeln!(out, "{GNU_END}")
}
