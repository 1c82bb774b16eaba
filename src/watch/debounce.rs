//! When a batch is due ([`Debounce`]): the watcher's debounce as a state machine over what
//! arrives and when. It does no I/O and reads no clock: the caller passes every instant, so
//! the tests drive it with synthetic ones.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::Change;

/// How soon a failed batch is tried again.
pub const RETRY: Duration = Duration::from_secs(1);
/// Longest a batch gathers events that keep coming (a long `git checkout`, say) before it is
/// applied; the rest make the next batch.
pub const MAX_GATHER: Duration = Duration::from_secs(1);
/// The scans of a watch session leave checkpoints of the write-ahead log to the watcher,
/// which copies the log into the database once nothing has changed for this long...
pub const IDLE_CHECKPOINT: Duration = Duration::from_millis(500);
/// ...or, while changes keep coming, after this many batches.
pub const CHECKPOINT_EVERY: u32 = 200;

/// What the watch loop received, each with an instant (see [`Debounce::on`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file-system event: what each of its paths means ([`classify`](super::classify)).
    Event(Vec<Change>),
    /// The watcher lost track of events (a queue overflow) or failed: only a scan of the whole
    /// tree can tell what changed.
    Lost,
    /// Nothing arrived before [`Debounce::deadline`].
    Timeout,
    /// Stop (Ctrl-C, SIGTERM), or nothing more can arrive.
    Stop,
}

/// What the watch loop does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Wait for the next message, until [`Debounce::deadline`] if there is one.
    Wait,
    /// Apply this batch, then tell [`Debounce::finished`] whether that worked.
    Apply(Batch),
    /// Checkpoint the write-ahead log (changes have paused), then wait again.
    Checkpoint,
    /// End the watch. A batch being gathered is dropped, not applied (the next scan of the
    /// tree picks its changes up); one being applied was finished before the stop was read.
    Stop,
}

/// The changes one batch applies.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Source files named (relative paths).
    pub paths: BTreeSet<String>,
    /// The whole tree must be scanned.
    pub whole: bool,
    /// When the first change that matters arrived (none for the retry of a failed batch).
    pub first: Option<Instant>,
}

/// The debounce: it waits without a deadline until a change that matters, then gathers until
/// `quiet` passes without another (at most [`MAX_GATHER`] from the first); events of ignored
/// paths and of the catalogue itself do not count. Between batches it asks for a checkpoint
/// once changes pause for [`IDLE_CHECKPOINT`] (then no deadline runs until the next change),
/// or every [`CHECKPOINT_EVERY`] batches, and retries a failed batch as a scan of the whole
/// tree after [`RETRY`], event or not.
pub struct Debounce {
    /// Quiet time after the last change before the batch is applied.
    quiet: Duration,
    /// The batch being gathered.
    batch: Batch,
    /// When the last change that matters arrived: events that queued while the last batch
    /// was applied have waited part of their quiet time already.
    last: Option<Instant>,
    /// When a failed batch is tried again (its files are not lost: the retry scans the whole
    /// tree).
    retry_at: Option<Instant>,
    /// When to checkpoint if nothing changes before.
    checkpoint_at: Option<Instant>,
    /// Batches of files written since the last checkpoint.
    unsynced: u32,
    /// While a batch is applied: whether it scans the whole tree.
    applying: Option<bool>,
}

impl Debounce {
    /// A debounce with `quiet` as its quiet time, after a first scan (checkpointed).
    pub fn new(quiet: Duration) -> Debounce {
        Debounce {
            quiet,
            batch: Batch::default(),
            last: None,
            retry_at: None,
            checkpoint_at: None,
            unsynced: 0,
            applying: None,
        }
    }

    /// Until when to wait for the next message before it is an [`Input::Timeout`]; `None`:
    /// without a limit (no timer runs while nothing changes).
    pub fn deadline(&self) -> Option<Instant> {
        match (self.batch.first, self.last) {
            (Some(first), Some(last)) => Some((last + self.quiet).min(first + MAX_GATHER)),
            _ => self
                .retry_at
                .or(self.checkpoint_at.filter(|_| self.unsynced > 0)),
        }
    }

