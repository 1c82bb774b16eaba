//! Scan: wires discover → parse → fingerprint → store for `cpt scan`. Workers parse and fingerprint in parallel; one writer thread owns
//! the catalogue and writes in batches.

pub mod discover;
pub mod reparse;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::fingerprint::{self, Hash64};
use crate::index::refresh::{
    self, IndexRefresh, WarmIndex, open_segments, rebuild_index_warm, refresh_index_warm, release,
};
use crate::index::{self, Access};
use crate::store::{Candidates, Change, FileState, KnownFile, Store, WriteLock};
use discover::{Candidate, SkipReason};
use reparse::Recent;

/// Directory of the catalogue at a scanned root.
pub const CATALOGUE_DIR: &str = ".cpt";
/// The catalogue's database file inside [`CATALOGUE_DIR`].
pub const DATABASE_FILE: &str = "cpt.db";

/// Files per write transaction.
const BATCH_FILES: usize = 1000;
/// Longest a change waits in the writer before its batch is committed.
const BATCH_WAIT: Duration = Duration::from_millis(500);
/// A file modified this close to the scan may change again within the file system's timestamp
/// granularity without its size or modification time changing; its stat is not trusted.
const RACY_WINDOW_NS: i64 = 2_000_000_000;

/// How the scan reports progress; the CLI draws a bar, tests stay silent.
pub trait Progress: Sync {
    /// `files` will be read in this scan.
    fn start(&self, _files: u64) {}
    /// One more file is done.
    fn advance(&self) {}
    /// A one-line problem with one file; the scan goes on.
    fn warn(&self, _message: &str) {}
    fn finish(&self) {}
}

/// Progress that shows nothing.
pub struct Silent;
impl Progress for Silent {}

/// What `cpt scan` was asked to do.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub root: PathBuf,
    pub db: PathBuf,
    pub settings: Settings,
}

