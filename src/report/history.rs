//! The catalogue's history: `cpt log` (a line of text, or a JSON line `cpt.log/1`, per event)
//! and `cpt history` (one class's life as text, or `cpt.history/1`).

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::engine::view::{ClassChange, ClassEvent, LogDetail, LogEntry, PatternId};

/// The short form of a commit, as the text shows it.
fn short(commit: Option<&str>) -> String {
    commit.map_or(String::new(), |c| format!(" @{}", &c[..c.len().min(7)]))
}

fn file_name(path: Option<&str>, id: i64) -> String {
    path.map_or_else(|| format!("file #{id}"), str::to_string)
}

/// One event as a line of text: sequence number, time, scan (and commit), kind, summary.
pub fn log_line(out: &mut dyn Write, e: &LogEntry) -> io::Result<()> {
    let summary = match &e.detail {
        LogDetail::File { path, status, .. } if status == "indexed" => path.clone(),
        LogDetail::File { path, status, .. } => format!("{path} (skipped: {status})"),
        LogDetail::Touched { file_id, path, .. } => file_name(path.as_deref(), *file_id),
        LogDetail::Removed { path, .. } => path.clone(),
        LogDetail::Units {
            file_id,
            path,
            units,
            ..
        } => format!(
            "{units} unit{} in {}",
            if *units == 1 { "" } else { "s" },
            file_name(path.as_deref(), *file_id)
        ),
        LogDetail::Unit {
            unit_id,
            path,
            lines,
        } => {
            let place = path
                .as_deref()
                .map_or(String::new(), |p| format!(" in {p}"));
            match lines {
                Some((a, b)) => format!("unit #{unit_id}{place}, now lines {a}-{b}"),
                None => format!("unit #{unit_id}{place}"),
            }
        }
        LogDetail::Pattern {
            id,
            clone_type,
            copies,
            units,
            ..
        } => {
            let mut s = id.clone();
            if let Some(t) = clone_type {
                s.push_str(&format!(" {}", t.as_str()));
            }
            if let Some(n) = copies.filter(|_| clone_type.is_some()) {
                s.push_str(&format!(" {}", copies_of(n)));
            }
            match e.kind {
                "pattern_grown" => s.push_str(&format!(" (+{})", units.len())),
                "pattern_shrunk" => s.push_str(&format!(" (-{})", units.len())),
                _ => {}
            }
            s
        }
        LogDetail::Accepted { id, reason, copies } => {
            format!("{id} {}: {reason}", copies_of(*copies))
        }
        LogDetail::Unaccepted { id } => id.clone(),
    };
    writeln!(
        out,
        "{:>7} {} scan {}{} {:<18} {summary}",
        e.seq,
        e.at(),
        e.scan_id,
        short(e.commit.as_deref()),
        e.kind
    )
}

/// One event as a JSON line, schema `cpt.log/1`.
pub fn log_json(out: &mut dyn Write, e: &LogEntry) -> io::Result<()> {
    let mut o = Map::new();
    o.insert("schema".into(), json!("cpt.log/1"));
    o.insert("seq".into(), json!(e.seq));
    o.insert("at".into(), json!(e.at()));
    o.insert("at_ms".into(), json!(e.at_ms));
    o.insert("scan".into(), json!(e.scan_id));
    o.insert("commit".into(), json!(e.commit));
    o.insert("kind".into(), json!(e.kind));
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_string(), v);
    };
    match &e.detail {
        LogDetail::File {
            file_id,
            path,
            lang,
            lines,
            status,
        } => {
            put("file_id", json!(file_id));
            put("path", json!(path));
            put("lang", json!(lang));
            put("lines", json!(lines));
            put("status", json!(status));
        }
        LogDetail::Touched {
            file_id,
            path,
            size,
        } => {
            put("file_id", json!(file_id));
            put("path", json!(path));
            put("size", json!(size));
        }
        LogDetail::Removed { file_id, path } => {
            put("file_id", json!(file_id));
            put("path", json!(path));
        }
        LogDetail::Units {
            file_id,
            path,
            first_id,
            units,
        } => {
            put("file_id", json!(file_id));
            put("path", json!(path));
            put("first_unit", json!(first_id));
            put("units", json!(units));
        }
        LogDetail::Unit {
            unit_id,
            path,
            lines,
        } => {
            put("unit_id", json!(unit_id));
            put("path", json!(path));
            if let Some((a, b)) = lines {
                put("start_line", json!(a));
                put("end_line", json!(b));
            }
        }
        LogDetail::Pattern {
            id,
            clone_type,
            lines,
            copies,
            units,
        } => {
            put("pattern", json!(id));
            if let Some(t) = clone_type {
                put("clone_type", json!(t.as_str()));
            }
            if let Some(l) = lines {
                put("lines", json!(l));
            }
            put("copies", json!(copies));
            put("units", json!(units));
        }
        LogDetail::Accepted { id, reason, copies } => {
            put("pattern", json!(id));
            put("reason", json!(reason));
            put("copies", json!(copies));
        }
        LogDetail::Unaccepted { id } => put("pattern", json!(id)),
    }
    serde_json::to_writer(&mut *out, &Value::Object(o))?;
    writeln!(out)
}

/// What an event did, in words: `created T2, 3 copies`, `grew by 1 to 4 copies`,
/// `moved 1 copy: a.py -> b.py (2 copies)`…
/// `1 copy`, `2 copies`.
fn copies_of(n: usize) -> String {
    if n == 1 {
        "1 copy".to_string()
    } else {
        format!("{n} copies")
    }
}

