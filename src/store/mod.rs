//! Store: the SQLite catalogue — an append-only event log and the projections built from it.
//! Only this module touches SQLite.
//!
//! Every write is an [`Event`] that is appended to `events` and applied to the projection tables
//! by one function, `replay::apply`; `rebuild` clears the projections and applies the log again, so
//! live and rebuilt projections come from the same code. Writes happen in one transaction per
//! batch. Clone classes are brought up to date by [`Store::classify`], one transaction after
//! the batches: it runs [`crate::detect::classify`] over the catalogue's detector state, which
//! finds the shapes whose units changed (`shapes.seen` differs from `shapes.units`, or
//! `shapes.touched` is set), re-verifies their near-miss edges (`near`), re-clusters the
//! components they touch and appends the pattern events. An interrupted scan leaves those
//! shapes pending, and the next `classify` finishes the work. `shapes` and `near` are detector
//! state derived from the units; `rebuild` recomputes them.
//!
//! Files: `schema` (migrations, projection tables), `writer` (batches of changes), `classify`
//! (the detector state's SQL), `reads` (reports and queries), `history` (the log read row
//! by row, the scans), `rows` (plain rows an index is
//! built from), `replay` (applying events, rebuilding), `lock` (the write lock).

mod classify;
mod history;
mod lock;
mod reads;
mod replay;
mod rows;
mod schema;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use thiserror::Error;

/// Where classification takes near-miss candidates from (see [`Store::classify`]).
pub use crate::detect::classify::Candidates;
pub use crate::event::FileState;
use crate::event::{Event, Hash64, UnitRecord, codec};
use crate::fingerprint::{Noise, UnitPrint};
use crate::parse::lang::UnitKind;
pub use history::{EventQuery, ScanRow};
pub use lock::WriteLock;
pub use reads::{AcceptedRow, Counts, IdiomRow, MemberRow, PatternRow, SmallCopy};
pub use rows::IndexUnit;
use schema::{MIGRATIONS, unit_content};
pub use writer::{BatchReport, Change};

#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite's error, described for the user (so not a `source`: the description says it).
    #[error("{path}: {}", describe(error))]
    Sqlite {
        path: String,
        error: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: no catalogue here; run `cpt scan` first")]
    Missing { path: String },
    #[error(
        "{path}: catalogue schema version {found} is newer than this cpt understands ({known}); \
         use a newer cpt, or remove the catalogue and scan again"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error(
        "{path}: made by another version of cpt and cannot be upgraded here (the directory \
         cannot be written); scan it once where it can"
    )]
    ReadOnlyOld { path: String },
    #[error(
        "{path}: cannot take the catalogue's write lock ({source}); check that its directory can be written"
    )]
    Lock {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: event {seq} is unreadable ({message}); the event log is damaged: remove the \
         catalogue and scan again"
    )]
    BadEvent {
        path: String,
        seq: i64,
        message: String,
    },
}

/// What the catalogue knows of a file's last visit, for the incremental scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownFile {
    pub size: u64,
    pub mtime_ns: i64,
    pub hash: u64,
    pub status: String,
}

/// A connection's page cache, in KiB. (A first scan's load with 16 or 32 MB spent 0.7 CPU-s
/// less in the kernel on the standard library, and peaked 3–6 MB higher, at 150 MB.)
const CACHE_KB: u32 = 8000;

/// The SQLite catalogue.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    next_file_id: i64,
    next_unit_id: i64,
    /// A first scan is loading the catalogue without its indexes by shape, its shapes held
    /// here until [`Store::finish_load`] ([`Store::defer_indexes`]).
    load: Option<replay::ShapeLoad>,
}

