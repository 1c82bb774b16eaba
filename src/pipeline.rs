//! Pipeline: wires discover → parse → fingerprint → store for `cpt scan`, and reads the
//! catalogue back for reports. Workers parse and fingerprint in parallel; one writer thread owns
//! the catalogue and writes in batches.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use globset::GlobSet;
use rayon::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::detect;
use crate::discover::{self, Candidate, SkipReason};
use crate::event::CloneType;
use crate::fingerprint::{self, Hash64, UnitPrint};
use crate::index::{self, Access, Index, Segments};
use crate::lang;
use crate::reparse::{self, Recent};
use crate::similar::{self, Match, Own};
use crate::store::{
    Candidates, Change, FileState, KnownFile, MemberRow, PatternRow, Store, WriteLock,
};

/// Directory of the catalogue at a scanned root.
pub const CATALOGUE_DIR: &str = ".cpt";
/// The catalogue's database file inside [`CATALOGUE_DIR`].
pub const DATABASE_FILE: &str = "cpt.db";

/// A delta segment larger than this fraction of its base (in units) is merged into a new base.
const DELTA_FRACTION: usize = 8;

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
    scan_scope(options, None, None, progress)
}

/// [`scan`] of a watched tree: with what the watcher keeps between scans.
pub fn rescan(options: &ScanOptions, warm: &Warm, progress: &dyn Progress) -> Result<ScanSummary> {
    scan_scope(options, None, Some(warm), progress)
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
    scan_scope(options, Some(paths), warm, progress)
}

fn scan_scope(
    options: &ScanOptions,
    scope: Option<&[String]>,
    warm: Option<&Warm>,
    progress: &dyn Progress,
) -> Result<ScanSummary> {
    let root = options
        .root
        .canonicalize()
        .with_context(|| format!("{}: cannot scan", options.root.display()))?;
    let _lock = WriteLock::take(&options.db, &|m| progress.warn(m))?;
    scan_locked(&root, options, scope, warm, progress)
}

