//! What the engine hands its front ends: plain data, never SQL rows or index segments.

pub use crate::config::TestPolicy;
pub use crate::engine::accept::Acceptance;
pub use crate::engine::check::{
    BaselineUse, CheckReport, CheckRequest, CheckedClass, DiffBase, Duplication, FailOn,
};
pub use crate::engine::classes::Filter;
pub use crate::engine::git::ChangedLines;
pub use crate::engine::similar::{Match as SimilarMatch, NoUnits, SimilarAnswer};
pub use crate::engine::stats::{IndexStats, LanguageStats, Stats};
pub use crate::engine::table::{
    Element, Group, Instance, Period, Source, SourceRequest, Table, TableRequest, TableSummary,
};
pub use crate::event::{CloneType, PatternId};
pub use crate::parse::lang::UnitKind;
pub use crate::scan::ScanSummary;
use crate::store::{MemberRow, PatternRow};

/// A clone class as a report shows it: its copies, largest class first.
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    pub id: PatternId,
    pub kind: UnitKind,
    pub clone_type: CloneType,
    pub lines: u32,
    pub tokens: u32,
    /// Lowest similarity of a copy to the representative.
    pub similarity: f32,
    pub copies: Vec<Copy>,
    /// Why the class was accepted as it is (`cpt accept`), while its copies are still the ones
    /// accepted.
    pub accepted: Option<String>,
}

/// One copy in a clone class.
#[derive(Clone, Debug, PartialEq)]
pub struct Copy {
    pub path: String,
    /// Language id (`python`, `cpp`…).
    pub lang: String,
    /// The function's name; empty for a block of statements.
    pub name: String,
    pub start_line: u32,
    pub end_line: u32,
    /// Similarity to the class's representative (1 for its own shape).
    pub similarity: f32,
    /// Its content hash: copies that differ only in layout and comments share it.
    pub exact: u64,
}

impl From<&MemberRow> for Copy {
    fn from(m: &MemberRow) -> Copy {
        Copy {
            path: m.path.clone(),
            lang: m.lang.clone(),
            name: m.name.clone(),
            start_line: m.start_line,
            end_line: m.end_line,
            similarity: m.similarity,
            exact: m.exact,
        }
    }
}

impl From<&PatternRow> for Class {
    fn from(p: &PatternRow) -> Class {
        Class {
            id: p.id.parse().unwrap_or(PatternId(0)),
            kind: UnitKind::parse(&p.kind).unwrap_or(UnitKind::Function),
            clone_type: p.clone_type,
            lines: p.lines,
            tokens: p.tokens,
            similarity: p.similarity,
            copies: p.members.iter().map(Copy::from).collect(),
            accepted: None,
        }
    }
}

/// One event of a clone class's history, from the catalogue's log.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassEvent {
    /// Its place in the log.
    pub seq: i64,
    /// The scan (or decision) that appended it.
    pub scan_id: i64,
    /// When it was appended, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The commit its scan recorded (the scanned tree in a git checkout).
    pub commit: Option<String>,
    /// The class's copies after it.
    pub copies: usize,
    /// The files of the copies it names (created: all; grew: those added; shrank: those
    /// removed; moved: those left and those entered), when asked for.
    pub paths: Vec<String>,
    pub change: ClassChange,
}

impl ClassEvent {
    /// When it was appended, in RFC 3339 (UTC).
    pub fn at(&self) -> String {
        crate::engine::accept::rfc3339(self.at_ms)
    }
}

/// What an event did to a clone class.
#[derive(Clone, Debug, PartialEq)]
pub enum ClassChange {
    Created {
        clone_type: CloneType,
        lines: u32,
        copies: usize,
    },
    Grew {
        clone_type: CloneType,
        lines: u32,
        added: usize,
    },
    Shrank {
        clone_type: CloneType,
        lines: u32,
        removed: usize,
    },
    /// Copies that left their files for others in one scan: a copy removed and a copy added
    /// that are the same code (the same exact hash, failing that the same shape) in
    /// different files, as when a file is renamed or a function cut and pasted elsewhere.
    Moved {
        clone_type: CloneType,
        lines: u32,
        /// How many copies moved.
        moved: usize,
        /// The files the moved copies left, one per copy, paired with `to`: the copy that was
        /// in `from[i]` is now in `to[i]`.
        from: Vec<String>,
        /// The files the moved copies are in now, one per copy.
        to: Vec<String>,
    },
    Dissolved,
    Accepted {
        reason: String,
    },
    Unaccepted,
}

