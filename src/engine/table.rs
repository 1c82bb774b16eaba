//! `cpt table`: the periodic table of patterns. Its elements are the reported clone classes
//! and the idioms (shapes that recur in many files without being a clone class); its groups
//! are families of code, chosen from the grammar data's `[families]` by parsing each
//! element's representative; its periods are size bands of lines on a log scale.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

use crate::detect;
use crate::engine::classes::{Filter, reported_view};
use crate::fingerprint::hash64;
use crate::parse::{self, lang};
use crate::scan::discover::is_test_path;
use crate::store::{Counts, IdiomRow, PatternRow};

/// The lines of a representative parsed to find its family.
const PARSED_LINES: u32 = 40;

/// Shapes with units in at least this many files are idioms (unless they are clone classes).
pub const MIN_FILES: u32 = 5;

/// The periods: lines from `PERIODS[i]` up to the next band's start (the last has no end).
pub const PERIODS: [u32; 6] = [1, 4, 8, 16, 32, 64];

/// What `cpt table` shows.
#[derive(Clone, Debug, Default)]
pub struct TableRequest {
    pub filter: Filter,
    /// Idioms recur in at least this many files (0: [`MIN_FILES`]).
    pub min_files: u32,
    /// The source text of the representative and of up to `copies` other instances of the
    /// first `elements` elements (for the HTML page's side-by-side views).
    pub sources: Option<SourceRequest>,
    /// The table as it was then (`--at`: a date, a time, `scan:N` or a commit).
    pub at: Option<String>,
    /// Trends compare with the catalogue then (`--since`); without, they say what the last
    /// scan did.
    pub since: Option<String>,
}

/// Which elements carry source text.
#[derive(Clone, Copy, Debug, Default)]
pub struct SourceRequest {
    pub elements: usize,
    pub copies: usize,
    /// Lines kept of each source.
    pub max_lines: usize,
}

/// The periodic table (`cpt.table/1`).
#[derive(Clone, Debug, Serialize)]
pub struct Table {
    pub schema: &'static str,
    pub root: String,
    /// The point the table shows (`--at`), None for now.
    pub at: Option<String>,
    /// The point trends compare with (`--since`), None for the last scan's changes.
    pub trends_since: Option<String>,
    pub summary: TableSummary,
    pub groups: Vec<Group>,
    pub periods: Vec<Period>,
    /// Largest first (duplicated lines, then instances, then id).
    pub elements: Vec<Element>,
}

/// The figures above the table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TableSummary {
    pub files: u64,
    pub lines: u64,
    /// Lines inside a copy of a reported clone class, each counted once.
    pub duplicated_lines: u64,
    pub duplicated_share: f64,
    pub elements: u64,
    /// Elements by type: `T1`, `T2`, `T3`, `idiom`.
    pub by_type: BTreeMap<&'static str, u64>,
    /// Idioms recur in at least this many files.
    pub idiom_min_files: u32,
}

/// A column: a family of code.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub id: &'static str,
    /// At most 10 characters, for a column's head.
    pub short: &'static str,
    pub name: &'static str,
    pub elements: u64,
}

/// A row: a size band.
#[derive(Clone, Debug, Serialize)]
pub struct Period {
    pub number: usize,
    pub min_lines: u32,
    /// None for the last band.
    pub max_lines: Option<u32>,
    pub label: String,
    pub elements: u64,
}

