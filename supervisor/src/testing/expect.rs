//! Expectations over events, written as the events read:
//! `started("app/db")`, `exited("app/db", Exit::Failure)`,
//! `restart_scheduled("app/db", 10ms)`, `escalated("app")`; and the words
//! a recorded event is shown in, next to them.

use std::fmt;
use std::time::Duration;

use crate::error::ExitReason;
use crate::inspect::words;
use crate::runtime::{Event, EventKind};

/// Which exits an expectation accepts, by the words of
/// [`ExitReason::kind`] (and `Failure` for every failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// Any exit at all.
    Any,
    /// Any failure: an error, a panic, a missed heartbeat, a start timeout,
    /// a nested supervisor's error ([`ExitReason::is_failure`]).
    Failure,
    /// The run returned `()` or `Ok(())`.
    Normal,
    /// The run was stopped and ended in time.
    Shutdown,
    /// The run was stopped and aborted.
    Killed,
    /// The run returned an error.
    Error,
    /// The run panicked.
    Panic,
    /// The run missed its heartbeat.
    HeartbeatMissed,
    /// The run did not call `ready()` within its start timeout.
    StartTimeout,
    /// A nested supervisor ended with an error.
    Supervisor,
}

impl Exit {
    /// Whether `reason` is one of these exits.
    pub fn matches(self, reason: &ExitReason) -> bool {
        match self {
            Exit::Any => true,
            Exit::Failure => reason.is_failure(),
            Exit::Normal => matches!(reason, ExitReason::Normal),
            Exit::Shutdown => matches!(reason, ExitReason::Shutdown),
            Exit::Killed => matches!(reason, ExitReason::Killed),
            Exit::Error => matches!(reason, ExitReason::Failed(_)),
            Exit::Panic => matches!(reason, ExitReason::Panicked(_)),
            Exit::HeartbeatMissed => matches!(reason, ExitReason::HeartbeatMissed(_)),
            Exit::StartTimeout => matches!(reason, ExitReason::StartTimeout(_)),
            Exit::Supervisor => matches!(reason, ExitReason::Supervisor(_)),
        }
    }

    fn word(self) -> &'static str {
        match self {
            Exit::Any => "any",
            Exit::Failure => "failure",
            Exit::Normal => "normal",
            Exit::Shutdown => "shutdown",
            Exit::Killed => "killed",
            Exit::Error => "error",
            Exit::Panic => "panic",
            Exit::HeartbeatMissed => "heartbeat",
            Exit::StartTimeout => "start_timeout",
            Exit::Supervisor => "supervisor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum What {
    Started,
    StartFailed(Exit),
    Exited(Exit),
    RestartScheduled { min: Duration, max: Duration },
    HeartbeatMissed,
    BudgetExceeded,
    Escalated,
    Quarantined,
    AutoShutdown,
    ShutdownStarted,
    ShutdownCompleted,
    DeadLetter,
    Redelivered,
}

/// One expected event: its kind, the path it concerns and, if asked, the
/// attempt. Made by [`started`], [`exited`], [`escalated`] and their
/// siblings; checked by a [`Recorder`](super::Recorder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    path: String,
    what: What,
    attempt: Option<u32>,
}

impl Expect {
    fn new(path: impl AsRef<str>, what: What) -> Self {
        Expect { path: path.as_ref().to_string(), what, attempt: None }
    }

    /// Also requires the event's attempt (1 for a child's first run).
    pub fn attempt(mut self, attempt: u32) -> Self {
        self.attempt = Some(attempt);
        self
    }

