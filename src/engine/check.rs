//! `cpt check`: the gates a CI run applies to the catalogue — duplication share, and which
//! classes are new (against a baseline file, or touching the lines changed since a git
//! revision) — and the baseline file itself.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::detect;
use crate::engine::git::{self, ChangedLines};
use crate::engine::view::{Class, Filter};

/// Which classes fail the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum FailOn {
    // Classes that are new: absent from the baseline (or grown), or touching changed lines.
    New,
    // Every class reported.
    Any,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::New => "new",
            FailOn::Any => "any",
        }
    }

    pub fn parse(text: &str) -> Option<FailOn> {
        match text {
            "new" => Some(FailOn::New),
            "any" => Some(FailOn::Any),
            _ => None,
        }
    }
}

/// Against what code is new.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffBase {
    /// `--diff REV`: lines changed since REV.
    Since(String),
    /// `--base REV`: lines changed since the merge base of REV and HEAD (a pull request's).
    MergeBase(String),
}

/// The gates of one check.
#[derive(Clone, Debug, Default)]
pub struct CheckRequest {
    /// Which classes count (`cpt clones`'s filter).
    pub filter: Filter,
    /// Fail when more than this share (0–1) of the lines are duplicated.
    pub max_duplication: Option<f64>,
    /// Default: `New` when a baseline or a diff base is given, else `Any`.
    pub fail_on: Option<FailOn>,
    pub diff: Option<DiffBase>,
    pub baseline: Option<PathBuf>,
    /// Write the baseline from the classes found (then check against it).
    pub update_baseline: bool,
}

/// Whether a class is new, and which of its copies a report names.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedClass {
    pub class: Class,
    /// Absent from the baseline (when there is one).
    pub new_in_baseline: bool,
    /// How many copies the baseline has of it (when it has it).
    pub baseline_copies: Option<u32>,
    /// Some copy touches a changed line (when there is a diff base).
    pub touched: bool,
    /// New by every measure given (baseline, diff); with neither, false.
    pub new: bool,
    /// The class fails the gate: new (or any, with `fail_on = any`) and not accepted.
    pub fails: bool,
    /// Indices of the copies a report names: those touching changed lines when there is a
    /// diff base and some do, else every copy.
    pub findings: Vec<usize>,
}

/// The duplication gate.
#[derive(Clone, Debug, PartialEq)]
pub struct Duplication {
    pub lines: u64,
    pub duplicated_lines: u64,
    /// `duplicated_lines / lines`, 0–1.
    pub share: f64,
    /// The gate's bar (0–1), when set.
    pub max: Option<f64>,
    pub fails: bool,
}

/// The baseline a check compared against (or wrote).
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineUse {
    pub path: PathBuf,
    /// Classes in the file.
    pub classes: usize,
    pub written: bool,
}

/// What `cpt check` found.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub root: PathBuf,
    pub fail_on: FailOn,
    /// Every class reported under the filter, largest first, with its verdict.
    pub classes: Vec<CheckedClass>,
    pub duplication: Duplication,
    pub diff: Option<ChangedLines>,
    pub baseline: Option<BaselineUse>,
}

impl CheckReport {
    /// Whether every gate passed.
    pub fn passed(&self) -> bool {
        !self.duplication.fails && self.classes.iter().all(|c| !c.fails)
    }

    /// The classes that fail the gate.
    pub fn failing(&self) -> impl Iterator<Item = &CheckedClass> {
        self.classes.iter().filter(|c| c.fails)
    }

