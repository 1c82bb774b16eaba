//! Detect: clone classes from fingerprints, the events that move the catalogue from one state
//! of a class to the next, and which classes a report shows. Pure: no I/O.
//!
//! A class is a cluster of shapes ([`crate::detect::near::cluster`]): a representative shape and the
//! shapes verified similar to it. Its units are every unit of those shapes. One shape whose
//! units all share the exact hash is type 1, one shape is type 2, several shapes type 3 (the
//! weakest link names the class). A class's id is derived from its representative's shape,
//! so it is the same across rescans, rebuilds and fresh scans while the class exists.

pub mod classify;
pub mod near;

use crate::detect::near::Cluster;
use crate::event::{CloneType, Event, Hash64, PatternSummary};

/// A unit as the detector sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub unit: i64,
    pub shape: u64,
    pub exact: u64,
    pub lines: u32,
    pub tokens: u32,
    /// A block (statements inside a function) rather than a function-level unit.
    pub block: bool,
}

/// A clone class: two or more units with one shape, or similar shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    pub id: String,
    pub key: u64,
    /// `function` or `block`.
    pub kind: String,
    pub summary: PatternSummary,
    /// Unit ids, ascending.
    pub members: Vec<i64>,
}

/// The stable id of the class whose representative shape is `key`.
pub fn pattern_id(key: u64) -> String {
    crate::event::PatternId(key).to_string()
}

/// The class of a cluster, given the units of its shapes (in any order); `None` with fewer
/// than two units.
pub fn class_of(cluster: &Cluster, members: &[Member]) -> Option<Class> {
    if members.len() < 2 {
        return None;
    }
    let first = members[0].exact;
    // Shapes whose codes are equal (similarity 1) differ only in how their names are
    // numbered: renamed copies, type 2.
    let clone_type = if cluster.members.iter().any(|&(_, sim)| sim < 1.0) {
        CloneType::T3
    } else if members.iter().all(|m| m.exact == first) {
        CloneType::T1
    } else {
        CloneType::T2
    };
    let similarity = cluster
        .members
        .iter()
        .map(|&(_, sim)| sim)
        .fold(1.0f32, f32::min);
    let mut ids: Vec<i64> = members.iter().map(|m| m.unit).collect();
    ids.sort_unstable();
    ids.dedup();
    let kind = if members.iter().all(|m| m.block) {
        "block"
    } else {
        "function"
    };
    Some(Class {
        id: pattern_id(cluster.leader),
        key: cluster.leader,
        kind: kind.to_string(),
        summary: PatternSummary {
            clone_type,
            lines: members.iter().map(|m| m.lines).max().unwrap_or(0),
            tokens: members.iter().map(|m| m.tokens).max().unwrap_or(0),
            similarity,
        },
        members: ids,
    })
}

/// The events that turn the catalogue's `old` state of a class into `new`.
pub fn transition(old: Option<&Class>, new: Option<&Class>) -> Vec<Event> {
    match (old, new) {
        (None, None) => Vec::new(),
        (None, Some(new)) => vec![Event::PatternCreated {
            id: new.id.clone(),
            key: Hash64(new.key),
            kind: new.kind.clone(),
            summary: new.summary.clone(),
            members: new.members.clone(),
        }],
        (Some(old), None) => vec![Event::PatternDissolved { id: old.id.clone() }],
        (Some(old), Some(new)) => {
            let removed: Vec<i64> = old
                .members
                .iter()
                .filter(|m| !new.members.contains(m))
                .copied()
                .collect();
            let added: Vec<i64> = new
                .members
                .iter()
                .filter(|m| !old.members.contains(m))
                .copied()
                .collect();
            let mut events = Vec::new();
            if !removed.is_empty() {
                events.push(Event::PatternShrunk {
                    id: new.id.clone(),
                    summary: new.summary.clone(),
                    removed,
                });
            }
            if !added.is_empty() {
                events.push(Event::PatternGrown {
                    id: new.id.clone(),
                    summary: new.summary.clone(),
                    added,
                });
            }
            events
        }
    }
}

/// Where a member of a reported class sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub file: i64,
    pub start_byte: u32,
    pub end_byte: u32,
}

impl Span {
    fn strictly_inside(&self, outer: &Span) -> bool {
        self.file == outer.file
            && outer.start_byte <= self.start_byte
            && self.end_byte <= outer.end_byte
            && (outer.start_byte, outer.end_byte) != (self.start_byte, self.end_byte)
    }
}

/// For each class (given by its members' spans), whether another class already reports every
/// one of its copies: each member lies inside a member of that other class. Nested units of a
/// copied function are then not reported a second time.
pub fn covered(classes: &[Vec<Span>]) -> Vec<bool> {
    use std::collections::HashMap;
    let mut by_file: HashMap<i64, Vec<(Span, usize)>> = HashMap::new();
    for (index, spans) in classes.iter().enumerate() {
        for span in spans {
            by_file.entry(span.file).or_default().push((*span, index));
        }
    }
    classes
        .iter()
        .enumerate()
        .map(|(index, spans)| {
            let Some(first) = spans.first() else {
                return false;
            };
            let containers = by_file[&first.file]
                .iter()
                .filter(|(outer, other)| *other != index && first.strictly_inside(outer))
                .map(|&(_, other)| other);
            containers.into_iter().any(|other| {
                spans.iter().all(|span| {
                    by_file[&span.file]
                        .iter()
                        .any(|(outer, owner)| *owner == other && span.strictly_inside(outer))
                })
            })
        })
        .collect()
}

