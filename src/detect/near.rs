//! Near-miss (type-3) detection over shapes. Pure: no I/O.
//!
//! The nodes are distinct shapes (every unit with one shape hash has the same similarity
//! codes), so renamed copies are verified once. Candidates come from locality-sensitive
//! hashing: two shapes whose MinHash sketches share a band key, in a band bucket of at most
//! [`Params::bucket_cap`] shapes — or, in a crowded bucket of at most [`Params::crowd_cap`],
//! that also share the next band's key — that pass a length bound. [`Verifier`] checks each: the
//! token LCS ratio of the codes (`2·LCS/(m+n)`, identifiers abstracted, [`Matcher`]) must
//! reach [`Params::min_similarity`], and the content the alignment pairs up must cover the
//! two shapes' names and literals ([`coverage`]): equal names and values, or names renamed
//! consistently (Baker's parameterized match), never a bar on shared names. Such a pair is an
//! edge, scored by similarity × coverage. An edge is a *clone edge* when neither end has
//! another edge scoring higher by more than [`Params::margin`] ([`ClonePolicy`]): what many
//! units share alike (a test skeleton, an interface's boilerplate) is an idiom, and only a
//! pair that is each other's closest match is a copy. Classes come from [`cluster`]: a
//! greedy leader clustering over clone edges in a fixed order, so every member is similar to
//! its class's representative and chains never glue unrelated code together.

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::fingerprint::{BANDS, MEMBER, NAME, Sketch, VALUE, has_content};

/// What decides the edges. Part of the catalogue's settings: changing any recomputes them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Verified similarity an edge needs (`2·LCS/(m+n)` of the codes).
    pub min_similarity: f64,
    /// Band buckets holding more shapes than this are too common to say anything alone:
    /// their shapes are candidates only when they also share the next band's key.
    pub bucket_cap: usize,
    /// Band buckets holding more shapes than this say nothing even with a second band.
    pub crowd_cap: usize,
    /// Share of the two shapes' distinct names and literals the alignment must explain
    /// ([`coverage`]) for an edge.
    pub min_coverage: f64,
    /// Share of the aligned names the renaming must agree with ([`coverage`]): below it the
    /// names are paired inconsistently, and nothing is explained.
    pub min_consistency: f64,
    /// Score (similarity × coverage) an edge needs: the less alike two shapes are, the more
    /// of their content the alignment must explain.
    pub min_score: f64,
    /// How much higher than an edge's score another edge of one of its ends may score for
    /// it to stay a clone edge ([`ClonePolicy`]).
    pub margin: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            min_similarity: 0.65,
            bucket_cap: 64,
            crowd_cap: 1024,
            min_coverage: 0.45,
            min_consistency: 0.75,
            min_score: 0.33,
            margin: 0.01,
        }
    }
}

impl Params {
    /// The score below which a structural neighbour (a pair that does not pass as a copy)
    /// never changes a clone edge: a copy scores at least `min_score`, and [`ClonePolicy`]
    /// weighs only other edges within [`FAMILY_GAP`] of it. A hundredth lower, so rounding
    /// never drops one that weighs. Most neighbours score below it; they are not kept.
    pub fn neighbour_floor(&self) -> f64 {
        self.min_score - f64::from(FAMILY_GAP) - 0.01
    }

    /// A text naming every parameter, stored with the catalogue. The version changes with
    /// the clone policy and the candidates too (5: [`CROWDED`]; 6: crowded buckets through a
    /// second band; 7: sketches of four-code shingles in twenty bands; 8: windows keep some
    /// of even one or two values), so a catalogue classified by another one is classified
    /// again.
    pub fn key(&self) -> String {
        format!(
            "near/8 sim={} cap={} crowd={} coverage={} consistency={} score={} margin={}",
            self.min_similarity,
            self.bucket_cap,
            self.crowd_cap,
            self.min_coverage,
            self.min_consistency,
            self.min_score,
            self.margin
        )
    }

    /// The parameters named by [`Params::key`].
    pub fn from_key(key: &str) -> Option<Params> {
        let mut words = key.split(' ');
        if words.next()? != "near/8" {
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
            crowd_cap: value("crowd")?.parse().ok()?,
            min_coverage: value("coverage")?.parse().ok()?,
            min_consistency: value("consistency")?.parse().ok()?,
            min_score: value("score")?.parse().ok()?,
            margin: value("margin")?.parse().ok()?,
        })
    }
}

/// Distinct copies of a shape (the first by exact hash) whose content is compared with
/// another shape's.
pub const COPIES: usize = 4;

/// A shape as the near-miss detector sees it.
#[derive(Clone, Debug, Default)]
pub struct Shape {
    pub key: u64,
    pub codes: Vec<u16>,
    /// The content ([`crate::fingerprint::content_codes`]) of the shape's first distinct
    /// copies by exact hash, at most [`COPIES`].
    pub copies: Vec<Vec<u16>>,
}

