//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The result of one in-process `cpt` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cpt` in-process with these arguments (without the program name).
pub fn cpt(args: &[&str]) -> Run {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let argv = std::iter::once("cpt").chain(args.iter().copied());
    let code = cpt::run_with_args(argv, &mut stdout, &mut stderr);
    Run {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// Run `cpt` and insist that it succeeds.
pub fn cpt_ok(args: &[&str]) -> Run {
    let run = cpt(args);
    assert_eq!(
        run.code, 0,
        "cpt {args:?} failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run
}

/// The built binary, for tests that need a real process.
pub fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_cpt"))
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// Scan `root` into the catalogue `db` (default: the root's own `.cpt/`).
pub fn scan(root: &Path, db: Option<&Path>) -> Run {
    let mut args = vec!["scan", path_str(root), "--quiet"];
    if let Some(db) = db {
        args.extend(["--db", path_str(db)]);
    }
    cpt_ok(&args)
}

pub fn default_db(root: &Path) -> PathBuf {
    root.join(".cpt/cpt.db")
}

/// `cpt clones --format json` of a catalogue.
pub fn clones(db: &Path) -> Value {
    let run = cpt_ok(&["clones", "--format", "json", "--db", path_str(db)]);
    serde_json::from_str(&run.stdout).expect("clones JSON")
}

/// Two catalogues of one tree report the same clones (the catalogues' roots aside).
pub fn assert_same_clones(a: &Path, b: &Path) {
    let (mut x, mut y) = (clones(a), clones(b));
    x["root"] = Value::Null;
    y["root"] = Value::Null;
    assert_eq!(x, y, "{} and {}", a.display(), b.display());
}

/// `cpt stats --format json` of a catalogue.
/// `cpt stats --format json` without its `index` member: the index's size depends on its
/// history (a base and a delta segment, or one base), not only on the catalogue.
pub fn stats(db: &Path) -> Value {
    let run = cpt_ok(&["stats", "--format", "json", "--db", path_str(db)]);
    let mut stats: Value = serde_json::from_str(&run.stdout).expect("stats JSON");
    stats.as_object_mut().expect("an object").remove("index");
    stats
}

/// Each clone class as (type, sorted "path:name" members), sorted.
pub fn classes(clones: &Value) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = clones["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut members: Vec<String> = p["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    format!(
                        "{}:{}",
                        m["path"].as_str().unwrap(),
                        m["name"].as_str().unwrap()
                    )
                })
                .collect();
            members.sort();
            (p["clone_type"].as_str().unwrap().to_string(), members)
        })
        .collect();
    out.sort();
    out
}

/// Write `text` to `root/rel`, creating directories.
pub fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A near-miss copy of `py_function(_, 5)` (breadth-first search): one statement changed, one
/// added.
pub const NEAR_COPY: &str = "def walk(graph, start=5):
    queue = [start]
    order = []
    visited = {start}
    while queue:
        node = queue.pop()
        order.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in visited:
                visited.add(nxt)
                queue.append(nxt)
                print('visit', nxt)
    return order
";

