//! `cpt similar FILE:LINE` as an editor asks it: any function whatever its size, never the
//! function around it or inside it, and from the catalogue without parsing when the file is
//! as the last scan saw it.

use std::path::Path;

use serde_json::Value;

use cpt::engine::{self, similar::QueryFrom};
use cpt::fingerprint::Thresholds;
use cpt::store::Store;

use crate::common::{cpt, cpt_ok, default_db, path_str, py_function, scan, write};

fn similar(root: &Path, target: &str) -> Value {
    let db = default_db(root);
    let target = root.join(target);
    let run = cpt_ok(&[
        "similar",
        path_str(&target),
        "--format",
        "json",
        "--db",
        path_str(&db),
    ]);
    serde_json::from_str(&run.stdout).expect("similar JSON")
}

/// (path, clone type, name) of the first query's matches.
fn found(answer: &Value) -> Vec<(String, String, String)> {
    answer["queries"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap().to_string(),
                m["clone_type"].as_str().unwrap().to_string(),
                m["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn owned(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn a_small_function_gets_its_exact_and_renamed_copies_in_every_language() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Python: two-line functions, far below the unit size.
    write(
        root,
        "a.py",
        "import math\n\n\ndef area(width, height):\n    return width * height + 1\n",
    );
    write(
        root,
        "b.py",
        "def area(width, height):\n    return width * height + 1\n",
    );
    write(
        root,
        "c.py",
        "X = 3\n\n\ndef surface(w, h):\n    return w * h + 1\n",
    );
    write(
        root,
        "d.py",
        "def area(width, height):\n    return width - height\n",
    );
    // Java: getters.
    write(
        root,
        "A.java",
        "class A {\n    private int size;\n    int getSize() {\n        return size;\n    }\n}\n",
    );
    write(
        root,
        "B.java",
        "class B {\n    private int count;\n    int getCount() {\n        return count;\n    }\n    void reset() { count = 0; }\n}\n",
    );
    scan(root, None);

    let answer = similar(root, "a.py:5");
    assert_eq!(answer["queries"][0]["name"], "area");
    assert_eq!(
        found(&answer),
        owned(&[("b.py", "T1", "area"), ("c.py", "T2", "surface")])
    );
    let answer = similar(root, "A.java:4");
    assert_eq!(answer["queries"][0]["name"], "getSize");
    assert_eq!(found(&answer), owned(&[("B.java", "T2", "getCount")]));

    // A line outside every function is the only error.
    let db = default_db(root);
    let run = cpt(&[
        "similar",
        &format!("{}:1", root.join("a.py").display()),
        "--db",
        path_str(&db),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("a.py:1: no function there"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    // The copies follow the files: removing one, editing another.
    std::fs::remove_file(root.join("b.py")).unwrap();
    write(
        root,
        "c.py",
        "X = 3\n\n\ndef surface(w, h):\n    return w * h * 2\n",
    );
    scan(root, None);
    assert_eq!(found(&similar(root, "a.py:5")), owned(&[]));
    let run = cpt_ok(&["rebuild", "--db", path_str(&db)]);
    assert_eq!(run.code, 0);
    assert_eq!(
        found(&similar(root, "A.java:4")),
        owned(&[("B.java", "T2", "getCount")])
    );
}

/// A decorator: the outer function is its inner one and a line more, so the two are near-miss
/// copies by their tokens — but one is inside the other.
const DECORATOR: &str = "import functools


def with_retries(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        attempts = 0
        while True:
            try:
                result = f(*args, **kwargs)
                log_success(f.__name__, attempts)
                return result
            except IOError as error:
                attempts = attempts + 1
                if attempts > 3:
                    raise
                log_failure(f.__name__, attempts, error)
    return wrapper
";

#[test]
fn a_function_is_never_a_match_of_the_function_around_it_or_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "retry.py", DECORATOR);
    // A real copy of the inner function elsewhere, so the answers are not empty by accident.
    let inner: String = DECORATOR
        .lines()
        .skip(5)
        .take(12)
        .map(|l| format!("{}\n", &l[4..]))
        .collect();
    write(root, "copy.py", format!("import logging\n\n{inner}"));
    scan(root, None);
    for line in ["retry.py:4", "retry.py:8"] {
        let answer = similar(root, line);
        let paths: Vec<String> = found(&answer).into_iter().map(|(p, _, _)| p).collect();
        assert!(!paths.contains(&"retry.py".to_string()), "{line}: {answer}");
    }
    let answer = similar(root, "retry.py:8");
    assert_eq!(answer["queries"][0]["name"], "wrapper");
    assert!(
        found(&answer).iter().any(|(p, _, _)| p == "copy.py"),
        "{answer}"
    );
}

#[test]
fn an_unchanged_file_is_answered_from_the_catalogue_as_a_parse_would() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut text = String::from("import os\n\n\ndef tiny(a):\n    return a + 1\n\n\n");
    for (i, n) in [3usize, 7, 11].iter().enumerate() {
        text.push_str(&py_function(&format!("f{i}"), *n));
        text.push_str("\n\n");
    }
    text.push_str("class K:\n    def get(self):\n        return self.k\n");
    write(root, "m.py", &text);
    write(root, "n.py", py_function("other", 3));
    scan(root, None);
    let store = Store::open_existing(&default_db(root)).unwrap();
    let thresholds = Thresholds::default();
    let lines = text.lines().count() as u32;
    for line in (1..=lines).map(Some).chain([None]) {
        let (from_catalogue, from) = engine::similar::query_units(
            &store,
            Some("m.py"),
            "python",
            text.as_bytes(),
            thresholds,
            line,
            None,
        )
        .unwrap();
        assert_eq!(from, QueryFrom::Catalogue);
        let (parsed, from) = engine::similar::query_units(
            &store,
            None,
            "python",
            text.as_bytes(),
            thresholds,
            line,
            None,
        )
        .unwrap();
        assert_eq!(from, QueryFrom::Parse);
        assert_eq!(from_catalogue, parsed, "line {line:?}");
    }
    // Changed since the scan: parsed again, and the answer is about the new text.
    let edited = text.replace("return a + 1", "return a + 2");
    let (units, from) = engine::similar::query_units(
        &store,
        Some("m.py"),
        "python",
        edited.as_bytes(),
        thresholds,
        Some(5),
        None,
    )
    .unwrap();
    assert_eq!(from, QueryFrom::Parse);
    assert_eq!(units.len(), 1);
    assert_eq!(units[0].name, "tiny");
    // An editor's buffer, typed into twice: the second version is parsed from the first's
    // tree, and its units are those of a fresh parse.
    let recent = cpt::scan::reparse::Recent::new();
    let ask = |source: &str, recent| {
        engine::similar::query_units(
            &store,
            Some("m.py"),
            "python",
            source.as_bytes(),
            thresholds,
            None,
            recent,
        )
        .unwrap()
    };
    assert_eq!(ask(&edited, Some(&recent)).1, QueryFrom::Parse);
    let typed = edited.replace("return a + 2", "return a + 20");
    let (reparsed, from) = ask(&typed, Some(&recent));
    assert_eq!(from, QueryFrom::Reparse);
    assert_eq!(reparsed, ask(&typed, None).0);
}

#[test]
fn after_a_rescan_with_a_delta_segment_similar_answers_as_a_fresh_catalogue_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for i in 0..48 {
        write(
            root,
            &format!("m{i}.py"),
            py_function(&format!("f{i}"), i % 16),
        );
    }
    write(root, "near.py", crate::common::NEAR_COPY);
    scan(root, None);
    // One copy goes (its shape is gone from the live index), another file changes.
    std::fs::remove_file(root.join("near.py")).unwrap();
    std::fs::remove_file(root.join("m21.py")).unwrap();
    write(root, "m3.py", py_function("changed", 9));
    scan(root, None);
    assert!(
        root.join(".cpt/cpt.index-delta").exists(),
        "the rescan left a delta segment"
    );
    let fresh = tempfile::tempdir().unwrap();
    let fresh_db = fresh.path().join("fresh.db");
    cpt_ok(&[
        "scan",
        path_str(root),
        "--db",
        path_str(&fresh_db),
        "--quiet",
    ]);
    for i in [0, 5, 9, 13, 37] {
        let target = format!("{}:3", root.join(format!("m{i}.py")).display());
        let ask = |db: &Path| {
            let run = cpt_ok(&["similar", &target, "--format", "json", "--db", path_str(db)]);
            let mut v: Value = serde_json::from_str(&run.stdout).unwrap();
            v["root"] = Value::Null;
            v
        };
        assert_eq!(ask(&default_db(root)), ask(&fresh_db), "{target}");
    }
}