    /// Why a failing class fails, in a few words (`not in the baseline, touches lines changed
    /// since origin/main`).
    pub fn why(&self, c: &CheckedClass) -> String {
        let mut reasons = Vec::new();
        if self.baseline.is_some() {
            match c.baseline_copies {
                None => reasons.push("not in the baseline".to_string()),
                Some(n) if c.new_in_baseline => {
                    reasons.push(format!("grew from {n} to {} copies", c.class.copies.len()))
                }
                Some(_) => {}
            }
        }
        if let Some(diff) = &self.diff
            && c.touched
        {
            reasons.push(format!("touches lines changed since {}", diff.rev));
        }
        if reasons.is_empty() && self.fail_on == FailOn::Any {
            reasons.push("reported (fail-on any)".to_string());
        }
        reasons.join(", ")
    }
}

/// The gates as the `[check]` table of `root`'s `cpt.toml` sets them (with `[report]`'s test
/// policy and noise when `[check]` does not say): what `cpt check`'s flags, and the agents'
/// `check_diff`, start from. `base` becomes a merge-base diff; `baseline` is relative to the
/// root.
pub fn configured(root: &Path) -> Result<CheckRequest> {
    if root.as_os_str().is_empty() {
        return Ok(CheckRequest::default());
    }
    let file = crate::config::load(root)?;
    let (check, report) = (file.check, file.report);
    Ok(CheckRequest {
        filter: Filter {
            types: check
                .types
                .iter()
                .filter_map(|t| crate::event::CloneType::parse(t))
                .collect(),
            min_lines: check.min_lines,
            min_tokens: check.min_tokens,
            tests: check.tests.or(report.tests).unwrap_or_default(),
            noise: report.noise.unwrap_or(false),
            ..Filter::default()
        },
        max_duplication: check.max_duplication.map(|p| p / 100.0),
        fail_on: check.fail_on.as_deref().and_then(FailOn::parse),
        diff: check.base.map(DiffBase::MergeBase),
        baseline: check.baseline.map(|b| root.join(b)),
        update_baseline: false,
    })
}

/// Apply `request`'s gates to `classes` (reported under its filter, acceptances marked) of the
/// tree at `root`, whose indexed files hold `lines` lines.
pub fn check(
    root: &Path,
    classes: Vec<Class>,
    lines: u64,
    request: &CheckRequest,
) -> Result<CheckReport> {
    let diff = match &request.diff {
        None => None,
        Some(DiffBase::Since(rev)) => Some(git::changed_lines(root, rev, false)?),
        Some(DiffBase::MergeBase(rev)) => Some(git::changed_lines(root, rev, true)?),
    };
    let mut baseline_use = None;
    let baseline = match &request.baseline {
        None => None,
        Some(path) if request.update_baseline => {
            let entries = Baseline::of(&classes);
            entries.save(path)?;
            baseline_use = Some(BaselineUse {
                path: path.clone(),
                classes: entries.0.len(),
                written: true,
            });
            Some(entries)
        }
        Some(path) => {
            let entries = Baseline::load(path)?;
            baseline_use = Some(BaselineUse {
                path: path.clone(),
                classes: entries.0.len(),
                written: false,
            });
            Some(entries)
        }
    };
    if request.update_baseline && request.baseline.is_none() {
        bail!("--update-baseline: name the file with --baseline FILE (or [check] baseline)");
    }
    let fail_on = request
        .fail_on
        .unwrap_or(if diff.is_some() || baseline.is_some() {
            FailOn::New
        } else {
            FailOn::Any
        });
    let duplication = duplication(&classes, lines, request.max_duplication);
    let checked = classes
        .into_iter()
        .map(|class| {
            let id = class.id.to_string();
            let known = baseline
                .as_ref()
                .and_then(|b| b.0.get(&id).map(|e| e.copies));
            let new_in_baseline =
                baseline.is_some() && known.is_none_or(|n| class.copies.len() > n as usize);
            let touching: Vec<usize> = match &diff {
                Some(d) => (0..class.copies.len())
                    .filter(|&i| {
                        let c = &class.copies[i];
                        d.touches(&c.path, c.start_line, c.end_line)
                    })
                    .collect(),
                None => Vec::new(),
            };
            let touched = !touching.is_empty();
            let new = (baseline.is_some() || diff.is_some())
                && (baseline.is_none() || new_in_baseline)
                && (diff.is_none() || touched);
            let fails = class.accepted.is_none()
                && match fail_on {
                    FailOn::Any => true,
                    FailOn::New => new,
                };
            let findings = if touched {
                touching
            } else {
                (0..class.copies.len()).collect()
            };
            CheckedClass {
                class,
                new_in_baseline,
                baseline_copies: known,
                touched,
                new,
                fails,
                findings,
            }
        })
        .collect();
    Ok(CheckReport {
        root: root.to_path_buf(),
        fail_on,
        classes: checked,
        duplication,
        diff,
        baseline: baseline_use,
    })
}

