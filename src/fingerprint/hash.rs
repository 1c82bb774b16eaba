//! The exact and shape hashes of a token range, and the fast hashes of single tokens.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::Hash64;
use super::tokens::Token;
use crate::parse::lang::NodeClass;

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

/// The shape view of a token stream: identifiers numbered by first appearance.
pub fn shape_tokens<'s>(tokens: &[Token], source: &'s [u8]) -> Vec<ShapeToken<'s>> {
    let mut names = Names::default();
    tokens
        .iter()
        .map(|t| shape_token(t, source, &mut names))
        .collect()
}

// Always inlined: per token on the hot path, and out of line it cost 3% of fingerprinting.
#[inline(always)]
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

/// Hashes the units of one file: reusable buffers, and the file's names numbered once.
///
/// A unit's shape numbers its names by first appearance. Each name token is given the number
/// of its text among the file's names once (on the first unit that holds it); a unit then
/// numbers names through a table indexed by that number, instead of hashing every name's text
/// again in every unit and block window that holds it.
pub(super) struct UnitHasher<'s> {
    tokens: &'s [Token],
    source: &'s [u8],
    exact: Vec<u8>,
    shape: Vec<u8>,
    /// Each token's name in `names` (identifiers, types and members), [`UNSEEN`] until a
    /// unit holding it is hashed.
    name_of: Vec<u32>,
    /// The file's distinct name texts, numbered by first use.
    names: FxHashMap<&'s [u8], u32>,
    /// Per name of the file: the last shape that numbered it as an identifier or type, and
    /// its number there.
    as_name: Vec<(u32, u32)>,
    /// The same for names used as members (numbered apart).
    as_member: Vec<(u32, u32)>,
    /// Shapes computed so far: the stamp of the current one.
    shapes: u32,
}

const UNSEEN: u32 = u32::MAX;

impl<'s> UnitHasher<'s> {
    pub(super) fn new(tokens: &'s [Token], source: &'s [u8]) -> UnitHasher<'s> {
        UnitHasher {
            tokens,
            source,
            exact: Vec::new(),
            shape: Vec::new(),
            name_of: vec![UNSEEN; tokens.len()],
            names: FxHashMap::default(),
            as_name: Vec::new(),
            as_member: Vec::new(),
            shapes: 0,
        }
    }

    pub(super) fn hash(&mut self, range: Range<usize>) -> (Hash64, Hash64) {
        (self.exact(range.clone()), self.shape(range))
    }

    /// The exact hash: every token's text.
    pub(super) fn exact(&mut self, range: Range<usize>) -> Hash64 {
        self.exact.clear();
        for t in &self.tokens[range] {
            self.exact
                .extend_from_slice(&self.source[t.start as usize..t.end as usize]);
            self.exact.push(0);
        }
        Hash64(hash64(&self.exact))
    }

    /// The shape hash: names numbered by first appearance, literals by kind (the bytes of
    /// [`shape_tokens`]' view).
    pub(super) fn shape(&mut self, range: Range<usize>) -> Hash64 {
        self.shape.clear();
        self.shapes += 1;
        let stamp = self.shapes;
        let (mut names, mut members) = (0u32, 0u32);
        for i in range {
            let t = self.tokens[i];
            match t.class {
                NodeClass::Identifier | NodeClass::Type => {
                    let name = self.name(i);
                    let slot = &mut self.as_name[name];
                    if slot.0 != stamp {
                        *slot = (stamp, names);
                        names += 1;
                    }
                    self.shape.push(1);
                    self.shape.extend_from_slice(&slot.1.to_le_bytes());
                }
                NodeClass::Member => {
                    let name = self.name(i);
                    let slot = &mut self.as_member[name];
                    if slot.0 != stamp {
                        *slot = (stamp, members);
                        members += 1;
                    }
                    self.shape.push(3);
                    self.shape.extend_from_slice(&slot.1.to_le_bytes());
                }
                NodeClass::Literal => {
                    self.shape.push(2);
                    self.shape.extend_from_slice(&t.kind.to_le_bytes());
                }
                NodeClass::Other | NodeClass::Skip => {
                    self.shape.push(0);
                    self.shape
                        .extend_from_slice(&self.source[t.start as usize..t.end as usize]);
                    self.shape.push(0);
                }
            }
        }
        Hash64(hash64(&self.shape))
    }

    /// The number of token `i`'s text among the file's names.
    #[inline(always)]
    fn name(&mut self, i: usize) -> usize {
        if self.name_of[i] == UNSEEN {
            self.number_name(i);
        }
        self.name_of[i] as usize
    }

    /// Number token `i`'s text among the file's names: once per token.
    #[inline(never)]
    fn number_name(&mut self, i: usize) {
        let t = self.tokens[i];
        let next = self.names.len() as u32;
        let name = *self
            .names
            .entry(&self.source[t.start as usize..t.end as usize])
            .or_insert(next);
        if name == next {
            // Stamp 0 is no shape's: a new name is unnumbered in every shape.
            self.as_name.push((0, 0));
            self.as_member.push((0, 0));
        }
        self.name_of[i] = name;
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
pub(super) fn token_hash(text: &[u8]) -> u64 {
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

/// A fast 64-bit mixer (splitmix64's finalizer).
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use crate::fingerprint::testing::*;

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
    fn inconsistent_renaming_is_not_a_type_2_clone() {
        let a = one("python", "def f(a, b):\n    return a + b\n");
        let b = one("python", "def f(a, b):\n    return a + a\n");
        assert_ne!(a.shape, b.shape);
    }
}
