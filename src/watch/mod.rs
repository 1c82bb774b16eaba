//! Watch: keep the catalogue up to date while files change, and say what changed.
//!
//! File-system events come through notify, and the watcher gathers them into batches itself
//! (see [`watch`]). [`classify`] decides what one event means — a source file, a change of
//! the tree (a directory, a file of no known language), the configuration or ignore files,
//! `cpt`'s own catalogue, or nothing — and a batch that holds anything besides the last two
//! brings the catalogue up to date with an incremental scan, which re-reads only files whose
//! size or modification time moved. Pure [`diff`] compares the reported classes before and after and
//! names what changed: a new clone, a clone resolved, a class grown or shrunk.
//!
//! The parts, by job: `events` (what an event means), `debounce` (when a batch is due and
//! what it holds, when to checkpoint, when to stop: a state machine without I/O or clock),
//! `session` (the catalogue: scans, the index's catch-up, checkpoints), `classes` (the
//! reported classes and their diff); this module runs the loop.

mod classes;
mod debounce;
mod events;
mod session;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};

use crate::config::ScanConfig;
use debounce::{Action, Batch, Debounce, Input};
use session::Session;

pub use classes::{Classes, Update, diff};
pub use events::{Change, classify};

/// What the watcher tells its caller: the engine's [`WatchReport`].
pub use crate::engine::view::WatchReport as Report;

pub struct WatchOptions {
    pub root: PathBuf,
    pub db: PathBuf,
    /// Settings from the command line; `cpt.toml` is read again whenever it changes.
    pub flags: ScanConfig,
    /// Quiet time after an event before the batch is applied.
    pub debounce: Duration,
}

/// Messages to the watch loop.
pub enum Message {
    /// One file-system event, or the watcher's error, and when it arrived.
    Event(notify::Result<notify::Event>, Instant),
    Stop,
}

/// Scan, then apply every batch of file-system events until `Message::Stop` arrives on
/// `inbox` (whose sender the caller keeps, for a signal handler). `report` hears about each
/// batch.
pub fn watch(
    options: &WatchOptions,
    inbox: (mpsc::Sender<Message>, mpsc::Receiver<Message>),
    report: &mut dyn FnMut(Report<'_>) -> Result<()>,
) -> Result<()> {
    let (sender, receiver) = inbox;
    let root = options
        .root
        .canonicalize()
        .with_context(|| format!("{}: cannot watch", options.root.display()))?;
    // Watch before the first scan: what is saved while it runs (seconds on a large tree)
    // queues as events and is applied as soon as it ends, instead of being missed.
    let _watcher = start_watching(&root, sender)?;
    let (mut session, summary) = Session::start(&root, &options.db, &options.flags)?;
    report(Report::Ready {
        root: &root,
        summary: &summary,
        classes: session.classes(),
    })?;
    let mut debounce = Debounce::new(options.debounce);
    loop {
        // Wait for a message, or until the debounce's deadline (none while nothing changes).
        let (input, at) = match receive(&receiver, debounce.deadline()) {
            Received::Message(Message::Event(Ok(event), at)) => {
                (events::input(session.root(), session.own(), &event), at)
            }
            Received::Message(Message::Event(Err(e), at)) => {
                report(Report::Failed(format!("watcher: {e}")))?;
                (Input::Lost, at)
            }
            Received::Message(Message::Stop) | Received::Closed => (Input::Stop, Instant::now()),
            Received::Timeout => (Input::Timeout, Instant::now()),
        };
        // Debounce, then apply and report the batch, catch up the index, checkpoint.
        match debounce.on(input, at) {
            Action::Wait => {}
            Action::Stop => return Ok(()),
            Action::Checkpoint => checkpoint(&session, report)?,
            Action::Apply(batch) => {
                let ok = apply(&mut session, batch, report)?;
                if debounce.finished(ok, Instant::now()) {
                    checkpoint(&session, report)?;
                }
            }
        }
    }
}

/// Start notify on `root`: its events go to `sender`, stamped with when they arrived.
fn start_watching(root: &Path, sender: mpsc::Sender<Message>) -> Result<impl Watcher> {
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = sender.send(Message::Event(event, Instant::now()));
    })
    .context("cannot start watching the file system")?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .with_context(|| format!("{}: cannot watch", root.display()))?;
    Ok(watcher)
}

/// What waiting for a message gave.
enum Received {
    Message(Message),
    /// The deadline passed first.
    Timeout,
    /// Every sender is gone.
    Closed,
}

/// The next message on `receiver`, waiting until `deadline` at most (`None`: without limit).
fn receive(receiver: &mpsc::Receiver<Message>, deadline: Option<Instant>) -> Received {
    match deadline {
        None => match receiver.recv() {
            Ok(message) => Received::Message(message),
            Err(mpsc::RecvError) => Received::Closed,
        },
        Some(at) => match receiver.recv_timeout(at.saturating_duration_since(Instant::now())) {
            Ok(message) => Received::Message(message),
            Err(mpsc::RecvTimeoutError::Timeout) => Received::Timeout,
            Err(mpsc::RecvTimeoutError::Disconnected) => Received::Closed,
        },
    }
}

/// Apply `batch` and report it (then, after a batch of files, bring the index up to date);
/// returns whether it was applied. A batch that fails is reported, and the debounce retries.
fn apply(
    session: &mut Session,
    batch: Batch,
    report: &mut dyn FnMut(Report<'_>) -> Result<()>,
) -> Result<bool> {
    let paths: Vec<String> = batch.paths.into_iter().collect();
    let scope = (!batch.whole).then_some(paths.as_slice());
    match session.apply(scope) {
        Ok((updates, summary)) => {
            let elapsed = batch.first.map_or(Duration::ZERO, |t| Instant::now() - t);
            report(Report::Applied {
                updates: &updates,
                summary: &summary,
                classes: session.classes(),
                elapsed,
            })?;
            // The index follows once the batch is reported (a scan of the whole tree
            // brought it up to date itself).
            if scope.is_some()
                && let Err(e) = session.catch_up_index()
            {
                report(Report::Failed(crate::sys::one_line(&e)))?;
            }
            Ok(true)
        }
        Err(e) => {
            report(Report::Failed(crate::sys::one_line(&e)))?;
            Ok(false)
        }
    }
}

/// Checkpoint the write-ahead log; a failure is reported, and the watch goes on.
fn checkpoint(session: &Session, report: &mut dyn FnMut(Report<'_>) -> Result<()>) -> Result<()> {
    match session.checkpoint() {
        Ok(()) => Ok(()),
        Err(e) => report(Report::Failed(e.to_string())),
    }
}
