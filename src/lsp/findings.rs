//! What the language server says about one open document: its copies ([`Finding`]), from the
//! catalogue's classes when the text is saved, and, for unsaved text, the classes of the units
//! an edit left alone (moved to their new lines) plus the index's answers for the units it
//! touched.

use std::path::Path;

use lsp_types::Url;
use serde_json::{Value, json};

use crate::engine::view::{Class, CloneType, Filter, SimilarAnswer};

/// Another copy of a finding's code.
#[derive(Clone, Debug, PartialEq)]
pub struct Other {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub name: String,
}

/// One copy in an open document.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// 1-based, inclusive, in the document as it is now.
    pub start_line: u32,
    pub end_line: u32,
    pub kind: String,
    pub name: String,
    pub clone_type: CloneType,
    /// Of the class (or, for a live finding, of the best match).
    pub similarity: f32,
    pub lines: u32,
    /// The class, when the catalogue has one.
    pub class_id: Option<String>,
    pub others: Vec<Other>,
    /// Found from the index for unsaved text, not from the catalogue's classes.
    pub live: bool,
}

/// The copies in `rel` of the catalogue's classes.
pub fn saved(classes: &[Class], rel: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for class in classes {
        for (i, copy) in class.copies.iter().enumerate() {
            if copy.path != rel {
                continue;
            }
            out.push(Finding {
                start_line: copy.start_line,
                end_line: copy.end_line,
                kind: class.kind.as_str().to_string(),
                name: copy.name.clone(),
                clone_type: class.clone_type,
                similarity: class.similarity,
                lines: class.lines,
                class_id: Some(class.id.to_string()),
                others: class
                    .copies
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, o)| Other {
                        path: o.path.clone(),
                        start_line: o.start_line,
                        end_line: o.end_line,
                        name: o.name.clone(),
                    })
                    .collect(),
                live: false,
            });
        }
    }
    out.sort_by_key(|f| (f.start_line, f.end_line));
    out
}

/// The lines an edit changed: from the saved text to the buffer, the lines before the first
/// difference and after the last one map one to one; what is between is the edit.
struct LineMap {
    /// Lines (1-based) kept at the top.
    prefix: u32,
    /// Lines kept at the bottom.
    suffix: u32,
    old_len: u32,
    new_len: u32,
}

impl LineMap {
    fn new(old: &str, new: &str) -> LineMap {
        let a: Vec<&str> = old.lines().collect();
        let b: Vec<&str> = new.lines().collect();
        let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let rest = a.len().min(b.len()) - prefix;
        let suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take(rest)
            .take_while(|(x, y)| x == y)
            .count();
        LineMap {
            prefix: prefix as u32,
            suffix: suffix as u32,
            old_len: a.len() as u32,
            new_len: b.len() as u32,
        }
    }

    /// Where saved lines `start..=end` are now, when the edit left all of them alone.
    fn map(&self, start: u32, end: u32) -> Option<(u32, u32)> {
        if end <= self.prefix {
            Some((start, end))
        } else if start > self.old_len - self.suffix {
            let shift = |l: u32| l + self.new_len - self.old_len;
            Some((shift(start), shift(end)))
        } else {
            None
        }
    }
}

