//! Criterion benchmarks for the pure cores: parsing and fingerprinting per language on the
//! fixture sources (each repeated to about 64 KiB so per-call overhead does not dominate), and
//! the near-miss primitives (sketching a unit, verifying a candidate pair).

use std::path::Path;

use cpt::detect::near::Matcher;
use cpt::fingerprint::{self, Sketch, Thresholds};
use cpt::parse::{self, lang};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn sources() -> Vec<(&'static lang::Language, Vec<u8>)> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    lang::all()
        .iter()
        .copied()
        .map(|l| {
            let dir = fixtures.join(l.id);
            let original = std::fs::read_dir(&dir)
                .expect("fixtures")
                .map(|e| e.expect("entry").path())
                .find(|p| p.file_stem().is_some_and(|s| s == "original"))
                .expect("an original file per language");
            let one = std::fs::read(original).expect("read fixture");
            let copies = (64 * 1024 / one.len()).max(1);
            (l, one.repeat(copies))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let sources = sources();
    let mut group = c.benchmark_group("parse");
    for (l, src) in &sources {
        group.throughput(Throughput::Bytes(src.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(l.id), src, |b, src| {
            b.iter(|| parse::parse(l, src).expect("tree"))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("fingerprint");
    for (l, src) in &sources {
        let tree = parse::parse(l, src).expect("tree");
        group.throughput(Throughput::Bytes(src.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(l.id), src, |b, src| {
            b.iter(|| fingerprint::fingerprint(l, &tree, src, Thresholds::default()))
        });
    }
    group.finish();

    // A realistic unit: the similarity codes of the first fixture function of 150+ tokens,
    // and a near-miss variant with a statement's worth of tokens changed in the middle.
    let (python, src) = sources
        .iter()
        .find(|(l, _)| l.id == "python")
        .expect("python fixture");
    let tree = parse::parse(python, src).expect("tree");
    let tokens = fingerprint::tokens(python, &tree, src);
    let codes = fingerprint::similarity_codes(&tokens[..200.min(tokens.len())], src);
    let mut variant = codes.clone();
    variant.splice(90..100, (0..14).map(|i| 40_000 + i));
    let mut group = c.benchmark_group("near_miss");
    group.bench_function("sketch_200_tokens", |b| b.iter(|| Sketch::of(&codes)));
    group.bench_function("band_keys", |b| {
        let sketch = Sketch::of(&codes);
        b.iter(|| sketch.band_keys())
    });
    // As the detector verifies: one side prepared, the other streamed through.
    group.bench_function("similarity_200x204_tokens", |b| {
        let mut matcher = Matcher::default();
        matcher.prepare(&codes);
        b.iter(|| matcher.lcs(&variant))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
