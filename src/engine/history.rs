//! The catalogue's past, from its event log: `cpt log` (events streamed through filters),
//! `cpt history` (one class's life) and `--at` (the catalogue as it was at a point, replayed
//! in memory from the log up to it). Reaches SQLite only through `store`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use anyhow::{Context, Result, bail};
use globset::GlobSet;

use crate::engine::view::{ClassChange, ClassEvent, LogDetail, LogEntry};
use crate::event::{CloneType, Event, FileRecord, PatternSummary, UnitRecord};
use crate::fingerprint::{Noise, SmallFunction, UnitPrint};
use crate::parse::lang::UnitKind;
use crate::store::{
    AcceptedRow, Counts, EventQuery, IdiomRow, MemberRow, PatternRow, ScanRow, Store,
};

/// A point in the catalogue's history, as `--at`, `--since` and `--until` name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Point {
    /// A UTC calendar day (`YYYY-MM-DD`), as days since the Unix epoch.
    Day(i64),
    /// A time (RFC 3339), in milliseconds since the Unix epoch.
    Time(i64),
    /// `scan:N`.
    Scan(i64),
    /// Anything else: a commit-ish, found among the commits scans recorded (by prefix) or
    /// resolved with `git rev-parse` in the root.
    Commit(String),
}

const DAY_MS: i64 = 86_400_000;

impl Point {
    /// `text` as a point; `flag` names it in errors.
    pub fn parse(flag: &str, text: &str) -> Result<Point> {
        let text = text.trim();
        if let Some(n) = text.strip_prefix("scan:") {
            return match n.parse::<i64>() {
                Ok(n) if n > 0 => Ok(Point::Scan(n)),
                _ => bail!("{flag} {text}: not a scan number (scan:N, N from 1)"),
            };
        }
        let looks_like_date = text.len() >= 10
            && text.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && text.as_bytes()[4] == b'-';
        if looks_like_date {
            return parse_time(text).with_context(|| {
                format!(
                    "{flag} {text}: not a date (YYYY-MM-DD) or an RFC 3339 time \
                     (such as 2026-12-07T09:30:00Z)"
                )
            });
        }
        if text.is_empty() || text.starts_with('-') || text.chars().any(char::is_whitespace) {
            bail!("{flag} {text:?}: not a date (YYYY-MM-DD), an RFC 3339 time, scan:N or a commit");
        }
        Ok(Point::Commit(text.to_string()))
    }
}

/// A date or an RFC 3339 time (an offset, or none for UTC; fractions of a second to the
/// millisecond).
fn parse_time(text: &str) -> Result<Point> {
    let num = |s: &str| -> Result<i64> {
        anyhow::ensure!(
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
            "not a number"
        );
        Ok(s.parse()?)
    };
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        bail!("not a date");
    };
    let (year, month, day) = (num(y)?, num(m)?, num(d)?);
    anyhow::ensure!(
        y.len() == 4 && (1..=12).contains(&month) && (1..=days_in(year, month)).contains(&day),
        "not a date"
    );
    let days = days_from_civil(year, month, day);
    let Some(time) = time else {
        return Ok(Point::Day(days));
    };
    let (clock, offset_min) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let (h, m) = time[i + 1..].split_once(':').context("not an offset")?;
        let sign = if &time[i..=i] == "-" { -1 } else { 1 };
        (&time[..i], sign * (num(h)? * 60 + num(m)?))
    } else {
        (time, 0)
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut fields = hms.split(':');
    let (h, m) = (
        num(fields.next().unwrap_or(""))?,
        num(fields.next().unwrap_or(""))?,
    );
    let s = fields.next().map(num).transpose()?.unwrap_or(0);
    anyhow::ensure!(
        fields.next().is_none() && h < 24 && m < 60 && s < 61,
        "not a time"
    );
    let milli = if fraction.is_empty() {
        0
    } else {
        num(fraction)?;
        format!("{:0<3}", &fraction[..fraction.len().min(3)]).parse::<i64>()?
    };
    Ok(Point::Time(
        days * DAY_MS + ((h * 60 + m - offset_min) * 60 + s) * 1000 + milli,
    ))
}