/// The findings of an unsaved version (`text`) of `rel`, whose saved version is `on_disk`
/// with the findings `saved`: saved copies the edit left alone at their new lines; a function
/// the edit touched that is still a copy of a class (same content) with that class; and a
/// function the edit touched or wrote, with the index's `answers` for it (copies in other
/// files: this file's own are as saved), as a live finding.
pub fn live(
    saved: Vec<Finding>,
    on_disk: &str,
    text: &str,
    answers: Vec<SimilarAnswer>,
    rel: &str,
    filter: &Filter,
) -> Vec<Finding> {
    let map = LineMap::new(on_disk, text);
    let mut out: Vec<Finding> = Vec::new();
    let mut touched: Vec<Finding> = Vec::new();
    for f in saved {
        match map.map(f.start_line, f.end_line) {
            Some((start_line, end_line)) => out.push(Finding {
                start_line,
                end_line,
                ..f
            }),
            None => touched.push(f),
        }
    }
    for answer in answers {
        let lines = answer.end_line - answer.start_line + 1;
        if out
            .iter()
            .any(|f| f.start_line == answer.start_line && f.end_line == answer.end_line)
        {
            continue;
        }
        // Same name, same content as a copy the edit moved or reindented: still that copy.
        if let Some(f) = touched
            .iter()
            .find(|f| f.name == answer.name && lines == f.end_line - f.start_line + 1)
        {
            out.push(Finding {
                start_line: answer.start_line,
                end_line: answer.end_line,
                ..f.clone()
            });
            continue;
        }
        let matches: Vec<_> = answer
            .matches
            .iter()
            .filter(|m| m.path != rel)
            .filter(|m| filter.types.is_empty() || filter.types.contains(&m.clone_type))
            .collect();
        if matches.is_empty() || filter.min_lines.is_some_and(|n| lines < n) {
            continue;
        }
        let best = matches[0];
        out.push(Finding {
            start_line: answer.start_line,
            end_line: answer.end_line,
            kind: answer.kind.clone(),
            name: answer.name.clone(),
            clone_type: best.clone_type,
            similarity: best.similarity as f32,
            lines,
            class_id: best.pattern.map(|p| p.to_string()),
            others: matches
                .iter()
                .map(|m| Other {
                    path: m.path.clone(),
                    start_line: m.start_line,
                    end_line: m.end_line,
                    name: m.name.clone(),
                })
                .collect(),
            live: true,
        });
    }
    out.sort_by_key(|f| (f.start_line, f.end_line));
    out
}

/// A line comment's opener in the language of `rel`.
pub fn comment_of(rel: &str) -> &'static str {
    if rel.ends_with(".py") || rel.ends_with(".pyi") {
        "#"
    } else {
        "//"
    }
}

fn type_words(t: CloneType) -> &'static str {
    match t {
        CloneType::T1 => "exact copy",
        CloneType::T2 => "renamed copy",
        CloneType::T3 => "near-miss copy",
    }
}

fn url(root: &Path, rel: &str) -> Value {
    Url::from_file_path(root.join(rel))
        .map(|u| json!(u))
        .unwrap_or(Value::Null)
}

/// Length in UTF-16 code units of line `line` (1-based) of `text`.
fn line_width(text: &str, line: u32) -> usize {
    text.lines()
        .nth(line.saturating_sub(1) as usize)
        .map_or(0, |l| l.encode_utf16().count())
}

impl Finding {
    fn what(&self) -> String {
        if self.name.is_empty() {
            self.kind.clone()
        } else {
            format!("{} {}", self.kind, self.name)
        }
    }

    fn message(&self) -> String {
        let similar = if self.clone_type == CloneType::T3 || self.similarity < 1.0 {
            format!(
                ", {:.0}% similar",
                (f64::from(self.similarity) * 100.0).floor()
            )
        } else {
            String::new()
        };
        let copies = self.others.len() + 1;
        let live = if self.live { " (unsaved)" } else { "" };
        let head = format!(
            "{} {}{live}: {}, {} lines, {copies} copies{similar}",
            self.clone_type.as_str(),
            type_words(self.clone_type),
            self.what(),
            self.lines
        );
        let at: Vec<String> = self
            .others
            .iter()
            .take(3)
            .map(|o| format!("{}:{}", o.path, o.start_line))
            .collect();
        let more = if self.others.len() > 3 {
            format!(" and {} more", self.others.len() - 3)
        } else {
            String::new()
        };
        format!("{head}; also at {}{more}", at.join(", "))
    }

    fn range(&self, text: &str) -> Value {
        json!({
            "start": {"line": self.start_line - 1, "character": 0},
            "end": {"line": self.end_line - 1, "character": line_width(text, self.end_line)},
        })
    }