/// A realistic Python function of about 12 lines, varied by `n` in names and structure.
pub fn py_function(name: &str, n: usize) -> String {
    // Sixteen different algorithms: functions of different `n` (mod 16) are neither copies
    // nor near-miss copies of each other and share no run of statements.
    const FUNCTIONS: [&str; 16] = [
        r#"def NAME(items, limit=N):
    total = N
    seen = set()
    for item in items:
        if item in seen:
            continue
        seen.add(item)
        total = total + item
        if total > limit:
            break
    return total, len(seen)
"#,
        r#"def NAME(text, width=N):
    words = text.split()
    lines, current = [], []
    for word in words:
        if sum(len(w) + 1 for w in current) + len(word) > width:
            lines.append(" ".join(current))
            current = []
        current.append(word)
    if current:
        lines.append(" ".join(current))
    return "\n".join(lines)
"#,
        r#"def NAME(path, default=N):
    try:
        with open(path, encoding="utf-8") as handle:
            raw = handle.read()
    except OSError as error:
        print("cannot read", path, error)
        return default
    pairs = [line.partition("=") for line in raw.splitlines() if "=" in line]
    return {key.strip(): value.strip() for key, _, value in pairs}
"#,
        r#"def NAME(matrix, scale=N):
    rows = len(matrix)
    cols = len(matrix[0]) if rows else 0
    result = [[0] * rows for _ in range(cols)]
    for r in range(rows):
        for c in range(cols):
            result[c][r] = matrix[r][c] * scale
    return result
"#,
        r#"def NAME(values, base=N):
    if not values:
        raise ValueError("no values")
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    spread = variance ** 0.5
    return {"mean": mean, "spread": spread, "base": base}
"#,
        r#"def NAME(graph, start=N):
    queue = [start]
    order = []
    visited = {start}
    while queue:
        node = queue.pop(0)
        order.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in visited:
                visited.add(nxt)
                queue.append(nxt)
    return order
"#,
        r#"def NAME(url, retries=N):
    attempt = 0
    while attempt < retries:
        attempt += 1
        response = fetch(url, timeout=attempt * 2)
        if response.status == 200:
            return response.body
        if response.status >= 500:
            time.sleep(attempt)
            continue
        raise RuntimeError(response.status)
    return None
"#,
        r#"class NAME_Counter:
    def NAME(self, key, step=N):
        bucket = self.buckets.setdefault(key, [])
        bucket.append(step)
        if len(bucket) > self.capacity:
            del bucket[0]
        self.hits = getattr(self, "hits", 0) + 1
        return sum(bucket) / len(bucket)
"#,
        r#"def NAME(records, field=N):
    groups = {}
    for record in records:
        value = record[field]
        groups.setdefault(value, []).append(record)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [(key, len(rows)) for key, rows in ranked]
"#,
        r#"def NAME(n=N):
    sieve = [True] * (n + 1)
    sieve[0:2] = [False, False]
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = [False] * len(sieve[i * i :: i])
    return [i for i, prime in enumerate(sieve) if prime]
"#,
        r#"def NAME(stack, tokens=N):
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
    for token in str(tokens).split():
        if token in ops:
            right, left = stack.pop(), stack.pop()
            stack.append(ops[token](left, right))
        else:
            stack.append(float(token))
    return stack[-1]
"#,
        r#"async def NAME(session, ids, limit=N):
    semaphore = asyncio.Semaphore(limit)
    async def one(ident):
        async with semaphore:
            return await session.get(ident)
    results = await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)
    return [r for r in results if not isinstance(r, Exception)]
"#,
        r#"def NAME(a, b=N):
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
"#,
        r#"def NAME(entries, keep=N):
    cutoff = datetime.now() - timedelta(days=keep)
    stale = [e for e in entries if e.modified < cutoff]
    for entry in stale:
        try:
            os.remove(entry.path)
        except FileNotFoundError:
            pass
    logging.info("removed %d of %d", len(stale), len(entries))
    return len(stale)
"#,
        r#"def NAME(blob, key=N):
    out = bytearray()
    state = key & 0xFF
    for index, byte in enumerate(blob):
        state = (state * 31 + index) % 251
        out.append(byte ^ state)
    digest = hashlib.sha256(bytes(out)).hexdigest()
    return digest[:16], bytes(out)
"#,
        r#"def NAME(tree, depth=N):
    if depth <= 0 or tree is None:
        return []
    left = NAME(tree.left, depth - 1)
    right = NAME(tree.right, depth - 1)
    here = [tree.value] if tree.visible else []
    return left + here + right
"#,
    ];
    FUNCTIONS[n % FUNCTIONS.len()]
        .replace("NAME", name)
        .replace("=N)", &format!("={n})"))
        + "\n"
}

/// Set `path`'s modification time to `secs_ago` seconds ago.
pub fn set_old_mtime(path: &Path, secs_ago: u64) {
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

/// Date every file under `root` (its catalogue aside) to one moment in 2020: a scan trusts
/// the stat of a file modified more than 2 s before it, so the next scan skips unchanged
/// files without reading them, and dating the tree again changes nothing for them.
pub fn age_tree(root: &Path) {
    let then = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    let walk = ignore::WalkBuilder::new(root)
        .hidden(false)
        .filter_entry(|e| e.file_name() != ".cpt")
        .build();
    for entry in walk {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::File::options()
                .write(true)
                .open(entry.path())
                .unwrap()
                .set_modified(then)
                .unwrap();
        }
    }
}

/// Date these files (relative to `root`) half an hour back: changed since [`age_tree`], and
/// old enough that the scan that reads them records their stat.
pub fn age_files(root: &Path, rels: &[&str]) {
    for rel in rels {
        set_old_mtime(&root.join(rel), 1800);
    }
}

