//! Fingerprint: syntax tree → units with normalized token streams and hashes. Pure: no I/O.
//!
//! A file is flattened once into tokens (comments and layout dropped, each literal one token);
//! every unit is a contiguous run of those tokens. Per unit:
//! - the exact hash covers the token texts (type-1 clones: only layout and comments differ);
//! - the shape hash covers the same stream with identifiers and types renamed by order of first
//!   appearance and literals reduced to their kind (type-2 clones: renamed, other values).

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Tree};

use crate::parse::lang::{Language, NodeClass, UnitKind};

/// What gets fingerprinted: the smallest unit worth reporting, and whether units carry their
/// near-miss view (similarity codes and names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub min_tokens: u32,
    pub min_lines: u32,
    pub near_miss: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_tokens: 50,
            min_lines: 6,
            near_miss: true,
        }
    }
}

/// A 64-bit fingerprint (the first 64 bits of a blake3 hash), written as 16 hex digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash64(pub u64);

impl Serialize for Hash64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:016x}", self.0))
    }
}

impl<'de> Deserialize<'de> for Hash64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        u64::from_str_radix(&text, 16)
            .map(Hash64)
            .map_err(serde::de::Error::custom)
    }
}

/// A fingerprinted unit. Lines are 1-based and inclusive; bytes are a half-open range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitPrint {
    pub kind: UnitKind,
    pub name: String,
    pub start_line: u32,
    pub end_line: u32,
    pub start_byte: u32,
    pub end_byte: u32,
    pub tokens: u32,
    pub exact: Hash64,
    pub shape: Hash64,
    /// The near-miss view of the unit's tokens ([`similarity_codes`]); function-level units
    /// only, empty for blocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "codes_text")]
    pub codes: Vec<u16>,
    /// What the unit's names and literals say, in order, hashed to 16 bits
    /// ([`content_codes`]): the content its codes and shape abstract away.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "codes_text")]
    pub content: Vec<u16>,
    /// Why the unit is a trivial shape that reports leave out by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<Noise>,
}

/// Trivial shapes: real repetition, but rarely worth a reader's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Noise {
    /// One statement doing little beyond the signature: accessors and delegating one-liners.
    Trivial,
    /// Only import or include statements.
    Imports,
    /// Mostly literals: data tables.
    Literals,
    /// In a file whose header says it is generated: the generator is what repeats.
    Generated,
}

impl Noise {
    pub fn as_str(self) -> &'static str {
        match self {
            Noise::Trivial => "trivial",
            Noise::Imports => "imports",
            Noise::Literals => "literals",
            Noise::Generated => "generated",
        }
    }

    pub fn parse(s: &str) -> Option<Noise> {
        [
            Noise::Trivial,
            Noise::Imports,
            Noise::Literals,
            Noise::Generated,
        ]
        .into_iter()
        .find(|n| n.as_str() == s)
    }
}

/// Similarity codes in events: little-endian u16s in base64, a third of the size of a list.
mod codes_text {
    use serde::{Deserialize, Deserializer, Serializer};

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn serialize<S: Serializer>(codes: &[u16], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = codes.iter().flat_map(|c| c.to_le_bytes()).collect();
        let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                text.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            }
        }
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
        for chunk in text.as_bytes().chunks(4) {
            let mut n = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                let v = ALPHABET
                    .iter()
                    .position(|&a| a == c)
                    .ok_or_else(|| serde::de::Error::custom("bad character in codes"))?;
                n |= (v as u32) << (18 - 6 * i);
            }
            for i in 0..chunk.len().saturating_sub(1) {
                bytes.push((n >> (16 - 8 * i)) as u8);
            }
        }
        if bytes.len() % 2 != 0 {
            return Err(serde::de::Error::custom("codes of odd length"));
        }
        Ok(bytes
            .chunks(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect())
    }
}

/// Everything the fingerprinter learns about one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilePrint {
    /// Units at or above the thresholds, in source order (outer before inner).
    pub units: Vec<UnitPrint>,
    /// ERROR and MISSING nodes tree-sitter recovered from.
    pub syntax_errors: u32,
    /// Named functions below the thresholds, in source order: no units (too small to report
    /// as clones), kept so that `cpt similar` can answer for any function.
    pub small: Vec<SmallFunction>,
}

/// A named function (function, method or constructor) below the unit thresholds: where it
/// is and its two hashes, enough to find its exact and renamed copies. Serialized as an array
/// `[kind, name, start_line, end_line, exact, shape]` (a file may hold hundreds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmallFunction(
    pub UnitKind,
    pub String,
    pub u32,
    pub u32,
    pub Hash64,
    pub Hash64,
);

impl SmallFunction {
    /// The function as a query unit: its hashes, without the near-miss view.
    pub fn to_unit(&self) -> UnitPrint {
        let SmallFunction(kind, name, start_line, end_line, exact, shape) = self;
        UnitPrint {
            kind: *kind,
            name: name.clone(),
            start_line: *start_line,
            end_line: *end_line,
            start_byte: 0,
            end_byte: 0,
            tokens: 0,
            exact: *exact,
            shape: *shape,
            codes: Vec::new(),
            content: Vec::new(),
            noise: None,
        }
    }
}

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

/// A token as the shape hash sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeToken<'s> {
    /// Structure, keywords, operators: kept as written.
    Verbatim(&'s [u8]),
    /// The n-th distinct identifier or type name of the unit.
    Name(u32),
    /// The n-th distinct member name of the unit (numbered apart from other names).
    Member(u32),
    /// A literal, reduced to its node kind.
    Literal(u16),
}

struct RawUnit {
    kind: UnitKind,
    first_token: usize,
    end_token: usize,
    /// Collection literals around the unit: a method declared inside an array is no table.
    tables: u16,
}

/// A statement of a block: its token range and lines (0-based rows, inclusive).
#[derive(Clone, Copy, Debug)]
struct RawStatement {
    first_token: usize,
    end_token: usize,
    start_row: u32,
    end_row: u32,
    import: bool,
}

/// Everything one walk over a tree collects.
struct Flat<'t> {
    tokens: Vec<Token>,
    units: Vec<(Node<'t>, RawUnit)>,
    /// Statement runs of blocks inside units, in order of the blocks' ends.
    blocks: Vec<Vec<RawStatement>>,
    /// Rows on which a `cpt: ignore` comment ends.
    ignore_rows: Vec<u32>,
    /// A header comment says the file is generated.
    generated: bool,
    errors: u32,
}

