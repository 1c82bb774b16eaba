//! Near-miss (type-3) detection over shapes. Pure: no I/O.
//!
//! The nodes are distinct shapes (every unit with one shape hash has the same similarity
//! codes), so renamed copies are verified once. Candidates come from locality-sensitive
//! hashing: two shapes whose MinHash sketches share a band key, in a band bucket of at most
//! [`Params::bucket_cap`] shapes, that pass a length bound and share names.
//! Each candidate is verified with the token LCS ratio (`2·LCS/(m+n)`, [`Matcher`]); pairs
//! at or above the threshold are edges. Classes come from [`cluster`]: a greedy leader
//! clustering in a fixed order, so every member is similar to its class's representative and
//! chains never glue unrelated code together.

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::fingerprint::{Sketch, mix64, overlap};

/// What decides the edges. Part of the catalogue's settings: changing any recomputes them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Verified similarity an edge needs (`2·LCS/(m+n)` of the codes).
    pub min_similarity: f64,
    /// Band buckets holding more shapes than this are too common to say anything.
    pub bucket_cap: usize,
    /// Overlap of the two shapes' name sets (shared names over the smaller set) an edge needs:
    /// near-miss copies keep most names, code that merely shares a shape does not.
    pub min_names: f64,
    /// Similarity of the two shapes' identifier sequences (`2·LCS/(m+n)` of their names in
    /// order) an edge needs: a copy-and-edit keeps most names in place, two uses of one idiom
    /// or two operations of one template share names but not their sequence.
    pub min_idents: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            min_similarity: 0.7,
            bucket_cap: 64,
            min_names: 0.8,
            min_idents: 0.6,
        }
    }
}

impl Params {
    /// A text naming every parameter, stored with the catalogue.
    pub fn key(&self) -> String {
        format!(
            "near/3 sim={} cap={} names={} idents={}",
            self.min_similarity, self.bucket_cap, self.min_names, self.min_idents
        )
    }

    /// The parameters named by [`Params::key`].
    pub fn from_key(key: &str) -> Option<Params> {
        let mut words = key.split(' ');
        if words.next()? != "near/3" {
            return None;
        }
        let mut value = |name: &str| {
            words
                .next()?
                .strip_prefix(name)?
                .strip_prefix('=')
                .map(str::to_string)
        };
        Some(Params {
            min_similarity: value("sim")?.parse().ok()?,
            bucket_cap: value("cap")?.parse().ok()?,
            min_names: value("names")?.parse().ok()?,
            min_idents: value("idents")?.parse().ok()?,
        })
    }
}

/// A shape as the near-miss detector sees it.
#[derive(Clone, Debug)]
pub struct Shape {
    pub key: u64,
    pub codes: Vec<u16>,
    /// Sorted name hashes of the shape's units (their union).
    pub names: Vec<u16>,
}

/// A shape in a band bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Member {
    pub shape: u64,
    /// Its length: a shape has one code per token.
    pub tokens: u32,
    /// A sketch of its names, where the bucket comes from the index. In memory the names
    /// themselves are at hand, and the verifier checks them.
    pub names: Option<NameSketch>,
}

/// One bit of 64 per name (chosen by the name's hash) and the number of names: enough to
/// bound from above how many of another set's names a shape can share, without reading its
/// names. The index keeps one per near-miss shape, so that candidates whose names cannot
/// pass [`Params::min_names`] are dropped before their codes are read from the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NameSketch {
    pub bits: u64,
    pub count: u32,
}

impl NameSketch {
    pub fn of(names: &[u16]) -> NameSketch {
        NameSketch {
            bits: names.iter().fold(0, |bits, &n| bits | Self::bit(n)),
            count: names.len() as u32,
        }
    }

    fn bit(name: u16) -> u64 {
        1 << (mix64(u64::from(name)) >> 58)
    }

    /// An upper bound of `overlap(names, other)` for every name set `other` with this
    /// sketch: a shared name has its bit set, and no more names are shared than `other` has.
    pub fn overlap_bound(&self, names: &[u16]) -> f64 {
        let count = self.count as usize;
        if names.is_empty() || count == 0 {
            return 1.0;
        }
        let possible = names
            .iter()
            .filter(|&&n| self.bits & Self::bit(n) != 0)
            .count();
        possible.min(count) as f64 / names.len().min(count) as f64
    }
}

