//! Store: the SQLite catalogue — an append-only event log and the projections built from it.
//! Only this module touches SQLite.
//!
//! Every write is an [`Event`] that is appended to `events` and applied to the projection tables
//! by one function, [`apply`]; `rebuild` clears the projections and applies the log again, so
//! live and rebuilt projections come from the same code. Writes happen in one transaction per
//! batch. Clone classes are brought up to date by [`Store::classify`], one transaction after
//! the batches: it finds the shapes whose units changed (`shapes.seen` differs from
//! `shapes.units`, or `shapes.touched` is set), re-verifies their near-miss edges (`near`), re-clusters the components they
//! touch and appends the pattern events. An interrupted scan leaves those shapes pending, and
//! the next `classify` finishes the work. `shapes` and `near` are detector state derived from
//! the units; `rebuild` recomputes them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use rustc_hash::{FxHashMap, FxHashSet};
use thiserror::Error;

use crate::detect::near::{self, Params};
use crate::detect::{self, Class, Member};
pub use crate::event::FileState;
use crate::event::{CloneType, Event, FileRecord, Hash64, PatternSummary, UnitRecord};
use crate::fingerprint::{self, Noise, Sketch, SmallFunction, UnitPrint};
use crate::index::{self, Segments};
use crate::parse::lang::UnitKind;

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

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE scans (
    id INTEGER PRIMARY KEY,
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    summary TEXT
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    lang TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    syntax_errors INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    exact_hash INTEGER NOT NULL,
    shape_hash INTEGER NOT NULL
);
CREATE INDEX units_by_file ON units(file_id);
CREATE INDEX units_by_shape ON units(shape_hash);
CREATE TABLE patterns (
    id TEXT PRIMARY KEY,
    key INTEGER NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    clone_type TEXT NOT NULL,
    lines INTEGER NOT NULL,
    tokens INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE pattern_members (
    pattern_id TEXT NOT NULL,
    unit_id INTEGER NOT NULL,
    PRIMARY KEY (pattern_id, unit_id)
) WITHOUT ROWID;
CREATE INDEX members_by_unit ON pattern_members(unit_id);
"#,
    r#"
ALTER TABLE units ADD COLUMN codes BLOB;
ALTER TABLE units ADD COLUMN names BLOB;
ALTER TABLE units ADD COLUMN noise TEXT;
ALTER TABLE patterns ADD COLUMN similarity REAL NOT NULL DEFAULT 1.0;
CREATE TABLE shapes (
    key INTEGER PRIMARY KEY,
    units INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    codes BLOB,
    names BLOB,
    rekey INTEGER NOT NULL DEFAULT 0,
    seen INTEGER
);
INSERT INTO shapes (key, units, tokens, codes, seen)
    SELECT shape_hash, count(*), max(tokens), NULL, count(*) FROM units GROUP BY shape_hash;
CREATE INDEX shapes_pending ON shapes(key) WHERE seen IS NOT units OR rekey = 1;
CREATE TABLE near (
    a INTEGER NOT NULL,
    b INTEGER NOT NULL,
    similarity REAL NOT NULL,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX near_by_b ON near(b);
"#,
    r#"
ALTER TABLE units ADD COLUMN idents BLOB;
DROP INDEX units_by_shape;
CREATE INDEX units_by_shape ON units(shape_hash, exact_hash);
"#,
    // A shape whose units changed while their count came back to where it was (a copy moved
    // to another file) is pending too.
    r#"
ALTER TABLE shapes ADD COLUMN touched INTEGER NOT NULL DEFAULT 0;
DROP INDEX shapes_pending;
CREATE INDEX shapes_pending ON shapes(key) WHERE seen IS NOT units OR rekey = 1 OR touched = 1;
"#,
    // Near-miss verification compares the content of a shape's copies (names and literals in
    // order) instead of name sets, and edges carry the score that decides clone edges.
    r#"
ALTER TABLE units DROP COLUMN names;
ALTER TABLE units RENAME COLUMN idents TO content;
ALTER TABLE shapes DROP COLUMN names;
ALTER TABLE near ADD COLUMN score REAL NOT NULL DEFAULT 0;
ALTER TABLE near ADD COLUMN copy INTEGER NOT NULL DEFAULT 0;
"#,
    // Functions below the unit thresholds, for `cpt similar` on any function. One index
    // serves both lookups: an exact copy has the query's shape too.
    r#"
CREATE TABLE small_functions (
    file_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    exact_hash INTEGER NOT NULL,
    shape_hash INTEGER NOT NULL
);
CREATE INDEX small_by_file ON small_functions(file_id);
CREATE INDEX small_by_shape ON small_functions(shape_hash, exact_hash, file_id, start_line);
"#,
];

/// The projection tables, in the order they are dumped and cleared.
const PROJECTIONS: &[(&str, &str)] = &[
    (
        "files",
        "SELECT id, path, lang, size, mtime_ns, hash, lines, syntax_errors, status FROM files ORDER BY id",
    ),
    (
        "units",
        "SELECT id, file_id, kind, name, start_line, end_line, start_byte, end_byte, tokens, exact_hash, shape_hash, \
         codes, noise, content FROM units ORDER BY id",
    ),
    (
        "small_functions",
        "SELECT file_id, kind, name, start_line, end_line, exact_hash, shape_hash FROM small_functions \
         ORDER BY file_id, start_line, end_line, name",
    ),
    (
        "patterns",
        "SELECT id, key, kind, clone_type, lines, tokens, similarity FROM patterns ORDER BY id",
    ),
    (
        "pattern_members",
        "SELECT pattern_id, unit_id FROM pattern_members ORDER BY pattern_id, unit_id",
    ),
];

/// The near-miss parameters the catalogue's edges were computed with ([`Params::key`]).
const NEAR_PARAMS: &str = "SELECT value FROM meta WHERE key = 'near'";

/// The sequence number of the last event, 0 for an empty log.
const LAST_EVENT: &str = "SELECT coalesce(max(seq), 0) FROM events";

/// The near-miss parameters stored with the catalogue (the defaults before the first
/// classification).
fn stored_params(conn: &Connection) -> rusqlite::Result<Params> {
    Ok(conn
        .query_row(NEAR_PARAMS, [], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|key| Params::from_key(&key))
        .unwrap_or_default())
}

/// Detector state derived from the units, dumped with the projections and recomputed by
/// `rebuild`.
const DERIVED: &[(&str, &str)] = &[
    (
        "shapes",
        "SELECT key, units, tokens, codes, rekey, seen, touched FROM shapes ORDER BY key",
    ),
    (
        "near",
        "SELECT a, b, similarity, score, copy FROM near ORDER BY a, b",
    ),
];

/// What the catalogue knows of a file's last visit, for the incremental scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownFile {
    pub size: u64,
    pub mtime_ns: i64,
    pub hash: u64,
    pub status: String,
}

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

