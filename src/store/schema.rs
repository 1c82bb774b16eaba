//! The catalogue's schema: its migrations, and the tables dumped for equivalence checks and
//! cleared by a rebuild.

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many have run.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // Similarity codes are a function of the shape: held once, in `shapes` (packed, by the
    // code that runs after this migration), and a unit says only whether it is a near-miss
    // node. (Events are written in a binary encoding from here on; the JSON ones before
    // still read.)
    r#"
ALTER TABLE units ADD COLUMN near INTEGER NOT NULL DEFAULT 0;
UPDATE units SET near = 1 WHERE codes IS NOT NULL;
ALTER TABLE units DROP COLUMN codes;
"#,
    // Decisions people made about classes (`cpt accept`): the class, why, and the content
    // hashes of its copies when it was accepted (sorted, 16 hex digits each, space-separated).
    r#"
CREATE TABLE accepted (
    id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    copies TEXT NOT NULL,
    at_ms INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // The commit a scan's tree was checked out at (`git rev-parse HEAD` in the root), when it
    // is in a git checkout.
    r#"
ALTER TABLE scans ADD COLUMN git_commit TEXT;
"#,
    // Each unit's and small function's family of code: an index in `lang::FAMILIES`, 255
    // (`lang::NO_FAMILY`) for none, NULL for units fingerprinted before it was recorded.
    r#"
ALTER TABLE units ADD COLUMN family INTEGER;
ALTER TABLE small_functions ADD COLUMN family INTEGER;
"#,
    // A block's names and values are a run of its function's: it may hold them as a place in
    // that unit's content (`content_in` its id, `content_at` the run's first code times 2^16
    // plus its length) instead of a copy ([`super::replay::containers`]). Units stored
    // before keep theirs.
    r#"
ALTER TABLE units ADD COLUMN content_in INTEGER;
ALTER TABLE units ADD COLUMN content_at INTEGER;
"#,
];

/// A unit's content in SQL: its own, or the run of its container's that it names (`u` the
/// unit, `p` its container, joined by `LEFT JOIN units p ON p.id = u.content_in`).
macro_rules! unit_content {
    () => {
        "coalesce(u.content, substr(p.content, (u.content_at >> 16) * 2 + 1, (u.content_at & 65535) * 2))"
    };
}
pub(super) use unit_content;

/// The migration after which `shapes.codes` are packed ([`super::pack_codes`]).
pub(super) const SHAPE_CODES_PACKED: usize = 6;

/// The projection tables, in the order they are dumped and cleared.
pub(super) const PROJECTIONS: &[(&str, &str)] = &[
    (
        "files",
        "SELECT id, path, lang, size, mtime_ns, hash, lines, syntax_errors, status FROM files ORDER BY id",
    ),
    (
        "units",
        concat!(
            "SELECT u.id, u.file_id, u.kind, u.name, u.start_line, u.end_line, u.start_byte, u.end_byte, \
             u.tokens, u.exact_hash, u.shape_hash, u.near, u.noise, ",
            unit_content!(),
            ", u.family FROM units u LEFT JOIN units p ON p.id = u.content_in ORDER BY u.id"
        ),
    ),
    (
        "small_functions",
        "SELECT file_id, kind, name, start_line, end_line, exact_hash, shape_hash, family FROM small_functions \
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
    (
        "accepted",
        "SELECT id, reason, copies, at_ms FROM accepted ORDER BY id",
    ),
];

/// The near-miss parameters the catalogue's edges were computed with ([`crate::detect::near::Params::key`]).
/// The indexes by shape, as the migrations leave them: a first scan into an empty catalogue
/// loads without them and creates them after ([`super::Store::defer_indexes`]). Inserted one
/// unit at a time in shape order, which is random, they cost the writer a third of its time
/// and came out twice their size built at once.
pub(super) const DEFERRED_INDEXES: &[(&str, &str)] = &[
    (
        "units_by_shape",
        "CREATE INDEX IF NOT EXISTS units_by_shape ON units(shape_hash, exact_hash)",
    ),
    (
        "small_by_shape",
        "CREATE INDEX IF NOT EXISTS small_by_shape ON small_functions(shape_hash, exact_hash, file_id, start_line)",
    ),
];

pub(super) const NEAR_PARAMS: &str = "SELECT value FROM meta WHERE key = 'near'";

/// The sequence number of the last event, 0 for an empty log.
pub(super) const LAST_EVENT: &str = "SELECT coalesce(max(seq), 0) FROM events";

/// Detector state derived from the units, dumped with the projections and recomputed by
/// `rebuild`.
pub(super) const DERIVED: &[(&str, &str)] = &[
    (
        "shapes",
        "SELECT key, units, tokens, codes, rekey, seen, touched FROM shapes ORDER BY key",
    ),
    (
        "near",
        "SELECT a, b, similarity, score, copy FROM near ORDER BY a, b",
    ),
];
