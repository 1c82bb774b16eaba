//! Crash safety: a kill -9 at any moment of a first scan, an incremental scan or `cpt
//! rebuild` — inside a write transaction too — leaves a catalogue that the next scan brings
//! to what a fresh scan makes; a disk that fills up or a catalogue directory made read-only
//! mid-scan fails the scan with one line, and the catalogue still opens.
//!
//! Kills land at moments spread over a run's length, and on seeing the process hold SQLite's
//! write lock (`common::holds_write_lock`), so some land inside write transactions without
//! any hook in the code. Each test runs for a few seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    Moment, Outcome, age_files, assert_state_is, binary, catalogue_state_with, cpt_ok,
    holds_write_lock, kill_at, path_str, py_function, scan, unprivileged, write,
};

/// Run `command` (a `cpt` writing the catalogue `db`) and kill -9 it at `moment`.
fn run_and_kill(mut command: Command, db: &Path, moment: Moment) -> Outcome {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cpt starts");
    kill_at(&mut child, db, moment, Instant::now())
}

/// How long `command` takes when left alone.
fn duration(mut command: Command) -> Duration {
    let start = Instant::now();
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

/// Moments to kill a run that takes about `length` at: `spread` of them spread over it with
/// some jitter (a fixed seed: the machine's load varies the moments enough), and in each of
/// its first `transactions` write transactions, at its start and a few milliseconds in.
fn moments(length: Duration, spread: usize, transactions: usize) -> Vec<Moment> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut jitter = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 1000) as f64 / 1000.0
    };
    let mut out: Vec<Moment> = (0..spread)
        .map(|i| Moment::After(length.mul_f64((i as f64 + jitter()) / spread as f64)))
        .collect();
    for n in 1..=transactions {
        for ms in [0, 2, 5] {
            out.push(Moment::InTransaction(n, Duration::from_millis(ms)));
        }
    }
    out
}

/// `cpt ARGS` as a command.
fn cpt_command(args: &[&str]) -> Command {
    let mut command = binary();
    command.args(args);
    command
}

/// A tree of `files` modules of 20 functions each: exact, renamed and near-miss copies
/// across files, and functions of their own. `version` changes some of them. Files whose
/// text changes are written and dated half an hour back, the others left alone, so that a
/// scan trusts every file by its stat: a scan after a killed one reads only what the killed
/// one had not recorded.
fn tree(root: &Path, files: usize, version: usize) {
    for i in 0..files {
        let mut text = String::from("import os\n\n");
        for j in 0..20 {
            let n = (i * 7 + j * 3 + version * (i % 3)) % 16;
            text.push_str(&py_function(&format!("f{j}_{}", (i + version) % 5), n));
        }
        if (i + version).is_multiple_of(4) {
            text.push_str(crate::common::NEAR_COPY);
        }
        let rel = format!("pkg{}/m{i}.py", i % 4);
        if std::fs::read_to_string(root.join(&rel)).ok().as_ref() != Some(&text) {
            write(root, &rel, text);
            age_files(root, &[&rel]);
        }
    }
}

/// What a catalogue of `root` shows (`cpt similar` for every fourth file).
fn state(db: &Path, root: &Path) -> Vec<String> {
    catalogue_state_with(db, root, 4)
}

/// A copy of a closed catalogue's directory (database and index files) in a new directory.
fn copy_catalogue(from: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let db = dir.path().join("cpt.db");
    (dir, db)
}

/// Kill a run at each moment and check what the next scan makes of the catalogue: `start`
/// gives a fresh catalogue for each run and the command that writes it.
fn kill_at_every_moment(
    what: &str,
    root: &Path,
    moments: &[Moment],
    expected: &[String],
    start: impl Fn() -> (tempfile::TempDir, PathBuf, Command),
) {
    let (mut killed, mut in_transaction) = (0, 0);
    for &moment in moments {
        let (_dir, db, command) = start();
        let outcome = run_and_kill(command, &db, moment);
        // (Shown when the test fails.)
        eprintln!("{what}: {moment:?}: {outcome:?}");
        if let Outcome::Killed { in_transaction: t } = outcome {
            killed += 1;
            in_transaction += usize::from(t);
        }
        // The catalogue opens as it was left, and the next scan finishes the work.
        if db.exists() {
            let run = crate::common::cpt(&["stats", "--db", path_str(&db)]);
            assert!(
                run.code == 0 || run.stderr.contains("run `cpt scan"),
                "{what} killed at {moment:?}: {}",
                run.stderr
            );
        }
        scan(root, Some(&db));
        assert_state_is(&db, expected, &state(&db, root));
    }
    // Most runs were killed, and several of them inside a write transaction.
    assert!(
        killed * 2 >= moments.len() && in_transaction >= 3,
        "{what}: {killed} of {} runs killed, {in_transaction} inside a write transaction",
        moments.len()
    );
}