/// [`scan_scope`], holding the catalogue's write lock.
fn scan_locked(
    root: &Path,
    options: &ScanOptions,
    scope: Option<&[String]>,
    warm: Option<&Warm>,
    progress: &dyn Progress,
) -> Result<ScanSummary> {
    let started = Instant::now();
    // A watcher's scans of a few files share one connection; a scan of the whole tree wants
    // the page cache and automatic checkpoints of a connection of its own.
    let keep = warm.filter(|_| scope.is_some());
    let mut store = match keep.and_then(|w| w.take_store(&options.db)) {
        Some(store) => store,
        None => {
            let store = open_for_scan(root, &options.db)?;
            if keep.is_some() {
                store.keep_open(true)?;
            }
            store
        }
    };
    let fingerprint_key = options.settings.fingerprint_key();
    let refingerprint = store.meta("fingerprint")?.as_deref() != Some(fingerprint_key.as_str());
    if refingerprint && scope.is_some() {
        drop(store);
        return scan_locked(root, options, None, None, progress);
    }

    let (known, walk) = match scope {
        None => (
            store.known_files()?,
            discover::walk(root, &options.settings.exclude)?,
        ),
        Some(paths) => (
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
            None => included.clear(),
            Some(paths) => {
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
    let scan_id = store.begin_scan()?;
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
    // Classification reads near-miss candidates from the index. The watcher's scans of a few
    // files take the index as it was before their writes, with the shapes they changed read
    // from the catalogue and laid over it, so the index is written once, after. Other scans
    // bring the index up to date with the new units first. A first scan has no index yet,
    // and classifies every shape from memory anyway.
    let before = match (warm, scope) {
        (Some(warm), Some(_)) => open_segments(&options.db, Access::Mapped, Some(warm))
            .ok()
            .filter(|s| s.last_event() == seq_before),
        _ => None,
    };
    let segments = match &before {
        None if index::path_for(&options.db).exists() => {
            Some(refresh_index_warm(&store, &options.db, Access::Mapped, warm)?.0)
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
    for segments in before.into_iter().chain(segments) {
        release(warm, segments);
    }
    // The watcher reports a scan of a few files first and then catches up
    // (`catch_up_index`): the index is not part of what it reports.
    if warm.is_none() || scope.is_none() {
        let mut segments = refresh_index_warm(&store, &options.db, Access::Mapped, warm)?.0;
        // Queries check the chunks they read; a scan of the whole tree checks them all, so
        // damage is healed here rather than found by some later query.
        if scope.is_none()
            && let Err(damage) = segments.verify()
        {
            progress.warn(&format!("{damage}; rebuilt from the catalogue"));
            release(warm, segments);
            segments = rebuild_index_warm(
                &store,
                &options.db,
                Access::Mapped,
                damage.to_string(),
                warm,
            )?
            .0;
        }
        release(warm, segments);
    }
    progress.finish();

    store.set_meta("fingerprint", &fingerprint_key)?;
    // Counting the whole catalogue costs more than a scan of a few paths.
    let (units, patterns) = match scope {
        None => store.unit_and_pattern_counts()?,
        Some(_) => (0, 0),
    };
    let mut skipped = match scope {
        None => store.skipped()?,
        Some(_) => BTreeMap::new(),
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

/// Recreate the catalogue's projections from its event log; returns the events replayed.
pub fn rebuild(db: &Path, waiting: &dyn Fn(&str)) -> Result<u64> {
    if !db.is_file() {
        // Say that there is no catalogue, without making a lock file where there is none.
        Store::open_existing(db)?;
    }
    let _lock = WriteLock::take(db, waiting)?;
    let mut store = Store::open_existing(db)?;
    let events = store.rebuild()?;
    rebuild_index(&store, db, Access::Mapped, "rebuild".to_string())?;
    Ok(events)
}

/// Whether test files take part in a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TestPolicy {
    /// Test files are code like any other.
    #[default]
    Include,
    /// Copies in test files are left out.
    Exclude,
    /// Only copies in test files.
    Only,
}

/// Which clone classes and copies a report shows. The default shows every class except
/// trivial shapes.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Clone types to show; empty shows all.
    pub types: Vec<CloneType>,
    /// Copies less similar to their representative are left out.
    pub min_similarity: Option<f32>,
    pub min_lines: Option<u32>,
    pub min_tokens: Option<u32>,
    /// Languages to show (ids); empty shows all.
    pub langs: Vec<String>,
    /// Only copies whose path matches one of these globs.
    pub paths: Option<GlobSet>,
    pub tests: TestPolicy,
    /// Show trivial shapes (accessors, one-liners, import runs, literal tables) too.
    pub noise: bool,
}

impl Filter {
    fn keeps_member(&self, m: &MemberRow) -> bool {
        (self.noise || m.noise.is_none())
            && self.min_similarity.is_none_or(|min| m.similarity >= min)
            && (self.langs.is_empty() || self.langs.contains(&m.lang))
            && self.paths.as_ref().is_none_or(|g| g.is_match(&m.path))
            && match self.tests {
                TestPolicy::Include => true,
                TestPolicy::Exclude => !discover::is_test_path(&m.path, &m.lang),
                TestPolicy::Only => discover::is_test_path(&m.path, &m.lang),
            }
    }

    fn keeps_class(&self, p: &PatternRow) -> bool {
        p.members.len() >= 2
            && (self.types.is_empty() || self.types.contains(&p.clone_type))
            && self.min_lines.is_none_or(|n| p.lines >= n)
            && self.min_tokens.is_none_or(|n| p.tokens >= n)
    }
}

/// The clone classes a report shows, largest first: every class except those whose copies
/// all lie inside the copies of another class, with overlapping block classes (windows of
/// one copied run of statements) merged into one, and the filter applied.
pub fn reported_patterns(store: &Store, filter: &Filter) -> Result<Vec<PatternRow>> {
    Ok(reported_view(store.patterns()?, filter))
}

/// [`reported_patterns`] of these classes. A class's view depends on the classes that share a
/// file with it (one may cover it, block windows merge), so it is the catalogue's view only
/// when those are among `patterns` too.
pub fn reported_view(patterns: Vec<PatternRow>, filter: &Filter) -> Vec<PatternRow> {
    let spans: Vec<Vec<detect::Span>> = patterns
        .iter()
        .map(|p| {
            p.members
                .iter()
                .map(|m| detect::Span {
                    file: m.file_id,
                    start_byte: m.start_byte,
                    end_byte: m.end_byte,
                })
                .collect()
        })
        .collect();
    let covered = detect::covered(&spans);
    let shown: Vec<PatternRow> = patterns
        .into_iter()
        .zip(covered)
        .filter(|(_, c)| !c)
        .map(|(p, _)| p)
        .collect();
    let mut shown: Vec<PatternRow> = merge_blocks(shown)
        .into_iter()
        .filter_map(|mut p| {
            drop_nested_members(&mut p.members);
            p.members.retain(|m| filter.keeps_member(m));
            if let Some(min) = p.members.iter().map(|m| m.similarity).reduce(f32::min) {
                p.similarity = p.similarity.max(min);
            }
            // Without its near-miss copies a class is what its copies shown are.
            if p.clone_type == CloneType::T3 && p.similarity >= 1.0 {
                let first = p.members.first().map(|m| m.exact);
                p.clone_type = if p.members.iter().all(|m| Some(m.exact) == first) {
                    CloneType::T1
                } else {
                    CloneType::T2
                };
            }
            filter.keeps_class(&p).then_some(p)
        })
        .collect();
    shown.sort_by(|a, b| {
        let weight = |p: &PatternRow| u64::from(p.lines) * p.members.len() as u64;
        weight(b).cmp(&weight(a)).then_with(|| a.id.cmp(&b.id))
    });
    shown
}

/// A lambda or nested function that resembles the function around it is not a copy of it:
/// members lying inside another member of the same class are dropped.
fn drop_nested_members(members: &mut Vec<MemberRow>) {
    let spans: Vec<(i64, u32, u32)> = members
        .iter()
        .map(|m| (m.file_id, m.start_byte, m.end_byte))
        .collect();
    let mut index = 0;
    members.retain(|_| {
        let (file, start, end) = spans[index];
        let inside = spans.iter().enumerate().any(|(j, &(f, s, e))| {
            j != index && f == file && s <= start && end <= e && (s, e) != (start, end)
        });
        index += 1;
        !inside
    });
}

/// Merge block classes that are windows of one longer copied run: same number of copies,
/// the copies pairwise in the same files and overlapping or adjacent. The merged class spans
/// the union and keeps the id of its first window.
fn merge_blocks(patterns: Vec<PatternRow>) -> Vec<PatternRow> {
    let (mut blocks, mut out): (Vec<PatternRow>, Vec<PatternRow>) =
        patterns.into_iter().partition(|p| p.kind == "block");
    let order = |m: &MemberRow| (m.file_id, m.start_line, m.end_line);
    for p in &mut blocks {
        p.members.sort_by_key(order);
    }
    blocks.sort_by_key(|p| p.members.first().map(order));
    let mut merged: Vec<PatternRow> = Vec::new();
    // Open merged runs by their files, newest last.
    let mut open: HashMap<Vec<i64>, Vec<usize>> = HashMap::new();
    for p in blocks {
        let files: Vec<i64> = p.members.iter().map(|m| m.file_id).collect();
        let joins = |q: &PatternRow| {
            q.members
                .iter()
                .zip(&p.members)
                .all(|(a, b)| b.start_line <= a.end_line + 1 && a.start_line <= b.end_line + 1)
        };
        let candidates = open.entry(files).or_default();
        match candidates.iter().rev().find(|&&i| joins(&merged[i])) {
            Some(&i) => {
                let q = &mut merged[i];
                for (a, b) in q.members.iter_mut().zip(&p.members) {
                    if b.end_line > a.end_line {
                        a.end_line = b.end_line;
                        a.end_byte = a.end_byte.max(b.end_byte);
                    }
                    a.tokens = a.tokens.max(b.tokens);
                }
                q.lines = q
                    .members
                    .iter()
                    .map(|m| m.end_line - m.start_line + 1)
                    .max()
                    .unwrap_or(q.lines);
                q.tokens = q.tokens.max(p.tokens);
                q.similarity = q.similarity.min(p.similarity);
                if p.clone_type > q.clone_type {
                    q.clone_type = p.clone_type;
                }
            }
            None => {
                candidates.push(merged.len());
                merged.push(p);
            }
        }
    }
    for p in &mut merged {
        p.members
            .sort_by(|a, b| (&a.path, a.start_line).cmp(&(&b.path, b.start_line)));
    }
    out.extend(merged);
    out
}

/// Per-language figures in [`Stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LanguageStats {
    pub files: u64,
    pub lines: u64,
    pub units: u64,
}

/// What `cpt stats` shows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub schema: &'static str,
    pub root: String,
    pub files: u64,
    pub lines: u64,
    pub units: u64,
    pub patterns: u64,
    pub languages: BTreeMap<String, LanguageStats>,
    pub skipped: BTreeMap<String, u64>,
    pub files_with_syntax_errors: u64,
    pub duplicated_lines: u64,
    pub duplicated_share: f64,
    pub events: u64,
    pub index: IndexStats,
}

/// The index beside the catalogue, for `cpt stats`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IndexStats {
    /// Bytes of the base and the delta segment.
    pub bytes: u64,
    pub units: u64,
    pub delta_units: u64,
    pub bytes_per_unit: f64,
    pub bloom_bits: u64,
    pub bloom_hashes: u32,
    /// The rate the filter was sized for.
    pub bloom_configured_rate: f64,
    /// The rate its actual bits imply.
    pub bloom_expected_rate: f64,
    /// The rate measured on 100,000 fingerprints that are not indexed.
    pub bloom_measured_rate: f64,
}

/// Catalogue statistics, with duplicated lines counted once however many classes cover them.
pub fn stats(store: &Store, db: &Path, warn: &dyn Fn(&str)) -> Result<Stats> {
    let index = with_index(store, db, Access::Mapped, warn, |segments| {
        let base = &segments.base;
        let delta_units = segments.delta.as_ref().map_or(0, Index::units) as u64;
        let bytes = (base.bytes_len() + segments.delta.as_ref().map_or(0, Index::bytes_len)) as u64;
        let (bloom_bits, bloom_hashes) = base.bloom_size();
        Ok(IndexStats {
            bytes,
            units: base.units() as u64,
            delta_units,
            bytes_per_unit: bytes as f64 / (base.units() as u64 + delta_units).max(1) as f64,
            bloom_bits,
            bloom_hashes,
            bloom_configured_rate: index::BLOOM_RATE,
            bloom_expected_rate: base.bloom_expected_rate()?,
            bloom_measured_rate: base.measured_false_positive_rate(100_000)?,
        })
    })?;
    let counts = store.counts()?;
    let patterns = reported_patterns(store, &Filter::default())?;
    let mut ranges: HashMap<i64, Vec<(u32, u32)>> = HashMap::new();
    for member in patterns.iter().flat_map(|p| &p.members) {
        ranges
            .entry(member.file_id)
            .or_default()
            .push((member.start_line, member.end_line));
    }
    let duplicated_lines: u64 = ranges.values_mut().map(|r| detect::union_lines(r)).sum();
    let languages: BTreeMap<String, LanguageStats> = counts
        .languages
        .into_iter()
        .map(|(lang, (files, lines, units))| {
            (
                lang,
                LanguageStats {
                    files,
                    lines,
                    units,
                },
            )
        })
        .collect();
    let lines: u64 = languages.values().map(|l| l.lines).sum();
    Ok(Stats {
        schema: "cpt.stats/1",
        root: store.meta("root")?.unwrap_or_default(),
        files: languages.values().map(|l| l.files).sum(),
        lines,
        units: languages.values().map(|l| l.units).sum(),
        patterns: patterns.len() as u64,
        languages,
        skipped: counts.skipped,
        files_with_syntax_errors: counts.files_with_syntax_errors,
        duplicated_lines,
        duplicated_share: if lines == 0 {
            0.0
        } else {
            duplicated_lines as f64 / lines as f64
        },
        events: counts.events,
        index,
    })
}

#[cfg(test)]
mod report_tests {
    use super::*;

    fn member(file: i64, start_line: u32, end_line: u32) -> MemberRow {
        MemberRow {
            file_id: file,
            path: format!("f{file}.py"),
            lang: "python".into(),
            name: String::new(),
            start_line,
            end_line,
            start_byte: start_line * 100,
            end_byte: end_line * 100 + 99,
            tokens: 60,
            similarity: 1.0,
            noise: None,
            exact: 0,
        }
    }

    #[test]
    fn a_member_inside_another_member_of_its_class_is_dropped() {
        let mut members = vec![member(1, 10, 40), member(1, 20, 30), member(2, 20, 30)];
        drop_nested_members(&mut members);
        assert_eq!(members, [member(1, 10, 40), member(2, 20, 30)]);
    }

    #[test]
    fn a_class_shown_without_its_near_miss_copies_is_never_type_3() {
        let near = MemberRow {
            similarity: 0.8,
            ..member(1, 20, 30)
        };
        let class = |exact: [u64; 2]| PatternRow {
            id: "a".into(),
            kind: "function".into(),
            clone_type: CloneType::T3,
            lines: 30,
            tokens: 60,
            similarity: 0.8,
            members: vec![
                MemberRow {
                    exact: exact[0],
                    ..member(1, 10, 40)
                },
                near.clone(),
                MemberRow {
                    exact: exact[1],
                    ..member(2, 10, 40)
                },
            ],
        };
        let shown = |p: PatternRow| {
            let view = reported_view(vec![p], &Filter::default());
            view.iter()
                .map(|p| (p.clone_type, p.similarity))
                .collect::<Vec<_>>()
        };
        // The near-miss copy lies inside another copy: it is not shown, and what is left is a
        // renamed (or an exact) copy.
        assert_eq!(shown(class([5, 6])), [(CloneType::T2, 1.0)]);
        assert_eq!(shown(class([5, 5])), [(CloneType::T1, 1.0)]);
        let mut apart = class([5, 6]);
        apart.members[1] = MemberRow { file_id: 3, ..near };
        assert_eq!(shown(apart), [(CloneType::T3, 0.8)]);
    }

    fn block(id: &str, members: Vec<MemberRow>) -> PatternRow {
        PatternRow {
            id: id.into(),
            kind: "block".into(),
            clone_type: CloneType::T1,
            lines: 6,
            tokens: 60,
            similarity: 1.0,
            members,
        }
    }

    #[test]
    fn overlapping_windows_of_one_run_merge_and_others_do_not() {
        let merged = merge_blocks(vec![
            block("a", vec![member(1, 10, 15), member(2, 30, 35)]),
            block("b", vec![member(1, 14, 19), member(2, 34, 39)]),
            block("c", vec![member(1, 50, 55), member(2, 70, 75)]),
            block("d", vec![member(1, 14, 19), member(3, 1, 6)]),
        ]);
        let spans: Vec<(String, Vec<(u32, u32)>)> = merged
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    p.members
                        .iter()
                        .map(|m| (m.start_line, m.end_line))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("a".to_string(), vec![(10, 19), (30, 39)]),
                ("d".to_string(), vec![(14, 19), (1, 6)]),
                ("c".to_string(), vec![(50, 55), (70, 75)]),
            ]
        );
    }
}

