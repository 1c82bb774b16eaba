//! Similar: "what else looks like this code?" answered from the index.
//!
//! A query unit's exact hash finds its type-1 copies and its shape hash its type-2 copies
//! (each ruled out first by the Bloom filter when unknown); its band keys find near-miss
//! candidates in the index's band tables, which are verified exactly as scan-time detection
//! verifies them ([`near::Verifier`], then [`near::names_in_order`]), reading the candidates'
//! codes from the catalogue by key.

use crate::detect::near::{self, Matcher, Params};
use crate::event::PatternId;
use crate::index::Hit;
use crate::scan::reparse::Recent;

/// One unit similar to a query.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Match {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub lang: String,
    pub kind: String,
    pub name: String,
    pub clone_type: CloneType,
    pub similarity: f64,
    /// The clone class the unit belongs to, if any.
    pub pattern: Option<PatternId>,
}

/// Where a query unit itself sits in the catalogue, so that neither it nor a unit nested in
/// it or around it is its match (a function is not a copy of its own inner function).
pub struct Own<'a> {
    pub path: &'a str,
    pub start_line: u32,
    pub end_line: u32,
}

fn to_match(hit: &Hit<'_>, clone_type: CloneType, similarity: f64) -> Match {
    Match {
        path: hit.path.to_string(),
        start_line: hit.start_line,
        end_line: hit.end_line,
        lang: hit.lang.to_string(),
        kind: hit.kind.to_string(),
        name: hit.name.to_string(),
        clone_type,
        similarity,
        pattern: hit.pattern.map(PatternId),
    }
}

/// Units similar to `unit`, best first: similarity (descending), clone type, path, line. At
/// most `limit`, none below `min_similarity`.
pub fn similar_to(
    segments: &Segments,
    store: &Store,
    unit: &UnitPrint,
    own: Option<&Own<'_>>,
    params: &Params,
    min_similarity: f64,
    limit: usize,
) -> Result<Vec<Match>> {
    let is_own = |path: &str, start_line: u32, end_line: u32| {
        own.is_some_and(|o| {
            o.path == path
                && ((start_line <= o.start_line && o.end_line <= end_line)
                    || (o.start_line <= start_line && end_line <= o.end_line))
        })
    };
    let is_own_hit = |hit: &Hit<'_>| is_own(hit.path, hit.start_line, hit.end_line);
    let mut out: Vec<Match> = Vec::new();
    for hit in segments.exact(unit.exact.0)? {
        if !is_own_hit(&hit) {
            out.push(to_match(&hit, CloneType::T1, 1.0));
        }
    }
    for hit in segments.shape(unit.shape.0)? {
        if !is_own_hit(&hit) && hit.exact != unit.exact.0 {
            out.push(to_match(&hit, CloneType::T2, 1.0));
        }
    }
    // Functions below the unit thresholds: exact copies first, then renamed ones, each in
    // path order and enough of them to fill the answer past the query's own and nested ones.
    let enough = limit.saturating_add(16);
    let exact_small = store.small_copies(unit.shape.0, Some(unit.exact.0), enough)?;
    let renamed_small = store.small_copies(unit.shape.0, None, enough)?;
    for copy in exact_small.into_iter().chain(
        renamed_small
            .into_iter()
            .filter(|c| c.exact != unit.exact.0),
    ) {
        if !is_own(&copy.path, copy.start_line, copy.end_line) {
            let clone_type = if copy.exact == unit.exact.0 {
                CloneType::T1
            } else {
                CloneType::T2
            };
            out.push(Match {
                path: copy.path,
                start_line: copy.start_line,
                end_line: copy.end_line,
                lang: copy.lang,
                kind: copy.kind,
                name: copy.name,
                clone_type,
                similarity: 1.0,
                pattern: None,
            });
        }
    }
    if !unit.codes.is_empty() && min_similarity <= 1.0 {
        let query = near::Shape {
            key: unit.shape.0,
            codes: unit.codes.clone(),
            copies: vec![unit.content.clone()],
        };
        let keys = near::candidates(segments, &query, params)?;
        let shapes = store.near_codes(&keys)?;
        let mut matcher = Matcher::default();
        let mut verifier = near::Verifier::new(&query, &mut matcher);
        let mut similar: Vec<(near::Shape, f64)> = shapes
            .into_iter()
            .filter_map(|shape| Some((verifier.similarity(&shape, params)?, shape)))
            .map(|(sim, shape)| (shape, sim))
            .collect();
        // Best first, so that reading stops once `limit` matches rank above the rest: the
        // units of a shape share its similarity, so when `limit` matches are more similar
        // than the next shape, neither it nor any shape after it can make the answer. A
        // query whose shape has hundreds of near-miss copies reads only the best few.
        similar.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.key.cmp(&b.0.key)));
        for (mut shape, sim) in similar {
            if sim < min_similarity || out.iter().filter(|m| m.similarity > sim).count() >= limit {
                break;
            }
            // The content of the shape's copies decides, as in classification.
            shape.copies = store.shape_copies(shape.key)?;
            if !verifier.verify(&shape, params).is_some_and(|v| v.copy) {
                continue;
            }
            let key = shape.key;
            let hits = segments.shape(key)?;
            for hit in &hits {
                if !is_own_hit(hit) {
                    out.push(to_match(hit, CloneType::T3, sim));
                }
            }
        }
    }
    out.retain(|m| m.similarity >= min_similarity);
    out.sort_by(|a, b| {
        b.similarity
            .total_cmp(&a.similarity)
            .then(a.clone_type.cmp(&b.clone_type))
            .then_with(|| a.path.cmp(&b.path))
            .then(a.start_line.cmp(&b.start_line))
    });
    out.truncate(limit);
    Ok(out)
}

