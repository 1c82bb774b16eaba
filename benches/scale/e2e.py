#!/usr/bin/env python3
"""End-to-end `cpt similar` latency: one process per query, code on standard input.

    python3 benches/scale/e2e.py --cpt target/release/cpt --db DIR/cpt.db --source-root JDK
        [--queries 1000] [--seed 1] [--cold]

Picks random function-level units of replica 0 (the real catalogue inside a synthetic one,
see benches/scale.rs), reads each one's text from the real tree, and times
`cpt similar - --lang LANG --db DB --format json` from spawn to exit: process start, opening
the catalogue and the index, parsing and fingerprinting the code, and the query. Peak RSS per
process comes from wait4 (it counts mapped index and binary pages too). --cold evicts the
catalogue's and the index's pages from the page cache (posix_fadvise) before every query.

Process start on a shared machine is noisy, so the same loop also times `cat` fed the
same input, interleaved with the queries: its p50/p99 is the floor any process pays here.
"""
import argparse
import os
import random
import sqlite3
import subprocess
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cpt", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cold", action="store_true")
    a = ap.parse_args()
    con = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT f.path, f.lang, u.start_byte, u.end_byte FROM units u JOIN files f ON f.id = u.file_id "
        "WHERE u.codes IS NOT NULL AND f.path LIKE 'r0/%' AND u.kind IN ('function', 'method')"
    ).fetchall()
    con.close()
    picked = random.Random(a.seed).sample(rows, min(a.queries, len(rows)))
    index = os.path.splitext(a.db)[0] + ".index"
    files = [p for p in (a.db, index, index + "-delta") if os.path.exists(p)]
    times, floor, peaks, found, alone = [], [], [], 0, 0
    for path, lang, start, end in picked:
        with open(os.path.join(a.source_root, path[3:]), "rb") as f:
            text = f.read()[start:end]
        if a.cold:
            for p in files:
                fd = os.open(p, os.O_RDONLY)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                os.close(fd)
        floor.append(run(["cat"], text)[0])
        elapsed, code, out, err, usage = run(
            [a.cpt, "similar", "-", "--lang", lang, "--db", a.db, "--format", "json"], text)
        if code != 0:
            if b"no units" in err:
                # A method cut out of its class may not parse as one (a generic signature
                # split from its class's type parameters, say): not a query, skip it.
                alone += 1
                continue
            raise SystemExit(f"cpt failed on {path}: {err.decode()}")
        times.append(elapsed)
        found += out.count(b'"clone_type"')
        peaks.append(usage.ru_maxrss / 1024)
    pct = lambda xs, p: sorted(xs)[round((len(xs) - 1) * p)]
    print(f"{len(times)} processes{' (cold page cache)' if a.cold else ''}: "
          f"p50 {pct(times, 0.5):.1f} ms, p95 {pct(times, 0.95):.1f} ms, p99 {pct(times, 0.99):.1f} ms, "
          f"max {max(times):.1f} ms; cat in the same loop: p50 {pct(floor, 0.5):.1f} ms, "
          f"p99 {pct(floor, 0.99):.1f} ms; {found / len(times):.1f} matches per query; "
          f"peak RSS of a query process p50 {pct(peaks, 0.5):.1f} MB, max {max(peaks):.1f} MB; "
          f"{alone} picked methods were no unit on their own (skipped)")


def run(argv, stdin):
    """Run argv with stdin, timing spawn to exit; returns (ms, exit code, stdout, stderr, rusage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out, stderr=err)
        proc.stdin.write(stdin)
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = (time.perf_counter() - started) * 1000
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return elapsed, proc.returncode, out.read(), err.read(), usage


if __name__ == "__main__":
    main()
