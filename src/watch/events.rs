//! What one file-system event means for the catalogue ([`classify`], [`input`]).

use std::path::Path;

use notify::event::{EventKind, ModifyKind};

use super::debounce::Input;
use crate::config;

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

/// What notify's `event` means for the debounce, for a tree at `root` whose catalogue lives in
/// `own` (both canonical).
pub fn input(root: &Path, own: &Path, event: &notify::Event) -> Input {
    // The watcher lost track (a queue overflow, say): only a scan can tell.
    if event.need_rescan() {
        return Input::Lost;
    }
    Input::Event(
        event
            .paths
            .iter()
            .map(|path| classify(root, own, path, &event.kind))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, RemoveKind, RenameMode};

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
}
