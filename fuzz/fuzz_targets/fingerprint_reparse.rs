//! Fingerprinting and incremental reparse on arbitrary source in every language: fingerprint
//! a text, edit it, and fingerprint the edited text from the first version's tree and prints
//! (what `cpt watch` does on a save), then undo the edit the same way. Each incremental
//! result must equal a fresh parse and fingerprint of the same text; any difference fails.
//!
//! Input: a language byte (index into the built-in languages), a thresholds byte, the edit
//! (little-endian u16s: where it starts, bytes removed, bytes inserted), then the text; the
//! inserted bytes are the text's last ones, taken off it.

#![no_main]

use cpt::fingerprint::{self, Thresholds};
use cpt::reparse::{self, Recent};
use cpt::{lang, parse};
use libfuzzer_sys::fuzz_target;

const THRESHOLDS: [Thresholds; 4] = [
    Thresholds {
        min_tokens: 50,
        min_lines: 6,
        near_miss: true,
    },
    Thresholds {
        min_tokens: 20,
        min_lines: 3,
        near_miss: true,
    },
    Thresholds {
        min_tokens: 1,
        min_lines: 1,
        near_miss: true,
    },
    Thresholds {
        min_tokens: 20,
        min_lines: 3,
        near_miss: false,
    },
];

fn u16_at(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let languages = lang::all();
    let lang = languages[usize::from(data[0]) % languages.len()];
    let thresholds = THRESHOLDS[usize::from(data[1]) % THRESHOLDS.len()];
    let (start, removed, inserted) = (u16_at(data, 2), u16_at(data, 4), u16_at(data, 6));
    let body = &data[8..];
    let inserted = inserted.min(body.len());
    let (text, insert) = body.split_at(body.len() - inserted);
    let start = start.min(text.len());
    let end = start + removed.min(text.len() - start);
    let mut edited = text[..start].to_vec();
    edited.extend_from_slice(insert);
    edited.extend_from_slice(&text[end..]);

    let recent = Recent::new();
    for (step, version) in [text, &edited[..], text].into_iter().enumerate() {
        let (print, _) = reparse::fingerprint(lang, "fuzz", version, thresholds, Some(&recent))
            .expect("parsing never fails");
        let tree = parse::parse(lang, version).expect("parsing never fails");
        let fresh = fingerprint::fingerprint(lang, &tree, version, thresholds);
        assert_eq!(
            print, fresh,
            "{} step {step}: the incremental fingerprint differs from a fresh one",
            lang.id
        );
    }
});
