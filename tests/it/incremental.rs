//! Incremental rescans equal fresh scans, and rebuilt projections equal live ones.

use std::path::Path;

use cpt::store::Store;

use crate::common::{
    NEAR_COPY, age_files, age_tree, assert_equals_fresh_state, classes, clones, cpt_ok, default_db,
    path_str, py_function, scan, scan_counting_reads, set_old_mtime, stats, write,
};

/// A tree with clone classes across Python, Rust and Go files.
fn build_tree(root: &Path) {
    for i in 0..6 {
        let mut text = String::from("import sys\n\n");
        for j in 0..4 {
            // Functions 0..3 of every module are copies (renamed per module): type-2 classes.
            text.push_str(&py_function(&format!("f{j}_m{i}"), j));
        }
        text.push_str(&py_function(&format!("own_{i}"), 10 + i));
        write(root, &format!("pkg/m{i}.py"), text);
    }
    write(root, "pkg/exact.py", py_function("f0_m0", 0));
    // A near-miss pair.
    write(root, "pkg/graph.py", py_function("bfs", 5));
    write(root, "pkg/walk.py", NEAR_COPY);
    let rust = "fn total(xs: &[i64]) -> i64 {\n    let mut s = 0;\n    for x in xs {\n        if *x > 10 {\n            s += x * 2;\n        } else {\n            s -= 1;\n        }\n    }\n    s\n}\n";
    write(root, "src/a.rs", rust);
    write(root, "src/b.rs", format!("// copy\n{rust}"));
}

/// Rescan `root` into `incremental_db`, check that it then equals a fresh scan in everything
/// observable (`common::catalogue_state`), and return how many files the rescan read.
fn assert_incremental_equals_fresh(root: &Path, incremental_db: &Path) -> u64 {
    let read = scan_counting_reads(root, incremental_db);
    assert_equals_fresh_state(incremental_db, root);
    read
}

#[test]
fn rescan_after_edits_adds_and_deletes_equals_a_fresh_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    build_tree(root);
    // Dated back, so that rescans skip the files they do not change by their stat.
    age_tree(root);
    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("cpt.db");
    scan(root, Some(&db));
    let before = classes(&clones(&db));
    assert!(before.len() >= 4, "{before:?}");

    // Edit: break one copy (its class shrinks), change a function to a copy of another
    // (a class grows), delete a module, add a new one, rename a file, turn a file binary.
    let m1 = std::fs::read_to_string(root.join("pkg/m1.py")).unwrap();
    write(
        root,
        "pkg/m1.py",
        m1.replace("total = total", "total = 2 * total"),
    );
    write(
        root,
        "pkg/m2.py",
        std::fs::read_to_string(root.join("pkg/m2.py")).unwrap() + &py_function("extra", 1),
    );
    std::fs::remove_file(root.join("pkg/m3.py")).unwrap();
    write(
        root,
        "pkg/new.py",
        py_function("fresh", 2) + &py_function("own_4_copy", 14),
    );
    std::fs::rename(root.join("src/b.rs"), root.join("src/moved.rs")).unwrap();
    write(root, "pkg/m5.py", b"\x00binary now");
    // The near-miss copy changes shape: its old pairs go, new ones come.
    write(
        root,
        "pkg/walk.py",
        NEAR_COPY.replace("print('visit', nxt)", "print('visit', nxt, node)"),
    );
    let written = [
        "pkg/m1.py",
        "pkg/m2.py",
        "pkg/new.py",
        "pkg/m5.py",
        "pkg/walk.py",
    ];
    age_files(root, &written);
    // Those written and the renamed one; m0, m4, exact.py, graph.py and a.rs are skipped.
    assert_eq!(assert_incremental_equals_fresh(root, &db), 6);
    assert_ne!(classes(&clones(&db)), before);

    // Delete every copy of the Rust function: its class dissolves, and nothing is read.
    std::fs::remove_file(root.join("src/moved.rs")).unwrap();
    assert_eq!(assert_incremental_equals_fresh(root, &db), 0);
    assert!(
        !classes(&clones(&db))
            .iter()
            .any(|(_, m)| m.iter().any(|n| n.starts_with("src/")))
    );
}