    /// Whether `event` is the one expected.
    pub fn matches(&self, event: &Event) -> bool {
        if *event.path != *self.path || self.attempt.is_some_and(|a| a != event.attempt) {
            return false;
        }
        match (&self.what, &event.kind) {
            (What::Started, EventKind::Started)
            | (What::HeartbeatMissed, EventKind::HeartbeatMissed { .. })
            | (What::BudgetExceeded, EventKind::BudgetExceeded { .. })
            | (What::Escalated, EventKind::Escalated { .. })
            | (What::Quarantined, EventKind::Quarantined)
            | (What::AutoShutdown, EventKind::AutoShutdown)
            | (What::ShutdownStarted, EventKind::ShutdownStarted)
            | (What::ShutdownCompleted, EventKind::ShutdownCompleted)
            | (What::DeadLetter, EventKind::DeadLetter { .. })
            | (What::Redelivered, EventKind::Redelivered { .. }) => true,
            (What::StartFailed(exit), EventKind::StartFailed { reason })
            | (What::Exited(exit), EventKind::Exited { reason }) => exit.matches(reason),
            (What::RestartScheduled { min, max }, EventKind::RestartScheduled { delay }) => {
                (min..=max).contains(&delay)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match &self.what {
            What::Started => "started",
            What::StartFailed(_) => "start_failed",
            What::Exited(_) => "exited",
            What::RestartScheduled { .. } => "restart_scheduled",
            What::HeartbeatMissed => "heartbeat_missed",
            What::BudgetExceeded => "budget_exceeded",
            What::Escalated => "escalated",
            What::Quarantined => "quarantined",
            What::AutoShutdown => "auto_shutdown",
            What::ShutdownStarted => "shutdown_started",
            What::ShutdownCompleted => "shutdown_completed",
            What::DeadLetter => "dead_letter",
            What::Redelivered => "redelivered",
        };
        write!(f, "{name} {}", self.path)?;
        if let Some(a) = self.attempt {
            write!(f, ", attempt {a}")?;
        }
        match &self.what {
            What::StartFailed(exit) | What::Exited(exit) => write!(f, ": {}", exit.word()),
            What::RestartScheduled { min, max } if min == max => write!(f, ": {}", words::duration(*min)),
            What::RestartScheduled { min, max } => {
                write!(f, ": {}..={}", words::duration(*min), words::duration(*max))
            }
            _ => Ok(()),
        }
    }
}

/// The child at `path` started (or started again).
pub fn started(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::Started)
}

/// The child at `path` failed to start, with one of these exits.
pub fn start_failed(path: impl AsRef<str>, exit: Exit) -> Expect {
    Expect::new(path, What::StartFailed(exit))
}

/// A run of the child at `path` ended, with one of these exits.
pub fn exited(path: impl AsRef<str>, exit: Exit) -> Expect {
    Expect::new(path, What::Exited(exit))
}

/// The child at `path` will start again after exactly `delay` (zero: at
/// once). Backoff after the first failure waits exactly its `min`; later
/// delays carry jitter: see [`restart_scheduled_between`].
pub fn restart_scheduled(path: impl AsRef<str>, delay: Duration) -> Expect {
    Expect::new(path, What::RestartScheduled { min: delay, max: delay })
}

/// The child at `path` will start again after a delay in `min..=max`.
pub fn restart_scheduled_between(path: impl AsRef<str>, min: Duration, max: Duration) -> Expect {
    Expect::new(path, What::RestartScheduled { min, max })
}

/// The child at `path` stayed silent past its heartbeat interval.
pub fn heartbeat_missed(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::HeartbeatMissed)
}

/// A budget of the supervisor at `path` was exceeded.
pub fn budget_exceeded(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::BudgetExceeded)
}

/// The supervisor at `path` gave up (escalated, or shut the tree down).
pub fn escalated(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::Escalated)
}

/// The child at `path` was quarantined.
pub fn quarantined(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::Quarantined)
}

/// The mailbox of the child at `path` gave up on messages (see
/// [`EventKind::DeadLetter`]).
pub fn dead_letter(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::DeadLetter)
}

/// A delivery to the child at `path` went back to the front of its mailbox.
pub fn redelivered(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::Redelivered)
}

/// The supervisor at `path` ended because of its significant children.
pub fn auto_shutdown(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::AutoShutdown)
}

/// The supervisor at `path` began to stop its children.
pub fn shutdown_started(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::ShutdownStarted)
}

/// The children of the supervisor at `path` have all ended.
pub fn shutdown_completed(path: impl AsRef<str>) -> Expect {
    Expect::new(path, What::ShutdownCompleted)
}

