//! Reports for CI and code review, shared by `cpt clones` and `cpt check`: SARIF 2.1.0 (code
//! scanning), GNU problem lines (problem matchers), GitHub workflow commands (annotations) and
//! Markdown (a pull-request comment). Each names *flagged copies*: every copy for `clones`,
//! the new copies of failing classes for `check`.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use crate::engine::view::{Class, CloneType, Copy};

/// GitHub shows at most this many results of a SARIF run.
pub const MAX_RESULTS: usize = 5_000;
/// GitHub keeps at most this many locations of one result.
pub const MAX_RELATED: usize = 1_000;

/// A class as a CI report names it: which of its copies to flag, and why it is flagged.
pub struct Flagged<'a> {
    pub class: &'a Class,
    /// Indices into `class.copies`.
    pub copies: Vec<usize>,
    /// Why, in a few words (`new since origin/main`); empty for `cpt clones`.
    pub why: String,
}

impl<'a> Flagged<'a> {
    /// Every copy of `class`, for `cpt clones`.
    pub fn all(class: &'a Class) -> Flagged<'a> {
        Flagged {
            class,
            copies: (0..class.copies.len()).collect(),
            why: String::new(),
        }
    }

    fn others(&self, index: usize) -> impl Iterator<Item = &'a Copy> + '_ {
        self.class
            .copies
            .iter()
            .enumerate()
            .filter(move |(j, _)| *j != index)
            .map(|(_, c)| c)
    }
}

fn rule_id(t: CloneType) -> &'static str {
    match t {
        CloneType::T1 => "cpt/T1",
        CloneType::T2 => "cpt/T2",
        CloneType::T3 => "cpt/T3",
    }
}

fn type_words(t: CloneType) -> &'static str {
    match t {
        CloneType::T1 => "Exact copy",
        CloneType::T2 => "Renamed copy",
        CloneType::T3 => "Near-miss copy",
    }
}

/// What the copy is: `function merge_ranges`, or `block`.
fn what(class: &Class, copy: &Copy) -> String {
    if copy.name.is_empty() {
        class.kind.as_str().to_string()
    } else {
        format!("{} {}", class.kind.as_str(), copy.name)
    }
}

/// The sentence every format says of one flagged copy, before where the others are.
fn headline(f: &Flagged<'_>, copy: &Copy) -> String {
    let class = f.class;
    let mut s = format!(
        "{} ({}) of {}, {} lines, {} copies",
        type_words(class.clone_type),
        class.clone_type.as_str(),
        what(class, copy),
        class.lines,
        class.copies.len()
    );
    s.push_str(&super::text::similar_suffix(class));
    if !f.why.is_empty() {
        s.push_str(", ");
        s.push_str(&f.why);
    }
    s
}

/// `path:line` of a copy.
fn at(copy: &Copy) -> String {
    format!("{}:{}", copy.path, copy.start_line)
}

/// GNU problem lines: `FILE:LINE:1: warning: MESSAGE`, one per flagged copy.
pub fn gnu(out: &mut dyn Write, flagged: &[Flagged<'_>]) -> io::Result<()> {
    for f in flagged {
        for &i in &f.copies {
            let copy = &f.class.copies[i];
            writeln!(out, "{}", gnu_line(f.class, copy, f.others(i), &f.why))?;
        }
    }
    Ok(())
}

/// One GNU problem line (also `cpt watch --format gnu`'s).
pub(crate) fn gnu_line<'c>(
    class: &Class,
    copy: &Copy,
    others: impl Iterator<Item = &'c Copy>,
    why: &str,
) -> String {
    let others: Vec<String> = others.map(at).collect();
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(", {why}")
    };
    format!(
        "{}:{}:1: warning: {} clone {} ({}){why}: also at {}",
        copy.path,
        copy.start_line,
        class.clone_type.as_str(),
        class.id,
        if copy.name.is_empty() {
            class.kind.as_str()
        } else {
            &copy.name
        },
        others.join(", ")
    )
}

