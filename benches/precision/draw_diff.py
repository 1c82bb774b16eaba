#!/usr/bin/env python3
"""Draw a sample of the type-3 pairs one build reports and another does not, both ways.

Given two directories of `cpt clones --format json` reports of the same projects (one file
per project, named `LANG-PROJECT.json`, as for `draw.py`), the pairs are (the class's first
similarity-1.0 member, every member below 1.0; with `--type T2`, the type-2 classes of block
windows and the pairs (first member, every other member)); a pair is *added* when only the second
build reports it and *removed* when only the first does. A seeded uniform sample of each is
drawn, shuffled together, and written as `PREFIX.md` (both fragments of each pair, from
`CORPORA/LANG/PROJECT/PATH`, at most 60 lines each) and `PREFIX-key.csv` (which set each pair
came from, for after the judging: judges see only the `.md`).

    python3 benches/precision/draw_diff.py --before /tmp/rep-cur --after /tmp/rep-new \\
        --corpora /tmp/corpora --seed 2026-12-07-crowd --added 30 --removed 20 --prefix /tmp/sample-11
"""

import argparse
import glob
import json
import os
import random


def pairs(path, kind="T3"):
    out = {}
    for p in json.load(open(path))["patterns"]:
        if p["clone_type"] != kind:
            continue
        if kind == "T2":
            if p["kind"] != "block":
                continue
            r = p["members"][0]
            for m in p["members"][1:]:
                key = (r["path"], r["start_line"], r["end_line"],
                       m["path"], m["start_line"], m["end_line"])
                out[key] = (p["id"], 1.0)
            continue
        rep = [m for m in p["members"] if m.get("similarity", 1) >= 1.0]
        if not rep:
            continue
        r = rep[0]
        for m in p["members"]:
            if m.get("similarity", 1) < 1.0:
                key = (r["path"], r["start_line"], r["end_line"],
                       m["path"], m["start_line"], m["end_line"])
                out[key] = (p["id"], m.get("similarity"))
    return out


def together(path):
    """Every ordered pair of fragments that share a class in a report."""
    out = set()
    for p in json.load(open(path))["patterns"]:
        ms = [(m["path"], m["start_line"], m["end_line"]) for m in p["members"]]
        for x in ms:
            for y in ms:
                if x != y:
                    out.add(x + y)
    return out


def fragment(corpora, name, path, start, end):
    lang, project = name.split("-", 1)
    with open(os.path.join(corpora, lang, project, path), errors="replace") as f:
        lines = f.read().split("\n")[start - 1:end]
    if len(lines) > 60:
        lines = lines[:60] + [f"... ({end - start + 1 - 60} more lines)"]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--corpora", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--added", type=int, default=30)
    ap.add_argument("--removed", type=int, default=20)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--type", default="T3", choices=["T3", "T2"])
    args = ap.parse_args()

    added, removed = [], []
    for f in sorted(glob.glob(os.path.join(args.before, "*.json"))):
        name = os.path.basename(f)[:-5]
        a = pairs(f, args.type)
        b = pairs(os.path.join(args.after, name + ".json"), args.type)
        if args.type == "T2":
            # A pair whose fragments still share a class (of any type: an identical pair
            # left alone is type 1) is neither added nor removed.
            still_a = together(f)
            still_b = together(os.path.join(args.after, name + ".json"))
            a = {k: v for k, v in a.items() if k not in still_b}
            b = {k: v for k, v in b.items() if k not in still_a}
        added += [(name, k, b[k]) for k in sorted(set(b) - set(a))]
        removed += [(name, k, a[k]) for k in sorted(set(a) - set(b))]
    rng = random.Random(args.seed)
    drawn = [("added",) + x for x in rng.sample(added, min(args.added, len(added)))]
    drawn += [("removed",) + x for x in rng.sample(removed, min(args.removed, len(removed)))]
    rng.shuffle(drawn)
    md, key = [], ["n,set,project,pattern,similarity,a,b,verdict,reason"]
    for i, (which, name, k, v) in enumerate(drawn, 1):
        pa, sa, ea, pb, sb, eb = k
        md.append(
            f"## {i}. {name} (similarity {v[1]:.3f})\n\n"
            f"### A: {pa}:{sa}-{ea}\n```\n{fragment(args.corpora, name, pa, sa, ea)}\n```\n"
            f"### B: {pb}:{sb}-{eb}\n```\n{fragment(args.corpora, name, pb, sb, eb)}\n```\n"
        )
        key.append(f"{i},{which},{name},{v[0]},{v[1]:.3f},{pa}:{sa}-{ea},{pb}:{sb}-{eb},,")
    with open(args.prefix + ".md", "w") as f:
        f.write("\n".join(md))
    with open(args.prefix + "-key.csv", "w") as f:
        f.write("\n".join(key) + "\n")
    print(f"{len(added)} pairs added, {len(removed)} removed; drew {len(drawn)}")


if __name__ == "__main__":
    main()
