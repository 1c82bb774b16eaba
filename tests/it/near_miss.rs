//! Near-miss (type-3) classes, block units, noise rules, `cpt: ignore`, the test-file policy
//! and the `cpt clones` filters.

use std::path::Path;

use serde_json::Value;

use crate::common::{
    NEAR_COPY, assert_same_clones, classes, clones, cpt_ok, default_db, path_str, py_function,
    scan, write,
};

/// A 16-line run of statements pasted into the middle of two different functions.
const PASTED: &str = "    header = lines[0].split(',')
    rows = []
    for raw in lines[1:]:
        cells = raw.split(',')
        if len(cells) != len(header):
            warnings.append(raw)
            continue
        row = dict(zip(header, cells))
        if row.get('status') == 'inactive':
            skipped += 1
            continue
        rows.append(row)
    rows.sort(key=lambda r: r.get('name', ''))
    while len(rows) > limit:
        dropped.append(rows.pop())
    summary = {'rows': len(rows), 'skipped': skipped}
";

fn function_with_paste(name: &str, before: &str, after: &str) -> String {
    format!("def {name}(lines, limit, warnings, dropped):\n{before}{PASTED}{after}\n")
}

/// Distinct helper functions nested at the top of a function body, so that two functions
/// sharing a pasted run are not near-miss copies as a whole.
fn nested(kinds: &[usize]) -> String {
    kinds
        .iter()
        .map(|&k| py_function(&format!("helper_{k}"), k))
        .flat_map(|f| f.lines().map(|l| format!("    {l}\n")).collect::<Vec<_>>())
        .collect()
}

fn clones_with(db: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["clones", "--format", "json", "--db", path_str(db)];
    args.extend(extra);
    serde_json::from_str(&cpt_ok(&args).stdout).unwrap()
}

fn tree(root: &Path) {
    write(
        root,
        "app/load.py",
        function_with_paste(
            "load_users",
            &(nested(&[1, 2, 3])
                + "    skipped = 0\n    print('loading users')\n    with open(config.path) as handle:\n        settings = json.load(handle)\n    if not settings.get('enabled'):\n        raise RuntimeError('disabled')\n    cache = LRU(settings['size'])\n    for key in settings['preload']:\n        cache[key] = fetch(key)\n"),
            "    try:\n        db.insert_many(rows)\n    except IntegrityError as error:\n        log.error('duplicate %s', error)\n        db.rollback()\n    finally:\n        db.close()\n    return rows, summary, cache\n",
        ),
    );
    write(
        root,
        "app/report.py",
        function_with_paste(
            "report_accounts",
            &(nested(&[9, 12, 14])
                + "    skipped = len(warnings)\n    started = time.time()\n    audit.log('report')\n    totals = collections.Counter()\n    for account in accounts.all():\n        totals[account.region] += account.balance\n    top = totals.most_common(3)\n"),
            "    html = template.render(top=top, summary=summary)\n    path = pathlib.Path(out_dir) / 'report.html'\n    path.write_text(html, encoding='utf-8')\n    mail.send(to=admins, subject='report', body=html)\n    print(summary, time.time() - started)\n    return summary\n",
        ),
    );
    write(root, "app/graph.py", py_function("bfs", 5));
    write(root, "app/walk.py", NEAR_COPY);
}

#[test]
fn near_miss_copies_and_pasted_blocks_are_found_once() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    scan(dir.path(), None);
    let json = clones(&default_db(dir.path()));
    let patterns = json["patterns"].as_array().unwrap();
    assert_eq!(patterns.len(), 2, "{json:#}");

    let t3 = patterns.iter().find(|p| p["clone_type"] == "T3").unwrap();
    assert_eq!(t3["kind"], "function");
    let sim = t3["similarity"].as_f64().unwrap();
    assert!((0.7..1.0).contains(&sim), "{sim}");
    let names: Vec<&str> = t3["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bfs", "walk"]);

    // The pasted run is one block class (its windows merged), covering the paste in both.
    let block = patterns.iter().find(|p| p["kind"] == "block").unwrap();
    assert_eq!(block["clone_type"], "T1");
    let mut offsets = Vec::new();
    for (member, path) in block["members"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["app/load.py", "app/report.py"])
    {
        assert_eq!(member["path"], path);
        let text = std::fs::read_to_string(dir.path().join(path)).unwrap();
        let paste_start = text
            .lines()
            .position(|l| l.starts_with("    header = "))
            .unwrap() as u64
            + 1;
        let (start, end) = (
            member["start_line"].as_u64().unwrap(),
            member["end_line"].as_u64().unwrap(),
        );
        assert!(start >= paste_start && end < paste_start + 16, "{member}");
        assert!(end - start + 1 >= 6, "{member}");
        offsets.push((start - paste_start, end - paste_start));
    }
    assert_eq!(offsets[0], offsets[1], "the same statements in both copies");
}

