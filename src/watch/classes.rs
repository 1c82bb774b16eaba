//! The reported clone classes as the watcher keeps them ([`Classes`]), and what changed in
//! them from one batch to the next ([`diff`], [`Update`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Result;

use crate::engine::classes::{Filter, reported_view};
pub use crate::engine::view::WatchUpdate as Update;
use crate::engine::view::{Class, Copy, PatternId};
use crate::store::{PatternRow, Store};

/// A copy's identity across edits: its file and name (lines move when code above them does),
/// with a count for same-named copies in one file.
fn member_keys(members: &[Copy]) -> Vec<(&str, &str, usize)> {
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    members
        .iter()
        .map(|m| {
            let n = seen.entry((m.path.as_str(), m.name.as_str())).or_default();
            *n += 1;
            (m.path.as_str(), m.name.as_str(), *n)
        })
        .collect()
}

/// What changed from `before` to `after` (classes by id): new classes, resolved ones, and
/// classes whose copies changed. Classes whose copies only moved within their files are not
/// a change.
pub fn diff(
    before: &BTreeMap<PatternId, Class>,
    after: &BTreeMap<PatternId, Class>,
) -> Vec<Update> {
    let mut out = Vec::new();
    for (id, old) in before {
        if !after.contains_key(id) {
            out.push(Update::Resolved(old.clone()));
        }
    }
    for (id, new) in after {
        let Some(old) = before.get(id) else {
            out.push(Update::New(new.clone()));
            continue;
        };
        let (old_keys, new_keys) = (member_keys(&old.copies), member_keys(&new.copies));
        let added: Vec<Copy> = new
            .copies
            .iter()
            .zip(&new_keys)
            .filter(|(_, k)| !old_keys.contains(k))
            .map(|(m, _)| m.clone())
            .collect();
        let removed: Vec<Copy> = old
            .copies
            .iter()
            .zip(&old_keys)
            .filter(|(_, k)| !new_keys.contains(k))
            .map(|(m, _)| m.clone())
            .collect();
        if !added.is_empty() {
            out.push(Update::Grew {
                class: new.clone(),
                added,
                removed,
            });
        } else if !removed.is_empty() {
            out.push(Update::Shrank {
                class: new.clone(),
                removed,
            });
        }
    }
    out
}

/// The reported classes, kept up to date after each batch by reading only the classes the
/// batch can have changed.
///
/// A batch changes the classes its pattern events name, and the copies (their lines) in the
/// files it read. Let `F` be those files and every file of those classes, before and after.
/// A class with no copy in `F` is reported as before: its copies did not change, and neither
/// did any class that shares a file with it (such a class has every copy in `F`). A class
/// with a copy in `F` is reported from the classes with a copy in `F` alone: what its view
/// depends on beyond itself — a class covering all its copies, block windows it merges with —
/// has a copy in each of its files, so in `F` too.
#[derive(Default)]
pub struct Classes {
    /// The reported classes, by id.
    shown: BTreeMap<PatternId, Class>,
    /// Every class's files (of all its copies, trivial ones included), by class id.
    files_of: HashMap<String, Vec<String>>,
    /// The inverse: class ids by file.
    in_file: HashMap<String, HashSet<String>>,
}

impl Classes {
    /// Every class of the catalogue.
    pub fn load(store: &Store) -> Result<Classes> {
        let _snapshot = store.snapshot()?;
        let patterns = store.patterns()?;
        let mut classes = Classes::default();
        for p in &patterns {
            classes.remember(p);
        }
        classes.shown = by_id(reported_view(patterns, &Filter::default()));
        Ok(classes)
    }

    /// The reported classes, by id.
    pub fn shown(&self) -> &BTreeMap<PatternId, Class> {
        &self.shown
    }

    /// Catch up with a scan that read `paths` (and nothing else) and appended the events after
    /// `seq`; returns what changed.
    pub fn update(&mut self, store: &Store, seq: i64, paths: &[String]) -> Result<Vec<Update>> {
        let _snapshot = store.snapshot()?;
        let changed = store.patterns_changed_since(seq)?;
        let mut files: HashSet<String> = paths.iter().cloned().collect();
        for id in &changed {
            files.extend(self.files_of.get(id).into_iter().flatten().cloned());
        }
        for p in store.patterns_among(&changed)? {
            files.extend(p.members.into_iter().map(|m| m.path));
        }
        let touching = store.patterns_touching(&files.iter().cloned().collect::<Vec<_>>())?;
        let affected: HashSet<String> = touching.iter().map(|p| p.id.clone()).collect();
        let after = by_id(reported_view(touching.clone(), &Filter::default()));
        let mut was: HashSet<String> = files
            .iter()
            .flat_map(|f| self.in_file.get(f).into_iter().flatten().cloned())
            .collect();
        was.extend(affected.iter().cloned());
        let before: BTreeMap<PatternId, Class> = was
            .iter()
            .filter_map(|id| self.shown.remove_entry(&pattern_id(id)))
            .collect();
        let updates = diff(&before, &after);
        for id in &was {
            self.forget(id);
        }
        for p in &touching {
            self.remember(p);
        }
        self.shown.extend(after);
        Ok(updates)
    }

