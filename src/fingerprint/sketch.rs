//! MinHash sketches of similarity codes and their locality-sensitive hashing bands.

use super::hash::mix64;

/// Bins of a similarity sketch.
pub const SKETCH_BINS: usize = 32;

/// Locality-sensitive hashing bands over a sketch: bands × rows = bins.
pub const BANDS: usize = 16;

const ROWS: usize = SKETCH_BINS / BANDS;

/// Consecutive similarity codes hashed together into one shingle.
const SHINGLE: usize = 3;

/// A one-permutation MinHash sketch of a code stream's shingles, densified so that every bin
/// is filled. Equal bins estimate the Jaccard similarity of the two shingle sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sketch(pub [u32; SKETCH_BINS]);

impl Sketch {
    pub fn of(codes: &[u16]) -> Sketch {
        let mut bins = [u32::MAX; SKETCH_BINS];
        let mut filled = [false; SKETCH_BINS];
        let mut add = |shingle: &[u16]| {
            let mut packed = 0u64;
            for &c in shingle {
                packed = (packed << 16) | u64::from(c);
            }
            let h = mix64(packed ^ ((shingle.len() as u64) << 60));
            let bin = (h >> 59) as usize % SKETCH_BINS;
            bins[bin] = bins[bin].min(h as u32);
            filled[bin] = true;
        };
        if codes.len() < SHINGLE {
            add(codes);
        } else {
            codes.windows(SHINGLE).for_each(&mut add);
        }
        // Optimal densification: an empty bin borrows the value of a filled bin chosen by a
        // hash of (bin, attempt), so similar streams borrow alike.
        let source = bins;
        for bin in (0..SKETCH_BINS).filter(|&bin| !filled[bin]) {
            let donor = (0u64..)
                .map(|attempt| {
                    (mix64(((bin as u64) << 32) | attempt) % SKETCH_BINS as u64) as usize
                })
                .find(|&other| filled[other])
                .expect("every stream has at least one shingle");
            bins[bin] = source[donor];
        }
        Sketch(bins)
    }

    /// Fraction of equal bins: an estimate of the Jaccard similarity of the shingle sets.
    pub fn resemblance(&self, other: &Sketch) -> f64 {
        let equal = self.0.iter().zip(&other.0).filter(|(a, b)| a == b).count();
        equal as f64 / SKETCH_BINS as f64
    }

    /// One key per band; two streams that share a key are near-miss candidates.
    pub fn band_keys(&self) -> [u64; BANDS] {
        let mut keys = [0u64; BANDS];
        for (band, key) in keys.iter_mut().enumerate() {
            let mut h = band as u64;
            for &value in &self.0[band * ROWS..(band + 1) * ROWS] {
                h = mix64(h ^ u64::from(value)).rotate_left(17);
            }
            *key = h;
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::testing::*;

    #[test]
    fn sketches_of_near_copies_share_bands_and_unrelated_code_does_not() {
        let body = |extra: &str| {
            format!(
                "def load(path, limit):\n    rows = []\n    with open(path) as f:\n        for line in f:\n            line = line.strip()\n            if not line or line.startswith('#'):\n                continue\n{extra}            key, _, value = line.partition('=')\n            rows.append((key.strip(), value.strip()))\n            if len(rows) >= limit:\n                break\n    return dict(rows)\n"
            )
        };
        let a = Sketch::of(&codes("python", &body("")));
        let b = Sketch::of(&codes("python", &body("            count += 1\n")));
        // Code of about the same size doing something else.
        let other = "def register(self, name, factory, *, replace=False):\n    if name in self._factories and not replace:\n        raise KeyError(f\"{name} is already registered\")\n    self._factories[name] = factory\n    self._order.append(name)\n    log.debug(\"registered %s\", name)\n    return factory\n";
        let unrelated = Sketch::of(&codes("python", other));
        assert_eq!(a, Sketch::of(&codes("python", &body(""))));
        assert!(a.resemblance(&b) > 0.6, "{}", a.resemblance(&b));
        assert!(
            a.band_keys()
                .iter()
                .zip(b.band_keys())
                .any(|(x, y)| *x == y)
        );
        assert!(
            a.resemblance(&unrelated) < 0.2,
            "{}",
            a.resemblance(&unrelated)
        );
        assert!(
            !a.band_keys()
                .iter()
                .zip(unrelated.band_keys())
                .any(|(x, y)| *x == y)
        );
    }

    #[test]
    fn sketches_of_tiny_streams_are_filled() {
        for stream in [&[][..], &[7][..], &[7, 8][..], &[7, 8, 9][..]] {
            assert!(
                Sketch::of(stream).0.iter().all(|&v| v != u32::MAX),
                "{stream:?}"
            );
        }
    }
}