/// What a scan did, for its closing line and the catalogue's scan log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanSummary {
    /// Source files found by the walk.
    pub files: u64,
    /// Files read again because their size or modification time changed (or never seen).
    pub read: u64,
    /// Files whose content changed and were fingerprinted.
    pub fingerprinted: u64,
    /// Of those, files parsed from the tree of their last version (in watch mode).
    #[serde(skip_serializing_if = "is_zero")]
    pub incremental: u64,
    /// Files gone since the last scan.
    pub removed: u64,
    /// Function-level units and their clone classes (blocks are not counted here).
    pub units: u64,
    pub patterns: u64,
    /// Skipped files in the tree, by reason (including files skipped in earlier scans).
    pub skipped: BTreeMap<String, u64>,
    /// Files read in this scan that had syntax errors.
    pub syntax_errors: u64,
    pub events: u64,
    pub elapsed_ms: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ScanSummary {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// The default catalogue of a root.
pub fn default_db(root: &Path) -> PathBuf {
    root.join(CATALOGUE_DIR).join(DATABASE_FILE)
}

/// The catalogue of the nearest directory at or above `start` that has one.
pub fn find_db(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(default_db).find(|p| p.is_file())
}

/// Index or refresh `options.root` into the catalogue at `options.db`.
pub fn scan(options: &ScanOptions, progress: &dyn Progress) -> Result<ScanSummary> {
    let (root, _lock) = lock(options, progress)?;
    scan_locked(&root, options, Scope::Tree, None, progress)
}

/// [`scan`] of a watched tree: with what the watcher keeps between scans.
pub fn rescan(options: &ScanOptions, warm: &Warm, progress: &dyn Progress) -> Result<ScanSummary> {
    let (root, _lock) = lock(options, progress)?;
    scan_locked(&root, options, Scope::Tree, Some(warm), progress)
}

/// Bring the catalogue up to date with changes to these files only (relative to the root,
/// `/`-separated; created, changed, removed, or now ignored), as a scan of the whole tree
/// would. Only the directories on their way are read, and the summary counts only them: its
/// `files`, `units`, `patterns` and `skipped` say nothing of the rest of the tree. When the
/// settings changed since the last scan, everything is scanned. With `warm`, files it knows
/// are parsed from their last version (and every file read is kept there for the next time),
/// the base index it holds is used again, and the index is left behind by this scan's writes
/// until [`catch_up_index`].
pub fn scan_paths(
    options: &ScanOptions,
    paths: &[String],
    warm: Option<&Warm>,
    progress: &dyn Progress,
) -> Result<ScanSummary> {
    let (root, _lock) = lock(options, progress)?;
    scan_locked(&root, options, Scope::Paths(paths), warm, progress)
}

/// What a scan reads: the whole tree, or the named files.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Tree,
    Paths(&'a [String]),
}

/// The canonical root, and the catalogue's write lock held.
fn lock(options: &ScanOptions, progress: &dyn Progress) -> Result<(PathBuf, WriteLock)> {
    let root = options
        .root
        .canonicalize()
        .with_context(|| format!("{}: cannot scan", options.root.display()))?;
    let lock = WriteLock::take(&options.db, &|m| progress.warn(m))?;
    Ok((root, lock))
}

/// A scan of `scope`, holding the catalogue's write lock.
fn scan_locked(
    root: &Path,
    options: &ScanOptions,
    scope: Scope<'_>,
    warm: Option<&Warm>,
    progress: &dyn Progress,
) -> Result<ScanSummary> {
    let started = Instant::now();
    // A watcher's scans of a few files share one connection; a scan of the whole tree wants
    // the page cache and automatic checkpoints of a connection of its own.
    let keep = warm.filter(|_| matches!(scope, Scope::Paths(_)));
    let mut store = match keep.and_then(|w| w.take_store(&options.db)) {
        Some(store) => store,
        None => {
            let mut store = open_for_scan(root, &options.db)?;
            // A first scan interrupted while it loaded left its shapes unwritten and its
            // indexes by shape out.
            if store.recover_load()? {
                progress.warn(&format!(
                    "{}: the last first scan was interrupted; its catalogue was rebuilt from its log",
                    options.db.display()
                ));
            }
            if keep.is_some() {
                store.keep_open(true)?;
            }
            store
        }
    };
    let fingerprint_key = options.settings.fingerprint_key();
    let refingerprint = store.meta("fingerprint")?.as_deref() != Some(fingerprint_key.as_str());
    if refingerprint && let Scope::Paths(_) = scope {
        // Everything is read again: a scan of the whole tree, with what the watcher keeps.
        drop(store);
        return scan_locked(root, options, Scope::Tree, warm, progress);
    }

    let (known, walk) = match scope {
        Scope::Tree => (
            store.known_files()?,
            discover::walk(root, &options.settings.exclude)?,
        ),
        Scope::Paths(paths) => (
            store.known_files_among(paths)?,
            match warm.map(|w| w.included.lock().unwrap_or_else(|p| p.into_inner())) {
                Some(included) if !included.is_empty() => {
                    discover::walk_known(root, &options.settings.exclude, paths, &included)?
                }
                _ => discover::walk_paths(root, &options.settings.exclude, paths)?,
            },
        ),
    };
    if let Some(warm) = warm {
        let mut included = warm.included.lock().unwrap_or_else(|p| p.into_inner());
        match scope {
            Scope::Tree => included.clear(),
            Scope::Paths(paths) => {
                for path in paths {
                    included.remove(path);
                }
            }
        }
        included.extend(walk.files.iter().map(|c| c.rel.clone()));
    }
    for error in &walk.errors {
        progress.warn(error);
    }
    let present: HashSet<&str> = walk.files.iter().map(|c| c.rel.as_str()).collect();
    let removed: Vec<String> = known
        .keys()
        .filter(|p| !present.contains(p.as_str()))
        .cloned()
        .collect();
    let mut todo: Vec<&Candidate> = walk
        .files
        .iter()
        .filter(|c| refingerprint || known.get(&c.rel).is_none_or(|k| needs_reading(k, c)))
        .collect();
    // Biggest first, one file per task: large files spread over the workers instead of
    // ending the run on one thread.
    todo.sort_unstable_by(|a, b| b.size.cmp(&a.size).then_with(|| a.rel.cmp(&b.rel)));

    progress.start(todo.len() as u64);
    let scan_id = store.begin_scan(head_commit(root).as_deref())?;
    let seq_before = store.last_event()?;
    let mut tally = Tally {
        removed: removed.len() as u64,
        ..Tally::default()
    };
    let racy_after_ns = discover::now_ns() - RACY_WINDOW_NS;
    let work = Work {
        known: &known,
        settings: &options.settings,
        refingerprint,
        racy_after_ns,
        recent: keep.map(|w| &w.recent),
    };
    // A first scan loads without the indexes by shape and creates them once, after.
    let loading = matches!(scope, Scope::Tree) && known.is_empty() && store.defer_indexes()?;
    std::thread::scope(|threads| -> Result<()> {
        let (sender, receiver) = mpsc::sync_channel::<Processed>(4 * BATCH_FILES);
        let writer = std::thread::Builder::new()
            .name("cpt-writer".into())
            .spawn_scoped(threads, || {
                write_all(&mut store, scan_id, removed, receiver, progress, &mut tally)
            })
            .context("cannot start the writer thread")?;
        todo.par_iter()
            .with_max_len(1)
            .for_each_with(sender, |sender, candidate| {
                // A send fails only when the writer has stopped on an error, which it reports.
                let _ = sender.send(work.process(candidate));
            });
        writer.join().expect("writer thread panicked")
    })?;
    if loading {
        store.finish_load()?;
    }
    // What the parsers held (trees, buffers, the channel's batches) is free: give it back
    // before classification builds its working set. (Not after a few paths: a watched
    // save frees little, and walking the allocator's heaps would be on its latency.)
    let whole_tree = matches!(scope, Scope::Tree);
    if whole_tree {
        crate::sys::release_free_memory();
    }
    // Classification reads near-miss candidates from the index. The watcher's scans of a few
    // files take the index as it was before their writes, with the shapes they changed read
    // from the catalogue and laid over it, so the index is written once, after. Other scans
    // bring the index up to date with the new units first. A first scan has no index yet,
    // and classifies every shape from memory anyway.
    let before = match (warm, scope) {
        (Some(warm), Scope::Paths(_)) => {
            open_segments(&options.db, Access::Mapped, Some(&warm.index))
                .ok()
                .filter(|s| s.last_event() == seq_before)
        }
        _ => None,
    };
    let segments = match &before {
        None if index::path_for(&options.db).exists() => {
            Some(refresh_index_warm(&store, &options.db, Access::Mapped, warm.map(|w| &w.index))?.0)
        }
        _ => None,
    };
    let candidates = match (&before, &segments) {
        (Some(before), _) => Some(Candidates::Before(before)),
        (None, Some(current)) => Some(Candidates::Current(current)),
        (None, None) => None,
    };
    tally.events += store
        .classify(scan_id, &options.settings.near, candidates)?
        .events;
    // Classification's working set (every shape's codes on a first scan) is free now; the
    // index build that follows peaks on its own.
    if whole_tree {
        crate::sys::release_free_memory();
    }
    for segments in before.into_iter().chain(segments) {
        release(warm.map(|w| &w.index), segments);
    }
    // The watcher reports a scan of a few files first and then catches up
    // (`catch_up_index`): the index is not part of what it reports.
    if warm.is_none() || matches!(scope, Scope::Tree) {
        let mut segments =
            refresh_index_warm(&store, &options.db, Access::Mapped, warm.map(|w| &w.index))?.0;
        // Queries check the chunks they read; a scan of the whole tree checks them all, so
        // damage is healed here rather than found by some later query.
        if let Scope::Tree = scope
            && let Err(damage) = segments.verify()
        {
            progress.warn(&format!("{damage}; rebuilt from the catalogue"));
            release(warm.map(|w| &w.index), segments);
            segments = rebuild_index_warm(
                &store,
                &options.db,
                Access::Mapped,
                damage.to_string(),
                warm.map(|w| &w.index),
            )?
            .0;
        }
        release(warm.map(|w| &w.index), segments);
    }
    progress.finish();

    store.set_meta("fingerprint", &fingerprint_key)?;
    // Counting the whole catalogue costs more than a scan of a few paths.
    let (units, patterns, mut skipped) = match scope {
        Scope::Tree => {
            let (units, patterns) = store.unit_and_pattern_counts()?;
            (units, patterns, store.skipped()?)
        }
        Scope::Paths(_) => (0, 0, BTreeMap::new()),
    };
    if tally.vanished > 0 {
        skipped.insert(SkipReason::Vanished.as_str().to_string(), tally.vanished);
    }
    let summary = ScanSummary {
        files: walk.files.len() as u64,
        read: todo.len() as u64,
        fingerprinted: tally.fingerprinted,
        incremental: tally.incremental,
        removed: tally.removed,
        units,
        patterns,
        skipped,
        syntax_errors: tally.syntax_errors,
        events: tally.events,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    store.finish_scan(scan_id, &serde_json::to_string(&summary)?)?;
    if let Some(warm) = keep {
        warm.keep_store(store);
    }
    Ok(summary)
}

/// The commit `root`'s git checkout is at (`git rev-parse HEAD`), or None: not a checkout,
/// no commit yet, or no git. One quiet process; never an error, a scan does not need git.
fn head_commit(root: &Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?;
    let commit = commit.trim();
    (output.status.success() && !commit.is_empty() && commit.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| commit.to_string())
}

/// Open (or create) the catalogue for a scan of `root`, refusing one that belongs elsewhere.
fn open_for_scan(root: &Path, db: &Path) -> Result<Store> {
    if let Some(dir) = db
        .parent()
        .filter(|d| d.file_name().is_some_and(|n| n == CATALOGUE_DIR))
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n")
                .with_context(|| format!("{}: cannot write", ignore.display()))?;
        }
    }
    let store = Store::open(db)?;
    let root_text = root.to_string_lossy();
    match store.meta("root")? {
        Some(other) if other != root_text => {
            bail!(
                "{}: this catalogue belongs to {other}; use --db to choose another",
                db.display()
            )
        }
        Some(_) => {}
        None => store.set_meta("root", &root_text)?,
    }
    Ok(store)
}