fn days_in(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since the Unix epoch of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The scans of a catalogue, to name points by scan and commit.
pub(crate) struct Scans {
    rows: Vec<ScanRow>,
}

impl Scans {
    pub(crate) fn read(store: &Store) -> Result<Scans> {
        Ok(Scans {
            rows: store.scans()?,
        })
    }

    /// The commit scan `id` recorded.
    pub(crate) fn commit(&self, id: i64) -> Option<&str> {
        self.rows
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .and_then(|i| self.rows[i].commit.as_deref())
    }

    fn check(&self, flag: &str, n: i64) -> Result<()> {
        if self.rows.binary_search_by_key(&n, |s| s.id).is_err() {
            match self.rows.last() {
                Some(last) => bail!("{flag} scan:{n}: no such scan (scans 1 to {})", last.id),
                None => bail!("{flag} scan:{n}: the catalogue has no scans"),
            }
        }
        Ok(())
    }

    /// The scans that recorded the commit `rev` names: oldest and newest.
    fn of_commit(&self, flag: &str, rev: &str, root: &Path) -> Result<(i64, i64)> {
        let recorded = |commit: &str| -> Vec<i64> {
            self.rows
                .iter()
                .filter(|s| s.commit.as_deref() == Some(commit))
                .map(|s| s.id)
                .collect()
        };
        let lower = rev.to_ascii_lowercase();
        let by_prefix: BTreeSet<&str> = self
            .rows
            .iter()
            .filter_map(|s| s.commit.as_deref())
            .filter(|c| lower.len() >= 4 && c.starts_with(&lower))
            .collect();
        let commit = match by_prefix.len() {
            1 => by_prefix.first().expect("one").to_string(),
            n if n > 1 => {
                bail!("{flag} {rev}: {n} scanned commits start with it; give more digits")
            }
            // Git's own complaint (none, with --quiet) adds nothing to what it could have been.
            _ => crate::engine::git::commit_of(root, rev).map_err(|_| {
                anyhow::anyhow!(
                    "{flag} {rev}: not a date (YYYY-MM-DD), an RFC 3339 time, scan:N or a \
                     commit of {}",
                    root.display()
                )
            })?,
        };
        let scans = recorded(&commit);
        match (scans.first(), scans.last()) {
            (Some(&first), Some(&last)) => Ok((first, last)),
            _ => bail!(
                "{flag} {rev}: no scan recorded commit {} (scans record the commit their tree \
                 was at)",
                &commit[..commit.len().min(12)]
            ),
        }
    }
}

/// The last event at or before `point`: the end of a day, a time, the end of scan N (with
/// the decisions made before the next scan), the end of the last scan of a commit.
pub(crate) fn until(
    store: &Store,
    scans: &Scans,
    root: &Path,
    flag: &str,
    point: &Point,
) -> Result<i64> {
    Ok(match point {
        Point::Day(days) => store.last_event_at_or_before((days + 1) * DAY_MS - 1)?,
        Point::Time(ms) => store.last_event_at_or_before(*ms)?,
        Point::Scan(n) => {
            scans.check(flag, *n)?;
            store.last_event_of_scan(*n)?
        }
        Point::Commit(rev) => store.last_event_of_scan(scans.of_commit(flag, rev, root)?.1)?,
    })
}

/// The first event at or after `point`: the start of a day, a time, the start of scan N, the
/// start of the first scan of a commit.
fn since(store: &Store, scans: &Scans, root: &Path, flag: &str, point: &Point) -> Result<i64> {
    Ok(1 + match point {
        Point::Day(days) => store.last_event_at_or_before(days * DAY_MS - 1)?,
        Point::Time(ms) => store.last_event_at_or_before(ms - 1)?,
        Point::Scan(n) => {
            scans.check(flag, *n)?;
            store.last_event_of_scan(n - 1)?
        }
        Point::Commit(rev) => store.last_event_of_scan(scans.of_commit(flag, rev, root)?.0 - 1)?,
    })
}

/// What `cpt log` asks for.
#[derive(Clone, Debug, Default)]
pub struct LogRequest {
    pub since: Option<String>,
    pub until: Option<String>,
    /// Event kinds (`file_added`) or families (`file`, `unit`, `pattern`); none: all.
    pub kinds: Vec<String>,
    /// Only events about files matching one of these globs.
    pub paths: Option<GlobSet>,
    /// Only events naming a class whose id starts with this.
    pub pattern: Option<String>,
}

/// The kinds `names` select: each a kind, or a family (the kinds that start with it and
/// `_`; `unit` includes `units_added`).
fn kinds_of(names: &[String]) -> Result<Option<Vec<&'static str>>> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for name in names {
        let name = name.trim().to_ascii_lowercase();
        let name = name.trim_end_matches('_');
        let matching: Vec<&'static str> = Event::KINDS
            .iter()
            .copied()
            .filter(|k| {
                *k == name
                    || k.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with('_') || rest.starts_with("s_"))
            })
            .collect();
        if matching.is_empty() {
            bail!(
                "--kind {name}: not an event kind (file, unit, pattern, or one of {})",
                Event::KINDS.join(", ")
            );
        }
        out.extend(matching);
    }
    out.sort_unstable();
    out.dedup();
    Ok(Some(out))
}

const PATTERN_KINDS: [&str; 6] = [
    "pattern_created",
    "pattern_grown",
    "pattern_shrunk",
    "pattern_dissolved",
    "pattern_accepted",
    "pattern_unaccepted",
];
const FILE_KINDS: [&str; 3] = ["file_added", "file_changed", "file_removed"];
const UNIT_KINDS: [&str; 2] = ["units_added", "unit_added"];

/// What the events before those shown tell about them: which file a unit is in, a file's
/// path, how many copies a class has (and how many in files a `--path` matches), and, when
/// kept, each unit's hashes.
#[derive(Default)]
struct Tracker {
    files: HashMap<i64, String>,
    /// Unit id → file id (0: unknown); ids are dense.
    unit_file: Vec<u32>,
    /// Whether to keep each unit's hashes (in `unit_hashes`), to tell a copy that moved.
    keep_hashes: bool,
    /// Unit id → its exact and shape hashes, when kept (as `unit_file`).
    unit_hashes: Vec<(u64, u64)>,
    /// Class key → (copies, copies in matching files).
    classes: HashMap<u64, (u32, u32)>,
    paths: Option<GlobSet>,
    matching: HashMap<i64, bool>,
}

impl Tracker {
    fn file_of(&self, unit: i64) -> Option<i64> {
        let f = *self.unit_file.get(usize::try_from(unit).ok()?)?;
        (f != 0).then_some(i64::from(f))
    }

    fn path_of_unit(&self, unit: i64) -> Option<&String> {
        self.files.get(&self.file_of(unit)?)
    }

