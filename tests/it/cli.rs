//! End-to-end command-line behaviour: output formats, errors, exit codes, pipes.

use std::io::Read;
use std::process::Stdio;

use crate::common::{binary, cpt, cpt_ok, default_db, path_str, py_function, scan, write};

fn tree_with_clones() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let f = py_function("fold_items", 3);
    write(dir.path(), "pkg/a.py", format!("import os\n\n{f}"));
    write(
        dir.path(),
        "pkg/b.py",
        format!(
            "# copy\n{}",
            f.replace("fold_items", "fold_items_again")
                .replace("total", "acc")
        ),
    );
    write(dir.path(), "pkg/c.py", py_function("other", 5));
    write(dir.path(), "README.md", "not code\n");
    dir
}

#[test]
fn scan_then_clones_as_text_and_json() {
    let dir = tree_with_clones();
    let root = path_str(dir.path());
    let run = cpt_ok(&["scan", root]);
    assert!(
        run.stdout
            .starts_with("scanned 3 files (3 read): 3 units, 1 patterns, 0 skipped in "),
        "{}",
        run.stdout
    );
    assert!(dir.path().join(".cpt/.gitignore").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".cpt/.gitignore")).unwrap(),
        "*\n"
    );

    let db = default_db(dir.path());
    let db = path_str(&db);
    let text = cpt_ok(&["clones", "--db", db]).stdout;
    assert!(text.starts_with("T2 "), "{text}");
    assert!(text.contains("  pkg/a.py:3-10  fold_items\n"), "{text}");
    assert!(
        text.contains("  pkg/b.py:2-9  fold_items_again\n"),
        "{text}"
    );
    assert!(text.ends_with("1 clone class, 2 copies\n"), "{text}");

    let json: serde_json::Value =
        serde_json::from_str(&cpt_ok(&["clones", "--format", "json", "--db", db]).stdout).unwrap();
    assert_eq!(json["schema"], "cpt.clones/1");
    assert_eq!(
        json["root"],
        dir.path().canonicalize().unwrap().to_str().unwrap()
    );
    let p = &json["patterns"][0];
    assert_eq!(p["kind"], "function");
    assert_eq!(p["clone_type"], "T2");
    assert_eq!(p["similarity"], 1.0);
    assert_eq!(p["lines"], 8);
    assert!(p["tokens"].as_u64().unwrap() >= 50);
    assert_eq!(p["id"].as_str().unwrap().len(), 16);
    assert_eq!(
        p["members"][0],
        serde_json::json!({"path": "pkg/a.py", "start_line": 3, "end_line": 10, "lang": "python", "name": "fold_items",
                           "similarity": 1.0})
    );
}

#[test]
fn stats_counts_languages_skips_and_duplicated_lines() {
    let dir = tree_with_clones();
    write(dir.path(), "bin.py", b"\x00\x01\x02binary");
    write(dir.path(), "broken.py", "def f(:\n    return )(\n");
    scan(dir.path(), None);
    let db = default_db(dir.path());
    let json: serde_json::Value =
        serde_json::from_str(&cpt_ok(&["stats", "--format", "json", "--db", path_str(&db)]).stdout)
            .unwrap();
    assert_eq!(json["schema"], "cpt.stats/1");
    assert_eq!(json["files"], 4);
    assert_eq!(json["languages"]["python"]["files"], 4);
    assert_eq!(json["languages"]["python"]["units"], 3);
    assert_eq!(json["skipped"]["binary"], 1);
    assert_eq!(json["files_with_syntax_errors"], 1);
    assert_eq!(json["duplicated_lines"], 16);
    let text = cpt_ok(&["stats", "--db", path_str(&db)]).stdout;
    assert!(text.contains("duplicated lines 16 ("), "{text}");
    assert!(text.contains("binary              1"), "{text}");
    assert!(text.contains("python              4"), "{text}");
}

