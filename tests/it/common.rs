//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The result of one in-process `cpt` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cpt` in-process with these arguments (without the program name).
pub fn cpt(args: &[&str]) -> Run {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let argv = std::iter::once("cpt").chain(args.iter().copied());
    let code = cpt::run_with_args(argv, &mut stdout, &mut stderr);
    Run {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// Run `cpt` and insist that it succeeds.
pub fn cpt_ok(args: &[&str]) -> Run {
    let run = cpt(args);
    assert_eq!(
        run.code, 0,
        "cpt {args:?} failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run
}

/// The built binary, for tests that need a real process.
pub fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_cpt"))
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// Scan `root` into the catalogue `db` (default: the root's own `.cpt/`).
pub fn scan(root: &Path, db: Option<&Path>) -> Run {
    let mut args = vec!["scan", path_str(root), "--quiet"];
    if let Some(db) = db {
        args.extend(["--db", path_str(db)]);
    }
    cpt_ok(&args)
}

pub fn default_db(root: &Path) -> PathBuf {
    root.join(".cpt/cpt.db")
}

/// `cpt clones --format json` of a catalogue.
pub fn clones(db: &Path) -> Value {
    let run = cpt_ok(&["clones", "--format", "json", "--db", path_str(db)]);
    serde_json::from_str(&run.stdout).expect("clones JSON")
}

/// `cpt stats --format json` of a catalogue.
pub fn stats(db: &Path) -> Value {
    let run = cpt_ok(&["stats", "--format", "json", "--db", path_str(db)]);
    serde_json::from_str(&run.stdout).expect("stats JSON")
}

/// Each clone class as (type, sorted "path:name" members), sorted.
pub fn classes(clones: &Value) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = clones["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut members: Vec<String> = p["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    format!(
                        "{}:{}",
                        m["path"].as_str().unwrap(),
                        m["name"].as_str().unwrap()
                    )
                })
                .collect();
            members.sort();
            (p["clone_type"].as_str().unwrap().to_string(), members)
        })
        .collect();
    out.sort();
    out
}

/// Write `text` to `root/rel`, creating directories.
pub fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A realistic Python function of about 12 lines, varied by `n` in names and structure.
pub fn py_function(name: &str, n: usize) -> String {
    let ops = ["+", "-", "*", "//", "%", "|", "&", "^"];
    let op = ops[n % ops.len()];
    let extra = "        if item is None:\n            continue\n".repeat(1 + n % 3);
    format!(
        "def {name}(items, limit={n}):\n    \"\"\"Fold items {n}.\"\"\"\n    total = {n}\n    seen = set()\n    for item in items:\n{extra}        if item in seen:\n            continue\n        seen.add(item)\n        total = total {op} item\n        if total > limit * {n}:\n            break\n    return total, len(seen)\n\n"
    )
}
