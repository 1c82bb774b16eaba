//! Syntax-tree helpers over cpt's language tables: walks, tokens, function nodes, statements.

use cpt::parse::lang::{Language, NodeClass, UnitKind};
use tree_sitter::{Node, Tree};

/// Visit a subtree in preorder without recursion; `visit` says whether to descend into a node.
pub fn walk<'t>(root: Node<'t>, mut visit: impl FnMut(Node<'t>) -> bool) {
    let mut cursor = root.walk();
    let mut depth = 0usize;
    loop {
        if visit(cursor.node()) && cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if depth == 0 {
                return;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            cursor.goto_parent();
            depth -= 1;
        }
    }
}

/// A token as cpt sees it (literals whole, comments kept as `Skip` so edits can avoid them).
#[derive(Clone, Copy, Debug)]
pub struct Atom {
    pub start: usize,
    pub end: usize,
    pub class: NodeClass,
}

/// The tokens and comments of a subtree, in source order. Literals, identifiers and types
/// are one atom each even when they have children, as in cpt's token stream.
pub fn atoms(lang: &Language, root: Node<'_>) -> Vec<Atom> {
    let mut out = Vec::new();
    walk(root, |node| {
        let class = lang.class(node.kind_id());
        if class == NodeClass::Other && node.child_count() > 0 {
            return true;
        }
        if node.end_byte() > node.start_byte() {
            out.push(Atom {
                start: node.start_byte(),
                end: node.end_byte(),
                class,
            });
        }
        false
    });
    out
}

/// The hashed texts of a subtree's tokens (comments dropped): what the near-copy check compares.
pub fn token_codes(lang: &Language, root: Node<'_>, source: &[u8]) -> Vec<u32> {
    atoms(lang, root)
        .iter()
        .filter(|a| a.class != NodeClass::Skip)
        .map(|a| fold32(super::similarity::text_hash(&source[a.start..a.end])))
        .collect()
}

fn fold32(h: u64) -> u32 {
    (h ^ (h >> 32)) as u32
}

/// Function-level units: the benchmark plants functions, methods and constructors, never
/// closures or lambdas (they do not stand alone).
pub fn is_function_like(kind: UnitKind) -> bool {
    matches!(
        kind,
        UnitKind::Function | UnitKind::Method | UnitKind::Constructor
    )
}

/// The function-like unit node spanning exactly `start..end`.
pub fn unit_node<'t>(
    lang: &Language,
    tree: &'t Tree,
    start: usize,
    end: usize,
) -> Option<Node<'t>> {
    let mut node = tree.root_node().descendant_for_byte_range(start, end)?;
    loop {
        if node.start_byte() == start
            && node.end_byte() == end
            && lang.unit_kind(node.kind_id()).is_some_and(is_function_like)
        {
            return Some(node);
        }
        if node.start_byte() < start || node.end_byte() > end {
            return None;
        }
        node = node.parent()?;
    }
}

/// The block holding a function's statements: its `body` field if that is a block (Python,
/// Java, C, Rust, JavaScript), else the first block inside it (Go's `block` holds a
/// `statement_list`), else the first block anywhere in the function.
pub fn body_block<'t>(lang: &Language, function: Node<'t>) -> Option<Node<'t>> {
    let scope = function.child_by_field_name("body").unwrap_or(function);
    if lang.is_block(scope.kind_id()) {
        return Some(scope);
    }
    let mut found = None;
    walk(scope, |node| {
        if found.is_some() {
            return false;
        }
        if lang.is_block(node.kind_id()) {
            found = Some(node);
            return false;
        }
        true
    });
    found
}

/// The statements of a block: named children that are not comments.
pub fn block_statements<'t>(lang: &Language, block: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = block.walk();
    block
        .named_children(&mut cursor)
        .filter(|c| lang.class(c.kind_id()) != NodeClass::Skip)
        .collect()
}

/// A statement that occupies whole lines, with its line extent in the source.
#[derive(Clone, Debug)]
pub struct Statement {
    /// First byte of its first line.
    pub line_start: usize,
    /// Just past the newline ending its last line.
    pub line_end: usize,
    pub start: usize,
    pub end: usize,
    /// The whitespace before it on its first line.
    pub indent: String,
}

impl Statement {
    pub fn lines(&self, source: &str) -> usize {
        source[self.line_start..self.line_end].lines().count()
    }
}

/// `node` as a [`Statement`] if nothing but whitespace shares its first and last lines.
pub fn whole_line(source: &str, node: Node<'_>) -> Option<Statement> {
    let (start, end) = (node.start_byte(), node.end_byte());
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &source[line_start..start];
    if !indent.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let newline = end + source[end..].find('\n')?;
    if !source[end..newline].trim().is_empty() {
        return None;
    }
    Some(Statement {
        line_start,
        line_end: newline + 1,
        start,
        end,
        indent: indent.to_string(),
    })
}

/// Every whole-line statement of every block inside `function` (nested blocks included),
/// outer before inner, except the body's first and last statements when `keep_edges` is
/// false: type-3 edits stay away from a function's edges.
pub fn statements(
    lang: &Language,
    function: Node<'_>,
    source: &str,
    keep_edges: bool,
) -> Vec<Statement> {
    let Some(body) = body_block(lang, function) else {
        return Vec::new();
    };
    let top = block_statements(lang, body);
    let edges: Vec<usize> = match (top.first(), top.last()) {
        (Some(first), Some(last)) if !keep_edges => vec![first.id(), last.id()],
        _ => Vec::new(),
    };
    // Inner statements may still end on the function's last line (Python has no closing
    // brace): those are edges too.
    let (start, end) = (function.start_byte(), function.end_byte());
    let first_line_end = start + source[start..end].find('\n').unwrap_or(end - start);
    let last_line_start = source[..end].rfind('\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    walk(body, |node| {
        if lang.is_block(node.kind_id()) {
            for statement in block_statements(lang, node) {
                if edges.contains(&statement.id()) {
                    continue;
                }
                out.extend(whole_line(source, statement).filter(|s| {
                    keep_edges || (s.line_start > first_line_end && s.line_end <= last_line_start)
                }));
            }
        }
        true
    });
    out
}

/// Positions of ERROR and MISSING nodes.
pub fn error_positions(tree: &Tree) -> Vec<usize> {
    let mut out = Vec::new();
    walk(tree.root_node(), |node| {
        if node.is_error() || node.is_missing() {
            out.push(node.start_byte());
        }
        node.has_error()
    });
    out
}
