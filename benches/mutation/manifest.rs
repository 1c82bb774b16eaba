//! `manifest.json`: everything planted in a generated tree, and what generation dropped.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// Version 2 added the `T3-swap` category, each pair's `operators` and `raw_similarity`, and
/// measures `similarity` after blind normalization; version 1 manifests are still read.
pub const SCHEMA: &str = "cpt.mutation/2";
/// Older schemas [`Manifest::read`] accepts.
pub const OLDER_SCHEMAS: &[&str] = &["cpt.mutation/1"];
pub const FILE: &str = "manifest.json";

/// What a planted function is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Category {
    /// Layout and comments changed.
    #[serde(rename = "T1")]
    Type1,
    /// Identifiers consistently renamed, literal values changed.
    #[serde(rename = "T2")]
    Type2,
    /// Statement edits (most also renamed, see [`Operator`]), blind line similarity in
    /// [0.90, 1.00).
    #[serde(rename = "T3-90")]
    Type3High,
    /// Blind line similarity in [0.70, 0.90).
    #[serde(rename = "T3-70")]
    Type3Mid,
    /// Blind line similarity in [0.50, 0.70).
    #[serde(rename = "T3-50")]
    Type3Low,
    /// Renamed, and two adjacent independent statements swapped (no band: the similarity is
    /// what the swap gives).
    #[serde(rename = "T3-swap")]
    Type3Swap,
    /// An unrelated function planted alone: a detector must not report it.
    #[serde(rename = "control")]
    Control,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Type1,
        Category::Type2,
        Category::Type3High,
        Category::Type3Mid,
        Category::Type3Low,
        Category::Type3Swap,
        Category::Control,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Type1 => "T1",
            Category::Type2 => "T2",
            Category::Type3High => "T3-90",
            Category::Type3Mid => "T3-70",
            Category::Type3Low => "T3-50",
            Category::Type3Swap => "T3-swap",
            Category::Control => "control",
        }
    }

    /// Whether the category is one of the type-3 ones.
    pub fn is_type3(self) -> bool {
        matches!(
            self,
            Category::Type3High | Category::Type3Mid | Category::Type3Low | Category::Type3Swap
        )
    }

    /// The blind line-similarity band `[low, high)` of a banded type-3 category.
    pub fn band(self) -> Option<(f64, f64)> {
        match self {
            Category::Type3High => Some((0.90, 1.00)),
            Category::Type3Mid => Some((0.70, 0.90)),
            Category::Type3Low => Some((0.50, 0.70)),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        Category::ALL
            .iter()
            .position(|&c| c == self)
            .expect("ALL lists every category")
    }
}

/// An edit a mutant carries, as recorded per pair (in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operator {
    /// Type 1: blank lines, comments, spaces.
    Layout,
    /// Identifiers renamed consistently (type 2: any; type 3: locals and parameters, at their
    /// variable occurrences).
    Rename,
    /// A renamed local shares its spelling with a member left unchanged (`self.app = app2`).
    Collision,
    /// Literal values changed.
    Literal,
    /// A primitive type swapped consistently (`int` → `long`, `i32` → `i64`).
    TypeSwap,
    /// A statement from an unrelated function inserted.
    Insert,
    /// A statement deleted.
    Delete,
    /// A statement replaced by one from an unrelated function.
    Replace,
    /// An operator changed (`<` → `<=`, `+` → `-`).
    Modify,
    /// Two adjacent independent statements swapped.
    Swap,
}

impl Operator {
    pub const ALL: [Operator; 10] = [
        Operator::Layout,
        Operator::Rename,
        Operator::Collision,
        Operator::Literal,
        Operator::TypeSwap,
        Operator::Insert,
        Operator::Delete,
        Operator::Replace,
        Operator::Modify,
        Operator::Swap,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Operator::Layout => "layout",
            Operator::Rename => "rename",
            Operator::Collision => "collision",
            Operator::Literal => "literal",
            Operator::TypeSwap => "type-swap",
            Operator::Insert => "insert",
            Operator::Delete => "delete",
            Operator::Replace => "replace",
            Operator::Modify => "modify",
            Operator::Swap => "swap",
        }
    }
}

/// A planted function: path relative to the tree, lines 1-based and inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
}

impl Span {
    pub fn lines(&self) -> u32 {
        self.end_line + 1 - self.start_line
    }
}

/// An original and its mutant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pair {
    pub id: String,
    pub language: String,
    pub category: Category,
    pub round: u32,
    /// Line similarity of mutant to original after blind normalization
    /// ([`super::similarity::blind_lines`]): what the type-3 bands are defined on.
    pub similarity: f64,
    /// Line similarity before it ([`super::similarity::normalized_lines`]): renames and
    /// literal changes move this one.
    #[serde(default)]
    pub raw_similarity: f64,
    /// The edits the mutant carries, in [`Operator::ALL`] order.
    #[serde(default)]
    pub operators: Vec<Operator>,
    /// Where the original came from: `file:line`.
    pub source: String,
    pub original: Span,
    pub mutant: Span,
}

impl Pair {
    pub fn has(&self, operator: Operator) -> bool {
        self.operators.contains(&operator)
    }
}

/// An unrelated function planted once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Control {
    pub id: String,
    pub language: String,
    pub category: Category,
    pub round: u32,
    pub source: String,
    #[serde(flatten)]
    pub span: Span,
}

/// How one language's generation went.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LangStats {
    /// Source files read.
    pub files: usize,
    /// Candidate functions found in them (8–60 lines, parse alone when planted).
    pub functions: usize,
    pub rounds: u32,
    /// Planted per category label.
    pub planted: BTreeMap<String, usize>,
    /// Functions dropped, per reason.
    pub dropped: BTreeMap<String, usize>,
    /// Planted pairs per category label and operator (`T3-90 rename`, `T2 collision`).
    #[serde(default)]
    pub operators: BTreeMap<String, usize>,
}

impl LangStats {
    pub fn drop(&mut self, reason: &str, n: usize) {
        if n > 0 {
            *self.dropped.entry(reason.to_string()).or_default() += n;
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub seed: u64,
    pub per_category: usize,
    /// Directories (relative to the tree) that are scanned one at a time: one per language
    /// and round.
    pub roots: Vec<String>,
    pub pairs: Vec<Pair>,
    pub controls: Vec<Control>,
    pub languages: BTreeMap<String, LangStats>,
}

impl Manifest {
    pub fn new(seed: u64, per_category: usize) -> Manifest {
        Manifest {
            schema: SCHEMA.to_string(),
            seed,
            per_category,
            roots: Vec::new(),
            pairs: Vec::new(),
            controls: Vec::new(),
            languages: BTreeMap::new(),
        }
    }

    /// The manifest of a generated tree.
    pub fn read(tree: &Path) -> Result<Manifest> {
        let path = tree.join(FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a benchmark manifest", path.display()))?;
        if manifest.schema != SCHEMA && !OLDER_SCHEMAS.contains(&manifest.schema.as_str()) {
            bail!(
                "{}: schema {} (expected {SCHEMA})",
                path.display(),
                manifest.schema
            );
        }
        Ok(manifest)
    }

    pub fn write(&self, tree: &Path) -> Result<()> {
        let path = tree.join(FILE);
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(&path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Languages with something planted, in order of first appearance in `roots`.
    pub fn language_ids(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for root in &self.roots {
            let lang = root.split('/').next().unwrap_or(root).to_string();
            if !out.contains(&lang) {
                out.push(lang);
            }
        }
        out
    }
}