use std::path::{Path, PathBuf};

use crate::config::Settings;
use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::event::CloneType;
use crate::fingerprint::{self, UnitPrint};
use crate::index::{Access, Segments};
use crate::parse::lang;
use crate::store::Store;

use crate::index::refresh::*;

/// A query for `cpt similar`: units of a file in the catalogue's tree, or code on its own.
pub struct SimilarQuery {
    /// The path shown for the query, relative to the root when it lies inside it.
    pub path: String,
    /// Whether `path` is a file of the catalogue (its own units are left out of the answer).
    pub in_catalogue: bool,
    pub units: Vec<UnitPrint>,
}

/// Where the units of a query came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryFrom {
    /// The catalogue: the file is as the last scan saw it, so it was not parsed again.
    Catalogue,
    /// A parse of the source just now.
    Parse,
    /// A parse of the source from the tree of the version before it (an editor's buffer).
    Reparse,
}

/// The units to ask about in `source`, code in language `lang_id` that is the file `rel` of
/// the catalogue's tree (None for code outside it): every function-level unit, or with
/// `line` only the innermost function containing that line, whatever its size (the
/// innermost block when no function contains it). A file unchanged since the last scan (its
/// hash as the scan recorded it) is answered from the catalogue's units without parsing.
/// With `recent`, a file's source is parsed from the tree of its version there (as the
/// watcher does), and kept there for the next time.
pub fn query_units(
    store: &Store,
    rel: Option<&str>,
    lang_id: &str,
    source: &[u8],
    thresholds: fingerprint::Thresholds,
    line: Option<u32>,
    recent: Option<&Recent>,
) -> Result<(Vec<UnitPrint>, QueryFrom)> {
    if let Some(rel) = rel
        && let Some(record) = store.file(rel)?
        && record.file.status == "indexed"
        && record.file.lang == lang_id
        && record.file.hash.0 == fingerprint::hash64(source)
    {
        let (units, small) = store.file_units(record.id, line)?;
        return Ok((pick_query_units(units, small, line), QueryFrom::Catalogue));
    }
    let lang = lang::by_id(lang_id).with_context(|| {
        let known: Vec<&str> = lang::ids().collect();
        format!("unknown language `{lang_id}` (known: {})", known.join(", "))
    })?;
    let (print, how) =
        crate::scan::reparse::fingerprint(lang, rel.unwrap_or("-"), source, thresholds, recent)?;
    let small = print.small.iter().map(|f| f.to_unit()).collect();
    let from = if how.incremental {
        QueryFrom::Reparse
    } else {
        QueryFrom::Parse
    };
    Ok((pick_query_units(print.units, small, line), from))
}

