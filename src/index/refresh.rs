//! The index's lifecycle: bring it up to date with the catalogue (a delta, or a new base), heal damage, and keep a watcher's segments warm.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::index::{self, Access, Index, Segments};
use crate::store::Store;

/// A delta segment larger than this fraction of its base (in units) is merged into a new base.
const DELTA_FRACTION: usize = 8;

/// How bringing the index up to date went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexRefresh {
    /// The index already matched the catalogue's last event.
    UpToDate,
    /// A delta segment was written beside the base.
    Delta,
    /// The base was rebuilt from the catalogue, for this reason (naming the file).
    Rebuilt(String),
    /// A first scan is loading the catalogue: an index was built in memory and not written
    /// ([`index::Contents::loading`]).
    Loading,
}

/// Run `read` on the index of `db`, brought up to date first. Chunks are checked when first
/// read, so damage can surface mid-read: then the index is rebuilt from the catalogue, `warn`
/// hears one line, and `read` runs again once. Every command that reads the index goes
/// through here, so each heals it alike.
pub(crate) fn with_index<T>(
    store: &Store,
    db: &Path,
    access: Access,
    warn: &dyn Fn(&str),
    read: impl Fn(&Segments) -> Result<T>,
) -> Result<T> {
    let (segments, how) = match refresh_index(store, db, access) {
        Err(e) if cannot_write_index(&e) => in_memory_index(store, db, &e, warn)?,
        other => other?,
    };
    warn_refresh(db, &how, warn);
    match read(&segments) {
        Err(e) if is_damage(&e) => {
            drop(segments);
            warn(&format!("{e}; rebuilt from the catalogue"));
            let segments = match rebuild_index(store, db, access, e.to_string()) {
                Err(e) if cannot_write_index(&e) => in_memory_index(store, db, &e, warn)?,
                other => other?,
            };
            read(&segments.0)
        }
        other => other,
    }
}

/// Whether bringing the index up to date failed for want of writing it (a full disk, a
/// read-only directory).
fn cannot_write_index(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<index::IndexError>(),
        Some(index::IndexError::Write { .. })
    )
}