    /// What a unit was when the log added it: its file's path and its hashes (kept ones).
    fn seen(&self, unit: i64) -> Option<UnitSeen<'_>> {
        let (exact, shape) = *self.unit_hashes.get(usize::try_from(unit).ok()?)?;
        Some(UnitSeen {
            path: self.path_of_unit(unit)?,
            exact,
            shape,
        })
    }

    /// Learn that `units`, numbered from `first`, are in `file`.
    fn set_units<'u>(
        &mut self,
        first: i64,
        file: i64,
        units: impl ExactSizeIterator<Item = &'u UnitPrint>,
    ) {
        let count = units.len();
        let (Ok(first), Ok(file)) = (usize::try_from(first), u32::try_from(file)) else {
            return;
        };
        // Ids are handed out one after another: a gap this wide is a damaged log.
        if first + count > self.unit_file.len() + (1 << 26) {
            return;
        }
        if self.unit_file.len() < first + count {
            self.unit_file.resize(first + count, 0);
        }
        self.unit_file[first..first + count].fill(file);
        if self.keep_hashes {
            if self.unit_hashes.len() < first + count {
                self.unit_hashes.resize(first + count, (0, 0));
            }
            for (slot, u) in self.unit_hashes[first..first + count].iter_mut().zip(units) {
                *slot = (u.exact.0, u.shape.0);
            }
        }
    }

    fn file_matches(&self, file: i64) -> bool {
        self.paths.is_none() || self.matching.get(&file).copied().unwrap_or(false)
    }

    fn unit_matches(&self, unit: i64) -> bool {
        self.paths.is_none() || self.file_of(unit).is_some_and(|f| self.file_matches(f))
    }

    /// Learn from an event; and whether it is about a file `--path` matches (any, without
    /// one): for a class's event, whether the class had a copy in one before or after it.
    fn learn(&mut self, event: &Event) -> bool {
        let matches = self.learn_event(event);
        self.paths.is_none() || matches
    }

    fn learn_event(&mut self, event: &Event) -> bool {
        let key = |id: &str| u64::from_str_radix(id, 16).unwrap_or(0);
        match event {
            Event::FileAdded(FileRecord { id, file, .. })
            | Event::FileChanged(FileRecord { id, file, .. }) => {
                if let Some(globs) = &self.paths {
                    self.matching.insert(*id, globs.is_match(&file.path));
                }
                self.files.insert(*id, file.path.clone());
                self.file_matches(*id)
            }
            Event::FileRemoved { id, .. } | Event::FileTouched { id, .. } => self.file_matches(*id),
            Event::UnitAdded(UnitRecord { id, file_id, unit }) => {
                self.set_units(*id, *file_id, std::iter::once(unit));
                self.file_matches(*file_id)
            }
            Event::UnitsAdded {
                file_id,
                first_id,
                units,
            } => {
                self.set_units(*first_id, *file_id, units.iter().map(|l| &l.unit));
                self.file_matches(*file_id)
            }
            Event::UnitRemoved { id, .. } | Event::UnitMoved { id, .. } => self.unit_matches(*id),
            Event::PatternCreated { id, members, .. } => {
                let matching = members.iter().filter(|&&u| self.unit_matches(u)).count();
                self.classes
                    .insert(key(id), (members.len() as u32, matching as u32));
                matching > 0
            }
            Event::PatternGrown {
                id, added: units, ..
            }
            | Event::PatternShrunk {
                id, removed: units, ..
            } => {
                let matching = units.iter().filter(|&&u| self.unit_matches(u)).count() as u32;
                let grown = matches!(event, Event::PatternGrown { .. });
                let entry = self.classes.entry(key(id)).or_default();
                let before = entry.1;
                if grown {
                    entry.0 += units.len() as u32;
                    entry.1 += matching;
                } else {
                    entry.0 = entry.0.saturating_sub(units.len() as u32);
                    entry.1 = entry.1.saturating_sub(matching);
                }
                before > 0 || entry.1 > 0
            }
            Event::PatternDissolved { id } => {
                self.classes.remove(&key(id)).is_some_and(|(_, m)| m > 0)
            }
            Event::PatternAccepted { id, .. } | Event::PatternUnaccepted { id } => {
                self.classes.get(&key(id)).is_some_and(|c| c.1 > 0)
            }
        }
    }

    fn copies(&self, id: &str) -> Option<usize> {
        let key = u64::from_str_radix(id, 16).ok()?;
        self.classes.get(&key).map(|c| c.0 as usize)
    }

    /// The files of these units, sorted, each once.
    fn paths_of(&self, units: &[i64]) -> Vec<String> {
        let set: BTreeSet<&String> = units.iter().filter_map(|&u| self.path_of_unit(u)).collect();
        set.into_iter().cloned().collect()
    }

    /// The files of these units, if `asked` (else none).
    fn paths_if(&self, asked: bool, units: &[i64]) -> Vec<String> {
        if asked {
            self.paths_of(units)
        } else {
            Vec::new()
        }
    }
}

/// The class an event names, if it names one.
fn class_of(event: &Event) -> Option<&str> {
    match event {
        Event::PatternCreated { id, .. }
        | Event::PatternGrown { id, .. }
        | Event::PatternShrunk { id, .. }
        | Event::PatternDissolved { id }
        | Event::PatternAccepted { id, .. }
        | Event::PatternUnaccepted { id } => Some(id),
        _ => None,
    }
}

/// A class id's prefix as given: 4 to 16 hex digits, lower case.
fn id_prefix(flag: &str, id: &str) -> Result<String> {
    let id = id.trim().to_ascii_lowercase();
    if !(4..=16).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{flag}{id}: not a class id (16 hex digits, or the first 4 or more; `cpt clones` \
             lists them)"
        );
    }
    Ok(id)
}

/// Stream the events `request` selects into `sink`, one at a time.
pub fn log(
    store: &Store,
    root: &Path,
    request: &LogRequest,
    sink: &mut dyn FnMut(&LogEntry) -> Result<()>,
) -> Result<()> {
    let scans = Scans::read(store)?;
    let from = match &request.since {
        Some(t) => since(store, &scans, root, "--since", &Point::parse("--since", t)?)?,
        None => 1,
    };
    let to = match &request.until {
        Some(t) => until(store, &scans, root, "--until", &Point::parse("--until", t)?)?,
        None => store.last_event()?,
    };
    let pattern = request
        .pattern
        .as_deref()
        .map(|p| id_prefix("--pattern ", p))
        .transpose()?;
    let mut kinds = kinds_of(&request.kinds)?;
    if pattern.is_some() {
        let only: Vec<&'static str> = kinds
            .unwrap_or_else(|| Event::KINDS.to_vec())
            .into_iter()
            .filter(|k| k.starts_with("pattern_"))
            .collect();
        kinds = Some(only);
    }
    let shows = |k: &str| kinds.as_ref().is_none_or(|ks| ks.contains(&k));
    // The context each shown kind needs from the events before `from`.
    let mut context: Vec<&'static str> = Vec::new();
    let pattern_shown = PATTERN_KINDS.iter().any(|k| shows(k));
    if pattern_shown {
        context.extend(&PATTERN_KINDS[..4]);
    }
    if request.paths.is_some() || shows("file_touched") || shows("unit_removed") {
        context.extend(FILE_KINDS);
    }
    if request.paths.is_some() || shows("unit_removed") || shows("unit_moved") {
        context.extend(UNIT_KINDS);
    }
    let query = EventQuery {
        from,
        to,
        kinds: kinds.clone(),
        context,
    };
    let mut tracker = Tracker {
        paths: request.paths.clone(),
        ..Tracker::default()
    };
    store.for_each_event(&query, |seq, scan_id, at_ms, event| -> Result<()> {
        let matches = tracker.learn(&event);
        if seq < from || !shows(event.name()) || !matches {
            return Ok(());
        }
        if let Some(prefix) = &pattern
            && !class_of(&event).is_some_and(|id| id.starts_with(prefix.as_str()))
        {
            return Ok(());
        }
        let entry = LogEntry {
            seq,
            scan_id,
            at_ms,
            commit: scans.commit(scan_id).map(str::to_string),
            kind: event.name(),
            detail: detail(&tracker, event),
        };
        sink(&entry)
    })
}

