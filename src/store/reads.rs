//! Reads for reports and queries: clone classes with their members, counts, a file's units
//! and the functions below the unit size.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

use super::{FileState, Store, StoreError, decode_event, units_of};
use crate::event::{CloneType, Event, FileRecord, Hash64};
use crate::fingerprint::{SmallFunction, UnitPrint};
use crate::parse::lang::UnitKind;

/// A function below the unit thresholds, found by [`Store::small_copies`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmallCopy {
    pub path: String,
    pub lang: String,
    pub kind: String,
    pub name: String,
    pub start_line: u32,
    pub end_line: u32,
    pub exact: u64,
}

/// A clone class as reports see it.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternRow {
    pub id: String,
    pub kind: String,
    pub clone_type: CloneType,
    pub lines: u32,
    pub tokens: u32,
    /// Lowest similarity of a member to the representative.
    pub similarity: f32,
    pub members: Vec<MemberRow>,
}

/// One copy in a clone class.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberRow {
    pub file_id: i64,
    pub path: String,
    pub lang: String,
    pub name: String,
    pub start_line: u32,
    pub end_line: u32,
    pub start_byte: u32,
    pub end_byte: u32,
    pub tokens: u32,
    /// Similarity to the class's representative (1 for its own shape).
    pub similarity: f32,
    /// Why the unit is a trivial shape, if it is.
    pub noise: Option<String>,
    /// Its exact hash: copies that differ only in layout and comments share it.
    pub exact: u64,
    /// Its family of code as recorded ([`crate::fingerprint::UnitPrint::family`]).
    pub family: Option<u8>,
}

/// One instance of a recurring shape that is no clone class ([`Store::idiom_instances`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdiomRow {
    pub shape: u64,
    /// `function`, `method`, … or `block`.
    pub kind: String,
    pub name: String,
    pub path: String,
    pub lang: String,
    pub start_line: u32,
    pub end_line: u32,
    /// Its family of code as recorded ([`crate::fingerprint::UnitPrint::family`]).
    pub family: Option<u8>,
}

/// A class accepted as it is (`cpt accept`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedRow {
    pub id: String,
    pub reason: String,
    /// Content hashes of its copies when accepted, sorted.
    pub copies: Vec<u64>,
    pub at_ms: i64,
}

/// Catalogue-wide counts for `cpt stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Per language: (indexed files, lines in them, units).
    pub languages: BTreeMap<String, (u64, u64, u64)>,
    /// Skipped files still in the tree, by reason.
    pub skipped: BTreeMap<String, u64>,
    pub files_with_syntax_errors: u64,
    pub events: u64,
}

