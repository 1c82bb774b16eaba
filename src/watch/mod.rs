//! Watch: keep the catalogue up to date while files change, and say what changed.
//!
//! File-system events come through notify, and the watcher gathers them into batches itself
//! (see [`watch`]). [`classify`] decides what one event means — a source file, a change of
//! the tree (a directory, a file of no known language), the configuration or ignore files,
//! `cpt`'s own catalogue, or nothing — and a batch that holds anything besides the last two
//! brings the catalogue up to date with an incremental scan, which re-reads only files whose
//! size or modification time moved. Pure [`diff`] compares the reported classes before and after and
//! names what changed: a new clone, a clone resolved, a class grown or shrunk.

mod classes;
mod events;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};

use crate::config::{self, ScanConfig, Settings};
use crate::engine::{self, IndexRefresh, ScanOptions, ScanSummary, Warm};
use crate::store::{PatternRow, Store};

pub use classes::{Classes, Update, diff};
pub use events::{Change, classify};

/// How soon a failed batch is tried again.
const RETRY: Duration = Duration::from_secs(1);
/// Longest a batch gathers events that keep coming (a long `git checkout`, say) before it is
/// applied; the rest make the next batch.
const MAX_GATHER: Duration = Duration::from_secs(1);
/// The scans of a watch session leave checkpoints of the write-ahead log to the watcher,
/// which copies the log into the database once nothing has changed for this long...
const IDLE_CHECKPOINT: Duration = Duration::from_millis(500);
/// ...or, while changes keep coming, after this many batches.
const CHECKPOINT_EVERY: u32 = 200;

/// What the watcher tells its caller.
pub enum Report<'a> {
    /// The first scan is done and events are being watched.
    Ready {
        root: &'a Path,
        summary: &'a ScanSummary,
        classes: &'a BTreeMap<String, PatternRow>,
    },
    /// A batch of changes was applied.
    Applied {
        updates: &'a [Update],
        /// The scan that applied them (of the files the batch named, or the whole tree).
        summary: &'a ScanSummary,
        classes: &'a BTreeMap<String, PatternRow>,
        /// From the first event of the batch to the catalogue being up to date.
        elapsed: Duration,
    },
    /// A batch could not be applied (the next one retries); one line.
    Failed(String),
}

pub struct WatchOptions {
    pub root: PathBuf,
    pub db: PathBuf,
    /// Settings from the command line; `cpt.toml` is read again whenever it changes.
    pub flags: ScanConfig,
    /// Quiet time after an event before the batch is applied.
    pub debounce: Duration,
}

/// Messages to the watch loop.
pub enum Message {
    /// One file-system event, or the watcher's error, and when it arrived.
    Event(notify::Result<notify::Event>, Instant),
    Stop,
}

/// The changes one batch applies.
#[derive(Default)]
struct Batch {
    /// Source files named (relative paths).
    paths: BTreeSet<String>,
    /// The whole tree must be scanned.
    whole: bool,
    /// When the first change that matters arrived.
    first: Option<Instant>,
}