impl Store {
    /// Open the catalogue at `path`, creating it (and its directory) if needed.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        Self::connect(path)
    }

    /// Open an existing catalogue; a missing one is an error that says how to make one.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        Self::connect(path)
    }

    /// Open an existing catalogue to read it. One in a directory this process cannot write
    /// (a read-only mount, another user's tree) is read as it stands: SQLite cannot make the
    /// files its write-ahead log needs there, and nothing can be writing it meanwhile.
    pub fn open_for_reading(path: &Path) -> Result<Store, StoreError> {
        match Self::open_existing(path) {
            Err(StoreError::Sqlite { error, .. }) if cannot_write(&error) => {
                Self::connect_immutable(path)
            }
            other => other,
        }
    }

    fn connect_immutable(path: &Path) -> Result<Store, StoreError> {
        use rusqlite::OpenFlags;
        let err = sqlite_error(path);
        // A URI path: percent-encode what would end or escape it.
        let mut uri = String::from("file:");
        for byte in path.to_string_lossy().bytes() {
            match byte {
                b'?' | b'#' | b'%' => uri.push_str(&format!("%{byte:02X}")),
                _ => uri.push(byte as char),
            }
        }
        uri.push_str("?immutable=1");
        let conn = Connection::open_with_flags(
            &uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(err)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            next_file_id: 1,
            next_unit_id: 1,
            load: None,
        };
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version != MIGRATIONS.len() as i64 {
            return Err(StoreError::ReadOnlyOld {
                path: path.display().to_string(),
            });
        }
        Ok(store)
    }

    fn connect(path: &Path) -> Result<Store, StoreError> {
        let err = sqlite_error(path);
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        // An 8 MB page cache: with 16 MB a first scan of the standard library peaked 8 MB
        // higher, in the same time within the machine's noise.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
             PRAGMA cache_size = -{CACHE_KB};"
        ))
        .map_err(err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            next_file_id: 1,
            next_unit_id: 1,
            load: None,
        };
        store.migrate()?;
        store.next_file_id = store.counter("next_file_id")?;
        store.next_unit_id = store.counter("next_unit_id")?;
        Ok(store)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        sqlite_error(&self.path)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let err = sqlite_error(&self.path);
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path: self.path.display().to_string(),
                found: version,
                known,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Exclusive)
                .map_err(err)?;
            // Another process may have migrated since the version was read: the
            // transaction's own reading is the one that counts.
            let now: i64 = tx
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(err)?;
            if now > index as i64 {
                continue;
            }
            tx.execute_batch(sql).map_err(err)?;
            if index == schema::SHAPE_CODES_PACKED {
                pack_shape_codes(&tx).map_err(err)?;
            }
            tx.pragma_update(None, "user_version", index as i64 + 1)
                .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(())
    }

    fn counter(&self, key: &str) -> Result<i64, StoreError> {
        Ok(self.meta(key)?.and_then(|v| v.parse().ok()).unwrap_or(1))
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.err())
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2", [key, value])
            .map(drop)
            .map_err(self.err())
    }

    /// Start a scan of a tree checked out at `commit` (if it is a git checkout); its id tags
    /// the events it writes.
    pub fn begin_scan(&self, commit: Option<&str>) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO scans (started_ms, git_commit) VALUES (?1, ?2)",
                params![now_ms(), commit],
            )
            .map_err(self.err())?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Record a finished scan's summary (JSON).
    pub fn finish_scan(&self, scan: i64, summary: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE scans SET finished_ms = ?1, summary = ?2 WHERE id = ?3",
                params![now_ms(), summary, scan],
            )
            .map(drop)
            .map_err(self.err())
    }

    /// The summary of the last finished scan.
    pub fn last_scan_summary(&self) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT summary FROM scans WHERE finished_ms IS NOT NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())
    }

    /// Every file the catalogue knows, by path.
    pub fn known_files(&self) -> Result<HashMap<String, KnownFile>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, size, mtime_ns, hash, status FROM files")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    KnownFile {
                        size: r.get::<_, i64>(1)? as u64,
                        mtime_ns: r.get(2)?,
                        hash: r.get::<_, i64>(3)? as u64,
                        status: r.get(4)?,
                    },
                ))
            })
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
    }

    /// What the catalogue knows of these paths (those it knows).
    pub fn known_files_among(
        &self,
        paths: &[String],
    ) -> Result<HashMap<String, KnownFile>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT size, mtime_ns, hash, status FROM files WHERE path = ?1")
            .map_err(self.err())?;
        let mut out = HashMap::new();
        for path in paths {
            let known = stmt
                .query_row([path], |r| {
                    Ok(KnownFile {
                        size: r.get::<_, i64>(0)? as u64,
                        mtime_ns: r.get(1)?,
                        hash: r.get::<_, i64>(2)? as u64,
                        status: r.get(3)?,
                    })
                })
                .optional()
                .map_err(self.err())?;
            if let Some(known) = known {
                out.insert(path.clone(), known);
            }
        }
        Ok(out)
    }

    /// Copy the write-ahead log into the database, as far as readers allow and without
    /// waiting for them. After a large scan, so that the next small write does not pay for
    /// the whole log (SQLite checkpoints when a commit finds the log long).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(self.err())
    }

    /// Settings for a connection a long-lived process keeps (the watcher): a page cache of
    /// 2 MB, not the 8 MB a scan of a whole tree wants, so that the process stays its size;
    /// and with `manual_checkpoints`, checkpoints left to [`Store::checkpoint`] (called when
    /// the owner has time) instead of the commit that finds the log long.
    pub fn keep_open(&self, manual_checkpoints: bool) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA cache_size = -2000;")
            .map_err(self.err())?;
        if manual_checkpoints {
            self.conn
                .query_row("PRAGMA wal_autocheckpoint = 0", [], |_| Ok(()))
                .map_err(self.err())?;
        }
        Ok(())
    }

    /// The catalogue file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the catalogue has a file at this root-relative path.
    pub fn has_file(&self, path: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT 1 FROM files WHERE path = ?1", [path], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(self.err())
    }

    /// Before a first scan's writes, under the write lock: when the catalogue holds no units
    /// and no small functions, drop its indexes by shape ([`schema::DEFERRED_INDEXES`]) until
    /// [`Store::restore_indexes`], so that the load appends instead of inserting at random
    /// places. Meanwhile every shape written is new to the catalogue (pending for
    /// classification), so whether its copies changed is not looked up. Returns whether it did.
    pub fn defer_indexes(&mut self) -> Result<bool, StoreError> {
        let err = sqlite_error(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let empty: bool = tx
            .query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM units) AND NOT EXISTS (SELECT 1 FROM small_functions) \
                 AND NOT EXISTS (SELECT 1 FROM shapes)",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        if !empty {
            return Ok(false);
        }
        for (name, _) in schema::DEFERRED_INDEXES {
            tx.execute(&format!("DROP INDEX IF EXISTS {name}"), [])
                .map_err(err)?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('loading', '1') \
             ON CONFLICT(key) DO UPDATE SET value = '1'",
            [],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        self.load = Some(replay::ShapeLoad::default());
        Ok(true)
    }

    /// End a first scan's load: write the shapes it held and create the indexes by shape.
    pub fn finish_load(&mut self) -> Result<(), StoreError> {
        if let Some(load) = self.load.take() {
            let err = sqlite_error(&self.path);
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            load.write(&tx).map_err(err)?;
            tx.execute("DELETE FROM meta WHERE key = 'loading'", [])
                .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        self.restore_indexes()
    }

    /// Under the write lock, before writing: a first scan interrupted while it loaded left
    /// its indexes by shape out and its shapes unwritten (they were in its memory). The
    /// shapes come back from the log ([`Store::rebuild`]: slow, on a path only a killed
    /// first scan takes), then the indexes. Returns whether the log was replayed.
    pub fn recover_load(&mut self) -> Result<bool, StoreError> {
        let interrupted = self.load.is_none() && self.meta("loading")?.is_some();
        if interrupted {
            self.rebuild()?;
        }
        self.restore_indexes()?;
        Ok(interrupted)
    }

    /// Create the indexes by shape that are missing: after a first scan's load, and under
    /// the write lock of any later writer, for a load that was interrupted (readers meanwhile
    /// find the same rows, more slowly).
    pub fn restore_indexes(&mut self) -> Result<(), StoreError> {
        let err = sqlite_error(&self.path);
        let mut missing = Vec::new();
        for (name, create) in schema::DEFERRED_INDEXES {
            let present = self
                .conn
                .query_row(
                    "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                    [name],
                    |_| Ok(()),
                )
                .optional()
                .map_err(err)?
                .is_some();
            if !present {
                missing.push(*create);
            }
        }
        if !missing.is_empty() {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            for create in missing {
                tx.execute(create, []).map_err(err)?;
            }
            tx.commit().map_err(err)?;
        }
        Ok(())
    }

    /// Read one state of the catalogue until the guard drops: a read transaction, unless
    /// one is open already. A query's statements then share one snapshot (a writer in
    /// another process commits around it, never into it) and one lock, not one each.
    pub fn snapshot(&self) -> Result<Option<Transaction<'_>>, StoreError> {
        if !self.conn.is_autocommit() {
            return Ok(None);
        }
        self.conn
            .unchecked_transaction()
            .map(Some)
            .map_err(self.err())
    }
}

