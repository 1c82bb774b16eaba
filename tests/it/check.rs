//! `cpt check`: exit codes, the diff base, the baseline, accepted classes, `[check]` in
//! cpt.toml, and SARIF that validates against the SARIF 2.1.0 schema and GitHub's rules.

use std::path::Path;

use serde_json::Value;

use crate::common::{cpt, cpt_ok, git, path_str, py_function, write};

/// `cpt check ROOT ARGS… --format json`: (exit code, report).
fn check(root: &Path, args: &[&str]) -> (i32, Value) {
    let mut argv = vec!["check", path_str(root), "-q", "--format", "json"];
    argv.extend_from_slice(args);
    let run = cpt(&argv);
    assert!(
        run.code == 0 || run.code == 1,
        "cpt {argv:?}: exit {}\n{}",
        run.code,
        run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("cpt.check/1 JSON");
    assert_eq!(report["schema"], "cpt.check/1");
    assert_eq!(report["passed"], run.code == 0);
    (run.code, report)
}

/// The failing classes' flagged copies, as sorted `path:name`.
fn flagged(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for class in report["classes"].as_array().unwrap() {
        if class["fails"] != true {
            continue;
        }
        for i in class["flagged"].as_array().unwrap() {
            let m = &class["members"][i.as_u64().unwrap() as usize];
            out.push(format!(
                "{}:{}",
                m["path"].as_str().unwrap(),
                m["name"].as_str().unwrap()
            ));
        }
    }
    out.sort();
    out
}

fn commit_all(root: &Path, message: &str) {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", message]);
}

/// A pull request fails on the classes its changes touch, naming the copies it added: a file
/// it only renamed is not new code, copies committed on the branch, staged, changed in the
/// working tree or untracked are.
#[test]
fn a_diff_base_fails_only_on_classes_the_changes_touch() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, ".gitignore", ".cpt/\n");
    write(root, "a.py", py_function("merge_ranges", 1));
    write(root, "b.py", py_function("merge_spans", 1));
    write(root, "c.py", py_function("fold_text", 2));
    commit_all(root, "main");
    let (code, report) = check(root, &[]);
    assert_eq!(code, 1, "without a base every class fails");
    assert_eq!(report["fail_on"], "any");
    git(root, &["checkout", "-q", "-b", "feature"]);
    std::fs::create_dir(root.join("pkg")).unwrap();
    git(root, &["mv", "b.py", "pkg/b_moved.py"]);
    commit_all(root, "rename");
    let (code, report) = check(root, &["--base", "main"]);
    assert_eq!(code, 0, "a renamed file is not new code: {report:#}");
    assert_eq!(report["fail_on"], "new");
    assert_eq!(report["diff"]["lines"], 0);
    // A copy of c.py's function, committed on the branch.
    write(root, "d.py", py_function("fold_words", 2));
    commit_all(root, "copy");
    let (code, report) = check(root, &["--base", "main"]);
    assert_eq!(code, 1);
    assert_eq!(flagged(&report), ["d.py:fold_words"]);
    // Untracked, a third copy of a.py's function: its class fails too, naming that copy only.
    write(root, "e.py", py_function("merge_more", 1));
    let (_, report) = check(root, &["--base", "main"]);
    assert_eq!(flagged(&report), ["d.py:fold_words", "e.py:merge_more"]);
    // `--diff HEAD`: only what is not committed yet.
    let (_, report) = check(root, &["--diff", "HEAD"]);
    assert_eq!(flagged(&report), ["e.py:merge_more"]);
    // A change inside a copy that existed makes its class new to this change.
    std::fs::remove_file(root.join("e.py")).unwrap();
    let changed = py_function("merge_ranges", 1).replace("def merge_ranges", "def merge_ranges ");
    write(root, "a.py", changed);
    let (code, report) = check(root, &["--diff", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(flagged(&report), ["a.py:merge_ranges"]);
    assert_eq!(report["diff"]["rev"], "HEAD");
    // Errors are exit 2 with one line.
    let run = cpt(&["check", path_str(root), "-q", "--base", "no-such-branch"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("cpt: --base no-such-branch: no merge base with HEAD"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1);
}

/// A baseline lists the classes that exist by content: moving a copy to another file and
/// reformatting it does not make its class new; a class with one more copy, or a new class,
/// is.
#[test]
fn a_baseline_survives_moves_and_reformatting_and_catches_growth() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    write(&root, "a.py", py_function("merge_ranges", 1));
    write(&root, "b.py", py_function("merge_spans", 1));
    let baseline = dir.path().join("cpt-baseline.txt");
    let baseline_arg = path_str(&baseline);
    let run = cpt(&[
        "check",
        path_str(&root),
        "-q",
        "--baseline",
        baseline_arg,
        "--update-baseline",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&baseline).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].ends_with(" 2 function merge_ranges"), "{text}");
    // Moved to another directory, with blank lines and a comment added.
    std::fs::remove_file(root.join("b.py")).unwrap();
    let moved = py_function("merge_spans", 1).replacen('\n', "\n    # moved here\n\n", 1);
    write(&root, "lib/deep/b.py", moved);
    let (code, report) = check(&root, &["--baseline", baseline_arg]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["classes"][0]["baseline_copies"], 2);
    write(&root, "c.py", py_function("merge_again", 1));
    let (code, report) = check(&root, &["--baseline", baseline_arg]);
    assert_eq!(code, 1);
    assert_eq!(report["classes"][0]["why"], "grew from 2 to 3 copies");
    std::fs::remove_file(root.join("c.py")).unwrap();
    write(&root, "d.py", py_function("fold_text", 2));
    write(&root, "e.py", py_function("fold_words", 2));
    let (code, report) = check(&root, &["--baseline", baseline_arg]);
    assert_eq!(code, 1);
    assert_eq!(flagged(&report), ["d.py:fold_text", "e.py:fold_words"]);
    // --fail-on any fails on the known class too.
    let (_, report) = check(&root, &["--baseline", baseline_arg, "--fail-on", "any"]);
    assert_eq!(flagged(&report).len(), 4);
}

/// An accepted class passes the gate while its copies are the ones accepted, survives a
/// rebuild of the catalogue and, through the committed file, a fresh catalogue; a new copy
/// makes it fail again.
#[test]
fn an_accepted_class_passes_until_it_gets_a_new_copy() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("merge_ranges", 1));
    write(root, "b.py", py_function("merge_spans", 1));
    let (code, report) = check(root, &[]);
    assert_eq!(code, 1);
    let id = report["classes"][0]["id"].as_str().unwrap().to_string();
    let db = root.join(".cpt/cpt.db");
    let db_arg = path_str(&db);
    let run = cpt_ok(&[
        "accept",
        &id[..6],
        "--reason",
        "two parsers on purpose",
        "--db",
        db_arg,
    ]);
    assert!(run.stdout.starts_with(&format!("accepted {id} (2 copies)")));
    let file = std::fs::read_to_string(root.join("cpt-accepted.toml")).unwrap();
    assert!(file.contains(&format!("id = \"{id}\"")), "{file}");
    assert!(
        file.contains("reason = \"two parsers on purpose\""),
        "{file}"
    );
    let (code, report) = check(root, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["classes"][0]["accepted"], "two parsers on purpose");
    let text = cpt_ok(&["clones", "--db", db_arg]).stdout;
    assert!(
        text.contains("  accepted: two parsers on purpose\n"),
        "{text}"
    );
    // The decision is an event: a rebuild keeps it.
    cpt_ok(&["rebuild", "--db", db_arg]);
    let clones = crate::common::clones(&db);
    assert_eq!(clones["patterns"][0]["accepted"], "two parsers on purpose");
    // A fresh catalogue (a CI machine) reads it from the committed file.
    std::fs::remove_dir_all(root.join(".cpt")).unwrap();
    assert_eq!(check(root, &[]).0, 0);
    // A new copy ends the acceptance.
    write(root, "c.py", py_function("merge_again", 1));
    let (code, report) = check(root, &[]);
    assert_eq!(code, 1);
    assert!(report["classes"][0].get("accepted").is_none());
    std::fs::remove_file(root.join("c.py")).unwrap();
    assert_eq!(check(root, &[]).0, 0);
    cpt_ok(&["unaccept", &id, "--db", db_arg]);
    assert!(
        !std::fs::read_to_string(root.join("cpt-accepted.toml"))
            .unwrap()
            .contains(&id)
    );
    assert_eq!(check(root, &[]).0, 1);
    let run = cpt(&["unaccept", &id, "--db", db_arg]);
    assert_eq!(run.code, 2);
}

