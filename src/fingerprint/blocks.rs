//! Block units: winnowed windows of consecutive statements inside units.

use super::codes::content_codes;
use super::hash::UnitHasher;
use super::noise::literal_noise;
use super::reuse::{Earlier, Run, line_above};
use super::tokens::Flat;
use super::units::FunctionUnits;
use super::{Hash64, Noise, Thresholds, UnitPrint};
use crate::parse::lang::UnitKind;

/// The block units of a file and the runs the next version may reuse.
pub(super) struct BlockUnits {
    /// Windows kept, named after the innermost unit around them, in source order.
    pub(super) blocks: Vec<UnitPrint>,
    /// The windows kept of each statement run (before naming), for [`super::Reusable`].
    pub(super) runs: Vec<Run>,
    /// Statement runs whose windows were reused from the earlier version.
    pub(super) reused: usize,
}

/// Fingerprint the statement runs of the blocks inside units: from each statement the
/// smallest run meeting the thresholds is a window, and a winnowed sample of each block's
/// windows (one per shape) becomes block units. A run clear of `earlier`'s changes takes its
/// windows from there.
pub(super) fn block_units<'s>(
    flat: &Flat<'_>,
    source: &'s [u8],
    thresholds: Thresholds,
    earlier: Option<&Earlier<'_>>,
    functions: &FunctionUnits,
    hasher: &mut UnitHasher<'s>,
) -> BlockUnits {
    let tokens = &flat.tokens;
    let generated = flat.generated.then_some(Noise::Generated);
    let (ignored_ranges, unit_ranges) = (&functions.ignored, &functions.ranges);
    let mut reused = 0;
    // Block windows also depend on the units around them that a comment leaves out.
    let earlier_runs = earlier.filter(|e| e.ignored_alike(ignored_ranges));
    let mut runs: Vec<Run> = Vec::new();
    let mut blocks: Vec<UnitPrint> = Vec::new();
    for statements in flat.blocks() {
        let (Some(first), Some(last)) = (statements.first(), statements.last()) else {
            continue;
        };
        let span = (first.first_token < last.end_token).then(|| {
            (
                tokens[first.first_token].start,
                tokens[last.end_token - 1].end,
                statements.len(),
            )
        });
        if let (Some(e), Some((start, end, count))) = (earlier_runs, span)
            && e.clear(line_above(source, start), end)
            && let Some((_, old)) = e
                .reusable
                .runs
                .iter()
                .find(|(key, _)| *key == (e.old_byte(start), e.old_byte(end), count))
        {
            let moved: Vec<UnitPrint> = old.iter().map(|b| e.moved(b)).collect();
            blocks.extend(moved.iter().cloned());
            runs.push(((start, end, count), moved));
            reused += 1;
            continue;
        }
        let kept_from = blocks.len();
        // Each window's first and last statement and its shape: the rest of its print waits
        // until winnowing has chosen the windows kept.
        let mut windows: Vec<(usize, usize, Hash64)> = Vec::new();
        for (i, first) in statements.iter().enumerate() {
            // The smallest window starting here that meets the thresholds.
            let Some(j) = (i..statements.len()).find(|&j| {
                thresholds.admits(
                    statements[j].end_token - first.first_token,
                    first.start_row,
                    statements[j].end_row,
                )
            }) else {
                break;
            };
            let last = statements[j];
            let (start_byte, end_byte) = (
                tokens[first.first_token].start,
                tokens[last.end_token - 1].end,
            );
            if flat.ignored(first.start_row)
                || unit_ranges.contains(&(first.first_token, last.end_token))
                || ignored_ranges
                    .iter()
                    .any(|&(s, e)| s <= start_byte && end_byte <= e)
            {
                continue;
            }
            windows.push((i, j, hasher.shape(first.first_token..last.end_token)));
        }
        // Windows of one statement list with one shape are the list repeating itself (a long
        // repetitive `switch`), not copies of each other: the first stands for them.
        let mut shapes_here: Vec<Hash64> = Vec::new();
        for (i, j, shape) in winnow(windows) {
            if shapes_here.contains(&shape) {
                continue;
            }
            shapes_here.push(shape);
            let (first, last) = (statements[i], statements[j]);
            let range = &tokens[first.first_token..last.end_token];
            let noise = if generated.is_some() {
                generated
            } else if statements[i..=j].iter().all(|s| s.import) {
                Some(Noise::Imports)
            } else {
                literal_noise(range)
            };
            blocks.push(UnitPrint {
                kind: UnitKind::Block,
                name: String::new(),
                start_line: first.start_row + 1,
                end_line: last.end_row + 1,
                start_byte: tokens[first.first_token].start,
                end_byte: tokens[last.end_token - 1].end,
                tokens: range.len() as u32,
                exact: hasher.exact(first.first_token..last.end_token),
                shape,
                codes: Vec::new(),
                content: content_codes(range, source),
                noise,
                family: flat.family(first.first_token..last.end_token),
            });
        }
        if let Some(key) = span {
            runs.push((key, blocks[kept_from..].to_vec()));
        }
    }
    // Blocks take the name of the innermost unit around them.
    for block in &mut blocks {
        if let Some(owner) = functions
            .units
            .iter()
            .filter(|u| u.start_byte <= block.start_byte && block.end_byte <= u.end_byte)
            .min_by_key(|u| u.end_byte - u.start_byte)
        {
            block.name.clone_from(&owner.name);
        }
    }
    blocks.sort_by_key(|b| (b.start_byte, b.end_byte));
    BlockUnits {
        blocks,
        runs,
        reused,
    }
}

