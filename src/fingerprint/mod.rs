//! Fingerprint: syntax tree → units with normalized token streams and hashes. Pure: no I/O.
//!
//! A file is flattened once into tokens (comments and layout dropped, each literal one token);
//! every unit is a contiguous run of those tokens. Per unit:
//! - the exact hash covers the token texts (type-1 clones: only layout and comments differ);
//! - the shape hash covers the same stream with identifiers and types renamed by order of first
//!   appearance and literals reduced to their kind (type-2 clones: renamed, other values).

use serde::{Deserialize, Serialize};
use tree_sitter::Tree;

use crate::parse::lang::{Language, UnitKind};

mod blocks;
mod codes;
pub(crate) mod codes_text;
mod hash;
mod noise;
mod reuse;
mod sketch;
#[cfg(test)]
mod testing;
mod tokens;
mod units;

pub use blocks::WINNOW;
pub use codes::{MEMBER, NAME, VALUE, content_codes, has_content, overlap, similarity_codes};
pub use hash::{ShapeToken, hash64, mix64, shape_tokens};
pub use reuse::{Earlier, Reusable};
pub use sketch::{BANDS, SKETCH_BINS, Sketch};
pub use tokens::{Token, tokens};

use hash::UnitHasher;
use tokens::flatten;
use units::FunctionUnits;

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

impl Thresholds {
    /// Whether `count` tokens on rows `start_row..=end_row` (0-based) are big enough for a unit.
    fn admits(self, count: usize, start_row: u32, end_row: u32) -> bool {
        count as u32 >= self.min_tokens && end_row - start_row + 1 >= self.min_lines
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
    /// The family of code it belongs to (an index in [`crate::parse::lang::FAMILIES`], from
    /// its family nodes: [`crate::parse::lang::heaviest_family`]), or
    /// [`crate::parse::lang::NO_FAMILY`]; None when not recorded (catalogues written before
    /// units recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<u8>,
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
/// is and its two hashes, enough to find its exact and renamed copies, and its family of code.
/// Serialized as an array `[kind, name, start_line, end_line, exact, shape, family]` (a file
/// may hold hundreds; logs written before the family have six).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmallFunction(
    pub UnitKind,
    pub String,
    pub u32,
    pub u32,
    pub Hash64,
    pub Hash64,
    #[serde(default)] pub Option<u8>,
);

impl SmallFunction {
    /// The function as a query unit: its hashes, without the near-miss view.
    pub fn to_unit(&self) -> UnitPrint {
        let SmallFunction(kind, name, start_line, end_line, exact, shape, family) = self;
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
            family: *family,
        }
    }
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
    fingerprint_from(lang, tree, source, thresholds, None).print
}

/// What [`fingerprint_from`] makes of a file.
#[derive(Clone, Debug, Default)]
pub struct Fingerprinted {
    /// The file's fingerprint: the same as [`fingerprint`]'s.
    pub print: FilePrint,
    /// What the next version of the file may reuse.
    pub reusable: Reusable,
    /// How many units and statement runs were reused from the earlier version.
    pub reused: usize,
}

/// [`fingerprint`], reusing the prints of an earlier version of the file where its bytes and
/// syntax did not change; also returns what the next version may reuse and how many units
/// and statement runs were reused. The jobs: walk the tree ([`tokens`]), fingerprint the
/// function-level units ([`units`]), then the blocks inside them ([`blocks`]).
pub fn fingerprint_from(
    lang: &Language,
    tree: &Tree,
    source: &[u8],
    thresholds: Thresholds,
    earlier: Option<&Earlier<'_>>,
) -> Fingerprinted {
    let flat = flatten(lang, tree, source);
    // Prints of the earlier version can be reused only in the same file-wide context.
    let earlier = earlier.filter(|e| e.reusable.generated == flat.generated);
    let mut hasher = UnitHasher::new(&flat.tokens, source);
    let functions = units::function_units(lang, &flat, source, thresholds, earlier, &mut hasher);
    let blocks = blocks::block_units(&flat, source, thresholds, earlier, &functions, &mut hasher);
    let FunctionUnits {
        mut units,
        small,
        ignored,
        reused,
        ..
    } = functions;
    let reusable = Reusable {
        units: units.clone(),
        runs: blocks.runs,
        ignored,
        generated: flat.generated,
    };
    units.extend(blocks.blocks);
    Fingerprinted {
        print: FilePrint {
            units,
            syntax_errors: flat.errors,
            small,
        },
        reusable,
        reused: reused + blocks.reused,
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

    #[test]
    fn line_count_counts_a_last_line_without_newline() {
        assert_eq!(line_count(b""), 0);
        assert_eq!(line_count(b"a\n"), 1);
        assert_eq!(line_count(b"a\nb"), 2);
    }
}