#[test]
fn clones_before_any_scan_says_how_to_scan() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary()
        .arg("clones")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("cpt: no catalogue in "), "{err}");
    assert!(err.contains("run `cpt scan [PATH]` first"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn clones_finds_the_catalogue_from_a_subdirectory() {
    let dir = tree_with_clones();
    scan(dir.path(), None);
    let out = binary()
        .arg("clones")
        .current_dir(dir.path().join("pkg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("pkg/a.py:3-10")
    );
}

#[test]
fn errors_exit_2_with_one_line_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let run = cpt(&["scan", path_str(&missing)]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("cpt: ") && run.stderr.contains("nope"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1);

    write(dir.path(), "cpt.toml", "[scan]\nmin_tokens = \"many\"\n");
    let run = cpt(&["scan", path_str(dir.path())]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cpt.toml: invalid type"),
        "{}",
        run.stderr
    );

    let run = cpt(&["scan", "--min-tokens", "lots"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid value 'lots'"),
        "{}",
        run.stderr
    );
    assert_eq!(cpt(&["frobnicate"]).code, 2);
}

#[test]
fn help_and_version_exit_0() {
    let help = cpt(&["--help"]);
    assert_eq!(help.code, 0);
    for command in ["scan", "clones", "stats", "rebuild", "completions"] {
        assert!(help.stdout.contains(command), "{}", help.stdout);
    }
    let version = cpt(&["--version"]);
    assert_eq!(
        (version.code, version.stdout.trim()),
        (0, concat!("cpt ", env!("CARGO_PKG_VERSION")))
    );
    assert!(cpt(&["scan", "--help"]).stdout.contains("--exclude <GLOB>"));
}

#[test]
fn config_file_and_flags_set_thresholds_and_excludes() {
    let dir = tree_with_clones();
    write(dir.path(), "vendor/copy.py", py_function("fold_items", 3));
    write(
        dir.path(),
        "cpt.toml",
        "[scan]\nexclude = [\"vendor/**\"]\n",
    );
    scan(dir.path(), None);
    let db = default_db(dir.path());
    assert_eq!(crate::common::stats(&db)["files"], 3);
    // Flags win over the file: with a huge minimum nothing is a unit, and the change of
    // settings re-fingerprints every file.
    cpt_ok(&[
        "scan",
        path_str(dir.path()),
        "--quiet",
        "--min-lines",
        "500",
    ]);
    assert_eq!(crate::common::stats(&db)["units"], 0);
    assert_eq!(
        crate::common::clones(&db)["patterns"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn a_closed_pipe_ends_quietly_with_success() {
    let dir = tempfile::tempdir().unwrap();
    // One class with thousands of copies: far more output than a pipe buffer holds.
    let f = py_function("same", 1);
    write(dir.path(), "many.py", f.repeat(3000));
    scan(dir.path(), None);
    let mut child = binary()
        .args(["clones", "--db", path_str(&default_db(dir.path()))])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(err, "");
}

#[test]
fn scan_refuses_a_catalogue_of_another_root() {
    let a = tree_with_clones();
    let b = tree_with_clones();
    let db = default_db(a.path());
    scan(a.path(), None);
    let run = cpt(&["scan", path_str(b.path()), "--db", path_str(&db)]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("this catalogue belongs to"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_and_version_reach_a_buffered_stdout() {
    for flag in ["--help", "--version"] {
        let out = binary().arg(flag).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("cpt"), "{flag}: {text:?}");
    }
}

#[test]
fn writers_started_together_take_turns_without_sql_errors() {
    // Two first scans of a new tree at once, and a third a moment later: creating and
    // migrating the catalogue is serialised, the writers take turns, and each ends as a
    // fresh scan would.
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..60 {
            write(
                dir.path(),
                &format!("m{i}.py"),
                py_function(&format!("f{i}"), 6 + i % 5),
            );
        }
        let root = path_str(dir.path());
        let start = || {
            binary()
                .args(["scan", root, "--quiet"])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let children = [start(), start(), {
            std::thread::sleep(std::time::Duration::from_millis(5 * round));
            start()
        }];
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "round {round}: {stderr}");
            assert!(!stderr.contains("SQL"), "round {round}: {stderr}");
        }
        let fresh = tempfile::tempdir().unwrap();
        let fresh_db = fresh.path().join("cpt.db");
        scan(dir.path(), Some(&fresh_db));
        crate::common::assert_same_clones(&default_db(dir.path()), &fresh_db);
    }
}

#[test]
fn a_second_writer_says_whom_it_waits_for_and_goes_on_when_the_first_is_done() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.py", py_function("f", 8));
    let db = default_db(dir.path());
    let held = cpt::store::WriteLock::take(&db, &|_| panic!("the lock is free")).unwrap();
    let mut child = binary()
        .args(["scan", path_str(dir.path())])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the scan did not wait for the lock"
    );
    drop(held);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another cpt (pid {}) is writing this catalogue; waiting",
            std::process::id()
        )),
        "{stderr}"
    );
    assert_eq!(crate::common::stats(&db)["units"], 1, "{stderr}");

    // `cpt rebuild` takes turns too.
    let held = cpt::store::WriteLock::take(&db, &|_| panic!("the lock is free")).unwrap();
    let mut child = binary()
        .args(["rebuild", "--db", path_str(&db)])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert!(child.try_wait().unwrap().is_none(), "rebuild did not wait");
    drop(held);
    assert!(child.wait().unwrap().success());
}
