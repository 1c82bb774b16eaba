//! Text for people.

use std::io::{self, Write};

use super::percent;
use crate::engine::view::{Class, CloneType, ScanSummary, SimilarAnswer, Stats};

/// A class's first line: `T3 ID  function, 20 lines, 205 tokens, 3 copies, 70% similar`.
pub(crate) fn class_line(p: &Class) -> String {
    format!(
        "{} {}  {}, {} lines, {} tokens, {} copies{}",
        p.clone_type.as_str(),
        p.id,
        p.kind.as_str(),
        p.lines,
        p.tokens,
        p.copies.len(),
        similar_suffix(p)
    )
}

/// `, 70% similar` for a near-miss class, nothing for the others.
pub(crate) fn similar_suffix(p: &Class) -> String {
    if p.clone_type == CloneType::T3 {
        format!(", {:.0}% similar", percent(f64::from(p.similarity)))
    } else {
        String::new()
    }
}

/// `cpt clones`: each class, its copies, and a count.
pub fn clones(out: &mut dyn Write, patterns: &[Class]) -> io::Result<()> {
    for p in patterns {
        writeln!(out, "{}", class_line(p))?;
        if let Some(reason) = &p.accepted {
            writeln!(out, "  accepted: {reason}")?;
        }
        for m in &p.copies {
            let mut line = format!("  {}:{}-{}", m.path, m.start_line, m.end_line);
            if !m.name.is_empty() {
                line.push_str("  ");
                line.push_str(&m.name);
            }
            if m.similarity < 1.0 {
                line.push_str(&format!("  ({:.0}%)", percent(f64::from(m.similarity))));
            }
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    let copies: usize = patterns.iter().map(|p| p.copies.len()).sum();
    match patterns.len() {
        0 => writeln!(out, "no clones found"),
        1 => writeln!(out, "1 clone class, {copies} copies"),
        n => writeln!(out, "{n} clone classes, {copies} copies"),
    }
}

/// The line `cpt scan` ends with.
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

/// `cpt stats`.
pub fn stats(out: &mut dyn Write, s: &Stats) -> io::Result<()> {
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

/// `cpt similar` for people: each query unit, then its matches best first.
pub fn similar(out: &mut dyn Write, answers: &[SimilarAnswer]) -> io::Result<()> {
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
                percent(m.similarity),
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

/// The line `cpt rebuild` ends with.
pub fn rebuilt(out: &mut dyn Write, db: &std::path::Path, events: u64) -> io::Result<()> {
    writeln!(out, "rebuilt {} from {events} events", db.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::view::{Copy, PatternId, SimilarMatch, UnitKind};

    /// One pair shown by `cpt clones` and by `cpt similar` gets one percentage.
    #[test]
    fn clones_and_similar_show_one_pair_at_the_same_percentage() {
        let copy = |path: &str, similarity: f32| Copy {
            path: path.to_string(),
            lang: "python".to_string(),
            name: "f".to_string(),
            start_line: 1,
            end_line: 9,
            similarity,
            exact: 0,
        };
        let class = Class {
            id: PatternId(1),
            kind: UnitKind::Function,
            clone_type: CloneType::T3,
            lines: 9,
            tokens: 60,
            similarity: 0.797,
            copies: vec![copy("a.py", 1.0), copy("b.py", 0.797)],
            accepted: None,
        };
        let mut clones_text = Vec::new();
        clones(&mut clones_text, &[class]).unwrap();
        let clones_text = String::from_utf8(clones_text).unwrap();
        let answer = SimilarAnswer {
            path: "a.py".to_string(),
            start_line: 1,
            end_line: 9,
            kind: "function".to_string(),
            name: "f".to_string(),
            matches: vec![SimilarMatch {
                path: "b.py".to_string(),
                start_line: 1,
                end_line: 9,
                lang: "python".to_string(),
                kind: "function".to_string(),
                name: "f".to_string(),
                clone_type: CloneType::T3,
                similarity: f64::from(0.797f32),
                pattern: Some(PatternId(1)),
            }],
            exact: 0,
        };
        let mut similar_text = Vec::new();
        similar(&mut similar_text, &[answer]).unwrap();
        let similar_text = String::from_utf8(similar_text).unwrap();
        assert!(clones_text.contains("79% similar"), "{clones_text}");
        assert!(clones_text.contains("(79%)"), "{clones_text}");
        assert!(similar_text.contains(" 79%"), "{similar_text}");
    }
}