/// How bringing the index up to date went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexRefresh {
    /// The index already matched the catalogue's last event.
    UpToDate,
    /// A delta segment was written beside the base.
    Delta,
    /// The base was rebuilt from the catalogue, for this reason (naming the file).
    Rebuilt(String),
}

/// Run `read` on the index of `db`, brought up to date first. Chunks are checked when first
/// read, so damage can surface mid-read: then the index is rebuilt from the catalogue, `warn`
/// hears one line, and `read` runs again once. Every command that reads the index goes
/// through here, so each heals it alike.
fn with_index<T>(
    store: &Store,
    db: &Path,
    access: Access,
    warn: &dyn Fn(&str),
    read: impl Fn(&Segments) -> Result<T>,
) -> Result<T> {
    let (segments, how) = match refresh_index(store, db, access) {
        Err(e) if cannot_write_index(&e) => in_memory_index(store, db, &e, warn)?,
        other => other?,
    };
    warn_refresh(db, &how, warn);
    match read(&segments) {
        Err(e) if similar::is_damage(&e) => {
            drop(segments);
            warn(&format!("{e}; rebuilt from the catalogue"));
            let segments = match rebuild_index(store, db, access, e.to_string()) {
                Err(e) if cannot_write_index(&e) => in_memory_index(store, db, &e, warn)?,
                other => other?,
            };
            read(&segments.0)
        }
        other => other,
    }
}

