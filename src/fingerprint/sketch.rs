//! MinHash sketches of similarity codes and their locality-sensitive hashing bands.

use super::hash::mix64;

/// Bins of a similarity sketch.
pub const SKETCH_BINS: usize = 40;

/// Locality-sensitive hashing bands over a sketch: bands × rows = bins. Twenty bands of two
/// rows: with four-code shingles a copy edited by a third shares fewer bins than with three,
/// and sixteen bands lost some of them alone (docs/decisions.md).
pub const BANDS: usize = 20;

const ROWS: usize = SKETCH_BINS / BANDS;

/// Consecutive similarity codes hashed together into one shingle (four fill one word).
/// Names and literals are abstracted, so a language's streams have only a few thousand
/// distinct shingles of three codes, a hundred of which make half of all code: a bin's
/// minimum was mostly one of those, and in a large code base most band buckets held
/// thousands of shapes (41% of the JDK's shapes shared one). Four codes keep buckets small
/// there and still survive the edits of a near-miss copy (docs/decisions.md).
const SHINGLE: usize = 4;
const _: () = assert!(SHINGLE <= 4, "a shingle's codes fill one word");

/// A one-permutation MinHash sketch of a code stream's shingles, densified so that every bin
/// is filled. Equal bins estimate the Jaccard similarity of the two shingle sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sketch(pub [u32; SKETCH_BINS]);

impl Sketch {
    pub fn of(codes: &[u16]) -> Sketch {
        let mut bins = [u32::MAX; SKETCH_BINS];
        let mut filled = [false; SKETCH_BINS];
        // A shingle's codes packed in one word, salted with its length (shorter only when the
        // whole stream is); the high half picks the bin, the low half is the value.
        let mut add = |shingle: &[u16], salt: u64| {
            let packed = shingle
                .iter()
                .fold(0u64, |packed, &c| (packed << 16) | u64::from(c));
            let h = mix64(packed ^ salt);
            let bin = (((h >> 32) * SKETCH_BINS as u64) >> 32) as usize;
            bins[bin] = bins[bin].min(h as u32);
            filled[bin] = true;
        };
        if codes.len() < SHINGLE {
            add(codes, mix64(codes.len() as u64));
        } else {
            let salt = mix64(SHINGLE as u64);
            codes.windows(SHINGLE).for_each(|w| add(w, salt));
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

    /// The similarity codes of every function of the real sample files of `fixtures/samples`
    /// (libraries in nine languages).
    fn sample_functions() -> Vec<Vec<u16>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/samples");
        let mut out = Vec::new();
        for dir in std::fs::read_dir(root).unwrap() {
            let dir = dir.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            let lang = dir.file_name().unwrap().to_str().unwrap().to_string();
            for file in std::fs::read_dir(&dir).unwrap() {
                let src = std::fs::read_to_string(file.unwrap().path()).unwrap();
                out.extend(units(&lang, &src).into_iter().map(|u| u.codes));
            }
        }
        out.retain(|c| c.len() >= 20);
        out
    }

    #[test]
    fn band_buckets_of_real_code_stay_small_and_an_edited_copy_shares_one() {
        // Shingles of three codes made a few band keys common to a good part of any code
        // base (names and literals abstracted, a language has only a few thousand distinct
        // shingles of three codes): in the JDK 41% of all shapes shared one bucket, and an
        // edited copy's shared buckets were mostly too crowded to give candidates.
        let functions = sample_functions();
        let keys: Vec<[u64; BANDS]> = functions
            .iter()
            .map(|c| Sketch::of(c).band_keys())
            .collect();
        let mut sizes: std::collections::HashMap<(usize, u64), usize> = Default::default();
        for k in &keys {
            for (band, &key) in k.iter().enumerate() {
                *sizes.entry((band, key)).or_default() += 1;
            }
        }
        let n = functions.len();
        let largest = sizes.values().max().copied().unwrap_or(0);
        assert!(
            n > 500 && largest * 10 <= n,
            "largest bucket {largest} of {n}"
        );
        // A copy with a few codes inserted and one changed (a statement added, a call
        // replaced) shares a band whose bucket holds a few shapes at most.
        let small = (n / 50).max(4);
        let (mut found, mut all) = (0, 0);
        for (codes, k) in functions.iter().zip(&keys).filter(|(c, _)| c.len() >= 60) {
            let mut copy = codes.clone();
            let at = copy.len() / 2;
            copy.splice(at..at, codes[..6].iter().copied());
            let quarter = copy.len() / 4;
            copy[quarter] = copy[quarter].wrapping_add(1);
            let c = Sketch::of(&copy).band_keys();
            all += 1;
            found += usize::from((0..BANDS).any(|b| k[b] == c[b] && sizes[&(b, k[b])] <= small));
        }
        assert!(all > 100 && found * 10 >= all * 9, "{found} of {all}");
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