/// One element of the table: a clone class or an idiom.
#[derive(Clone, Debug, Serialize)]
pub struct Element {
    /// The class id, or the idiom's shape as 16 hex digits.
    pub id: String,
    /// Two letters from its name, unique in the table (three once all pairs are taken).
    pub symbol: String,
    /// A short name: the representative's function name, or its first line.
    pub name: String,
    /// `T1`, `T2`, `T3` or `idiom`.
    pub clone_type: &'static str,
    /// `function`, `method`, … or `block`.
    pub kind: String,
    /// Its group's id.
    pub group: &'static str,
    /// Its period's number (0 based).
    pub period: usize,
    /// The representative's lines.
    pub lines: u32,
    pub instances: u64,
    pub files: u64,
    pub directories: u64,
    /// Lines inside its instances, counted once per file.
    pub duplicated_lines: u64,
    pub languages: Vec<String>,
    /// What the last scan did to it: `new`, `up`, `down` or `steady` (None for an idiom: the
    /// log records classes only).
    pub trend: Option<&'static str>,
    pub representative: Instance,
    /// Every instance, the representative first.
    pub copies: Vec<Instance>,
    /// The representative's source and some other instances' (when asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
}

/// Where one instance is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub path: String,
    pub lang: String,
    pub start_line: u32,
    pub end_line: u32,
    /// The function's name; empty for a block.
    pub name: String,
}

/// An instance's source text.
#[derive(Clone, Debug, Serialize)]
pub struct Source {
    pub path: String,
    pub start_line: u32,
    pub lines: Vec<String>,
    /// Lines left out after `lines`.
    pub cut: usize,
}

/// The size band of a representative of `lines` lines.
pub fn period_of(lines: u32) -> usize {
    PERIODS.iter().rposition(|&min| lines >= min).unwrap_or(0)
}

fn period_label(i: usize) -> String {
    match PERIODS.get(i + 1) {
        Some(next) => format!("{}-{}", PERIODS[i], next - 1),
        None => format!("{}+", PERIODS[i]),
    }
}

/// Where the table reads the text of its instances (for names of anonymous blocks, families
/// not recorded, and the HTML page's sources).
pub enum Texts {
    /// The files as they are.
    Now,
    /// The files as they were: each one's content hash then, and the commit the tree was at
    /// then (when recorded). A file whose content changed since is read from that commit
    /// (`git show`) when its hash matches there, else not at all.
    Then {
        hashes: HashMap<String, u64>,
        commit: Option<String>,
    },
}

impl Texts {
    /// The text of `path` (relative to `root`) as the table shows it, if it can be had.
    fn read(&self, root: &Path, path: &str) -> Option<Vec<u8>> {
        let now = std::fs::read(root.join(path)).ok();
        let Texts::Then { hashes, commit } = self else {
            return now;
        };
        let then = *hashes.get(path)?;
        if let Some(text) = now.filter(|t| hash64(t) == then) {
            return Some(text);
        }
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["show", &format!("{}:./{path}", commit.as_deref()?)])
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        (out.status.success() && hash64(&out.stdout) == then).then_some(out.stdout)
    }
}

/// What a table is made of: the catalogue as it is, or as it was (replayed from its log).
pub struct Contents {
    /// Every clone class, as the store reads them.
    pub patterns: Vec<PatternRow>,
    /// The instances of the shapes in at least [`min_files`] files that are no class.
    pub idioms: Vec<IdiomRow>,
    pub counts: Counts,
    /// What the last scan did to classes, by id (`created`, `grown`, `shrunk`).
    pub changes: BTreeMap<String, &'static str>,
    /// Where the instances' text is.
    pub texts: Texts,
}

/// Everything about an element but its group, symbol and name.
struct Draft {
    id: String,
    clone_type: &'static str,
    kind: String,
    lines: u32,
    copies: Vec<Instance>,
    duplicated_lines: u64,
    /// The representative's family as its unit records it (None: not recorded).
    family: Option<u8>,
    trend: Option<&'static str>,
}

/// How many files a shape's instances must be in for an idiom.
pub fn min_files(request: &TableRequest) -> u32 {
    if request.min_files == 0 {
        MIN_FILES
    } else {
        request.min_files
    }
}

