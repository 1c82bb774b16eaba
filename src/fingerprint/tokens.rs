//! Walking a syntax tree: the normalized token stream, the candidate units and the statement
//! runs of blocks, in one iterative pass.

use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::noise::is_generated_comment;
use crate::parse::lang::{Language, NO_FAMILY, NodeClass, UnitKind, heaviest_family};

/// One token of the normalized stream.
#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub start: u32,
    pub end: u32,
    pub kind: u16,
    pub class: NodeClass,
    /// How many collection literals (the language's `tables` kinds) the token is inside.
    pub tables: u16,
}

/// A candidate unit: its node, where its outermost wrapper starts, and its token range.
pub(super) struct RawUnit<'t> {
    pub(super) node: Node<'t>,
    /// The unit's parent, which names an anonymous unit (`const f = () => …`).
    pub(super) parent: Option<Node<'t>>,
    /// First row of the unit with the wrappers that end with it (decorators, `export`), where
    /// a `cpt: ignore` comment applies.
    pub(super) outer_start_row: u32,
    pub(super) kind: UnitKind,
    pub(super) first_token: usize,
    pub(super) end_token: usize,
    /// Collection literals around the unit: a method declared inside an array is no table.
    pub(super) tables: u16,
}

/// A statement of a block: its token range and lines (0-based rows, inclusive).
#[derive(Clone, Copy, Debug)]
pub(super) struct RawStatement {
    pub(super) first_token: usize,
    pub(super) end_token: usize,
    pub(super) start_row: u32,
    pub(super) end_row: u32,
    pub(super) import: bool,
}

/// A node the grammar data assigns to a family of code (the periodic table's groups): where
/// it starts in the token stream, its family, and how many family nodes are around it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    token: u32,
    family: u8,
    nest: u16,
}

/// Everything one walk over a tree collects.
pub(super) struct Flat<'t> {
    pub(super) tokens: Vec<Token>,
    /// The family nodes, in order of their first token.
    marks: Vec<Mark>,
    pub(super) units: Vec<RawUnit<'t>>,
    /// The statements of every block inside units, block after block (see `blocks`).
    statements: Vec<RawStatement>,
    /// Each block's statements in `statements`, in order of the blocks' ends.
    blocks: Vec<Range<usize>>,
    /// Rows on which a `cpt: ignore` comment ends.
    pub(super) ignore_rows: Vec<u32>,
    /// A header comment says the file is generated.
    pub(super) generated: bool,
    pub(super) errors: u32,
}

impl Flat<'_> {
    /// Whether a `cpt: ignore` comment ends on `first_row` or the row above.
    pub(super) fn ignored(&self, first_row: u32) -> bool {
        self.ignore_rows
            .iter()
            .any(|&row| row == first_row || row + 1 == first_row)
    }

    /// The statement runs of blocks inside units, in order of the blocks' ends.
    pub(super) fn blocks(&self) -> impl Iterator<Item = &[RawStatement]> {
        self.blocks.iter().map(|b| &self.statements[b.clone()])
    }

    /// The family of the code whose tokens are `tokens` ([`heaviest_family`] of the family
    /// nodes starting there, [`NO_FAMILY`] without one), as units record it.
    pub(super) fn family(&self, tokens: Range<usize>) -> Option<u8> {
        let from = self
            .marks
            .partition_point(|m| (m.token as usize) < tokens.start);
        let to = self
            .marks
            .partition_point(|m| (m.token as usize) < tokens.end);
        let heaviest = heaviest_family(self.marks[from..to].iter().map(|m| (m.family, m.nest)));
        Some(heaviest.unwrap_or(NO_FAMILY))
    }
}

/// The marker that excludes the unit on or below its comment.
const IGNORE_MARKER: &[u8] = b"cpt: ignore";

/// Last row a node covers: a node ending at column 0 ends on the row before.
pub(super) fn end_row(node: Node<'_>) -> u32 {
    let start = node.start_position().row as u32;
    let end = node.end_position();
    (end.row as u32)
        .saturating_sub(u32::from(end.column == 0))
        .max(start)
}