/// Total length of the union of inclusive line ranges.
pub fn union_lines(ranges: &mut [(u32, u32)]) -> u64 {
    ranges.sort_unstable();
    let mut total = 0u64;
    let mut current: Option<(u32, u32)> = None;
    for &(start, end) in ranges.iter() {
        match current {
            Some((s, e)) if start <= e + 1 => current = Some((s, e.max(end))),
            Some((s, e)) => {
                total += u64::from(e - s + 1);
                current = Some((start, end));
            }
            None => current = Some((start, end)),
        }
    }
    if let Some((s, e)) = current {
        total += u64::from(e - s + 1);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(unit: i64, exact: u64) -> Member {
        Member {
            unit,
            shape: 7,
            exact,
            lines: 10 + unit as u32,
            tokens: 60,
            block: false,
        }
    }

    fn alone(key: u64) -> Cluster {
        Cluster {
            leader: key,
            members: Vec::new(),
        }
    }

    #[test]
    fn a_class_needs_two_members() {
        assert_eq!(class_of(&alone(7), &[m(1, 1)]), None);
        assert_eq!(class_of(&alone(7), &[]), None);
    }

    #[test]
    fn equal_exact_hashes_make_type_1_and_any_difference_type_2() {
        let t1 = class_of(&alone(7), &[m(2, 5), m(1, 5)]).unwrap();
        assert_eq!(t1.summary.clone_type, CloneType::T1);
        assert_eq!(t1.members, [1, 2]);
        assert_eq!(t1.summary.lines, 12);
        assert_eq!(t1.id, "0000000000000007");
        assert_eq!(t1.kind, "function");
        let t2 = class_of(&alone(7), &[m(1, 5), m(2, 5), m(3, 6)]).unwrap();
        assert_eq!(t2.summary.clone_type, CloneType::T2);
    }

    #[test]
    fn similar_shapes_make_type_3_with_the_lowest_similarity() {
        let cluster = Cluster {
            leader: 7,
            members: vec![(8, 0.9), (9, 0.75)],
        };
        let members = [
            m(1, 5),
            m(2, 5),
            Member {
                shape: 8,
                ..m(3, 6)
            },
        ];
        let t3 = class_of(&cluster, &members).unwrap();
        assert_eq!(t3.summary.clone_type, CloneType::T3);
        assert_eq!(t3.summary.similarity, 0.75);
        let blocks = [
            Member {
                block: true,
                ..m(1, 5)
            },
            Member {
                block: true,
                ..m(2, 5)
            },
        ];
        assert_eq!(class_of(&alone(7), &blocks).unwrap().kind, "block");
    }

    #[test]
    fn shapes_with_equal_codes_make_type_2() {
        let renamed = Cluster {
            leader: 7,
            members: vec![(8, 1.0)],
        };
        let members = [
            m(1, 5),
            Member {
                shape: 8,
                ..m(2, 6)
            },
        ];
        let class = class_of(&renamed, &members).unwrap();
        assert_eq!(class.summary.clone_type, CloneType::T2);
        assert_eq!(class.summary.similarity, 1.0);
    }

    #[test]
    fn transitions_cover_every_change() {
        let a = class_of(&alone(7), &[m(1, 5), m(2, 5)]).unwrap();
        let b = class_of(&alone(7), &[m(2, 5), m(3, 6)]).unwrap();
        assert!(matches!(
            transition(None, Some(&a))[..],
            [Event::PatternCreated { .. }]
        ));
        assert!(matches!(
            transition(Some(&a), None)[..],
            [Event::PatternDissolved { .. }]
        ));
        assert!(transition(Some(&a), Some(&a)).is_empty());
        let events = transition(Some(&a), Some(&b));
        assert!(
            matches!(&events[..], [Event::PatternShrunk { removed, .. }, Event::PatternGrown { added, .. }]
            if removed == &[1] && added == &[3])
        );
    }

    fn s(file: i64, start: u32, end: u32) -> Span {
        Span {
            file,
            start_byte: start,
            end_byte: end,
        }
    }

    #[test]
    fn nested_copies_of_a_reported_class_are_covered() {
        let outer = vec![s(1, 0, 100), s(2, 0, 100)];
        let inner = vec![s(1, 10, 50), s(2, 10, 50)];
        let elsewhere = vec![s(1, 10, 50), s(3, 0, 40)];
        assert_eq!(covered(&[outer.clone(), inner.clone()]), [false, true]);
        // One copy of the inner function outside the outer class: it is news, report it.
        assert_eq!(covered(&[outer, elsewhere]), [false, false]);
        // Two classes over the same spans do not hide each other.
        assert_eq!(covered(&[inner.clone(), inner]), [false, false]);
    }

    #[test]
    fn union_of_line_ranges() {
        assert_eq!(union_lines(&mut []), 0);
        assert_eq!(union_lines(&mut [(1, 10), (5, 12), (14, 14), (13, 13)]), 14);
        assert_eq!(union_lines(&mut [(20, 30), (1, 2)]), 13);
    }
}