#[test]
fn a_whole_function_copy_is_not_reported_again_as_its_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let f = function_with_paste("load", "    skipped = 0\n", "    return rows\n");
    write(dir.path(), "a.py", &f);
    write(dir.path(), "b.py", &f);
    scan(dir.path(), None);
    let found = classes(&clones(&default_db(dir.path())));
    assert_eq!(
        found,
        [(
            "T1".to_string(),
            vec!["a.py:load".into(), "b.py:load".into()]
        )]
    );
}

#[test]
fn filters_select_types_similarity_languages_and_paths() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    scan(dir.path(), None);
    let db = default_db(dir.path());
    let count = |extra: &[&str]| {
        clones_with(&db, extra)["patterns"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&[]), 2);
    assert_eq!(count(&["--type", "T3"]), 1);
    assert_eq!(count(&["--type", "T1"]), 1);
    assert_eq!(count(&["--type", "T1", "--type", "T3"]), 2);
    assert_eq!(count(&["--type", "T2"]), 0);
    assert_eq!(count(&["--min-similarity", "0.99"]), 1);
    assert_eq!(count(&["--min-lines", "14"]), 0);
    assert_eq!(count(&["--min-tokens", "1000"]), 0);
    assert_eq!(count(&["--lang", "python"]), 2);
    assert_eq!(count(&["--lang", "rust"]), 0);
    assert_eq!(count(&["--path", "app/*.py"]), 2);
    // One copy left is no class.
    assert_eq!(count(&["--path", "app/walk.py"]), 0);
    let err = crate::common::cpt(&["clones", "--db", path_str(&db), "--lang", "cobol"]);
    assert_eq!(err.code, 2);
    assert!(
        err.stderr.contains("--lang cobol: unknown language"),
        "{}",
        err.stderr
    );
    let err = crate::common::cpt(&["clones", "--db", path_str(&db), "--min-similarity", "7"]);
    assert_eq!(err.code, 2);
}

#[test]
fn ignore_comments_noise_and_test_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let f = py_function("fold", 1);
    write(root, "a.py", &f);
    write(root, "b.py", format!("x = 1\n# cpt: ignore\n{f}"));
    write(
        root,
        "c.py",
        format!("{}\n", f.replacen(":\n", ":  # cpt: ignore\n", 1)),
    );
    let table = "def codes():\n    return {\n        'a': 1, 'b': 2, 'c': 3, 'd': 4,\n        'e': 5, 'f': 6, 'g': 7, 'h': 8,\n        'i': 9, 'j': 10, 'k': 11, 'l': 12,\n        'm': 13, 'n': 14, 'o': 15, 'p': 16,\n    }\n";
    write(root, "t1.py", table);
    write(root, "t2.py", table.replace("codes", "more_codes"));
    write(root, "tests/test_graph.py", py_function("bfs", 5));
    write(root, "graph.py", py_function("bfs", 5));
    scan(root, None);
    let db = default_db(root);
    let names = |extra: &[&str]| {
        classes(&clones_with(&db, extra))
            .into_iter()
            .flat_map(|(_, m)| m)
            .collect::<Vec<String>>()
    };
    // b.py's copy is ignored (comment above), c.py's too (comment on its first line).
    assert_eq!(names(&[]), ["graph.py:bfs", "tests/test_graph.py:bfs"]);
    // The literal table is noise, shown on request.
    assert!(names(&["--noise"]).contains(&"t1.py:codes".to_string()));
    assert!(names(&["--tests", "exclude"]).is_empty());
    assert!(
        names(&["--tests", "only"]).is_empty(),
        "one copy in tests is no class"
    );
    write(root, "tests/test_more.py", py_function("bfs_again", 5));
    scan(root, None);
    assert_eq!(
        names(&["--tests", "only"]),
        ["tests/test_graph.py:bfs", "tests/test_more.py:bfs_again"]
    );
    write(root, "cpt.toml", "[report]\ntests = \"exclude\"\n");
    assert!(
        names(&[]).is_empty(),
        "cpt.toml's [report] tests = exclude applies"
    );
}

#[test]
fn near_miss_classes_after_edits_equal_a_fresh_scan_and_keep_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("cpt.db");
    scan(root, Some(&db));
    let t3_id = |json: &Value| {
        json["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["clone_type"] == "T3")
            .map(|p| p["id"].as_str().unwrap().to_string())
    };
    let before = t3_id(&clones(&db)).unwrap();
    // Another near-miss copy joins; the representative (and so the id) stays.
    write(
        root,
        "app/walk2.py",
        NEAR_COPY
            .replace("walk", "walk2")
            .replace("'visit'", "'seen'"),
    );
    scan(root, Some(&db));
    let grown = clones(&db);
    assert_eq!(t3_id(&grown), Some(before.clone()));
    let fresh = tempfile::tempdir().unwrap();
    let fresh_db = fresh.path().join("fresh.db");
    scan(root, Some(&fresh_db));
    assert_same_clones(&db, &fresh_db);
    // The representative goes: the class re-forms around another member or dissolves.
    std::fs::remove_file(root.join("app/graph.py")).unwrap();
    scan(root, Some(&db));
    std::fs::remove_file(&fresh_db).unwrap();
    scan(root, Some(&fresh_db));
    assert_same_clones(&db, &fresh_db);
    // Rebuilding from the log gives the same catalogue.
    let snapshot = |db: &Path| {
        cpt::store::Store::open_existing(db)
            .unwrap()
            .projection_snapshot()
            .unwrap()
    };
    let live = snapshot(&db);
    cpt_ok(&["rebuild", "--db", path_str(&db)]);
    assert_eq!(snapshot(&db), live);
}