/// What `cpt log` shows of an event.
fn detail(tracker: &Tracker, event: Event) -> LogDetail {
    let summary = |s: &crate::event::PatternSummary| (Some(s.clone_type), Some(s.lines));
    match event {
        Event::FileAdded(FileRecord { id, file, .. })
        | Event::FileChanged(FileRecord { id, file, .. }) => LogDetail::File {
            file_id: id,
            path: file.path,
            lang: file.lang,
            lines: file.lines,
            status: file.status,
        },
        Event::FileTouched { id, size, .. } => LogDetail::Touched {
            file_id: id,
            path: tracker.files.get(&id).cloned(),
            size,
        },
        Event::FileRemoved { id, path } => LogDetail::Removed { file_id: id, path },
        Event::UnitAdded(UnitRecord { id, file_id, .. }) => LogDetail::Units {
            file_id,
            path: tracker.files.get(&file_id).cloned(),
            first_id: id,
            units: 1,
        },
        Event::UnitsAdded {
            file_id,
            first_id,
            units,
        } => LogDetail::Units {
            file_id,
            path: tracker.files.get(&file_id).cloned(),
            first_id,
            units: units.len(),
        },
        Event::UnitRemoved { id, .. } => LogDetail::Unit {
            unit_id: id,
            path: tracker.path_of_unit(id).cloned(),
            lines: None,
        },
        Event::UnitMoved {
            id,
            start_line,
            end_line,
            ..
        } => LogDetail::Unit {
            unit_id: id,
            path: tracker.path_of_unit(id).cloned(),
            lines: Some((start_line, end_line)),
        },
        Event::PatternCreated {
            id,
            summary: s,
            members: units,
            ..
        }
        | Event::PatternGrown {
            id,
            summary: s,
            added: units,
        }
        | Event::PatternShrunk {
            id,
            summary: s,
            removed: units,
        } => {
            let (clone_type, lines) = summary(&s);
            LogDetail::Pattern {
                copies: tracker.copies(&id),
                id,
                clone_type,
                lines,
                units,
            }
        }
        Event::PatternDissolved { id } => LogDetail::Pattern {
            id,
            clone_type: None,
            lines: None,
            copies: Some(0),
            units: Vec::new(),
        },
        Event::PatternAccepted {
            id, reason, copies, ..
        } => LogDetail::Accepted {
            id,
            reason,
            copies: copies.len(),
        },
        Event::PatternUnaccepted { id } => LogDetail::Unaccepted { id },
    }
}

/// Whether some scan up to event `to` both grew and shrank a class whose id starts with
/// `prefix` (reading the class events only): only then can a copy of it have moved.
fn may_have_moved(store: &Store, prefix: &str, to: i64) -> Result<bool> {
    let query = EventQuery {
        from: 1,
        to,
        kinds: Some(vec!["pattern_grown", "pattern_shrunk"]),
        context: Vec::new(),
    };
    // (class, scan) → (grew, shrank)
    let mut changed: HashMap<(String, i64), (bool, bool)> = HashMap::new();
    store.for_each_event(&query, |_, scan_id, _, event| -> Result<()> {
        let (id, grew) = match event {
            Event::PatternGrown { id, .. } => (id, true),
            Event::PatternShrunk { id, .. } => (id, false),
            _ => return Ok(()),
        };
        if id.starts_with(prefix) {
            let both = changed.entry((id, scan_id)).or_default();
            if grew {
                both.0 = true;
            } else {
                both.1 = true;
            }
        }
        Ok(())
    })?;
    Ok(changed.values().any(|&(grew, shrank)| grew && shrank))
}

/// The life of the class `id` names (16 hex digits or a unique prefix of at least 4; a
/// dissolved class's too), oldest first; with `paths`, the files of the copies each event
/// names. Copies a scan removed from some files and added in others, the same code, are
/// told as one `moved` change rather than a shrink and a growth; to tell them, the log's
/// file and unit events are read whether or not `paths` is asked for.
pub fn class_history(store: &Store, id: &str, paths: bool) -> Result<(String, Vec<ClassEvent>)> {
    let prefix = id_prefix("", id)?;
    let scans = Scans::read(store)?;
    let to = store.last_event()?;
    // The file and unit events cost most of the read: they are read for the paths, or when
    // some scan both grew and shrank the class (a copy may have moved).
    let units = paths || may_have_moved(store, &prefix, to)?;
    let mut context: Vec<&'static str> = PATTERN_KINDS[..4].to_vec();
    if units {
        context.extend(FILE_KINDS);
        context.extend(UNIT_KINDS);
    }
    let query = EventQuery {
        from: 1,
        to,
        kinds: Some(PATTERN_KINDS.to_vec()),
        context,
    };
    let mut tracker = Tracker {
        keep_hashes: units,
        ..Tracker::default()
    };
    let mut found: BTreeMap<String, Vec<ClassEvent>> = BTreeMap::new();
    // The grown and shrunk events of the scan being read, until it ends: a move is both.
    let mut held: Vec<Held> = Vec::new();
    store.for_each_event(&query, |seq, scan_id, at_ms, event| -> Result<()> {
        if held.first().is_some_and(|h| h.scan_id != scan_id) {
            settle(&mut held, &tracker, &scans, paths, &mut found);
        }
        tracker.learn(&event);
        let Some(id) = class_of(&event).filter(|id| id.starts_with(prefix.as_str())) else {
            return Ok(());
        };
        let id = id.to_string();
        let copies = tracker.copies(&id).unwrap_or(0);
        let grew = matches!(event, Event::PatternGrown { .. });
        let (change, units): (ClassChange, &[i64]) = match event {
            Event::PatternGrown {
                summary,
                added: units,
                ..
            }
            | Event::PatternShrunk {
                summary,
                removed: units,
                ..
            } => {
                held.push(Held {
                    id,
                    seq,
                    scan_id,
                    at_ms,
                    copies,
                    grew,
                    summary,
                    units,
                });
                return Ok(());
            }
            Event::PatternCreated {
                ref summary,
                ref members,
                ..
            } => (
                ClassChange::Created {
                    clone_type: summary.clone_type,
                    lines: summary.lines,
                    copies: members.len(),
                },
                members,
            ),
            Event::PatternAccepted { ref reason, .. } => (
                ClassChange::Accepted {
                    reason: reason.clone(),
                },
                &[],
            ),
            Event::PatternUnaccepted { .. } => (ClassChange::Unaccepted, &[]),
            _ => (ClassChange::Dissolved, &[]),
        };
        // A decision carries the scan before it: what that scan grew or shrank came first.
        settle(&mut held, &tracker, &scans, paths, &mut found);
        let entry = ClassEvent {
            seq,
            scan_id,
            at_ms,
            commit: scans.commit(scan_id).map(str::to_string),
            copies,
            paths: tracker.paths_if(paths, units),
            change,
        };
        found.entry(id).or_default().push(entry);
        Ok(())
    })?;
    settle(&mut held, &tracker, &scans, paths, &mut found);
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => bail!("{prefix}: no clone class in the catalogue's history has this id"),
        n => bail!("{prefix}: {n} classes start with it; give more digits"),
    }
}