    /// Catch up with anything (a scan of the whole tree); returns what changed.
    pub fn reload(&mut self, store: &Store) -> Result<Vec<Update>> {
        let now = Classes::load(store)?;
        let updates = diff(&self.shown, &now.shown);
        *self = now;
        Ok(updates)
    }

    fn remember(&mut self, p: &PatternRow) {
        let mut files: Vec<String> = p.members.iter().map(|m| m.path.clone()).collect();
        files.sort_unstable();
        files.dedup();
        for f in &files {
            self.in_file
                .entry(f.clone())
                .or_default()
                .insert(p.id.clone());
        }
        self.files_of.insert(p.id.clone(), files);
    }

    fn forget(&mut self, id: &str) {
        for f in self.files_of.remove(id).into_iter().flatten() {
            if let Some(ids) = self.in_file.get_mut(&f) {
                ids.remove(id);
                if ids.is_empty() {
                    self.in_file.remove(&f);
                }
            }
        }
    }
}

/// Classes as reports see them, by id.
fn by_id(patterns: Vec<PatternRow>) -> BTreeMap<PatternId, Class> {
    patterns
        .iter()
        .map(Class::from)
        .map(|c| (c.id, c))
        .collect()
}

/// A class id as the catalogue writes it (16 hex digits, as `PatternId` shows it).
fn pattern_id(id: &str) -> PatternId {
    id.parse().unwrap_or(PatternId(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::view::{CloneType, UnitKind};

    fn member(path: &str, name: &str, line: u32) -> Copy {
        Copy {
            path: path.to_string(),
            lang: "python".to_string(),
            name: name.to_string(),
            start_line: line,
            end_line: line + 9,
            similarity: 1.0,
            exact: 0,
        }
    }

    fn class(id: u64, copies: Vec<Copy>) -> (PatternId, Class) {
        (
            PatternId(id),
            Class {
                id: PatternId(id),
                kind: UnitKind::Function,
                clone_type: CloneType::T1,
                lines: 10,
                tokens: 60,
                similarity: 1.0,
                copies,
                accepted: None,
            },
        )
    }

    #[test]
    fn a_diff_names_new_resolved_grown_and_shrunk_classes() {
        let before: BTreeMap<PatternId, Class> = [
            class(0xa, vec![member("x.py", "f", 1), member("y.py", "f", 1)]),
            class(0xb, vec![member("x.py", "g", 20), member("y.py", "g", 20)]),
            class(
                0xc,
                vec![
                    member("x.py", "h", 40),
                    member("y.py", "h", 40),
                    member("z.py", "h", 1),
                ],
            ),
            class(0xd, vec![member("x.py", "k", 60), member("y.py", "k", 60)]),
        ]
        .into();
        let after: BTreeMap<PatternId, Class> = [
            // Moved down by an edit above it: no change.
            class(0xa, vec![member("x.py", "f", 5), member("y.py", "f", 1)]),
            // Grew by a copy.
            class(
                0xb,
                vec![
                    member("x.py", "g", 20),
                    member("y.py", "g", 20),
                    member("w.py", "g", 1),
                ],
            ),
            // Lost a copy.
            class(0xc, vec![member("x.py", "h", 40), member("y.py", "h", 40)]),
            // New.
            class(0xe, vec![member("x.py", "m", 80), member("v.py", "m", 1)]),
        ]
        .into();
        let updates = diff(&before, &after);
        let names: Vec<String> = updates
            .iter()
            .map(|u| match u {
                Update::New(p) => format!("new {}", p.id.0),
                Update::Resolved(p) => format!("resolved {}", p.id.0),
                Update::Grew { class, added, .. } => {
                    format!("grew {} +{}", class.id.0, added[0].path)
                }
                Update::Shrank { class, removed } => {
                    format!("shrank {} -{}", class.id.0, removed[0].path)
                }
            })
            .collect();
        assert_eq!(
            names,
            ["resolved 13", "grew 11 +w.py", "shrank 12 -z.py", "new 14"]
        );
        assert!(diff(&after, &after).is_empty());
    }
}
