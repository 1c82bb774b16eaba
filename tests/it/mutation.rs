//! The mutation-and-injection benchmark (`benches/mutation/`) on a small fixed-seed tree made
//! from `fixtures/samples/` only, scanned by cpt in-process: recall floors per clone type and
//! no reported controls. The floors are constants to tune as near-miss detection matures.

// The benchmark module also holds the command line's parts (peer tools, reports).
#[allow(dead_code)]
#[path = "../../benches/mutation/mod.rs"]
mod bench;

use std::path::{Path, PathBuf};

use bench::generate::{self, Options};
use bench::manifest::{Category, Manifest, Span};
use bench::score::{self, CONTROLS_ROW, CloneClass, Member};
use bench::similarity::{LcsPattern, line_similarity};

use crate::common::{cpt_ok, path_str};

const SEED: u64 = 7;
const PER_CATEGORY: usize = 4;

/// Least recall per category over all languages.
const T1_FLOOR: f64 = 1.0;
const T2_FLOOR: f64 = 1.0;
const T3_90_FLOOR: f64 = 0.9;
const T3_70_FLOOR: f64 = 0.7;
const T3_50_FLOOR: f64 = 0.0;

fn options(out: &Path, per_category: usize) -> Options {
    Options {
        out: out.to_path_buf(),
        seed: SEED,
        per_category,
        python: None,
        java: None,
        samples: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/samples"),
    }
}

/// cpt's clone classes over every root of the tree, each root in its own catalogue.
fn cpt_classes(tree: &Path, manifest: &Manifest, dbs: &Path) -> Vec<CloneClass> {
    let mut classes = Vec::new();
    for (n, root) in manifest.roots.iter().enumerate() {
        let dir = tree.join(root);
        let db: PathBuf = dbs.join(format!("{n}.db"));
        cpt_ok(&["scan", path_str(&dir), "--quiet", "--db", path_str(&db)]);
        let json = cpt_ok(&["clones", "--format", "json", "--db", path_str(&db)]).stdout;
        let found = bench::tools::cpt_classes(&json).expect("cpt.clones/1 JSON");
        classes.extend(
            found
                .into_iter()
                .map(|class| bench::tools::relative(class, &dir, root)),
        );
    }
    classes
}

#[test]
fn planted_clones_are_found_and_controls_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let manifest = generate::generate(&options(&tree, PER_CATEGORY), &mut std::io::sink())
        .expect("generate the planted tree");
    for lang in cpt::lang::all() {
        for category in Category::ALL {
            let planted = manifest
                .pairs
                .iter()
                .filter(|p| p.language == lang.id && p.category == category)
                .count()
                + manifest
                    .controls
                    .iter()
                    .filter(|c| c.language == lang.id && category == Category::Control)
                    .count();
            assert_eq!(planted, PER_CATEGORY, "{} {}", lang.id, category.label());
        }
    }
    let classes = cpt_classes(&tree, &manifest, tmp.path());
    let score = score::score(&manifest, &classes, "cpt", 0.0);
    let table = score.table();
    println!("{table}");
    for (category, floor) in [
        (Category::Type1, T1_FLOOR),
        (Category::Type2, T2_FLOOR),
        (Category::Type3High, T3_90_FLOOR),
        (Category::Type3Mid, T3_70_FLOOR),
        (Category::Type3Low, T3_50_FLOOR),
    ] {
        let recall = score.cell(category.label(), score::ALL).recall();
        assert!(
            recall >= floor,
            "{} recall {recall:.2} is below {floor}:\n{table}",
            category.label()
        );
    }
    let reported = score.cell(CONTROLS_ROW, score::ALL);
    assert_eq!(reported.found, 0, "controls were reported:\n{table}");
}

#[test]
fn generation_is_deterministic_and_mutants_stay_in_their_bands() {
    let tmp = tempfile::tempdir().unwrap();
    let generate_json = |dir: &str| {
        let out = tmp.path().join(dir);
        let manifest = generate::generate(&options(&out, 1), &mut std::io::sink()).unwrap();
        (
            manifest,
            std::fs::read_to_string(out.join("manifest.json")).unwrap(),
        )
    };
    let (manifest, first) = generate_json("a");
    let (_, second) = generate_json("b");
    assert_eq!(first, second);
    for pair in &manifest.pairs {
        let s = pair.similarity;
        match pair.category.band() {
            Some((low, high)) => assert!(low <= s && s < high, "{}: {s}", pair.id),
            None if pair.category == Category::Type1 => assert_eq!(s, 1.0, "{}", pair.id),
            None => {}
        }
        assert_ne!(pair.original.path, pair.mutant.path, "{}", pair.id);
    }
}

#[test]
fn scoring_needs_one_class_covering_both_copies() {
    let span = |path: &str, start_line, end_line| Span {
        path: path.to_string(),
        start_line,
        end_line,
    };
    let member = |path: &str, start_line, end_line| Member {
        path: path.to_string(),
        start_line,
        end_line,
    };
    let mut manifest = Manifest::new(1, 1);
    manifest.roots.push("go/round-0".into());
    manifest.pairs.push(bench::manifest::Pair {
        id: "p".into(),
        language: "go".into(),
        category: Category::Type1,
        round: 0,
        similarity: 1.0,
        source: String::new(),
        original: span("a", 1, 10),
        mutant: span("b", 1, 10),
    });
    manifest.controls.push(bench::manifest::Control {
        id: "c".into(),
        language: "go".into(),
        category: Category::Control,
        round: 0,
        source: String::new(),
        span: span("a", 20, 29),
    });
    // Each side covered by a different class: not found. Lines 25-40 overlap half the control.
    let split = vec![
        vec![member("a", 1, 10), member("c", 1, 10)],
        vec![member("b", 2, 10), member("a", 25, 40)],
    ];
    let s = score::score(&manifest, &split, "t", 0.0);
    assert_eq!(s.cell("T1", "go").found, 0);
    assert_eq!(s.cell(CONTROLS_ROW, "go").found, 1);
    // 8 of 10 lines on each side is enough.
    let joined = vec![vec![member("a", 2, 9), member("b", 1, 8)]];
    let s = score::score(&manifest, &joined, "t", 0.0);
    assert_eq!(s.cell("T1", "go").found, 1);
    assert_eq!(s.cell(CONTROLS_ROW, "go").found, 0);
}

#[test]
fn bit_parallel_lcs_agrees_with_the_table() {
    let mut rng = bench::rng::Rng::derive(3, &["lcs"]);
    for _ in 0..200 {
        let a: Vec<u32> = (0..rng.below(150)).map(|_| rng.below(5) as u32).collect();
        let b: Vec<u32> = (0..rng.below(150)).map(|_| rng.below(5) as u32).collect();
        let wide = |v: &[u32]| v.iter().map(|&x| u64::from(x)).collect::<Vec<_>>();
        let expected = line_similarity(&wide(&a), &wide(&b));
        let total = (a.len() + b.len()).max(1) as f64;
        let got = 2.0 * LcsPattern::new(&a).lcs(&b) as f64 / total;
        let expected = if a.is_empty() && b.is_empty() {
            0.0
        } else {
            expected
        };
        assert!((expected - got).abs() < 1e-12, "{a:?} {b:?}");
    }
}