    /// Take `input`, which arrived at `at` (for an event, when notify sent it; otherwise
    /// now), and say what to do.
    pub fn on(&mut self, input: Input, at: Instant) -> Action {
        debug_assert!(self.applying.is_none(), "a batch is being applied");
        match input {
            Input::Stop => Action::Stop,
            Input::Lost => {
                self.batch.whole = true;
                self.arrived(at)
            }
            Input::Event(changes) => {
                let mut matters = false;
                for change in changes {
                    match change {
                        Change::Source(path) => {
                            self.batch.paths.insert(path);
                            matters = true;
                        }
                        Change::Tree | Change::Config => {
                            self.batch.whole = true;
                            matters = true;
                        }
                        Change::Own | Change::Ignored => {}
                    }
                }
                if matters {
                    self.arrived(at)
                } else {
                    Action::Wait
                }
            }
            Input::Timeout => match self.deadline() {
                Some(deadline) if at >= deadline => {
                    if self.batch.first.is_none() && self.retry_at.is_none() {
                        // Quiet since the last batch: time to checkpoint, then wait again.
                        self.unsynced = 0;
                        Action::Checkpoint
                    } else {
                        self.applying = Some(self.batch.whole);
                        self.last = None;
                        Action::Apply(std::mem::take(&mut self.batch))
                    }
                }
                _ => Action::Wait,
            },
        }
    }

    /// The batch of the last [`Action::Apply`] was applied (`ok`) or failed, and the next
    /// one starts gathering `now`. Returns whether to checkpoint now: every
    /// [`CHECKPOINT_EVERY`] batches of files (a scan of the whole tree checkpoints itself).
    pub fn finished(&mut self, ok: bool, now: Instant) -> bool {
        let whole = self.applying.take().unwrap_or(true);
        let mut checkpoint = false;
        if ok && !whole {
            self.unsynced += 1;
            if self.unsynced >= CHECKPOINT_EVERY {
                self.unsynced = 0;
                checkpoint = true;
            }
        }
        self.batch = Batch {
            whole: !ok,
            ..Batch::default()
        };
        self.last = None;
        self.retry_at = (!ok).then(|| now + RETRY);
        self.checkpoint_at = (self.unsynced > 0).then(|| now + IDLE_CHECKPOINT);
        checkpoint
    }

    /// A change that matters arrived at `at`.
    fn arrived(&mut self, at: Instant) -> Action {
        self.batch.first.get_or_insert(at);
        self.last = Some(at);
        Action::Wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Duration = Duration::from_millis(10);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn source(path: &str) -> Input {
        Input::Event(vec![Change::Source(path.to_string())])
    }

    fn paths(batch: &Batch) -> Vec<&str> {
        batch.paths.iter().map(String::as_str).collect()
    }

    /// Apply what is due at `at`, which must be a batch; then finish it (`ok`) at `done`.
    fn apply(d: &mut Debounce, at: Instant, ok: bool, done: Instant) -> (Batch, bool) {
        match d.on(Input::Timeout, at) {
            Action::Apply(batch) => (batch, d.finished(ok, done)),
            other => panic!("expected a batch at {at:?}, got {other:?}"),
        }
    }

    #[test]
    fn nothing_runs_while_nothing_changes() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        assert_eq!(d.deadline(), None);
        // Reads, hidden files and the catalogue's own writes start no batch.
        let noise = Input::Event(vec![Change::Ignored, Change::Own]);
        assert_eq!(d.on(noise, t0), Action::Wait);
        assert_eq!(d.deadline(), None);
        assert_eq!(d.on(Input::Timeout, t0 + ms(5000)), Action::Wait);
    }