#[test]
fn a_kill_at_any_moment_of_a_first_scan_is_made_good_by_the_next_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, 32, 0);
    let fresh = tempfile::tempdir().unwrap();
    let fresh_db = fresh.path().join("cpt.db");
    scan(root, Some(&fresh_db));
    let expected = state(&fresh_db, root);
    let scan_into = |db: &Path| cpt_command(&["scan", path_str(root), "--db", path_str(db)]);
    let length = duration(scan_into(&fresh.path().join("timed.db")));
    // (A first scan's first transactions are short: the schema, the scan's row, dropping
    // the indexes by shape it loads without.)
    kill_at_every_moment(
        "first scan",
        root,
        &moments(length, 6, 4),
        &expected,
        || {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("cpt.db");
            let command = scan_into(&db);
            (dir, db, command)
        },
    );
}

#[test]
fn a_kill_at_any_moment_of_an_incremental_scan_is_made_good_by_the_next_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, 32, 0);
    let before = tempfile::tempdir().unwrap();
    scan(root, Some(&before.path().join("cpt.db")));
    // Most files rewritten, some removed, some added: classes grow, shrink, form and go.
    tree(root, 40, 1);
    for i in (0..32).step_by(7) {
        std::fs::remove_file(root.join(format!("pkg{}/m{i}.py", i % 4))).unwrap();
    }
    let fresh = tempfile::tempdir().unwrap();
    let fresh_db = fresh.path().join("cpt.db");
    scan(root, Some(&fresh_db));
    let expected = state(&fresh_db, root);
    let start = || {
        let (dir, db) = copy_catalogue(before.path());
        let command = cpt_command(&["scan", path_str(root), "--db", path_str(&db)]);
        (dir, db, command)
    };
    let length = {
        let (_dir, _db, command) = start();
        duration(command)
    };
    kill_at_every_moment(
        "incremental scan",
        root,
        &moments(length, 6, 2),
        &expected,
        start,
    );
}

#[test]
fn a_kill_at_any_moment_of_a_rebuild_is_made_good_by_the_next_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, 32, 0);
    let catalogue = tempfile::tempdir().unwrap();
    let db = catalogue.path().join("cpt.db");
    scan(root, Some(&db));
    tree(root, 32, 1);
    scan(root, Some(&db));
    let expected = state(&db, root);
    let start = || {
        let (dir, db) = copy_catalogue(catalogue.path());
        let command = cpt_command(&["rebuild", "--db", path_str(&db)]);
        (dir, db, command)
    };
    let length = {
        let (_dir, _db, command) = start();
        duration(command)
    };
    kill_at_every_moment("rebuild", root, &moments(length, 6, 1), &expected, start);
    // A rebuild that runs to its end after one was killed inside its transaction makes the
    // same catalogue.
    let (_dir, copy) = copy_catalogue(catalogue.path());
    let mut tries = 0;
    while run_and_kill(
        cpt_command(&["rebuild", "--db", path_str(&copy)]),
        &copy,
        Moment::InTransaction(1, Duration::ZERO),
    ) != (Outcome::Killed {
        in_transaction: true,
    }) {
        tries += 1;
        assert!(tries < 10, "no rebuild was killed inside its transaction");
    }
    cpt_ok(&["rebuild", "--db", path_str(&copy)]);
    assert_state_is(&copy, &expected, &state(&copy, root));
}

/// Where a catalogue can run out of room: a small tmpfs of its own, filled up on demand,
/// when this process may mount one (root with the right to, as in CI); else a limit on the
/// size of every file `cpt` writes (`RLIMIT_FSIZE` through util-linux's `prlimit`, `SIGXFSZ`
/// ignored), which fails writes past it as a full disk does, but lets smaller files be
/// written.
struct SmallDisk {
    dir: tempfile::TempDir,
    mounted: bool,
}

impl SmallDisk {
    fn new() -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        eprintln!(
            "disk full: {}",
            if mounted { "tmpfs" } else { "file size limit" }
        );
        SmallDisk { dir, mounted }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fill the disk but for `room` bytes (on a tmpfs).
    fn fill(&self, room: u64) {
        if !self.mounted {
            return;
        }
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![1u8; 64 * 1024];
        while std::io::Write::write_all(&mut file, &block).is_ok() {}
        let len = file.metadata().unwrap().len();
        file.set_len(len.saturating_sub(room)).unwrap();
    }

    /// Make room again.
    fn free(&self) {
        let _ = std::fs::remove_file(self.path().join("filler"));
    }

