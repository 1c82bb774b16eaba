//! Crash safety: `kill -9` at many moments of a cold scan, an incremental scan and `cpt
//! rebuild` (some inside a write transaction: the moment the write-ahead log grows) leaves a
//! catalogue the next scan brings to exactly what a fresh scan gives; a disk that fills up
//! mid-scan ends the scan with one line, and the catalogue still opens.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{assert_same_clones, binary, cpt_ok, path_str, py_function, stats, write};

/// A tree with copies and near-miss copies, big enough that a scan takes a while.
fn tree(root: &Path, files: usize, version: usize) {
    for i in 0..files {
        let mut text = String::new();
        for k in 0..4 {
            let n = (i * 4 + k + version) % 16;
            text.push_str(&py_function(&format!("f{i}_{k}"), n));
            text.push('\n');
        }
        write(root, &format!("pkg{}/m{i}.py", i % 7), text);
    }
}

fn spawn(args: &[&str]) -> Child {
    binary()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn kill_now(mut child: Child) {
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
}

/// How long `args` takes to run to the end.
fn duration(args: &[&str]) -> Duration {
    let start = Instant::now();
    let status = spawn(args).wait().unwrap();
    assert!(status.success(), "{args:?}");
    start.elapsed()
}

/// Wait until the catalogue's write-ahead log has grown past `from` bytes (a write
/// transaction is under way or has just committed), at most `limit`.
fn until_wal_grows(db: &Path, from: u64, limit: Duration) {
    let wal = db.with_extension("db-wal");
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > from {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn wal_len(db: &Path) -> u64 {
    std::fs::metadata(db.with_extension("db-wal"))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// After whatever the kills left, a scan gives what a fresh scan of the tree gives.
fn assert_recovers_to_fresh(root: &Path, db: &Path) {
    cpt_ok(&["scan", path_str(root), "--db", path_str(db), "--quiet"]);
    let fresh = tempfile::tempdir().unwrap();
    let fresh_db = fresh.path().join("fresh.db");
    cpt_ok(&[
        "scan",
        path_str(root),
        "--db",
        path_str(&fresh_db),
        "--quiet",
    ]);
    assert_same_clones(db, &fresh_db);
    // The event log's length is history: the interrupted runs wrote events too.
    let without_events = |db: &Path| {
        let mut s = stats(db);
        s.as_object_mut().unwrap().remove("events");
        s
    };
    assert_eq!(without_events(db), without_events(&fresh_db));
    assert_eq!(indexes(db), indexes(&fresh_db));
}

/// The catalogue's SQL indexes.
fn indexes(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_first_scan_stopped_after_some_files_gets_its_indexes_by_shape_back_from_the_next_writer() {
    // A first scan loads without the indexes by shape and creates them at the end; one
    // stopped after committing some files leaves a catalogue without them (made here by
    // dropping them), which the next scan or rebuild completes.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let db = dir.path().join("cat/cpt.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    tree(&root, 12, 0);
    let scan = ["scan", path_str(&root), "--db", path_str(&db), "--quiet"];
    cpt_ok(&scan);
    let all = indexes(&db);
    assert!(all.contains(&"units_by_shape".to_string()), "{all:?}");
    assert!(all.contains(&"small_by_shape".to_string()), "{all:?}");
    let drop_them = || {
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch("DROP INDEX units_by_shape; DROP INDEX small_by_shape;")
            .unwrap();
        assert_ne!(indexes(&db), all);
    };
    drop_them();
    cpt_ok(&scan);
    assert_eq!(indexes(&db), all);
    drop_them();
    cpt_ok(&["rebuild", "--db", path_str(&db)]);
    assert_eq!(indexes(&db), all);
    assert_recovers_to_fresh(&root, &db);
}

/// Kill moments spread over a run that takes `full`: fractions of it, and the moment the
/// write-ahead log grows.
fn kill_at_many_moments(full: Duration, run: &dyn Fn() -> (Child, u64), db: &Path) {
    for tenth in [1u32, 3, 5, 7, 9] {
        let (child, _) = run();
        std::thread::sleep(full * tenth / 10);
        kill_now(child);
        // Whatever was left opens and reads.
        cpt_ok(&["stats", "--db", path_str(db)]);
    }
    let (child, wal) = run();
    until_wal_grows(db, wal, full * 2);
    kill_now(child);
    cpt_ok(&["stats", "--db", path_str(db)]);
}

#[test]
fn kill_9_during_a_cold_scan_an_incremental_scan_or_a_rebuild_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let db = dir.path().join("cat/cpt.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    tree(&root, 120, 0);
    let scan_args = ["scan", path_str(&root), "--db", path_str(&db), "--quiet"];
    // Cold scans killed at many moments (each starts over on what the last one left).
    let probe = tempfile::tempdir().unwrap();
    let probe_db = probe.path().join("p.db");
    let full = duration(&[
        "scan",
        path_str(&root),
        "--db",
        path_str(&probe_db),
        "--quiet",
    ]);
    kill_at_many_moments(full, &|| (spawn(&scan_args), wal_len(&db)), &db);
    assert_recovers_to_fresh(&root, &db);

    // Incremental scans over a third of the files changed.
    tree(&root, 40, 5);
    kill_at_many_moments(full / 2, &|| (spawn(&scan_args), wal_len(&db)), &db);
    assert_recovers_to_fresh(&root, &db);

    // Rebuilds.
    let rebuild_args = ["rebuild", "--db", path_str(&db)];
    let full = duration(&rebuild_args);
    kill_at_many_moments(full, &|| (spawn(&rebuild_args), wal_len(&db)), &db);
    assert_recovers_to_fresh(&root, &db);
}

/// `cpt scan` with a file-size limit, as a full disk: writes past it fail (EFBIG; the
/// signal it would raise is ignored, as a process on a full disk gets ENOSPC).
#[cfg(unix)]
fn scan_on_a_small_disk(root: &Path, db: &Path, kib: u64) -> std::process::Output {
    std::process::Command::new("bash")
        .args([
            "-c",
            &format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""),
            env!("CARGO_BIN_EXE_cpt"),
            "scan",
            path_str(root),
            "--db",
            path_str(db),
            "--quiet",
        ])
        .output()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn a_disk_that_fills_up_mid_scan_ends_it_with_one_line_and_the_catalogue_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let db = dir.path().join("cat/cpt.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    tree(&root, 20, 0);
    cpt_ok(&["scan", path_str(&root), "--db", path_str(&db), "--quiet"]);
    let before = stats(&db);
    // A much bigger change than the room left on the disk.
    tree(&root, 400, 3);
    let size = std::fs::metadata(&db).unwrap().len() / 1024;
    let out = scan_on_a_small_disk(&root, &db, size + 64);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cpt.db"), "{stderr}");
    assert!(!stderr.contains("SQL"), "{stderr}");
    assert!(stderr.contains("free space"), "{stderr}");
    // The catalogue is as it was before the scan that failed, and the next scan (with room)
    // completes it.
    assert_eq!(stats(&db), before);
    assert_recovers_to_fresh(&root, &db);
}