/// Scan, then apply every batch of file-system events until `Message::Stop` arrives on
/// `inbox` (whose sender the caller keeps, for a signal handler). `report` hears about each
/// batch.
pub fn watch(
    options: &WatchOptions,
    inbox: (mpsc::Sender<Message>, mpsc::Receiver<Message>),
    report: &mut dyn FnMut(Report<'_>) -> Result<()>,
) -> Result<()> {
    let (sender, receiver) = inbox;
    let root = options
        .root
        .canonicalize()
        .with_context(|| format!("{}: cannot watch", options.root.display()))?;
    let settings = || -> Result<Settings> {
        let file = config::load(&root)?;
        Ok(Settings::resolve(file.scan, options.flags.clone()))
    };
    // Watch before the first scan: what is saved while it runs (seconds on a large tree)
    // queues as events and is applied as soon as it ends, instead of being missed.
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = sender.send(Message::Event(event, Instant::now()));
    })
    .context("cannot start watching the file system")?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .with_context(|| format!("{}: cannot watch", root.display()))?;
    let warm = Warm::new();
    let summary = engine::rescan(
        &ScanOptions {
            root: root.clone(),
            db: options.db.clone(),
            settings: settings()?,
        },
        &warm,
        &engine::Silent,
    )?;
    let db = options
        .db
        .canonicalize()
        .with_context(|| format!("{}: cannot open", options.db.display()))?;
    let own = db.parent().map_or_else(|| db.clone(), Path::to_path_buf);
    // One connection for the watcher's life, to read classes and write the index (its scans
    // keep another in `warm`), and to checkpoint the write-ahead log.
    let store = Store::open_existing(&db)?;
    store.keep_open(false)?;
    store.checkpoint()?;
    let mut classes = Classes::load(&store)?;
    // Scan the whole tree, or only the files a batch names, and catch up with the classes.
    let apply =
        |classes: &mut Classes, scope: Option<&[String]>| -> Result<(Vec<Update>, ScanSummary)> {
            let scan_options = ScanOptions {
                root: root.clone(),
                db: db.clone(),
                settings: settings()?,
            };
            let seq = store.last_event()?;
            // Settings that changed since the last scan (flags of another `cpt scan`) make a
            // scan of a few files one of the whole tree.
            let key = scan_options.settings.fingerprint_key();
            let same = store.meta("fingerprint")?.as_deref() == Some(key.as_str());
            match scope.filter(|_| same) {
                Some(paths) => {
                    let summary =
                        engine::scan_paths(&scan_options, paths, Some(&warm), &engine::Silent)?;
                    Ok((classes.update(&store, seq, paths)?, summary))
                }
                None => {
                    let summary = engine::rescan(&scan_options, &warm, &engine::Silent)?;
                    store.checkpoint()?;
                    Ok((classes.reload(&store)?, summary))
                }
            }
        };
    report(Report::Ready {
        root: &root,
        summary: &summary,
        classes: classes.shown(),
    })?;
    // After a batch failed (the catalogue locked by another writer, say), the whole tree is
    // scanned again within a second, event or not: the failed batch's files are not lost.
    let mut failed = false;
    // Batches written since the last checkpoint.
    let mut unsynced = 0u32;
    let checkpoint = |unsynced: &mut u32, report: &mut dyn FnMut(Report<'_>) -> Result<()>| {
        *unsynced = 0;
        crate::sys::release_free_memory();
        match store.checkpoint() {
            Ok(()) => Ok(()),
            Err(e) => report(Report::Failed(e.to_string())),
        }
    };
    'batches: loop {
        // Debounce: block until a change that matters, then gather until `debounce` passes
        // without another (events of ignored paths and of the catalogue itself do not count).
        // No timer runs while nothing changes.
        let mut batch = Batch {
            whole: failed,
            ..Batch::default()
        };
        let retry_at = failed.then(|| Instant::now() + RETRY);
        let checkpoint_at = (unsynced > 0).then(|| Instant::now() + IDLE_CHECKPOINT);
        // When the last change that matters arrived: events that queued while the last batch
        // was applied have waited part of their quiet time already.
        let mut last: Option<Instant> = None;
        loop {
            let wait = match (batch.first, last) {
                (Some(first), Some(last)) => Some(
                    (last + options.debounce)
                        .min(first + MAX_GATHER)
                        .saturating_duration_since(Instant::now()),
                ),
                _ => retry_at
                    .or(checkpoint_at.filter(|_| unsynced > 0))
                    .map(|at| at.saturating_duration_since(Instant::now())),
            };
            let message = match wait {
                None => receiver.recv().ok(),
                Some(wait) => match receiver.recv_timeout(wait) {
                    Ok(message) => Some(message),
                    // Quiet since the last batch: time to checkpoint, then wait again.
                    Err(mpsc::RecvTimeoutError::Timeout)
                        if batch.first.is_none() && retry_at.is_none() =>
                    {
                        checkpoint(&mut unsynced, report)?;
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => None,
                },
            };
            let (event, at) = match message {
                None | Some(Message::Stop) => break 'batches,
                Some(Message::Event(event, at)) => (event, at),
            };
            let matters = match event {
                // The watcher lost track (a queue overflow, say): only a scan can tell.
                Ok(event) if event.need_rescan() => {
                    batch.whole = true;
                    true
                }
                Ok(event) => {
                    let mut matters = false;
                    for path in &event.paths {
                        match classify(&root, &own, path, &event.kind) {
                            Change::Source(path) => {
                                batch.paths.insert(path);
                                matters = true;
                            }
                            Change::Tree | Change::Config => {
                                batch.whole = true;
                                matters = true;
                            }
                            Change::Own | Change::Ignored => {}
                        }
                    }
                    matters
                }
                Err(e) => {
                    report(Report::Failed(format!("watcher: {e}")))?;
                    batch.whole = true;
                    true
                }
            };
            if matters {
                batch.first.get_or_insert(at);
                last = Some(at);
            }
        }
        let first = batch.first;
        let whole = batch.whole;
        let paths: Vec<String> = batch.paths.into_iter().collect();
        let scope = (!whole).then_some(paths.as_slice());
        match apply(&mut classes, scope) {
            Ok((updates, summary)) => {
                failed = false;
                let elapsed = first.map_or(Duration::ZERO, |t| Instant::now() - t);
                report(Report::Applied {
                    updates: &updates,
                    summary: &summary,
                    classes: classes.shown(),
                    elapsed,
                })?;
                // The index follows once the batch is reported (a scan of the whole tree
                // brought it up to date itself). Should it fail, the next scan writes it
                // before classifying.
                if scope.is_some() {
                    match engine::catch_up_index(&store, &db, &warm) {
                        Ok(IndexRefresh::Rebuilt(_)) => crate::sys::release_free_memory(),
                        Ok(_) => {}
                        Err(e) => report(Report::Failed(crate::sys::one_line(&e)))?,
                    }
                    unsynced += 1;
                    if unsynced >= CHECKPOINT_EVERY {
                        checkpoint(&mut unsynced, report)?;
                    }
                }
            }
            Err(e) => {
                failed = true;
                report(Report::Failed(crate::sys::one_line(&e)))?;
            }
        }
    }
    Ok(())
}
