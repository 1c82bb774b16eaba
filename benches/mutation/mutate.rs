//! The mutators. Each works on a function planted alone ([`Parsed`]) and checks its result
//! with cpt's own fingerprint, so every mutant is what its category says:
//! - type 1: same exact hash (only layout and comments changed);
//! - type 2: same shape hash, different exact hash (renamed identifiers, other literals); or,
//!   for [`COLLISION_SHARE`] of them, the name-collision case: a local renamed at its variable
//!   occurrences while a member of the same spelling stays, checked by the syntax-level rule
//!   of [`names::check_collision`] instead of the shape hash;
//! - type 3: blind line similarity (identifiers and literals abstracted) inside the band, and
//!   a different shape hash (so it is never a type-2 copy in disguise), from statement edits
//!   away from the function's edges; [`RENAMED_SHARE`] of them also carry type-2 edits, as
//!   published type-3 clones do ([`rename_layer`]), which the blind measure does not see;
//! - type-3 swap: renamed, and two adjacent independent statements swapped.

use std::collections::{BTreeSet, HashSet};

use cpt::parse::lang::NodeClass;

use super::manifest::Operator;
use super::names::{self, Names};
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
/// Donor and swapped statements are at most this many lines, so one edit stays one edit.
pub const DONOR_MAX_LINES: usize = 3;
/// Share of type-2 copies made name collisions, in languages where functions have a local
/// that shares its name with a member.
pub const COLLISION_SHARE: f64 = 0.25;
/// Share of banded type-3 copies that also carry type-2 edits.
pub const RENAMED_SHARE: f64 = 0.8;
/// Share of renamed type-3 copies that also swap a primitive type, among functions that have one.
pub const TYPE_SWAP_SHARE: f64 = 0.25;
/// Locals a type-3 copy renames at most.
const T3_MAX_RENAMES: usize = 4;
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
    /// The same edit with offsets `base` bytes earlier (planted source → function text).
    pub fn shifted(self, base: usize) -> Edit {
        Edit {
            start: self.start - base,
            end: self.end - base,
            ..self
        }
    }

    fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit {
            start: at,
            end: at,
            text: text.into(),
        }
    }
}

/// A mutant and the edits it carries.
pub struct Mutant {
    pub copy: Parsed,
    pub operators: BTreeSet<Operator>,
}

