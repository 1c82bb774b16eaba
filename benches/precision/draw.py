#!/usr/bin/env python3
"""Draw a declared, fixed-seed sample of cpt clone pairs from several projects for judging.

    python3 benches/precision/draw.py --seed SEED --prefix NAME \
        --t3 PER_LANGUAGE --t2 PER_LANGUAGE REPORT.json [REPORT.json ...]

Each REPORT is `cpt clones --format json` of one project (schema cpt.clones/1, with its
`root`); its language is taken from the members. The pairs of a report:

- type 3: (the class's first member with similarity 1.0, each member below 1.0), as
  `sample.py` draws them for the JDK;
- type 2: (the class's first member, each other member).

Per language, `random.Random(f"{SEED}/{lang}/{type}").sample(pairs, n)` picks the sample from
that language's pairs over all its projects, in report order (reports sorted by path), so the
same reports always give the same sample. A pair is in *test code* when both copies are in
test files (cpt's rule: a directory named test, tests, __tests__, testing or spec, or a
language's test file names such as `test_*.py`, `*_test.go`, `*Test.java`, `*.spec.ts`).

Writes NAME.md (every pair with both fragments, cut at 70 lines) and NAME.csv (the pairs with
empty verdict and reason columns) next to this script, or where NAME points.
"""
import argparse
import csv
import fnmatch
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GRAMMARS = os.path.join(HERE, "..", "..", "grammars")
TEST_DIRS = {"test", "tests", "__tests__", "testing", "spec"}
MAX_LINES = 70


def test_globs():
    """Each language's `test_files` globs, from the grammar data (following `inherits`)."""
    specs = {}
    for name in os.listdir(GRAMMARS):
        if not name.endswith(".toml"):
            continue
        inherits, globs = None, []
        with open(os.path.join(GRAMMARS, name)) as f:
            for line in f:
                if line.startswith("inherits"):
                    inherits = line.split("=", 1)[1].strip().strip('"')
                if line.startswith("test_files"):
                    globs = json.loads(line.split("=", 1)[1].strip())
        specs[name[:-5]] = (inherits, globs)

    def resolve(lang):
        inherits, globs = specs.get(lang, (None, []))
        return (resolve(inherits) if inherits else []) + globs

    return {lang: resolve(lang) for lang in specs}


GLOBS = test_globs()


def is_test(member):
    *dirs, name = member["path"].split("/")
    return any(d in TEST_DIRS for d in dirs) or any(
        fnmatch.fnmatchcase(name, g) for g in GLOBS.get(member["lang"], [])
    )


def pairs_of(report):
    """(type, pattern, a, b) for every pair of the report."""
    out = []
    for pat in report["patterns"]:
        members = pat["members"]
        if pat["clone_type"] == "T3":
            rep = next((m for m in members if m["similarity"] >= 1.0), None)
            if rep is None:
                continue
            out += [("T3", pat, rep, m) for m in members if m["similarity"] < 1.0]
        elif pat["clone_type"] == "T2":
            out += [("T2", pat, members[0], m) for m in members[1:]]
    return out


def fragment(root, m, cache={}):
    path = os.path.join(root, m["path"])
    if path not in cache:
        with open(path, encoding="utf-8", errors="replace") as f:
            cache[path] = f.read().splitlines()
    lines = cache[path][m["start_line"] - 1 : m["end_line"]]
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"... ({len(lines) - MAX_LINES} more lines)"]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("reports", nargs="+")
    ap.add_argument("--seed", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--t3", type=int, default=20, help="type-3 pairs per language")
    ap.add_argument("--t2", type=int, default=8, help="type-2 pairs per language")
    args = ap.parse_args()
    by_lang = {}
    for path in sorted(args.reports):
        with open(path) as f:
            report = json.load(f)
        project = os.path.basename(path).rsplit(".", 1)[0]
        for kind, pat, a, b in pairs_of(report):
            by_lang.setdefault((a["lang"], kind), []).append((project, report["root"], pat, a, b))
    sample = []
    for (lang, kind), pairs in sorted(by_lang.items()):
        n = args.t3 if kind == "T3" else args.t2
        rng = random.Random(f"{args.seed}/{lang}/{kind}")
        picked = rng.sample(pairs, min(n, len(pairs)))
        print(f"{lang} {kind}: {len(pairs)} pairs, {len(picked)} drawn", file=sys.stderr)
        sample += [(lang, kind, *p) for p in picked]
    prefix = args.prefix if os.path.dirname(args.prefix) else os.path.join(HERE, args.prefix)
    lines = [f"# cpt clone pairs to judge: {len(sample)} (seed {args.seed})", ""]
    rows = []
    for n, (lang, kind, project, root, pat, a, b) in enumerate(sample, 1):
        test = is_test(a) and is_test(b)
        span = lambda m: f"{m['path']}:{m['start_line']}-{m['end_line']}"
        lines += [
            f"## pair {n} ({lang}, {project}, {kind}, similarity {b['similarity']:.3f})",
            "",
            f"A: `{span(a)}` `{a.get('name', '')}`",
            "",
            "```",
            fragment(root, a),
            "```",
            "",
            f"B: `{span(b)}` `{b.get('name', '')}`",
            "",
            "```",
            fragment(root, b),
            "```",
            "",
        ]
        rows.append([n, lang, project, kind, "test" if test else "code", pat["id"],
                     f"{b['similarity']:.3f}", span(a), span(b), "", ""])
    with open(prefix + ".md", "w") as f:
        f.write("\n".join(lines))
    with open(prefix + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["n", "lang", "project", "type", "code", "pattern", "similarity", "a", "b",
                    "verdict", "reason"])
        w.writerows(rows)
    print(f"wrote {prefix}.md and {prefix}.csv", file=sys.stderr)


if __name__ == "__main__":
    main()
