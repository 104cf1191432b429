//! The supervisor's clock: its timers (restarts after a backoff, heartbeat
//! checks) and the one sleep that wakes it for them and for its job's
//! deadlines.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::pin::Pin;

use tokio::time::{Instant, Sleep};

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    /// The restart of a child `Pending { token }`.
    Restart { key: u64, token: u64 },
    /// A look at whether a run's heartbeat is late.
    Heartbeat { key: u64, attempt: u32 },
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    at: Instant,
    seq: u64,
    kind: TimerKind,
}

/// The timers, earliest first. A timer is never cancelled: one that has
/// gone stale (its child restarted, stopped or removed since) is dropped
/// when it comes up.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Timer>>,
    seq: u64,
}

impl Timers {
    /// A number no timer has had: the token of a pending restart.
    pub(crate) fn token(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(crate) fn push(&mut self, at: Instant, kind: TimerKind) {
        let seq = self.token();
        self.heap.push(Reverse(Timer { at, seq, kind }));
    }

    /// When the earliest timer is due.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|t| t.0.at)
    }

    /// The earliest timer, if it is due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerKind> {
        if self.next()? > now {
            return None;
        }
        self.heap.pop().map(|t| t.0.kind)
    }

    pub(crate) fn clear(&mut self) {
        self.heap.clear();
    }

    pub(crate) fn contains(&self, kind: TimerKind) -> bool {
        self.heap.iter().any(|t| t.0.kind == kind)
    }
}

/// One sleep for whatever the supervisor waits on next (a job's deadline,
/// the earliest timer), reset rather than made anew: thousands of children
/// stopped in turn need no timer each. It may ring early (the handler then
/// sets it again); it never rings late.
#[derive(Default)]
pub(crate) struct Alarm {
    sleep: Option<Pin<Box<Sleep>>>,
    pub(crate) armed: Option<Instant>,
}

impl Alarm {
    /// Makes the alarm ring no later than `at`.
    pub(crate) fn set(&mut self, at: Option<Instant>) {
        let Some(at) = at else { return };
        if self.armed.is_some_and(|armed| armed <= at) {
            return;
        }
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().reset(at),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(at))),
        }
        self.armed = Some(at);
    }

    pub(crate) async fn ring(&mut self) {
        match &mut self.sleep {
            Some(sleep) if self.armed.is_some() => sleep.as_mut().await,
            _ => std::future::pending().await,
        }
        self.armed = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timers_come_up_earliest_first_once_due() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.push(t0 + Duration::from_millis(20), TimerKind::Heartbeat { key: 1, attempt: 1 });
        timers.push(t0 + Duration::from_millis(10), TimerKind::Restart { key: 2, token: 9 });
        assert_eq!(timers.next(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(timers.pop_due(t0), None);
        assert_eq!(timers.pop_due(t0 + Duration::from_millis(15)), Some(TimerKind::Restart { key: 2, token: 9 }));
        assert!(timers.contains(TimerKind::Heartbeat { key: 1, attempt: 1 }));
        assert_eq!(timers.pop_due(t0 + Duration::from_millis(15)), None);
        assert!(timers.token() != timers.token(), "tokens are never reused");
    }
}
