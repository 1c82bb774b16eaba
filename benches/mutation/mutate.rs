//! The mutators. Each works on a function planted alone ([`Parsed`]) and checks its result
//! with cpt's own fingerprint, so every mutant is what its category says:
//! - type 1: same exact hash (only layout and comments changed);
//! - type 2: same shape hash, different exact hash (renamed identifiers, other literals);
//! - type 3: line similarity inside the band, and a different shape hash (so it is never a
//!   type-2 copy in disguise), from statement edits away from the function's edges.

use std::collections::{BTreeSet, HashSet};

use cpt::lang::NodeClass;

use super::plant::{self, Parsed};
use super::rng::Rng;
use super::similarity::{LcsPattern, line_similarity};
use super::source::{Func, leading_whitespace};
use super::syntax::{self, Atom, Statement};

/// Fresh random edits tried before a type-1 or type-2 mutation gives up on a function.
const ATTEMPTS: usize = 8;
/// Type-3 edit sequences tried (a sequence ends when it overshoots the band).
const T3_SEQUENCES: usize = 6;
/// Edits per type-3 sequence.
const T3_STEPS: usize = 60;
/// Rejected edits (syntax errors, nothing to edit) before a sequence gives up.
const T3_REJECTS: usize = 20;
/// Donor statements are at most this many lines, so one edit stays one edit.
const DONOR_MAX_LINES: usize = 3;
/// Planted functions (and donors) must be less similar than this to each other (raw-token
/// LCS ratio)...
pub const UNRELATED: f64 = 0.5;
/// ...and no more than this share of the shorter one's tokens may recur in the longer.
pub const UNCONTAINED: f64 = 0.7;

/// Comment texts for type-1 copies (never cpt's `cpt: ignore` marker).
const PHRASES: &[&str] = &[
    "note",
    "see above",
    "keep in sync",
    "checked",
    "TODO: review",
];
/// Stems of fresh identifiers.
const NAME_STEMS: &[&str] = &[
    "amber", "birch", "cedar", "dune", "ember", "fjord", "grove", "heron", "iris", "juniper",
    "kestrel", "lotus", "maple", "nectar", "orchid", "pebble",
];
/// Replacement string contents.
const STRING_WORDS: &[&str] = &[
    "planted",
    "changed",
    "other value",
    "mutated text",
    "sample",
];
/// Operators a type-3 edit may swap for another of the same group.
const OPERATOR_GROUPS: &[&[&str]] = &[
    &["+", "-"],
    &["*", "/"],
    &["<", ">", "<=", ">="],
    &["==", "!="],
    &["&&", "||"],
    &["and", "or"],
    &["+=", "-="],
    &["&", "|"],
];

/// A replacement of `start..end` (bytes of the function text) by `text`.
#[derive(Clone, Debug)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl Edit {
    fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit {
            start: at,
            end: at,
            text: text.into(),
        }
    }
}

/// Apply non-overlapping edits (an edit overlapping one later in the text is dropped).
pub fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse((e.start, e.end)));
    let mut out = text.to_string();
    let mut limit = text.len();
    for edit in edits {
        if edit.end > limit {
            continue;
        }
        out.replace_range(edit.start..edit.end, &edit.text);
        limit = edit.start;
    }
    out
}

/// The atoms (tokens and comments) of the function, as offsets into its text.
fn text_atoms(p: &Parsed) -> Vec<Atom> {
    let base = p.start();
    syntax::atoms(p.lang, p.node())
        .into_iter()
        .map(|a| Atom {
            start: a.start - base,
            end: a.end - base,
            ..a
        })
        .collect()
}

/// A type-1 copy: blank lines, comment lines, trailing comments and extra spaces between
/// tokens, never inside a token or comment and never at the start of a line (Python's
/// indentation is untouched).
pub fn type1(orig: &Parsed, rng: &mut Rng) -> Option<Parsed> {
    (0..ATTEMPTS).find_map(|_| {
        let text = apply(orig.text(), layout_edits(orig, rng));
        let copy = Parsed::new(orig.lang, orig.kind, &text)?;
        (text != orig.text() && copy.unit.exact == orig.unit.exact).then_some(copy)
    })
}