/// GitHub Actions workflow commands: a `::warning` annotation per flagged copy, on its lines.
pub fn github(out: &mut dyn Write, flagged: &[Flagged<'_>]) -> io::Result<()> {
    for f in flagged {
        for &i in &f.copies {
            let copy = &f.class.copies[i];
            let others: Vec<String> = f.others(i).map(at).collect();
            let message = format!("{}; also at {}", headline(f, copy), others.join(", "));
            writeln!(
                out,
                "::warning file={},line={},endLine={},title={}::{}",
                escape_property(&copy.path),
                copy.start_line,
                copy.end_line,
                escape_property(&format!(
                    "cpt: {} clone {}",
                    f.class.clone_type.as_str(),
                    f.class.id
                )),
                escape_data(&message)
            )?;
        }
    }
    Ok(())
}

/// A workflow command's message: `%`, CR and LF escaped.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: the message's escapes, and `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A short Markdown summary for a pull-request comment: a title line (given), then a table of
/// the flagged classes (at most `limit` rows).
pub fn markdown(
    out: &mut dyn Write,
    title: &str,
    summary: &[String],
    flagged: &[Flagged<'_>],
    limit: usize,
) -> io::Result<()> {
    writeln!(out, "### {title}")?;
    writeln!(out)?;
    for line in summary {
        writeln!(out, "- {line}")?;
    }
    if !summary.is_empty() {
        writeln!(out)?;
    }
    if flagged.is_empty() {
        return Ok(());
    }
    writeln!(out, "| type | class | size | copies |")?;
    writeln!(out, "|---|---|---|---|")?;
    for f in flagged.iter().take(limit) {
        let class = f.class;
        let mut copies: Vec<String> = Vec::new();
        for (i, c) in class.copies.iter().enumerate() {
            let mark = if f.copies.contains(&i) && f.copies.len() < class.copies.len() {
                " (new)"
            } else {
                ""
            };
            copies.push(format!("`{}-{}`{mark}", md_code(&at(c)), c.end_line));
        }
        let name = class
            .copies
            .iter()
            .map(|c| c.name.as_str())
            .find(|n| !n.is_empty())
            .map(|n| format!(" `{}`", md_code(n)))
            .unwrap_or_default();
        writeln!(
            out,
            "| {} | `{}` {}{name} | {} lines{} | {} |",
            class.clone_type.as_str(),
            class.id,
            class.kind.as_str(),
            class.lines,
            super::text::similar_suffix(class),
            copies.join("<br>")
        )?;
    }
    if flagged.len() > limit {
        writeln!(out)?;
        writeln!(
            out,
            "…and {} more classes (`cpt check` lists them all).",
            flagged.len() - limit
        )?;
    }
    Ok(())
}

/// Text inside a Markdown code span in a table cell: no backticks, no pipes.
fn md_code(s: &str) -> String {
    s.replace('`', "'").replace('|', "\\|")
}

/// SARIF 2.1.0, one run: a result per flagged copy (rule by clone type, the class id in
/// `partialFingerprints`), the class's other copies as related locations linked from the
/// message, URIs relative to `%SRCROOT%` (the scanned root). GitHub's limits are kept; what
/// had to be left out is returned as warnings (and noted in the run's invocation).
pub fn sarif(
    out: &mut dyn Write,
    root: &std::path::Path,
    flagged: &[Flagged<'_>],
) -> io::Result<Vec<String>> {
    let mut warnings = Vec::new();
    let total: usize = flagged.iter().map(|f| f.copies.len()).sum();
    if total > MAX_RESULTS {
        warnings.push(format!(
            "SARIF: {total} flagged copies, only the first {MAX_RESULTS} written (GitHub's limit); \
             the largest classes come first"
        ));
    }
    let mut written = 0;
    for f in flagged {
        if written >= MAX_RESULTS {
            break;
        }
        written += f.copies.len();
        let others = f.class.copies.len() - 1;
        if others > MAX_RELATED && !f.copies.is_empty() {
            warnings.push(format!(
                "SARIF: class {} has {} copies; each result links {MAX_RELATED} of the others \
                 (GitHub's limit)",
                f.class.id,
                others + 1
            ));
        }
    }
    let notifications: Vec<Value> = warnings
        .iter()
        .map(|w| json!({"level": "warning", "message": {"text": w}}))
        .collect();
    let mut root_uri = String::from("file://");
    let absolute = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    root_uri.push_str(&percent_encode(&absolute.to_string_lossy()));
    if !root_uri.ends_with('/') {
        root_uri.push('/');
    }
    // Fields in the order a `Value` would sort them; results are made one at a time as they
    // are written, so a report of every copy of a large tree is never held whole.
    let doc = SarifDoc {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [SarifRun {
            invocations: json!([{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }]),
            original_uri_base_ids: json!({"%SRCROOT%": {"uri": root_uri}}),
            results: SarifResults(flagged),
            tool: json!({"driver": {
                "name": "cpt",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": [rule(CloneType::T1), rule(CloneType::T2), rule(CloneType::T3)],
            }}),
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(warnings)
}

#[derive(Serialize)]
struct SarifDoc<'a, 'c> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [SarifRun<'a, 'c>; 1],
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRun<'a, 'c> {
    invocations: Value,
    original_uri_base_ids: Value,
    results: SarifResults<'a, 'c>,
    tool: Value,
}

/// The results of the flagged copies, at most [`MAX_RESULTS`], each made as it is written.
struct SarifResults<'a, 'c>(&'a [Flagged<'c>]);

impl Serialize for SarifResults<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        let copies = self
            .0
            .iter()
            .flat_map(|f| f.copies.iter().map(move |&i| (f, i)));
        for (f, i) in copies.take(MAX_RESULTS) {
            seq.serialize_element(&sarif_result(f, i))?;
        }
        seq.end()
    }
}

fn rule(t: CloneType) -> Value {
    let (name, short, full) = match t {
        CloneType::T1 => (
            "ExactCopy",
            "Exact copy of code elsewhere",
            "The same code, token for token (layout and comments aside), appears elsewhere.",
        ),
        CloneType::T2 => (
            "RenamedCopy",
            "Renamed copy of code elsewhere",
            "The same code with names or literal values changed appears elsewhere.",
        ),
        CloneType::T3 => (
            "NearMissCopy",
            "Near-miss copy of code elsewhere",
            "A copy of code elsewhere with statements added, removed or changed (and names \
             possibly renamed).",
        ),
    };
    json!({
        "id": rule_id(t),
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {
            "text": "Duplicated code is changed in one place and forgotten in the other. Extract \
                     the shared code into one function, or, if the copies must stay, accept the \
                     class: `cpt accept ID --reason TEXT` (recorded in cpt-accepted.toml), or \
                     mark the code with a `cpt: ignore` comment.",
            "markdown": "Duplicated code is changed in one place and forgotten in the other. \
                         Extract the shared code into one function, or, if the copies must stay, \
                         accept the class with `cpt accept ID --reason TEXT` (recorded in \
                         `cpt-accepted.toml`), or mark the code with a `cpt: ignore` comment.",
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["maintainability", "duplicate-code"], "precision": "high"},
    })
}

fn rule_index(t: CloneType) -> usize {
    match t {
        CloneType::T1 => 0,
        CloneType::T2 => 1,
        CloneType::T3 => 2,
    }
}

fn location(copy: &Copy) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": percent_encode(&copy.path), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": copy.start_line.max(1), "endLine": copy.end_line.max(copy.start_line).max(1)},
        }
    })
}

