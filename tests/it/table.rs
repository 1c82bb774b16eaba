//! `cpt table`: the periodic table of clone classes and idioms, in text, JSON and HTML.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use crate::common::{commit, cpt_ok, default_db, git, path_str, scan, write};

/// A copied loop, a copied try/except, and two small functions repeated in six Python files
/// and six Go files (idioms in each language).
fn tree(root: &Path) {
    let looped = |name: &str| {
        format!(
            "def {name}(rows, limit):\n    total = 0\n    for row in rows:\n        if row.size > limit:\n            total += row.size * 2 + row.extra\n        else:\n            total -= row.weight + 1\n        row.mark_seen(total, limit)\n    return total\n"
        )
    };
    let guarded = |name: &str| {
        format!(
            "def {name}(path, fallback):\n    try:\n        handle = open_thing(path, mode=3, size=4096)\n        value = handle.read_all(17, strict=True)\n        handle.close_now(path)\n        return value\n    except ThingError as error:\n        log_it(error, path, level=2)\n        return fallback\n"
        )
    };
    write(root, "app/a.py", looped("sum_rows"));
    write(root, "lib/b.py", looped("add_rows"));
    write(root, "app/c.py", guarded("load_thing"));
    write(root, "lib/d.py", guarded("read_thing"));
    for i in 0..6 {
        write(
            root,
            &format!("models/m{i}.py"),
            format!(
                "class Model{i}:\n    def name(self):\n        return self._name\n\n    def other_{i}(self, x):\n        return x + {i}\n"
            ),
        );
        write(
            root,
            &format!("pkg/p{i}/t.go"),
            format!(
                "package p{i}\n\nfunc (t *T) Name() string {{\n\treturn t.name\n}}\n\nfunc Other{i}() int {{ return {i} }}\n"
            ),
        );
    }
    // A `<` in a copy, for the page's escaping.
    let tagged = "def render_tag(items, width):\n    out = []\n    for item in items:\n        if item.width < width:\n            out.append('<b>' + item.text + '</b>')\n        else:\n            out.append(item.text)\n    return ''.join(out)\n";
    write(root, "web/x.py", tagged.replace("render_tag", "render_x"));
    write(root, "web/y.py", tagged.replace("render_tag", "render_y"));
}

fn table_json(db: &Path) -> Value {
    let run = cpt_ok(&["table", "--format", "json", "--db", path_str(db)]);
    serde_json::from_str(&run.stdout).expect("table JSON")
}

fn element<'a>(table: &'a Value, name: &str) -> &'a Value {
    table["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["copies"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == name)
        })
        .unwrap_or_else(|| panic!("no element named {name} in {table:#}"))
}

#[test]
fn json_places_clones_and_idioms_by_family_and_size() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    scan(dir.path(), None);
    let table = table_json(&default_db(dir.path()));
    assert_eq!(table["schema"], "cpt.table/1");
    let groups: Vec<&str> = table["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        groups,
        [
            "iteration",
            "branching",
            "errors",
            "resources",
            "construction",
            "transformation",
            "concurrency",
            "delegation",
            "tests"
        ]
    );
    assert_eq!(table["periods"].as_array().unwrap().len(), 6);

    let looped = element(&table, "add_rows");
    assert_eq!(looped["group"], "iteration", "{looped:#}");
    assert_eq!(looped["clone_type"], "T2");
    assert_eq!(looped["period"], 2, "9 lines: the 8-15 band");
    assert_eq!(looped["instances"], 2);
    assert_eq!(looped["directories"], 2);
    assert_eq!(looped["trend"], "new");
    assert_eq!(looped["id"].as_str().unwrap().len(), 16);
    let guarded = element(&table, "load_thing");
    assert_eq!(guarded["group"], "errors", "{guarded:#}");

    // The accessor recurs in six files of each language: one idiom per language, accessors.
    let idioms: Vec<&Value> = table["elements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["clone_type"] == "idiom")
        .collect();
    let languages: HashSet<&str> = idioms
        .iter()
        .map(|e| e["languages"][0].as_str().unwrap())
        .collect();
    assert_eq!(languages, HashSet::from(["python", "go"]), "{idioms:#?}");
    for idiom in &idioms {
        assert_eq!(idiom["group"], "delegation", "{idiom:#}");
        assert_eq!(idiom["files"], 6);
        assert_eq!(idiom["trend"], Value::Null);
        assert_eq!(idiom["period"], 0);
    }
    let symbols: Vec<&str> = table["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(
        symbols.iter().collect::<HashSet<_>>().len(),
        symbols.len(),
        "{symbols:?}"
    );
    assert!(symbols.iter().all(|s| s.len() == 2
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.ends_with(|c: char| c.is_ascii_lowercase())));
    // `name`/`Name` and `other_N`/`OtherN` (renamed) in each language.
    assert_eq!(table["summary"]["by_type"]["idiom"], 4);

    // Filters: only Go leaves the Go idiom.
    let run = cpt_ok(&[
        "table",
        "--format",
        "json",
        "--lang",
        "go",
        "--db",
        path_str(&default_db(dir.path())),
    ]);
    let go: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(go["elements"].as_array().unwrap().len(), 2, "{go:#}");
}