#[test]
fn a_rescan_without_changes_reads_nothing_and_writes_no_events() {
    let dir = tempfile::tempdir().unwrap();
    build_tree(dir.path());
    // Files written just now have untrusted modification times; age them.
    age_tree(dir.path());
    scan(dir.path(), None);
    let db = default_db(dir.path());
    let events = stats(&db)["events"].clone();
    let run = cpt_ok(&["scan", path_str(dir.path())]);
    assert!(run.stdout.contains("(0 read)"), "{}", run.stdout);
    assert_eq!(stats(&db)["events"], events);
    // Touching a file re-reads it but changes nothing else.
    let f = dir.path().join("pkg/m0.py");
    let text = std::fs::read(&f).unwrap();
    std::fs::write(&f, text).unwrap();
    set_old_mtime(&f, 1_000_000);
    let run = cpt_ok(&["scan", path_str(dir.path())]);
    assert!(run.stdout.contains("(1 read)"), "{}", run.stdout);
    assert_eq!(
        stats(&db)["events"].as_u64().unwrap(),
        events.as_u64().unwrap() + 1
    );
}

#[test]
fn an_edit_within_the_same_timestamp_is_not_missed() {
    let dir = tempfile::tempdir().unwrap();
    build_tree(dir.path());
    scan(dir.path(), None);
    // Same size, same modification time, different content: the racy window catches it.
    let f = dir.path().join("src/a.rs");
    let meta = std::fs::metadata(&f).unwrap();
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("s += x * 2", "s += x * 3");
    std::fs::write(&f, &text).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(meta.modified().unwrap())
        .unwrap();
    assert_incremental_equals_fresh(dir.path(), &default_db(dir.path()));
}

#[test]
fn rebuilt_projections_equal_the_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    build_tree(dir.path());
    let db = default_db(dir.path());
    scan(dir.path(), None);
    std::fs::remove_file(dir.path().join("pkg/m0.py")).unwrap();
    write(
        dir.path(),
        "pkg/m9.py",
        py_function("f0_m9", 0) + &py_function("f1_m9", 1),
    );
    scan(dir.path(), None);

    let live = Store::open_existing(&db)
        .unwrap()
        .projection_snapshot()
        .unwrap();
    assert!(live.iter().any(|l| l.starts_with("pattern_members:")));
    let run = cpt_ok(&["rebuild", "--db", path_str(&db)]);
    assert!(run.stdout.starts_with("rebuilt "), "{}", run.stdout);
    let rebuilt = Store::open_existing(&db)
        .unwrap()
        .projection_snapshot()
        .unwrap();
    assert_eq!(rebuilt, live);
}