/// The share of `lines` that the classes' copies cover, each line counted once.
fn duplication(classes: &[Class], lines: u64, max: Option<f64>) -> Duplication {
    let mut ranges: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
    for copy in classes.iter().flat_map(|c| &c.copies) {
        ranges
            .entry(&copy.path)
            .or_default()
            .push((copy.start_line, copy.end_line));
    }
    let duplicated_lines: u64 = ranges.values_mut().map(|r| detect::union_lines(r)).sum();
    let share = if lines == 0 {
        0.0
    } else {
        duplicated_lines as f64 / lines as f64
    };
    Duplication {
        lines,
        duplicated_lines,
        share,
        max,
        fails: max.is_some_and(|m| share > m),
    }
}

/// A baseline entry: what is compared (the copies) and what helps a person reading the file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    copies: u32,
    clone_type: String,
    label: String,
}

/// The classes that exist, by id: `cpt check --baseline FILE` fails only on classes absent
/// from it, or with more copies than it says. Lines are `ID TYPE COPIES KIND NAME`, sorted by
/// id; only the id and the count are compared, so moving code, reformatting it or renaming a
/// file does not make a class new (the id is its representative's content fingerprint).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline(BTreeMap<String, Entry>);

const BASELINE_HEADER: &str = "# cpt baseline: the clone classes that existed (`cpt check --baseline FILE --update-baseline`).\n\
# One class per line: id, clone type, copies, then the kind and name of its first copy (for\n\
# people; not compared). `cpt check --baseline FILE` fails on a class that is not listed or has\n\
# more copies than listed.\n";

impl Baseline {
    fn of(classes: &[Class]) -> Baseline {
        Baseline(
            classes
                .iter()
                .map(|c| {
                    let first = c.copies.first();
                    let name = first.map(|f| f.name.as_str()).unwrap_or("");
                    let label = if name.is_empty() {
                        c.kind.as_str().to_string()
                    } else {
                        format!("{} {}", c.kind.as_str(), name.replace(['\n', '\r'], " "))
                    };
                    (
                        c.id.to_string(),
                        Entry {
                            copies: c.copies.len() as u32,
                            clone_type: c.clone_type.as_str().to_string(),
                            label,
                        },
                    )
                })
                .collect(),
        )
    }

