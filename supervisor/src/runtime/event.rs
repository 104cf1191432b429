//! Typed events of a tree, for operators and tests.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use crate::error::{ExitReason, SupervisorError};

/// Something that happened in the tree, with the path of the child or
/// supervisor it concerns and that child's current attempt.
#[derive(Debug, Clone)]
pub struct Event {
    /// When it happened (tokio's clock).
    pub at: Instant,
    /// The child's or supervisor's path (`app/http/router`).
    pub path: Arc<str>,
    /// The child's attempt (1 for the first run; 0 for supervisor-wide events).
    pub attempt: u32,
    /// What happened.
    pub kind: EventKind,
}

/// What an [`Event`] reports.
///
/// With the `serde` feature it serializes as its `kind` in snake_case beside
/// its fields, durations in milliseconds (`{"kind": "restart_scheduled",
/// "delay_ms": 10.0}`).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum EventKind {
    /// The child runs (after `ctx.ready()` when it has a start timeout).
    Started,
    /// The child failed to start.
    StartFailed {
        /// Why.
        reason: ExitReason,
    },
    /// The child's run ended.
    Exited {
        /// Why.
        reason: ExitReason,
    },
    /// The child will start again after `delay`.
    RestartScheduled {
        /// The backoff delay (zero: at once).
        #[cfg_attr(feature = "serde", serde(rename = "delay_ms", serialize_with = "duration_ms"))]
        delay: Duration,
    },
    /// The child stayed silent past its heartbeat interval.
    HeartbeatMissed {
        /// The interval.
        #[cfg_attr(feature = "serde", serde(rename = "interval_ms", serialize_with = "duration_ms"))]
        interval: Duration,
    },
    /// A scope's restarts exceeded its budget.
    BudgetExceeded {
        /// The scope ("supervisor `app`", "group `g` of supervisor `app`", ...).
        scope: String,
        /// Restarts in the window.
        restarts: u32,
        /// The window.
        #[cfg_attr(feature = "serde", serde(rename = "within_ms", serialize_with = "duration_ms"))]
        within: Duration,
    },
    /// The supervisor gave up and exits with this error.
    Escalated {
        /// The error it exits with.
        error: SupervisorError,
    },
    /// The child was stopped and quarantined.
    Quarantined,
    /// The supervisor ends because of its significant children.
    AutoShutdown,
    /// The supervisor began to stop its children.
    ShutdownStarted,
    /// The supervisor's children have all ended.
    ShutdownCompleted,
    /// The child's mailbox gave up messages it could not deliver (each one
    /// also goes to the mailbox's dead-letter callback).
    DeadLetter {
        /// Why.
        reason: crate::mailbox::DeadLetterReason,
        /// How many messages.
        count: usize,
    },
    /// A delivery the child's run did not acknowledge went back to the
    /// front of its mailbox.
    Redelivered {
        /// How many times that message has now been delivered again.
        redeliveries: u32,
    },
}

/// A duration as milliseconds, the unit the snapshot's `uptime_ms` uses.
#[cfg(feature = "serde")]
fn duration_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// An event as JSON: `{"at_unix_ms": .., "path": .., "attempt": .., "kind":
/// .., ...the kind's fields}`. Its `Instant` becomes wall-clock time, which
/// is what a reader of a log or a dashboard can place.
#[cfg(feature = "serde")]
impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Repr<'a> {
            at_unix_ms: u64,
            path: &'a str,
            attempt: u32,
            #[serde(flatten)]
            kind: &'a EventKind,
        }
        let age = Instant::now().saturating_duration_since(self.at);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let at_unix_ms = u64::try_from(now.saturating_sub(age).as_millis()).unwrap_or(u64::MAX);
        Repr { at_unix_ms, path: &self.path, attempt: self.attempt, kind: &self.kind }.serialize(s)
    }
}

/// A subscription to the tree's events, from
/// [`SupervisorHandle::subscribe`](crate::SupervisorHandle::subscribe).
///
/// Bounded: a subscriber that falls behind loses the oldest events and is
/// told how many; it never slows a supervisor down.
pub struct Subscription {
    pub(crate) rx: broadcast::Receiver<Event>,
    /// The subscribed supervisor's end: after it, no event is to come.
    pub(crate) exit: watch::Receiver<Option<super::handle::Exit>>,
    pub(crate) tree: std::sync::Arc<super::Tree>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.tree.subscribers.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Why [`Subscription::recv`] returned no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The subscriber fell behind and this many events were lost; the next
    /// call returns the oldest event still held.
    #[error("the subscriber fell behind and lost {0} events")]
    Lagged(u64),
    /// The tree has ended and every event has been read.
    #[error("the tree has ended")]
    Closed,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("waiting", &self.rx.len()).finish()
    }
}

impl Subscription {
    /// The next event.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        let result = tokio::select! {
            biased;
            r = self.rx.recv() => r,
            _ = self.exit.wait_for(Option::is_some) => Err(broadcast::error::RecvError::Closed),
        };
        if matches!(result, Err(broadcast::error::RecvError::Closed)) {
            // Events sent before the end are still delivered first.
            return self.try_recv().unwrap_or(Err(RecvError::Closed));
        }
        result.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(n) => RecvError::Lagged(n),
            broadcast::error::RecvError::Closed => RecvError::Closed,
        })
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<Result<Event, RecvError>> {
        match self.rx.try_recv() {
            Ok(e) => Some(Ok(e)),
            Err(broadcast::error::TryRecvError::Empty) => None,
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
            Err(broadcast::error::TryRecvError::Closed) => Some(Err(RecvError::Closed)),
        }
    }
}
