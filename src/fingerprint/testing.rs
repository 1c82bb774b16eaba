//! Helpers shared by the fingerprint module's unit tests.

use super::*;
use crate::parse::lang::UnitKind;
use crate::parse::{self, lang};

pub(super) const SMALL: Thresholds = Thresholds {
    min_tokens: 5,
    min_lines: 2,
    near_miss: true,
};

/// Function-level units (blocks have their own tests).
pub(super) fn units(lang_id: &str, src: &str) -> Vec<UnitPrint> {
    let lang = lang::by_id(lang_id).unwrap();
    let tree = parse::parse(lang, src.as_bytes()).unwrap();
    let mut units = fingerprint(lang, &tree, src.as_bytes(), SMALL).units;
    units.retain(|u| u.kind != UnitKind::Block);
    units
}

pub(super) fn one(lang_id: &str, src: &str) -> UnitPrint {
    let mut all = units(lang_id, src);
    assert_eq!(all.len(), 1, "expected one unit in {src:?}, got {all:?}");
    all.remove(0)
}

/// (original, layout/comment variant, renamed variant, different code) per language.
pub(super) const CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "python",
        "def total(xs):\n    s = 0\n    for x in xs:\n        s += x * 2\n    return s\n",
        "def total(xs):  # sum\n    s = 0\n\n    for x in xs:\n        # double\n        s += x * 2\n    return s\n",
        "def acc(items):\n    t = 7\n    for it in items:\n        t += it * 3\n    return t\n",
        "def total(xs):\n    s = 0\n    for x in xs:\n        s -= x * 2\n    return s\n",
    ),
    (
        "rust",
        "fn total(xs: &[i32]) -> i32 {\n    let mut s = 0;\n    for x in xs { s += x * 2; }\n    s\n}\n",
        "fn total(xs: &[i32]) -> i32 {\n    // sum\n    let mut s = 0;\n    for x in xs {\n        s += x * 2;\n    }\n    s\n}\n",
        "fn acc(items: &[i64]) -> i64 {\n    let mut t = 9;\n    for it in items { t += it * 4; }\n    t\n}\n",
        "fn total(xs: &[i32]) -> i32 {\n    let mut s = 0;\n    for x in xs { s -= x * 2; }\n    s\n}\n",
    ),
    (
        "javascript",
        "function total(xs) {\n  let s = 0;\n  for (const x of xs) s += x * 2;\n  return s;\n}\n",
        "function total(xs) { /* sum */\n  let s = 0;\n  for (const x of xs)\n    s += x * 2;\n  return s;\n}\n",
        "function acc(items) {\n  let t = 5;\n  for (const it of items) t += it * 8;\n  return t;\n}\n",
        "function total(xs) {\n  let s = 0;\n  for (const x of xs) s -= x * 2;\n  return s;\n}\n",
    ),
    (
        "typescript",
        "function total(xs: number[]): number {\n  let s = 0;\n  for (const x of xs) s += x * 2;\n  return s;\n}\n",
        "function total(xs: number[]): number {\n  let s = 0; // start\n  for (const x of xs) s += x * 2;\n\n  return s;\n}\n",
        "function acc(items: bigint[]): bigint {\n  let t = 1;\n  for (const it of items) t += it * 6;\n  return t;\n}\n",
        "function total(xs: number[]): number {\n  let s = 0;\n  for (const x of xs) s -= x * 2;\n  return s;\n}\n",
    ),
    (
        "tsx",
        "function Row(p: Props) {\n  const n = p.count * 2;\n  return <div className=\"row\">{n}</div>;\n}\n",
        "function Row(p: Props) {\n  // doubled\n  const n = p.count * 2;\n  return <div className=\"row\">{n}</div>;\n}\n",
        "function Cell(q: Args) {\n  const m = q.size * 3;\n  return <div className=\"cell\">{m}</div>;\n}\n",
        "function Row(p: Props) {\n  const n = p.count - 2;\n  return <div className=\"row\">{n}</div>;\n}\n",
    ),
    (
        "go",
        "func total(xs []int) int {\n\ts := 0\n\tfor _, x := range xs {\n\t\ts += x * 2\n\t}\n\treturn s\n}\n",
        "func total(xs []int) int {\n\ts := 0 // start\n\tfor _, x := range xs { s += x * 2 }\n\treturn s\n}\n",
        "func acc(items []int64) int64 {\n\tt := 3\n\tfor _, it := range items {\n\t\tt += it * 5\n\t}\n\treturn t\n}\n",
        "func total(xs []int) int {\n\ts := 0\n\tfor _, x := range xs {\n\t\ts -= x * 2\n\t}\n\treturn s\n}\n",
    ),
    (
        "java",
        "class A {\n  int total(int[] xs) {\n    int s = 0;\n    for (int x : xs) s += x * 2;\n    return s;\n  }\n}\n",
        "class A {\n  /** Sum. */\n  int total(int[] xs) {\n    int s = 0;\n    for (int x : xs)\n      s += x * 2;\n    return s;\n  }\n}\n",
        "class B {\n  long acc(long[] items) {\n    long t = 4;\n    for (long it : items) t += it * 7;\n    return t;\n  }\n}\n",
        "class A {\n  int total(int[] xs) {\n    int s = 0;\n    for (int x : xs) s -= x * 2;\n    return s;\n  }\n}\n",
    ),
    (
        "c",
        "int total(const int *xs, int n) {\n  int s = 0;\n  for (int i = 0; i < n; i++) s += xs[i] * 2;\n  return s;\n}\n",
        "int total(const int *xs, int n)\n{\n  int s = 0; /* start */\n  for (int i = 0; i < n; i++)\n    s += xs[i] * 2;\n  return s;\n}\n",
        "long acc(const long *items, long m) {\n  long t = 1;\n  for (long j = 1; j < m; j++) t += items[j] * 9;\n  return t;\n}\n",
        "int total(const int *xs, int n) {\n  int s = 0;\n  for (int i = 0; i < n; i++) s -= xs[i] * 2;\n  return s;\n}\n",
    ),
    (
        "cpp",
        "int Bag::total(const std::vector<int>& xs) {\n  int s = 0;\n  for (int x : xs) s += x * 2;\n  return s;\n}\n",
        "int Bag::total(const std::vector<int>& xs) {\n  // start\n  int s = 0;\n  for (int x : xs)\n    s += x * 2;\n  return s;\n}\n",
        "long Box::acc(const std::list<long>& items) {\n  long t = 8;\n  for (long it : items) t += it * 2;\n  return t;\n}\n",
        "int Bag::total(const std::vector<int>& xs) {\n  int s = 0;\n  for (int x : xs) s -= x * 2;\n  return s;\n}\n",
    ),
];

pub(super) fn codes(lang_id: &str, src: &str) -> Vec<u16> {
    let lang = lang::by_id(lang_id).unwrap();
    let tree = parse::parse(lang, src.as_bytes()).unwrap();
    similarity_codes(&tokens(lang, &tree, src.as_bytes()), src.as_bytes())
}
