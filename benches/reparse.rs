//! Incremental reparse against a full parse, on the edits the watch benchmark makes.
//!
//! ```text
//! cargo bench --bench reparse -- [--tree DIR] [--edits 200] [--seed 1] [--reps 5]
//! ```
//!
//! Takes random Python files of DIR (default: the machine's Python standard library) and
//! makes one edit to each, in three kinds taken in turn, as `benches/watch/latency.py` does:
//! a statement added at the end of a function, a copy of another file's function pasted at
//! the end, a function deleted. For each edit it times, on the new text, a full parse and
//! fingerprint, and the watcher's way: a parse from the old version's tree (edited with
//! `Tree::edit`) and a fingerprint that reuses the prints of the units the edit did not touch
//! (`reparse::fingerprint` with the old version kept in a `Recent`, which is not timed). Each
//! is the minimum of `--reps` runs; the two results are checked equal. Prints p50/p95 of both,
//! the median ratio, and how often the reparse fell back to a full parse (syntax errors).

use std::path::{Path, PathBuf};
use std::time::Instant;

use cpt::fingerprint::{self, Thresholds};
use cpt::parse;
use cpt::parse::lang::{self, UnitKind};
use cpt::scan::reparse::{self, Recent};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let tree = flag("--tree").map(PathBuf::from).unwrap_or_else(stdlib);
    let edits: usize = flag("--edits").map_or(200, |v| v.parse().expect("--edits N"));
    let reps: usize = flag("--reps").map_or(5, |v| v.parse().expect("--reps N"));
    let mut state: u64 = flag("--seed").map_or(1, |v| v.parse().expect("--seed N"));
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % n.max(1) as u64) as usize
    };

    let mut files = Vec::new();
    collect(&tree, &mut files);
    files.sort();
    let python = lang::by_id("python").expect("python");
    let thresholds = Thresholds::default();
    let functions = |text: &[u8]| -> Vec<(u32, u32)> {
        let tree = parse::parse(python, text).expect("tree");
        fingerprint::fingerprint(python, &tree, text, thresholds)
            .units
            .into_iter()
            .filter(|u| u.kind != UnitKind::Block && u.end_line - u.start_line >= 6)
            .map(|u| (u.start_line, u.end_line))
            .collect()
    };

    let (mut full, mut incremental, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut parse_full, mut parse_incremental) = (Vec::new(), Vec::new());
    let (mut fell_back, mut bytes) = (0, 0usize);
    let mut kind = 0;
    while full.len() < edits {
        let path = &files[next(files.len())];
        let Ok(old) = std::fs::read(path) else {
            continue;
        };
        let fns = functions(&old);
        if fns.is_empty() || std::str::from_utf8(&old).is_err() {
            continue;
        }
        let lines: Vec<&[u8]> = old.split(|&c| c == b'\n').collect();
        let (start, end) = fns[next(fns.len())];
        let (start, end) = (start as usize, end as usize);
        let mut new_lines: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
        match kind % 3 {
            0 => {
                let body = lines.get(start).copied().unwrap_or(b"    ");
                let indent: Vec<u8> = body
                    .iter()
                    .take_while(|c| c.is_ascii_whitespace())
                    .copied()
                    .collect();
                let mut line = indent;
                line.extend_from_slice(format!("_cpt_probe = {}", next(1 << 30)).as_bytes());
                new_lines.insert(end.min(new_lines.len()), line);
            }
            1 => {
                let donor = &files[next(files.len())];
                let Ok(text) = std::fs::read(donor) else {
                    continue;
                };
                let Some(&(s, e)) = functions(&text).first() else {
                    continue;
                };
                let donor_lines: Vec<&[u8]> = text.split(|&c| c == b'\n').collect();
                new_lines.push(Vec::new());
                new_lines.extend(
                    donor_lines[s as usize - 1..e as usize]
                        .iter()
                        .map(|l| l.to_vec()),
                );
            }
            _ => drop(new_lines.drain(start - 1..end.min(new_lines.len()))),
        }
        kind += 1;
        let new = new_lines.join(&b'\n');
        bytes += new.len();
        let key = path.display().to_string();

        let mut best_full = f64::MAX;
        let mut fresh = None;
        for _ in 0..reps {
            let t = Instant::now();
            let tree = parse::parse(python, &new).expect("tree");
            let print = fingerprint::fingerprint(python, &tree, &new, thresholds);
            best_full = best_full.min(t.elapsed().as_secs_f64() * 1e3);
            fresh = Some(print);
        }
        let mut best_incremental = f64::MAX;
        let mut how = reparse::Reparse::default();
        for _ in 0..reps {
            let recent = Recent::new();
            reparse::fingerprint(python, &key, &old, thresholds, Some(&recent)).expect("tree");
            let t = Instant::now();
            let (print, h) =
                reparse::fingerprint(python, &key, &new, thresholds, Some(&recent)).expect("tree");
            best_incremental = best_incremental.min(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(Some(&print), fresh.as_ref(), "{key}: reparse differs");
            how = h;
        }
        // The parse alone, from the old tree and from scratch.
        let mut best_parse = (f64::MAX, f64::MAX);
        for _ in 0..reps {
            let mut old_tree = parse::parse(python, &old).expect("tree");
            let edit = reparse::edit_between(&old, &new);
            let t = Instant::now();
            old_tree.edit(&edit);
            let _ = parse::parse_from(python, &new, Some(&old_tree)).expect("tree");
            best_parse.0 = best_parse.0.min(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let _ = parse::parse(python, &new).expect("tree");
            best_parse.1 = best_parse.1.min(t.elapsed().as_secs_f64() * 1e3);
        }
        parse_incremental.push(best_parse.0);
        parse_full.push(best_parse.1);
        fell_back += usize::from(!how.incremental);
        full.push(best_full);
        incremental.push(best_incremental);
        ratios.push(best_full / best_incremental);
    }
    let pct = |xs: &mut Vec<f64>, p: f64| {
        xs.sort_by(f64::total_cmp);
        xs[((xs.len() - 1) as f64 * p).round() as usize]
    };
    println!(
        "{edits} edits of Python files in {} (mean {:.1} KiB), minimum of {reps} runs each:",
        tree.display(),
        bytes as f64 / edits as f64 / 1024.0
    );
    println!(
        "  full parse + fingerprint:     p50 {:.3} ms, p95 {:.3} ms",
        pct(&mut full, 0.5),
        pct(&mut full, 0.95)
    );
    println!(
        "  reparse from the last tree:   p50 {:.3} ms, p95 {:.3} ms",
        pct(&mut incremental, 0.5),
        pct(&mut incremental, 0.95)
    );
    println!(
        "  the parse alone: full p50 {:.3} ms, p95 {:.3} ms; from the edited old tree p50 {:.3} ms, p95 {:.3} ms",
        pct(&mut parse_full, 0.5),
        pct(&mut parse_full, 0.95),
        pct(&mut parse_incremental, 0.5),
        pct(&mut parse_incremental, 0.95)
    );
    println!(
        "  full / incremental, per edit: median {:.1}x; {fell_back} edits parsed afresh (syntax errors)",
        pct(&mut ratios, 0.5)
    );
}

/// The machine's Python standard library.
fn stdlib() -> PathBuf {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("python3");
    PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
}

/// Python files under `dir`, test directories left out (as the watch benchmark does).
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "test" || name == "__pycache__" {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect(&path, out);
        } else if name.ends_with(".py") {
            out.push(path);
        }
    }
}