/// Whether a known file must be read again: its stat changed or was not trusted (recorded as
/// 0), or it was skipped for a reason that may have gone away.
fn needs_reading(known: &KnownFile, candidate: &Candidate) -> bool {
    known.size != candidate.size
        || known.mtime_ns != candidate.mtime_ns
        || known.mtime_ns == 0
        || SkipReason::parse(&known.status).is_some_and(SkipReason::is_transient)
}

/// One file's result, sent from a worker to the writer.
#[derive(Default)]
struct Processed {
    change: Option<Change>,
    skipped: Option<SkipReason>,
    fingerprinted: bool,
    /// Parsed from the file's last version.
    incremental: bool,
    syntax_errors: bool,
    warning: Option<String>,
}

impl Processed {
    fn change(change: Change) -> Processed {
        Processed {
            change: Some(change),
            ..Processed::default()
        }
    }
}

/// What the workers share.
struct Work<'a> {
    known: &'a HashMap<String, KnownFile>,
    settings: &'a Settings,
    refingerprint: bool,
    /// Files modified after this are recorded with an untrusted (zero) modification time.
    racy_after_ns: i64,
    /// The last versions of recently changed files, to parse from.
    recent: Option<&'a Recent>,
}

impl Work<'_> {
    /// Read, check, parse and fingerprint one file. Never fails: every problem is a skip reason.
    fn process(&self, c: &Candidate) -> Processed {
        let known = self.known.get(&c.rel);
        let mtime_ns = if c.mtime_ns >= self.racy_after_ns {
            0
        } else {
            c.mtime_ns
        };
        let state = |size: u64, hash: u64, status: &str| FileState {
            path: c.rel.clone(),
            lang: c.lang.id.to_string(),
            size,
            mtime_ns,
            hash: Hash64(hash),
            lines: 0,
            syntax_errors: 0,
            status: status.to_string(),
        };
        let skip = |reason: SkipReason, size: u64, hash: u64| Processed {
            skipped: Some(reason),
            ..Processed::change(Change::Upsert {
                file: state(size, hash, reason.as_str()),
                units: Vec::new(),
                small: Vec::new(),
            })
        };
        if c.size > self.settings.max_file_size {
            return skip(SkipReason::TooLarge, c.size, 0);
        }
        let bytes = match std::fs::read(&c.abs) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let change = known.map(|_| Change::Remove {
                    path: c.rel.clone(),
                });
                return Processed {
                    change,
                    skipped: Some(SkipReason::Vanished),
                    ..Processed::default()
                };
            }
            Err(e) => {
                let warning = Some(format!("{}: {e}", c.rel));
                return Processed {
                    warning,
                    ..skip(SkipReason::Unreadable, c.size, 0)
                };
            }
        };
        let size = bytes.len() as u64;
        if size > self.settings.max_file_size {
            return skip(SkipReason::TooLarge, size, 0);
        }
        let hash = fingerprint::hash64(&bytes);
        if let Some(k) = known
            && !self.refingerprint
            && k.hash == hash
            && !SkipReason::parse(&k.status).is_some_and(SkipReason::is_transient)
        {
            if (k.size, k.mtime_ns) == (size, mtime_ns) {
                return Processed::default();
            }
            return Processed::change(Change::Touch {
                path: c.rel.clone(),
                size,
                mtime_ns,
            });
        }
        if let Err(reason) = discover::check_content(&bytes, self.settings.max_line_length) {
            return skip(reason, size, hash);
        }
        let thresholds = self.settings.thresholds;
        let (print, reparse) =
            match reparse::fingerprint(c.lang, &c.rel, &bytes, thresholds, self.recent) {
                Ok(done) => done,
                Err(e) => {
                    let warning = Some(format!("{}: {e}", c.rel));
                    return Processed {
                        warning,
                        ..skip(SkipReason::Unreadable, size, hash)
                    };
                }
            };
        let file = FileState {
            lines: fingerprint::line_count(&bytes),
            syntax_errors: print.syntax_errors,
            ..state(size, hash, "indexed")
        };
        Processed {
            fingerprinted: true,
            incremental: reparse.incremental,
            syntax_errors: print.syntax_errors > 0,
            ..Processed::change(Change::Upsert {
                file,
                units: print.units,
                small: print.small,
            })
        }
    }
}

