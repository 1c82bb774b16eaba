//! Function-level units (functions, methods, closures, …) and the named functions below the
//! thresholds.

use tree_sitter::Node;

use super::codes::{content_codes, similarity_codes};
use super::hash::UnitHasher;
use super::noise::{LARGE_TABLE, is_table, literal_noise, trivial_noise};
use super::reuse::{Earlier, line_above};
use super::tokens::{Flat, RawUnit, end_row};
use super::{Noise, SmallFunction, Thresholds, UnitPrint};
use crate::parse::lang::{Language, UnitKind};

/// The function-level units of a file, and what the block pass needs to know of them.
pub(super) struct FunctionUnits {
    /// Units at or above the thresholds, in source order (outer before inner).
    pub(super) units: Vec<UnitPrint>,
    /// Named functions below the thresholds, in source order.
    pub(super) small: Vec<SmallFunction>,
    /// Byte ranges of units a `cpt: ignore` comment leaves out: blocks inside them go too.
    pub(super) ignored: Vec<(u32, u32)>,
    /// Token ranges of every candidate unit: a window that is a whole unit is no block.
    pub(super) ranges: Vec<(usize, usize)>,
    /// Units whose prints were reused from the earlier version.
    pub(super) reused: usize,
}

/// Fingerprint the candidate units of a walked file: those meeting the thresholds become
/// units (taken from `earlier` where they lie clear of its changes), named functions below
/// them small functions, and those a `cpt: ignore` comment marks are left out.
pub(super) fn function_units<'s>(
    lang: &Language,
    flat: &Flat<'_>,
    source: &'s [u8],
    thresholds: Thresholds,
    earlier: Option<&Earlier<'_>>,
    hasher: &mut UnitHasher<'s>,
) -> FunctionUnits {
    let tokens = &flat.tokens;
    let generated = flat.generated.then_some(Noise::Generated);
    let mut found = FunctionUnits {
        units: Vec::new(),
        small: Vec::new(),
        ignored: Vec::new(),
        ranges: Vec::with_capacity(flat.units.len()),
        reused: 0,
    };
    for raw in &flat.units {
        let node = raw.node;
        found.ranges.push((raw.first_token, raw.end_token));
        let (start_row, last_row) = (node.start_position().row as u32, end_row(node));
        if flat.ignored(raw.outer_start_row) {
            found
                .ignored
                .push((node.start_byte() as u32, node.end_byte() as u32));
            continue;
        }
        let range = &tokens[raw.first_token..raw.end_token];
        if !thresholds.admits(range.len(), start_row, last_row) {
            if matches!(
                raw.kind,
                UnitKind::Function | UnitKind::Method | UnitKind::Constructor
            ) && !range.is_empty()
            {
                let (exact, shape) = hasher.hash(raw.first_token..raw.end_token);
                found.small.push(SmallFunction(
                    raw.kind,
                    unit_name(lang, raw, source),
                    start_row + 1,
                    last_row + 1,
                    exact,
                    shape,
                    flat.family(raw.first_token..raw.end_token),
                ));
            }
            continue;
        }
        let (start_byte, end_byte) = (node.start_byte() as u32, node.end_byte() as u32);
        if let Some(e) = earlier
            && e.clear(line_above(source, start_byte), end_byte)
            && let Some(old) = e.reusable.units.iter().find(|u| {
                (u.start_byte, u.end_byte, u.kind)
                    == (e.old_byte(start_byte), e.old_byte(end_byte), raw.kind)
            })
        {
            found.units.push(UnitPrint {
                start_line: start_row + 1,
                end_line: last_row + 1,
                start_byte,
                end_byte,
                ..old.clone()
            });
            found.reused += 1;
            continue;
        }
        let (exact, shape) = hasher.hash(raw.first_token..raw.end_token);
        // Without the near-miss view a unit is no node of the near-miss graph.
        let near = thresholds.near_miss
            && !(range.len() > LARGE_TABLE && is_table(range, raw.tables, source));
        let body = flat
            .blocks()
            .filter(|b| {
                b.first().is_some_and(|s| {
                    s.first_token >= raw.first_token && s.end_token <= raw.end_token
                })
            })
            .min_by_key(|b| b[0].first_token);
        found.units.push(UnitPrint {
            kind: raw.kind,
            name: unit_name(lang, raw, source),
            start_line: start_row + 1,
            end_line: last_row + 1,
            start_byte: node.start_byte() as u32,
            end_byte: node.end_byte() as u32,
            tokens: range.len() as u32,
            exact,
            shape,
            codes: if near {
                similarity_codes(range, source)
            } else {
                Vec::new()
            },
            content: if near {
                content_codes(range, source)
            } else {
                Vec::new()
            },
            noise: generated
                .or_else(|| literal_noise(range))
                .or_else(|| trivial_noise(range.len(), body)),
            family: flat.family(raw.first_token..raw.end_token),
        });
    }
    found
}

