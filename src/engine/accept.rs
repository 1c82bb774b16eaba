//! Classes accepted as they are (`cpt accept`): a decision recorded twice — as an event in
//! the catalogue's log, and in `cpt-accepted.toml` at the scanned root, which a team commits so
//! that every clone and CI run shares it. A class stays accepted while its copies are among
//! those it was accepted with (by content hash): a new copy, or a copy whose code changed,
//! ends it.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::engine::view::Class;
use crate::event::{Event, Hash64};
use crate::store::{AcceptedRow, Store};

/// The committed file of accepted classes, at the scanned root.
pub const ACCEPTED_FILE: &str = "cpt-accepted.toml";

/// One accepted class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// The class id (16 hex digits).
    pub id: String,
    pub reason: String,
    /// The content hashes of its copies when accepted (16 hex digits each, sorted).
    pub copies: Vec<String>,
    /// When (UTC date, `YYYY-MM-DD`), for people.
    #[serde(default)]
    pub date: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptedFile {
    #[serde(default)]
    accepted: Vec<Acceptance>,
}

const HEADER: &str = "# Clone classes accepted as they are (`cpt accept ID --reason TEXT`; `cpt unaccept ID`).\n\
# `cpt check` does not fail on a class listed here while its copies are among `copies`\n\
# (content hashes): a new copy, or a copy whose code changed, makes it count again.\n\n";

/// The accepted classes in `root`'s file (none when there is no file).
pub fn load_file(root: &Path) -> Result<Vec<Acceptance>> {
    let path = root.join(ACCEPTED_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    let file: AcceptedFile = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| format!(" (line {})", text[..s.start].matches('\n').count() + 1))
            .unwrap_or_default();
        anyhow::anyhow!("{}: {}{line}", path.display(), e.message())
    })?;
    Ok(file.accepted)
}

/// Write `root`'s file: sorted by id, so that it diffs well; written beside and renamed over,
/// so a reader never sees half of it.
fn save_file(root: &Path, mut accepted: Vec<Acceptance>) -> Result<()> {
    accepted.sort_by(|a, b| a.id.cmp(&b.id));
    let path = root.join(ACCEPTED_FILE);
    let body = toml::to_string(&AcceptedFile { accepted }).context("cannot encode")?;
    let tmp = root.join(format!(".{ACCEPTED_FILE}.tmp"));
    std::fs::write(&tmp, format!("{HEADER}{body}"))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Acceptances by class id: each a reason and the content hashes of the copies accepted.
pub type InForce = HashMap<String, Vec<(String, Vec<u64>)>>;

/// Every acceptance in force from either source, by class id: the catalogue's log and the
/// committed file (a class may have one of each; either can accept it).
pub fn all(store: &Store, root: &Path) -> Result<InForce> {
    in_force(store.accepted()?, root)
}

/// The acceptances in force from these of the log and `root`'s file.
pub fn in_force(log: Vec<AcceptedRow>, root: &Path) -> Result<InForce> {
    let mut by_id = InForce::new();
    for AcceptedRow {
        id, reason, copies, ..
    } in log
    {
        by_id.entry(id).or_default().push((reason, copies));
    }
    if !root.as_os_str().is_empty() {
        for a in load_file(root)? {
            let copies = a
                .copies
                .iter()
                .filter_map(|h| u64::from_str_radix(h, 16).ok())
                .collect();
            by_id.entry(a.id).or_default().push((a.reason, copies));
        }
    }
    Ok(by_id)
}

/// Mark the classes an acceptance in force covers: every copy's content hash among those
/// accepted (as many times as it occurs).
pub fn mark(classes: &mut [Class], accepted: &InForce) {
    for class in classes {
        let Some(list) = accepted.get(&class.id.to_string()) else {
            continue;
        };
        let mut copies: Vec<u64> = class.copies.iter().map(|c| c.exact).collect();
        copies.sort_unstable();
        class.accepted = list
            .iter()
            .find(|(_, allowed)| is_sub_multiset(&copies, allowed))
            .map(|(reason, _)| reason.clone());
    }
}

/// Whether sorted `a` is within `b` (each value at most as often).
fn is_sub_multiset(a: &[u64], b: &[u64]) -> bool {
    let mut b: Vec<u64> = b.to_vec();
    b.sort_unstable();
    let mut j = 0;
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j == b.len() || b[j] != x {
            return false;
        }
        j += 1;
    }
    true
}

