//! History: scans record their commit; `cpt log` and its filters; `cpt history ID`; `--at`
//! on `clones` and `stats`, replayed from the log.

use std::path::Path;

use serde_json::Value;

use crate::common::{commit, cpt, cpt_ok, git, path_str, py_function, scan, write};

/// A tree in a git repository scanned three times, a commit each:
/// 1. class F (`a.py`, `b.py`) and class G (`d.py`, `e.py`) are created;
/// 2. F grows (`c.py`), then is accepted;
/// 3. G dissolves (`e.py` removed).
struct Story {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    db: String,
    commits: Vec<String>,
    f: String,
    g: String,
}

fn story() -> Story {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    let db = path_str(&dir.path().join("c.db")).to_string();
    git(&root, &["init", "-q"]);
    write(&root, "a.py", py_function("merge", 1));
    write(&root, "b.py", py_function("merge_again", 1));
    write(&root, "d.py", py_function("wrap", 2));
    write(&root, "e.py", py_function("wrap_again", 2));
    let mut commits = vec![commit(&root, "one")];
    scan(&root, Some(Path::new(&db)));
    let ids = class_ids(&db);
    assert_eq!(ids.len(), 2, "{ids:?}");
    let of = |file: &str| {
        ids.iter()
            .find(|(_, paths)| paths.contains(&file.to_string()))
            .unwrap()
            .0
            .clone()
    };
    let (f, g) = (of("a.py"), of("d.py"));
    write(&root, "c.py", py_function("merge_third", 1));
    commits.push(commit(&root, "two"));
    scan(&root, Some(Path::new(&db)));
    cpt_ok(&[
        "accept",
        &f,
        "--reason",
        "kept apart on purpose",
        "--db",
        &db,
    ]);
    std::fs::remove_file(root.join("e.py")).unwrap();
    commits.push(commit(&root, "three"));
    scan(&root, Some(Path::new(&db)));
    Story {
        _dir: dir,
        root,
        db,
        commits,
        f,
        g,
    }
}

/// The classes of `cpt clones` (noise included): id and the paths of its copies.
fn class_ids(db: &str) -> Vec<(String, Vec<String>)> {
    clones_at(db, None)
}

fn clones_at(db: &str, at: Option<&str>) -> Vec<(String, Vec<String>)> {
    let mut args = vec!["clones", "--format", "json", "--db", db];
    if let Some(at) = at {
        args.extend(["--at", at]);
    }
    let json: Value = serde_json::from_str(&cpt_ok(&args).stdout).unwrap();
    json["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let paths = p["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["path"].as_str().unwrap().to_string())
                .collect();
            (p["id"].as_str().unwrap().to_string(), paths)
        })
        .collect()
}