/// Consecutive windows of one block among which at least one is kept.
pub const WINNOW: usize = 4;

/// Keep a consistent sample of a block's windows (winnowing, Schleimer et al.): in every run
/// of [`WINNOW`] consecutive windows the one with the smallest shape hash (the last on ties)
/// is kept. Two copies of a run of statements holding at least `WINNOW` windows keep the same
/// window, so the copy is still found, at about `2/(WINNOW+1)` of the windows' cost.
fn winnow<T>(windows: Vec<(T, T, Hash64)>) -> Vec<(T, T, Hash64)> {
    if windows.len() <= WINNOW {
        // A short block: its smallest window stands for it.
        return windows
            .into_iter()
            .rev()
            .min_by_key(|w| w.2)
            .into_iter()
            .collect();
    }
    let mut keep = vec![false; windows.len()];
    for start in 0..=windows.len() - WINNOW {
        let chosen = (start..start + WINNOW)
            .rev()
            .min_by_key(|&i| windows[i].2)
            .expect("non-empty range");
        keep[chosen] = true;
    }
    windows
        .into_iter()
        .zip(keep)
        .filter_map(|(w, k)| k.then_some(w))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::fingerprint::{Hash64, Thresholds, fingerprint};
    use crate::parse::lang::UnitKind;
    use crate::parse::{self, lang};

    #[test]
    fn windows_of_one_repetitive_statement_list_are_kept_once() {
        let cases: String = (0..16)
            .map(|i| {
                format!(
                    "  case OP_{i}:\n    handler = handle_{i};\n    seen_{i} += 1;\n    break;\n"
                )
            })
            .collect();
        let src = format!(
            "int dispatch(int op) {{\n  switch (op) {{\n{cases}  }}\n  return handler(op);\n}}\n"
        );
        let c = lang::by_id("c").unwrap();
        let tree = parse::parse(c, src.as_bytes()).unwrap();
        let print = fingerprint(c, &tree, src.as_bytes(), Thresholds::default());
        let shapes: Vec<Hash64> = print
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Block)
            .map(|u| u.shape)
            .collect();
        assert!(!shapes.is_empty(), "the switch has windows");
        let mut distinct = shapes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), shapes.len(), "{shapes:?}");
    }
}