fn layout_edits(orig: &Parsed, rng: &mut Rng) -> Vec<Edit> {
    let text = orig.text();
    let comment = plant::style(orig.lang).line_comment;
    let atoms = text_atoms(orig);
    let mut inside = vec![false; text.len() + 1];
    for a in &atoms {
        inside[a.start + 1..a.end]
            .iter_mut()
            .for_each(|b| *b = true);
    }
    let newlines: Vec<usize> = text
        .match_indices('\n')
        .map(|(i, _)| i)
        .filter(|&i| !inside[i])
        .collect();
    let mut edits = Vec::new();
    let blank = rng.between(1, 2);
    for i in rng.sample(&newlines, blank) {
        edits.push(Edit::insert(i + 1, "\n"));
    }
    let comment_lines = rng.between(1, 2);
    for i in rng.sample(&newlines, comment_lines) {
        // Indented like the next line with code on it.
        let next = text[i + 1..]
            .split('\n')
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        let phrase = rng.pick(PHRASES).copied().unwrap_or("note");
        let indent = leading_whitespace(next);
        edits.push(Edit::insert(i + 1, format!("{indent}{comment} {phrase}\n")));
    }
    // A trailing comment on a C preprocessor line would become part of the directive.
    let trailing: Vec<usize> = newlines
        .iter()
        .copied()
        .filter(|&i| {
            let line = text[..i].rsplit('\n').next().unwrap_or_default().trim();
            !line.is_empty() && (comment == "#" || !line.starts_with('#'))
        })
        .collect();
    let trailing_count = rng.between(0, 2);
    for i in rng.sample(&trailing, trailing_count) {
        let phrase = rng.pick(PHRASES).copied().unwrap_or("note");
        edits.push(Edit::insert(i, format!(" {comment} {phrase}")));
    }
    let mut gaps: Vec<usize> = atoms
        .windows(2)
        .filter(|w| w[0].end <= w[1].start && !text[w[0].end..w[1].start].contains('\n'))
        .map(|w| w[1].start)
        .collect();
    gaps.dedup();
    let spaces = rng.between(2, 5);
    for at in rng.sample(&gaps, spaces) {
        edits.push(Edit::insert(at, " "));
    }
    edits
}

/// A type-2 copy: two to four identifiers renamed at every occurrence, and one or two
/// literals given other values of the same kind.
pub fn type2(orig: &Parsed, rng: &mut Rng) -> Option<Parsed> {
    let text = orig.text();
    let atoms = text_atoms(orig);
    let identifiers: Vec<&str> = atoms
        .iter()
        .filter(|a| a.class == NodeClass::Identifier)
        .map(|a| &text[a.start..a.end])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let taken: HashSet<&str> = atoms.iter().map(|a| &text[a.start..a.end]).collect();
    let literals: Vec<&Atom> = atoms
        .iter()
        .filter(|a| a.class == NodeClass::Literal)
        .collect();
    (0..ATTEMPTS).find_map(|_| {
        let count = rng.between(2, 4);
        let renamed = rng.sample(&identifiers, count);
        let mut used: HashSet<String> = taken.iter().map(|s| s.to_string()).collect();
        let fresh: Vec<String> = renamed.iter().map(|_| fresh_name(rng, &mut used)).collect();
        let mut edits: Vec<Edit> = atoms
            .iter()
            .filter(|a| a.class == NodeClass::Identifier)
            .filter_map(|a| {
                let k = renamed.iter().position(|r| *r == &text[a.start..a.end])?;
                Some(Edit {
                    start: a.start,
                    end: a.end,
                    text: fresh[k].clone(),
                })
            })
            .collect();
        let changes = rng.between(1, 2);
        for a in rng.sample(&literals, changes) {
            if let Some(value) = change_literal(&text[a.start..a.end], rng) {
                edits.push(Edit {
                    start: a.start,
                    end: a.end,
                    text: value,
                });
            }
        }
        let copy = Parsed::new(orig.lang, orig.kind, &apply(text, edits))?;
        (copy.unit.shape == orig.unit.shape && copy.unit.exact != orig.unit.exact).then_some(copy)
    })
}

/// An identifier that is in `used` nowhere, added to it.
fn fresh_name(rng: &mut Rng, used: &mut HashSet<String>) -> String {
    loop {
        let stem = rng.pick(NAME_STEMS).copied().unwrap_or("name");
        let name = format!("{stem}{}", rng.between(2, 99));
        if used.insert(name.clone()) {
            return name;
        }
    }
}

/// Another value of the same literal kind: a number with one digit changed (suffixes and
/// radix prefixes kept), or a string with other contents in the same quotes.
pub fn change_literal(text: &str, rng: &mut Rng) -> Option<String> {
    let first = text.chars().next()?;
    if first.is_ascii_digit() {
        change_number(text, rng)
    } else {
        let quote = text.find(['"', '\'', '`'])?;
        change_string(text, quote, rng)
    }
}

