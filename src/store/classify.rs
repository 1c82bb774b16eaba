//! The detector state's SQL: [`Store::classify`] runs [`detect::classify`] over the catalogue
//! (the writer implements [`ClassState`]), and the reads of shapes' codes and copies that
//! verification needs.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rustc_hash::{FxHashMap, FxHashSet};

use super::schema::{LAST_EVENT, NEAR_PARAMS, unit_content};
use super::writer::{BatchReport, Writer};
use super::{Store, StoreError, codes_from_blob, sqlite_error, unpack_codes};
use crate::detect::classify::{
    self as detect, Candidates, ClassState, NearEdge, ShapeRow, Span, StoredEdge,
};
use crate::detect::near::{self, Params};
use crate::detect::{Class, Member};
use crate::event::{CloneType, Event, PatternSummary};
use crate::parse::lang::UnitKind;

impl Store {
    /// Bring clone classes up to date with the units, in one transaction: re-verify the
    /// near-miss edges of shapes that appeared or went (and of shapes in band buckets that
    /// crossed the cap), re-cluster every component they touch, and append the pattern events.
    /// With different `params` than last time, every edge is recomputed. Candidates come from
    /// `index` when it is up to date with the catalogue, else from band buckets of every
    /// shape built in memory. Returns the number of events written.
    pub fn classify(
        &mut self,
        scan: i64,
        params: &Params,
        index: Option<Candidates<'_>>,
    ) -> Result<BatchReport, StoreError> {
        let err = sqlite_error(&self.path);
        let params_key = params.key();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let same_params = tx
            .query_row(NEAR_PARAMS, [], |r| r.get::<_, String>(0))
            .optional()
            .map_err(err)?
            .is_some_and(|v| v == params_key);
        let mut writer = Writer::new(&tx, scan, self.next_file_id, self.next_unit_id);
        detect::classify(&mut writer, params, !same_params, true, index).map_err(err)?;
        let events = writer.events;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('near', ?1) ON CONFLICT(key) DO UPDATE SET value = ?1",
            [&params_key],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(BatchReport { events })
    }

    /// Shapes whose classes are not yet up to date (an interrupted scan leaves some).
    pub fn pending_shapes(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM shapes WHERE seen IS NOT units OR touched = 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(self.err())
    }

    /// The codes of these shapes (those still present and taking part in near-miss
    /// detection), without their copies: the first half of verification needs no more.
    pub fn near_codes(&self, keys: &[u64]) -> Result<Vec<near::Shape>, StoreError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT codes FROM shapes WHERE key = ?1 AND units > 0 AND codes IS NOT NULL",
            )
            .map_err(&err)?;
        let mut out = Vec::new();
        for &key in keys {
            if let Some(codes) = stmt
                .query_row([key as i64], |r| Ok(unpack_codes(r.get(0)?)))
                .optional()
                .map_err(&err)?
            {
                out.push(near::Shape {
                    key,
                    codes,
                    copies: Vec::new(),
                });
            }
        }
        Ok(out)
    }

    /// The content of a shape's first distinct copies, as verification compares them.
    pub fn shape_copies(&self, key: u64) -> Result<Vec<Vec<u16>>, StoreError> {
        copy_content(&self.conn, key).map_err(self.err())
    }

    /// The near-miss parameters the catalogue's classes were computed with.
    pub fn near_params(&self) -> Result<Params, StoreError> {
        stored_params(&self.conn).map_err(self.err())
    }
}

/// The near-miss parameters stored with the catalogue (the defaults before the first
/// classification).
pub(super) fn stored_params(conn: &Connection) -> rusqlite::Result<Params> {
    Ok(conn
        .query_row(NEAR_PARAMS, [], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|key| Params::from_key(&key))
        .unwrap_or_default())
}

