//! Plain rows an index of the catalogue is built from (`index::contents` assembles them):
//! files, units with their class, the codes of near-miss shapes, and the events since an
//! index was built. Each is given to a callback as it is read.

use std::collections::BTreeSet;

use rusqlite::OptionalExtension;

use super::schema::LAST_EVENT;
use super::{Store, StoreError, decode_event, unpack_codes};
use crate::event::Event;

/// A unit as an index records it.
pub struct IndexUnit<'r> {
    pub exact: u64,
    pub shape: u64,
    pub file_id: i64,
    pub kind: &'r str,
    pub name: String,
    pub start_line: u32,
    pub end_line: u32,
    pub tokens: u32,
    /// A trivial shape ([`crate::fingerprint::Noise`]).
    pub noise: bool,
    /// The key of its class (the smallest, if several).
    pub pattern: Option<u64>,
}

impl Store {
    /// Every file (id, path, language) or, with `paths`, those at these paths, in that order.
    pub fn index_files(
        &self,
        paths: Option<&[String]>,
        mut f: impl FnMut(i64, String, String),
    ) -> Result<(), StoreError> {
        let err = self.err();
        let mut add = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
            f(r.get(0)?, r.get(1)?, r.get(2)?);
            Ok(())
        };
        match paths {
            None => {
                let mut stmt = self
                    .conn
                    .prepare("SELECT id, path, lang FROM files")
                    .map_err(&err)?;
                let mut rows = stmt.query([]).map_err(&err)?;
                while let Some(r) = rows.next().map_err(&err)? {
                    add(r).map_err(&err)?;
                }
            }
            Some(paths) => {
                let mut stmt = self
                    .conn
                    .prepare_cached("SELECT id, path, lang FROM files WHERE path = ?1")
                    .map_err(&err)?;
                for path in paths {
                    let mut rows = stmt.query([path]).map_err(&err)?;
                    while let Some(r) = rows.next().map_err(&err)? {
                        add(r).map_err(&err)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Every unit or, with `file_ids`, the units of these files, file by file.
    pub fn index_units(
        &self,
        file_ids: Option<&[i64]>,
        mut f: impl FnMut(IndexUnit<'_>),
    ) -> Result<(), StoreError> {
        let err = self.err();
        let select = "SELECT u.exact_hash, u.shape_hash, u.file_id, u.kind, u.name, u.start_line, \
                      u.end_line, u.tokens, u.noise IS NOT NULL, \
                      (SELECT min(p.key) FROM pattern_members m JOIN patterns p ON p.id = m.pattern_id \
                       WHERE m.unit_id = u.id) \
                      FROM units u";
        let mut row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
            f(IndexUnit {
                exact: r.get::<_, i64>(0)? as u64,
                shape: r.get::<_, i64>(1)? as u64,
                file_id: r.get(2)?,
                kind: r.get_ref(3)?.as_str()?,
                name: r.get(4)?,
                start_line: r.get(5)?,
                end_line: r.get(6)?,
                tokens: r.get(7)?,
                noise: r.get(8)?,
                pattern: r.get::<_, Option<i64>>(9)?.map(|k| k as u64),
            });
            Ok(())
        };
        match file_ids {
            None => {
                let mut stmt = self.conn.prepare(select).map_err(&err)?;
                let mut rows = stmt.query([]).map_err(&err)?;
                while let Some(r) = rows.next().map_err(&err)? {
                    row(r).map_err(&err)?;
                }
            }
            Some(ids) => {
                let mut stmt = self
                    .conn
                    .prepare_cached(&format!("{select} WHERE u.file_id = ?1"))
                    .map_err(&err)?;
                for &id in ids {
                    let mut rows = stmt.query([id]).map_err(&err)?;
                    while let Some(r) = rows.next().map_err(&err)? {
                        row(r).map_err(&err)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The codes of every shape that takes part in near-miss detection or, with `keys`, of
    /// those among these.
    pub fn index_shapes(
        &self,
        keys: Option<&BTreeSet<u64>>,
        mut f: impl FnMut(u64, Vec<u16>),
    ) -> Result<(), StoreError> {
        let err = self.err();
        match keys {
            Some(keys) => {
                let mut stmt = self
                    .conn
                    .prepare_cached(
                        "SELECT codes FROM shapes WHERE key = ?1 AND units > 0 AND codes IS NOT NULL",
                    )
                    .map_err(&err)?;
                for &key in keys {
                    if let Some(codes) = stmt
                        .query_row([key as i64], |r| r.get(0))
                        .optional()
                        .map_err(&err)?
                    {
                        f(key, unpack_codes(codes));
                    }
                }
            }
            None => {
                let mut stmt = self
                    .conn
                    .prepare("SELECT key, codes FROM shapes WHERE units > 0 AND codes IS NOT NULL")
                    .map_err(&err)?;
                let mut rows = stmt.query([]).map_err(&err)?;
                while let Some(r) = rows.next().map_err(&err)? {
                    f(
                        r.get::<_, i64>(0).map_err(&err)? as u64,
                        unpack_codes(r.get(1).map_err(&err)?),
                    );
                }
            }
        }
        Ok(())
    }

    /// The events after `since`, in order, with their sequence numbers. Returns the last
    /// one's (`since` when there is none).
    pub fn events_since(&self, since: i64, mut f: impl FnMut(Event)) -> Result<i64, StoreError> {
        let err = self.err();
        let mut stmt = self
            .conn
            .prepare("SELECT seq, data FROM events WHERE seq > ?1 ORDER BY seq")
            .map_err(&err)?;
        let mut rows = stmt.query([since]).map_err(&err)?;
        let mut last = since;
        while let Some(row) = rows.next().map_err(&err)? {
            let seq: i64 = row.get(0).map_err(&err)?;
            last = seq;
            f(decode_event(
                &self.path,
                seq,
                row.get_ref(1).map_err(&err)?,
            )?);
        }
        Ok(last)
    }

    /// The paths of the files holding these units, then of these files (those still there).
    pub fn paths_of(
        &self,
        unit_ids: Vec<i64>,
        file_ids: Vec<i64>,
        mut f: impl FnMut(String),
    ) -> Result<(), StoreError> {
        let err = self.err();
        for (sql, ids) in [
            (
                "SELECT f.path FROM units u JOIN files f ON f.id = u.file_id WHERE u.id = ?1",
                unit_ids,
            ),
            ("SELECT path FROM files WHERE id = ?1", file_ids),
        ] {
            let mut path_of = self.conn.prepare_cached(sql).map_err(&err)?;
            for id in ids {
                if let Some(path) = path_of
                    .query_row([id], |r| r.get::<_, String>(0))
                    .optional()
                    .map_err(&err)?
                {
                    f(path);
                }
            }
        }
        Ok(())
    }

    /// The sequence number of the last event (0 for an empty log): what an index built now
    /// is up to date with.
    pub fn last_event(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(LAST_EVENT, [], |r| r.get(0))
            .map_err(self.err())
    }
}