/// The elements of `contents` but their groups, symbols and names, largest first, and the
/// lines inside the classes' copies.
fn drafts_of(contents: Contents, filter: &Filter, min_files: u32) -> (Vec<Draft>, u64) {
    let classes = reported_view(contents.patterns, filter);
    let mut drafts: Vec<Draft> = classes
        .iter()
        .map(|p| class_draft(p, &contents.changes))
        .collect();
    let duplicated_lines = union_of(classes.iter().flat_map(|p| {
        p.members
            .iter()
            .map(|m| (m.path.as_str(), m.start_line, m.end_line))
    }));
    drop(classes);
    drafts.extend(idiom_drafts(contents.idioms, filter, min_files));
    drafts.sort_by(|a, b| {
        (b.duplicated_lines, b.copies.len())
            .cmp(&(a.duplicated_lines, a.copies.len()))
            .then_with(|| a.id.cmp(&b.id))
    });
    (drafts, duplicated_lines)
}

/// The periodic table of `now`. Trends compare each element with `then` when given (`new`:
/// not there then; `up`, `down`: more or fewer instances; else `steady`), else say what the
/// last scan did to classes (idioms have none).
pub fn table(
    root: &Path,
    request: &TableRequest,
    mut now: Contents,
    then: Option<Contents>,
) -> Result<Table> {
    let min_files = min_files(request);
    let counts = std::mem::take(&mut now.counts);
    let texts = std::mem::replace(&mut now.texts, Texts::Now);
    let (mut drafts, duplicated_lines) = drafts_of(now, &request.filter, min_files);
    if let Some(then) = then {
        let before: HashMap<(bool, String), usize> = drafts_of(then, &request.filter, min_files)
            .0
            .into_iter()
            .map(|d| ((d.clone_type == "idiom", d.id), d.copies.len()))
            .collect();
        for d in &mut drafts {
            let key = (d.clone_type == "idiom", std::mem::take(&mut d.id));
            d.trend = Some(match before.get(&key) {
                None => "new",
                Some(&n) if d.copies.len() > n => "up",
                Some(&n) if d.copies.len() < n => "down",
                Some(_) => "steady",
            });
            d.id = key.1;
        }
    }

    // Copies mostly in test files are test scaffolding whatever their syntax: only the other
    // representatives are parsed.
    let in_tests: Vec<bool> = drafts
        .iter()
        .map(|d| {
            let tests = d
                .copies
                .iter()
                .filter(|c| is_test_path(&c.path, &c.lang))
                .count();
            2 * tests > d.copies.len()
        })
        .collect();
    let looks = look_at_representatives(root, &texts, &drafts, &in_tests);
    let names: Vec<&str> = looks.iter().map(|l| l.name.as_str()).collect();
    let symbols = assign_symbols(&names);
    let mut elements: Vec<Element> = drafts
        .into_iter()
        .zip(looks)
        .zip(symbols)
        .zip(in_tests)
        .map(|(((d, look), symbol), in_tests)| {
            let group = if in_tests {
                "tests"
            } else {
                look.family.map_or("delegation", |f| lang::FAMILIES[f].0)
            };
            let mut languages: Vec<String> = d.copies.iter().map(|c| c.lang.clone()).collect();
            languages.sort();
            languages.dedup();
            let files: HashSet<&str> = d.copies.iter().map(|c| c.path.as_str()).collect();
            let directories: HashSet<&str> = files.iter().map(|p| parent_of(p)).collect();
            Element {
                id: d.id,
                symbol,
                name: look.name,
                clone_type: d.clone_type,
                kind: d.kind,
                group,
                period: period_of(d.lines),
                lines: d.lines,
                instances: d.copies.len() as u64,
                files: files.len() as u64,
                directories: directories.len() as u64,
                duplicated_lines: d.duplicated_lines,
                languages,
                trend: d.trend,
                representative: d.copies[0].clone(),
                copies: d.copies,
                sources: Vec::new(),
            }
        })
        .collect();
    if let Some(sources) = request.sources {
        add_sources(root, &texts, &mut elements, sources);
    }

    let (files, lines) = counts
        .languages
        .iter()
        .filter(|(l, _)| request.filter.langs.is_empty() || request.filter.langs.contains(l))
        .fold((0, 0), |(f, l), (_, c)| (f + c.0, l + c.1));
    let mut by_type: BTreeMap<&'static str, u64> = BTreeMap::new();
    for e in &elements {
        *by_type.entry(e.clone_type).or_default() += 1;
    }
    let groups = lang::FAMILIES
        .iter()
        .map(|&(id, short, name)| Group {
            id,
            short,
            name,
            elements: elements.iter().filter(|e| e.group == id).count() as u64,
        })
        .collect();
    let periods = (0..PERIODS.len())
        .map(|i| Period {
            number: i,
            min_lines: PERIODS[i],
            max_lines: PERIODS.get(i + 1).map(|n| n - 1),
            label: period_label(i),
            elements: elements.iter().filter(|e| e.period == i).count() as u64,
        })
        .collect();
    Ok(Table {
        schema: "cpt.table/1",
        root: root.to_string_lossy().into_owned(),
        at: request.at.clone(),
        trends_since: request.since.clone(),
        summary: TableSummary {
            files,
            lines,
            duplicated_lines,
            duplicated_share: if lines == 0 {
                0.0
            } else {
                duplicated_lines as f64 / lines as f64
            },
            elements: elements.len() as u64,
            by_type,
            idiom_min_files: min_files,
        },
        groups,
        periods,
        elements,
    })
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Lines inside these ranges, counted once per file.
fn union_of<'a>(ranges: impl Iterator<Item = (&'a str, u32, u32)>) -> u64 {
    let mut by_file: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
    for (path, start, end) in ranges {
        by_file.entry(path).or_default().push((start, end));
    }
    by_file.values_mut().map(|r| detect::union_lines(r)).sum()
}

