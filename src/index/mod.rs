//! Index: the catalogue's fast read side, a versioned binary file beside the database that any
//! `cpt` process maps into memory and queries without loading it.
//!
//! SQLite stays the source of truth; the index is derived from it ([`build`]) and written
//! atomically (temporary file, rename; a base is fsynced, a delta left to the page cache). The layout (all integers little-endian):
//!
//! ```text
//! header   (HEADER_LEN bytes)
//!   magic "CPTINDEX" · version u32 · chunk size u32 · last event u64 · units u64 ·
//!   band entries u64 · files u64 · patterns u64 · bloom bits u64 · bloom hashes u32 ·
//!   band directory bits u32 ·
//!   SECTIONS × (offset u64, length u64) · blake3 of the header fields before it (32 bytes)
//! chunk table: one 16-byte blake3 prefix per CHUNK (512) bytes of the body
//! body: the sections, each 8-byte aligned
//!   STRINGS  paths and names, UTF-8, interned
//!   FILES    per file: path offset u32 · path length u32 · language u32 (index in LANGS)
//!   UNITS    per unit, sorted by (exact, shape, file, line): UNIT_LEN-byte records
//!   BY_SHAPE per unit: u32 index into UNITS, sorted by (shape, exact, index)
//!   BANDS    per band key of every near-miss shape: key u32 (low half) · u32 index into NEAR,
//!            sorted
//!   NEAR     per near-miss shape, sorted: shape u64 · tokens u32 · zero u32
//!   BAND_DIR 2^bits + 1 u32: where in BANDS the keys with each value of their top `bits`
//!            bits start (and the end)
//!   PATTERNS per pattern: its key u64 (the pattern id is its 16 hex digits)
//!   BLOOM    the Bloom filter's bits, u64 words
//!   LANGS    language names, NUL-separated
//! ```
//!
//! A reader checks magic, version, sizes, section bounds and the header's hash when it opens
//! the file. Every chunk of the body is checked against its hash in the chunk table the first
//! time a query touches it (a damaged hash fails that check as surely as a damaged chunk), so
//! opening hashes the header (`HEADER_LEN` bytes) and a query a few hundred chunks, never the whole file, and a
//! damaged byte is never used. [`Index::verify`] checks every chunk. The body is mapped or read
//! chunk by chunk ([`Access`]).
//!
//! Exact and shape hashes are uniform, so UNITS and BY_SHAPE are searched by interpolation
//! ([`lower_bound`]): a lookup among a million units touches a few chunks instead of the
//! dozen a binary search does. Band keys are not (a common bucket is a step in their
//! distribution), so BANDS has a directory: a bucket is one read of the directory and a
//! bisection of a few dozen entries.

pub mod contents;
pub mod refresh;

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use rustc_hash::{FxHashMap, FxHashSet};
use thiserror::Error;

use crate::detect::near::{self, Member};
use crate::fingerprint::{BANDS, mix64};

pub const MAGIC: &[u8; 8] = b"CPTINDEX";
pub const VERSION: u32 = 6;
/// Bytes per checksummed chunk of the body.
pub const CHUNK: usize = 512;
const SECTIONS: usize = 12;
const FIELDS: usize = 7;
const HEADER_LEN: usize = 8 + 4 + 4 + 8 * FIELDS + 4 + 4 + SECTIONS * 16 + 32;
const CHUNK_HASH: usize = 16;
const UNIT_LEN: usize = 44;
const NEAR_LEN: usize = 16;
/// Band entries per directory slot the directory is sized for.
const DIR_SLOT: usize = 32;
/// Target false-positive rate of the Bloom filter.
pub const BLOOM_RATE: f64 = 0.01;

const STRINGS: usize = 0;
const FILES: usize = 1;
const UNITS: usize = 2;
const BY_SHAPE: usize = 3;
const BAND_TABLE: usize = 4;
const PATTERNS: usize = 5;
const BLOOM: usize = 6;
const LANGS: usize = 7;
const DIRTY: usize = 8;
const DISSOLVED: usize = 9;
const NEAR: usize = 10;
const BAND_DIR: usize = 11;

const UNIT_KINDS: [&str; 6] = [
    "function",
    "method",
    "constructor",
    "closure",
    "lambda",
    "block",
];

#[derive(Debug, Error)]
pub enum IndexError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// [`write_atomically`] failed: a full disk, a read-only directory.
    #[error("{path}: cannot write the index ({source})")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a cpt index ({why})")]
    Corrupt { path: String, why: String },
    #[error("{path}: index format version {found}, this cpt reads {VERSION}")]
    Version { path: String, found: u32 },
}

/// One file as the index stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub lang: String,
}

/// One unit as the index stores it. A million of these are held while an index is built, so
/// a unit names its file by position in [`Contents::files`] and its kind by [`kind_code`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitEntry {
    pub exact: u64,
    pub shape: u64,
    pub file: u32,
    pub kind: u8,
    pub name: String,
    pub start_line: u32,
    pub end_line: u32,
    pub tokens: u32,
    /// The key of the pattern the unit belongs to, if any.
    pub pattern: Option<u64>,
    pub noise: bool,
}

/// What the index is built from: every unit, and the band keys of every near-miss shape.
pub struct Contents {
    pub last_event: i64,
    /// For a delta segment: the `last_event` of the base it applies to (0 for a base).
    pub base_event: i64,
    /// For a delta segment: the files whose base units it replaces (changed, removed, or
    /// with a unit whose pattern changed).
    pub dirty: Vec<String>,
    /// For a delta segment: keys of patterns dissolved since the base; base units outside
    /// the dirty files that name one belong to no pattern now.
    pub dissolved: Vec<u64>,
    pub files: Vec<FileEntry>,
    pub units: Vec<UnitEntry>,
    /// Every near-miss shape (one with codes), whether or not it has units here.
    pub bands: Vec<BandShape>,
    /// Read while a first scan loads the catalogue: its shapes, and so their bands, are not
    /// written until the load ends, and no event marks that, so an index written from these
    /// contents would pass for current without them. Never written ([`refresh`]).
    pub loading: bool,
}

/// A near-miss shape as the index stores it: its band keys and length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BandShape {
    pub shape: u64,
    pub keys: [u64; BANDS],
    /// Its length in tokens (codes).
    pub tokens: u32,
}

/// The code of a unit kind in [`UnitEntry::kind`] (unknown kinds read as functions).
pub fn kind_code(kind: &str) -> u8 {
    UNIT_KINDS.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

/// A Bloom filter over 64-bit fingerprints, read from any word slice (the mapping or a
/// vector). Fingerprints are already uniform hashes, so the probes are double hashing of the
/// fingerprint itself: `h1 + i·h2` over `bits`.
pub struct Bloom;

impl Bloom {
    /// Bits and probes for `items` at the false-positive `rate`.
    pub fn size_for(items: usize, rate: f64) -> (u64, u32) {
        let items = items.max(1) as f64;
        let ln2 = std::f64::consts::LN_2;
        let bits = (-(items * rate.ln()) / (ln2 * ln2)).ceil().max(64.0) as u64;
        let bits = bits.div_ceil(64) * 64;
        let hashes = ((bits as f64 / items) * ln2).round().clamp(1.0, 16.0) as u32;
        (bits, hashes)
    }

    fn probes(item: u64, bits: u64, hashes: u32) -> impl Iterator<Item = u64> {
        let h1 = mix64(item);
        let h2 = mix64(h1 ^ 0x9e37_79b9_7f4a_7c15) | 1;
        (0..u64::from(hashes)).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) % bits)
    }

    fn insert(words: &mut [u64], bits: u64, hashes: u32, item: u64) {
        for bit in Self::probes(item, bits, hashes) {
            words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }
}

/// The filter item of an exact hash and of a shape hash (two domains in one filter).
fn exact_item(exact: u64) -> u64 {
    exact
}
fn shape_item(shape: u64) -> u64 {
    mix64(shape ^ 0x5348_4150_4500_0000)
}

/// The index file beside a catalogue: `.cpt/cpt.db` → `.cpt/cpt.index`.
pub fn path_for(db: &Path) -> PathBuf {
    db.with_extension("index")
}