    /// `cpt`, on this disk once it is full.
    fn cpt(&self) -> Command {
        if self.mounted {
            return binary();
        }
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg("trap '' XFSZ; exec prlimit --fsize=\"$0\" -- \"$@\"")
            .arg((96 * 1024).to_string())
            .arg(env!("CARGO_BIN_EXE_cpt"));
        command
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(self.dir.path()).status();
        }
    }
}

/// A failed scan's error: one line, naming the catalogue's directory, in words.
fn assert_one_line_error(out: &std::process::Output, dir: &Path) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("cpt: "), "{stderr}");
    assert!(stderr.contains(path_str(dir)), "{stderr}");
    assert!(!stderr.contains("SQL"), "{stderr}");
}

/// Reading commands run on the catalogue `db` as `command()` makes them: `cpt clones`,
/// `cpt stats` and `cpt similar` succeed, with at most one warning line.
fn assert_readable(command: impl Fn() -> Command, db: &Path, query: &Path) {
    let db = path_str(db);
    for args in [
        vec!["clones", "--format", "json", "--db", db],
        vec!["stats", "--db", db],
        vec!["similar", path_str(query), "--db", db],
    ] {
        let out = command().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.lines().count() <= 1, "{args:?}: {stderr}");
    }
}

/// The disk fills up during a first scan and during an incremental one: the scan fails with
/// one line, the catalogue still opens for reading on the full disk, and once there is room
/// the next scan equals a fresh scan.
#[test]
fn a_disk_that_fills_up_mid_scan_fails_it_in_one_line_and_the_catalogue_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, 32, 0);
    let disk = SmallDisk::new();
    let db = disk.path().join("cpt.db");
    let query = root.join("pkg0/m0.py");
    let scan_on_the_full_disk = || {
        disk.cpt()
            .args(["scan", path_str(root), "--db", path_str(&db)])
            .output()
            .unwrap()
    };
    for step in ["first scan", "incremental scan"] {
        if step == "incremental scan" {
            tree(root, 40, 1);
        }
        let fresh = tempfile::tempdir().unwrap();
        scan(root, Some(&fresh.path().join("cpt.db")));
        disk.fill(256 * 1024);
        assert_one_line_error(&scan_on_the_full_disk(), disk.path());
        assert_readable(|| disk.cpt(), &db, &query);
        disk.free();
        scan(root, Some(&db));
        assert_state_is(
            &db,
            &state(&fresh.path().join("cpt.db"), root),
            &state(&db, root),
        );
    }
}

/// The catalogue's directory turns read-only while a scan writes it (its permissions taken
/// away on seeing the scan's first write transaction; the scan runs as another user when the
/// tests run as root, whom permissions do not stop). SQLite keeps writing the files it has
/// open, so the scan fails where it makes a new file — its index — with one line; reading
/// commands still work on the read-only catalogue; once it is writable again, the next scan
/// equals a fresh scan.
#[cfg(unix)]
#[test]
fn a_catalogue_directory_made_read_only_mid_scan_fails_it_in_one_line_and_still_opens() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    mode(root, 0o755);
    tree(root, 32, 0);
    let catalogue = tempfile::tempdir().unwrap();
    let cat = catalogue.path().join("cat");
    std::fs::create_dir(&cat).unwrap();
    mode(catalogue.path(), 0o755);
    if crate::common::is_root() {
        std::os::unix::fs::chown(&cat, Some(65534), Some(65534)).unwrap();
    }
    let db = cat.join("cpt.db");
    let scan_args = ["scan", path_str(root), "--db", path_str(&db)];
    let out = unprivileged().args(scan_args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tree(root, 40, 1);
    let fresh = tempfile::tempdir().unwrap();
    scan(root, Some(&fresh.path().join("cpt.db")));
    let expected = state(&fresh.path().join("cpt.db"), root);

    // The flip may come too late for a fast scan: then the scan succeeds, and the next try
    // has another change to apply.
    let mut tries = 0;
    let out = loop {
        tries += 1;
        assert!(
            tries <= 10,
            "every scan ended before its directory was read-only"
        );
        let mut child = unprivileged()
            .args(scan_args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        while child.try_wait().unwrap().is_none() && !holds_write_lock(child.id(), &db) {
            std::thread::sleep(Duration::from_micros(200));
        }
        mode(&cat, 0o555);
        let out = child.wait_with_output().unwrap();
        if !out.status.success() {
            break out;
        }
        mode(&cat, 0o755);
        write(
            root,
            "pkg0/extra.py",
            py_function(&format!("extra{tries}"), tries),
        );
    };
    assert_one_line_error(&out, &cat);
    assert_readable(unprivileged, &db, &root.join("pkg0/m0.py"));
    mode(&cat, 0o755);
    let _ = std::fs::remove_file(root.join("pkg0/extra.py"));
    let out = unprivileged().args(scan_args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_state_is(&db, &expected, &state(&db, root));
}