/// A grown or shrunk event of a class `cpt history` tells, held until its scan's events are
/// all read.
struct Held {
    id: String,
    seq: i64,
    scan_id: i64,
    at_ms: i64,
    /// The class's copies after it.
    copies: usize,
    /// Grown (`units` added), or shrunk (`units` removed).
    grew: bool,
    summary: PatternSummary,
    units: Vec<i64>,
}

/// Tell the `held` events of one scan, each class's in turn: first the copies that moved
/// (one `moved` change, at the place of the class's first event), then the copies left
/// unpaired as the growth or shrink they were.
fn settle(
    held: &mut Vec<Held>,
    tracker: &Tracker,
    scans: &Scans,
    paths: bool,
    found: &mut BTreeMap<String, Vec<ClassEvent>>,
) {
    let mut by_class: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    for h in held.drain(..) {
        by_class.entry(h.id.clone()).or_default().push(h);
    }
    for (id, events) in by_class {
        let units = |grew: bool| -> Vec<i64> {
            events
                .iter()
                .filter(|h| h.grew == grew)
                .flat_map(|h| h.units.iter().copied())
                .collect()
        };
        let (removed, added) = (units(false), units(true));
        let seen = |units: &[i64]| -> Vec<Option<UnitSeen<'_>>> {
            units.iter().map(|&u| tracker.seen(u)).collect()
        };
        let (removed_seen, added_seen) = (seen(&removed), seen(&added));
        let pairs = pair_moves(&removed_seen, &added_seen);
        let out = found.entry(id).or_default();
        let event = |h: &Held, copies: usize, change: ClassChange, units: &[i64]| ClassEvent {
            seq: h.seq,
            scan_id: h.scan_id,
            at_ms: h.at_ms,
            commit: scans.commit(h.scan_id).map(str::to_string),
            copies,
            paths: tracker.paths_if(paths, units),
            change,
        };
        let first = &events[0];
        let last = &events[events.len() - 1];
        // The copies before the scan's first event; a move leaves the count as it was.
        let mut copies = if first.grew {
            first.copies.saturating_sub(first.units.len())
        } else {
            first.copies + first.units.len()
        };
        let mut moved_units = BTreeSet::new();
        if !pairs.is_empty() {
            let mut moves: Vec<(String, String)> = Vec::with_capacity(pairs.len());
            for &(r, a) in &pairs {
                moved_units.extend([removed[r], added[a]]);
                // Paired copies are seen ones, with their paths.
                let path = |u: Option<UnitSeen>| u.map_or(String::new(), |u| u.path.to_string());
                moves.push((path(removed_seen[r]), path(added_seen[a])));
            }
            moves.sort_unstable();
            let (from, to): (Vec<String>, Vec<String>) = moves.into_iter().unzip();
            let both: Vec<i64> = moved_units.iter().copied().collect();
            let change = ClassChange::Moved {
                clone_type: last.summary.clone_type,
                lines: last.summary.lines,
                moved: pairs.len(),
                from,
                to,
            };
            out.push(event(first, copies, change, &both));
        }
        for h in &events {
            let left: Vec<i64> = h
                .units
                .iter()
                .copied()
                .filter(|u| !moved_units.contains(u))
                .collect();
            if left.is_empty() {
                continue;
            }
            let (clone_type, lines) = (h.summary.clone_type, h.summary.lines);
            let change = if h.grew {
                copies += left.len();
                ClassChange::Grew {
                    clone_type,
                    lines,
                    added: left.len(),
                }
            } else {
                copies = copies.saturating_sub(left.len());
                ClassChange::Shrank {
                    clone_type,
                    lines,
                    removed: left.len(),
                }
            };
            // Without moves, the count as the log tells it.
            let after = if pairs.is_empty() { h.copies } else { copies };
            out.push(event(h, after, change, &left));
        }
    }
}

/// A unit as move detection sees it: its file and its code's hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct UnitSeen<'a> {
    path: &'a str,
    exact: u64,
    shape: u64,
}