    pub fn diagnostic(&self, root: &Path, text: &str, severity: u32) -> Value {
        let related: Vec<Value> = self
            .others
            .iter()
            .map(|o| {
                json!({
                    "location": {"uri": url(root, &o.path), "range": {
                        "start": {"line": o.start_line - 1, "character": 0},
                        "end": {"line": o.end_line, "character": 0}}},
                    "message": if o.name.is_empty() { format!("copy in {}", o.path) } else { format!("copy: {}", o.name) },
                })
            })
            .collect();
        json!({
            "range": self.range(text),
            "severity": severity,
            "code": self.clone_type.as_str(),
            "source": "cpt",
            "message": self.message(),
            "relatedInformation": related,
            "data": {"classId": self.class_id, "live": self.live},
        })
    }

    /// "N copies" above the copy; running it opens the first other copy.
    pub fn lens(&self, _root: &Path) -> Option<Value> {
        let first = self.others.first()?;
        let n = self.others.len();
        let title = if n == 1 {
            format!("1 other copy: {}:{}", first.path, first.start_line)
        } else {
            format!("{n} other copies")
        };
        Some(json!({
            "range": {"start": {"line": self.start_line - 1, "character": 0},
                      "end": {"line": self.start_line - 1, "character": 0}},
            "command": {"title": title, "command": "cpt.goToCopy",
                        "arguments": [first.path, first.start_line]},
        }))
    }

    /// Go to each other copy (up to five), leave this copy out with a `cpt: ignore` comment,
    /// accept the class.
    pub fn actions(&self, _root: &Path, uri: &Url, text: &str, comment: &str) -> Vec<Value> {
        let mut out: Vec<Value> = self
            .others
            .iter()
            .take(5)
            .map(|o| {
                let title = format!("cpt: go to the copy at {}:{}", o.path, o.start_line);
                json!({"title": title, "kind": "source",
                       "command": {"title": title, "command": "cpt.goToCopy", "arguments": [o.path, o.start_line]}})
            })
            .collect();
        let first_line = text.lines().nth(self.start_line as usize - 1).unwrap_or("");
        let indent: String = first_line
            .chars()
            .take_while(|c| c.is_whitespace())
            .collect();
        out.push(json!({
            "title": "cpt: ignore this copy (add a `cpt: ignore` comment)",
            "kind": "quickfix",
            "edit": {"changes": {uri.as_str(): [{
                "range": {"start": {"line": self.start_line - 1, "character": 0},
                          "end": {"line": self.start_line - 1, "character": 0}},
                "newText": format!("{indent}{comment} cpt: ignore\n"),
            }]}},
        }));
        if let Some(id) = &self.class_id
            && !self.live
        {
            let title = format!("cpt: accept clone class {id} as it is");
            out.push(json!({"title": title, "kind": "quickfix",
                            "command": {"title": title, "command": "cpt.accept", "arguments": [id]}}));
        }
        out
    }

    pub fn hover(&self) -> String {
        let mut s = format!("**cpt**: {}\n", self.message());
        for o in &self.others {
            s.push_str(&format!(
                "\n- `{}:{}-{}` {}",
                o.path, o.start_line, o.end_line, o.name
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_moves_the_copies_around_it_and_leaves_out_those_it_touches() {
        let old = "a\nb\nc\nd\ne\nf\n";
        let new = "a\nX\nY\nb\nc\nd\ne\nf\n";
        let map = LineMap::new(old, new);
        assert_eq!(map.map(1, 1), Some((1, 1)));
        assert_eq!(map.map(3, 5), Some((5, 7)));
        assert_eq!(map.map(1, 2), None);
        let map = LineMap::new(old, old);
        assert_eq!(map.map(2, 6), Some((2, 6)));
        let map = LineMap::new(old, "a\nb\nc\nd\nQ\nf\n");
        assert_eq!(map.map(1, 4), Some((1, 4)));
        assert_eq!(map.map(4, 6), None);
        assert_eq!(map.map(6, 6), Some((6, 6)));
    }
}
