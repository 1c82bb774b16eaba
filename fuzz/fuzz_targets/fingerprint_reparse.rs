//! Fingerprinting and incremental reparse on arbitrary source in every language: fingerprint
//! a text, edit it, and fingerprint the edited text from the first version's tree and prints
//! (what `cpt watch` does on a save), then undo the edit the same way. Each incremental
//! result must equal a fresh parse and fingerprint of the same text; any difference fails.
//!
//! Input: a language byte (index into the built-in languages), a byte that picks thresholds
//! (low 2 bits) and the kind of edit (the rest), three little-endian u16 parameters `a`, `b`,
//! `c`, then the text. An edit that breaks the syntax is parsed afresh by design, so besides
//! arbitrary edits there are edits that usually keep it, as a save does, chosen among the
//! text's own units (as the reparse unit test does):
//! 0. replace bytes `a..a+b` with the text's last `c` bytes (taken off the text);
//! 1. delete unit `a`;
//! 2. repeat unit `a` after itself;
//! 3. rename: the first lowercase letter from byte `a` on becomes the next letter.

#![no_main]

use cpt::fingerprint::{self, Thresholds};
use cpt::scan::reparse::{self, Recent};
use cpt::parse::{self, lang};
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

/// The edited text, and the text before it (without the bytes an edit of kind 0 inserts).
fn edit(
    text: &[u8],
    kind: u8,
    (a, b, c): (usize, usize, usize),
    units: &[(usize, usize)],
) -> (Vec<u8>, Vec<u8>) {
    let unit = (!units.is_empty()).then(|| units[a % units.len()]);
    match (kind, unit) {
        (1, Some((start, end))) => {
            let mut edited = text[..start].to_vec();
            edited.extend_from_slice(&text[end..]);
            (text.to_vec(), edited)
        }
        (2, Some((start, end))) => {
            let mut edited = text[..end].to_vec();
            edited.push(b'\n');
            edited.extend_from_slice(&text[start..]);
            (text.to_vec(), edited)
        }
        (3, _) => {
            let mut edited = text.to_vec();
            if let Some(i) = (a.min(text.len())..text.len()).find(|&i| text[i].is_ascii_lowercase())
            {
                edited[i] = b'a' + (text[i] - b'a' + 1) % 26;
            }
            (text.to_vec(), edited)
        }
        _ => {
            let (text, insert) = text.split_at(text.len() - c.min(text.len()));
            let start = a.min(text.len());
            let end = start + b.min(text.len() - start);
            let mut edited = text[..start].to_vec();
            edited.extend_from_slice(insert);
            edited.extend_from_slice(&text[end..]);
            (text.to_vec(), edited)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let languages = lang::all();
    let lang = languages[usize::from(data[0]) % languages.len()];
    let thresholds = THRESHOLDS[usize::from(data[1] & 3)];
    let kind = (data[1] >> 2) % 4;
    let params = (u16_at(data, 2), u16_at(data, 4), u16_at(data, 6));
    let body = &data[8..];
    let units: Vec<(usize, usize)> = if kind == 1 || kind == 2 {
        let tree = parse::parse(lang, body).expect("parsing never fails");
        fingerprint::fingerprint(lang, &tree, body, thresholds)
            .units
            .iter()
            .map(|u| (u.start_byte as usize, u.end_byte as usize))
            .collect()
    } else {
        Vec::new()
    };
    let (text, edited) = edit(body, kind, params, &units);

    let recent = Recent::new();
    for (step, version) in [&text, &edited, &text].into_iter().enumerate() {
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