/// A shape in a band bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Member {
    pub shape: u64,
    /// Its length: a shape has one code per token.
    pub tokens: u32,
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
    /// The shapes in both the bucket of `key` and that of `also` (sorted by shape), when
    /// each holds at most `cap` shapes; else `None`.
    fn shared(&self, key: u64, also: u64, cap: usize) -> Result<Option<Vec<Member>>, Self::Error> {
        let (Some(a), Some(b)) = (self.bucket_up_to(key, cap)?, self.bucket_up_to(also, cap)?)
        else {
            return Ok(None);
        };
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < a.len() && j < b.len() {
            match a[i].shape.cmp(&b[j].shape) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    out.push(a[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        Ok(Some(out))
    }
    /// The [`candidates`] of each of these shapes; with `above`, only those whose key is
    /// greater than the shape's (for a caller that verifies each pair from its smaller key
    /// and asks for every shape's candidates).
    fn candidates_of(
        &self,
        shapes: &[&Shape],
        params: &Params,
        above: bool,
    ) -> Result<Vec<Vec<u64>>, Self::Error>
    where
        Self: Sized,
    {
        shapes
            .iter()
            .map(|s| candidates_above(self, s, params, above))
            .collect()
    }
}

/// Band buckets held in memory, for classifying every shape at once: one sorted table of
/// (key, shape, tokens), as the index lays out its band table (most buckets hold one shape,
/// so a map of vectors would spend more on allocations than on entries).
pub struct MemoryBuckets {
    /// (low half of the band key, position in `shapes`), sorted: 8 bytes an entry, and a
    /// first scan has a million.
    entries: Vec<(u32, u32)>,
    /// The bucketed shapes by key: (key, tokens).
    shapes: Vec<(u64, u32)>,
    /// Where the entries whose key has each top [`TOP_BITS`] bits start (one more at the
    /// end): a lookup searches a few entries instead of millions.
    starts: Vec<u32>,
}

/// The bits of a band key that [`MemoryBuckets::starts`] tells apart: a few dozen entries
/// share each (256 KiB of starts). Twenty bits (4 MiB, a handful of entries each) saved no
/// measurable time on the standard library.
const TOP_BITS: u32 = 16;

impl MemoryBuckets {
    /// Bucket every shape that has codes by its band keys.
    pub fn build(shapes: &[&Shape]) -> MemoryBuckets {
        let mut with_codes: Vec<&&Shape> = shapes.iter().filter(|s| !s.codes.is_empty()).collect();
        // Positions in key order, so that entries sorted by position are sorted by shape.
        with_codes.sort_unstable_by_key(|s| s.key);
        with_codes.dedup_by_key(|s| s.key);
        let keys: Vec<[u64; BANDS]> = with_codes
            .par_iter()
            .map(|s| Sketch::of(&s.codes).band_keys())
            .collect();
        // One table of exactly the size needed (a parallel flat collect would hold it twice
        // over at a first scan's peak).
        let mut entries: Vec<(u32, u32)> = Vec::with_capacity(keys.len() * BANDS);
        for (i, keys) in keys.iter().enumerate() {
            entries.extend(keys.iter().map(|&k| (k as u32, i as u32)));
        }
        drop(keys);
        entries.par_sort_unstable();
        entries.dedup();
        // Counts per top bits, then their running sums.
        let mut starts = vec![0u32; (1 << TOP_BITS) + 1];
        for e in &entries {
            starts[(e.0 >> (32 - TOP_BITS)) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let shapes = with_codes
            .iter()
            .map(|s| (s.key, s.codes.len() as u32))
            .collect();
        MemoryBuckets {
            entries,
            shapes,
            starts,
        }
    }
}

impl MemoryBuckets {
    /// Where the entries of a band key are.
    fn range(&self, key: u64) -> std::ops::Range<usize> {
        let key = key as u32;
        let top = (key >> (32 - TOP_BITS)) as usize;
        let (lo, hi) = (self.starts[top] as usize, self.starts[top + 1] as usize);
        let slice = &self.entries[lo..hi];
        let start = slice.partition_point(|e| e.0 < key);
        let end = start + slice[start..].partition_point(|e| e.0 == key);
        lo + start..lo + end
    }
}

impl MemoryBuckets {
    /// [`candidates_above`] through the table itself: each band's entries found once, and a
    /// crowded bucket met with the next band's by looking up the smaller side's shapes in the
    /// larger (a bucket of a thousand shapes and one of three need not be merged).
    fn candidates_above(&self, shape: &Shape, params: &Params, above: bool) -> Vec<u64> {
        if shape.codes.is_empty() {
            return Vec::new();
        }
        let len = shape.codes.len();
        let keys = Sketch::of(&shape.codes).band_keys();
        let ranges = keys.map(|k| self.range(k));
        // Positions are in key order: the shape's own one (or where it would be) says which
        // are above it without reading theirs, and each candidate is read once, after the
        // positions of all bands are merged (a copy shares most of its bands).
        let at = self.shapes.partition_point(|s| s.0 < shape.key) as u32;
        let own = self
            .shapes
            .get(at as usize)
            .is_some_and(|s| s.0 == shape.key)
            .then_some(at);
        let first_above = at + u32::from(own.is_some());
        let mut positions: Vec<u32> = Vec::new();
        let mut take = |p: u32| {
            if (above && p >= first_above) || (!above && Some(p) != own) {
                positions.push(p);
            }
        };
        for (band, range) in ranges.iter().enumerate() {
            if range.len() <= params.bucket_cap {
                self.entries[range.clone()].iter().for_each(|e| take(e.1));
                continue;
            }
            // A crowded bucket: its shapes that also share the next band's key.
            let next = &ranges[(band + 1) % BANDS];
            if range.len() > params.crowd_cap || next.len() > params.crowd_cap {
                continue;
            }
            shared_positions(
                &self.entries[range.clone()],
                &self.entries[next.clone()],
                &mut take,
            );
        }
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .map(|p| self.shapes[p as usize])
            .filter(|&(_, tokens)| ratio_bound(len, tokens as usize) >= params.min_similarity)
            .map(|(key, _)| key)
            .collect()
    }
}

/// The positions two runs of entries (each sorted by position) both hold, in order: the
/// smaller run's looked up in the larger when it is much smaller, else a merge.
fn shared_positions(a: &[(u32, u32)], b: &[(u32, u32)], mut take: impl FnMut(u32)) {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if small.len() * 8 < large.len() {
        let mut from = 0;
        for e in small {
            from += large[from..].partition_point(|f| f.1 < e.1);
            if large.get(from).is_some_and(|f| f.1 == e.1) {
                take(e.1);
            }
        }
        return;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].1.cmp(&b[j].1) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                take(a[i].1);
                i += 1;
                j += 1;
            }
        }
    }
}

impl Buckets for MemoryBuckets {
    type Error = std::convert::Infallible;
    fn bucket(&self, key: u64) -> Result<Vec<Member>, Self::Error> {
        Ok(self.entries[self.range(key)]
            .iter()
            .map(|&(_, i)| {
                let (shape, tokens) = self.shapes[i as usize];
                Member { shape, tokens }
            })
            .collect())
    }

    // Every shape at once: sketching a shape and reading its buckets costs as much as
    // verifying a few of its candidates, so in parallel too.
    fn candidates_of(
        &self,
        shapes: &[&Shape],
        params: &Params,
        above: bool,
    ) -> Result<Vec<Vec<u64>>, Self::Error> {
        Ok(shapes
            .par_iter()
            .with_min_len(64)
            .map(|s| self.candidates_above(s, params, above))
            .collect())
    }

    // Entries of one key are sorted by position, and positions by shape: a merge of the two
    // ranges, collecting only what both hold.
    fn shared(&self, key: u64, also: u64, cap: usize) -> Result<Option<Vec<Member>>, Self::Error> {
        let (a, b) = (self.range(key), self.range(also));
        if a.len() > cap || b.len() > cap {
            return Ok(None);
        }
        let mut out = Vec::new();
        shared_positions(&self.entries[a], &self.entries[b], |i| {
            let (shape, tokens) = self.shapes[i as usize];
            out.push(Member { shape, tokens });
        });
        Ok(Some(out))
    }

    // Common band keys make buckets of thousands: count before collecting.
    fn bucket_up_to(&self, key: u64, cap: usize) -> Result<Option<Vec<Member>>, Self::Error> {
        let range = self.range(key);
        if range.len() > cap {
            return Ok(None);
        }
        self.bucket(key).map(Some)
    }
}

/// Near-miss candidates of a shape: the other shapes of its buckets that hold at most
/// `params.bucket_cap` shapes, whose length (a shape has one code per token) allows
/// `params.min_similarity`, sorted. The bound drops only what [`Verifier`] would reject.
pub fn candidates<B: Buckets>(
    buckets: &B,
    shape: &Shape,
    params: &Params,
) -> Result<Vec<u64>, B::Error> {
    candidates_above(buckets, shape, params, false)
}

/// [`candidates`], with `above` only those whose key is greater than the shape's: a first
/// classification gathers every shape's and verifies each pair once, from its smaller key,
/// so the other half need not be collected and sorted.
fn candidates_above<B: Buckets>(
    buckets: &B,
    shape: &Shape,
    params: &Params,
    above: bool,
) -> Result<Vec<u64>, B::Error> {
    let mut out = Vec::new();
    if shape.codes.is_empty() {
        return Ok(out);
    }
    let len = shape.codes.len();
    let keys = Sketch::of(&shape.codes).band_keys();
    let fits = |m: &Member| {
        (if above {
            m.shape > shape.key
        } else {
            m.shape != shape.key
        }) && ratio_bound(len, m.tokens as usize) >= params.min_similarity
    };
    for (band, &key) in keys.iter().enumerate() {
        if let Some(bucket) = buckets.bucket_up_to(key, params.bucket_cap)? {
            out.extend(bucket.into_iter().filter(fits).map(|m| m.shape));
            continue;
        }
        // A crowded bucket: its shapes that also share the next band's key.
        let next = keys[(band + 1) % BANDS];
        if let Some(shared) = buckets.shared(key, next, params.crowd_cap)? {
            out.extend(shared.into_iter().filter(fits).map(|m| m.shape));
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A verified pair of shapes (keys `a < b`): structural neighbours, and copies when `copy`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub a: u64,
    pub b: u64,
    /// `2·LCS/(m+n)` of their codes.
    pub similarity: f32,
    /// Similarity × coverage: how much of both the pair explains.
    pub score: f32,
    /// The pair passes as a copy ([`Verified::copy`]).
    pub copy: bool,
}

/// Edges of every shape in `from` against its candidates (`candidates[i]` for `from[i]`),
/// sorted by their ends: the pairs that pass as copies, and the structural neighbours
/// scoring at least [`Params::neighbour_floor`] (the others never weigh in the clone
/// policy). `shapes` holds every shape named. A pair with both ends in `from` is
/// verified once.
pub fn edges(
    from: &[u64],
    candidates: &[Vec<u64>],
    shapes: &FxHashMap<u64, Shape>,
    params: &Params,
) -> Vec<Edge> {
    let in_from: FxHashSet<u64> = from.iter().copied().collect();
    let mut edges = edges_among(from, &in_from, candidates, shapes, params);
    edges.sort_unstable_by_key(|e| (e.a, e.b));
    edges.dedup_by_key(|e| (e.a, e.b));
    edges
}

/// [`edges`] of a part of the shapes verified together (`in_from` holds them all: a pair
/// with both ends there is verified from its larger key only), unsorted.
pub fn edges_among(
    from: &[u64],
    in_from: &FxHashSet<u64>,
    candidates: &[Vec<u64>],
    shapes: &FxHashMap<u64, Shape>,
    params: &Params,
) -> Vec<Edge> {
    from.par_iter()
        .zip(candidates.par_iter())
        .with_min_len(16)
        .map_init(Matcher::default, |matcher, (&key, candidates)| {
            let mut found = Vec::new();
            let Some(shape) = shapes.get(&key) else {
                return found;
            };
            let mut verifier = Verifier::new(shape, matcher);
            for &other in candidates {
                if other < key && in_from.contains(&other) {
                    continue;
                }
                let Some(other_shape) = shapes.get(&other) else {
                    continue;
                };
                if let Some(v) = verifier.verify(other_shape, params)
                    && (v.copy || v.score() >= params.neighbour_floor())
                {
                    found.push(Edge {
                        a: key.min(other),
                        b: key.max(other),
                        similarity: v.similarity as f32,
                        score: v.score() as f32,
                        copy: v.copy,
                    });
                }
            }
            found
        })
        .flatten()
        .collect()
}

/// What verification found of a pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verified {
    pub similarity: f64,
    /// Of the copies compared, the best coverage among the pairs that pass as a copy, or the
    /// best of all when none does.
    pub coverage: f64,
    /// The pair passes as a copy: coverage, score and kept values reach the parameters'
    /// bars for some pair of copies. A pair that does not is still a structural neighbour,
    /// which [`ClonePolicy`] weighs.
    pub copy: bool,
}

impl Verified {
    /// How much of both the pair explains: similarity × coverage.
    pub fn score(&self) -> f64 {
        self.similarity * self.coverage
    }
}

/// Verifies near-miss candidates of one shape: the length bound, the LCS ratio of the codes,
/// then the coverage of the content their alignment pairs up. Detection and `cpt similar`
/// both verify through it. The first full verification prepares the matcher with the shape's
/// codes; dropping the verifier releases it.
pub struct Verifier<'a> {
    shape: &'a Shape,
    matcher: &'a mut Matcher,
    prepared: bool,
    /// Content index of each code of the shape ([`content_ranks`]).
    ranks: Vec<u32>,
    /// What coverage needs of each of the shape's copies, counted once.
    facts: Vec<CopyFacts>,
}

/// Working memory of [`Verifier::verify`] for one pair, kept in the [`Matcher`] (one per
/// thread) from one verifier to the next: a verifier per shape allocating its own (the code
/// sets are 8 KiB each, zeroed) was a hundredth of a first classification.
#[derive(Default)]
struct PairWork {
    /// Content index of each code of the other shape ([`content_ranks`]).
    other_ranks: Vec<u32>,
    pairs: Vec<(u32, u32)>,
    /// The content the last alignment pairs up inside runs ([`in_runs`]).
    slots: Vec<Slot>,
    scratch: Scratch,
}

impl<'a> Verifier<'a> {
    pub fn new(shape: &'a Shape, matcher: &'a mut Matcher) -> Verifier<'a> {
        Verifier {
            shape,
            matcher,
            prepared: false,
            ranks: Vec::new(),
            facts: Vec::new(),
        }
    }

    /// The similarity of the codes of `other` to the shape's, if it reaches
    /// `params.min_similarity` (the first half of [`Verifier::verify`]: no content needed).
    pub fn similarity(&mut self, other: &Shape, params: &Params) -> Option<f64> {
        let (a, b) = (&self.shape.codes, &other.codes);
        if a.is_empty() || b.is_empty() || ratio_bound(a.len(), b.len()) < params.min_similarity {
            return None;
        }
        if !self.prepared {
            self.matcher.prepare(a);
            content_ranks(a, &mut self.ranks);
            let seen = &mut self.matcher.work.scratch.renaming.used_x;
            self.facts = self
                .shape
                .copies
                .iter()
                .map(|x| CopyFacts::of(a, x, seen))
                .collect();
            self.prepared = true;
        }
        // The fewest common codes that reach the threshold, a little under so rounding
        // never turns away a pair `ratio` would accept.
        let need = (params.min_similarity * (a.len() + b.len()) as f64 / 2.0 - 1e-9)
            .floor()
            .max(0.0) as usize;
        let similarity = ratio(self.matcher.lcs_at_least(b, need)?, a.len(), b.len());
        (similarity >= params.min_similarity).then_some(similarity)
    }

    /// The pair's similarity and coverage when the similarity reaches the parameters'
    /// threshold, and whether it passes as a copy.
    pub fn verify(&mut self, other: &Shape, params: &Params) -> Option<Verified> {
        let similarity = self.similarity(other, params)?;
        let (a, b) = (&self.shape.codes, &other.codes);
        let mut work = std::mem::take(&mut self.matcher.work);
        self.matcher.align(a, b, &mut work.pairs);
        content_ranks(b, &mut work.other_ranks);
        in_runs(
            &work.pairs,
            a,
            (&self.ranks, &work.other_ranks),
            &mut work.slots,
        );
        let seen = &mut work.scratch.renaming.used_x;
        let other_facts: Vec<CopyFacts> = other
            .copies
            .iter()
            .map(|y| CopyFacts::of(b, y, seen))
            .collect();
        let (mut best, mut best_copy) = (0.0f64, None::<f64>);
        for (x, fx) in self.shape.copies.iter().zip(&self.facts) {
            for (y, fy) in other.copies.iter().zip(&other_facts) {
                let (coverage, kept_values) = copy_coverage(
                    &work.slots,
                    (x, y),
                    (fx, fy),
                    params.min_consistency,
                    &mut work.scratch,
                );
                best = best.max(coverage);
                if kept_values
                    && coverage >= params.min_coverage
                    && similarity * coverage >= params.min_score
                {
                    best_copy = Some(best_copy.map_or(coverage, |c: f64| c.max(coverage)));
                }
            }
        }
        self.matcher.work = work;
        Some(Verified {
            similarity,
            coverage: best_copy.unwrap_or(best),
            copy: best_copy.is_some(),
        })
    }
}

