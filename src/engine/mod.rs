//! Engine: the one API every front end uses. Everything that is not a front end (scanning,
//! the catalogue, detection, the index) is reached through [`Catalogue`] and returns the plain
//! types of [`view`]; front ends never see SQL rows or index segments.

pub mod accept;
pub mod check;
pub mod classes;
pub mod git;
pub mod history;
pub mod similar;
pub mod stats;
pub mod table;
pub mod view;

pub use similar::{SimilarRequest, SimilarTarget};

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use crate::config::ScanConfig as ScanFlags;
use crate::config::{self, ReportConfig, ScanConfig, Settings};
use crate::index::Access;
use crate::index::refresh::rebuild_index;
use crate::scan;
pub use crate::scan::{Progress, Silent};
use crate::store::{Store, WriteLock};
use view::{Class, ClassEvent, Filter, PatternId, ScanSummary, SimilarAnswer, Stats};

/// A scan to run: the tree, its catalogue (default: `ROOT/.cpt/cpt.db`) and the settings given
/// on the command line (the root's `cpt.toml` fills in the rest).
#[derive(Clone, Debug, Default)]
pub struct ScanRequest {
    pub root: PathBuf,
    pub db: Option<PathBuf>,
    pub flags: ScanConfig,
}

impl ScanRequest {
    pub fn db(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(|| scan::default_db(&self.root))
    }

    /// The scan's settings: these flags over the root's `cpt.toml`.
    fn options(&self) -> Result<scan::ScanOptions> {
        let file = config::load(&self.root)?;
        Ok(scan::ScanOptions {
            db: self.db(),
            settings: Settings::resolve(file.scan, self.flags.clone()),
            root: self.root.clone(),
        })
    }
}

/// A catalogue opened for reading: every query a front end asks goes through it.
pub struct Catalogue {
    store: Store,
    db: PathBuf,
    root: PathBuf,
    /// The last versions of the editor buffers asked about, to parse the next from.
    buffers: scan::reparse::Recent,
}

impl Catalogue {
    /// The catalogue at `db`, or else the nearest one at or above the current directory.
    pub fn locate(db: Option<&Path>) -> Result<PathBuf> {
        if let Some(db) = db {
            return Ok(db.to_path_buf());
        }
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        scan::find_db(&cwd).with_context(|| {
            format!(
                "no catalogue in {} or its parents; run `cpt scan [PATH]` first (or pass --db)",
                cwd.display()
            )
        })
    }

    /// Open the catalogue at `db` for reading (read-only when this user cannot write it).
    pub fn open(db: &Path) -> Result<Catalogue> {
        let store = Store::open_for_reading(db)?;
        let root = PathBuf::from(store.meta("root")?.unwrap_or_default());
        Ok(Catalogue {
            store,
            db: db.to_path_buf(),
            root,
            buffers: scan::reparse::Recent::new(),
        })
    }

    /// Scan `request.root` into its catalogue: the files changed since the last scan are
    /// read again, the rest is trusted.
    pub fn scan(request: &ScanRequest, progress: &dyn Progress) -> Result<ScanSummary> {
        scan::scan(&request.options()?, progress)
    }

    /// Bring the catalogue of `request.root` up to date with changes to these files only
    /// (relative to the root, `/`-separated), as a scan of the whole tree would; the summary
    /// counts only them. For an editor that knows which files it saved.
    pub fn scan_paths(
        request: &ScanRequest,
        paths: &[String],
        progress: &dyn Progress,
    ) -> Result<ScanSummary> {
        scan::scan_paths(&request.options()?, paths, None, progress)
    }

    /// Recreate the catalogue's projections from its event log, and its index; returns the
    /// events replayed. `waiting` hears (once) that another process holds the catalogue.
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

    pub fn db(&self) -> &Path {
        &self.db
    }

    /// The scanned tree's root, as the last scan recorded it (empty when never scanned).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `[report]` table of the root's `cpt.toml` (defaults when there is none).
    pub fn report_config(&self) -> Result<ReportConfig> {
        if self.root.as_os_str().is_empty() {
            return Ok(ReportConfig::default());
        }
        Ok(config::load(&self.root)?.report)
    }