fn codes_from_blob(blob: Option<Vec<u8>>) -> Vec<u16> {
    blob.map(|b| {
        b.chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect()
    })
    .unwrap_or_default()
}

fn codes_to_blob(codes: &[u16]) -> Option<Vec<u8>> {
    (!codes.is_empty()).then(|| codes.iter().flat_map(|c| c.to_le_bytes()).collect())
}

/// A shape's similarity codes as `shapes.codes` holds them: move-to-front coded, each code
/// one byte (its place among the codes seen, most recent first) or, the first time it
/// occurs, `NEW` and its two bytes. A language's code stream repeats a few dozen values, so
/// this takes the standard library's 21 MB of codes to about 13; deflate took them to 9
/// but cost a fresh 200 KB compressor state per shape (0.5 s of the writer on a first scan).
/// The same codes always pack to the same bytes, so blobs compare as the codes do.
fn pack_codes(codes: &[u16]) -> Option<Vec<u8>> {
    if codes.is_empty() {
        return None;
    }
    let mut recent: Vec<u16> = Vec::with_capacity(64);
    let mut out = Vec::with_capacity(codes.len() + codes.len() / 4);
    for &code in codes {
        match recent.iter().position(|&r| r == code) {
            Some(i) if i < usize::from(NEW) => {
                out.push(i as u8);
                recent.remove(i);
            }
            found => {
                if let Some(i) = found {
                    recent.remove(i);
                }
                out.push(NEW);
                out.extend_from_slice(&code.to_le_bytes());
            }
        }
        recent.insert(0, code);
    }
    Some(out)
}

/// The byte of [`pack_codes`] that says a code follows in full.
const NEW: u8 = 0xff;

/// Codes from [`pack_codes`]; a damaged blob reads as none (the shape takes no part in
/// near-miss detection until its units are scanned again).
fn unpack_codes(blob: Option<Vec<u8>>) -> Vec<u16> {
    let Some(blob) = blob else {
        return Vec::new();
    };
    let mut recent: Vec<u16> = Vec::with_capacity(64);
    let mut out = Vec::with_capacity(blob.len());
    let mut bytes = blob.iter();
    while let Some(&b) = bytes.next() {
        let code = if b == NEW {
            match (bytes.next(), bytes.next()) {
                (Some(&lo), Some(&hi)) => u16::from_le_bytes([lo, hi]),
                _ => return Vec::new(),
            }
        } else if usize::from(b) < recent.len() {
            recent.remove(usize::from(b))
        } else {
            return Vec::new();
        };
        recent.insert(0, code);
        out.push(code);
    }
    out
}

