//! Errors: of a spec (validation), of a start, of a command, and of a
//! supervisor's exit; and why a child's run ended.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::policy::AutoShutdown;

/// The rules a spec must keep, decided and worded once for both crates: this
/// file is the macro crate's `rules.rs` (a symlink that cargo packages as a
/// file), so that `validate()` and the compile errors of
/// `supervision_tree!` say the same words.
#[path = "rules.rs"]
pub(crate) mod rules;

/// A rule of the tree that a spec breaks. The same rules are compile errors
/// in `supervision_tree!`, with the same wording; `validate()` checks them on
/// specs built at run time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// An id is empty or holds a `/`.
    #[error("invalid id `{id}` in supervisor `{supervisor}`: an id must be non-empty and hold no `/`")]
    InvalidId {
        /// Path of the supervisor.
        supervisor: String,
        /// The id.
        id: String,
    },
    /// Two siblings share an id.
    #[error("{}", rules::duplicate_child(supervisor, id))]
    DuplicateChild {
        /// Path of the supervisor.
        supervisor: String,
        /// The repeated id.
        id: String,
    },
    /// A child names a group its supervisor does not declare.
    #[error("{}", rules::unknown_group(supervisor, child, group, suggestion.as_deref()))]
    UnknownGroup {
        /// Path of the supervisor.
        supervisor: String,
        /// Path of the child.
        child: String,
        /// The group named.
        group: String,
        /// The declared group closest to it, for "did you mean".
        suggestion: Option<String>,
    },
    /// A group has no member.
    #[error("{}", rules::empty_group(supervisor, group))]
    EmptyGroup {
        /// Path of the supervisor.
        supervisor: String,
        /// The group.
        group: String,
    },
    /// A group is declared twice.
    #[error("{}", rules::duplicate_group(supervisor, group))]
    DuplicateGroup {
        /// Path of the supervisor.
        supervisor: String,
        /// The group.
        group: String,
    },
    /// An override names no child of its supervisor.
    #[error("{}", rules::unknown_override(supervisor, id, suggestion.as_deref()))]
    UnknownOverride {
        /// Path of the supervisor.
        supervisor: String,
        /// The id named.
        id: String,
        /// The child id closest to it, for "did you mean".
        suggestion: Option<String>,
    },
    /// Two overrides name the same child.
    #[error("{}", rules::duplicate_override(supervisor, id))]
    DuplicateOverride {
        /// Path of the supervisor.
        supervisor: String,
        /// The child.
        id: String,
    },
    /// An intensity window of zero.
    #[error("{}", rules::zero_within(scope))]
    ZeroWithin {
        /// The scope: "supervisor `app`", "group `g` of supervisor `app`" or
        /// "the override of `db` in supervisor `app`".
        scope: String,
    },
    /// `max_children = 0`.
    #[error("{}", rules::zero_max_children(supervisor))]
    ZeroMaxChildren {
        /// Path of the supervisor.
        supervisor: String,
    },
    /// `max_children` below the number of declared children.
    #[error("{}", rules::max_children_below_declared(supervisor, *max as u64, *declared as u64))]
    MaxChildrenBelowDeclared {
        /// Path of the supervisor.
        supervisor: String,
        /// The limit.
        max: usize,
        /// How many children the spec declares.
        declared: usize,
    },
    /// Backoff with min > max.
    #[error("{}", rules::backoff_min_above_max(&rules::child(child), *min, *max))]
    BackoffMinAboveMax {
        /// Path of the child.
        child: String,
        /// The min delay.
        min: Duration,
        /// The max delay.
        max: Duration,
    },
    /// A duration of zero where zero means nothing.
    #[error("{}", rules::zero_duration(&rules::child(child), option, hint))]
    ZeroDuration {
        /// Path of the child.
        child: String,
        /// The option (`heartbeat`, `start_timeout`, `shutdown`, `backoff`).
        option: &'static str,
        /// How to fix it.
        hint: &'static str,
    },
    /// `significant` on a permanent child.
    #[error("{}", rules::significant_permanent(child))]
    SignificantPermanent {
        /// Path of the child.
        child: String,
    },
    /// `significant` under `auto_shutdown = never`.
    #[error("{}", rules::significant_under_never(supervisor, child))]
    SignificantUnderNever {
        /// Path of the supervisor.
        supervisor: String,
        /// Path of the child.
        child: String,
    },
    /// `auto_shutdown` with no significant child.
    #[error("{}", rules::auto_shutdown_without_significant(supervisor, auto))]
    AutoShutdownWithoutSignificant {
        /// Path of the supervisor.
        supervisor: String,
        /// The setting.
        auto: AutoShutdown,
    },
}