#[test]
fn near_miss_detection_turns_off_and_on_like_a_fresh_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    let dbs = tempfile::tempdir().unwrap();
    let db = dbs.path().join("cpt.db");
    let scan_with = |db: &Path, extra: &[&str]| {
        let mut args = vec!["scan", path_str(root), "--quiet", "--db", path_str(db)];
        args.extend(extra);
        cpt_ok(&args);
    };
    let types =
        |db: &Path| -> Vec<String> { classes(&clones(db)).into_iter().map(|(t, _)| t).collect() };
    let same_as_fresh = |db: &Path, extra: &[&str]| {
        let fresh = dbs.path().join(format!("fresh-{}.db", extra.len()));
        let _ = std::fs::remove_file(&fresh);
        scan_with(&fresh, extra);
        assert_same_clones(db, &fresh);
    };
    scan_with(&db, &[]);
    assert!(types(&db).contains(&"T3".to_string()));
    scan_with(&db, &["--no-near-miss"]);
    assert!(!types(&db).contains(&"T3".to_string()), "{:?}", types(&db));
    assert!(!types(&db).is_empty(), "exact and renamed copies stay");
    same_as_fresh(&db, &["--no-near-miss"]);
    // cpt.toml turns it off too; the flag's absence turns it back on.
    write(root, "cpt.toml", "[scan]\nnear_miss = false\n");
    scan_with(&db, &[]);
    assert!(!types(&db).contains(&"T3".to_string()));
    std::fs::remove_file(root.join("cpt.toml")).unwrap();
    scan_with(&db, &[]);
    assert!(types(&db).contains(&"T3".to_string()));
    same_as_fresh(&db, &[]);
}

/// A test built around literal lists (the command line it parses and the options it expects),
/// as in the standard library's `test_getopt`.
const LIST_TEST: &str = "def test_getopt(self):
    cmdline = ['-a', '1', '-b', '--alpha=2', '--beta', '-a', '3', '-a',
               '', '--beta', 'arg1', 'arg2']
    opts, args = getopt.getopt(cmdline, 'a:b', ['alpha=', 'beta'])
    self.assertEqual(opts, [('-a', '1'), ('-b', ''),
                            ('--alpha', '2'), ('--beta', ''),
                            ('-a', '3'), ('-a', ''), ('--beta', '')])
    self.assertEqual(args, ['arg1', 'arg2'])
    self.assertError(getopt.getopt, cmdline, 'a:b', ['alpha', 'beta'])
";

#[test]
fn a_copied_test_built_around_literal_lists_is_a_near_miss_copy() {
    // Half of this test is inside list literals, which once kept it out of near-miss
    // detection as a data table: its copy, renamed, one value changed and one check added,
    // was never found. Verification compares the values, so data with other values is no
    // copy; only a table of more than 2,000 tokens stays out.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "test_a.py", LIST_TEST);
    let copy = LIST_TEST
        .replace("cmdline", "argv")
        .replace("opts, args", "found, rest")
        .replace("(opts,", "(found,")
        .replace("(args,", "(rest,")
        .replace("'--alpha=2'", "'--alpha=7'")
        .replace(
            "    self.assertError",
            "    self.assertEqual(len(found), 7)\n    self.assertError",
        );
    write(root, "test_b.py", &copy);
    // The same lists with other values throughout: not a copy.
    let other = "def test_flags(self):
    words = ['-x', '9', '-y', '--gamma=4', '--delta', '-x', '5', '-x',
             'q', '--delta', 'in1', 'in2']
    opts, args = parse(words, 'x:y', ['gamma=', 'delta'])
    self.assertEqual(opts, [('-x', '9'), ('-y', 'z'),
                            ('--gamma', '4'), ('--delta', 'w'),
                            ('-x', '5'), ('-x', 'q'), ('--delta', 'v')])
    self.assertEqual(args, ['in1', 'in2'])
    self.assertError(parse, words, 'x:y', ['gamma', 'delta'])
";
    write(root, "test_c.py", other);
    // A table of more than 2,000 tokens, and a copy with one row added: too large to align,
    // it stays out of near-miss detection.
    let rows: String = (0..500)
        .map(|i| format!("        ('k{i}', {i}),\n"))
        .collect();
    let large = format!("def table():\n    return [\n{rows}    ]\n");
    write(root, "big_a.py", &large);
    write(
        root,
        "big_b.py",
        large.replace("('k7', 7),", "('k7', 7), ('k7b', 70),"),
    );
    scan(root, None);
    let found = classes(&clones(&default_db(root)));
    assert_eq!(found.len(), 1, "one class, the copied test: {found:?}");
    let members: Vec<&str> = found[0].1.iter().map(String::as_str).collect();
    assert_eq!(
        members,
        ["test_a.py:test_getopt", "test_b.py:test_getopt"],
        "{found:?}"
    );
}

