//! `cpt watch` against real file changes: what it reports, and that once a burst settles the
//! catalogue equals a fresh scan of the final tree — also after a kill -9 mid-burst.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::common::{
    NEAR_COPY, assert_same_clones, binary, default_db, path_str, py_function, scan, write,
};

/// A running `cpt watch --format jsonl` and the JSON lines it prints.
struct Watcher {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Watcher {
    fn start(root: &Path) -> Watcher {
        let mut child = binary()
            .args([
                "watch",
                path_str(root),
                "--format",
                "jsonl",
                "--debounce",
                "20",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cpt watch starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: Value = serde_json::from_str(&line).expect("a JSON line");
                assert_eq!(value["schema"], "cpt.watch/1");
                if sender.send(value).is_err() {
                    break;
                }
            }
        });
        let watcher = Watcher { child, lines };
        watcher.next("ready");
        watcher
    }

    /// The next line whose `event` is `event`, skipping others.
    fn next(&self, event: &str) -> Value {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{event}` within 30 s"));
            if line["event"] == event {
                return line;
            }
        }
    }

    /// Wait until the watcher has printed nothing for two seconds.
    fn settle(&self) {
        while self.lines.recv_timeout(Duration::from_secs(2)).is_ok() {}
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Write through a temporary file renamed over the target, as editors save.
fn atomic_save(root: &Path, rel: &str, text: &str) {
    let tmp = root.join(format!(".{}.tmp", rel.replace('/', "_")));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, root.join(rel)).unwrap();
}

/// A catalogue of `root` made from scratch, outside it.
fn fresh_scan(root: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    scan(root, Some(&dir.path().join("cpt.db")));
    dir
}

#[test]
fn watch_reports_new_grown_shrunk_and_resolved_clones_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    write(root, "other.py", py_function("other", 9));
    let watcher = Watcher::start(root);

    write(root, "b.py", py_function("bfs", 5));
    let new = watcher.next("new");
    assert_eq!(new["pattern"]["clone_type"], "T1");
    let paths: Vec<&str> = new["pattern"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a.py", "b.py"]);
    let id = new["pattern"]["id"].clone();
    let applied = watcher.next("applied");
    assert_eq!(applied["changes"], 1, "{applied}");
    assert!(applied["elapsed_ms"].as_f64().unwrap() > 0.0, "{applied}");

    atomic_save(root, "c.py", &py_function("bfs", 5));
    let grew = watcher.next("grew");
    assert_eq!(grew["pattern"]["id"], id);
    assert_eq!(grew["added"][0]["path"], "c.py");

    std::fs::remove_file(root.join("c.py")).unwrap();
    let shrank = watcher.next("shrank");
    assert_eq!(shrank["removed"][0]["path"], "c.py");

    std::fs::remove_file(root.join("b.py")).unwrap();
    let resolved = watcher.next("resolved");
    assert_eq!(resolved["pattern"]["id"], id);

    watcher.signal("-TERM");
    let mut watcher = watcher;
    let status = watcher.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// A burst of the changes editors and tools make: atomic saves, rapid repeated saves,
/// creations and deletions, a directory created and removed, a rename, an ignore-file edit
/// and a `cpt.toml` edit.
fn burst(root: &Path) {
    for i in 0..40 {
        write(
            root,
            &format!("many/m{i}.py"),
            py_function(&format!("f{i}"), i % 4),
        );
    }
    for round in 0..5 {
        atomic_save(root, "a.py", &py_function("bfs", 5 + round));
    }
    write(root, "near.py", NEAR_COPY);
    std::fs::rename(root.join("many/m3.py"), root.join("moved.py")).unwrap();
    for i in 10..20 {
        std::fs::remove_file(root.join(format!("many/m{i}.py"))).unwrap();
    }
    write(root, "tmpdir/x.py", py_function("x", 2));
    write(root, "tmpdir/deep/y.py", py_function("y", 2));
    std::fs::remove_dir_all(root.join("tmpdir")).unwrap();
    write(root, "kept/z.py", py_function("z", 1));
    write(root, ".gitignore", "many/m2*.py\n");
    write(root, "cpt.toml", "[scan]\nmin_lines = 5\n");
    atomic_save(root, "a.py", &py_function("bfs", 5));
}

#[test]
fn after_a_burst_of_changes_the_catalogue_equals_a_fresh_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    write(root, "b.py", py_function("bfs", 5));
    let watcher = Watcher::start(root);
    burst(root);
    watcher.settle();
    let fresh = fresh_scan(root);
    assert_same_clones(&default_db(root), &fresh.path().join("cpt.db"));
}

#[test]
fn a_kill_during_a_burst_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    let watcher = Watcher::start(root);
    burst(root);
    // Kill it while it works on the burst, then let the next run catch up.
    std::thread::sleep(Duration::from_millis(60));
    watcher.signal("-KILL");
    drop(watcher);
    scan(root, None);
    let fresh = fresh_scan(root);
    assert_same_clones(&default_db(root), &fresh.path().join("cpt.db"));
}

#[test]
fn file_changes_apply_to_their_files_alone_and_honour_ignore_files() {
    // Directories and ignore rules exist before the watcher starts, so that every event of
    // the burst names a source file and is applied to those files alone.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    write(root, "pkg/b.py", py_function("b", 3));
    write(root, "pkg/.gitignore", "skipped_*.py\n");
    let watcher = Watcher::start(root);
    write(root, "pkg/skipped_copy.py", py_function("bfs", 5));
    write(root, "pkg/copy.py", py_function("bfs", 5));
    for round in 0..4 {
        atomic_save(root, "pkg/b.py", &py_function("b", 3 + round));
    }
    std::fs::rename(root.join("pkg/copy.py"), root.join("pkg/renamed.py")).unwrap();
    write(root, "near.py", NEAR_COPY);
    std::fs::remove_file(root.join("a.py")).unwrap();
    write(root, "a.py", py_function("bfs", 5));
    watcher.settle();
    let fresh = fresh_scan(root);
    assert_same_clones(&default_db(root), &fresh.path().join("cpt.db"));
    let clones = crate::common::clones(&default_db(root));
    let text = clones.to_string();
    assert!(text.contains("pkg/renamed.py"), "{text}");
    assert!(!text.contains("skipped_copy"), "{text}");
}

#[test]
fn a_batch_that_fails_is_applied_once_the_catalogue_is_free_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    let watcher = Watcher::start(root);
    // Another writer holds the catalogue for longer than the watcher waits (10 s).
    let lock = rusqlite::Connection::open(default_db(root)).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    write(root, "b.py", py_function("bfs", 5));
    let error = watcher.next("error");
    assert!(
        error["message"].as_str().unwrap().contains("locked"),
        "{error}"
    );
    lock.execute_batch("COMMIT").unwrap();
    drop(lock);
    // No new event: the retry finds b.py.
    let new = watcher.next("new");
    assert_eq!(new["pattern"]["members"][1]["path"], "b.py");
}