/// Whether bringing the index up to date failed for want of writing it (a full disk, a
/// read-only directory).
fn cannot_write_index(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<index::IndexError>(),
        Some(index::IndexError::Write { .. })
    )
}

/// An index of the catalogue built in memory, for a query that cannot write the index:
/// reading a catalogue needs nothing written. `warn` hears why, in one line.
fn in_memory_index(
    store: &Store,
    db: &Path,
    why: &anyhow::Error,
    warn: &dyn Fn(&str),
) -> Result<(Segments, IndexRefresh)> {
    warn(&format!("{why}; answering from an index built in memory"));
    let bytes = index::build(&store.index_contents(None)?);
    let base = Index::in_memory(&index::path_for(db), &bytes)?;
    let segments = Segments::new(base, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((segments, IndexRefresh::UpToDate))
}

/// Say (in one line) why a query had to bring the index up to date: a scan leaves it up to
/// date, so a query finding it missing, stale or damaged is worth knowing about.
fn warn_refresh(db: &Path, how: &IndexRefresh, warn: &dyn Fn(&str)) {
    let path = index::path_for(db);
    match how {
        IndexRefresh::UpToDate => {}
        IndexRefresh::Delta => warn(&format!(
            "{}: older than the catalogue; brought up to date from it",
            path.display()
        )),
        IndexRefresh::Rebuilt(why) => warn(&format!("{why}; rebuilt from the catalogue")),
    }
}

/// The delta segment beside the index of `db`.
pub fn delta_path(db: &Path) -> PathBuf {
    let mut name = index::path_for(db).into_os_string();
    name.push("-delta");
    PathBuf::from(name)
}

/// What a long-lived process (the watcher) keeps between its scans to make the next one
/// cheap: the last versions of recently changed files, to parse from, and the base index
/// with its pages mapped and its chunks checked (a fresh mapping pays a page fault and a
/// check for every chunk a scan's classification touches).
#[derive(Default)]
pub struct Warm {
    pub recent: Recent,
    base: std::sync::Mutex<Option<Index>>,
    /// The delta segment this process wrote last, as it reads back, with the file written.
    delta: std::sync::Mutex<Option<(index::Prior, index::FileIdentity)>>,
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

    /// The kept base, if it is still the file at `path` and was opened the same way.
    fn take_base(&self, path: &Path, access: Access) -> Option<Index> {
        let mut base = self.base.lock().unwrap_or_else(|p| p.into_inner());
        base.take()
            .filter(|b| b.access() == access && b.is_at(path))
    }

    /// The delta segment kept, if `delta` is still the file it was written to.
    fn take_delta(&self, delta: Option<&Index>) -> Option<index::Prior> {
        let mut kept = self.delta.lock().unwrap_or_else(|p| p.into_inner());
        let (prior, identity) = kept.take()?;
        (delta?.identity() == identity).then_some(prior)
    }

    fn keep_delta(&self, prior: index::Prior, delta: &Index) {
        *self.delta.lock().unwrap_or_else(|p| p.into_inner()) = Some((prior, delta.identity()));
    }

    fn take_store(&self, db: &Path) -> Option<Store> {
        let mut store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        store.take().filter(|s| s.path() == db)
    }

    fn keep_store(&self, store: Store) {
        *self.store.lock().unwrap_or_else(|p| p.into_inner()) = Some(store);
    }

    fn keep_base(&self, segments: Segments) {
        *self.base.lock().unwrap_or_else(|p| p.into_inner()) = Some(segments.base);
    }
}

/// Bring the index up to date after scans with a `Warm` ([`scan_paths`] leaves it behind by
/// its own writes, so that the watcher can report before it writes the index), and keep its
/// base for the next scan.
pub fn catch_up_index(store: &Store, db: &Path, warm: &Warm) -> Result<IndexRefresh> {
    let (segments, how) = refresh_index_warm(store, db, Access::Mapped, Some(warm))?;
    // What the next scan's classification would otherwise find out first, now.
    segments.prepare()?;
    release(Some(warm), segments);
    Ok(how)
}

/// Hand the base of `segments` back to `warm`, if any, for the next scan.
fn release(warm: Option<&Warm>, segments: Segments) {
    if let Some(warm) = warm {
        warm.keep_base(segments);
    }
}

fn open_segments(
    db: &Path,
    access: Access,
    warm: Option<&Warm>,
) -> std::result::Result<Segments, String> {
    let kept = warm.and_then(|w| w.take_base(&index::path_for(db), access));
    let base = match kept {
        Some(base) => Ok(base),
        None => Index::open(&index::path_for(db), access),
    };
    let base = base.map_err(|e| match &e {
        index::IndexError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            format!("{}: no index", index::path_for(db).display())
        }
        _ => e.to_string(),
    })?;
    let delta_path = delta_path(db);
    let delta = match Index::open(&delta_path, access) {
        Ok(d) => Some(d),
        Err(index::IndexError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            None
        }
        Err(e) => return Err(e.to_string()),
    };
    Segments::new(base, delta).map_err(|e| e.to_string())
}

