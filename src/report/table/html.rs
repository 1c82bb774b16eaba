//! `cpt table --html FILE`: one self-contained page — inline CSS and script, the data as an
//! embedded JSON document, nothing fetched from the network.
//!
//! The page carries the largest [`ELEMENTS`] elements (every cell's total counts all of them),
//! at most [`COPIES`] instances each, and the source text the engine read for the largest
//! ones; the script draws the grid, the filters and the side-by-side views from it.

use std::io::{self, Write};

use serde::Serialize;

use crate::engine::view::{Element, Table};

/// Elements the page carries.
pub const ELEMENTS: usize = 1500;
/// Instances listed per element.
pub const COPIES: usize = 50;

#[derive(Serialize)]
struct Page<'a> {
    root: &'a str,
    /// The point shown (`--at`).
    at: Option<&'a str>,
    /// What trends compare with ("in the last scan", "since …").
    since: String,
    summary: &'a crate::engine::view::TableSummary,
    groups: Vec<Column<'a>>,
    periods: Vec<Column<'a>>,
    /// Per period, per group: elements in the cell (all of them, not only those carried).
    totals: Vec<Vec<u64>>,
    elements: Vec<Item<'a>>,
    carried: usize,
}

#[derive(Serialize)]
struct Column<'a> {
    id: &'a str,
    short: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    sym: &'a str,
    name: &'a str,
    r#type: &'a str,
    kind: &'a str,
    group: usize,
    period: usize,
    lines: u32,
    instances: u64,
    files: u64,
    dirs: u64,
    dup: u64,
    langs: &'a [String],
    trend: Option<&'a str>,
    /// (path, start line, end line), the representative first.
    copies: Vec<(&'a str, u32, u32)>,
    /// (path, start line, lines, lines cut).
    src: Vec<(&'a str, u32, &'a [String], usize)>,
}

fn item<'a>(e: &'a Element, group: usize) -> Item<'a> {
    Item {
        id: &e.id,
        sym: &e.symbol,
        name: &e.name,
        r#type: e.clone_type,
        kind: &e.kind,
        group,
        period: e.period,
        lines: e.lines,
        instances: e.instances,
        files: e.files,
        dirs: e.directories,
        dup: e.duplicated_lines,
        langs: &e.languages,
        trend: e.trend,
        copies: e
            .copies
            .iter()
            .take(COPIES)
            .map(|c| (c.path.as_str(), c.start_line, c.end_line))
            .collect(),
        src: e
            .sources
            .iter()
            .map(|s| (s.path.as_str(), s.start_line, s.lines.as_slice(), s.cut))
            .collect(),
    }
}