/// The marker that excludes the unit on or below its comment.
const IGNORE_MARKER: &[u8] = b"cpt: ignore";

/// Last row a node covers: a node ending at column 0 ends on the row before.
fn end_row(node: Node<'_>) -> u32 {
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
fn flatten<'t>(lang: &Language, tree: &'t Tree, source: &[u8]) -> Flat<'t> {
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

/// What the fingerprint of one version of a file lends to the next (see [`Earlier`]).
#[derive(Clone, Debug, Default)]
pub struct Reusable {
    /// Function-level units.
    units: Vec<UnitPrint>,
    /// The block windows kept of each statement run, by the run's first and end byte and
    /// statement count.
    runs: Vec<((u32, u32, usize), Vec<UnitPrint>)>,
    /// Byte ranges of units a `cpt: ignore` comment leaves out.
    ignored: Vec<(u32, u32)>,
    generated: bool,
}

/// An earlier version of a file and how it became the one being fingerprinted: bytes
/// `start..old_end` were replaced by `start..new_end`, and tree-sitter found the syntax
/// changed in `changed` (new bytes). A unit or statement run that lies clear of both — with
/// the line above it, where a `cpt: ignore` comment would sit — has the same tokens, the same
/// ancestors and the same context as before, so its prints are taken from `reusable` (moved
/// to their new place) instead of computed again.
pub struct Earlier<'a> {
    pub reusable: &'a Reusable,
    pub start: u32,
    pub old_end: u32,
    pub new_end: u32,
    /// New lines minus old lines of the edited bytes.
    pub line_delta: i64,
    pub changed: Vec<(u32, u32)>,
}

impl Earlier<'_> {
    /// Whether new bytes `start..end` are clear of every change.
    fn clear(&self, start: u32, end: u32) -> bool {
        // An insertion (`start == new_end`) still touches the bytes on either side.
        let overlaps = |(s, e): (u32, u32)| start <= e && s <= end;
        !overlaps((self.start, self.new_end)) && !self.changed.iter().any(|&r| overlaps(r))
    }

    /// The old byte of a new byte that is clear of the edit.
    fn old_byte(&self, new: u32) -> u32 {
        if new < self.start {
            new
        } else {
            new - self.new_end + self.old_end
        }
    }

    /// The new byte of an old byte that is clear of the edit.
    fn moved_byte(&self, old: u32) -> u32 {
        if old < self.start {
            old
        } else {
            old - self.old_end + self.new_end
        }
    }

    /// A print of the earlier version, moved to where its bytes are now.
    fn moved(&self, old: &UnitPrint) -> UnitPrint {
        let mut unit = old.clone();
        if old.start_byte >= self.old_end {
            unit.start_byte = self.moved_byte(old.start_byte);
            unit.end_byte = self.moved_byte(old.end_byte);
            unit.start_line = (i64::from(old.start_line) + self.line_delta) as u32;
            unit.end_line = (i64::from(old.end_line) + self.line_delta) as u32;
        }
        unit
    }
}

/// The byte where the line before the one holding `byte` starts (the first line's start on
/// the first line).
fn line_above(source: &[u8], byte: u32) -> u32 {
    let line_start = |b: usize| {
        source[..b]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1)
    };
    let here = line_start((byte as usize).min(source.len()));
    line_start(here.saturating_sub(1)) as u32
}

/// Fingerprint every unit of a parsed file that meets the thresholds: functions and the
/// like, then blocks (windows of consecutive statements inside them). Units marked with a
/// `cpt: ignore` comment on their first line or the line above, and blocks inside them, are
/// left out.
pub fn fingerprint(
    lang: &Language,
    tree: &Tree,
    source: &[u8],
    thresholds: Thresholds,
) -> FilePrint {
    fingerprint_from(lang, tree, source, thresholds, None).0
}

