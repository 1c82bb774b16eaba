//! Classification: bringing clone classes up to date with the units. Which shapes to verify
//! again, their near-miss candidates (from an index of the catalogue, laid over with the
//! shapes that changed since it was written, or from buckets of every shape in memory), the
//! graph of verified edges and which of them are clone edges, the components a change
//! touches, and the events that move their classes to the new clustering.
//!
//! The catalogue's state (shapes, edges, units, classes) is read and written through
//! [`ClassState`], which `store` implements with its SQL; candidates come through
//! [`CandidateIndex`], which the index implements. No I/O here.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::detect::near::{self, Params};
use crate::detect::{self, Class, Member};
use crate::event::Event;
use crate::fingerprint::{self, Sketch};

/// A shape as classification reads it (a row of the catalogue's `shapes`).
pub struct ShapeRow {
    pub key: u64,
    pub units: i64,
    /// The shape has codes (it takes part in near-miss detection). The codes themselves
    /// are read only when needed ([`ClassState::shape_codes`]): a first scan holds every
    /// shape's row.
    pub near: bool,
    /// The shape's codes or its set of distinct copies changed since the last
    /// classification.
    pub rekey: bool,
    /// Units at the last classification; `None` before the first.
    pub seen: Option<i64>,
}

/// Where a unit of a shape lies: (file, first byte, end byte).
pub type Span = (i64, u32, u32);

/// A verified pair of shapes seen from one end: (other end, similarity, score, whether the
/// pair passes as a copy).
pub type NearEdge = (u64, f32, f32, bool);

/// A verified pair of shapes as stored: (a, b, similarity, score, whether the pair passes as
/// a copy).
pub type StoredEdge = (u64, u64, f32, f32, bool);

/// The catalogue's detector state as classification reads and writes it, inside one
/// transaction. Each method is one statement (or one prepared statement run over its input).
pub trait ClassState {
    type Error;
    /// The shapes whose classes are not up to date (their unit count differs from the last
    /// classification's, their copies or codes changed, or a unit came or went), by key.
    fn shape_rows(&self) -> Result<Vec<ShapeRow>, Self::Error>;
    /// The last event of the log (what an index up to date with the catalogue has seen).
    fn last_event(&self) -> Result<i64, Self::Error>;
    /// A shape's codes as the catalogue holds them, whether it has units or not (empty
    /// when it has none).
    fn shape_codes(&self, key: u64) -> Result<Vec<u16>, Self::Error>;
    /// The live near-miss shapes among these keys, with their copies' content.
    fn shapes(&self, keys: &[u64]) -> Result<FxHashMap<u64, near::Shape>, Self::Error>;
    /// Every live near-miss shape, with its copies' content.
    fn live_shapes(&self) -> Result<FxHashMap<u64, near::Shape>, Self::Error>;
    /// The other ends of a shape's stored edges.
    fn neighbours(&self, key: u64) -> Result<Vec<u64>, Self::Error>;
    /// Forget every stored edge.
    fn clear_edges(&self) -> Result<(), Self::Error>;
    /// Forget a shape's stored edges.
    fn forget_edges(&self, key: u64) -> Result<(), Self::Error>;
    /// Store these edges (an edge stored already is kept).
    fn record_edges(&self, edges: &[near::Edge]) -> Result<(), Self::Error>;
    /// Every unit's span, by its shape (near-miss units only).
    fn every_span(&self, f: impl FnMut(u64, Span)) -> Result<(), Self::Error>;
    /// Every stored edge: (a, b, similarity, score, copy).
    fn every_edge(&self) -> Result<Vec<StoredEdge>, Self::Error>;
    /// The spans of a shape's units (near-miss units only).
    fn spans(&self, key: u64) -> Result<Vec<Span>, Self::Error>;
    /// A shape's stored edges, each given to `f` as it is read.
    fn edges(
        &self,
        key: u64,
        f: impl FnMut(NearEdge) -> Result<(), Self::Error>,
    ) -> Result<(), Self::Error>;
    /// Every shape that can form or end a class (more than one unit, an edge or a pattern).
    fn classifiable(&self) -> Result<FxHashSet<u64>, Self::Error>;
    /// Select the shapes the next three reads are about.
    fn select(&self, keys: &FxHashSet<u64>) -> Result<(), Self::Error>;
    /// The selected shapes that have units, as clustering nodes.
    fn nodes(&self) -> Result<Vec<near::Node>, Self::Error>;
    /// Every unit of the selected shapes, with its content.
    fn copies(&self, f: impl FnMut(Member, Vec<u16>)) -> Result<(), Self::Error>;
    /// The classes represented by the selected shapes, by key, as the catalogue has them.
    fn classes(&self) -> Result<BTreeMap<u64, Class>, Self::Error>;
    /// Append an event to the log and apply it.
    fn emit(&mut self, event: Event) -> Result<(), Self::Error>;
    /// Record that every pending shape is classified (and drop those without units).
    fn mark_classified(&self) -> Result<(), Self::Error>;
}