/// A `cpt: ignore` comment keeps a copy out of the catalogue, so out of the gate.
#[test]
fn an_ignored_copy_does_not_fail_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("merge_ranges", 1));
    write(root, "b.py", py_function("merge_spans", 1));
    assert_eq!(check(root, &[]).0, 1);
    write(
        root,
        "b.py",
        format!("# cpt: ignore\n{}", py_function("merge_spans", 1)),
    );
    let (code, report) = check(root, &[]);
    assert_eq!(code, 0, "{report:#}");
}

/// `[check]` in cpt.toml sets the gates; flags override it.
#[test]
fn gates_come_from_cpt_toml_unless_flags_say_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("merge_ranges", 1));
    write(root, "b.py", py_function("merge_spans", 1));
    write(root, "c.py", py_function("fold_text", 2));
    write(
        root,
        "cpt.toml",
        "[check]\nmax_duplication = 10\nfail_on = \"new\"\n",
    );
    let (code, report) = check(root, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["fail_on"], "new");
    assert_eq!(flagged(&report).len(), 0, "nothing is new without a base");
    assert_eq!(report["duplication"]["passed"], false);
    assert_eq!(report["duplication"]["max"], 0.1);
    let (code, report) = check(root, &["--max-duplication", "90"]);
    assert_eq!(code, 0, "{report:#}");
    write(root, "cpt.toml", "[check]\nmin_lines = 1000\n");
    let (code, report) = check(root, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["classes"].as_array().unwrap().len(), 0);
    let (code, report) = check(root, &["--min-lines", "2"]);
    assert_eq!(code, 1);
    assert_eq!(report["fail_on"], "any");
    write(root, "cpt.toml", "[check]\nfail_on = \"sometimes\"\n");
    let run = cpt(&["check", path_str(root), "-q"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cpt.toml: [check] fail_on must be new or any, not `sometimes`"),
        "{}",
        run.stderr
    );
}