#[test]
fn the_same_names_in_another_order_are_no_near_miss() {
    // One token stream once identifiers are abstracted, one name set, but each line's names in
    // another order: the shape of an idiom, not a copy.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "a.py",
        "def mix(a, b, c, d, e, f):\n    g = a + b * c - d + e * f\n    h = b + c * d - e + f * a\n    k = c + d * e - f + a * b\n    m = d + e * f - a + b * c\n    return g + h + k + m\n",
    );
    write(
        root,
        "b.py",
        "def mix(a, b, c, d, e, f):\n    g = f + e * d - c + b * a\n    h = a + f * e - d + c * b\n    k = b + a * f - e + d * c\n    m = c + b * a - f + e * d\n    return m + k + h + g\n",
    );
    scan(root, None);
    let found = classes(&clones(&default_db(root)));
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_copy_whose_content_matches_joins_and_leaves_incrementally() {
    // `b.py` is `a2.py` with one statement added; `a1.py` is `a2.py` with every literal
    // value changed, so that the two share one shape but `a1` little content with `b`. The
    // near-miss edge to `b` rests on which copies that shape has: it must appear when `a2`
    // arrives and go when `a2` leaves, as in a fresh scan.
    let limits = |values: [&str; 9]| {
        let [a, b, c, d, e, f, g, h, i] = values;
        format!(
            "def limits(cfg):\n    low = cfg.get(\"{a}\", {b}) + {i}\n    high = cfg.get(\"{c}\", {d}) + {i}\n    step = cfg.get(\"{e}\", {f}) + {i}\n    span = cfg.get(\"{g}\", {h}) + {i}\n    return low, high, step, span\n"
        )
    };
    let ordered = limits(["low", "10", "high", "20", "step", "30", "span", "40", "1"]);
    let reordered = limits(["lo", "11", "hi", "21", "by", "31", "width", "41", "3"]);
    let edited = ordered.replace("    return", "    mid = (low + high) // 2\n    return");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let dbs = tempfile::tempdir().unwrap();
    let db = dbs.path().join("cpt.db");
    let rescan = |db: &Path| cpt_ok(&["scan", path_str(root), "--quiet", "--db", path_str(db)]);
    let same_as_fresh = |name: &str| {
        let fresh = dbs.path().join(name);
        rescan(&fresh);
        assert_same_clones(&db, &fresh);
    };
    let near_miss_files = |db: &Path| -> Vec<String> {
        classes(&clones(db))
            .into_iter()
            .filter(|(t, _)| t == "T3")
            .flat_map(|(_, members)| members)
            .collect()
    };
    write(root, "a1.py", &reordered);
    write(root, "b.py", &edited);
    rescan(&db);
    assert!(
        near_miss_files(&db).is_empty(),
        "{:?}",
        near_miss_files(&db)
    );

    write(root, "a2.py", &ordered);
    rescan(&db);
    let joined = near_miss_files(&db);
    assert!(joined.iter().any(|m| m.starts_with("b.py")), "{joined:?}");
    same_as_fresh("with-a2.db");

    std::fs::remove_file(root.join("a2.py")).unwrap();
    rescan(&db);
    assert!(
        near_miss_files(&db).is_empty(),
        "{:?}",
        near_miss_files(&db)
    );
    same_as_fresh("without-a2.db");
}

#[test]
fn a_closer_copy_takes_the_pair_over_and_gives_it_back_incrementally() {
    // `b` is `a` renamed and edited; `c`, which arrives later, is `b` with a statement added:
    // `b` and `c` are each other's closest match, `a` is only second best for both, and a
    // clone edge is a pair that is each other's closest match. Every step equals a fresh scan.
    let original = "def summarize(orders, cutoff):\n    totals = {}\n    for order in orders:\n        if order.total < cutoff:\n            continue\n        key = order.customer.lower()\n        totals[key] = totals.get(key, 0) + order.total\n    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)\n    return [name for name, _ in ranked[:10]]\n";
    let renamed = "def top_buyers(purchases, floor):\n    sums = {}\n    for p in purchases:\n        if p.total < floor or p.refunded:\n            continue\n        who = p.customer.lower()\n        sums[who] = sums.get(who, 0) + p.total\n    ranked = sorted(sums.items(), key=lambda kv: kv[1], reverse=True)\n    return [name for name, _ in ranked[:10]]\n";
    let closer = renamed.replace("    return [", "    del ranked[:1]\n    return [");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let dbs = tempfile::tempdir().unwrap();
    let db = dbs.path().join("cpt.db");
    let rescan = |db: &Path| cpt_ok(&["scan", path_str(root), "--quiet", "--db", path_str(db)]);
    let step = |name: &str| -> Vec<(String, Vec<String>)> {
        rescan(&db);
        let fresh = dbs.path().join(name);
        rescan(&fresh);
        assert_same_clones(&db, &fresh);
        classes(&clones(&db))
    };
    write(root, "a.py", original);
    write(root, "b.py", renamed);
    let pair = vec![(
        "T3".to_string(),
        vec!["a.py:summarize".to_string(), "b.py:top_buyers".to_string()],
    )];
    assert_eq!(step("two.db"), pair);
    write(root, "c.py", &closer);
    let taken = step("three.db");
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(
        taken[0].1,
        ["b.py:top_buyers", "c.py:top_buyers"],
        "{taken:?}"
    );
    std::fs::remove_file(root.join("c.py")).unwrap();
    assert_eq!(step("back.db"), pair);
}