/// An index that cannot be read (damaged): classification takes its candidates elsewhere.
#[derive(Clone, Copy, Debug)]
pub struct Unreadable;

/// An index of the catalogue as classification reads it: the last event it has seen, whether
/// it holds units of a shape, and its band buckets ([`near::Buckets::bucket_up_to`]).
pub trait CandidateIndex {
    fn last_event(&self) -> i64;
    fn holds_shape(&self, shape: u64) -> Result<bool, Unreadable>;
    fn bucket_up_to(&self, key: u64, cap: usize) -> Result<Option<Vec<near::Member>>, Unreadable>;
}

/// Where classification takes the near-miss candidates of the shapes that changed from, when
/// not from buckets of every shape built in memory.
#[derive(Clone, Copy)]
pub enum Candidates<'a> {
    /// An index up to date with the catalogue (it is not used otherwise).
    Current(&'a dyn CandidateIndex),
    /// An index up to date with the catalogue as it was before the units being classified
    /// were written (the watcher's): the shapes those units changed are read from the
    /// catalogue and laid over it.
    Before(&'a dyn CandidateIndex),
}

/// Bring clone classes up to date with the units: re-verify the near-miss edges of shapes
/// that appeared or went (and of shapes in band buckets that crossed the cap), re-cluster
/// every component they touch, and emit the pattern events. `all` recomputes every edge;
/// without `emit` only the detector state is updated (for a rebuild, whose patterns come from
/// the log).
pub fn classify<S: ClassState>(
    state: &mut S,
    params: &Params,
    all: bool,
    emit: bool,
    index: Option<Candidates<'_>>,
) -> Result<(), S::Error> {
    // Pending shapes need no copies (only their codes, for the buckets they join or
    // leave): on a first scan they are every shape, read again below with copies.
    let pending = state.shape_rows()?;
    if pending.is_empty() && !all {
        return Ok(());
    }
    // Shapes that appeared or went get their edges recomputed; shapes whose unit count
    // merely changed keep their edges and are only re-clustered. A shape whose copies
    // or codes changed (`rekey`) is verified again like a new shape. A shape without codes
    // that never had any (a block's: two thirds of a first scan's) has no edges to
    // recompute, and is only re-clustered.
    let appeared_or_gone: Vec<&ShapeRow> = pending
        .iter()
        .filter(|r| r.near || r.rekey)
        .filter(|r| r.seen.is_some_and(|n| n > 0) != (r.units > 0) || r.rekey)
        .collect();
    let stale: FxHashSet<u64> = appeared_or_gone.iter().map(|r| r.key).collect();
    let mut seeds: FxHashSet<u64> = pending.iter().map(|r| r.key).collect();
    // Shapes whose edges changed: whether their other edges are clone edges may change
    // too (see `near::ClonePolicy`).
    let mut changed: FxHashSet<u64> = FxHashSet::default();
    // (A shape re-keyed without codes has just left the graph: its edges go.)
    if all || appeared_or_gone.iter().any(|r| r.near || r.rekey) {
        let plan = edge_plan(
            &*state,
            params,
            all,
            index,
            &pending,
            &appeared_or_gone,
            &stale,
        )?;
        if all {
            state.clear_edges()?;
        } else {
            // Old edges of stale shapes go; their far ends are affected.
            for &key in &plan.stale {
                changed.extend(state.neighbours(key)?);
                state.forget_edges(key)?;
            }
        }
        changed.extend(plan.stale.iter().copied());
        let edges = plan.edges;
        state.record_edges(&edges)?;
        for e in &edges {
            changed.insert(e.a);
            changed.insert(e.b);
        }
    }
    if emit {
        let mut graph = Graph::new(near::ClonePolicy::new(params), all.then_some(&*state))?;
        if !all {
            // A shape whose units came, went or moved may now nest in a neighbour or no
            // longer: its edges count differently too.
            changed.extend(pending.iter().map(|r| r.key));
            for &key in &changed {
                seeds.insert(key);
                seeds.extend(graph.edges(&*state, key)?.iter().map(|&(other, ..)| other));
            }
        }
        let affected = components(&*state, &mut graph, seeds, all)?;
        reclassify(state, &mut graph, &affected, params)?;
    }
    state.mark_classified()
}

/// The stale shapes and their edges, with candidates from the index when it
/// is up to date with the catalogue (the scan refreshes it before classifying), or is
/// the watcher's index from before the pending shapes changed; when every shape is
/// classified, or the index cannot answer, from band buckets of every live shape held in
/// memory.
fn edge_plan<S: ClassState>(
    state: &S,
    params: &Params,
    all: bool,
    index: Option<Candidates<'_>>,
    pending: &[ShapeRow],
    appeared_or_gone: &[&ShapeRow],
    stale: &FxHashSet<u64>,
) -> Result<EdgePlan, S::Error> {
    let from_index = match index.filter(|_| !all) {
        Some(Candidates::Current(segments)) if segments.last_event() == state.last_event()? => {
            plan_edges(
                state,
                &Indexed(segments),
                None,
                appeared_or_gone,
                stale,
                params,
            )?
            .ok()
        }
        Some(Candidates::Before(segments)) => match rerecorded(segments, pending) {
            Ok(keys) => {
                let now = Overlay::new(segments, keys.clone(), state.shapes(&keys)?);
                plan_edges(state, &now, None, appeared_or_gone, stale, params)?.ok()
            }
            Err(_) => None,
        },
        _ => None,
    };
    if let Some(plan) = from_index {
        return Ok(plan);
    }
    let live = state.live_shapes()?;
    let buckets = near::MemoryBuckets::build(&live.values().collect::<Vec<_>>());
    let mut stale = stale.clone();
    if all {
        stale.extend(live.keys().copied());
    }
    match plan_edges(
        state,
        &buckets,
        Some(live),
        appeared_or_gone,
        &stale,
        params,
    )? {
        Ok(plan) => Ok(plan),
        Err(never) => match never {},
    }
}

/// The stale shapes (those given, plus the members of band buckets whose size crossed the
/// cap) and the edges of the live ones among them, computed before anything is written:
/// their candidates are gathered, the shapes those name read, and the pairs verified
/// [`CANDIDATE_CHUNK`] shapes at a time, so that memory holds one chunk's candidate lists
/// (a first scan of the standard library has 4.4 million). `live` holds every live shape
/// already; without it shapes are read by key.
fn plan_edges<S: ClassState, B: near::Buckets>(
    state: &S,
    buckets: &B,
    live: Option<FxHashMap<u64, near::Shape>>,
    appeared_or_gone: &[&ShapeRow],
    stale: &FxHashSet<u64>,
    params: &Params,
) -> Result<Result<EdgePlan, B::Error>, S::Error> {
    let mut stale = stale.clone();
    // Buckets hold live shapes only: when every one is stale already (a first scan), none
    // that crossed the cap can be added.
    let all_stale = live
        .as_ref()
        .is_some_and(|live| live.keys().all(|k| stale.contains(k)));
    if !all_stale {
        let caps = [params.bucket_cap, params.crowd_cap];
        match crossed_cap(state, appeared_or_gone, buckets, &caps)? {
            Ok(crossed) => stale.extend(crossed),
            Err(e) => return Ok(Err(e)),
        }
    }
    let mut stale_sorted: Vec<u64> = stale.iter().copied().collect();
    stale_sorted.sort_unstable();
    let mut shapes = match live {
        Some(live) => live,
        None => state.shapes(&stale_sorted)?,
    };
    let from: Vec<u64> = stale_sorted
        .iter()
        .copied()
        .filter(|k| shapes.contains_key(k))
        .collect();
    let in_from: FxHashSet<u64> = from.iter().copied().collect();
    // Candidates a chunk at a time: a first scan's shapes have millions between them.
    let mut edges = Vec::new();
    for chunk in from.chunks(CANDIDATE_CHUNK) {
        let of: Vec<&near::Shape> = chunk.iter().map(|key| &shapes[key]).collect();
        // Every candidate is a stale shape when every live one is: each pair is verified from
        // its smaller key (`near::edges_among`), so only the larger keys are gathered.
        let candidates = match buckets.candidates_of(&of, params, all_stale) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        // (Every candidate is a live shape, held already, when every live one is stale.)
        if !all_stale {
            let missing: Vec<u64> = candidates
                .iter()
                .flatten()
                .copied()
                .filter(|k| !shapes.contains_key(k))
                .collect::<FxHashSet<u64>>()
                .into_iter()
                .collect();
            shapes.extend(state.shapes(&missing)?);
        }
        edges.extend(near::edges_among(
            chunk,
            &in_from,
            &candidates,
            &shapes,
            params,
        ));
    }
    edges.sort_unstable_by_key(|e: &near::Edge| (e.a, e.b));
    edges.dedup_by_key(|e| (e.a, e.b));
    Ok(Ok(EdgePlan { stale, edges }))
}

/// How many stale shapes have their candidates gathered and verified at a time.
const CANDIDATE_CHUNK: usize = 2048;

/// Every shape connected to a seed by clone edges, seeds included.
fn components<S: ClassState>(
    state: &S,
    graph: &mut Graph,
    seeds: FxHashSet<u64>,
    all: bool,
) -> Result<FxHashSet<u64>, S::Error> {
    if all {
        // Everything is affected; skip the walk, and the shapes that can neither form a
        // class nor end one: a single unit, no edge, no pattern.
        return state.classifiable();
    }
    let mut seen = seeds.clone();
    let mut stack: Vec<u64> = seeds.into_iter().collect();
    while let Some(key) = stack.pop() {
        for next in graph.clone_neighbours(state, key)? {
            if seen.insert(next) {
                stack.push(next);
            }
        }
    }
    Ok(seen)
}

/// Re-cluster the affected shapes and emit the events that move their patterns there.
fn reclassify<S: ClassState>(
    state: &mut S,
    graph: &mut Graph,
    affected: &FxHashSet<u64>,
    params: &Params,
) -> Result<(), S::Error> {
    state.select(affected)?;
    let nodes = state.nodes()?;
    let mut edges: Vec<near::Edge> = Vec::new();
    for &key in affected {
        for (other, similarity, score) in graph.clone_edges(&*state, key)? {
            if key < other && affected.contains(&other) {
                edges.push(near::Edge {
                    a: key,
                    b: other,
                    similarity,
                    score,
                    copy: true,
                });
            }
        }
    }
    let clusters = near::cluster(&nodes, &edges);

    // Each shape's units, with their content. A function-level unit of a shape is a
    // renamed copy of the others (signature and body alike); a block window is a copy of
    // its shape's first window (by exact hash) only when its names and values say so too
    // (`near::same_shape_copy`): a window is a short run, and runs of one form with their
    // own data (assertions, setters, table rows) are common.
    let mut units: FxHashMap<u64, Vec<(Member, Vec<u16>)>> = FxHashMap::default();
    state.copies(|member, content| {
        units
            .entry(member.shape)
            .or_default()
            .push((member, content));
    })?;
    let units: FxHashMap<u64, Vec<Member>> = units
        .into_iter()
        .map(|(shape, mut copies)| {
            copies.sort_by_key(|(m, _)| (m.exact, m.unit));
            let first = copies[0].1.clone();
            let kept = copies
                .into_iter()
                .filter(|(m, content)| !m.block || near::same_shape_copy(&first, content, params))
                .map(|(m, _)| m)
                .collect();
            (shape, kept)
        })
        .collect();
    let mut old = state.classes()?;
    let mut new: BTreeMap<u64, Class> = BTreeMap::new();
    for cluster in &clusters {
        let members: Vec<Member> = std::iter::once(cluster.leader)
            .chain(cluster.members.iter().map(|&(key, _)| key))
            .flat_map(|key| units.get(&key).into_iter().flatten().copied())
            .collect();
        if let Some(class) = detect::class_of(cluster, &members) {
            new.insert(class.key, class);
        }
    }
    let keys: std::collections::BTreeSet<u64> = old.keys().chain(new.keys()).copied().collect();
    for key in keys {
        let old = old.get_mut(&key).map(|c| {
            c.members.sort_unstable();
            &*c
        });
        for event in detect::transition(old, new.get(&key)) {
            state.emit(event)?;
        }
    }
    Ok(())
}

/// The pending shapes whose band records in `before` (an index from before their units
/// changed) differ from the catalogue's now: those that joined or left the near-miss graph
/// since. Any other shape, pending or not, has the same record in both: its codes (so its
/// band keys and length) follow from its key.
fn rerecorded(before: &dyn CandidateIndex, pending: &[ShapeRow]) -> Result<Vec<u64>, Unreadable> {
    let mut out = Vec::new();
    for r in pending {
        // Without codes a shape is in no bucket, then or now. Otherwise it changed if it has
        // units now and had none then, or the other way.
        if r.near && (r.units > 0) != before.holds_shape(r.key)? {
            out.push(r.key);
        }
    }
    Ok(out)
}

/// An index's band buckets as [`near::Buckets`].
struct Indexed<'a>(&'a dyn CandidateIndex);

