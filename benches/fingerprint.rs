//! Criterion benchmarks for the per-file cores: parsing and fingerprinting, per language, on
//! the fixture sources (each repeated to about 64 KiB so per-call overhead does not dominate).

use std::path::Path;

use cpt::fingerprint::{self, Thresholds};
use cpt::{lang, parse};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn sources() -> Vec<(&'static lang::Language, Vec<u8>)> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    lang::all()
        .iter()
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