impl Drop for Verifier<'_> {
    fn drop(&mut self) {
        if self.prepared {
            self.matcher.release(&self.shape.codes);
        }
    }
}

/// For each code, the index of its content among the content codes before it.
fn content_ranks(codes: &[u16], out: &mut Vec<u32>) {
    let mut next = 0u32;
    out.clear();
    out.extend(codes.iter().map(|&c| {
        let rank = next;
        next += u32::from(has_content(c));
        rank
    }));
}

/// Aligned positions inside runs of at least this many consecutive pairs count for
/// [`coverage`]: outside them LCS pairs names of edited statements by chance.
const RUN: usize = 4;

/// A name or literal the alignment pairs up inside a run: its content index in each shape.
#[derive(Clone, Copy)]
struct Slot {
    x: u32,
    y: u32,
    name: bool,
}

/// The content codes an alignment (`pairs` of positions in `codes` and the other shape's
/// codes, with the content `ranks` of both) pairs inside runs of at least [`RUN`]
/// consecutive pairs, into `out`. The same for every pair of copies of the two shapes.
fn in_runs(pairs: &[(u32, u32)], codes: &[u16], ranks: (&[u32], &[u32]), out: &mut Vec<Slot>) {
    out.clear();
    let mut run_start = 0;
    for end in 1..=pairs.len() {
        let breaks = end == pairs.len() || {
            let (p, q) = (pairs[end - 1], pairs[end]);
            q.0 != p.0 + 1 || q.1 != p.1 + 1
        };
        if !breaks {
            continue;
        }
        if end - run_start >= RUN {
            for &(i, j) in &pairs[run_start..end] {
                let code = codes[i as usize];
                if has_content(code) {
                    out.push(Slot {
                        x: ranks.0[i as usize],
                        y: ranks.1[j as usize],
                        name: code == NAME || code == MEMBER,
                    });
                }
            }
        }
        run_start = end;
    }
}

/// What [`copy_coverage`] needs of one copy of a shape, the same against every other copy.
struct CopyFacts {
    /// Distinct names and literals.
    distinct: usize,
    /// Distinct literal values.
    values: usize,
}

impl CopyFacts {
    /// Counted with `seen`, left empty.
    fn of(codes: &[u16], copy: &[u16], seen: &mut CodeSet) -> CopyFacts {
        for (_, &v) in codes
            .iter()
            .filter(|&&c| has_content(c))
            .zip(copy)
            .filter(|&(&c, _)| c != NAME && c != MEMBER)
        {
            seen.insert(v);
        }
        let values = seen.len();
        seen.clear();
        CopyFacts {
            distinct: distinct(copy, seen),
            values,
        }
    }
}

/// How many distinct codes `v` holds, counted with `seen`, left empty.
fn distinct(v: &[u16], seen: &mut CodeSet) -> usize {
    for &c in v {
        seen.insert(c);
    }
    let n = seen.len();
    seen.clear();
    n
}

/// A set of codes for the counts and the renaming of [`coverage`]: one bit per possible code
/// (8 KiB, allocated on first use) and the codes set, so that clearing it costs what filling
/// it did. It replaces sorting and hashing in the verification of every candidate pair.
#[derive(Default)]
struct CodeSet {
    bits: Vec<u64>,
    set: Vec<u16>,
}

