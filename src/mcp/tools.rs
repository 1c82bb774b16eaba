//! The tools: their definitions (`tools/list`) and what each asks the engine (`tools/call`).
//! Every tool reads the catalogue only; its answer is one JSON object matching its
//! `outputSchema`, with paths relative to the root and `/`-separated.

use std::cell::RefCell;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};

use super::Server;
use crate::engine::view::{
    CheckRequest, CheckedClass, Class, ClassChange, CloneType, Copy, DiffBase, FailOn, Filter,
    NoUnits,
};
use crate::engine::{Catalogue, SimilarRequest, SimilarTarget};

/// Items a list holds unless the call asks for fewer or more.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 200;
/// `find_similar` counts the matches of a unit up to this many.
const COUNT_UP_TO: usize = 1000;

/// Every tool's definition, for `tools/list`.
pub fn list() -> Value {
    let limit = json!({
        "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT,
        "description": "At most this many items in each list of the answer"
    });
    let copy = json!({
        "type": "object",
        "properties": {
            "path": { "type": "string" },
            "start_line": { "type": "integer" },
            "end_line": { "type": "integer" },
            "name": { "type": "string", "description": "Empty for a block of statements" },
            "language": { "type": "string" },
            "similarity": { "type": "number", "description": "To the class's representative" }
        },
        "required": ["path", "start_line", "end_line", "name", "language", "similarity"]
    });
    let class = |extra: Value, required: &[&str]| {
        let mut properties = json!({
            "id": { "type": "string", "description": "16 hex digits" },
            "clone_type": { "type": "string", "enum": ["T1", "T2", "T3"],
                "description": "T1 exact, T2 renamed, T3 near-miss" },
            "kind": { "type": "string" },
            "lines": { "type": "integer" },
            "tokens": { "type": "integer" },
            "similarity": { "type": "number", "description": "Lowest similarity of a copy" },
            "copies": { "type": "integer", "description": "Copies in the whole tree" },
            "accepted": { "type": ["string", "null"],
                "description": "Why the class was accepted as it is (`cpt accept`), if it was" }
        });
        properties
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let mut all = vec![
            "id",
            "clone_type",
            "kind",
            "lines",
            "tokens",
            "similarity",
            "copies",
            "accepted",
        ];
        all.extend_from_slice(required);
        json!({ "type": "object", "properties": properties, "required": all })
    };
    let copies = json!({ "type": "array", "items": copy });
    let annotations = json!({
        "readOnlyHint": true,
        "destructiveHint": false,
        "idempotentHint": true,
        "openWorldHint": false
    });
    let tool = |name: &str, title: &str, description: &str, input: Value, output: Value| {
        json!({
            "name": name,
            "title": title,
            "description": description,
            "inputSchema": input,
            "outputSchema": output,
            "annotations": annotations,
        })
    };
    json!([
        tool(
            "find_similar",
            "Find code like this",
            "Call before writing a new function: finds the functions of the repository that \
             are copies or near-copies of the code given (exact, renamed, or changed in a few \
             statements), ranked by similarity, so that you can reuse one instead of adding \
             a copy. Each function of the code (at least 50 tokens and 6 lines, by default) \
             is asked about separately.",
            json!({
                "type": "object",
                "properties": {
                    "code": { "type": "string", "description": "Source code: one or more functions" },
                    "language": { "type": "string",
                        "description": "Language id: python, rust, java, go, c, cpp, javascript, typescript or tsx" },
                    "limit": limit,
                    "min_similarity": { "type": "number", "minimum": 0, "maximum": 1,
                        "description": "Only matches at least this similar [default: the catalogue's near-miss threshold]" }
                },
                "required": ["code", "language"],
                "additionalProperties": false
            }),
            json!({
                "type": "object",
                "properties": {
                    "units": { "type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "name": { "type": "string" },
                            "kind": { "type": "string" },
                            "start_line": { "type": "integer", "description": "In the code given" },
                            "end_line": { "type": "integer" },
                            "total": { "type": "integer", "description": "Matches found (counted up to 1000)" },
                            "truncated": { "type": "boolean" },
                            "matches": { "type": "array", "items": {
                                "type": "object",
                                "properties": {
                                    "path": { "type": "string" },
                                    "start_line": { "type": "integer" },
                                    "end_line": { "type": "integer" },
                                    "name": { "type": "string" },
                                    "kind": { "type": "string" },
                                    "language": { "type": "string" },
                                    "clone_type": { "type": "string", "enum": ["T1", "T2", "T3"] },
                                    "similarity": { "type": "number" },
                                    "class_id": { "type": ["string", "null"],
                                        "description": "The clone class the match belongs to (see clone_class)" }
                                },
                                "required": ["path", "start_line", "end_line", "name", "kind",
                                    "language", "clone_type", "similarity", "class_id"]
                            }}
                        },
                        "required": ["name", "kind", "start_line", "end_line", "total", "truncated", "matches"]
                    }},
                    "note": { "type": "string", "description": "Why there is nothing to compare, when there is not" }
                },
                "required": ["units"]
            }),
        ),
        tool(
            "clones_for_file",
            "Clones in a file",
            "The clone classes with a copy in one file of the repository: each class's copies \
             in that file and where its other copies are. Use before changing a file, to \
             change every copy, or to replace copies with one shared function.",
            json!({
                "type": "object",
                "properties": {
                    "path": { "type": "string",
                        "description": "The file, relative to the repository's root (or absolute inside it)" },
                    "limit": limit
                },
                "required": ["path"],
                "additionalProperties": false
            }),
            json!({
                "type": "object",
                "properties": {
                    "path": { "type": "string" },
                    "total": { "type": "integer", "description": "Classes with a copy in the file" },
                    "truncated": { "type": "boolean" },
                    "classes": { "type": "array", "items": class(
                        json!({ "in_this_file": copies, "elsewhere": copies }),
                        &["in_this_file", "elsewhere"],
                    )}
                },
                "required": ["path", "total", "truncated", "classes"]
            }),
        ),
        tool(
            "clone_class",
            "One clone class and its history",
            "A clone class by id (from find_similar, clones_for_file or check_diff): its \
             copies, and its history from the catalogue's log — when it was created, grew, \
             shrank, moved to other files, was accepted — with the scan that saw it.",
            json!({
                "type": "object",
                "properties": {
                    "id": { "type": "string", "description": "16 hex digits, or a unique prefix of 4 or more" },
                    "limit": limit
                },
                "required": ["id"],
                "additionalProperties": false
            }),
            json!({
                "type": "object",
                "properties": {
                    "class": class(
                        json!({
                            "copies_total": { "type": "integer" },
                            "copies_truncated": { "type": "boolean" },
                            "copy_list": copies
                        }),
                        &["copies_total", "copies_truncated", "copy_list"],
                    ),
                    "history_total": { "type": "integer" },
                    "history_truncated": { "type": "boolean" },
                    "history": { "type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "event": { "type": "string",
                                "enum": ["created", "grew", "shrank", "moved", "dissolved", "accepted", "unaccepted"] },
                            "at": { "type": "string", "format": "date-time" },
                            "scan_id": { "type": "integer" },
                            "seq": { "type": "integer", "description": "Place in the catalogue's event log" },
                            "clone_type": { "type": "string" },
                            "lines": { "type": "integer" },
                            "copies": { "type": "integer", "description": "Copies when created" },
                            "added": { "type": "integer" },
                            "removed": { "type": "integer" },
                            "moved": { "type": "integer" },
                            "from": { "type": "array", "items": { "type": "string" },
                                "description": "Moved: the file each moved copy left, paired with to" },
                            "to": { "type": "array", "items": { "type": "string" },
                                "description": "Moved: the file each moved copy is in now" },
                            "reason": { "type": "string" }
                        },
                        "required": ["event", "at", "scan_id", "seq"]
                    }}
                },
                "required": ["class", "history_total", "history_truncated", "history"]
            }),
        ),
        tool(
            "stats",
            "Repository statistics",
            "Files, lines and units (functions) in the catalogue by language, clone classes, \
             and how many lines are duplicated.",
            json!({ "type": "object", "properties": {}, "additionalProperties": false }),
            json!({
                "type": "object",
                "properties": {
                    "files": { "type": "integer" },
                    "lines": { "type": "integer" },
                    "units": { "type": "integer" },
                    "clone_classes": { "type": "integer" },
                    "duplicated_lines": { "type": "integer" },
                    "duplicated_share": { "type": "number", "description": "0–1" },
                    "files_with_syntax_errors": { "type": "integer" },
                    "languages": { "type": "object", "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "files": { "type": "integer" },
                            "lines": { "type": "integer" },
                            "units": { "type": "integer" }
                        },
                        "required": ["files", "lines", "units"]
                    }},
                    "skipped": { "type": "object", "additionalProperties": { "type": "integer" },
                        "description": "Files not indexed, by reason" }
                },
                "required": ["files", "lines", "units", "clone_classes", "duplicated_lines",
                    "duplicated_share", "files_with_syntax_errors", "languages", "skipped"]
            }),
        ),
        tool(
            "check_diff",
            "Copies added by a change",
            "What `cpt check --diff` reports: the clone classes that touch lines changed since \
             a git revision (uncommitted and untracked files included), with the copies in the \
             change and where the others are. Call after editing, before committing.",
            json!({
                "type": "object",
                "properties": {
                    "diff": { "type": "string",
                        "description": "Changes since this revision [default: HEAD, when base is not given]" },
                    "base": { "type": "string",
                        "description": "Changes since HEAD forked from this revision (a branch's changes, such as main)" },
                    "limit": limit
                },
                "additionalProperties": false
            }),
            json!({
                "type": "object",
                "properties": {
                    "passed": { "type": "boolean" },
                    "rev": { "type": "string" },
                    "commit": { "type": "string", "description": "The commit compared against" },
                    "changed_lines": { "type": "integer" },
                    "changed_files": { "type": "integer" },
                    "untracked_files": { "type": "integer" },
                    "duplication": {
                        "type": "object",
                        "properties": {
                            "lines": { "type": "integer" },
                            "duplicated_lines": { "type": "integer" },
                            "share": { "type": "number" },
                            "max": { "type": ["number", "null"] },
                            "fails": { "type": "boolean" }
                        },
                        "required": ["lines", "duplicated_lines", "share", "max", "fails"]
                    },
                    "total": { "type": "integer", "description": "Failing classes" },
                    "truncated": { "type": "boolean" },
                    "failing": { "type": "array", "items": class(
                        json!({
                            "why": { "type": "string" },
                            "in_change": copies,
                            "elsewhere": copies
                        }),
                        &["why", "in_change", "elsewhere"],
                    )}
                },
                "required": ["passed", "rev", "commit", "changed_lines", "changed_files",
                    "untracked_files", "duplication", "total", "truncated", "failing"]
            }),
        ),
    ])
}

