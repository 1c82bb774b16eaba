//! Events: the catalogue's vocabulary. Every change to the catalogue is one of these, appended
//! to the event log; the tables of files, units, patterns and members are their projection.

use serde::{Deserialize, Serialize};

pub mod codec;

pub use crate::fingerprint::Hash64;
use crate::fingerprint::{SmallFunction, UnitPrint};

/// A clone class's stable id: the 64-bit key of its representative shape, written as 16 hex
/// digits everywhere it is shown (reports, JSON, the index's answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PatternId(pub u64);

impl std::fmt::Display for PatternId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl std::str::FromStr for PatternId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<PatternId, Self::Err> {
        u64::from_str_radix(s, 16).map(PatternId)
    }
}

impl Serialize for PatternId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Clone type of a pattern: T1 exact, T2 renamed, T3 near-miss (weakest link of its members).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum CloneType {
    #[cfg_attr(feature = "cli", value(name = "T1"))]
    T1,
    #[cfg_attr(feature = "cli", value(name = "T2"))]
    T2,
    #[cfg_attr(feature = "cli", value(name = "T3"))]
    T3,
}

impl CloneType {
    pub fn as_str(self) -> &'static str {
        match self {
            CloneType::T1 => "T1",
            CloneType::T2 => "T2",
            CloneType::T3 => "T3",
        }
    }

    pub fn parse(s: &str) -> Option<CloneType> {
        match s {
            "T1" => Some(CloneType::T1),
            "T2" => Some(CloneType::T2),
            "T3" => Some(CloneType::T3),
            _ => None,
        }
    }
}

/// What a scan found out about a file. `status` is `indexed` or the reason it was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    pub path: String,
    pub lang: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub hash: Hash64,
    pub lines: u32,
    pub syntax_errors: u32,
    pub status: String,
}

/// A file as recorded in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: i64,
    #[serde(flatten)]
    pub file: FileState,
    /// The file's functions below the unit thresholds (absent from logs written before they
    /// were recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub small: Vec<SmallFunction>,
}

/// A unit as recorded in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub id: i64,
    pub file_id: i64,
    #[serde(flatten)]
    pub unit: UnitPrint,
}

/// A unit as a `units_added` event records it. Its similarity codes are a function of its
/// shape, so the log holds them once per shape: a near-miss unit carries them only when the
/// catalogue does not have them for its shape yet (or has others, from another version or
/// setting); otherwise they are empty and are its shape's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedUnit {
    #[serde(flatten)]
    pub unit: UnitPrint,
    /// Whether the unit takes part in near-miss detection (it has similarity codes).
    pub near: bool,
}

/// A pattern's summary fields, carried by every event that may change them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatternSummary {
    pub clone_type: CloneType,
    pub lines: u32,
    pub tokens: u32,
    /// Lowest similarity of a member to the class's representative (1 for types 1 and 2).
    #[serde(default = "one")]
    pub similarity: f32,
}

fn one() -> f32 {
    1.0
}

/// One entry of the append-only event log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    FileAdded(FileRecord),
    FileChanged(FileRecord),
    /// Size or modification time changed, content did not.
    FileTouched {
        id: i64,
        size: u64,
        mtime_ns: i64,
    },
    FileRemoved {
        id: i64,
        path: String,
    },
    /// One unit (logs written before units were logged per file, with their codes).
    UnitAdded(UnitRecord),
    /// A file's new units, numbered from `first_id` in order.
    UnitsAdded {
        file_id: i64,
        first_id: i64,
        units: Vec<LoggedUnit>,
    },
    UnitRemoved {
        id: i64,
        /// The unit's shape (absent from logs written before it was recorded): whose
        /// classes and name union the removal changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shape: Option<Hash64>,
    },
    /// A unit whose code did not change while its place in the file did (lines above it
    /// came or went): same text, same length in lines, new lines and bytes.
    UnitMoved {
        id: i64,
        start_line: u32,
        end_line: u32,
        start_byte: u32,
        end_byte: u32,
    },
    PatternCreated {
        id: String,
        key: Hash64,
        kind: String,
        #[serde(flatten)]
        summary: PatternSummary,
        members: Vec<i64>,
    },
    PatternGrown {
        id: String,
        #[serde(flatten)]
        summary: PatternSummary,
        added: Vec<i64>,
    },
    PatternShrunk {
        id: String,
        #[serde(flatten)]
        summary: PatternSummary,
        removed: Vec<i64>,
    },
    PatternDissolved {
        id: String,
    },
    /// A person decided that a class is acceptable as it is (`cpt accept`): it does not fail
    /// `cpt check` while its copies are among these (their content hashes, sorted; a copy
    /// that was not there, or whose code changed, ends the acceptance).
    PatternAccepted {
        id: String,
        reason: String,
        copies: Vec<Hash64>,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// An acceptance withdrawn (`cpt unaccept`).
    PatternUnaccepted {
        id: String,
    },
}

impl Event {
    /// Every event's name, as [`Event::name`] gives it, in the order of the enum.
    pub const KINDS: &[&'static str] = &[
        "file_added",
        "file_changed",
        "file_touched",
        "file_removed",
        "unit_added",
        "units_added",
        "unit_removed",
        "unit_moved",
        "pattern_created",
        "pattern_grown",
        "pattern_shrunk",
        "pattern_dissolved",
        "pattern_accepted",
        "pattern_unaccepted",
    ];

    /// The event's name as stored in the log's `kind` column.
    pub fn name(&self) -> &'static str {
        match self {
            Event::FileAdded(_) => "file_added",
            Event::FileChanged(_) => "file_changed",
            Event::FileTouched { .. } => "file_touched",
            Event::FileRemoved { .. } => "file_removed",
            Event::UnitAdded(_) => "unit_added",
            Event::UnitsAdded { .. } => "units_added",
            Event::UnitRemoved { .. } => "unit_removed",
            Event::UnitMoved { .. } => "unit_moved",
            Event::PatternCreated { .. } => "pattern_created",
            Event::PatternGrown { .. } => "pattern_grown",
            Event::PatternShrunk { .. } => "pattern_shrunk",
            Event::PatternDissolved { .. } => "pattern_dissolved",
            Event::PatternAccepted { .. } => "pattern_accepted",
            Event::PatternUnaccepted { .. } => "pattern_unaccepted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_json() {
        let e = Event::PatternGrown {
            id: "00000000000000ff".into(),
            summary: PatternSummary {
                clone_type: CloneType::T2,
                lines: 12,
                tokens: 90,
                similarity: 1.0,
            },
            added: vec![3, 4],
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"event":"pattern_grown","id":"00000000000000ff","clone_type":"T2","lines":12,"tokens":90,"similarity":1.0,"added":[3,4]}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
        let u = Event::UnitRemoved {
            id: 9,
            shape: Some(Hash64(7)),
        };
        assert_eq!(
            serde_json::from_str::<Event>(&serde_json::to_string(&u).unwrap()).unwrap(),
            u
        );
        // Logs written before removals named their shape still read.
        assert_eq!(
            serde_json::from_str::<Event>(r#"{"event":"unit_removed","id":9}"#).unwrap(),
            Event::UnitRemoved { id: 9, shape: None }
        );
        assert_eq!(
            serde_json::to_string(&Hash64(u64::MAX)).unwrap(),
            "\"ffffffffffffffff\""
        );
    }
}
