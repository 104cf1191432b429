//! The decisions of a supervisor, as pure functions: which children a
//! restart touches, whether a budget is spent, whether a child is restarted,
//! whether significant exits end the supervisor.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::Tree;
use crate::error::ExitReason;
use crate::policy::{AutoShutdown, Policy, Restart, Strategy};

/// Restart times of one scope within its sliding window. Holds at most
/// `max_restarts + 1` entries.
#[derive(Debug, Default, Clone)]
pub(crate) struct Window {
    times: VecDeque<Instant>,
}

impl Window {
    /// Records a restart at `now`; returns how many restarts the window holds
    /// and whether that exceeds `max_restarts`.
    pub(crate) fn record(&mut self, now: Instant, max_restarts: u32, within: Duration) -> (u32, bool) {
        self.times.push_back(now);
        while let Some(&first) = self.times.front() {
            if now.saturating_duration_since(first) >= within {
                self.times.pop_front();
            } else {
                break;
            }
        }
        let cap = max_restarts as usize + 1;
        while self.times.len() > cap {
            self.times.pop_front();
        }
        let n = self.times.len() as u32;
        (n, n > max_restarts)
    }

    /// Records a restart at `now` only if it keeps the window within
    /// `max_restarts`; returns whether it did. A restart it refuses is left
    /// to [`record`](Self::record), which reports the budget exceeded.
    pub(crate) fn try_record(&mut self, now: Instant, max_restarts: u32, within: Duration) -> bool {
        while let Some(&first) = self.times.front() {
            if now.saturating_duration_since(first) >= within {
                self.times.pop_front();
            } else {
                break;
            }
        }
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
/// tasks that restart themselves (see `runtime::lane`), with the tree those
/// tasks report their restarts to.
pub(crate) struct SharedWindow {
    window: Mutex<Window>,
    pub(crate) max_restarts: u32,
    pub(crate) within: Duration,
    pub(crate) tree: Arc<Tree>,
}

impl SharedWindow {
    /// An empty window for the budget of `policy` (its layers resolved).
    pub(crate) fn new(policy: Policy, tree: Arc<Tree>) -> Arc<SharedWindow> {
        Arc::new(SharedWindow {
            window: Mutex::default(),
            max_restarts: policy.max_restarts.unwrap_or(Policy::DEFAULT_MAX_RESTARTS),
            within: policy.within.unwrap_or(Policy::DEFAULT_WITHIN),
            tree,
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

    /// The window; held for a few instructions at a time, never across an
    /// await, so the lock is uncontended in practice.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Window> {
        // The window holds no invariant a panic could break.
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a child with this policy is restarted after this exit.
pub(crate) fn should_restart(restart: Restart, reason: &ExitReason) -> bool {
    match restart {
        Restart::Permanent => true,
        Restart::Transient => reason.is_failure(),
        Restart::Temporary => false,
    }
}

/// The positions (within `members`, which is in declaration order) that a
/// restart of `failed` touches under `strategy`.
pub(crate) fn affected<T: Copy + PartialEq>(strategy: Strategy, members: &[T], failed: T) -> Vec<T> {
    match strategy {
        Strategy::OneForOne => vec![failed],
        Strategy::OneForAll => members.to_vec(),
        Strategy::RestForOne => match members.iter().position(|&m| m == failed) {
            Some(at) => members[at..].to_vec(),
            None => vec![failed],
        },
    }
}

/// The children a quarantine stops (within `members`, in declaration
/// order): the whole scope when the budget is a group's or the
/// supervisor's; when it is one child's override, only the children a
/// restart of that child would touch, so that an override on one child never
/// quarantines its siblings.
pub(crate) fn quarantined<T: Copy + PartialEq>(
    override_budget: bool,
    strategy: Strategy,
    members: &[T],
    failed: T,
) -> Vec<T> {
    if override_budget { affected(strategy, members, failed) } else { members.to_vec() }
}

/// Whether a significant child's exit counts for auto_shutdown (OTP: a
/// transient child that ends normally, a temporary child that ends at all;
/// exits caused by the supervisor never count).
pub(crate) fn significant_exit_counts(restart: Restart, reason: &ExitReason) -> bool {
    match restart {
        Restart::Permanent => false,
        Restart::Transient => !reason.is_failure(),
        Restart::Temporary => true,
    }
}

/// Whether the supervisor ends after a significant exit, given how many
/// significant children remain running or restartable.
pub(crate) fn auto_shutdown_now(auto: AutoShutdown, significant_left: usize) -> bool {
    match auto {
        AutoShutdown::Never => false,
        AutoShutdown::AnySignificant => true,
        AutoShutdown::AllSignificant => significant_left == 0,
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
    }

    #[test]
    fn strategies_pick_scope_members() {
        let m = [1, 2, 3, 4];
        assert_eq!(affected(Strategy::OneForOne, &m, 2), vec![2]);
        assert_eq!(affected(Strategy::OneForAll, &m, 2), vec![1, 2, 3, 4]);
        assert_eq!(affected(Strategy::RestForOne, &m, 2), vec![2, 3, 4]);
        assert_eq!(affected(Strategy::RestForOne, &m, 4), vec![4]);
    }

    #[test]
    fn quarantine_of_an_override_spares_siblings() {
        let m = [1, 2, 3];
        assert_eq!(quarantined(true, Strategy::OneForOne, &m, 2), vec![2]);
        assert_eq!(quarantined(true, Strategy::RestForOne, &m, 2), vec![2, 3]);
        assert_eq!(quarantined(false, Strategy::OneForOne, &m, 2), vec![1, 2, 3]);
    }

    #[test]
    fn restart_policies() {
        let fail = ExitReason::Panicked("x".into());
        assert!(should_restart(Restart::Permanent, &ExitReason::Normal));
        assert!(should_restart(Restart::Transient, &fail));
        assert!(!should_restart(Restart::Transient, &ExitReason::Normal));
        assert!(!should_restart(Restart::Temporary, &fail));
    }

    #[test]
    fn significant_exits_follow_otp() {
        let fail = ExitReason::Failed(std::sync::Arc::new(std::io::Error::other("x")));
        assert!(significant_exit_counts(Restart::Transient, &ExitReason::Normal));
        assert!(!significant_exit_counts(Restart::Transient, &fail));
        assert!(significant_exit_counts(Restart::Temporary, &fail));
        assert!(!significant_exit_counts(Restart::Permanent, &ExitReason::Normal));
        assert!(auto_shutdown_now(AutoShutdown::AnySignificant, 3));
        assert!(!auto_shutdown_now(AutoShutdown::AllSignificant, 1));
        assert!(auto_shutdown_now(AutoShutdown::AllSignificant, 0));
        assert!(!auto_shutdown_now(AutoShutdown::Never, 0));
    }
}