    /// `cpt check`'s gates as the root's `cpt.toml` sets them ([`check::configured`]).
    pub fn configured_check(&self) -> Result<check::CheckRequest> {
        check::configured(&self.root)
    }

    /// The clone classes a report shows, largest first (see [`classes::reported_view`]), those
    /// accepted as they are marked.
    pub fn classes(&self, filter: &Filter) -> Result<Vec<Class>> {
        let rows = classes::reported_patterns(&self.store, filter)?;
        let mut classes: Vec<Class> = rows.iter().map(Class::from).collect();
        accept::mark(&mut classes, &accept::all(&self.store, &self.root)?);
        Ok(classes)
    }

    /// The class `id` names (its 16 hex digits or a unique prefix of at least 4), noise
    /// included.
    pub fn find_class(&self, id: &str) -> Result<Class> {
        let classes = self.classes(&Filter {
            noise: true,
            ..Filter::default()
        })?;
        accept::find(&classes, id).cloned()
    }

    /// The events of the catalogue's log that name class `id`, oldest first.
    pub fn history(&self, id: PatternId) -> Result<Vec<ClassEvent>> {
        Ok(history::class_history(&self.store, &id.to_string(), false)?.1)
    }

    /// The life of the class `id` names (16 hex digits or a unique prefix of at least 4, a
    /// dissolved class's too): its full id, and its events with the files of the copies each
    /// names.
    pub fn class_history(&self, id: &str) -> Result<(PatternId, Vec<ClassEvent>)> {
        let (id, events) = history::class_history(&self.store, id, true)?;
        Ok((id.parse().unwrap_or(PatternId(0)), events))
    }

    /// Stream the log's events that `request` selects into `sink`, one at a time.
    pub fn log(
        &self,
        request: &history::LogRequest,
        sink: &mut dyn FnMut(&view::LogEntry) -> Result<()>,
    ) -> Result<()> {
        history::log(&self.store, &self.root, request, sink)
    }

    /// The catalogue as it was at `at` (a date, an RFC 3339 time, `scan:N` or a commit),
    /// replayed from its log.
    pub fn at(&self, at: &str) -> Result<history::Past> {
        self.as_it_was("--at", at)
    }

    /// [`Catalogue::at`] for a point the option `flag` names (its errors say so).
    pub fn as_it_was(&self, flag: &str, when: &str) -> Result<history::Past> {
        let scans = history::Scans::read(&self.store)?;
        let point = history::Point::parse(flag, when)?;
        let to = history::until(&self.store, &scans, &self.root, flag, &point)?;
        history::Past::replay(&self.store, to)
    }

    /// [`Catalogue::classes`] of the catalogue as it was (see [`Catalogue::at`]); acceptances
    /// from its log then and the root's `cpt-accepted.toml` now.
    pub fn classes_at(&self, past: &history::Past, filter: &Filter) -> Result<Vec<Class>> {
        let rows = classes::reported_view(past.patterns(&self.store)?, filter);
        let mut classes: Vec<Class> = rows.iter().map(Class::from).collect();
        accept::mark(
            &mut classes,
            &accept::in_force(past.accepted(), &self.root)?,
        );
        Ok(classes)
    }

    /// [`Catalogue::stats`] of the catalogue as it was; the index's figures are those of the
    /// index as it is.
    pub fn stats_at(&self, past: &history::Past, warn: &dyn Fn(&str)) -> Result<Stats> {
        let patterns = classes::reported_view(past.patterns(&self.store)?, &Filter::default());
        stats::stats_of(&self.store, &self.db, past.counts(), &patterns, warn)
    }

    /// Whether the last scan saw the file `rel` (relative to the root, `/`-separated), indexed
    /// or skipped.
    pub fn has_file(&self, rel: &str) -> Result<bool> {
        Ok(self.store.has_file(rel)?)
    }

