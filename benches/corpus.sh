#!/usr/bin/env bash
# End-to-end benchmark of `cpt scan` on a real corpus, with medians over several runs.
#
#   bash benches/corpus.sh python [RUNS]   # the machine's python3 standard library (.py files)
#   bash benches/corpus.sh jdk [RUNS]      # the Temurin 25 JDK sources (lib/src.zip), .java files
#
# Measures, per run: cold scan (fresh catalogue), the same cold scan without near-miss (type-3)
# detection (`--no-near-miss`), tree-sitter parse-only time of the same files
# (the walk, read and parse of `cpt scan` without fingerprinting or storing), a rescan with no
# change, a rescan with one file changed, and the cold scan's peak RSS. With jscpd 5.3.3
# installed (PEERS=DIR holding node_modules from `npm install jscpd@5.3.3
# jscpd-linux-x64-gnu@5.3.3`), also jscpd's time and peak RSS on the same files; with
# dupehound 0.1.2 installed there (`cargo install --no-default-features dupehound --root DIR`),
# its time and peak RSS too. With BASE=BINARY (an earlier build of cpt), that build's cold
# scan too, for a before/after in the same sitting. Last, the catalogue's size against the
# source bytes.
set -euo pipefail

corpus=${1:?usage: benches/corpus.sh python|jdk [RUNS]}
runs=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-/tmp/cpt-bench}
peers=${PEERS:-/tmp/peers}
mkdir -p "$work"

case "$corpus" in
  python)
    src=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
    tree="$work/python"
    [ -d "$tree" ] || cp -r "$src" "$tree"
    # The reference corpus is the .py files; type stubs and the odd C file are left out.
    exclude=(--exclude '*.pyi' --exclude '*.c' --exclude '*.h' --exclude '*.js' --exclude '*.ts')
    jscpd_format=python
    changed=$(cd "$tree" && find . -name '*.py' -size +20k | sort | awk 'NR==1')
    ;;
  jdk)
    zip=$(ls /usr/lib/jvm/temurin-25*/lib/src.zip | awk 'NR==1')
    tree="$work/jdk"
    [ -d "$tree" ] || { mkdir -p "$tree" && unzip -q "$zip" -d "$tree"; }
    exclude=(--exclude '*.c' --exclude '*.h' --exclude '*.cpp' --exclude '*.hpp' --exclude '*.js')
    jscpd_format=java
    changed=$(cd "$tree" && find . -name '*.java' -size +20k | sort | awk 'NR==1')
    ;;
  *) echo "unknown corpus $corpus (python or jdk)" >&2; exit 2 ;;
esac

cd "$here"
cargo build --release --quiet
cargo build --release --quiet --bench corpus
cpt="$here/target/release/cpt"
parse_only=$(ls -t target/release/deps/corpus-* | grep -v '\.d$' | awk 'NR==1')
db="$work/$corpus.db"

# wall seconds, peak RSS (KiB), user and system CPU seconds of a command
measure() {
  local f
  f=$(mktemp)
  /usr/bin/time -o "$f" -f '%e %M %U %S' "$@" >/dev/null 2>&1 || true
  tail -1 "$f"
  rm -f "$f"
}

