//! `cpt table`: the periodic table of clone classes and idioms, in text, JSON and HTML.

use std::collections::HashSet;
use std::path::Path;

use serde_json::Value;

use crate::common::{cpt_ok, default_db, path_str, scan, write};

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
