//! Which clone classes a report shows: filters, classes covered by others, block windows merged.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use globset::GlobSet;

use crate::detect;
use crate::event::CloneType;
use crate::scan::discover::{self};
use crate::store::{MemberRow, PatternRow, Store};

use crate::config::TestPolicy;

/// Which clone classes and copies a report shows. The default shows every class except
/// trivial shapes.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Clone types to show; empty shows all.
    pub types: Vec<CloneType>,
    /// Copies less similar to their representative are left out.
    pub min_similarity: Option<f32>,
    pub min_lines: Option<u32>,
    pub min_tokens: Option<u32>,
    /// Languages to show (ids); empty shows all.
    pub langs: Vec<String>,
    /// Only copies whose path matches one of these globs.
    pub paths: Option<GlobSet>,
    pub tests: TestPolicy,
    /// Show trivial shapes (accessors, one-liners, import runs, literal tables) too.
    pub noise: bool,
}

impl Filter {
    /// Only copies whose path (relative to the root) matches one of `globs`; none: all.
    pub fn with_paths(mut self, globs: &[String]) -> Result<Filter> {
        if globs.is_empty() {
            return Ok(self);
        }
        let mut builder = globset::GlobSetBuilder::new();
        for glob in globs {
            builder.add(
                globset::GlobBuilder::new(glob)
                    .literal_separator(false)
                    .build()
                    .with_context(|| format!("--path {glob}: not a valid glob"))?,
            );
        }
        self.paths = Some(builder.build().context("--path: cannot build the globs")?);
        Ok(self)
    }

    /// Only copies in these languages (ids); none: all. An unknown id is an error that lists
    /// the known ones.
    pub fn with_langs(mut self, langs: &[String]) -> Result<Filter> {
        for lang in langs {
            if crate::parse::lang::by_id(lang).is_none() {
                let known: Vec<&str> = crate::parse::lang::all().iter().map(|l| l.id).collect();
                bail!(
                    "--lang {lang}: unknown language (known: {})",
                    known.join(", ")
                );
            }
        }
        self.langs = langs.to_vec();
        Ok(self)
    }

    fn keeps_member(&self, m: &MemberRow) -> bool {
        (self.noise || m.noise.is_none())
            && self.min_similarity.is_none_or(|min| m.similarity >= min)
            && self.keeps_path(&m.path, &m.lang)
    }

    /// Whether the language, path and test filters keep a file.
    pub(crate) fn keeps_path(&self, path: &str, lang: &str) -> bool {
        (self.langs.is_empty() || self.langs.iter().any(|l| l == lang))
            && self.paths.as_ref().is_none_or(|g| g.is_match(path))
            && match self.tests {
                TestPolicy::Include => true,
                TestPolicy::Exclude => !discover::is_test_path(path, lang),
                TestPolicy::Only => discover::is_test_path(path, lang),
            }
    }

    fn keeps_class(&self, p: &PatternRow) -> bool {
        p.members.len() >= 2
            && (self.types.is_empty() || self.types.contains(&p.clone_type))
            && self.min_lines.is_none_or(|n| p.lines >= n)
            && self.min_tokens.is_none_or(|n| p.tokens >= n)
    }
}

/// The clone classes a report shows, largest first: every class except those whose copies
/// all lie inside the copies of another class, with overlapping block classes (windows of
/// one copied run of statements) merged into one, and the filter applied.
pub fn reported_patterns(store: &Store, filter: &Filter) -> Result<Vec<PatternRow>> {
    Ok(reported_view(store.patterns()?, filter))
}