impl Store {
    /// A file of the catalogue by its root-relative path, with what a scan recorded of it
    /// (its functions below the unit size are not read: [`Store::file_units`] has them).
    pub fn file(&self, path: &str) -> Result<Option<FileRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, path, lang, size, mtime_ns, hash, lines, syntax_errors, status FROM files \
                 WHERE path = ?1",
                [path],
                |r| {
                    Ok(FileRecord {
                        id: r.get(0)?,
                        file: FileState {
                            path: r.get(1)?,
                            lang: r.get(2)?,
                            size: r.get::<_, i64>(3)? as u64,
                            mtime_ns: r.get(4)?,
                            hash: Hash64(r.get::<_, i64>(5)? as u64),
                            lines: r.get(6)?,
                            syntax_errors: r.get(7)?,
                            status: r.get(8)?,
                        },
                        small: Vec::new(),
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }

    /// A file's units as the last scan fingerprinted them (blocks included), and its
    /// functions below the unit thresholds as query units ([`SmallFunction::to_unit`]); with
    /// `line`, only those containing it.
    pub fn file_units(
        &self,
        file_id: i64,
        line: Option<u32>,
    ) -> Result<(Vec<UnitPrint>, Vec<UnitPrint>), StoreError> {
        let units = units_of(&self.conn, file_id, line)
            .map_err(self.err())?
            .into_iter()
            .map(|r| r.unit)
            .collect();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT kind, name, start_line, end_line, exact_hash, shape_hash, family FROM small_functions \
                 WHERE file_id = ?1 AND (?2 IS NULL OR (start_line <= ?2 AND end_line >= ?2)) \
                 ORDER BY start_line, end_line",
            )
            .map_err(self.err())?;
        let small = stmt
            .query_map(params![file_id, line], |r| {
                let kind: String = r.get(0)?;
                Ok(SmallFunction(
                    UnitKind::parse(&kind).unwrap_or(UnitKind::Function),
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    Hash64(r.get::<_, i64>(4)? as u64),
                    Hash64(r.get::<_, i64>(5)? as u64),
                    r.get(6)?,
                )
                .to_unit())
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        Ok((units, small))
    }

    /// Functions below the unit thresholds with this shape (renamed copies) or, when `exact`
    /// is given, only those with this exact hash too (exact copies); at most `limit`, the
    /// first in the index's order (exact hash, file, line), so that a shape shared by
    /// thousands of accessors costs `limit` rows, not a sort of thousands.
    pub fn small_copies(
        &self,
        shape: u64,
        exact: Option<u64>,
        limit: usize,
    ) -> Result<Vec<SmallCopy>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT f.path, f.lang, s.kind, s.name, s.start_line, s.end_line, s.exact_hash \
                 FROM (SELECT * FROM small_functions WHERE shape_hash = ?1 AND exact_hash >= ?2 \
                       AND exact_hash <= ?3 ORDER BY exact_hash, file_id, start_line LIMIT ?4) s \
                 JOIN files f ON f.id = s.file_id ORDER BY s.exact_hash, s.file_id, s.start_line",
            )
            .map_err(self.err())?;
        let (low, high) = match exact {
            Some(e) => (e as i64, e as i64),
            None => (i64::MIN, i64::MAX),
        };
        let rows = stmt
            .query_map(params![shape as i64, low, high, limit as i64], |r| {
                Ok(SmallCopy {
                    path: r.get(0)?,
                    lang: r.get(1)?,
                    kind: r.get(2)?,
                    name: r.get(3)?,
                    start_line: r.get(4)?,
                    end_line: r.get(5)?,
                    exact: r.get::<_, i64>(6)? as u64,
                })
            })
            .map_err(self.err())?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())
    }

    /// The shapes of the units removed after event `since`, or None when the log does not
    /// name them all (events written before removals named their shape).
    pub fn removed_shapes_since(&self, since: i64) -> Result<Option<Vec<u64>>, StoreError> {
        let mut shapes = Vec::new();
        let mut complete = true;
        self.events_of_kind(since, "unit_removed", |event| match event {
            Event::UnitRemoved {
                shape: Some(shape), ..
            } => shapes.push(shape.0),
            _ => complete = false,
        })?;
        Ok(complete.then_some(shapes))
    }

    /// Every clone class with its members (sorted by path and line).
    pub fn patterns(&self) -> Result<Vec<PatternRow>, StoreError> {
        self.patterns_where("", [])
    }

    /// The clone classes with a member in one of these files (root-relative paths).
    pub fn patterns_touching(&self, paths: &[String]) -> Result<Vec<PatternRow>, StoreError> {
        let paths = serde_json::to_string(paths).expect("strings serialize");
        self.patterns_where(
            "WHERE p.id IN (SELECT pm.pattern_id FROM files pf \
                            JOIN units pu ON pu.file_id = pf.id \
                            JOIN pattern_members pm ON pm.unit_id = pu.id \
                            WHERE pf.path IN (SELECT value FROM json_each(?1)))",
            [paths],
        )
    }

    /// The clone classes with these ids (those that exist).
    pub fn patterns_among(&self, ids: &[String]) -> Result<Vec<PatternRow>, StoreError> {
        let ids = serde_json::to_string(ids).expect("strings serialize");
        self.patterns_where("WHERE p.id IN (SELECT value FROM json_each(?1))", [ids])
    }

