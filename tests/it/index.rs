//! The index beside the catalogue: `cpt similar`, damage and staleness detected and repaired,
//! and base + delta segments answering as a freshly built index.

use std::path::Path;

use serde_json::Value;

use cpt::index::{self, Access, Index, Segments};
use cpt::store::Store;

use crate::common::{NEAR_COPY, cpt, cpt_ok, default_db, path_str, py_function, scan, write};

/// A function unlike every `py_function`.
const PAIR: &str = "def checksum(blocks, seed=7):
    acc = seed
    for index, block in enumerate(blocks):
        acc ^= (block << (index % 13)) & 0xFFFF
        acc = (acc * 31 + len(blocks)) % 65521
    while acc > 255:
        acc = (acc >> 8) ^ (acc & 255)
    return acc
";

/// `a.py` holds the original; `b.py` an exact copy, `c.py` a renamed one, `d.py` a near miss,
/// `e.py` something else.
fn tree(root: &Path) {
    let original = py_function("bfs", 5);
    write(root, "a.py", format!("import os\n\n{original}"));
    write(root, "b.py", &original);
    let renamed = original
        .replace("bfs", "breadth_first")
        .replace("queue", "todo");
    write(root, "c.py", renamed);
    write(root, "d.py", NEAR_COPY);
    write(root, "e.py", py_function("other", 9));
}

fn similar_json(root: &Path, args: &[&str]) -> Value {
    let db = default_db(root);
    let mut all = vec!["similar"];
    all.extend_from_slice(args);
    all.extend(["--format", "json", "--db", path_str(&db)]);
    let run = cpt_ok(&all);
    serde_json::from_str(&run.stdout).expect("similar JSON")
}