fn log_json(db: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["log", "--format", "json", "--db", db];
    all.extend(args);
    cpt_ok(&all)
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scans_record_their_commit_and_the_log_streams_with_filters() {
    let s = story();
    let all = log_json(&s.db, &[]);
    assert!(all.iter().all(|e| e["schema"] == "cpt.log/1"));
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    // Each scan's events carry the commit it scanned.
    for (scan, commit) in s.commits.iter().enumerate() {
        let of_scan: Vec<&Value> = all
            .iter()
            .filter(|e| e["scan"] == scan as i64 + 1)
            .collect();
        assert!(!of_scan.is_empty());
        assert!(of_scan.iter().all(|e| e["commit"] == commit.as_str()));
    }

    // --kind: a kind or a family, filtered in SQL.
    let patterns = log_json(&s.db, &["--kind", "pattern"]);
    assert!(kinds(&patterns).iter().all(|k| k.starts_with("pattern_")));
    assert!(kinds(&patterns).contains(&"pattern_dissolved".to_string()));
    let added = log_json(&s.db, &["--kind", "file_added"]);
    let paths: Vec<&str> = added.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 5, "{paths:?}");
    assert!(paths.contains(&"c.py"));

    // --since/--until by scan and by commit.
    let second = log_json(&s.db, &["--since", "scan:2", "--until", "scan:2"]);
    assert!(second.iter().all(|e| e["scan"] == 2));
    assert!(kinds(&second).contains(&"pattern_grown".to_string()));
    assert!(kinds(&second).contains(&"pattern_accepted".to_string()));
    let by_commit = log_json(
        &s.db,
        &["--since", &s.commits[1][..10], "--until", &s.commits[1]],
    );
    assert_eq!(by_commit, second);
    let by_rev = log_json(&s.db, &["--since", "HEAD~1", "--until", "HEAD~1"]);
    assert_eq!(by_rev, second);

    // --since/--until by time.
    let at = all[all.len() / 2]["at"].as_str().unwrap().to_string();
    let after = log_json(&s.db, &["--since", &at]);
    let before = log_json(&s.db, &["--until", &at]);
    assert!(
        after
            .iter()
            .all(|e| e["at"].as_str().unwrap() >= at.as_str())
    );
    assert!(
        before
            .iter()
            .all(|e| e["at"].as_str().unwrap() <= at.as_str())
    );
    assert!(after.len() + before.len() >= all.len());
    assert!(log_json(&s.db, &["--until", "2000-01-01"]).is_empty());
    assert_eq!(log_json(&s.db, &["--since", "2000-01-01"]), all);

    // --pattern: the events naming one class, the copies it has after each.
    let g = log_json(&s.db, &["--pattern", &s.g[..6]]);
    assert_eq!(kinds(&g), ["pattern_created", "pattern_dissolved"]);
    assert_eq!(g[0]["copies"], 2);
    let f = log_json(&s.db, &["--pattern", &s.f]);
    assert_eq!(
        kinds(&f),
        ["pattern_created", "pattern_grown", "pattern_accepted"]
    );
    assert_eq!(f[1]["copies"], 3);
    assert_eq!(f[2]["reason"], "kept apart on purpose");

    // --path: file and unit events of matching files, events of classes with a copy there.
    let e = log_json(&s.db, &["--path", "e.py"]);
    let e_kinds = kinds(&e);
    assert!(e_kinds.contains(&"file_added".to_string()));
    assert!(e_kinds.contains(&"units_added".to_string()));
    assert!(e_kinds.contains(&"unit_removed".to_string()));
    assert!(e_kinds.contains(&"file_removed".to_string()));
    let classes: Vec<&str> = e.iter().filter_map(|e| e["pattern"].as_str()).collect();
    // G, and the block class inside its copies (which reports leave out).
    assert!(classes.contains(&s.g.as_str()), "{e:?}");
    assert!(!classes.contains(&s.f.as_str()), "{e:?}");
    assert!(
        e.iter()
            .filter_map(|e| e["path"].as_str())
            .all(|p| p == "e.py")
    );

    // Text: one line per event with its time, scan and short commit.
    let text = cpt_ok(&[
        "log",
        "--db",
        &s.db,
        "--kind",
        "pattern_grown",
        "--pattern",
        &s.f,
    ])
    .stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].contains(&format!("scan 2 @{} pattern_grown", &s.commits[1][..7])),
        "{text}"
    );
    assert!(lines[0].contains(&format!("{} T", s.f)), "{text}");
    assert!(lines[0].ends_with("3 copies (+1)"), "{text}");
    let text = cpt_ok(&["log", "--db", &s.db, "--kind", "file_removed"]).stdout;
    assert!(
        text.trim_end().ends_with("file_removed       e.py"),
        "{text}"
    );
}