/// tree-sitter's kind id of ERROR nodes.
const ERROR_KIND: u16 = u16::MAX;

/// A node the walk is inside.
struct Ancestor<'t> {
    node: Node<'t>,
    kind: u16,
    /// Children after the one the cursor is on (or inside).
    later: u32,
    /// The node's index in `Flat::units` if it is a unit.
    unit: Option<usize>,
    /// Whether the node is a family node.
    family: bool,
}

/// Flatten a tree into tokens, the token ranges of its candidate units, and the statement
/// runs of the blocks inside units. One iterative walk: deep nesting cannot overflow the stack.
/// The walk keeps its own stack of the nodes it is inside, with how many children of each
/// are left: climbing needs no node from the cursor, and a last child climbs at once instead
/// of asking the cursor for a sibling (a failed search that costs as much as a found one).
pub(super) fn flatten<'t>(lang: &Language, tree: &'t Tree, source: &[u8]) -> Flat<'t> {
    let mut flat = Flat {
        // About one token per 5 bytes of source in every grammar measured.
        tokens: Vec::with_capacity(source.len() / 4),
        marks: Vec::new(),
        units: Vec::new(),
        statements: Vec::new(),
        blocks: Vec::new(),
        ignore_rows: Vec::new(),
        generated: false,
        errors: 0,
    };
    let mut ancestors: Vec<Ancestor<'t>> = Vec::new();
    // Units the cursor is inside.
    let mut open_units = 0usize;
    // Open blocks: (depth of their statements, where their statements start in `pending`).
    // Blocks nest, so an inner block's statements follow the outer one's last statement and
    // are moved out when it closes.
    let mut open_blocks: Vec<(usize, usize)> = Vec::new();
    let mut pending: Vec<RawStatement> = Vec::new();
    // Collection literals the cursor is inside.
    let mut tables = 0u16;
    // Family nodes the cursor is inside.
    let mut nest = 0u16;
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        let kind = node.kind_id();
        if kind == ERROR_KIND {
            flat.errors += 1;
        }
        let mut class = lang.class(kind);
        if class == NodeClass::Identifier
            && let Some(parent) = ancestors.last()
            && lang.member_in(parent.kind, || cursor.field_id().map(|f| f.get()))
        {
            class = NodeClass::Member;
        }
        let family = lang.family(kind);
        if let Some(f) = family {
            flat.marks.push(Mark {
                token: flat.tokens.len() as u32,
                family: f as u8,
                nest,
            });
        }
        let depth = ancestors.len();
        if let Some(&(statement_depth, _)) = open_blocks.last()
            && statement_depth == depth
            && class != NodeClass::Skip
            && node.is_named()
        {
            pending.push(RawStatement {
                first_token: flat.tokens.len(),
                end_token: flat.tokens.len(),
                start_row: node.start_position().row as u32,
                end_row: end_row(node),
                import: lang.is_import(kind),
            });
        }
        let children = if class == NodeClass::Other {
            node.child_count()
        } else {
            0
        };
        if children > 0 {
            let unit = lang.unit_kind(kind).map(|unit_kind| {
                flat.units.push(RawUnit {
                    node,
                    parent: ancestors.last().map(|a| a.node),
                    outer_start_row: outer_start_row(node, &ancestors),
                    kind: unit_kind,
                    first_token: flat.tokens.len(),
                    end_token: 0,
                    tables,
                });
                open_units += 1;
                flat.units.len() - 1
            });
            ancestors.push(Ancestor {
                node,
                kind,
                later: children - 1,
                unit,
                family: family.is_some(),
            });
            tables += u16::from(lang.is_table(kind));
            nest = nest.saturating_add(u16::from(family.is_some()));
            if lang.is_block(kind) && open_units > 0 {
                open_blocks.push((depth + 1, pending.len()));
            }
            let entered = cursor.goto_first_child();
            debug_assert!(entered, "a node with children has a first child");
            continue;
        }
        let (start, end) = (node.start_byte(), node.end_byte());
        if end > start {
            if class != NodeClass::Skip {
                flat.tokens.push(Token {
                    start: start as u32,
                    end: end as u32,
                    kind,
                    class,
                    tables,
                });
            } else {
                if source[start..end]
                    .windows(IGNORE_MARKER.len())
                    .any(|w| w == IGNORE_MARKER)
                {
                    flat.ignore_rows.push(end_row(node));
                }
                flat.generated |= is_generated_comment(node, source);
            }
        } else if node.is_missing() {
            flat.errors += 1;
        }
        // Leave this node: next sibling, or climb, closing every unit and block we climb out
        // of. At the top of this loop the cursor's node is finished.
        loop {
            let depth = ancestors.len();
            if let Some(&(statement_depth, first)) = open_blocks.last()
                && statement_depth == depth
                && pending.len() > first
                && let Some(last) = pending.last_mut()
            {
                last.end_token = flat.tokens.len();
            }
            let Some(parent) = ancestors.last_mut() else {
                break 'walk;
            };
            if parent.later > 0 {
                parent.later -= 1;
                let moved = cursor.goto_next_sibling();
                debug_assert!(moved, "the parent has children left");
                continue 'walk;
            }
            let climbed = cursor.goto_parent();
            debug_assert!(climbed, "the cursor is below its ancestors");
            let parent = ancestors.pop().expect("checked above");
            tables -= u16::from(lang.is_table(parent.kind));
            nest = nest.saturating_sub(u16::from(parent.family));
            if let Some(&(statement_depth, first)) = open_blocks.last()
                && statement_depth == depth
            {
                open_blocks.pop();
                let at = flat.statements.len();
                flat.statements.extend(pending.drain(first..));
                flat.blocks.push(at..flat.statements.len());
            }
            if let Some(index) = parent.unit {
                flat.units[index].end_token = flat.tokens.len();
                open_units -= 1;
            }
        }
    }
    flat
}