/// The right to write a catalogue: one process at a time scans into it, applies a watched
/// save or rebuilds it, so two writers never meet inside SQLite (where the second would fail
/// with a lock error after its timeout, or both would create the schema). An advisory lock
/// on the file `<db>.lock` beside the catalogue, which names its holder; the system releases
/// it when the holder exits or dies, so a killed scan never leaves it taken.
pub struct WriteLock {
    _file: std::fs::File,
}

/// How long a writer waits for the lock before it says whom it is waiting for.
const QUIET_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

impl WriteLock {
    /// The lock file of the catalogue at `db`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        db.with_file_name(name)
    }

    /// Take the lock of the catalogue at `db` (creating its directory), waiting while another
    /// process holds it; `waiting` is told once, after a moment, who that is.
    pub fn take(db: &Path, waiting: &dyn Fn(&str)) -> Result<WriteLock, StoreError> {
        use std::io::{Read, Seek, Write};
        let path = Self::path_for(db);
        let io = |source| StoreError::Lock {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let started = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < QUIET_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    let who = if holder.is_empty() {
                        "another cpt".to_string()
                    } else {
                        format!("another cpt ({holder})")
                    };
                    waiting(&format!(
                        "{}: {who} is writing this catalogue; waiting for it to finish",
                        db.display()
                    ));
                    file.lock().map_err(io)?;
                    break;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        // Name the holder for the next writer that has to wait (best effort: the lock holds
        // either way).
        let _ = file.set_len(0).and_then(|()| {
            file.rewind()?;
            write!(file, "pid {}", std::process::id())
        });
        Ok(WriteLock { _file: file })
    }
}