/// The query units among a file's `units` and its functions below the thresholds (`small`).
fn pick_query_units(
    units: Vec<UnitPrint>,
    small: Vec<UnitPrint>,
    line: Option<u32>,
) -> Vec<UnitPrint> {
    let Some(line) = line else {
        // In source order, outer before inner, whichever order the catalogue added them in.
        let mut functions: Vec<UnitPrint> = units
            .into_iter()
            .filter(|u| u.kind != crate::parse::lang::UnitKind::Block)
            .collect();
        functions.sort_by_key(|u| (u.start_byte, std::cmp::Reverse(u.end_byte)));
        return functions;
    };
    let span = |u: &&UnitPrint| u.end_line - u.start_line;
    let containing = || {
        units
            .iter()
            .chain(&small)
            .filter(move |u| u.start_line <= line && line <= u.end_line)
    };
    // The innermost function; blocks only when no function contains the line (statements at
    // the top level of a script).
    let innermost = containing()
        .filter(|u| u.kind != crate::parse::lang::UnitKind::Block)
        .min_by_key(|u| span(u))
        .or_else(|| containing().min_by_key(|u| span(u)));
    innermost.cloned().into_iter().collect()
}

/// The answer to one query unit.
#[derive(Clone, Debug, Serialize)]
pub struct SimilarAnswer {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub kind: String,
    pub name: String,
    pub matches: Vec<Match>,
    /// The query unit's content hash (not part of the JSON contract): an editor tells a unit
    /// it has not changed from the catalogue's by it.
    #[serde(skip)]
    pub exact: u64,
}

/// Answer `query` from the index of `db` (brought up to date first). `warn` receives one line
/// when the index had to be rebuilt. A chunk found damaged mid-query is rebuilt and the query
/// asked again once.
pub fn similar(
    store: &Store,
    db: &Path,
    query: &SimilarQuery,
    min_similarity: f64,
    limit: usize,
    warn: &dyn Fn(&str),
) -> Result<Vec<SimilarAnswer>> {
    let _snapshot = store.snapshot()?;
    let params = store.near_params()?;
    let ask = |segments: &Segments| -> Result<Vec<SimilarAnswer>> {
        if segments.delta.is_some()
            && let Some(gone) = store.removed_shapes_since(segments.base.last_event)?
        {
            segments.know_gone(gone)?;
        }
        query
            .units
            .iter()
            .map(|u| {
                let own = Own {
                    path: &query.path,
                    start_line: u.start_line,
                    end_line: u.end_line,
                };
                let own = query.in_catalogue.then_some(&own);
                Ok(SimilarAnswer {
                    path: query.path.clone(),
                    start_line: u.start_line,
                    end_line: u.end_line,
                    kind: u.kind.as_str().to_string(),
                    name: u.name.clone(),
                    matches: similar_to(segments, store, u, own, &params, min_similarity, limit)?,
                    exact: u.exact.0,
                })
            })
            .collect()
    };
    with_index(store, db, Access::Read, warn, ask)
}

/// Code on its own (`SimilarTarget::Code`) holds no function big enough to ask about: an
/// answer in itself for a caller that asks before writing code, an error on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "-: no units (functions of at least {min_tokens} tokens and {min_lines} lines) in the code on standard input"
)]
pub struct NoUnits {
    pub min_tokens: u32,
    pub min_lines: u32,
}

