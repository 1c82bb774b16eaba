//! The near-miss view of a token stream (similarity codes) and what its names and literals
//! say (content codes).

use super::hash::{mix64, token_hash};
use super::tokens::Token;
use crate::parse::lang::NodeClass;

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

#[cfg(test)]
mod tests {
    use crate::fingerprint::testing::*;

    #[test]
    fn similarity_codes_ignore_renames_and_literal_values() {
        for &(id, original, _, renamed, different) in CASES {
            assert_eq!(codes(id, original), codes(id, renamed), "{id}");
            assert_ne!(codes(id, original), codes(id, different), "{id}");
        }
    }
}
