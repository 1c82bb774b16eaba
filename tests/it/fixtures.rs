//! Per-language fixtures: a planted type-1 pair and type-2 pair are found (the type-2 pair
//! with its near-miss variant as a type-3 class where the variant is similar enough), and the
//! distinct functions are paired with nothing.

use std::path::Path;

use crate::common::{classes, clones, default_db, scan, stats};

#[derive(serde::Deserialize)]
struct Expected {
    t1: Vec<String>,
    #[serde(default)]
    t2: Vec<String>,
    #[serde(default)]
    t3: Vec<String>,
    distinct: Vec<String>,
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn planted_clones_are_found_in_every_built_in_language() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = Vec::new();
    for lang in cpt::lang::all() {
        let dir = fixtures.join(lang.id);
        let expected: Expected = toml::from_str(
            &std::fs::read_to_string(dir.join("expected.toml"))
                .unwrap_or_else(|e| panic!("{}: {e}", lang.id)),
        )
        .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&dir, tmp.path());
        scan(tmp.path(), None);
        let found = classes(&clones(&default_db(tmp.path())));
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        let mut want = vec![("T1".to_string(), sorted(&expected.t1))];
        for (kind, members) in [("T2", &expected.t2), ("T3", &expected.t3)] {
            if !members.is_empty() {
                want.push((kind.to_string(), sorted(members)));
            }
        }
        assert_eq!(found, want, "{}: clone classes", lang.id);
        for name in &expected.distinct {
            assert!(
                !found.iter().any(|(_, members)| members.contains(name)),
                "{}: {name} was paired",
                lang.id
            );
        }
        // A, A', B, B', C, D, E and F are all units: the distinct ones were looked at.
        let units = &stats(&default_db(tmp.path()))["languages"][lang.id]["units"];
        assert_eq!(units, 8, "{}: units", lang.id);
        checked.push(lang.id);
    }
    assert_eq!(checked.len(), 9);
}
