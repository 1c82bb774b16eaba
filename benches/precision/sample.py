#!/usr/bin/env python3
"""Draw a fixed sample of cpt type-3 (near-miss) clone pairs from the JDK for hand judging.

How to run (from anywhere):

    # 1. JDK sources (once)
    mkdir -p /tmp/cpt-bench/jdk && cd /tmp/cpt-bench/jdk && python3 -c \
      "import zipfile,glob;zipfile.ZipFile(glob.glob('/usr/lib/jvm/temurin-25*/lib/src.zip')[0]).extractall('.')"
    # 2. catalogue and type-3 report
    cpt scan /tmp/cpt-bench/jdk --db /tmp/jdk-t3.db --exclude '*.c' --exclude '*.h' \
      --exclude '*.cpp' --exclude '*.hpp' --exclude '*.js' -q
    cpt clones --db /tmp/jdk-t3.db --format json --type T3 > /tmp/jdk-t3.json
    #   (builds of 2026-11-22 differed on the value's case: use `--type t3` if T3 is refused)
    # 3. the sample
    python3 benches/precision/sample.py [--json /tmp/jdk-t3.json] [--root /tmp/cpt-bench/jdk]
        [--n 100] [--seed 2026] [--out benches/precision/jdk-sample.md | --prefix jdk-sample]
    # second sample (after the name-overlap rule):
    python3 benches/precision/sample.py --json /tmp/jdk-t3b.json --seed 2027 --prefix jdk-sample-2

What it does: every pattern in the report has a representative; the first member whose
similarity is 1.0 is taken as the representative's copy (patterns without such a member are
skipped and counted). Each member whose similarity is below 1.0 forms one type-3 pair with
that copy (members at 1.0 are exact/renamed copies of the representative, not near misses).
The pairs are listed in report order and `random.Random(seed).sample(pairs, n)` picks the
sample, so the same report always gives the same sample. The markdown written holds, for
each sampled pair, its metadata and both fragments' text read from --root; a CSV skeleton
(same stem, `.csv`) lists the pairs with empty verdict/reason columns for judging.
--prefix P writes P.md and P.csv (a bare name goes next to this script); it overrides --out.
Counts (classes, pairs, skipped classes, pairs per similarity band) go to stderr.
"""
import argparse
import csv
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def band(s):
    if s < 0.8:
        return "0.7-0.8"
    if s < 0.9:
        return "0.8-0.9"
    return "0.9-1.0"


def pairs_of(report):
    """(pairs, skipped_classes): pairs are (pattern, representative copy, member)."""
    pairs, skipped = [], 0
    for pat in report["patterns"]:
        if pat.get("clone_type") != "T3":
            continue
        rep = next((m for m in pat["members"] if m["similarity"] >= 1.0), None)
        if rep is None:
            skipped += 1
            continue
        for m in pat["members"]:
            if m["similarity"] < 1.0:
                pairs.append((pat, rep, m))
    return pairs, skipped


def fragment(root, m, cache={}):
    path = os.path.join(root, m["path"])
    if path not in cache:
        with open(path, encoding="utf-8", errors="replace") as f:
            cache[path] = f.read().splitlines()
    return "\n".join(cache[path][m["start_line"] - 1 : m["end_line"]])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", default="/tmp/jdk-t3.json")
    ap.add_argument("--root", default=None, help="source root (default: the report's root)")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=os.path.join(HERE, "jdk-sample.md"))
    ap.add_argument("--prefix", default=None,
                    help="output prefix: writes PREFIX.md and PREFIX.csv (bare names go next to "
                         "this script); overrides --out")
    args = ap.parse_args()
    if args.prefix:
        prefix = args.prefix if os.path.dirname(args.prefix) else os.path.join(HERE, args.prefix)
        args.out = prefix + ".md"

    with open(args.json) as f:
        report = json.load(f)
    root = args.root or report.get("root") or "/tmp/cpt-bench/jdk"
    pairs, skipped = pairs_of(report)
    classes = sum(1 for p in report["patterns"] if p.get("clone_type") == "T3")
    bands = {}
    for _, _, m in pairs:
        bands[band(m["similarity"])] = bands.get(band(m["similarity"]), 0) + 1
    print(f"T3 classes: {classes} (without a similarity-1.0 copy, skipped: {skipped})",
          file=sys.stderr)
    print(f"T3 pairs: {len(pairs)}  by band: {dict(sorted(bands.items()))}", file=sys.stderr)

    sample = random.Random(args.seed).sample(pairs, min(args.n, len(pairs)))

    lines = [f"# cpt type-3 sample: {len(sample)} pairs (seed {args.seed})", "",
             f"Report: `{args.json}`, root `{root}`; {classes} T3 classes, {len(pairs)} pairs.", ""]
    rows = []
    for n, (pat, a, b) in enumerate(sample, 1):
        la, lb = f"{a['start_line']}-{a['end_line']}", f"{b['start_line']}-{b['end_line']}"
        lines += [f"## {n}. pattern {pat['id']}  similarity {b['similarity']:.3f}", "",
                  f"A (representative copy): `{a['path']}:{la}` `{a.get('name', '')}`", "",
                  "```java", fragment(root, a), "```", "",
                  f"B (member): `{b['path']}:{lb}` `{b.get('name', '')}`", "",
                  "```java", fragment(root, b), "```", ""]
        rows.append([n, pat["id"], f"{b['similarity']:.3f}", a["path"], la, b["path"], lb, "", ""])
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    with open(os.path.splitext(args.out)[0] + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["n", "pattern_id", "similarity", "path_a", "lines_a", "path_b", "lines_b",
                    "verdict", "reason"])
        w.writerows(rows)
    print(f"wrote {args.out} and its .csv skeleton", file=sys.stderr)


if __name__ == "__main__":
    main()