impl near::Buckets for Indexed<'_> {
    type Error = Unreadable;
    fn bucket(&self, key: u64) -> Result<Vec<near::Member>, Unreadable> {
        Ok(self.0.bucket_up_to(key, usize::MAX)?.unwrap_or_default())
    }
    fn bucket_up_to(&self, key: u64, cap: usize) -> Result<Option<Vec<near::Member>>, Unreadable> {
        self.0.bucket_up_to(key, cap)
    }
}

/// Band buckets as they are now: an index from before some shapes changed, without those
/// shapes, plus the ones among them still in the near-miss graph as the catalogue has them.
/// Every other shape's record (units, codes) is as the index has it, since a shape's record
/// changes only with its units.
struct Overlay<'a> {
    before: &'a dyn CandidateIndex,
    changed: FxHashSet<u64>,
    /// The changed shapes still in the graph: their record and band keys (low 32 bits).
    now: Vec<(near::Member, [u32; fingerprint::BANDS])>,
}

impl<'a> Overlay<'a> {
    fn new(
        before: &'a dyn CandidateIndex,
        changed: Vec<u64>,
        now: FxHashMap<u64, near::Shape>,
    ) -> Self {
        let now = now
            .into_values()
            .filter(|s| !s.codes.is_empty())
            .map(|s| {
                let keys = Sketch::of(&s.codes).band_keys().map(|k| k as u32);
                let member = near::Member {
                    shape: s.key,
                    tokens: s.codes.len() as u32,
                };
                (member, keys)
            })
            .collect();
        Overlay {
            before,
            changed: changed.into_iter().collect(),
            now,
        }
    }
}