impl CodeSet {
    fn insert(&mut self, c: u16) {
        if self.bits.is_empty() {
            self.bits = vec![0; 1 << 10];
        }
        let (word, bit) = (usize::from(c >> 6), 1u64 << (c & 63));
        if self.bits[word] & bit == 0 {
            self.bits[word] |= bit;
            self.set.push(c);
        }
    }

    fn contains(&self, c: u16) -> bool {
        self.bits
            .get(usize::from(c >> 6))
            .is_some_and(|w| w & (1u64 << (c & 63)) != 0)
    }

    fn len(&self) -> usize {
        self.set.len()
    }

    fn clear(&mut self) {
        for &c in &self.set {
            self.bits[usize::from(c >> 6)] = 0;
        }
        self.set.clear();
    }
}

/// [`coverage`] of two copies (`x` of one shape, `y` of the other) through the content their
/// shapes' alignment pairs (`slots`; 0 when a copy's content does not fit its shape's codes:
/// a unit fingerprinted by another version), and whether they keep enough of their values.
fn copy_coverage(
    slots: &[Slot],
    (x, y): (&[u16], &[u16]),
    (fx, fy): (&CopyFacts, &CopyFacts),
    min_consistency: f64,
    scratch: &mut Scratch,
) -> (f64, bool) {
    let Scratch {
        names,
        literals,
        renaming,
    } = scratch;
    names.clear();
    literals.clear();
    for slot in slots {
        let (Some(&u), Some(&v)) = (x.get(slot.x as usize), y.get(slot.y as usize)) else {
            return (0.0, false);
        };
        if slot.name {
            names.push((u, v));
        } else {
            literals.push((u, v));
        }
    }
    // A copy keeps some of its values: two copies with several literals each and few
    // values in common at the same place are two uses of one form with their own data.
    let fewer = fx.values.min(fy.values);
    let kept_values = fewer < VALUES || {
        for &(u, _) in literals.iter().filter(|(u, v)| u == v) {
            renaming.used_x.insert(u);
        }
        let kept = renaming.used_x.len();
        renaming.used_x.clear();
        kept as f64 >= KEPT_VALUES * fewer as f64
    };
    let coverage = coverage_of(
        names,
        literals,
        fx.distinct + fy.distinct,
        min_consistency,
        renaming,
    );
    (coverage, kept_values)
}

/// Working memory of [`copy_coverage`], kept from one pair of copies to the next.
#[derive(Default)]
struct Scratch {
    names: Vec<(u16, u16)>,
    literals: Vec<(u16, u16)>,
    renaming: Renaming,
}

/// Working memory of [`coverage`]'s renaming.
#[derive(Default)]
struct Renaming {
    counted: Vec<((u16, u16), u32)>,
    sorted: Vec<(u16, u16)>,
    /// Empty between uses (also lent to count distinct codes).
    used_x: CodeSet,
    used_y: CodeSet,
    covered_x: CodeSet,
    covered_y: CodeSet,
}

/// Distinct literal values each of two copies must have for the values they keep to count
/// ([`Aligned::coverage`])...
const VALUES: usize = 3;
/// ...and the share of the fewer values a copy keeps (equal at the same place).
const KEPT_VALUES: f64 = 0.2;

/// How much of two copies' content a consistent renaming explains: the distinct names and
/// literals of both (`x`, `y`) that the alignment pairs with their own value, with a name
/// renamed consistently (paired the same way at least twice), or with an equal literal,
/// over all their distinct names and literals. `names` and `literals` are the aligned
/// pairs. The renaming is a one-to-one map chosen greedily by how often a pair occurs (ties:
/// a name kept before a name changed), so a name used in two roles, or two names merged,
/// explain only once; when fewer than `min_consistency` of the aligned names agree with it,
/// the names are not renamed but shuffled, and nothing is explained. Unrelated code of one
/// shape pairs names inconsistently and shares few values; a copy keeps most of both.
pub fn coverage(
    names: &[(u16, u16)],
    literals: &[(u16, u16)],
    x: &[u16],
    y: &[u16],
    min_consistency: f64,
) -> f64 {
    let mut renaming = Renaming::default();
    let total = distinct(x, &mut renaming.used_x) + distinct(y, &mut renaming.used_x);
    coverage_of(names, literals, total, min_consistency, &mut renaming)
}

/// [`coverage`] of copies with `total` distinct names and literals between them.
fn coverage_of(
    names: &[(u16, u16)],
    literals: &[(u16, u16)],
    total: usize,
    min_consistency: f64,
    renaming: &mut Renaming,
) -> f64 {
    if total == 0 {
        return 1.0;
    }
    let Renaming {
        counted,
        sorted,
        used_x,
        used_y,
        covered_x,
        covered_y,
    } = renaming;
    counted.clear();
    sorted.clear();
    sorted.extend_from_slice(names);
    sorted.sort_unstable();
    for &pair in sorted.iter() {
        match counted.last_mut() {
            Some((last, n)) if *last == pair => *n += 1,
            _ => counted.push((pair, 1)),
        }
    }
    counted.sort_unstable_by(|p, q| {
        q.1.cmp(&p.1)
            .then((p.0.0 != p.0.1).cmp(&(q.0.0 != q.0.1)))
            .then(p.0.cmp(&q.0))
    });
    let mut agreeing = 0usize;
    for &((u, v), n) in counted.iter() {
        if used_x.contains(u) || used_y.contains(v) {
            continue;
        }
        used_x.insert(u);
        used_y.insert(v);
        agreeing += n as usize;
        if u == v || n >= 2 {
            covered_x.insert(u);
            covered_y.insert(v);
        }
    }
    used_x.clear();
    used_y.clear();
    let consistent = (agreeing as f64) >= min_consistency * names.len() as f64;
    if consistent {
        for &(u, v) in literals {
            if u == v {
                covered_x.insert(u);
                covered_y.insert(v);
            }
        }
    }
    let covered = covered_x.len() + covered_y.len();
    covered_x.clear();
    covered_y.clear();
    if !consistent {
        return 0.0;
    }
    covered as f64 / total as f64
}

/// Whether two block windows of one shape (so with their content at the same places) are
/// copies of each other. Windows of one shape are renamed consistently by construction, but
/// a short run of one form says little: runs of assertions, setters or table rows with
/// their own names and data share it. A pasted run keeps most of its content: the renaming
/// must explain [`WINDOW_COVERAGE`] of it and, where the windows hold values, it keeps
/// [`WINDOW_VALUES`] of the fewer, even of one or two: two tests of different flags, each
/// a run of `parse([flag]); assert_eq!(Mode::X, field)`, rename consistently and share no
/// value (of the window pairs this turns away in 28 projects, 14 of 30 judged were copies:
/// benches/precision, sample 19).
pub fn same_shape_copy(x: &[u16], y: &[u16], params: &Params) -> bool {
    if x == y {
        return true;
    }
    if x.len() != y.len() {
        return false;
    }
    let (mut names, mut literals) = (Vec::new(), Vec::new());
    for (&u, &v) in x.iter().zip(y) {
        if u & VALUE != 0 {
            literals.push((u, v));
        } else {
            names.push((u, v));
        }
    }
    let values = |c: &[u16]| {
        let mut v: Vec<u16> = c.iter().copied().filter(|u| u & VALUE != 0).collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let mut kept: Vec<u16> = literals
        .iter()
        .filter(|(u, v)| u == v)
        .map(|p| p.0)
        .collect();
    kept.sort_unstable();
    kept.dedup();
    let fewer = values(x).min(values(y));
    (fewer == 0 || kept.len() as f64 >= WINDOW_VALUES * fewer as f64)
        && coverage(&names, &literals, x, y, params.min_consistency) >= WINDOW_COVERAGE
}

/// Share of two windows' names and values a renaming must explain ([`same_shape_copy`]).
pub const WINDOW_COVERAGE: f64 = 0.7;
/// Share of the fewer values two windows must keep ([`same_shape_copy`]).
pub const WINDOW_VALUES: f64 = 0.5;

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

/// How often (in symbols of the other side) a bounded LCS run checks whether it can still
/// reach its bar.
const CHECK: usize = 16;

/// Bit-parallel LCS against one prepared sequence (Hyyrö), with a direct symbol table so a
/// verification costs one table read and `|a|/64` word operations per token of the other side.
pub struct Matcher {
    /// Symbol → its row in `masks`, from 1; 0 when absent, and row 0 is all clear (a symbol
    /// that matches nothing leaves the state as it is, so the loop needs no branch).
    slots: Vec<u16>,
    masks: Vec<u64>,
    words: usize,
    len: usize,
    v: Vec<u64>,
    /// The state after each symbol of the other side, for [`Matcher::align`].
    history: Vec<u64>,
    /// What [`Verifier::verify`] works in.
    work: PairWork,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            slots: vec![0; 1 << 16],
            masks: Vec::new(),
            words: 0,
            len: 0,
            v: Vec::new(),
            history: Vec::new(),
            work: PairWork::default(),
        }
    }
}