    /// Every class accepted as it is, by id.
    pub fn accepted(&self) -> Result<Vec<AcceptedRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, reason, copies, at_ms FROM accepted ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                let copies: String = r.get(2)?;
                Ok(AcceptedRow {
                    id: r.get(0)?,
                    reason: r.get(1)?,
                    copies: copies
                        .split_ascii_whitespace()
                        .filter_map(|h| u64::from_str_radix(h, 16).ok())
                        .collect(),
                    at_ms: r.get(3)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The ids of the clone classes that events after `seq` created, changed or dissolved.
    pub fn patterns_changed_since(&self, seq: i64) -> Result<Vec<String>, StoreError> {
        let mut ids = std::collections::BTreeSet::new();
        self.events_of_kind(seq, "pattern_%", |event| match event {
            Event::PatternCreated { id, .. }
            | Event::PatternGrown { id, .. }
            | Event::PatternShrunk { id, .. }
            | Event::PatternDissolved { id } => {
                ids.insert(id);
            }
            _ => {}
        })?;
        Ok(ids.into_iter().collect())
    }

    /// The events after `since` whose kind is LIKE `kind`, in order.
    fn events_of_kind(
        &self,
        since: i64,
        kind: &str,
        mut f: impl FnMut(Event),
    ) -> Result<(), StoreError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, data FROM events WHERE seq > ?1 AND kind LIKE ?2 ORDER BY seq",
            )
            .map_err(&err)?;
        let mut rows = stmt.query(params![since, kind]).map_err(&err)?;
        while let Some(row) = rows.next().map_err(&err)? {
            let seq: i64 = row.get(0).map_err(&err)?;
            f(decode_event(
                &self.path,
                seq,
                row.get_ref(1).map_err(&err)?,
            )?);
        }
        Ok(())
    }