/// An index of the catalogue built in memory, for a query that cannot write the index:
/// reading a catalogue needs nothing written. `warn` hears why, in one line.
fn in_memory_index(
    store: &Store,
    db: &Path,
    why: &anyhow::Error,
    warn: &dyn Fn(&str),
) -> Result<(Segments, IndexRefresh)> {
    warn(&format!("{why}; answering from an index built in memory"));
    let bytes = index::build(&store.index_contents(None)?);
    let base = Index::in_memory(&index::path_for(db), &bytes)?;
    let segments = Segments::new(base, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((segments, IndexRefresh::UpToDate))
}

/// Say (in one line) why a query had to bring the index up to date: a scan leaves it up to
/// date, so a query finding it missing, stale or damaged is worth knowing about.
fn warn_refresh(db: &Path, how: &IndexRefresh, warn: &dyn Fn(&str)) {
    let path = index::path_for(db);
    match how {
        IndexRefresh::UpToDate => {}
        IndexRefresh::Delta => warn(&format!(
            "{}: older than the catalogue; brought up to date from it",
            path.display()
        )),
        IndexRefresh::Rebuilt(why) => warn(&format!("{why}; rebuilt from the catalogue")),
        IndexRefresh::Loading => warn(&format!(
            "{}: a first scan is loading this catalogue; answering from an index built in memory",
            db.display()
        )),
    }
}

/// Segments over an index built from `contents` in memory, not written: contents read while
/// a first scan loads the catalogue.
fn unwritten(db: &Path, contents: &index::Contents) -> Result<(Segments, IndexRefresh)> {
    let base = Index::in_memory(&index::path_for(db), &index::build(contents))?;
    let segments = Segments::new(base, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((segments, IndexRefresh::Loading))
}

/// The delta segment beside the index of `db`.
pub fn delta_path(db: &Path) -> PathBuf {
    let mut name = index::path_for(db).into_os_string();
    name.push("-delta");
    PathBuf::from(name)
}

/// The index a long-lived process (the watcher) keeps between its scans: the base with its
/// pages mapped and its chunks checked (a fresh mapping pays a page fault and a check for
/// every chunk a scan's classification touches), and the delta it wrote last.
#[derive(Default)]
pub struct WarmIndex {
    base: std::sync::Mutex<Option<Index>>,
    /// The delta segment this process wrote last, as it reads back, with the file written.
    delta: std::sync::Mutex<Option<(index::Prior, index::FileIdentity)>>,
}

impl WarmIndex {
    /// The kept base, if it is still the file at `path` and was opened the same way.
    fn take_base(&self, path: &Path, access: Access) -> Option<Index> {
        let mut base = self.base.lock().unwrap_or_else(|p| p.into_inner());
        base.take()
            .filter(|b| b.access() == access && b.is_at(path))
    }

    /// The delta segment kept, if `delta` is still the file it was written to.
    fn take_delta(&self, delta: Option<&Index>) -> Option<index::Prior> {
        let mut kept = self.delta.lock().unwrap_or_else(|p| p.into_inner());
        let (prior, identity) = kept.take()?;
        (delta?.identity() == identity).then_some(prior)
    }

    fn keep_delta(&self, prior: index::Prior, delta: &Index) {
        *self.delta.lock().unwrap_or_else(|p| p.into_inner()) = Some((prior, delta.identity()));
    }

    fn keep_base(&self, segments: Segments) {
        *self.base.lock().unwrap_or_else(|p| p.into_inner()) = Some(segments.base);
    }
}

/// Bring the index up to date and keep its base in `warm` for the next scan.
pub fn catch_up_index(store: &Store, db: &Path, warm: &WarmIndex) -> Result<IndexRefresh> {
    let (segments, how) = refresh_index_warm(store, db, Access::Mapped, Some(warm))?;
    // What the next scan's classification would otherwise find out first, now.
    segments.prepare()?;
    release(Some(warm), segments);
    Ok(how)
}

/// Hand the base of `segments` back to `warm`, if any, for the next scan.
pub(crate) fn release(warm: Option<&WarmIndex>, segments: Segments) {
    if let Some(warm) = warm {
        warm.keep_base(segments);
    }
}

pub(crate) fn open_segments(
    db: &Path,
    access: Access,
    warm: Option<&WarmIndex>,
) -> std::result::Result<Segments, String> {
    let kept = warm.and_then(|w| w.take_base(&index::path_for(db), access));
    let base = match kept {
        Some(base) => Ok(base),
        None => Index::open(&index::path_for(db), access),
    };
    let base = base.map_err(|e| match &e {
        index::IndexError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            format!("{}: no index", index::path_for(db).display())
        }
        _ => e.to_string(),
    })?;
    let delta_path = delta_path(db);
    let delta = match Index::open(&delta_path, access) {
        Ok(d) => Some(d),
        Err(index::IndexError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            None
        }
        Err(e) => return Err(e.to_string()),
    };
    Segments::new(base, delta).map_err(|e| e.to_string())
}

/// Rebuild the index of `db` from the catalogue: a new base, no delta.
pub fn rebuild_index(
    store: &Store,
    db: &Path,
    access: Access,
    why: String,
) -> Result<(Segments, IndexRefresh)> {
    rebuild_index_warm(store, db, access, why, None)
}

pub(crate) fn rebuild_index_warm(
    store: &Store,
    db: &Path,
    access: Access,
    why: String,
    warm: Option<&WarmIndex>,
) -> Result<(Segments, IndexRefresh)> {
    let contents = store.index_contents(None)?;
    if contents.loading {
        return unwritten(db, &contents);
    }
    let bytes = index::build(&contents);
    drop(contents);
    index::write_atomically(&index::path_for(db), &bytes, index::Durability::Fsync)?;
    // Written: the file is mapped below, so the bytes would be held twice.
    drop(bytes);
    // A delta left behind names the old base and would be refused anyway.
    match std::fs::remove_file(delta_path(db)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("{}: cannot remove", delta_path(db).display()));
        }
        _ => {}
    }
    let segments = open_segments(db, access, warm).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((segments, IndexRefresh::Rebuilt(why)))
}

/// Bring the index beside `db` up to date with the catalogue and open it: nothing to do when
/// it matches the last event; a delta segment over the base when the base is older, unless the
/// delta would pass a fraction of the base; a rebuild when the index is missing, damaged,
/// newer than the catalogue or built with another format.
pub fn refresh_index(store: &Store, db: &Path, access: Access) -> Result<(Segments, IndexRefresh)> {
    refresh_index_warm(store, db, access, None)
}

