//! Watch: keep the catalogue up to date while files change, and say what changed.
//!
//! File-system events come through notify, and the watcher gathers them into batches itself
//! (see [`watch`]). [`classify`] decides what one event means — a source file, a change of
//! the tree (a directory, a file of no known language), the configuration or ignore files,
//! `cpt`'s own catalogue, or nothing — and a batch that holds anything besides the last two
//! brings the catalogue up to date with an incremental scan, which re-reads only files whose
//! size or modification time moved. Pure [`diff`] compares the reported classes before and after and
//! names what changed: a new clone, a clone resolved, a class grown or shrunk.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use notify::event::{EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};

use crate::config::{self, ScanConfig, Settings};
use crate::engine::{self, Filter, IndexRefresh, ScanOptions, ScanSummary, Warm};
use crate::store::{MemberRow, PatternRow, Store};

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

/// What one file-system event means for the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A file of a known language (relative path) was written, created, removed or renamed.
    Source(String),
    /// Something that may add or remove source files: a directory, or a path of no known
    /// language that was removed or renamed (it may have been a directory).
    Tree,
    /// `cpt.toml` or an ignore file (`.gitignore`, `.ignore`, `.git/info/exclude`).
    Config,
    /// The catalogue's own files.
    Own,
    /// Nothing the catalogue depends on: reads, hidden files, files of no known language.
    Ignored,
}

/// What `kind` on `path` means, for a tree at `root` whose catalogue lives in `own` (both
/// canonical).
pub fn classify(root: &Path, own: &Path, path: &Path, kind: &EventKind) -> Change {
    if matches!(kind, EventKind::Access(_)) {
        return Change::Ignored;
    }
    if path.starts_with(own) {
        return Change::Own;
    }
    let Ok(rel) = path.strip_prefix(root) else {
        return Change::Ignored;
    };
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if rel == Path::new(config::FILE_NAME)
        || name == ".gitignore"
        || name == ".ignore"
        || rel == Path::new(".git/info/exclude")
    {
        return Change::Config;
    }
    // The walk skips hidden files and directories (`.git`, editors' swap files).
    if rel
        .components()
        .any(|c| c.as_os_str().to_str().is_some_and(|s| s.starts_with('.')))
    {
        return Change::Ignored;
    }
    if crate::parse::lang::for_path(rel).is_some() {
        return match rel.to_str() {
            Some(s) => Change::Source(s.replace(std::path::MAIN_SEPARATOR, "/")),
            None => Change::Tree,
        };
    }
    let gone = matches!(
        kind,
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
    );
    if path.is_dir() || (gone && !path.exists()) || matches!(kind, EventKind::Any) {
        return Change::Tree;
    }
    Change::Ignored
}

/// A change in the reported clone classes.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// A class that was not there before.
    New(PatternRow),
    /// A class that is gone, as it was.
    Resolved(PatternRow),
    /// A class with copies added (and perhaps some removed), as it is now.
    Grew {
        pattern: PatternRow,
        added: Vec<MemberRow>,
        removed: Vec<MemberRow>,
    },
    /// A class with copies removed only, as it is now.
    Shrank {
        pattern: PatternRow,
        removed: Vec<MemberRow>,
    },
}

/// A copy's identity across edits: its file and name (lines move when code above them does),
/// with a count for same-named copies in one file.
fn member_keys(members: &[MemberRow]) -> Vec<(&str, &str, usize)> {
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    members
        .iter()
        .map(|m| {
            let n = seen.entry((m.path.as_str(), m.name.as_str())).or_default();
            *n += 1;
            (m.path.as_str(), m.name.as_str(), *n)
        })
        .collect()
}

/// What changed from `before` to `after` (classes by id): new classes, resolved ones, and
/// classes whose copies changed. Classes whose copies only moved within their files are not
/// a change.
pub fn diff(
    before: &BTreeMap<String, PatternRow>,
    after: &BTreeMap<String, PatternRow>,
) -> Vec<Update> {
    let mut out = Vec::new();
    for (id, old) in before {
        if !after.contains_key(id) {
            out.push(Update::Resolved(old.clone()));
        }
    }
    for (id, new) in after {
        let Some(old) = before.get(id) else {
            out.push(Update::New(new.clone()));
            continue;
        };
        let (old_keys, new_keys) = (member_keys(&old.members), member_keys(&new.members));
        let added: Vec<MemberRow> = new
            .members
            .iter()
            .zip(&new_keys)
            .filter(|(_, k)| !old_keys.contains(k))
            .map(|(m, _)| m.clone())
            .collect();
        let removed: Vec<MemberRow> = old
            .members
            .iter()
            .zip(&old_keys)
            .filter(|(_, k)| !new_keys.contains(k))
            .map(|(m, _)| m.clone())
            .collect();
        if !added.is_empty() {
            out.push(Update::Grew {
                pattern: new.clone(),
                added,
                removed,
            });
        } else if !removed.is_empty() {
            out.push(Update::Shrank {
                pattern: new.clone(),
                removed,
            });
        }
    }
    out
}

