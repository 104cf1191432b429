//! The decisions of a supervisor, as pure functions of their inputs: whose
//! budget and strategy apply to a child, which children a restart touches,
//! whether a child is restarted and after how long, whether its task may
//! restart it by itself, whether a heartbeat is missed, whether significant
//! exits end the supervisor. Nothing here touches a task, a clock or a lock.

use std::time::Duration;

use tokio::time::Instant;

use crate::error::ExitReason;
use crate::policy::{AutoShutdown, Backoff, Escalation, Policy, Restart, Strategy};

/// Whose budget a restart counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeKey {
    /// The supervisor's own.
    Supervisor,
    /// A restart group's (by its position among the supervisor's groups).
    Group(u32),
    /// One child's override (by the child's key).
    Child(u64),
}

/// The restart scope of one child: which children restart with it
/// (`group`: its group's members, or with `None` every child), how, against
/// whose budget, and what happens when that budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) group: Option<u32>,
    pub(crate) strategy: Strategy,
    pub(crate) budget: ScopeKey,
    pub(crate) escalation: Escalation,
}

/// The scope of the child `key`: its override, else its group, else the
/// supervisor, layer by layer. The budget is the innermost layer that sets
/// one (`max_restarts` or `within`); the strategy and escalation are the
/// innermost that are set.
pub(crate) fn scope_of(key: u64, over: Option<Policy>, group: Option<(u32, Policy)>, supervisor: Policy) -> Scope {
    let over = over.unwrap_or_default();
    let group_policy = group.map(|(_, p)| p).unwrap_or_default();
    let policy = over.or(group_policy).or(supervisor);
    let budget = if over.has_budget() {
        ScopeKey::Child(key)
    } else if let Some((g, _)) = group.filter(|(_, p)| p.has_budget()) {
        ScopeKey::Group(g)
    } else {
        ScopeKey::Supervisor
    };
    Scope {
        group: group.map(|(g, _)| g),
        strategy: policy.strategy.unwrap_or_default(),
        budget,
        escalation: policy.escalation.unwrap_or_default(),
    }
}

