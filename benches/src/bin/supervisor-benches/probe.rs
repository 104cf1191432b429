//! What every scenario measures with: a start counter, an alive counter kept
//! by drop guards, a fail trigger, and a restart-time recorder.

use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Shared by the workers of one scenario and the measuring code.
pub(crate) struct Probe {
    started: AtomicUsize,
    target: AtomicUsize,
    reached: Notify,
    alive: AtomicIsize,
    /// Wakes the one worker that is to fail (one_for_all).
    pub(crate) trigger: Notify,
    base: Instant,
    times: Vec<AtomicU64>,
    recorded: AtomicUsize,
    /// When the last alive worker ended (nanoseconds since `base`).
    last_gone: AtomicU64,
}

/// Counts a worker alive from its creation to its drop (its task ended or
/// was aborted).
pub(crate) struct Alive(Arc<Probe>);

impl Drop for Alive {
    fn drop(&mut self) {
        if self.0.alive.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.last_gone.store(self.0.nanos(), Ordering::Release);
        }
    }
}

impl Probe {
    /// A probe that can record `restarts` run starts with their time.
    pub(crate) fn new(restarts: usize) -> Arc<Probe> {
        Arc::new(Probe {
            started: AtomicUsize::new(0),
            target: AtomicUsize::new(usize::MAX),
            reached: Notify::new(),
            alive: AtomicIsize::new(0),
            trigger: Notify::new(),
            base: Instant::now(),
            times: (0..restarts).map(|_| AtomicU64::new(0)).collect(),
            recorded: AtomicUsize::new(0),
            last_gone: AtomicU64::new(0),
        })
    }

    fn nanos(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// How long after `t0` the last alive worker ended, if they all have
    /// and it was after `t0`.
    pub(crate) fn all_gone_after(&self, t0: Instant) -> Option<Duration> {
        if self.alive() > 0 {
            return None;
        }
        let gone = self.base + Duration::from_nanos(self.last_gone.load(Ordering::Acquire));
        Some(gone.saturating_duration_since(t0))
    }

    /// Called first thing by every run: counts it alive and started.
    pub(crate) fn enter(self: &Arc<Self>) -> Alive {
        self.alive.fetch_add(1, Ordering::AcqRel);
        let n = self.started.fetch_add(1, Ordering::AcqRel) + 1;
        if n == self.target.load(Ordering::Acquire) {
            self.reached.notify_one();
        }
        Alive(self.clone())
    }

    /// Records the start time of one run (restart scenario); once the
    /// recorder is full, wakes `wait_started(usize::MAX)`-style waiters via
    /// the start counter.
    pub(crate) fn record_start(&self) {
        let i = self.recorded.fetch_add(1, Ordering::AcqRel);
        if let Some(slot) = self.times.get(i) {
            slot.store(self.nanos(), Ordering::Release);
            if i + 1 == self.times.len() {
                self.reached.notify_one();
            }
        }
    }

    /// Waits until the recorder is full.
    pub(crate) async fn wait_recorded(&self) {
        while self.recorded.load(Ordering::Acquire) < self.times.len() {
            self.reached.notified().await;
        }
    }

    /// The recorded start times, in nanoseconds since the probe was made
    /// (as many as were recorded: a run cut short by its time limit has
    /// fewer than the recorder holds).
    pub(crate) fn start_times(&self) -> Vec<u64> {
        let mut t: Vec<u64> = self.times.iter().map(|a| a.load(Ordering::Acquire)).filter(|&t| t > 0).collect();
        t.sort_unstable();
        t
    }

    pub(crate) fn started(&self) -> usize {
        self.started.load(Ordering::Acquire)
    }

    pub(crate) fn alive(&self) -> isize {
        self.alive.load(Ordering::Acquire)
    }

    /// Waits until `n` runs in total have started.
    pub(crate) async fn wait_started(&self, n: usize) {
        self.target.store(n, Ordering::Release);
        while self.started() < n {
            self.reached.notified().await;
        }
    }

    /// Polls until no worker is alive or `limit` has passed; whether they
    /// all ended ([`all_gone_after`](Self::all_gone_after) says when).
    pub(crate) async fn wait_none_alive(&self, limit: Duration) -> bool {
        let t0 = Instant::now();
        while self.alive() > 0 {
            if t0.elapsed() > limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        true
    }
}

/// Resident memory of this process in bytes, from /proc/self/statm.
pub(crate) fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    pages * page_size()
}

fn page_size() -> u64 {
    // Every Linux this runs on uses 4 KiB pages unless it says otherwise in
    // /proc/self/smaps; reading that is not worth it for a benchmark.
    4096
}