/// The catalogue's detector state, inside the writer's transaction. The shapes selected for
/// the reads of one re-clustering are kept in the temporary table `batch_keys`.
impl ClassState for Writer<'_> {
    type Error = rusqlite::Error;

    fn shape_rows(&self) -> rusqlite::Result<Vec<ShapeRow>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT key, units, codes IS NOT NULL, rekey, seen FROM shapes \
             WHERE seen IS NOT units OR rekey = 1 OR touched = 1 ORDER BY key",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ShapeRow {
                key: r.get::<_, i64>(0)? as u64,
                units: r.get(1)?,
                near: r.get::<_, bool>(2)?,
                rekey: r.get::<_, i64>(3)? != 0,
                seen: r.get(4)?,
            })
        })?;
        rows.collect()
    }

    fn last_event(&self) -> rusqlite::Result<i64> {
        self.tx.query_row(LAST_EVENT, [], |r| r.get(0))
    }

    fn shape_codes(&self, key: u64) -> rusqlite::Result<Vec<u16>> {
        Ok(self.known_codes(key)?.unwrap_or_default())
    }

    fn shapes(&self, keys: &[u64]) -> rusqlite::Result<FxHashMap<u64, near::Shape>> {
        shapes_by_key(self.tx, keys)
    }

    fn live_shapes(&self) -> rusqlite::Result<FxHashMap<u64, near::Shape>> {
        live_shapes(self.tx)
    }

    fn neighbours(&self, key: u64) -> rusqlite::Result<Vec<u64>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT b FROM near WHERE a = ?1 UNION ALL SELECT a FROM near WHERE b = ?1",
        )?;
        let rows = stmt.query_map([key as i64], |r| Ok(r.get::<_, i64>(0)? as u64))?;
        rows.collect()
    }

    fn clear_edges(&self) -> rusqlite::Result<()> {
        self.tx.execute("DELETE FROM near", [])?;
        Ok(())
    }

    fn forget_edges(&self, key: u64) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached("DELETE FROM near WHERE a = ?1 OR b = ?1")?
            .execute([key as i64])?;
        Ok(())
    }

    fn record_edges(&self, edges: &[near::Edge]) -> rusqlite::Result<()> {
        let mut insert = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO near (a, b, similarity, score, copy) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for e in edges {
            insert.execute(params![
                e.a as i64,
                e.b as i64,
                f64::from(e.similarity),
                f64::from(e.score),
                e.copy
            ])?;
        }
        Ok(())
    }

    fn every_span(&self, mut f: impl FnMut(u64, Span)) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare(
            "SELECT shape_hash, file_id, start_byte, end_byte FROM units WHERE near = 1",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            f(
                r.get::<_, i64>(0)? as u64,
                (r.get(1)?, r.get(2)?, r.get(3)?),
            );
        }
        Ok(())
    }

    fn every_edge(&self) -> rusqlite::Result<Vec<StoredEdge>> {
        let mut stmt = self
            .tx
            .prepare("SELECT a, b, similarity, score, copy FROM near")?;
        let mut rows = stmt.query([])?;
        let mut all = Vec::new();
        while let Some(r) = rows.next()? {
            all.push((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, f64>(2)? as f32,
                r.get::<_, f64>(3)? as f32,
                r.get::<_, bool>(4)?,
            ));
        }
        Ok(all)
    }

    fn spans(&self, key: u64) -> rusqlite::Result<Vec<Span>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT file_id, start_byte, end_byte FROM units WHERE shape_hash = ?1 AND near = 1",
        )?;
        let rows = stmt.query_map([key as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect()
    }

    fn edges(
        &self,
        key: u64,
        mut f: impl FnMut(NearEdge) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT b, similarity, score, copy FROM near WHERE a = ?1 \
             UNION ALL SELECT a, similarity, score, copy FROM near WHERE b = ?1",
        )?;
        let rows = stmt.query_map([key as i64], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, f64>(1)? as f32,
                r.get::<_, f64>(2)? as f32,
                r.get::<_, bool>(3)?,
            ))
        })?;
        for row in rows {
            f(row?)?;
        }
        Ok(())
    }

    fn classifiable(&self) -> rusqlite::Result<FxHashSet<u64>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT key FROM shapes WHERE units > 1 OR key IN (SELECT key FROM patterns) \
             OR key IN (SELECT a FROM near) OR key IN (SELECT b FROM near)",
        )?;
        let rows = stmt.query_map([], |r| Ok(r.get::<_, i64>(0)? as u64))?;
        rows.collect()
    }

    fn select(&self, keys: &FxHashSet<u64>) -> rusqlite::Result<()> {
        self.tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS batch_keys (key INTEGER PRIMARY KEY); DELETE FROM batch_keys;",
        )?;
        let mut insert = self
            .tx
            .prepare_cached("INSERT INTO batch_keys (key) VALUES (?1)")?;
        for &key in keys {
            insert.execute([key as i64])?;
        }
        Ok(())
    }

    fn nodes(&self) -> rusqlite::Result<Vec<near::Node>> {
        let mut nodes: Vec<near::Node> = Vec::new();
        let mut stmt = self.tx.prepare_cached(
            "SELECT s.key, s.units, s.tokens FROM batch_keys k CROSS JOIN shapes s ON s.key = k.key \
             WHERE s.units > 0",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            nodes.push(near::Node {
                key: r.get::<_, i64>(0)? as u64,
                units: r.get(1)?,
                tokens: r.get(2)?,
            });
        }
        Ok(nodes)
    }

    fn copies(&self, mut f: impl FnMut(Member, Vec<u16>)) -> rusqlite::Result<()> {
        let mut stmt = self.tx.prepare_cached(concat!(
            "SELECT u.shape_hash, u.id, u.exact_hash, u.end_line - u.start_line + 1, u.tokens, \
                 u.kind, ",
            unit_content!(),
            " FROM batch_keys k CROSS JOIN units u ON u.shape_hash = k.key \
                 LEFT JOIN units p ON p.id = u.content_in"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let shape = r.get::<_, i64>(0)? as u64;
            let member = Member {
                unit: r.get(1)?,
                shape,
                exact: r.get::<_, i64>(2)? as u64,
                lines: r.get(3)?,
                tokens: r.get(4)?,
                block: r.get_ref(5)?.as_str()? == UnitKind::Block.as_str(),
            };
            f(member, codes_from_blob(r.get(6)?));
        }
        Ok(())
    }

    fn classes(&self) -> rusqlite::Result<BTreeMap<u64, Class>> {
        let mut old: BTreeMap<u64, Class> = BTreeMap::new();
        let mut stmt = self.tx.prepare_cached(
            "SELECT p.key, p.id, p.kind, p.clone_type, p.lines, p.tokens, p.similarity, m.unit_id \
             FROM batch_keys k CROSS JOIN patterns p ON p.key = k.key CROSS JOIN pattern_members m ON m.pattern_id = p.id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let key = r.get::<_, i64>(0)? as u64;
            let class = match old.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let clone_type: String = r.get(3)?;
                    e.insert(Class {
                        id: r.get(1)?,
                        key,
                        kind: r.get(2)?,
                        summary: PatternSummary {
                            clone_type: CloneType::parse(&clone_type).unwrap_or(CloneType::T2),
                            lines: r.get(4)?,
                            tokens: r.get(5)?,
                            similarity: r.get::<_, f64>(6)? as f32,
                        },
                        members: Vec::new(),
                    })
                }
            };
            class.members.push(r.get(7)?);
        }
        Ok(old)
    }

    fn emit(&mut self, event: Event) -> rusqlite::Result<()> {
        Writer::emit(self, event)
    }

    fn mark_classified(&self) -> rusqlite::Result<()> {
        self.tx.execute_batch(
            "DELETE FROM shapes WHERE (seen IS NOT units OR rekey = 1 OR touched = 1) AND units = 0; \
             UPDATE shapes SET seen = units, rekey = 0, touched = 0 \
             WHERE seen IS NOT units OR rekey = 1 OR touched = 1;",
        )
    }
}