/// The SQLite catalogue.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    next_file_id: i64,
    next_unit_id: i64,
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
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; \
             PRAGMA cache_size = -16000;",
        )
        .map_err(err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            next_file_id: 1,
            next_unit_id: 1,
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

    /// Start a scan; its id tags the events it writes.
    pub fn begin_scan(&self) -> Result<i64, StoreError> {
        self.conn
            .execute("INSERT INTO scans (started_ms) VALUES (?1)", [now_ms()])
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

    /// Apply a batch of changes in one transaction: events for files and units. Clone classes
    /// follow in [`Store::classify`].
    pub fn apply_changes(
        &mut self,
        scan: i64,
        changes: Vec<Change>,
    ) -> Result<BatchReport, StoreError> {
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
        writer
            .classify(params, !same_params, true, index)
            .map_err(err)?;
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

    /// Copy the write-ahead log into the database, as far as readers allow and without
    /// waiting for them. After a large scan, so that the next small write does not pay for
    /// the whole log (SQLite checkpoints when a commit finds the log long).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(self.err())
    }

    /// Settings for a connection a long-lived process keeps (the watcher): a page cache of
    /// 2 MB, not the 16 MB a scan of a whole tree wants, so that the process stays its size;
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
                "SELECT kind, name, start_line, end_line, exact_hash, shape_hash FROM small_functions \
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
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT json_extract(data, '$.shape') FROM events \
                 WHERE seq > ?1 AND kind = 'unit_removed'",
            )
            .map_err(self.err())?;
        let mut rows = stmt.query([since]).map_err(self.err())?;
        let mut shapes = Vec::new();
        while let Some(row) = rows.next().map_err(self.err())? {
            let hex: Option<String> = row.get(0).map_err(self.err())?;
            match hex.and_then(|h| u64::from_str_radix(&h, 16).ok()) {
                Some(shape) => shapes.push(shape),
                None => return Ok(None),
            }
        }
        Ok(Some(shapes))
    }

    /// Whether the catalogue has a file at this root-relative path.
    pub fn has_file(&self, path: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row("SELECT 1 FROM files WHERE path = ?1", [path], |_| Ok(()))
            .optional()
            .map(|r| r.is_some())
            .map_err(self.err())
    }

    /// The sequence number of the last event (0 for an empty log): what an index built now
    /// is up to date with.
    pub fn last_event(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(LAST_EVENT, [], |r| r.get(0))
            .map_err(self.err())
    }

    /// Everything an index is built from, read in one transaction so that it is one state of
    /// the catalogue: every unit with its file and pattern, and the band keys of every shape
    /// that takes part in near-miss detection. With `paths`, only those files' units and the
    /// bands of their shapes (a delta segment).
    pub fn index_contents(&self, paths: Option<&[String]>) -> Result<index::Contents, StoreError> {
        let _snapshot = self.snapshot()?;
        self.contents_in(&self.conn, paths)
    }

    fn contents_in(
        &self,
        tx: &Connection,
        paths: Option<&[String]>,
    ) -> Result<index::Contents, StoreError> {
        let err = self.err();
        let last_event: i64 = tx.query_row(LAST_EVENT, [], |r| r.get(0)).map_err(&err)?;
        // Files first, then their units naming them by position: a unit entry holds no
        // strings but its name.
        let mut files: Vec<index::FileEntry> = Vec::new();
        let mut file_pos: FxHashMap<i64, u32> = FxHashMap::default();
        let mut add_file = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
            file_pos.insert(r.get(0)?, files.len() as u32);
            files.push(index::FileEntry {
                path: r.get(1)?,
                lang: r.get(2)?,
            });
            Ok(())
        };
        match paths {
            None => {
                let mut stmt = tx
                    .prepare("SELECT id, path, lang FROM files")
                    .map_err(&err)?;
                let mut rows = stmt.query([]).map_err(&err)?;
                while let Some(r) = rows.next().map_err(&err)? {
                    add_file(r).map_err(&err)?;
                }
            }
            Some(paths) => {
                let mut stmt = tx
                    .prepare_cached("SELECT id, path, lang FROM files WHERE path = ?1")
                    .map_err(&err)?;
                for path in paths {
                    let mut rows = stmt.query([path]).map_err(&err)?;
                    while let Some(r) = rows.next().map_err(&err)? {
                        add_file(r).map_err(&err)?;
                    }
                }
            }
        }
        let select = "SELECT u.exact_hash, u.shape_hash, u.file_id, u.kind, u.name, u.start_line, \
                      u.end_line, u.tokens, u.noise IS NOT NULL, \
                      (SELECT min(p.key) FROM pattern_members m JOIN patterns p ON p.id = m.pattern_id \
                       WHERE m.unit_id = u.id) \
                      FROM units u";
        let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Option<index::UnitEntry>> {
            let Some(&file) = file_pos.get(&r.get::<_, i64>(2)?) else {
                return Ok(None);
            };
            Ok(Some(index::UnitEntry {
                exact: r.get::<_, i64>(0)? as u64,
                shape: r.get::<_, i64>(1)? as u64,
                file,
                kind: index::kind_code(r.get_ref(3)?.as_str()?),
                name: r.get(4)?,
                start_line: r.get(5)?,
                end_line: r.get(6)?,
                tokens: r.get(7)?,
                noise: r.get(8)?,
                pattern: r.get::<_, Option<i64>>(9)?.map(|k| k as u64),
            }))
        };
        let mut units = Vec::new();
        match paths {
            None => {
                let mut stmt = tx.prepare(select).map_err(&err)?;
                for unit in stmt.query_map([], row).map_err(&err)? {
                    units.extend(unit.map_err(&err)?);
                }
            }
            Some(_) => {
                let mut stmt = tx
                    .prepare_cached(&format!("{select} WHERE u.file_id = ?1"))
                    .map_err(&err)?;
                let mut ids: Vec<i64> = file_pos.keys().copied().collect();
                ids.sort_unstable();
                for id in ids {
                    for unit in stmt.query_map([id], row).map_err(&err)? {
                        units.extend(unit.map_err(&err)?);
                    }
                }
            }
        }
        let mut bands = Vec::new();
        let mut band = |shape: u64, codes: Option<Vec<u8>>| {
            let codes = codes_from_blob(codes);
            bands.push(index::BandShape {
                shape,
                keys: Sketch::of(&codes).band_keys(),
                tokens: codes.len() as u32,
            });
        };
        if paths.is_some() {
            let shapes: BTreeSet<u64> = units.iter().map(|u| u.shape).collect();
            let mut stmt = tx
                .prepare_cached(
                    "SELECT codes FROM shapes WHERE key = ?1 AND units > 0 AND codes IS NOT NULL",
                )
                .map_err(&err)?;
            for key in shapes {
                if let Some(codes) = stmt
                    .query_row([key as i64], |r| r.get(0))
                    .optional()
                    .map_err(&err)?
                {
                    band(key, codes);
                }
            }
        } else {
            let mut stmt = tx
                .prepare("SELECT key, codes FROM shapes WHERE units > 0 AND codes IS NOT NULL")
                .map_err(&err)?;
            let mut rows = stmt.query([]).map_err(&err)?;
            while let Some(r) = rows.next().map_err(&err)? {
                band(
                    r.get::<_, i64>(0).map_err(&err)? as u64,
                    r.get(1).map_err(&err)?,
                );
            }
        }
        Ok(index::Contents {
            last_event,
            base_event: 0,
            dirty: Vec::new(),
            dissolved: Vec::new(),
            files,
            units,
            bands,
        })
    }

    /// The contents of a delta segment over a base built at `base_event`: the files touched
    /// by any event since (changed, added or removed, or holding a unit whose pattern
    /// changed) with their units now, and the patterns dissolved since.
    pub fn delta_contents(
        &self,
        base_event: i64,
        prior: Option<index::Prior>,
    ) -> Result<index::Contents, StoreError> {
        let err = self.err();
        let _snapshot = self.snapshot()?;
        let tx = &self.conn;
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
        let last_event: i64;
        {
            let mut stmt = tx
                .prepare("SELECT seq, data FROM events WHERE seq > ?1 ORDER BY seq")
                .map_err(&err)?;
            let mut rows = stmt.query([from]).map_err(&err)?;
            let mut last = from;
            while let Some(row) = rows.next().map_err(&err)? {
                let seq: i64 = row.get(0).map_err(&err)?;
                last = seq;
                let event = decode_event(&self.path, seq, &row.get::<_, String>(1).map_err(&err)?)?;
                match event {
                    Event::FileAdded(r) | Event::FileChanged(r) => {
                        dirty.insert(r.file.path);
                    }
                    Event::FileRemoved { path, .. } => {
                        dirty.insert(path);
                    }
                    // The file of a moved unit changed: named by its own event; a unit gone is
                    // in a file that changed or went.
                    Event::FileTouched { .. }
                    | Event::UnitMoved { .. }
                    | Event::UnitRemoved { .. } => {}
                    Event::UnitAdded(r) => file_ids.push(r.file_id),
                    Event::PatternCreated { members, .. } => unit_ids.extend(members),
                    Event::PatternGrown { added, .. } => unit_ids.extend(added),
                    Event::PatternShrunk { removed, .. } => unit_ids.extend(removed),
                    Event::PatternDissolved { id } => {
                        if let Ok(key) = u64::from_str_radix(&id, 16) {
                            dissolved.push(key);
                        }
                    }
                }
            }
            last_event = last;
        }
        // A unit gone since is in a file that changed or went: that file is dirty already.
        for (sql, ids) in [
            (
                "SELECT f.path FROM units u JOIN files f ON f.id = u.file_id WHERE u.id = ?1",
                unit_ids,
            ),
            ("SELECT path FROM files WHERE id = ?1", file_ids),
        ] {
            let mut path_of = tx.prepare_cached(sql).map_err(&err)?;
            for id in ids {
                if let Some(path) = path_of
                    .query_row([id], |r| r.get::<_, String>(0))
                    .optional()
                    .map_err(&err)?
                {
                    dirty.insert(path);
                }
            }
        }
        let fresh: Vec<String> = dirty.iter().cloned().collect();
        let mut contents = self.contents_in(tx, Some(&fresh))?;
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
                .query_row([key as i64], |r| Ok(codes_from_blob(r.get(0)?)))
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

    /// The near-miss parameters the catalogue's classes were computed with.
    pub fn near_params(&self) -> Result<Params, StoreError> {
        stored_params(&self.conn).map_err(self.err())
    }

    /// Recreate every projection from the event log. Returns the number of events replayed.
    pub fn rebuild(&mut self) -> Result<u64, StoreError> {
        let err = sqlite_error(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        for (table, _) in PROJECTIONS.iter().chain(DERIVED) {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(err)?;
        }
        let mut replayed = 0u64;
        {
            let mut stmt = tx
                .prepare("SELECT seq, data FROM events ORDER BY seq")
                .map_err(err)?;
            let mut rows = stmt.query([]).map_err(err)?;
            while let Some(row) = rows.next().map_err(err)? {
                let seq: i64 = row.get(0).map_err(err)?;
                let event = decode_event(&self.path, seq, &row.get::<_, String>(1).map_err(err)?)?;
                apply(&tx, &event).map_err(err)?;
                replayed += 1;
            }
        }
        // The replayed patterns are the classes; only the detector's edges need recomputing.
        let params = stored_params(&tx).map_err(err)?;
        let mut writer = Writer::new(&tx, 0, self.next_file_id, self.next_unit_id);
        writer.classify(&params, true, false, None).map_err(err)?;
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

    /// The ids of the clone classes that events after `seq` created, changed or dissolved.
    pub fn patterns_changed_since(&self, seq: i64) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT DISTINCT json_extract(data, '$.id') FROM events \
                 WHERE seq > ?1 AND kind LIKE 'pattern_%'",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map([seq], |r| r.get::<_, String>(0))
            .map_err(self.err())?;
        rows.collect::<Result<_, _>>().map_err(self.err())
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
                        u.exact_hash \
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
            };
            patterns
                .last_mut()
                .expect("pushed above")
                .members
                .push(member);
        }
        Ok(patterns)
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

/// The writer's state inside one batch transaction.
struct Writer<'t> {
    tx: &'t Transaction<'t>,
    scan: i64,
    at_ms: i64,
    next_file_id: i64,
    next_unit_id: i64,
    events: u64,
}

