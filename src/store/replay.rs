//! Projection replay: [`apply`], the only code that writes projections (live writes and
//! rebuilds alike), and [`Store::rebuild`], which replays the whole log.

use std::collections::hash_map::Entry;

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use rustc_hash::FxHashMap;

use super::classify::stored_params;
use super::schema::{DERIVED, PROJECTIONS, unit_content};
use super::writer::Writer;
use super::{Store, StoreError, codes_to_blob, decode_event, pack_codes, sqlite_error};
use crate::detect::classify as detect;
use crate::event::{Event, FileRecord, LoggedUnit, PatternSummary, UnitRecord};
use crate::fingerprint::{Noise, SmallFunction, UnitPrint};
use crate::parse::lang::UnitKind;

impl Store {
    /// Recreate every projection from the event log. Returns the number of events replayed.
    pub fn rebuild(&mut self) -> Result<u64, StoreError> {
        self.restore_indexes()?;
        let err = sqlite_error(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        for (table, _) in PROJECTIONS.iter().chain(DERIVED) {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(err)?;
        }
        // Whatever a first scan's load left unwritten, the replay writes.
        tx.execute("DELETE FROM meta WHERE key = 'loading'", [])
            .map_err(err)?;
        let mut replayed = 0u64;
        {
            let mut stmt = tx
                .prepare("SELECT seq, data FROM events ORDER BY seq")
                .map_err(err)?;
            let mut rows = stmt.query([]).map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                let seq: i64 = row.get(0).map_err(err)?;
                let event = decode_event(&self.path, seq, row.get_ref(1).map_err(err)?)?;
                apply(&tx, &event, None).map_err(err)?;
                replayed += 1;
            }
        }
        // The replayed patterns are the classes; only the detector's edges need recomputing.
        let params = stored_params(&tx).map_err(err)?;
        let mut writer = Writer::new(&tx, 0, self.next_file_id, self.next_unit_id);
        detect::classify(&mut writer, &params, true, false, None).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(replayed)
    }

    /// Every row of every projection table, one line per row, for equivalence checks.
    pub fn projection_snapshot(&self) -> Result<Vec<String>, StoreError> {
        let mut lines = Vec::new();
        for (table, query) in PROJECTIONS.iter().chain(DERIVED) {
            let mut stmt = self.conn.prepare(query).map_err(self.err())?;
            let columns = stmt.column_count();
            let mut rows = stmt.query([]).map_err(self.err())?;
            while let Some(row) = rows.next().map_err(self.err())? {
                let mut line = format!("{table}:");
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i).map_err(self.err())?;
                    line.push_str(&format!(" {value:?}"));
                }
                lines.push(line);
            }
        }
        Ok(lines)
    }
}