/// Which of a class's copies removed in a scan moved to which of those it added: pairs of
/// indices into `removed` and `added` (`None`: a unit the log does not tell), each copy in one
/// pair at most, sorted. A pair is the same code in different files: the same exact hash, or,
/// among the copies left, the same shape. Of several candidates a copy pairs with the one
/// whose path ends with the most of its own path's components (a renamed directory keeps the
/// folders and files below it), then the first in order.
fn pair_moves<'p>(
    removed: &[Option<UnitSeen<'p>>],
    added: &[Option<UnitSeen<'p>>],
) -> Vec<(usize, usize)> {
    let depth = removed
        .iter()
        .chain(added)
        .flatten()
        .map(|u| u.path.split('/').count())
        .max()
        .unwrap_or(0);
    let mut removed_paired = vec![false; removed.len()];
    let mut added_paired = vec![false; added.len()];
    let mut pairs = Vec::new();
    let hashes: [fn(&UnitSeen) -> u64; 2] = [|u| u.exact, |u| u.shape];
    for hash in hashes {
        // Paths ending alike first, longest ending first; at 0, any other file.
        for ending in (0..=depth).rev() {
            let key = |u: &UnitSeen<'p>| -> Option<(u64, &'p str)> {
                Some((hash(u), last_components(u.path, ending)?))
            };
            let mut by_key: HashMap<(u64, &'p str), Vec<usize>> = HashMap::new();
            for (a, unit) in added.iter().enumerate() {
                if let Some(k) = unit.as_ref().filter(|_| !added_paired[a]).and_then(key) {
                    by_key.entry(k).or_default().push(a);
                }
            }
            if by_key.is_empty() {
                continue;
            }
            for (r, unit) in removed.iter().enumerate() {
                let Some(unit) = unit.filter(|_| !removed_paired[r]) else {
                    continue;
                };
                let Some(candidates) = key(&unit).and_then(|k| by_key.get_mut(&k)) else {
                    continue;
                };
                // A taken copy leaves the list; one in the same file stays for other copies.
                let elsewhere = |&a: &usize| added[a].is_some_and(|u| u.path != unit.path);
                let Some(i) = candidates.iter().position(elsewhere) else {
                    continue;
                };
                let a = candidates.remove(i);
                removed_paired[r] = true;
                added_paired[a] = true;
                pairs.push((r, a));
            }
        }
    }
    pairs.sort_unstable();
    pairs
}

/// The last `n` `/`-separated components of `path` (`""` for none), if it has that many.
fn last_components(path: &str, n: usize) -> Option<&str> {
    if n == 0 {
        return Some("");
    }
    match path.rmatch_indices('/').nth(n - 1) {
        Some((i, _)) => Some(&path[i + 1..]),
        None => (path.split('/').count() == n).then_some(path),
    }
}

/// A file as the replay keeps it.
struct PastFile {
    path: String,
    /// Its content hash then.
    hash: u64,
    lang: String,
    lines: u32,
    syntax_errors: u32,
    status: String,
    /// Its functions below the unit thresholds.
    small: Vec<SmallFunction>,
}

/// A unit as the replay keeps it: what a report shows of a copy.
struct PastUnit {
    file_id: i64,
    kind: UnitKind,
    name: String,
    start_line: u32,
    end_line: u32,
    start_byte: u32,
    end_byte: u32,
    tokens: u32,
    exact: u64,
    shape: u64,
    noise: Option<Noise>,
    family: Option<u8>,
}

impl PastUnit {
    fn new(file_id: i64, u: UnitPrint) -> PastUnit {
        PastUnit {
            file_id,
            kind: u.kind,
            name: u.name,
            start_line: u.start_line,
            end_line: u.end_line,
            start_byte: u.start_byte,
            end_byte: u.end_byte,
            tokens: u.tokens,
            exact: u.exact.0,
            shape: u.shape.0,
            noise: u.noise,
            family: u.family,
        }
    }
}

struct PastClass {
    key: u64,
    kind: String,
    clone_type: CloneType,
    lines: u32,
    tokens: u32,
    similarity: f32,
    members: BTreeSet<i64>,
}

/// The catalogue as it was after an event: what reports need of its files, units, classes
/// and decisions, replayed from the log (pattern events carry the classes, so nothing is
/// classified again).
#[derive(Default)]
pub struct Past {
    files: HashMap<i64, PastFile>,
    units: HashMap<i64, PastUnit>,
    classes: HashMap<String, PastClass>,
    accepted: BTreeMap<String, AcceptedRow>,
    events: u64,
    /// The last scan replayed (decisions people record are no scans).
    last_scan: i64,
    /// What the last scan that changed each class did to it: (scan, `created`, `grown` or
    /// `shrunk`).
    changes: HashMap<String, (i64, &'static str)>,
}

impl Past {
    /// Replay the log of `store` up to event `to`.
    pub fn replay(store: &Store, to: i64) -> Result<Past> {
        let mut past = Past::default();
        let query = EventQuery {
            from: 1,
            to,
            kinds: None,
            context: Vec::new(),
        };
        store.for_each_event(&query, |_, scan_id, _, event| -> Result<()> {
            past.apply(scan_id, event);
            Ok(())
        })?;
        Ok(past)
    }

    fn apply(&mut self, scan_id: i64, event: Event) {
        self.events += 1;
        if !matches!(
            event,
            Event::PatternAccepted { .. } | Event::PatternUnaccepted { .. }
        ) {
            self.last_scan = self.last_scan.max(scan_id);
        }
        let change = match &event {
            Event::PatternCreated { id, .. } => Some((id, "created")),
            Event::PatternGrown { id, .. } => Some((id, "grown")),
            Event::PatternShrunk { id, .. } => Some((id, "shrunk")),
            _ => None,
        };
        if let Some((id, change)) = change {
            self.changes.insert(id.clone(), (scan_id, change));
        }
        match event {
            Event::FileAdded(FileRecord { id, file, small })
            | Event::FileChanged(FileRecord { id, file, small }) => {
                self.files.insert(
                    id,
                    PastFile {
                        path: file.path,
                        hash: file.hash.0,
                        lang: file.lang,
                        lines: file.lines,
                        syntax_errors: file.syntax_errors,
                        status: file.status,
                        small,
                    },
                );
            }
            Event::FileTouched { .. } => {}
            Event::FileRemoved { id, .. } => {
                self.files.remove(&id);
            }
            Event::UnitAdded(UnitRecord { id, file_id, unit }) => {
                self.units.insert(id, PastUnit::new(file_id, unit));
            }
            Event::UnitsAdded {
                file_id,
                first_id,
                units,
            } => {
                for (id, logged) in (first_id..).zip(units) {
                    self.units.insert(id, PastUnit::new(file_id, logged.unit));
                }
            }
            Event::UnitRemoved { id, .. } => {
                self.units.remove(&id);
            }
            Event::UnitMoved {
                id,
                start_line,
                end_line,
                start_byte,
                end_byte,
            } => {
                if let Some(u) = self.units.get_mut(&id) {
                    (u.start_line, u.end_line) = (start_line, end_line);
                    (u.start_byte, u.end_byte) = (start_byte, end_byte);
                }
            }
            Event::PatternCreated {
                id,
                key,
                kind,
                summary,
                members,
            } => {
                self.classes.insert(
                    id,
                    PastClass {
                        key: key.0,
                        kind,
                        clone_type: summary.clone_type,
                        lines: summary.lines,
                        tokens: summary.tokens,
                        similarity: summary.similarity,
                        members: members.into_iter().collect(),
                    },
                );
            }
            Event::PatternGrown { id, summary, added } => {
                if let Some(c) = self.classes.get_mut(&id) {
                    c.summarize(&summary);
                    c.members.extend(added);
                }
            }
            Event::PatternShrunk {
                id,
                summary,
                removed,
            } => {
                if let Some(c) = self.classes.get_mut(&id) {
                    c.summarize(&summary);
                    for u in removed {
                        c.members.remove(&u);
                    }
                }
            }
            Event::PatternDissolved { id } => {
                self.classes.remove(&id);
            }
            Event::PatternAccepted {
                id,
                reason,
                copies,
                at_ms,
            } => {
                let mut copies: Vec<u64> = copies.into_iter().map(|h| h.0).collect();
                copies.sort_unstable();
                self.accepted.insert(
                    id.clone(),
                    AcceptedRow {
                        id,
                        reason,
                        copies,
                        at_ms,
                    },
                );
            }
            Event::PatternUnaccepted { id } => {
                self.accepted.remove(&id);
            }
        }
    }

    /// The classes as the store reads them ([`Store::patterns`]): by id, members by path and
    /// line. A copy's similarity to its representative is the catalogue's edge between their
    /// shapes when it still keeps it, else the class's lowest.
    pub fn patterns(&self, store: &Store) -> Result<Vec<PatternRow>> {
        let mut ids: Vec<&String> = self.classes.keys().collect();
        ids.sort_unstable();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let c = &self.classes[id];
            let mut members = Vec::with_capacity(c.members.len());
            for &unit_id in &c.members {
                let Some(u) = self.units.get(&unit_id) else {
                    continue;
                };
                let Some(f) = self.files.get(&u.file_id) else {
                    continue;
                };
                let similarity = if u.shape == c.key {
                    1.0
                } else {
                    store
                        .shape_similarity(u.shape, c.key)?
                        .unwrap_or(c.similarity)
                };
                members.push(MemberRow {
                    file_id: u.file_id,
                    path: f.path.clone(),
                    lang: f.lang.clone(),
                    name: u.name.clone(),
                    start_line: u.start_line,
                    end_line: u.end_line,
                    start_byte: u.start_byte,
                    end_byte: u.end_byte,
                    tokens: u.tokens,
                    similarity,
                    noise: u.noise.map(|n| n.as_str().to_string()),
                    exact: u.exact,
                    family: u.family,
                });
            }
            members.sort_by(|a, b| {
                (&a.path, a.start_line, a.start_byte).cmp(&(&b.path, b.start_line, b.start_byte))
            });
            out.push(PatternRow {
                id: id.clone(),
                kind: c.kind.clone(),
                clone_type: c.clone_type,
                lines: c.lines,
                tokens: c.tokens,
                similarity: c.similarity,
                members,
            });
        }
        Ok(out)
    }

    /// What the last scan replayed did to clone classes, as [`Store::last_scan_changes`]
    /// reads it of the catalogue now.
    pub fn last_scan_changes(&self) -> BTreeMap<String, &'static str> {
        self.changes
            .iter()
            .filter(|(id, (scan, _))| *scan == self.last_scan && self.classes.contains_key(*id))
            .map(|(id, &(_, change))| (id.clone(), change))
            .collect()
    }

    /// The idioms' instances then, as [`Store::idiom_instances`] reads them now: units of
    /// shapes in at least `min_files` files that no class has a copy of (noise but trivial
    /// bodies left out), and functions below the unit thresholds of shapes in at least
    /// `min_files` files; by shape, path and line.
    pub fn idiom_instances(&self, min_files: u32) -> Vec<IdiomRow> {
        let in_classes: std::collections::HashSet<u64> = self
            .classes
            .values()
            .flat_map(|c| c.members.iter())
            .filter_map(|id| self.units.get(id).map(|u| u.shape))
            .collect();
        let mut rows: Vec<IdiomRow> = Vec::new();
        // Files are counted over every unit of a shape, noise too.
        let mut files: HashMap<u64, std::collections::HashSet<i64>> = HashMap::new();
        let mut units: HashMap<u64, Vec<(&PastUnit, &PastFile)>> = HashMap::new();
        for u in self.units.values() {
            files.entry(u.shape).or_default().insert(u.file_id);
            if matches!(u.noise, None | Some(Noise::Trivial))
                && !in_classes.contains(&u.shape)
                && let Some(f) = self.files.get(&u.file_id)
            {
                units.entry(u.shape).or_default().push((u, f));
            }
        }
        for (shape, instances) in units {
            if (files[&shape].len() as u32) < min_files {
                continue;
            }
            rows.extend(instances.into_iter().map(|(u, f)| IdiomRow {
                shape,
                kind: u.kind.as_str().to_string(),
                name: u.name.clone(),
                path: f.path.clone(),
                lang: f.lang.clone(),
                start_line: u.start_line,
                end_line: u.end_line,
                family: u.family,
            }));
        }
        let mut small: HashMap<u64, Vec<(&SmallFunction, &PastFile)>> = HashMap::new();
        for f in self.files.values() {
            for s in &f.small {
                small.entry(s.5.0).or_default().push((s, f));
            }
        }
        for (shape, instances) in small {
            let files: std::collections::HashSet<&str> =
                instances.iter().map(|(_, f)| f.path.as_str()).collect();
            if (files.len() as u32) < min_files {
                continue;
            }
            rows.extend(instances.into_iter().map(|(s, f)| IdiomRow {
                shape,
                kind: s.0.as_str().to_string(),
                name: s.1.clone(),
                path: f.path.clone(),
                lang: f.lang.clone(),
                start_line: s.2,
                end_line: s.3,
                family: s.6,
            }));
        }
        rows.sort_by(|a, b| {
            (a.shape, &a.path, a.start_line).cmp(&(b.shape, &b.path, b.start_line))
        });
        rows
    }

    /// How many events were replayed.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The last scan replayed (0 before the first).
    pub fn last_scan(&self) -> i64 {
        self.last_scan
    }

    /// The content hash of every file indexed then, by path.
    pub fn file_hashes(&self) -> HashMap<String, u64> {
        self.files
            .values()
            .filter(|f| f.status == "indexed")
            .map(|f| (f.path.clone(), f.hash))
            .collect()
    }

    /// The decisions in force then, as the store reads them.
    pub fn accepted(&self) -> Vec<AcceptedRow> {
        self.accepted.values().cloned().collect()
    }

    /// The catalogue-wide counts then ([`Store::counts`]).
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            events: self.events,
            ..Counts::default()
        };
        for f in self.files.values() {
            if f.status == "indexed" {
                let l = counts.languages.entry(f.lang.clone()).or_default();
                l.0 += 1;
                l.1 += u64::from(f.lines);
            } else {
                *counts.skipped.entry(f.status.clone()).or_default() += 1;
            }
            if f.syntax_errors > 0 {
                counts.files_with_syntax_errors += 1;
            }
        }
        for u in self.units.values() {
            if u.kind == UnitKind::Block {
                continue;
            }
            if let Some(l) = self
                .files
                .get(&u.file_id)
                .and_then(|f| counts.languages.get_mut(&f.lang))
            {
                l.2 += 1;
            }
        }
        counts
    }
}

