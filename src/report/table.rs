//! `cpt table`: the periodic table as a terminal grid (at most 100 columns, coloured by clone
//! type when asked), as JSON (`cpt.table/1`) and as one self-contained HTML page ([`html`]).

pub mod html;

use std::io::{self, Write};

use crate::engine::view::{Element, Table};

/// The widest line the text report writes.
pub const WIDTH: usize = 100;
/// The row heads' width.
const HEAD: usize = 7;
/// A cell's width, its separating space included.
const CELL: usize = 10;
/// Elements named in each cell.
const PER_CELL: usize = 2;
/// Elements listed below the grid.
const TOP: usize = 12;

/// `cpt table --format json`: schema `cpt.table/1`.
pub fn json(out: &mut dyn Write, table: &Table) -> io::Result<()> {
    serde_json::to_writer(&mut *out, table)?;
    writeln!(out)
}

/// The ANSI colour of a clone type (T1 red, T2 yellow, T3 magenta, idiom cyan).
fn colour_of(clone_type: &str) -> &'static str {
    match clone_type {
        "T1" => "\x1b[1;31m",
        "T2" => "\x1b[1;33m",
        "T3" => "\x1b[1;35m",
        _ => "\x1b[1;36m",
    }
}

/// The trend as one character: `*` new, `↑` grew, `↓` shrank, nothing otherwise.
fn arrow(trend: Option<&str>) -> &'static str {
    match trend {
        Some("new") => "*",
        Some("up") => "↑",
        Some("down") => "↓",
        _ => "",
    }
}

/// Text padded (or cut) to `width` characters, then coloured: colour never counts.
fn cell(text: &str, width: usize, colour: Option<&str>) -> String {
    let mut visible: String = text.chars().take(width).collect();
    let pad = width - visible.chars().count();
    if let Some(c) = colour {
        visible = format!("{c}{visible}\x1b[0m");
    }
    visible.extend(std::iter::repeat_n(' ', pad));
    visible
}

/// Cut to [`WIDTH`] characters.
fn fit(line: &str) -> String {
    if line.chars().count() <= WIDTH {
        line.to_string()
    } else {
        let mut cut: String = line.chars().take(WIDTH - 1).collect();
        cut.push('…');
        cut
    }
}

/// `cpt table`: a summary, the grid (groups across, periods down), its legend and the largest
/// elements. `colour` adds ANSI colours (a terminal without `NO_COLOR`).
pub fn text(out: &mut dyn Write, table: &Table, colour: bool) -> io::Result<()> {
    let s = &table.summary;
    let types: Vec<String> = s.by_type.iter().map(|(t, n)| format!("{n} {t}")).collect();
    writeln!(
        out,
        "{}",
        fit(&format!(
            "{}{} files, {} lines, {:.1}% duplicated; {} elements{}",
            table
                .at
                .as_deref()
                .map_or(String::new(), |at| format!("as at {at}: ")),
            s.files,
            s.lines,
            s.duplicated_share * 100.0,
            s.elements,
            if types.is_empty() {
                String::new()
            } else {
                format!(": {}", types.join(", "))
            }
        ))
    )?;
    writeln!(out)?;
    let mut head = cell("lines", HEAD, None);
    for g in &table.groups {
        head.push_str(&cell(g.short, CELL - 1, None));
        head.push(' ');
    }
    writeln!(out, "{}", head.trim_end())?;
    for period in &table.periods {
        let cells: Vec<Vec<&Element>> = table
            .groups
            .iter()
            .map(|g| {
                table
                    .elements
                    .iter()
                    .filter(|e| e.period == period.number && e.group == g.id)
                    .collect()
            })
            .collect();
        for row in 0..=PER_CELL {
            let mut line = cell(if row == 0 { &period.label } else { "" }, HEAD, None);
            for elements in &cells {
                let text = match elements.get(row) {
                    Some(e) if row < PER_CELL => {
                        let width = e.symbol.chars().count();
                        let sym = cell(&e.symbol, width, colour.then(|| colour_of(e.clone_type)));
                        let rest = format!(" {}{}", e.instances, arrow(e.trend));
                        // The symbol is coloured: the rest is padded on its own.
                        format!("{sym}{}", cell(&rest, CELL.saturating_sub(width + 1), None)) + " "
                    }
                    _ if row == PER_CELL && !elements.is_empty() => {
                        cell(&format!("({})", elements.len()), CELL - 1, None) + " "
                    }
                    _ => cell("", CELL, None),
                };
                line.push_str(&text);
            }
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    writeln!(out)?;
    legend(out, table, colour)?;
    writeln!(out)?;
    if table.elements.is_empty() {
        return writeln!(out, "no patterns found");
    }
    writeln!(out, "largest elements:")?;
    for e in table.elements.iter().take(TOP) {
        let r = &e.representative;
        let sym = cell(&e.symbol, 4, colour.then(|| colour_of(e.clone_type)));
        let group = table.groups.iter().find(|g| g.id == e.group);
        let line = format!(
            "{:<5} {:<10} {:>5} in {:>4} files {:>6} lines{:<1}  {}  {}:{}-{}",
            e.clone_type,
            group.map_or("", |g| g.short),
            e.instances,
            e.files,
            e.duplicated_lines,
            arrow(e.trend),
            e.name,
            r.path,
            r.start_line,
            r.end_line
        );
        // The symbol takes 4 of the 100 characters.
        let line: String = fit(&format!("    {line}")).chars().skip(4).collect();
        writeln!(out, "{sym}{line}")?;
    }
    Ok(())
}

/// What the trends compare with, after "grew".
pub fn trend_words(table: &Table) -> String {
    match &table.trends_since {
        Some(since) => format!("since {since}"),
        None => "in the last scan".to_string(),
    }
}

fn legend(out: &mut dyn Write, table: &Table, colour: bool) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        fit("columns: families of code, from the node kinds of each language (grammars/*.toml):")
    )?;
    let mut line = String::from(" ");
    for g in &table.groups {
        let item = format!(" {} = {};", g.short, g.name);
        if line.chars().count() + item.chars().count() > WIDTH {
            writeln!(out, "{}", line.trim_end_matches(';'))?;
            line = String::from(" ");
        }
        line.push_str(&item);
    }
    writeln!(out, "{}", line.trim_end_matches(';'))?;
    writeln!(
        out,
        "{}",
        fit("rows: the representative's size in lines, doubling from row to row")
    )?;
    writeln!(
        out,
        "{}",
        fit(&format!(
            "cells: largest elements (symbol, instances, * new ↑ grew ↓ shrank {}); (n) elements",
            trend_words(table)
        ))
    )?;
    let kinds = [
        ("T1", "exact copies"),
        ("T2", "renamed copies"),
        ("T3", "near-miss copies"),
        ("idiom", ""),
    ];
    let mut line = String::from("types:");
    for (t, what) in kinds {
        let what = if t == "idiom" {
            format!(
                "a shape recurring in {}+ files",
                table.summary.idiom_min_files
            )
        } else {
            what.to_string()
        };
        let name = if colour {
            format!("{}{t}\x1b[0m", colour_of(t))
        } else {
            t.to_string()
        };
        line.push_str(&format!(" {name} {what},"));
    }
    writeln!(out, "{}", line.trim_end_matches(','))
}