/// Rebuild the index of `db` from the catalogue: a new base, no delta.
pub fn rebuild_index(
    store: &Store,
    db: &Path,
    access: Access,
    why: String,
) -> Result<(Segments, IndexRefresh)> {
    rebuild_index_warm(store, db, access, why, None)
}

fn rebuild_index_warm(
    store: &Store,
    db: &Path,
    access: Access,
    why: String,
    warm: Option<&Warm>,
) -> Result<(Segments, IndexRefresh)> {
    let bytes = index::build(&store.index_contents(None)?);
    index::write_atomically(&index::path_for(db), &bytes, index::Durability::Fsync)?;
    // A delta left behind names the old base and would be refused anyway.
    match std::fs::remove_file(delta_path(db)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("{}: cannot remove", delta_path(db).display()));
        }
        _ => {}
    }
    let segments = open_segments(db, access, warm).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((segments, IndexRefresh::Rebuilt(why)))
}

/// Bring the index beside `db` up to date with the catalogue and open it: nothing to do when
/// it matches the last event; a delta segment over the base when the base is older, unless the
/// delta would pass a fraction of the base; a rebuild when the index is missing, damaged,
/// newer than the catalogue or built with another format.
pub fn refresh_index(store: &Store, db: &Path, access: Access) -> Result<(Segments, IndexRefresh)> {
    refresh_index_warm(store, db, access, None)
}