/// Run tool `name`: its answer, or why it failed (one line for the agent).
pub fn call(server: &mut Server<'_>, name: &str, args: &Map<String, Value>) -> Result<Value> {
    let allowed: &[&str] = match name {
        "find_similar" => &["code", "language", "limit", "min_similarity"],
        "clones_for_file" => &["path", "limit"],
        "clone_class" => &["id", "limit"],
        "stats" => &[],
        "check_diff" => &["diff", "base", "limit"],
        _ => bail!(
            "unknown tool `{name}` (tools: find_similar, clones_for_file, clone_class, stats, \
             check_diff)"
        ),
    };
    if let Some(unknown) = args.keys().find(|k| !allowed.contains(&k.as_str())) {
        bail!("{name}: unknown argument `{unknown}`");
    }
    let args = Args { tool: name, args };
    // Arguments are checked before the scan: a wrong call costs nothing.
    let limit = args.limit()?;
    match name {
        "find_similar" => {
            let code = args.required("code")?;
            let language = args.required("language")?;
            let min_similarity = args.ratio("min_similarity")?;
            let catalogue = server.catalogue()?;
            find_similar(server, &catalogue, code, language, min_similarity, limit)
        }
        "clones_for_file" => {
            let path = args.required("path")?;
            clones_for_file(&server.catalogue()?, path, limit)
        }
        "clone_class" => {
            let id = args.required("id")?;
            clone_class(&server.catalogue()?, id, limit)
        }
        "stats" => {
            let catalogue = server.catalogue()?;
            stats(server, &catalogue)
        }
        _ => {
            let diff = match (args.string("diff")?, args.string("base")?) {
                (Some(_), Some(_)) => bail!("check_diff: give `diff` or `base`, not both"),
                (Some(rev), None) => DiffBase::Since(rev.to_string()),
                (None, Some(rev)) => DiffBase::MergeBase(rev.to_string()),
                (None, None) => DiffBase::Since("HEAD".to_string()),
            };
            check_diff(&server.catalogue()?, diff, limit)
        }
    }
}