impl PastClass {
    fn summarize(&mut self, s: &crate::event::PatternSummary) {
        self.clone_type = s.clone_type;
        self.lines = s.lines;
        self.tokens = s.tokens;
        self.similarity = s.similarity;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_and_bad_ones_say_what_is_wanted() {
        assert_eq!(Point::parse("--at", "scan:3").unwrap(), Point::Scan(3));
        assert_eq!(Point::parse("--at", "1970-01-02").unwrap(), Point::Day(1));
        assert_eq!(
            Point::parse("--at", "2000-02-29T12:04:05.25Z").unwrap(),
            Point::Time(951_825_845_250)
        );
        assert_eq!(
            Point::parse("--at", "2000-02-29T13:04:05.250+01:00").unwrap(),
            Point::Time(951_825_845_250)
        );
        assert_eq!(
            Point::parse("--at", "HEAD~2").unwrap(),
            Point::Commit("HEAD~2".into())
        );
        for bad in [
            "scan:0",
            "scan:x",
            "2026-13-01",
            "2026-02-30",
            "2026-01-01T25:00Z",
            "",
        ] {
            let e = Point::parse("--at", bad).unwrap_err().to_string();
            assert!(e.starts_with("--at"), "{bad}: {e}");
        }
    }

    fn seen(path: &str, exact: u64, shape: u64) -> Option<UnitSeen<'_>> {
        Some(UnitSeen { path, exact, shape })
    }