fn class_draft(p: &PatternRow, changes: &BTreeMap<String, &'static str>) -> Draft {
    // The representative is a copy of the leader's shape (similarity 1), the first by path.
    let leader = p
        .members
        .iter()
        .position(|m| m.similarity >= 1.0)
        .unwrap_or(0);
    let mut copies: Vec<Instance> = p
        .members
        .iter()
        .map(|m| Instance {
            path: m.path.clone(),
            lang: m.lang.clone(),
            start_line: m.start_line,
            end_line: m.end_line,
            name: m.name.clone(),
        })
        .collect();
    copies[..=leader].rotate_right(1);
    Draft {
        family: p.members[leader].family,
        id: p.id.clone(),
        clone_type: p.clone_type.as_str(),
        kind: p.kind.clone(),
        lines: p.lines,
        duplicated_lines: union_of(
            copies
                .iter()
                .map(|c| (c.path.as_str(), c.start_line, c.end_line)),
        ),
        copies,
        trend: Some(match changes.get(&p.id).copied() {
            Some("created") => "new",
            Some("grown") => "up",
            Some("shrunk") => "down",
            _ => "steady",
        }),
    }
}

/// The idioms among `rows` (grouped by shape): the instances the filter keeps, in at least
/// `min_files` files.
fn idiom_drafts(rows: Vec<IdiomRow>, filter: &Filter, min_files: u32) -> Vec<Draft> {
    let mut drafts = Vec::new();
    let mut seen: HashSet<u64> = HashSet::new();
    for chunk in rows.chunk_by(|a, b| a.shape == b.shape) {
        let shape = chunk[0].shape;
        if !seen.insert(shape) {
            continue;
        }
        let kept: Vec<&IdiomRow> = chunk
            .iter()
            .filter(|r| filter.keeps_path(&r.path, &r.lang))
            .collect();
        let copies: Vec<Instance> = kept
            .iter()
            .map(|r| Instance {
                path: r.path.clone(),
                lang: r.lang.clone(),
                start_line: r.start_line,
                end_line: r.end_line,
                name: r.name.clone(),
            })
            .collect();
        let files: HashSet<&str> = copies.iter().map(|c| c.path.as_str()).collect();
        if (files.len() as u32) < min_files {
            continue;
        }
        let kind = chunk[0].kind.clone();
        drafts.push(Draft {
            family: kept[0].family,
            id: format!("{shape:016x}"),
            clone_type: "idiom",
            kind,
            lines: copies[0].end_line - copies[0].start_line + 1,
            duplicated_lines: union_of(
                copies
                    .iter()
                    .map(|c| (c.path.as_str(), c.start_line, c.end_line)),
            ),
            copies,
            trend: None,
        });
    }
    drafts
}

