//! Scoring a detector's clone classes against the manifest.
//!
//! A planted pair is found when one reported class has a member covering at least 70% of the
//! original's planted lines and a member covering at least 70% of the mutant's. A control is
//! a false positive when any reported member overlaps at least 50% of its lines.
//!
//! Recall is reported per category (clone type and band) and language, and per operator for
//! the type-2 copies and for the renamed and not renamed type-3 copies.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use super::manifest::{Category, Manifest, Operator, Span};

/// Share of a planted function's lines a member must cover to count as finding it.
pub const PAIR_COVERAGE: f64 = 0.7;
/// Share of a control's lines a member must overlap to count as reporting it.
pub const CONTROL_OVERLAP: f64 = 0.5;

/// A reported copy: path relative to the tree, lines 1-based and inclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
}

/// A set of copies a tool says are clones of each other (a pair is a class of two).
pub type CloneClass = Vec<Member>;

/// Found and planted counts of one cell.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Cell {
    pub found: usize,
    pub planted: usize,
}

impl Cell {
    pub fn recall(self) -> f64 {
        if self.planted == 0 {
            0.0
        } else {
            self.found as f64 / self.planted as f64
        }
    }
}

/// Rows (category labels, `controls reported` last) × columns (languages, then `all`); and
/// rows (type-3 categories, `T3 all`, operator labels) × [`OPERATOR_COLUMNS`].
#[derive(Clone, Debug, Serialize)]
pub struct Score {
    pub tool: String,
    pub seconds: f64,
    pub languages: Vec<String>,
    pub rows: BTreeMap<String, BTreeMap<String, Cell>>,
    pub operators: BTreeMap<String, BTreeMap<String, Cell>>,
}

pub const CONTROLS_ROW: &str = "controls reported";
pub const ALL: &str = "all";
/// Every type-3 pair, in the operator table.
pub const T3_ALL_ROW: &str = "T3 all";
pub const T2_COLUMN: &str = "T2";
pub const RENAMED_COLUMN: &str = "T3 renamed";
pub const NOT_RENAMED_COLUMN: &str = "T3 not renamed";
pub const OPERATOR_COLUMNS: [&str; 3] = [T2_COLUMN, RENAMED_COLUMN, NOT_RENAMED_COLUMN];

impl Score {
    pub fn cell(&self, row: &str, column: &str) -> Cell {
        self.rows
            .get(row)
            .and_then(|r| r.get(column))
            .copied()
            .unwrap_or_default()
    }

    pub fn operator_cell(&self, row: &str, column: &str) -> Cell {
        self.operators
            .get(row)
            .and_then(|r| r.get(column))
            .copied()
            .unwrap_or_default()
    }

    /// The text tables: one row per category, `found/planted (pct)` per language and
    /// overall; then one row per type-3 category and per operator, for the type-2 copies and
    /// the renamed and not renamed type-3 copies.
    pub fn table(&self) -> String {
        let mut columns = self.languages.clone();
        columns.push(ALL.to_string());
        let mut out = String::new();
        let rows: Vec<&str> = Category::ALL
            .iter()
            .filter(|&&c| c != Category::Control)
            .map(|c| c.label())
            .chain([CONTROLS_ROW])
            .collect();
        write_table(&mut out, "category", &rows, &columns, |r, c| {
            self.cell(r, c)
        });
        if !self.operators.is_empty() {
            out.push('\n');
            let rows: Vec<&str> = Category::ALL
                .iter()
                .filter(|c| c.is_type3())
                .map(|c| c.label())
                .chain([T3_ALL_ROW])
                .chain(Operator::ALL.iter().map(|o| o.label()))
                .filter(|r| self.operators.contains_key(*r))
                .collect();
            write_table(&mut out, "by operator", &rows, &OPERATOR_COLUMNS, |r, c| {
                self.operator_cell(r, c)
            });
        }
        let _ = writeln!(out, "{} ran for {:.2}s", self.tool, self.seconds);
        out
    }
}