/// [`refresh_index`], starting from the base `warm` kept open, if any.
fn refresh_index_warm(
    store: &Store,
    db: &Path,
    access: Access,
    warm: Option<&Warm>,
) -> Result<(Segments, IndexRefresh)> {
    let rebuild = |why: String| rebuild_index_warm(store, db, access, why, warm);
    let last = store.last_event()?;
    let segments = match open_segments(db, access, warm) {
        Ok(s) => s,
        Err(why) => return rebuild(why),
    };
    if segments.last_event() == last {
        return Ok((segments, IndexRefresh::UpToDate));
    }
    let base_event = segments.base.last_event;
    if base_event > last {
        let why = format!(
            "{}: newer than the catalogue",
            index::path_for(db).display()
        );
        return rebuild(why);
    }
    let base_units = segments.base.units();
    // A delta ahead of the catalogue (restored from a copy, say), or one that cannot be read
    // back, is no starting point.
    let kept = warm.and_then(|w| w.take_delta(segments.delta.as_ref()));
    let prior = match kept {
        Some(prior) => Some(prior),
        None => segments.prior().ok().flatten(),
    }
    .filter(|p| p.since < last);
    release(warm, segments);
    let contents = store.delta_contents(base_event, prior)?;
    if contents.units.len() * DELTA_FRACTION > base_units.max(1) {
        return rebuild(format!(
            "{}: older than the catalogue by more than a delta segment holds",
            index::path_for(db).display()
        ));
    }
    let bytes = index::build(&contents);
    index::write_atomically(&delta_path(db), &bytes, index::Durability::PageCache)?;
    match open_segments(db, access, warm) {
        Ok(s) => {
            if let (Some(warm), Some(delta)) = (warm, &s.delta) {
                warm.keep_delta(index::Prior::of(contents), delta);
            }
            Ok((s, IndexRefresh::Delta))
        }
        Err(why) => rebuild(why),
    }
}

