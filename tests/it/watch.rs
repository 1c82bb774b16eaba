//! `cpt watch` against real file changes: what it reports, and that once a burst settles the
//! catalogue equals a fresh scan of the final tree — also after a kill -9 mid-burst.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::common::{
    NEAR_COPY, age_tree, assert_equals_fresh_state, assert_same_clones, binary, classes, clones,
    default_db, git, path_str, py_function, scan, stats, write,
};

/// A running `cpt watch` and the lines it prints.
struct Watcher {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watcher {
    /// Start `cpt watch --format jsonl` and wait for its first scan to end.
    fn start(root: &Path) -> Watcher {
        let watcher = Watcher::spawn(root);
        watcher.next("ready");
        watcher
    }

    /// Start `cpt watch --format jsonl` without waiting for its first scan to end.
    fn spawn(root: &Path) -> Watcher {
        Watcher::spawn_with(root, "jsonl")
    }

    /// Start `cpt watch --format FORMAT`.
    fn spawn_with(root: &Path, format: &str) -> Watcher {
        let mut child = binary()
            .args([
                "watch",
                path_str(root),
                "--format",
                format,
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
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Watcher { child, lines }
    }

    /// The next line whose `event` is `event`, skipping others.
    fn next(&self, event: &str) -> Value {
        self.until(event, |line| line["event"] == event)
            .pop()
            .unwrap()
    }

    /// The JSON lines up to and including the next one for which `wanted` holds (`what`
    /// names it in the panic when none comes within 30 s).
    fn until(&self, what: &str, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        self.until_text(what, |line| {
            let value: Value = serde_json::from_str(line).expect("a JSON line");
            assert_eq!(value["schema"], "cpt.watch/1");
            let found = wanted(&value);
            seen.push(value);
            found
        });
        seen
    }

    /// The lines up to and including the next one for which `wanted` holds.
    fn until_text(&self, what: &str, mut wanted: impl FnMut(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{what}` within 30 s; after {seen:#?}"));
            let found = wanted(&line);
            seen.push(line);
            if found {
                return seen;
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

/// The watcher's catalogue of `root` equals a fresh scan of the tree in everything observable
/// (`common::catalogue_state`: files, units, every class, near-miss pairs, reports with and
/// without noise, stats and `cpt similar`), its event log and index aside.
fn assert_equals_a_fresh_scan(root: &Path) {
    assert_equals_fresh_state(&default_db(root), root);
}

/// The function of `sync/anchor.py`, which a test writes before the watcher starts so that
/// [`sync`] has a class to add copies to. Its shape (15) is used by nothing else.
fn sync_anchor(root: &Path) {
    write(root, "sync/anchor.py", py_function("sync", 15));
}

/// Wait until every change made so far is in the catalogue: add a copy `sync/s{k}.py` of the
/// anchor's function and wait for the batch that reports it to end. Events come in order, so
/// that batch holds or follows every earlier change — however long the batches before it take,
/// which a wait for silence cannot know. Returns the lines printed meanwhile.
fn sync(watcher: &Watcher, root: &Path, k: usize) -> Vec<Value> {
    let path = format!("sync/s{k}.py");
    write(root, &path, py_function("sync", 15));
    let mut lines = watcher.until(&format!("a class with {path}"), |line| {
        (line["event"] == "new" || line["event"] == "grew") && has_member(line, &path)
    });
    lines.extend(watcher.until("applied", |line| line["event"] == "applied"));
    lines
}

/// Whether a `new`, `resolved`, `grew` or `shrank` line's class has a copy in `path`.
fn has_member(line: &Value, path: &str) -> bool {
    line["pattern"]["members"]
        .as_array()
        .is_some_and(|members| members.iter().any(|m| m["path"] == path))
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
/// and (with `settings`) a `cpt.toml` edit. Source files are dated half an hour back as they
/// are written (as `cp -p`, `rsync -t` or an archive's extraction leave them), so that scans
/// trust their stat as soon as they read them.
fn burst(root: &Path, settings: bool) {
    let dated = |rel: &str, text: String| {
        write(root, rel, text);
        crate::common::age_files(root, &[rel]);
    };
    let dated_save = |rel: &str, text: String| {
        let tmp = format!(".{}.tmp", rel.replace('/', "_"));
        dated(&tmp, text);
        std::fs::rename(root.join(tmp), root.join(rel)).unwrap();
    };
    for i in 0..40 {
        dated(
            &format!("many/m{i}.py"),
            py_function(&format!("f{i}"), i % 4),
        );
    }
    for round in 0..5 {
        dated_save("a.py", py_function("bfs", 5 + round));
    }
    dated("near.py", NEAR_COPY.to_string());
    std::fs::rename(root.join("many/m3.py"), root.join("moved.py")).unwrap();
    for i in 10..20 {
        std::fs::remove_file(root.join(format!("many/m{i}.py"))).unwrap();
    }
    write(root, "tmpdir/x.py", py_function("x", 2));
    write(root, "tmpdir/deep/y.py", py_function("y", 2));
    std::fs::remove_dir_all(root.join("tmpdir")).unwrap();
    dated("kept/z.py", py_function("z", 1));
    write(root, ".gitignore", "many/m2*.py\n");
    if settings {
        write(root, "cpt.toml", "[scan]\nmin_lines = 5\n");
    }
    dated_save("a.py", py_function("bfs", 5));
}

#[test]
fn after_a_burst_of_changes_the_catalogue_equals_a_fresh_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    write(root, "b.py", py_function("bfs", 5));
    write(root, "old/c.py", py_function("c", 3));
    write(root, "old/d.py", py_function("d", 3));
    sync_anchor(root);
    // Dated back: the whole-tree scans the burst's directory and configuration changes
    // cause skip these files by their stat.
    age_tree(root);
    let watcher = Watcher::start(root);
    burst(root, true);
    sync(&watcher, root, 0);
    assert_equals_a_fresh_scan(root);
    // The near-miss copy the burst wrote changes shape: its pairs go, others come.
    write(
        root,
        "near.py",
        NEAR_COPY.replace("print('visit', nxt)", "print('visit', nxt, node)"),
    );
    sync(&watcher, root, 1);
    assert_equals_a_fresh_scan(root);
}

#[test]
fn saves_made_while_the_first_scan_runs_are_applied() {
    // A tree whose first scan takes a while, its biggest files read first: they are saved
    // again while the scan goes on, after it read them and before it ends.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..1500 {
        write(
            root,
            &format!("small/m{i}.py"),
            py_function(&format!("f{i}"), 6 + i % 7),
        );
    }
    let big = |i: usize, extra: &str| {
        let mut text: String = (0..60)
            .map(|k| py_function(&format!("big{i}_{k}"), 8 + (i * 60 + k) % 23))
            .collect();
        text.push_str(extra);
        text
    };
    for i in 0..4 {
        write(root, &format!("big{i}.py"), big(i, ""));
    }
    sync_anchor(root);
    let watcher = Watcher::spawn(root);
    for i in 0..4 {
        std::thread::sleep(Duration::from_millis(150));
        atomic_save(
            root,
            &format!("big{i}.py"),
            &big(i, &py_function("during", 12)),
        );
    }
    watcher.next("ready");
    sync(&watcher, root, 0);
    assert_equals_a_fresh_scan(root);
}

/// A kill -9 at any moment of the watcher's work on a burst — at delays spread over it, and
/// on seeing it inside a write transaction (a batch's, a classification's, a checkpoint's) —
/// loses nothing: the next scan brings the catalogue to what a fresh scan makes of the final
/// tree, in everything observable.
#[cfg(target_os = "linux")]
#[test]
fn a_kill_at_any_moment_of_a_burst_loses_nothing() {
    use crate::common::{Moment, Outcome, kill_at};
    let mut moments: Vec<Moment> = [5, 15, 30, 45, 70, 100, 180]
        .map(|ms| Moment::After(Duration::from_millis(ms)))
        .to_vec();
    // Its transactions last about a millisecond: killed on sight.
    for n in [1, 1, 2, 2, 2] {
        moments.push(Moment::InTransaction(n, Duration::ZERO));
    }
    let mut in_transaction = 0;
    for moment in moments {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "a.py", py_function("bfs", 5));
        write(root, "b.py", py_function("bfs", 5));
        age_tree(root);
        let mut watcher = Watcher::start(root);
        let db = default_db(root);
        let start = std::time::Instant::now();
        let outcome = std::thread::scope(|threads| {
            // No change of settings: that would make the next scan read every file again,
            // whatever the killed one left.
            threads.spawn(|| burst(root, false));
            kill_at(&mut watcher.child, &db, moment, start)
        });
        drop(watcher);
        // (Shown when the test fails.)
        eprintln!("killed at {moment:?}: {outcome:?}");
        assert!(matches!(outcome, Outcome::Killed { .. }), "{outcome:?}");
        in_transaction += usize::from(
            outcome
                == Outcome::Killed {
                    in_transaction: true,
                },
        );
        scan(root, None);
        assert_equals_a_fresh_scan(root);
    }
    assert!(
        in_transaction >= 3,
        "{in_transaction} kills inside a transaction"
    );
}

/// The `read` and `incremental` counts of `applied` lines, summed.
fn reads(lines: &[Value]) -> (u64, u64) {
    lines.iter().filter(|line| line["event"] == "applied").fold(
        (0, 0),
        |(read, incremental), line| {
            (
                read + line["read"].as_u64().unwrap(),
                incremental + line["incremental"].as_u64().unwrap_or(0),
            )
        },
    )
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
    sync_anchor(root);
    // Twenty files the burst leaves alone, dated a day ahead: any scan of the whole tree
    // would read them all again (a file modified less than 2 s before a scan, or later, is
    // never trusted by its stat), so the counts tell a scan of the named files from one of
    // the tree.
    for i in 0..20 {
        let rel = format!("alone/u{i}.py");
        write(root, &rel, py_function(&format!("u{i}"), 6 + i % 4));
        set_future_mtime(&root.join(rel));
    }
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
    let lines = sync(&watcher, root, 0);
    // Eight saves of source files that are not ignored, and the sync file; at least the
    // four files changed and the sync file are read.
    let (read, _) = reads(&lines);
    assert!((5..=9).contains(&read), "read {read}: {lines:#?}");
    assert_equals_a_fresh_scan(root);
    let clones = crate::common::clones(&default_db(root));
    let text = clones.to_string();
    assert!(text.contains("pkg/renamed.py"), "{text}");
    assert!(!text.contains("skipped_copy"), "{text}");

    // One more save of a file the watcher has read: that file alone is read, parsed from
    // its last tree; a new file is read and parsed afresh.
    atomic_save(root, "pkg/b.py", &py_function("b", 1));
    let (read, incremental) = reads(&watcher.until("applied", |l| l["event"] == "applied"));
    assert_eq!((read, incremental), (1, 1));
    write(root, "pkg/new.py", py_function("n", 2));
    let (read, incremental) = reads(&watcher.until("applied", |l| l["event"] == "applied"));
    assert_eq!((read, incremental), (1, 0));
}

/// Set `path`'s modification time a day ahead.
fn set_future_mtime(path: &Path) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + Duration::from_secs(86_400))
        .unwrap();
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

/// Module `i` of the generated checkout trees in `version` 0 (branch `a`) or 1 (branch `b`):
/// one of 16 helpers too small to be a unit (shared by many modules, as `__init__.py` files
/// are, so that git has few objects to write), a line longer per version, and in every tenth
/// module a function whose shape depends on the version, so that classes change between the
/// branches.
fn module(i: usize, version: usize) -> String {
    let mut text = format!("def helper(x):\n    return x * {} + {version}\n", i % 16);
    for v in 0..version {
        text.push_str(&format!("LEVEL_{v} = {v}\n"));
    }
    if i.is_multiple_of(10) {
        text.push_str(&py_function(&format!("f{i}"), i / 10 % 8 + 4 * version));
    }
    text
}

/// Whether some line is a `event` line whose class has a copy in `path`.
fn reported(lines: &[Value], event: &str, path: &str) -> bool {
    lines
        .iter()
        .any(|line| line["event"] == event && has_member(line, path))
}

/// A `git checkout` between branches whose trees differ in about 3000 files (rewritten, added,
/// deleted, in directories that come and go) reaches the catalogue in full, both ways: it
/// then equals a fresh scan, and the clone found only on the branch left is resolved, the one
/// found only on the branch checked out is new.
#[test]
fn a_git_checkout_of_thousands_of_files_settles_to_a_fresh_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Branch a: 2400 modules in 24 directories, and a clone of its own.
    for i in 0..2400 {
        write(root, &format!("d{}/m{}.py", i / 100, i % 100), module(i, 0));
    }
    for copy in ["only_a/x.py", "only_a/y.py"] {
        write(root, copy, py_function("only_a", 12));
    }
    git(root, &["init", "-q", "-b", "a"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "a"]);
    // Branch b: a directory deleted, a third of the other modules rewritten and a third
    // deleted, 1400 modules added in 14 new directories, and a clone of its own instead.
    git(root, &["checkout", "-q", "-b", "b"]);
    std::fs::remove_dir_all(root.join("d23")).unwrap();
    std::fs::remove_dir_all(root.join("only_a")).unwrap();
    for i in 0..2300 {
        let rel = format!("d{}/m{}.py", i / 100, i % 100);
        match i % 3 {
            0 => write(root, &rel, module(i, 1)),
            1 => std::fs::remove_file(root.join(rel)).unwrap(),
            _ => {}
        }
    }
    for i in 0..1400 {
        write(
            root,
            &format!("e{}/m{}.py", i / 100, i % 100),
            module(10_000 + i, 1),
        );
    }
    for copy in ["only_b/x.py", "only_b/y.py"] {
        write(root, copy, py_function("only_b", 13));
    }
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "b"]);
    git(root, &["checkout", "-q", "a"]);
    sync_anchor(root);
    let watcher = Watcher::start(root);

    git(root, &["checkout", "-q", "b"]);
    let lines = sync(&watcher, root, 0);
    assert!(reported(&lines, "resolved", "only_a/x.py"), "{lines:?}");
    assert!(reported(&lines, "new", "only_b/x.py"), "{lines:?}");
    assert!(!root.join("d23").exists() && root.join("e13/m99.py").exists());
    assert_equals_a_fresh_scan(root);

    git(root, &["checkout", "-q", "a"]);
    let lines = sync(&watcher, root, 1);
    assert!(reported(&lines, "resolved", "only_b/x.py"), "{lines:?}");
    assert!(reported(&lines, "new", "only_a/x.py"), "{lines:?}");
    assert!(root.join("d23/m99.py").exists() && !root.join("e0").exists());
    assert_equals_a_fresh_scan(root);
}

/// A change to `cpt.toml` alone, with no source file touched, is applied with the new settings:
/// raising `min_lines` above a clone's size resolves it, lowering it brings the clone back,
/// excluding one copy's file resolves it again and dropping the exclusion restores it — the
/// file written in place or saved atomically. The catalogue then equals a fresh scan made with
/// that `cpt.toml`, whose `min_lines` also leaves out a shorter function the defaults keep.
#[test]
fn a_cpt_toml_edit_alone_is_picked_up_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    write(root, "b.py", py_function("bfs", 5));
    // Seven lines: a unit under the defaults (six), not under `min_lines = 8`.
    write(root, "short.py", py_function("primes", 9));
    write(root, "cpt.toml", "[scan]\nmin_lines = 6\n");
    let watcher = Watcher::start(root);
    let members = |line: &Value| -> Vec<String> {
        line["pattern"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["path"].as_str().unwrap().to_string())
            .collect()
    };

    write(root, "cpt.toml", "[scan]\nmin_lines = 40\n");
    let resolved = watcher.next("resolved");
    assert_eq!(members(&resolved), ["a.py", "b.py"], "{resolved}");
    atomic_save(root, "cpt.toml", "[scan]\nmin_lines = 8\n");
    let new = watcher.next("new");
    assert_eq!(members(&new), ["a.py", "b.py"], "{new}");
    write(
        root,
        "cpt.toml",
        "[scan]\nmin_lines = 8\nexclude = [\"b.py\"]\n",
    );
    let resolved = watcher.next("resolved");
    assert_eq!(
        resolved["pattern"]["id"], new["pattern"]["id"],
        "{resolved}"
    );
    atomic_save(root, "cpt.toml", "[scan]\nmin_lines = 8\n");
    let new = watcher.next("new");
    assert_eq!(members(&new), ["a.py", "b.py"], "{new}");
    watcher.settle();

    assert_equals_a_fresh_scan(root);
    // The copies' two functions, not the shorter one.
    assert_eq!(stats(&default_db(root))["units"], 2);
}

/// `text` and a comment `tag`, padded with comment lines to 1000 bytes: versions of a file
/// that differ only in their contents, not in their size.
fn same_size(text: String, tag: &str) -> String {
    let mut text = text + "# " + tag + "\n";
    assert!(text.len() <= 1000 - 2, "{text}");
    while text.len() < 1000 {
        let width = (1000 - text.len() - 1).min(60);
        text.push_str(&"#".repeat(width));
        text.push('\n');
    }
    text
}

/// Save `versions` of `root/rel` one after the other, in place or atomically, pausing now and
/// then so that the watcher works on a version while the next ones are written.
fn rewrite_many(root: &Path, rel: &str, versions: impl Iterator<Item = String>) {
    for (k, text) in versions.enumerate() {
        if k % 3 == 0 {
            atomic_save(root, rel, &text);
        } else {
            write(root, rel, text);
        }
        std::thread::sleep(Duration::from_millis(k as u64 % 5 * 7));
    }
}

/// Two files rewritten many times, each by its own thread, while the watcher applies them —
/// versions of one size, in place or saved atomically, copies of another file's function or
/// not — end in the catalogue as their last versions; and so do two last versions written
/// while the watcher works on versions that made other clones.
#[test]
fn a_file_changed_again_while_it_is_processed_ends_as_its_last_version() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "anchor.py", py_function("bfs", 5));
    write(root, "x.py", "");
    write(root, "y.py", "");
    sync_anchor(root);
    let watcher = Watcher::start(root);

    // Copies of anchor.py's function, of each other's, and functions of their own.
    let x = |k: usize| match k % 3 {
        0 => py_function("bfs", 5),
        1 => py_function("x_own", 1),
        _ => py_function("shared", 3),
    };
    let y = |k: usize| match k % 3 {
        0 => py_function("shared", 3),
        1 => py_function("bfs", 5),
        _ => py_function("y_own", 2),
    };
    let tagged = |rel: &'static str, kind: fn(usize) -> String| {
        (0..60).map(move |k| same_size(kind(k), &format!("{rel} version {k}")))
    };
    std::thread::scope(|threads| {
        threads.spawn(|| rewrite_many(root, "x.py", tagged("x.py", x)));
        threads.spawn(|| rewrite_many(root, "y.py", tagged("y.py", y)));
    });
    // The version before the last: x.py a function of its own, y.py a copy of anchor.py's.
    // Once the watcher has caught up, it is given these, and while it works on them (after
    // the debounce) the last: x.py a copy, y.py a function of its own.
    sync(&watcher, root, 0);
    atomic_save(root, "x.py", &same_size(x(1), "x.py before the last"));
    atomic_save(root, "y.py", &same_size(y(1), "y.py before the last"));
    std::thread::sleep(Duration::from_millis(50));
    write(root, "x.py", same_size(x(0), "x.py last"));
    write(root, "y.py", same_size(y(2), "y.py last"));
    sync(&watcher, root, 1);

    assert_equals_a_fresh_scan(root);
    let expected = [
        ("T1", vec!["anchor.py:bfs", "x.py:bfs"]),
        (
            "T1",
            vec!["sync/anchor.py:sync", "sync/s0.py:sync", "sync/s1.py:sync"],
        ),
    ];
    let expected: Vec<(String, Vec<String>)> = expected
        .into_iter()
        .map(|(t, m)| (t.to_string(), m.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(classes(&clones(&default_db(root))), expected);
}

/// Run the built `cpt` with `args` (and `stdin`) beside the watcher, as another process reading
/// its catalogue: it must succeed and print JSON, and say nothing of a locked or damaged
/// catalogue. Returns the JSON.
fn read_beside(args: &[&str], stdin: &str) -> Value {
    let mut child = binary()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cpt starts");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "cpt {args:?}: {}\n{stderr}",
        output.status
    );
    for word in ["locked", "malformed", "damaged", "corrupt"] {
        assert!(!stderr.contains(word), "cpt {args:?}: {stderr}");
    }
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "cpt {args:?}: {e}\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// While the watcher applies a long burst of creations, deletions, rewrites and directories
/// that come and go, `cpt clones`, `cpt stats` and `cpt similar` run beside it always succeed
/// with a consistent catalogue: every class has two copies or more, in files the tree has had,
/// and the classes and similar functions of files the burst leaves alone are always there.
/// Once the burst is applied, the catalogue equals a fresh scan.
#[test]
fn readers_see_a_consistent_catalogue_while_the_watcher_writes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Untouched by the burst: five classes of four copies, of shapes the burst does not use.
    for i in 0..20 {
        write(
            root,
            &format!("base/b{i}.py"),
            py_function(&format!("b{i}"), 10 + i % 5),
        );
    }
    sync_anchor(root);
    let watcher = Watcher::start(root);
    let db = default_db(root);
    let db = path_str(&db);
    let base_classes = classes(&clones(Path::new(db)));
    assert_eq!(base_classes.len(), 5, "{base_classes:?}");
    let mut tree: BTreeSet<String> = (0..20)
        .map(|i| format!("base/b{i}.py"))
        .chain((0..200).map(|i| format!("burst/f{i}.py")))
        .chain((0..3).map(|i| format!("burst/tmp{i}/g.py")))
        .collect();
    tree.insert("sync/anchor.py".to_string());
    tree.insert("sync/s0.py".to_string());
    // Found by `cpt similar`: the base copies of shape 12.
    let query = py_function("query", 12);
    let similar_to_query: BTreeSet<String> = (0..20)
        .filter(|i| i % 5 == 2)
        .map(|i| format!("base/b{i}.py"))
        .collect();

    // The burst goes on until the readers have read a number of times (or failed); they read
    // until it ends (or fails).
    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);
    let readers_stopped = AtomicBool::new(false);
    struct SetOnDrop<'a>(&'a AtomicBool);
    impl Drop for SetOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    std::thread::scope(|threads| {
        threads.spawn(|| {
            let _done = SetOnDrop(&done);
            let mut round = 0;
            while round < 10 || (reads.load(SeqCst) < 15 && !readers_stopped.load(SeqCst)) {
                for i in 0..200 {
                    let rel = format!("burst/f{i}.py");
                    let text = py_function(&format!("f{i}_{round}"), (i + round) % 7);
                    match (i + round) % 4 {
                        0 => write(root, &rel, text),
                        1 => {
                            let _ = std::fs::remove_file(root.join(&rel));
                        }
                        2 => atomic_save(root, &rel, &text),
                        _ => {}
                    }
                }
                let tmp = format!("burst/tmp{}", round % 3);
                if round % 2 == 0 {
                    write(root, &format!("{tmp}/g.py"), py_function("g", round % 7));
                } else {
                    let _ = std::fs::remove_dir_all(root.join(tmp));
                }
                round += 1;
                std::thread::sleep(Duration::from_millis(round as u64 % 4 * 10));
            }
        });
        let _stopped = SetOnDrop(&readers_stopped);
        while !done.load(SeqCst) {
            let clones = read_beside(&["clones", "--db", db, "--format", "json"], "");
            let patterns = clones["patterns"].as_array().unwrap();
            for class in patterns {
                let members = class["members"].as_array().unwrap();
                assert!(members.len() >= 2, "{class}");
                for member in members {
                    let path = member["path"].as_str().unwrap();
                    assert!(tree.contains(path), "{path} in {class}");
                }
            }
            let base: Vec<_> = classes(&clones)
                .into_iter()
                .filter(|(_, members)| members.iter().all(|m| m.starts_with("base/")))
                .collect();
            assert_eq!(base, base_classes);

            let stats = read_beside(&["stats", "--db", db, "--format", "json"], "");
            assert_eq!(stats["schema"], "cpt.stats/1", "{stats}");
            assert!(stats["files"].as_u64().unwrap() >= 20, "{stats}");
            assert!(stats["patterns"].as_u64().unwrap() >= 5, "{stats}");

            let similar = read_beside(
                &[
                    "similar", "-", "--lang", "python", "--db", db, "--format", "json",
                ],
                &query,
            );
            let matches = similar["queries"][0]["matches"].as_array().unwrap();
            let paths: BTreeSet<String> = matches
                .iter()
                .map(|m| m["path"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(paths, similar_to_query, "{similar}");
            reads.fetch_add(1, SeqCst);
        }
    });
    sync(&watcher, root, 0);
    assert_equals_a_fresh_scan(root);
}

#[test]
fn the_watcher_copies_its_log_into_the_database_once_changes_pause() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    let watcher = Watcher::start(root);
    let db = default_db(root);
    let modified = || std::fs::metadata(&db).unwrap().modified().unwrap();
    // Its scans leave checkpoints to it: a save is written to the log alone...
    let before = modified();
    std::thread::sleep(Duration::from_millis(20));
    write(root, "b.py", py_function("bfs", 5));
    watcher.next("applied");
    assert_eq!(modified(), before, "a save checkpointed at once");
    // ...and once nothing changes for a moment, the log goes into the database.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(modified() > before, "no checkpoint after a pause");
    assert_same_clones(&db, &fresh_scan(root).path().join("cpt.db"));
}

/// `--format text` says what changed in words, with every copy; `--format gnu` prints, after
/// the first scan and after every batch, every copy of every class as a `path:line:col:
/// warning:` line between `cpt: checking` and `cpt: checked`, as README's problem matcher
/// reads them.
#[test]
fn watch_prints_changes_as_text_and_as_gnu_problem_lines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("bfs", 5));
    write(root, "other.py", py_function("other", 9));
    let id = |db: &Path| {
        clones(db)["patterns"][0]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };

    let text = Watcher::spawn_with(root, "text");
    let ready = text.until_text("ready", |_| true);
    let canonical = root.canonicalize().unwrap();
    assert_eq!(
        ready,
        [format!(
            "watching {}: 2 files, 0 clone classes (Ctrl-C stops)",
            canonical.display()
        )]
    );
    write(root, "b.py", py_function("bfs", 5));
    let new = text.until_text("b.py", |l| l.contains("b.py"));
    let class = id(&default_db(root));
    assert_eq!(
        new,
        [
            format!("new clone: T1 function {class}, 12 lines, 2 copies"),
            "  a.py:1-12  bfs".to_string(),
            "  b.py:1-12  bfs".to_string(),
        ]
    );
    write(root, "c.py", py_function("bfs", 5));
    assert_eq!(
        text.until_text("c.py", |l| l.contains("c.py")),
        [
            format!("clone grew: T1 function {class}, 12 lines, 3 copies"),
            "  + c.py:1-12  bfs".to_string(),
        ]
    );
    std::fs::remove_file(root.join("c.py")).unwrap();
    assert_eq!(
        text.until_text("c.py", |l| l.contains("c.py")),
        [
            format!("clone shrank: T1 function {class}, 12 lines, 2 copies"),
            "  - c.py:1-12  bfs".to_string(),
        ]
    );
    std::fs::remove_file(root.join("b.py")).unwrap();
    assert_eq!(
        text.until_text("b.py", |l| l.contains("b.py")),
        [
            format!("clone resolved: T1 function {class}, 12 lines, 2 copies"),
            "  was a.py:1-12  bfs".to_string(),
            "  was b.py:1-12  bfs".to_string(),
        ]
    );
    drop(text);

    let gnu = Watcher::spawn_with(root, "gnu");
    let report = |watcher: &Watcher| -> Vec<String> {
        let lines = watcher.until_text("cpt: checked", |l| l == "cpt: checked");
        assert_eq!(
            lines.first().map(String::as_str),
            Some("cpt: checking"),
            "{lines:?}"
        );
        lines[1..lines.len() - 1].to_vec()
    };
    assert!(report(&gnu).is_empty());
    write(root, "b.py", py_function("bfs", 5));
    let lines = report(&gnu);
    assert_eq!(
        lines,
        [
            format!("a.py:1:1: warning: T1 clone {class} (bfs): also at b.py:1"),
            format!("b.py:1:1: warning: T1 clone {class} (bfs): also at a.py:1"),
        ]
    );
    // What VS Code's matcher in README takes apart: file, line, column, severity, message.
    for line in &lines {
        let (file, rest) = line.split_once(':').unwrap();
        let (line_no, rest) = rest.split_once(':').unwrap();
        let (column, rest) = rest.split_once(": ").unwrap();
        let (severity, message) = rest.split_once(": ").unwrap();
        assert!(
            file.ends_with(".py") && line_no == "1" && column == "1",
            "{line}"
        );
        assert_eq!(severity, "warning");
        assert!(message.starts_with("T1 clone "), "{line}");
    }
    // Every class, not only the changed ones, after every batch.
    write(root, "x.py", py_function("x", 2));
    write(root, "y.py", py_function("x", 2));
    // (x.py and y.py may come in two batches.)
    let mut all = report(&gnu);
    while all.len() < 4 {
        all = report(&gnu);
    }
    assert_eq!(
        all.iter().filter(|l| l.contains("(bfs)")).count(),
        2,
        "{all:?}"
    );
    assert_eq!(
        all.iter().filter(|l| l.contains("(x)")).count(),
        2,
        "{all:?}"
    );
    std::fs::remove_file(root.join("b.py")).unwrap();
    let lines = report(&gnu);
    assert!(lines.iter().all(|l| !l.contains("bfs")), "{lines:?}");
}
