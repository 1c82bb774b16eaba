//! JSON for programs: the public contracts `cpt.clones/1`, `cpt.stats/1`, `cpt.similar/1`.

use std::io::{self, Write};

use serde::Serialize;

use super::round3;
use crate::engine::view::{Class, Copy, PatternId, SimilarAnswer, Stats};

/// `cpt clones --format json`: the public contract, schema `cpt.clones/1`.
#[derive(Serialize)]
struct ClonesJson<'a> {
    schema: &'static str,
    root: &'a str,
    patterns: Vec<PatternJson<'a>>,
}

#[derive(Serialize)]
pub(crate) struct PatternJson<'a> {
    id: PatternId,
    kind: &'static str,
    clone_type: &'static str,
    similarity: f64,
    lines: u32,
    tokens: u32,
    members: Vec<MemberJson<'a>>,
    /// Why the class was accepted as it is (`cpt accept`), while it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    accepted: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct MemberJson<'a> {
    path: &'a str,
    start_line: u32,
    end_line: u32,
    lang: &'a str,
    name: &'a str,
    /// Token similarity to the class's representative.
    similarity: f64,
}

pub(crate) fn pattern_json(p: &Class) -> PatternJson<'_> {
    PatternJson {
        id: p.id,
        kind: p.kind.as_str(),
        clone_type: p.clone_type.as_str(),
        similarity: round3(p.similarity),
        lines: p.lines,
        tokens: p.tokens,
        members: members_json(&p.copies),
        accepted: p.accepted.as_deref(),
    }
}

pub(crate) fn members_json(members: &[Copy]) -> Vec<MemberJson<'_>> {
    members
        .iter()
        .map(|m| MemberJson {
            path: &m.path,
            start_line: m.start_line,
            end_line: m.end_line,
            lang: &m.lang,
            name: &m.name,
            similarity: round3(m.similarity),
        })
        .collect()
}

/// `cpt clones --format json`.
pub fn clones(out: &mut dyn Write, root: &str, patterns: &[Class]) -> io::Result<()> {
    let doc = ClonesJson {
        schema: "cpt.clones/1",
        root,
        patterns: patterns.iter().map(pattern_json).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `cpt stats --format json`: schema `cpt.stats/1`.
pub fn stats(out: &mut dyn Write, stats: &Stats) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, stats)?;
    writeln!(out)
}

/// `cpt similar --format json`: schema `cpt.similar/1`.
pub fn similar(out: &mut dyn Write, root: &str, answers: &[SimilarAnswer]) -> io::Result<()> {
    #[derive(Serialize)]
    struct SimilarJson<'a> {
        schema: &'static str,
        root: &'a str,
        queries: Vec<SimilarAnswer>,
    }
    let queries = answers
        .iter()
        .cloned()
        .map(|mut a| {
            for m in &mut a.matches {
                m.similarity = (m.similarity * 1000.0).round() / 1000.0;
            }
            a
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &SimilarJson {
            schema: "cpt.similar/1",
            root,
            queries,
        },
    )?;
    writeln!(out)
}