fn sarif_result(f: &Flagged<'_>, index: usize) -> Value {
    let class = f.class;
    let copy = &class.copies[index];
    let others: Vec<&Copy> = f.others(index).collect();
    let kept = others.len().min(MAX_RELATED);
    let links: Vec<String> = others[..kept]
        .iter()
        .enumerate()
        .map(|(n, o)| format!("[{}]({})", sarif_escape(&at(o)), n + 1))
        .collect();
    let mut text = format!(
        "{}: also at {}",
        sarif_escape(&headline(f, copy)),
        links.join(", ")
    );
    if others.len() > kept {
        text.push_str(&format!(" and {} more", others.len() - kept));
    }
    let related: Vec<Value> = others[..kept]
        .iter()
        .enumerate()
        .map(|(n, o)| {
            let mut loc = location(o);
            loc["id"] = json!(n + 1);
            loc["message"] = json!({"text": format!("copy: {}", what(class, o))});
            loc
        })
        .collect();
    json!({
        "ruleId": rule_id(class.clone_type),
        "ruleIndex": rule_index(class.clone_type),
        "level": "warning",
        "message": {"text": text},
        "locations": [location(copy)],
        "relatedLocations": related,
        "partialFingerprints": {
            "cptClass/v1": class.id.to_string(),
            "cptCopy/v1": format!("{}:{:016x}", class.id, copy.exact),
        },
        "properties": {
            "cloneType": class.clone_type.as_str(),
            "classId": class.id.to_string(),
            "copies": class.copies.len(),
            "lines": class.lines,
            "tokens": class.tokens,
            "similarity": super::round3(class.similarity),
        },
    })
}