/// Where near-miss candidates come from: the shapes whose sketches share a band key. The
/// mapped index ([`crate::index::Segments`]) answers for incremental classification and
/// `cpt similar`; [`MemoryBuckets`], built from the same band keys, answers when every shape
/// is classified at once. Keys compare on their low 32 bits, as the index stores them.
pub trait Buckets {
    type Error;
    /// The shapes in the bucket of a band key, sorted by shape.
    fn bucket(&self, key: u64) -> Result<Vec<Member>, Self::Error>;
    /// The bucket, or `None` when it holds more than `cap` shapes.
    fn bucket_up_to(&self, key: u64, cap: usize) -> Result<Option<Vec<Member>>, Self::Error> {
        Ok(Some(self.bucket(key)?).filter(|b| b.len() <= cap))
    }
}

/// Band buckets held in memory, for classifying every shape at once: one sorted table of
/// (key, shape, tokens), as the index lays out its band table (most buckets hold one shape,
/// so a map of vectors would spend more on allocations than on entries).
pub struct MemoryBuckets {
    entries: Vec<(u32, u64, u32)>,
}

impl MemoryBuckets {
    /// Bucket every shape that has codes by its band keys.
    pub fn build(shapes: &[&Shape]) -> MemoryBuckets {
        let mut entries: Vec<(u32, u64, u32)> = shapes
            .par_iter()
            .filter(|s| !s.codes.is_empty())
            .flat_map_iter(|s| {
                let tokens = s.codes.len() as u32;
                Sketch::of(&s.codes)
                    .band_keys()
                    .map(|k| (k as u32, s.key, tokens))
            })
            .collect();
        entries.par_sort_unstable();
        entries.dedup();
        MemoryBuckets { entries }
    }
}

impl Buckets for MemoryBuckets {
    type Error = std::convert::Infallible;
    fn bucket(&self, key: u64) -> Result<Vec<Member>, Self::Error> {
        let key = key as u32;
        let start = self.entries.partition_point(|e| e.0 < key);
        Ok(self.entries[start..]
            .iter()
            .take_while(|e| e.0 == key)
            .map(|&(_, shape, tokens)| Member {
                shape,
                tokens,
                names: None,
            })
            .collect())
    }
}