/// [`fingerprint`], reusing the prints of an earlier version of the file where its bytes and
/// syntax did not change; also returns what the next version may reuse and how many units
/// and statement runs were reused.
pub fn fingerprint_from(
    lang: &Language,
    tree: &Tree,
    source: &[u8],
    thresholds: Thresholds,
    earlier: Option<&Earlier<'_>>,
) -> (FilePrint, Reusable, usize) {
    let flat = flatten(lang, tree, source);
    // Prints of the earlier version can be reused only in the same file-wide context.
    let earlier = earlier.filter(|e| e.reusable.generated == flat.generated);
    let mut reused = 0;
    let tokens = &flat.tokens;
    let mut hasher = UnitHasher::default();
    let mut units = Vec::new();
    let mut small = Vec::new();
    let generated = flat.generated.then_some(Noise::Generated);
    let ignored = |first_row: u32| {
        flat.ignore_rows
            .iter()
            .any(|&row| row == first_row || row + 1 == first_row)
    };
    let big_enough = |count: usize, start_row: u32, end_row: u32| {
        count as u32 >= thresholds.min_tokens && end_row - start_row + 1 >= thresholds.min_lines
    };
    // Byte ranges of ignored units: blocks inside them go too.
    let mut ignored_ranges: Vec<(u32, u32)> = Vec::new();
    let mut unit_ranges: Vec<(usize, usize)> = Vec::with_capacity(flat.units.len());
    for (node, raw) in &flat.units {
        unit_ranges.push((raw.first_token, raw.end_token));
        let (start_row, last_row) = (node.start_position().row as u32, end_row(*node));
        if ignored(outer_start_row(*node)) {
            ignored_ranges.push((node.start_byte() as u32, node.end_byte() as u32));
            continue;
        }
        let range = &tokens[raw.first_token..raw.end_token];
        if !big_enough(range.len(), start_row, last_row) {
            if matches!(
                raw.kind,
                UnitKind::Function | UnitKind::Method | UnitKind::Constructor
            ) && !range.is_empty()
            {
                let (exact, shape) = hasher.hash(range, source);
                small.push(SmallFunction(
                    raw.kind,
                    unit_name(lang, *node, source),
                    start_row + 1,
                    last_row + 1,
                    exact,
                    shape,
                ));
            }
            continue;
        }
        let (start_byte, end_byte) = (node.start_byte() as u32, node.end_byte() as u32);
        if let Some(e) = earlier
            && e.clear(line_above(source, start_byte), end_byte)
            && let Some(old) = e.reusable.units.iter().find(|u| {
                (u.start_byte, u.end_byte, u.kind)
                    == (e.old_byte(start_byte), e.old_byte(end_byte), raw.kind)
            })
        {
            units.push(UnitPrint {
                start_line: start_row + 1,
                end_line: last_row + 1,
                start_byte,
                end_byte,
                ..old.clone()
            });
            reused += 1;
            continue;
        }
        let (exact, shape) = hasher.hash(range, source);
        // Without the near-miss view a unit is no node of the near-miss graph.
        let near = thresholds.near_miss && !is_table(range, raw.tables, source);
        let body = flat
            .blocks
            .iter()
            .filter(|b| {
                b.first().is_some_and(|s| {
                    s.first_token >= raw.first_token && s.end_token <= raw.end_token
                })
            })
            .min_by_key(|b| b[0].first_token);
        units.push(UnitPrint {
            kind: raw.kind,
            name: unit_name(lang, *node, source),
            start_line: start_row + 1,
            end_line: last_row + 1,
            start_byte: node.start_byte() as u32,
            end_byte: node.end_byte() as u32,
            tokens: range.len() as u32,
            exact,
            shape,
            codes: if near {
                similarity_codes(range, source)
            } else {
                Vec::new()
            },
            content: if near {
                content_codes(range, source)
            } else {
                Vec::new()
            },
            noise: generated
                .or_else(|| literal_noise(range))
                .or_else(|| trivial_noise(range.len(), body.map(Vec::as_slice))),
        });
    }
    // Block windows also depend on the units around them that a comment leaves out.
    let earlier_runs = earlier.filter(|e| {
        let moved: Option<Vec<(u32, u32)>> = e
            .reusable
            .ignored
            .iter()
            .map(|&(s, end)| {
                let clear = end < e.start || s > e.old_end;
                clear.then(|| (e.moved_byte(s), e.moved_byte(end)))
            })
            .collect();
        moved.as_ref() == Some(&ignored_ranges)
    });
    let mut runs: Vec<((u32, u32, usize), Vec<UnitPrint>)> = Vec::new();
    let mut blocks: Vec<UnitPrint> = Vec::new();
    for statements in &flat.blocks {
        let (Some(first), Some(last)) = (statements.first(), statements.last()) else {
            continue;
        };
        let span = (first.first_token < last.end_token).then(|| {
            (
                tokens[first.first_token].start,
                tokens[last.end_token - 1].end,
                statements.len(),
            )
        });
        if let (Some(e), Some((start, end, count))) = (earlier_runs, span)
            && e.clear(line_above(source, start), end)
            && let Some((_, old)) = e
                .reusable
                .runs
                .iter()
                .find(|(key, _)| *key == (e.old_byte(start), e.old_byte(end), count))
        {
            let moved: Vec<UnitPrint> = old.iter().map(|b| e.moved(b)).collect();
            blocks.extend(moved.iter().cloned());
            runs.push(((start, end, count), moved));
            reused += 1;
            continue;
        }
        let kept_from = blocks.len();
        // Each window with its first token: the exact hash waits until winnowing has chosen
        // the windows kept.
        let mut windows: Vec<(usize, UnitPrint)> = Vec::new();
        for (i, first) in statements.iter().enumerate() {
            // The smallest window starting here that meets the thresholds.
            let Some(j) = (i..statements.len()).find(|&j| {
                big_enough(
                    statements[j].end_token - first.first_token,
                    first.start_row,
                    statements[j].end_row,
                )
            }) else {
                break;
            };
            let last = statements[j];
            let (start_byte, end_byte) = (
                tokens[first.first_token].start,
                tokens[last.end_token - 1].end,
            );
            if ignored(first.start_row)
                || unit_ranges.contains(&(first.first_token, last.end_token))
                || ignored_ranges
                    .iter()
                    .any(|&(s, e)| s <= start_byte && end_byte <= e)
            {
                continue;
            }
            let range = &tokens[first.first_token..last.end_token];
            let shape = hasher.shape(range, source);
            let run = &statements[i..=j];
            let noise = if generated.is_some() {
                generated
            } else if run.iter().all(|s| s.import) {
                Some(Noise::Imports)
            } else {
                literal_noise(range)
            };
            windows.push((
                first.first_token,
                UnitPrint {
                    kind: UnitKind::Block,
                    name: String::new(),
                    start_line: first.start_row + 1,
                    end_line: last.end_row + 1,
                    start_byte,
                    end_byte,
                    tokens: range.len() as u32,
                    exact: Hash64(0),
                    shape,
                    codes: Vec::new(),
                    content: content_codes(range, source),
                    noise,
                },
            ));
        }
        // Windows of one statement list with one shape are the list repeating itself (a long
        // repetitive `switch`), not copies of each other: the first stands for them.
        let mut shapes_here: Vec<Hash64> = Vec::new();
        for (first, mut w) in winnow(windows) {
            if shapes_here.contains(&w.shape) {
                continue;
            }
            shapes_here.push(w.shape);
            w.exact = hasher.exact(&tokens[first..first + w.tokens as usize], source);
            blocks.push(w);
        }
        if let Some(key) = span {
            runs.push((key, blocks[kept_from..].to_vec()));
        }
    }
    // Blocks take the name of the innermost unit around them.
    for block in &mut blocks {
        if let Some(owner) = units
            .iter()
            .filter(|u| u.start_byte <= block.start_byte && block.end_byte <= u.end_byte)
            .min_by_key(|u| u.end_byte - u.start_byte)
        {
            block.name.clone_from(&owner.name);
        }
    }
    blocks.sort_by_key(|b| (b.start_byte, b.end_byte));
    let reusable = Reusable {
        units: units.clone(),
        runs,
        ignored: ignored_ranges,
        generated: flat.generated,
    };
    units.extend(blocks);
    let print = FilePrint {
        units,
        syntax_errors: flat.errors,
        small,
    };
    (print, reusable, reused)
}

/// Consecutive windows of one block among which at least one is kept.
pub const WINNOW: usize = 4;

