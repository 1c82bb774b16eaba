#!/usr/bin/env python3
"""`cpt watch` save-to-report latency on a copy of a real tree.

    python3 benches/watch/latency.py --cpt target/release/cpt [--tree DIR] [--edits 200]
        [--seed 1] [--debounce MS] [--soak SECONDS]

Copies DIR (default: the machine's Python standard library) into a temporary directory,
starts `cpt watch COPY --format jsonl`, waits for its first scan, then makes scripted edits
to random Python files, one at a time, in three kinds taken in turn:
  - a small edit inside a function (a statement appended to its body),
  - a pasted copy of a function that exists elsewhere in the tree (a new type-1 clone),
  - the deletion of a function;
and times each from the write to the watcher's `applied` line (the catalogue is then up to
date and the change printed). Each edit is undone before the next, and the undo is timed
too: it is the file's second save in a row, which the watcher parses from the file's last
tree. Prints p50/p95/p99 of the edits, of the undos and of the watcher's own `elapsed_ms`
(from the batch's first file event, debounce included), the watcher's RSS after the first
scan and after the edits, its CPU use while nothing changes, and with `--soak S` the RSS
before and after S seconds of continuous edits (each once changes have paused for a moment,
when the watcher has returned its free memory; also at the last save) with the latency of
each minute.
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
    ap.add_argument("--debounce", help="the watcher's --debounce (default: its own)")
    ap.add_argument("--soak", type=float, default=0,
                    help="then edit continuously for this many seconds and report RSS and latency")
    ap.add_argument("--idle", type=float, default=10,
                    help="seconds of quiet over which the idle watcher's CPU time is measured")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cpt-watch-")
    root = os.path.join(work, "tree")
    shutil.copytree(a.tree, root, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.Popen(
        [a.cpt, "watch", root, "--format", "jsonl", "--quiet"]
        + (["--debounce", a.debounce] if a.debounce else []),
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
    undo, own, reparsed = [], [], 0
    kinds = ["edit", "paste", "delete"]

    def change(path, kind):
        """Make one edit of `kind` to `path` and undo it; returns the two latencies in ms,
        or None when the file has no function to edit."""
        nonlocal reparsed
        text = open(path, encoding="utf-8", errors="surrogateescape").read()
        lines_of = text.split("\n")
        fns = functions(path)
        if kind != "paste" and not fns:
            return None
        if kind == "edit":
            start, end = rnd.choice(fns)
            indent = lines_of[start][: len(lines_of[start]) - len(lines_of[start].lstrip())] or "    "
            new = lines_of[:end] + [f"{indent}_cpt_probe = {rnd.randrange(1 << 30)}"] + lines_of[end:]
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
        first = (time.perf_counter() - t) * 1000
        own.append(applied["elapsed_ms"])
        # The undo is the file's second save in a row: parsed from its last tree.
        t = time.perf_counter()
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        applied = wait("applied")
        second = (time.perf_counter() - t) * 1000
        reparsed += applied.get("incremental", 0)
        return first, second

    i = 0
    for path in files:
        if i >= a.edits:
            break
        kind = kinds[i % 3]
        got = change(path, kind)
        if got is None:
            continue
        times[kind].append(got[0])
        undo.append(got[1])
        i += 1
    rss_edits = rss_mb(proc.pid)
    pct = lambda xs, p: sorted(xs)[round((len(xs) - 1) * p)]
    every = [x for xs in times.values() for x in xs]
    print(f"{ready['files']} files, first scan {first_scan:.1f} s; {len(every)} edits, "
          f"write to report: p50 {pct(every, .5):.1f} ms, p95 {pct(every, .95):.1f} ms, "
          f"p99 {pct(every, .99):.1f} ms")
    for kind, xs in times.items():
        print(f"  {kind:6} ({len(xs)}): p50 {pct(xs, .5):.1f} ms, p95 {pct(xs, .95):.1f} ms")
    print(f"  undo, the file's second save ({len(undo)}, {reparsed} reparsed from the last tree): "
          f"p50 {pct(undo, .5):.1f} ms, p95 {pct(undo, .95):.1f} ms, p99 {pct(undo, .99):.1f} ms")
    print(f"  the watcher's own elapsed_ms: p50 {pct(own, .5):.1f}, p95 {pct(own, .95):.1f}; "
          f"RSS {rss_start:.0f} MB after the first scan, {rss_edits:.0f} MB after the edits")

    # Idle: no file changes; the watcher should use no CPU.
    time.sleep(1)
    cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
    time.sleep(a.idle)
    idle = (cpu_seconds(proc.pid) - cpu0) / (time.perf_counter() - t0)
    print(f"  idle for {a.idle:.0f} s: {idle * 100:.2f}% of a core")

    if a.soak > 0:
        soak_start = time.perf_counter()
        rss_before = rss_mb(proc.pid)
        windows, n = [[]], 0
        while time.perf_counter() - soak_start < a.soak:
            path = files[n % len(files)]
            got = change(path, kinds[n % 3])
            n += 1
            if got is None:
                continue
            if (time.perf_counter() - soak_start) // 60 >= len(windows):
                windows.append([])
            windows[-1].extend(got)
        rss_busy = rss_mb(proc.pid)
        # Both ends settled: the watcher returns free memory once changes pause, as before
        # the soak (after the idle measurement).
        time.sleep(2)
        rss_after = rss_mb(proc.pid)
        growth = (rss_after - rss_before) / rss_before * 100
        print(f"soak: {a.soak:.0f} s of continuous edits ({n} edits and undos): RSS {rss_before:.0f} MB "
              f"before, {rss_after:.0f} MB after ({growth:+.1f}%), each 2 s after a change; "
              f"{rss_busy:.0f} MB at the last save")
        for m, xs in enumerate(windows):
            if xs:
                print(f"  minute {m + 1}: {len(xs)} saves, p50 {pct(xs, .5):.1f} ms, p95 {pct(xs, .95):.1f} ms")
    proc.terminate()
    proc.wait()
    shutil.rmtree(work, ignore_errors=True)


def cpu_seconds(pid):
    """User plus system CPU time of a process, in seconds."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
