//! Walking a syntax tree: the normalized token stream, the candidate units and the statement
//! runs of blocks, in one iterative pass.

use tree_sitter::{Node, Tree};

use super::noise::is_generated_comment;
use crate::parse::lang::{Language, NodeClass, UnitKind};

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

pub(super) struct RawUnit {
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

/// Everything one walk over a tree collects.
pub(super) struct Flat<'t> {
    pub(super) tokens: Vec<Token>,
    pub(super) units: Vec<(Node<'t>, RawUnit)>,
    /// Statement runs of blocks inside units, in order of the blocks' ends.
    pub(super) blocks: Vec<Vec<RawStatement>>,
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

/// Flatten a tree into tokens, the token ranges of its candidate units, and the statement
/// runs of the blocks inside units. One iterative walk: deep nesting cannot overflow the stack.
pub(super) fn flatten<'t>(lang: &Language, tree: &'t Tree, source: &[u8]) -> Flat<'t> {
    let mut flat = Flat {
        tokens: Vec::new(),
        units: Vec::new(),
        blocks: Vec::new(),
        ignore_rows: Vec::new(),
        generated: false,
        errors: 0,
    };
    let mut open: Vec<(usize, usize)> = Vec::new(); // (index into units, node id)
    // Open blocks: (depth of their statements, statements so far).
    let mut open_blocks: Vec<(usize, Vec<RawStatement>)> = Vec::new();
    let mut depth = 0usize;
    // Collection literals the cursor is inside.
    let mut tables = 0u16;
    // Kinds of the nodes the cursor is inside, innermost last.
    let mut ancestors: Vec<u16> = Vec::new();
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        let kind = node.kind_id();
        if kind == ERROR_KIND {
            flat.errors += 1;
        }
        let mut class = lang.class(kind);
        if class == NodeClass::Identifier
            && let Some(&parent) = ancestors.last()
            && lang.member_in(parent, cursor.field_id().map(|f| f.get()))
        {
            class = NodeClass::Member;
        }
        if let Some((statement_depth, statements)) = open_blocks.last_mut()
            && *statement_depth == depth
            && class != NodeClass::Skip
            && node.is_named()
        {
            statements.push(RawStatement {
                first_token: flat.tokens.len(),
                end_token: flat.tokens.len(),
                start_row: node.start_position().row as u32,
                end_row: end_row(node),
                import: lang.is_import(kind),
            });
        }
        if class == NodeClass::Other && cursor.goto_first_child() {
            if let Some(unit_kind) = lang.unit_kind(kind) {
                open.push((flat.units.len(), node.id()));
                flat.units.push((
                    node,
                    RawUnit {
                        kind: unit_kind,
                        first_token: flat.tokens.len(),
                        end_token: 0,
                        tables,
                    },
                ));
            }
            depth += 1;
            ancestors.push(kind);
            tables += u16::from(lang.is_table(kind));
            if lang.is_block(kind) && !open.is_empty() {
                open_blocks.push((depth, Vec::new()));
            }
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
            if let Some((statement_depth, statements)) = open_blocks.last_mut()
                && *statement_depth == depth
                && let Some(last) = statements.last_mut()
            {
                last.end_token = flat.tokens.len();
            }
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            ancestors.pop();
            tables -= u16::from(lang.is_table(cursor.node().kind_id()));
            if open_blocks
                .last()
                .is_some_and(|(statement_depth, _)| *statement_depth == depth)
            {
                let (_, statements) = open_blocks.pop().expect("checked above");
                flat.blocks.push(statements);
            }
            depth -= 1;
            let parent = cursor.node().id();
            if let Some(&(index, id)) = open.last()
                && id == parent
            {
                flat.units[index].1.end_token = flat.tokens.len();
                open.pop();
            }
        }
    }
    flat
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