#[test]
fn pattern_ids_are_stable_across_rescans() {
    let dir = tempfile::tempdir().unwrap();
    build_tree(dir.path());
    let db = default_db(dir.path());
    scan(dir.path(), None);
    let ids = |db: &Path| -> Vec<String> {
        clones(db)["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    };
    let before = ids(&db);
    assert!(before.len() >= 4, "{before:?}");
    let copies = |db: &Path| -> usize {
        clones(db)["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["members"].as_array().unwrap().len())
            .sum()
    };
    let copies_before = copies(&db);
    // Grow one class and leave the others alone: every id that existed still exists.
    write(dir.path(), "pkg/grow.py", py_function("f2_grow", 2));
    scan(dir.path(), None);
    let after = ids(&db);
    assert_eq!(
        copies(&db),
        copies_before + 1,
        "the new copy joined a class"
    );
    for id in &before {
        assert!(after.contains(id), "{id} vanished");
    }
}

/// The watcher's view of the reported classes, caught up after each scan of a few files by
/// reading only the classes those files can have changed, equals the view read in full, and
/// so do the changes it reports. Edits are pseudo-random over a tree of exact, renamed,
/// near-miss and block copies sharing files.
#[test]
fn the_watchers_partial_class_updates_equal_a_full_read() {
    use cpt::scan::{ScanOptions, Silent};
    use cpt::watch::{Classes, diff};

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let module = |seed: u64| -> String {
        // One to four functions out of sixteen algorithms, some under shared names.
        let mut text = String::from("import os\n\n");
        for k in 0..(1 + seed % 4) {
            let n = ((seed >> (4 * k + 2)) % 16) as usize;
            let name = if (seed >> (k + 20)).is_multiple_of(3) {
                format!("f{n}")
            } else {
                format!("g{seed}_{k}")
            };
            text.push_str(&py_function(&name, n));
            text.push('\n');
        }
        if seed.is_multiple_of(5) {
            text.push_str(crate::common::NEAR_COPY);
        }
        text
    };
    let files = 12;
    for i in 0..files {
        write(root, &format!("p/m{i}.py"), module(i * 7919 + 13));
    }
    let db_dir = tempfile::tempdir().unwrap();
    let options = ScanOptions {
        root: root.to_path_buf(),
        db: db_dir.path().join("cpt.db"),
        settings: Default::default(),
    };
    cpt::scan::scan(&options, &Silent).unwrap();
    let store = Store::open_existing(&options.db).unwrap();
    let mut classes = Classes::load(&store).unwrap();
    assert!(classes.shown().len() >= 8, "{}", classes.shown().len());

    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut seen = std::collections::BTreeSet::new();
    let warm = cpt::scan::Warm::new();
    for _ in 0..40 {
        let mut paths = Vec::new();
        for _ in 0..1 + next() % 3 {
            let rel = format!("p/m{}.py", next() % (files + 4));
            match next() % 4 {
                0 => {
                    let _ = std::fs::remove_file(root.join(&rel));
                }
                _ => write(root, &rel, module(next())),
            }
            paths.push(rel);
        }
        paths.sort();
        paths.dedup();
        let before = Classes::load(&store).unwrap();
        let seq = store.last_event().unwrap();
        cpt::scan::scan_paths(&options, &paths, Some(&warm), &Silent).unwrap();
        let updates = classes.update(&store, seq, &paths).unwrap();
        cpt::scan::catch_up_index(&store, &options.db, &warm).unwrap();
        let full = Classes::load(&store).unwrap();
        assert_eq!(classes.shown(), full.shown(), "after changes to {paths:?}");
        assert_eq!(updates, diff(before.shown(), full.shown()), "{paths:?}");
        seen.extend(updates.iter().map(|u| match u {
            cpt::watch::Update::New(_) => "new",
            cpt::watch::Update::Resolved(_) => "resolved",
            cpt::watch::Update::Grew { .. } => "grew",
            cpt::watch::Update::Shrank { .. } => "shrank",
        }));
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
}

/// A copy that moves to another file between scans (a rename, or one file losing a copy
/// while another gains one) keeps its class: the shape's unit count is the same before and
/// after, but its units changed.
#[test]
fn a_copy_moved_to_another_file_keeps_its_class() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "anchor.py", py_function("bfs", 5));
    write(root, "y.py", py_function("bfs", 5));
    write(root, "keep.py", py_function("other", 9));
    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("cpt.db");
    scan(root, Some(&db));
    std::fs::rename(root.join("y.py"), root.join("z.py")).unwrap();
    assert_incremental_equals_fresh(root, &db);
    let text = clones(&db).to_string();
    assert!(text.contains("z.py") && !text.contains("y.py"), "{text}");
    // In one scan, one file loses its copy and another gains one.
    write(root, "z.py", py_function("other", 9));
    write(root, "keep.py", py_function("bfs", 5));
    assert_incremental_equals_fresh(root, &db);
    let classes = classes(&clones(&db));
    assert_eq!(
        classes,
        [(
            "T1".to_string(),
            vec!["anchor.py:bfs".to_string(), "keep.py:bfs".to_string()]
        )],
    );
}

/// The kinds of the events a scan wrote after sequence number `after`.
fn event_kinds_after(db: &Path, after: i64) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT kind FROM events WHERE seq > ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([after], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn code_that_only_moved_keeps_its_units_and_classes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    build_tree(root);
    age_tree(root);
    let db = default_db(root);
    scan(root, None);
    let before = classes(&clones(&db));
    let seq = Store::open_existing(&db).unwrap().last_event().unwrap();

    // A new function and blank lines above the copies of m1: every unit below moves.
    let m1 = std::fs::read_to_string(root.join("pkg/m1.py")).unwrap();
    let top = format!("{}\n\n\n", py_function("brand_new", 7));
    write(
        root,
        "pkg/m1.py",
        m1.replacen("import sys\n", &format!("import sys\n{top}"), 1),
    );
    age_files(root, &["pkg/m1.py"]);
    assert_eq!(assert_incremental_equals_fresh(root, &db), 1);
    let kinds = event_kinds_after(&db, seq);
    let count = |k: &str| kinds.iter().filter(|e| *e == k).count();
    assert!(count("unit_moved") >= 5, "{kinds:?}");
    // The new function (its blocks too) is added; nothing is removed, no class changes.
    assert_eq!(count("unit_removed"), 0, "{kinds:?}");
    assert!(
        kinds.iter().all(|k| !k.starts_with("pattern_")),
        "{kinds:?}"
    );
    assert_eq!(classes(&clones(&db)), before);
    let text = clones(&db).to_string();
    let lines = top.lines().count();
    assert!(
        text.contains(&format!("\"start_line\":{}", 3 + lines)),
        "{text}"
    );

    // A copy whose length in lines changes (a blank line inside it) is removed and added,
    // so that its class's summary follows; the result still equals a fresh scan.
    let m2 = std::fs::read_to_string(root.join("pkg/m2.py")).unwrap();
    let seq = Store::open_existing(&db).unwrap().last_event().unwrap();
    write(
        root,
        "pkg/m2.py",
        m2.replacen("    seen = set()\n", "\n    seen = set()\n", 1),
    );
    age_files(root, &["pkg/m2.py"]);
    assert_eq!(assert_incremental_equals_fresh(root, &db), 1);
    assert!(
        event_kinds_after(&db, seq)
            .iter()
            .any(|k| k == "unit_removed")
    );

    // Moves replay: the projections rebuilt from the log equal the live ones.
    let live = Store::open_existing(&db)
        .unwrap()
        .projection_snapshot()
        .unwrap();
    cpt_ok(&["rebuild", "--db", path_str(&db)]);
    let rebuilt = Store::open_existing(&db)
        .unwrap()
        .projection_snapshot()
        .unwrap();
    assert_eq!(rebuilt, live);
}

/// The engine's `Catalogue::scan_paths` (what an editor that knows its saves calls) reads the
/// named files alone and leaves the catalogue as a fresh scan would.
#[test]
fn the_catalogues_scan_of_named_paths_reads_them_alone_and_equals_a_fresh_scan() {
    use cpt::engine::{Catalogue, ScanRequest, Silent};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    build_tree(root);
    age_tree(root);
    let db = default_db(root);
    scan(root, None);
    write(root, "pkg/m2.py", py_function("bfs_again", 5));
    write(root, "pkg/new.py", py_function("f1_m9", 1));
    std::fs::remove_file(root.join("pkg/exact.py")).unwrap();
    let request = ScanRequest {
        root: root.to_path_buf(),
        ..ScanRequest::default()
    };
    let paths = ["pkg/m2.py", "pkg/new.py", "pkg/exact.py"].map(String::from);
    let summary = Catalogue::scan_paths(&request, &paths, &Silent).unwrap();
    assert_eq!((summary.read, summary.removed), (2, 1));
    assert_equals_fresh_state(&db, root);
}

#[test]
fn a_catalogue_written_before_the_binary_event_log_migrates_rescans_and_rebuilds() {
    // `fixtures/catalogues/v6-python.db`: `fixtures/python` scanned by the cpt of commit
    // 79f2c34 (schema 6: JSON events, similarity codes per unit), rooted at /tmp/oldcat/tree.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    for entry in std::fs::read_dir("fixtures/python").unwrap() {
        let entry = entry.unwrap();
        write(
            &root,
            entry.file_name().to_str().unwrap(),
            std::fs::read(entry.path()).unwrap(),
        );
    }
    age_tree(&root);
    let db = dir.path().join("old.db");
    std::fs::copy("fixtures/catalogues/v6-python.db", &db).unwrap();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'root'",
            [path_str(&root)],
        )
        .unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 6);
    }
    // Opened, migrated, and up to date with its tree: what a fresh scan would hold.
    assert_incremental_equals_fresh(&root, &db);
    let before = classes(&clones(&db));
    assert_eq!(before.len(), 3, "{before:?}");
    // A change is logged in the binary encoding after the old JSON events.
    let original = std::fs::read_to_string(root.join("original.py")).unwrap();
    write(
        &root,
        "original.py",
        original.replace("render_table", "draw_table"),
    );
    assert_incremental_equals_fresh(&root, &db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (text, blob): (i64, i64) = conn
        .query_row(
            "SELECT sum(typeof(data) = 'text'), sum(typeof(data) = 'blob') FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(text > 0 && blob > 0, "{text} JSON and {blob} binary events");
    drop(conn);
    // The mixed log replays to the same projections.
    let live = Store::open(&db).unwrap().projection_snapshot().unwrap();
    cpt_ok(&["rebuild", "--db", path_str(&db)]);
    assert_eq!(
        Store::open(&db).unwrap().projection_snapshot().unwrap(),
        live
    );
    assert_eq!(classes(&clones(&db)).len(), 3);
}