/// The `N` of the `(N read…)` in a scan's summary line.
pub fn files_read(summary: &str) -> u64 {
    summary
        .split_once(" (")
        .and_then(|(_, after)| after.split_once(" read"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no read count in {summary:?}"))
}

/// Scan `root` into `db` and return how many files the scan read.
pub fn scan_counting_reads(root: &Path, db: &Path) -> u64 {
    files_read(&cpt_ok(&["scan", path_str(root), "--db", path_str(db)]).stdout)
}

/// Rows of one query over a catalogue, one line each, prefixed with `label`.
fn rows(conn: &rusqlite::Connection, label: &str, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let mut line = format!("{label}:");
        for i in 0..columns {
            let value: rusqlite::types::Value = row.get(i).unwrap();
            line.push_str(&format!(" {value:?}"));
        }
        out.push(line);
    }
    out
}

/// Everything that can be observed of the catalogue `db` of `root` and that does not depend
/// on how it got there, one line per fact: the files (without their ids and times), the units
/// with their class, every class (covered ones too), the detector's shapes and near-miss
/// pairs (structural neighbours included), the default report, the report with `--noise`,
/// the stats, and `cpt similar` for every file with a function. Ids, times, the event log
/// and the index's layout are history, and left out.
pub fn catalogue_state(db: &Path, root: &Path) -> Vec<String> {
    catalogue_state_with(db, root, 1)
}

/// [`catalogue_state`] with `cpt similar` asked of every `stride`-th file with a function
/// only (a query per function costs time on big trees).
pub fn catalogue_state_with(db: &Path, root: &Path, stride: usize) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut out = rows(
        &conn,
        "file",
        "SELECT path, lang, size, hash, lines, syntax_errors, status FROM files ORDER BY path",
    );
    out.extend(rows(
        &conn,
        "unit",
        "SELECT f.path, u.kind, u.name, u.start_line, u.end_line, u.start_byte, u.end_byte, \
         u.tokens, u.exact_hash, u.shape_hash, u.near, u.noise, \
         hex(coalesce(u.content, substr(p.content, (u.content_at >> 16) * 2 + 1, (u.content_at & 65535) * 2))), \
         (SELECT group_concat(pattern_id) FROM pattern_members pm WHERE pm.unit_id = u.id) \
         FROM units u JOIN files f ON f.id = u.file_id LEFT JOIN units p ON p.id = u.content_in \
         ORDER BY f.path, u.start_byte, u.end_byte, u.kind",
    ));
    out.extend(rows(
        &conn,
        "pattern",
        "SELECT id, key, kind, clone_type, lines, tokens, similarity FROM patterns ORDER BY id",
    ));
    out.extend(rows(
        &conn,
        "shape",
        "SELECT key, units, tokens, hex(codes), rekey, seen, touched FROM shapes ORDER BY key",
    ));
    out.extend(rows(
        &conn,
        "near",
        "SELECT a, b, similarity, score, copy FROM near ORDER BY a, b",
    ));
    out.extend(rows(
        &conn,
        "setting",
        "SELECT key, value FROM meta \
         WHERE key IN ('near', 'fingerprint') ORDER BY key",
    ));
    let with_functions: Vec<String> = conn
        .prepare(
            "SELECT DISTINCT f.path FROM files f JOIN units u ON u.file_id = f.id \
             WHERE u.kind != 'block' ORDER BY f.path",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);
    let db_arg = path_str(db);
    for extra in [&[][..], &["--noise"][..]] {
        let mut args = vec!["clones", "--format", "json", "--db", db_arg];
        args.extend(extra);
        let mut json: Value = serde_json::from_str(&cpt_ok(&args).stdout).unwrap();
        json["root"] = Value::Null;
        out.push(format!("clones {extra:?}: {json}"));
    }
    let mut stats = stats(db);
    stats["root"] = Value::Null;
    stats["events"] = Value::Null;
    out.push(format!("stats: {stats}"));
    for rel in with_functions.into_iter().step_by(stride) {
        let file = root.join(&rel);
        if !file.is_file() {
            out.push(format!("similar {rel}: no such file"));
            continue;
        }
        let run = cpt_ok(&[
            "similar",
            path_str(&file),
            "--limit",
            "1000",
            "--format",
            "json",
            "--db",
            db_arg,
        ]);
        let mut json: Value = serde_json::from_str(&run.stdout).unwrap();
        json["root"] = Value::Null;
        out.push(format!("similar {rel}: {json}"));
    }
    out
}

/// Two catalogues of `root` are alike in everything [`catalogue_state`] sees; the panic
/// names the lines that differ.
pub fn assert_same_state(db: &Path, fresh: &Path, root: &Path) {
    assert_state_is(
        db,
        &catalogue_state(fresh, root),
        &catalogue_state(db, root),
    );
}

/// The catalogue `db`'s state (`got`) is `expected`; the panic names the lines that differ.
pub fn assert_state_is(db: &Path, expected: &[String], got: &[String]) {
    if got != expected {
        // At most 40 lines a side, each cut to 300 characters: rows hold long blobs.
        let show = |lines: Vec<&String>| -> String {
            let mut text: Vec<String> = lines
                .iter()
                .take(40)
                .map(|l| l.chars().take(300).collect())
                .collect();
            if lines.len() > 40 {
                text.push(format!("… and {} more", lines.len() - 40));
            }
            text.join("\n  ")
        };
        panic!(
            "{} differs from what was expected\nonly in it:\n  {}\nonly expected:\n  {}",
            db.display(),
            show(got.iter().filter(|l| !expected.contains(l)).collect()),
            show(expected.iter().filter(|l| !got.contains(l)).collect()),
        );
    }
}