/// A query for `cpt similar`: units of a file in the catalogue's tree, or code on its own.
pub struct SimilarQuery {
    /// The path shown for the query, relative to the root when it lies inside it.
    pub path: String,
    /// Whether `path` is a file of the catalogue (its own units are left out of the answer).
    pub in_catalogue: bool,
    pub units: Vec<UnitPrint>,
}

/// Where the units of a query came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryFrom {
    /// The catalogue: the file is as the last scan saw it, so it was not parsed again.
    Catalogue,
    /// A parse of the source just now.
    Parse,
}

/// The units to ask about in `source`, code in language `lang_id` that is the file `rel` of
/// the catalogue's tree (None for code outside it): every function-level unit, or with
/// `line` only the innermost function containing that line, whatever its size (the
/// innermost block when no function contains it). A file unchanged since the last scan (its
/// hash as the scan recorded it) is answered from the catalogue's units without parsing.
pub fn query_units(
    store: &Store,
    rel: Option<&str>,
    lang_id: &str,
    source: &[u8],
    thresholds: fingerprint::Thresholds,
    line: Option<u32>,
) -> Result<(Vec<UnitPrint>, QueryFrom)> {
    if let Some(rel) = rel
        && let Some(record) = store.file(rel)?
        && record.file.status == "indexed"
        && record.file.lang == lang_id
        && record.file.hash.0 == fingerprint::hash64(source)
    {
        let (units, small) = store.file_units(record.id, line)?;
        return Ok((pick_query_units(units, small, line), QueryFrom::Catalogue));
    }
    let lang = lang::by_id(lang_id).with_context(|| {
        let known: Vec<&str> = lang::ids().collect();
        format!("unknown language `{lang_id}` (known: {})", known.join(", "))
    })?;
    let tree = crate::parse::parse(lang, source)?;
    let print = fingerprint::fingerprint(lang, &tree, source, thresholds);
    let small = print.small.iter().map(|f| f.to_unit()).collect();
    Ok((pick_query_units(print.units, small, line), QueryFrom::Parse))
}

