//! The catalogue's write lock: one writing process at a time.

use std::path::{Path, PathBuf};

use super::StoreError;

/// The right to write a catalogue: one process at a time scans into it, applies a watched
/// save or rebuilds it, so two writers never meet inside SQLite (where the second would fail
/// with a lock error after its timeout, or both would create the schema). An advisory lock
/// on the file `<db>.lock` beside the catalogue, which names its holder; the system releases
/// it when the holder exits or dies, so a killed scan never leaves it taken.
pub struct WriteLock {
    _file: std::fs::File,
}

/// How long a writer waits for the lock before it says whom it is waiting for.
const QUIET_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

impl WriteLock {
    /// The lock file of the catalogue at `db`.
    pub fn path_for(db: &Path) -> PathBuf {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        db.with_file_name(name)
    }

    /// Take the lock of the catalogue at `db` (creating its directory), waiting while another
    /// process holds it; `waiting` is told once, after a moment, who that is.
    pub fn take(db: &Path, waiting: &dyn Fn(&str)) -> Result<WriteLock, StoreError> {
        use std::io::{Read, Seek, Write};
        let path = Self::path_for(db);
        let io = |source| StoreError::Lock {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let started = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < QUIET_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    let who = if holder.is_empty() {
                        "another cpt".to_string()
                    } else {
                        format!("another cpt ({holder})")
                    };
                    waiting(&format!(
                        "{}: {who} is writing this catalogue; waiting for it to finish",
                        db.display()
                    ));
                    file.lock().map_err(io)?;
                    break;
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        // Name the holder for the next writer that has to wait (best effort: the lock holds
        // either way).
        let _ = file.set_len(0).and_then(|()| {
            file.rewind()?;
            write!(file, "pid {}", std::process::id())
        });
        Ok(WriteLock { _file: file })
    }
}