/// Real test files where many tests share one fixture and check different behaviours
/// (`fixtures/crowd`): a pair of them that does not stand out of the crowd is no copy unless
/// it explains most of its content (`near::CROWDED`), while the copied tests among them
/// stay paired.
#[test]
fn tests_on_one_fixture_pair_only_when_copied() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crowd");
    let dir = tempfile::tempdir().unwrap();
    for name in ["cordz_info_test.cc", "sync_oneshot.rs"] {
        write(
            dir.path(),
            name,
            std::fs::read_to_string(fixtures.join(name)).unwrap(),
        );
    }
    scan(dir.path(), None);
    let report = clones(&default_db(dir.path()));
    // Each class as the (file, first line) of its members.
    let found: Vec<Vec<(String, u64)>> = report["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["path"].as_str().unwrap().to_string(),
                        m["start_line"].as_u64().unwrap(),
                    )
                })
                .collect()
        })
        .collect();
    let paired = |file: &str, a: u64, b: u64| {
        found.iter().any(|class| {
            class.contains(&(file.to_string(), a)) && class.contains(&(file.to_string(), b))
        })
    };
    // One fixture, different behaviours: tracking state vs untracking with a snapshot, a
    // set under the lock vs a death test without it, closing the receiver vs try_recv
    // after an explicit close (sample 8, #34 and #135: FALSE).
    assert!(!paired("cordz_info_test.cc", 66, 130), "{found:?}");
    assert!(!paired("cordz_info_test.cc", 142, 184), "{found:?}");
    assert!(!paired("sync_oneshot.rs", 76, 157), "{found:?}");
    // Copies among them: untracking head first vs tail first, child tracking with and
    // without sampling, the same send/receive steps checking is_terminated vs is_empty,
    // try_recv after completion with and without await.
    assert!(paired("cordz_info_test.cc", 195, 220), "{found:?}");
    assert!(paired("cordz_info_test.cc", 105, 113), "{found:?}");
    assert!(paired("sync_oneshot.rs", 297, 391), "{found:?}");
    assert!(paired("sync_oneshot.rs", 321, 406), "{found:?}");
    assert!(paired("sync_oneshot.rs", 208, 219), "{found:?}");
}

/// The near-miss pairs of a catalogue.
fn near_pairs(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM near", [], |r| r.get(0))
        .unwrap()
}

