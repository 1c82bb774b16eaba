//! Per-language fixtures: a planted type-1 pair and type-2 pair are found (the type-2 pair
//! with its near-miss variant as a type-3 class where the variant is similar enough), a copy
//! that was renamed and then edited is found with its original, the distinct functions are
//! paired with nothing, and idioms that many functions share (tests built on one skeleton,
//! sibling formatting methods, windows of one long dispatch) never pair with each other.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::{classes, clones, cpt_ok, default_db, path_str, scan};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    t1: Vec<String>,
    #[serde(default)]
    t2: Vec<String>,
    #[serde(default)]
    t3: Vec<String>,
    /// A copy renamed and edited, with its original: one class holds both.
    renamed: Vec<String>,
    /// Units that are in no class.
    distinct: Vec<String>,
    /// Lists of units no class holds two of (a name listed twice may be held once).
    apart_tests: Vec<String>,
    apart_formats: Vec<String>,
    apart_switch: Vec<String>,
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// `file:name` of every function-level unit of the files in `root`, as `cpt similar` asks
/// about them.
fn unit_names(root: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() || cpt::parse::lang::for_path(&path).is_none() {
            continue;
        }
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        let db = default_db(root);
        let out = cpt_ok(&[
            "similar",
            path_str(&path),
            "--db",
            path_str(&db),
            "--format",
            "json",
            "--limit",
            "1",
        ]);
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        for query in json["queries"].as_array().unwrap() {
            names.insert(format!("{file}:{}", query["name"].as_str().unwrap()));
        }
    }
    names
}

#[test]
fn planted_clones_are_found_in_every_built_in_language() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = Vec::new();
    for lang in cpt::parse::lang::all() {
        let dir = fixtures.join(lang.id);
        let expected: Expected = toml::from_str(
            &std::fs::read_to_string(dir.join("expected.toml"))
                .unwrap_or_else(|e| panic!("{}: {e}", lang.id)),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", lang.id));
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&dir, tmp.path());
        scan(tmp.path(), None);
        let found = classes(&clones(&default_db(tmp.path())));
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        // The planted classes, exactly, and the renamed copy with its original: nothing else.
        let mut want = vec![("T1".to_string(), sorted(&expected.t1))];
        for (kind, members) in [("T2", &expected.t2), ("T3", &expected.t3)] {
            if !members.is_empty() {
                want.push((kind.to_string(), sorted(members)));
            }
        }
        let renamed = found
            .iter()
            .find(|(_, members)| expected.renamed.iter().all(|m| members.contains(m)));
        assert!(
            renamed.is_some(),
            "{}: the renamed and edited copy {:?} was not found: {found:?}",
            lang.id,
            expected.renamed
        );
        want.extend(renamed.cloned());
        want.sort();
        let mut found_sorted = found.clone();
        found_sorted.sort();
        assert_eq!(found_sorted, want, "{}: clone classes", lang.id);
        for name in &expected.distinct {
            assert!(
                !found.iter().any(|(_, members)| members.contains(name)),
                "{}: {name} was paired",
                lang.id
            );
        }
        for apart in [
            &expected.apart_tests,
            &expected.apart_formats,
            &expected.apart_switch,
        ] {
            for (kind, members) in &found {
                let held = members.iter().filter(|m| apart.contains(m)).count();
                assert!(
                    held <= 1,
                    "{}: a {kind} class holds {held} of {apart:?}: {members:?}",
                    lang.id
                );
            }
        }
        // Every unit named is one: the distinct ones were looked at. Idioms below the unit
        // size cannot pair; the tests and the dispatch are big enough to.
        let units = unit_names(tmp.path());
        for name in expected
            .distinct
            .iter()
            .chain(&expected.renamed)
            .chain(&expected.apart_tests)
            .chain(&expected.apart_switch)
        {
            assert!(
                units.contains(name),
                "{}: {name} is no unit: {units:?}",
                lang.id
            );
        }
        checked.push(lang.id);
    }
    assert_eq!(checked.len(), 9);
}