#[test]
fn text_fits_100_columns_without_colour_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    scan(dir.path(), None);
    let run = cpt_ok(&["table", "--db", path_str(&default_db(dir.path()))]);
    assert!(!run.stdout.contains('\x1b'), "{}", run.stdout);
    for line in run.stdout.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    assert!(run.stdout.contains("Iteration"), "{}", run.stdout);
    assert!(run.stdout.contains("largest elements:"), "{}", run.stdout);
    assert!(run.stdout.contains("add_rows") || run.stdout.contains("sum_rows"));
}

#[test]
fn html_is_one_page_without_network_that_escapes_the_code() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    scan(dir.path(), None);
    let page = dir.path().join("table.html");
    cpt_ok(&[
        "table",
        "--html",
        path_str(&page),
        "--db",
        path_str(&default_db(dir.path())),
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    for attr in ["src=", "href="] {
        assert!(!html.contains(attr), "the page links to something: {attr}");
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    // The copies' source is there, its `<` escaped: no tag of the code reaches the page.
    assert!(html.contains("render_x") && html.contains("render_y"));
    assert!(!html.contains("<b>") && html.contains("\\u003cb\\u003e"));
    assert!(html.contains("load_thing") || html.contains("read_thing"));
    assert_eq!(html.matches("<script").count(), 2);
}

/// A JSON report without the fields that name the catalogue's root or the point asked for.
fn without_root(text: &str) -> Value {
    let mut json: Value = serde_json::from_str(text).unwrap();
    let object = json.as_object_mut().unwrap();
    object.remove("root");
    object.remove("at");
    json
}

/// [`tree`] committed and scanned, then changed, committed and scanned again: the loop copied
/// a third time, the try/except's second copy removed, a seventh model (the accessor idiom
/// grows) and a new copied pair.
#[test]
fn at_a_commit_equals_a_fresh_scan_of_it_and_since_compares_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    std::fs::create_dir_all(&root).unwrap();
    let db = dir.path().join("c.db");
    git(&root, &["init", "-q"]);
    tree(&root);
    let first = commit(&root, "one");
    scan(&root, Some(&db));
    let before = table_json(&db);
    let looped = std::fs::read_to_string(root.join("lib/b.py")).unwrap();
    write(&root, "util/e.py", looped.replace("add_rows", "count_rows"));
    let summed = std::fs::read_to_string(root.join("app/a.py")).unwrap();
    write(&root, "app/a.py", format!("# a line above\n{summed}"));
    std::fs::remove_file(root.join("lib/d.py")).unwrap();
    write(
        &root,
        "models/m6.py",
        "class Model6:\n    def name(self):\n        return self._name\n",
    );
    let fresh_pair = "def merge_spans(spans, cap):\n    out = []\n    for s in sorted(spans):\n        if out and s[0] <= out[-1][1] + cap:\n            out[-1] = (out[-1][0], max(out[-1][1], s[1]))\n        else:\n            out.append(s)\n    return out\n";
    write(&root, "new/p.py", fresh_pair);
    write(
        &root,
        "new/q.py",
        fresh_pair.replace("merge_spans", "join_spans"),
    );
    commit(&root, "two");
    scan(&root, Some(&db));

    // The tree as it was, scanned afresh into its own catalogue.
    let old = dir.path().join("old");
    git(
        dir.path(),
        &["clone", "-q", path_str(&root), path_str(&old)],
    );
    git(&old, &["checkout", "-q", &first]);
    let old_db = dir.path().join("old.db");
    scan(&old, Some(&old_db));
    let db_s = path_str(&db);
    for command in ["clones", "table"] {
        let fresh = cpt_ok(&[command, "--format", "json", "--db", path_str(&old_db)]).stdout;
        for at in [first.as_str(), "scan:1", "HEAD~1"] {
            let then = cpt_ok(&[command, "--format", "json", "--db", db_s, "--at", at]).stdout;
            assert_eq!(
                without_root(&then),
                without_root(&fresh),
                "{command} --at {at}"
            );
        }
    }
    assert_eq!(
        without_root(
            &cpt_ok(&["table", "--format", "json", "--db", db_s, "--at", "scan:1"]).stdout
        ),
        without_root(&before.to_string())
    );
    let at: Value = serde_json::from_str(
        &cpt_ok(&["table", "--format", "json", "--db", db_s, "--at", "scan:1"]).stdout,
    )
    .unwrap();
    assert_eq!(at["at"], "scan:1");

    // Trends since the first commit: the loop grew, the new pair is new, the tagged pair is
    // steady, the accessor idioms grew (Python) and stayed (Go); the try/except is gone.
    let run = cpt_ok(&["table", "--format", "json", "--db", db_s, "--since", &first]);
    let since: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(since["trends_since"], first.as_str());
    assert_eq!(element(&since, "count_rows")["trend"], "up");
    assert_eq!(element(&since, "count_rows")["instances"], 3);
    assert_eq!(element(&since, "join_spans")["trend"], "new");
    assert_eq!(element(&since, "render_x")["trend"], "steady");
    assert!(
        since["elements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["copies"][0]["name"] != "load_thing")
    );
    let idiom_trends: HashSet<(&str, &str)> = since["elements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["clone_type"] == "idiom")
        .map(|e| {
            (
                e["languages"][0].as_str().unwrap(),
                e["trend"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(idiom_trends.contains(&("python", "up")), "{idiom_trends:?}");
    assert!(idiom_trends.contains(&("go", "steady")), "{idiom_trends:?}");
    // Without --since, trends say what the last scan did; the text legend says which.
    let now = table_json(&db);
    assert_eq!(element(&now, "join_spans")["trend"], "new");
    assert_eq!(element(&now, "render_x")["trend"], "steady");
    let text = cpt_ok(&["table", "--db", db_s, "--since", "scan:1"]).stdout;
    assert!(text.contains("shrank since scan:1"), "{text}");
    let text = cpt_ok(&["table", "--db", db_s, "--at", "scan:1"]).stdout;
    assert!(text.starts_with("as at scan:1: "), "{text}");
    // The page of the table then shows the code then: a file changed since (a line added
    // above the copy) and a file removed since are read from the commit.
    let page = dir.path().join("then.html");
    cpt_ok(&[
        "table",
        "--db",
        db_s,
        "--at",
        "scan:1",
        "--html",
        path_str(&page),
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("[\"app/a.py\",1,[\"def sum_rows(rows, limit):\""),
        "app/a.py as it was not in the page"
    );
    assert!(
        html.contains("[\"lib/d.py\",1,[\"def read_thing(path, fallback):\""),
        "lib/d.py as it was not in the page"
    );
    // Before the first scan the table is empty, and says so plainly.
    let text = cpt_ok(&["table", "--db", db_s, "--at", "2000-01-01"]).stdout;
    assert_eq!(
        text.lines().next().unwrap(),
        "as at 2000-01-01: 0 files, 0 lines, 0.0% duplicated; 0 elements"
    );
    // A --since after the point shown is a one-line error.
    let run = crate::common::cpt(&["table", "--db", db_s, "--at", "scan:1", "--since", "scan:2"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("cpt: --since scan:2: ") && run.stderr.lines().count() == 1,
        "{}",
        run.stderr
    );
}

/// Catalogues written before units recorded their family: the table parses the
/// representatives instead, and says the same of these fixtures (each shorter than the lines
/// it parses).
#[test]
fn families_recorded_by_the_scan_equal_those_parsed_from_the_representatives() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    scan(dir.path(), None);
    let db = default_db(dir.path());
    let recorded = table_json(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let unset = conn.execute("UPDATE units SET family = NULL", []).unwrap();
    assert!(unset > 0);
    conn.execute("UPDATE small_functions SET family = NULL", [])
        .unwrap();
    drop(conn);
    let parsed = table_json(&db);
    assert_eq!(parsed, recorded);
}

/// Chromium, when it is installed (`CPT_CHROMIUM`, else `chromium` or `chromium-browser` on
/// the `PATH`).
fn chromium() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("CPT_CHROMIUM") {
        return Some(path.into());
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// Run headless Chromium on `page` with `args` added to the flags CI wants (a fresh profile,
/// nothing fetched in the background); its standard output. Killed after two minutes.
fn run_chromium(chromium: &Path, profile: &Path, args: &[&str], page: &Path) -> String {
    let mut child = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).unwrap();
        text
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {args:?}: {status}");
            break;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium {args:?} took over two minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The pixels of an 8-bit RGB or RGBA PNG: (width, height, one `Vec` of channel bytes per
/// pixel, row after row).
fn png_pixels(png: &[u8]) -> (u32, u32, Vec<Vec<u8>>) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut at, mut header, mut data) = (8, Vec::new(), Vec::new());
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let body = &png[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => header = body.to_vec(),
            b"IDAT" => data.extend_from_slice(body),
            _ => {}
        }
        at += 12 + len;
    }
    let width = u32::from_be_bytes(header[0..4].try_into().unwrap());
    let height = u32::from_be_bytes(header[4..8].try_into().unwrap());
    assert_eq!(header[8], 8, "8 bits per channel");
    let channels = match header[9] {
        2 => 3,
        6 => 4,
        other => panic!("colour type {other}"),
    };
    let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&data).expect("IDAT inflates");
    let stride = width as usize * channels;
    let mut rows: Vec<Vec<u8>> = Vec::with_capacity(height as usize);
    for y in 0..height as usize {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let (filter, line) = (line[0], &line[1..]);
        let mut row = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels { row[i - channels] } else { 0 };
            let b = if y > 0 { rows[y - 1][i] } else { 0 };
            let c = if y > 0 && i >= channels {
                rows[y - 1][i - channels]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            row[i] = line[i].wrapping_add(predicted);
        }
        rows.push(row);
    }
    let pixels = rows
        .iter()
        .flat_map(|row| row.chunks(channels).map(<[u8]>::to_vec))
        .collect();
    (width, height, pixels)
}

/// The page as a browser draws it, after its script ran: headless Chromium (Debian's
/// `chromium`, which `.ci/run` installs) takes a screenshot at 1400×1000 that is not blank,
/// and the DOM it dumps holds the summary, the grid with every element, the legend and the
/// side-by-side view of the chosen element.
#[test]
fn html_page_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed (.ci/run installs Debian's chromium)"
        );
        eprintln!("skipped: chromium is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    tree(&root);
    scan(&root, None);
    let db = default_db(&root);
    let page = dir.path().join("table.html");
    cpt_ok(&["table", "--html", path_str(&page), "--db", path_str(&db)]);
    let table = table_json(&db);

    let shot = dir.path().join("shot.png");
    run_chromium(
        &chromium,
        &dir.path().join("profile-shot"),
        &[
            "--window-size=1400,1000",
            "--hide-scrollbars",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    let (width, height, pixels) = png_pixels(&std::fs::read(&shot).expect("a screenshot"));
    assert_eq!((width, height), (1400, 1000));
    let background = pixels[0].clone();
    let drawn = pixels.iter().filter(|p| **p != background).count();
    let colours: HashSet<&Vec<u8>> = pixels.iter().collect();
    assert!(
        drawn * 20 > pixels.len() && colours.len() > 16,
        "a blank page: {drawn} of {} pixels drawn, {} colours",
        pixels.len(),
        colours.len()
    );

    let dom = run_chromium(
        &chromium,
        &dir.path().join("profile-dom"),
        &["--dump-dom"],
        &page,
    );
    // The script filled the page: the summary, the root, the legend.
    let files = table["summary"]["files"].as_u64().unwrap();
    assert!(
        dom.contains(&format!("<b>{files}</b>files")),
        "no summary in {dom}"
    );
    assert!(dom.contains(path_str(&root)), "no root");
    assert!(dom.contains("Columns: families of code"), "no legend");
    // Every element is in the grid, its symbol and instances in a cell of its group's column.
    for e in table["elements"].as_array().unwrap() {
        let symbol = e["symbol"].as_str().unwrap();
        assert!(
            dom.contains(&format!("<span class=\"s\">{symbol}</span>")),
            "{symbol} not in the grid"
        );
    }
    let cells = dom.matches("<div class=\"el ").count();
    assert_eq!(cells, table["elements"].as_array().unwrap().len());
    for g in table["groups"].as_array().unwrap() {
        let short = g["short"].as_str().unwrap();
        assert!(dom.contains(&format!(">{short}</th>")), "column {short}");
    }
    // The largest class is chosen, its copies listed and two of them side by side.
    let first = table["elements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["clone_type"] != "idiom")
        .unwrap();
    let heading = format!(
        "{} — {}",
        first["symbol"].as_str().unwrap(),
        first["name"].as_str().unwrap()
    );
    assert!(dom.contains(&heading), "no detail for {heading}");
    assert!(dom.contains("(representative)"));
    assert!(dom.contains("class=\"sbs\""), "no side-by-side view");
    // The code is text, never markup: the copy's `<b>` is escaped in the DOM too.
    assert!(!dom.contains("<b>' +"), "code became markup");
}