impl<'t> Writer<'t> {
    fn new(tx: &'t Transaction<'t>, scan: i64, next_file_id: i64, next_unit_id: i64) -> Self {
        Writer {
            tx,
            scan,
            at_ms: now_ms(),
            next_file_id,
            next_unit_id,
            events: 0,
        }
    }

    fn emit(&mut self, event: Event) -> rusqlite::Result<()> {
        let data = serde_json::to_string(&event).expect("events serialize");
        self.tx
            .prepare_cached(
                "INSERT INTO events (scan_id, at_ms, kind, data) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![self.scan, self.at_ms, event.name(), data])?;
        self.events += 1;
        apply(self.tx, &event)
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
        for (unit, kept) in new.into_iter().zip(kept) {
            if kept {
                continue;
            }
            let id = self.next_unit_id;
            self.next_unit_id += 1;
            self.emit(Event::UnitAdded(UnitRecord { id, file_id, unit }))?;
        }
        Ok(())
    }

    /// See [`Store::classify`]. `all` recomputes every edge; without `emit` only the
    /// detector state is updated (for `rebuild`, whose patterns come from the log).
    fn classify(
        &mut self,
        params: &Params,
        all: bool,
        emit: bool,
        index: Option<Candidates<'_>>,
    ) -> rusqlite::Result<()> {
        // Pending shapes need no copies (only their codes, for the buckets they join or
        // leave): on a first scan they are every shape, read again below with copies.
        let pending = self.shape_rows("WHERE seen IS NOT units OR rekey = 1 OR touched = 1")?;
        if pending.is_empty() && !all {
            return Ok(());
        }
        // Shapes that appeared or went get their edges recomputed; shapes whose unit count
        // merely changed keep their edges and are only re-clustered. A shape whose copies
        // or codes changed (`rekey`) is verified again like a new shape.
        let appeared_or_gone: Vec<&ShapeRow> = pending
            .iter()
            .filter(|r| r.seen.is_some_and(|n| n > 0) != (r.units > 0) || r.rekey)
            .collect();
        let stale: FxHashSet<u64> = appeared_or_gone.iter().map(|r| r.key).collect();
        let mut seeds: FxHashSet<u64> = pending.iter().map(|r| r.key).collect();
        // Shapes whose edges changed: whether their other edges are clone edges may change
        // too (see `near::ClonePolicy`).
        let mut changed: FxHashSet<u64> = FxHashSet::default();
        // (A shape re-keyed without codes has just left the graph: its edges go.)
        if all
            || appeared_or_gone
                .iter()
                .any(|r| !r.codes.is_empty() || r.rekey)
        {
            let plan = self.edge_plan(params, all, index, &pending, &appeared_or_gone, &stale)?;
            if all {
                self.tx.execute("DELETE FROM near", [])?;
            } else {
                // Old edges of stale shapes go; their far ends are affected.
                for &key in &plan.stale {
                    changed.extend(self.neighbours(key)?);
                    self.tx
                        .prepare_cached("DELETE FROM near WHERE a = ?1 OR b = ?1")?
                        .execute([key as i64])?;
                }
            }
            changed.extend(plan.stale.iter().copied());
            let edges = near::edges(&plan.from, &plan.candidates, &plan.shapes, params);
            let mut insert = self.tx.prepare_cached(
                "INSERT OR IGNORE INTO near (a, b, similarity, score, copy) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for e in &edges {
                insert.execute(params![
                    e.a as i64,
                    e.b as i64,
                    f64::from(e.similarity),
                    f64::from(e.score),
                    e.copy
                ])?;
                changed.insert(e.a);
                changed.insert(e.b);
            }
        }
        if emit {
            let mut graph = Graph::new(near::ClonePolicy::new(params), all.then_some(self.tx))?;
            if !all {
                // A shape whose units came, went or moved may now nest in a neighbour or no
                // longer: its edges count differently too.
                changed.extend(pending.iter().map(|r| r.key));
                for &key in &changed {
                    seeds.insert(key);
                    seeds.extend(graph.edges(self.tx, key)?.iter().map(|&(other, ..)| other));
                }
            }
            let affected = self.components(&mut graph, seeds, all)?;
            self.reclassify(&mut graph, &affected, params)?;
        }
        self.tx.execute_batch(
            "DELETE FROM shapes WHERE (seen IS NOT units OR rekey = 1 OR touched = 1) AND units = 0; \
             UPDATE shapes SET seen = units, rekey = 0, touched = 0 \
             WHERE seen IS NOT units OR rekey = 1 OR touched = 1;",
        )?;
        Ok(())
    }

    /// The stale shapes, their candidates and every shape those name: from the index when it
    /// is up to date with the catalogue (the scan refreshes it before classifying), or is
    /// the watcher's index from before the pending shapes changed; when every shape is
    /// classified, or the index cannot answer, from band buckets of every live shape held in
    /// memory.
    fn edge_plan(
        &self,
        params: &Params,
        all: bool,
        index: Option<Candidates<'_>>,
        pending: &[ShapeRow],
        appeared_or_gone: &[&ShapeRow],
        stale: &FxHashSet<u64>,
    ) -> rusqlite::Result<EdgePlan> {
        let from_index = match index.filter(|_| !all) {
            Some(Candidates::Current(segments))
                if segments.last_event() == self.last_event()? =>
            {
                self.plan_edges(segments, None, appeared_or_gone, stale, params)?
                    .ok()
            }
            Some(Candidates::Before(segments)) => match rerecorded(segments, pending) {
                Ok(keys) => {
                    let now = Overlay::new(segments, keys.clone(), shapes_by_key(self.tx, &keys)?);
                    self.plan_edges(&now, None, appeared_or_gone, stale, params)?
                        .ok()
                }
                Err(_) => None,
            },
            _ => None,
        };
        if let Some(plan) = from_index {
            return Ok(plan);
        }
        let live = live_shapes(self.tx)?;
        let buckets = near::MemoryBuckets::build(&live.values().collect::<Vec<_>>());
        let mut stale = stale.clone();
        if all {
            stale.extend(live.keys().copied());
        }
        match self.plan_edges(&buckets, Some(live), appeared_or_gone, &stale, params)? {
            Ok(plan) => Ok(plan),
            Err(never) => match never {},
        }
    }

    fn last_event(&self) -> rusqlite::Result<i64> {
        self.tx.query_row(LAST_EVENT, [], |r| r.get(0))
    }

    /// Everything the edge computation reads, gathered before anything is written: the stale
    /// shapes (those given, plus the members of band buckets whose size crossed the cap), the
    /// live ones among them (`from`), their candidates, and every shape those name. `live`
    /// holds every live shape already; without it shapes are read by key.
    fn plan_edges<B: near::Buckets>(
        &self,
        buckets: &B,
        live: Option<FxHashMap<u64, near::Shape>>,
        appeared_or_gone: &[&ShapeRow],
        stale: &FxHashSet<u64>,
        params: &Params,
    ) -> rusqlite::Result<Result<EdgePlan, B::Error>> {
        let mut stale = stale.clone();
        match crossed_cap(appeared_or_gone, buckets, params.bucket_cap) {
            Ok(crossed) => stale.extend(crossed),
            Err(e) => return Ok(Err(e)),
        }
        let mut stale_sorted: Vec<u64> = stale.iter().copied().collect();
        stale_sorted.sort_unstable();
        let mut shapes = match live {
            Some(live) => live,
            None => shapes_by_key(self.tx, &stale_sorted)?,
        };
        let from: Vec<u64> = stale_sorted
            .iter()
            .copied()
            .filter(|k| shapes.contains_key(k))
            .collect();
        let of: Vec<&near::Shape> = from.iter().map(|key| &shapes[key]).collect();
        let candidates = match buckets.candidates_of(&of, params) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let missing: Vec<u64> = candidates
            .iter()
            .flatten()
            .copied()
            .filter(|k| !shapes.contains_key(k))
            .collect::<FxHashSet<u64>>()
            .into_iter()
            .collect();
        shapes.extend(shapes_by_key(self.tx, &missing)?);
        Ok(Ok(EdgePlan {
            stale,
            from,
            candidates,
            shapes,
        }))
    }

    /// Rows of `shapes` matching a `WHERE` clause, by key.
    fn shape_rows(&self, filter: &str) -> rusqlite::Result<Vec<ShapeRow>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT key, units, codes, rekey, seen FROM shapes {filter} ORDER BY key"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(ShapeRow {
                key: r.get::<_, i64>(0)? as u64,
                units: r.get(1)?,
                codes: codes_from_blob(r.get(2)?),
                rekey: r.get::<_, i64>(3)? != 0,
                seen: r.get(4)?,
            })
        })?;
        rows.collect()
    }

    fn neighbours(&self, key: u64) -> rusqlite::Result<Vec<u64>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT b FROM near WHERE a = ?1 UNION ALL SELECT a FROM near WHERE b = ?1",
        )?;
        let rows = stmt.query_map([key as i64], |r| Ok(r.get::<_, i64>(0)? as u64))?;
        rows.collect()
    }

    /// Every shape connected to a seed by clone edges, seeds included.
    fn components(
        &self,
        graph: &mut Graph,
        seeds: FxHashSet<u64>,
        all: bool,
    ) -> rusqlite::Result<FxHashSet<u64>> {
        if all {
            // Everything is affected; skip the walk, and the shapes that can neither form a
            // class nor end one: a single unit, no edge, no pattern.
            let mut stmt = self.tx.prepare_cached(
                "SELECT key FROM shapes WHERE units > 1 OR key IN (SELECT key FROM patterns) \
                 OR key IN (SELECT a FROM near) OR key IN (SELECT b FROM near)",
            )?;
            let rows = stmt.query_map([], |r| Ok(r.get::<_, i64>(0)? as u64))?;
            return rows.collect();
        }
        let mut seen = seeds.clone();
        let mut stack: Vec<u64> = seeds.into_iter().collect();
        while let Some(key) = stack.pop() {
            for next in graph.clone_neighbours(self.tx, key)? {
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        Ok(seen)
    }

    /// Re-cluster the affected shapes and append the events that move their patterns there.
    fn reclassify(
        &mut self,
        graph: &mut Graph,
        affected: &FxHashSet<u64>,
        params: &Params,
    ) -> rusqlite::Result<()> {
        self.tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS batch_keys (key INTEGER PRIMARY KEY); DELETE FROM batch_keys;",
        )?;
        {
            let mut insert = self
                .tx
                .prepare_cached("INSERT INTO batch_keys (key) VALUES (?1)")?;
            for &key in affected {
                insert.execute([key as i64])?;
            }
        }
        let mut nodes: Vec<near::Node> = Vec::new();
        {
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
        }
        let mut edges: Vec<near::Edge> = Vec::new();
        for &key in affected {
            for (other, similarity, score) in graph.clone_edges(self.tx, key)? {
                if key < other && affected.contains(&other) {
                    edges.push(near::Edge {
                        a: key,
                        b: other,
                        similarity,
                        score,
                        copy: true,
                    });
                }
            }
        }
        let clusters = near::cluster(&nodes, &edges);

        // Each shape's units, with their content. A function-level unit of a shape is a
        // renamed copy of the others (signature and body alike); a block window is a copy of
        // its shape's first window (by exact hash) only when its names and values say so too
        // (`near::same_shape_copy`): a window is a short run, and runs of one form with their
        // own data (assertions, setters, table rows) are common.
        let mut units: FxHashMap<u64, Vec<(Member, Vec<u16>)>> = FxHashMap::default();
        {
            let mut stmt = self.tx.prepare_cached(
                "SELECT u.shape_hash, u.id, u.exact_hash, u.end_line - u.start_line + 1, u.tokens, u.kind, \
                 u.content FROM batch_keys k CROSS JOIN units u ON u.shape_hash = k.key",
            )?;
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
                units
                    .entry(shape)
                    .or_default()
                    .push((member, codes_from_blob(r.get(6)?)));
            }
        }
        let units: FxHashMap<u64, Vec<Member>> = units
            .into_iter()
            .map(|(shape, mut copies)| {
                copies.sort_by_key(|(m, _)| (m.exact, m.unit));
                let first = copies[0].1.clone();
                let kept = copies
                    .into_iter()
                    .filter(|(m, content)| {
                        !m.block || near::same_shape_copy(&first, content, params)
                    })
                    .map(|(m, _)| m)
                    .collect();
                (shape, kept)
            })
            .collect();
        let mut old: BTreeMap<u64, Class> = BTreeMap::new();
        {
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
        }
        let mut new: BTreeMap<u64, Class> = BTreeMap::new();
        for cluster in &clusters {
            let members: Vec<Member> = std::iter::once(cluster.leader)
                .chain(cluster.members.iter().map(|&(key, _)| key))
                .flat_map(|key| units.get(&key).into_iter().flatten().copied())
                .collect();
            if let Some(class) = detect::class_of(cluster, &members) {
                new.insert(class.key, class);
            }
        }
        let keys: std::collections::BTreeSet<u64> = old.keys().chain(new.keys()).copied().collect();
        for key in keys {
            let old = old.get_mut(&key).map(|c| {
                c.members.sort_unstable();
                &*c
            });
            for event in detect::transition(old, new.get(&key)) {
                self.emit(event)?;
            }
        }
        Ok(())
    }
}

