//! End-to-end corpus measurements that need cpt's internals (run by `benches/corpus.sh`, or
//! directly with `cargo bench --bench corpus -- MODE DIR [--exclude GLOB]...`).
//!
//! - `parse-only`: walks DIR exactly as `cpt scan` does, then reads and parses every file on all
//!   cores without fingerprinting or storing: the reference a cold scan is compared against.
//! - `near-miss`: fingerprints every unit, sketches its similarity codes, buckets units by LSH
//!   band keys and verifies every candidate pair with the token-sequence similarity. Prints the
//!   candidate count, the largest bucket, verification cost and verified pairs per similarity
//!   band: the data for choosing near-miss detection parameters on a real corpus.

use std::collections::HashMap;
use std::time::Instant;

use cpt::detect::near::Matcher;
use cpt::fingerprint::{self, BANDS, Sketch, Thresholds};
use rayon::prelude::*;

// The same allocator as `cpt`, so that the floor is parsing as `cpt` parses.
cpt::use_mimalloc!();

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [mode, dir, rest @ ..] = args.as_slice() else {
        eprintln!("usage: corpus parse-only|near-miss DIR [--exclude GLOB]...");
        std::process::exit(2);
    };
    let exclude: Vec<String> = rest
        .chunks(2)
        .filter(|c| c[0] == "--exclude")
        .map(|c| c[1].clone())
        .collect();
    let started = Instant::now();
    let walk = cpt::scan::discover::walk(std::path::Path::new(dir), &exclude).expect("walk");
    let mut files: Vec<_> = walk.files.iter().collect();
    files.sort_unstable_by_key(|c| std::cmp::Reverse(c.size));
    match mode.as_str() {
        "parse-only" => parse_only(&files, started),
        "fingerprint-only" => fingerprint_only(&files, started),
        "near-miss" => near_miss(&files, started),
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}

fn parse_only(files: &[&cpt::scan::discover::Candidate], started: Instant) {
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

fn fingerprint_only(files: &[&cpt::scan::discover::Candidate], started: Instant) {
    let (units, blocks) = files
        .par_iter()
        .with_max_len(1)
        .map(|c| {
            let Ok(source) = std::fs::read(&c.abs) else {
                return (0, 0);
            };
            let Ok(text) = cpt::scan::discover::check_content(&source, 1000) else {
                return (0, 0);
            };
            let tree = cpt::parse::parse(c.lang, text.as_bytes()).expect("parse");
            let print = fingerprint::fingerprint(c.lang, &tree, &source, Thresholds::default());
            let blocks = print
                .units
                .iter()
                .filter(|u| u.kind == cpt::parse::lang::UnitKind::Block)
                .count();
            (print.units.len() - blocks, blocks)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!(
        "fingerprint-only: {} files, {units} units and {blocks} block units in {:.3}s",
        files.len(),
        started.elapsed().as_secs_f64()
    );
}

/// One function-level unit: its exact shape and its similarity codes.
struct Unit {
    shape: u64,
    codes: Vec<u16>,
}

fn near_miss(files: &[&cpt::scan::discover::Candidate], started: Instant) {
    let units: Vec<Unit> = files
        .par_iter()
        .with_max_len(1)
        .flat_map_iter(|c| {
            let source = std::fs::read(&c.abs).unwrap_or_default();
            let Ok(text) = cpt::scan::discover::check_content(&source, 1000) else {
                return Vec::new();
            };
            let tree = cpt::parse::parse(c.lang, text.as_bytes()).expect("parse");
            let tokens = fingerprint::tokens(c.lang, &tree, text.as_bytes());
            let print = fingerprint::fingerprint(c.lang, &tree, &source, Thresholds::default());
            print
                .units
                .iter()
                .map(|u| {
                    let first = tokens.partition_point(|t| t.start < u.start_byte);
                    let end = tokens.partition_point(|t| t.end <= u.end_byte);
                    Unit {
                        shape: u.shape.0,
                        codes: fingerprint::similarity_codes(&tokens[first..end], &source),
                    }
                })
                .collect()
        })
        .collect();
    let fingerprinted = started.elapsed();

    let t = Instant::now();
    let keys: Vec<[u64; BANDS]> = units
        .par_iter()
        .map(|u| Sketch::of(&u.codes).band_keys())
        .collect();
    let sketched = t.elapsed();

    let t = Instant::now();
    let mut buckets: HashMap<(usize, u64), Vec<u32>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        for (band, &key) in k.iter().enumerate() {
            buckets.entry((band, key)).or_default().push(i as u32);
        }
    }
    let largest = buckets.values().map(Vec::len).max().unwrap_or(0);
    // Buckets this large hold boilerplate shapes; pairing them is quadratic and uninformative.
    const BUCKET_CAP: usize = 64;
    let capped = buckets.values().filter(|m| m.len() > BUCKET_CAP).count();
    let mut pairs: Vec<(u32, u32)> = buckets
        .values()
        .filter(|members| members.len() <= BUCKET_CAP)
        .flat_map(|members| {
            members
                .iter()
                .enumerate()
                .flat_map(move |(i, &a)| members[i + 1..].iter().map(move |&b| (a, b)))
        })
        .filter(|&(a, b)| units[a as usize].shape != units[b as usize].shape)
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let candidates_time = t.elapsed();

    let t = Instant::now();
    let sims: Vec<f64> = pairs
        .par_iter()
        .map_init(Matcher::default, |matcher, &(a, b)| {
            let (a, b) = (&units[a as usize].codes, &units[b as usize].codes);
            matcher.prepare(a);
            let lcs = matcher.lcs(b);
            matcher.release(a);
            2.0 * lcs as f64 / (a.len() + b.len()) as f64
        })
        .collect();
    let verified = t.elapsed();
    let band = |lo: f64, hi: f64| sims.iter().filter(|&&s| s >= lo && s < hi).count();
    // 2·min/(m+n) bounds the similarity from above: pairs a length check alone rules out.
    let length_bound = |&(a, b): &(u32, u32)| {
        let (m, n) = (units[a as usize].codes.len(), units[b as usize].codes.len());
        2.0 * m.min(n) as f64 / (m + n) as f64
    };
    let within = |threshold: f64| {
        pairs
            .iter()
            .filter(|p| length_bound(p) >= threshold)
            .count()
    };
    println!(
        "near-miss: {} files, {} units; fingerprint {:.2}s, sketch {:.3}s, candidates {:.3}s, verify {:.3}s",
        files.len(),
        units.len(),
        fingerprinted.as_secs_f64(),
        sketched.as_secs_f64(),
        candidates_time.as_secs_f64(),
        verified.as_secs_f64()
    );
    println!(
        "  {} candidate pairs of distinct shapes ({BANDS} bands), largest bucket {largest}, {capped} buckets over \
         {BUCKET_CAP} skipped; verified pairs by similarity: >=0.9 {}, 0.7-0.9 {}, 0.5-0.7 {}, <0.5 {}",
        pairs.len(),
        band(0.9, 1.01),
        band(0.7, 0.9),
        band(0.5, 0.7),
        band(0.0, 0.5)
    );
    println!(
        "  pairs whose lengths allow similarity >= 0.7: {}, >= 0.5: {}",
        within(0.7),
        within(0.5)
    );
}
