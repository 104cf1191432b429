//! The restart intensity of one scope: a sliding window of restart times
//! and the budget it is checked against.
//!
//! [`Window`] is the pure part. [`SharedWindow`] puts it behind a lock so
//! that the scope's supervisor and the child tasks that restart their
//! workers by themselves (see `runtime::lane`) count against one budget.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::policy::Policy;

/// Restart times of one scope within its sliding window. Holds at most
/// `max_restarts + 1` entries.
#[derive(Debug, Default, Clone)]
pub(crate) struct Window {
    times: VecDeque<Instant>,
}

impl Window {
    /// Forgets the restarts that have left the window at `now`.
    fn slide(&mut self, now: Instant, within: Duration) {
        while let Some(&first) = self.times.front() {
            if now.saturating_duration_since(first) >= within {
                self.times.pop_front();
            } else {
                break;
            }
        }
    }

    /// Records a restart at `now`; returns how many restarts the window holds
    /// and whether that exceeds `max_restarts`.
    pub(crate) fn record(&mut self, now: Instant, max_restarts: u32, within: Duration) -> (u32, bool) {
        self.times.push_back(now);
        self.slide(now, within);
        let cap = max_restarts as usize + 1;
        while self.times.len() > cap {
            self.times.pop_front();
        }
        let n = u32::try_from(self.times.len()).unwrap_or(u32::MAX);
        (n, n > max_restarts)
    }

    /// Records a restart at `now` only if it keeps the window within
    /// `max_restarts`; returns whether it did. A restart it refuses is left
    /// to [`record`](Self::record), which reports the budget exceeded.
    pub(crate) fn try_record(&mut self, now: Instant, max_restarts: u32, within: Duration) -> bool {
        self.slide(now, within);
        if self.times.len() >= max_restarts as usize {
            return false;
        }
        self.times.push_back(now);
        true
    }

    pub(crate) fn clear(&mut self) {
        self.times.clear();
    }
}

/// A scope's window and budget, shared by its supervisor and the child
/// tasks that restart themselves.
pub(crate) struct SharedWindow {
    window: Mutex<Window>,
    pub(crate) max_restarts: u32,
    pub(crate) within: Duration,
}

impl SharedWindow {
    /// An empty window for the budget of `policy` (its layers resolved).
    pub(crate) fn new(policy: Policy) -> Arc<SharedWindow> {
        Arc::new(SharedWindow {
            window: Mutex::default(),
            max_restarts: policy.max_restarts.unwrap_or(Policy::DEFAULT_MAX_RESTARTS),
            within: policy.within.unwrap_or(Policy::DEFAULT_WITHIN),
        })
    }

    /// Records a restart at `now` against this scope's budget: how many
    /// the window holds, and whether that exceeds the budget.
    pub(crate) fn record(&self, now: Instant) -> (u32, bool) {
        self.lock().record(now, self.max_restarts, self.within)
    }

    /// Records a restart at `now` only if the budget allows it.
    pub(crate) fn try_record(&self, now: Instant) -> bool {
        self.lock().try_record(now, self.max_restarts, self.within)
    }

    /// Forgets every restart (a quarantined scope that comes back).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The window; held for a few instructions at a time, never across an
    /// await, so the lock is uncontended in practice.
    fn lock(&self) -> MutexGuard<'_, Window> {
        // The window holds no invariant a panic could break.
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_allows_max_then_exceeds() {
        let t0 = Instant::now();
        let mut w = Window::default();
        let within = Duration::from_secs(5);
        assert_eq!(w.record(t0, 3, within), (1, false));
        assert_eq!(w.record(t0, 3, within), (2, false));
        assert_eq!(w.record(t0, 3, within), (3, false));
        assert_eq!(w.record(t0, 3, within), (4, true));
    }

    #[test]
    fn window_forgets_restarts_older_than_within() {
        let t0 = Instant::now();
        let mut w = Window::default();
        let within = Duration::from_secs(1);
        w.record(t0, 1, within);
        assert_eq!(w.record(t0 + Duration::from_millis(999), 1, within), (2, true));
        let mut w = Window::default();
        w.record(t0, 1, within);
        assert_eq!(w.record(t0 + Duration::from_secs(1), 1, within), (1, false));
    }

    #[test]
    fn try_record_refuses_what_record_would_exceed() {
        let t0 = Instant::now();
        let within = Duration::from_secs(1);
        let mut w = Window::default();
        assert!(w.try_record(t0, 2, within));
        assert!(w.try_record(t0, 2, within));
        // The third would exceed: refused, and not recorded.
        assert!(!w.try_record(t0, 2, within));
        assert_eq!(w.times.len(), 2);
        // `record` then reports the budget exceeded with the same count.
        assert_eq!(w.record(t0, 2, within), (3, true));
        // Once the window has moved on, there is room again.
        let mut w = Window::default();
        assert!(w.try_record(t0, 1, within));
        assert!(w.try_record(t0 + within, 1, within));
        assert!(!Window::default().try_record(t0, 0, within));
    }

    #[test]
    fn zero_budget_exceeds_on_first_restart() {
        let mut w = Window::default();
        assert_eq!(w.record(Instant::now(), 0, Duration::from_secs(1)), (1, true));
    }

    #[test]
    fn window_stays_bounded() {
        let t0 = Instant::now();
        let mut w = Window::default();
        for _ in 0..1000 {
            w.record(t0, 2, Duration::from_secs(60));
        }
        assert_eq!(w.times.len(), 3);
        // A window as long as `Duration::MAX` never overflows.
        assert_eq!(w.record(t0 + Duration::from_secs(1), 2, Duration::MAX), (3, true));
    }

    #[test]
    fn shared_window_reads_the_layered_budget() {
        let w = SharedWindow::new(Policy::new().max_restarts(1));
        assert_eq!((w.max_restarts, w.within), (1, Policy::DEFAULT_WITHIN));
        let now = Instant::now();
        assert!(w.try_record(now));
        assert!(!w.try_record(now));
        assert_eq!(w.record(now), (2, true));
        w.clear();
        assert!(w.try_record(now));
    }
}