impl near::Buckets for Overlay<'_> {
    type Error = Unreadable;
    fn bucket(&self, key: u64) -> Result<Vec<near::Member>, Unreadable> {
        Ok(self.bucket_up_to(key, usize::MAX)?.unwrap_or_default())
    }
    fn bucket_up_to(&self, key: u64, cap: usize) -> Result<Option<Vec<near::Member>>, Unreadable> {
        // At most every changed shape leaves the bucket: one over `cap` of those is over now.
        let Some(before) = self
            .before
            .bucket_up_to(key, cap.saturating_add(self.changed.len()))?
        else {
            return Ok(None);
        };
        let mut bucket: Vec<near::Member> = before
            .into_iter()
            .filter(|m| !self.changed.contains(&m.shape))
            .collect();
        bucket.extend(
            self.now
                .iter()
                .filter(|(_, keys)| keys.contains(&(key as u32)))
                .map(|(m, _)| *m),
        );
        bucket.sort_unstable();
        Ok(Some(bucket).filter(|b| b.len() <= cap))
    }
}

/// Shapes (present now) in a band bucket whose size crossed one of the caps (the bucket cap,
/// and the crowded buckets' `crowd_cap`) because of the shapes that appeared or went
/// since the last classification: their candidates changed.
fn crossed_cap<S: ClassState, B: near::Buckets>(
    state: &S,
    changed: &[&ShapeRow],
    buckets: &B,
    caps: &[usize],
) -> Result<Result<Vec<u64>, B::Error>, S::Error> {
    let mut delta: FxHashMap<u32, i64> = FxHashMap::default();
    for r in changed.iter().filter(|r| r.near) {
        let sign = if r.units > 0 { 1 } else { -1 };
        let codes = state.shape_codes(r.key)?;
        if codes.is_empty() {
            continue;
        }
        for key in Sketch::of(&codes).band_keys() {
            *delta.entry(key as u32).or_default() += sign;
        }
    }
    let mut out = Vec::new();
    let largest = caps.iter().copied().max().unwrap_or(0);
    for (key, d) in delta {
        // A bucket holding more than `cap + |d|` shapes now held more than `cap` before too.
        let bucket = match buckets.bucket_up_to(u64::from(key), largest + d.unsigned_abs() as usize)
        {
            Ok(b) => b,
            Err(e) => return Ok(Err(e)),
        };
        let Some(bucket) = bucket else {
            continue;
        };
        let now = bucket.len();
        let before = (now as i64 - d).max(0) as usize;
        if caps.iter().any(|&cap| (before <= cap) != (now <= cap)) {
            out.extend(bucket.into_iter().map(|m| m.shape));
        }
    }
    Ok(Ok(out))
}