/// The SARIF of `check` and of `clones` validates against the SARIF 2.1.0 schema and GitHub's
/// rules (`tests/tools/sarif_validate.py`, with the Python that `CPT_SARIF_PYTHON` names, as
/// `.ci/run` sets up; elsewhere the test says it is skipped).
#[test]
fn sarif_validates_against_the_schema_and_githubs_rules() {
    let python = std::env::var("CPT_SARIF_PYTHON").unwrap_or_default();
    if python.is_empty() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set CPT_SARIF_PYTHON (see .ci/run)"
        );
        eprintln!("skipped: CPT_SARIF_PYTHON is not set");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a tree");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for lang in ["python", "java", "cpp"] {
        for entry in std::fs::read_dir(fixtures.join(lang)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            write(
                &root,
                &format!("{lang} src/{name}"),
                std::fs::read(&path).unwrap(),
            );
        }
    }
    let run = cpt(&["check", path_str(&root), "-q", "--format", "sarif"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let db = root.join(".cpt/cpt.db");
    let clones = cpt_ok(&["clones", "--format", "sarif", "--db", path_str(&db)]);
    for (name, text) in [("check", &run.stdout), ("clones", &clones.stdout)] {
        let doc: Value = serde_json::from_str(text).unwrap();
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert!(results.len() >= 4, "{name}: {text}");
        let uri = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert!(uri.as_str().unwrap().contains("%20src/"), "{uri}");
        let file = dir.path().join(format!("{name}.sarif"));
        std::fs::write(&file, text).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/sarif_validate.py");
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(&file)
            .output()
            .expect("the validator runs");
        assert!(
            out.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