    #[test]
    fn a_burst_of_saves_is_one_batch_after_the_quiet_time() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        assert_eq!(d.on(source("a.py"), t0), Action::Wait);
        assert_eq!(d.deadline(), Some(t0 + QUIET));
        // An editor's atomic save: a temporary file, then the rename over the file.
        d.on(source("b.py"), t0 + ms(2));
        d.on(
            Input::Event(vec![Change::Ignored, Change::Source("a.py".into())]),
            t0 + ms(4),
        );
        assert_eq!(d.deadline(), Some(t0 + ms(14)));
        let (batch, checkpoint) = apply(&mut d, t0 + ms(14), true, t0 + ms(40));
        assert_eq!(paths(&batch), ["a.py", "b.py"]);
        assert!(!batch.whole);
        assert_eq!(batch.first, Some(t0));
        assert!(!checkpoint);
    }

    #[test]
    fn a_change_during_the_quiet_time_extends_it() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        d.on(source("a.py"), t0);
        d.on(source("b.py"), t0 + ms(8));
        assert_eq!(d.deadline(), Some(t0 + ms(18)));
        // Not due at the first deadline any more.
        assert_eq!(d.on(Input::Timeout, t0 + ms(10)), Action::Wait);
        let (batch, _) = apply(&mut d, t0 + ms(18), true, t0 + ms(30));
        assert_eq!(paths(&batch), ["a.py", "b.py"]);
    }

    #[test]
    fn ignored_events_do_not_extend_the_quiet_time() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        d.on(source("a.py"), t0);
        d.on(Input::Event(vec![Change::Own]), t0 + ms(8));
        d.on(Input::Event(vec![Change::Ignored]), t0 + ms(9));
        assert_eq!(d.deadline(), Some(t0 + QUIET));
        let (batch, _) = apply(&mut d, t0 + QUIET, true, t0 + ms(20));
        assert_eq!(paths(&batch), ["a.py"]);
    }

    #[test]
    fn changes_that_keep_coming_are_applied_every_max_gather() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        let mut at = t0;
        while at < t0 + MAX_GATHER {
            d.on(source("a.py"), at);
            at += ms(5);
        }
        assert_eq!(d.deadline(), Some(t0 + MAX_GATHER));
        let (batch, _) = apply(&mut d, t0 + MAX_GATHER, true, t0 + MAX_GATHER + ms(20));
        assert_eq!(batch.first, Some(t0));
        // The next change starts the next batch.
        d.on(source("b.py"), at);
        assert_eq!(d.deadline(), Some(at + QUIET));
    }

    #[test]
    fn changes_queued_while_a_batch_was_applied_have_waited_already() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        d.on(source("a.py"), t0);
        // Applied from 10 ms to 50 ms; a save at 20 ms queued meanwhile.
        apply(&mut d, t0 + ms(10), true, t0 + ms(50));
        d.on(source("b.py"), t0 + ms(20));
        assert_eq!(d.deadline(), Some(t0 + ms(30)));
        let (batch, _) = apply(&mut d, t0 + ms(50), true, t0 + ms(60));
        assert_eq!(paths(&batch), ["b.py"]);
        assert_eq!(batch.first, Some(t0 + ms(20)));
    }

    #[test]
    fn tree_config_and_lost_events_make_a_scan_of_the_whole_tree() {
        let t0 = Instant::now();
        for input in [
            Input::Event(vec![Change::Tree]),
            Input::Event(vec![Change::Config]),
            Input::Lost,
        ] {
            let mut d = Debounce::new(QUIET);
            d.on(source("a.py"), t0);
            d.on(input, t0 + ms(1));
            assert_eq!(d.deadline(), Some(t0 + ms(11)));
            let (batch, _) = apply(&mut d, t0 + ms(11), true, t0 + ms(20));
            assert!(batch.whole);
            assert_eq!(paths(&batch), ["a.py"]);
            // The next batch is of files again.
            d.on(source("b.py"), t0 + ms(30));
            let (batch, _) = apply(&mut d, t0 + ms(40), true, t0 + ms(50));
            assert!(!batch.whole);
        }
    }

    #[test]
    fn stop_ends_at_once_and_drops_the_batch_being_gathered() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        assert_eq!(d.on(Input::Stop, t0), Action::Stop);
        let mut d = Debounce::new(QUIET);
        d.on(source("a.py"), t0);
        assert_eq!(d.on(Input::Stop, t0 + ms(1)), Action::Stop);
    }

    #[test]
    fn the_idle_checkpoint_comes_once_after_a_pause() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        d.on(source("a.py"), t0);
        let t1 = t0 + ms(30);
        apply(&mut d, t0 + QUIET, true, t1);
        assert_eq!(d.deadline(), Some(t1 + IDLE_CHECKPOINT));
        // The watcher's own writes do not put it off.
        d.on(Input::Event(vec![Change::Own]), t1 + ms(100));
        assert_eq!(d.deadline(), Some(t1 + IDLE_CHECKPOINT));
        assert_eq!(d.on(Input::Timeout, t1 + ms(499)), Action::Wait);
        assert_eq!(
            d.on(Input::Timeout, t1 + IDLE_CHECKPOINT),
            Action::Checkpoint
        );
        // Not again until changes are applied.
        assert_eq!(d.deadline(), None);
        d.on(Input::Event(vec![Change::Own]), t1 + ms(600));
        assert_eq!(d.deadline(), None);
        let t2 = t1 + ms(2000);
        d.on(source("a.py"), t2);
        assert_eq!(d.deadline(), Some(t2 + QUIET));
        apply(&mut d, t2 + QUIET, true, t2 + ms(20));
        assert_eq!(d.deadline(), Some(t2 + ms(20) + IDLE_CHECKPOINT));
    }

    #[test]
    fn a_change_before_the_idle_checkpoint_is_gathered_first() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        d.on(source("a.py"), t0);
        apply(&mut d, t0 + QUIET, true, t0 + ms(20));
        d.on(source("b.py"), t0 + ms(100));
        assert_eq!(d.deadline(), Some(t0 + ms(110)));
        apply(&mut d, t0 + ms(110), true, t0 + ms(120));
        assert_eq!(d.deadline(), Some(t0 + ms(120) + IDLE_CHECKPOINT));
    }

    #[test]
    fn a_scan_of_the_whole_tree_needs_no_idle_checkpoint_of_its_own() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        d.on(Input::Event(vec![Change::Tree]), t0);
        let (batch, checkpoint) = apply(&mut d, t0 + QUIET, true, t0 + ms(20));
        assert!(batch.whole && !checkpoint);
        assert_eq!(d.deadline(), None);
        // After a batch of files, one pending checkpoint stays pending across it.
        d.on(source("a.py"), t0 + ms(30));
        apply(&mut d, t0 + ms(40), true, t0 + ms(50));
        d.on(Input::Event(vec![Change::Config]), t0 + ms(60));
        apply(&mut d, t0 + ms(70), true, t0 + ms(80));
        assert_eq!(d.deadline(), Some(t0 + ms(80) + IDLE_CHECKPOINT));
    }

    #[test]
    fn changes_that_never_pause_checkpoint_every_so_many_batches() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        let mut at = t0;
        for n in 1..=CHECKPOINT_EVERY * 2 {
            d.on(source("a.py"), at);
            let (_, checkpoint) = apply(&mut d, at + QUIET, true, at + ms(15));
            assert_eq!(checkpoint, n % CHECKPOINT_EVERY == 0, "batch {n}");
            if checkpoint {
                assert_eq!(d.deadline(), None);
            }
            at += ms(20);
        }
    }

    #[test]
    fn a_failed_batch_is_retried_as_a_scan_of_the_whole_tree() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        d.on(source("a.py"), t0);
        let t1 = t0 + ms(20);
        let (_, checkpoint) = apply(&mut d, t0 + QUIET, false, t1);
        assert!(!checkpoint);
        // Within a second, event or not; ignored events do not put it off.
        assert_eq!(d.deadline(), Some(t1 + RETRY));
        d.on(Input::Event(vec![Change::Ignored]), t1 + ms(10));
        assert_eq!(d.on(Input::Timeout, t1 + ms(999)), Action::Wait);
        let (batch, _) = apply(&mut d, t1 + RETRY, false, t1 + RETRY);
        assert_eq!(
            batch,
            Batch {
                whole: true,
                paths: BTreeSet::new(),
                first: None
            }
        );
        // A change before the retry is gathered as usual, into a scan of the whole tree.
        let t2 = t1 + RETRY;
        d.on(source("b.py"), t2 + ms(100));
        assert_eq!(d.deadline(), Some(t2 + ms(110)));
        let (batch, _) = apply(&mut d, t2 + ms(110), true, t2 + ms(200));
        assert!(batch.whole);
        assert_eq!(paths(&batch), ["b.py"]);
        // Applied: no retry, and no idle checkpoint after a scan of the whole tree.
        assert_eq!(d.deadline(), None);
    }

    #[test]
    fn a_failed_batch_keeps_a_pending_checkpoint_pending() {
        let t0 = Instant::now();
        let mut d = Debounce::new(QUIET);
        d.on(source("a.py"), t0);
        apply(&mut d, t0 + QUIET, true, t0 + ms(20));
        d.on(source("b.py"), t0 + ms(30));
        apply(&mut d, t0 + ms(40), false, t0 + ms(50));
        // The retry comes first...
        assert_eq!(d.deadline(), Some(t0 + ms(50) + RETRY));
        let t1 = t0 + ms(50) + RETRY;
        apply(&mut d, t1, true, t1 + ms(100));
        // ...then the checkpoint, once changes pause.
        assert_eq!(d.deadline(), Some(t1 + ms(100) + IDLE_CHECKPOINT));
        assert_eq!(
            d.on(Input::Timeout, t1 + ms(100) + IDLE_CHECKPOINT),
            Action::Checkpoint
        );
    }
}