impl ClassChange {
    /// The change in one word: created, grew, shrank, moved, dissolved, accepted, unaccepted.
    pub fn as_str(&self) -> &'static str {
        match self {
            ClassChange::Created { .. } => "created",
            ClassChange::Grew { .. } => "grew",
            ClassChange::Shrank { .. } => "shrank",
            ClassChange::Moved { .. } => "moved",
            ClassChange::Dissolved => "dissolved",
            ClassChange::Accepted { .. } => "accepted",
            ClassChange::Unaccepted => "unaccepted",
        }
    }
}

/// One event of the catalogue's log, as `cpt log` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    pub seq: i64,
    /// The scan that appended it (decisions: the last scan before them).
    pub scan_id: i64,
    /// When it was appended, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The commit its scan recorded.
    pub commit: Option<String>,
    /// Its kind, as the log names it (`file_added`, `pattern_created`…).
    pub kind: &'static str,
    pub detail: LogDetail,
}

impl LogEntry {
    /// When it was appended, in RFC 3339 (UTC).
    pub fn at(&self) -> String {
        crate::engine::accept::rfc3339(self.at_ms)
    }
}

/// What a logged event says, in short.
#[derive(Clone, Debug, PartialEq)]
pub enum LogDetail {
    /// `file_added`, `file_changed`.
    File {
        file_id: i64,
        path: String,
        lang: String,
        lines: u32,
        /// `indexed`, or why it was skipped.
        status: String,
    },
    /// `file_touched`: its size or time changed, its content did not.
    Touched {
        file_id: i64,
        path: Option<String>,
        size: u64,
    },
    /// `file_removed`.
    Removed { file_id: i64, path: String },
    /// `units_added` (`unit_added` in old logs): a file's new units, numbered from `first_id`.
    Units {
        file_id: i64,
        path: Option<String>,
        first_id: i64,
        units: usize,
    },
    /// `unit_removed`, `unit_moved` (with its new lines).
    Unit {
        unit_id: i64,
        path: Option<String>,
        lines: Option<(u32, u32)>,
    },
    /// `pattern_created`, `pattern_grown`, `pattern_shrunk`, `pattern_dissolved`.
    Pattern {
        id: String,
        clone_type: Option<CloneType>,
        lines: Option<u32>,
        /// Its copies after the event.
        copies: Option<usize>,
        /// The units it names: members (created), added (grown), removed (shrunk).
        units: Vec<i64>,
    },
    /// `pattern_accepted`.
    Accepted {
        id: String,
        reason: String,
        copies: usize,
    },
    /// `pattern_unaccepted`.
    Unaccepted { id: String },
}

/// What changed in one clone class after a batch of `cpt watch`.
#[derive(Clone, Debug, PartialEq)]
pub enum WatchUpdate {
    /// A class that did not exist before.
    New(Class),
    /// A class that no longer exists (as it was).
    Resolved(Class),
    /// A class that gained copies (and may have lost some).
    Grew {
        class: Class,
        added: Vec<Copy>,
        removed: Vec<Copy>,
    },
    /// A class that lost copies and gained none.
    Shrank { class: Class, removed: Vec<Copy> },
}

/// One report of `cpt watch`.
#[derive(Debug)]
pub enum WatchReport<'a> {
    /// The first scan is done and changes are being watched.
    Ready {
        root: &'a std::path::Path,
        summary: &'a ScanSummary,
        /// Every reported class, by id.
        classes: &'a std::collections::BTreeMap<PatternId, Class>,
    },
    /// A batch of changes was applied.
    Applied {
        updates: &'a [WatchUpdate],
        /// The scan that applied them (of the files the batch named, or the whole tree).
        summary: &'a ScanSummary,
        /// Every reported class after the batch, by id.
        classes: &'a std::collections::BTreeMap<PatternId, Class>,
        /// From the first event of the batch to the catalogue being up to date.
        elapsed: std::time::Duration,
    },
    /// A batch could not be applied (the next one retries); one line.
    Failed(String),
}
