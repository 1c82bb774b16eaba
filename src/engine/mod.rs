//! Engine: the one API every front end uses. Everything that is not a front end (scanning,
//! the catalogue, detection, the index) is reached through [`Catalogue`] and returns plain
//! view types.

pub mod classes;
pub mod similar;
pub mod stats;

pub use crate::config::TestPolicy;
pub use crate::index::refresh::*;
pub use crate::scan::*;
pub use classes::*;
pub use similar::*;
pub use stats::*;

use std::path::Path;

use anyhow::Result;

use crate::index::Access;
use crate::store::{Store, WriteLock};

/// Recreate the catalogue's projections from its event log; returns the events replayed.
pub fn rebuild(db: &Path, waiting: &dyn Fn(&str)) -> Result<u64> {
    if !db.is_file() {
        // Say that there is no catalogue, without making a lock file where there is none.
        Store::open_existing(db)?;
    }
    let _lock = WriteLock::take(db, waiting)?;
    let mut store = Store::open_existing(db)?;
    let events = store.rebuild()?;
    rebuild_index(&store, db, Access::Mapped, "rebuild".to_string())?;
    Ok(events)
}