/// The first row of a unit including wrappers that end with it (decorators, `export`): its
/// ancestors below the root, innermost last, that end where it ends.
fn outer_start_row(node: Node<'_>, ancestors: &[Ancestor<'_>]) -> u32 {
    let end = node.end_byte();
    let outer = ancestors
        .iter()
        .skip(1)
        .rev()
        .take_while(|a| a.node.end_byte() == end)
        .last()
        .map_or(node, |a| a.node);
    outer.start_position().row as u32
}

/// The normalized token stream of a whole file (comments and layout dropped).
pub fn tokens(lang: &Language, tree: &Tree, source: &[u8]) -> Vec<Token> {
    flatten(lang, tree, source).tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::testing::*;
    use crate::fingerprint::{ShapeToken, fingerprint, shape_tokens};
    use crate::parse::{self, lang};

    #[test]
    fn normalized_stream_drops_comments_and_keeps_literals_whole() {
        let py = lang::by_id("python").unwrap();
        let src = b"x = f'a{b}c'  # note\n";
        let tree = parse::parse(py, src).unwrap();
        let toks = tokens(py, &tree, src);
        let texts: Vec<&str> = toks
            .iter()
            .map(|t| std::str::from_utf8(&src[t.start as usize..t.end as usize]).unwrap())
            .collect();
        assert_eq!(texts, ["x", "=", "f'a{b}c'"]);
        let shapes = shape_tokens(&toks, src);
        assert_eq!(shapes[0], ShapeToken::Name(0));
        assert!(matches!(shapes[2], ShapeToken::Literal(_)));
    }

    #[test]
    fn syntax_errors_are_counted_and_the_rest_fingerprinted() {
        let py = lang::by_id("python").unwrap();
        let src = "def good(a):\n    b = a + 1\n    return b\n\ndef bad(:\n    return )(\n";
        let tree = parse::parse(py, src.as_bytes()).unwrap();
        let print = fingerprint(py, &tree, src.as_bytes(), SMALL);
        assert!(print.syntax_errors > 0);
        assert!(print.units.iter().any(|u| u.name == "good"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let py = lang::by_id("python").unwrap();
        let src = format!("x = {}1{}\n", "[".repeat(50_000), "]".repeat(50_000));
        let tree = parse::parse(py, src.as_bytes()).unwrap();
        assert!(tokens(py, &tree, src.as_bytes()).len() > 50_000);
    }
}