/// What computing the edges of the stale shapes reads; see [`plan_edges`].
struct EdgePlan {
    stale: FxHashSet<u64>,
    /// The verified edges of the stale shapes, sorted by their ends.
    edges: Vec<near::Edge>,
}

/// The near-miss graph as classification walks it: each shape's edges (other end,
/// similarity, score, whether the pair passes as a copy), read once, and which of them are
/// clone edges. An edge between a shape
/// and one whose every unit lies inside one of its units (or the other way) is no evidence of
/// copying (a closure resembles the function around it) and is left out.
struct Graph {
    policy: near::ClonePolicy,
    edges: FxHashMap<u64, Vec<NearEdge>>,
    /// Where each shape's units are: (file, first byte, end byte).
    spans: FxHashMap<u64, Vec<Span>>,
    /// Every edge and span is read up front (a classification of everything).
    complete: bool,
    best: FxHashMap<u64, near::Best>,
}

impl Graph {
    /// The graph, with every edge and span of the catalogue read at once when `everything`
    /// is given.
    fn new<S: ClassState>(
        policy: near::ClonePolicy,
        everything: Option<&S>,
    ) -> Result<Graph, S::Error> {
        let mut graph = Graph {
            policy,
            edges: FxHashMap::default(),
            spans: FxHashMap::default(),
            complete: everything.is_some(),
            best: FxHashMap::default(),
        };
        if let Some(state) = everything {
            state.every_span(|shape, span| {
                graph.spans.entry(shape).or_default().push(span);
            })?;
            let all = state.every_edge()?;
            for (a, b, similarity, score, copy) in all {
                if !graph.nested(state, a, b)? {
                    graph
                        .edges
                        .entry(a)
                        .or_default()
                        .push((b, similarity, score, copy));
                    graph
                        .edges
                        .entry(b)
                        .or_default()
                        .push((a, similarity, score, copy));
                }
            }
        }
        Ok(graph)
    }