/// Keep a consistent sample of a block's windows (winnowing, Schleimer et al.): in every run
/// of [`WINNOW`] consecutive windows the one with the smallest shape hash (the last on ties)
/// is kept. Two copies of a run of statements holding at least `WINNOW` windows keep the same
/// window, so the copy is still found, at about `2/(WINNOW+1)` of the windows' cost.
fn winnow<T>(windows: Vec<(T, UnitPrint)>) -> Vec<(T, UnitPrint)> {
    if windows.len() <= WINNOW {
        // A short block: its smallest window stands for it.
        return windows
            .into_iter()
            .rev()
            .min_by_key(|w| w.1.shape)
            .into_iter()
            .collect();
    }
    let mut keep = vec![false; windows.len()];
    for start in 0..=windows.len() - WINNOW {
        let chosen = (start..start + WINNOW)
            .rev()
            .min_by_key(|&i| windows[i].1.shape)
            .expect("non-empty range");
        keep[chosen] = true;
    }
    windows
        .into_iter()
        .zip(keep)
        .filter_map(|(w, k)| k.then_some(w))
        .collect()
}

/// Rows of a file's header searched for a generated-code marker.
const HEADER_LINES: usize = 60;

/// Whether a comment says its file is generated: a comment starting in the first
/// [`HEADER_LINES`] rows at column 0 (not a remark inside code, not text inside a string) with
/// a marker such as "Code generated … DO NOT EDIT", "@generated", "This file was mechanically
/// generated", "This file is generated by FieldGen.java. Do not modify it" or "auto-generated".
fn is_generated_comment(node: Node<'_>, source: &[u8]) -> bool {
    const MARKERS: &[&str] = &[
        "do not edit",
        "@generated",
        "auto-generated",
        "autogenerated",
        "automatically generated",
        "mechanically generated",
        "this file is generated",
        "this file was generated",
        "do not modify",
    ];
    let at = node.start_position();
    if at.row >= HEADER_LINES || at.column != 0 {
        return false;
    }
    let text = String::from_utf8_lossy(&source[node.start_byte()..node.end_byte()]).to_lowercase();
    MARKERS.iter().any(|m| text.contains(m))
}

/// A unit whose tokens are mostly literals is a data table.
fn literal_noise(tokens: &[Token]) -> Option<Noise> {
    let literals = tokens
        .iter()
        .filter(|t| t.class == NodeClass::Literal)
        .count();
    (literals * 5 >= tokens.len() * 2).then_some(Noise::Literals)
}

/// Whether a unit is a data table: mostly (half its tokens) inside collection literals that
/// hold mostly literals (40% once punctuation is set aside). With literal values abstracted
/// every table of one arity looks like every other, so tables take no part in near-miss
/// detection (exact and renamed copies of them are still found). A struct or object built
/// from names (`.field = field`) is code; so is code heavy with literals outside
/// collections, whose values verification compares.
fn is_table(tokens: &[Token], around: u16, source: &[u8]) -> bool {
    let inside: Vec<&Token> = tokens.iter().filter(|t| t.tables > around).collect();
    if inside.len() * 2 < tokens.len() {
        return false;
    }
    let (mut literals, mut counted) = (0usize, 0usize);
    for t in inside {
        match t.class {
            NodeClass::Literal => literals += 1,
            NodeClass::Other | NodeClass::Skip
                if matches!(
                    &source[t.start as usize..t.end as usize],
                    b"{" | b"}" | b"(" | b")" | b"[" | b"]" | b"," | b";" | b":"
                ) =>
            {
                continue;
            }
            _ => {}
        }
        counted += 1;
    }
    literals * 5 >= counted * 2
}

/// A unit whose body is one statement making up less than half of it is an accessor or a
/// delegating one-liner: the signature is most of what it repeats.
fn trivial_noise(unit_tokens: usize, body: Option<&[RawStatement]>) -> Option<Noise> {
    match body? {
        [only] if (only.end_token - only.first_token) * 2 < unit_tokens => Some(Noise::Trivial),
        _ => None,
    }
}

/// The first row of a unit including wrappers that end with it (decorators, `export`).
fn outer_start_row(node: Node<'_>) -> u32 {
    let mut outer = node;
    while let Some(parent) = outer.parent() {
        if parent.parent().is_none() || parent.end_byte() != node.end_byte() {
            break;
        }
        outer = parent;
    }
    outer.start_position().row as u32
}

/// The shape view of a token stream: identifiers numbered by first appearance.
pub fn shape_tokens<'s>(tokens: &[Token], source: &'s [u8]) -> Vec<ShapeToken<'s>> {
    let mut names = Names::default();
    tokens
        .iter()
        .map(|t| shape_token(t, source, &mut names))
        .collect()
}

#[inline]
fn shape_token<'s>(t: &Token, source: &'s [u8], names: &mut Names<'s>) -> ShapeToken<'s> {
    let text = &source[t.start as usize..t.end as usize];
    match t.class {
        NodeClass::Identifier | NodeClass::Type => {
            let next = names.names.len() as u32;
            ShapeToken::Name(*names.names.entry(text).or_insert(next))
        }
        NodeClass::Member => {
            let next = names.members.len() as u32;
            ShapeToken::Member(*names.members.entry(text).or_insert(next))
        }
        NodeClass::Literal => ShapeToken::Literal(t.kind),
        NodeClass::Other | NodeClass::Skip => ShapeToken::Verbatim(text),
    }
}

/// The numbers given to a unit's names so far, by first appearance: members apart from the
/// other names.
#[derive(Default)]
struct Names<'s> {
    names: FxHashMap<&'s [u8], u32>,
    members: FxHashMap<&'s [u8], u32>,
}

impl Names<'_> {
    fn clear(&mut self) {
        self.names.clear();
        self.members.clear();
    }
}

/// Reusable buffers for hashing units.
#[derive(Default)]
struct UnitHasher<'s> {
    exact: Vec<u8>,
    shape: Vec<u8>,
    names: Names<'s>,
}

impl<'s> UnitHasher<'s> {
    fn hash(&mut self, tokens: &[Token], source: &'s [u8]) -> (Hash64, Hash64) {
        (self.exact(tokens, source), self.shape(tokens, source))
    }

    /// The exact hash: every token's text.
    fn exact(&mut self, tokens: &[Token], source: &[u8]) -> Hash64 {
        self.exact.clear();
        for t in tokens {
            self.exact
                .extend_from_slice(&source[t.start as usize..t.end as usize]);
            self.exact.push(0);
        }
        Hash64(hash64(&self.exact))
    }