/// What parsing an element's representative tells: its family and a name.
struct Look {
    family: Option<usize>,
    name: String,
}

/// Each representative's family and name. The family is the one its unit records (none for
/// test scaffolding, `in_tests`), else (catalogues from before units recorded it) found by
/// parsing its first lines; the name is its unit's, else its first line. Only the files that
/// must be read are, each once, in parallel.
fn look_at_representatives(
    root: &Path,
    texts: &Texts,
    drafts: &[Draft],
    in_tests: &[bool],
) -> Vec<Look> {
    // Some(family) when known without reading.
    let known: Vec<Option<Option<usize>>> = drafts
        .iter()
        .zip(in_tests)
        .map(|(d, &tests)| {
            if tests {
                Some(None)
            } else {
                d.family
                    .map(|f| (f != lang::NO_FAMILY).then_some(usize::from(f)))
            }
        })
        .collect();
    let mut looks: Vec<Option<Look>> = drafts
        .iter()
        .zip(&known)
        .map(|(d, known)| match known {
            Some(family) if !d.copies[0].name.is_empty() => Some(Look {
                family: *family,
                name: d.copies[0].name.clone(),
            }),
            _ => None,
        })
        .collect();
    let mut by_file: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if looks[i].is_none() {
            by_file.entry(&d.copies[0].path).or_default().push(i);
        }
    }
    let files: Vec<(&str, Vec<usize>)> = by_file.into_iter().collect();
    let looked: Vec<(usize, Look)> = files
        .par_iter()
        .flat_map_iter(|(path, elements)| {
            let text = texts.read(root, path).unwrap_or_default();
            let last = elements.iter().map(|&i| drafts[i].copies[0].end_line).max();
            let starts = line_starts(&text, last.unwrap_or(0));
            elements
                .iter()
                .map(|&i| {
                    let rep = &drafts[i].copies[0];
                    // Outer statements decide, and they begin a representative: the first
                    // lines are enough.
                    let end = rep.end_line.min(rep.start_line + PARSED_LINES - 1);
                    let fragment = dedent(lines_of(&text, &starts, rep.start_line, end));
                    let mut look = look_at(rep, &fragment, known[i].is_none());
                    if let Some(family) = known[i] {
                        look.family = family;
                    }
                    (i, look)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for (i, look) in looked {
        looks[i] = Some(look);
    }
    looks
        .into_iter()
        .map(|l| {
            l.unwrap_or(Look {
                family: None,
                name: String::new(),
            })
        })
        .collect()
}

/// The byte offset where each line up to line `last` (1-based) starts, and where the one
/// after it does.
fn line_starts(text: &[u8], last: u32) -> Vec<usize> {
    let mut starts = vec![0];
    for (i, &b) in text.iter().enumerate() {
        if starts.len() > last as usize {
            break;
        }
        if b == b'\n' {
            starts.push(i + 1);
        }
    }
    starts
}

/// Lines `start..=end` (1-based) of `text`.
fn lines_of<'a>(text: &'a [u8], starts: &[usize], start: u32, end: u32) -> &'a [u8] {
    let from = starts
        .get(start.saturating_sub(1) as usize)
        .copied()
        .unwrap_or(text.len());
    let to = starts.get(end as usize).copied().unwrap_or(text.len());
    &text[from.min(to)..to]
}

/// The fragment with the indentation all its non-blank lines share removed, so that a method
/// or a block parses as top-level code.
fn dedent(fragment: &[u8]) -> Vec<u8> {
    let indent = fragment
        .split(|&b| b == b'\n')
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .map(|l| l.iter().take_while(|&&b| b == b' ' || b == b'\t').count())
        .min()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(fragment.len());
    for (i, line) in fragment.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(&line[indent.min(line.len())..]);
    }
    out
}