/// Every rule a spec breaks, in the order of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    /// The errors one by one.
    pub fn iter(&self) -> impl Iterator<Item = &SpecError> {
        self.0.iter()
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "invalid supervision tree: {one}"),
            all => {
                write!(f, "invalid supervision tree ({} errors):", all.len())?;
                for e in all {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SpecErrors {}

/// Why one run of a child ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ExitReason {
    /// It returned `()` or `Ok(())` by itself.
    Normal,
    /// It was stopped by its supervisor (a restart of its scope, a
    /// `terminate_child` or a shutdown) and ended within its shutdown time.
    Shutdown,
    /// It was stopped by its supervisor and aborted: at once under
    /// brutal_kill, or after ignoring cancellation past its shutdown time.
    Killed,
    /// It returned an error.
    Failed(Arc<dyn std::error::Error + Send + Sync + 'static>),
    /// It panicked, with this message.
    Panicked(Arc<str>),
    /// It did not call `ctx.heartbeat()` within its heartbeat interval.
    HeartbeatMissed(Duration),
    /// It did not call `ctx.ready()` within its start timeout.
    StartTimeout(Duration),
    /// A nested supervisor ended with this error.
    Supervisor(Arc<SupervisorError>),
}

impl ExitReason {
    /// Whether the run counts as failed (restarts transient children, counts
    /// against the budget).
    pub fn is_failure(&self) -> bool {
        !matches!(self, ExitReason::Normal | ExitReason::Shutdown | ExitReason::Killed)
    }

    /// A short word for the kind of exit, stable for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            ExitReason::Normal => "normal",
            ExitReason::Shutdown => "shutdown",
            ExitReason::Killed => "killed",
            ExitReason::Failed(_) => "error",
            ExitReason::Panicked(_) => "panic",
            ExitReason::HeartbeatMissed(_) => "heartbeat",
            ExitReason::StartTimeout(_) => "start_timeout",
            ExitReason::Supervisor(_) => "supervisor",
        }
    }
}

/// Two reasons are equal when they say the same: the same kind with the
/// same panic message or duration, or, for an error of the run or a nested
/// supervisor's end, the same error (one reason and its clones). Two
/// different errors are not equal even when they print alike; match on the
/// variant and look at the error to compare their contents.
impl PartialEq for ExitReason {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ExitReason::Failed(a), ExitReason::Failed(b)) => Arc::ptr_eq(a, b),
            (ExitReason::Panicked(a), ExitReason::Panicked(b)) => a == b,
            (ExitReason::HeartbeatMissed(a), ExitReason::HeartbeatMissed(b)) => a == b,
            (ExitReason::StartTimeout(a), ExitReason::StartTimeout(b)) => a == b,
            (ExitReason::Supervisor(a), ExitReason::Supervisor(b)) => Arc::ptr_eq(a, b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("exited normally"),
            ExitReason::Shutdown => f.write_str("was shut down"),
            ExitReason::Killed => f.write_str("was killed"),
            ExitReason::Failed(e) => write!(f, "failed: {e}"),
            ExitReason::Panicked(msg) => write!(f, "panicked: {msg}"),
            ExitReason::HeartbeatMissed(d) => write!(f, "missed its heartbeat ({d:?})"),
            ExitReason::StartTimeout(d) => write!(f, "did not become ready within {d:?}"),
            ExitReason::Supervisor(e) => write!(f, "ended: {e}"),
        }
    }
}

