//! Scale benchmark for the index and `cpt similar` (run directly, or end to end by `benches/scale/e2e.py`).
//!
//! ```text
//! cargo bench --bench scale -- generate --from JDK.db --units N --out DIR
//! cargo bench --bench scale -- query --db DIR/cpt.db [--queries 1000] [--seed 1] [--cold]
//! ```
//!
//! `generate` writes a synthetic catalogue of N units whose fingerprints and sizes follow a
//! real one's (`--from`, a scanned catalogue such as the JDK's): it replicates the real
//! catalogue's files, units, shapes and classes as often as needed. Replica 0 is the real
//! catalogue itself; every further replica remaps every exact and shape hash through a keyed
//! mix and XORs every 16-bit similarity code and name hash with a replica salt, a permutation
//! of the code alphabet. So within a replica every distribution is the real one — units per
//! file, tokens and lines per unit, copies per exact and per shape hash, class sizes, band
//! bucket sizes, near-miss similarities — and replicas never match each other. The catalogue
//! is written straight into the projection tables (one event marks its state); then the index
//! is built from it as `cpt` builds it, and timed.
//!
//! `query` answers `--queries` random function-level units of the catalogue in-process, as
//! `cpt similar` does, and prints p50/p99 of the whole answer and of the exact lookup alone,
//! and the process's peak RSS. `--cold` evicts the index and database pages from the page
//! cache (posix_fadvise, through python3) before every query.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cpt::detect::near::Params;
use cpt::engine::similar::{self, Own};
use cpt::fingerprint::{Hash64, UnitPrint};
use cpt::index::{self, Access};
use cpt::parse::lang::UnitKind;
use cpt::store::Store;
use rusqlite::{Connection, params};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let flag = |name: &str| -> Option<String> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    match args.first().map(String::as_str) {
        Some("generate") => {
            let from = PathBuf::from(flag("--from").expect("--from DB"));
            let units: usize = flag("--units")
                .expect("--units N")
                .parse()
                .expect("a count");
            let out = PathBuf::from(flag("--out").expect("--out DIR"));
            generate(&from, units, &out);
        }
        Some("query") => {
            let db = PathBuf::from(flag("--db").expect("--db PATH"));
            let queries = flag("--queries").map_or(1000, |q| q.parse().expect("a count"));
            let seed = flag("--seed").map_or(1, |s| s.parse().expect("a seed"));
            query(&db, queries, seed, args.iter().any(|a| a == "--cold"));
        }
        _ => {
            eprintln!(
                "usage: scale generate --from DB --units N --out DIR | query --db DB [--queries N] [--seed S] [--cold]"
            );
            std::process::exit(2);
        }
    }
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// A hash in replica `r` (replica 0 keeps the real hashes).
fn remap(h: i64, r: u64) -> i64 {
    if r == 0 {
        h
    } else {
        mix(h as u64 ^ mix(r)) as i64
    }
}

/// 16-bit codes in replica `r`: XOR with a non-zero salt, a permutation of the alphabet.
/// Similarity codes of replica `r`: the codes of tokens without content rotated (a
/// permutation, so distributions stay), names and literal kinds kept, so that a code still
/// says whether its token has content.
fn recode_codes(blob: Option<Vec<u8>>, r: u64) -> Option<Vec<u8>> {
    const OTHER: u32 = 1027;
    let shift = if r == 0 { 0 } else { mix(r) as u32 };
    blob.map(|b| {
        b.chunks_exact(2)
            .flat_map(|p| {
                let c = u16::from_le_bytes([p[0], p[1]]);
                let c = if cpt::fingerprint::has_content(c) {
                    c
                } else {
                    (OTHER + (u32::from(c) - OTHER + shift) % (65536 - OTHER)) as u16
                };
                c.to_le_bytes()
            })
            .collect()
    })
}

fn recode(blob: Option<Vec<u8>>, r: u64) -> Option<Vec<u8>> {
    let salt = if r == 0 { 0u16 } else { (mix(r) as u16) | 1 };
    blob.map(|b| {
        b.chunks_exact(2)
            .flat_map(|p| (u16::from_le_bytes([p[0], p[1]]) ^ salt).to_le_bytes())
            .collect()
    })
}