/// Band buckets of more than `bucket_cap` shapes give only the shapes that also share the
/// next band's key, and those of more than `crowd_cap` none, so a bucket that grows past a
/// cap takes pairs of its shapes away, and one that shrinks back gives them back, though none
/// of those shapes changed. With caps of 3 and 3 (no second band), then 2 and 4, and variants
/// coming and going one and several at a time, each rescan, and each of the watcher's scans
/// of named files (candidates from the index as it was, with the changes laid over it),
/// equals a fresh scan with the same caps in everything observable, near-miss pairs included.
#[test]
fn a_band_bucket_crossing_its_cap_either_way_re_verifies_its_shapes() {
    use cpt::config::Settings;
    use cpt::detect::near::Params;
    use cpt::scan::{ScanOptions, Silent};

    // Six variants of one function with one sketch: every band bucket of one holds all
    // that are present, so whether a pair is a candidate depends on the caps alone.
    let variants = same_sketch_variants(6);
    for ((bucket_cap, crowd_cap), in_watcher) in [(3, 3), (2, 4)]
        .into_iter()
        .flat_map(|caps| [(caps, false), (caps, true)])
    {
        let settings = Settings {
            near: Params {
                bucket_cap,
                crowd_cap,
                ..Params::default()
            },
            ..Settings::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let dbs = tempfile::tempdir().unwrap();
        let options = ScanOptions {
            root: root.clone(),
            db: dbs.path().join("cpt.db"),
            settings: settings.clone(),
        };
        let warm = cpt::scan::Warm::new();
        let files =
            |ks: &[usize]| -> Vec<String> { ks.iter().map(|k| format!("v{k}.py")).collect() };
        // The variants in the tree after each step, and the pairs a fresh scan finds.
        let steps: [&[usize]; 6] = [
            &[0, 1, 2],
            &[0, 1, 2, 3],
            &[0, 1, 2],
            &[0, 1, 2, 3, 4, 5],
            &[4, 5],
            &[0, 1, 2, 4, 5],
        ];
        let mut pairs = Vec::new();
        let mut present: Vec<usize> = Vec::new();
        for (n, step) in steps.iter().enumerate() {
            let mut named = files(&present);
            for &k in &present {
                if !step.contains(&k) {
                    std::fs::remove_file(root.join(format!("v{k}.py"))).unwrap();
                }
            }
            for &k in step.iter() {
                if !present.contains(&k) {
                    write(&root, &format!("v{k}.py"), &variants[k]);
                }
            }
            named.extend(files(step));
            named.sort();
            named.dedup();
            present = step.to_vec();
            if in_watcher && n > 0 {
                cpt::scan::scan_paths(&options, &named, Some(&warm), &Silent).unwrap();
                let store = cpt::store::Store::open_existing(&options.db).unwrap();
                cpt::scan::catch_up_index(&store, &options.db, &warm).unwrap();
            } else {
                cpt::scan::scan(&options, &Silent).unwrap();
            }
            let fresh = ScanOptions {
                db: dbs.path().join(format!("fresh-{n}.db")),
                ..options.clone()
            };
            cpt::scan::scan(&fresh, &Silent).unwrap();
            crate::common::assert_same_state(&options.db, &fresh.db, &root);
            pairs.push(near_pairs(&fresh.db));
        }
        // Three variants pair up in full; a fourth puts their shared buckets over the cap,
        // and with no second band that loses their pairs.
        assert_eq!(pairs[0], 3, "{pairs:?}");
        assert_eq!(pairs[2], 3, "{pairs:?}");
        assert_eq!(pairs[4], 1, "{pairs:?}");
        if crowd_cap == bucket_cap {
            assert!(pairs[1] < 6, "{pairs:?}");
        } else {
            // Six variants put the buckets they all share over the crowd cap too.
            assert!(pairs[3] < 15, "{pairs:?}");
        }
    }
}

/// A long function, and a statement `scale = limit OP count OP total OP mean` inserted before
/// its `return`, the operators given.
fn long_variant(ops: [&str; 3]) -> String {
    let [a, b, c] = ops;
    format!(
        r#"def blend(items, limit, weights, names):
    total = 0
    count = 0
    largest = None
    seen = set()
    for item in items:
        if item is None or item in seen:
            continue
        seen.add(item)
        total = total + item * weights.get(item, 1)
        count += 1
        if largest is None or item > largest:
            largest = item
        if total > limit:
            break
    mean = total / max(count, 1)
    spread = limit - mean
    labels = [names[i] for i in range(len(names)) if i % 2 == 0]
    report = {{"total": total, "count": count, "mean": mean}}
    while labels and len(labels) > count:
        labels.pop()
    try:
        ratio = largest / total
    except (TypeError, ZeroDivisionError):
        ratio = 0.0
    with open("/dev/null", "w") as sink:
        sink.write(str(report))
    text = ", ".join(str(x) for x in sorted(seen))
    scale = limit {a} count {b} total {c} mean
    return total, count, mean, spread, labels, ratio, text
"#
    )
}

/// `n` variants of [`long_variant`], each its own shape, whose sketches are all the same:
/// none of the shingles their operators make is the least of its bin. Every band bucket of
/// one holds all of them.
fn same_sketch_variants(n: usize) -> Vec<String> {
    const OPS: [&str; 12] = [
        "+", "-", "*", "/", "%", "//", "**", "<<", ">>", "&", "|", "^",
    ];
    let mut by_sketch: std::collections::HashMap<Vec<u64>, Vec<String>> = Default::default();
    for a in OPS {
        for b in OPS {
            for c in OPS {
                let text = long_variant([a, b, c]);
                let python = cpt::parse::lang::by_id("python").unwrap();
                let tree = cpt::parse::parse(python, text.as_bytes()).unwrap();
                let units = cpt::fingerprint::fingerprint(
                    python,
                    &tree,
                    text.as_bytes(),
                    cpt::fingerprint::Thresholds::default(),
                )
                .units;
                let keys = cpt::fingerprint::Sketch::of(&units[0].codes)
                    .band_keys()
                    .to_vec();
                let group = by_sketch.entry(keys).or_default();
                group.push(text);
                if group.len() == n {
                    return std::mem::take(group);
                }
            }
        }
    }
    panic!("no {n} variants with one sketch");
}

/// The same at the default caps (64 and 1024 shapes), through the command line: as many
/// variants of one function with one sketch as the bucket cap pair up in full; two more put
/// every bucket they share over the cap, and they still pair up, through two bands at once;
/// taking three away keeps the rest paired. Every rescan equals a fresh scan.
#[test]
fn the_default_bucket_cap_is_crossed_both_ways_like_a_fresh_scan() {
    let cap = cpt::detect::near::Params::default().bucket_cap;
    let variants = same_sketch_variants(cap + 2);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (k, text) in variants[..cap].iter().enumerate() {
        write(root, &format!("v{k}.py"), text);
    }
    let dbs = tempfile::tempdir().unwrap();
    let db = dbs.path().join("cpt.db");
    scan(root, Some(&db));
    let all_pairs = |n: usize| (n * (n - 1) / 2) as i64;
    assert_eq!(near_pairs(&db), all_pairs(cap));
    for k in [cap, cap + 1] {
        write(root, &format!("v{k}.py"), &variants[k]);
    }
    crate::common::assert_equals_fresh_state_after_rescan(&db, root);
    assert_eq!(near_pairs(&db), all_pairs(cap + 2));
    for k in [0, 1, 2] {
        std::fs::remove_file(root.join(format!("v{k}.py"))).unwrap();
    }
    crate::common::assert_equals_fresh_state_after_rescan(&db, root);
    assert_eq!(near_pairs(&db), all_pairs(cap - 1));
}

/// A delegating one-liner: a signature of six lines, and one statement smaller than half
/// the unit.
const ONE_LINER: &str = r#"def forward(self, request, response, session, user, settings,
            cache, logger, metrics, tracer, limiter,
            timeout=30, retries=3, verbose=False,
            dry_run=False, strict=True, region="eu",
            quota=None, label="main", priority=5,
            parent=None, scope="all"):
    return self.inner.forward(request, response, session)
