//! The event log's binary encoding: one byte of format, one of event kind, then the fields
//! in order — integers as LEB128 varints (signed ones zigzagged), hashes as 8 little-endian
//! bytes, strings and lists length-first, a file's units as deltas from the unit before,
//! similarity codes and content as little-endian u16s.
//! Logs written before it hold JSON text, which [`decode_json`] still reads.

use crate::event::{Event, FileRecord, FileState, LoggedUnit, PatternSummary, UnitRecord};
use crate::fingerprint::{Hash64, Noise, SmallFunction, UnitPrint};
use crate::parse::lang::{FAMILIES, NO_FAMILY, UnitKind};

/// The first byte of a binary event: the encoding's version.
const FORMAT: u8 = 1;

/// The first byte of a binary event whose bytes after it are deflated: its length before,
/// then the deflate stream. A file's units repeat what they say (a block's names and
/// values are a window of its function's), so their event shrinks by about 2.5×.
const DEFLATED: u8 = 2;

/// Events longer than this are deflated when that saves space.
const DEFLATE_ABOVE: usize = 160;

/// The longest event a log may hold once inflated.
const MAX_EVENT: usize = 1 << 28;

/// Why an event's bytes do not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event as the log stores it.
pub fn encode(event: &Event) -> Vec<u8> {
    let bytes = plain(event);
    if bytes.len() <= DEFLATE_ABOVE {
        return bytes;
    }
    let deflated = miniz_oxide::deflate::compress_to_vec(&bytes[1..], 1);
    let mut out = Out(Vec::with_capacity(deflated.len() + 6));
    out.byte(DEFLATED);
    out.uint(bytes.len() as u64 - 1);
    if out.0.len() + deflated.len() >= bytes.len() {
        return bytes;
    }
    out.0.extend_from_slice(&deflated);
    out.0
}

/// An event in the encoding before deflate (format byte [`FORMAT`]).
fn plain(event: &Event) -> Vec<u8> {
    let mut w = Out(Vec::with_capacity(64));
    w.byte(FORMAT);
    match event {
        Event::FileAdded(r) => {
            w.byte(0);
            w.file(r);
        }
        Event::FileChanged(r) => {
            w.byte(1);
            w.file(r);
        }
        Event::FileTouched { id, size, mtime_ns } => {
            w.byte(2);
            w.int(*id);
            w.uint(*size);
            w.int(*mtime_ns);
        }
        Event::FileRemoved { id, path } => {
            w.byte(3);
            w.int(*id);
            w.str(path);
        }
        Event::UnitAdded(r) => {
            w.byte(4);
            w.int(r.id);
            w.int(r.file_id);
            w.unit(&r.unit, &mut Prev::default());
            w.codes(&r.unit.codes);
        }
        Event::UnitsAdded {
            file_id,
            first_id,
            units,
        } => {
            w.byte(5);
            w.int(*file_id);
            w.int(*first_id);
            w.uint(units.len() as u64);
            let mut prev = Prev::default();
            for u in units {
                w.byte(u8::from(u.near));
                w.unit(&u.unit, &mut prev);
                if u.near {
                    w.codes(&u.unit.codes);
                }
            }
        }
        Event::UnitRemoved { id, shape } => {
            w.byte(7);
            w.int(*id);
            match shape {
                Some(h) => {
                    w.byte(1);
                    w.hash(*h);
                }
                None => w.byte(0),
            }
        }
        Event::UnitMoved {
            id,
            start_line,
            end_line,
            start_byte,
            end_byte,
        } => {
            w.byte(8);
            w.int(*id);
            for v in [start_line, end_line, start_byte, end_byte] {
                w.uint(u64::from(*v));
            }
        }
        Event::PatternCreated {
            id,
            key,
            kind,
            summary,
            members,
        } => {
            w.byte(9);
            w.str(id);
            w.hash(*key);
            w.str(kind);
            w.summary(summary);
            w.ids(members);
        }
        Event::PatternGrown { id, summary, added } => {
            w.byte(10);
            w.str(id);
            w.summary(summary);
            w.ids(added);
        }
        Event::PatternShrunk {
            id,
            summary,
            removed,
        } => {
            w.byte(11);
            w.str(id);
            w.summary(summary);
            w.ids(removed);
        }
        Event::PatternDissolved { id } => {
            w.byte(12);
            w.str(id);
        }
        Event::PatternAccepted {
            id,
            reason,
            copies,
            at_ms,
        } => {
            w.byte(13);
            w.str(id);
            w.str(reason);
            w.uint(copies.len() as u64);
            for h in copies {
                w.hash(*h);
            }
            w.int(*at_ms);
        }
        Event::PatternUnaccepted { id } => {
            w.byte(14);
            w.str(id);
        }
    }
    w.0
}

