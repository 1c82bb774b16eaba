//! Defects the fuzz targets under `fuzz/` found, each pinned by the smallest input that shows
//! it: bad bytes must give an error, never a panic.

use std::path::Path;

use cpt::index::{self, Access, Index, Segments};

use crate::common::{py_function, scan, write};

/// Where the header keeps field `i` (units is 2) and section `i`'s (offset, length).
const FIELD: usize = 16;
const SECTION_TABLE: usize = 80;
/// Section numbers, as `src/index.rs` orders them.
const UNITS: usize = 2;
const BLOOM: usize = 6;
const HEADER_LEN: usize = 304;

/// The index of a small scanned tree.
fn real_index() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.py", py_function("first", 3));
    write(root, "b.py", py_function("first", 3));
    write(root, "c.py", py_function("second", 7));
    scan(root, None);
    std::fs::read(root.join(".cpt/cpt.index")).unwrap()
}

fn u64_at(image: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(image[at..at + 8].try_into().unwrap())
}

fn set_u64(image: &mut [u8], at: usize, value: u64) {
    image[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// Open `image` both ways and, when it opens, run every query on it (a panic fails the test):
/// for each way, whether it opened or why not.
fn read_everything(dir: &Path, image: &[u8]) -> Vec<Result<(), String>> {
    let path = dir.join("cpt.index");
    std::fs::write(&path, image).unwrap();
    let mut opened = Vec::new();
    for access in [Access::Mapped, Access::Read] {
        let index = match Index::open(&path, access) {
            Ok(index) => index,
            Err(e) => {
                opened.push(Err(e.to_string()));
                continue;
            }
        };
        let mut probes = vec![0, u64::MAX];
        for i in 0..index.units().min(16) {
            if let Ok(hit) = index.unit(i) {
                probes.extend([hit.exact, hit.shape]);
            }
        }
        for &p in &probes {
            let _ = index.exact(p);
            let _ = index.shape(p);
            let _ = index.bucket(p);
        }
        let _ = index.dirty();
        let _ = index.dissolved();
        let _ = index.bloom_expected_rate();
        let segments = Segments::new(index, None).unwrap();
        for &p in &probes {
            let _ = segments.exact(p);
            let _ = segments.shape(p);
        }
        let _ = segments.verify();
        opened.push(Ok(()));
    }
    opened
}

fn assert_refused(image: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    for opened in read_everything(dir.path(), image) {
        let why = opened.expect_err("a bad header is refused when the index is opened");
        assert!(why.contains("not a cpt index"), "{why}");
    }
}

#[test]
fn the_real_index_reads_back_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let image = real_index();
    assert!(
        read_everything(dir.path(), &image)
            .iter()
            .all(Result::is_ok)
    );
    // Sealing a sealed image changes nothing.
    let mut sealed = image.clone();
    index::seal(&mut sealed);
    assert_eq!(sealed, image);
}

/// index_reader: a unit count whose section size overflows (`units × 44` wraps to the real
/// size) passed the size check, and every query then read past the table (in a build with
/// overflow checks, the multiplication itself panicked).
#[test]
fn a_unit_count_whose_size_overflows_is_refused() {
    let mut image = real_index();
    let units = u64_at(&image, FIELD + 8 * 2);
    let units_len = u64_at(&image, SECTION_TABLE + 16 * UNITS + 8);
    assert_eq!(units_len, units * 44);
    // (units + 2^62) × 44 = units × 44 + 11 × 2^64, and × 4 likewise wraps to units × 4.
    set_u64(&mut image, FIELD + 8 * 2, units + (1 << 62));
    index::seal(&mut image);
    assert_refused(&image);
    // Nothing else was wrong with it.
    set_u64(&mut image, FIELD + 8 * 2, units);
    index::seal(&mut image);
    let dir = tempfile::tempdir().unwrap();
    assert!(
        read_everything(dir.path(), &image)
            .iter()
            .all(Result::is_ok)
    );
}

/// index_reader: a section that starts before the body (here the unit table, moved into the
/// header) passed the bounds check, which only looked at where the sections end, and the
/// first read of it computed its chunk as `offset - body_start` (an underflow: a panic, or a
/// chunk far past the file).
#[test]
fn a_section_that_starts_before_the_body_is_refused() {
    let mut image = real_index();
    set_u64(
        &mut image,
        SECTION_TABLE + 16 * UNITS,
        (HEADER_LEN - 32) as u64,
    );
    index::seal(&mut image);
    assert_refused(&image);
}

/// Found by reading the reader while writing the index_reader target: a Bloom filter of a
/// length in bits that is not a whole number of 64-bit words passed the size check, and its
/// last word was read past the section, and past the file when the filter ends it.
#[test]
fn a_bloom_filter_of_part_of_a_word_is_refused() {
    let mut image = real_index();
    let len = image.len() as u64;
    set_u64(&mut image, SECTION_TABLE + 16 * BLOOM, len - 4);
    set_u64(&mut image, SECTION_TABLE + 16 * BLOOM + 8, 4);
    set_u64(&mut image, FIELD + 8 * 6, 32);
    index::seal(&mut image);
    assert_refused(&image);
}