fn change_text(e: &ClassEvent) -> String {
    match &e.change {
        ClassChange::Created {
            clone_type,
            lines,
            copies,
        } => format!(
            "created, {} {lines} lines, {}",
            clone_type.as_str(),
            copies_of(*copies)
        ),
        ClassChange::Grew { added, .. } => {
            format!("grew by {added} to {}", copies_of(e.copies))
        }
        ClassChange::Shrank { removed, .. } => {
            format!("shrank by {removed} to {}", copies_of(e.copies))
        }
        ClassChange::Moved {
            moved, from, to, ..
        } => {
            let copy = if *moved == 1 { "copy" } else { "copies" };
            match moves(from, to)[..] {
                [(from, to)] => {
                    format!(
                        "moved {moved} {copy}: {from} -> {to} ({})",
                        copies_of(e.copies)
                    )
                }
                _ => format!("moved {moved} {copy} ({})", copies_of(e.copies)),
            }
        }
        ClassChange::Dissolved => "dissolved".to_string(),
        ClassChange::Accepted { reason } => format!("accepted: {reason}"),
        ClassChange::Unaccepted => "unaccepted".to_string(),
    }
}

/// The distinct moves of a `moved` change, `from -> to` each once, sorted.
fn moves<'a>(from: &'a [String], to: &'a [String]) -> Vec<(&'a str, &'a str)> {
    let mut moves: Vec<(&str, &str)> = from
        .iter()
        .zip(to)
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    moves.sort_unstable();
    moves.dedup();
    moves
}

/// `cpt history ID` as text: one line per event, the files it names indented below (a move:
/// `from -> to` in the line, or below when there are several).
pub fn history(out: &mut dyn Write, id: PatternId, events: &[ClassEvent]) -> io::Result<()> {
    writeln!(out, "class {id}")?;
    for e in events {
        writeln!(
            out,
            "  {} scan {}{} {}",
            e.at(),
            e.scan_id,
            short(e.commit.as_deref()),
            change_text(e)
        )?;
        if let ClassChange::Moved { from, to, .. } = &e.change {
            let moves = moves(from, to);
            if moves.len() > 1 {
                for (from, to) in moves {
                    writeln!(out, "      {from} -> {to}")?;
                }
            }
            continue;
        }
        for path in &e.paths {
            writeln!(out, "      {path}")?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct HistoryJson {
    schema: &'static str,
    id: PatternId,
    events: Vec<Value>,
}

/// `cpt history ID --format json`: schema `cpt.history/1`.
pub fn history_json(out: &mut dyn Write, id: PatternId, events: &[ClassEvent]) -> io::Result<()> {
    let events = events
        .iter()
        .map(|e| {
            let mut o = json!({
                "seq": e.seq,
                "at": e.at(),
                "at_ms": e.at_ms,
                "scan": e.scan_id,
                "commit": e.commit,
                "change": e.change.as_str(),
                "copies": e.copies,
                "paths": e.paths,
            });
            let extra = match &e.change {
                ClassChange::Created {
                    clone_type, lines, ..
                }
                | ClassChange::Grew {
                    clone_type, lines, ..
                }
                | ClassChange::Shrank {
                    clone_type, lines, ..
                } => json!({ "clone_type": clone_type.as_str(), "lines": lines }),
                ClassChange::Moved {
                    clone_type,
                    lines,
                    moved,
                    from,
                    to,
                } => json!({
                    "clone_type": clone_type.as_str(),
                    "lines": lines,
                    "moved": moved,
                    "from": from,
                    "to": to,
                }),
                ClassChange::Accepted { reason } => json!({ "reason": reason }),
                ClassChange::Dissolved | ClassChange::Unaccepted => json!({}),
            };
            if let (Some(o), Value::Object(extra)) = (o.as_object_mut(), extra) {
                o.extend(extra);
            }
            o
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &HistoryJson {
            schema: "cpt.history/1",
            id,
            events,
        },
    )?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::CloneType;

    fn moved(from: &[&str], to: &[&str]) -> ClassEvent {
        ClassEvent {
            seq: 9,
            scan_id: 4,
            at_ms: 0,
            commit: Some("93fe962aa".into()),
            copies: 3,
            paths: Vec::new(),
            change: ClassChange::Moved {
                clone_type: CloneType::T2,
                lines: 9,
                moved: from.len(),
                from: from.iter().map(|p| p.to_string()).collect(),
                to: to.iter().map(|p| p.to_string()).collect(),
            },
        }
    }

    fn text(events: &[ClassEvent]) -> String {
        let mut out = Vec::new();
        history(&mut out, PatternId(0x2cc2), events).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_move_is_told_in_its_line_and_several_below_it() {
        let one = text(&[moved(&["a.py", "a.py"], &["b.py", "b.py"])]);
        assert_eq!(
            one.lines().nth(1).unwrap(),
            "  1970-01-01T00:00:00.000Z scan 4 @93fe962 moved 2 copies: a.py -> b.py (3 copies)"
        );
        assert_eq!(one.lines().count(), 2, "{one}");
        let two = text(&[moved(&["x/a.py", "y/a.py"], &["new/x/a.py", "new/y/a.py"])]);
        let lines: Vec<&str> = two.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                "  1970-01-01T00:00:00.000Z scan 4 @93fe962 moved 2 copies (3 copies)",
                "      x/a.py -> new/x/a.py",
                "      y/a.py -> new/y/a.py",
            ]
        );
    }

    #[test]
    fn one_copy_is_one_copy() {
        let shrank = ClassEvent {
            copies: 1,
            change: ClassChange::Shrank {
                clone_type: CloneType::T3,
                lines: 18,
                removed: 1,
            },
            ..moved(&[], &[])
        };
        let text = text(&[shrank]);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with("shrank by 1 to 1 copy"),
            "{text}"
        );
    }
}
