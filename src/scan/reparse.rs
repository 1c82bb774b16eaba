//! Reparse: fingerprint a new version of a recently changed file from its last version.
//!
//! [`Recent`] keeps the text, the tree and the reusable prints of the files changed last (a
//! bounded number and size). When one of them changes again, [`edit_between`] finds the edit
//! from the old text to the new one (the bytes between their common prefix and suffix), the
//! old tree is told of it ([`Tree::edit`]) and handed to the parser, which reuses every
//! subtree the edit did not touch, and only the units whose bytes or syntax changed are
//! fingerprinted again ([`fingerprint::fingerprint_from`]). The result is the same as a fresh
//! parse and fingerprint of the new text (tested over random edits of every language).

use std::collections::HashMap;
use std::sync::Mutex;

use tree_sitter::{InputEdit, Point, Tree};

use crate::fingerprint::{self, Earlier, FilePrint, Reusable, Thresholds};
use crate::parse::lang::Language;
use crate::parse::{self, ParseError};

/// Files kept at most.
const MAX_FILES: usize = 64;
/// Bytes of text kept at most (trees and prints take a few times more).
const MAX_TEXT_BYTES: usize = 8 << 20;

/// The last version of recently changed files.
#[derive(Default)]
pub struct Recent {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    files: HashMap<String, Version>,
    /// Use counter: the least recently used file is forgotten first.
    clock: u64,
    text_bytes: usize,
}

/// One version of a file: its text, tree and what its fingerprint lends to the next.
struct Version {
    lang: &'static str,
    thresholds: Thresholds,
    text: Vec<u8>,
    tree: Tree,
    reusable: Reusable,
    used: u64,
}

impl Recent {
    pub fn new() -> Recent {
        Recent::default()
    }

    /// Files kept, and their bytes of text.
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.files.len(), inner.text_bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere cannot leave a version half-written: entries are whole values.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self, path: &str) -> Option<Version> {
        let mut inner = self.lock();
        let version = inner.files.remove(path)?;
        inner.text_bytes -= version.text.len();
        Some(version)
    }

    fn keep(&self, path: &str, mut version: Version) {
        if version.text.len() > MAX_TEXT_BYTES / 4 {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        version.used = inner.clock;
        inner.text_bytes += version.text.len();
        if let Some(old) = inner.files.insert(path.to_string(), version) {
            inner.text_bytes -= old.text.len();
        }
        while inner.files.len() > MAX_FILES || inner.text_bytes > MAX_TEXT_BYTES {
            let oldest = inner
                .files
                .iter()
                .min_by_key(|(_, v)| v.used)
                .map(|(p, _)| p.clone())
                .expect("over the limits, so not empty");
            let gone = inner.files.remove(&oldest).expect("just found");
            inner.text_bytes -= gone.text.len();
        }
    }
}

/// How a file was fingerprinted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reparse {
    /// Parsed from the tree of its last version.
    pub incremental: bool,
    /// Units and statement runs whose prints were reused.
    pub reused: usize,
}