/// Apply one event to the projection tables. The only code that writes projections.
/// `load`: a first scan's load ([`Store::defer_indexes`]), every shape new to the catalogue,
/// its indexes by shape deferred and its shapes held in memory until the load ends
/// ([`ShapeLoad`]), so a shape's `rekey` (which only a shape classified before needs) is not
/// looked up.
pub(super) fn apply(
    tx: &Transaction<'_>,
    event: &Event,
    mut load: Option<&mut ShapeLoad>,
) -> rusqlite::Result<()> {
    match event {
        Event::FileAdded(record) | Event::FileChanged(record) => {
            let FileRecord { id, file: f, small } = record;
            tx.prepare_cached("DELETE FROM small_functions WHERE file_id = ?1")?
                .execute([id])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO small_functions (file_id, kind, name, start_line, end_line, exact_hash, \
                 shape_hash, family) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for SmallFunction(kind, name, start, end, exact, shape, family) in small {
                insert.execute(params![
                    id,
                    kind.as_str(),
                    name,
                    start,
                    end,
                    exact.0 as i64,
                    shape.0 as i64,
                    family
                ])?;
            }
            tx.prepare_cached(
                "INSERT INTO files (id, path, lang, size, mtime_ns, hash, lines, syntax_errors, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT(id) DO UPDATE SET path = ?2, lang = ?3, size = ?4, mtime_ns = ?5, hash = ?6, \
                 lines = ?7, syntax_errors = ?8, status = ?9",
            )?
            .execute(params![
                id,
                f.path,
                f.lang,
                f.size as i64,
                f.mtime_ns,
                f.hash.0 as i64,
                f.lines,
                f.syntax_errors,
                f.status
            ])?;
        }
        Event::FileTouched { id, size, mtime_ns } => {
            tx.prepare_cached("UPDATE files SET size = ?2, mtime_ns = ?3 WHERE id = ?1")?
                .execute(params![id, *size as i64, mtime_ns])?;
        }
        Event::FileRemoved { id, .. } => {
            tx.prepare_cached("DELETE FROM files WHERE id = ?1")?
                .execute([id])?;
            tx.prepare_cached("DELETE FROM small_functions WHERE file_id = ?1")?
                .execute([id])?;
        }
        Event::UnitAdded(record) => {
            let UnitRecord { id, file_id, unit } = record;
            add_unit(tx, *id, *file_id, unit, !unit.codes.is_empty(), load, None)?;
        }
        Event::UnitsAdded {
            file_id,
            first_id,
            units,
        } => {
            for ((id, logged), within) in (*first_id..).zip(units).zip(containers(units)) {
                let within = within.map(|(at, run)| (first_id + at as i64, run));
                add_unit(
                    tx,
                    id,
                    *file_id,
                    &logged.unit,
                    logged.near,
                    load.as_deref_mut(),
                    within,
                )?;
            }
        }
        Event::UnitMoved {
            id,
            start_line,
            end_line,
            start_byte,
            end_byte,
        } => {
            tx.prepare_cached(
                "UPDATE units SET start_line = ?2, end_line = ?3, start_byte = ?4, end_byte = ?5 \
                 WHERE id = ?1",
            )?
            .execute(params![id, start_line, end_line, start_byte, end_byte])?;
        }
        Event::UnitRemoved { id, .. } => {
            let found: Option<(i64, i64, bool, i64, String)> = tx
                .prepare_cached(
                    "SELECT shape_hash, exact_hash, near, file_id, kind FROM units WHERE id = ?1",
                )?
                .query_row([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            if let Some((.., file_id, kind)) = &found
                && kind != UnitKind::Block.as_str()
            {
                // Blocks of its file that kept their code hold their content in it: they take
                // their own copy first.
                tx.prepare_cached(concat!(
                    "UPDATE units AS u SET content = (SELECT ",
                    unit_content!(),
                    " FROM units p WHERE p.id = ?2), content_in = NULL, content_at = NULL \
                     WHERE u.file_id = ?1 AND u.content_in = ?2"
                ))?
                .execute(params![file_id, id])?;
            }
            let found = found.map(|(shape, exact, near, ..)| (shape, exact, near));
            tx.prepare_cached("DELETE FROM units WHERE id = ?1")?
                .execute([id])?;
            if let Some((shape, exact, near)) = found {
                // Not a near-miss node (a block or a table): only the count matters. Else the
                // last copy with these names and values went: the copies compared changed.
                let rekey = near && !has_copy(tx, shape as u64, exact as u64, None)?;
                match load {
                    Some(load) => load.remove(shape as u64, rekey),
                    None => {
                        tx.prepare_cached(
                            "UPDATE shapes SET units = units - 1, touched = 1, rekey = rekey OR ?2 \
                             WHERE key = ?1",
                        )?
                        .execute(params![shape, rekey])?;
                    }
                }
            }
        }
        Event::PatternCreated {
            id,
            key,
            kind,
            summary,
            members,
        } => {
            tx.prepare_cached(
                "INSERT INTO patterns (id, key, kind, clone_type, lines, tokens, similarity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![id, key.0 as i64, kind, summary.clone_type.as_str(), summary.lines, summary.tokens,
                f64::from(summary.similarity)])?;
            add_members(tx, id, members)?;
        }
        Event::PatternGrown { id, summary, added } => {
            update_summary(tx, id, summary)?;
            add_members(tx, id, added)?;
        }
        Event::PatternShrunk {
            id,
            summary,
            removed,
        } => {
            update_summary(tx, id, summary)?;
            let mut stmt = tx.prepare_cached(
                "DELETE FROM pattern_members WHERE pattern_id = ?1 AND unit_id = ?2",
            )?;
            for unit in removed {
                stmt.execute(params![id, unit])?;
            }
        }
        Event::PatternDissolved { id } => {
            tx.prepare_cached("DELETE FROM pattern_members WHERE pattern_id = ?1")?
                .execute([id])?;
            tx.prepare_cached("DELETE FROM patterns WHERE id = ?1")?
                .execute([id])?;
        }
        Event::PatternAccepted {
            id,
            reason,
            copies,
            at_ms,
        } => {
            let copies: Vec<String> = copies.iter().map(|h| format!("{:016x}", h.0)).collect();
            tx.prepare_cached(
                "INSERT INTO accepted (id, reason, copies, at_ms) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(id) DO UPDATE SET reason = ?2, copies = ?3, at_ms = ?4",
            )?
            .execute(params![id, reason, copies.join(" "), at_ms])?;
        }
        Event::PatternUnaccepted { id } => {
            tx.prepare_cached("DELETE FROM accepted WHERE id = ?1")?
                .execute([id])?;
        }
    }
    Ok(())
}

/// Where each of a file's new units may find its content in another of them: a block that is
/// no near-miss node, inside a function-level unit of the list whose content holds the
/// block's as a run (the smallest such unit), as (the unit's place in the list, the run's
/// first code times 2^16 plus its length). A block's names and values are a window of its
/// function's, so on the standard library all but a few hundred of 157,000 blocks hold
/// theirs this way: about half the `units` table's content, 11.6 of 21.5 MB.
pub(super) fn containers(units: &[LoggedUnit]) -> Vec<Option<(usize, i64)>> {
    units
        .iter()
        .map(|b| {
            let block = &b.unit;
            if block.kind != UnitKind::Block
                || b.near
                || block.content.is_empty()
                || block.content.len() > usize::from(u16::MAX)
            {
                return None;
            }
            let mut around: Vec<(usize, &UnitPrint)> = units
                .iter()
                .map(|l| &l.unit)
                .enumerate()
                .filter(|(_, u)| {
                    u.kind != UnitKind::Block
                        && u.start_byte <= block.start_byte
                        && block.end_byte <= u.end_byte
                })
                .collect();
            around.sort_by_key(|(i, u)| (u.end_byte - u.start_byte, *i));
            around.into_iter().find_map(|(i, u)| {
                let at = u
                    .content
                    .windows(block.content.len())
                    .position(|w| w == block.content)?;
                Some((i, ((at as i64) << 16) | block.content.len() as i64))
            })
        })
        .collect()
}

/// Add a unit to `units` and count it in its shape (in `load`, during a first scan's load).
/// A near-miss unit logged without codes has its shape's; a block `within` another unit
/// holds its content there (its id, and the run as [`containers`] gives it).
fn add_unit(
    tx: &Transaction<'_>,
    id: i64,
    file_id: i64,
    u: &UnitPrint,
    near: bool,
    load: Option<&mut ShapeLoad>,
    within: Option<(i64, i64)>,
) -> rusqlite::Result<()> {
    let known: Option<Option<Vec<u8>>> = match &load {
        Some(load) => load.codes(u.shape.0).map(|c| c.cloned()),
        None => tx
            .prepare_cached("SELECT codes FROM shapes WHERE key = ?1")?
            .query_row([u.shape.0 as i64], |r| r.get(0))
            .optional()?,
    };
    let codes = match (near, u.codes.is_empty()) {
        (false, _) => None,
        (true, false) => pack_codes(&u.codes),
        (true, true) => known.clone().flatten(),
    };
    tx.prepare_cached(
        "INSERT INTO units (id, file_id, kind, name, start_line, end_line, start_byte, end_byte, tokens, \
         exact_hash, shape_hash, near, noise, content, family, content_in, content_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        id,
        file_id,
        u.kind.as_str(),
        u.name,
        u.start_line,
        u.end_line,
        u.start_byte,
        u.end_byte,
        u.tokens,
        u.exact.0 as i64,
        u.shape.0 as i64,
        codes.is_some(),
        u.noise.map(Noise::as_str),
        if within.is_some() {
            None
        } else {
            codes_to_blob(&u.content)
        },
        u.family,
        within.map(|w| w.0),
        within.map(|w| w.1)
    ])?;
    if let Some(load) = load {
        load.add(u.shape.0, u.tokens, codes);
        return Ok(());
    }
    // The codes are a function of the shape, except across settings and versions: the
    // latest unit's win, and a shape that leaves or changes in the near-miss graph is
    // re-verified (`rekey`).
    let Some(codes) = codes else {
        // Not a near-miss node (a block or a table): only the count matters.
        tx.prepare_cached(
            "INSERT INTO shapes (key, units, tokens) VALUES (?1, 1, ?2) \
             ON CONFLICT(key) DO UPDATE SET units = units + 1, touched = 1, \
             rekey = rekey OR codes IS NOT NULL, codes = NULL",
        )?
        .execute(params![u.shape.0 as i64, u.tokens])?;
        return Ok(());
    };
    // A copy with other names or values (a new exact hash) re-verifies the shape's
    // edges: verification compares the content of its first distinct copies.
    match known {
        None => {
            tx.prepare_cached(
                "INSERT INTO shapes (key, units, tokens, codes) VALUES (?1, 1, ?2, ?3)",
            )?
            .execute(params![u.shape.0 as i64, u.tokens, codes])?;
        }
        Some(old_codes) => {
            let rekey = old_codes.as_ref() != Some(&codes)
                || !has_copy(tx, u.shape.0, u.exact.0, Some(id))?;
            tx.prepare_cached(
                "UPDATE shapes SET units = units + 1, touched = 1, rekey = rekey OR ?2, codes = ?3 \
                 WHERE key = ?1",
            )?
            .execute(params![u.shape.0 as i64, rekey, codes])?;
        }
    }
    Ok(())
}