/// A call's arguments, checked against what its input schema says.
struct Args<'a> {
    tool: &'a str,
    args: &'a Map<String, Value>,
}

impl<'a> Args<'a> {
    fn string(&self, key: &str) -> Result<Option<&'a str>> {
        match self.args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => bail!("{}: `{key}` must be a string", self.tool),
        }
    }

    fn required(&self, key: &str) -> Result<&'a str> {
        self.string(key)?
            .ok_or_else(|| anyhow!("{}: `{key}` is required", self.tool))
    }

    fn limit(&self) -> Result<usize> {
        match self.args.get("limit") {
            None | Some(Value::Null) => Ok(DEFAULT_LIMIT),
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=MAX_LIMIT as u64).contains(n))
                .map(|n| n as usize)
                .ok_or_else(|| {
                    anyhow!(
                        "{}: `limit` must be an integer from 1 to {MAX_LIMIT}",
                        self.tool
                    )
                }),
        }
    }

    fn ratio(&self, key: &str) -> Result<Option<f64>> {
        match self.args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|r| (0.0..=1.0).contains(r))
                .map(Some)
                .ok_or_else(|| anyhow!("{}: `{key}` must be a number from 0 to 1", self.tool)),
        }
    }
}

/// A ratio as reports show it: three decimals.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn copy_json(c: &Copy) -> Value {
    json!({
        "path": c.path,
        "start_line": c.start_line,
        "end_line": c.end_line,
        "name": c.name,
        "language": c.lang,
        "similarity": round3(f64::from(c.similarity)),
    })
}

