//! Reuse of an earlier version's prints where the bytes and syntax did not change.

use super::UnitPrint;

/// What the fingerprint of one version of a file lends to the next (see [`Earlier`]).
#[derive(Clone, Debug, Default)]
pub struct Reusable {
    /// Function-level units.
    pub(super) units: Vec<UnitPrint>,
    /// The block windows kept of each statement run, by the run's first and end byte and
    /// statement count.
    pub(super) runs: Vec<Run>,
    /// Byte ranges of units a `cpt: ignore` comment leaves out.
    pub(super) ignored: Vec<(u32, u32)>,
    pub(super) generated: bool,
}

/// The block windows kept of one statement run, by the run's first and end byte and statement
/// count.
pub(super) type Run = ((u32, u32, usize), Vec<UnitPrint>);

/// An earlier version of a file and how it became the one being fingerprinted: bytes
/// `start..old_end` were replaced by `start..new_end`, and tree-sitter found the syntax
/// changed in `changed` (new bytes). A unit or statement run that lies clear of both — with
/// the line above it, where a `cpt: ignore` comment would sit — has the same tokens, the same
/// ancestors and the same context as before, so its prints are taken from `reusable` (moved
/// to their new place) instead of computed again.
pub struct Earlier<'a> {
    pub reusable: &'a Reusable,
    pub start: u32,
    pub old_end: u32,
    pub new_end: u32,
    /// New lines minus old lines of the edited bytes.
    pub line_delta: i64,
    pub changed: Vec<(u32, u32)>,
}

impl Earlier<'_> {
    /// Whether new bytes `start..end` are clear of every change.
    pub(super) fn clear(&self, start: u32, end: u32) -> bool {
        // An insertion (`start == new_end`) still touches the bytes on either side.
        let overlaps = |(s, e): (u32, u32)| start <= e && s <= end;
        !overlaps((self.start, self.new_end)) && !self.changed.iter().any(|&r| overlaps(r))
    }

    /// The old byte of a new byte that is clear of the edit.
    pub(super) fn old_byte(&self, new: u32) -> u32 {
        if new < self.start {
            new
        } else {
            new - self.new_end + self.old_end
        }
    }

    /// The new byte of an old byte that is clear of the edit.
    pub(super) fn moved_byte(&self, old: u32) -> u32 {
        if old < self.start {
            old
        } else {
            old - self.old_end + self.new_end
        }
    }

    /// Whether the units a `cpt: ignore` comment left out of the earlier version, moved to
    /// their new place, are `ignored`: block windows also depend on them.
    pub(super) fn ignored_alike(&self, ignored: &[(u32, u32)]) -> bool {
        let moved: Option<Vec<(u32, u32)>> = self
            .reusable
            .ignored
            .iter()
            .map(|&(s, end)| {
                let clear = end < self.start || s > self.old_end;
                clear.then(|| (self.moved_byte(s), self.moved_byte(end)))
            })
            .collect();
        moved.as_deref() == Some(ignored)
    }

    /// A print of the earlier version, moved to where its bytes are now.
    pub(super) fn moved(&self, old: &UnitPrint) -> UnitPrint {
        let mut unit = old.clone();
        if old.start_byte >= self.old_end {
            unit.start_byte = self.moved_byte(old.start_byte);
            unit.end_byte = self.moved_byte(old.end_byte);
            unit.start_line = (i64::from(old.start_line) + self.line_delta) as u32;
            unit.end_line = (i64::from(old.end_line) + self.line_delta) as u32;
        }
        unit
    }
}

/// The byte where the line before the one holding `byte` starts (the first line's start on
/// the first line).
pub(super) fn line_above(source: &[u8], byte: u32) -> u32 {
    let line_start = |b: usize| {
        source[..b]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1)
    };
    let here = line_start((byte as usize).min(source.len()));
    line_start(here.saturating_sub(1)) as u32
}