/// The live near-miss shapes among these keys (units and codes), with their copies' content.
fn shapes_by_key(conn: &Connection, keys: &[u64]) -> rusqlite::Result<FxHashMap<u64, near::Shape>> {
    let mut stmt = conn.prepare_cached(
        "SELECT codes FROM shapes WHERE key = ?1 AND units > 0 AND codes IS NOT NULL",
    )?;
    let mut out = FxHashMap::default();
    for &key in keys {
        if let Some(codes) = stmt
            .query_row([key as i64], |r| Ok(unpack_codes(r.get(0)?)))
            .optional()?
        {
            let copies = copy_content(conn, key)?;
            out.insert(key, near::Shape { key, codes, copies });
        }
    }
    Ok(out)
}

/// Every live near-miss shape with its copies' content, read in two passes.
pub(super) fn live_shapes(conn: &Connection) -> rusqlite::Result<FxHashMap<u64, near::Shape>> {
    let mut shapes: FxHashMap<u64, near::Shape> = FxHashMap::default();
    // For the shapes with several units, the exact hashes of the copies kept so far, in order.
    let mut kept: FxHashMap<u64, [i64; near::COPIES]> = FxHashMap::default();
    let mut stmt =
        conn.prepare("SELECT key, codes, units FROM shapes WHERE units > 0 AND codes IS NOT NULL")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let key = r.get::<_, i64>(0)? as u64;
        let codes = unpack_codes(r.get(1)?);
        if r.get::<_, i64>(2)? > 1 {
            kept.insert(key, [0; near::COPIES]);
        }
        shapes.insert(
            key,
            near::Shape {
                key,
                codes,
                copies: Vec::new(),
            },
        );
    }
    // The copies compared are the first distinct ones by exact hash, as `copy_content` reads
    // (in SQL's order: the hashes as signed integers). Read in table order and picked here:
    // in the index's order the rows are read at random places (0.9 s instead of 0.04 s on
    // the standard library).
    let mut stmt =
        conn.prepare("SELECT shape_hash, exact_hash, content FROM units WHERE near = 1")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (shape, exact) = (r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)?);
        let Some(s) = shapes.get_mut(&shape) else {
            continue;
        };
        let Some(kept) = kept.get_mut(&shape) else {
            // Its only unit (`shapes.units` counts them in the same transactions).
            if s.copies.is_empty() {
                s.copies = vec![codes_from_blob(r.get(2)?)];
            }
            continue;
        };
        let n = s.copies.len();
        if let Err(at) = kept[..n].binary_search(&exact)
            && at < near::COPIES
        {
            if n == near::COPIES {
                s.copies.pop();
            }
            s.copies.insert(at, codes_from_blob(r.get(2)?));
            kept.copy_within(at..n.min(near::COPIES - 1), at + 1);
            kept[at] = exact;
        }
    }
    Ok(shapes)
}

/// The content of a shape's first distinct copies by exact hash, so the choice does not
/// depend on arrival order ([`near::COPIES`] at most).
pub(super) fn copy_content(conn: &Connection, shape: u64) -> rusqlite::Result<Vec<Vec<u16>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT exact_hash, min(content) FROM units WHERE shape_hash = ?1 AND near = 1 \
         GROUP BY exact_hash ORDER BY exact_hash LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![shape as i64, near::COPIES as i64], |r| {
        Ok(codes_from_blob(r.get(1)?))
    })?;
    rows.collect()
}
