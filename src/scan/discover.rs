//! Discover: walk a tree for source files (honouring ignore files) and decide which files are
//! worth parsing, with a counted reason for every one that is not.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState, overrides::OverrideBuilder};
use thiserror::Error;

use crate::parse::lang::{self, Language};

/// A source file found by the walk, with the metadata the incremental scan compares.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Path relative to the root, `/`-separated.
    pub rel: String,
    pub abs: PathBuf,
    pub lang: &'static Language,
    pub size: u64,
    pub mtime_ns: i64,
}

/// Why a file was not fingerprinted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    Binary,
    TooLarge,
    Minified,
    Generated,
    NotUtf8,
    Unreadable,
    Vanished,
}

impl SkipReason {
    pub const ALL: [SkipReason; 7] = [
        SkipReason::Binary,
        SkipReason::TooLarge,
        SkipReason::Minified,
        SkipReason::Generated,
        SkipReason::NotUtf8,
        SkipReason::Unreadable,
        SkipReason::Vanished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too-large",
            SkipReason::Minified => "minified",
            SkipReason::Generated => "generated",
            SkipReason::NotUtf8 => "not-utf8",
            SkipReason::Unreadable => "unreadable",
            SkipReason::Vanished => "vanished",
        }
    }

    pub fn parse(s: &str) -> Option<SkipReason> {
        SkipReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Reasons that may go away without the file changing; such files are retried each scan.
    pub fn is_transient(self) -> bool {
        matches!(self, SkipReason::Unreadable | SkipReason::Vanished)
    }
}

#[derive(Debug, Error)]
pub enum DiscoverError {
    #[error("bad --exclude glob `{glob}`: {source}")]
    Glob { glob: String, source: ignore::Error },
    #[error("{path}: not a directory")]
    NotADirectory { path: String },
}

/// The outcome of a walk: candidate files sorted by path, and paths the walk could not read.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<Candidate>,
    pub errors: Vec<String>,
}

/// Walk `root` for files of the built-in languages. Hidden files are skipped, `.gitignore`,
/// `.ignore` and git excludes are honoured even outside a git checkout, links are not followed.
pub fn walk(root: &Path, exclude: &[String]) -> Result<Walk, DiscoverError> {
    walk_some(root, exclude, None)
}

/// What [`walk`] would find of `paths` (relative to `root`, `/`-separated): the same ignore
/// files and excludes apply, but only the directories on the way to them are read.
pub fn walk_paths(
    root: &Path,
    exclude: &[String],
    paths: &[String],
) -> Result<Walk, DiscoverError> {
    let mut wanted: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    wanted.insert(root.to_path_buf());
    for rel in paths {
        let mut path = root.join(rel);
        while path.starts_with(root) && wanted.insert(path.clone()) {
            if !path.pop() {
                break;
            }
        }
    }
    walk_some(root, exclude, Some(wanted))
}

/// [`walk_paths`], asking the file system only for the status of the paths in `included`:
/// files a walk found before, whose inclusion cannot have changed since, as it depends only
/// on their path, the ignore files and the settings (a watcher walks the whole tree again
/// when those change). The rest are walked.
pub fn walk_known(
    root: &Path,
    exclude: &[String],
    paths: &[String],
    included: &std::collections::HashSet<String>,
) -> Result<Walk, DiscoverError> {
    let mut files = Vec::new();
    let mut unknown = Vec::new();
    for rel in paths {
        if !included.contains(rel) {
            unknown.push(rel.clone());
            continue;
        }
        let abs = root.join(rel);
        match std::fs::symlink_metadata(&abs) {
            Ok(meta) if meta.is_file() => match lang::for_path(&abs) {
                Some(lang) => files.push(Candidate {
                    rel: rel.clone(),
                    abs,
                    lang,
                    size: meta.len(),
                    mtime_ns: mtime_ns(&meta),
                }),
                None => unknown.push(rel.clone()),
            },
            // Gone: not in the tree, as a walk would say.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            _ => unknown.push(rel.clone()),
        }
    }
    let mut walk = if unknown.is_empty() {
        Walk::default()
    } else {
        walk_paths(root, exclude, &unknown)?
    };
    walk.files.extend(files);
    walk.files.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    Ok(walk)
}

