//! Module dependencies go one way: every `crate::` path in `src/` is checked against the
//! rules written in ARCHITECTURE.md (the ```tidy block of "Dependency rules"), so the rules
//! the document states are the ones the code keeps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rules: modules in layer order (a module may use only those before it), the modules
/// a front end may use, and the crates only some modules may name.
struct Rules {
    layers: Vec<String>,
    only_uses: BTreeMap<String, Vec<String>>,
    crates: BTreeMap<String, Vec<String>>,
}

fn rules() -> Rules {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    let start = doc
        .find("```tidy\n")
        .expect("ARCHITECTURE.md has a ```tidy block")
        + 8;
    let block = &doc[start..start + doc[start..].find("```").unwrap()];
    let mut rules = Rules {
        layers: Vec::new(),
        only_uses: BTreeMap::new(),
        crates: BTreeMap::new(),
    };
    let mut section = "";
    for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.ends_with(':') && !line.contains(' ') || line.starts_with('[') {
            section = line;
            continue;
        }
        let list = |s: &str| {
            s.split(',')
                .map(|m| m.trim().to_string())
                .collect::<Vec<_>>()
        };
        match section {
            "[layers]" => rules.layers.push(line.to_string()),
            "[front ends]" => {
                let (module, uses) = line.rsplit_once(": ").unwrap();
                rules
                    .only_uses
                    .insert(module.trim().to_string(), list(uses));
            }
            "[crates]" => {
                let (krate, modules) = line.rsplit_once(": ").unwrap();
                rules.crates.insert(krate.trim().to_string(), list(modules));
            }
            other => panic!("ARCHITECTURE.md tidy block: unknown section {other}"),
        }
    }
    rules
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` → `a::b`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// The rule unit a module belongs to: the longest layer naming it or a parent of it.
fn unit_of<'a>(layers: &'a [String], module: &str) -> Option<(usize, &'a str)> {
    layers
        .iter()
        .enumerate()
        .filter(|(_, l)| module == l.as_str() || module.starts_with(&format!("{l}::")))
        .max_by_key(|(_, l)| l.len())
        .map(|(i, l)| (i, l.as_str()))
}

/// The code of a file without its tests and comments.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap();
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path named as `crate::a::b…`, including `crate::{a, b::c}` groups.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            out.extend(group[..end].split(',').map(|p| path_prefix(p.trim())));
        } else {
            out.push(path_prefix(rest));
        }
    }
    out
}

fn path_prefix(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect::<String>()
        .trim_end_matches(':')
        .to_string()
}

#[test]
fn modules_depend_one_way_as_architecture_md_says() {
    let rules = rules();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut broken = Vec::new();
    // Top-level modules and whom they use, for the circle check below.
    let mut top: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some((rank, unit)) = unit_of(&rules.layers, &module) else {
            broken.push(format!("{module}: in no layer of ARCHITECTURE.md's rules"));
            continue;
        };
        let text = code(&std::fs::read_to_string(file).unwrap());
        for path in crate_paths(&text) {
            // `crate::a::B` names module `a` (or `a::b` when that is a unit of its own).
            let Some((used_rank, used)) = unit_of(&rules.layers, &path) else {
                continue;
            };
            let (from, to) = (top_of(&module), top_of(&path));
            if from != to && !to.is_empty() {
                top.entry(from).or_default().insert(to);
            }
            if used == unit {
                continue;
            }
            if used_rank > rank {
                broken.push(format!(
                    "{module} uses crate::{path}: {used} is above {unit}"
                ));
            }
            if let Some(allowed) = rules.only_uses.get(unit)
                && !allowed
                    .iter()
                    .any(|a| path == *a || path.starts_with(&format!("{a}::")))
            {
                broken.push(format!(
                    "{module} uses crate::{path}: front end {unit} may use only {}",
                    allowed.join(", ")
                ));
            }
        }
        for (krate, owners) in &rules.crates {
            let owned = owners
                .iter()
                .any(|o| module == *o || module.starts_with(&format!("{o}::")));
            let names = text
                .lines()
                .filter(|l| !l.contains("cfg_attr(feature = \"cli\""))
                .any(|l| l.contains(&format!("{krate}::")) || l.contains(&format!("use {krate};")));
            if names && !owned {
                broken.push(format!(
                    "{module} names {krate}, which only {} may",
                    owners.join(", ")
                ));
            }
        }
    }
    // Within the layers a folder may hold a module above another folder's (index::contents
    // above store): folders taken whole must still not use each other in a circle.
    for start in top.keys() {
        let mut stack: Vec<Vec<String>> = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            for next in top.get(path.last().unwrap()).into_iter().flatten() {
                if next == start {
                    broken.push(format!(
                        "folders in a circle: {} -> {start}",
                        path.join(" -> ")
                    ));
                } else if !path.contains(next) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "dependency rules broken:\n{}",
        broken.join("\n")
    );
}

/// The top-level module of a module path (`index::refresh` → `index`).
fn top_of(module: &str) -> String {
    module.split("::").next().unwrap_or_default().to_string()
}

#[test]
fn the_rules_catch_a_module_using_one_above_it() {
    let rules = rules();
    let (store, _) = unit_of(&rules.layers, "store").unwrap();
    let (engine, _) = unit_of(&rules.layers, "engine::view").unwrap();
    assert!(store < engine);
    assert_eq!(
        unit_of(&rules.layers, "index::refresh").unwrap().1,
        "index::refresh"
    );
    assert_eq!(unit_of(&rules.layers, "index").unwrap().1, "index");
    assert_eq!(
        crate_paths("use crate::{a::b, c};\nuse crate::d::E;"),
        ["a::b", "c", "d::E"]
    );
}