/// The query units among a file's `units` and its functions below the thresholds (`small`).
fn pick_query_units(
    units: Vec<UnitPrint>,
    small: Vec<UnitPrint>,
    line: Option<u32>,
) -> Vec<UnitPrint> {
    let Some(line) = line else {
        // In source order, outer before inner, whichever order the catalogue added them in.
        let mut functions: Vec<UnitPrint> = units
            .into_iter()
            .filter(|u| u.kind != crate::lang::UnitKind::Block)
            .collect();
        functions.sort_by_key(|u| (u.start_byte, std::cmp::Reverse(u.end_byte)));
        return functions;
    };
    let span = |u: &&UnitPrint| u.end_line - u.start_line;
    let containing = || {
        units
            .iter()
            .chain(&small)
            .filter(move |u| u.start_line <= line && line <= u.end_line)
    };
    // The innermost function; blocks only when no function contains the line (statements at
    // the top level of a script).
    let innermost = containing()
        .filter(|u| u.kind != crate::lang::UnitKind::Block)
        .min_by_key(|u| span(u))
        .or_else(|| containing().min_by_key(|u| span(u)));
    innermost.cloned().into_iter().collect()
}

/// The answer to one query unit.
#[derive(Clone, Debug, Serialize)]
pub struct SimilarAnswer {
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    pub kind: String,
    pub name: String,
    pub matches: Vec<Match>,
}

/// Answer `query` from the index of `db` (brought up to date first). `warn` receives one line
/// when the index had to be rebuilt. A chunk found damaged mid-query is rebuilt and the query
/// asked again once.
pub fn similar(
    store: &Store,
    db: &Path,
    query: &SimilarQuery,
    min_similarity: f64,
    limit: usize,
    warn: &dyn Fn(&str),
) -> Result<Vec<SimilarAnswer>> {
    let _snapshot = store.snapshot()?;
    let params = store.near_params()?;
    let ask = |segments: &Segments| -> Result<Vec<SimilarAnswer>> {
        if segments.delta.is_some()
            && let Some(gone) = store.removed_shapes_since(segments.base.last_event)?
        {
            segments.know_gone(gone)?;
        }
        query
            .units
            .iter()
            .map(|u| {
                let own = Own {
                    path: &query.path,
                    start_line: u.start_line,
                    end_line: u.end_line,
                };
                let own = query.in_catalogue.then_some(&own);
                Ok(SimilarAnswer {
                    path: query.path.clone(),
                    start_line: u.start_line,
                    end_line: u.end_line,
                    kind: u.kind.as_str().to_string(),
                    name: u.name.clone(),
                    matches: similar::similar_to(
                        segments,
                        store,
                        u,
                        own,
                        &params,
                        min_similarity,
                        limit,
                    )?,
                })
            })
            .collect()
    };
    with_index(store, db, Access::Read, warn, ask)
}