/// The first query's matches: path, clone type, similarity.
fn scored(answer: &Value) -> Vec<(String, String, f64)> {
    answer["queries"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap().to_string(),
                m["clone_type"].as_str().unwrap().to_string(),
                m["similarity"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn matches(answer: &Value) -> Vec<(String, String)> {
    scored(answer).into_iter().map(|(p, t, _)| (p, t)).collect()
}

#[test]
fn similar_finds_exact_renamed_and_near_miss_copies_best_first() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    scan(root, None);
    let a = root.join("a.py");
    let answer = similar_json(root, &[&format!("{}:6", a.display())]);
    assert_eq!(answer["schema"], "cpt.similar/1");
    let query = &answer["queries"][0];
    assert_eq!(
        (query["path"].as_str(), query["name"].as_str()),
        (Some("a.py"), Some("bfs"))
    );
    assert_eq!(
        matches(&answer),
        vec![
            ("b.py".to_string(), "T1".to_string()),
            ("c.py".to_string(), "T2".to_string()),
            ("d.py".to_string(), "T3".to_string()),
        ]
    );
    let near = &query["matches"][2];
    let sim = near["similarity"].as_f64().unwrap();
    assert!(sim > 0.7 && sim < 1.0, "{sim}");
    assert_eq!(near["name"], "walk");
    assert!(query["matches"][0]["pattern"].is_string());

    // --limit and --min-similarity.
    let one = similar_json(root, &[&format!("{}:6", a.display()), "--limit", "1"]);
    assert_eq!(matches(&one).len(), 1);
    let exact = similar_json(
        root,
        &[&format!("{}:6", a.display()), "--min-similarity", "1"],
    );
    assert_eq!(matches(&exact).len(), 2);

    // A whole file: one answer per function.
    let file = similar_json(root, &[path_str(&root.join("d.py"))]);
    assert_eq!(file["queries"].as_array().unwrap().len(), 1);
    assert_eq!(matches(&file)[0].1, "T3");

    // Code on standard input, which is no file of the catalogue: a.py is a match too.
    let out = crate::common::binary()
        .args([
            "similar", "-", "--lang", "python", "--format", "json", "--db",
        ])
        .arg(default_db(root))
        .stdin(std::fs::File::open(root.join("b.py")).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = matches(&stdin);
    assert!(
        found.contains(&("a.py".to_string(), "T1".to_string())),
        "{found:?}"
    );
    assert!(
        found.contains(&("b.py".to_string(), "T1".to_string())),
        "{found:?}"
    );

    // Text output names the copies.
    let text = cpt_ok(&[
        "similar",
        &format!("{}:6", a.display()),
        "--db",
        path_str(&default_db(root)),
    ]);
    assert!(text.stdout.contains("T1 100%  b.py:1-"), "{}", text.stdout);
    assert!(text.stdout.contains("walk"), "{}", text.stdout);
}

#[test]
fn similar_explains_bad_requests_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    scan(root, None);
    let db = default_db(root);
    let run = cpt(&["similar", "-", "--db", path_str(&db)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("needs --lang"), "{}", run.stderr);
    let a = root.join("a.py");
    let run = cpt(&[
        "similar",
        &format!("{}:1", a.display()),
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
    let run = cpt(&["similar", "missing.py", "--db", path_str(&db)]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("missing.py: cannot read"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_damaged_missing_or_stale_index_is_rebuilt_with_a_warning_and_answers_alike() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    scan(root, None);
    let db = default_db(root);
    let index = index::path_for(&db);
    let query = format!("{}:6", root.join("a.py").display());
    let ask = || cpt_ok(&["similar", &query, "--format", "json", "--db", path_str(&db)]);
    let healthy = ask();
    assert!(healthy.stderr.is_empty(), "{}", healthy.stderr);
    let good = std::fs::read(&index).unwrap();

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() - 7].to_vec()),
        ("wrong version", {
            let mut b = good.clone();
            b[8] = 99;
            b
        }),
        ("bad magic", {
            let mut b = good.clone();
            b[0] = b'X';
            b
        }),
    ];
    for at in [good.len() / 2, good.len() - 3] {
        let mut b = good.clone();
        b[at] ^= 0x40;
        cases.push(("flipped byte", b));
    }
    for (what, bytes) in cases {
        std::fs::write(&index, &bytes).unwrap();
        let run = ask();
        assert_eq!(run.stdout, healthy.stdout, "{what}");
        assert!(
            run.stderr.contains("rebuilt from the catalogue") && run.stderr.lines().count() == 1,
            "{what}: {}",
            run.stderr
        );
        assert_eq!(
            std::fs::read(&index).unwrap(),
            good,
            "{what}: rebuilt alike"
        );
    }

    std::fs::remove_file(&index).unwrap();
    let run = ask();
    assert_eq!(run.stdout, healthy.stdout);
    assert!(run.stderr.contains("no index"), "{}", run.stderr);

    // Older than the catalogue: an index from before the last scan's changes.
    write(root, "f.py", py_function("fresh_copy", 5));
    scan(root, None);
    let current = ask();
    assert!(current.stdout.contains("f.py"), "{}", current.stdout);
    std::fs::write(&index, &good).unwrap();
    let _ = std::fs::remove_file(cpt::index::refresh::delta_path(&db));
    let run = ask();
    assert_eq!(run.stdout, current.stdout);
    assert!(
        run.stderr.contains("older than the catalogue"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_command_that_opens_the_index_heals_a_damaged_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    scan(root, None);
    let db = default_db(root);
    let index = index::path_for(&db);
    let good = std::fs::read(&index).unwrap();
    let query = format!("{}:6", root.join("a.py").display());
    let db_arg = path_str(&db);
    let commands: [&[&str]; 4] = [
        &["stats", "--db", db_arg],
        &["stats", "--format", "json", "--db", db_arg],
        &["similar", &query, "--db", db_arg],
        // A scan with nothing to do checks the whole index, not only what it reads.
        &["scan", path_str(root)],
    ];
    for args in commands {
        for at in [good.len() / 3, good.len() / 2, good.len() - 3] {
            let mut bytes = good.clone();
            bytes[at] ^= 0x40;
            std::fs::write(&index, &bytes).unwrap();
            let run = cpt(args);
            assert_eq!(run.code, 0, "{args:?} at {at}: {}", run.stderr);
            assert!(
                run.stderr.contains("rebuilt from the catalogue")
                    && run.stderr.lines().count() == 1,
                "{args:?} at {at}: {}",
                run.stderr
            );
            assert_eq!(std::fs::read(&index).unwrap(), good, "{args:?} at {at}");
        }
    }
}

/// The keys a comparison asks about: every exact hash, shape hash and near-miss shape's band
/// keys the catalogue has held (so also those of units and shapes gone since), and keys it
/// never held.
#[derive(Default)]
struct Keys {
    exact: std::collections::BTreeSet<u64>,
    shape: std::collections::BTreeSet<u64>,
    bands: std::collections::BTreeMap<u64, [u64; cpt::fingerprint::BANDS]>,
}

impl Keys {
    fn add(&mut self, contents: &index::Contents) {
        for u in &contents.units {
            self.exact.insert(u.exact);
            self.shape.insert(u.shape);
        }
        for band in &contents.bands {
            self.bands.insert(band.shape, band.keys);
        }
    }

    /// Keys no catalogue holds: pseudo-random ones, and neighbours of the exact and shape
    /// hashes held (the first and last keys a search can meet).
    fn add_unknown(&mut self) {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let near: Vec<u64> = self
            .exact
            .iter()
            .chain(&self.shape)
            .flat_map(|&k| [k.wrapping_add(1), k.wrapping_sub(1)])
            .collect();
        for k in near.into_iter().chain([0, 1, u64::MAX]) {
            self.exact.insert(k);
            self.shape.insert(k);
        }
        for _ in 0..300 {
            self.exact.insert(next());
            self.shape.insert(next());
        }
        for _ in 0..50 {
            let keys = std::array::from_fn(|_| next());
            self.bands.insert(next(), keys);
        }
    }
}

/// Every lookup a query can make, for every key of `keys`, as sorted text.
fn every_answer(segments: &Segments, keys: &Keys) -> Vec<String> {
    let mut out = Vec::new();
    let show = |hits: Vec<index::Hit<'_>>| {
        let mut v: Vec<String> = hits
            .iter()
            .map(|h| {
                format!(
                    "{}:{}-{} {} {} {:?} {}",
                    h.path, h.start_line, h.end_line, h.name, h.kind, h.pattern, h.noise
                )
            })
            .collect();
        v.sort();
        v.join(", ")
    };
    for &exact in &keys.exact {
        out.push(format!(
            "exact {exact:x}: {}",
            show(segments.exact(exact).unwrap())
        ));
    }
    for &shape in &keys.shape {
        out.push(format!(
            "shape {shape:x}: {}",
            show(segments.shape(shape).unwrap())
        ));
    }
    for (shape, band_keys) in &keys.bands {
        for cap in [1, 2, 64] {
            out.push(format!(
                "bands {shape:x} cap {cap}: {:?}",
                segments.band_candidates(band_keys, cap).unwrap()
            ));
        }
        // The members with their lengths (their name sketches are compared apart).
        for &key in band_keys {
            let members = cpt::detect::near::Buckets::bucket_up_to(segments, key, 64).unwrap();
            let members: Option<Vec<(u64, u32)>> =
                members.map(|b| b.iter().map(|m| (m.shape, m.tokens)).collect());
            out.push(format!("bucket {:x}: {members:?}", key as u32));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A function that is a large table of literals (over 2,000 tokens): no near-miss view.
fn table() -> String {
    let rows: String = (0..600)
        .map(|i| format!("        'k{i}': {i},\n"))
        .collect();
    format!("def codes():\n    return {{\n{rows}    }}\n")
}

/// A function unlike `py_function`'s.
const TALLY: &str = "def tally(words, limit=3):
    counts = {}
    for word in words:
        key = word.lower().strip()
        if not key:
            continue
        counts[key] = counts.get(key, 0) + 1
        if counts[key] > limit:
            counts[key] = limit
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])
    return ordered[:limit]
";

#[test]
fn base_and_delta_answer_as_a_freshly_built_index_after_any_changes() {
    delta_steps_answer_as_a_fresh_index(false);
}

/// The same steps applied as the watcher applies them: scans of named files in one process,
/// which keeps the base index open and the delta it wrote last in memory between scans.
#[test]
fn deltas_kept_in_memory_by_the_watcher_answer_as_a_fresh_index() {
    delta_steps_answer_as_a_fresh_index(true);
}

fn delta_steps_answer_as_a_fresh_index(in_watcher: bool) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Enough files that a few changes stay a small delta.
    for i in 0..40 {
        let mut text = String::new();
        for j in 0..3 {
            text.push_str(&py_function(&format!("f{i}_{j}"), (i + j) % 16));
        }
        write(root, &format!("m{i}.py"), text);
    }
    write(root, "near.py", NEAR_COPY);
    // A large data table, whose units take no part in near-miss detection (no band records).
    write(root, "table.py", table());
    // A class of two copies that one step dissolves, leaving `pair1.py`'s copy unchanged.
    write(root, "pair1.py", PAIR);
    write(root, "pair2.py", PAIR);
    scan(root, None);
    let db = default_db(root);
    let fresh_dir = tempfile::tempdir().unwrap();
    let mut saw_delta = false;
    let mut keys = Keys::default();
    keys.add(
        &Store::open_existing(&db)
            .unwrap()
            .index_contents(None)
            .unwrap(),
    );
    keys.add_unknown();
    // Keys of units gone that the base still holds (the delta must hide them), and keys the
    // filters rule out, asked over all the steps.
    let (mut hidden, mut ruled_out) = (0, 0);
    let steps: Vec<fn(&Path)> = vec![
        |r| write(r, "m1.py", py_function("edited", 3)),
        |r| std::fs::remove_file(r.join("table.py")).unwrap(),
        |r| std::fs::remove_file(r.join("near.py")).unwrap(),
        // `pair1.py` joins the delta (its copy unchanged), then its class dissolves while the
        // next delta carries its units over.
        |r| write(r, "pair1.py", format!("{PAIR}\n# edited\n")),
        |r| std::fs::remove_file(r.join("pair2.py")).unwrap(),
        |r| write(r, "new.py", NEAR_COPY),
        |r| std::fs::rename(r.join("m2.py"), r.join("moved.py")).unwrap(),
        |r| {
            write(
                r,
                "m3.py",
                format!("{}{}", py_function("a", 5), py_function("b", 5)),
            )
        },
        |r| {
            for i in 4..12 {
                write(r, &format!("m{i}.py"), py_function(&format!("g{i}"), 7));
            }
        },
        // A shape whose name union shrinks while its only copy in the delta is carried over.
        |r| {
            write(r, "ren_a.py", py_function("alpha", 11));
            write(r, "ren_b.py", py_function("beta", 11));
        },
        |r| {
            write(
                r,
                "ren_a.py",
                format!("{}\n# touched\n", py_function("alpha", 11)),
            )
        },
        |r| std::fs::remove_file(r.join("ren_b.py")).unwrap(),
        // Two near-miss copies of each other, both new shapes, in one step.
        |r| {
            write(r, "twin_a.py", TALLY);
            write(
                r,
                "twin_b.py",
                TALLY.replace("        if counts", "        print(key)\n        if counts"),
            );
        },
        |r| write(r, "m1.py", ""),
    ];
    let warm = cpt::scan::Warm::new();
    let options = cpt::scan::ScanOptions {
        root: root.canonicalize().unwrap(),
        db: db.clone(),
        settings: Default::default(),
    };
    let mut named = std::collections::BTreeSet::new();
    for (n, step) in steps.iter().enumerate() {
        step(root);
        if in_watcher {
            // Every path the tree has had: the scan reads the ones that changed.
            for entry in std::fs::read_dir(root).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".py") {
                    named.insert(name);
                }
            }
            let paths: Vec<String> = named.iter().cloned().collect();
            cpt::scan::scan_paths(&options, &paths, Some(&warm), &cpt::scan::Silent).unwrap();
            // The watcher writes the index after it reports, keeping the delta in memory.
            let store = Store::open_existing(&db).unwrap();
            cpt::scan::catch_up_index(&store, &db, &warm).unwrap();
            // Classified from the index as it was, with the changed shapes laid over it, as
            // a fresh scan classifies.
            let again = fresh_dir.path().join(format!("scan-{n}.db"));
            scan(root, Some(&again));
            crate::common::assert_same_clones(&db, &again);
        } else {
            scan(root, None);
        }
        let store = Store::open_existing(&db).unwrap();
        saw_delta |= cpt::index::refresh::delta_path(&db).exists();
        // Base and delta read chunk by chunk, the fresh index mapped: both ways answer alike.
        let (maintained, _) =
            cpt::index::refresh::refresh_index(&store, &db, Access::Read).unwrap();
        let contents = store.index_contents(None).unwrap();
        keys.add(&contents);
        let fresh_path = fresh_dir.path().join(format!("fresh-{n}.index"));
        index::write_atomically(
            &fresh_path,
            &index::build(&contents),
            index::Durability::Fsync,
        )
        .unwrap();
        let fresh = Segments::new(Index::open(&fresh_path, Access::Mapped).unwrap(), None).unwrap();
        assert_eq!(maintained.last_event(), fresh.last_event(), "step {n}");
        assert_eq!(
            every_answer(&maintained, &keys),
            every_answer(&fresh, &keys),
            "step {n}"
        );
        let held = |k: &u64| contents.units.iter().any(|u| u.exact == *k);
        for k in &keys.exact {
            let in_base = !maintained.base.exact(*k).unwrap().is_empty();
            hidden += usize::from(in_base && !held(k));
            let delta_rules_out = maintained
                .delta
                .as_ref()
                .is_none_or(|d| !d.may_have_exact(*k).unwrap());
            ruled_out +=
                usize::from(!maintained.base.may_have_exact(*k).unwrap() && delta_rules_out);
        }
    }
    assert!(saw_delta, "the changes were answered by a delta segment");
    assert!(hidden > 0 && ruled_out > 0, "{hidden} {ruled_out}");
}

#[test]
fn a_limit_or_a_higher_bar_keeps_the_head_of_the_full_answer() {
    // One function and near-miss variants of it, each a line longer than the last and each
    // in two files: several type-3 shapes of falling similarity, with ties.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let base = "def route(graph, start, goal):
    frontier = [start]
    came_from = {start: None}
    while frontier:
        node = frontier.pop(0)
        if node == goal:
            break
        for nxt in graph.get(node, ()):
            if nxt not in came_from:
                came_from[nxt] = node
                frontier.append(nxt)
    return came_from
";
    write(root, "a.py", base);
    for extra in 1..=4 {
        let lines: String = (0..extra)
            .map(|i| format!("                frontier.sort(key=len)  # {i}\n"))
            .collect();
        let variant = base.replace(
            "                frontier.append(nxt)\n",
            &format!("                frontier.append(nxt)\n{lines}"),
        );
        write(root, &format!("v{extra}a.py"), &variant);
        write(root, &format!("v{extra}b.py"), &variant);
    }
    scan(root, None);
    let query = format!("{}:2", root.join("a.py").display());
    let answer = |args: &[&str]| -> Vec<(String, String, f64)> {
        let mut all = vec![query.as_str()];
        all.extend_from_slice(args);
        scored(&similar_json(root, &all))
    };
    let full = answer(&["--limit", "100"]);
    let similarities: std::collections::BTreeSet<u64> =
        full.iter().map(|m| (m.2 * 1e6) as u64).collect();
    assert!(full.len() >= 6 && similarities.len() >= 3, "{full:?}");
    for limit in 1..full.len() {
        assert_eq!(
            answer(&["--limit", &limit.to_string()]),
            full[..limit],
            "limit {limit}"
        );
    }
    let bar = full[full.len() / 2].2;
    let above: Vec<_> = full.iter().filter(|m| m.2 >= bar).cloned().collect();
    assert_eq!(
        answer(&["--limit", "100", "--min-similarity", &bar.to_string()]),
        above
    );
}