/// Where classification takes the near-miss candidates of the shapes that changed from, when
/// not from buckets of every shape built in memory.
#[derive(Clone, Copy)]
pub enum Candidates<'a> {
    /// An index up to date with the catalogue (it is not used otherwise).
    Current(&'a Segments),
    /// An index up to date with the catalogue as it was before the units being classified
    /// were written (the watcher's): the shapes those units changed are read from the
    /// catalogue and laid over it.
    Before(&'a Segments),
}

/// The pending shapes whose band records in `before` (an index from before their units
/// changed) differ from the catalogue's now: those that joined or left the near-miss graph
/// since. Any other shape, pending or not, has the same record in both: its codes (so its
/// band keys and length) follow from its key.
fn rerecorded(before: &Segments, pending: &[ShapeRow]) -> Result<Vec<u64>, index::Damaged> {
    let mut out = Vec::new();
    for r in pending {
        // Without codes a shape is in no bucket, then or now. Otherwise it changed if it has
        // units now and had none then, or the other way.
        if !r.codes.is_empty() && (r.units > 0) == before.shape(r.key)?.is_empty() {
            out.push(r.key);
        }
    }
    Ok(out)
}

/// Band buckets as they are now: an index from before some shapes changed, without those
/// shapes, plus the ones among them still in the near-miss graph as the catalogue has them.
/// Every other shape's record (units, codes) is as the index has it, since a shape's record
/// changes only with its units.
struct Overlay<'a> {
    before: &'a Segments,
    changed: FxHashSet<u64>,
    /// The changed shapes still in the graph: their record and band keys (low 32 bits).
    now: Vec<(near::Member, [u32; fingerprint::BANDS])>,
}