/// A recorded event in the words of the expectations, with what they
/// leave out: `exited app/db, attempt 1: error (failed: disk full)`.
pub(crate) fn describe(event: &Event) -> String {
    let (name, detail) = match &event.kind {
        EventKind::Started => ("started", None),
        EventKind::StartFailed { reason } => ("start_failed", Some(format!("{} ({reason})", reason.kind()))),
        EventKind::Exited { reason } => ("exited", Some(format!("{} ({reason})", reason.kind()))),
        EventKind::RestartScheduled { delay } => ("restart_scheduled", Some(words::duration(*delay))),
        EventKind::HeartbeatMissed { interval } => ("heartbeat_missed", Some(words::duration(*interval))),
        EventKind::BudgetExceeded { scope, restarts, within } => (
            "budget_exceeded",
            Some(format!("{scope}, {} within {}", words::restarts(*restarts), words::duration(*within))),
        ),
        EventKind::Escalated { error } => ("escalated", Some(error.to_string())),
        EventKind::Quarantined => ("quarantined", None),
        EventKind::AutoShutdown => ("auto_shutdown", None),
        EventKind::ShutdownStarted => ("shutdown_started", None),
        EventKind::ShutdownCompleted => ("shutdown_completed", None),
        EventKind::DeadLetter { reason, count } => ("dead_letter", Some(format!("{count} ({reason})"))),
        EventKind::Redelivered { redeliveries } => ("redelivered", Some(format!("{redeliveries} times"))),
    };
    let mut text = format!("{name} {}", event.path);
    if event.attempt > 0 {
        text.push_str(&format!(", attempt {}", event.attempt));
    }
    if let Some(detail) = detail {
        text.push_str(": ");
        text.push_str(&detail);
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn event(path: &str, attempt: u32, kind: EventKind) -> Event {
        Event { at: tokio::time::Instant::now(), path: Arc::from(path), attempt, kind }
    }

    #[test]
    fn exits_match_by_kind_and_failure_covers_every_failure() {
        let panic = ExitReason::Panicked("boom".into());
        let error = ExitReason::Failed(Arc::new(std::io::Error::other("disk full")));
        assert!(Exit::Failure.matches(&panic) && Exit::Failure.matches(&error));
        assert!(!Exit::Failure.matches(&ExitReason::Shutdown));
        assert!(Exit::Panic.matches(&panic) && !Exit::Panic.matches(&error));
        assert!(Exit::Error.matches(&error) && !Exit::Error.matches(&ExitReason::Normal));
        assert!(Exit::Any.matches(&ExitReason::Killed));
        assert!(Exit::HeartbeatMissed.matches(&ExitReason::HeartbeatMissed(Duration::from_secs(1))));
    }

    #[test]
    fn an_expectation_matches_its_path_kind_attempt_and_delay() {
        let scheduled = event("app/db", 2, EventKind::RestartScheduled { delay: Duration::from_millis(10) });
        assert!(restart_scheduled("app/db", Duration::from_millis(10)).matches(&scheduled));
        assert!(!restart_scheduled("app/db", Duration::from_millis(11)).matches(&scheduled));
        let ms = Duration::from_millis;
        assert!(restart_scheduled_between("app/db", ms(5), ms(10)).matches(&scheduled));
        assert!(restart_scheduled("app/db", ms(10)).attempt(2).matches(&scheduled));
        assert!(!restart_scheduled("app/db", ms(10)).attempt(1).matches(&scheduled));
        assert!(!restart_scheduled("app/dbx", ms(10)).matches(&scheduled));
        assert!(!started("app/db").matches(&scheduled));
        let exit = event("app/db", 1, EventKind::Exited { reason: ExitReason::Normal });
        assert!(exited("app/db", Exit::Normal).matches(&exit));
        assert!(!exited("app/db", Exit::Failure).matches(&exit));
    }

    #[test]
    fn expectations_and_events_read_alike() {
        assert_eq!(exited("app/db", Exit::Failure).to_string(), "exited app/db: failure");
        assert_eq!(started("app/db").attempt(3).to_string(), "started app/db, attempt 3");
        let ms = Duration::from_millis;
        assert_eq!(
            restart_scheduled_between("app/db", ms(15), ms(20)).to_string(),
            "restart_scheduled app/db: 15ms..=20ms"
        );
        let failed = ExitReason::Failed(Arc::new(std::io::Error::other("disk full")));
        assert_eq!(
            describe(&event("app/db", 1, EventKind::Exited { reason: failed })),
            "exited app/db, attempt 1: error (failed: disk full)"
        );
        assert_eq!(describe(&event("app", 0, EventKind::ShutdownStarted)), "shutdown_started app");
    }
}