/// Near-miss candidates of a shape: the other shapes of its buckets that hold at most
/// `params.bucket_cap` shapes, whose length (a shape has one code per token) allows
/// `params.min_similarity` and whose name sketch, if the bucket has one, allows
/// `params.min_names`, sorted. Both bounds drop only what [`Verifier`] would reject.
pub fn candidates<B: Buckets>(
    buckets: &B,
    shape: &Shape,
    params: &Params,
) -> Result<Vec<u64>, B::Error> {
    let mut out = Vec::new();
    if shape.codes.is_empty() {
        return Ok(out);
    }
    let len = shape.codes.len();
    for key in Sketch::of(&shape.codes).band_keys() {
        if let Some(bucket) = buckets.bucket_up_to(key, params.bucket_cap)? {
            out.extend(bucket.into_iter().filter_map(|m| {
                (m.shape != shape.key
                    && ratio_bound(len, m.tokens as usize) >= params.min_similarity
                    && m.names
                        .is_none_or(|n| n.overlap_bound(&shape.names) >= params.min_names))
                .then_some(m.shape)
            }));
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Edges (pairs of shape keys `a < b`, with their similarity) of every shape in `from`
/// against its candidates (`candidates[i]` for `from[i]`). `shapes` holds every shape named.
/// A pair with both ends in `from` is verified once.
pub fn edges(
    from: &[u64],
    candidates: &[Vec<u64>],
    shapes: &FxHashMap<u64, Shape>,
    params: &Params,
) -> Vec<(u64, u64, f32)> {
    let in_from: FxHashSet<u64> = from.iter().copied().collect();
    let mut edges: Vec<(u64, u64, f32)> = from
        .par_iter()
        .zip(candidates.par_iter())
        .with_min_len(16)
        .map_init(Matcher::default, |matcher, (&key, candidates)| {
            let mut found = Vec::new();
            let Some(shape) = shapes.get(&key) else {
                return found;
            };
            let mut verifier = Verifier::new(shape, matcher);
            for &other in candidates {
                if in_from.contains(&other) && other < key {
                    continue;
                }
                let Some(other_shape) = shapes.get(&other) else {
                    continue;
                };
                if let Some(sim) = verifier.similarity(other_shape, params) {
                    found.push((key.min(other), key.max(other), sim as f32));
                }
            }
            found
        })
        .flatten()
        .collect();
    edges.sort_unstable_by_key(|&(a, b, _)| (a, b));
    edges.dedup_by_key(|&mut (a, b, _)| (a, b));
    edges
}

/// Verifies near-miss candidates of one shape: the length bound, the shared names, then the
/// LCS ratio of the codes. Detection and `cpt similar` both verify through it. The first full
/// verification prepares the matcher with the shape's codes; dropping the verifier releases it.
pub struct Verifier<'a> {
    shape: &'a Shape,
    matcher: &'a mut Matcher,
    prepared: bool,
}

impl<'a> Verifier<'a> {
    pub fn new(shape: &'a Shape, matcher: &'a mut Matcher) -> Verifier<'a> {
        Verifier {
            shape,
            matcher,
            prepared: false,
        }
    }

    /// The similarity of `other` to the shape, if it reaches `params.min_similarity` and the
    /// two share enough names.
    pub fn similarity(&mut self, other: &Shape, params: &Params) -> Option<f64> {
        let (a, b) = (&self.shape.codes, &other.codes);
        if a.is_empty()
            || b.is_empty()
            || ratio_bound(a.len(), b.len()) < params.min_similarity
            || overlap(&self.shape.names, &other.names) < params.min_names
        {
            return None;
        }
        if !self.prepared {
            self.matcher.prepare(a);
            self.prepared = true;
        }
        let sim = ratio(self.matcher.lcs(b), a.len(), b.len());
        (sim >= params.min_similarity).then_some(sim)
    }
}

impl Drop for Verifier<'_> {
    fn drop(&mut self) {
        if self.prepared {
            self.matcher.release(&self.shape.codes);
        }
    }
}

/// `2·common/(m+n)`: the similarity of two sequences of lengths `m` and `n` sharing `common`.
fn ratio(common: usize, m: usize, n: usize) -> f64 {
    if m + n == 0 {
        return 1.0;
    }
    2.0 * common as f64 / (m + n) as f64
}

/// The highest similarity two sequences of these lengths can have.
pub fn ratio_bound(m: usize, n: usize) -> f64 {
    ratio(m.min(n), m, n)
}

/// Whether some copy of one shape and some copy of the other keep their names in the same
/// order: the similarity of their identifier sequences (`2·LCS/(m+n)`, 1 when both are
/// empty) reaches `min`. Each side lists the sequences of its distinct copies.
pub fn names_in_order(a: &[Vec<u16>], b: &[Vec<u16>], min: f64, matcher: &mut Matcher) -> bool {
    a.iter().any(|x| {
        if x.is_empty() {
            return b.iter().any(|y| ratio(0, 0, y.len()) >= min);
        }
        matcher.prepare(x);
        let found = b
            .iter()
            .any(|y| ratio(matcher.lcs(y), x.len(), y.len()) >= min);
        matcher.release(x);
        found
    })
}

/// Bit-parallel LCS against one prepared sequence (Hyyrö), with a direct symbol table so a
/// verification costs one table read and `|a|/64` word operations per token of the other side.
pub struct Matcher {
    /// Symbol → 1 + its row in `masks`; 0 when absent.
    slots: Vec<u16>,
    masks: Vec<u64>,
    words: usize,
    len: usize,
    v: Vec<u64>,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            slots: vec![0; 1 << 16],
            masks: Vec::new(),
            words: 0,
            len: 0,
            v: Vec::new(),
        }
    }
}