fn write_table<C: AsRef<str>>(
    out: &mut String,
    title: &str,
    rows: &[&str],
    columns: &[C],
    cell: impl Fn(&str, &str) -> Cell,
) {
    let _ = write!(out, "{title:<18}");
    for c in columns {
        let _ = write!(out, " {:>18}", c.as_ref());
    }
    out.push('\n');
    for row in rows {
        let _ = write!(out, "{row:<18}");
        for c in columns {
            let cell = cell(row, c.as_ref());
            let text = if cell.planted == 0 {
                "-".to_string()
            } else {
                format!(
                    "{}/{} ({:.0}%)",
                    cell.found,
                    cell.planted,
                    (100.0 * cell.recall()).floor()
                )
            };
            let _ = write!(out, " {text:>18}");
        }
        out.push('\n');
    }
}

/// Reported members by path: (class, start, end).
struct Index<'a> {
    by_path: HashMap<&'a str, Vec<(usize, u32, u32)>>,
}

impl<'a> Index<'a> {
    fn new(classes: &'a [CloneClass]) -> Index<'a> {
        let mut by_path: HashMap<&str, Vec<(usize, u32, u32)>> = HashMap::new();
        for (k, class) in classes.iter().enumerate() {
            for m in class {
                by_path
                    .entry(m.path.as_str())
                    .or_default()
                    .push((k, m.start_line, m.end_line));
            }
        }
        Index { by_path }
    }

    /// Classes with a member overlapping at least `share` of `span`'s lines.
    fn classes_covering(&self, span: &Span, share: f64) -> BTreeSet<usize> {
        self.by_path
            .get(span.path.as_str())
            .into_iter()
            .flatten()
            .filter(|&&(_, start, end)| {
                let overlap = end
                    .min(span.end_line)
                    .saturating_add(1)
                    .saturating_sub(start.max(span.start_line));
                f64::from(overlap) >= share * f64::from(span.lines())
            })
            .map(|&(k, ..)| k)
            .collect()
    }
}

/// Score `classes` (paths relative to the tree) against the manifest.
pub fn score(manifest: &Manifest, classes: &[CloneClass], tool: &str, seconds: f64) -> Score {
    let index = Index::new(classes);
    let mut rows: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
    let mut operators: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
    let add = |table: &mut BTreeMap<String, BTreeMap<String, Cell>>,
               row: &str,
               column: &str,
               found: bool| {
        let cell = table
            .entry(row.to_string())
            .or_default()
            .entry(column.to_string())
            .or_default();
        cell.planted += 1;
        cell.found += usize::from(found);
    };
    for pair in &manifest.pairs {
        let original = index.classes_covering(&pair.original, PAIR_COVERAGE);
        let mutant = index.classes_covering(&pair.mutant, PAIR_COVERAGE);
        let found = original.intersection(&mutant).next().is_some();
        for column in [pair.language.as_str(), ALL] {
            add(&mut rows, pair.category.label(), column, found);
        }
        let column = match pair.category {
            Category::Type2 => T2_COLUMN,
            c if c.is_type3() && pair.has(Operator::Rename) => RENAMED_COLUMN,
            c if c.is_type3() => NOT_RENAMED_COLUMN,
            _ => continue,
        };
        if pair.category.is_type3() {
            add(&mut operators, pair.category.label(), column, found);
            add(&mut operators, T3_ALL_ROW, column, found);
        }
        for op in &pair.operators {
            add(&mut operators, op.label(), column, found);
        }
    }
    let mut count = |row: &str, lang: &str, found: bool| {
        for column in [lang, ALL] {
            add(&mut rows, row, column, found);
        }
    };
    for control in &manifest.controls {
        let reported = !index
            .classes_covering(&control.span, CONTROL_OVERLAP)
            .is_empty();
        count(CONTROLS_ROW, &control.language, reported);
    }
    Score {
        tool: tool.to_string(),
        seconds,
        languages: manifest.language_ids(),
        rows,
        operators,
    }
}