/// Counts the writer keeps for the summary.
#[derive(Default)]
struct Tally {
    fingerprinted: u64,
    incremental: u64,
    removed: u64,
    vanished: u64,
    syntax_errors: u64,
    events: u64,
}

/// The writer: owns the catalogue, applies changes in batched transactions.
fn write_all(
    store: &mut Store,
    scan: i64,
    removed: Vec<String>,
    results: mpsc::Receiver<Processed>,
    progress: &dyn Progress,
    tally: &mut Tally,
) -> Result<()> {
    let mut batch: Vec<Change> = removed
        .into_iter()
        .map(|path| Change::Remove { path })
        .collect();
    let mut last_commit = Instant::now();
    for processed in results {
        progress.advance();
        if let Some(warning) = &processed.warning {
            progress.warn(warning);
        }
        tally.fingerprinted += u64::from(processed.fingerprinted);
        tally.incremental += u64::from(processed.incremental);
        tally.syntax_errors += u64::from(processed.syntax_errors);
        if processed.skipped == Some(SkipReason::Vanished) {
            tally.vanished += 1;
            tally.removed += u64::from(processed.change.is_some());
        }
        batch.extend(processed.change);
        if batch.len() >= BATCH_FILES || last_commit.elapsed() >= BATCH_WAIT {
            tally.events += store
                .apply_changes(scan, std::mem::take(&mut batch))?
                .events;
            last_commit = Instant::now();
        }
    }
    if !batch.is_empty() {
        tally.events += store.apply_changes(scan, batch)?.events;
    }
    Ok(())
}

