#!/usr/bin/env bash
# Latency of `cpt similar FILE:LINE` end to end (process start to exit), on a scanned corpus.
#
#   bash benches/similar.sh jdk [QUERIES] [RUNS]   # after `bash benches/corpus.sh jdk 1`
#   CPT=path/to/cpt DB=path/to/cpt.db TREE=path bash benches/similar.sh custom
#
# Picks QUERIES (default 300) function-level units of the catalogue, a fixed sample (by a hash
# of their id), and asks `cpt similar PATH:LINE` for a line inside each; then as many
# functions below the unit size (catalogues that record them). Times every query, and `cat` of
# the same file in the same loop as the floor of starting a process and reading the file.
# Prints p50, p90, p99 and max per run, and the medians of RUNS (default 3) runs.
set -euo pipefail
corpus=${1:?usage: benches/similar.sh jdk|python|custom [QUERIES] [RUNS]}
queries=${2:-300}
runs=${3:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-/tmp/cpt-bench}
cpt=${CPT:-$here/target/release/cpt}
db=${DB:-$work/$corpus.db}
tree=${TREE:-$work/$corpus}
[ -f "$db" ] || { echo "no catalogue at $db: run benches/corpus.sh $corpus 1 first" >&2; exit 2; }
"$cpt" similar "$(find "$tree" -name '*.java' -o -name '*.py' | head -1)" --db "$db" >/dev/null 2>&1 || true
python3 - "$cpt" "$db" "$tree" "$queries" "$runs" <<'PY'
import os, sqlite3, statistics, subprocess, sys, time
cpt, db, tree, n, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
root = con.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()[0]
rows = con.execute(
    "SELECT f.path, u.start_line, u.end_line FROM units u JOIN files f ON f.id = u.file_id "
    "WHERE u.kind != 'block' ORDER BY (u.id * 2654435761) % 1000003 LIMIT ?", (n,)).fetchall()
targets = [(os.path.join(root, p), s + (e - s) // 2) for p, s, e in rows]
try:
    small = con.execute(
        "SELECT f.path, s.start_line, s.end_line FROM small_functions s JOIN files f ON f.id = s.file_id "
        "ORDER BY (s.rowid * 2654435761) % 1000003 LIMIT ?", (n,)).fetchall()
except sqlite3.OperationalError:
    small = []
kinds = ["unit"] * len(targets) + ["small"] * len(small)
targets += [(os.path.join(root, p), s + (e - s) // 2) for p, s, e in small]
def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]
def run(cmds):
    out = []
    for cmd in cmds:
        t = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        out.append((time.perf_counter() - t) * 1000)
        if cmd[0] == cpt and r.returncode != 0:
            out[-1] = None
    return out
summary = {}
for k in range(runs):
    sims, cats, small_sims, failed = [], [], [], 0
    for (path, line), kind in zip(targets, kinds):
        s = run([[cpt, "similar", f"{path}:{line}", "--db", db]])[0]
        c = run([["cat", path]])[0]
        if s is None:
            failed += 1
        else:
            (sims if kind == "unit" else small_sims).append(s)
        cats.append(c)
    for name, xs in (("similar", sims), ("small", small_sims), ("cat", cats)):
        if not xs:
            continue
        stats = (pct(xs, .5), pct(xs, .9), pct(xs, .99), max(xs))
        summary.setdefault(name, []).append(stats)
        print(f"run {k+1} {name:8} p50 {stats[0]:6.2f} ms  p90 {stats[1]:6.2f}  p99 {stats[2]:6.2f}  max {stats[3]:6.2f}" + (f"  ({failed} failed)" if name == "similar" else ""))
print(f"medians of {runs} runs; similar: {kinds.count('unit')} lines inside function-level units, small: {kinds.count('small')} inside smaller functions; cat: every file asked about")
for name, xs in summary.items():
    m = [statistics.median(x[i] for x in xs) for i in range(4)]
    print(f"  {name:8} p50 {m[0]:6.2f} ms  p90 {m[1]:6.2f}  p99 {m[2]:6.2f}  max {m[3]:6.2f}")
PY