fn copies_json<'c>(copies: impl Iterator<Item = &'c Copy>, limit: usize) -> Value {
    Value::Array(copies.take(limit).map(copy_json).collect())
}

/// A class's summary fields, to which each tool adds its lists of copies.
fn class_json(c: &Class, extra: Value) -> Value {
    let mut out = json!({
        "id": c.id.to_string(),
        "clone_type": c.clone_type.as_str(),
        "kind": c.kind.as_str(),
        "lines": c.lines,
        "tokens": c.tokens,
        "similarity": round3(f64::from(c.similarity)),
        "copies": c.copies.len(),
        "accepted": c.accepted,
    });
    out.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    out
}

fn find_similar(
    server: &mut Server<'_>,
    catalogue: &Catalogue,
    code: &str,
    language: &str,
    min_similarity: Option<f64>,
    limit: usize,
) -> Result<Value> {
    let request = SimilarRequest {
        target: SimilarTarget::Code {
            source: code.as_bytes().to_vec(),
            lang: language.to_string(),
        },
        limit: COUNT_UP_TO,
        min_similarity,
    };
    let warnings = RefCell::new(Vec::new());
    let answers = catalogue.similar(request, &|w| warnings.borrow_mut().push(w.to_string()));
    for warning in warnings.into_inner() {
        server.log(&warning);
    }
    let answers = match answers {
        Ok(answers) => answers,
        Err(e) => match e.downcast_ref::<NoUnits>() {
            Some(n) => {
                return Ok(json!({
                    "units": [],
                    "note": format!(
                        "no function of at least {} tokens and {} lines in the code: nothing \
                         to compare (smaller functions are not catalogued)",
                        n.min_tokens, n.min_lines
                    ),
                }));
            }
            None => return Err(e),
        },
    };
    let units: Vec<Value> = answers
        .iter()
        .map(|a| {
            let matches: Vec<Value> = a
                .matches
                .iter()
                .take(limit)
                .map(|m| {
                    json!({
                        "path": m.path,
                        "start_line": m.start_line,
                        "end_line": m.end_line,
                        "name": m.name,
                        "kind": m.kind,
                        "language": m.lang,
                        "clone_type": m.clone_type.as_str(),
                        "similarity": round3(m.similarity),
                        "class_id": m.pattern.map(|p| p.to_string()),
                    })
                })
                .collect();
            json!({
                "name": a.name,
                "kind": a.kind,
                "start_line": a.start_line,
                "end_line": a.end_line,
                "total": a.matches.len(),
                "truncated": a.matches.len() > limit,
                "matches": matches,
            })
        })
        .collect();
    Ok(json!({ "units": units }))
}

