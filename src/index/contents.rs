//! What an index is built from, assembled from the catalogue's plain rows
//! ([`Store::index_contents`], [`Store::delta_contents`]), and the index as classification's
//! source of near-miss candidates ([`CandidateIndex`] for [`Segments`]). Above both `store` and
//! the index format: neither imports the other.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::detect::classify::{CandidateIndex, Unreadable};
use crate::detect::near::{self, Buckets};
use crate::event::Event;
use crate::fingerprint::{self, Sketch};
use crate::index::{self, Segments};
use crate::store::{Store, StoreError};

impl Store {
    /// Everything an index is built from, read in one transaction so that it is one state of
    /// the catalogue: every unit with its file and pattern, and the band keys of every shape
    /// that takes part in near-miss detection. With `paths`, only those files' units and the
    /// bands of their shapes (a delta segment).
    pub fn index_contents(&self, paths: Option<&[String]>) -> Result<index::Contents, StoreError> {
        let _snapshot = self.snapshot()?;
        contents_in(self, paths)
    }

    /// The contents of a delta segment over a base built at `base_event`: the files touched
    /// by any event since (changed, added or removed, or holding a unit whose pattern
    /// changed) with their units now, and the patterns dissolved since.
    pub fn delta_contents(
        &self,
        base_event: i64,
        prior: Option<index::Prior>,
    ) -> Result<index::Contents, StoreError> {
        let _snapshot = self.snapshot()?;
        // Files and dissolved classes named by the events read here.
        let mut dirty: BTreeSet<String> = BTreeSet::new();
        let mut dissolved: Vec<u64> = Vec::new();
        // A delta segment up to date with an earlier event already holds what changed before
        // it: only the events since are read, and its units of the files they do not name
        // are carried over.
        let prior = prior.filter(|p| p.since >= base_event);
        let from = prior.as_ref().map_or(base_event, |p| p.since);
        let mut unit_ids: Vec<i64> = Vec::new();
        let mut file_ids: Vec<i64> = Vec::new();
        let last_event = self.events_since(from, |event| match event {
            Event::FileAdded(r) | Event::FileChanged(r) => {
                dirty.insert(r.file.path);
            }
            Event::FileRemoved { path, .. } => {
                dirty.insert(path);
            }
            // The file of a moved unit changed: named by its own event; a unit gone is
            // in a file that changed or went.
            Event::FileTouched { .. } | Event::UnitMoved { .. } | Event::UnitRemoved { .. } => {}
            // Decisions about classes are not in the index.
            Event::PatternAccepted { .. } | Event::PatternUnaccepted { .. } => {}
            Event::UnitAdded(r) => file_ids.push(r.file_id),
            Event::UnitsAdded { file_id, .. } => file_ids.push(file_id),
            Event::PatternCreated { members, .. } => unit_ids.extend(members),
            Event::PatternGrown { added, .. } => unit_ids.extend(added),
            Event::PatternShrunk { removed, .. } => unit_ids.extend(removed),
            Event::PatternDissolved { id } => {
                if let Ok(key) = u64::from_str_radix(&id, 16) {
                    dissolved.push(key);
                }
            }
        })?;
        // A unit gone since is in a file that changed or went: that file is dirty already.
        self.paths_of(unit_ids, file_ids, |path| {
            dirty.insert(path);
        })?;
        let fresh: Vec<String> = dirty.iter().cloned().collect();
        let mut contents = contents_in(self, Some(&fresh))?;
        if let Some(mut prior) = prior {
            let (prior_dirty, prior_dissolved) = (
                std::mem::take(&mut prior.dirty),
                std::mem::take(&mut prior.dissolved),
            );
            carry_over(prior, &dirty, &dissolved, &mut contents);
            dirty.extend(prior_dirty);
            dissolved.extend(prior_dissolved);
        }
        contents.last_event = last_event;
        contents.base_event = base_event;
        contents.dirty = dirty.into_iter().collect();
        contents.dissolved = dissolved;
        Ok(contents)
    }
}