/// Parse and fingerprint `source` (the file at `path`), from its last version when `recent`
/// has it, and keep this version there.
pub fn fingerprint(
    lang: &'static Language,
    path: &str,
    source: &[u8],
    thresholds: Thresholds,
    recent: Option<&Recent>,
) -> Result<(FilePrint, Reparse), ParseError> {
    let Some(recent) = recent else {
        let tree = parse::parse(lang, source)?;
        let print = fingerprint::fingerprint(lang, &tree, source, thresholds);
        return Ok((print, Reparse::default()));
    };
    let last = recent
        .take(path)
        .filter(|v| v.lang == lang.id && v.thresholds == thresholds);
    // Where the text has syntax errors, tree-sitter's recovery can differ between a parse
    // from an old tree and a fresh one (tested): such a version is parsed afresh, so that
    // the catalogue stays what a fresh scan makes.
    let last = match last {
        Some(mut last) => {
            let edit = edit_between(&last.text, source);
            last.tree.edit(&edit);
            let tree = parse::parse_from(lang, source, Some(&last.tree))?;
            (!tree.root_node().has_error()).then_some((last, edit, tree))
        }
        None => None,
    };
    let (print, reusable, how, tree) = match last {
        Some((last, edit, tree)) => {
            let changed = last
                .tree
                .changed_ranges(&tree)
                .map(|r| (r.start_byte as u32, r.end_byte as u32))
                .collect();
            let earlier = Earlier {
                reusable: &last.reusable,
                start: edit.start_byte as u32,
                old_end: edit.old_end_byte as u32,
                new_end: edit.new_end_byte as u32,
                line_delta: edit.new_end_position.row as i64 - edit.old_end_position.row as i64,
                changed,
            };
            let fingerprint::Fingerprinted {
                print,
                reusable,
                reused,
            } = fingerprint::fingerprint_from(lang, &tree, source, thresholds, Some(&earlier));
            let how = Reparse {
                incremental: true,
                reused,
            };
            (print, reusable, how, tree)
        }
        None => {
            let tree = parse::parse(lang, source)?;
            let fingerprint::Fingerprinted {
                print, reusable, ..
            } = fingerprint::fingerprint_from(lang, &tree, source, thresholds, None);
            (print, reusable, Reparse::default(), tree)
        }
    };
    recent.keep(
        path,
        Version {
            lang: lang.id,
            thresholds,
            text: source.to_vec(),
            tree,
            reusable,
            used: 0,
        },
    );
    Ok((print, how))
}

/// The edit that turns `old` into `new`: the bytes between their longest common prefix and
/// the longest common suffix of what remains.
pub fn edit_between(old: &[u8], new: &[u8]) -> InputEdit {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let start_position = point_at(old, prefix);
    InputEdit {
        start_byte: prefix,
        old_end_byte: old.len() - suffix,
        new_end_byte: new.len() - suffix,
        start_position,
        old_end_position: point_after(start_position, &old[prefix..old.len() - suffix]),
        new_end_position: point_after(start_position, &new[prefix..new.len() - suffix]),
    }
}

/// Row and column (in bytes) of `byte` in `text`.
fn point_at(text: &[u8], byte: usize) -> Point {
    point_after(Point::new(0, 0), &text[..byte])
}