    fn patterns_where(
        &self,
        filter: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<PatternRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT p.id, p.kind, p.clone_type, p.lines, p.tokens, u.file_id, f.path, f.lang, u.name, \
                        u.start_line, u.end_line, u.start_byte, u.end_byte, p.similarity, u.tokens, u.noise, \
                        CASE WHEN u.shape_hash = p.key THEN 1.0 ELSE \
                          (SELECT n.similarity FROM near n WHERE (n.a = u.shape_hash AND n.b = p.key) \
                                                            OR (n.a = p.key AND n.b = u.shape_hash)) END, \
                        u.exact_hash, u.family \
                 FROM patterns p \
                 JOIN pattern_members m ON m.pattern_id = p.id \
                 JOIN units u ON u.id = m.unit_id \
                 JOIN files f ON f.id = u.file_id \
                 {filter} \
                 ORDER BY p.id, f.path, u.start_line, u.start_byte",
            ))
            .map_err(self.err())?;
        let mut rows = stmt.query(params).map_err(self.err())?;
        let mut patterns: Vec<PatternRow> = Vec::new();
        while let Some(r) = rows.next().map_err(self.err())? {
            let id: String = r.get(0).map_err(self.err())?;
            if patterns.last().is_none_or(|p| p.id != id) {
                let clone_type: String = r.get(2).map_err(self.err())?;
                patterns.push(PatternRow {
                    id,
                    kind: r.get(1).map_err(self.err())?,
                    clone_type: CloneType::parse(&clone_type).unwrap_or(CloneType::T2),
                    lines: r.get(3).map_err(self.err())?,
                    tokens: r.get(4).map_err(self.err())?,
                    similarity: r.get::<_, f64>(13).map_err(self.err())? as f32,
                    members: Vec::new(),
                });
            }
            let member = MemberRow {
                file_id: r.get(5).map_err(self.err())?,
                path: r.get(6).map_err(self.err())?,
                lang: r.get(7).map_err(self.err())?,
                name: r.get(8).map_err(self.err())?,
                start_line: r.get(9).map_err(self.err())?,
                end_line: r.get(10).map_err(self.err())?,
                start_byte: r.get(11).map_err(self.err())?,
                end_byte: r.get(12).map_err(self.err())?,
                tokens: r.get(14).map_err(self.err())?,
                noise: r.get(15).map_err(self.err())?,
                similarity: r
                    .get::<_, Option<f64>>(16)
                    .map_err(self.err())?
                    .unwrap_or(0.0) as f32,
                exact: r.get::<_, i64>(17).map_err(self.err())? as u64,
                family: r.get(18).map_err(self.err())?,
            };
            patterns
                .last_mut()
                .expect("pushed above")
                .members
                .push(member);
        }
        Ok(patterns)
    }

    /// The instances of the shapes with units in at least `min_files` files that are no clone
    /// class: units (not in any class, and not noise other than a trivial body) and functions
    /// below the unit thresholds, each shape's rows together and ordered by path and line.
    /// The periodic table's idioms.
    pub fn idiom_instances(&self, min_files: u32) -> Result<Vec<IdiomRow>, StoreError> {
        // `shapes.units` bounds the files from above, so only shapes that could qualify are
        // looked up (through units(shape_hash)); small functions group through their index.
        let sql = "SELECT u.shape_hash, u.kind, u.name, f.path, f.lang, u.start_line, u.end_line, u.family \
             FROM shapes s CROSS JOIN units u ON u.shape_hash = s.key JOIN files f ON f.id = u.file_id \
             WHERE s.units >= ?1 AND (u.noise IS NULL OR u.noise = 'trivial') \
               AND NOT EXISTS (SELECT 1 FROM units v JOIN pattern_members m ON m.unit_id = v.id \
                               WHERE v.shape_hash = s.key) \
               AND (SELECT count(DISTINCT w.file_id) FROM units w WHERE w.shape_hash = s.key) >= ?1 \
             UNION ALL \
             SELECT sf.shape_hash, sf.kind, sf.name, f.path, f.lang, sf.start_line, sf.end_line, sf.family \
             FROM (SELECT shape_hash FROM small_functions GROUP BY shape_hash \
                   HAVING count(DISTINCT file_id) >= ?1) k \
             JOIN small_functions sf ON sf.shape_hash = k.shape_hash JOIN files f ON f.id = sf.file_id \
             ORDER BY 1, 4, 6";
        let mut stmt = self.conn.prepare(sql).map_err(self.err())?;
        let rows = stmt
            .query_map([min_files], |r| {
                Ok(IdiomRow {
                    shape: r.get::<_, i64>(0)? as u64,
                    kind: r.get(1)?,
                    name: r.get(2)?,
                    path: r.get(3)?,
                    lang: r.get(4)?,
                    start_line: r.get(5)?,
                    end_line: r.get(6)?,
                    family: r.get(7)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// What the last scan did to clone classes, by id: `created`, `grown` or `shrunk` (the
    /// last of its events for the class); empty when it changed none. Decisions people
    /// record (`cpt accept`) are not scans.
    pub fn last_scan_changes(&self) -> Result<BTreeMap<String, &'static str>, StoreError> {
        let err = self.err();
        let last: Option<i64> = self
            .conn
            .query_row(
                "SELECT max(scan_id) FROM events WHERE kind NOT IN ('pattern_accepted', 'pattern_unaccepted')",
                [],
                |r| r.get(0),
            )
            .map_err(&err)?;
        let Some(last) = last else {
            return Ok(BTreeMap::new());
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, data FROM events WHERE scan_id = ?1 \
                 AND kind IN ('pattern_created', 'pattern_grown', 'pattern_shrunk') ORDER BY seq",
            )
            .map_err(&err)?;
        let mut rows = stmt.query([last]).map_err(&err)?;
        let mut out = BTreeMap::new();
        while let Some(row) = rows.next().map_err(&err)? {
            let seq: i64 = row.get(0).map_err(&err)?;
            match decode_event(&self.path, seq, row.get_ref(1).map_err(&err)?)? {
                Event::PatternCreated { id, .. } => {
                    out.insert(id, "created");
                }
                Event::PatternGrown { id, .. } => {
                    out.insert(id, "grown");
                }
                Event::PatternShrunk { id, .. } => {
                    out.insert(id, "shrunk");
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Skipped files in the catalogue, by reason.
    pub fn skipped(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, count(*) FROM files WHERE status != 'indexed' GROUP BY status")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// Catalogue-wide counts.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.lang, count(*), sum(f.lines), \
                        (SELECT count(*) FROM units u JOIN files g ON g.id = u.file_id WHERE g.lang = f.lang AND u.kind != 'block') \
                 FROM files f WHERE f.status = 'indexed' GROUP BY f.lang",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                        r.get::<_, i64>(3)? as u64,
                    ),
                ))
            })
            .map_err(self.err())?;
        counts.languages = rows.collect::<Result<_, _>>().map_err(self.err())?;
        counts.skipped = self.skipped()?;
        counts.files_with_syntax_errors = self
            .conn
            .query_row(
                "SELECT count(*) FROM files WHERE syntax_errors > 0",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(self.err())? as u64;
        counts.events = self
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map_err(self.err())? as u64;
        Ok(counts)
    }

    /// Numbers of function-level units and of their clone classes (blocks not counted).
    pub fn unit_and_pattern_counts(&self) -> Result<(u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM units WHERE kind != 'block'), \
                 (SELECT count(*) FROM patterns WHERE kind != 'block')",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(self.err())
    }
}