#[test]
fn history_tells_a_class_life_and_at_replays_the_past() {
    let s = story();
    // A living class: created, grew (with the file), accepted.
    let run = cpt_ok(&["history", &s.f[..8], "--db", &s.db]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines[0], format!("class {}", s.f));
    assert!(lines[1].contains("scan 1 @") && lines[1].contains("created, T"));
    assert!(lines[1].ends_with("2 copies"), "{}", run.stdout);
    assert!(
        run.stdout.contains("      a.py\n      b.py\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("grew by 1 to 3 copies\n      c.py\n"));
    assert!(run.stdout.contains("accepted: kept apart on purpose"));
    // A dissolved class has a history too.
    let json: Value =
        serde_json::from_str(&cpt_ok(&["history", &s.g, "--format", "json", "--db", &s.db]).stdout)
            .unwrap();
    assert_eq!(json["schema"], "cpt.history/1");
    assert_eq!(json["id"], s.g.as_str());
    let events = json["events"].as_array().unwrap();
    let changes: Vec<&str> = events
        .iter()
        .map(|e| e["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["created", "dissolved"]);
    assert_eq!(events[0]["commit"], s.commits[0].as_str());
    assert_eq!(events[1]["commit"], s.commits[2].as_str());
    assert_eq!(events[1]["copies"], 0);

    // --at the last scan is the report of today, byte for byte.
    let now = cpt_ok(&["clones", "--format", "json", "--db", &s.db]).stdout;
    for at in ["scan:3", "HEAD", &s.commits[2]] {
        let then = cpt_ok(&["clones", "--format", "json", "--db", &s.db, "--at", at]).stdout;
        assert_eq!(then, now, "--at {at}");
    }
    let today = cpt_ok(&["stats", "--format", "json", "--db", &s.db]).stdout;
    let then = cpt_ok(&["stats", "--format", "json", "--db", &s.db, "--at", "scan:3"]).stdout;
    assert_eq!(then, today);
    // Text too, with the acceptance.
    assert_eq!(
        cpt_ok(&["clones", "--db", &s.db, "--at", "scan:3"]).stdout,
        cpt_ok(&["clones", "--db", &s.db]).stdout
    );

    // Earlier: the dissolved class, F before it grew.
    let first = clones_at(&s.db, Some("scan:1"));
    let by_commit = clones_at(&s.db, Some(&s.commits[0][..8]));
    let by_rev = clones_at(&s.db, Some("HEAD~2"));
    assert_eq!(first, by_commit);
    assert_eq!(first, by_rev);
    let of = |classes: &[(String, Vec<String>)], id: &str| {
        classes
            .iter()
            .find(|(c, _)| c == id)
            .map(|(_, p)| p.clone())
    };
    assert_eq!(of(&first, &s.g), Some(vec!["d.py".into(), "e.py".into()]));
    assert_eq!(of(&first, &s.f), Some(vec!["a.py".into(), "b.py".into()]));
    let second = clones_at(&s.db, Some("scan:2"));
    assert_eq!(of(&second, &s.f).unwrap().len(), 3);
    assert!(of(&second, &s.g).is_some());
    assert!(of(&clones_at(&s.db, None), &s.g).is_none());
    let stats: Value = serde_json::from_str(
        &cpt_ok(&["stats", "--format", "json", "--db", &s.db, "--at", "scan:1"]).stdout,
    )
    .unwrap();
    assert_eq!(stats["files"], 4);
    assert_eq!(stats["patterns"], 2);

    // --at a date or a time: before every scan the catalogue was empty; today it is now.
    assert!(clones_at(&s.db, Some("2000-01-01")).is_empty());
    assert!(clones_at(&s.db, Some("2000-01-01T00:00:00Z")).is_empty());
    let last = log_json(&s.db, &[]).pop().unwrap();
    let day = &last["at"].as_str().unwrap()[..10];
    assert_eq!(clones_at(&s.db, Some(day)), clones_at(&s.db, None));
    let scan_one_end = log_json(&s.db, &["--until", "scan:1"]).pop().unwrap();
    let t = scan_one_end["at"].as_str().unwrap();
    let at_t = clones_at(&s.db, Some(t));
    assert!(of(&at_t, &s.g).is_some());
    let _ = &s.root;
}

/// `cpt history ID --format json`: the events.
fn history_json(db: &str, id: &str) -> Vec<Value> {
    let json: Value =
        serde_json::from_str(&cpt_ok(&["history", id, "--format", "json", "--db", db]).stdout)
            .unwrap();
    json["events"].as_array().unwrap().clone()
}

/// The history line of `scan N`, which must be the only one.
fn line_of_scan(text: &str, scan: u32) -> &str {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(&format!(" scan {scan} @")))
        .collect();
    assert_eq!(lines.len(), 1, "scan {scan}: {text}");
    lines[0]
}

#[test]
fn history_tells_a_copy_that_moved_apart_from_one_that_grew() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    let db = path_str(&dir.path().join("c.db")).to_string();
    git(&root, &["init", "-q"]);
    // 1. F: a.py and b.py (beside a function of its own); G: d.py, e.py, f.py.
    write(&root, "a.py", py_function("merge", 1));
    let merge_again = py_function("merge_again", 1);
    let own = py_function("own", 3);
    write(&root, "b.py", format!("{merge_again}\n\n{own}"));
    write(&root, "util.py", py_function("tool", 4));
    write(&root, "d.py", py_function("wrap", 2));
    write(&root, "e.py", py_function("wrap_again", 2));
    write(&root, "f.py", py_function("wrap_third", 2));
    commit(&root, "one");
    scan(&root, Some(Path::new(&db)));
    let ids = class_ids(&db);
    let of = |file: &str| {
        ids.iter()
            .find(|(_, paths)| paths.contains(&file.to_string()))
            .unwrap_or_else(|| panic!("{file}: {ids:?}"))
            .0
            .clone()
    };
    let (f, g) = (of("a.py"), of("d.py"));
    // 2. a.py renamed.
    git(&root, &["mv", "a.py", "renamed.py"]);
    commit(&root, "two");
    scan(&root, Some(Path::new(&db)));
    // 3. F's copy cut from b.py and pasted into util.py.
    write(&root, "b.py", &own);
    write(
        &root,
        "util.py",
        format!("{}\n\n{merge_again}", py_function("tool", 4)),
    );
    commit(&root, "three");
    scan(&root, Some(Path::new(&db)));
    // 4. F grows (c.py) while G shrinks (f.py removed).
    write(&root, "c.py", py_function("merge_third", 1));
    std::fs::remove_file(root.join("f.py")).unwrap();
    commit(&root, "four");
    scan(&root, Some(Path::new(&db)));

    // The log has a shrink and a growth for each move; history tells one move.
    let logged = log_json(
        &db,
        &["--pattern", &f, "--since", "scan:2", "--until", "scan:3"],
    );
    assert_eq!(
        kinds(&logged)
            .iter()
            .filter(|k| *k == "pattern_grown")
            .count(),
        2,
        "{logged:?}"
    );
    assert_eq!(
        kinds(&logged)
            .iter()
            .filter(|k| *k == "pattern_shrunk")
            .count(),
        2,
        "{logged:?}"
    );
    let text = cpt_ok(&["history", &f, "--db", &db]).stdout;
    assert!(
        line_of_scan(&text, 2).ends_with(" moved 1 copy: a.py -> renamed.py (2 copies)"),
        "{text}"
    );
    assert!(
        line_of_scan(&text, 3).ends_with(" moved 1 copy: b.py -> util.py (2 copies)"),
        "{text}"
    );
    assert!(
        line_of_scan(&text, 4).ends_with(" grew by 1 to 3 copies"),
        "{text}"
    );
    assert!(
        text.ends_with("grew by 1 to 3 copies\n      c.py\n"),
        "{text}"
    );
    assert!(!text.contains("shrank"), "{text}");
    let text = cpt_ok(&["history", &g, "--db", &db]).stdout;
    assert!(
        text.ends_with("shrank by 1 to 2 copies\n      f.py\n"),
        "{text}"
    );

    // JSON: a `moved` change with where each copy was and is; the other fields as ever.
    let events = history_json(&db, &f);
    let changes: Vec<&str> = events
        .iter()
        .map(|e| e["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["created", "moved", "moved", "grew"]);
    let moved = &events[1];
    assert_eq!(moved["scan"], 2);
    assert_eq!(moved["moved"], 1);
    assert_eq!(moved["from"], serde_json::json!(["a.py"]));
    assert_eq!(moved["to"], serde_json::json!(["renamed.py"]));
    assert_eq!(moved["copies"], 2);
    assert_eq!(moved["paths"], serde_json::json!(["a.py", "renamed.py"]));
    assert_eq!(moved["clone_type"], events[0]["clone_type"]);
    assert!(moved["lines"].as_u64().unwrap() > 0);
    assert!(moved["commit"].is_string() && moved["at"].is_string());
    assert_eq!(events[2]["from"], serde_json::json!(["b.py"]));
    assert_eq!(events[2]["to"], serde_json::json!(["util.py"]));
    assert_eq!(events[3]["copies"], 3);
    assert_eq!(events[3]["paths"], serde_json::json!(["c.py"]));
    let changes: Vec<String> = history_json(&db, &g)
        .iter()
        .map(|e| e["change"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(changes, ["created", "shrank"]);

    // Without the paths (what `cpt mcp`'s clone_class asks for), the same changes: a class no
    // scan both grew and shrank is told from its own events alone.
    let catalogue = cpt::engine::Catalogue::open(Path::new(&db)).unwrap();
    let told = |id: &str| -> Vec<String> {
        let events = catalogue.history(id.parse().unwrap()).unwrap();
        events
            .iter()
            .map(|e| {
                let change = format!("{:?}", e.change);
                change
                    .split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap()
                    .to_lowercase()
            })
            .collect()
    };
    assert_eq!(told(&f), ["created", "moved", "moved", "grew"]);
    assert_eq!(told(&g), ["created", "shrank"]);
}

#[test]
fn bad_points_kinds_and_ids_are_one_line_errors() {
    let s = story();
    for args in [
        &["clones", "--at", "scan:9"][..],
        &["clones", "--at", "scan:x"],
        &["stats", "--at", "2026-02-30"],
        &["clones", "--at", "no-such-branch"],
        &["log", "--since", "2026-13-01"],
        &["log", "--until", "deadbeefdeadbeef"],
        &["log", "--kind", "files"],
        &["log", "--pattern", "xyz"],
        &["log", "--path", "a{"],
        &["history", "0000"],
        &["history", "zz"],
    ] {
        let mut all = args.to_vec();
        all.extend(["--db", &s.db]);
        let run = cpt(&all);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("cpt: "), "{args:?}: {}", run.stderr);
    }
    let run = cpt(&["clones", "--at", "scan:9", "--db", &s.db]);
    assert_eq!(
        run.stderr,
        "cpt: --at scan:9: no such scan (scans 1 to 3)\n"
    );
    // A word that is none of these says what it could have been, not git's empty complaint.
    let run = cpt(&["log", "--since", "yesterday", "--db", &s.db]);
    assert!(
        run.stderr
            .ends_with(": not a date (YYYY-MM-DD), an RFC 3339 time, scan:N or a commit\n")
            || run.stderr.contains("a commit of "),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.trim_end().ends_with(':'), "{}", run.stderr);
    assert!(!run.stderr.contains("rev-parse"), "{}", run.stderr);
}

#[test]
fn a_scan_outside_git_records_no_commit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    write(&root, "a.py", py_function("merge", 1));
    write(&root, "b.py", py_function("merge_again", 1));
    let db = dir.path().join("c.db");
    scan(&root, Some(&db));
    let events = log_json(path_str(&db), &[]);
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e["commit"].is_null()));
    let run = cpt(&["clones", "--at", "HEAD", "--db", path_str(&db)]);
    assert_eq!(run.code, 2);
}