    fn spans<S: ClassState>(&mut self, state: &S, key: u64) -> Result<&[Span], S::Error> {
        if !self.complete && !self.spans.contains_key(&key) {
            let found = state.spans(key)?;
            self.spans.insert(key, found);
        }
        Ok(self.spans.get(&key).map_or(&[], Vec::as_slice))
    }

    /// Whether every unit of one shape and every unit of the other lie one inside the other.
    fn nested<S: ClassState>(&mut self, state: &S, a: u64, b: u64) -> Result<bool, S::Error> {
        let outer = self.spans(state, a)?.to_vec();
        let inner = self.spans(state, b)?;
        let contains = |x: &Span, y: &Span| x.0 == y.0 && x.1 <= y.1 && y.2 <= x.2;
        Ok(!outer.is_empty()
            && !inner.is_empty()
            && outer
                .iter()
                .all(|x| inner.iter().all(|y| contains(x, y) || contains(y, x))))
    }

    /// A shape's edges, but those to shapes nested in it or around it.
    fn edges<S: ClassState>(&mut self, state: &S, key: u64) -> Result<&[NearEdge], S::Error> {
        if !self.complete && !self.edges.contains_key(&key) {
            let mut found = Vec::new();
            state.edges(key, |edge| {
                if !self.nested(state, key, edge.0)? {
                    found.push(edge);
                }
                Ok(())
            })?;
            self.edges.insert(key, found);
        }
        Ok(self.edges.get(&key).map_or(&[], Vec::as_slice))
    }