impl Matcher {
    /// Build the match masks of `a`.
    pub fn prepare(&mut self, a: &[u16]) {
        self.words = a.len().div_ceil(64).max(1);
        self.len = a.len();
        self.masks.clear();
        self.masks.resize(self.words, 0);
        let mut rows = 0usize;
        for (i, &c) in a.iter().enumerate() {
            let slot = &mut self.slots[usize::from(c)];
            if *slot == 0 {
                rows += 1;
                // Codes are u16, so a sequence has at most 65,536 distinct symbols; the
                // saturation only matters for absurd inputs and keeps the index in range.
                *slot = rows.min(usize::from(u16::MAX)) as u16;
                self.masks.resize((rows + 1) * self.words, 0);
            }
            let row = usize::from(*slot);
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
        self.run(b, false)
    }

    /// A longest common subsequence of the prepared sequence `a` and `b`, as the positions
    /// `(i, j)` with `a[i] == b[j]` it pairs, in order. Where several alignments are longest,
    /// equal symbols are paired as late as possible.
    pub fn align(&mut self, a: &[u16], b: &[u16], out: &mut Vec<(u32, u32)>) {
        out.clear();
        if self.run(b, true) == 0 {
            return;
        }
        let words = self.words;
        // L(i, j), the LCS of a[..i] and b[..j], falls by one from L(i, j) to L(i - 1, j)
        // exactly when bit i - 1 of the state after b[..j] is clear; an equal pair of last
        // symbols is always on some longest path.
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 && j > 0 {
            if a[i - 1] == b[j - 1] {
                out.push(((i - 1) as u32, (j - 1) as u32));
                i -= 1;
                j -= 1;
            } else if self.history[(j - 1) * words + (i - 1) / 64] >> ((i - 1) % 64) & 1 == 1 {
                i -= 1;
            } else {
                j -= 1;
            }
        }
        out.reverse();
    }

    /// The LCS of the prepared sequence and `b` when it is at least `need`; gives up as
    /// soon as what is left of `b` cannot bring it there (most candidates fail early).
    pub fn lcs_at_least(&mut self, b: &[u16], need: usize) -> Option<usize> {
        Some(self.run_until(b, false, need)?).filter(|&l| l >= need)
    }

    fn run(&mut self, b: &[u16], keep: bool) -> usize {
        self.run_until(b, keep, 0).unwrap_or(0)
    }

    /// The bit-parallel run; `None` once the LCS can no longer reach `need` (checked every
    /// [`CHECK`] symbols of `b`: the LCS so far plus the symbols left). With `keep`, the
    /// state after each symbol goes to `history`.
    fn run_until(&mut self, b: &[u16], keep: bool, need: usize) -> Option<usize> {
        if self.len == 0 {
            return Some(0);
        }
        if keep {
            self.history.clear();
            self.history.reserve(b.len() * self.words);
        }
        let history = keep.then_some(&mut self.history);
        // Most shapes are a few hundred codes: their state fits in registers, and up to a
        // thousand codes a fixed-size state is still unrolled without bounds checks (states
        // of over four words were about half the word operations of a first classification
        // of the standard library, counted once with temporary instrumentation).
        macro_rules! fixed {
            ($($n:literal)*) => {
                match self.words {
                    $($n => return run_fixed::<$n>(&self.slots, &self.masks, b, need, history),)*
                    _ => {}
                }
            };
        }
        fixed!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
        let words = self.words;
        // Every bit starts set; a bit whose position holds no symbol of `a` (past its end in
        // the last word) is never cleared, so the LCS is the count of clear bits.
        self.v.clear();
        self.v.resize(words, u64::MAX);
        let lcs = |v: &[u64]| words * 64 - v.iter().map(|w| w.count_ones() as usize).sum::<usize>();
        let mut history = history;
        for (j, &c) in b.iter().enumerate() {
            if need > 0 && j % CHECK == 0 && j > 0 && lcs(&self.v) + (b.len() - j) < need {
                return None;
            }
            let slot = self.slots[usize::from(c)];
            if slot != 0 {
                let mask = &self.masks[usize::from(slot) * words..(usize::from(slot) + 1) * words];
                let mut carry = 0u64;
                for (w, &m) in self.v.iter_mut().zip(mask) {
                    let u = *w & m;
                    let (sum, c1) = w.overflowing_add(u);
                    let (sum, c2) = sum.overflowing_add(carry);
                    carry = u64::from(c1 || c2);
                    *w = sum | (*w & !m);
                }
            }
            if let Some(history) = history.as_mut() {
                history.extend_from_slice(&self.v);
            }
        }
        Some(lcs(&self.v))
    }
}

/// [`Matcher::run_until`] for a prepared sequence of `N` words (its `slots` and `masks`): the
/// same steps, the state an array the compiler keeps in registers for a few words.
fn run_fixed<const N: usize>(
    slots: &[u16],
    masks: &[u64],
    b: &[u16],
    need: usize,
    mut history: Option<&mut Vec<u64>>,
) -> Option<usize> {
    let masks: &[[u64; N]] = masks.as_chunks::<N>().0;
    // All bits set: those past the sequence's end have no symbol and stay set.
    let mut v = [u64::MAX; N];
    let lcs = |v: &[u64; N]| N * 64 - v.iter().map(|w| w.count_ones() as usize).sum::<usize>();
    for (i, chunk) in b.chunks(CHECK).enumerate() {
        if need > 0 && i > 0 && lcs(&v) + (b.len() - i * CHECK) < need {
            return None;
        }
        for &c in chunk {
            let slot = slots[usize::from(c)];
            // A symbol absent from `a` takes the clear row and changes nothing: for a few
            // words that costs less than the branch, which data decides and often mispredicts.
            if N <= 4 || slot != 0 {
                let m = &masks[usize::from(slot)];
                let mut carry = false;
                for k in 0..N {
                    let u = v[k] & m[k];
                    let (sum, c1) = v[k].overflowing_add(u);
                    let (sum, c2) = sum.overflowing_add(u64::from(carry));
                    carry = c1 || c2;
                    v[k] = sum | (v[k] & !m[k]);
                }
            }
            if let Some(history) = history.as_mut() {
                history.extend_from_slice(&v);
            }
        }
    }
    Some(lcs(&v))
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

/// The two best edges of a shape: (score, other end), best first; ties go to the smaller
/// key, so the choice does not depend on the order edges come in.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Best([Option<(f32, u64)>; 2]);

impl Best {
    /// The best two of these edges (score, other end).
    pub fn of(edges: impl IntoIterator<Item = (f32, u64)>) -> Best {
        let mut best = Best::default();
        for edge in edges {
            best.add(edge);
        }
        best
    }

    fn add(&mut self, edge: (f32, u64)) {
        let beats = |x: (f32, u64), y: Option<(f32, u64)>| {
            y.is_none_or(|y| x.0 > y.0 || (x.0 == y.0 && x.1 < y.1))
        };
        if beats(edge, self.0[0]) {
            self.0[1] = self.0[0];
            self.0[0] = Some(edge);
        } else if beats(edge, self.0[1]) {
            self.0[1] = Some(edge);
        }
    }

    /// The best score of an edge to another shape than `other` (0 when there is none).
    fn besides(&self, other: u64) -> f32 {
        self.0
            .iter()
            .flatten()
            .find(|e| e.1 != other)
            .map_or(0.0, |e| e.0)
    }
}

/// Which edges are clone edges. An edge is one when neither end has another edge scoring
/// more than [`Params::margin`] above it: the pair is each other's closest match (or one of
/// several equally close copies). Where several shapes share one skeleton (tests built on
/// one template, a trait's boilerplate, an idiom), each has other matches about as close,
/// the closest pair stands out only by chance, and what they share is the skeleton, not a
/// copy: so where either end has another edge, the pair must also score [`FAMILY_GAP`]
/// above it, unless that other edge is strong itself ([`TIGHT`]: a family of copies of one
/// original, each explaining most of the others) and the pair is stronger still
/// ([`CROWDED`]): in a crowd of look-alikes (tests on one fixture, wrappers around one
/// guard) moderate pairs abound, and sharing the crowd's part is not being a copy. A pair
/// alone is a copy. The decision for an edge depends on the edges of its two ends alone, so
/// it changes only when one of those does.
pub struct ClonePolicy {
    margin: f32,
}

/// How far above every other edge of its ends a pair must score to stand out of a family.
pub const FAMILY_GAP: f32 = 0.2;
/// A score of the other edges of a family that makes it a family of copies.
pub const TIGHT: f32 = 0.55;
/// The score a pair of a family needs when it does not stand out by [`FAMILY_GAP`]: among
/// shapes that all resemble each other, the pair itself must explain most of its content.
pub const CROWDED: f32 = 0.65;

impl ClonePolicy {
    pub fn new(params: &Params) -> ClonePolicy {
        ClonePolicy {
            margin: params.margin as f32,
        }
    }

    /// Whether an edge between shapes `a` and `b` that passes as a copy (`copy`) and scores
    /// `score`, whose ends' best edges are `best_a` and `best_b` (this one included), is a
    /// clone edge.
    pub fn is_clone(
        &self,
        (copy, score): (bool, f32),
        (a, best_a): (u64, &Best),
        (b, best_b): (u64, &Best),
    ) -> bool {
        let other = best_a.besides(b).max(best_b.besides(a));
        copy && score + self.margin >= other
            && (other == 0.0 || (other >= TIGHT && score >= CROWDED) || score >= other + FAMILY_GAP)
    }

    /// The clone edges among `edges`, which hold every edge of every shape they name.
    pub fn clone_edges(&self, edges: &[Edge]) -> Vec<Edge> {
        let mut best: FxHashMap<u64, Best> = FxHashMap::default();
        for e in edges {
            best.entry(e.a).or_default().add((e.score, e.b));
            best.entry(e.b).or_default().add((e.score, e.a));
        }
        edges
            .iter()
            .filter(|e| self.is_clone((e.copy, e.score), (e.a, &best[&e.a]), (e.b, &best[&e.b])))
            .copied()
            .collect()
    }
}

/// Greedy leader clustering over clone edges. Shapes are taken by units (descending), size
/// (descending) and key; each not yet taken becomes a leader and takes every untaken
/// neighbour. Deterministic: the result depends only on the nodes and edges, so clustering
/// the components touched by a change gives what clustering everything would.
///
/// Returns every cluster with at least two units (two shapes, or one shape with two units).
pub fn cluster(nodes: &[Node], edges: &[Edge]) -> Vec<Cluster> {
    let mut order: Vec<&Node> = nodes.iter().collect();
    order.sort_unstable_by(|x, y| {
        y.units
            .cmp(&x.units)
            .then(y.tokens.cmp(&x.tokens))
            .then(x.key.cmp(&y.key))
    });
    let mut neighbours: FxHashMap<u64, Vec<(u64, f32)>> = FxHashMap::default();
    for e in edges {
        neighbours.entry(e.a).or_default().push((e.b, e.similarity));
        neighbours.entry(e.b).or_default().push((e.a, e.similarity));
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
    use crate::fingerprint::mix64;

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
        for round in 0..300 {
            // Every size of state: a few words in registers, up to sixteen unrolled, and more.
            let longest = if round % 3 == 0 { 1300 } else { 400 };
            let (m, n) = (next(longest) as usize, next(longest) as usize);
            let alphabet = 1 + next(12);
            let a: Vec<u16> = (0..m).map(|_| next(alphabet) as u16).collect();
            let b: Vec<u16> = (0..n).map(|_| next(alphabet) as u16).collect();
            matcher.prepare(&a);
            let lcs = lcs_slow(&a, &b);
            assert_eq!(matcher.lcs(&b), lcs, "{a:?} {b:?}");
            // Giving up early never turns away an LCS that reaches the bar.
            let need = next(lcs as u64 + 20) as usize;
            let expected = (lcs >= need).then_some(lcs);
            assert_eq!(
                matcher.lcs_at_least(&b, need),
                expected,
                "{a:?} {b:?} {need}"
            );
            matcher.release(&a);
        }
    }

    /// A seeded generator of numbers below a bound.
    fn below(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut state = seed;
        move |bound| {
            state = mix64(state);
            state % bound
        }
    }

    #[test]
    fn alignments_are_longest_common_subsequences() {
        let mut next = below(0x9e37_79b9_7f4a_7c15);
        let mut matcher = Matcher::default();
        let mut pairs = Vec::new();
        for round in 0..300 {
            let longest = if round % 3 == 0 { 1300 } else { 180 };
            let (m, n) = (next(longest) as usize, next(longest) as usize);
            let alphabet = 1 + next(6);
            let a: Vec<u16> = (0..m).map(|_| next(alphabet) as u16).collect();
            let b: Vec<u16> = (0..n).map(|_| next(alphabet) as u16).collect();
            matcher.prepare(&a);
            matcher.align(&a, &b, &mut pairs);
            matcher.release(&a);
            assert_eq!(pairs.len(), lcs_slow(&a, &b), "{a:?} {b:?}");
            assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
            assert!(pairs.iter().all(|&(i, j)| a[i as usize] == b[j as usize]));
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

    /// A stream of codes standing for statements: names (`NAME`) among other tokens, with
    /// the content of a copy (names drawn from a small vocabulary, so they recur).
    fn stream(seed: u64, len: usize) -> (Vec<u16>, Vec<u16>) {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut codes, mut content) = (Vec::new(), Vec::new());
        for _ in 0..len {
            let r = next();
            if r % 3 == 0 {
                codes.push(NAME);
                content.push(100 + (next() % 8) as u16);
            } else {
                codes.push(2000 + (r % 3000) as u16);
            }
        }
        (codes, content)
    }

    fn shape(key: u64, (codes, content): (Vec<u16>, Vec<u16>)) -> Shape {
        Shape {
            key,
            codes,
            copies: vec![content],
        }
    }

    #[test]
    fn matcher_agrees_with_the_reference_lcs_and_can_be_reused() {
        let mut matcher = Matcher::default();
        for seed in 0..50u64 {
            let a = stream(seed, 10 + (seed as usize * 7) % 190).0;
            let mut b = stream(seed + 1000, 30).0;
            b.extend_from_slice(&a[a.len() / 3..]);
            matcher.prepare(&a);
            // A reused matcher answers as a fresh one does.
            assert_eq!(matcher.lcs(&b), lcs_slow(&a, &b));
            assert_eq!(matcher.lcs(&a), a.len());
            matcher.release(&a);
        }
        assert!(matcher.slots.iter().all(|&s| s == 0));
    }

    /// `content` with every name renamed by `f` (a literal or other content stays).
    fn renamed(content: &[u16], f: impl Fn(u16) -> u16) -> Vec<u16> {
        content.iter().map(|&c| f(c)).collect()
    }

    /// `base` with the codes in `range` replaced by `insert`'s, content following.
    fn spliced(
        (codes, content): &(Vec<u16>, Vec<u16>),
        range: std::ops::Range<usize>,
        (new_codes, new_content): &(Vec<u16>, Vec<u16>),
    ) -> (Vec<u16>, Vec<u16>) {
        let names = |c: &[u16]| c.iter().filter(|&&c| c == NAME).count();
        let (before, inside) = (names(&codes[..range.start]), names(&codes[range.clone()]));
        let mut codes = codes.clone();
        codes.splice(range, new_codes.iter().copied());
        let mut content = content.clone();
        content.splice(before..before + inside, new_content.iter().copied());
        (codes, content)
    }

    #[test]
    fn renamed_near_copies_become_edges_and_unrelated_code_does_not() {
        let base = stream(1, 200);
        // A statement replaced in the middle, and every name renamed consistently.
        let (edited, edited_content) = spliced(&base, 100..110, &stream(2, 14));
        let edited_content = renamed(&edited_content, |n| n + 1000);
        // The same codes with a new name at every place: one shape, unrelated code.
        let scrambled: Vec<u16> = (0..edited_content.len() as u16).map(|i| 5000 + i).collect();
        let shapes = vec![
            shape(10, base.clone()),
            shape(11, (edited.clone(), edited_content)),
            shape(12, stream(4, 200)),
            shape(13, spliced(&base, 20..150, &stream(3, 130))),
            shape(14, (Vec::new(), Vec::new())),
            shape(15, (edited, scrambled)),
        ];
        let params = Params::default();
        let edges_of = |shapes: &[Shape], from: &[u64]| {
            let buckets = MemoryBuckets::build(&shapes.iter().collect::<Vec<_>>());
            let map: FxHashMap<u64, Shape> = shapes.iter().map(|s| (s.key, s.clone())).collect();
            let candidates: Vec<Vec<u64>> = from
                .iter()
                .map(|k| candidates(&buckets, &map[k], &params).unwrap())
                .collect();
            let found = edges(from, &candidates, &map, &params);
            // The scrambled names share the shape's codes: a neighbour, never a copy.
            assert!(found.iter().all(|e| e.copy != (e.b == 15)), "{found:?}");
            found.into_iter().filter(|e| e.copy).collect::<Vec<_>>()
        };
        let all: Vec<u64> = shapes.iter().map(|s| s.key).collect();
        let found = edges_of(&shapes, &all);
        assert_eq!(found.len(), 1, "{found:?}");
        let Edge {
            a,
            b,
            similarity,
            score,
            ..
        } = found[0];
        assert_eq!((a, b), (10, 11));
        assert!((0.9..1.0).contains(&similarity), "{similarity}");
        assert!(score > 0.5 && score <= similarity, "{score}");
        // Asking for one end finds the same edge.
        assert_eq!(edges_of(&shapes, &[11]), found);
        assert!(edges_of(&shapes, &[12, 13, 14, 15]).is_empty());
    }

    /// Buckets that answer through [`Buckets::bucket`] alone (as the index does), to compare
    /// the trait's default `bucket_up_to` and `shared` with [`MemoryBuckets`]' own.
    struct Plain<'a>(&'a MemoryBuckets);

    impl Buckets for Plain<'_> {
        type Error = std::convert::Infallible;
        fn bucket(&self, key: u64) -> Result<Vec<Member>, Self::Error> {
            self.0.bucket(key)
        }
    }

    #[test]
    fn shared_positions_are_those_of_both_runs_whatever_their_sizes() {
        let mut next = below(0x517c_c1b7_2722_0a95);
        for round in 0..400 {
            // From equal sizes to one run a hundred times the other, either way round.
            let longest = if round % 2 == 0 { 2000 } else { 20 };
            let (m, n) = (1 + next(20) as usize, 1 + next(longest) as usize);
            let mut run = |len: usize| {
                let mut v: Vec<(u32, u32)> = (0..len).map(|_| (7, next(300) as u32)).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let (a, b) = (run(m), run(n));
            let (a, b) = if round % 4 < 2 { (a, b) } else { (b, a) };
            let mut found = Vec::new();
            shared_positions(&a, &b, |p| found.push(p));
            let expected: Vec<u32> = a
                .iter()
                .filter(|e| b.iter().any(|f| f.1 == e.1))
                .map(|e| e.1)
                .collect();
            assert_eq!(found, expected, "{a:?} {b:?}");
        }
    }

    #[test]
    fn the_memory_table_gives_the_candidates_the_buckets_give_for_every_shape() {
        // Families of edited copies of a few streams, of every size, so that band buckets
        // of one, a few, many and a crowd sit side by side, crowded ones beside small ones.
        let mut shapes = Vec::new();
        for family in 0..6u64 {
            let base = stream(family, 40 + family as usize * 15);
            for k in 0..(3 + family * family * 4) {
                let edit = stream(1000 + family * 100 + k, (k % 5) as usize);
                let at = (k as usize * 7) % (base.0.len() - 6);
                shapes.push(shape(family * 1000 + k, spliced(&base, at..at + 3, &edit)));
            }
        }
        let of: Vec<&Shape> = shapes.iter().collect();
        let buckets = MemoryBuckets::build(&of);
        for (bucket_cap, crowd_cap) in [(64, 1024), (4, 1024), (4, 40), (2, 9), (1, 200)] {
            let params = Params {
                bucket_cap,
                crowd_cap,
                ..Params::default()
            };
            for above in [false, true] {
                let memory = buckets.candidates_of(&of, &params, above).unwrap();
                let plain = Plain(&buckets).candidates_of(&of, &params, above).unwrap();
                assert_eq!(
                    memory, plain,
                    "caps {bucket_cap}/{crowd_cap}, above {above}"
                );
                assert!(memory.iter().any(|c| c.len() > 3));
            }
        }
    }

    #[test]
    fn crowded_buckets_give_the_shapes_that_share_a_second_band_up_to_the_crowd_cap() {
        let params = Params::default();
        let pasted = stream(7, 60);
        // `n` shapes with one sketch (the same codes under other keys), a near copy of
        // them, and unrelated code: every band bucket of the crowd holds all of them.
        let tree = |n: u64| {
            let mut shapes: Vec<Shape> = (0..n).map(|k| shape(100 + k, pasted.clone())).collect();
            shapes.push(shape(1, spliced(&pasted, 30..33, &stream(8, 4))));
            shapes.push(shape(2, stream(9, 60)));
            shapes
        };
        let candidates_of = |shapes: &[Shape], key: u64| {
            let buckets = MemoryBuckets::build(&shapes.iter().collect::<Vec<_>>());
            let of = shapes.iter().find(|s| s.key == key).unwrap();
            let fast = candidates(&buckets, of, &params).unwrap();
            assert_eq!(fast, candidates(&Plain(&buckets), of, &params).unwrap());
            fast
        };
        // Under the bucket cap: the whole bucket.
        let few = tree(10);
        let found = candidates_of(&few, 100);
        assert!((101..110).all(|k| found.contains(&k)), "{found:?}");
        assert!(!found.contains(&2));
        // Over it, the crowd is still found through two bands at once.
        let crowd = tree(params.bucket_cap as u64 + 36);
        let found = candidates_of(&crowd, 100);
        assert!(
            (101..100 + params.bucket_cap as u64 + 36).all(|k| found.contains(&k)),
            "{} of the crowd",
            found.len()
        );
        assert!(!found.contains(&2));
        // Over the crowd cap, nothing of the crowd's buckets.
        let mob = tree(params.crowd_cap as u64 + 1);
        assert!(candidates_of(&mob, 100).is_empty());
        // The memory buckets and the plain ones agree for every shape, and asked for the
        // larger keys only, both give exactly those.
        let buckets = MemoryBuckets::build(&crowd.iter().collect::<Vec<_>>());
        let of: Vec<&Shape> = crowd.iter().collect();
        let above = buckets.candidates_of(&of, &params, true).unwrap();
        assert_eq!(
            above,
            Plain(&buckets).candidates_of(&of, &params, true).unwrap()
        );
        for (s, above) in crowd.iter().zip(above) {
            let all = candidates(&buckets, s, &params).unwrap();
            assert_eq!(all, candidates(&Plain(&buckets), s, &params).unwrap());
            let larger: Vec<u64> = all.into_iter().filter(|&k| k > s.key).collect();
            assert_eq!(above, larger);
        }
        assert!(crowd.iter().any(|s| {
            candidates(&buckets, s, &params)
                .unwrap()
                .iter()
                .any(|&k| k < s.key)
        }));
    }

    #[test]
    fn windows_of_one_form_pair_only_when_they_keep_some_of_their_values() {
        let params = Params::default();
        // `assert_eq!(Mode::Variant, args.field); let args = parse(["-i"]).unwrap();`
        // `assert_eq!(Mode::Variant, args.field); let args = parse(["-i", "-s"]).unwrap();`
        // as content: names, and values with the top bit.
        let (assert_eq, args, parse, unwrap) = (1, 4, 6, 7);
        let window = |mode: u16, variant: u16, field: u16, flags: [u16; 2]| {
            let [one, two] = flags.map(|f| f | VALUE);
            vec![
                assert_eq, mode, variant, args, field, args, parse, one, unwrap, assert_eq, mode,
                variant, args, field, args, parse, one, two, unwrap,
            ]
        };
        let case = window(2, 3, 5, [100, 101]);
        assert!(same_shape_copy(&case, &case, &params));
        // Another flag's test: the same statements, its own enum, variant, field and flags.
        // The renaming is consistent and explains most names, but no value is kept.
        let engine = window(12, 13, 15, [200, 201]);
        assert!(!same_shape_copy(&case, &engine, &params));
        assert!(!same_shape_copy(&engine, &case, &params));
        // A pasted window adapted to another field that keeps one of its two flags.
        let pasted = window(12, 13, 15, [100, 201]);
        assert!(same_shape_copy(&case, &pasted, &params));
        // Windows without values are judged by their names alone.
        let names_only = |v: &[u16]| {
            v.iter()
                .copied()
                .filter(|c| c & VALUE == 0)
                .collect::<Vec<_>>()
        };
        assert!(same_shape_copy(
            &names_only(&case),
            &names_only(&engine),
            &params
        ));
    }

    #[test]
    fn coverage_counts_kept_names_consistent_renames_and_equal_literals() {
        let pairs = |v: &[(u16, u16)]| v.to_vec();
        let coverage = |n: &[(u16, u16)], l: &[(u16, u16)], x: &[u16], y: &[u16]| {
            coverage(n, l, x, y, Params::default().min_consistency)
        };
        // Everything kept.
        let x = [1, 2, 3, 1, 2];
        assert_eq!(
            coverage(
                &pairs(&[(1, 1), (2, 2), (3, 3), (1, 1), (2, 2)]),
                &[],
                &x,
                &x
            ),
            1.0
        );
        // Name 1 renamed to 9 at both of its places: still all explained.
        let y = [9, 2, 3, 9, 2];
        let renamed = pairs(&[(1, 9), (2, 2), (3, 3), (1, 9), (2, 2)]);
        assert_eq!(coverage(&renamed, &[], &x, &y), 1.0);
        // A name seen once, renamed: nothing confirms the renaming.
        let once = coverage(&pairs(&[(1, 9), (2, 2)]), &[], &[1, 2], &[9, 2]);
        assert_eq!(once, 0.5);
        // One name mapped to a different name at each place: not a renaming at all.
        let scattered = pairs(&[(1, 7), (1, 8), (1, 9), (2, 2)]);
        assert_eq!(coverage(&scattered, &[], &[1, 2], &[7, 8, 9, 2]), 0.0);
        // Mostly consistent, one place disagreeing: the renaming stands.
        let mostly = pairs(&[
            (1, 9),
            (1, 9),
            (1, 9),
            (1, 8),
            (2, 2),
            (2, 2),
            (3, 3),
            (3, 3),
        ]);
        assert_eq!(coverage(&mostly, &[], &[1, 2, 3], &[9, 8, 2, 3]), 6.0 / 7.0);
        // Two names merged into one: half the places disagree with any renaming.
        let merged = pairs(&[(1, 5), (1, 5), (2, 5), (2, 5)]);
        assert_eq!(coverage(&merged, &[], &[1, 2], &[5]), 0.0);
        // Literals count when their values are equal.
        let literals = [(40, 40), (41, 42)];
        assert_eq!(coverage(&[], &literals, &[40, 41], &[40, 42]), 0.5);
        // Content the alignment does not reach counts against.
        assert_eq!(
            coverage(&pairs(&[(1, 1)]), &[], &[1, 2, 3], &[1, 4, 5]),
            2.0 / 6.0
        );
        assert_eq!(coverage(&[], &[], &[], &[]), 1.0);
    }

    fn edge(a: u64, b: u64, score: f32) -> Edge {
        Edge {
            a,
            b,
            similarity: score,
            score,
            copy: true,
        }
    }

    #[test]
    fn only_each_others_closest_matches_are_clone_edges() {
        let policy = ClonePolicy::new(&Params::default());
        // A pair alone, and three copies of one original equally close to each other.
        let alone = [edge(1, 2, 0.8)];
        assert_eq!(policy.clone_edges(&alone), alone);
        let copies = [edge(3, 4, 0.9), edge(3, 5, 0.9), edge(4, 5, 0.895)];
        assert_eq!(policy.clone_edges(&copies), copies);
        // A copy beside a shape that shares only a skeleton with it.
        let beside = [edge(1, 2, 0.9), edge(1, 3, 0.6)];
        assert_eq!(policy.clone_edges(&beside), [edge(1, 2, 0.9)]);
        // Tests built on one template: only pairs that are each other's closest match stay.
        let template = [
            edge(1, 2, 0.70),
            edge(1, 3, 0.75),
            edge(2, 3, 0.72),
            edge(2, 4, 0.78),
            edge(3, 4, 0.71),
        ];
        let kept = [edge(1, 3, 0.75), edge(2, 4, 0.78)];
        assert_eq!(policy.clone_edges(&template), kept);
        // Moderate matches in a family: the closest pair must stand out by the family gap.
        let close = [edge(1, 2, 0.58), edge(1, 3, 0.40), edge(2, 4, 0.30)];
        assert!(policy.clone_edges(&close).is_empty());
        let apart = [edge(1, 2, 0.61), edge(1, 3, 0.40), edge(2, 4, 0.30)];
        assert_eq!(policy.clone_edges(&apart), [edge(1, 2, 0.61)]);
        // A family of copies, every other edge strong too: the closest pair need not stand out.
        let tight = [edge(1, 2, 0.71), edge(1, 3, 0.60), edge(2, 3, 0.66)];
        assert_eq!(policy.clone_edges(&tight), [edge(1, 2, 0.71)]);
        // A crowd of moderate look-alikes (tests on one fixture): the closest pair neither
        // stands out nor explains most of its content, so it is no copy.
        let crowd = [
            edge(1, 2, 0.64),
            edge(1, 3, 0.62),
            edge(2, 3, 0.60),
            edge(2, 4, 0.58),
        ];
        assert!(policy.clone_edges(&crowd).is_empty());
        let strong = [
            edge(1, 2, 0.66),
            edge(1, 3, 0.62),
            edge(2, 3, 0.60),
            edge(2, 4, 0.58),
        ];
        assert_eq!(policy.clone_edges(&strong), [edge(1, 2, 0.66)]);
        // A shape sharing a skeleton with many others alike: none of them is its copy.
        let hub: Vec<Edge> = (2..12).map(|k| edge(1, k, 0.5 + k as f32 / 50.0)).collect();
        assert_eq!(policy.clone_edges(&hub), [edge(1, 11, 0.72)]);
        let flat: Vec<Edge> = (2..12).map(|k| edge(1, k, 0.72)).collect();
        assert_eq!(
            policy.clone_edges(&flat).len(),
            10,
            "equally close: copies of one original"
        );
        // The decision does not depend on the order of the edges.
        let mut reversed = template;
        reversed.reverse();
        assert_eq!(
            policy.clone_edges(&reversed),
            [edge(2, 4, 0.78), edge(1, 3, 0.75)]
        );
    }

    #[test]
    fn neighbours_below_the_floor_never_change_a_clone_edge() {
        let params = Params::default();
        let policy = ClonePolicy::new(&params);
        let floor = params.neighbour_floor() as f32;
        let weak = |a, b, score| Edge {
            copy: false,
            ..edge(a, b, score)
        };
        let mut state = 7u64;
        for _ in 0..2000 {
            let mut edges = Vec::new();
            for a in 1..6u64 {
                for b in a + 1..7 {
                    state = mix64(state);
                    let score = (state % 1000) as f32 / 1000.0;
                    match state >> 60 {
                        0..=5 => {}
                        6..=9 if score >= params.min_score as f32 => edges.push(edge(a, b, score)),
                        _ => edges.push(weak(a, b, score)),
                    }
                }
            }
            let kept: Vec<Edge> = edges
                .iter()
                .filter(|e| e.copy || e.score >= floor)
                .copied()
                .collect();
            assert_eq!(
                policy.clone_edges(&edges),
                policy.clone_edges(&kept),
                "{edges:?}"
            );
        }
        // And the verifier's edges leave such neighbours out.
        let shape = |key, codes: &[u16], content: &[u16]| Shape {
            key,
            codes: codes.to_vec(),
            copies: vec![content.to_vec()],
        };
        let codes: Vec<u16> = (0..40)
            .map(|i| if i % 3 == 0 { NAME } else { 2000 + i })
            .collect();
        let names: Vec<u16> = (0..14).collect();
        let other: Vec<u16> = (100..114).collect();
        let shapes: FxHashMap<u64, Shape> =
            [(1, shape(1, &codes, &names)), (2, shape(2, &codes, &other))]
                .into_iter()
                .collect();
        let verified = Verifier::new(&shapes[&1], &mut Matcher::default())
            .verify(&shapes[&2], &params)
            .unwrap();
        assert!(!verified.copy && verified.score() < params.neighbour_floor());
        assert!(edges(&[1, 2], &[vec![2], vec![1]], &shapes, &params).is_empty());
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
        let edges = [edge(1, 2, 0.8), edge(2, 3, 0.8), edge(3, 4, 0.9)];
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
        let edges = [edge(1, 2, 0.8), edge(2, 4, 0.8), edge(3, 4, 0.75)];
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
