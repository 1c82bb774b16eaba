//! The writer: one batch of changes in one transaction, as events applied to the projections.

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use rustc_hash::{FxHashMap, FxHashSet};

use super::replay::{ShapeLoad, apply};
use super::{FileState, Store, StoreError, now_ms, sqlite_error, units_of, unpack_codes};
use crate::event::{Event, FileRecord, LoggedUnit, UnitRecord, codec};
use crate::fingerprint::{SmallFunction, UnitPrint};

/// One change for the writer.
#[derive(Clone, Debug)]
pub enum Change {
    /// A new or changed file and its units (none when skipped).
    Upsert {
        file: FileState,
        units: Vec<UnitPrint>,
        /// Its functions below the unit thresholds.
        small: Vec<SmallFunction>,
    },
    /// Metadata changed, content did not.
    Touch {
        path: String,
        size: u64,
        mtime_ns: i64,
    },
    /// The file is gone.
    Remove { path: String },
}

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub events: u64,
}

impl Store {
    /// Apply a batch of changes in one transaction: events for files and units. Clone classes
    /// follow in [`Store::classify`].
    pub fn apply_changes(
        &mut self,
        scan: i64,
        changes: Vec<Change>,
    ) -> Result<BatchReport, StoreError> {
        let report = self.apply_batch(scan, changes);
        if report.is_err() {
            // The batch rolled back, but the shapes a first scan holds took its units: the
            // load cannot end with them. Its `loading` mark stays, so the next writer
            // replays the log ([`Store::recover_load`]).
            self.load = None;
        }
        report
    }