fn walk_some(
    root: &Path,
    exclude: &[String],
    only: Option<std::collections::HashSet<PathBuf>>,
) -> Result<Walk, DiscoverError> {
    if !root.is_dir() {
        return Err(DiscoverError::NotADirectory {
            path: root.display().to_string(),
        });
    }
    let mut overrides = OverrideBuilder::new(root);
    for glob in exclude {
        overrides
            .add(&format!("!{glob}"))
            .map_err(|source| DiscoverError::Glob {
                glob: glob.clone(),
                source,
            })?;
    }
    let overrides = overrides.build().map_err(|source| DiscoverError::Glob {
        glob: exclude.join(" "),
        source,
    })?;
    let found = Mutex::new(Walk::default());
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(true)
        .require_git(false)
        .follow_links(false)
        .overrides(overrides);
    if let Some(only) = only {
        // A few paths: one thread, no pool to start.
        builder.filter_entry(move |entry| only.contains(entry.path()));
        let mut walk = Walk::default();
        for entry in builder.build() {
            match entry {
                Ok(entry) => walk.files.extend(candidate(root, &entry)),
                Err(e) => walk.errors.push(one_line(&e)),
            }
        }
        walk.files.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
        walk.errors.sort();
        return Ok(walk);
    }
    builder.build_parallel().run(|| {
        let found = &found;
        Box::new(move |entry| {
            match entry {
                Ok(entry) => {
                    if let Some(candidate) = candidate(root, &entry) {
                        found.lock().expect("walk lock").files.push(candidate);
                    }
                }
                Err(e) => found.lock().expect("walk lock").errors.push(one_line(&e)),
            }
            WalkState::Continue
        })
    });
    let mut walk = found.into_inner().expect("walk lock");
    walk.files.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    walk.errors.sort();
    Ok(walk)
}

fn candidate(root: &Path, entry: &ignore::DirEntry) -> Option<Candidate> {
    if !entry.file_type()?.is_file() {
        return None;
    }
    let lang = lang::for_path(entry.path())?;
    let rel = entry.path().strip_prefix(root).ok()?;
    let rel = rel.to_str()?.replace(std::path::MAIN_SEPARATOR, "/");
    // A file that vanished between listing and stat gets a zero stat; reading it says so.
    let (size, mtime_ns) = entry
        .metadata()
        .map(|m| (m.len(), mtime_ns(&m)))
        .unwrap_or((0, 0));
    Some(Candidate {
        rel,
        abs: entry.path().to_path_buf(),
        lang,
        size,
        mtime_ns,
    })
}

/// Modification time in nanoseconds since the epoch (0 when the platform has none).
pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The current time in nanoseconds since the epoch, comparable with [`mtime_ns`].
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn one_line(e: &ignore::Error) -> String {
    e.to_string().replace('\n', " ")
}

/// Decide from a file's bytes whether it is source worth fingerprinting.
pub fn check_content(bytes: &[u8], max_line_length: u32) -> Result<&str, SkipReason> {
    const SNIFF: usize = 8 * 1024;
    if bytes[..bytes.len().min(SNIFF)].contains(&0) {
        return Err(SkipReason::Binary);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| SkipReason::NotUtf8)?;
    let head = &text[..floor_char_boundary(text, 2048)];
    if head.lines().any(is_generated_marker) {
        return Err(SkipReason::Generated);
    }
    if text
        .split('\n')
        .any(|line| line.len() > max_line_length as usize)
    {
        return Err(SkipReason::Minified);
    }
    Ok(text)
}