/// The point reached from `from` after `text`.
fn point_after(from: Point, text: &[u8]) -> Point {
    match text.iter().rposition(|&c| c == b'\n') {
        Some(last) => Point::new(
            from.row + text.iter().filter(|&&c| c == b'\n').count(),
            text.len() - last - 1,
        ),
        None => Point::new(from.row, from.column + text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::lang;

    #[test]
    fn the_edit_is_the_span_between_common_prefix_and_suffix() {
        let e = edit_between(b"ab\ncd\nef", b"ab\ncXYZ\nQd\nef");
        assert_eq!(
            (e.start_byte, e.old_end_byte, e.new_end_byte),
            (4, 4, 9),
            "{e:?}"
        );
        assert_eq!(e.start_position, Point::new(1, 1));
        assert_eq!(e.old_end_position, Point::new(1, 1));
        assert_eq!(e.new_end_position, Point::new(2, 1));
        // A deletion across lines; a repeated byte at the boundary is not counted twice.
        let e = edit_between(b"aaa\nbbb\naaa", b"aaa");
        assert_eq!((e.start_byte, e.old_end_byte, e.new_end_byte), (3, 11, 3));
        assert_eq!(e.old_end_position, Point::new(2, 3));
        assert_eq!(e.new_end_position, Point::new(0, 3));
        let same = edit_between(b"xyz", b"xyz");
        assert_eq!(
            (same.start_byte, same.old_end_byte, same.new_end_byte),
            (3, 3, 3)
        );
    }

    #[test]
    fn recent_versions_are_bounded_and_the_least_recently_used_go_first() {
        let py = lang::by_id("python").unwrap();
        let recent = Recent::new();
        let t = Thresholds::default();
        let text = |i: usize| format!("def f{i}(x):\n    return x + {i}\n").into_bytes();
        for i in 0..MAX_FILES + 10 {
            fingerprint(py, &format!("f{i}.py"), &text(i), t, Some(&recent)).unwrap();
        }
        let (files, bytes) = recent.held();
        assert_eq!(files, MAX_FILES);
        assert_eq!(
            bytes,
            (10..MAX_FILES + 10).map(|i| text(i).len()).sum::<usize>()
        );
        // The oldest went; a kept one is parsed from its last version.
        let (_, how) = fingerprint(py, "f0.py", &text(0), t, Some(&recent)).unwrap();
        assert!(!how.incremental);
        let (_, how) = fingerprint(py, "f20.py", &text(21), t, Some(&recent)).unwrap();
        assert!(how.incremental);
        // Text beyond the byte budget is not kept at all.
        let big = vec![b'#'; MAX_TEXT_BYTES];
        fingerprint(py, "big.py", &big, t, Some(&recent)).unwrap();
        assert!(recent.held().1 <= MAX_TEXT_BYTES);
    }

    /// Random edits of every language's fixtures — units deleted and duplicated, runs of
    /// statements repeated, identifiers changed, now and then the syntax broken — fingerprint
    /// from the last version exactly as from scratch, and reuse prints.
    #[test]
    fn fingerprints_from_the_last_version_equal_fresh_ones() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        let thresholds = Thresholds {
            min_tokens: 20,
            min_lines: 3,
            near_miss: true,
        };
        let (mut incremental, mut reused) = (0, 0);
        for dir in std::fs::read_dir(&root).unwrap() {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                let Some(lang) = lang::for_path(&path) else {
                    continue;
                };
                let mut text = std::fs::read(&path).unwrap();
                let recent = Recent::new();
                let key = path.display().to_string();
                let mut units = Vec::new();
                for round in 0..16 {
                    if round > 0 {
                        let at = next(text.len());
                        let span = |u: &fingerprint::UnitPrint| {
                            (u.start_byte as usize, u.end_byte as usize)
                        };
                        match (next(8), units.get(next(units.len()))) {
                            // Delete a unit.
                            (0, Some(u)) => drop(text.drain(span(u).0..span(u).1)),
                            // Repeat a unit or a run of statements after itself.
                            (1..=3, Some(u)) => {
                                let (s, e) = span(u);
                                let mut copy = b"\n".to_vec();
                                copy.extend_from_slice(&text[s..e]);
                                text.splice(e..e, copy);
                            }
                            // Break the syntax (for this version only).
                            (4, _) => {
                                let mut broken = text.clone();
                                broken.splice(at..at, b"{ ( \"".iter().copied());
                                let (print, _) =
                                    fingerprint(lang, &key, &broken, thresholds, Some(&recent))
                                        .unwrap();
                                let tree = parse::parse(lang, &broken).unwrap();
                                let fresh =
                                    fingerprint::fingerprint(lang, &tree, &broken, thresholds);
                                assert_eq!(print, fresh, "{key} broken");
                            }
                            // Rename: a letter becomes another.
                            _ => {
                                if let Some(i) =
                                    (at..text.len()).find(|&i| text[i].is_ascii_lowercase())
                                {
                                    text[i] = b'a' + (text[i] - b'a' + 1) % 26;
                                }
                            }
                        }
                    }
                    let (print, how) =
                        fingerprint(lang, &key, &text, thresholds, Some(&recent)).unwrap();
                    let tree = parse::parse(lang, &text).unwrap();
                    let fresh = fingerprint::fingerprint(lang, &tree, &text, thresholds);
                    assert_eq!(print, fresh, "{key} after an edit");
                    incremental += usize::from(how.incremental);
                    reused += how.reused;
                    units = fresh.units;
                }
            }
        }
        eprintln!("{incremental} {reused}");
        assert!(incremental > 100, "{incremental}");
        assert!(reused > 100, "{reused}");
    }
}