/// A representative's family ([`lang::heaviest_family`] of its family nodes; catalogues
/// written before units recorded their family) and its short name.
fn look_at(rep: &Instance, fragment: &[u8], parse: bool) -> Look {
    let name = if rep.name.is_empty() {
        first_line(fragment)
    } else {
        rep.name.clone()
    };
    let Some(language) = lang::by_id(&rep.lang).filter(|_| parse) else {
        return Look { family: None, name };
    };
    let Ok(tree) = parse::parse(language, fragment) else {
        return Look { family: None, name };
    };
    // The family nodes and how many family nodes are around each.
    let mut marks: Vec<(u8, u16)> = Vec::new();
    let mut cursor = tree.walk();
    let mut nesting: Vec<u16> = vec![0];
    loop {
        let node = cursor.node();
        let outer = *nesting.last().expect("never empty");
        let family = language.family(node.kind_id());
        if let Some(f) = family {
            marks.push((f as u8, outer));
        }
        if cursor.goto_first_child() {
            nesting.push(outer.saturating_add(u16::from(family.is_some())));
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Look {
                    family: lang::heaviest_family(marks.iter().copied()).map(usize::from),
                    name,
                };
            }
            nesting.pop();
        }
    }
}

/// The fragment's first non-blank line, trimmed to 40 characters.
fn first_line(fragment: &[u8]) -> String {
    let text = String::from_utf8_lossy(fragment);
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > 40 {
        let mut cut: String = line.chars().take(39).collect();
        cut.push('…');
        cut
    } else {
        line.to_string()
    }
}

/// Symbols in the order of `names`, each unique, like chemical symbols: the name's first letter
/// in upper case and a later letter of it in lower case (the first free pair), else the first
/// letter and any letter, else any free pair; once all 676 pairs are taken, three letters
/// (like the systematic names of new elements: the first letter and two later ones, else any
/// free three), and once those are taken too, the first pair and a number.
pub fn assign_symbols(names: &[&str]) -> Vec<String> {
    const ALL: usize = 26 * 26 * 26;
    let mut pairs = [[false; 26]; 26];
    let mut free_pairs = 26 * 26;
    // Triples by index (first × 676 + a × 26 + b), and for each first letter (and for all)
    // where the first free one may be: triples are never freed, so the cursors only move on.
    let mut triples = vec![false; ALL];
    let mut taken_triples = 0;
    let mut cursor_of_first = [0usize; 26];
    let mut cursor = 0usize;
    let mut numbered: HashMap<[u8; 2], u32> = HashMap::new();
    let text = |letters: &[u8]| -> String {
        letters
            .iter()
            .enumerate()
            .map(|(i, &l)| char::from(if i == 0 { b'A' + l } else { b'a' + l }))
            .collect()
    };
    let index = |[f, a, b]: [u8; 3]| usize::from(f) * 676 + usize::from(a) * 26 + usize::from(b);
    let triple_at = |i: usize| [(i / 676) as u8, (i / 26 % 26) as u8, (i % 26) as u8];
    names
        .iter()
        .map(|name| {
            let letters: Vec<u8> = name
                .bytes()
                .filter(u8::is_ascii_alphabetic)
                .map(|b| b.to_ascii_lowercase() - b'a')
                .collect();
            let first = letters.first().copied().unwrap_or(b'x' - b'a');
            let later = letters.get(1..).unwrap_or_default();
            if free_pairs > 0 {
                let pair = later
                    .iter()
                    .map(|&l| [first, l])
                    .chain((0..26).map(|l| [first, l]))
                    .chain((0..26).flat_map(|f| (0..26).map(move |l| [f, l])))
                    .find(|&[f, l]| !pairs[usize::from(f)][usize::from(l)])
                    .expect("a pair is free");
                pairs[usize::from(pair[0])][usize::from(pair[1])] = true;
                free_pairs -= 1;
                return text(&pair);
            }
            if taken_triples < ALL {
                // From the name's letters in order, else the first free with its first
                // letter, else the first free of all.
                let from_name = later
                    .iter()
                    .enumerate()
                    .flat_map(|(i, &a)| later[i + 1..].iter().map(move |&b| [first, a, b]))
                    .find(|&t| !triples[index(t)]);
                let triple = from_name.unwrap_or_else(|| {
                    let c = &mut cursor_of_first[usize::from(first)];
                    while *c < 676 && triples[usize::from(first) * 676 + *c] {
                        *c += 1;
                    }
                    if *c < 676 {
                        return triple_at(usize::from(first) * 676 + *c);
                    }
                    while triples[cursor] {
                        cursor += 1;
                    }
                    triple_at(cursor)
                });
                triples[index(triple)] = true;
                taken_triples += 1;
                return text(&triple);
            }
            let base = [first, later.first().copied().unwrap_or(first)];
            let n = numbered.entry(base).or_insert(1);
            *n += 1;
            format!("{}{n}", text(&base))
        })
        .collect()
}