    fn best<S: ClassState>(&mut self, state: &S, key: u64) -> Result<near::Best, S::Error> {
        if let Some(best) = self.best.get(&key) {
            return Ok(*best);
        }
        let best = near::Best::of(
            self.edges(state, key)?
                .iter()
                .map(|&(other, _, score, _)| (score, other)),
        );
        self.best.insert(key, best);
        Ok(best)
    }

    /// A shape's clone edges (other end, similarity, score).
    fn clone_edges<S: ClassState>(
        &mut self,
        state: &S,
        key: u64,
    ) -> Result<Vec<(u64, f32, f32)>, S::Error> {
        let best = self.best(state, key)?;
        let edges = self.edges(state, key)?.to_vec();
        let mut out = Vec::new();
        for (other, similarity, score, copy) in edges {
            let other_best = self.best(state, other)?;
            if self
                .policy
                .is_clone((copy, score), (key, &best), (other, &other_best))
            {
                out.push((other, similarity, score));
            }
        }
        Ok(out)
    }

    /// The other ends of a shape's clone edges.
    fn clone_neighbours<S: ClassState>(
        &mut self,
        state: &S,
        key: u64,
    ) -> Result<Vec<u64>, S::Error> {
        Ok(self
            .clone_edges(state, key)?
            .into_iter()
            .map(|(other, ..)| other)
            .collect())
    }
}