    /// The shape hash: names numbered by first appearance, literals by kind.
    fn shape(&mut self, tokens: &[Token], source: &'s [u8]) -> Hash64 {
        self.shape.clear();
        self.names.clear();
        for t in tokens {
            match shape_token(t, source, &mut self.names) {
                ShapeToken::Verbatim(text) => {
                    self.shape.push(0);
                    self.shape.extend_from_slice(text);
                    self.shape.push(0);
                }
                ShapeToken::Name(n) => {
                    self.shape.push(1);
                    self.shape.extend_from_slice(&n.to_le_bytes());
                }
                ShapeToken::Member(n) => {
                    self.shape.push(3);
                    self.shape.extend_from_slice(&n.to_le_bytes());
                }
                ShapeToken::Literal(kind) => {
                    self.shape.push(2);
                    self.shape.extend_from_slice(&kind.to_le_bytes());
                }
            }
        }
        Hash64(hash64(&self.shape))
    }
}

/// The first 64 bits of a blake3 hash.
pub fn hash64(bytes: &[u8]) -> u64 {
    let hash = blake3::hash(bytes);
    u64::from_le_bytes(
        hash.as_bytes()[..8]
            .try_into()
            .expect("blake3 gives 32 bytes"),
    )
}

/// A fast hash of one token's text, for the 16-bit similarity codes and name sets: these are
/// hashed per token, where blake3's setup cost dominated fingerprinting.
fn token_hash(text: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ text.len() as u64;
    let mut chunks = text.chunks_exact(8);
    for chunk in &mut chunks {
        h = mix64(h ^ u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
    }
    let mut last = 0u64;
    for (i, &b) in chunks.remainder().iter().enumerate() {
        last |= u64::from(b) << (8 * i);
    }
    mix64(h ^ last)
}

/// Bins of a similarity sketch.
pub const SKETCH_BINS: usize = 32;
/// Locality-sensitive hashing bands over a sketch: bands × rows = bins.
pub const BANDS: usize = 16;
const ROWS: usize = SKETCH_BINS / BANDS;
/// Consecutive similarity codes hashed together into one shingle.
const SHINGLE: usize = 3;

/// Similarity code of identifiers and type names.
pub const NAME: u16 = 1;
/// Similarity code of member names.
pub const MEMBER: u16 = 2;
/// Similarity codes of literals: one per literal kind, from here.
const LITERAL: u16 = 3;
/// How many codes literal kinds share.
const LITERAL_KINDS: u16 = 1024;

/// Whether a similarity code stands for a token with content: a name or a literal.
#[inline]
pub fn has_content(code: u16) -> bool {
    code < LITERAL + LITERAL_KINDS
}

/// The similarity view of a token stream: every identifier and type name is one code (as in
/// the shape hash, a built-in type and a named one are interchangeable), every member name
/// another, literals are their kind, everything else its text, folded to 16 bits. Renaming
/// leaves it unchanged; inserted, deleted and changed statements change it locally. The
/// tokens with content ([`has_content`]) are those [`content_codes`] describes, in order.
pub fn similarity_codes(tokens: &[Token], source: &[u8]) -> Vec<u16> {
    const OTHER: u64 = (LITERAL + LITERAL_KINDS) as u64;
    let fold = |h: u64| (OTHER + h % (u64::from(u16::MAX) + 1 - OTHER)) as u16;
    tokens
        .iter()
        .map(|t| match t.class {
            NodeClass::Identifier | NodeClass::Type => NAME,
            NodeClass::Member => MEMBER,
            NodeClass::Literal => LITERAL + t.kind % LITERAL_KINDS,
            NodeClass::Other | NodeClass::Skip => {
                fold(token_hash(&source[t.start as usize..t.end as usize]))
            }
        })
        .collect()
}

/// The top bit of a content code: set for literals, clear for names.
pub const VALUE: u16 = 0x8000;

/// The content of a token stream's names and literals, in order, hashed to 16 bits: what a
/// copy keeps (most names, most values) and what renaming changes consistently. Literals
/// have the top bit ([`VALUE`]) set and names clear, so the content says which is which;
/// members are hashed apart from other names of the same spelling.
pub fn content_codes(tokens: &[Token], source: &[u8]) -> Vec<u16> {
    const MEMBER_SALT: u64 = 0x6d65_6d62_6572_0000;
    tokens
        .iter()
        .filter_map(|t| {
            let text = || token_hash(&source[t.start as usize..t.end as usize]);
            match t.class {
                NodeClass::Identifier | NodeClass::Type => Some(text() as u16 & !VALUE),
                NodeClass::Member => Some(mix64(text() ^ MEMBER_SALT) as u16 & !VALUE),
                NodeClass::Literal => Some(text() as u16 | VALUE),
                NodeClass::Other | NodeClass::Skip => None,
            }
        })
        .collect()
}

/// Overlap coefficient of two sorted sets: shared elements over the smaller set's size.
pub fn overlap(a: &[u16], b: &[u16]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f64 / a.len().min(b.len()) as f64
}

/// A one-permutation MinHash sketch of a code stream's shingles, densified so that every bin
/// is filled. Equal bins estimate the Jaccard similarity of the two shingle sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sketch(pub [u32; SKETCH_BINS]);

impl Sketch {
    pub fn of(codes: &[u16]) -> Sketch {
        let mut bins = [u32::MAX; SKETCH_BINS];
        let mut filled = [false; SKETCH_BINS];
        let mut add = |shingle: &[u16]| {
            let mut packed = 0u64;
            for &c in shingle {
                packed = (packed << 16) | u64::from(c);
            }
            let h = mix64(packed ^ ((shingle.len() as u64) << 60));
            let bin = (h >> 59) as usize % SKETCH_BINS;
            bins[bin] = bins[bin].min(h as u32);
            filled[bin] = true;
        };
        if codes.len() < SHINGLE {
            add(codes);
        } else {
            codes.windows(SHINGLE).for_each(&mut add);
        }
        // Optimal densification: an empty bin borrows the value of a filled bin chosen by a
        // hash of (bin, attempt), so similar streams borrow alike.
        let source = bins;
        for bin in (0..SKETCH_BINS).filter(|&bin| !filled[bin]) {
            let donor = (0u64..)
                .map(|attempt| {
                    (mix64(((bin as u64) << 32) | attempt) % SKETCH_BINS as u64) as usize
                })
                .find(|&other| filled[other])
                .expect("every stream has at least one shingle");
            bins[bin] = source[donor];
        }
        Sketch(bins)
    }

    /// Fraction of equal bins: an estimate of the Jaccard similarity of the shingle sets.
    pub fn resemblance(&self, other: &Sketch) -> f64 {
        let equal = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        equal as f64 / SKETCH_BINS as f64
    }

    /// One key per band; two streams that share a key are near-miss candidates.
    pub fn band_keys(&self) -> [u64; BANDS] {
        let mut keys = [0u64; BANDS];
        for (band, key) in keys.iter_mut().enumerate() {
            let mut h = band as u64;
            for &value in &self.0[band * ROWS..(band + 1) * ROWS] {
                h = mix64(h ^ u64::from(value)).rotate_left(17);
            }
            *key = h;
        }
        keys
    }
}

/// A fast 64-bit mixer (splitmix64's finalizer).
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A unit's name: followed through the language's name fields, or taken from the parent
/// (`const f = () => …`); empty for anonymous units.
fn unit_name(lang: &Language, node: Node<'_>, source: &[u8]) -> String {
    let mut named = node;
    'follow: loop {
        for &field in lang.name_fields() {
            if let Some(child) = named.child_by_field_id(field) {
                named = child;
                continue 'follow;
            }
        }
        break;
    }
    if named.id() != node.id() {
        return node_text(named, source);
    }
    if let Some(parent) = node.parent() {
        for &field in lang.parent_name_fields() {
            if let Some(child) = parent.child_by_field_id(field)
                && child.id() != node.id()
            {
                return node_text(child, source);
            }
        }
    }
    String::new()
}

