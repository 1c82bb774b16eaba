//! Planting: wrapping functions so that each parses on its own, laying several out in one
//! file, and checking with cpt's own parser that every planted function is a unit with the
//! expected lines.

use cpt::fingerprint::{self, Thresholds, UnitPrint};
use cpt::parse::lang::{Language, UnitKind};
use tree_sitter::{Node, Tree};

use super::names::{self, Tok};
use super::similarity::{blind_lines, normalized_lines};
use super::syntax::{self, is_function_like};

/// Per-language planting data: the benchmark's only language-specific knowledge.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Line-comment marker for type-1 comments.
    pub line_comment: &'static str,
    /// Text at the top of every planted file.
    header: &'static str,
    /// A wrapper around methods (`class PlantedN {` … `}`), `N` numbering the wrappers.
    wrapper: Option<(&'static str, &'static str, &'static str)>,
    /// Whether plain functions are wrapped too (Rust `fn` inside `impl`), not only methods.
    wrap_functions: bool,
}

const C_LIKE: Style = Style {
    line_comment: "//",
    header: "",
    wrapper: None,
    wrap_functions: false,
};

const STYLES: &[(&str, Style)] = &[
    (
        "rust",
        Style {
            wrapper: Some(("impl Planted", " {", "}")),
            wrap_functions: true,
            ..C_LIKE
        },
    ),
    (
        "python",
        Style {
            line_comment: "#",
            ..C_LIKE
        },
    ),
    (
        "javascript",
        Style {
            wrapper: Some(("class Planted", " {", "}")),
            ..C_LIKE
        },
    ),
    (
        "typescript",
        Style {
            wrapper: Some(("class Planted", " {", "}")),
            ..C_LIKE
        },
    ),
    (
        "tsx",
        Style {
            wrapper: Some(("class Planted", " {", "}")),
            ..C_LIKE
        },
    ),
    (
        "go",
        Style {
            header: "package planted\n\n",
            ..C_LIKE
        },
    ),
    (
        "java",
        Style {
            wrapper: Some(("class Planted", " {", "}")),
            wrap_functions: true,
            ..C_LIKE
        },
    ),
    ("c", C_LIKE),
    ("cpp", C_LIKE),
];

pub fn style(lang: &Language) -> Style {
    STYLES
        .iter()
        .find(|(id, _)| *id == lang.id)
        .map_or(C_LIKE, |&(_, s)| s)
}

/// One function to plant.
#[derive(Clone, Copy, Debug)]
pub struct Piece<'a> {
    pub text: &'a str,
    pub kind: UnitKind,
}

/// Where a piece landed in its file: bytes half-open, lines 1-based inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub start_byte: usize,
    pub end_byte: usize,
    pub start_line: u32,
    pub end_line: u32,
}

/// A planted file's text and where each piece is in it.
#[derive(Clone, Debug)]
pub struct Layout {
    pub source: String,
    pub placed: Vec<Placed>,
}

