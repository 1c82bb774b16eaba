//! The lines a change touched, from git: what `cpt check --diff REV` gates on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Lines changed since a revision, in the working tree (committed, staged and not), by path
/// relative to the scanned root (`/`-separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangedLines {
    /// The revision as given.
    pub rev: String,
    /// The commit compared against (the merge base for `--base`).
    pub commit: String,
    /// Added or changed line ranges (first, last; 1-based) of each changed file.
    pub ranges: BTreeMap<String, Vec<(u32, u32)>>,
    /// Files git does not track yet (not ignored): every line is new.
    pub untracked: BTreeSet<String>,
}

impl ChangedLines {
    /// Whether lines `start..=end` of `path` include a changed one.
    pub fn touches(&self, path: &str, start: u32, end: u32) -> bool {
        self.untracked.contains(path)
            || self
                .ranges
                .get(path)
                .is_some_and(|r| r.iter().any(|&(a, b)| a <= end && start <= b))
    }

    /// Changed lines in all, untracked files counted whole elsewhere.
    pub fn lines(&self) -> u64 {
        self.ranges
            .values()
            .flatten()
            .map(|&(a, b)| u64::from(b - a + 1))
            .sum()
    }
}

/// What changed in `root`'s working tree since `rev`, or, with `merge_base`, since where
/// `HEAD` forked from `rev` (what a pull request adds). A renamed file is not new code: only
/// the lines its rename changed count.
pub fn changed_lines(root: &Path, rev: &str, merge_base: bool) -> Result<ChangedLines> {
    let flag = if merge_base { "--base" } else { "--diff" };
    git(root, &["rev-parse", "--show-toplevel"])
        .with_context(|| format!("{flag} {rev}: {} is not in a git checkout", root.display()))?;
    let commit = if merge_base {
        git(root, &["merge-base", rev, "HEAD"]).with_context(|| {
            format!(
                "{flag} {rev}: no merge base with HEAD (is `{rev}` fetched, with history? \
                 in CI check out with fetch-depth: 0)"
            )
        })?
    } else {
        git(
            root,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ],
        )
        .with_context(|| format!("{flag} {rev}: not a commit in this repository"))?
    };
    let commit = commit.trim().to_string();
    let diff = git(
        root,
        &[
            "-c",
            "core.quotepath=off",
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--unified=0",
            "--find-renames",
            "--relative",
            &commit,
            "--",
        ],
    )
    .with_context(|| format!("{flag} {rev}: git diff failed"))?;
    let untracked = git(root, &["ls-files", "--others", "--exclude-standard", "-z"])
        .with_context(|| format!("{flag} {rev}: git ls-files failed"))?;
    Ok(ChangedLines {
        rev: rev.to_string(),
        commit,
        ranges: parse_diff(&diff),
        untracked: untracked
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// The full id of the commit `rev` names in `root`'s repository (`git rev-parse`).
pub fn commit_of(root: &Path, rev: &str) -> Result<String> {
    if root.as_os_str().is_empty() {
        bail!("the catalogue has not been scanned yet");
    }
    let commit = git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    Ok(commit.trim().to_string())
}

/// Run git in `root`; its standard output, or an error with its first line of complaint.
fn git(root: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("cannot run git (is it installed?)")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        match stderr.lines().find(|l| !l.trim().is_empty()) {
            Some(why) => bail!("git {}: {why}", args.join(" ")),
            None => bail!("git {}: {}", args.join(" "), output.status),
        }
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The new side's changed line ranges of a `git diff --unified=0`, by path.
fn parse_diff(diff: &str) -> BTreeMap<String, Vec<(u32, u32)>> {
    let mut ranges: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
    let mut path: Option<String> = None;
    for line in diff.lines() {
        if let Some(p) = line.strip_prefix("+++ ") {
            path = match p {
                "/dev/null" => None,
                p => {
                    let p = unquote(p);
                    Some(p.strip_prefix("b/").map(str::to_string).unwrap_or(p))
                }
            };
        } else if line.starts_with("diff --git ") {
            path = None;
        } else if let (Some(hunk), Some(path)) = (line.strip_prefix("@@ "), &path) {
            // @@ -a[,b] +c[,d] @@: d lines from c are new (none when d is 0).
            let Some(new) = hunk.split(' ').find_map(|w| w.strip_prefix('+')) else {
                continue;
            };
            let (start, count) = match new.split_once(',') {
                Some((s, n)) => (s.parse::<u32>(), n.parse::<u32>()),
                None => (new.parse::<u32>(), Ok(1)),
            };
            if let (Ok(start), Ok(count)) = (start, count)
                && count > 0
            {
                ranges
                    .entry(path.clone())
                    .or_default()
                    .push((start, start + count - 1));
            }
        }
    }
    ranges
}

/// A path as git quotes it when it holds unusual bytes (`"a\tb.py"`), unquoted.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_string();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&d @ b'0'..=b'7') = chars.peek() {
                        v = v * 8 + u32::from(d - b'0');
                        chars.next();
                    }
                }
                bytes.push(v as u8);
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_the_new_sides_lines_and_deletions_none() {
        let diff = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -3 +3 @@ def f():\n-x\n+y\n\
                    @@ -10,0 +11,4 @@\n+a\n+b\n+c\n+d\n@@ -20,2 +24,0 @@\n-e\n-f\n\
                    diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1,3 +0,0 @@\n\
                    diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\nrename to new.py\n\
                    diff --git \"a/t\\303\\244b.py\" \"b/t\\303\\244b.py\"\n--- \"a/t\\303\\244b.py\"\n\
                    +++ \"b/t\\303\\244b.py\"\n@@ -1 +1,2 @@\n";
        let ranges = parse_diff(diff);
        assert_eq!(
            ranges,
            BTreeMap::from([
                ("a.py".to_string(), vec![(3, 3), (11, 14)]),
                ("täb.py".to_string(), vec![(1, 2)]),
            ])
        );
        let changed = ChangedLines {
            ranges,
            untracked: BTreeSet::from(["new.rs".to_string()]),
            ..Default::default()
        };
        assert!(changed.touches("a.py", 14, 30));
        assert!(!changed.touches("a.py", 4, 10));
        assert!(changed.touches("new.rs", 1, 1));
        assert!(!changed.touches("new.py", 1, 100));
        assert_eq!(changed.lines(), 7);
    }
}