/// What a long-lived process (the watcher) keeps between its scans to make the next one
/// cheap: the last versions of recently changed files, to parse from, the index warm, the
/// catalogue connection, and the files the last walk found.
#[derive(Default)]
pub struct Warm {
    pub recent: Recent,
    pub index: WarmIndex,
    /// The scans' catalogue connection: its statements prepared and its page cache warm.
    /// It leaves checkpoints to its owner (`Store::keep_open`).
    store: std::sync::Mutex<Option<Store>>,
    /// The files the last walk of the whole tree found, kept up to date by the scans since:
    /// a scan of a few of them asks the file system only for their status
    /// (`discover::walk_known`).
    included: std::sync::Mutex<HashSet<String>>,
}

impl Warm {
    pub fn new() -> Warm {
        Warm::default()
    }

    fn take_store(&self, db: &Path) -> Option<Store> {
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        store.take().filter(|s| s.path() == db)
    }

    fn keep_store(&self, store: Store) {
        *self.store.lock().unwrap_or_else(|p| p.into_inner()) = Some(store);
    }
}

/// Bring the index up to date after scans with a `Warm` ([`scan_paths`] leaves it behind by
/// its own writes, so that the watcher can report before it writes the index), and keep its
/// base for the next scan.
pub fn catch_up_index(store: &Store, db: &Path, warm: &Warm) -> Result<IndexRefresh> {
    refresh::catch_up_index(store, db, &warm.index)
}