/// A node's text as a short one-line label.
fn node_text(node: Node<'_>, source: &[u8]) -> String {
    const MAX: usize = 80;
    let text = String::from_utf8_lossy(&source[node.start_byte()..node.end_byte()]);
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// Number of lines in a file (a final line without a newline counts).
pub fn line_count(source: &[u8]) -> u32 {
    let newlines = source.iter().filter(|&&b| b == b'\n').count() as u32;
    newlines + u32::from(source.last().is_some_and(|&b| b != b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{self, lang};

    const SMALL: Thresholds = Thresholds {
        min_tokens: 5,
        min_lines: 2,
        near_miss: true,
    };

    /// Function-level units (blocks have their own tests).
    fn units(lang_id: &str, src: &str) -> Vec<UnitPrint> {
        let lang = lang::by_id(lang_id).unwrap();
        let tree = parse::parse(lang, src.as_bytes()).unwrap();
        let mut units = fingerprint(lang, &tree, src.as_bytes(), SMALL).units;
        units.retain(|u| u.kind != UnitKind::Block);
        units
    }

    fn one(lang_id: &str, src: &str) -> UnitPrint {
        let mut all = units(lang_id, src);
        assert_eq!(all.len(), 1, "expected one unit in {src:?}, got {all:?}");
        all.remove(0)
    }

    /// (original, layout/comment variant, renamed variant, different code) per language.
    const CASES: &[(&str, &str, &str, &str, &str)] = &[
        (
            "python",
            "def total(xs):\n    s = 0\n    for x in xs:\n        s += x * 2\n    return s\n",
            "def total(xs):  # sum\n    s = 0\n\n    for x in xs:\n        # double\n        s += x * 2\n    return s\n",
            "def acc(items):\n    t = 7\n    for it in items:\n        t += it * 3\n    return t\n",
            "def total(xs):\n    s = 0\n    for x in xs:\n        s -= x * 2\n    return s\n",
        ),
        (
            "rust",
            "fn total(xs: &[i32]) -> i32 {\n    let mut s = 0;\n    for x in xs { s += x * 2; }\n    s\n}\n",
            "fn total(xs: &[i32]) -> i32 {\n    // sum\n    let mut s = 0;\n    for x in xs {\n        s += x * 2;\n    }\n    s\n}\n",
            "fn acc(items: &[i64]) -> i64 {\n    let mut t = 9;\n    for it in items { t += it * 4; }\n    t\n}\n",
            "fn total(xs: &[i32]) -> i32 {\n    let mut s = 0;\n    for x in xs { s -= x * 2; }\n    s\n}\n",
        ),
        (
            "javascript",
            "function total(xs) {\n  let s = 0;\n  for (const x of xs) s += x * 2;\n  return s;\n}\n",
            "function total(xs) { /* sum */\n  let s = 0;\n  for (const x of xs)\n    s += x * 2;\n  return s;\n}\n",
            "function acc(items) {\n  let t = 5;\n  for (const it of items) t += it * 8;\n  return t;\n}\n",
            "function total(xs) {\n  let s = 0;\n  for (const x of xs) s -= x * 2;\n  return s;\n}\n",
        ),
        (
            "typescript",
            "function total(xs: number[]): number {\n  let s = 0;\n  for (const x of xs) s += x * 2;\n  return s;\n}\n",
            "function total(xs: number[]): number {\n  let s = 0; // start\n  for (const x of xs) s += x * 2;\n\n  return s;\n}\n",
            "function acc(items: bigint[]): bigint {\n  let t = 1;\n  for (const it of items) t += it * 6;\n  return t;\n}\n",
            "function total(xs: number[]): number {\n  let s = 0;\n  for (const x of xs) s -= x * 2;\n  return s;\n}\n",
        ),
        (
            "tsx",
            "function Row(p: Props) {\n  const n = p.count * 2;\n  return <div className=\"row\">{n}</div>;\n}\n",
            "function Row(p: Props) {\n  // doubled\n  const n = p.count * 2;\n  return <div className=\"row\">{n}</div>;\n}\n",
            "function Cell(q: Args) {\n  const m = q.size * 3;\n  return <div className=\"cell\">{m}</div>;\n}\n",
            "function Row(p: Props) {\n  const n = p.count - 2;\n  return <div className=\"row\">{n}</div>;\n}\n",
        ),
        (
            "go",
            "func total(xs []int) int {\n\ts := 0\n\tfor _, x := range xs {\n\t\ts += x * 2\n\t}\n\treturn s\n}\n",
            "func total(xs []int) int {\n\ts := 0 // start\n\tfor _, x := range xs { s += x * 2 }\n\treturn s\n}\n",
            "func acc(items []int64) int64 {\n\tt := 3\n\tfor _, it := range items {\n\t\tt += it * 5\n\t}\n\treturn t\n}\n",
            "func total(xs []int) int {\n\ts := 0\n\tfor _, x := range xs {\n\t\ts -= x * 2\n\t}\n\treturn s\n}\n",
        ),
        (
            "java",
            "class A {\n  int total(int[] xs) {\n    int s = 0;\n    for (int x : xs) s += x * 2;\n    return s;\n  }\n}\n",
            "class A {\n  /** Sum. */\n  int total(int[] xs) {\n    int s = 0;\n    for (int x : xs)\n      s += x * 2;\n    return s;\n  }\n}\n",
            "class B {\n  long acc(long[] items) {\n    long t = 4;\n    for (long it : items) t += it * 7;\n    return t;\n  }\n}\n",
            "class A {\n  int total(int[] xs) {\n    int s = 0;\n    for (int x : xs) s -= x * 2;\n    return s;\n  }\n}\n",
        ),
        (
            "c",
            "int total(const int *xs, int n) {\n  int s = 0;\n  for (int i = 0; i < n; i++) s += xs[i] * 2;\n  return s;\n}\n",
            "int total(const int *xs, int n)\n{\n  int s = 0; /* start */\n  for (int i = 0; i < n; i++)\n    s += xs[i] * 2;\n  return s;\n}\n",
            "long acc(const long *items, long m) {\n  long t = 1;\n  for (long j = 1; j < m; j++) t += items[j] * 9;\n  return t;\n}\n",
            "int total(const int *xs, int n) {\n  int s = 0;\n  for (int i = 0; i < n; i++) s -= xs[i] * 2;\n  return s;\n}\n",
        ),
        (
            "cpp",
            "int Bag::total(const std::vector<int>& xs) {\n  int s = 0;\n  for (int x : xs) s += x * 2;\n  return s;\n}\n",
            "int Bag::total(const std::vector<int>& xs) {\n  // start\n  int s = 0;\n  for (int x : xs)\n    s += x * 2;\n  return s;\n}\n",
            "long Box::acc(const std::list<long>& items) {\n  long t = 8;\n  for (long it : items) t += it * 2;\n  return t;\n}\n",
            "int Bag::total(const std::vector<int>& xs) {\n  int s = 0;\n  for (int x : xs) s -= x * 2;\n  return s;\n}\n",
        ),
    ];

    #[test]
    fn layout_and_comments_keep_the_exact_hash() {
        for &(id, original, layout, _, _) in CASES {
            let (a, b) = (one(id, original), one(id, layout));
            assert_eq!(a.exact, b.exact, "{id}: layout changed the exact hash");
            assert_eq!(a.shape, b.shape, "{id}: layout changed the shape hash");
            assert_eq!(a.tokens, b.tokens, "{id}");
        }
    }

    #[test]
    fn renames_and_literals_keep_only_the_shape_hash() {
        for &(id, original, _, renamed, _) in CASES {
            let (a, b) = (one(id, original), one(id, renamed));
            assert_ne!(
                a.exact, b.exact,
                "{id}: renamed copy has the same exact hash"
            );
            assert_eq!(
                a.shape, b.shape,
                "{id}: renamed copy has a different shape hash"
            );
        }
    }

    #[test]
    fn different_code_changes_both_hashes() {
        for &(id, original, _, _, different) in CASES {
            let (a, b) = (one(id, original), one(id, different));
            assert_ne!(a.exact, b.exact, "{id}");
            assert_ne!(
                a.shape, b.shape,
                "{id}: a changed operator kept the shape hash"
            );
        }
    }

    #[test]
    fn names_and_lines_are_reported() {
        let u = one("python", CASES[0].1);
        assert_eq!((u.name.as_str(), u.start_line, u.end_line), ("total", 1, 5));
        assert_eq!(one("c", CASES[7].1).name, "total");
        assert_eq!(one("cpp", CASES[8].1).name, "Bag::total");
        assert_eq!(one("java", CASES[6].1).kind, UnitKind::Method);
        let arrow = one(
            "javascript",
            "const handler = (e) => {\n  const v = e.target.value;\n  return v;\n};\n",
        );
        assert_eq!(
            (arrow.name.as_str(), arrow.kind),
            ("handler", UnitKind::Closure)
        );
    }

    #[test]
    fn inconsistent_renaming_is_not_a_type_2_clone() {
        let a = one("python", "def f(a, b):\n    return a + b\n");
        let b = one("python", "def f(a, b):\n    return a + a\n");
        assert_ne!(a.shape, b.shape);
    }

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
    fn thresholds_filter_small_units_and_nested_units_are_separate() {
        let src = "def outer(a):\n    def inner(b):\n        c = b + 1\n        return c\n    return inner(a)\n";
        let names: Vec<String> = units("python", src).into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["outer", "inner"]);
        let py = lang::by_id("python").unwrap();
        let tree = parse::parse(py, src.as_bytes()).unwrap();
        let strict = fingerprint(
            py,
            &tree,
            src.as_bytes(),
            Thresholds {
                min_tokens: 5,
                min_lines: 5,
                near_miss: true,
            },
        );
        assert_eq!(strict.units.len(), 1);
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
    fn units_of_generated_files_are_noise() {
        let body = "def fold(items, start):\n    total = start\n    for item in items:\n        total = total + item * 2\n    return total\n";
        for header in [
            "# Code generated by protoc-gen-py. DO NOT EDIT.\n",
            "# -- This file was mechanically generated: Do not edit! -- #\n",
            "#!/usr/bin/env python3\n# @generated\n",
            "\"\"\"Curves.\"\"\"\n# This file is generated by fieldgen.py.\n",
        ] {
            let print = one("python", &format!("{header}{body}"));
            assert_eq!(print.noise, Some(Noise::Generated), "{header}");
        }
        // Text in a string, a remark inside code, a marker below the header: no marker.
        let prose = format!("x = '''\n# file generated by a tool, do not edit\n'''\n{body}");
        assert_eq!(one("python", &prose).noise, None);
        let remark = body.replace(
            "    return total",
            "    # auto-generated totals are rounded\n    return total",
        );
        assert_eq!(one("python", &remark).noise, None);
        let late = format!("{}# do not edit\n{body}", "\n".repeat(HEADER_LINES));
        assert_eq!(one("python", &late).noise, None);
    }

    #[test]
    fn tables_of_literals_take_no_part_in_near_miss_detection() {
        let java_table = "class R {\n  Object[][] getContents() {\n    return new Object[][] {\n      {\"ok\", \"OK\"}, {\"cancel\", \"Cancel\"},\n      {\"open\", \"Open\"}, {\"save\", \"Save\"},\n    };\n  }\n}\n";
        let table = one("java", java_table);
        assert!(table.codes.is_empty(), "{table:?}");
        assert_eq!(
            table.noise, None,
            "a table with its punctuation is not noise"
        );
        let py_table =
            "def codes():\n    return {'a': 1, 'b': 2, 'c': 3,\n            'd': 4, 'e': 5}\n";
        assert!(one("python", py_table).codes.is_empty());
        // Rows naming shared values are still a table: most of it is collection literals.
        let rows = "class R {\n  Object[][] getContents() {\n    final String[] p = new String[] {\"h:mm a\", \"h:mm\"};\n    return new Object[][] {\n      {\"TimePatterns\", p}, {\"roc.TimePatterns\", p},\n      {\"japanese.TimePatterns\", p}, {\"islamic.TimePatterns\", p},\n    };\n  }\n}\n";
        assert!(one("java", rows).codes.is_empty());
        // A struct built from names is code, and so is code heavy with literals outside
        // collections (verification compares their values).
        let built = "Point make(int x, int y, int z, int w) {\n  return (Point){\n    .x = x, .y = y,\n    .z = z, .w = w,\n    .visible = true,\n  };\n}\n";
        assert!(!one("c", built).codes.is_empty());
        let checks = "def test_parse(self):\n    self.assertEqual(parse('1'), 1)\n    self.assertEqual(parse('2'), 2)\n    self.assertEqual(parse('x'), None)\n";
        assert!(!one("python", checks).codes.is_empty());
        // A function written inside an array is code like any other.
        let inside = "class C {\n  Runnable[] tasks = new Runnable[] {\n    new Runnable() {\n      public void run() {\n        int total = 0;\n        for (int i = 0; i < limit; i++) {\n          total += weigh(i);\n        }\n        report(total);\n      }\n    },\n  };\n}\n";
        assert!(!one("java", inside).codes.is_empty());
        let code = "def greet(name, out):\n    out.write('hello ' + name)\n    out.flush()\n    return len(name)\n";
        let code = one("python", code);
        assert!(!code.codes.is_empty());
        assert_eq!(code.noise, None);
    }

    #[test]
    fn windows_of_one_repetitive_statement_list_are_kept_once() {
        let cases: String = (0..16)
            .map(|i| {
                format!(
                    "  case OP_{i}:\n    handler = handle_{i};\n    seen_{i} += 1;\n    break;\n"
                )
            })
            .collect();
        let src = format!(
            "int dispatch(int op) {{\n  switch (op) {{\n{cases}  }}\n  return handler(op);\n}}\n"
        );
        let c = lang::by_id("c").unwrap();
        let tree = parse::parse(c, src.as_bytes()).unwrap();
        let print = fingerprint(c, &tree, src.as_bytes(), Thresholds::default());
        let shapes: Vec<Hash64> = print
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Block)
            .map(|u| u.shape)
            .collect();
        assert!(!shapes.is_empty(), "the switch has windows");
        let mut distinct = shapes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), shapes.len(), "{shapes:?}");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let py = lang::by_id("python").unwrap();
        let src = format!("x = {}1{}\n", "[".repeat(50_000), "]".repeat(50_000));
        let tree = parse::parse(py, src.as_bytes()).unwrap();
        assert!(tokens(py, &tree, src.as_bytes()).len() > 50_000);
    }

    fn codes(lang_id: &str, src: &str) -> Vec<u16> {
        let lang = lang::by_id(lang_id).unwrap();
        let tree = parse::parse(lang, src.as_bytes()).unwrap();
        similarity_codes(&tokens(lang, &tree, src.as_bytes()), src.as_bytes())
    }

    #[test]
    fn similarity_codes_ignore_renames_and_literal_values() {
        for &(id, original, _, renamed, different) in CASES {
            assert_eq!(codes(id, original), codes(id, renamed), "{id}");
            assert_ne!(codes(id, original), codes(id, different), "{id}");
        }
    }

    #[test]
    fn sketches_of_near_copies_share_bands_and_unrelated_code_does_not() {
        let body = |extra: &str| {
            format!(
                "def load(path, limit):\n    rows = []\n    with open(path) as f:\n        for line in f:\n            line = line.strip()\n            if not line or line.startswith('#'):\n                continue\n{extra}            key, _, value = line.partition('=')\n            rows.append((key.strip(), value.strip()))\n            if len(rows) >= limit:\n                break\n    return dict(rows)\n"
            )
        };
        let a = Sketch::of(&codes("python", &body("")));
        let b = Sketch::of(&codes("python", &body("            count += 1\n")));
        // Code of about the same size doing something else.
        let other = "def register(self, name, factory, *, replace=False):\n    if name in self._factories and not replace:\n        raise KeyError(f\"{name} is already registered\")\n    self._factories[name] = factory\n    self._order.append(name)\n    log.debug(\"registered %s\", name)\n    return factory\n";
        let unrelated = Sketch::of(&codes("python", other));
        assert_eq!(a, Sketch::of(&codes("python", &body(""))));
        assert!(a.resemblance(&b) > 0.6, "{}", a.resemblance(&b));
        assert!(
            a.band_keys()
                .iter()
                .zip(b.band_keys())
                .any(|(x, y)| *x == y)
        );
        assert!(
            a.resemblance(&unrelated) < 0.2,
            "{}",
            a.resemblance(&unrelated)
        );
        assert!(
            !a.band_keys()
                .iter()
                .zip(unrelated.band_keys())
                .any(|(x, y)| *x == y)
        );
    }

    #[test]
    fn sketches_of_tiny_streams_are_filled() {
        for stream in [&[][..], &[7][..], &[7, 8][..], &[7, 8, 9][..]] {
            assert!(
                Sketch::of(stream).0.iter().all(|&v| v != u32::MAX),
                "{stream:?}"
            );
        }
    }

    #[test]
    fn line_count_counts_a_last_line_without_newline() {
        assert_eq!(line_count(b""), 0);
        assert_eq!(line_count(b"a\n"), 1);
        assert_eq!(line_count(b"a\nb"), 2);
    }
}