/// The source text of the first elements' representatives and of a few other instances
/// (those in other files first, then other places).
fn add_sources(root: &Path, texts: &Texts, elements: &mut [Element], request: SourceRequest) {
    let count = request.elements.min(elements.len());
    let wanted: Vec<Vec<Instance>> = elements[..count]
        .iter()
        .map(|e| {
            let rep = &e.representative;
            let mut others: Vec<&Instance> = e.copies.iter().skip(1).collect();
            others.sort_by_key(|c| c.path == rep.path);
            std::iter::once(rep)
                .chain(others.into_iter().take(request.copies))
                .cloned()
                .collect()
        })
        .collect();
    let paths: HashSet<&str> = wanted.iter().flatten().map(|i| i.path.as_str()).collect();
    let read: HashMap<&str, (Vec<u8>, Vec<usize>)> = paths
        .into_par_iter()
        .filter_map(|p| {
            let text = texts.read(root, p)?;
            let starts = line_starts(&text, u32::MAX);
            Some((p, (text, starts)))
        })
        .collect();
    for (e, instances) in elements.iter_mut().zip(&wanted) {
        // Without the representative's text there is nothing to compare with.
        if !read.contains_key(instances[0].path.as_str()) {
            continue;
        }
        e.sources = instances
            .iter()
            .filter_map(|i| {
                let (text, starts) = read.get(i.path.as_str())?;
                let body =
                    String::from_utf8_lossy(lines_of(text, starts, i.start_line, i.end_line));
                let all: Vec<&str> = body.lines().collect();
                let kept = all.len().min(request.max_lines);
                Some(Source {
                    path: i.path.clone(),
                    start_line: i.start_line,
                    lines: all[..kept].iter().map(|l| l.to_string()).collect(),
                    cut: all.len() - kept,
                })
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_powers_of_two() {
        let bands: Vec<usize> = [1, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 5000]
            .map(period_of)
            .to_vec();
        assert_eq!(bands, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(period_of(0), 0);
        assert_eq!(period_label(0), "1-3");
        assert_eq!(period_label(5), "64+");
    }

    #[test]
    fn symbols_come_from_the_name_and_are_unique() {
        let symbols = assign_symbols(&["parse", "parse", "print", "", "__init__", "x"]);
        assert_eq!(symbols, ["Pa", "Pr", "Pi", "Xa", "In", "Xb"]);
        let many: Vec<String> = (0..700).map(|i| format!("n{i}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let symbols = assign_symbols(&names);
        let unique: HashSet<&String> = symbols.iter().collect();
        assert_eq!(unique.len(), symbols.len());
        assert!(symbols[..676].iter().all(|s| s.len() == 2));
        assert_eq!(symbols[676], "Naa");
        assert_eq!(assign_symbols(&["parse"; 678])[676..], ["Par", "Pas"]);
    }

    /// The rule [`assign_symbols`] follows, searched plainly: the first free candidate in the
    /// documented order (the function keeps cursors so as not to search the taken ones again).
    fn symbols_searched_plainly(names: &[&str]) -> Vec<String> {
        let mut taken: HashSet<Vec<u8>> = HashSet::new();
        let text = |letters: &[u8]| -> String {
            letters
                .iter()
                .enumerate()
                .map(|(i, &l)| char::from(if i == 0 { b'A' + l } else { b'a' + l }))
                .collect()
        };
        names
            .iter()
            .map(|name| {
                let letters: Vec<u8> = name
                    .bytes()
                    .filter(u8::is_ascii_alphabetic)
                    .map(|b| b.to_ascii_lowercase() - b'a')
                    .collect();
                let first = letters.first().copied().unwrap_or(b'x' - b'a');
                let later = letters.get(1..).unwrap_or_default();
                let pairs = taken.iter().filter(|t| t.len() == 2).count();
                let candidates: Vec<Vec<u8>> = if pairs < 676 {
                    later
                        .iter()
                        .map(|&l| vec![first, l])
                        .chain((0..26).map(|l| vec![first, l]))
                        .chain((0..26).flat_map(|f| (0..26).map(move |l| vec![f, l])))
                        .collect()
                } else {
                    let from_name = later
                        .iter()
                        .enumerate()
                        .flat_map(|(i, &a)| later[i + 1..].iter().map(move |&b| vec![first, a, b]));
                    let any = (0..26u8).flat_map(|a| (0..26u8).map(move |b| (a, b)));
                    from_name
                        .chain(any.clone().map(|(a, b)| vec![first, a, b]))
                        .chain((0..26u8).flat_map(|f| any.clone().map(move |(a, b)| vec![f, a, b])))
                        .collect()
                };
                let pick = candidates
                    .into_iter()
                    .find(|c| !taken.contains(c))
                    .expect("free");
                taken.insert(pick.clone());
                text(&pick)
            })
            .collect()
    }

    #[test]
    fn symbols_are_the_first_free_in_the_documented_order() {
        // Names crowding a few first letters, so that pairs run out and triples fill whole
        // first letters and then fall back to any free triple.
        let many: Vec<String> = (0..3000)
            .map(|i| {
                let words = ["parse", "print", "pp", "a", "", "qqq", "test_it", "ab"];
                format!("{}{}", words[i % words.len()], "xyz".repeat(i % 3))
            })
            .collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(assign_symbols(&names), symbols_searched_plainly(&names));
    }

    #[test]
    fn dedent_keeps_relative_indentation() {
        assert_eq!(
            dedent(b"    if x:\n        y()\n\n    z()\n"),
            b"if x:\n    y()\n\nz()\n"
        );
    }

    #[test]
    fn outer_statements_decide_the_family() {
        let rep = |lang: &str| Instance {
            path: "a".into(),
            lang: lang.into(),
            start_line: 1,
            end_line: 1,
            name: "f".into(),
        };
        let family = |lang: &str, code: &str| {
            look_at(&rep(lang), code.as_bytes(), true)
                .family
                .map(|f| lang::FAMILIES[f].0)
        };
        let looped = "for x in xs:\n    if x:\n        a()\n    if y:\n        b()\n";
        assert_eq!(family("python", looped), Some("iteration"));
        let guarded = "try:\n    f()\nexcept E:\n    if x:\n        raise\n";
        assert_eq!(family("python", guarded), Some("errors"));
        assert_eq!(family("python", "return self.x\n"), None);
        assert_eq!(
            family("go", "for _, x := range xs {\n\tif x {\n\t}\n}\n"),
            Some("iteration")
        );
    }
}