/// As `{"kind": "panic", "failure": true, "message": "panicked: boom"}`:
/// [`kind`](ExitReason::kind), [`is_failure`](ExitReason::is_failure) and
/// the words of `Display`.
#[cfg(feature = "serde")]
impl serde::Serialize for ExitReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ExitReason", 3)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("failure", &self.is_failure())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// Why a supervisor, or the whole tree, ended with an error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// Restarts exceeded a budget and the scope escalated: the supervisor
    /// stopped its children and exited.
    #[error(
        "supervisor `{supervisor}` gave up: {} within {within:?} exceeded the budget of {scope} after child `{child}` {reason}", crate::inspect::words::restarts(*.restarts)
    )]
    Escalated {
        /// Path of the supervisor that gave up.
        supervisor: String,
        /// The scope whose budget was exceeded.
        scope: String,
        /// Path of the child whose exit exceeded it.
        child: String,
        /// Why that child ended.
        reason: ExitReason,
        /// Restarts counted in the window, including the refused one.
        restarts: u32,
        /// The window.
        within: Duration,
    },
    /// A scope with `escalation = shutdown_tree` exceeded its budget and shut
    /// the whole tree down.
    #[error("the tree was shut down by `{supervisor}`: {cause}")]
    ShutdownTree {
        /// Path of the supervisor whose scope asked for it.
        supervisor: String,
        /// What exceeded the budget.
        cause: Box<SupervisorError>,
    },
    /// A nested supervisor failed to start its children.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The supervisor's task was aborted (its parent's shutdown time for it
    /// ran out) before it could report how it ended.
    #[error("supervisor `{supervisor}` was aborted")]
    Aborted {
        /// Path of the supervisor.
        supervisor: String,
    },
}

/// As `{"kind": "escalated", "message": "supervisor `app` gave up: ..."}`;
/// the kinds are `escalated`, `shutdown_tree`, `start` and `aborted`.
#[cfg(feature = "serde")]
impl serde::Serialize for SupervisorError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let kind = match self {
            SupervisorError::Escalated { .. } => "escalated",
            SupervisorError::ShutdownTree { .. } => "shutdown_tree",
            SupervisorError::Start(_) => "start",
            SupervisorError::Aborted { .. } => "aborted",
        };
        let mut st = s.serialize_struct("SupervisorError", 2)?;
        st.serialize_field("kind", kind)?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

/// Why a tree or a child could not be started.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The spec breaks rules of the tree.
    #[error(transparent)]
    Invalid(#[from] SpecErrors),
    /// A child ended or failed while starting; the children started before it
    /// were stopped in reverse order.
    #[error("child `{child}` failed to start: it {reason}")]
    ChildFailed {
        /// Path of the child.
        child: String,
        /// How it ended.
        reason: ExitReason,
    },
    /// The supervisor was asked to stop while it was starting.
    #[error("supervisor `{supervisor}` was shut down while starting")]
    Cancelled {
        /// Path of the supervisor.
        supervisor: String,
    },
}

/// Why a command to a supervisor was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The supervisor has ended (or is shutting down).
    #[error("supervisor `{supervisor}` is not running")]
    NotRunning {
        /// Path of the supervisor.
        supervisor: String,
    },
    /// No child with that id.
    #[error("supervisor `{supervisor}` has no child `{id}`")]
    UnknownChild {
        /// Path of the supervisor.
        supervisor: String,
        /// The id asked for.
        id: String,
    },
    /// The child is running (for `restart_child` and `delete_child`).
    #[error("child `{child}` is running: terminate it first")]
    Running {
        /// Path of the child.
        child: String,
    },
    /// The id is taken (for `start_child`).
    #[error("supervisor `{supervisor}` already has a child `{id}`: pick another id")]
    AlreadyPresent {
        /// Path of the supervisor.
        supervisor: String,
        /// The id.
        id: String,
    },
    /// `max_children` reached (for `start_child`).
    #[error(
        "supervisor `{supervisor}` already has {max} children, its `max_children`: stop one first or raise the limit"
    )]
    TooManyChildren {
        /// Path of the supervisor.
        supervisor: String,
        /// The limit.
        max: usize,
    },
    /// The child is not a supervisor (for nested handles).
    #[error("child `{child}` is not a supervisor")]
    NotASupervisor {
        /// Path of the child.
        child: String,
    },
    /// The new child's spec breaks a rule (for `start_child`).
    #[error(transparent)]
    Invalid(#[from] SpecErrors),
    /// The child failed to start (for `start_child` and `restart_child`).
    #[error("child `{child}` failed to start: it {reason}")]
    StartFailed {
        /// Path of the child.
        child: String,
        /// How it ended.
        reason: ExitReason,
    },
}