/// Serialize `contents` into the index format.
pub fn build(contents: &Contents) -> Vec<u8> {
    let path = |u: &UnitEntry| contents.files[u.file as usize].path.as_str();
    let mut units: Vec<&UnitEntry> = contents.units.iter().collect();
    units.sort_by(|a, b| {
        (a.exact, a.shape, path(a), a.start_line, a.end_line, &a.name).cmp(&(
            b.exact,
            b.shape,
            path(b),
            b.start_line,
            b.end_line,
            &b.name,
        ))
    });

    let mut strings = Strings::default();
    let mut langs: Vec<&str> = Vec::new();
    let mut files: Vec<(u32, u32, u32)> = Vec::new();
    // Position in `contents.files` → position in the FILES section (order of first use).
    let mut file_ids: FxHashMap<u32, u32> = FxHashMap::default();
    let mut patterns: Vec<u64> = units.iter().filter_map(|u| u.pattern).collect();
    patterns.sort_unstable();
    patterns.dedup();

    let mut unit_bytes: Vec<u8> = Vec::with_capacity(units.len() * UNIT_LEN);
    for u in &units {
        let file = match file_ids.get(&u.file) {
            Some(&id) => id,
            None => {
                let entry = &contents.files[u.file as usize];
                let (off, len) = strings.intern(&entry.path);
                let lang = match langs.iter().position(|l| *l == entry.lang) {
                    Some(i) => i,
                    None => {
                        langs.push(&entry.lang);
                        langs.len() - 1
                    }
                } as u32;
                files.push((off, len, lang));
                file_ids.insert(u.file, files.len() as u32 - 1);
                files.len() as u32 - 1
            }
        };
        let (name_off, name_len) = strings.intern(&u.name);
        let pattern = u.pattern.map_or(0, |p| {
            patterns.binary_search(&p).expect("collected above") as u32 + 1
        });
        let kind = u.kind.min(UNIT_KINDS.len() as u8 - 1);
        unit_bytes.extend_from_slice(&u.exact.to_le_bytes());
        unit_bytes.extend_from_slice(&u.shape.to_le_bytes());
        unit_bytes.extend_from_slice(&pattern.to_le_bytes());
        unit_bytes.extend_from_slice(&file.to_le_bytes());
        unit_bytes.extend_from_slice(&u.start_line.to_le_bytes());
        unit_bytes.extend_from_slice(&u.end_line.to_le_bytes());
        unit_bytes.extend_from_slice(&u.tokens.to_le_bytes());
        unit_bytes.extend_from_slice(&name_off.to_le_bytes());
        unit_bytes.extend_from_slice(&(name_len.min(u32::from(u16::MAX)) as u16).to_le_bytes());
        unit_bytes.push(kind);
        unit_bytes.push(u8::from(u.noise));
    }

    let mut by_shape: Vec<u32> = (0..units.len() as u32).collect();
    by_shape.sort_by_key(|&i| (units[i as usize].shape, units[i as usize].exact, i));
    // The near-miss shapes that have units here, sorted, and their band entries.
    let mut near: Vec<&BandShape> = contents
        .bands
        .iter()
        .filter(|b| {
            by_shape
                .binary_search_by(|&i| units[i as usize].shape.cmp(&b.shape))
                .is_ok()
        })
        .collect();
    near.sort_by_key(|b| b.shape);
    near.dedup_by_key(|b| b.shape);
    let mut bands: Vec<(u32, u32)> = near
        .iter()
        .enumerate()
        .flat_map(|(i, b)| b.keys.iter().map(move |&k| (k as u32, i as u32)))
        .collect();
    bands.sort_unstable();
    bands.dedup();
    let dir_bits = directory_bits(bands.len());
    let mut directory: Vec<u32> = Vec::with_capacity((1 << dir_bits) + 1);
    for slot in 0..=(1u64 << dir_bits) {
        let first_key = slot << (32 - dir_bits);
        directory.push(bands.partition_point(|&(k, _)| u64::from(k) < first_key) as u32);
    }
    // The band table is laid out as bytes as soon as it is complete, and the pairs dropped:
    // a first scan of the Python standard library has 1.4 million (11 MB a copy).
    let band_count = bands.len();
    let band_table: Vec<u8> = bands
        .iter()
        .flat_map(|&(k, u)| k.to_le_bytes().into_iter().chain(u.to_le_bytes()))
        .collect();
    drop(bands);

    let mut items: Vec<u64> = units
        .iter()
        .flat_map(|u| [exact_item(u.exact), shape_item(u.shape)])
        .collect();
    items.sort_unstable();
    items.dedup();
    let (bloom_bits, bloom_hashes) = Bloom::size_for(items.len(), BLOOM_RATE);
    let mut words = vec![0u64; (bloom_bits / 64) as usize];
    for &item in &items {
        Bloom::insert(&mut words, bloom_bits, bloom_hashes, item);
    }
    drop(items);

    let mut sections: Vec<Vec<u8>> = vec![Vec::new(); SECTIONS];
    sections[STRINGS] = strings.bytes;
    sections[FILES] = files
        .iter()
        .flat_map(|&(o, l, g)| [o, l, g].into_iter().flat_map(u32::to_le_bytes))
        .collect();
    sections[UNITS] = unit_bytes;
    sections[BY_SHAPE] = by_shape.iter().flat_map(|i| i.to_le_bytes()).collect();
    sections[BAND_TABLE] = band_table;
    sections[PATTERNS] = patterns.iter().flat_map(|p| p.to_le_bytes()).collect();
    sections[BLOOM] = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    sections[LANGS] = langs.join("\0").into_bytes();
    let mut dirty: Vec<&str> = contents.dirty.iter().map(String::as_str).collect();
    dirty.sort_unstable();
    dirty.dedup();
    sections[DIRTY] = dirty.join("\0").into_bytes();
    let mut dissolved = contents.dissolved.clone();
    dissolved.sort_unstable();
    dissolved.dedup();
    sections[DISSOLVED] = dissolved.iter().flat_map(|p| p.to_le_bytes()).collect();
    sections[NEAR] = near
        .iter()
        .flat_map(|b| {
            let mut record = [0u8; NEAR_LEN];
            record[..8].copy_from_slice(&b.shape.to_le_bytes());
            record[8..12].copy_from_slice(&b.tokens.to_le_bytes());
            record
        })
        .collect();
    sections[BAND_DIR] = directory.iter().flat_map(|d| d.to_le_bytes()).collect();

    // The body is laid out first so that the header can be written ahead of it, then each
    // section is moved into the output and dropped: the build holds the sections and the
    // output, never a third copy.
    let mut table: Vec<(u64, u64)> = Vec::new();
    let mut body_len = 0usize;
    for section in &sections {
        body_len = body_len.next_multiple_of(8);
        table.push((body_len as u64, section.len() as u64));
        body_len += section.len();
    }
    let body_start = HEADER_LEN + body_len.div_ceil(CHUNK) * CHUNK_HASH;

    let mut out: Vec<u8> = Vec::with_capacity(body_start + body_len);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(CHUNK as u32).to_le_bytes());
    for n in [
        contents.last_event as u64,
        contents.base_event as u64,
        units.len() as u64,
        band_count as u64,
        files.len() as u64,
        patterns.len() as u64,
        bloom_bits,
    ] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(&bloom_hashes.to_le_bytes());
    out.extend_from_slice(&dir_bits.to_le_bytes());
    for (offset, len) in table {
        out.extend_from_slice(&(offset + body_start as u64).to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
    }
    out.resize(body_start, 0);
    for section in sections {
        out.resize((out.len() - body_start).next_multiple_of(8) + body_start, 0);
        out.extend_from_slice(&section);
    }
    debug_assert_eq!(out.len(), body_start + body_len);
    seal(&mut out);
    out
}

/// Write the checksums of an index image in place: the header's hash, and the hash of each
/// chunk of the body into the chunk table, the body starting where the header's first section
/// offset says. [`build`] seals what it makes; a test or fuzz target that changes an image
/// seals it again so that the reader's structural checks, not its checksums, judge the change.
/// An image too short for a header, or whose body start is out of place, is left as it is,
/// except for the chunks that fit.
pub fn seal(image: &mut [u8]) {
    if image.len() < HEADER_LEN {
        return;
    }
    let body_start = (u64_at(image, 24 + 8 * FIELDS) as usize).clamp(HEADER_LEN, image.len());
    let (head, body) = image.split_at_mut(body_start);
    for (chunk, hash) in body
        .chunks(CHUNK)
        .zip(head[HEADER_LEN..].chunks_exact_mut(CHUNK_HASH))
    {
        hash.copy_from_slice(&blake3::hash(chunk).as_bytes()[..CHUNK_HASH]);
    }
    let header_hash = *blake3::hash(&head[..HEADER_LEN - 32]).as_bytes();
    head[HEADER_LEN - 32..HEADER_LEN].copy_from_slice(&header_hash);
}

/// Bits of a band key that pick its directory slot: about [`DIR_SLOT`] entries a slot.
fn directory_bits(entries: usize) -> u32 {
    (entries / DIR_SLOT).max(1).ilog2().min(24)
}

/// Read into `buf` from `at`, until it is full or the file ends; the bytes read.
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], at + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Interned strings: each distinct text is stored once.
#[derive(Default)]
struct Strings<'a> {
    bytes: Vec<u8>,
    at: FxHashMap<&'a str, (u32, u32)>,
}

impl<'a> Strings<'a> {
    fn intern(&mut self, s: &'a str) -> (u32, u32) {
        let bytes = &mut self.bytes;
        *self.at.entry(s).or_insert_with(|| {
            let at = (bytes.len() as u32, s.len() as u32);
            bytes.extend_from_slice(s.as_bytes());
            at
        })
    }
}

/// Whether [`write_atomically`] waits for the bytes to reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// fsync the file before the rename and the directory after: a power loss leaves the old
    /// file or the new one.
    Fsync,
    /// Leave the bytes to the page cache. A reader and a killed process still see the old
    /// file or the new one; after a power loss the file may be torn, which its checked chunks
    /// reveal, and an index is rebuilt from the catalogue. For small delta segments, written
    /// once per watched save, where an fsync would cost more than the rest of the save.
    PageCache,
}

