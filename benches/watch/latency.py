#!/usr/bin/env python3
"""`cpt watch` save-to-report latency on a copy of a real tree.

    python3 benches/watch/latency.py --cpt target/release/cpt [--tree DIR] [--edits 200]
        [--seed 1] [--debounce 20]

Copies DIR (default: the machine's Python standard library) into a temporary directory,
starts `cpt watch COPY --format jsonl`, waits for its first scan, then makes scripted edits
to random Python files, one at a time, in three kinds taken in turn:
  - a small edit inside a function (a statement appended to its body),
  - a pasted copy of a function that exists elsewhere in the tree (a new type-1 clone),
  - the deletion of a function;
and times each from the write to the watcher's `applied` line (the catalogue is then up to
date and the change printed). Each edit is undone before the next, and the undo is waited
for too, so every edit starts from the same catalogue. Prints p50/p95/p99 of the edits and
of the watcher's own `elapsed_ms` (from the batch's first file event, debounce included),
and the watcher's RSS after the first scan and at the end.
"""
import argparse
import ast
import json
import os
import queue
import random
import shutil
import subprocess
import sysconfig
import tempfile
import threading
import time


def functions(path):
    """(start line, end line) of the top-level and class-level functions of a file."""
    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 6:
            if node.col_offset == 0:
                out.append((node.lineno, node.end_lineno))
    return out


def rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpt", required=True)
    ap.add_argument("--tree", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--debounce", default="20")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cpt-watch-")
    root = os.path.join(work, "tree")
    shutil.copytree(a.tree, root, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.Popen(
        [a.cpt, "watch", root, "--format", "jsonl", "--debounce", a.debounce, "--quiet"],
        stdout=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(json.loads(l)) for l in proc.stdout], daemon=True).start()

    def wait(event, timeout=600):
        while True:
            line = lines.get(timeout=timeout)
            if line["event"] == event:
                return line

    started = time.perf_counter()
    ready = wait("ready")
    first_scan = time.perf_counter() - started
    rss_start = rss_mb(proc.pid)
    rnd = random.Random(a.seed)
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".") and x != "test"]
        files += [os.path.join(d, n) for n in names if n.endswith(".py")]
    rnd.shuffle(files)
    donors = [(f, fn) for f in files[:400] for fn in functions(f)[:3]]
    times = {"edit": [], "paste": [], "delete": []}
    own = []
    kinds = ["edit", "paste", "delete"]
    i = 0
    for path in files:
        if i >= a.edits:
            break
        kind = kinds[i % 3]
        text = open(path, encoding="utf-8", errors="surrogateescape").read()
        lines_of = text.split("\n")
        fns = functions(path)
        if kind != "paste" and not fns:
            continue
        if kind == "edit":
            start, end = rnd.choice(fns)
            indent = lines_of[start][: len(lines_of[start]) - len(lines_of[start].lstrip())] or "    "
            new = lines_of[:end] + [f"{indent}_cpt_probe = {i}"] + lines_of[end:]
        elif kind == "paste":
            donor, (start, end) = rnd.choice(donors)
            body = open(donor, encoding="utf-8", errors="surrogateescape").read().split("\n")[start - 1:end]
            new = lines_of + [""] + body
        else:
            start, end = rnd.choice(fns)
            new = lines_of[: start - 1] + lines_of[end:]
        t = time.perf_counter()
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("\n".join(new))
        applied = wait("applied")
        times[kind].append((time.perf_counter() - t) * 1000)
        own.append(applied["elapsed_ms"])
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        wait("applied")
        i += 1
    rss_end = rss_mb(proc.pid)
    proc.terminate()
    proc.wait()
    shutil.rmtree(work, ignore_errors=True)
    pct = lambda xs, p: sorted(xs)[round((len(xs) - 1) * p)]
    every = [x for xs in times.values() for x in xs]
    print(f"{ready['files']} files, first scan {first_scan:.1f} s; {len(every)} edits, "
          f"write to report: p50 {pct(every, .5):.1f} ms, p95 {pct(every, .95):.1f} ms, "
          f"p99 {pct(every, .99):.1f} ms")
    for kind, xs in times.items():
        print(f"  {kind:6} ({len(xs)}): p50 {pct(xs, .5):.1f} ms, p95 {pct(xs, .95):.1f} ms")
    print(f"  the watcher's own elapsed_ms: p50 {pct(own, .5):.1f}, p95 {pct(own, .95):.1f}; "
          f"RSS {rss_start:.0f} MB after the first scan, {rss_end:.0f} MB at the end")


if __name__ == "__main__":
    main()