/// A fresh scan of `root` into a new catalogue outside it; compared with `db` by
/// [`assert_same_state`].
pub fn assert_equals_fresh_state(db: &Path, root: &Path) {
    let fresh = tempfile::tempdir().unwrap();
    let fresh_db = fresh.path().join("fresh.db");
    scan(root, Some(&fresh_db));
    assert_same_state(db, &fresh_db, root);
}

/// Rescan `root` into `db`, then compare it with a fresh scan by [`assert_same_state`].
pub fn assert_equals_fresh_state_after_rescan(db: &Path, root: &Path) {
    scan(root, Some(db));
    assert_equals_fresh_state(db, root);
}

/// Whether process `pid` holds SQLite's write lock on the catalogue `db`, that is, is inside
/// a write transaction: in WAL mode a writer holds an fcntl lock on byte 120 of `<db>-shm`
/// (`WAL_WRITE_LOCK`) from its first write to its commit or rollback, and `/proc/locks` lists
/// every such lock with its owner. Observing, not taking: the writer is not slowed.
#[cfg(target_os = "linux")]
pub fn holds_write_lock(pid: u32, db: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let shm = PathBuf::from(format!("{}-shm", db.display()));
    let Ok(inode) = std::fs::metadata(&shm).map(|m| m.ino()) else {
        return false;
    };
    let (pid, inode) = (pid.to_string(), inode.to_string());
    let locks = std::fs::read_to_string("/proc/locks").expect("/proc/locks is readable");
    locks.lines().any(|line| {
        // `1: POSIX  ADVISORY  WRITE 1234 fe:00:5678 120 120`; a waiter's line has `->`.
        let f: Vec<&str> = line.split_whitespace().filter(|w| *w != "->").collect();
        let covers = |start: &str, end: &str| {
            start.parse::<u64>().is_ok_and(|s| s <= 120)
                && (end == "EOF" || end.parse::<u64>().is_ok_and(|e| e >= 120))
        };
        f.len() >= 8
            && f[1] == "POSIX"
            && f[3] == "WRITE"
            && f[4] == pid
            && f[5].rsplit(':').next() == Some(inode.as_str())
            && covers(f[6], f[7])
    })
}

/// When to kill a process.
#[derive(Clone, Copy, Debug)]
pub enum Moment {
    /// This long after it started.
    After(std::time::Duration),
    /// Inside its `n`-th write transaction seen (from 1), this long after it was first seen
    /// (if it lasts that long).
    InTransaction(usize, std::time::Duration),
}

/// What became of a process [`kill_at`] watched.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Killed; inside a write transaction as far as could be seen just before.
    Killed { in_transaction: bool },
    /// It ended first, successfully.
    Finished,
}

/// Kill -9 `child`, a `cpt` writing the catalogue `db` that started at `start`, at
/// `moment`: it is polled every 0.2 ms, so a kill on seeing a write transaction lands inside
/// it unless the transaction is shorter than that. A moment that never comes (a transaction
/// the process never reaches) gives way after 5 s.
#[cfg(target_os = "linux")]
pub fn kill_at(
    child: &mut std::process::Child,
    db: &Path,
    moment: Moment,
    start: std::time::Instant,
) -> Outcome {
    use std::time::{Duration, Instant};
    let pid = child.id();
    let (mut seen, mut since) = (0, None::<Instant>);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            return Outcome::Finished;
        }
        let held = holds_write_lock(pid, db);
        if held && since.is_none() {
            seen += 1;
            since = Some(Instant::now());
        } else if !held {
            since = None;
        }
        let now = start.elapsed() > Duration::from_secs(5)
            || match moment {
                Moment::After(after) => start.elapsed() >= after,
                Moment::InTransaction(n, after) => {
                    seen == n && since.is_some_and(|t| t.elapsed() >= after)
                }
            };
        if now {
            child.kill().unwrap();
            child.wait().unwrap();
            return Outcome::Killed {
                in_transaction: held,
            };
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The built binary, run as an unprivileged user when the tests run as root (root writes
/// anything, so permissions only bite on someone else).
#[cfg(unix)]
pub fn unprivileged() -> std::process::Command {
    if is_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_cpt"),
        ]);
        c
    } else {
        binary()
    }
}

/// Whether the tests run as root.
#[cfg(unix)]
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// Commit everything in the repository at `root` (`git add -A`); the new commit's hash.
pub fn commit(root: &Path, message: &str) -> String {
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", message]);
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(root)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Run `git` in `root`, away from the user's and the system's configuration.
pub fn git(root: &Path, args: &[&str]) {
    let output = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(root)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