impl<'a> Overlay<'a> {
    fn new(before: &'a Segments, changed: Vec<u64>, now: FxHashMap<u64, near::Shape>) -> Self {
        let now = now
            .into_values()
            .filter(|s| !s.codes.is_empty())
            .map(|s| {
                let keys = Sketch::of(&s.codes).band_keys().map(|k| k as u32);
                let member = near::Member {
                    shape: s.key,
                    tokens: s.codes.len() as u32,
                };
                (member, keys)
            })
            .collect();
        Overlay {
            before,
            changed: changed.into_iter().collect(),
            now,
        }
    }
}

impl near::Buckets for Overlay<'_> {
    type Error = index::Damaged;
    fn bucket(&self, key: u64) -> Result<Vec<near::Member>, index::Damaged> {
        Ok(self.bucket_up_to(key, usize::MAX)?.unwrap_or_default())
    }
    fn bucket_up_to(
        &self,
        key: u64,
        cap: usize,
    ) -> Result<Option<Vec<near::Member>>, index::Damaged> {
        // At most every changed shape leaves the bucket: one over `cap` of those is over now.
        let Some(before) = self
            .before
            .bucket_up_to(key, cap.saturating_add(self.changed.len()))?
        else {
            return Ok(None);
        };
        let mut bucket: Vec<near::Member> = before
            .into_iter()
            .filter(|m| !self.changed.contains(&m.shape))
            .collect();
        bucket.extend(
            self.now
                .iter()
                .filter(|(_, keys)| keys.contains(&(key as u32)))
                .map(|(m, _)| *m),
        );
        bucket.sort_unstable();
        Ok(Some(bucket).filter(|b| b.len() <= cap))
    }
}

/// Shapes (present now) in a band bucket whose size crossed the cap because of the shapes that
/// appeared or went since the last classification: their candidates changed.
fn crossed_cap<B: near::Buckets>(
    changed: &[&ShapeRow],
    buckets: &B,
    cap: usize,
) -> Result<Vec<u64>, B::Error> {
    let mut delta: FxHashMap<u32, i64> = FxHashMap::default();
    for r in changed.iter().filter(|r| !r.codes.is_empty()) {
        let sign = if r.units > 0 { 1 } else { -1 };
        for key in Sketch::of(&r.codes).band_keys() {
            *delta.entry(key as u32).or_default() += sign;
        }
    }
    let mut out = Vec::new();
    for (key, d) in delta {
        // A bucket holding more than `cap + |d|` shapes now held more than `cap` before too.
        let Some(bucket) = buckets.bucket_up_to(u64::from(key), cap + d.unsigned_abs() as usize)?
        else {
            continue;
        };
        let now = bucket.len();
        let before = (now as i64 - d).max(0) as usize;
        if (before <= cap) != (now <= cap) {
            out.extend(bucket.into_iter().map(|m| m.shape));
        }
    }
    Ok(out)
}

/// What computing the edges of the stale shapes reads; see `Writer::plan_edges`.
struct EdgePlan {
    stale: FxHashSet<u64>,
    from: Vec<u64>,
    candidates: Vec<Vec<u64>>,
    shapes: FxHashMap<u64, near::Shape>,
}

/// A row of `shapes`.
struct ShapeRow {
    key: u64,
    units: i64,
    codes: Vec<u16>,
    /// The shape's codes or its set of distinct copies changed since the last
    /// classification.
    rekey: bool,
    /// Units at the last classification; `None` before the first.
    seen: Option<i64>,
}