/// The class `id` names: its 16 hex digits, or a prefix of at least 4 that only it has.
pub fn find<'c>(classes: &'c [Class], id: &str) -> Result<&'c Class> {
    let id = id.trim().to_ascii_lowercase();
    if id.len() < 4 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!(
            "{id}: not a class id (16 hex digits, or the first 4 or more; `cpt clones` lists them)"
        );
    }
    let matching: Vec<&Class> = classes
        .iter()
        .filter(|c| c.id.to_string().starts_with(&id))
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => bail!("{id}: no such clone class in the catalogue (`cpt clones` lists them)"),
        _ => bail!(
            "{id}: {} classes start with it; give more digits",
            matching.len()
        ),
    }
}

/// Accept `class`: an event in the log and an entry in `root`'s file (replacing one for the
/// same class).
pub fn accept(store: &mut Store, root: &Path, class: &Class, reason: &str) -> Result<Acceptance> {
    if reason.trim().is_empty() {
        bail!("--reason: say why the copies may stay (the reason is kept with the decision)");
    }
    let mut copies: Vec<u64> = class.copies.iter().map(|c| c.exact).collect();
    copies.sort_unstable();
    let at_ms = crate::store::now_ms();
    let acceptance = Acceptance {
        id: class.id.to_string(),
        reason: reason.trim().to_string(),
        copies: copies.iter().map(|h| format!("{h:016x}")).collect(),
        date: date_of(at_ms),
    };
    store.record(vec![Event::PatternAccepted {
        id: acceptance.id.clone(),
        reason: acceptance.reason.clone(),
        copies: copies.into_iter().map(Hash64).collect(),
        at_ms,
    }])?;
    let mut file = load_file(root)?;
    file.retain(|a| a.id != acceptance.id);
    file.push(acceptance.clone());
    save_file(root, file)?;
    Ok(acceptance)
}

/// Withdraw the acceptance of class `id` (16 hex digits) from the log and the file; an error
/// when neither has it.
pub fn unaccept(store: &mut Store, root: &Path, id: &str) -> Result<()> {
    let id = id.trim().to_ascii_lowercase();
    let in_log = store.accepted()?.iter().any(|a| a.id == id);
    let mut file = load_file(root)?;
    let before = file.len();
    file.retain(|a| a.id != id);
    if !in_log && file.len() == before {
        bail!("{id}: not an accepted class (neither in the catalogue nor in {ACCEPTED_FILE})");
    }
    if in_log {
        store.record(vec![Event::PatternUnaccepted { id: id.clone() }])?;
    }
    if file.len() != before {
        save_file(root, file)?;
    }
    Ok(())
}

/// `YYYY-MM-DD` (UTC) of a time in milliseconds since the Unix epoch.
fn date_of(ms: i64) -> String {
    let (year, month, day) = civil(ms.div_euclid(86_400_000));
    format!("{year:04}-{month:02}-{day:02}")
}

/// RFC 3339 in UTC (`2026-12-07T09:30:00.250Z`) of a time in milliseconds since the Unix
/// epoch.
pub fn rfc3339(ms: i64) -> String {
    let (year, month, day) = civil(ms.div_euclid(86_400_000));
    let in_day = ms.rem_euclid(86_400_000);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Days since the Unix epoch to a civil date (proleptic Gregorian), by 400-year eras.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(951_782_400_000), "2000-02-29");
        assert_eq!(date_of(1_796_601_600_000 - 1), "2026-12-06");
        assert_eq!(date_of(1_796_601_600_000), "2026-12-07");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_796_601_600_000 - 1), "2026-12-06T23:59:59.999Z");
        assert_eq!(rfc3339(951_825_845_250), "2000-02-29T12:04:05.250Z");
    }

    #[test]
    fn a_class_is_within_an_acceptance_while_no_copy_is_new() {
        assert!(is_sub_multiset(&[1, 2], &[2, 1, 3]));
        assert!(is_sub_multiset(&[2, 2], &[2, 2]));
        assert!(!is_sub_multiset(&[2, 2, 2], &[2, 2]));
        assert!(!is_sub_multiset(&[1, 4], &[1, 2, 3]));
        assert!(is_sub_multiset(&[], &[]));
    }
}