impl Matcher {
    /// Build the match masks of `a`.
    pub fn prepare(&mut self, a: &[u16]) {
        self.words = a.len().div_ceil(64).max(1);
        self.len = a.len();
        self.masks.clear();
        let mut rows = 0usize;
        for (i, &c) in a.iter().enumerate() {
            let slot = &mut self.slots[usize::from(c)];
            if *slot == 0 {
                rows += 1;
                // Codes are u16, so a sequence has at most 65,536 distinct symbols; the
                // saturation only matters for absurd inputs and keeps the index in range.
                *slot = rows.min(usize::from(u16::MAX)) as u16;
                self.masks.resize(rows * self.words, 0);
            }
            let row = usize::from(*slot) - 1;
            self.masks[row * self.words + i / 64] |= 1 << (i % 64);
        }
    }

    /// Forget `a` (the sequence last prepared), leaving the table clean for the next.
    pub fn release(&mut self, a: &[u16]) {
        for &c in a {
            self.slots[usize::from(c)] = 0;
        }
    }

    /// LCS length of the prepared sequence and `b`.
    pub fn lcs(&mut self, b: &[u16]) -> usize {
        let words = self.words;
        self.v.clear();
        self.v.resize(words, u64::MAX);
        let last_bits = self.len % 64;
        let last_mask = if last_bits == 0 {
            u64::MAX
        } else {
            (1u64 << last_bits) - 1
        };
        self.v[words - 1] = last_mask;
        if self.len == 0 {
            return 0;
        }
        for &c in b {
            let slot = self.slots[usize::from(c)];
            if slot == 0 {
                continue;
            }
            let mask = &self.masks[(usize::from(slot) - 1) * words..usize::from(slot) * words];
            let mut carry = 0u64;
            for (w, &m) in self.v.iter_mut().zip(mask) {
                let u = *w & m;
                let (sum, c1) = w.overflowing_add(u);
                let (sum, c2) = sum.overflowing_add(carry);
                carry = u64::from(c1 || c2);
                *w = sum | (*w & !m);
            }
            self.v[words - 1] &= last_mask;
        }
        self.len
            - self
                .v
                .iter()
                .map(|w| w.count_ones() as usize)
                .sum::<usize>()
    }
}

/// A node of the clustering: a shape with how many units have it and their size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    pub key: u64,
    pub units: u32,
    pub tokens: u32,
}

/// A class of shapes: the representative and the shapes similar to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub leader: u64,
    /// Member shapes other than the leader, with their similarity to it, by key.
    pub members: Vec<(u64, f32)>,
}

