//! The log read as history: events streamed row by row (never collected), the scans with the
//! commits they recorded, and the points of the log that times and scans name.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, decode_event};
use crate::event::Event;

/// A scan as the `scans` table records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanRow {
    pub id: i64,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    /// `git rev-parse HEAD` in the root when it began, if the root was in a git checkout.
    pub commit: Option<String>,
}

/// Which events to stream: those with `from <= seq <= to` whose kind is among `kinds` (all
/// when `None`), and, at any `seq <= to`, those whose kind is among `context` (what a
/// reader needs to know of the events before `from`, such as which file a unit is in).
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub from: i64,
    pub to: i64,
    pub kinds: Option<Vec<&'static str>>,
    pub context: Vec<&'static str>,
}

impl Store {
    /// Every scan, oldest first.
    pub fn scans(&self) -> Result<Vec<ScanRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, started_ms, finished_ms, git_commit FROM scans ORDER BY id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ScanRow {
                    id: r.get(0)?,
                    started_ms: r.get(1)?,
                    finished_ms: r.get(2)?,
                    commit: r.get(3)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// The last event appended at or before `ms` (milliseconds since the Unix epoch), 0 when
    /// none was.
    pub fn last_event_at_or_before(&self, ms: i64) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM events WHERE at_ms <= ?1",
                [ms],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// The last event of scan `scan` or of a scan before it (decisions made after a scan
    /// carry its id), 0 when there is none.
    pub fn last_event_of_scan(&self, scan: i64) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM events WHERE scan_id <= ?1",
                [scan],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    /// The similarity of two shapes' near-miss edge, if the catalogue keeps it.
    pub fn shape_similarity(&self, a: u64, b: u64) -> Result<Option<f32>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT similarity FROM near WHERE (a = ?1 AND b = ?2) OR (a = ?2 AND b = ?1)",
            )
            .and_then(|mut s| {
                s.query_row(params![a as i64, b as i64], |r| r.get::<_, f64>(0))
                    .optional()
            })
            .map(|s| s.map(|s| s as f32))
            .map_err(self.err())
    }

    /// Hand `f` the events `query` selects, in order, one at a time (sequence number, scan,
    /// time in milliseconds, event): the log is never held in memory.
    pub fn for_each_event<E: From<StoreError>>(
        &self,
        query: &EventQuery,
        mut f: impl FnMut(i64, i64, i64, Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let list = |kinds: &[&str]| {
            kinds
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(",")
        };
        // Kinds are the log's own names (`Event::KINDS`), never user text.
        let selected = match &query.kinds {
            None => "seq >= ?1".to_string(),
            Some(kinds) => format!("(seq >= ?1 AND kind IN ({}))", list(kinds)),
        };
        let filter = if query.context.is_empty() {
            selected
        } else {
            format!("({selected} OR kind IN ({}))", list(&query.context))
        };
        let sql = format!(
            "SELECT seq, scan_id, at_ms, data FROM events WHERE seq <= ?2 AND {filter} ORDER BY seq"
        );
        let err = self.err();
        let mut stmt = self.conn.prepare(&sql).map_err(&err)?;
        let mut rows = stmt.query(params![query.from, query.to]).map_err(&err)?;
        while let Some(row) = rows.next().map_err(&err)? {
            let seq: i64 = row.get(0).map_err(&err)?;
            let event = decode_event(&self.path, seq, row.get_ref(3).map_err(&err)?)?;
            f(
                seq,
                row.get(1).map_err(&err)?,
                row.get(2).map_err(&err)?,
                event,
            )?;
        }
        Ok(())
    }
}