/// Plain text inside a SARIF message with links: brackets and backslashes escaped.
fn sarif_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A path as a URI reference: unreserved characters and `/` as they are, every other byte
/// percent-encoded.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::view::{PatternId, UnitKind};

    fn class(copies: usize) -> Class {
        Class {
            id: PatternId(0xabc),
            kind: UnitKind::Function,
            clone_type: CloneType::T2,
            lines: 12,
            tokens: 90,
            similarity: 1.0,
            copies: (0..copies)
                .map(|i| Copy {
                    path: format!("src/a b{i}.py"),
                    lang: "python".into(),
                    name: "f[i]".into(),
                    start_line: 3,
                    end_line: 14,
                    similarity: 1.0,
                    exact: i as u64,
                })
                .collect(),
            accepted: None,
        }
    }

    #[test]
    fn sarif_keeps_githubs_limits_and_says_so() {
        let big = class(MAX_RELATED + 2);
        // Two copies flagged, as `check` flags the new ones (all of them would be a million
        // related locations).
        let flagged = vec![Flagged {
            copies: vec![0, 1],
            ..Flagged::all(&big)
        }];
        let mut out = Vec::new();
        let warnings = sarif(&mut out, std::path::Path::new("/tmp/x y"), &flagged).unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(
            results[0]["relatedLocations"].as_array().unwrap().len(),
            MAX_RELATED
        );
        assert!(
            results[0]["message"]["text"]
                .as_str()
                .unwrap()
                .ends_with(" and 1 more")
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(
            results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "src/a%20b0.py"
        );
        assert_eq!(
            doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///tmp/x%20y/"
        );
        assert!(
            results[1]["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Renamed copy (T2) of function f\\[i\\], 12 lines"),
            "{}",
            results[1]["message"]["text"]
        );
        let many: Vec<Class> = (0..MAX_RESULTS / 2 + 1).map(|_| class(2)).collect();
        let flagged: Vec<Flagged<'_>> = many.iter().map(Flagged::all).collect();
        let mut out = Vec::new();
        let warnings = sarif(&mut out, std::path::Path::new("/r"), &flagged).unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            doc["runs"][0]["results"].as_array().unwrap().len(),
            MAX_RESULTS
        );
        assert!(
            warnings[0].contains("only the first 5000 written"),
            "{warnings:?}"
        );
    }

    #[test]
    fn workflow_commands_escape_their_data_and_properties() {
        assert_eq!(escape_data("50% a\nb"), "50%25 a%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        let c = class(2);
        let mut out = Vec::new();
        github(&mut out, &[Flagged::all(&c)]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "::warning file=src/a b0.py,line=3,endLine=14,title=cpt%3A T2 clone 0000000000000abc::\
                 Renamed copy (T2) of function f[i], 12 lines, 2 copies; also at src/a b1.py:3\n"
            ),
            "{text}"
        );
    }
}