/// Greedy leader clustering. Shapes are taken by units (descending), size (descending) and key;
/// each not yet taken becomes a leader and takes every untaken neighbour. Deterministic: the
/// result depends only on the nodes and edges, so clustering the components touched by a
/// change gives what clustering everything would.
///
/// Returns every cluster with at least two units (two shapes, or one shape with two units).
pub fn cluster(nodes: &[Node], edges: &[(u64, u64, f32)]) -> Vec<Cluster> {
    let mut order: Vec<&Node> = nodes.iter().collect();
    order.sort_unstable_by(|x, y| {
        y.units
            .cmp(&x.units)
            .then(y.tokens.cmp(&x.tokens))
            .then(x.key.cmp(&y.key))
    });
    let mut neighbours: FxHashMap<u64, Vec<(u64, f32)>> = FxHashMap::default();
    for &(a, b, sim) in edges {
        neighbours.entry(a).or_default().push((b, sim));
        neighbours.entry(b).or_default().push((a, sim));
    }
    let known: FxHashSet<u64> = nodes.iter().map(|n| n.key).collect();
    let mut taken: FxHashSet<u64> = FxHashSet::default();
    let mut clusters = Vec::new();
    for node in order {
        if !taken.insert(node.key) {
            continue;
        }
        let mut members: Vec<(u64, f32)> = neighbours
            .get(&node.key)
            .map(|n| {
                n.iter()
                    .filter(|(key, _)| known.contains(key) && !taken.contains(key))
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        members.sort_unstable_by_key(|&(key, _)| key);
        members.dedup_by_key(|&mut (key, _)| key);
        for &(key, _) in &members {
            taken.insert(key);
        }
        if node.units >= 2 || !members.is_empty() {
            clusters.push(Cluster {
                leader: node.key,
                members,
            });
        }
    }
    clusters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_sketch_bounds_the_overlap_from_above_and_prunes_unrelated_names() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: u64| {
            state = mix64(state.wrapping_add(1));
            state % bound
        };
        let mut pruned = 0;
        for round in 0..2000 {
            // Two name sets drawn from a small vocabulary (sharing a lot) or a large one.
            let vocabulary = if round % 2 == 0 { 40 } else { 60_000 };
            let mut set = || {
                let n = next(30);
                let mut v: Vec<u16> = (0..n).map(|_| next(vocabulary) as u16).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let (a, b) = (set(), set());
            let bound = NameSketch::of(&b).overlap_bound(&a);
            assert!(bound >= overlap(&a, &b), "{a:?} {b:?}");
            if !a.is_empty() && !b.is_empty() && bound < 0.8 {
                pruned += 1;
            }
        }
        // Unrelated sets (the large vocabulary) are mostly told apart without their names.
        assert!(pruned > 700, "{pruned}");
    }

    /// The verification measure of two whole streams.
    fn similarity(a: &[u16], b: &[u16]) -> f64 {
        let mut matcher = Matcher::default();
        matcher.prepare(a);
        ratio(matcher.lcs(b), a.len(), b.len())
    }

    /// The textbook dynamic programme, for checking the bit-parallel one.
    fn lcs_slow(a: &[u16], b: &[u16]) -> usize {
        let mut row = vec![0usize; b.len() + 1];
        for &x in a {
            let mut diagonal = 0;
            for (j, &y) in b.iter().enumerate() {
                let above = row[j + 1];
                row[j + 1] = if x == y {
                    diagonal + 1
                } else {
                    row[j + 1].max(row[j])
                };
                diagonal = above;
            }
        }
        row[b.len()]
    }

    #[test]
    fn bit_parallel_lcs_equals_the_dynamic_programme() {
        // A small deterministic generator: lengths across word boundaries, few symbols.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        let mut matcher = Matcher::default();
        for _ in 0..300 {
            let (m, n) = (next(200) as usize, next(200) as usize);
            let alphabet = 1 + next(12);
            let a: Vec<u16> = (0..m).map(|_| next(alphabet) as u16).collect();
            let b: Vec<u16> = (0..n).map(|_| next(alphabet) as u16).collect();
            matcher.prepare(&a);
            assert_eq!(matcher.lcs(&b), lcs_slow(&a, &b), "{a:?} {b:?}");
            matcher.release(&a);
        }
    }

    #[test]
    fn similarity_of_edits() {
        let base: Vec<u16> = (0..100).collect();
        assert_eq!(similarity(&base, &base), 1.0);
        assert_eq!(similarity(&[], &[]), 1.0);
        assert_eq!(similarity(&base, &[]), 0.0);
        let mut inserted = base.clone();
        inserted.splice(50..50, 200..220);
        assert!((similarity(&base, &inserted) - 200.0 / 220.0).abs() < 1e-9);
        let reversed: Vec<u16> = base.iter().rev().copied().collect();
        assert!(similarity(&base, &reversed) < 0.05);
    }

    fn shape(key: u64, codes: Vec<u16>) -> Shape {
        Shape {
            key,
            codes,
            names: vec![1, 2, 3],
        }
    }

    /// A deterministic stream of "statements": runs of codes drawn from a wide alphabet.
    fn stream(seed: u64, len: usize) -> Vec<u16> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                2 + (state % 3000) as u16
            })
            .collect()
    }

    #[test]
    fn matcher_agrees_with_the_reference_lcs_and_can_be_reused() {
        let mut matcher = Matcher::default();
        for seed in 0..50u64 {
            let a = stream(seed, 10 + (seed as usize * 7) % 190);
            let mut b = stream(seed + 1000, 30);
            b.extend_from_slice(&a[a.len() / 3..]);
            matcher.prepare(&a);
            // A reused matcher answers as a fresh one does.
            assert_eq!(matcher.lcs(&b), lcs_slow(&a, &b));
            assert_eq!(matcher.lcs(&a), a.len());
            matcher.release(&a);
        }
        assert!(matcher.slots.iter().all(|&s| s == 0));
    }

    #[test]
    fn near_copies_become_edges_and_unrelated_code_does_not() {
        let base = stream(1, 200);
        let mut edited = base.clone();
        edited.splice(100..110, stream(2, 14));
        let mut far = base.clone();
        far.splice(20..120, stream(3, 100));
        let shapes = vec![
            shape(10, base),
            shape(11, edited),
            shape(12, stream(4, 200)),
            shape(13, far),
            shape(14, Vec::new()),
        ];
        let params = Params::default();
        let edges_of = |shapes: &[Shape], from: &[u64]| {
            let buckets = MemoryBuckets::build(&shapes.iter().collect::<Vec<_>>());
            let map: FxHashMap<u64, Shape> = shapes.iter().map(|s| (s.key, s.clone())).collect();
            let candidates: Vec<Vec<u64>> = from
                .iter()
                .map(|k| candidates(&buckets, &map[k], &params).unwrap())
                .collect();
            edges(from, &candidates, &map, &params)
        };
        let all: Vec<u64> = shapes.iter().map(|s| s.key).collect();
        let found = edges_of(&shapes, &all);
        assert_eq!(found.len(), 1, "{found:?}");
        let (a, b, sim) = found[0];
        assert_eq!((a, b), (10, 11));
        assert!((0.9..1.0).contains(&sim), "{sim}");
        // Asking for one end finds the same edge.
        assert_eq!(edges_of(&shapes, &[11]), found);
        assert!(edges_of(&shapes, &[12, 13, 14]).is_empty());
        // The same near-miss with other names is code that only shares a shape.
        let mut renamed = shapes.clone();
        renamed[1].names = vec![7, 8, 9];
        assert!(edges_of(&renamed, &all).is_empty());
    }

    #[test]
    fn names_must_keep_their_order_in_some_pair_of_copies() {
        let mut matcher = Matcher::default();
        let copy = vec![1, 2, 3, 1, 2, 3, 4, 5];
        // The same names in another order: one template's other operation, or one idiom.
        let reordered = vec![5, 4, 3, 2, 1, 3, 2, 1];
        // A few names changed in place is still a copy.
        let edited = vec![1, 2, 3, 1, 9, 3, 4, 5];
        let one = std::slice::from_ref;
        assert!(!names_in_order(
            one(&copy),
            one(&reordered),
            0.5,
            &mut matcher
        ));
        assert!(names_in_order(one(&copy), one(&edited), 0.5, &mut matcher));
        // One agreeing pair among the copies is enough, whichever side it is on.
        assert!(names_in_order(
            &[reordered.clone(), copy.clone()],
            &[vec![7, 7], edited],
            0.5,
            &mut matcher
        ));
        assert!(names_in_order(
            &[Vec::new()],
            &[Vec::new()],
            0.5,
            &mut matcher
        ));
        assert!(!names_in_order(&[Vec::new()], &[copy], 0.5, &mut matcher));
    }

    fn node(key: u64, units: u32) -> Node {
        Node {
            key,
            units,
            tokens: 100,
        }
    }

    #[test]
    fn leaders_take_their_neighbours_and_chains_do_not_glue() {
        // 1 ~ 2 ~ 3 ~ 4: a chain. 1 leads {1, 2}; 3 leads {3, 4}; 2 and 3 never meet 1's class.
        let nodes = [node(1, 3), node(2, 1), node(3, 2), node(4, 1), node(5, 1)];
        let edges = [(1, 2, 0.8), (2, 3, 0.8), (3, 4, 0.9)];
        let clusters = cluster(&nodes, &edges);
        assert_eq!(
            clusters,
            [
                Cluster {
                    leader: 1,
                    members: vec![(2, 0.8)]
                },
                Cluster {
                    leader: 3,
                    members: vec![(4, 0.9)]
                },
            ]
        );
        // A lone shape with one unit is no class; with two it is (a type-1/2 class).
        assert!(cluster(&[node(7, 1)], &[]).is_empty());
        assert_eq!(cluster(&[node(7, 2)], &[]).len(), 1);
    }

    #[test]
    fn clustering_does_not_depend_on_input_order() {
        let nodes = [node(1, 1), node(2, 1), node(3, 1), node(4, 2)];
        let edges = [(1, 2, 0.8), (2, 4, 0.8), (3, 4, 0.75)];
        let mut reversed_nodes = nodes;
        reversed_nodes.reverse();
        let mut reversed_edges = edges;
        reversed_edges.reverse();
        assert_eq!(
            cluster(&nodes, &edges),
            cluster(&reversed_nodes, &reversed_edges)
        );
    }
}