/// A first scan's `shapes`, held in memory while it loads and written once when the load
/// ends, in key order ([`ShapeLoad::write`]): each unit's look-up and upsert of its shape,
/// at a random place in a table larger than the page cache, kept the writer thread at 12.9%
/// of a cold scan's samples on the standard library (5.6% with the load in memory). The rows change as [`add_unit`] and a unit's removal would change them in SQL,
/// with nothing looked up for `rekey` on an add (no shape was classified before).
#[derive(Debug, Default)]
pub(super) struct ShapeLoad {
    rows: FxHashMap<u64, LoadedShape>,
}

#[derive(Debug)]
struct LoadedShape {
    units: i64,
    tokens: u32,
    /// Packed ([`pack_codes`]).
    codes: Option<Vec<u8>>,
    rekey: bool,
    touched: bool,
}

impl ShapeLoad {
    /// The shape's codes, when it has a row: `Some(None)` for a row without codes.
    pub(super) fn codes(&self, key: u64) -> Option<Option<&Vec<u8>>> {
        self.rows.get(&key).map(|s| s.codes.as_ref())
    }

    fn add(&mut self, key: u64, tokens: u32, codes: Option<Vec<u8>>) {
        match self.rows.entry(key) {
            Entry::Vacant(e) => {
                e.insert(LoadedShape {
                    units: 1,
                    tokens,
                    codes,
                    rekey: false,
                    touched: false,
                });
            }
            Entry::Occupied(e) => {
                let s = e.into_mut();
                s.units += 1;
                s.touched = true;
                // A unit without codes takes its shape out of the near-miss graph.
                s.rekey |= codes.is_none() && s.codes.is_some();
                s.codes = codes;
            }
        }
    }