cold=() cold_rss=() cold_cpu=() exact=() parse=() parse_cpu=() rescan=() one=() jscpd_t=() jscpd_rss=()
dupe_t=() dupe_rss=() base_t=() base_rss=()
files=$(find "$tree" -name "*.${jscpd_format/python/py}" | wc -l)
bytes=$(find "$tree" -name "*.${jscpd_format/python/py}" -printf '%s\n' | awk '{s+=$1} END {print s}')
for i in $(seq "$runs"); do
  # A cold scan: no catalogue and no index (a leftover index of the last run would be
  # rebuilt before classification, and classification would take its candidates from it).
  rm -f "$db" "$db-wal" "$db-shm" "$db.lock" "${db%.db}.index" "${db%.db}.index-delta"
  read -r t m u s < <(measure "$cpt" scan "$tree" --db "$db" --quiet "${exclude[@]}")
  cold+=("$t"); cold_rss+=("$m"); cold_cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')")
  rm -f "$db.exact"* "$db.index"*
  read -r t _ < <(measure "$cpt" scan "$tree" --db "$db.exact" --quiet --no-near-miss "${exclude[@]}")
  exact+=("$t")
  rm -f "$db.exact"* "$db.index"*
  read -r t _ u s < <(measure "$parse_only" parse-only "$tree" "${exclude[@]}")
  parse+=("$t"); parse_cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')")
  # Let the racy-timestamp window pass so the rescans trust the files' stat.
  sleep 2
  "$cpt" scan "$tree" --db "$db" --quiet "${exclude[@]}"
  read -r t _ < <(measure "$cpt" scan "$tree" --db "$db" --quiet "${exclude[@]}")
  rescan+=("$t")
  cp "$tree/$changed" "$work/changed.bak"
  if [ "$corpus" = python ]; then
    printf '\n\ndef cpt_bench_added_%s(a, b):\n    c = a + b\n    d = c * 2\n    e = d - a\n    f = e // 3\n    return f\n' "$i" >> "$tree/$changed"
  else
    printf '// cpt bench edit %s\n' "$i" >> "$tree/$changed"
  fi
  read -r t _ < <(measure "$cpt" scan "$tree" --db "$db" --quiet "${exclude[@]}")
  one+=("$t")
  cp -p "$work/changed.bak" "$tree/$changed"
  if [ -x "$peers/node_modules/.bin/jscpd" ]; then
    read -r t m < <(measure "$peers/node_modules/.bin/jscpd" --format "$jscpd_format" --reporters silent "$tree")
    jscpd_t+=("$t"); jscpd_rss+=("$m")
  fi
  if [ -x "$peers/bin/dupehound" ]; then
    read -r t m < <(measure "$peers/bin/dupehound" scan --json "$tree")
    dupe_t+=("$t"); dupe_rss+=("$m")
  fi
  if [ -n "${BASE:-}" ]; then
    rm -rf "$work/base" && mkdir -p "$work/base"
    read -r t m < <(measure "$BASE" scan "$tree" --db "$work/base/$corpus.db" --quiet "${exclude[@]}")
    base_t+=("$t"); base_rss+=("$m")
    rm -rf "$work/base"
  fi
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
c=$(median "${cold[@]}"); p=$(median "${parse[@]}")
echo "corpus: $corpus ($files files, $((bytes / 1000000)) MB), medians of $runs runs"
echo "cold scan:          ${c}s  ($(awk -v f="$files" -v t="$c" 'BEGIN{printf "%.0f", f/t}') files/s, $(awk -v b="$bytes" -v t="$c" 'BEGIN{printf "%.1f", b/1e6/t}') MB/s)  runs: ${cold[*]}"
e=$(median "${exact[@]}")
echo "without type-3:     ${e}s  runs: ${exact[*]}  (type-3 detection adds $(awk -v c="$c" -v e="$e" 'BEGIN{printf "%.0f", (c/e-1)*100}')%)"
echo "parse-only:         ${p}s  runs: ${parse[*]}"
echo "cold / parse-only:  $(awk -v c="$c" -v p="$p" 'BEGIN{printf "%.2f", c/p}') wall, $(awk -v c="$(median "${cold_cpu[@]}")" -v p="$(median "${parse_cpu[@]}")" 'BEGIN{printf "%.2f (CPU %.1fs / %.1fs)", c/p, c, p}')"
echo "no-change rescan:   $(median "${rescan[@]}")s  runs: ${rescan[*]}"
echo "one file changed:   $(median "${one[@]}")s  runs: ${one[*]}  ($changed)"
echo "cold scan peak RSS: $(( $(median "${cold_rss[@]}") / 1024 )) MB"
# The catalogue of the last run: database (with its write-ahead log) and index, against the
# source bytes it describes.
size() { local n=0 f; for f in "$@"; do [ -f "$f" ] && n=$((n + $(stat -c %s "$f"))); done; echo "$n"; }
db_bytes=$(size "$db" "$db-wal")
index_bytes=$(size "${db%.db}.index" "${db%.db}.index-delta")
units=$("$cpt" stats --db "$db" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["units"])')
echo "catalogue:          $(( (db_bytes + index_bytes) / 1000000 )) MB ($(( db_bytes / 1000000 )) MB database, $(( index_bytes / 1000000 )) MB index), $(awk -v b="$((db_bytes + index_bytes))" -v u="$units" 'BEGIN{printf "%.0f", b/u}') bytes per unit ($units units), $(awk -v c="$((db_bytes + index_bytes))" -v s="$bytes" 'BEGIN{printf "%.0f", c/s*100}')% of the source bytes"
if [ ${#jscpd_t[@]} -gt 0 ]; then
  j=$(median "${jscpd_t[@]}")
  echo "jscpd 5.3.3:        ${j}s, peak RSS $(( $(median "${jscpd_rss[@]}") / 1024 )) MB  runs: ${jscpd_t[*]}"
  echo "jscpd / cpt cold:   $(awk -v j="$j" -v c="$c" 'BEGIN{printf "%.2f", j/c}')"
fi
if [ ${#dupe_t[@]} -gt 0 ]; then
  d=$(median "${dupe_t[@]}")
  echo "dupehound 0.1.2:    ${d}s, peak RSS $(( $(median "${dupe_rss[@]}") / 1024 )) MB  runs: ${dupe_t[*]}"
  echo "dupehound / cpt:    $(awk -v d="$d" -v c="$c" 'BEGIN{printf "%.2f", d/c}')"
fi
if [ ${#base_t[@]} -gt 0 ]; then
  b=$(median "${base_t[@]}")
  echo "base cold scan:     ${b}s, peak RSS $(( $(median "${base_rss[@]}") / 1024 )) MB  runs: ${base_t[*]}  ($BASE)"
  echo "base / cpt cold:    $(awk -v b="$b" -v c="$c" 'BEGIN{printf "%.2f", b/c}')"
fi