/// Migration: the shapes' codes of a catalogue written before they were packed.
fn pack_shape_codes(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<(i64, Vec<u8>)> = tx
        .prepare("SELECT key, codes FROM shapes WHERE codes IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx.prepare("UPDATE shapes SET codes = ?2 WHERE key = ?1")?;
    for (key, raw) in rows {
        update.execute(params![key, pack_codes(&codes_from_blob(Some(raw)))])?;
    }
    Ok(())
}

/// Event `seq` of the log of the catalogue at `path`, from its binary encoding (or the JSON
/// text of logs written before it).
fn decode_event(
    path: &Path,
    seq: i64,
    data: rusqlite::types::ValueRef<'_>,
) -> Result<Event, StoreError> {
    use rusqlite::types::ValueRef;
    let decoded = match data {
        ValueRef::Blob(bytes) => codec::decode(bytes),
        ValueRef::Text(text) => std::str::from_utf8(text)
            .map_err(|_| codec::DecodeError("text that is not UTF-8".into()))
            .and_then(codec::decode_json),
        other => Err(codec::DecodeError(format!(
            "a {} where an event belongs",
            other.data_type()
        ))),
    };
    decoded.map_err(|e| StoreError::BadEvent {
        path: path.display().to_string(),
        seq,
        message: e.to_string(),
    })
}

/// A file's units (only those containing `line`, when given), in the order they were added.
fn units_of(
    conn: &Connection,
    file_id: i64,
    line: Option<u32>,
) -> rusqlite::Result<Vec<UnitRecord>> {
    let mut stmt = conn.prepare_cached(
        concat!(
            "SELECT u.id, u.kind, u.name, u.start_line, u.end_line, u.start_byte, u.end_byte, u.tokens, \
             u.exact_hash, u.shape_hash, CASE WHEN u.near THEN s.codes END, u.noise, ",
            unit_content!(),
            ", u.family FROM units u LEFT JOIN shapes s ON s.key = u.shape_hash \
             LEFT JOIN units p ON p.id = u.content_in WHERE u.file_id = ?1 \
             AND (?2 IS NULL OR (u.start_line <= ?2 AND u.end_line >= ?2)) ORDER BY u.id"
        ),
        )?;
    let rows = stmt.query_map(params![file_id, line], |r| {
        let kind: String = r.get(1)?;
        Ok(UnitRecord {
            id: r.get(0)?,
            file_id,
            unit: UnitPrint {
                kind: UnitKind::parse(&kind).unwrap_or(UnitKind::Function),
                name: r.get(2)?,
                start_line: r.get(3)?,
                end_line: r.get(4)?,
                start_byte: r.get(5)?,
                end_byte: r.get(6)?,
                tokens: r.get(7)?,
                exact: Hash64(r.get::<_, i64>(8)? as u64),
                shape: Hash64(r.get::<_, i64>(9)? as u64),
                codes: unpack_codes(r.get::<_, Option<Vec<u8>>>(10)?),
                noise: r
                    .get::<_, Option<String>>(11)?
                    .and_then(|n| Noise::parse(&n)),
                content: codes_from_blob(r.get::<_, Option<Vec<u8>>>(12)?),
                family: r.get(13)?,
            },
        })
    })?;
    rows.collect()
}

/// Whether SQLite failed for want of write access to the catalogue or its directory.
fn cannot_write(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
    )
}

/// What an SQLite failure means to the user, and what to do about it: the causes a user can
/// meet (a full disk, a read-only directory, a damaged or foreign file, another writer) in
/// words, anything else as SQLite says it.
fn describe(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode::*;
    let Some(code) = e.sqlite_error_code() else {
        return e.to_string();
    };
    let words = match code {
        DatabaseBusy | DatabaseLocked => {
            "another process holds the catalogue locked; try again when it is done"
        }
        ReadOnly => {
            "the catalogue cannot be written (a read-only file or directory); check its \
             permissions, or choose another place with --db"
        }
        DiskFull => "the disk is full; free some space and scan again",
        CannotOpen => {
            "cannot open the catalogue; check that its directory exists and can be written"
        }
        DatabaseCorrupt | NotADatabase => {
            "not a readable cpt catalogue (damaged, or another kind of file); remove it and \
             run `cpt scan` to make a new one"
        }
        PermissionDenied => "permission denied; check the catalogue's permissions",
        SystemIoFailure => {
            return format!(
                "a read or write of the disk failed ({e}); check that the disk has free space \
                 and works, then scan again"
            );
        }
        _ => return e.to_string(),
    };
    words.to_string()
}

