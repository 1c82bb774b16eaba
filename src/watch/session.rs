//! The catalogue side of a watch ([`Session`]): the first scan, a batch's scan and the classes
//! it changed, the index's catch-up, checkpoints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{Classes, Update};
use crate::config::{self, ScanConfig, Settings};
use crate::engine::view::{Class, PatternId};
use crate::index::refresh::IndexRefresh;
use crate::scan::{self, ScanOptions, ScanSummary, Silent, Warm};
use crate::store::{Store, StoreError};

/// The catalogue of a watched tree, with what the watcher keeps between batches.
pub struct Session {
    /// The tree (canonical).
    root: PathBuf,
    /// The catalogue (canonical).
    db: PathBuf,
    /// The folder of the catalogue's files.
    own: PathBuf,
    /// Settings from the command line.
    flags: ScanConfig,
    /// What scans keep warm between batches (their catalogue connection, `reparse::Recent`).
    warm: Warm,
    /// One connection for the watcher's life, to read classes and write the index (its scans
    /// keep another in `warm`), and to checkpoint the write-ahead log.
    store: Store,
    classes: Classes,
}

impl Session {
    /// Scan the tree at `root` (canonical) into the catalogue `db`, and read its classes.
    pub fn start(root: &Path, db: &Path, flags: &ScanConfig) -> Result<(Session, ScanSummary)> {
        let warm = Warm::new();
        let summary = scan::rescan(
            &ScanOptions {
                root: root.to_path_buf(),
                db: db.to_path_buf(),
                settings: settings(root, flags)?,
            },
            &warm,
            &Silent,
        )?;
        let db = db
            .canonicalize()
            .with_context(|| format!("{}: cannot open", db.display()))?;
        let own = db.parent().map_or_else(|| db.clone(), Path::to_path_buf);
        let store = Store::open_existing(&db)?;
        store.keep_open(false)?;
        store.checkpoint()?;
        let classes = Classes::load(&store)?;
        let session = Session {
            root: root.to_path_buf(),
            db,
            own,
            flags: flags.clone(),
            warm,
            store,
            classes,
        };
        Ok((session, summary))
    }

    /// The tree (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of the catalogue's files (canonical).
    pub fn own(&self) -> &Path {
        &self.own
    }

    /// The reported classes, by id.
    pub fn classes(&self) -> &BTreeMap<PatternId, Class> {
        self.classes.shown()
    }

    /// Scan the whole tree (`scope` none), or only the files `scope` names, re-reading
    /// `cpt.toml`, and catch up with the classes; returns what changed.
    pub fn apply(&mut self, scope: Option<&[String]>) -> Result<(Vec<Update>, ScanSummary)> {
        let scan_options = ScanOptions {
            root: self.root.clone(),
            db: self.db.clone(),
            settings: settings(&self.root, &self.flags)?,
        };
        let seq = self.store.last_event()?;
        // Settings that changed since the last scan (flags of another `cpt scan`) make a
        // scan of a few files one of the whole tree.
        let key = scan_options.settings.fingerprint_key();
        let same = self.store.meta("fingerprint")?.as_deref() == Some(key.as_str());
        match scope.filter(|_| same) {
            Some(paths) => {
                let summary = scan::scan_paths(&scan_options, paths, Some(&self.warm), &Silent)?;
                Ok((self.classes.update(&self.store, seq, paths)?, summary))
            }
            None => {
                let summary = scan::rescan(&scan_options, &self.warm, &Silent)?;
                self.store.checkpoint()?;
                Ok((self.classes.reload(&self.store)?, summary))
            }
        }
    }

    /// Bring the index up to date with the catalogue (after a batch of files; a scan of the
    /// whole tree did so itself). Should it fail, the next scan writes it before classifying.
    pub fn catch_up_index(&self) -> Result<()> {
        if let IndexRefresh::Rebuilt(_) = scan::catch_up_index(&self.store, &self.db, &self.warm)? {
            crate::sys::release_free_memory();
        }
        Ok(())
    }

    /// Copy the write-ahead log into the database (the watch's scans leave that to the
    /// watcher), after returning free memory to the system.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        crate::sys::release_free_memory();
        self.store.checkpoint()
    }
}

/// The settings of a scan of `root`: `flags` over its `cpt.toml`, read again each time.
fn settings(root: &Path, flags: &ScanConfig) -> Result<Settings> {
    let file = config::load(root)?;
    Ok(Settings::resolve(file.scan, flags.clone()))
}