    #[test]
    fn moves_pair_the_same_code_in_another_file() {
        // A renamed file, a cut and paste: the same exact hash elsewhere.
        let removed = [seen("a.py", 1, 9), seen("b.py", 2, 9)];
        let added = [seen("util.py", 2, 9), seen("renamed.py", 1, 9)];
        assert_eq!(pair_moves(&removed, &added), [(0, 1), (1, 0)]);
        // The same file is no move; an unknown unit pairs with nothing.
        assert!(pair_moves(&[seen("a.py", 1, 9)], &[seen("a.py", 1, 9)]).is_empty());
        assert!(pair_moves(&[None], &[seen("b.py", 1, 9)]).is_empty());
        assert!(pair_moves(&[seen("a.py", 1, 9)], &[None]).is_empty());
        // Failing the exact hash, the shape; code of another shape is a shrink and a growth.
        let removed = [seen("a.py", 1, 9), seen("a.py", 3, 8)];
        let added = [seen("b.py", 2, 9), seen("b.py", 4, 7)];
        assert_eq!(pair_moves(&removed, &added), [(0, 0)]);
        // The exact hash comes before the shape, whatever the order.
        let removed = [seen("a.py", 1, 9), seen("b.py", 2, 9)];
        let added = [seen("c.py", 2, 9)];
        assert_eq!(pair_moves(&removed, &added), [(1, 0)]);
        // Each copy moves once: one left over on each side is a shrink or a growth.
        let removed = [seen("a.py", 1, 9), seen("a.py", 1, 9)];
        let added = [seen("b.py", 1, 9)];
        assert_eq!(pair_moves(&removed, &added), [(0, 0)]);
    }

    #[test]
    fn moved_copies_of_one_code_pair_by_the_ends_of_their_paths() {
        // A renamed directory: each copy to the file of its own name and folders.
        let removed = [
            seen("old/x/__init__.py", 1, 9),
            seen("old/y/z/__init__.py", 1, 9),
            seen("old/y/a.py", 1, 9),
        ];
        let added = [seen("new/y/a.py", 1, 9), seen("new/y/z/__init__.py", 1, 9)];
        assert_eq!(pair_moves(&removed, &added), [(1, 1), (2, 0)]);
        assert_eq!(last_components("a/b/c.py", 2), Some("b/c.py"));
        assert_eq!(last_components("a/b/c.py", 3), Some("a/b/c.py"));
        assert_eq!(last_components("a/b/c.py", 4), None);
        assert_eq!(last_components("c.py", 0), Some(""));
    }

    #[test]
    fn kinds_are_names_or_families() {
        let units = kinds_of(&["unit".into()]).unwrap().unwrap();
        assert_eq!(
            units,
            ["unit_added", "unit_moved", "unit_removed", "units_added"]
        );
        assert_eq!(
            kinds_of(&["file_added".into()]).unwrap().unwrap(),
            ["file_added"]
        );
        assert!(kinds_of(&["files".into()]).is_err());
        assert_eq!(kinds_of(&[]).unwrap(), None);
    }
}