/// The reported classes, kept up to date after each batch by reading only the classes the
/// batch can have changed.
///
/// A batch changes the classes its pattern events name, and the copies (their lines) in the
/// files it read. Let `F` be those files and every file of those classes, before and after.
/// A class with no copy in `F` is reported as before: its copies did not change, and neither
/// did any class that shares a file with it (such a class has every copy in `F`). A class
/// with a copy in `F` is reported from the classes with a copy in `F` alone: what its view
/// depends on beyond itself — a class covering all its copies, block windows it merges with —
/// has a copy in each of its files, so in `F` too.
#[derive(Default)]
pub struct Classes {
    /// The reported classes, by id.
    shown: BTreeMap<String, PatternRow>,
    /// Every class's files (of all its copies, trivial ones included), by class id.
    files_of: HashMap<String, Vec<String>>,
    /// The inverse: class ids by file.
    in_file: HashMap<String, HashSet<String>>,
}

impl Classes {
    /// Every class of the catalogue.
    pub fn load(store: &Store) -> Result<Classes> {
        let _snapshot = store.snapshot()?;
        let patterns = store.patterns()?;
        let mut classes = Classes::default();
        for p in &patterns {
            classes.remember(p);
        }
        classes.shown = by_id(engine::reported_view(patterns, &Filter::default()));
        Ok(classes)
    }

    /// The reported classes, by id.
    pub fn shown(&self) -> &BTreeMap<String, PatternRow> {
        &self.shown
    }

    /// Catch up with a scan that read `paths` (and nothing else) and appended the events after
    /// `seq`; returns what changed.
    pub fn update(&mut self, store: &Store, seq: i64, paths: &[String]) -> Result<Vec<Update>> {
        let _snapshot = store.snapshot()?;
        let changed = store.patterns_changed_since(seq)?;
        let mut files: HashSet<String> = paths.iter().cloned().collect();
        for id in &changed {
            files.extend(self.files_of.get(id).into_iter().flatten().cloned());
        }
        for p in store.patterns_among(&changed)? {
            files.extend(p.members.into_iter().map(|m| m.path));
        }
        let touching = store.patterns_touching(&files.iter().cloned().collect::<Vec<_>>())?;
        let affected: HashSet<String> = touching.iter().map(|p| p.id.clone()).collect();
        let after = by_id(engine::reported_view(touching.clone(), &Filter::default()));
        let mut was: HashSet<String> = files
            .iter()
            .flat_map(|f| self.in_file.get(f).into_iter().flatten().cloned())
            .collect();
        was.extend(affected.iter().cloned());
        let before: BTreeMap<String, PatternRow> = was
            .iter()
            .filter_map(|id| self.shown.remove_entry(id))
            .collect();
        let updates = diff(&before, &after);
        for id in &was {
            self.forget(id);
        }
        for p in &touching {
            self.remember(p);
        }
        self.shown.extend(after);
        Ok(updates)
    }

    /// Catch up with anything (a scan of the whole tree); returns what changed.
    pub fn reload(&mut self, store: &Store) -> Result<Vec<Update>> {
        let now = Classes::load(store)?;
        let updates = diff(&self.shown, &now.shown);
        *self = now;
        Ok(updates)
    }

    fn remember(&mut self, p: &PatternRow) {
        let mut files: Vec<String> = p.members.iter().map(|m| m.path.clone()).collect();
        files.sort_unstable();
        files.dedup();
        for f in &files {
            self.in_file
                .entry(f.clone())
                .or_default()
                .insert(p.id.clone());
        }
        self.files_of.insert(p.id.clone(), files);
    }

    fn forget(&mut self, id: &str) {
        for f in self.files_of.remove(id).into_iter().flatten() {
            if let Some(ids) = self.in_file.get_mut(&f) {
                ids.remove(id);
                if ids.is_empty() {
                    self.in_file.remove(&f);
                }
            }
        }
    }
}