/// A comment line that marks its file as generated (`// Code generated … DO NOT EDIT.`,
/// `# @generated`). Markers inside code, such as string literals, do not count.
fn is_generated_marker(line: &str) -> bool {
    const COMMENT_STARTS: [&str; 6] = ["//", "#", "/*", "*", "--", "<!--"];
    let line = line.trim_start();
    COMMENT_STARTS.iter().any(|c| line.starts_with(c))
        && (line.contains("@generated") || line.contains("DO NOT EDIT"))
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn content_checks_name_their_reason() {
        assert_eq!(
            check_content(b"def f(): pass\n", 1000),
            Ok("def f(): pass\n")
        );
        assert_eq!(
            check_content(b"\x7fELF\0\0\x01", 1000),
            Err(SkipReason::Binary)
        );
        assert_eq!(
            check_content(b"x = '\xff\xfe'\n", 1000),
            Err(SkipReason::NotUtf8)
        );
        assert_eq!(
            check_content(b"// Code generated by x. DO NOT EDIT.\n", 1000),
            Err(SkipReason::Generated)
        );
        assert_eq!(
            check_content(b"# @generated\n", 1000),
            Err(SkipReason::Generated)
        );
        assert_eq!(
            check_content(b"/*\n * @generated by protoc\n */\n", 1000),
            Err(SkipReason::Generated)
        );
        let marker_in_code = "check(\"// Code generated. DO NOT EDIT.\");\n";
        assert_eq!(
            check_content(marker_in_code.as_bytes(), 1000),
            Ok(marker_in_code)
        );
        let long = format!("var a={};\n", "1,".repeat(600));
        assert_eq!(
            check_content(long.as_bytes(), 1000),
            Err(SkipReason::Minified)
        );
        assert_eq!(check_content(b"", 1000), Ok(""));
        assert_eq!(
            check_content("é".repeat(2000).as_bytes(), 100_000),
            Ok("é".repeat(2000).as_str())
        );
    }

    #[test]
    fn walk_honours_ignore_files_without_git_hidden_files_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_all(
            root,
            &[
                "a.py",
                "b.rs",
                "notes.md",
                "build/gen.py",
                "vendor/x.go",
                ".hidden/h.py",
                ".h.py",
                "sub/c.java",
                "sub/d.ts",
            ],
            "x",
        );
        fs::write(root.join(".gitignore"), "build/\n").unwrap();
        fs::write(root.join("sub/.ignore"), "*.ts\n").unwrap();
        let walk = walk(root, &["vendor/**".to_string()]).unwrap();
        let rels: Vec<&str> = walk.files.iter().map(|c| c.rel.as_str()).collect();
        assert_eq!(rels, ["a.py", "b.rs", "sub/c.java"]);
        assert_eq!(walk.files[0].lang.id, "python");
        assert_eq!(walk.files[0].size, 1);
        assert!(walk.files[0].mtime_ns > 0);
    }

    /// Write `text` to each of these files under `root`, making their directories.
    fn write_all(root: &Path, paths: &[&str], text: &str) {
        for path in paths {
            let p = root.join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_walk_of_known_files_finds_what_a_walk_of_their_paths_finds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_all(
            root,
            &[
                "a.py",
                "gone.py",
                "link.py",
                "sub/b.py",
                "sub/new.py",
                "sub/x.ts",
            ],
            "x = 1\n",
        );
        fs::write(root.join("sub/.ignore"), "*.ts\n").unwrap();
        let included: std::collections::HashSet<String> = walk(root, &[])
            .unwrap()
            .files
            .into_iter()
            .map(|c| c.rel)
            .collect();
        // Since that walk: a file went, one became a link, new ones came (one hidden, one
        // ignored, one excluded, one of no language).
        fs::remove_file(root.join("gone.py")).unwrap();
        fs::remove_file(root.join("link.py")).unwrap();
        std::os::unix::fs::symlink(root.join("a.py"), root.join("link.py")).unwrap();
        write_all(
            root,
            &[
                "sub/new2.py",
                "sub/.h.py",
                "sub/y.ts",
                "vendor/v.py",
                "notes.md",
            ],
            "y = 2\n",
        );
        let paths: Vec<String> = [
            "a.py",
            "gone.py",
            "link.py",
            "sub/b.py",
            "sub/new.py",
            "sub/x.ts",
            "sub/new2.py",
            "sub/.h.py",
            "sub/y.ts",
            "vendor/v.py",
            "notes.md",
            "never.py",
        ]
        .map(String::from)
        .to_vec();
        let exclude = ["vendor/**".to_string()];
        let fast = walk_known(root, &exclude, &paths, &included).unwrap();
        let full = walk_paths(root, &exclude, &paths).unwrap();
        let seen = |w: &Walk| -> Vec<(String, u64, i64)> {
            w.files
                .iter()
                .map(|c| (c.rel.clone(), c.size, c.mtime_ns))
                .collect()
        };
        assert_eq!(seen(&fast), seen(&full));
        let rels: Vec<&str> = fast.files.iter().map(|c| c.rel.as_str()).collect();
        assert_eq!(rels, ["a.py", "sub/b.py", "sub/new.py", "sub/new2.py"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        fs::write(dir.path().join("d/a.py"), "x").unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("d/loop")).unwrap();
        std::os::unix::fs::symlink("a.py", dir.path().join("d/link.py")).unwrap();
        let walk = walk(dir.path(), &[]).unwrap();
        let rels: Vec<&str> = walk.files.iter().map(|c| c.rel.as_str()).collect();
        assert_eq!(rels, ["d/a.py"]);
    }

    #[test]
    fn bad_globs_and_missing_roots_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            walk(dir.path(), &["a/**/[".to_string()])
                .unwrap_err()
                .to_string()
                .contains("bad --exclude glob")
        );
        assert!(walk(&dir.path().join("nope"), &[]).is_err());
    }
}