/// The near-miss graph as classification walks it: each shape's edges (other end,
/// similarity, score, whether the pair passes as a copy), read once, and which of them are
/// clone edges. An edge between a shape
/// and one whose every unit lies inside one of its units (or the other way) is no evidence of
/// copying (a closure resembles the function around it) and is left out.
struct Graph {
    policy: near::ClonePolicy,
    edges: FxHashMap<u64, Vec<(u64, f32, f32, bool)>>,
    /// Where each shape's units are: (file, first byte, end byte).
    spans: FxHashMap<u64, Vec<(i64, u32, u32)>>,
    /// Every edge and span is read up front (a classification of everything).
    complete: bool,
    best: FxHashMap<u64, near::Best>,
}

impl Graph {
    /// The graph, with every edge and span of the catalogue read at once when `everything`
    /// is given.
    fn new(
        policy: near::ClonePolicy,
        everything: Option<&Transaction<'_>>,
    ) -> rusqlite::Result<Graph> {
        let mut graph = Graph {
            policy,
            edges: FxHashMap::default(),
            spans: FxHashMap::default(),
            complete: everything.is_some(),
            best: FxHashMap::default(),
        };
        if let Some(tx) = everything {
            let mut stmt = tx.prepare(
                "SELECT shape_hash, file_id, start_byte, end_byte FROM units WHERE codes IS NOT NULL",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                graph
                    .spans
                    .entry(r.get::<_, i64>(0)? as u64)
                    .or_default()
                    .push((r.get(1)?, r.get(2)?, r.get(3)?));
            }
            let mut stmt = tx.prepare("SELECT a, b, similarity, score, copy FROM near")?;
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
            for (a, b, similarity, score, copy) in all {
                if !graph.nested(tx, a, b)? {
                    graph
                        .edges
                        .entry(a)
                        .or_default()
                        .push((b, similarity, score, copy));
                    graph
                        .edges
                        .entry(b)
                        .or_default()
                        .push((a, similarity, score, copy));
                }
            }
        }
        Ok(graph)
    }