/// Write `bytes` to `path` atomically: a temporary file beside it, then a rename over `path`.
/// A reader sees the old file or the new one, never a mixture.
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    durability: Durability,
) -> Result<(), IndexError> {
    let io = |source| IndexError::Write {
        path: path.display().to_string(),
        source,
    };
    let tmp = path.with_extension(format!("index.tmp{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        if durability == Durability::Fsync {
            file.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if durability == Durability::Fsync
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// How a process reads an index's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Map the file (memmap2). For processes that query many times — a scan, the watcher, a
    /// benchmark — a touched page stays mapped and costs nothing the next time.
    Mapped,
    /// Read the chunks a query touches with positioned reads, into a per-process cache. For a
    /// process that asks once (`cpt similar`): mapping a page costs a page fault and, at exit,
    /// its unmapping, several times a positioned read (see docs/decisions.md).
    Read,
}

enum Body {
    Mapped {
        map: Mmap,
        /// One bit per chunk: checked already.
        checked: RefCell<Vec<u64>>,
    },
    Read {
        file: File,
        /// Chunks read and checked, by number. Entries are never removed or replaced.
        chunks: RefCell<FxHashMap<usize, Box<[u8]>>>,
        /// Reads spanning chunks, copied together. Never removed.
        spans: RefCell<Vec<Box<[u8]>>>,
    },
}

/// An opened index. Queries check each chunk they touch on first use.
pub struct Index {
    path: PathBuf,
    body: Body,
    len: usize,
    pub last_event: i64,
    /// A delta's base (its `last_event`); 0 for a base.
    pub base_event: i64,
    units: usize,
    band_entries: usize,
    files: usize,
    patterns: usize,
    bloom_bits: u64,
    bloom_hashes: u32,
    dir_bits: u32,
    near: usize,
    sections: [(usize, usize); SECTIONS],
    body_start: usize,
    /// Set when a chunk failed its check; every later read fails too.
    damaged: RefCell<Option<String>>,
    /// The file opened.
    identity: FileIdentity,
    /// The distinct shapes of each file's units, found on first need and kept for as long
    /// as the index is open (a watcher asks after every save).
    file_shapes: std::cell::OnceCell<FileShapes>,
    /// NEAR positions of shapes asked for so far (`None`: not a near-miss shape).
    near_of: RefCell<FxHashMap<u64, Option<u32>>>,
}

/// The distinct shapes of every file's units.
struct FileShapes {
    by_path: FxHashMap<String, u32>,
    shapes: Vec<Vec<u64>>,
}

/// Which file a path named when it was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    device: u64,
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl FileIdentity {
    fn of(m: &std::fs::Metadata) -> FileIdentity {
        #[cfg(unix)]
        let (device, inode) = {
            use std::os::unix::fs::MetadataExt;
            (m.dev(), m.ino())
        };
        #[cfg(not(unix))]
        let (device, inode) = (0, 0);
        FileIdentity {
            device,
            inode,
            len: m.len(),
            modified: m.modified().ok(),
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// A unit record read from the index, borrowing its strings from the mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit<'a> {
    pub exact: u64,
    pub shape: u64,
    pub path: &'a str,
    pub lang: &'a str,
    pub kind: &'static str,
    pub name: &'a str,
    pub start_line: u32,
    pub end_line: u32,
    pub tokens: u32,
    pub pattern: Option<u64>,
    pub noise: bool,
}

/// A read on a damaged index: the caller rebuilds it.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct Damaged(pub String);

impl Index {
    /// An index held in memory, from the bytes [`build`] made, for a process that reads
    /// the catalogue but cannot write the index beside it (a full disk, a read-only
    /// directory). `path` names it in messages; it is no file's.
    pub fn in_memory(path: &Path, bytes: &[u8]) -> Result<Index, IndexError> {
        let io = |source| IndexError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut anonymous = memmap2::MmapMut::map_anon(bytes.len().max(1)).map_err(io)?;
        anonymous[..bytes.len()].copy_from_slice(bytes);
        let map = anonymous.make_read_only().map_err(io)?;
        let identity = FileIdentity {
            device: 0,
            inode: 0,
            len: 0,
            modified: None,
        };
        let head = map[..HEADER_LEN.min(bytes.len())].to_vec();
        let checked = RefCell::new(vec![0; map.len().div_ceil(CHUNK * 64)]);
        Index::checked(
            path,
            Body::Mapped { map, checked },
            &head,
            bytes.len(),
            identity,
        )
    }

    /// Open and check an index file: magic, version, sizes, section bounds and the header's
    /// hash.
    pub fn open(path: &Path, access: Access) -> Result<Index, IndexError> {
        let shown = path.display().to_string();
        let io = |source| IndexError::Io {
            path: shown.clone(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let identity = FileIdentity::of(&file.metadata().map_err(io)?);
        let (body, head) = match access {
            Access::Mapped => {
                // SAFETY: the file is only ever replaced by rename, never written in place,
                // so the mapped bytes do not change under us; every read is bounds-checked
                // and every chunk is checked against its hash before use.
                #[allow(unsafe_code)]
                let map = unsafe { Mmap::map(&file) }.map_err(io)?;
                let head = map[..HEADER_LEN.min(map.len())].to_vec();
                // One bit per chunk of the file, a little more than the body needs.
                let checked = RefCell::new(vec![0; map.len().div_ceil(CHUNK * 64)]);
                (Body::Mapped { map, checked }, head)
            }
            Access::Read => {
                let mut head = vec![0; HEADER_LEN];
                let n = read_at(&file, &mut head, 0).map_err(io)?;
                head.truncate(n);
                let chunks = RefCell::new(FxHashMap::default());
                let spans = RefCell::new(Vec::new());
                (
                    Body::Read {
                        file,
                        chunks,
                        spans,
                    },
                    head,
                )
            }
        };
        let len = match &body {
            Body::Mapped { map, .. } => map.len(),
            Body::Read { file, .. } => file.metadata().map_err(io)?.len() as usize,
        };
        Index::checked(path, body, &head, len, identity)
    }

    /// Check an index's header (`head`, its first bytes) against its length, and make it.
    fn checked(
        path: &Path,
        body: Body,
        head: &[u8],
        len: usize,
        identity: FileIdentity,
    ) -> Result<Index, IndexError> {
        let shown = path.display().to_string();
        let corrupt = |why: &str| IndexError::Corrupt {
            path: shown.clone(),
            why: why.to_string(),
        };
        let b: &[u8] = head;
        if b.len() < HEADER_LEN || &b[..8] != MAGIC {
            return Err(corrupt("bad magic or truncated header"));
        }
        let version = u32_at(b, 8);
        if version != VERSION {
            return Err(IndexError::Version {
                path: shown,
                found: version,
            });
        }
        if u32_at(b, 12) as usize != CHUNK {
            return Err(corrupt("unexpected chunk size"));
        }
        let field = |i: usize| u64_at(b, 16 + 8 * i);
        let (last_event, base_event, units, band_entries, files, patterns, bloom_bits) = (
            field(0),
            field(1),
            field(2),
            field(3),
            field(4),
            field(5),
            field(6),
        );
        let bloom_hashes = u32_at(b, 16 + 8 * FIELDS);
        let dir_bits = u32_at(b, 20 + 8 * FIELDS);
        let mut sections = [(0usize, 0usize); SECTIONS];
        let mut end = 0usize;
        for (i, s) in sections.iter_mut().enumerate() {
            let at = 24 + 8 * FIELDS + 16 * i;
            let (offset, len) = (u64_at(b, at) as usize, u64_at(b, at + 8) as usize);
            *s = (offset, len);
            end = end.max(offset.saturating_add(len));
        }
        let body_start = sections[0].0;
        if body_start < HEADER_LEN
            || end != len
            || end < body_start
            || sections.iter().any(|&(offset, _)| offset < body_start)
        {
            return Err(corrupt("truncated or sections out of bounds"));
        }
        let chunks = (len - body_start).div_ceil(CHUNK);
        if body_start != HEADER_LEN + chunks * CHUNK_HASH {
            return Err(corrupt("chunk table does not match the file's length"));
        }
        if blake3::hash(&b[..HEADER_LEN - 32]).as_bytes() != &b[HEADER_LEN - 32..HEADER_LEN] {
            return Err(corrupt("header checksum mismatch"));
        }
        // A count from the file times a record size can overflow, and a wrapped product
        // could match the section's length.
        let holds = |section: usize, count: u64, each: usize| {
            (count as usize).checked_mul(each) == Some(sections[section].1)
        };
        let sizes_ok = holds(UNITS, units, UNIT_LEN)
            && holds(BY_SHAPE, units, 4)
            && holds(BAND_TABLE, band_entries, 8)
            && sections[NEAR].1 % NEAR_LEN == 0
            && dir_bits <= 24
            && sections[BAND_DIR].1 == ((1usize << dir_bits) + 1) * 4
            && holds(FILES, files, 12)
            && holds(PATTERNS, patterns, 8)
            && sections[BLOOM].1 as u64 * 8 == bloom_bits
            && bloom_bits % 64 == 0
            && sections[DISSOLVED].1 % 8 == 0
            && bloom_bits > 0
            && bloom_hashes > 0;
        if !sizes_ok {
            return Err(corrupt("section sizes disagree with the counts"));
        }
        Ok(Index {
            path: path.to_path_buf(),
            body,
            len,
            last_event: last_event as i64,
            base_event: base_event as i64,
            units: units as usize,
            band_entries: band_entries as usize,
            files: files as usize,
            patterns: patterns as usize,
            bloom_bits,
            bloom_hashes,
            dir_bits,
            near: sections[NEAR].1 / NEAR_LEN,
            sections,
            body_start,
            damaged: RefCell::new(None),
            identity,
            file_shapes: std::cell::OnceCell::new(),
            near_of: RefCell::new(FxHashMap::default()),
        })
    }

    /// How the index is read.
    pub fn access(&self) -> Access {
        match self.body {
            Body::Mapped { .. } => Access::Mapped,
            Body::Read { .. } => Access::Read,
        }
    }

    /// The file this index was opened from.
    pub fn identity(&self) -> FileIdentity {
        self.identity
    }

    /// Whether `path` is still the file this index was opened from (an index is only ever
    /// replaced by a rename, which makes a new file).
    pub fn is_at(&self, path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|m| FileIdentity::of(&m) == self.identity)
    }

    /// Check chunk `chunk`'s bytes `data` against its hash `want`; a failure marks the whole
    /// index damaged.
    fn check(&self, chunk: usize, data: &[u8], want: &[u8]) -> Result<(), Damaged> {
        if &blake3::hash(data).as_bytes()[..CHUNK_HASH] == want {
            return Ok(());
        }
        let why = format!(
            "{}: index chunk {chunk} fails its checksum",
            self.path.display()
        );
        *self.damaged.borrow_mut() = Some(why.clone());
        Err(Damaged(why))
    }

    /// Read chunk `chunk` and its hash from the file and check it.
    fn read_chunk(&self, file: &File, chunk: usize) -> Result<Box<[u8]>, Damaged> {
        let start = self.body_start + chunk * CHUNK;
        let mut data = vec![0; CHUNK.min(self.len - start)].into_boxed_slice();
        let mut want = [0; CHUNK_HASH];
        let read = |buf: &mut [u8], at: usize| match read_at(file, buf, at as u64) {
            Ok(n) if n == buf.len() => Ok(()),
            Ok(_) => Err(Damaged(format!(
                "{}: shorter than its header says",
                self.path.display()
            ))),
            Err(e) => Err(Damaged(format!("{}: {e}", self.path.display()))),
        };
        read(&mut want, HEADER_LEN + chunk * CHUNK_HASH)?;
        read(&mut data, start)?;
        self.check(chunk, &data, &want)?;
        Ok(data)
    }

    /// Chunk `chunk`, read and checked once per process.
    fn cached_chunk<'a>(
        &self,
        file: &File,
        chunks: &'a RefCell<FxHashMap<usize, Box<[u8]>>>,
        chunk: usize,
    ) -> Result<&'a [u8], Damaged> {
        let cached = chunks
            .borrow()
            .get(&chunk)
            .map(|data| &**data as *const [u8]);
        let ptr = match cached {
            Some(ptr) => ptr,
            None => {
                let data = self.read_chunk(file, chunk)?;
                let ptr: *const [u8] = &*data;
                chunks.borrow_mut().insert(chunk, data);
                ptr
            }
        };
        // SAFETY: a cached chunk is a boxed slice that is never removed, replaced or mutated
        // while the cache lives (entries are only inserted), and moving a box within the map
        // does not move the bytes it owns; so they outlive the borrow of the cache.
        #[allow(unsafe_code)]
        Ok(unsafe { &*ptr })
    }

    /// `len` bytes at `offset` of the file, after checking the chunks they lie in.
    fn bytes(&self, offset: usize, len: usize) -> Result<&[u8], Damaged> {
        if let Some(why) = self.damaged.borrow().as_ref() {
            return Err(Damaged(why.clone()));
        }
        if len == 0 {
            return Ok(&[]);
        }
        let first = (offset - self.body_start) / CHUNK;
        let last = (offset + len - 1 - self.body_start) / CHUNK;
        let chunk_start = |chunk: usize| self.body_start + chunk * CHUNK;
        match &self.body {
            Body::Mapped { map, checked } => {
                let b: &[u8] = map;
                let mut checked = checked.borrow_mut();
                for chunk in first..=last {
                    if checked[chunk / 64] & (1 << (chunk % 64)) != 0 {
                        continue;
                    }
                    let start = chunk_start(chunk);
                    let data = &b[start..(start + CHUNK).min(b.len())];
                    let at = HEADER_LEN + chunk * CHUNK_HASH;
                    self.check(chunk, data, &b[at..at + CHUNK_HASH])?;
                    checked[chunk / 64] |= 1 << (chunk % 64);
                }
                Ok(&b[offset..offset + len])
            }
            Body::Read {
                file,
                chunks,
                spans,
            } => {
                if first == last {
                    let at = offset - chunk_start(first);
                    return Ok(&self.cached_chunk(file, chunks, first)?[at..at + len]);
                }
                let mut span = Vec::with_capacity(len);
                for chunk in first..=last {
                    let data = self.cached_chunk(file, chunks, chunk)?;
                    let from = offset.max(chunk_start(chunk)) - chunk_start(chunk);
                    let to =
                        (offset + len).min(chunk_start(chunk) + data.len()) - chunk_start(chunk);
                    span.extend_from_slice(&data[from..to]);
                }
                let span = span.into_boxed_slice();
                let ptr: *const [u8] = &*span;
                spans.borrow_mut().push(span);
                // SAFETY: as for cached chunks: spans are only ever pushed, never removed or
                // mutated, and a boxed slice's bytes stay put when the vector grows.
                #[allow(unsafe_code)]
                Ok(unsafe { &*ptr })
            }
        }
    }

    fn section_item(&self, section: usize, i: usize, size: usize) -> Result<&[u8], Damaged> {
        self.bytes(self.sections[section].0 + i * size, size)
    }

    /// Check every chunk of the body.
    pub fn verify(&self) -> Result<(), Damaged> {
        match &self.body {
            Body::Mapped { .. } => self
                .bytes(self.body_start, self.len - self.body_start)
                .map(|_| ()),
            // One chunk at a time, keeping none.
            Body::Read { file, .. } => (0..(self.len - self.body_start).div_ceil(CHUNK))
                .try_for_each(|chunk| self.read_chunk(file, chunk).map(|_| ())),
        }
    }

    pub fn units(&self) -> usize {
        self.units
    }
    pub fn bytes_len(&self) -> usize {
        self.len
    }
    /// Bits and probes of the Bloom filter.
    pub fn bloom_size(&self) -> (u64, u32) {
        (self.bloom_bits, self.bloom_hashes)
    }

    /// The false-positive rate the filter's actual bits imply: (set bits / bits)^probes.
    pub fn bloom_expected_rate(&self) -> Result<f64, Damaged> {
        let (start, size) = self.sections[BLOOM];
        let set: u64 = self
            .bytes(start, size)?
            .chunks_exact(8)
            .map(|w| u64::from(u64_at(w, 0).count_ones()))
            .sum();
        Ok((set as f64 / self.bloom_bits as f64).powi(self.bloom_hashes as i32))
    }

    fn bloom_has(&self, item: u64) -> Result<bool, Damaged> {
        let mut ok = true;
        for bit in Bloom::probes(item, self.bloom_bits, self.bloom_hashes) {
            let word = u64_at(self.section_item(BLOOM, (bit / 64) as usize, 8)?, 0);
            if word & (1 << (bit % 64)) == 0 {
                ok = false;
                break;
            }
        }
        Ok(ok)
    }

    /// Whether the filter may hold this exact hash (false: certainly not indexed).
    pub fn may_have_exact(&self, exact: u64) -> Result<bool, Damaged> {
        self.bloom_has(exact_item(exact))
    }
    /// Whether the filter may hold this shape hash (false: certainly not indexed).
    pub fn may_have_shape(&self, shape: u64) -> Result<bool, Damaged> {
        self.bloom_has(shape_item(shape))
    }

    fn unit_record(&self, i: usize) -> Result<&[u8], Damaged> {
        self.section_item(UNITS, i, UNIT_LEN)
    }

    fn string(&self, offset: u32, len: u32) -> Result<&str, Damaged> {
        let (start, size) = self.sections[STRINGS];
        if offset as usize + len as usize > size {
            return Err(Damaged(format!(
                "{}: string out of bounds",
                self.path.display()
            )));
        }
        let bytes = self.bytes(start + offset as usize, len as usize)?;
        std::str::from_utf8(bytes)
            .map_err(|_| Damaged(format!("{}: string is not UTF-8", self.path.display())))
    }

    fn lang(&self, i: u32) -> Result<&str, Damaged> {
        let (start, size) = self.sections[LANGS];
        let all = self.bytes(start, size)?;
        std::str::from_utf8(all)
            .ok()
            .and_then(|s| s.split('\0').nth(i as usize))
            .ok_or_else(|| Damaged(format!("{}: bad language table", self.path.display())))
    }

    /// The unit at position `i` of the unit table.
    pub fn unit(&self, i: usize) -> Result<Hit<'_>, Damaged> {
        let r = self.unit_record(i)?;
        let file = u32_at(r, 20) as usize;
        if file >= self.files {
            return Err(Damaged(format!(
                "{}: file index out of range",
                self.path.display()
            )));
        }
        let f = self.section_item(FILES, file, 12)?;
        let pattern = u32_at(r, 16) as usize;
        let pattern = if pattern == 0 {
            None
        } else if pattern <= self.patterns {
            Some(u64_at(self.section_item(PATTERNS, pattern - 1, 8)?, 0))
        } else {
            return Err(Damaged(format!(
                "{}: pattern index out of range",
                self.path.display()
            )));
        };
        Ok(Hit {
            exact: u64_at(r, 0),
            shape: u64_at(r, 8),
            path: self.string(u32_at(f, 0), u32_at(f, 4))?,
            lang: self.lang(u32_at(f, 8))?,
            kind: UNIT_KINDS
                .get(r[42] as usize)
                .copied()
                .unwrap_or("function"),
            name: self.string(u32_at(r, 36), u32::from(u16::from_le_bytes([r[40], r[41]])))?,
            start_line: u32_at(r, 24),
            end_line: u32_at(r, 28),
            tokens: u32_at(r, 32),
            pattern,
            noise: r[43] != 0,
        })
    }

    /// Positions in the unit table of the units with this exact hash.
    pub fn exact(&self, exact: u64) -> Result<Vec<usize>, Damaged> {
        if !self.may_have_exact(exact)? {
            return Ok(Vec::new());
        }
        let key = |i: usize| Ok(u64_at(self.unit_record(i)?, 0));
        let mut i = lower_bound(self.units, exact, u64::MAX, key)?;
        let mut out = Vec::new();
        while i < self.units && key(i)? == exact {
            out.push(i);
            i += 1;
        }
        Ok(out)
    }

    fn by_shape(&self, i: usize) -> Result<usize, Damaged> {
        let unit = u32_at(self.section_item(BY_SHAPE, i, 4)?, 0) as usize;
        if unit >= self.units {
            return Err(Damaged(format!(
                "{}: unit index out of range",
                self.path.display()
            )));
        }
        Ok(unit)
    }

    /// Positions in the unit table of the units with this shape hash.
    pub fn shape(&self, shape: u64) -> Result<Vec<usize>, Damaged> {
        if !self.may_have_shape(shape)? {
            return Ok(Vec::new());
        }
        let key = |i: usize| Ok(u64_at(self.unit_record(self.by_shape(i)?)?, 8));
        let mut i = lower_bound(self.units, shape, u64::MAX, key)?;
        let mut out = Vec::new();
        while i < self.units && key(i)? == shape {
            out.push(self.by_shape(i)?);
            i += 1;
        }
        Ok(out)
    }

    /// The shapes in the bucket of a band key (its low 32 bits), sorted; `None` when the
    /// bucket holds more than `cap` shapes (counting stops there).
    pub fn bucket_up_to(&self, key: u64, cap: usize) -> Result<Option<Vec<Member>>, Damaged> {
        let Some((lo, end)) = self.bucket_range(key, cap)? else {
            return Ok(None);
        };
        let mut bucket = (lo..end)
            .map(|i| self.band_member(i))
            .collect::<Result<Vec<Member>, Damaged>>()?;
        bucket.sort_unstable();
        Ok(Some(bucket))
    }

    /// The band table entries of a band key (its low 32 bits); `None` when there are more
    /// than `cap`.
    fn bucket_range(&self, key: u64, cap: usize) -> Result<Option<(usize, usize)>, Damaged> {
        let (lo, end) = self.bucket_bounds(key)?;
        Ok((end - lo <= cap).then_some((lo, end)))
    }

    /// Where the band table entries of a band key (its low 32 bits) start and end: two
    /// bisections of the few dozen entries its directory slot holds (a bucket lies in one
    /// slot, since its entries share their top bits), however many entries the bucket has.
    fn bucket_bounds(&self, key: u64) -> Result<(usize, usize), Damaged> {
        let damaged = |what: &str| Damaged(format!("{}: {what}", self.path.display()));
        let key = key as u32;
        let slot = if self.dir_bits == 0 {
            0
        } else {
            (key >> (32 - self.dir_bits)) as usize
        };
        let dir = self.bytes(self.sections[BAND_DIR].0 + slot * 4, 8)?;
        let (start, stop) = (u32_at(dir, 0) as usize, u32_at(dir, 4) as usize);
        if start > stop || stop > self.band_entries {
            return Err(damaged("band directory out of range"));
        }
        let key_at = |i: usize| -> Result<u32, Damaged> {
            Ok(u32_at(self.section_item(BAND_TABLE, i, 8)?, 0))
        };
        // The first entry in `lo..hi` whose key passes `below` (`true` while under it).
        let bisect = |mut lo: usize, mut hi: usize, below: &dyn Fn(u32) -> bool| {
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if below(key_at(mid)?) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            Ok::<usize, Damaged>(lo)
        };
        let lo = bisect(start, stop, &|k| k < key)?;
        let end = bisect(lo, stop, &|k| k <= key)?;
        Ok((lo, end))
    }

    /// The near-miss shape (position in NEAR) of band table entry `i`, without reading it.
    fn band_near(&self, i: usize) -> Result<u32, Damaged> {
        Ok(u32_at(self.section_item(BAND_TABLE, i, 8)?, 4))
    }

    /// The shape of band table entry `i`.
    fn band_member(&self, i: usize) -> Result<Member, Damaged> {
        self.band_member_at(self.band_near(i)?)
    }

    /// The shape at a band entry's NEAR position, checked.
    fn band_member_at(&self, near: u32) -> Result<Member, Damaged> {
        let near = near as usize;
        if near >= self.near {
            return Err(Damaged(format!(
                "{}: near-miss shape index out of range",
                self.path.display()
            )));
        }
        self.near_shape(near)
    }

    /// The position in the NEAR table of a near-miss shape.
    fn near_position(&self, shape: u64) -> Result<Option<u32>, Damaged> {
        let key = |i: usize| Ok(u64_at(self.section_item(NEAR, i, NEAR_LEN)?, 0));
        let i = lower_bound(self.near, shape, u64::MAX, key)?;
        Ok((i < self.near && key(i)? == shape).then_some(i as u32))
    }

    /// Near-miss shape `i` of the NEAR table.
    fn near_shape(&self, i: usize) -> Result<Member, Damaged> {
        let r = self.section_item(NEAR, i, NEAR_LEN)?;
        Ok(Member {
            shape: u64_at(r, 0),
            tokens: u32_at(r, 8),
        })
    }

    /// The base's shapes that may be gone from a live index whose dirty files are `paths`:
    /// those of the units in these files, by key and by NEAR position. A mapped index (a
    /// process that asks again and again) keeps every file's shapes after the first pass
    /// over its units; one read chunk by chunk (a process that asks once) keeps nothing.
    fn shapes_in_files(&self, paths: &[String]) -> Result<MaybeGone, Damaged> {
        let mut shapes = FxHashSet::default();
        if self.access() == Access::Read {
            let mut dirty = vec![false; self.files];
            for (i, file) in dirty.iter_mut().enumerate() {
                let f = self.section_item(FILES, i, 12)?;
                let path = self.string(u32_at(f, 0), u32_at(f, 4))?;
                *file = paths.binary_search_by(|p| p.as_str().cmp(path)).is_ok();
            }
            if dirty.contains(&true) {
                for i in 0..self.units {
                    let r = self.unit_record(i)?;
                    if dirty.get(u32_at(r, 20) as usize) == Some(&true) {
                        shapes.insert(u64_at(r, 8));
                    }
                }
            }
        } else {
            let files = match self.file_shapes.get() {
                Some(files) => files,
                None => {
                    let files = self.read_file_shapes()?;
                    self.file_shapes.get_or_init(|| files)
                }
            };
            for path in paths {
                if let Some(&file) = files.by_path.get(path) {
                    shapes.extend(files.shapes[file as usize].iter().copied());
                }
            }
        }
        let mut near_of = self.near_of.borrow_mut();
        let mut near = FxHashSet::default();
        for &shape in &shapes {
            let position = match near_of.get(&shape) {
                Some(&position) => position,
                None => *near_of.entry(shape).or_insert(self.near_position(shape)?),
            };
            near.extend(position);
        }
        Ok(MaybeGone { shapes, near })
    }

    /// One pass over the units: the distinct shapes of each file.
    fn read_file_shapes(&self) -> Result<FileShapes, Damaged> {
        let mut by_path = FxHashMap::default();
        for i in 0..self.files {
            let f = self.section_item(FILES, i, 12)?;
            by_path.insert(
                self.string(u32_at(f, 0), u32_at(f, 4))?.to_string(),
                i as u32,
            );
        }
        let mut shapes = vec![Vec::new(); self.files];
        for i in 0..self.units {
            let r = self.unit_record(i)?;
            if let Some(file) = shapes.get_mut(u32_at(r, 20) as usize) {
                file.push(u64_at(r, 8));
            }
        }
        for file in &mut shapes {
            file.sort_unstable();
            file.dedup();
            file.shrink_to_fit();
        }
        Ok(FileShapes { by_path, shapes })
    }

    /// The shapes in the bucket of a band key (its low 32 bits), sorted.
    pub fn bucket(&self, key: u64) -> Result<Vec<Member>, Damaged> {
        Ok(self.bucket_up_to(key, usize::MAX)?.unwrap_or_default())
    }

    /// The filter's false-positive rate measured on `probes` fingerprints that are not in it
    /// (pseudo-random values checked against the tables).
    pub fn measured_false_positive_rate(&self, probes: usize) -> Result<f64, Damaged> {
        let (mut tried, mut positive) = (0usize, 0usize);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        while tried < probes {
            x = mix64(x.wrapping_add(0x9e37_79b9_7f4a_7c15));
            if !self.bloom_has(x)? {
                tried += 1;
                continue;
            }
            // A positive: count it unless the value really is indexed.
            let real = !self.exact_unfiltered(x)?.is_empty();
            if !real {
                tried += 1;
                positive += 1;
            }
        }
        Ok(positive as f64 / tried as f64)
    }

    fn exact_unfiltered(&self, exact: u64) -> Result<Vec<usize>, Damaged> {
        let key = |i: usize| Ok(u64_at(self.unit_record(i)?, 0));
        let i = lower_bound(self.units, exact, u64::MAX, key)?;
        Ok(if i < self.units && key(i)? == exact {
            vec![i]
        } else {
            Vec::new()
        })
    }
}

/// First position in `0..n` where `key(i) >= target`, for ascending keys spread uniformly over
/// `0..=max`. Interpolation guesses where `target` falls between the keys known to bracket it,
/// and a second probe about √span past the guess, on the side the target lies, brackets it
/// from the other side too: uniform keys put the target within that distance of the guess,
/// so each round shrinks the range to its square root, and the probes of the last rounds
/// fall on one page. Whenever a round fails to halve the range the next probe bisects, which
/// bounds the worst case by three times a binary search.
pub fn lower_bound<E>(
    n: usize,
    target: u64,
    max: u64,
    key: impl Fn(usize) -> Result<u64, E>,
) -> Result<usize, E> {
    // Keys before `lo` are below `target`, keys from `hi` on are not; the keys in between lie
    // in `below..=above`.
    let (mut lo, mut hi) = (0usize, n);
    let (mut below, mut above) = (0u64, max);
    let mut interpolate = true;
    while lo < hi {
        let span = hi - lo;
        if interpolate && above > below {
            let into = u128::from(target.saturating_sub(below).min(above - below));
            let guess = into * span as u128 / (u128::from(above - below) + 1);
            let mid = lo + (guess as usize).min(span - 1);
            let reach = span.isqrt() + 1;
            let k = key(mid)?;
            if k < target {
                (lo, below) = (mid + 1, k);
                let ahead = (mid + reach).min(hi - 1);
                if ahead >= lo {
                    let k = key(ahead)?;
                    if k < target {
                        (lo, below) = (ahead + 1, k);
                    } else {
                        (hi, above) = (ahead, k);
                    }
                }
            } else {
                (hi, above) = (mid, k);
                let behind = mid.saturating_sub(reach).max(lo);
                if behind < hi {
                    let k = key(behind)?;
                    if k < target {
                        (lo, below) = (behind + 1, k);
                    } else {
                        (hi, above) = (behind, k);
                    }
                }
            }
        } else {
            let mid = lo + span / 2;
            let k = key(mid)?;
            if k < target {
                (lo, below) = (mid + 1, k);
            } else {
                (hi, above) = (mid, k);
            }
        }
        interpolate = !interpolate || (hi - lo) * 2 <= span;
    }
    Ok(lo)
}

impl Index {
    /// The files a delta segment replaces, sorted.
    pub fn dirty(&self) -> Result<Vec<&str>, Damaged> {
        let (start, size) = self.sections[DIRTY];
        let all = std::str::from_utf8(self.bytes(start, size)?)
            .map_err(|_| Damaged(format!("{}: bad dirty-file table", self.path.display())))?;
        Ok(if all.is_empty() {
            Vec::new()
        } else {
            all.split('\0').collect()
        })
    }

    /// Keys of the patterns a delta segment says were dissolved since its base, sorted.
    pub fn dissolved(&self) -> Result<Vec<u64>, Damaged> {
        let (start, size) = self.sections[DISSOLVED];
        Ok(self
            .bytes(start, size)?
            .chunks_exact(8)
            .map(|c| u64_at(c, 0))
            .collect())
    }
}

/// Everything a delta segment holds, read back: the next delta starts from it, reads only the
/// events after `since`, and takes the units of the files no later event names from here
/// instead of from the catalogue.
#[derive(Clone, Debug, Default)]
pub struct Prior {
    pub since: i64,
    pub dirty: Vec<String>,
    pub dissolved: Vec<u64>,
    pub files: Vec<FileEntry>,
    pub units: Vec<UnitEntry>,
    /// The band keys (low 32 bits) and length of every near-miss shape with units here.
    pub bands: FxHashMap<u64, (Vec<u32>, u32)>,
}

impl Prior {
    /// What a delta segment built from `contents` reads back as.
    pub fn of(contents: Contents) -> Prior {
        let Contents {
            last_event,
            mut dirty,
            mut dissolved,
            files,
            units,
            bands,
            ..
        } = contents;
        dirty.sort_unstable();
        dirty.dedup();
        dissolved.sort_unstable();
        dissolved.dedup();
        let with_units: FxHashSet<u64> = units.iter().map(|u| u.shape).collect();
        let bands = bands
            .into_iter()
            .filter(|b| with_units.contains(&b.shape))
            .map(|b| {
                let mut keys: Vec<u32> = b.keys.iter().map(|&k| k as u32).collect();
                keys.sort_unstable();
                keys.dedup();
                (b.shape, (keys, b.tokens))
            })
            .collect();
        Prior {
            since: last_event,
            dirty,
            dissolved,
            files,
            units,
            bands,
        }
    }
}

/// A base index and, optionally, the delta segment beside it: queried together, they answer
/// as one index built from the catalogue at the delta's last event. A base unit in one of the
/// delta's dirty files is replaced by the delta's units of that file; a base unit elsewhere
/// whose pattern the delta lists as dissolved belongs to no pattern.
pub struct Segments {
    pub base: Index,
    pub delta: Option<Index>,
    dirty: Vec<String>,
    dissolved: Vec<u64>,
    /// Shapes with a base unit in a dirty file (found on first need): only those can be
    /// gone from the live index.
    maybe_gone: std::cell::OnceCell<MaybeGone>,
}

/// The base's shapes that may be gone from a live index: by key, and by position in the
/// base's NEAR table (which its band table names).
struct MaybeGone {
    shapes: FxHashSet<u64>,
    near: FxHashSet<u32>,
}

impl Segments {
    /// Pair a base with its delta; a delta built on another base is an error (the caller
    /// rebuilds).
    pub fn new(base: Index, delta: Option<Index>) -> Result<Segments, Damaged> {
        let (mut dirty, mut dissolved) = (Vec::new(), Vec::new());
        if let Some(d) = &delta {
            if d.base_event != base.last_event {
                return Err(Damaged(format!(
                    "{}: delta segment built on another base",
                    d.path.display()
                )));
            }
            dirty = d.dirty()?.into_iter().map(str::to_string).collect();
            dissolved = d.dissolved()?;
        }
        Ok(Segments {
            base,
            delta,
            dirty,
            dissolved,
            maybe_gone: std::cell::OnceCell::new(),
        })
    }

    /// Check every chunk of the base and the delta (queries check only what they read).
    pub fn verify(&self) -> Result<(), Damaged> {
        self.base.verify()?;
        self.delta.as_ref().map_or(Ok(()), Index::verify)
    }

    /// The delta segment, if any, read back whole (see [`Prior`]).
    pub fn prior(&self) -> Result<Option<Prior>, Damaged> {
        let Some(d) = &self.delta else {
            return Ok(None);
        };
        let mut prior = Prior {
            since: d.last_event,
            dirty: self.dirty.clone(),
            dissolved: self.dissolved.clone(),
            ..Prior::default()
        };
        let mut file_pos: FxHashMap<&str, u32> = FxHashMap::default();
        for i in 0..d.units {
            let hit = d.unit(i)?;
            let file = *file_pos.entry(hit.path).or_insert_with(|| {
                prior.files.push(FileEntry {
                    path: hit.path.to_string(),
                    lang: hit.lang.to_string(),
                });
                prior.files.len() as u32 - 1
            });
            prior.units.push(UnitEntry {
                exact: hit.exact,
                shape: hit.shape,
                file,
                kind: kind_code(hit.kind),
                name: hit.name.to_string(),
                start_line: hit.start_line,
                end_line: hit.end_line,
                tokens: hit.tokens,
                pattern: hit.pattern,
                noise: hit.noise,
            });
        }
        let mut keys: Vec<Vec<u32>> = vec![Vec::new(); d.near];
        for i in 0..d.band_entries {
            let e = d.section_item(BAND_TABLE, i, 8)?;
            let near = u32_at(e, 4) as usize;
            keys.get_mut(near)
                .ok_or_else(|| {
                    Damaged(format!(
                        "{}: near-miss shape index out of range",
                        d.path.display()
                    ))
                })?
                .push(u32_at(e, 0));
        }
        for (i, keys) in keys.into_iter().enumerate() {
            let m = d.near_shape(i)?;
            prior.bands.insert(m.shape, (keys, m.tokens));
        }
        Ok(Some(prior))
    }

    /// The event the segments are up to date with.
    pub fn last_event(&self) -> i64 {
        self.delta
            .as_ref()
            .map_or(self.base.last_event, |d| d.last_event)
    }

    fn is_dirty(&self, path: &str) -> bool {
        self.dirty
            .binary_search_by(|p| p.as_str().cmp(path))
            .is_ok()
    }

    fn base_hits(&self, positions: Vec<usize>) -> Result<Vec<Hit<'_>>, Damaged> {
        let mut out = Vec::new();
        for i in positions {
            let mut hit = self.base.unit(i)?;
            if self.is_dirty(hit.path) {
                continue;
            }
            if hit
                .pattern
                .is_some_and(|p| self.dissolved.binary_search(&p).is_ok())
            {
                hit.pattern = None;
            }
            out.push(hit);
        }
        Ok(out)
    }

    fn delta_hits(
        &self,
        lookup: impl Fn(&Index) -> Result<Vec<usize>, Damaged>,
    ) -> Result<Vec<Hit<'_>>, Damaged> {
        let Some(delta) = &self.delta else {
            return Ok(Vec::new());
        };
        lookup(delta)?.into_iter().map(|i| delta.unit(i)).collect()
    }

    /// Units with this exact hash.
    pub fn exact(&self, exact: u64) -> Result<Vec<Hit<'_>>, Damaged> {
        let mut out = self.base_hits(self.base.exact(exact)?)?;
        out.extend(self.delta_hits(|d| d.exact(exact))?);
        Ok(out)
    }

    /// Units with this shape hash.
    pub fn shape(&self, shape: u64) -> Result<Vec<Hit<'_>>, Damaged> {
        let mut out = self.base_hits(self.base.shape(shape)?)?;
        out.extend(self.delta_hits(|d| d.shape(shape))?);
        Ok(out)
    }

    /// Tell the segments which of the base's shapes may be gone: the shapes of the units
    /// removed since the base was built, as the catalogue's log names them. Spares a process
    /// that asks once a pass over every unit of the base to find the shapes of its dirty
    /// files (80 ms on the JDK). Any superset of those shapes is correct too: a shape that was
    /// not removed is in the live index, with the base's record or the delta's.
    pub fn know_gone(&self, shapes: impl IntoIterator<Item = u64>) -> Result<(), Damaged> {
        if self.delta.is_none() || self.maybe_gone.get().is_some() {
            return Ok(());
        }
        let shapes: FxHashSet<u64> = shapes.into_iter().collect();
        let mut near = FxHashSet::default();
        for &shape in &shapes {
            near.extend(self.base.near_position(shape)?);
        }
        let _ = self.maybe_gone.set(MaybeGone { shapes, near });
        Ok(())
    }

    /// Read ahead what live buckets need (the base's shapes by file), so that the first
    /// bucket a scan asks for does not pay for it.
    pub fn prepare(&self) -> Result<(), Damaged> {
        if self.delta.is_some() && self.maybe_gone.get().is_none() {
            let gone = self.base.shapes_in_files(&self.dirty)?;
            let _ = self.maybe_gone.set(gone);
        }
        Ok(())
    }

    /// The bucket of a band key as a fresh index would hold it: the base's shapes that still
    /// have a unit outside the dirty files, and the delta's. `None` when it holds more than
    /// `cap` shapes (counting stops there).
    fn live_bucket(&self, key: u64, cap: usize) -> Result<Option<Vec<Member>>, Damaged> {
        let Some(delta) = &self.delta else {
            return self.base.bucket_up_to(key, cap);
        };
        let gone = match self.maybe_gone.get() {
            Some(gone) => gone,
            None => {
                let gone = self.base.shapes_in_files(&self.dirty)?;
                self.maybe_gone.get_or_init(|| gone)
            }
        };
        let (lo, end) = self.base.bucket_bounds(key)?;
        // Count first, from the band table alone: a shape with no base unit in a dirty file
        // is in the bucket (with the base's record or the delta's), so more than `cap` of
        // those is over the cap without a shape read. A common band key's bucket holds
        // thousands.
        let mut sure = 0;
        for i in lo..end {
            if !gone.near.contains(&self.base.band_near(i)?) {
                sure += 1;
                if sure > cap {
                    return Ok(None);
                }
            }
        }
        // A shape in both keeps the delta's record: its name union is the current one.
        let newer = delta.bucket(key)?;
        let mut live = Vec::with_capacity((end - lo).min(cap.saturating_add(1)));
        for i in lo..end {
            if live.len() > cap {
                break;
            }
            let shape = self.base.band_member(i)?;
            if newer.iter().any(|m| m.shape == shape.shape) {
                continue;
            }
            if !gone.shapes.contains(&shape.shape)
                || !self.base_hits(self.base.shape(shape.shape)?)?.is_empty()
            {
                live.push(shape);
            }
        }
        live.extend(newer);
        live.sort_unstable();
        Ok(Some(live).filter(|b| b.len() <= cap))
    }

    /// Shapes sharing a bucket of at most `cap` shapes with any of these band keys, sorted.
    pub fn band_candidates(&self, keys: &[u64; BANDS], cap: usize) -> Result<Vec<u64>, Damaged> {
        let mut out = Vec::new();
        for &key in keys {
            out.extend(
                self.live_bucket(key, cap)?
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| m.shape),
            );
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

impl near::Buckets for Segments {
    type Error = Damaged;
    fn bucket(&self, key: u64) -> Result<Vec<Member>, Damaged> {
        Ok(self.live_bucket(key, usize::MAX)?.unwrap_or_default())
    }
    fn bucket_up_to(&self, key: u64, cap: usize) -> Result<Option<Vec<Member>>, Damaged> {
        self.live_bucket(key, cap)
    }

    // Without a delta, the two buckets meet on their band entries' NEAR positions (one
    // number each, no shape record read), and only the shapes in both are read: a crowded
    // bucket holds hundreds.
    fn shared(&self, key: u64, also: u64, cap: usize) -> Result<Option<Vec<Member>>, Damaged> {
        if self.delta.is_some() {
            let (Some(a), Some(b)) = (self.live_bucket(key, cap)?, self.live_bucket(also, cap)?)
            else {
                return Ok(None);
            };
            let b: FxHashSet<u64> = b.into_iter().map(|m| m.shape).collect();
            return Ok(Some(
                a.into_iter().filter(|m| b.contains(&m.shape)).collect(),
            ));
        }
        let base = &self.base;
        let (Some((lo, end)), Some((lo2, end2))) =
            (base.bucket_range(key, cap)?, base.bucket_range(also, cap)?)
        else {
            return Ok(None);
        };
        let positions = |lo: usize, end: usize| -> Result<Vec<u32>, Damaged> {
            let mut p = (lo..end)
                .map(|i| base.band_near(i))
                .collect::<Result<Vec<u32>, Damaged>>()?;
            p.sort_unstable();
            Ok(p)
        };
        let (a, b) = (positions(lo, end)?, positions(lo2, end2)?);
        let mut shared = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared.push(base.band_member_at(a[i])?);
                    i += 1;
                    j += 1;
                }
            }
        }
        shared.sort_unstable();
        Ok(Some(shared))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(exact: u64, shape: u64, file: u32, line: u32, pattern: Option<u64>) -> UnitEntry {
        UnitEntry {
            exact,
            shape,
            file,
            kind: kind_code("function"),
            name: format!("f{line}"),
            start_line: line,
            end_line: line + 9,
            tokens: 60,
            pattern,
            noise: false,
        }
    }

    fn sample() -> Contents {
        let mut units = Vec::new();
        for i in 0..5000u64 {
            units.push(entry(
                mix64(i),
                mix64(i / 3 + 1_000_000),
                (i % 97) as u32,
                i as u32,
                (i % 5 == 0).then_some(i / 3),
            ));
        }
        let bands = (0..2000u64)
            .map(|s| BandShape {
                shape: mix64(s + 1_000_000),
                keys: std::array::from_fn(|b| mix64(s * 31 + b as u64 % 7)),
                tokens: 60,
            })
            .collect();
        Contents {
            last_event: 42,
            base_event: 0,
            dirty: Vec::new(),
            dissolved: Vec::new(),
            files: (0..97)
                .map(|i| FileEntry {
                    path: format!("f{i}.py"),
                    lang: "python".to_string(),
                })
                .collect(),
            units,
            bands,
            loading: false,
        }
    }

    const ACCESSES: [Access; 2] = [Access::Mapped, Access::Read];

    fn open(bytes: &[u8], access: Access) -> (tempfile::TempDir, Result<Index, IndexError>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cpt.index");
        write_atomically(&path, bytes, Durability::Fsync).unwrap();
        let index = Index::open(&path, access);
        (dir, index)
    }

    #[test]
    fn lookups_find_every_unit_by_exact_and_shape() {
        let contents = sample();
        let bytes = build(&contents);
        for access in ACCESSES {
            lookups_find_every_unit(&contents, &bytes, access);
        }
    }

    fn lookups_find_every_unit(contents: &Contents, bytes: &[u8], access: Access) {
        let (_dir, index) = open(bytes, access);
        let index = index.unwrap();
        assert_eq!(index.last_event, 42);
        assert_eq!(index.units(), 5000);
        for u in &contents.units {
            let found = index.exact(u.exact).unwrap();
            assert_eq!(found.len(), 1);
            let hit = index.unit(found[0]).unwrap();
            assert_eq!(
                (hit.path, hit.start_line, hit.name),
                (
                    contents.files[u.file as usize].path.as_str(),
                    u.start_line,
                    u.name.as_str()
                )
            );
            assert_eq!(hit.pattern, u.pattern);
            let same_shape = index.shape(u.shape).unwrap();
            assert_eq!(
                same_shape.len(),
                contents.units.iter().filter(|v| v.shape == u.shape).count()
            );
        }
        assert!(index.exact(7).unwrap().is_empty());
        index.verify().unwrap();
    }

    #[test]
    fn an_index_held_in_memory_answers_as_its_file_would_and_checks_its_chunks() {
        let contents = sample();
        let bytes = build(&contents);
        let path = Path::new("/nowhere/cpt.index");
        let index = Index::in_memory(path, &bytes).unwrap();
        assert!(!index.is_at(path));
        for u in &contents.units {
            let found = index.exact(u.exact).unwrap();
            assert_eq!(found.len(), 1);
            assert_eq!(index.unit(found[0]).unwrap().name, u.name);
        }
        index.verify().unwrap();
        let mut damaged = bytes.clone();
        damaged[bytes.len() / 2] ^= 0x10;
        assert!(Index::in_memory(path, &damaged).unwrap().verify().is_err());
        assert!(matches!(
            Index::in_memory(path, &bytes[..100]),
            Err(IndexError::Corrupt { .. })
        ));
        // Where it cannot be written, writing says so.
        assert!(matches!(
            write_atomically(path, &bytes, Durability::PageCache),
            Err(IndexError::Write { .. })
        ));
    }

    #[test]
    fn interpolation_search_finds_the_lower_bound_within_three_times_binary_search() {
        let mut x = 7u64;
        let mut next = || {
            x = mix64(x.wrapping_add(1));
            x
        };
        for n in [0usize, 1, 2, 3, 10, 1000, 100_000] {
            // Uniform keys, keys in runs of duplicates, and keys crowded into a corner.
            let uniform: Vec<u64> = (0..n).map(|_| next()).collect();
            let runs: Vec<u64> = (0..n).map(|i| mix64((i / 7) as u64)).collect();
            let skewed: Vec<u64> = (0..n).map(|i| (i as u64).pow(3) % 5000).collect();
            for (case, mut keys) in [uniform, runs, skewed].into_iter().enumerate() {
                keys.sort_unstable();
                let total = std::cell::Cell::new(0usize);
                let mut searches = 0usize;
                let bound = 3 * (usize::BITS - n.leading_zeros()) as usize + 3;
                let mut targets: Vec<u64> = keys.iter().step_by(97).copied().collect();
                targets.extend(keys.iter().step_by(89).map(|k| k.wrapping_add(1)));
                targets.extend([0, 1, u64::MAX, next(), next()]);
                for target in targets {
                    let probes = std::cell::Cell::new(0usize);
                    let found = lower_bound(n, target, u64::MAX, |i| {
                        probes.set(probes.get() + 1);
                        Ok::<_, ()>(keys[i])
                    })
                    .unwrap();
                    assert_eq!(found, keys.partition_point(|&k| k < target), "n {n}");
                    assert!(probes.get() <= bound, "n {n}: {} probes", probes.get());
                    total.set(total.get() + probes.get());
                    searches += 1;
                }
                // Uniform keys take a handful of probes where bisection takes 17 at 100,000.
                if case == 0 && n == 100_000 {
                    let mean = total.get() as f64 / searches as f64;
                    assert!(mean < 8.0, "{mean} probes on average");
                }
            }
        }
    }

    #[test]
    fn band_buckets_return_the_shapes_that_share_a_key() {
        let contents = sample();
        let (_dir, index) = open(&build(&contents), Access::Read);
        let segments = Segments::new(index.unwrap(), None).unwrap();
        let BandShape { shape, keys, .. } = contents.bands[10];
        let found = segments.band_candidates(&keys, usize::MAX).unwrap();
        assert!(found.contains(&shape));
        // Every shape whose band keys share one with `keys` (low 32 bits) is found.
        for BandShape {
            shape: other,
            keys: other_keys,
            ..
        } in &contents.bands
        {
            let shares = other_keys
                .iter()
                .any(|k| keys.iter().any(|q| *q as u32 == *k as u32));
            assert_eq!(shares, found.contains(other), "{other:x}");
        }
        // Buckets over the cap say nothing.
        assert!(segments.band_candidates(&keys, 0).unwrap().is_empty());
    }

    #[test]
    fn two_buckets_meet_on_their_shapes_as_the_buckets_themselves_say() {
        use crate::detect::near::Buckets;
        let contents = sample();
        let (_dir, index) = open(&build(&contents), Access::Read);
        let segments = Segments::new(index.unwrap(), None).unwrap();
        let mut met = 0;
        for band in contents.bands.iter().take(40) {
            for (i, &key) in band.keys.iter().enumerate() {
                let also = band.keys[(i + 1) % band.keys.len()];
                let shared = segments.shared(key, also, usize::MAX).unwrap().unwrap();
                let a = segments.bucket(key).unwrap();
                let b: Vec<u64> = segments
                    .bucket(also)
                    .unwrap()
                    .iter()
                    .map(|m| m.shape)
                    .collect();
                let both: Vec<Member> = a.into_iter().filter(|m| b.contains(&m.shape)).collect();
                assert_eq!(shared, both);
                assert!(shared.iter().any(|m| m.shape == band.shape));
                met += shared.len();
                // Over the cap, nothing.
                assert_eq!(segments.shared(key, also, 0).unwrap(), None);
            }
        }
        assert!(met > 0);
    }

    #[test]
    fn the_bloom_filter_keeps_to_its_rate() {
        let contents = sample();
        let (_dir, index) = open(&build(&contents), Access::Mapped);
        let rate = index
            .unwrap()
            .measured_false_positive_rate(200_000)
            .unwrap();
        assert!(rate < BLOOM_RATE * 1.2 && rate > BLOOM_RATE * 0.5, "{rate}");
    }

    #[test]
    fn damage_is_detected() {
        let bytes = build(&sample());
        for access in ACCESSES {
            damage_is_detected_with(&bytes, access);
        }
    }

    fn damage_is_detected_with(bytes: &[u8], access: Access) {
        let open = |bytes: &[u8]| open(bytes, access);
        let (_d, ok) = open(bytes);
        assert!(ok.is_ok());
        // Truncated.
        let (_d, r) = open(&bytes[..bytes.len() - 100]);
        assert!(
            matches!(r, Err(IndexError::Corrupt { .. })),
            "{:?}",
            r.err()
        );
        // Wrong version.
        let mut v = bytes.to_vec();
        v[8] = 9;
        let (_d, r) = open(&v);
        assert!(matches!(r, Err(IndexError::Version { found: 9, .. })));
        // A flipped header field.
        let mut h = bytes.to_vec();
        h[20] ^= 1;
        let (_d, r) = open(&h);
        assert!(matches!(r, Err(IndexError::Corrupt { .. })));
        // A flipped byte in the chunk table or anywhere in the body: opens, then fails the
        // first read of its chunk.
        for at in [
            HEADER_LEN + 5,
            HEADER_LEN + 40_000,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            let mut f = bytes.to_vec();
            f[at] ^= 0x10;
            let (_d, r) = open(&f);
            match r {
                Err(IndexError::Corrupt { .. }) => {}
                Ok(index) => assert!(index.verify().is_err(), "byte {at}"),
                Err(e) => panic!("{e}"),
            }
        }
        // A damaged unit record fails the lookup that reads it, and every read after it.
        let (_d, ok) = open(bytes);
        let units_at = ok.unwrap().sections[UNITS].0;
        let mut f = bytes.to_vec();
        f[units_at + 3] ^= 0x01;
        let (_d, r) = open(&f);
        let index = r.unwrap();
        assert!(index.unit(0).is_err());
        assert!(index.unit(index.units() - 1).is_err());
    }
}