    fn apply_batch(&mut self, scan: i64, changes: Vec<Change>) -> Result<BatchReport, StoreError> {
        let err = sqlite_error(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        // Another writer (a `cpt scan` beside a `cpt watch`) may have added files and units
        // since this connection read the counters: they are read again under the write lock,
        // and never below the ids in use (a catalogue an older `cpt` let two writers share).
        for (key, next, table) in [
            ("next_file_id", &mut self.next_file_id, "files"),
            ("next_unit_id", &mut self.next_unit_id, "units"),
        ] {
            let value: Option<String> = tx
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(err)?;
            let in_use: i64 = tx
                .query_row(
                    &format!("SELECT coalesce(max(id), 0) + 1 FROM {table}"),
                    [],
                    |r| r.get(0),
                )
                .map_err(err)?;
            *next = value.and_then(|v| v.parse().ok()).unwrap_or(1).max(in_use);
        }
        let mut writer = Writer::new(&tx, scan, self.next_file_id, self.next_unit_id);
        writer.load = self.load.as_mut();
        for change in changes {
            writer.change(change).map_err(err)?;
        }
        let (next_file_id, next_unit_id, events) =
            (writer.next_file_id, writer.next_unit_id, writer.events);
        for (key, value) in [
            ("next_file_id", next_file_id),
            ("next_unit_id", next_unit_id),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
                params![key, value.to_string()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        self.next_file_id = next_file_id;
        self.next_unit_id = next_unit_id;
        Ok(BatchReport { events })
    }
}

impl Store {
    /// Append events that are decisions rather than scan results (`cpt accept`), in one
    /// transaction, tagged with the last scan. Returns how many were written.
    pub fn record(&mut self, events: Vec<Event>) -> Result<u64, StoreError> {
        let err = sqlite_error(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let scan: i64 = tx
            .query_row("SELECT coalesce(max(id), 0) FROM scans", [], |r| r.get(0))
            .map_err(err)?;
        let mut writer = Writer::new(&tx, scan, self.next_file_id, self.next_unit_id);
        for event in events {
            writer.emit(event).map_err(err)?;
        }
        let events = writer.events;
        tx.commit().map_err(err)?;
        Ok(events)
    }
}

/// The writer's state inside one batch transaction.
pub(super) struct Writer<'t> {
    pub(super) tx: &'t Transaction<'t>,
    scan: i64,
    at_ms: i64,
    next_file_id: i64,
    next_unit_id: i64,
    pub(super) events: u64,
    /// The projections are being loaded by a first scan ([`Store::defer_indexes`]), its
    /// shapes held here.
    load: Option<&'t mut ShapeLoad>,
}

impl<'t> Writer<'t> {
    pub(super) fn new(
        tx: &'t Transaction<'t>,
        scan: i64,
        next_file_id: i64,
        next_unit_id: i64,
    ) -> Self {
        Writer {
            tx,
            scan,
            at_ms: now_ms(),
            next_file_id,
            next_unit_id,
            events: 0,
            load: None,
        }
    }

    pub(super) fn emit(&mut self, event: Event) -> rusqlite::Result<()> {
        let data = codec::encode(&event);
        self.tx
            .prepare_cached(
                "INSERT INTO events (scan_id, at_ms, kind, data) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![self.scan, self.at_ms, event.name(), data])?;
        self.events += 1;
        apply(self.tx, &event, self.load.as_deref_mut())
    }

    fn file_id(&self, path: &str) -> rusqlite::Result<Option<i64>> {
        self.tx
            .prepare_cached("SELECT id FROM files WHERE path = ?1")?
            .query_row([path], |r| r.get(0))
            .optional()
    }

    fn change(&mut self, change: Change) -> rusqlite::Result<()> {
        match change {
            Change::Upsert { file, units, small } => {
                let existing = self.file_id(&file.path)?;
                let id = existing.unwrap_or_else(|| {
                    self.next_file_id += 1;
                    self.next_file_id - 1
                });
                let record = FileRecord { id, file, small };
                let old = if existing.is_some() {
                    self.emit(Event::FileChanged(record))?;
                    self.units_of(id)?
                } else {
                    self.emit(Event::FileAdded(record))?;
                    Vec::new()
                };
                self.replace_units(id, old, units)
            }
            Change::Touch {
                path,
                size,
                mtime_ns,
            } => match self.file_id(&path)? {
                Some(id) => self.emit(Event::FileTouched { id, size, mtime_ns }),
                None => Ok(()),
            },
            Change::Remove { path } => {
                let Some(id) = self.file_id(&path)? else {
                    return Ok(());
                };
                let old = self.units_of(id)?;
                self.replace_units(id, old, Vec::new())?;
                self.emit(Event::FileRemoved { id, path })
            }
        }
    }

    fn units_of(&self, file_id: i64) -> rusqlite::Result<Vec<UnitRecord>> {
        units_of(self.tx, file_id, None)
    }

    /// Replace a file's units: units identical in every field keep their ids; units whose
    /// code and length in lines are unchanged but whose place moved keep them too (one
    /// `unit_moved` each, which touches no shape or class); the rest are removed or added
    /// (which marks their shapes for [`Store::classify`]). Copies of one unit in a file pair
    /// up in order.
    fn replace_units(
        &mut self,
        file_id: i64,
        old: Vec<UnitRecord>,
        new: Vec<UnitPrint>,
    ) -> rusqlite::Result<()> {
        let mut by_hash: FxHashMap<(u64, u64), Vec<usize>> = FxHashMap::default();
        for (i, unit) in new.iter().enumerate() {
            by_hash
                .entry((unit.exact.0, unit.shape.0))
                .or_default()
                .push(i);
        }
        let mut kept = vec![false; new.len()];
        let mut take = |unit: &UnitPrint, fits: &dyn Fn(&UnitPrint) -> bool| -> Option<usize> {
            let same = by_hash.get(&(unit.exact.0, unit.shape.0))?;
            let i = same.iter().copied().find(|&i| !kept[i] && fits(&new[i]))?;
            kept[i] = true;
            Some(i)
        };
        let mut unmatched = Vec::new();
        for record in &old {
            if take(&record.unit, &|n| *n == record.unit).is_none() {
                unmatched.push(record);
            }
        }
        for record in unmatched {
            let u = &record.unit;
            match take(u, &|n| moved(u, n)) {
                Some(i) => self.emit(Event::UnitMoved {
                    id: record.id,
                    start_line: new[i].start_line,
                    end_line: new[i].end_line,
                    start_byte: new[i].start_byte,
                    end_byte: new[i].end_byte,
                })?,
                None => self.emit(Event::UnitRemoved {
                    id: record.id,
                    shape: Some(u.shape),
                })?,
            }
        }
        // The added units, numbered in order, in one event; a near-miss unit's codes only
        // when the catalogue (or a unit before it in this event) does not hold them already.
        // A unit without codes clears its shape's (see `replay::add_unit`), so after one the
        // catalogue's codes for that shape no longer count.
        let first_id = self.next_unit_id;
        let mut carried: FxHashMap<u64, usize> = FxHashMap::default();
        let mut cleared: FxHashSet<u64> = FxHashSet::default();
        let mut units: Vec<LoggedUnit> = Vec::new();
        for (mut unit, kept) in new.into_iter().zip(kept) {
            if kept {
                continue;
            }
            let near = !unit.codes.is_empty();
            if !near {
                carried.remove(&unit.shape.0);
                cleared.insert(unit.shape.0);
            } else {
                let known = match carried.get(&unit.shape.0) {
                    Some(&i) => units[i].unit.codes == unit.codes,
                    None if cleared.contains(&unit.shape.0) => false,
                    None => self
                        .known_codes(unit.shape.0)?
                        .is_some_and(|c| c == unit.codes),
                };
                if known {
                    unit.codes = Vec::new();
                } else {
                    carried.insert(unit.shape.0, units.len());
                }
            }
            units.push(LoggedUnit { unit, near });
        }
        if units.is_empty() {
            return Ok(());
        }
        self.next_unit_id += units.len() as i64;
        self.emit(Event::UnitsAdded {
            file_id,
            first_id,
            units,
        })
    }

    /// The similarity codes the catalogue holds for a shape.
    pub(super) fn known_codes(&self, key: u64) -> rusqlite::Result<Option<Vec<u16>>> {
        if let Some(load) = &self.load {
            return Ok(load
                .codes(key)
                .flatten()
                .map(|b| unpack_codes(Some(b.clone()))));
        }
        let blob: Option<Option<Vec<u8>>> = self
            .tx
            .prepare_cached("SELECT codes FROM shapes WHERE key = ?1")?
            .query_row([key as i64], |r| r.get(0))
            .optional()?;
        Ok(blob.flatten().map(|b| unpack_codes(Some(b))))
    }
}

/// Whether `new` is `old` moved: everything but its place equal, its length in lines too (a
/// class's summary holds its members' lengths).
fn moved(old: &UnitPrint, new: &UnitPrint) -> bool {
    let UnitPrint {
        kind,
        name,
        start_line,
        end_line,
        start_byte: _,
        end_byte: _,
        tokens,
        exact,
        shape,
        codes,
        content,
        noise,
        family,
    } = old;
    new.end_line.wrapping_sub(new.start_line) == end_line.wrapping_sub(*start_line)
        && new.kind == *kind
        && new.name == *name
        && new.tokens == *tokens
        && new.exact == *exact
        && new.shape == *shape
        && new.codes == *codes
        && new.content == *content
        && new.noise == *noise
        && new.family == *family
}
