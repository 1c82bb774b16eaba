//! Report: renders catalogue results as text for people or JSON for programs. The only layer
//! that formats output; it writes to whatever the caller hands it.

use std::io::{self, Write};

use serde::Serialize;

use crate::event::CloneType;
use crate::pipeline::{ScanSummary, SimilarAnswer, Stats};
use crate::store::PatternRow;

/// `cpt clones --format json`: the public contract, schema `cpt.clones/1`.
#[derive(Serialize)]
struct ClonesJson<'a> {
    schema: &'static str,
    root: &'a str,
    patterns: Vec<PatternJson<'a>>,
}

#[derive(Serialize)]
struct PatternJson<'a> {
    id: &'a str,
    kind: &'a str,
    clone_type: &'static str,
    similarity: f64,
    lines: u32,
    tokens: u32,
    members: Vec<MemberJson<'a>>,
}

#[derive(Serialize)]
struct MemberJson<'a> {
    path: &'a str,
    start_line: u32,
    end_line: u32,
    lang: &'a str,
    name: &'a str,
    /// Token similarity to the class's representative.
    similarity: f64,
}

pub fn clones_json(out: &mut dyn Write, root: &str, patterns: &[PatternRow]) -> io::Result<()> {
    let doc = ClonesJson {
        schema: "cpt.clones/1",
        root,
        patterns: patterns
            .iter()
            .map(|p| PatternJson {
                id: &p.id,
                kind: &p.kind,
                clone_type: p.clone_type.as_str(),
                similarity: round3(p.similarity),
                lines: p.lines,
                tokens: p.tokens,
                members: p
                    .members
                    .iter()
                    .map(|m| MemberJson {
                        path: &m.path,
                        start_line: m.start_line,
                        end_line: m.end_line,
                        lang: &m.lang,
                        name: &m.name,
                        similarity: round3(m.similarity),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A similarity with three decimals, as reports show it.
fn round3(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

pub fn clones_text(out: &mut dyn Write, patterns: &[PatternRow]) -> io::Result<()> {
    for p in patterns {
        let similar = if p.clone_type == CloneType::T3 {
            format!(", {:.0}% similar", f64::from(p.similarity) * 100.0)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{} {}  {}, {} lines, {} tokens, {} copies{similar}",
            p.clone_type.as_str(),
            p.id,
            p.kind,
            p.lines,
            p.tokens,
            p.members.len()
        )?;
        for m in &p.members {
            let mut line = format!("  {}:{}-{}", m.path, m.start_line, m.end_line);
            if !m.name.is_empty() {
                line.push_str("  ");
                line.push_str(&m.name);
            }
            if m.similarity < 1.0 {
                line.push_str(&format!("  ({:.0}%)", f64::from(m.similarity) * 100.0));
            }
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    let copies: usize = patterns.iter().map(|p| p.members.len()).sum();
    match patterns.len() {
        0 => writeln!(out, "no clones found"),
        1 => writeln!(out, "1 clone class, {copies} copies"),
        n => writeln!(out, "{n} clone classes, {copies} copies"),
    }
}

pub fn scan_summary(out: &mut dyn Write, s: &ScanSummary) -> io::Result<()> {
    write!(out, "scanned {} files ({} read", s.files, s.read)?;
    if s.removed > 0 {
        write!(out, ", {} removed", s.removed)?;
    }
    write!(
        out,
        "): {} units, {} patterns, {} skipped",
        s.units,
        s.patterns,
        s.skipped_total()
    )?;
    if s.syntax_errors > 0 {
        write!(out, ", {} with syntax errors", s.syntax_errors)?;
    }
    writeln!(out, " in {:.2}s", s.elapsed_ms as f64 / 1000.0)
}

pub fn stats_json(out: &mut dyn Write, stats: &Stats) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, stats)?;
    writeln!(out)
}

pub fn stats_text(out: &mut dyn Write, s: &Stats) -> io::Result<()> {
    writeln!(out, "root             {}", s.root)?;
    writeln!(out, "files            {}", s.files)?;
    writeln!(out, "lines            {}", s.lines)?;
    writeln!(out, "units            {}", s.units)?;
    writeln!(out, "clone classes    {}", s.patterns)?;
    writeln!(
        out,
        "duplicated lines {} ({:.1}%)",
        s.duplicated_lines,
        s.duplicated_share * 100.0
    )?;
    writeln!(out, "syntax errors    {} files", s.files_with_syntax_errors)?;
    writeln!(out, "events           {}", s.events)?;
    let i = &s.index;
    writeln!(
        out,
        "index            {} bytes, {} units + {} in the delta, {:.1} bytes per unit",
        i.bytes, i.units, i.delta_units, i.bytes_per_unit
    )?;
    writeln!(
        out,
        "bloom filter     {} bits, {} probes; false positives: sized for {:.2}%, expected {:.2}%, measured {:.2}%",
        i.bloom_bits,
        i.bloom_hashes,
        i.bloom_configured_rate * 100.0,
        i.bloom_expected_rate * 100.0,
        i.bloom_measured_rate * 100.0
    )?;
    if !s.languages.is_empty() {
        writeln!(
            out,
            "\n{:<12} {:>8} {:>10} {:>8}",
            "language", "files", "lines", "units"
        )?;
        for (lang, l) in &s.languages {
            writeln!(
                out,
                "{lang:<12} {:>8} {:>10} {:>8}",
                l.files, l.lines, l.units
            )?;
        }
    }
    if !s.skipped.is_empty() {
        writeln!(out, "\n{:<12} {:>8}", "skipped", "files")?;
        for (reason, n) in &s.skipped {
            writeln!(out, "{reason:<12} {n:>8}")?;
        }
    }
    Ok(())
}

/// `cpt similar --format json`: schema `cpt.similar/1`.
pub fn similar_json(out: &mut dyn Write, root: &str, answers: &[SimilarAnswer]) -> io::Result<()> {
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

/// `cpt similar` for people: each query unit, then its matches best first.
pub fn similar_text(out: &mut dyn Write, answers: &[SimilarAnswer]) -> io::Result<()> {
    for (i, a) in answers.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}:{}-{} {} ({})",
            a.path, a.start_line, a.end_line, a.name, a.kind
        )?;
        if a.matches.is_empty() {
            writeln!(out, "  no similar units")?;
        }
        for m in &a.matches {
            write!(
                out,
                "  {} {:>3.0}%  {}:{}-{} {}",
                m.clone_type.as_str(),
                (m.similarity * 100.0).floor(),
                m.path,
                m.start_line,
                m.end_line,
                m.name
            )?;
            match &m.pattern {
                Some(p) => writeln!(out, "  [{p}]")?,
                None => writeln!(out)?,
            }
        }
    }
    Ok(())
}