"#;

/// The noise rules that had no test: an accessor or delegating one-liner (one statement,
/// smaller than its signature) is noise `trivial`, a run of statements made only of imports
/// is noise `imports`; both are catalogued, hidden from reports and shown with `--noise`.
/// The same signature with a body of two statements is code.
#[test]
fn one_liners_and_import_runs_are_noise_shown_only_with_noise() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let two_statements = ONE_LINER.replace("forward(self", "forward_checked(self").replace(
        "    return self.inner.forward(request, response, session)\n",
        "    result = self.inner.forward(request, response, session)\n    return result or limiter\n",
    );
    let imports = "    from os.path import join, dirname, basename, exists\n    from collections import OrderedDict, defaultdict, Counter\n    from itertools import chain, groupby, islice, count\n    from functools import partial, reduce, lru_cache\n    from typing import Optional, Iterable, Mapping\n    import json, csv, re, sys\n";
    let with_imports = |name: &str, rest: usize| {
        let body = py_function("inner", rest);
        let body: String = body.lines().skip(1).map(|l| format!("{l}\n")).collect();
        format!("def {name}(items, limit={rest}):\n{imports}{body}")
    };
    for (file, rest) in [("a.py", 1), ("b.py", 9)] {
        write(
            root,
            file,
            format!(
                "{ONE_LINER}\n\n{two_statements}\n\n{}",
                with_imports(&format!("load_{rest}"), rest)
            ),
        );
    }
    scan(root, None);
    let db = default_db(root);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let noise = |name: &str| -> Vec<Option<String>> {
        conn.prepare("SELECT noise FROM units WHERE name = ?1 ORDER BY file_id")
            .unwrap()
            .query_map([name], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        noise("forward"),
        [Some("trivial".into()), Some("trivial".into())]
    );
    assert_eq!(noise("forward_checked"), [None, None]);
    let import_runs: i64 = conn
        .query_row(
            "SELECT count(*) FROM units WHERE kind = 'block' AND noise = 'imports'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(import_runs >= 2, "{import_runs}");
    let reported = |extra: &[&str]| -> Vec<(String, Vec<String>)> {
        clones_with(&db, extra)["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let members = p["members"].as_array().unwrap();
                (
                    p["kind"].as_str().unwrap().to_string(),
                    members
                        .iter()
                        .map(|m| format!("{}:{}", m["path"].as_str().unwrap(), m["start_line"]))
                        .collect(),
                )
            })
            .collect()
    };
    // By default only the function with two statements.
    assert_eq!(
        reported(&[]),
        [(
            "function".to_string(),
            vec!["a.py:10".to_string(), "b.py:10".to_string()]
        )]
    );
    // With --noise the one-liners too (near-miss copies of the two-statement functions, in
    // their class), and the import runs (the functions' first line is 20, their imports
    // lines 21 to 26).
    let all = reported(&["--noise"]);
    let lines =
        |members: &[&str]| -> Vec<String> { members.iter().map(|m| m.to_string()).collect() };
    assert!(
        all.contains(&(
            "function".to_string(),
            lines(&["a.py:1", "a.py:10", "b.py:1", "b.py:10"])
        )),
        "{all:?}"
    );
    assert!(
        all.contains(&("block".to_string(), lines(&["a.py:21", "b.py:21"]))),
        "{all:?}"
    );
    let clones = clones_with(&db, &["--noise"]);
    let block = clones["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "block")
        .unwrap();
    assert!(
        block["members"][0]["end_line"].as_u64().unwrap() <= 26,
        "{block}"
    );
}

/// `cpt: ignore` on the line above a unit's decorators (Python) or `export` (JavaScript)
/// leaves the unit out, as on the line above the unit itself; the same comment elsewhere
/// does not.
#[test]
fn an_ignore_comment_above_decorators_or_export_leaves_the_unit_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let f = py_function("fold", 1);
    let decorated = format!("@cache\n@retry(times=3, delay=0.5)\n{f}");
    write(root, "a.py", &f);
    write(root, "b.py", format!("x = 1\n# cpt: ignore\n{decorated}"));
    write(root, "c.py", &decorated);
    // A comment two lines above the decorators is no ignore comment.
    write(root, "d.py", format!("# cpt: ignore\n\n{decorated}"));
    let js = "function total(items, limit) {\n  let sum = 0;\n  for (const item of items) {\n    if (item.skip) {\n      continue;\n    }\n    sum += item.value * item.count;\n    if (sum > limit) {\n      break;\n    }\n  }\n  return sum;\n}\n";
    write(root, "e.js", js);
    write(root, "f.js", format!("// cpt: ignore\nexport {js}"));
    write(root, "g.js", format!("export {js}"));
    write(root, "h.js", format!("export default {js}"));
    write(root, "i.js", format!("// cpt: ignore\nexport default {js}"));
    scan(root, None);
    let names: Vec<Vec<String>> = classes(&clones(&default_db(root)))
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(
        names,
        [
            vec!["a.py:fold", "c.py:fold", "d.py:fold"],
            vec!["e.js:total", "g.js:total", "h.js:total"],
        ]
    );
}