/// Every unit with its file and class, and the band keys of every near-miss shape; with
/// `paths`, those of these files and the bands of their shapes. Inside the caller's snapshot.
fn contents_in(store: &Store, paths: Option<&[String]>) -> Result<index::Contents, StoreError> {
    let last_event = store.last_event()?;
    // Files first, then their units naming them by position: a unit entry holds no
    // strings but its name.
    let mut files: Vec<index::FileEntry> = Vec::new();
    let mut file_pos: FxHashMap<i64, u32> = FxHashMap::default();
    store.index_files(paths, |id, path, lang| {
        file_pos.insert(id, files.len() as u32);
        files.push(index::FileEntry { path, lang });
    })?;
    let mut units = Vec::new();
    let mut unit = |u: crate::store::IndexUnit<'_>| {
        let Some(&file) = file_pos.get(&u.file_id) else {
            return;
        };
        units.push(index::UnitEntry {
            exact: u.exact,
            shape: u.shape,
            file,
            kind: index::kind_code(u.kind),
            name: u.name,
            start_line: u.start_line,
            end_line: u.end_line,
            tokens: u.tokens,
            noise: u.noise,
            pattern: u.pattern,
        });
    };
    match paths {
        None => store.index_units(None, &mut unit)?,
        Some(_) => {
            let mut ids: Vec<i64> = file_pos.keys().copied().collect();
            ids.sort_unstable();
            store.index_units(Some(&ids), &mut unit)?;
        }
    }
    let mut bands = Vec::new();
    let band = |shape: u64, codes: Vec<u16>| {
        bands.push(index::BandShape {
            shape,
            keys: Sketch::of(&codes).band_keys(),
            tokens: codes.len() as u32,
        });
    };
    if paths.is_some() {
        let shapes: BTreeSet<u64> = units.iter().map(|u| u.shape).collect();
        store.index_shapes(Some(&shapes), band)?;
    } else {
        store.index_shapes(None, band)?;
    }
    Ok(index::Contents {
        last_event,
        base_event: 0,
        dirty: Vec::new(),
        dissolved: Vec::new(),
        files,
        units,
        bands,
        loading: store.meta("loading")?.is_some(),
    })
}

/// Move into `contents` the units of `prior`'s files that the events since it do not name
/// (`fresh`), as they are: a unit whose class changed is named by that class's event, and one
/// whose class dissolved (`dissolved` since) now belongs to none. Their shapes' band records
/// come too: band keys and length are a function of the shape's codes, so of its key.
fn carry_over(
    prior: index::Prior,
    fresh: &BTreeSet<String>,
    dissolved: &[u64],
    contents: &mut index::Contents,
) {
    let mut files: Vec<Option<index::FileEntry>> = prior.files.into_iter().map(Some).collect();
    let mut file_pos: FxHashMap<u32, u32> = FxHashMap::default();
    let mut shapes: BTreeSet<u64> = BTreeSet::new();
    for mut unit in prior.units {
        let Some(file) = files.get_mut(unit.file as usize) else {
            continue;
        };
        let pos = match file_pos.get(&unit.file) {
            Some(&pos) => pos,
            None => match file.take() {
                Some(entry) if !fresh.contains(&entry.path) => {
                    contents.files.push(entry);
                    let pos = contents.files.len() as u32 - 1;
                    file_pos.insert(unit.file, pos);
                    pos
                }
                // A fresh file (or one the prior named twice): its units are read anew.
                _ => continue,
            },
        };
        shapes.insert(unit.shape);
        unit.file = pos;
        unit.pattern = unit.pattern.filter(|p| !dissolved.contains(p));
        contents.units.push(unit);
    }
    let have: FxHashSet<u64> = contents.bands.iter().map(|b| b.shape).collect();
    let mut bands = prior.bands;
    for shape in shapes.into_iter().filter(|s| !have.contains(s)) {
        let Some((keys, tokens)) = bands.remove(&shape) else {
            continue;
        };
        let Some(&first) = keys.first() else {
            continue;
        };
        let mut all = [u64::from(first); fingerprint::BANDS];
        for (slot, &key) in all.iter_mut().zip(&keys) {
            *slot = u64::from(key);
        }
        contents.bands.push(index::BandShape {
            shape,
            keys: all,
            tokens,
        });
    }
}

/// The index as classification reads it: a damaged chunk makes it unreadable, and
/// classification takes its candidates from memory instead.
impl CandidateIndex for Segments {
    fn last_event(&self) -> i64 {
        Segments::last_event(self)
    }
    fn holds_shape(&self, shape: u64) -> Result<bool, Unreadable> {
        Ok(!self.shape(shape).map_err(|_| Unreadable)?.is_empty())
    }
    fn bucket_up_to(&self, key: u64, cap: usize) -> Result<Option<Vec<near::Member>>, Unreadable> {
        Buckets::bucket_up_to(self, key, cap).map_err(|_| Unreadable)
    }
}
