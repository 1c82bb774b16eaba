//! The event log on arbitrary bytes: append them as events to an empty catalogue and rebuild
//! it (`cpt rebuild`: decode and replay every event, classify, write the index). An event may
//! be unreadable or inconsistent with the others, which is an error; nothing may panic. When
//! the rebuild succeeds, its index must open and verify, and a second rebuild must give the
//! same projections.
//!
//! Input: the events' JSON payloads, one a line (as the log stores them, at most 64).

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cpt::index::{self, Access, Index};
use cpt::engine;
use cpt::store::Store;
use libfuzzer_sys::fuzz_target;

/// A fresh, empty catalogue made once; each input starts from a copy of it.
fn template() -> &'static (tempfile::TempDir, PathBuf) {
    static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempfile::Builder::new()
            // Memory: nothing waits on the disk (the catalogue and the index fsync).
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary directory");
        let db = dir.path().join("template.db");
        drop(Store::open(&db).expect("an empty catalogue"));
        (dir, db)
    })
}

fn fresh_catalogue(dir: &Path) -> PathBuf {
    let db = dir.join("cpt.db");
    for entry in std::fs::read_dir(dir).expect("the directory") {
        let path = entry.expect("an entry").path();
        if path != template().1 {
            let _ = std::fs::remove_file(path);
        }
    }
    std::fs::copy(&template().1, &db).expect("copy the empty catalogue");
    db
}

fuzz_target!(|data: &[u8]| {
    let (dir, _) = template();
    let db = fresh_catalogue(dir.path());
    {
        let conn = rusqlite::Connection::open(&db).expect("open the copy");
        let mut insert = conn
            .prepare("INSERT INTO events (scan_id, at_ms, kind, data) VALUES (0, 0, 'fuzz', ?1)")
            .expect("prepare");
        // A line that starts as JSON is an event of a log written before the binary
        // encoding (text); any other is a binary event (a blob), as `cpt` writes them now.
        for line in data.split(|&b| b == b'\n').take(64) {
            if line.first() == Some(&b'{') {
                insert.execute([String::from_utf8_lossy(line)])
            } else {
                insert.execute([line])
            }
            .expect("append an event");
        }
    }
    if engine::Catalogue::rebuild(&db, &|_| {}).is_err() {
        return;
    }
    let index = Index::open(&index::path_for(&db), Access::Mapped).expect("rebuilt index opens");
    index.verify().expect("rebuilt index verifies");
    drop(index);
    let mut store = Store::open_existing(&db).expect("reopen");
    let first = store.projection_snapshot().expect("projections");
    store
        .rebuild()
        .expect("a log that rebuilt once rebuilds again");
    let second = store.projection_snapshot().expect("projections");
    assert_eq!(first, second, "a second rebuild changed the projections");
});
