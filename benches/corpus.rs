//! End-to-end corpus measurements that need cpt's internals (run by `benches/corpus.sh`).
//!
//! `cargo bench --bench corpus -- parse-only DIR [--exclude GLOB]...` walks DIR exactly as
//! `cpt scan` does, then reads and parses every file on all cores without fingerprinting or
//! storing: the reference that a cold scan's time is compared against.

use std::time::Instant;

use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [mode, dir, rest @ ..] = args.as_slice() else {
        eprintln!("usage: corpus parse-only DIR [--exclude GLOB]...");
        std::process::exit(2);
    };
    assert_eq!(mode, "parse-only", "unknown mode {mode}");
    let exclude: Vec<String> = rest
        .chunks(2)
        .filter(|c| c[0] == "--exclude")
        .map(|c| c[1].clone())
        .collect();
    let started = Instant::now();
    let walk = cpt::discover::walk(std::path::Path::new(dir), &exclude).expect("walk");
    let mut files: Vec<_> = walk.files.iter().collect();
    files.sort_unstable_by_key(|c| std::cmp::Reverse(c.size));
    let (bytes, nodes) = files
        .par_iter()
        .with_max_len(1)
        .map(|c| {
            let Ok(source) = std::fs::read(&c.abs) else {
                return (0, 0);
            };
            let tree = cpt::parse::parse(c.lang, &source).expect("parse");
            (
                source.len() as u64,
                tree.root_node().descendant_count() as u64,
            )
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let secs = started.elapsed().as_secs_f64();
    println!(
        "parse-only: {} files, {:.1} MB, {} nodes in {:.3}s ({:.0} files/s)",
        files.len(),
        bytes as f64 / 1e6,
        nodes,
        secs,
        files.len() as f64 / secs
    );
}