    fn remove(&mut self, key: u64, rekey: bool) {
        if let Some(s) = self.rows.get_mut(&key) {
            s.units -= 1;
            s.touched = true;
            s.rekey |= rekey;
        }
    }

    /// Insert the rows, in the table's order (keys as signed integers), so each lands at the
    /// end of the table's last page.
    pub(super) fn write(self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let mut rows: Vec<(u64, LoadedShape)> = self.rows.into_iter().collect();
        rows.sort_unstable_by_key(|(key, _)| *key as i64);
        let mut insert = tx.prepare(
            "INSERT INTO shapes (key, units, tokens, codes, rekey, touched) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (key, s) in rows {
            insert.execute(params![
                key as i64, s.units, s.tokens, s.codes, s.rekey, s.touched
            ])?;
        }
        Ok(())
    }
}

fn update_summary(
    tx: &Transaction<'_>,
    id: &str,
    summary: &PatternSummary,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE patterns SET clone_type = ?2, lines = ?3, tokens = ?4, similarity = ?5 WHERE id = ?1",
    )?
    .execute(params![
        id,
        summary.clone_type.as_str(),
        summary.lines,
        summary.tokens,
        f64::from(summary.similarity)
    ])?;
    Ok(())
}

fn add_members(tx: &Transaction<'_>, id: &str, units: &[i64]) -> rusqlite::Result<()> {
    let mut stmt =
        tx.prepare_cached("INSERT INTO pattern_members (pattern_id, unit_id) VALUES (?1, ?2)")?;
    for unit in units {
        stmt.execute(params![id, unit])?;
    }
    Ok(())
}

/// Whether the shape has a unit with this exact hash (other than `except`).
fn has_copy(
    tx: &Transaction<'_>,
    shape: u64,
    exact: u64,
    except: Option<i64>,
) -> rusqlite::Result<bool> {
    tx.prepare_cached(
        "SELECT 1 FROM units WHERE shape_hash = ?1 AND exact_hash = ?2 AND id IS NOT ?3 LIMIT 1",
    )?
    .query_row(params![shape as i64, exact as i64, except], |_| Ok(()))
    .optional()
    .map(|found| found.is_some())
}