/// The policy a scope's window keeps the budget of (`max_restarts`,
/// `within`): the budget's own layer over the layers below it.
pub(crate) fn budget_policy(
    budget: ScopeKey,
    over: Option<Policy>,
    group: Option<Policy>,
    supervisor: Policy,
) -> Policy {
    let group = group.unwrap_or_default();
    match budget {
        ScopeKey::Supervisor => supervisor,
        ScopeKey::Group(_) => group.or(supervisor),
        ScopeKey::Child(_) => over.unwrap_or_default().or(group).or(supervisor),
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

/// The members (of `members`, in declaration order) that a restart of
/// `failed` touches under `strategy`.
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

/// The children a quarantine stops (of `members`, in declaration order):
/// the whole scope when the budget is a group's or the supervisor's; when it
/// is one child's override, only the children a restart of that child would
/// touch, so that an override on one child never quarantines its siblings.
pub(crate) fn quarantined<T: Copy + PartialEq>(
    override_budget: bool,
    strategy: Strategy,
    members: &[T],
    failed: T,
) -> Vec<T> {
    if override_budget { affected(strategy, members, failed) } else { members.to_vec() }
}

/// Whether the worker's own task may restart it (see `runtime::lane`): a
/// worker restarted alone (one_for_one) and at once (no backoff), with
/// nothing the supervisor must watch between runs (no heartbeat, no start
/// timeout, not significant) and that is restarted at all.
pub(crate) fn restarts_in_task(
    is_worker: bool,
    restart: Restart,
    significant: bool,
    timed: bool,
    strategy: Strategy,
) -> bool {
    is_worker && restart != Restart::Temporary && !significant && !timed && strategy == Strategy::OneForOne
}

/// Whether a restart in a supervisor may stop other children than the one
/// that failed: whether any scope, resolved from the supervisor's policy,
/// its groups' and its overrides', is not one_for_one. (Children added at
/// run time take their group's scope, or the supervisor's.)
pub(crate) fn restarts_stop_others(
    supervisor: Policy,
    groups: impl IntoIterator<Item = Policy>,
    overrides: impl IntoIterator<Item = Policy>,
) -> bool {
    let stops_others = |strategy: Option<Strategy>| strategy.is_some_and(|s| s != Strategy::OneForOne);
    supervisor.strategy.unwrap_or_default() != Strategy::OneForOne
        || groups.into_iter().chain(overrides).any(|p| stops_others(p.strategy))
}

/// Consecutive failures of a child after a run that lasted `ran` and ended
/// with `reason`: one more after a failure, counted afresh once a run has
/// lasted the backoff's `max`; unchanged after a normal end.
pub(crate) fn failures_after(failures: u32, reason: &ExitReason, ran: Duration, backoff: Backoff) -> u32 {
    if !reason.is_failure() {
        return failures;
    }
    let base = if backoff.reset_after().is_some_and(|reset| ran >= reset) { 0 } else { failures };
    base.saturating_add(1)
}

/// The delay before a restart: the backoff's after a failure, none after a
/// normal end.
pub(crate) fn restart_delay(reason: &ExitReason, backoff: Backoff, failures: u32) -> Duration {
    if reason.is_failure() { backoff.delay(failures.max(1)) } else { Duration::ZERO }
}

/// What a heartbeat check finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Heartbeat {
    /// Alive: check again at this time.
    CheckAt(Instant),
    /// Silent for longer than its interval.
    Missed,
}

/// Whether a run that started at `started` and last beat at `last_beat`
/// has missed its heartbeat `interval` by `now`.
pub(crate) fn heartbeat(started: Instant, last_beat: Option<Instant>, interval: Duration, now: Instant) -> Heartbeat {
    let last = last_beat.map_or(started, |beat| beat.max(started));
    let due = deadline(last, interval);
    if now < due { Heartbeat::CheckAt(due) } else { Heartbeat::Missed }
}

/// The longest a deadline reaches ahead: thirty years (as tokio's own "far
/// future"), so that a very long duration means "practically never" and
/// never overflows the clock.
const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + d`, saturated at thirty years ahead.
pub(crate) fn deadline(now: Instant, d: Duration) -> Instant {
    now + d.min(FAR)
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

    fn failed() -> ExitReason {
        ExitReason::Panicked("x".into())
    }

    #[test]
    fn only_a_scope_that_is_not_one_for_one_stops_others() {
        let none = std::iter::empty::<Policy>;
        let o4o = Policy::new().strategy(Strategy::OneForOne);
        let all = Policy::new().strategy(Strategy::OneForAll);
        let rest = Policy::new().strategy(Strategy::RestForOne);
        let budget_only = Policy::new().max_restarts(9);
        assert!(!restarts_stop_others(Policy::new(), none(), none()), "the default is one_for_one");
        assert!(!restarts_stop_others(o4o, [budget_only, o4o], [budget_only]), "layers that set no other strategy");
        assert!(restarts_stop_others(all, none(), none()));
        assert!(restarts_stop_others(o4o, [budget_only, rest], none()), "a group");
        assert!(restarts_stop_others(o4o, none(), [all]), "an override");
        // A one_for_one group under a one_for_all supervisor leaves the
        // supervisor's own scope, which stops the others.
        assert!(restarts_stop_others(all, [o4o], [o4o]));
    }

    #[test]
    fn scope_is_the_innermost_layer_with_a_budget() {
        let sup = Policy::new().strategy(Strategy::OneForAll);
        // Nothing below the supervisor: its scope, its budget.
        let s = scope_of(7, None, None, sup);
        assert_eq!((s.group, s.strategy, s.budget), (None, Strategy::OneForAll, ScopeKey::Supervisor));
        // A group without a budget of its own: the group's members restart
        // with its strategy, against the supervisor's budget.
        let g = Policy::new().strategy(Strategy::RestForOne);
        let s = scope_of(7, None, Some((1, g)), sup);
        assert_eq!((s.group, s.strategy, s.budget), (Some(1), Strategy::RestForOne, ScopeKey::Supervisor));
        // A group with a budget counts against it.
        let s = scope_of(7, None, Some((1, g.max_restarts(10))), sup);
        assert_eq!(s.budget, ScopeKey::Group(1));
        // An override with a budget wins over the group's.
        let o = Policy::new().within(Duration::from_secs(1)).escalation(Escalation::Quarantine);
        let s = scope_of(7, Some(o), Some((1, g.max_restarts(10))), sup);
        assert_eq!(
            (s.strategy, s.budget, s.escalation),
            (Strategy::RestForOne, ScopeKey::Child(7), Escalation::Quarantine)
        );
        // An override that sets only a strategy keeps the group's budget.
        let s = scope_of(7, Some(Policy::new().strategy(Strategy::OneForOne)), Some((1, g.max_restarts(10))), sup);
        assert_eq!((s.strategy, s.budget), (Strategy::OneForOne, ScopeKey::Group(1)));
    }

    #[test]
    fn a_budget_fills_its_gaps_from_the_layers_below() {
        let sup = Policy::new().max_restarts(5).within(Duration::from_secs(9));
        let group = Policy::new().max_restarts(10);
        let over = Policy::new().within(Duration::from_secs(1));
        let p = budget_policy(ScopeKey::Child(1), Some(over), Some(group), sup);
        assert_eq!((p.max_restarts, p.within), (Some(10), Some(Duration::from_secs(1))));
        let p = budget_policy(ScopeKey::Group(0), Some(over), Some(group), sup);
        assert_eq!((p.max_restarts, p.within), (Some(10), Some(Duration::from_secs(9))));
        assert_eq!(budget_policy(ScopeKey::Supervisor, Some(over), Some(group), sup), sup);
    }

    #[test]
    fn strategies_pick_scope_members() {
        let m = [1, 2, 3, 4];
        assert_eq!(affected(Strategy::OneForOne, &m, 2), vec![2]);
        assert_eq!(affected(Strategy::OneForAll, &m, 2), vec![1, 2, 3, 4]);
        assert_eq!(affected(Strategy::RestForOne, &m, 2), vec![2, 3, 4]);
        assert_eq!(affected(Strategy::RestForOne, &m, 4), vec![4]);
        assert_eq!(affected(Strategy::RestForOne, &m, 9), vec![9]);
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
        assert!(should_restart(Restart::Permanent, &ExitReason::Normal));
        assert!(should_restart(Restart::Transient, &failed()));
        assert!(!should_restart(Restart::Transient, &ExitReason::Normal));
        assert!(!should_restart(Restart::Temporary, &failed()));
    }

    #[test]
    fn only_plain_one_for_one_workers_restart_in_their_task() {
        assert!(restarts_in_task(true, Restart::Permanent, false, false, Strategy::OneForOne));
        assert!(restarts_in_task(true, Restart::Transient, false, false, Strategy::OneForOne));
        assert!(!restarts_in_task(false, Restart::Permanent, false, false, Strategy::OneForOne), "a supervisor");
        assert!(!restarts_in_task(true, Restart::Temporary, false, false, Strategy::OneForOne));
        assert!(!restarts_in_task(true, Restart::Transient, true, false, Strategy::OneForOne), "significant");
        assert!(!restarts_in_task(true, Restart::Permanent, false, true, Strategy::OneForOne), "timed");
        assert!(!restarts_in_task(true, Restart::Permanent, false, false, Strategy::OneForAll));
        assert!(!restarts_in_task(true, Restart::Permanent, false, false, Strategy::RestForOne));
    }

    #[test]
    fn failures_count_up_and_reset_after_a_long_run() {
        let b = Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1));
        assert_eq!(failures_after(0, &failed(), Duration::ZERO, b), 1);
        assert_eq!(failures_after(3, &failed(), Duration::from_millis(999), b), 4);
        // A run that lasted the backoff's max starts the count afresh.
        assert_eq!(failures_after(3, &failed(), Duration::from_secs(1), b), 1);
        // A normal end neither counts nor resets.
        assert_eq!(failures_after(3, &ExitReason::Normal, Duration::from_secs(9), b), 3);
        // Without a backoff the count only grows, and saturates.
        assert_eq!(failures_after(u32::MAX, &failed(), Duration::from_secs(9), Backoff::None), u32::MAX);
    }

    #[test]
    fn delay_follows_the_backoff_after_failures_only() {
        let b = Backoff::exponential(Duration::from_millis(10), Duration::from_millis(10));
        assert_eq!(restart_delay(&failed(), b, 0), Duration::from_millis(10));
        assert_eq!(restart_delay(&ExitReason::Normal, b, 3), Duration::ZERO);
        assert_eq!(restart_delay(&failed(), Backoff::None, 3), Duration::ZERO);
        let huge = Backoff::exponential(Duration::MAX / 2, Duration::MAX);
        assert!(restart_delay(&failed(), huge, 40) >= Duration::MAX / 2, "no overflow on huge delays");
    }

    #[test]
    fn heartbeat_is_missed_once_silent_for_its_interval() {
        let t0 = Instant::now();
        let d = Duration::from_millis(100);
        assert_eq!(heartbeat(t0, None, d, t0), Heartbeat::CheckAt(t0 + d));
        assert_eq!(heartbeat(t0, None, d, t0 + d), Heartbeat::Missed);
        let beat = t0 + Duration::from_millis(60);
        assert_eq!(heartbeat(t0, Some(beat), d, t0 + d), Heartbeat::CheckAt(beat + d));
        // A beat from before the run started (an earlier run) does not count.
        let late_start = t0 + Duration::from_millis(80);
        assert_eq!(heartbeat(late_start, Some(beat), d, late_start), Heartbeat::CheckAt(late_start + d));
        assert!(matches!(heartbeat(t0, None, Duration::MAX, t0), Heartbeat::CheckAt(_)), "no overflow");
    }

    #[test]
    fn deadlines_saturate() {
        let now = Instant::now();
        assert_eq!(deadline(now, Duration::from_secs(1)), now + Duration::from_secs(1));
        assert_eq!(deadline(now, Duration::MAX), now + FAR);
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