/// Lay `pieces` out in one file, each in its own wrapper (numbered from `first_wrapper`) and
/// followed by a blank line.
pub fn layout(lang: &Language, pieces: &[Piece<'_>], first_wrapper: usize) -> Layout {
    let style = style(lang);
    let mut source = String::from(style.header);
    let mut line = 1 + style.header.matches('\n').count() as u32;
    let mut placed = Vec::with_capacity(pieces.len());
    for (n, piece) in pieces.iter().enumerate() {
        let wrap = style
            .wrapper
            .filter(|_| style.wrap_functions || piece.kind != UnitKind::Function);
        if let Some((open, suffix, _)) = wrap {
            source.push_str(&format!("{open}{}{suffix}\n", first_wrapper + n));
            line += 1;
        }
        let start_byte = source.len();
        source.push_str(piece.text);
        let lines = piece.text.matches('\n').count() as u32 + 1;
        placed.push(Placed {
            start_byte,
            end_byte: source.len(),
            start_line: line,
            end_line: line + lines - 1,
        });
        source.push('\n');
        line += lines;
        if let Some((_, _, close)) = wrap {
            source.push_str(close);
            source.push('\n');
            line += 1;
        }
        source.push('\n');
        line += 1;
    }
    Layout { source, placed }
}

/// For each piece of a parsed layout, the unit cpt finds exactly where the piece is (`None`
/// when there is none, or a syntax error inside it or outside every piece).
pub fn check(lang: &Language, layout: &Layout, tree: &Tree) -> Vec<Option<UnitPrint>> {
    let print =
        fingerprint::fingerprint(lang, tree, layout.source.as_bytes(), Thresholds::default());
    let errors = syntax::error_positions(tree);
    let inside = |p: &Placed, at: usize| p.start_byte <= at && at <= p.end_byte;
    let stray = errors
        .iter()
        .any(|&at| !layout.placed.iter().any(|p| inside(p, at)));
    layout
        .placed
        .iter()
        .map(|p| {
            if stray || errors.iter().any(|&at| inside(p, at)) {
                return None;
            }
            print
                .units
                .iter()
                .find(|u| {
                    is_function_like(u.kind)
                        && u.start_byte as usize == p.start_byte
                        && u.end_byte as usize == p.end_byte
                        && u.start_line == p.start_line
                        && u.end_line == p.end_line
                })
                .cloned()
        })
        .collect()
}

/// Parse a planted file and [`check`] it.
pub fn verify(lang: &Language, layout: &Layout) -> Vec<Option<UnitPrint>> {
    match cpt::parse::parse(lang, layout.source.as_bytes()) {
        Ok(tree) => check(lang, layout, &tree),
        Err(_) => vec![None; layout.placed.len()],
    }
}

/// One function planted alone and parsed: what the mutators work on.
pub struct Parsed {
    pub lang: &'static Language,
    pub kind: UnitKind,
    pub layout: Layout,
    pub tree: Tree,
    /// cpt's view of the planted function (hashes, tokens).
    pub unit: UnitPrint,
}

impl Parsed {
    /// Plant `text` alone; `None` unless it is a clean unit of the expected lines.
    pub fn new(lang: &'static Language, kind: UnitKind, text: &str) -> Option<Parsed> {
        let layout = layout(lang, &[Piece { text, kind }], 0);
        let tree = cpt::parse::parse(lang, layout.source.as_bytes()).ok()?;
        let unit = check(lang, &layout, &tree).pop()??;
        Some(Parsed {
            lang,
            kind,
            layout,
            tree,
            unit,
        })
    }

    pub fn start(&self) -> usize {
        self.layout.placed[0].start_byte
    }

    pub fn end(&self) -> usize {
        self.layout.placed[0].end_byte
    }

    pub fn source(&self) -> &str {
        &self.layout.source
    }

    /// The function's text.
    pub fn text(&self) -> &str {
        &self.layout.source[self.start()..self.end()]
    }

    pub fn node(&self) -> Node<'_> {
        syntax::unit_node(self.lang, &self.tree, self.start(), self.end())
            .expect("check found a unit here")
    }

    /// The lines the type-3 bands measure ([`blind_lines`]).
    pub fn blind_lines(&self) -> Vec<u64> {
        blind_lines(
            self.lang,
            self.node(),
            self.layout.source.as_bytes(),
            self.start(),
            self.end(),
        )
    }

    /// The tokens the name-collision check compares ([`names::role_tokens`]).
    pub fn role_tokens(&self) -> Vec<Tok> {
        names::role_tokens(self.lang, self.node(), self.source())
    }

    pub fn normalized_lines(&self) -> Vec<u64> {
        normalized_lines(
            self.lang,
            &self.tree,
            self.layout.source.as_bytes(),
            self.start(),
            self.end(),
        )
    }
}