/// What `cpt similar` asks about.
pub enum SimilarTarget {
    /// The innermost function at `line` of `file`, or every function of it.
    File {
        file: PathBuf,
        line: Option<u32>,
        /// Language id; default from the file's extension.
        lang: Option<String>,
    },
    /// Code on its own (standard input).
    Code { source: Vec<u8>, lang: String },
    /// An editor's unsaved version of `file`: its `source` stands for what is on disk.
    Buffer {
        file: PathBuf,
        source: Vec<u8>,
        line: Option<u32>,
        lang: Option<String>,
    },
}

/// A `cpt similar` question.
pub struct SimilarRequest {
    pub target: SimilarTarget,
    /// At most this many matches per query unit.
    pub limit: usize,
    /// Default: the catalogue's near-miss threshold.
    pub min_similarity: Option<f64>,
}

/// Answer a `cpt similar` request: pick the query units (from the catalogue when the file is
/// unchanged since the scan, else by fingerprinting it), then ask the index.
/// Buffers (`SimilarTarget::Buffer`) are parsed from their last version in `buffers`.
pub(crate) fn answer(
    store: &Store,
    db: &Path,
    root: &Path,
    request: SimilarRequest,
    buffers: &Recent,
    warn: &dyn Fn(&str),
) -> Result<Vec<SimilarAnswer>> {
    // One read transaction for the whole query: one state of the catalogue, one lock.
    let _snapshot = store.snapshot()?;
    let settings = Settings::resolve(crate::config::load(root)?.scan, Default::default());
    let on_stdin = matches!(request.target, SimilarTarget::Code { .. });
    let recent = matches!(request.target, SimilarTarget::Buffer { .. }).then_some(buffers);
    let (path, rel, source, lang, line) = match request.target {
        SimilarTarget::Code { source, lang } => (String::from("-"), None, source, lang, None),
        SimilarTarget::File { .. } | SimilarTarget::Buffer { .. } => {
            let (file, line, lang, source) = match request.target {
                SimilarTarget::Buffer {
                    file,
                    source,
                    line,
                    lang,
                } => (file, line, lang, source),
                SimilarTarget::File { file, line, lang } => {
                    let source = std::fs::read(&file)
                        .with_context(|| format!("{}: cannot read", file.display()))?;
                    (file, line, lang, source)
                }
                SimilarTarget::Code { .. } => unreachable!("matched above"),
            };
            let lang = match lang {
                Some(lang) => lang,
                None => crate::parse::lang::for_path(&file)
                    .with_context(|| format!("{}: unknown language; pass --lang", file.display()))?
                    .id
                    .to_string(),
            };
            let rel = file.canonicalize().ok().and_then(|f| {
                f.strip_prefix(root)
                    .ok()
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
            });
            let shown = rel.clone().unwrap_or_else(|| file.display().to_string());
            (shown, rel, source, lang, line)
        }
    };
    let in_catalogue = match &rel {
        Some(rel) => store.has_file(rel)?,
        None => false,
    };
    let (units, _) = query_units(
        store,
        rel.as_deref(),
        &lang,
        &source,
        settings.thresholds,
        line,
        recent,
    )?;
    if units.is_empty() {
        match line {
            Some(line) => bail!("{path}:{line}: no function there"),
            // Standard input has no lines to name.
            None if on_stdin => {
                return Err(NoUnits {
                    min_tokens: settings.thresholds.min_tokens,
                    min_lines: settings.thresholds.min_lines,
                }
                .into());
            }
            None => bail!(
                "{path}: no units (functions of at least {} tokens and {} lines); ask for one \
                 with {path}:LINE",
                settings.thresholds.min_tokens,
                settings.thresholds.min_lines
            ),
        }
    }
    let query = SimilarQuery {
        path,
        in_catalogue,
        units,
    };
    let min_similarity = match request.min_similarity {
        Some(m) => m,
        None => store.near_params()?.min_similarity,
    };
    similar(store, db, &query, min_similarity, request.limit, warn)
}