/// An event from the bytes [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<Event, DecodeError> {
    let mut r = In { bytes, at: 0 };
    match r.byte()? {
        FORMAT => decode_body(r),
        DEFLATED => {
            let len = r.uint()?;
            let len = usize::try_from(len)
                .ok()
                .filter(|&n| n <= MAX_EVENT)
                .ok_or_else(|| DecodeError(format!("an event of {len} bytes")))?;
            let body = miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes[r.at..], len)
                .map_err(|e| DecodeError(format!("a damaged deflate stream ({e})")))?;
            if body.len() != len {
                return Err(DecodeError(format!(
                    "{} bytes inflated where {len} were written",
                    body.len()
                )));
            }
            decode_body(In {
                bytes: &body,
                at: 0,
            })
        }
        format => Err(DecodeError(format!("unknown event format {format}"))),
    }
}

/// An event from its kind byte on.
fn decode_body(mut r: In<'_>) -> Result<Event, DecodeError> {
    let bytes = r.bytes;
    let event = match r.byte()? {
        0 => Event::FileAdded(r.file()?),
        1 => Event::FileChanged(r.file()?),
        2 => Event::FileTouched {
            id: r.int()?,
            size: r.uint()?,
            mtime_ns: r.int()?,
        },
        3 => Event::FileRemoved {
            id: r.int()?,
            path: r.str()?,
        },
        4 => {
            let (id, file_id) = (r.int()?, r.int()?);
            let mut unit = r.unit(&mut Prev::default())?;
            unit.codes = r.codes()?;
            Event::UnitAdded(UnitRecord { id, file_id, unit })
        }
        5 => {
            let (file_id, first_id) = (r.int()?, r.int()?);
            let n = r.len()?;
            let mut units = Vec::with_capacity(n.min(1 << 16));
            let mut prev = Prev::default();
            for _ in 0..n {
                let near = r.flag()?;
                let mut unit = r.unit(&mut prev)?;
                if near {
                    unit.codes = r.codes()?;
                }
                units.push(LoggedUnit { near, unit });
            }
            Event::UnitsAdded {
                file_id,
                first_id,
                units,
            }
        }
        7 => Event::UnitRemoved {
            id: r.int()?,
            shape: if r.flag()? { Some(r.hash()?) } else { None },
        },
        8 => Event::UnitMoved {
            id: r.int()?,
            start_line: r.u32()?,
            end_line: r.u32()?,
            start_byte: r.u32()?,
            end_byte: r.u32()?,
        },
        9 => Event::PatternCreated {
            id: r.str()?,
            key: r.hash()?,
            kind: r.str()?,
            summary: r.summary()?,
            members: r.ids()?,
        },
        10 => Event::PatternGrown {
            id: r.str()?,
            summary: r.summary()?,
            added: r.ids()?,
        },
        11 => Event::PatternShrunk {
            id: r.str()?,
            summary: r.summary()?,
            removed: r.ids()?,
        },
        12 => Event::PatternDissolved { id: r.str()? },
        13 => {
            let (id, reason) = (r.str()?, r.str()?);
            let n = r.len()?;
            let mut copies = Vec::with_capacity(n.min(1 << 16));
            for _ in 0..n {
                copies.push(r.hash()?);
            }
            Event::PatternAccepted {
                id,
                reason,
                copies,
                at_ms: r.int()?,
            }
        }
        14 => Event::PatternUnaccepted { id: r.str()? },
        kind => return Err(DecodeError(format!("unknown event kind {kind}"))),
    };
    if r.at != bytes.len() {
        return Err(DecodeError(format!(
            "{} bytes after the event",
            bytes.len() - r.at
        )));
    }
    Ok(event)
}