/// Directories whose files are tests, in every language.
const TEST_DIRS: &[&str] = &["test", "tests", "__tests__", "testing", "spec"];

/// Whether a file (path relative to the root, `/`-separated) is a test file: inside a test
/// directory, or named like one by its language's `test_files` globs.
pub fn is_test_path(path: &str, lang: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    parts.iter().any(|p| TEST_DIRS.contains(p))
        || test_file_names(lang).is_some_and(|globs| globs.is_match(name))
}

/// The `test_files` globs of a language, compiled on first use.
fn test_file_names(id: &str) -> Option<&'static GlobSet> {
    static SETS: std::sync::OnceLock<Vec<std::sync::OnceLock<GlobSet>>> =
        std::sync::OnceLock::new();
    let sets = SETS.get_or_init(|| lang::ids().map(|_| std::sync::OnceLock::new()).collect());
    let index = lang::ids().position(|i| i == id)?;
    let language = lang::by_id(id)?;
    Some(sets[index].get_or_init(|| {
        let mut builder = GlobSetBuilder::new();
        for glob in language.test_files() {
            // Grammar data is checked by the tests: a bad glob is a bug, not input.
            builder.add(Glob::new(glob).expect("test_files globs are valid"));
        }
        builder.build().expect("test_files globs build")
    }))
}

#[cfg(test)]
mod test_paths {
    use super::*;

    #[test]
    fn test_files_by_directory_and_by_name() {
        assert!(is_test_path("Lib/test/test_os.py", "python"));
        assert!(is_test_path("pkg/test_util.py", "python"));
        assert!(is_test_path("pkg/util_test.go", "go"));
        assert!(is_test_path("src/FooTest.java", "java"));
        assert!(is_test_path("src/app.spec.ts", "typescript"));
        assert!(is_test_path("web/__tests__/a.js", "javascript"));
        assert!(!is_test_path("pkg/testing_utils.py", "python"));
        assert!(!is_test_path("src/Tester.java", "java"));
        assert!(!is_test_path("src/contest/main.rs", "rust"));
        assert!(is_test_path("a_test.go", "go"));
        assert!(!is_test_path("a_test.go.bak", "go"));
        assert!(is_test_path("test_.py", "python"));
        // Every language's globs compile.
        for id in lang::ids() {
            assert!(test_file_names(id).is_some(), "{id}");
        }
    }
}