/// Wraps SQLite errors with the catalogue's path, so every message names the file.
fn sqlite_error(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |error| StoreError::Sqlite {
        path: path.display().to_string(),
        error,
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_codes_read_back_and_damage_reads_as_none() {
        let mut codes: Vec<u16> = (0..600u32)
            .map(|i| ((i * 7919) % 40) as u16 * 1000)
            .collect();
        codes.extend([1, 1, 2, 65535, 0, 1]);
        let packed = pack_codes(&codes).unwrap();
        assert!(packed.len() < codes.len() * 2);
        assert_eq!(unpack_codes(Some(packed.clone())), codes);
        assert_eq!(pack_codes(&[]), None);
        assert!(unpack_codes(None).is_empty());
        assert!(unpack_codes(Some(vec![NEW, 1])).is_empty());
        assert!(unpack_codes(Some(vec![3])).is_empty());
        for cut in 0..packed.len() {
            let _ = unpack_codes(Some(packed[..cut].to_vec()));
        }
    }
    use crate::detect;
    use crate::detect::near::Params;
    use crate::event::CloneType;
    use crate::fingerprint::SmallFunction;

    fn unit(name: &str, line: u32, exact: u64, shape: u64) -> UnitPrint {
        UnitPrint {
            kind: UnitKind::Function,
            name: name.into(),
            start_line: line,
            end_line: line + 9,
            start_byte: line * 10,
            end_byte: line * 10 + 90,
            tokens: 60,
            exact: Hash64(exact),
            shape: Hash64(shape),
            codes: Vec::new(),
            content: Vec::new(),
            noise: None,
            family: Some(2),
        }
    }

    fn file(path: &str) -> FileState {
        FileState {
            path: path.into(),
            lang: "python".into(),
            size: 10,
            mtime_ns: 1,
            hash: Hash64(2),
            lines: 30,
            syntax_errors: 0,
            status: "indexed".into(),
        }
    }

    /// The classes after bringing them up to date.
    fn classes(store: &mut Store) -> Vec<(String, CloneType, Vec<String>)> {
        store.classify(1, &Params::default(), None).unwrap();
        store
            .patterns()
            .unwrap()
            .into_iter()
            .map(|p| {
                (
                    p.id,
                    p.clone_type,
                    p.members
                        .into_iter()
                        .map(|m| format!("{}:{}", m.path, m.name))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_unit_logged_without_its_shapes_codes_keeps_them_after_a_unit_without_codes() {
        // A shape's codes are logged once; a unit without codes (a block) of the same shape
        // clears them in `shapes`, so a near-miss unit after it in the same event must carry
        // them again, or it would replay as a unit without codes.
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db")).unwrap();
        let near = |name: &str, line: u32| UnitPrint {
            codes: vec![7, 8, 9, 7],
            ..unit(name, line, 10, 100)
        };
        let scan = store.begin_scan(None).unwrap();
        let upsert = |path: &str, units: Vec<UnitPrint>| Change::Upsert {
            file: file(path),
            units,
            small: vec![],
        };
        store
            .apply_changes(scan, vec![upsert("a.py", vec![near("f", 1)])])
            .unwrap();
        let block = UnitPrint {
            kind: UnitKind::Block,
            ..unit("", 1, 11, 100)
        };
        store
            .apply_changes(scan, vec![upsert("b.py", vec![block, near("g", 20)])])
            .unwrap();
        let near_flags = |store: &Store| -> Vec<(String, bool)> {
            let mut stmt = store
                .conn
                .prepare("SELECT name, near FROM units ORDER BY id")
                .unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let expected = vec![
            ("f".to_string(), true),
            (String::new(), false),
            ("g".to_string(), true),
        ];
        assert_eq!(near_flags(&store), expected);
        let b = store
            .conn
            .query_row("SELECT id FROM files WHERE path = 'b.py'", [], |r| r.get(0))
            .unwrap();
        let g = units_of(&store.conn, b, Some(25)).unwrap();
        assert_eq!(g[0].unit.codes, vec![7, 8, 9, 7]);
        store.rebuild().unwrap();
        assert_eq!(near_flags(&store), expected);
    }

    #[test]
    fn a_batch_that_fails_during_a_load_leaves_the_load_to_be_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let mut store = Store::open(&db).unwrap();
        // A unit named `boom` fails its insert: the batch rolls back after its first unit,
        // whose shape the load already counted.
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER boom BEFORE INSERT ON units WHEN NEW.name = 'boom' \
                 BEGIN SELECT RAISE(ABORT, 'boom'); END;",
            )
            .unwrap();
        assert!(store.defer_indexes().unwrap());
        let scan = store.begin_scan(None).unwrap();
        let upsert = |path: &str, units: Vec<UnitPrint>| Change::Upsert {
            file: file(path),
            units,
            small: vec![],
        };
        let failed = store.apply_changes(
            scan,
            vec![upsert(
                "a.py",
                vec![unit("f", 1, 10, 100), unit("boom", 20, 11, 200)],
            )],
        );
        assert!(failed.is_err());
        store
            .apply_changes(scan, vec![upsert("b.py", vec![unit("g", 1, 10, 100)])])
            .unwrap();
        store.finish_load().unwrap();
        // The load's shapes were dropped with the failed batch; the next writer replays.
        assert!(store.recover_load().unwrap());
        let units: i64 = store
            .conn
            .query_row("SELECT units FROM shapes WHERE key = 100", [], |r| r.get(0))
            .unwrap();
        assert_eq!(units, 1);
        assert_eq!(store.meta("loading").unwrap(), None);
    }

    #[test]
    fn a_first_scan_loads_its_shapes_at_its_end_and_the_next_writer_recovers_an_interrupted_load() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let mut store = Store::open(&db).unwrap();
        let indexes = |store: &Store| -> Vec<String> {
            let mut stmt = store
                .conn
                .prepare(
                    "SELECT name FROM sqlite_schema WHERE type = 'index' \
                     AND name IN ('units_by_shape', 'small_by_shape') ORDER BY name",
                )
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        // What the load creates after is what the migrations made.
        for (name, create) in schema::DEFERRED_INDEXES {
            let sql: String = store
                .conn
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(sql, create.replace("IF NOT EXISTS ", ""));
        }
        let both = vec!["small_by_shape".to_string(), "units_by_shape".to_string()];
        assert_eq!(indexes(&store), both);
        // Copies of one shape loaded: with codes, so the second copy finds the shape known;
        // a block whose shape a function later brings into the near-miss graph, and one that
        // takes a near-miss shape out of it.
        let near = |name: &str, exact: u64| UnitPrint {
            codes: vec![7, 8, 9, 7],
            ..unit(name, 1, exact, 100)
        };
        let block = UnitPrint {
            kind: UnitKind::Block,
            ..unit("k", 40, 12, 300)
        };
        let load = |store: &mut Store| {
            let scan = store.begin_scan(None).unwrap();
            let upsert = |path: &str, units: Vec<UnitPrint>| Change::Upsert {
                file: file(path),
                units,
                small: vec![SmallFunction(
                    UnitKind::Function,
                    "s".into(),
                    1,
                    2,
                    Hash64(5),
                    Hash64(6),
                    None,
                )],
            };
            store
                .apply_changes(scan, vec![upsert("a.py", vec![near("f", 10)])])
                .unwrap();
            store
                .apply_changes(
                    scan,
                    vec![upsert(
                        "b.py",
                        vec![near("g", 10), near("h", 11), block.clone()],
                    )],
                )
                .unwrap();
            store
                .apply_changes(
                    scan,
                    vec![upsert(
                        "c.py",
                        vec![
                            UnitPrint {
                                codes: vec![7, 8, 9, 7],
                                ..unit("m", 1, 13, 300)
                            },
                            UnitPrint {
                                kind: UnitKind::Block,
                                ..unit("n", 50, 14, 100)
                            },
                        ],
                    )],
                )
                .unwrap();
            scan
        };
        let shapes = |store: &Store| -> Vec<String> {
            let mut stmt = store
                .conn
                .prepare(
                    "SELECT key, units, tokens, CASE WHEN codes IS NULL THEN '-' ELSE hex(codes) END, \
                     rekey, touched FROM shapes ORDER BY key",
                )
                .unwrap();
            stmt.query_map([], |r| {
                Ok(format!(
                    "{} {} {} {} {} {}",
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, bool>(5)?
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        };

        // The same writes without a load, the reference.
        let mut plain = Store::open(&dir.path().join("plain.db")).unwrap();
        let scan = load(&mut plain);
        plain.classify(scan, &Params::default(), None).unwrap();
        let expected = plain.projection_snapshot().unwrap();

        assert!(store.defer_indexes().unwrap());
        assert!(indexes(&store).is_empty());
        let scan = load(&mut store);
        // The shapes wait in memory until the load ends.
        assert!(shapes(&store).is_empty());
        store.finish_load().unwrap();
        assert_eq!(indexes(&store), both);
        assert_eq!(store.meta("loading").unwrap(), None);
        assert_eq!(
            shapes(&store),
            [
                "100 4 60 - true true",
                "300 2 60 FF0700FF0800FF090002 false true",
            ]
        );
        store.classify(scan, &Params::default(), None).unwrap();
        assert_eq!(store.projection_snapshot().unwrap(), expected);
        // A catalogue that holds units is never loaded without them.
        assert!(!store.defer_indexes().unwrap());
        assert_eq!(indexes(&store), both);
        // What the load wrote is what replaying its log writes.
        store.rebuild().unwrap();
        assert_eq!(store.projection_snapshot().unwrap(), expected);

        // A load interrupted before its end: the next writer finds its shapes missing and
        // its indexes out, and replays the log.
        let db = dir.path().join("interrupted.db");
        let mut store = Store::open(&db).unwrap();
        assert!(store.defer_indexes().unwrap());
        let scan = load(&mut store);
        drop(store);
        let mut store = Store::open(&db).unwrap();
        assert!(indexes(&store).is_empty());
        assert!(shapes(&store).is_empty());
        assert!(store.recover_load().unwrap());
        assert_eq!(indexes(&store), both);
        assert_eq!(shapes(&store).len(), 2);
        assert!(!store.recover_load().unwrap());
        store.classify(scan, &Params::default(), None).unwrap();
        assert_eq!(store.projection_snapshot().unwrap(), expected);
    }

    #[test]
    fn a_first_classification_compares_the_copies_a_later_one_reads() {
        // A first classification reads every shape's copies in table order and picks them
        // itself; a later one reads a shape's copies in SQL. Both must compare the same
        // ones: the first `near::COPIES` distinct copies by exact hash, in SQL's order (the
        // hashes as signed integers), whatever order the units came in.
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db")).unwrap();
        let scan = store.begin_scan(None).unwrap();
        let copy = |name: &str, exact: u64, shape: u64| UnitPrint {
            codes: vec![7, 8, 9, 7],
            content: vec![exact as u16, 1, 2],
            ..unit(name, 1, exact, shape)
        };
        let exacts = [9, u64::MAX - 3, 4, 1 << 63, 9, 2, u64::MAX, 6];
        let changes = exacts
            .iter()
            .enumerate()
            .map(|(i, &exact)| Change::Upsert {
                file: file(&format!("m{i}.py")),
                units: vec![
                    copy(&format!("f{i}"), exact, 100),
                    copy("g", 50 + i as u64, 200 + i as u64),
                ],
                small: vec![],
            })
            .collect();
        store.apply_changes(scan, changes).unwrap();
        let live = classify::live_shapes(&store.conn).unwrap();
        assert_eq!(live.len(), 1 + exacts.len());
        for (&key, shape) in &live {
            let read = classify::copy_content(&store.conn, key).unwrap();
            assert_eq!(shape.copies, read, "shape {key}");
        }
        let firsts: Vec<u16> = live[&100].copies.iter().map(|c| c[0]).collect();
        let signed = |e: u64| e as u16;
        assert_eq!(
            firsts,
            [1 << 63, u64::MAX - 3, u64::MAX, 2].map(signed).to_vec()
        );
    }

    #[test]
    fn events_cannot_be_updated_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db")).unwrap();
        let scan = store.begin_scan(None).unwrap();
        store
            .apply_changes(
                scan,
                vec![Change::Upsert {
                    file: file("a.py"),
                    units: vec![],
                    small: vec![],
                }],
            )
            .unwrap();
        let update = store.conn.execute("UPDATE events SET kind = 'x'", []);
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = store.conn.execute("DELETE FROM events", []);
        assert!(delete.unwrap_err().to_string().contains("append-only"));
    }

    #[test]
    fn classes_follow_units_through_changes_and_rebuild_matches() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db")).unwrap();
        let scan = store.begin_scan(None).unwrap();
        store
            .apply_changes(
                scan,
                vec![
                    Change::Upsert {
                        file: file("a.py"),
                        units: vec![unit("f", 1, 10, 100), unit("g", 20, 11, 200)],
                        small: vec![],
                    },
                    Change::Upsert {
                        file: file("b.py"),
                        units: vec![unit("f2", 1, 10, 100)],
                        small: vec![],
                    },
                ],
            )
            .unwrap();
        assert_eq!(
            classes(&mut store),
            [(
                detect::pattern_id(100),
                CloneType::T1,
                vec!["a.py:f".into(), "b.py:f2".into()]
            )]
        );
        // A renamed copy joins and makes the class type 2; a copy of g makes a new class.
        store
            .apply_changes(
                scan,
                vec![Change::Upsert {
                    file: file("c.py"),
                    units: vec![unit("h", 1, 12, 100), unit("g2", 30, 11, 200)],
                    small: vec![],
                }],
            )
            .unwrap();
        let now = classes(&mut store);
        assert_eq!(now.len(), 2);
        assert_eq!(now[0].1, CloneType::T2);
        assert_eq!(now[0].2.len(), 3);
        // Removing files shrinks and dissolves.
        store
            .apply_changes(
                scan,
                vec![Change::Remove {
                    path: "c.py".into(),
                }],
            )
            .unwrap();
        assert_eq!(classes(&mut store).len(), 1);
        assert_eq!(classes(&mut store)[0].1, CloneType::T1);
        store
            .apply_changes(
                scan,
                vec![Change::Remove {
                    path: "b.py".into(),
                }],
            )
            .unwrap();
        assert!(classes(&mut store).is_empty());

        let live = store.projection_snapshot().unwrap();
        let replayed = store.rebuild().unwrap();
        assert!(replayed > 10);
        assert_eq!(store.projection_snapshot().unwrap(), live);
    }

    #[test]
    fn a_block_holds_its_content_in_its_function_until_the_function_goes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db")).unwrap();
        let scan = store.begin_scan(None).unwrap();
        let function = |exact: u64, content: Vec<u16>| UnitPrint {
            start_line: 1,
            end_line: 30,
            start_byte: 0,
            end_byte: 300,
            codes: vec![7, 8, 9, 7],
            content,
            ..unit("f", 1, exact, 100 + exact)
        };
        let block = |exact: u64, line: u32, content: Vec<u16>| UnitPrint {
            kind: UnitKind::Block,
            start_line: line,
            end_line: line + 5,
            start_byte: line * 10,
            end_byte: line * 10 + 50,
            content,
            ..unit("f", line, exact, 200 + exact)
        };
        let held = vec![5, 6, 7, 5, 8];
        let upsert = |units: Vec<UnitPrint>| {
            vec![Change::Upsert {
                file: file("a.py"),
                units,
                small: vec![],
            }]
        };
        store
            .apply_changes(
                scan,
                upsert(vec![
                    function(10, (1..20).chain([5, 6, 7, 5, 8]).collect()),
                    block(20, 3, held.clone()),
                    // Not a run of the function's: kept whole.
                    block(21, 12, vec![5, 8, 6]),
                ]),
            )
            .unwrap();
        // (exact hash, content, content_in, content_at) of each unit as stored.
        type Raw = (u64, Option<Vec<u8>>, Option<i64>, Option<i64>);
        let raw = |store: &Store| -> Vec<Raw> {
            let mut stmt = store
                .conn
                .prepare(
                    "SELECT exact_hash, content, content_in, content_at FROM units ORDER BY id",
                )
                .unwrap();
            stmt.query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        };
        let contents = |store: &Store| -> Vec<(u64, Vec<u16>)> {
            let mut read: Vec<_> = units_of(&store.conn, 1, None)
                .unwrap()
                .into_iter()
                .map(|r| (r.unit.exact.0, r.unit.content))
                .collect();
            read.sort();
            read
        };
        let rows = raw(&store);
        assert_eq!(rows[1], (20, None, Some(1), Some((19 << 16) | 5)));
        assert!(rows[2].1.is_some() && rows[2].2.is_none());
        assert_eq!(contents(&store)[1], (20, held.clone()));
        assert_eq!(contents(&store)[2], (21, vec![5, 8, 6]));
        // Replaying the log gives the same catalogue, references and all.
        let rebuilds_alike = |store: &mut Store| {
            classes(store);
            let live = store.projection_snapshot().unwrap();
            store.rebuild().unwrap();
            classes(store);
            assert_eq!(store.projection_snapshot().unwrap(), live);
        };
        rebuilds_alike(&mut store);
        assert_eq!(raw(&store)[1].2, Some(1));

        // The function changes around the block, which keeps its code (and its id): it takes
        // its own copy of the content before the function it held it in goes.
        store
            .apply_changes(
                scan,
                upsert(vec![
                    function(11, (30..60).chain([5, 6, 7, 5, 8]).collect()),
                    block(20, 3, held.clone()),
                    block(21, 12, vec![5, 8, 6]),
                ]),
            )
            .unwrap();
        let rows = raw(&store);
        let kept = rows.iter().find(|r| r.0 == 20).unwrap();
        assert_eq!(kept.2, None);
        assert_eq!(codes_from_blob(kept.1.clone()), held);
        assert!(contents(&store).contains(&(20, held.clone())));
        rebuilds_alike(&mut store);
    }

    #[test]
    fn unchanged_units_keep_their_ids_when_a_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db")).unwrap();
        let scan = store.begin_scan(None).unwrap();
        store
            .apply_changes(
                scan,
                vec![Change::Upsert {
                    file: file("a.py"),
                    units: vec![unit("f", 1, 10, 100), unit("g", 20, 11, 200)],
                    small: vec![],
                }],
            )
            .unwrap();
        let before = store.projection_snapshot().unwrap();
        store
            .apply_changes(
                scan,
                vec![Change::Upsert {
                    file: file("a.py"),
                    units: vec![unit("f", 1, 10, 100), unit("g", 20, 13, 300)],
                    small: vec![],
                }],
            )
            .unwrap();
        let after = store.projection_snapshot().unwrap();
        let units = |s: &[String]| {
            s.iter()
                .filter(|l| l.starts_with("units:"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(units(&before)[0], units(&after)[0]);
        assert_ne!(units(&before)[1], units(&after)[1]);
    }

    #[test]
    fn reopening_keeps_counters_and_a_missing_catalogue_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/c.db");
        // One file with one unit.
        let add = |store: &mut Store, scan: i64, path: &str, name: &str, n: u64| {
            let units = vec![unit(name, 1, n, n + 90)];
            let change = Change::Upsert {
                file: file(path),
                units,
                small: vec![],
            };
            store.apply_changes(scan, vec![change]).unwrap();
        };
        let mut store = Store::open(&path).unwrap();
        let scan = store.begin_scan(None).unwrap();
        add(&mut store, scan, "a.py", "f", 10);
        drop(store);
        let mut store = Store::open_existing(&path).unwrap();
        assert_eq!((store.next_file_id, store.next_unit_id), (2, 2));
        // A second writer adds a file and a unit after this one opened: ids do not collide.
        let mut other = Store::open_existing(&path).unwrap();
        add(&mut other, scan, "b.py", "g", 11);
        add(&mut store, scan, "c.py", "h", 12);
        assert_eq!((store.next_file_id, store.next_unit_id), (4, 4));
        let err = Store::open_existing(&dir.path().join("none.db"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.ends_with("no catalogue here; run `cpt scan` first"),
            "{err}"
        );
    }
}