/// `path` (relative to `root`, or absolute inside it) as the catalogue names files.
fn relative(root: &Path, path: &str) -> Result<String> {
    let given = Path::new(path);
    let inside: PathBuf = if given.is_absolute() {
        // The root as the scan recorded it is canonical; the path given may not be.
        let canonical = given.canonicalize().ok();
        [Some(given), canonical.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|p| p.strip_prefix(root).ok())
            .map(Path::to_path_buf)
            .with_context(|| format!("{path}: outside the repository ({})", root.display()))?
    } else {
        given.to_path_buf()
    };
    let mut parts = Vec::new();
    for component in inside.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => bail!("{path}: not a path inside the repository"),
        }
    }
    Ok(parts.join("/"))
}

fn clones_for_file(catalogue: &Catalogue, path: &str, limit: usize) -> Result<Value> {
    let rel = relative(catalogue.root(), path)?;
    if !catalogue.has_file(&rel)? {
        bail!(
            "{path}: not a file of the catalogue (paths are relative to {}; ignored files and \
             files in no supported language are not catalogued)",
            catalogue.root().display()
        );
    }
    let file = catalogue.report_config()?;
    let filter = Filter {
        tests: file.tests.unwrap_or_default(),
        noise: file.noise.unwrap_or(false),
        ..Filter::default()
    };
    let classes: Vec<Class> = catalogue
        .classes(&filter)?
        .into_iter()
        .filter(|c| c.copies.iter().any(|m| m.path == rel))
        .collect();
    let shown: Vec<Value> = classes
        .iter()
        .take(limit)
        .map(|c| {
            class_json(
                c,
                json!({
                    "in_this_file": copies_json(c.copies.iter().filter(|m| m.path == rel), limit),
                    "elsewhere": copies_json(c.copies.iter().filter(|m| m.path != rel), limit),
                }),
            )
        })
        .collect();
    Ok(json!({
        "path": rel,
        "total": classes.len(),
        "truncated": classes.len() > limit,
        "classes": shown,
    }))
}

fn clone_class(catalogue: &Catalogue, id: &str, limit: usize) -> Result<Value> {
    let class = catalogue.find_class(id)?;
    let history = catalogue.history(class.id)?;
    let events: Vec<Value> = history
        .iter()
        .take(limit)
        .map(|e| {
            let mut out = json!({
                "event": e.change.as_str(),
                "at": e.at(),
                "scan_id": e.scan_id,
                "seq": e.seq,
            });
            let details = match &e.change {
                ClassChange::Created {
                    clone_type,
                    lines,
                    copies,
                } => summary(*clone_type, *lines, "copies", *copies),
                ClassChange::Grew {
                    clone_type,
                    lines,
                    added,
                } => summary(*clone_type, *lines, "added", *added),
                ClassChange::Shrank {
                    clone_type,
                    lines,
                    removed,
                } => summary(*clone_type, *lines, "removed", *removed),
                ClassChange::Moved {
                    clone_type,
                    lines,
                    moved,
                    from,
                    to,
                } => {
                    let mut out = summary(*clone_type, *lines, "moved", *moved);
                    out["from"] = json!(from);
                    out["to"] = json!(to);
                    out
                }
                ClassChange::Accepted { reason } => json!({ "reason": reason }),
                ClassChange::Dissolved | ClassChange::Unaccepted => json!({}),
            };
            out.as_object_mut()
                .unwrap()
                .extend(details.as_object().unwrap().clone());
            out
        })
        .collect();
    Ok(json!({
        "class": class_json(
            &class,
            json!({
                "copies_total": class.copies.len(),
                "copies_truncated": class.copies.len() > limit,
                "copy_list": copies_json(class.copies.iter(), limit),
            }),
        ),
        "history_total": history.len(),
        "history_truncated": history.len() > limit,
        "history": events,
    }))
}