/// [`reported_patterns`] of these classes. A class's view depends on the classes that share a
/// file with it (one may cover it, block windows merge), so it is the catalogue's view only
/// when those are among `patterns` too.
pub fn reported_view(patterns: Vec<PatternRow>, filter: &Filter) -> Vec<PatternRow> {
    let spans: Vec<Vec<detect::Span>> = patterns
        .iter()
        .map(|p| {
            p.members
                .iter()
                .map(|m| detect::Span {
                    file: m.file_id,
                    start_byte: m.start_byte,
                    end_byte: m.end_byte,
                })
                .collect()
        })
        .collect();
    let covered = detect::covered(&spans);
    let shown: Vec<PatternRow> = patterns
        .into_iter()
        .zip(covered)
        .filter(|(_, c)| !c)
        .map(|(p, _)| p)
        .collect();
    let mut shown: Vec<PatternRow> = merge_blocks(shown)
        .into_iter()
        .filter_map(|mut p| {
            drop_nested_members(&mut p.members);
            p.members.retain(|m| filter.keeps_member(m));
            if let Some(min) = p.members.iter().map(|m| m.similarity).reduce(f32::min) {
                p.similarity = p.similarity.max(min);
            }
            // Without its near-miss copies a class is what its copies shown are.
            if p.clone_type == CloneType::T3 && p.similarity >= 1.0 {
                let first = p.members.first().map(|m| m.exact);
                p.clone_type = if p.members.iter().all(|m| Some(m.exact) == first) {
                    CloneType::T1
                } else {
                    CloneType::T2
                };
            }
            filter.keeps_class(&p).then_some(p)
        })
        .collect();
    shown.sort_by(|a, b| {
        let weight = |p: &PatternRow| u64::from(p.lines) * p.members.len() as u64;
        weight(b).cmp(&weight(a)).then_with(|| a.id.cmp(&b.id))
    });
    shown
}

/// A lambda or nested function that resembles the function around it is not a copy of it:
/// members lying inside another member of the same class are dropped.
fn drop_nested_members(members: &mut Vec<MemberRow>) {
    let spans: Vec<(i64, u32, u32)> = members
        .iter()
        .map(|m| (m.file_id, m.start_byte, m.end_byte))
        .collect();
    let mut index = 0;
    members.retain(|_| {
        let (file, start, end) = spans[index];
        let inside = spans.iter().enumerate().any(|(j, &(f, s, e))| {
            j != index && f == file && s <= start && end <= e && (s, e) != (start, end)
        });
        index += 1;
        !inside
    });
}

/// Merge block classes that are windows of one longer copied run: same number of copies,
/// the copies pairwise in the same files and overlapping or adjacent. The merged class spans
/// the union and keeps the id of its first window.
fn merge_blocks(patterns: Vec<PatternRow>) -> Vec<PatternRow> {
    let (mut blocks, mut out): (Vec<PatternRow>, Vec<PatternRow>) =
        patterns.into_iter().partition(|p| p.kind == "block");
    let order = |m: &MemberRow| (m.file_id, m.start_line, m.end_line);
    for p in &mut blocks {
        p.members.sort_by_key(order);
    }
    blocks.sort_by_key(|p| p.members.first().map(order));
    let mut merged: Vec<PatternRow> = Vec::new();
    // Open merged runs by their files, newest last.
    let mut open: HashMap<Vec<i64>, Vec<usize>> = HashMap::new();
    for p in blocks {
        let files: Vec<i64> = p.members.iter().map(|m| m.file_id).collect();
        let joins = |q: &PatternRow| {
            q.members
                .iter()
                .zip(&p.members)
                .all(|(a, b)| b.start_line <= a.end_line + 1 && a.start_line <= b.end_line + 1)
        };
        let candidates = open.entry(files).or_default();
        match candidates.iter().rev().find(|&&i| joins(&merged[i])) {
            Some(&i) => {
                let q = &mut merged[i];
                for (a, b) in q.members.iter_mut().zip(&p.members) {
                    if b.end_line > a.end_line {
                        a.end_line = b.end_line;
                        a.end_byte = a.end_byte.max(b.end_byte);
                    }
                    a.tokens = a.tokens.max(b.tokens);
                }
                q.lines = q
                    .members
                    .iter()
                    .map(|m| m.end_line - m.start_line + 1)
                    .max()
                    .unwrap_or(q.lines);
                q.tokens = q.tokens.max(p.tokens);
                q.similarity = q.similarity.min(p.similarity);
                if p.clone_type > q.clone_type {
                    q.clone_type = p.clone_type;
                }
            }
            None => {
                candidates.push(merged.len());
                merged.push(p);
            }
        }
    }
    for p in &mut merged {
        p.members
            .sort_by(|a, b| (&a.path, a.start_line).cmp(&(&b.path, b.start_line)));
    }
    out.extend(merged);
    out
}

