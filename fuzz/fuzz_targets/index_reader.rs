//! The index reader on arbitrary bytes: open them as a base index (and, if the input says so,
//! a delta segment beside it), then query every way a command does. Opening may refuse and a
//! query may report damage; nothing may panic, hang or read out of bounds.
//!
//! Input: one flags byte, then the image. Flag 1 seals the image(s) again
//! ([`cpt::index::seal`]) so that the structural checks behind the checksums are what judge a
//! mutation; without it the checksums themselves are under test. Flag 2 splits the rest into a
//! base and a delta: a little-endian u32 length of the base, the base, the delta.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use cpt::fingerprint::BANDS;
use cpt::index::{Access, Index, Segments, seal};
use cpt::detect::near::Buckets;
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            // Memory: the files written for each input cost no disk I/O.
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary directory")
    })
}

/// Hashes and band keys to ask for: those of the first units, and a few others.
fn probes(index: &Index) -> Vec<u64> {
    let mut out = vec![0, 1, u64::MAX, 0x8000_0000_0000_0000, 0xdead_beef];
    for i in 0..index.units().min(16) {
        if let Ok(hit) = index.unit(i) {
            out.extend([
                hit.exact,
                hit.shape,
                hit.shape >> 32,
                hit.exact.rotate_left(17),
            ]);
        }
    }
    out
}

/// Every query of a single index.
fn query(index: &Index) {
    let _ = (index.units(), index.bytes_len(), index.bloom_size());
    let _ = index.bloom_expected_rate();
    for i in 0..index.units().min(64) {
        let _ = index.unit(i);
    }
    for p in probes(index) {
        let _ = index.may_have_exact(p);
        let _ = index.may_have_shape(p);
        let _ = index.exact(p);
        let _ = index.shape(p);
        let _ = index.bucket(p);
        let _ = index.bucket_up_to(p, 3);
    }
    let _ = index.dirty();
    let _ = index.dissolved();
    let _ = index.measured_false_positive_rate(16);
}

fn open(base: &Path, delta: Option<&Path>, access: Access) {
    let Ok(base) = Index::open(base, access) else {
        return;
    };
    query(&base);
    let delta = delta.and_then(|d| Index::open(d, access).ok());
    if let Some(d) = &delta {
        query(d);
    }
    let mut keys = probes(&base);
    if let Some(d) = &delta {
        keys.extend(probes(d));
    }
    let Ok(segments) = Segments::new(base, delta) else {
        return;
    };
    let _ = segments.last_event();
    let _ = segments.prior();
    let _ = segments.prepare();
    for &k in &keys {
        let _ = segments.exact(k);
        let _ = segments.shape(k);
        let _ = Buckets::bucket(&segments, k);
        let _ = Buckets::bucket_up_to(&segments, k, 2);
    }
    let mut bands = [0u64; BANDS];
    for (band, k) in bands.iter_mut().zip(keys.iter().cycle()) {
        *band = *k;
    }
    let _ = segments.band_candidates(&bands, 4);
    let _ = segments.band_candidates(&bands, usize::MAX);
    // Last: a failed check marks the index damaged for every later read.
    let _ = segments.verify();
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (mut base, mut delta) = match rest.split_first_chunk::<4>() {
        Some((len, rest)) if flags & 2 != 0 => {
            let at = (u32::from_le_bytes(*len) as usize).min(rest.len());
            (rest[..at].to_vec(), Some(rest[at..].to_vec()))
        }
        _ => (rest.to_vec(), None),
    };
    if flags & 1 != 0 {
        seal(&mut base);
        if let Some(d) = &mut delta {
            seal(d);
        }
    }
    let base_path = dir().path().join("cpt.index");
    let delta_path = dir().path().join("cpt.delta.index");
    std::fs::write(&base_path, &base).expect("write the base");
    if let Some(d) = &delta {
        std::fs::write(&delta_path, d).expect("write the delta");
    }
    for access in [Access::Mapped, Access::Read] {
        open(
            &base_path,
            delta.as_ref().map(|_| delta_path.as_path()),
            access,
        );
    }
});