/// A unit's name: followed through the language's name fields, or taken from the parent
/// (`const f = () => …`); empty for anonymous units.
fn unit_name(lang: &Language, raw: &RawUnit<'_>, source: &[u8]) -> String {
    let node = raw.node;
    let mut named = node;
    'follow: loop {
        for &field in lang.name_fields() {
            if let Some(child) = named.child_by_field_id(field) {
                named = child;
                continue 'follow;
            }
        }
        break;
    }
    if named.id() != node.id() {
        return node_text(named, source);
    }
    if let Some(parent) = raw.parent {
        for &field in lang.parent_name_fields() {
            if let Some(child) = parent.child_by_field_id(field)
                && child.id() != node.id()
            {
                return node_text(child, source);
            }
        }
    }
    String::new()
}

/// A node's text as a short one-line label.
fn node_text(node: Node<'_>, source: &[u8]) -> String {
    const MAX: usize = 80;
    let text = String::from_utf8_lossy(&source[node.start_byte()..node.end_byte()]);
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::fingerprint::testing::*;
    use crate::fingerprint::{Thresholds, fingerprint};
    use crate::parse::lang::UnitKind;
    use crate::parse::{self, lang};

    #[test]
    fn names_and_lines_are_reported() {
        let u = one("python", CASES[0].1);
        assert_eq!((u.name.as_str(), u.start_line, u.end_line), ("total", 1, 5));
        assert_eq!(one("c", CASES[7].1).name, "total");
        assert_eq!(one("cpp", CASES[8].1).name, "Bag::total");
        assert_eq!(one("java", CASES[6].1).kind, UnitKind::Method);
        let arrow = one(
            "javascript",
            "const handler = (e) => {\n  const v = e.target.value;\n  return v;\n};\n",
        );
        assert_eq!(
            (arrow.name.as_str(), arrow.kind),
            ("handler", UnitKind::Closure)
        );
    }

    #[test]
    fn thresholds_filter_small_units_and_nested_units_are_separate() {
        let src = "def outer(a):\n    def inner(b):\n        c = b + 1\n        return c\n    return inner(a)\n";
        let names: Vec<String> = units("python", src).into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["outer", "inner"]);
        let py = lang::by_id("python").unwrap();
        let tree = parse::parse(py, src.as_bytes()).unwrap();
        let strict = fingerprint(
            py,
            &tree,
            src.as_bytes(),
            Thresholds {
                min_tokens: 5,
                min_lines: 5,
                near_miss: true,
            },
        );
        assert_eq!(strict.units.len(), 1);
    }

    #[test]
    fn units_blocks_and_small_functions_carry_the_family_their_outer_statements_say() {
        let family = |id: &str| {
            let i = lang::FAMILIES.iter().position(|f| f.0 == id).unwrap();
            Some(i as u8)
        };
        let src = "def scan(paths):\n    for p in paths:\n        if p:\n            \
                   print(p)\n    return paths\n\n\
                   def guard(x):\n    try:\n        return [y for y in x]\n    \
                   except KeyError:\n        raise\n\n\
                   def plain(a, b):\n    c = a + b\n    return c\n\n\
                   def tiny(m):\n    return {k: 1 for k in m}\n";
        let py = lang::by_id("python").unwrap();
        let tree = parse::parse(py, src.as_bytes()).unwrap();
        let print = fingerprint(
            py,
            &tree,
            src.as_bytes(),
            Thresholds {
                min_tokens: 8,
                min_lines: 3,
                near_miss: true,
            },
        );
        let of = |name: &str, kind: UnitKind| {
            print
                .units
                .iter()
                .find(|u| u.name == name && u.kind == kind)
                .unwrap_or_else(|| panic!("{name} {kind:?} in {:?}", print.units))
                .family
        };
        // The loop is outer, the branch inside it weighs a quarter.
        assert_eq!(of("scan", UnitKind::Function), family("iteration"));
        assert_eq!(of("scan", UnitKind::Block), family("iteration"));
        // try/except/raise outweigh the comprehension inside.
        assert_eq!(of("guard", UnitKind::Function), family("errors"));
        assert_eq!(of("plain", UnitKind::Function), Some(lang::NO_FAMILY));
        assert_eq!(print.small.len(), 1, "{:?}", print.small);
        assert_eq!(print.small[0].6, family("transformation"));
    }
}