fn generate(from: &Path, target: usize, out: &Path) {
    std::fs::create_dir_all(out).expect("output directory");
    let db = out.join("cpt.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let _ = std::fs::remove_file(index::path_for(&db));
    let _ = std::fs::remove_file(cpt::index::refresh::delta_path(&db));
    drop(Store::open(&db).expect("new catalogue"));
    let started = Instant::now();
    let conn = Connection::open(&db).expect("catalogue");
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; ATTACH '{}' AS src;",
        from.display()
    ))
    .expect("attach the real catalogue");
    let real: i64 = conn
        .query_row("SELECT count(*) FROM src.units", [], |r| r.get(0))
        .expect("real units");
    let replicas = (target as u64).div_ceil(real.max(1) as u64);
    let tx = conn.unchecked_transaction().expect("transaction");
    let mut units_left = target as i64;
    for r in 0..replicas {
        let offset_file = r as i64 * 10_000_000;
        let offset_unit = r as i64 * 100_000_000;
        tx.execute(
            "INSERT INTO files (id, path, lang, size, mtime_ns, hash, lines, syntax_errors, status) \
             SELECT id + ?1, 'r' || ?2 || '/' || path, lang, size, mtime_ns, hash, lines, syntax_errors, status \
             FROM src.files",
            params![offset_file, r as i64],
        )
        .expect("files");
        let mut read = tx
            .prepare(
                "SELECT id, file_id, kind, name, start_line, end_line, start_byte, end_byte, tokens, \
                 exact_hash, shape_hash, codes, noise, content FROM src.units ORDER BY id LIMIT ?1",
            )
            .expect("read units");
        let mut write = tx
            .prepare(
                "INSERT INTO units (id, file_id, kind, name, start_line, end_line, start_byte, end_byte, \
                 tokens, exact_hash, shape_hash, codes, noise, content) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )
            .expect("write units");
        let mut rows = read.query([units_left]).expect("units");
        while let Some(u) = rows.next().expect("a unit") {
            write
                .execute(params![
                    u.get::<_, i64>(0).unwrap() + offset_unit,
                    u.get::<_, i64>(1).unwrap() + offset_file,
                    u.get::<_, String>(2).unwrap(),
                    u.get::<_, String>(3).unwrap(),
                    u.get::<_, i64>(4).unwrap(),
                    u.get::<_, i64>(5).unwrap(),
                    u.get::<_, i64>(6).unwrap(),
                    u.get::<_, i64>(7).unwrap(),
                    u.get::<_, i64>(8).unwrap(),
                    remap(u.get(9).unwrap(), r),
                    remap(u.get(10).unwrap(), r),
                    recode_codes(u.get(11).unwrap(), r),
                    u.get::<_, Option<String>>(12).unwrap(),
                    recode(u.get(13).unwrap(), r),
                ])
                .expect("a synthetic unit");
            units_left -= 1;
        }
        let mut read = tx
            .prepare("SELECT key, tokens, codes FROM src.shapes WHERE units > 0")
            .expect("read shapes");
        let mut write = tx
            .prepare(
                "INSERT OR IGNORE INTO shapes (key, units, tokens, codes, rekey, seen) \
                 VALUES (?1, 0, ?2, ?3, 0, 0)",
            )
            .expect("write shapes");
        let mut rows = read.query([]).expect("shapes");
        while let Some(s) = rows.next().expect("a shape") {
            write
                .execute(params![
                    remap(s.get(0).unwrap(), r),
                    s.get::<_, i64>(1).unwrap(),
                    recode_codes(s.get(2).unwrap(), r),
                ])
                .expect("a synthetic shape");
        }
        let mut read = tx
            .prepare(
                "SELECT p.id, p.key, p.kind, p.clone_type, p.lines, p.tokens, p.similarity FROM src.patterns p",
            )
            .expect("read patterns");
        let mut write = tx
            .prepare(
                "INSERT OR IGNORE INTO patterns (id, key, kind, clone_type, lines, tokens, similarity) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .expect("write patterns");
        let mut rows = read.query([]).expect("patterns");
        while let Some(p) = rows.next().expect("a pattern") {
            let key = remap(p.get(1).unwrap(), r);
            write
                .execute(params![
                    format!("{:016x}", key as u64),
                    key,
                    p.get::<_, String>(2).unwrap(),
                    p.get::<_, String>(3).unwrap(),
                    p.get::<_, i64>(4).unwrap(),
                    p.get::<_, i64>(5).unwrap(),
                    p.get::<_, f64>(6).unwrap(),
                ])
                .expect("a synthetic pattern");
        }
        // Members take their pattern's remapped id.
        let mut read = tx
            .prepare("SELECT p.key, m.unit_id FROM src.pattern_members m JOIN src.patterns p ON p.id = m.pattern_id")
            .expect("read members");
        let mut write = tx
            .prepare("INSERT OR IGNORE INTO pattern_members (pattern_id, unit_id) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM units WHERE id = ?2)")
            .expect("write members");
        let mut rows = read.query([]).expect("members");
        while let Some(m) = rows.next().expect("a member") {
            let key = remap(m.get(0).unwrap(), r);
            write
                .execute(params![
                    format!("{:016x}", key as u64),
                    m.get::<_, i64>(1).unwrap() + offset_unit
                ])
                .expect("a synthetic member");
        }
        if units_left <= 0 {
            break;
        }
    }
    tx.execute_batch(
        "UPDATE shapes SET units = (SELECT count(*) FROM units WHERE shape_hash = shapes.key), \
                           seen = (SELECT count(*) FROM units WHERE shape_hash = shapes.key); \
         DELETE FROM shapes WHERE units = 0; \
         DELETE FROM pattern_members WHERE pattern_id NOT IN (SELECT pattern_id FROM pattern_members GROUP BY pattern_id HAVING count(*) > 1); \
         DELETE FROM patterns WHERE id NOT IN (SELECT pattern_id FROM pattern_members);",
    )
    .expect("counts");
    tx.execute(
        "INSERT INTO scans (started_ms, finished_ms, summary) VALUES (0, 0, 'synthetic')",
        [],
    )
    .expect("scan");
    tx.execute(
        "INSERT INTO events (scan_id, at_ms, kind, data) VALUES (1, 0, 'synthetic', '{}')",
        [],
    )
    .expect("event");
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('near', ?1), ('root', ?2) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![Params::default().key(), out.display().to_string()],
    )
    .expect("meta");
    tx.commit().expect("commit");
    conn.execute_batch("DETACH src; PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    drop(conn);
    let units: i64 = Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM units", [], |r| r.get(0))
        .unwrap();
    eprintln!(
        "catalogue: {units} units ({replicas} replicas of {real}) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let store = Store::open_existing(&db).expect("catalogue");
    let started = Instant::now();
    let contents = store.index_contents(None).expect("contents");
    let read = started.elapsed();
    let bytes = index::build(&contents);
    let built = started.elapsed();
    index::write_atomically(&index::path_for(&db), &bytes, index::Durability::Fsync)
        .expect("index");
    let total = started.elapsed();
    let (segments, _) =
        cpt::index::refresh::refresh_index(&store, &db, Access::Mapped).expect("index opens");
    let base = &segments.base;
    let (bits, probes) = base.bloom_size();
    println!(
        "units {units}  index build {:.2} s (read {:.2} s, build {:.2} s, write {:.2} s)  {} bytes = {:.1} bytes/unit",
        total.as_secs_f64(),
        read.as_secs_f64(),
        (built - read).as_secs_f64(),
        (total - built).as_secs_f64(),
        bytes.len(),
        bytes.len() as f64 / units as f64
    );
    println!(
        "bloom: {bits} bits, {probes} probes; false positives sized {:.2}%, expected {:.3}%, measured {:.3}% (1,000,000 probes)",
        index::BLOOM_RATE * 100.0,
        base.bloom_expected_rate().unwrap() * 100.0,
        base.measured_false_positive_rate(1_000_000).unwrap() * 100.0
    );
}

/// Peak resident set, and the current anonymous (heap) and file-backed (mapped pages) parts,
/// of this process, in MB.
fn rss() -> (f64, f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("RssAnon:"), field("RssFile:"))
}

fn evict(paths: &[PathBuf]) {
    let list: Vec<String> = paths
        .iter()
        .filter(|p| p.exists())
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    let script = format!(
        "import os\nfor p in [{}]:\n    fd = os.open(p, os.O_RDONLY)\n    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)\n    os.close(fd)\n",
        list.join(", ")
    );
    let status = std::process::Command::new("python3")
        .args(["-c", &script])
        .status()
        .expect("python3");
    assert!(status.success(), "evicting pages failed");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn query(db: &Path, queries: usize, seed: u64, cold: bool) {
    let store = Store::open_existing(db).expect("catalogue");
    let (segments, how) =
        cpt::index::refresh::refresh_index(&store, db, Access::Mapped).expect("index");
    assert_eq!(
        how,
        cpt::index::refresh::IndexRefresh::UpToDate,
        "generate builds the index"
    );
    let params = store.near_params().expect("params");
    let conn = Connection::open(db).expect("catalogue");
    let max_id: i64 = conn
        .query_row("SELECT max(id) FROM units", [], |r| r.get(0))
        .expect("units");
    let mut picked: Vec<(UnitPrint, String)> = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT u.id, u.kind, u.name, u.start_line, u.end_line, u.tokens, u.exact_hash, u.shape_hash, \
             u.codes, u.content, f.path FROM units u JOIN files f ON f.id = u.file_id \
             WHERE u.id >= ?1 AND u.codes IS NOT NULL ORDER BY u.id LIMIT 1",
        )
        .expect("pick");
    let mut x = seed;
    let blob = |b: Option<Vec<u8>>| -> Vec<u16> {
        b.unwrap_or_default()
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect()
    };
    while picked.len() < queries {
        x = mix(x.wrapping_add(0x9e37_79b9_7f4a_7c15));
        let at = (x % max_id as u64) as i64;
        let row = stmt
            .query_row([at], |r| {
                Ok((
                    UnitPrint {
                        kind: UnitKind::parse(&r.get::<_, String>(1)?)
                            .unwrap_or(UnitKind::Function),
                        name: r.get(2)?,
                        start_line: r.get(3)?,
                        end_line: r.get(4)?,
                        start_byte: 0,
                        end_byte: 0,
                        tokens: r.get(5)?,
                        exact: Hash64(r.get::<_, i64>(6)? as u64),
                        shape: Hash64(r.get::<_, i64>(7)? as u64),
                        codes: blob(r.get(8)?),
                        content: blob(r.get(9)?),
                        noise: None,
                        family: None,
                    },
                    r.get::<_, String>(10)?,
                ))
            })
            .ok();
        if let Some(row) = row {
            picked.push(row);
        }
    }
    let files = [
        db.to_path_buf(),
        index::path_for(db),
        cpt::index::refresh::delta_path(db),
    ];
    let (mut whole, mut exact, mut found, mut candidates) =
        (Vec::new(), Vec::new(), 0usize, 0usize);
    for (unit, path) in &picked {
        if cold {
            evict(&files);
        }
        let started = Instant::now();
        let hits = segments.exact(unit.exact.0).expect("lookup").len();
        exact.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(hits >= 1, "a unit finds itself");
        let own = Own {
            path,
            start_line: unit.start_line,
            end_line: unit.end_line,
        };
        let started = Instant::now();
        let matches = similar::similar_to(&segments, &store, unit, Some(&own), &params, 0.7, 20)
            .expect("query");
        whole.push(started.elapsed().as_secs_f64() * 1000.0);
        found += matches.len();
        let shape = cpt::detect::near::Shape {
            key: unit.shape.0,
            codes: unit.codes.clone(),
            copies: Vec::new(),
        };
        candidates += cpt::detect::near::candidates(&segments, &shape, &params)
            .expect("candidates")
            .len();
    }
    whole.sort_by(f64::total_cmp);
    exact.sort_by(f64::total_cmp);
    let (peak, anon, file) = rss();
    println!(
        "{} queries{}: similar p50 {:.3} ms p99 {:.3} ms max {:.3} ms; exact lookup p50 {:.4} ms p99 {:.4} ms; {:.1} candidates and {:.1} matches per query; peak RSS {:.1} MB (now {:.1} MB heap, {:.1} MB mapped files)",
        picked.len(),
        if cold { " (cold page cache)" } else { "" },
        percentile(&whole, 0.5),
        percentile(&whole, 0.99),
        whole.last().copied().unwrap_or(0.0),
        percentile(&exact, 0.5),
        percentile(&exact, 0.99),
        candidates as f64 / picked.len() as f64,
        found as f64 / picked.len() as f64,
        peak,
        anon,
        file
    );
}