    fn spans(&mut self, tx: &Transaction<'_>, key: u64) -> rusqlite::Result<&[(i64, u32, u32)]> {
        if !self.complete && !self.spans.contains_key(&key) {
            let mut stmt = tx.prepare_cached(
                "SELECT file_id, start_byte, end_byte FROM units WHERE shape_hash = ?1 AND codes IS NOT NULL",
            )?;
            let rows = stmt.query_map([key as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let found = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            self.spans.insert(key, found);
        }
        Ok(self.spans.get(&key).map_or(&[], Vec::as_slice))
    }

    /// Whether every unit of one shape and every unit of the other lie one inside the other.
    fn nested(&mut self, tx: &Transaction<'_>, a: u64, b: u64) -> rusqlite::Result<bool> {
        let outer = self.spans(tx, a)?.to_vec();
        let inner = self.spans(tx, b)?;
        let contains =
            |x: &(i64, u32, u32), y: &(i64, u32, u32)| x.0 == y.0 && x.1 <= y.1 && y.2 <= x.2;
        Ok(!outer.is_empty()
            && !inner.is_empty()
            && outer
                .iter()
                .all(|x| inner.iter().all(|y| contains(x, y) || contains(y, x))))
    }

    /// A shape's edges, but those to shapes nested in it or around it.
    fn edges(
        &mut self,
        tx: &Transaction<'_>,
        key: u64,
    ) -> rusqlite::Result<&[(u64, f32, f32, bool)]> {
        if !self.complete && !self.edges.contains_key(&key) {
            let mut stmt = tx.prepare_cached(
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
            let mut found = Vec::new();
            for row in rows {
                let edge = row?;
                if !self.nested(tx, key, edge.0)? {
                    found.push(edge);
                }
            }
            self.edges.insert(key, found);
        }
        Ok(self.edges.get(&key).map_or(&[], Vec::as_slice))
    }

    fn best(&mut self, tx: &Transaction<'_>, key: u64) -> rusqlite::Result<near::Best> {
        if let Some(best) = self.best.get(&key) {
            return Ok(*best);
        }
        let best = near::Best::of(
            self.edges(tx, key)?
                .iter()
                .map(|&(other, _, score, _)| (score, other)),
        );
        self.best.insert(key, best);
        Ok(best)
    }

    /// A shape's clone edges (other end, similarity, score).
    fn clone_edges(
        &mut self,
        tx: &Transaction<'_>,
        key: u64,
    ) -> rusqlite::Result<Vec<(u64, f32, f32)>> {
        let best = self.best(tx, key)?;
        let edges = self.edges(tx, key)?.to_vec();
        let mut out = Vec::new();
        for (other, similarity, score, copy) in edges {
            let other_best = self.best(tx, other)?;
            if self
                .policy
                .is_clone((copy, score), (key, &best), (other, &other_best))
            {
                out.push((other, similarity, score));
            }
        }
        Ok(out)
    }

    /// The other ends of a shape's clone edges.
    fn clone_neighbours(&mut self, tx: &Transaction<'_>, key: u64) -> rusqlite::Result<Vec<u64>> {
        Ok(self
            .clone_edges(tx, key)?
            .into_iter()
            .map(|(other, ..)| other)
            .collect())
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
            .query_row([key as i64], |r| Ok(codes_from_blob(r.get(0)?)))
            .optional()?
        {
            let copies = copy_content(conn, key)?;
            out.insert(key, near::Shape { key, codes, copies });
        }
    }
    Ok(out)
}

/// Every live near-miss shape with its copies' content, read in two passes.
fn live_shapes(conn: &Connection) -> rusqlite::Result<FxHashMap<u64, near::Shape>> {
    let mut shapes: FxHashMap<u64, near::Shape> = FxHashMap::default();
    let mut stmt =
        conn.prepare("SELECT key, codes FROM shapes WHERE units > 0 AND codes IS NOT NULL")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let key = r.get::<_, i64>(0)? as u64;
        let codes = codes_from_blob(r.get(1)?);
        shapes.insert(
            key,
            near::Shape {
                key,
                codes,
                copies: Vec::new(),
            },
        );
    }
    // The copies compared are the first distinct ones by exact hash, as `copy_content` reads.
    let mut stmt = conn.prepare(
        "SELECT shape_hash, exact_hash, content FROM units WHERE codes IS NOT NULL \
         ORDER BY shape_hash, exact_hash",
    )?;
    let mut rows = stmt.query([])?;
    let mut last: Option<(u64, u64)> = None;
    while let Some(r) = rows.next()? {
        let (shape, exact) = (r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64);
        if last == Some((shape, exact)) {
            continue;
        }
        last = Some((shape, exact));
        if let Some(s) = shapes
            .get_mut(&shape)
            .filter(|s| s.copies.len() < near::COPIES)
        {
            s.copies.push(codes_from_blob(r.get(2)?));
        }
    }
    Ok(shapes)
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

fn codes_from_blob(blob: Option<Vec<u8>>) -> Vec<u16> {
    blob.map(|b| {
        b.chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect()
    })
    .unwrap_or_default()
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

/// The content of a shape's first distinct copies by exact hash, so the choice does not
/// depend on arrival order ([`near::COPIES`] at most).
fn copy_content(conn: &Connection, shape: u64) -> rusqlite::Result<Vec<Vec<u16>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT exact_hash, min(content) FROM units WHERE shape_hash = ?1 AND codes IS NOT NULL \
         GROUP BY exact_hash ORDER BY exact_hash LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![shape as i64, near::COPIES as i64], |r| {
        Ok(codes_from_blob(r.get(1)?))
    })?;
    rows.collect()
}

fn codes_to_blob(codes: &[u16]) -> Option<Vec<u8>> {
    (!codes.is_empty()).then(|| codes.iter().flat_map(|c| c.to_le_bytes()).collect())
}

/// Event `seq` of the log of the catalogue at `path`, from its JSON.
fn decode_event(path: &Path, seq: i64, data: &str) -> Result<Event, StoreError> {
    serde_json::from_str(data).map_err(|e| StoreError::BadEvent {
        path: path.display().to_string(),
        seq,
        message: e.to_string(),
    })
}

/// Apply one event to the projection tables. The only code that writes projections.
fn apply(tx: &Transaction<'_>, event: &Event) -> rusqlite::Result<()> {
    match event {
        Event::FileAdded(record) | Event::FileChanged(record) => {
            let FileRecord { id, file: f, small } = record;
            tx.prepare_cached("DELETE FROM small_functions WHERE file_id = ?1")?
                .execute([id])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO small_functions (file_id, kind, name, start_line, end_line, exact_hash, \
                 shape_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for SmallFunction(kind, name, start, end, exact, shape) in small {
                insert.execute(params![
                    id,
                    kind.as_str(),
                    name,
                    start,
                    end,
                    exact.0 as i64,
                    shape.0 as i64
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
            let UnitRecord {
                id,
                file_id,
                unit: u,
            } = record;
            let codes = codes_to_blob(&u.codes);
            tx.prepare_cached(
                "INSERT INTO units (id, file_id, kind, name, start_line, end_line, start_byte, end_byte, tokens, \
                 exact_hash, shape_hash, codes, noise, content) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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
                codes,
                u.noise.map(Noise::as_str),
                codes_to_blob(&u.content)
            ])?;
            // The codes are a function of the shape, except across settings and versions: the
            // latest unit's win, and a shape that leaves or changes in the near-miss graph is
            // re-verified (`rekey`).
            if u.codes.is_empty() {
                // Not a near-miss node (a block or a table): only the count matters.
                tx.prepare_cached(
                    "INSERT INTO shapes (key, units, tokens) VALUES (?1, 1, ?2) \
                     ON CONFLICT(key) DO UPDATE SET units = units + 1, touched = 1, \
                     rekey = rekey OR codes IS NOT NULL, codes = NULL",
                )?
                .execute(params![u.shape.0 as i64, u.tokens])?;
                return Ok(());
            }
            // A copy with other names or values (a new exact hash) re-verifies the shape's
            // edges: verification compares the content of its first distinct copies.
            let known: Option<Option<Vec<u8>>> = tx
                .prepare_cached("SELECT codes FROM shapes WHERE key = ?1")?
                .query_row([u.shape.0 as i64], |r| r.get(0))
                .optional()?;
            match known {
                None => {
                    tx.prepare_cached(
                        "INSERT INTO shapes (key, units, tokens, codes) VALUES (?1, 1, ?2, ?3)",
                    )?
                    .execute(params![u.shape.0 as i64, u.tokens, codes])?;
                }
                Some(old_codes) => {
                    let rekey =
                        old_codes != codes || !has_copy(tx, u.shape.0, u.exact.0, Some(*id))?;
                    tx.prepare_cached(
                        "UPDATE shapes SET units = units + 1, touched = 1, rekey = rekey OR ?2, codes = ?3 \
                         WHERE key = ?1",
                    )?
                    .execute(params![u.shape.0 as i64, rekey, codes])?;
                }
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
            let found: Option<(i64, i64, bool)> = tx
                .prepare_cached(
                    "SELECT shape_hash, exact_hash, codes IS NOT NULL FROM units WHERE id = ?1",
                )?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            tx.prepare_cached("DELETE FROM units WHERE id = ?1")?
                .execute([id])?;
            if let Some((shape, _, false)) = found {
                // Not a near-miss node (a block or a table): only the count matters.
                tx.prepare_cached(
                    "UPDATE shapes SET units = units - 1, touched = 1 WHERE key = ?1",
                )?
                .execute([shape])?;
            } else if let Some((shape, exact, true)) = found {
                // The last copy with these names and values went: the copies compared changed.
                let rekey = !has_copy(tx, shape as u64, exact as u64, None)?;
                tx.prepare_cached(
                    "UPDATE shapes SET units = units - 1, touched = 1, rekey = rekey OR ?2 WHERE key = ?1",
                )?
                .execute(params![shape, rekey])?;
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
    }
    Ok(())
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

/// A file's units (only those containing `line`, when given), in the order they were added.
fn units_of(
    conn: &Connection,
    file_id: i64,
    line: Option<u32>,
) -> rusqlite::Result<Vec<UnitRecord>> {
    let mut stmt = conn.prepare_cached(
            "SELECT id, kind, name, start_line, end_line, start_byte, end_byte, tokens, exact_hash, shape_hash, \
             codes, noise, content FROM units WHERE file_id = ?1 \
             AND (?2 IS NULL OR (start_line <= ?2 AND end_line >= ?2)) ORDER BY id",
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
                codes: codes_from_blob(r.get::<_, Option<Vec<u8>>>(10)?),
                noise: r
                    .get::<_, Option<String>>(11)?
                    .and_then(|n| Noise::parse(&n)),
                content: codes_from_blob(r.get::<_, Option<Vec<u8>>>(12)?),
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

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn events_cannot_be_updated_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db")).unwrap();
        let scan = store.begin_scan().unwrap();
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
        let scan = store.begin_scan().unwrap();
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
    fn unchanged_units_keep_their_ids_when_a_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("c.db")).unwrap();
        let scan = store.begin_scan().unwrap();
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
        let scan = store.begin_scan().unwrap();
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