    /// Apply `cpt check`'s gates to the catalogue as it stands.
    pub fn check(&self, request: &check::CheckRequest) -> Result<check::CheckReport> {
        let classes = self.classes(&request.filter)?;
        let lines = self.store.counts()?.languages.values().map(|l| l.1).sum();
        check::check(&self.root, classes, lines, request)
    }

    /// Accept the class `id` (its 16 hex digits or a unique prefix) as it is: recorded in the
    /// log of the catalogue at `db` and in the root's `cpt-accepted.toml`.
    pub fn accept(db: &Path, id: &str, reason: &str) -> Result<accept::Acceptance> {
        let catalogue = Catalogue::open(db)?;
        let root = catalogue.writable_root()?;
        let classes = catalogue.classes(&Filter {
            noise: true,
            ..Filter::default()
        })?;
        let class = accept::find(&classes, id)?;
        let mut store = Store::open_existing(db)?;
        accept::accept(&mut store, &root, class, reason)
    }

    /// Withdraw the acceptance of class `id` (16 hex digits).
    pub fn unaccept(db: &Path, id: &str) -> Result<()> {
        let root = Catalogue::open(db)?.writable_root()?;
        let mut store = Store::open_existing(db)?;
        accept::unaccept(&mut store, &root, id)
    }

    /// The root, which a decision's file goes in: an error when the catalogue was never
    /// scanned.
    fn writable_root(&self) -> Result<PathBuf> {
        if self.root.as_os_str().is_empty() {
            anyhow::bail!(
                "{}: the catalogue has not been scanned yet; run `cpt scan` first",
                self.db.display()
            );
        }
        Ok(self.root.clone())
    }

    /// The catalogue's figures and its index's; `warn` hears why the index had to be brought
    /// up to date, if it had.
    pub fn stats(&self, warn: &dyn Fn(&str)) -> Result<Stats> {
        stats::stats(&self.store, &self.db, warn)
    }

    /// The periodic table of the catalogue's patterns: as it is, or as it was at
    /// `request.at` (see [`Catalogue::at`]). Its trends compare with the catalogue as it was
    /// at `request.since`, or without one say what the last scan did.
    pub fn table(&self, request: &table::TableRequest) -> Result<view::Table> {
        let at = request.at.as_deref().map(|w| self.at(w)).transpose()?;
        let since = (request.since.as_deref())
            .map(|w| self.as_it_was("--since", w))
            .transpose()?;
        let (at, since) = (at.as_ref(), since.as_ref());
        if let Some(since) = since
            && since.events() > at.map_or(u64::MAX, history::Past::events)
        {
            anyhow::bail!(
                "--since {}: that is after the table's point (--at {}); trends compare with an earlier one",
                request.since.as_deref().unwrap_or_default(),
                request.at.as_deref().unwrap_or("now")
            );
        }
        let min_files = table::min_files(request);
        let scans = history::Scans::read(&self.store)?;
        let contents = |past: Option<&history::Past>| -> Result<table::Contents> {
            Ok(match past {
                Some(past) => table::Contents {
                    patterns: past.patterns(&self.store)?,
                    idioms: past.idiom_instances(min_files),
                    counts: past.counts(),
                    changes: past.last_scan_changes(),
                    texts: table::Texts::Then {
                        hashes: past.file_hashes(),
                        commit: scans.commit(past.last_scan()).map(str::to_string),
                    },
                },
                None => table::Contents {
                    patterns: self.store.patterns()?,
                    idioms: self.store.idiom_instances(min_files)?,
                    counts: self.store.counts()?,
                    changes: self.store.last_scan_changes()?,
                    texts: table::Texts::Now,
                },
            })
        };
        let then = since.map(|past| contents(Some(past))).transpose()?;
        table::table(&self.root, request, contents(at)?, then)
    }

    /// What else looks like the code `request` names, from the index.
    pub fn similar(
        &self,
        request: SimilarRequest,
        warn: &dyn Fn(&str),
    ) -> Result<Vec<SimilarAnswer>> {
        similar::answer(
            &self.store,
            &self.db,
            &self.root,
            request,
            &self.buffers,
            warn,
        )
    }
}
