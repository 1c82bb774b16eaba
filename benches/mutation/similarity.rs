//! Similarity measures: the blind line similarity that defines the type-3 bands, the raw line
//! similarity it refines, and the raw-token LCS ratio that keeps planted functions apart from
//! each other.

use std::collections::HashMap;

use cpt::parse::lang::{Language, NodeClass};
use tree_sitter::{Node, Tree};

use super::syntax::walk;

/// FNV-1a: a stable 64-bit hash for line and token texts (std's hasher is randomly seeded).
pub fn text_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The raw lines of `start..end`: comments removed (so a comment-only line disappears and a
/// trailing comment does not count), all whitespace removed, blank lines dropped; each line
/// hashed. Type-1 copies measure 1.0 this way; renames and other literals move it.
pub fn normalized_lines(
    lang: &Language,
    tree: &Tree,
    source: &[u8],
    start: usize,
    end: usize,
) -> Vec<u64> {
    let mut comments = Vec::new();
    walk(tree.root_node(), |node| {
        if node.end_byte() <= start || node.start_byte() >= end {
            return false;
        }
        if lang.class(node.kind_id()) == NodeClass::Skip {
            comments.push((node.start_byte(), node.end_byte()));
            return false;
        }
        true
    });
    let mut lines = Vec::new();
    let mut line = Vec::new();
    let mut comments = comments.into_iter().peekable();
    let mut at = start;
    while at < end {
        if let Some(&(from, to)) = comments.peek()
            && at >= from
        {
            at = at.max(to);
            comments.next();
            continue;
        }
        let byte = source[at];
        if byte == b'\n' {
            if !line.is_empty() {
                lines.push(text_hash(&line));
                line.clear();
            }
        } else if !byte.is_ascii_whitespace() {
            line.push(byte);
        }
        at += 1;
    }
    if !line.is_empty() {
        lines.push(text_hash(&line));
    }
    lines
}

/// Placeholders of the blind lines: every identifier (and built-in type) one, every literal
/// another; neither byte occurs in source text.
const IDENTIFIER: u8 = 0x01;
const LITERAL: u8 = 0x02;

/// The lines of `start..end` after blind normalization, as the type-3 bands measure them (in
/// the way published benchmarks such as BigCloneBench measure type-3 similarity): every
/// identifier and built-in type name becomes one placeholder and every literal another,
/// comments and whitespace are removed, blank lines dropped; each line hashed. Consistent
/// renames, other literal values and type swaps do not move it; a token spanning lines (a
/// multi-line string) counts on its first line. `root` is any node holding the range.
pub fn blind_lines(
    lang: &Language,
    root: Node<'_>,
    source: &[u8],
    start: usize,
    end: usize,
) -> Vec<u64> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut row = None;
    walk(root, |node| {
        if node.end_byte() <= start || node.start_byte() >= end {
            return false;
        }
        let class = lang.class(node.kind_id());
        if class == NodeClass::Other && node.child_count() > 0 {
            return true;
        }
        if class == NodeClass::Skip || node.end_byte() == node.start_byte() {
            return false;
        }
        let at = node.start_position().row;
        if row != Some(at) {
            if !line.is_empty() {
                lines.push(text_hash(&line));
                line.clear();
            }
            row = Some(at);
        }
        match class {
            NodeClass::Identifier | NodeClass::Member | NodeClass::Type => line.push(IDENTIFIER),
            NodeClass::Literal => line.push(LITERAL),
            _ => line.extend(
                source[node.start_byte()..node.end_byte()]
                    .iter()
                    .filter(|b| !b.is_ascii_whitespace()),
            ),
        }
        false
    });
    if !line.is_empty() {
        lines.push(text_hash(&line));
    }
    lines
}

/// `2·LCS / (m + n)` over two line sequences (1.0 for two empty ones).
pub fn line_similarity(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    2.0 * lcs_table(a, b) as f64 / (a.len() + b.len()) as f64
}

/// Classic dynamic-programming LCS with one row: functions are at most 60 lines.
fn lcs_table(a: &[u64], b: &[u64]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A token sequence prepared for bit-parallel LCS (Hyyrö) against many others: the near-copy
/// check compares each picked function with every other one in its round.
pub struct LcsPattern {
    len: usize,
    words: usize,
    masks: HashMap<u32, Vec<u64>>,
}

impl LcsPattern {
    pub fn new(tokens: &[u32]) -> LcsPattern {
        let words = tokens.len().div_ceil(64).max(1);
        let mut masks: HashMap<u32, Vec<u64>> = HashMap::new();
        for (i, &t) in tokens.iter().enumerate() {
            masks.entry(t).or_insert_with(|| vec![0; words])[i / 64] |= 1 << (i % 64);
        }
        LcsPattern {
            len: tokens.len(),
            words,
            masks,
        }
    }

    pub fn lcs(&self, other: &[u32]) -> usize {
        let mut v = vec![u64::MAX; self.words];
        for t in other {
            let Some(mask) = self.masks.get(t) else {
                continue;
            };
            let mut carry = 0u64;
            for (vk, &mk) in v.iter_mut().zip(mask) {
                let u = *vk & mk;
                let (sum, c1) = vk.overflowing_add(u);
                let (sum, c2) = sum.overflowing_add(carry);
                carry = u64::from(c1 || c2);
                *vk = sum | (*vk & !mk);
            }
        }
        let ones: usize = v
            .iter()
            .enumerate()
            .map(|(k, &w)| {
                let bits = (self.len - (k * 64).min(self.len)).min(64);
                let mask = if bits == 64 {
                    u64::MAX
                } else {
                    (1 << bits) - 1
                };
                (w & mask).count_ones() as usize
            })
            .sum();
        self.len - ones
    }

    /// Whether two token sequences are related: an LCS ratio of at least `ratio`, or the
    /// shorter one at least `containment` contained in the longer (`LCS / min(m, n)`): a small
    /// function repeated inside a big one is a real block-level clone, though the ratio of
    /// the two wholes is low.
    pub fn related(&self, other: &[u32], ratio: f64, containment: f64) -> bool {
        let shorter = self.len.min(other.len());
        if shorter == 0 {
            return self.len == other.len();
        }
        let lcs = self.lcs(other) as f64;
        2.0 * lcs / (self.len + other.len()) as f64 >= ratio || lcs / shorter as f64 >= containment
    }
}
