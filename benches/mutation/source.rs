//! Candidate functions: function-level units of real source files that are 8–60 lines long,
//! free of syntax errors, and parse alone once planted.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use cpt::fingerprint::{self, Thresholds};
use cpt::parse::lang::{Language, UnitKind};

use super::mutate::DONOR_MAX_LINES;
use super::names::{self, Names};
use super::plant::Parsed;
use super::syntax::{self, is_function_like};

/// Function length range, in lines, of the originals.
pub const MIN_LINES: u32 = 8;
pub const MAX_LINES: u32 = 60;
/// Statements the body of an original needs at least: type-3 edits leave the first and last
/// alone, and a body of one statement is an accessor or a delegation that detectors rightly
/// treat as noise.
pub const MIN_STATEMENTS: usize = 3;

/// A candidate original.
#[derive(Clone, Debug)]
pub struct Func {
    pub lang: &'static Language,
    pub kind: UnitKind,
    /// `file:line` where it came from.
    pub origin: String,
    /// Its text, re-indented so that it stands at column 0.
    pub text: String,
    /// Hashed raw tokens, for the near-copy check.
    pub codes: Vec<u32>,
    /// What renaming mutants it allows ([`names`]).
    pub can: Can,
}

/// Which renaming mutants a function allows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Can {
    /// It has a local that a rename may change without spelling out a shorthand.
    pub rename: bool,
    /// It has a local that shares its name with a member: a name-collision copy.
    pub collide: bool,
    /// It can be renamed and has two adjacent independent statements to swap.
    pub swap: bool,
}

impl Can {
    fn of(p: &Parsed) -> Can {
        let (node, source) = (p.node(), p.source());
        let locals = Names::new(p.lang, node, source).locals();
        let rename = locals.iter().any(|l| !l.shorthand);
        let statements = syntax::statements(p.lang, node, source, false);
        Can {
            rename,
            collide: locals.iter().any(|l| l.member || l.shorthand),
            swap: rename
                && !names::swappable_pairs(p.lang, node, source, &statements, DONOR_MAX_LINES)
                    .is_empty(),
        }
    }
}

impl Func {
    pub fn parse(&self) -> Option<Parsed> {
        Parsed::new(self.lang, self.kind, &self.text)
    }
}

/// What reading one file gave, with the reasons functions were left out.
#[derive(Debug, Default)]
pub struct FileFunctions {
    pub funcs: Vec<Func>,
    pub unreadable: usize,
    pub syntax_errors: usize,
    pub nested: usize,
    pub few_statements: usize,
    pub not_alone: usize,
}

/// Source files of `lang` under `dir`, sorted. Hidden directories and `site-packages` (third
/// party code inside a Python installation) are left out.
pub fn files(dir: &Path, lang: &Language) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let entries = std::fs::read_dir(&current)
            .with_context(|| format!("cannot read directory {}", current.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", current.display()))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot stat {}", path.display()))?;
            if kind.is_dir() {
                if name != "site-packages" {
                    stack.push(path);
                }
            } else if kind.is_file()
                && cpt::parse::lang::for_path(&path).is_some_and(|l| l.id == lang.id)
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The candidate functions of one file; `label` names the file in `origin`.
pub fn functions_in(lang: &'static Language, path: &Path, label: &str) -> FileFunctions {
    let mut found = FileFunctions::default();
    let Ok(source) = std::fs::read(path) else {
        found.unreadable = 1;
        return found;
    };
    let (Ok(text), Ok(tree)) = (
        std::str::from_utf8(&source),
        cpt::parse::parse(lang, &source),
    ) else {
        found.unreadable = 1;
        return found;
    };
    let print = fingerprint::fingerprint(lang, &tree, &source, Thresholds::default());
    let spans: Vec<(usize, usize, u32, UnitKind)> = print
        .units
        .iter()
        .filter(|u| {
            is_function_like(u.kind) && (MIN_LINES..=MAX_LINES).contains(&u.lines_spanned())
        })
        .map(|u| {
            (
                u.start_byte as usize,
                u.end_byte as usize,
                u.start_line,
                u.kind,
            )
        })
        .collect();
    for &(start, end, line, kind) in &spans {
        if spans
            .iter()
            .any(|&(s, e, ..)| (s, e) != (start, end) && s <= start && end <= e)
        {
            found.nested += 1;
            continue;
        }
        let Some(node) = syntax::unit_node(lang, &tree, start, end) else {
            continue;
        };
        if node.has_error() {
            found.syntax_errors += 1;
            continue;
        }
        if syntax::body_block(lang, node)
            .is_none_or(|body| syntax::block_statements(lang, body).len() < MIN_STATEMENTS)
        {
            found.few_statements += 1;
            continue;
        }
        let func = Func {
            lang,
            kind,
            origin: format!("{label}:{line}"),
            text: standalone_text(text, start, end),
            codes: syntax::token_codes(lang, node, &source),
            can: Can::default(),
        };
        match func.parse() {
            Some(parsed) => found.funcs.push(Func {
                can: Can::of(&parsed),
                ..func
            }),
            None => found.not_alone += 1,
        }
    }
    found
}

/// Line count of a unit (1-based inclusive lines).
trait LinesSpanned {
    fn lines_spanned(&self) -> u32;
}

impl LinesSpanned for fingerprint::UnitPrint {
    fn lines_spanned(&self) -> u32 {
        self.end_line + 1 - self.start_line
    }
}

/// The text of `start..end` moved to column 0: the first line starts at the function itself
/// (anything before it on that line, such as `export`, is left behind) and the other lines
/// lose the indentation they share with the first line's, so Python's indentation structure
/// is kept relative to the `def` line. Carriage returns are dropped.
pub fn standalone_text(source: &str, start: usize, end: usize) -> String {
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = leading_whitespace(&source[line_start..start]);
    let text = source[start..end].replace('\r', "");
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    let rest: Vec<&str> = lines.collect();
    let common = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| leading_whitespace(l))
        .fold(indent, common_prefix);
    let mut out = String::from(first);
    for line in rest {
        out.push('\n');
        if !line.trim().is_empty() {
            out.push_str(&line[common.len()..]);
        }
    }
    out
}

pub fn leading_whitespace(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

fn common_prefix<'a>(a: &'a str, b: &'a str) -> &'a str {
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    &a[..n]
}