fn change_number(text: &str, rng: &mut Rng) -> Option<String> {
    let bytes = text.as_bytes();
    let radix = bytes.len() > 2 && bytes[0] == b'0' && b"xXbBoO".contains(&bytes[1]);
    let binary = radix && b"bB".contains(&bytes[1]);
    let mut last = None;
    for (i, &b) in bytes.iter().enumerate().skip(if radix { 2 } else { 0 }) {
        if b.is_ascii_digit() {
            last = Some(i);
        } else if !(b == b'_' || b == b'.' || (radix && b.is_ascii_hexdigit())) {
            break;
        }
    }
    let i = last?;
    let old = bytes[i];
    // Digits 1–7 are valid in every radix but binary; binary digits flip.
    let new = if binary {
        if old == b'0' { b'1' } else { b'0' }
    } else {
        loop {
            let digit = b'1' + rng.below(7) as u8;
            if digit != old {
                break digit;
            }
        }
    };
    let mut out = text.to_string();
    out.replace_range(i..=i, &char::from(new).to_string());
    Some(out)
}

fn change_string(text: &str, quote_at: usize, rng: &mut Rng) -> Option<String> {
    let quote = text.as_bytes()[quote_at];
    // C++ raw strings carry their own delimiters.
    if text[..quote_at].contains('R') {
        return None;
    }
    let run = text.as_bytes()[quote_at..]
        .iter()
        .take_while(|&&b| b == quote)
        .count();
    let delimiter = if run >= 3 { 3 } else { 1 };
    let open_end = quote_at + delimiter;
    let hashes = text.len() - text.trim_end_matches('#').len(); // Rust raw strings: "…"#
    let close_start = text.len().checked_sub(hashes + delimiter)?;
    if close_start < open_end
        || !text.as_bytes()[close_start..text.len() - hashes]
            .iter()
            .all(|&b| b == quote)
    {
        return None;
    }
    let content = &text[open_end..close_start];
    let single_char = quote == b'\''
        && (content.chars().count() == 1 || (content.starts_with('\\') && content.len() == 2));
    let core = if single_char {
        ["q", "x", "z"]
            .into_iter()
            .find(|c| *c != content)
            .unwrap_or("q")
            .to_string()
    } else {
        let word = rng.pick(STRING_WORDS).copied().unwrap_or("planted");
        if word == content.trim() {
            format!("{word}2")
        } else {
            word.to_string()
        }
    };
    // Keep the whitespace around the contents (Java text blocks need their newlines).
    let new_content = if content.trim().is_empty() || single_char {
        core
    } else {
        let lead = content.len() - content.trim_start().len();
        let trail = content.len() - content.trim_end().len();
        format!(
            "{}{core}{}",
            &content[..lead],
            &content[content.len() - trail..]
        )
    };
    Some(format!(
        "{}{new_content}{}",
        &text[..open_end],
        &text[close_start..]
    ))
}

/// Where type-3 edits get inserted statements from: other functions of the language.
pub struct Donors<'a> {
    pub funcs: &'a [Func],
    /// The original's tokens: donors must be unrelated to it.
    pub original: &'a LcsPattern,
}

impl Donors<'_> {
    /// A whole-line statement of an unrelated function, as lines relative to its own
    /// indentation.
    fn statement(&self, rng: &mut Rng) -> Option<Vec<String>> {
        for _ in 0..4 {
            let func = rng.pick(self.funcs)?;
            if self.original.related(&func.codes, UNRELATED, UNCONTAINED) {
                continue;
            }
            let Some(donor) = func.parse() else {
                continue;
            };
            let source = donor.source();
            let candidates: Vec<Statement> =
                syntax::statements(donor.lang, donor.node(), source, true)
                    .into_iter()
                    .filter(|s| s.lines(source) <= DONOR_MAX_LINES)
                    .collect();
            let Some(s) = rng.pick(&candidates) else {
                continue;
            };
            return Some(
                source[s.line_start..s.line_end]
                    .lines()
                    .map(|l| l.strip_prefix(s.indent.as_str()).unwrap_or(l).to_string())
                    .collect(),
            );
        }
        None
    }
}

/// Donor lines at `indent`, each ending in a newline.
fn reindent(lines: &[String], indent: &str) -> String {
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                "\n".to_string()
            } else {
                format!("{indent}{l}\n")
            }
        })
        .collect()
}