impl Mutant {
    fn new(copy: Parsed, operators: impl IntoIterator<Item = Operator>) -> Mutant {
        Mutant {
            copy,
            operators: operators.into_iter().collect(),
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
pub fn type1(orig: &Parsed, rng: &mut Rng) -> Option<Mutant> {
    (0..ATTEMPTS).find_map(|_| {
        let text = apply(orig.text(), layout_edits(orig, rng));
        let copy = Parsed::new(orig.lang, orig.kind, &text)?;
        (text != orig.text() && copy.unit.exact == orig.unit.exact)
            .then(|| Mutant::new(copy, [Operator::Layout]))
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

/// A type-2 copy: a [`collision`] copy when `collide`, else two to four identifiers renamed
/// at every occurrence and one or two literals given other values of the same kind.
pub fn type2(orig: &Parsed, collide: bool, rng: &mut Rng) -> Option<Mutant> {
    let names = Names::new(orig.lang, orig.node(), orig.source());
    if collide {
        let locals = names.locals();
        return (0..ATTEMPTS).find_map(|_| collision(orig, &names, &locals, rng));
    }
    let text = orig.text();
    let atoms = text_atoms(orig);
    let identifiers: Vec<&str> = atoms
        .iter()
        .filter(|a| matches!(a.class, NodeClass::Identifier | NodeClass::Member))
        .map(|a| &text[a.start..a.end])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let literals: Vec<&Atom> = atoms
        .iter()
        .filter(|a| a.class == NodeClass::Literal)
        .collect();
    (0..ATTEMPTS).find_map(|_| {
        let count = rng.between(2, 4);
        let renamed = rng.sample(&identifiers, count);
        let mut used = taken_names(orig, &names);
        let fresh: Vec<String> = renamed.iter().map(|_| fresh_name(rng, &mut used)).collect();
        let mut edits: Vec<Edit> = atoms
            .iter()
            .filter(|a| matches!(a.class, NodeClass::Identifier | NodeClass::Member))
            .filter_map(|a| {
                let k = renamed.iter().position(|r| *r == &text[a.start..a.end])?;
                Some(Edit {
                    start: a.start,
                    end: a.end,
                    text: fresh[k].clone(),
                })
            })
            .collect();
        let mut operators = vec![Operator::Rename];
        let changes = rng.between(1, 2);
        let literal_edits = literal_edits(text, &rng.sample(&literals, changes), &[], rng);
        if !literal_edits.is_empty() {
            operators.push(Operator::Literal);
        }
        edits.extend(literal_edits);
        let copy = Parsed::new(orig.lang, orig.kind, &apply(text, edits))?;
        (copy.unit.shape == orig.unit.shape && copy.unit.exact != orig.unit.exact)
            .then(|| Mutant::new(copy, operators))
    })
}

/// A name-collision type-2 copy: one local that shares its name with a member (`self.app`,
/// `{ app: app }`, `f(app=app)`, `s.app`) renamed at its variable occurrences only, the
/// member left as it is (a shorthand spelled out: `{ app }` → `{ app: birch7 }`), maybe up to
/// two more locals renamed the same way, and one or two literals changed. cpt's shape hash
/// numbers a member and a variable of one spelling as one name, so this copy is checked by
/// [`names::check_collision`] instead.
fn collision(
    orig: &Parsed,
    names: &Names,
    locals: &[names::Local],
    rng: &mut Rng,
) -> Option<Mutant> {
    let colliding: Vec<&str> = locals
        .iter()
        .filter(|l| l.member || l.shorthand)
        .map(|l| l.name.as_str())
        .collect();
    let others: Vec<&str> = locals
        .iter()
        .filter(|l| !(l.member || l.shorthand))
        .map(|l| l.name.as_str())
        .collect();
    let mut chosen = rng.sample(&colliding, 1);
    if chosen.is_empty() {
        return None;
    }
    let more = rng.between(0, 2);
    chosen.extend(rng.sample(&others, more));
    let mut used = taken_names(orig, names);
    let renames: Vec<(String, String)> = chosen
        .iter()
        .map(|n| (n.to_string(), fresh_name(rng, &mut used)))
        .collect();
    let base = orig.start();
    let mut edits: Vec<Edit> = names
        .rename_edits(&renames)
        .into_iter()
        .map(|e| e.shifted(base))
        .collect();
    let mut operators = vec![Operator::Rename, Operator::Collision];
    let literals: Vec<Atom> = text_atoms(orig)
        .into_iter()
        .filter(|a| a.class == NodeClass::Literal)
        .collect();
    let changes = rng.between(1, 2);
    let literal_edits = literal_edits(orig.text(), &rng.sample(&literals, changes), &edits, rng);
    if !literal_edits.is_empty() {
        operators.push(Operator::Literal);
    }
    edits.extend(literal_edits);
    let copy = Parsed::new(orig.lang, orig.kind, &apply(orig.text(), edits))?;
    if copy.unit.exact == orig.unit.exact {
        return None;
    }
    names::check_collision(&orig.role_tokens(), &copy.role_tokens()).ok()?;
    Some(Mutant::new(copy, operators))
}

/// Every identifier text of the function, the ones inside string interpolations too: a fresh
/// name must be none of them.
fn taken_names(p: &Parsed, names: &Names) -> HashSet<String> {
    let text = p.text();
    text_atoms(p)
        .iter()
        .map(|a| text[a.start..a.end].to_string())
        .chain(names.occurrences.iter().map(|o| o.text.clone()))
        .collect()
}

/// Other values for `literals` (offsets into `text`), leaving alone any literal that holds
/// one of `avoid` (a renamed name inside an interpolation).
fn literal_edits<A: std::borrow::Borrow<Atom>>(
    text: &str,
    literals: &[A],
    avoid: &[Edit],
    rng: &mut Rng,
) -> Vec<Edit> {
    literals
        .iter()
        .map(|a| a.borrow())
        .filter(|a| !avoid.iter().any(|e| a.start <= e.start && e.end <= a.end))
        .filter_map(|a| {
            Some(Edit {
                start: a.start,
                end: a.end,
                text: change_literal(&text[a.start..a.end], rng)?,
            })
        })
        .collect()
}

/// Type-2 edits on top of a type-3 copy, as developers make them when they copy a function:
/// one to four locals or parameters renamed at every variable occurrence (never a shorthand,
/// which would have to be spelled out and so move the blind measure), one or two literals
/// changed, and for [`TYPE_SWAP_SHARE`] of the functions that have one, a primitive type
/// swapped at every occurrence for a wider one it does not use yet. `None` when the function
/// has no local to rename.
pub fn rename_layer(p: &Parsed, rng: &mut Rng) -> Option<(Parsed, BTreeSet<Operator>)> {
    let names = Names::new(p.lang, p.node(), p.source());
    let locals: Vec<names::Local> = names
        .locals()
        .into_iter()
        .filter(|l| !l.shorthand)
        .collect();
    if locals.is_empty() {
        return None;
    }
    let text = p.text();
    let base = p.start();
    let atoms = text_atoms(p);
    let count = rng.between(1, T3_MAX_RENAMES);
    let chosen = rng.sample(&locals, count);
    let mut used = taken_names(p, &names);
    let renames: Vec<(String, String)> = chosen
        .iter()
        .map(|l| (l.name.clone(), fresh_name(rng, &mut used)))
        .collect();
    let mut operators = BTreeSet::from([Operator::Rename]);
    if chosen.iter().any(|l| l.member) {
        operators.insert(Operator::Collision);
    }
    let mut edits: Vec<Edit> = names
        .rename_edits(&renames)
        .into_iter()
        .map(|e| e.shifted(base))
        .collect();
    let literals: Vec<&Atom> = atoms
        .iter()
        .filter(|a| a.class == NodeClass::Literal)
        .collect();
    let changes = rng.between(1, 2);
    let literal_edits = literal_edits(text, &rng.sample(&literals, changes), &edits, rng);
    if !literal_edits.is_empty() {
        operators.insert(Operator::Literal);
    }
    edits.extend(literal_edits);
    let type_name = |a: &&Atom| matches!(a.class, NodeClass::Type | NodeClass::Identifier);
    let swaps: Vec<(&str, &str)> = names::type_swaps(p.lang)
        .iter()
        .copied()
        .filter(|&(from, to)| {
            let mut texts = atoms
                .iter()
                .filter(type_name)
                .map(|a| &text[a.start..a.end]);
            texts.clone().any(|t| t == from) && !texts.any(|t| t == to)
        })
        .collect();
    if !swaps.is_empty() && rng.chance(TYPE_SWAP_SHARE) {
        let &(from, to) = rng.pick(&swaps)?;
        edits.extend(
            atoms
                .iter()
                .filter(type_name)
                .filter(|a| &text[a.start..a.end] == from)
                .map(|a| Edit {
                    start: a.start,
                    end: a.end,
                    text: to.to_string(),
                }),
        );
        operators.insert(Operator::TypeSwap);
    }
    let copy = Parsed::new(p.lang, p.kind, &apply(text, edits))?;
    Some((copy, operators))
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

/// A type-3 copy whose blind line similarity to the original is in `[low, high)`, with its
/// similarity. Random statement edits are applied one at a time until the similarity falls
/// to a random target inside the band (so copies spread over the band rather than bunch at
/// its top); a sequence that overshoots the band is abandoned and a new one started. When
/// `renamed`, the [`rename_layer`] goes on top (it does not move the blind measure).
pub fn type3(
    orig: &Parsed,
    (low, high): (f64, f64),
    renamed: bool,
    donors: &Donors<'_>,
    rng: &mut Rng,
) -> Option<(Mutant, f64)> {
    let base = orig.blind_lines();
    let measure = |copy: &Parsed| line_similarity(&base, &copy.blind_lines());
    for _ in 0..T3_SEQUENCES {
        let target = low + (high - low) * rng.unit();
        let mut current = Parsed::new(orig.lang, orig.kind, orig.text())?;
        let mut operators = BTreeSet::new();
        let mut rejects = 0;
        for _ in 0..T3_STEPS {
            let next = statement_edit(&current, donors, rng).and_then(|(text, operator)| {
                Some((Parsed::new(orig.lang, orig.kind, &text)?, operator))
            });
            let Some((next, operator)) = next else {
                rejects += 1;
                if rejects > T3_REJECTS {
                    break;
                }
                continue;
            };
            let similarity = measure(&next);
            if similarity < low {
                break;
            }
            current = next;
            operators.insert(operator);
            if similarity < high && similarity <= target && current.unit.shape != orig.unit.shape {
                if renamed {
                    let (copy, layer) = rename_layer(&current, rng)?;
                    let similarity = measure(&copy);
                    if !(low <= similarity && similarity < high)
                        || copy.unit.shape == orig.unit.shape
                    {
                        return None;
                    }
                    operators.extend(layer);
                    current = copy;
                }
                return Some((Mutant::new(current, operators), similarity));
            }
        }
    }
    None
}

/// A renamed copy ([`rename_layer`]) with two adjacent independent statements swapped
/// ([`names::swappable_pairs`]), with its blind line similarity.
pub fn swap(orig: &Parsed, rng: &mut Rng) -> Option<(Mutant, f64)> {
    let source = orig.source();
    let statements = syntax::statements(orig.lang, orig.node(), source, false);
    let pairs =
        names::swappable_pairs(orig.lang, orig.node(), source, &statements, DONOR_MAX_LINES);
    let (a, b) = rng.pick(&pairs)?;
    let edit = Edit {
        start: a.line_start,
        end: b.line_end,
        text: format!(
            "{}{}{}",
            &source[b.line_start..b.line_end],
            &source[a.line_end..b.line_start],
            &source[a.line_start..a.line_end]
        ),
    };
    let swapped = Parsed::new(
        orig.lang,
        orig.kind,
        &apply(orig.text(), vec![edit.shifted(orig.start())]),
    )?;
    let (copy, mut operators) = rename_layer(&swapped, rng)?;
    operators.insert(Operator::Swap);
    let similarity = line_similarity(&orig.blind_lines(), &copy.blind_lines());
    (similarity < 1.0 && copy.unit.shape != orig.unit.shape)
        .then(|| (Mutant::new(copy, operators), similarity))
}

/// The function's text after one random statement-level edit, if one applies, and what it was.
fn statement_edit(p: &Parsed, donors: &Donors<'_>, rng: &mut Rng) -> Option<(String, Operator)> {
    let source = p.source();
    let statements = syntax::statements(p.lang, p.node(), source, false);
    let s = rng.pick(&statements)?.clone();
    let (edit, operator) = match rng.below(4) {
        0 => {
            let at = if rng.chance(0.5) {
                s.line_start
            } else {
                s.line_end
            };
            (
                Edit::insert(at, reindent(&donors.statement(rng)?, &s.indent)),
                Operator::Insert,
            )
        }
        1 => (
            Edit {
                start: s.line_start,
                end: s.line_end,
                text: String::new(),
            },
            Operator::Delete,
        ),
        2 => (
            Edit {
                start: s.line_start,
                end: s.line_end,
                text: reindent(&donors.statement(rng)?, &s.indent),
            },
            Operator::Replace,
        ),
        _ => (operator_edit(p, &statements, rng)?, Operator::Modify),
    };
    Some((apply(p.text(), vec![edit.shifted(p.start())]), operator))
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