/// An event from the JSON text of logs written before the binary encoding.
pub fn decode_json(text: &str) -> Result<Event, DecodeError> {
    serde_json::from_str(text).map_err(|e| DecodeError(e.to_string()))
}

const KINDS: [UnitKind; 6] = [
    UnitKind::Function,
    UnitKind::Method,
    UnitKind::Constructor,
    UnitKind::Closure,
    UnitKind::Lambda,
    UnitKind::Block,
];

/// A unit kind's code (its index in [`KINDS`]).
fn kind_code(kind: UnitKind) -> u8 {
    KINDS.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

// A family's code fits in the four bits above a small function's kind.
const _: () = assert!(FAMILIES.len() + 2 <= 16 && KINDS.len() <= 16);

/// A family's code: 0 when not recorded, 1 for none, 2 + its index.
fn family_code(family: Option<u8>) -> u8 {
    match family {
        None => 0,
        Some(NO_FAMILY) => 1,
        Some(f) => f + 2,
    }
}

/// The family a code names.
fn family_of(code: u8) -> Result<Option<u8>, DecodeError> {
    match code {
        0 => Ok(None),
        1 => Ok(Some(NO_FAMILY)),
        c if usize::from(c - 2) < FAMILIES.len() => Ok(Some(c - 2)),
        c => Err(DecodeError(format!("unknown family {c}"))),
    }
}

/// The unit kind a code names.
fn kind_of(b: u8) -> Result<UnitKind, DecodeError> {
    KINDS
        .get(usize::from(b))
        .copied()
        .ok_or_else(|| DecodeError(format!("unknown unit kind {b}")))
}

const NOISE: [Noise; 4] = [
    Noise::Trivial,
    Noise::Imports,
    Noise::Literals,
    Noise::Generated,
];

/// The unit before, which a file's next unit is written relative to.
#[derive(Default)]
struct Prev {
    line: u32,
    byte: u32,
}

struct Out(Vec<u8>);

impl Out {
    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    fn uint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn int(&mut self, v: i64) {
        self.uint(((v << 1) ^ (v >> 63)) as u64);
    }

    fn hash(&mut self, h: Hash64) {
        self.0.extend_from_slice(&h.0.to_le_bytes());
    }

    fn str(&mut self, s: &str) {
        self.uint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn codes(&mut self, codes: &[u16]) {
        self.uint(codes.len() as u64);
        for c in codes {
            self.0.extend_from_slice(&c.to_le_bytes());
        }
    }

    fn ids(&mut self, ids: &[i64]) {
        self.uint(ids.len() as u64);
        for id in ids {
            self.int(*id);
        }
    }

    fn kind(&mut self, kind: UnitKind) {
        self.byte(kind_code(kind));
    }

    fn file(&mut self, r: &FileRecord) {
        let f = &r.file;
        self.int(r.id);
        for s in [&f.path, &f.lang, &f.status] {
            self.str(s);
        }
        self.uint(f.size);
        self.int(f.mtime_ns);
        self.hash(f.hash);
        self.uint(u64::from(f.lines));
        self.uint(u64::from(f.syntax_errors));
        self.uint(r.small.len() as u64);
        let mut line = 0u32;
        for SmallFunction(kind, name, start, end, exact, shape, family) in &r.small {
            // The family's code shares the kind's byte: logs written before it have zero
            // high bits.
            self.byte(kind_code(*kind) | family_code(*family) << 4);
            self.str(name);
            self.int(i64::from(*start) - i64::from(line));
            self.uint(u64::from(end.wrapping_sub(*start)));
            self.hash(*exact);
            self.hash(*shape);
            line = *start;
        }
    }

    /// A unit without its similarity codes.
    fn unit(&mut self, u: &UnitPrint, prev: &mut Prev) {
        self.kind(u.kind);
        self.str(&u.name);
        self.int(i64::from(u.start_line) - i64::from(prev.line));
        self.uint(u64::from(u.end_line.wrapping_sub(u.start_line)));
        self.int(i64::from(u.start_byte) - i64::from(prev.byte));
        self.uint(u64::from(u.end_byte.wrapping_sub(u.start_byte)));
        self.uint(u64::from(u.tokens));
        self.hash(u.exact);
        self.hash(u.shape);
        // The family's code shares the noise's byte: logs written before it have zero high
        // bits.
        self.byte(
            u.noise.map_or(0, |n| {
                1 + NOISE.iter().position(|m| *m == n).unwrap_or(0) as u8
            }) | family_code(u.family) << 3,
        );
        self.codes(&u.content);
        (prev.line, prev.byte) = (u.start_line, u.start_byte);
    }

    fn summary(&mut self, s: &PatternSummary) {
        self.byte(match s.clone_type {
            crate::event::CloneType::T1 => 1,
            crate::event::CloneType::T2 => 2,
            crate::event::CloneType::T3 => 3,
        });
        self.uint(u64::from(s.lines));
        self.uint(u64::from(s.tokens));
        self.0.extend_from_slice(&s.similarity.to_le_bytes());
    }
}

struct In<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl In<'_> {
    fn truncated() -> DecodeError {
        DecodeError("the event ends early".into())
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(Self::truncated)?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(DecodeError(format!("{b} is not a flag"))),
        }
    }

    fn uint(&mut self) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("a varint longer than 64 bits".into()))
    }

    fn int(&mut self) -> Result<i64, DecodeError> {
        let v = self.uint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let v = self.uint()?;
        u32::try_from(v).map_err(|_| DecodeError(format!("{v} does not fit 32 bits")))
    }

    /// A u32 written as a signed delta from `base`.
    fn after(&mut self, base: u32) -> Result<u32, DecodeError> {
        let v = i64::from(base) + self.int()?;
        u32::try_from(v).map_err(|_| DecodeError(format!("{v} does not fit 32 bits")))
    }

    fn len(&mut self) -> Result<usize, DecodeError> {
        let n = self.uint()?;
        // Every element takes at least a byte: a longer list than the bytes left is corrupt.
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len() - self.at)
            .ok_or_else(Self::truncated)
    }

    fn hash(&mut self) -> Result<Hash64, DecodeError> {
        let b = self.take(8)?;
        Ok(Hash64(u64::from_le_bytes(b.try_into().expect("8 bytes"))))
    }

    fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| DecodeError("a string that is not UTF-8".into()))
    }

    fn codes(&mut self) -> Result<Vec<u16>, DecodeError> {
        let n = self.len()?;
        let b = self.take(n.checked_mul(2).ok_or_else(Self::truncated)?)?;
        Ok(b.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect())
    }

    fn ids(&mut self) -> Result<Vec<i64>, DecodeError> {
        let n = self.len()?;
        (0..n).map(|_| self.int()).collect()
    }

    fn kind(&mut self) -> Result<UnitKind, DecodeError> {
        kind_of(self.byte()?)
    }

    fn file(&mut self) -> Result<FileRecord, DecodeError> {
        let id = self.int()?;
        let (path, lang, status) = (self.str()?, self.str()?, self.str()?);
        let file = FileState {
            path,
            lang,
            size: self.uint()?,
            mtime_ns: self.int()?,
            hash: self.hash()?,
            lines: self.u32()?,
            syntax_errors: self.u32()?,
            status,
        };
        let n = self.len()?;
        let mut small = Vec::with_capacity(n);
        let mut line = 0u32;
        for _ in 0..n {
            let b = self.byte()?;
            let kind = kind_of(b & 15)?;
            let family = family_of(b >> 4)?;
            let name = self.str()?;
            let start = self.after(line)?;
            let end = start.wrapping_add(self.u32()?);
            small.push(SmallFunction(
                kind,
                name,
                start,
                end,
                self.hash()?,
                self.hash()?,
                family,
            ));
            line = start;
        }
        Ok(FileRecord { id, file, small })
    }

    fn unit(&mut self, prev: &mut Prev) -> Result<UnitPrint, DecodeError> {
        let kind = self.kind()?;
        let name = self.str()?;
        let start_line = self.after(prev.line)?;
        let end_line = start_line.wrapping_add(self.u32()?);
        let start_byte = self.after(prev.byte)?;
        let end_byte = start_byte.wrapping_add(self.u32()?);
        let tokens = self.u32()?;
        let (exact, shape) = (self.hash()?, self.hash()?);
        let b = self.byte()?;
        let family = family_of(b >> 3)?;
        let noise = match b & 7 {
            0 => None,
            b => Some(
                *NOISE
                    .get(usize::from(b) - 1)
                    .ok_or_else(|| DecodeError(format!("unknown noise {b}")))?,
            ),
        };
        let content = self.codes()?;
        (prev.line, prev.byte) = (start_line, start_byte);
        Ok(UnitPrint {
            kind,
            name,
            start_line,
            end_line,
            start_byte,
            end_byte,
            tokens,
            exact,
            shape,
            codes: Vec::new(),
            content,
            noise,
            family,
        })
    }

    fn summary(&mut self) -> Result<PatternSummary, DecodeError> {
        use crate::event::CloneType;
        let clone_type = match self.byte()? {
            1 => CloneType::T1,
            2 => CloneType::T2,
            3 => CloneType::T3,
            b => return Err(DecodeError(format!("unknown clone type {b}"))),
        };
        let (lines, tokens) = (self.u32()?, self.u32()?);
        let b = self.take(4)?;
        Ok(PatternSummary {
            clone_type,
            lines,
            tokens,
            similarity: f32::from_le_bytes(b.try_into().expect("4 bytes")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::CloneType;

    fn unit(start_line: u32, near: bool) -> UnitPrint {
        UnitPrint {
            kind: UnitKind::Method,
            name: "merge_ranges".into(),
            start_line,
            end_line: start_line + 11,
            start_byte: start_line * 30,
            end_byte: start_line * 30 + 400,
            tokens: 97,
            exact: Hash64(u64::MAX),
            shape: Hash64(0x0123_4567_89ab_cdef),
            codes: Vec::new(),
            content: if near { vec![1, 0x8000, 65535] } else { vec![] },
            noise: (!near).then_some(Noise::Literals),
            // The last family shares the noise's byte with the last noise.
            family: Some(if near {
                NO_FAMILY
            } else {
                FAMILIES.len() as u8 - 1
            }),
        }
    }

    fn every_kind() -> Vec<Event> {
        let file = FileRecord {
            id: 3,
            file: FileState {
                path: "src/ä.py".into(),
                lang: "python".into(),
                size: 1 << 40,
                mtime_ns: -5,
                hash: Hash64(9),
                lines: 120,
                syntax_errors: 1,
                status: "indexed".into(),
            },
            small: vec![
                SmallFunction(
                    UnitKind::Function,
                    "f".into(),
                    30,
                    31,
                    Hash64(1),
                    Hash64(2),
                    Some(FAMILIES.len() as u8 - 1),
                ),
                SmallFunction(
                    UnitKind::Lambda,
                    String::new(),
                    4,
                    4,
                    Hash64(3),
                    Hash64(4),
                    None,
                ),
            ],
        };
        let summary = PatternSummary {
            clone_type: CloneType::T3,
            lines: 12,
            tokens: 90,
            similarity: 0.875,
        };
        let mut old = unit(40, true);
        old.codes = vec![7, 8, 9];
        vec![
            Event::FileAdded(file.clone()),
            Event::FileChanged(FileRecord {
                small: vec![],
                ..file
            }),
            Event::FileTouched {
                id: 3,
                size: 0,
                mtime_ns: i64::MAX,
            },
            Event::FileRemoved {
                id: i64::MAX,
                path: String::new(),
            },
            Event::UnitAdded(UnitRecord {
                id: 1,
                file_id: 3,
                unit: old,
            }),
            Event::UnitsAdded {
                file_id: 3,
                first_id: 17,
                units: vec![
                    LoggedUnit {
                        unit: unit(90, true),
                        near: true,
                    },
                    LoggedUnit {
                        unit: unit(2, false),
                        near: false,
                    },
                ],
            },
            Event::UnitRemoved {
                id: 4,
                shape: Some(Hash64(6)),
            },
            Event::UnitRemoved { id: 4, shape: None },
            Event::UnitMoved {
                id: 8,
                start_line: 1,
                end_line: 2,
                start_byte: 3,
                end_byte: u32::MAX,
            },
            Event::PatternCreated {
                id: "00000000000000ff".into(),
                key: Hash64(255),
                kind: "function".into(),
                summary: summary.clone(),
                members: vec![1, -2, 300],
            },
            Event::PatternGrown {
                id: "a".into(),
                summary: summary.clone(),
                added: vec![],
            },
            Event::PatternShrunk {
                id: "b".into(),
                summary,
                removed: vec![5],
            },
            Event::PatternDissolved { id: "c".into() },
            Event::PatternAccepted {
                id: "00000000000000ff".into(),
                reason: "generated bindings, regenerated together".into(),
                copies: vec![Hash64(1), Hash64(u64::MAX)],
                at_ms: 1_765_000_000_000,
            },
            Event::PatternUnaccepted { id: "d".into() },
        ]
    }

    #[test]
    fn small_functions_logged_as_json_before_families_read_back_without_one() {
        let old = r#"{"event":"file_added","id":3,"path":"a.py","lang":"python","size":10,
            "mtime_ns":1,"hash":"00000000000000ff","lines":2,"syntax_errors":0,
            "status":"indexed","small":[["function","f",1,2,"0000000000000001","0000000000000002"]]}"#;
        let Ok(Event::FileAdded(record)) = decode_json(old) else {
            panic!("{:?}", decode_json(old));
        };
        assert_eq!(record.small[0].6, None);
        assert_eq!(record.small[0].5, Hash64(2));
    }

    #[test]
    fn every_event_round_trips() {
        for e in every_kind() {
            assert_eq!(decode(&encode(&e)), Ok(e.clone()), "{}", e.name());
        }
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        for e in every_kind() {
            let bytes = encode(&e);
            for cut in 0..bytes.len() {
                assert!(decode(&bytes[..cut]).is_err(), "{} cut at {cut}", e.name());
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(decode(&longer).is_err());
            for i in 0..bytes.len() {
                let mut flipped = bytes.clone();
                flipped[i] ^= 0xff;
                let _ = decode(&flipped);
            }
        }
        assert!(decode(&[FORMAT, 99]).is_err());
        assert!(decode(b"{\"event\":\"file_removed\"}").is_err());
    }

    #[test]
    fn long_events_are_deflated_and_read_back() {
        let units: Vec<LoggedUnit> = (0..50)
            .map(|i| LoggedUnit {
                unit: unit(i * 14 + 1, true),
                near: true,
            })
            .collect();
        let e = Event::UnitsAdded {
            file_id: 1,
            first_id: 1000,
            units,
        };
        let bytes = encode(&e);
        assert_eq!(bytes[0], DEFLATED);
        assert_eq!(decode(&bytes), Ok(e));
        // A length that disagrees with the stream, or a damaged stream, is an error.
        let mut wrong = bytes.clone();
        wrong[1] ^= 1;
        assert!(decode(&wrong).is_err());
        let mut damaged = bytes.clone();
        let mid = damaged.len() / 2;
        damaged[mid] ^= 0x5a;
        let _ = decode(&damaged);
        assert!(decode(&[DEFLATED, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }

    #[test]
    fn a_unit_costs_tens_of_bytes_not_hundreds() {
        let units: Vec<LoggedUnit> = (0..100)
            .map(|i| LoggedUnit {
                unit: unit(i * 14 + 1, false),
                near: false,
            })
            .collect();
        let e = Event::UnitsAdded {
            file_id: 1,
            first_id: 1000,
            units,
        };
        // Before deflate, which would hide a bloated encoding of near-identical units.
        let per_unit = plain(&e).len() / 100;
        // Two hashes (16 bytes), the name (13) and about eight bytes of small integers.
        assert!(per_unit <= 40, "{per_unit} bytes per unit");
    }
}