/// A type-3 copy whose line similarity to the original is in `[low, high)`, with its
/// similarity. Random statement edits are applied one at a time until the similarity falls
/// to a random target inside the band (so copies spread over the band rather than bunch at
/// its top); a sequence that overshoots the band is abandoned and a new one started.
pub fn type3(
    orig: &Parsed,
    (low, high): (f64, f64),
    donors: &Donors<'_>,
    rng: &mut Rng,
) -> Option<(Parsed, f64)> {
    let base = orig.normalized_lines();
    for _ in 0..T3_SEQUENCES {
        let target = low + (high - low) * rng.unit();
        let mut current = Parsed::new(orig.lang, orig.kind, orig.text())?;
        let mut rejects = 0;
        for _ in 0..T3_STEPS {
            let next = statement_edit(&current, donors, rng)
                .and_then(|text| Parsed::new(orig.lang, orig.kind, &text));
            let Some(next) = next else {
                rejects += 1;
                if rejects > T3_REJECTS {
                    break;
                }
                continue;
            };
            let similarity = line_similarity(&base, &next.normalized_lines());
            if similarity < low {
                break;
            }
            current = next;
            if similarity < high && similarity <= target && current.unit.shape != orig.unit.shape {
                return Some((current, similarity));
            }
        }
    }
    None
}

/// The function's text after one random statement-level edit, if one applies.
fn statement_edit(p: &Parsed, donors: &Donors<'_>, rng: &mut Rng) -> Option<String> {
    let source = p.source();
    let base = p.start();
    let statements = syntax::statements(p.lang, p.node(), source, false);
    let s = rng.pick(&statements)?.clone();
    let edit = match rng.below(6) {
        0 => {
            let at = if rng.chance(0.5) {
                s.line_start
            } else {
                s.line_end
            };
            Edit::insert(at, reindent(&donors.statement(rng)?, &s.indent))
        }
        1 => Edit {
            start: s.line_start,
            end: s.line_end,
            text: String::new(),
        },
        2 => Edit {
            start: s.line_start,
            end: s.line_end,
            text: reindent(&donors.statement(rng)?, &s.indent),
        },
        3 => operator_edit(p, &statements, rng)?,
        4 => identifier_edit(p, &statements, rng)?,
        _ => {
            let literals = atoms_in(p, &statements, NodeClass::Literal);
            let a = rng.pick(&literals)?;
            Edit {
                start: a.start,
                end: a.end,
                text: change_literal(&source[a.start..a.end], rng)?,
            }
        }
    };
    let shifted = Edit {
        start: edit.start - base,
        end: edit.end - base,
        ..edit
    };
    Some(apply(p.text(), vec![shifted]))
}

/// Atoms of `class` inside editable statements, as offsets into the planted source.
fn atoms_in(p: &Parsed, statements: &[Statement], class: NodeClass) -> Vec<Atom> {
    syntax::atoms(p.lang, p.node())
        .into_iter()
        .filter(|a| {
            a.class == class
                && statements
                    .iter()
                    .any(|s| s.start <= a.start && a.end <= s.end)
        })
        .collect()
}

/// One occurrence of an identifier replaced by another identifier of the function.
fn identifier_edit(p: &Parsed, statements: &[Statement], rng: &mut Rng) -> Option<Edit> {
    let source = p.source();
    let targets = atoms_in(p, statements, NodeClass::Identifier);
    let a = rng.pick(&targets)?;
    let old = &source[a.start..a.end];
    let names: Vec<&str> = text_atoms(p)
        .iter()
        .filter(|t| t.class == NodeClass::Identifier)
        .map(|t| &p.text()[t.start..t.end])
        .filter(|n| *n != old)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let new = match rng.pick(&names) {
        Some(n) => n.to_string(),
        None => fresh_name(rng, &mut HashSet::from([old.to_string()])),
    };
    Some(Edit {
        start: a.start,
        end: a.end,
        text: new,
    })
}

/// A binary operator inside an editable statement swapped for another of its group.
fn operator_edit(p: &Parsed, statements: &[Statement], rng: &mut Rng) -> Option<Edit> {
    let source = p.source();
    let mut operators = Vec::new();
    syntax::walk(p.node(), |node| {
        for field in ["operator", "operators"] {
            let mut cursor = node.walk();
            for op in node.children_by_field_name(field, &mut cursor) {
                let text = &source[op.start_byte()..op.end_byte()];
                let editable = statements
                    .iter()
                    .any(|s| s.start <= op.start_byte() && op.end_byte() <= s.end);
                if !op.is_named() && editable && OPERATOR_GROUPS.iter().any(|g| g.contains(&text)) {
                    operators.push((op.start_byte(), op.end_byte(), text));
                }
            }
        }
        true
    });
    let &(start, end, text) = rng.pick(&operators)?;
    let group = OPERATOR_GROUPS.iter().find(|g| g.contains(&text))?;
    let others: Vec<&str> = group.iter().copied().filter(|o| *o != text).collect();
    Some(Edit {
        start,
        end,
        text: rng.pick(&others)?.to_string(),
    })
}