#[cfg(test)]
mod report_tests {
    use super::*;

    fn member(file: i64, start_line: u32, end_line: u32) -> MemberRow {
        MemberRow {
            file_id: file,
            path: format!("f{file}.py"),
            lang: "python".into(),
            name: String::new(),
            start_line,
            end_line,
            start_byte: start_line * 100,
            end_byte: end_line * 100 + 99,
            tokens: 60,
            similarity: 1.0,
            noise: None,
            exact: 0,
            family: None,
        }
    }

    #[test]
    fn a_member_inside_another_member_of_its_class_is_dropped() {
        let mut members = vec![member(1, 10, 40), member(1, 20, 30), member(2, 20, 30)];
        drop_nested_members(&mut members);
        assert_eq!(members, [member(1, 10, 40), member(2, 20, 30)]);
    }

    #[test]
    fn a_class_shown_without_its_near_miss_copies_is_never_type_3() {
        let near = MemberRow {
            similarity: 0.8,
            ..member(1, 20, 30)
        };
        let class = |exact: [u64; 2]| PatternRow {
            id: "a".into(),
            kind: "function".into(),
            clone_type: CloneType::T3,
            lines: 30,
            tokens: 60,
            similarity: 0.8,
            members: vec![
                MemberRow {
                    exact: exact[0],
                    ..member(1, 10, 40)
                },
                near.clone(),
                MemberRow {
                    exact: exact[1],
                    ..member(2, 10, 40)
                },
            ],
        };
        let shown = |p: PatternRow| {
            let view = reported_view(vec![p], &Filter::default());
            view.iter()
                .map(|p| (p.clone_type, p.similarity))
                .collect::<Vec<_>>()
        };
        // The near-miss copy lies inside another copy: it is not shown, and what is left is a
        // renamed (or an exact) copy.
        assert_eq!(shown(class([5, 6])), [(CloneType::T2, 1.0)]);
        assert_eq!(shown(class([5, 5])), [(CloneType::T1, 1.0)]);
        let mut apart = class([5, 6]);
        apart.members[1] = MemberRow { file_id: 3, ..near };
        assert_eq!(shown(apart), [(CloneType::T3, 0.8)]);
    }

    fn block(id: &str, members: Vec<MemberRow>) -> PatternRow {
        PatternRow {
            id: id.into(),
            kind: "block".into(),
            clone_type: CloneType::T1,
            lines: 6,
            tokens: 60,
            similarity: 1.0,
            members,
        }
    }

    #[test]
    fn overlapping_windows_of_one_run_merge_and_others_do_not() {
        let merged = merge_blocks(vec![
            block("a", vec![member(1, 10, 15), member(2, 30, 35)]),
            block("b", vec![member(1, 14, 19), member(2, 34, 39)]),
            block("c", vec![member(1, 50, 55), member(2, 70, 75)]),
            block("d", vec![member(1, 14, 19), member(3, 1, 6)]),
        ]);
        let spans: Vec<(String, Vec<(u32, u32)>)> = merged
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    p.members
                        .iter()
                        .map(|m| (m.start_line, m.end_line))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("a".to_string(), vec![(10, 19), (30, 39)]),
                ("d".to_string(), vec![(14, 19), (1, 6)]),
                ("c".to_string(), vec![(50, 55), (70, 75)]),
            ]
        );
    }
}