fn summary(clone_type: CloneType, lines: u32, counted: &str, n: usize) -> Value {
    json!({ "clone_type": clone_type.as_str(), "lines": lines, counted: n })
}

fn stats(server: &mut Server<'_>, catalogue: &Catalogue) -> Result<Value> {
    let warnings = RefCell::new(Vec::new());
    let stats = catalogue.stats(&|w| warnings.borrow_mut().push(w.to_string()));
    for warning in warnings.into_inner() {
        server.log(&warning);
    }
    let stats = stats?;
    let languages: Map<String, Value> = stats
        .languages
        .iter()
        .map(|(id, l)| {
            (
                id.clone(),
                json!({ "files": l.files, "lines": l.lines, "units": l.units }),
            )
        })
        .collect();
    Ok(json!({
        "files": stats.files,
        "lines": stats.lines,
        "units": stats.units,
        "clone_classes": stats.patterns,
        "duplicated_lines": stats.duplicated_lines,
        "duplicated_share": round3(stats.duplicated_share),
        "files_with_syntax_errors": stats.files_with_syntax_errors,
        "languages": languages,
        "skipped": stats.skipped,
    }))
}

/// The check `cpt check --diff REV` (or `--base REV`) runs, with the root's `cpt.toml`: its
/// filter, duplication bar and baseline; failing on new classes.
fn check_diff(catalogue: &Catalogue, diff: DiffBase, limit: usize) -> Result<Value> {
    let request = CheckRequest {
        fail_on: Some(FailOn::New),
        diff: Some(diff),
        ..catalogue.configured_check()?
    };
    let report = catalogue.check(&request)?;
    let changes = report.diff.clone().unwrap_or_default();
    let failing: Vec<&CheckedClass> = report.failing().collect();
    let shown: Vec<Value> = failing
        .iter()
        .take(limit)
        .map(|c| {
            let why = report.why(c);
            let copies = &c.class.copies;
            let in_change = |i: &usize| c.touched && c.findings.contains(i);
            let (changed, others): (Vec<usize>, Vec<usize>) =
                (0..copies.len()).partition(in_change);
            class_json(
                &c.class,
                json!({
                    "why": why,
                    "in_change": copies_json(changed.iter().map(|&i| &copies[i]), limit),
                    "elsewhere": copies_json(others.iter().map(|&i| &copies[i]), limit),
                }),
            )
        })
        .collect();
    let d = &report.duplication;
    Ok(json!({
        "passed": report.passed(),
        "rev": changes.rev,
        "commit": changes.commit,
        "changed_lines": changes.lines(),
        "changed_files": changes.ranges.len(),
        "untracked_files": changes.untracked.len(),
        "duplication": {
            "lines": d.lines,
            "duplicated_lines": d.duplicated_lines,
            "share": round3(d.share),
            "max": d.max,
            "fails": d.fails,
        },
        "total": failing.len(),
        "truncated": failing.len() > limit,
        "failing": shown,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_root_with_slashes() {
        let root = Path::new("/repo");
        assert_eq!(relative(root, "src/a.py").unwrap(), "src/a.py");
        assert_eq!(relative(root, "./src//a.py").unwrap(), "src/a.py");
        assert_eq!(relative(root, "/repo/src/a.py").unwrap(), "src/a.py");
        assert!(relative(root, "../other/a.py").is_err());
        assert!(relative(root, "/elsewhere/a.py").is_err());
    }

    #[test]
    fn every_tool_is_read_only_and_has_both_schemas() {
        for tool in list().as_array().unwrap() {
            assert_eq!(tool["annotations"]["readOnlyHint"], true);
            assert_eq!(tool["inputSchema"]["additionalProperties"], false);
            assert_eq!(tool["outputSchema"]["type"], "object");
        }
    }
}