fn by_id(patterns: Vec<PatternRow>) -> BTreeMap<String, PatternRow> {
    patterns.into_iter().map(|p| (p.id.clone(), p)).collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, RemoveKind, RenameMode};

    fn member(path: &str, name: &str, line: u32) -> MemberRow {
        MemberRow {
            file_id: 1,
            path: path.to_string(),
            lang: "python".to_string(),
            name: name.to_string(),
            start_line: line,
            end_line: line + 9,
            start_byte: 0,
            end_byte: 100,
            tokens: 60,
            similarity: 1.0,
            noise: None,
            exact: 0,
        }
    }

    fn class(id: &str, members: Vec<MemberRow>) -> (String, PatternRow) {
        (
            id.to_string(),
            PatternRow {
                id: id.to_string(),
                kind: "function".to_string(),
                clone_type: crate::event::CloneType::T1,
                lines: 10,
                tokens: 60,
                similarity: 1.0,
                members,
            },
        )
    }

    #[test]
    fn events_are_classified_by_what_they_touch() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let own = root.join(".cpt");
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        let write = EventKind::Modify(ModifyKind::Any);
        let remove = EventKind::Remove(RemoveKind::Any);
        let at = |p: &str| root.join(p);
        assert_eq!(
            classify(&root, &own, &at("pkg/a.py"), &write),
            Change::Source("pkg/a.py".to_string())
        );
        assert_eq!(
            classify(&root, &own, &at("pkg/a.py"), &remove),
            Change::Source("pkg/a.py".to_string())
        );
        assert_eq!(
            classify(
                &root,
                &own,
                &at("b.rs"),
                &EventKind::Create(CreateKind::File)
            ),
            Change::Source("b.rs".to_string())
        );
        assert_eq!(
            classify(
                &root,
                &own,
                &at("pkg/a.py"),
                &EventKind::Access(AccessKind::Any)
            ),
            Change::Ignored
        );
        assert_eq!(
            classify(&root, &own, &at("cpt.toml"), &write),
            Change::Config
        );
        assert_eq!(
            classify(&root, &own, &at("pkg/.gitignore"), &write),
            Change::Config
        );
        assert_eq!(
            classify(&root, &own, &at(".git/info/exclude"), &write),
            Change::Config
        );
        assert_eq!(
            classify(&root, &own, &at(".cpt/cpt.db-wal"), &write),
            Change::Own
        );
        assert_eq!(
            classify(&root, &own, &at(".git/index"), &write),
            Change::Ignored
        );
        assert_eq!(
            classify(&root, &own, &at("pkg/.a.py.swp"), &write),
            Change::Ignored
        );
        assert_eq!(
            classify(&root, &own, &at("notes.txt"), &write),
            Change::Ignored
        );
        // A directory, or a vanished path that may have been one, changes the tree.
        assert_eq!(
            classify(
                &root,
                &own,
                &at("pkg"),
                &EventKind::Create(CreateKind::Folder)
            ),
            Change::Tree
        );
        assert_eq!(classify(&root, &own, &at("gone"), &remove), Change::Tree);
        let renamed_away = EventKind::Modify(ModifyKind::Name(RenameMode::From));
        assert_eq!(
            classify(&root, &own, &at("olddir"), &renamed_away),
            Change::Tree
        );
        // Outside the root.
        assert_eq!(
            classify(&root, &own, Path::new("/elsewhere/a.py"), &write),
            Change::Ignored
        );
    }

    #[test]
    fn a_diff_names_new_resolved_grown_and_shrunk_classes() {
        let before: BTreeMap<String, PatternRow> = [
            class("a", vec![member("x.py", "f", 1), member("y.py", "f", 1)]),
            class("b", vec![member("x.py", "g", 20), member("y.py", "g", 20)]),
            class(
                "c",
                vec![
                    member("x.py", "h", 40),
                    member("y.py", "h", 40),
                    member("z.py", "h", 1),
                ],
            ),
            class("d", vec![member("x.py", "k", 60), member("y.py", "k", 60)]),
        ]
        .into();
        let after: BTreeMap<String, PatternRow> = [
            // Moved down by an edit above it: no change.
            class("a", vec![member("x.py", "f", 5), member("y.py", "f", 1)]),
            // Grew by a copy.
            class(
                "b",
                vec![
                    member("x.py", "g", 20),
                    member("y.py", "g", 20),
                    member("w.py", "g", 1),
                ],
            ),
            // Lost a copy.
            class("c", vec![member("x.py", "h", 40), member("y.py", "h", 40)]),
            // New.
            class("e", vec![member("x.py", "m", 80), member("v.py", "m", 1)]),
        ]
        .into();
        let updates = diff(&before, &after);
        let names: Vec<String> = updates
            .iter()
            .map(|u| match u {
                Update::New(p) => format!("new {}", p.id),
                Update::Resolved(p) => format!("resolved {}", p.id),
                Update::Grew { pattern, added, .. } => {
                    format!("grew {} +{}", pattern.id, added[0].path)
                }
                Update::Shrank { pattern, removed } => {
                    format!("shrank {} -{}", pattern.id, removed[0].path)
                }
            })
            .collect();
        assert_eq!(
            names,
            ["resolved d", "grew b +w.py", "shrank c -z.py", "new e"]
        );
        assert!(diff(&after, &after).is_empty());
    }
}
