//! `cpt stats`: the catalogue's figures and the index's.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::detect;
use crate::index::{self, Access, Index};
use crate::store::{Counts, PatternRow, Store};

use crate::engine::classes::*;
use crate::index::refresh::*;

/// Per-language figures in [`Stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LanguageStats {
    pub files: u64,
    pub lines: u64,
    pub units: u64,
}

/// What `cpt stats` shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub schema: &'static str,
    pub root: String,
    pub files: u64,
    pub lines: u64,
    pub units: u64,
    pub patterns: u64,
    pub languages: BTreeMap<String, LanguageStats>,
    pub skipped: BTreeMap<String, u64>,
    pub files_with_syntax_errors: u64,
    pub duplicated_lines: u64,
    pub duplicated_share: f64,
    pub events: u64,
    pub index: IndexStats,
}

/// The index beside the catalogue, for `cpt stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IndexStats {
    /// Bytes of the base and the delta segment.
    pub bytes: u64,
    pub units: u64,
    pub delta_units: u64,
    pub bytes_per_unit: f64,
    pub bloom_bits: u64,
    pub bloom_hashes: u32,
    /// The rate the filter was sized for.
    pub bloom_configured_rate: f64,
    /// The rate its actual bits imply.
    pub bloom_expected_rate: f64,
    /// The rate measured on 100,000 fingerprints that are not indexed.
    pub bloom_measured_rate: f64,
}

/// Catalogue statistics, with duplicated lines counted once however many classes cover them.
pub fn stats(store: &Store, db: &Path, warn: &dyn Fn(&str)) -> Result<Stats> {
    let patterns = reported_patterns(store, &Filter::default())?;
    stats_of(store, db, store.counts()?, &patterns, warn)
}

/// Statistics of these counts and reported classes (the catalogue's now, or as it was), with
/// the figures of the index as it is.
pub fn stats_of(
    store: &Store,
    db: &Path,
    counts: Counts,
    patterns: &[PatternRow],
    warn: &dyn Fn(&str),
) -> Result<Stats> {
    let index = with_index(store, db, Access::Mapped, warn, |segments| {
        let base = &segments.base;
        let delta_units = segments.delta.as_ref().map_or(0, Index::units) as u64;
        let bytes = (base.bytes_len() + segments.delta.as_ref().map_or(0, Index::bytes_len)) as u64;
        let (bloom_bits, bloom_hashes) = base.bloom_size();
        Ok(IndexStats {
            bytes,
            units: base.units() as u64,
            delta_units,
            bytes_per_unit: bytes as f64 / (base.units() as u64 + delta_units).max(1) as f64,
            bloom_bits,
            bloom_hashes,
            bloom_configured_rate: index::BLOOM_RATE,
            bloom_expected_rate: base.bloom_expected_rate()?,
            bloom_measured_rate: base.measured_false_positive_rate(100_000)?,
        })
    })?;
    let mut ranges: HashMap<i64, Vec<(u32, u32)>> = HashMap::new();
    for member in patterns.iter().flat_map(|p| &p.members) {
        ranges
            .entry(member.file_id)
            .or_default()
            .push((member.start_line, member.end_line));
    }
    let duplicated_lines: u64 = ranges.values_mut().map(|r| detect::union_lines(r)).sum();
    let languages: BTreeMap<String, LanguageStats> = counts
        .languages
        .into_iter()
        .map(|(lang, (files, lines, units))| {
            (
                lang,
                LanguageStats {
                    files,
                    lines,
                    units,
                },
            )
        })
        .collect();
    let lines: u64 = languages.values().map(|l| l.lines).sum();
    Ok(Stats {
        schema: "cpt.stats/1",
        root: store.meta("root")?.unwrap_or_default(),
        files: languages.values().map(|l| l.files).sum(),
        lines,
        units: languages.values().map(|l| l.units).sum(),
        patterns: patterns.len() as u64,
        languages,
        skipped: counts.skipped,
        files_with_syntax_errors: counts.files_with_syntax_errors,
        duplicated_lines,
        duplicated_share: if lines == 0 {
            0.0
        } else {
            duplicated_lines as f64 / lines as f64
        },
        events: counts.events,
        index,
    })
}