/// A rescan with another `--min-similarity` (or `min_similarity` in cpt.toml) re-verifies
/// every pair with the new bar, as a fresh scan with it would; going back restores the
/// near-miss class. `cpt similar` answers with the catalogue's bar.
#[test]
fn a_changed_min_similarity_rescans_like_a_fresh_scan_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    let dbs = tempfile::tempdir().unwrap();
    let db = dbs.path().join("cpt.db");
    let scan_with = |db: &Path, extra: &[&str]| {
        let mut args = vec!["scan", path_str(root), "--quiet", "--db", path_str(db)];
        args.extend(extra);
        cpt_ok(&args);
    };
    let same_as_fresh = |extra: &[&str], name: &str| {
        let fresh = dbs.path().join(name);
        scan_with(&fresh, extra);
        crate::common::assert_same_state(&db, &fresh, root);
    };
    let types =
        |db: &Path| -> Vec<String> { classes(&clones(db)).into_iter().map(|(t, _)| t).collect() };
    scan_with(&db, &[]);
    assert!(types(&db).contains(&"T3".to_string()), "{:?}", types(&db));
    scan_with(&db, &["--min-similarity", "0.97"]);
    assert!(!types(&db).contains(&"T3".to_string()), "{:?}", types(&db));
    same_as_fresh(&["--min-similarity", "0.97"], "high.db");
    scan_with(&db, &["--min-similarity", "0.8"]);
    assert!(types(&db).contains(&"T3".to_string()), "{:?}", types(&db));
    same_as_fresh(&["--min-similarity", "0.8"], "mid.db");
    write(root, "cpt.toml", "[scan]\nmin_similarity = 0.97\n");
    scan_with(&db, &[]);
    same_as_fresh(&[], "toml.db");
    assert!(!types(&db).contains(&"T3".to_string()), "{:?}", types(&db));
    std::fs::remove_file(root.join("cpt.toml")).unwrap();
    scan_with(&db, &[]);
    assert!(types(&db).contains(&"T3".to_string()), "{:?}", types(&db));
    same_as_fresh(&[], "default.db");
}

/// `cpt similar` finds the shapes of a crowded band bucket (two variants of one sketch more
/// than the bucket cap) through their second band, from the index's base alone and from a
/// base with a delta segment over it (a file added since), with the same answer.
#[test]
fn similar_answers_from_crowded_buckets_alike_with_and_without_a_delta() {
    let n = cpt::detect::near::Params::default().bucket_cap + 2;
    let variants = same_sketch_variants(n);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (k, text) in variants.iter().enumerate() {
        write(root, &format!("v{k}.py"), text);
    }
    let dbs = tempfile::tempdir().unwrap();
    let db = dbs.path().join("cpt.db");
    scan(root, Some(&db));
    let ask = |db: &Path| -> Value {
        let run = cpt_ok(&[
            "similar",
            path_str(&root.join("v0.py")),
            "--format",
            "json",
            "--limit",
            "100",
            "--db",
            path_str(db),
        ]);
        serde_json::from_str(&run.stdout).unwrap()
    };
    let base = ask(&db);
    let text = base.to_string();
    assert!(
        (1..n).all(|k| text.contains(&format!("\"v{k}.py\""))),
        "every other variant is a match: {text}"
    );
    // A file added since: the next scan lays a delta segment over the base.
    write(root, "other.py", "def other(a):\n    return a\n");
    scan(root, Some(&db));
    let index = db.with_extension("index");
    let delta = std::fs::read_dir(dbs.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.path() != index && e.file_name().to_string_lossy().contains("index"));
    assert!(delta, "no delta segment beside {}", index.display());
    assert_eq!(ask(&db), base);
}
