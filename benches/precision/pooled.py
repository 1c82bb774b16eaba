#!/usr/bin/env python3
"""Precision of a type-3 report over every pair already judged in this directory.

    python3 benches/precision/pooled.py /tmp/jdk-t3.json

Each `jdk-t3-judged*.csv` sample was drawn uniformly from the report of an earlier build.
Detector changes since then only removed edges, so the judged pairs that a newer report
still contains (both fragments in one pattern) are a uniform sample of that newer report,
and their verdicts carry over: the pooled figure estimates the newer build's precision from
several hundred judged pairs instead of one fresh hundred. A fresh sample is still the test
of a rule; this is the tool for choosing one.

Prints per sample: pairs still reported, how many were judged TRUE, precision; then the
pool, with a 95% Wilson interval, and the FALSE pairs still reported.
"""
import csv
import glob
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def start(lines):
    return int(lines.split("-")[0])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: pooled.py REPORT.json   (cpt clones --format json --type T3)")
    report = json.load(open(sys.argv[1]))
    patterns_at = {}
    for pattern in report["patterns"]:
        for member in pattern["members"]:
            key = (member["path"], member["start_line"])
            patterns_at.setdefault(key, set()).add(pattern["id"])

    def reported(row):
        a = patterns_at.get((row["path_a"], start(row["lines_a"])), set())
        b = patterns_at.get((row["path_b"], start(row["lines_b"])), set())
        return bool(a & b)

    samples = sorted(
        glob.glob(os.path.join(HERE, "jdk-t3-judged*.csv")),
        key=lambda f: int("".join(c for c in os.path.basename(f) if c.isdigit()) or 1),
    )
    kept_total = true_total = 0
    false_kept = []
    for path in samples:
        rows = list(csv.DictReader(open(path)))
        kept = [r for r in rows if reported(r)]
        true = sum(r["verdict"] == "TRUE" for r in kept)
        kept_total += len(kept)
        true_total += true
        false_kept += [(os.path.basename(path), r) for r in kept if r["verdict"] != "TRUE"]
        share = true / len(kept) if kept else 0.0
        print(f"{os.path.basename(path):24} still reported {len(kept):3}/{len(rows)}"
              f"  TRUE {true:3}  precision {share:.1%}")
    low, high = wilson(true_total, kept_total)
    share = true_total / kept_total if kept_total else 0.0
    print(f"{'pooled':24} still reported {kept_total:3}      TRUE {true_total:3}"
          f"  precision {share:.1%} (95% Wilson {low:.1%}–{high:.1%})")
    for name, row in false_kept:
        print(f"  FALSE {name} #{row['n']} {row['similarity']}: {row['reason'][:100]}")


if __name__ == "__main__":
    main()