/// [`refresh_index`], starting from the base `warm` kept open, if any.
pub(crate) fn refresh_index_warm(
    store: &Store,
    db: &Path,
    access: Access,
    warm: Option<&WarmIndex>,
) -> Result<(Segments, IndexRefresh)> {
    let rebuild = |why: String| rebuild_index_warm(store, db, access, why, warm);
    let last = store.last_event()?;
    let segments = match open_segments(db, access, warm) {
        Ok(s) => s,
        Err(why) => return rebuild(why),
    };
    if segments.last_event() == last {
        return Ok((segments, IndexRefresh::UpToDate));
    }
    let base_event = segments.base.last_event;
    if base_event > last {
        let why = format!(
            "{}: newer than the catalogue",
            index::path_for(db).display()
        );
        return rebuild(why);
    }
    let base_units = segments.base.units();
    // A delta ahead of the catalogue (restored from a copy, say), or one that cannot be read
    // back, is no starting point.
    let kept = warm.and_then(|w| w.take_delta(segments.delta.as_ref()));
    let prior = match kept {
        Some(prior) => Some(prior),
        None => segments.prior().ok().flatten(),
    }
    .filter(|p| p.since < last);
    release(warm, segments);
    let contents = store.delta_contents(base_event, prior)?;
    if contents.loading {
        return unwritten(db, &store.index_contents(None)?);
    }
    if contents.units.len() * DELTA_FRACTION > base_units.max(1) {
        return rebuild(format!(
            "{}: older than the catalogue by more than a delta segment holds",
            index::path_for(db).display()
        ));
    }
    let bytes = index::build(&contents);
    index::write_atomically(&delta_path(db), &bytes, index::Durability::PageCache)?;
    match open_segments(db, access, warm) {
        Ok(s) => {
            if let (Some(warm), Some(delta)) = (warm, &s.delta) {
                warm.keep_delta(index::Prior::of(contents), delta);
            }
            Ok((s, IndexRefresh::Delta))
        }
        Err(why) => rebuild(why),
    }
}

/// Whether an error came from a damaged index (the caller rebuilds it and asks again).
fn is_damage(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|c| c.downcast_ref::<index::Damaged>().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FileState, Hash64};
    use crate::fingerprint::{Sketch, UnitPrint};
    use crate::parse::lang::UnitKind;
    use crate::store::Change;

    #[test]
    fn an_index_read_while_a_first_scan_loads_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let codes: Vec<u16> = (0..80).map(|i| (i * 7 % 23) as u16 + 10).collect();
        let unit = UnitPrint {
            kind: UnitKind::Function,
            name: "f".into(),
            start_line: 1,
            end_line: 10,
            start_byte: 0,
            end_byte: 200,
            tokens: codes.len() as u32,
            exact: Hash64(10),
            shape: Hash64(100),
            codes: codes.clone(),
            content: vec![1, 2, 3],
            noise: None,
            family: None,
        };
        let upsert = |path: &str, units: Vec<UnitPrint>| Change::Upsert {
            file: FileState {
                path: path.into(),
                lang: "python".into(),
                size: 200,
                mtime_ns: 1,
                hash: Hash64(2),
                lines: 10,
                syntax_errors: 0,
                status: "indexed".into(),
            },
            units,
            small: vec![],
        };
        let load = |db: &Path| {
            let mut loader = Store::open(db).unwrap();
            assert!(loader.defer_indexes().unwrap());
            let scan = loader.begin_scan(None).unwrap();
            loader
                .apply_changes(scan, vec![upsert("a.py", vec![unit.clone()])])
                .unwrap();
            loader
        };
        let keys = Sketch::of(&codes).band_keys();

        // An index of an earlier state is there (its files since removed, its shapes gone
        // with its last classification): the query would have written a delta.
        let early = dir.path().join("early.db");
        {
            let mut store = Store::open(&early).unwrap();
            let scan = store.begin_scan(None).unwrap();
            let units = (0..40)
                .map(|i| UnitPrint {
                    exact: Hash64(1000 + i),
                    shape: Hash64(2000 + i),
                    ..unit.clone()
                })
                .collect();
            store
                .apply_changes(scan, vec![upsert("old.py", units)])
                .unwrap();
            drop(refresh_index(&store, &early, Access::Read).unwrap());
            store
                .apply_changes(
                    scan,
                    vec![Change::Remove {
                        path: "old.py".into(),
                    }],
                )
                .unwrap();
            store
                .classify(scan, &crate::detect::near::Params::default(), None)
                .unwrap();
        }
        let loader = load(&early);
        let (segments, how) =
            refresh_index(&Store::open(&early).unwrap(), &early, Access::Read).unwrap();
        assert_eq!(how, IndexRefresh::Loading);
        assert_eq!(segments.base.units(), 1);
        assert!(!delta_path(&early).exists());
        drop(loader);

        // No index yet: the query would have written a base.
        let mut loader = load(&db);
        // A query meanwhile: the shape's bands are not in the catalogue yet, and an index
        // written now would pass for current once they are.
        let reader = Store::open(&db).unwrap();
        let (segments, how) = refresh_index(&reader, &db, Access::Read).unwrap();
        assert_eq!(how, IndexRefresh::Loading);
        assert_eq!(segments.base.units(), 1);
        assert!(segments.band_candidates(&keys, 64).unwrap().is_empty());
        assert!(!index::path_for(&db).exists());
        drop(segments);
        loader.finish_load().unwrap();
        let (segments, how) = refresh_index(&reader, &db, Access::Read).unwrap();
        assert!(matches!(how, IndexRefresh::Rebuilt(_)), "{how:?}");
        assert!(index::path_for(&db).exists());
        assert_eq!(segments.band_candidates(&keys, 64).unwrap(), [100]);
    }
}