    /// Read a baseline; an error names the file and the line.
    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "{}: cannot read the baseline (write one with --update-baseline)",
                path.display()
            )
        })?;
        let mut entries = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.splitn(4, ' ');
            let (id, clone_type, copies) = (words.next(), words.next(), words.next());
            let bad = || {
                anyhow::anyhow!(
                    "{}:{}: not a baseline line (ID TYPE COPIES [KIND NAME])",
                    path.display(),
                    n + 1
                )
            };
            let id = id
                .filter(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(bad)?;
            let copies: u32 = copies.and_then(|c| c.parse().ok()).ok_or_else(bad)?;
            entries.insert(
                id.to_ascii_lowercase(),
                Entry {
                    copies,
                    clone_type: clone_type.unwrap_or("").to_string(),
                    label: words.next().unwrap_or("").to_string(),
                },
            );
        }
        Ok(Baseline(entries))
    }

    /// Write the baseline (beside, then renamed over the file).
    fn save(&self, path: &Path) -> Result<()> {
        let mut text = String::from(BASELINE_HEADER);
        for (id, e) in &self.0 {
            text.push_str(&format!("{id} {} {} {}\n", e.clone_type, e.copies, e.label));
        }
        let tmp = path.with_extension("cpt-tmp");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("{}: cannot create", dir.display()))?;
        }
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("{}: cannot write the baseline", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::view::{CloneType, Copy, PatternId, UnitKind};

    fn class(id: u64, copies: &[(&str, u32)]) -> Class {
        Class {
            id: PatternId(id),
            kind: UnitKind::Function,
            clone_type: CloneType::T2,
            lines: 10,
            tokens: 80,
            similarity: 1.0,
            copies: copies
                .iter()
                .map(|&(path, line)| Copy {
                    path: path.into(),
                    lang: "python".into(),
                    name: "merge".into(),
                    start_line: line,
                    end_line: line + 9,
                    similarity: 1.0,
                    exact: u64::from(line),
                })
                .collect(),
            accepted: None,
        }
    }

    #[test]
    fn a_baseline_round_trips_and_compares_ids_and_counts_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cpt-baseline.txt");
        let old = [
            class(0xb, &[("a.py", 1), ("b.py", 1)]),
            class(0xa, &[("c.py", 5), ("d.py", 5)]),
        ];
        Baseline::of(&old).save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with(
                "000000000000000a T2 2 function merge\n000000000000000b T2 2 function merge\n"
            ),
            "{text}"
        );
        assert_eq!(Baseline::load(&path).unwrap(), Baseline::of(&old));
        // b moved and was renamed; a grew; c is new.
        let now = vec![
            class(0xb, &[("x/a2.py", 40), ("b.py", 1)]),
            class(0xa, &[("c.py", 5), ("d.py", 5), ("e.py", 1)]),
            class(0xc, &[("c.py", 50), ("d.py", 50)]),
        ];
        let request = CheckRequest {
            baseline: Some(path.clone()),
            ..Default::default()
        };
        let report = check(dir.path(), now, 1000, &request).unwrap();
        let verdicts: Vec<(bool, Option<u32>)> = report
            .classes
            .iter()
            .map(|c| (c.fails, c.baseline_copies))
            .collect();
        assert_eq!(verdicts, [(false, Some(2)), (true, Some(2)), (true, None)]);
        assert_eq!(report.fail_on, FailOn::New);
        std::fs::write(&path, "# x\n\n000000000000000a T2 two\n").unwrap();
        let err = Baseline::load(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("cpt-baseline.txt:3: not a baseline line (ID TYPE COPIES [KIND NAME])"),
            "{err}"
        );
    }

    #[test]
    fn duplication_counts_each_line_once_against_the_bar() {
        let classes = [
            class(1, &[("a.py", 1), ("b.py", 1)]),
            class(2, &[("a.py", 5), ("c.py", 1)]),
        ];
        let d = duplication(&classes, 100, Some(0.3));
        assert_eq!(d.duplicated_lines, 14 + 10 + 10);
        assert!(d.fails);
        assert!(!duplication(&classes, 100, Some(0.34)).fails);
        assert!(!duplication(&classes, 100, None).fails);
    }

    #[test]
    fn without_a_baseline_or_diff_every_class_fails_unless_accepted() {
        let mut accepted = class(2, &[("a.py", 1), ("b.py", 1)]);
        accepted.accepted = Some("generated".into());
        let report = check(
            Path::new("."),
            vec![class(1, &[("a.py", 20), ("b.py", 20)]), accepted],
            100,
            &CheckRequest::default(),
        )
        .unwrap();
        assert_eq!(report.fail_on, FailOn::Any);
        assert_eq!(report.failing().count(), 1);
        assert!(!report.passed());
    }
}