/// JSON that is safe inside a `<script>` element: `<`, `>` and `&` only ever appear inside
/// strings, where they become `\u` escapes.
fn script_json(value: &impl Serialize) -> io::Result<String> {
    let text = serde_json::to_string(value)?;
    Ok(text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

/// The page.
pub fn html(out: &mut dyn Write, table: &Table) -> io::Result<()> {
    let group_of = |id: &str| table.groups.iter().position(|g| g.id == id).unwrap_or(0);
    let mut totals = vec![vec![0u64; table.groups.len()]; table.periods.len()];
    for e in &table.elements {
        totals[e.period][group_of(e.group)] += 1;
    }
    let page = Page {
        root: &table.root,
        at: table.at.as_deref(),
        since: super::trend_words(table),
        summary: &table.summary,
        groups: table
            .groups
            .iter()
            .map(|g| Column {
                id: g.id,
                short: g.short,
                name: g.name,
            })
            .collect(),
        periods: table
            .periods
            .iter()
            .map(|p| Column {
                id: &p.label,
                short: &p.label,
                name: &p.label,
            })
            .collect(),
        totals,
        elements: table
            .elements
            .iter()
            .take(ELEMENTS)
            .map(|e| item(e, group_of(e.group)))
            .collect(),
        carried: ELEMENTS.min(table.elements.len()),
    };
    let data = script_json(&page)?;
    write!(
        out,
        "{}",
        TEMPLATE
            .replace("/*STYLE*/", STYLE)
            .replace("/*SCRIPT*/", SCRIPT)
            .replace("/*DATA*/", &data)
    )?;
    Ok(())
}

const TEMPLATE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cpt: the periodic table of patterns</title>
<style>/*STYLE*/</style>
</head>
<body>
<header>
  <h1>The periodic table of patterns</h1>
  <div id="root"></div>
  <div id="summary"></div>
  <form id="filters" onsubmit="return false">
    <label>language <select id="f-lang"><option value="">all</option></select></label>
    <label>path <input id="f-path" type="search" placeholder="substring"></label>
    <label>group <select id="f-group"><option value="">all</option></select></label>
    <label>type <select id="f-type"><option value="">all</option></select></label>
    <span id="shown"></span>
  </form>
</header>
<main>
  <section id="table-pane"><table id="grid"></table><div id="legend"></div></section>
  <section id="detail"><p class="hint">Choose an element.</p></section>
</main>
<script type="application/json" id="data">/*DATA*/</script>
<script>/*SCRIPT*/</script>
</body>
</html>
"#;

const STYLE: &str = r#"
:root { --t1: #d62728; --t2: #e5a50a; --t3: #9b4dca; --idiom: #1f8fb3; --bg: #fafafa; --line: #ddd; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: #222; }
header { padding: 8px 14px 6px; border-bottom: 1px solid var(--line); background: #fff; }
h1 { font-size: 17px; margin: 0 12px 0 0; display: inline-block; }
#root { display: inline-block; color: #666; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
#summary { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0; }
.stat { background: #f1f3f5; border-radius: 6px; padding: 3px 9px; }
.stat b { font-size: 15px; margin-right: 4px; }
#filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; }
#filters select, #filters input { font: inherit; padding: 1px 4px; }
#shown { color: #666; }
main { display: flex; gap: 12px; padding: 10px 14px; align-items: flex-start; }
#table-pane { flex: 0 0 60%; min-width: 0; }
#detail { flex: 1 1 40%; min-width: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  position: sticky; top: 6px; max-height: calc(100vh - 12px); overflow: auto; }
@media (max-width: 1100px) { main { flex-direction: column; } #table-pane, #detail { flex-basis: auto; width: 100%; } #detail { position: static; max-height: none; } }
#grid { border-collapse: separate; border-spacing: 3px; width: 100%; table-layout: fixed; }
#grid th { font-size: 11px; font-weight: 600; color: #444; text-align: left; padding: 2px 3px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#grid th.period { width: 48px; text-align: right; padding-right: 6px; }
#grid td { background: #fff; border: 1px solid var(--line); border-radius: 5px; vertical-align: top; padding: 2px; height: 78px; }
.el { display: inline-flex; flex-direction: column; align-items: center; justify-content: center; width: 36px; height: 34px; margin: 1px;
  border-radius: 4px; color: #fff; cursor: pointer; border: 2px solid transparent; line-height: 1.05; }
.el .s { font-weight: 700; font-size: 13px; }
.el .n { font-size: 10px; opacity: .95; }
.el.sel { border-color: #111; box-shadow: 0 0 0 1px #fff inset; }
.T1 { background: var(--t1); } .T2 { background: var(--t2); } .T3 { background: var(--t3); } .idiom { background: var(--idiom); }
.more { font-size: 11px; color: #666; margin-left: 2px; }
#legend { margin-top: 8px; color: #444; font-size: 12px; }
#legend .sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin: 0 3px 0 10px; }
#detail h2 { font-size: 16px; margin: 0 0 4px; }
#detail .meta { color: #555; margin-bottom: 6px; }
#detail .badge { color: #fff; border-radius: 3px; padding: 0 5px; font-size: 11px; margin-right: 4px; }
ol.copies { margin: 4px 0 8px; padding-left: 22px; max-height: 150px; overflow: auto; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11.5px; }
ol.copies li { cursor: pointer; } ol.copies li.cmp { font-weight: 700; } ol.copies li.nosrc { cursor: default; color: #777; }
.sbs { display: flex; gap: 6px; }
.pane { flex: 1 1 50%; min-width: 0; border: 1px solid var(--line); border-radius: 4px; overflow: auto; max-height: 520px; }
.pane .title { position: sticky; top: 0; background: #f1f3f5; padding: 2px 6px; font-size: 11.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
pre { margin: 0; font: 11.5px/1.4 ui-monospace, Menlo, Consolas, monospace; }
pre div { white-space: pre; padding: 0 6px 0 0; }
pre div span.ln { display: inline-block; width: 38px; color: #999; text-align: right; padding-right: 6px; user-select: none; }
pre div.del { background: #ffe1e1; } pre div.ins { background: #dcf5dc; }
.cut { color: #888; font-style: italic; padding: 2px 6px; }
.hint { color: #777; }
"#;

const SCRIPT: &str = r#"
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
const num = (n) => n.toLocaleString("en-US");
const TREND = { new: "new " + D.since, up: "grew " + D.since, down: "shrank " + D.since, steady: "unchanged " + D.since };
const ARROW = { new: "*", up: "\u2191", down: "\u2193" };
const PER_CELL = 4;
let selected = null, compare = 1;

function summary() {
  const s = D.summary, box = $("summary");
  $("root").textContent = D.root + (D.at ? " as at " + D.at : "");
  const stat = (v, what) => { const d = el("span", "stat"); d.append(el("b", "", v), what); box.append(d); };
  stat(num(s.files), "files");
  stat(num(s.lines), "lines");
  stat((100 * s.duplicated_share).toFixed(1) + "%", "duplicated (" + num(s.duplicated_lines) + " lines)");
  stat(num(s.elements), "patterns");
  for (const [t, n] of Object.entries(s.by_type)) stat(num(n), t === "idiom" ? "idioms" : t + " classes");
}

function fillFilters() {
  const langs = new Set(), types = new Set();
  for (const e of D.elements) { e.langs.forEach((l) => langs.add(l)); types.add(e.type); }
  for (const l of [...langs].sort()) $("f-lang").append(new Option(l, l));
  D.groups.forEach((g, i) => $("f-group").append(new Option(g.name, i)));
  for (const t of ["T1", "T2", "T3", "idiom"]) if (types.has(t)) $("f-type").append(new Option(t, t));
  for (const id of ["f-lang", "f-group", "f-type"]) $(id).addEventListener("change", draw);
  $("f-path").addEventListener("input", draw);
}

function kept() {
  const lang = $("f-lang").value, path = $("f-path").value.trim(), group = $("f-group").value, type = $("f-type").value;
  return D.elements.filter((e) => (!lang || e.langs.includes(lang)) && (group === "" || e.group === +group)
    && (!type || e.type === type) && (!path || e.copies.some((c) => c[0].includes(path))));
}

function draw() {
  const elements = kept(), filtered = elements.length !== D.elements.length;
  $("shown").textContent = filtered ? num(elements.length) + " of the " + num(D.carried) + " largest elements match"
    : "the page holds the " + num(D.carried) + " largest of " + num(D.summary.elements) + " elements (cpt table --format json has all)";
  const grid = $("grid"); grid.textContent = "";
  const head = grid.insertRow(); head.append(el("th", "period", "lines"));
  for (const g of D.groups) { const th = el("th", "", g.short); th.title = g.name; head.append(th); }
  const cells = D.periods.map(() => D.groups.map(() => []));
  for (const e of elements) cells[e.period][e.group].push(e);
  D.periods.forEach((p, pi) => {
    const row = grid.insertRow(); row.append(el("th", "period", p.short));
    D.groups.forEach((g, gi) => {
      const td = row.insertCell(), list = cells[pi][gi];
      for (const e of list.slice(0, PER_CELL)) {
        const b = el("div", "el " + e.type + (e === selected ? " sel" : ""));
        b.append(el("span", "s", e.sym), el("span", "n", num(e.instances) + (ARROW[e.trend] || "")));
        b.title = e.name + "\n" + e.type + ", " + num(e.instances) + " instances in " + num(e.files) + " files, " + num(e.dup) + " lines";
        b.addEventListener("click", () => { selected = e; compare = 1; draw(); });
        td.append(b);
      }
      const total = filtered ? list.length : D.totals[pi][gi];
      const drawn = Math.min(PER_CELL, list.length);
      if (total > drawn) td.append(el("span", "more", "+" + num(total - drawn)));
    });
  });
  // At first, the largest clone class with a copy to compare.
  if (!selected) selected = elements.find((e) => e.type !== "idiom" && e.src.length > 1) || elements[0] || null;
  detail();
}

function legend() {
  const l = $("legend");
  l.append(el("div", "", "Columns: families of code, from each language's node kinds (grammars/*.toml); an element's group is the family whose nodes weigh most in its representative (outer statements most), test scaffolding when most copies are in test files, accessors and delegation when no family node appears."));
  l.append(el("div", "", "Rows: the representative's size in lines, doubling from row to row. Symbols: letters of the representative's name; the number below is the instances (* new, \u2191 grew, \u2193 shrank " + D.since + ")."));
  const t = el("div", "", "Types:");
  for (const [k, what] of [["T1", "exact copies"], ["T2", "renamed copies"], ["T3", "near-miss copies"], ["idiom", "a shape recurring in " + D.summary.idiom_min_files + "+ files"]]) {
    t.append(el("span", "sw " + k), k + " " + what);
  }
  l.append(t);
}

// Line-level diff: the lines of a longest common subsequence (of trimmed lines) are equal.
function diff(a, b) {
  const n = a.length, m = b.length, ta = a.map((s) => s.trim()), tb = b.map((s) => s.trim());
  const L = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    L[i][j] = ta[i] === tb[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const sa = new Array(n).fill(false), sb = new Array(m).fill(false);
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (ta[i] === tb[j]) { sa[i++] = sb[j++] = true; } else if (L[i + 1][j] >= L[i][j + 1]) i++; else j++;
  }
  return [sa, sb];
}

function pane(src, same, cls) {
  const box = el("div", "pane");
  box.append(el("div", "title", src[0] + ":" + src[1]));
  const pre = el("pre");
  src[2].forEach((line, k) => {
    const row = el("div", same[k] ? "" : cls);
    row.append(el("span", "ln", String(src[1] + k)), line);
    pre.append(row);
  });
  box.append(pre);
  if (src[3] > 0) box.append(el("div", "cut", "\u2026 " + src[3] + " more lines"));
  return box;
}

function detail() {
  const d = $("detail"), e = selected; d.textContent = "";
  if (!e) { d.append(el("p", "hint", "No element matches the filters.")); return; }
  d.append(el("h2", "", e.sym + " \u2014 " + e.name));
  const meta = el("div", "meta");
  meta.append(el("span", "badge " + e.type, e.type), D.groups[e.group].name + " \u00b7 " + D.periods[e.period].name + " lines \u00b7 "
    + e.kind + " \u00b7 " + num(e.instances) + " instances in " + num(e.files) + " files and " + num(e.dirs) + " directories \u00b7 "
    + num(e.dup) + " duplicated lines" + (e.trend ? " \u00b7 " + TREND[e.trend] : "") + " \u00b7 id " + e.id);
  d.append(meta);
  const list = el("ol", "copies");
  e.copies.forEach((c, k) => {
    const s = e.src.findIndex((x) => x[0] === c[0] && x[1] === c[1]);
    const li = el("li", (s > 0 && s === compare ? "cmp" : "") + (s < 0 ? " nosrc" : ""), c[0] + ":" + c[1] + "-" + c[2] + (k === 0 ? "  (representative)" : ""));
    if (s > 0) li.addEventListener("click", () => { compare = s; detail(); });
    list.append(li);
  });
  d.append(list);
  if (e.instances > e.copies.length) d.append(el("div", "hint", "\u2026 and " + num(e.instances - e.copies.length) + " more instances"));
  if (e.src.length >= 2) {
    const a = e.src[0], b = e.src[Math.min(compare, e.src.length - 1)];
    const [sa, sb] = diff(a[2], b[2]);
    const sbs = el("div", "sbs");
    sbs.append(pane(a, sa, "del"), pane(b, sb, "ins"));
    d.append(sbs);
  } else if (e.src.length === 1) {
    d.append(pane(e.src[0], e.src[0][2].map(() => true), ""));
  } else {
    d.append(el("p", "hint", "Source text is embedded for the largest elements only."));
  }
}

summary(); fillFilters(); legend(); draw();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_never_closes_the_script() {
        let text = script_json(&"</script><b>&").unwrap();
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert_eq!(
            serde_json::from_str::<String>(&text).unwrap(),
            "</script><b>&"
        );
    }
}
