//! What a supervisor is in the middle of: a handler that spans several
//! turns of its loop, kept as explicit state rather than as an await.
//!
//! A job stops some children one at a time (last declared first), then
//! starts some in declaration order, waiting on one task at a time; when
//! both lists are done, the supervisor finishes it as its kind says. While
//! a job runs, the loop still takes every task end (an exit that is not the
//! awaited one is queued and handled once the job is done, as OTP handles
//! the messages that arrive meanwhile), and a request to shut down takes
//! over from any job; commands and timers wait until the job is done.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::Id;
use tokio::time::Instant;

use super::IdHasher;
use super::cell::RunCell;
use super::decide::ScopeKey;
use super::handle::Exit;
use crate::error::{CommandError, ExitReason, StartError};

/// How the supervisor reports the end of its own start.
pub(crate) enum StartReport {
    Root(oneshot::Sender<Result<(), StartError>>),
    Nested(Arc<RunCell>),
}

pub(crate) type Reply<T> = oneshot::Sender<Result<T, CommandError>>;

/// Why a job runs, and so how it ends.
pub(crate) enum JobKind {
    /// The supervisor starts its declared children.
    Boot(StartReport),
    /// The start failed: the children started are stopped, then the
    /// supervisor ends with this error.
    BootFailed(StartReport, StartError),
    /// A restart of `cause`'s scope: the others of `batch` are stopped,
    /// then the batch starts now or after `delay`.
    Restart { cause: u64, reason: ExitReason, batch: Vec<u64>, delay: Duration },
    /// A restart's batch starts; a child that fails to start is handled
    /// like an exit, and the rest wait on it.
    Batch,
    /// A scope spent its budget under `escalation = quarantine`.
    Quarantine(ScopeKey, Vec<u64>),
    /// A child stayed silent past its heartbeat: stopped, then handled as
    /// failed.
    Hung(u64, Duration),
    /// `terminate_child`.
    Terminate(u64, Reply<()>),
    /// `restart_child`.
    RestartChild(Reply<()>),
    /// `start_child`.
    StartChild(u64, Reply<String>),
    /// The supervisor stops every child, then ends with `Exit` (and tells
    /// the parent or the caller of `start` how its start went, if it was
    /// still starting).
    Shutdown(Exit, Option<(StartReport, StartError)>),
}

/// What happens once a stopped child's task has ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AfterStop {
    /// It is stopped; its exit is reported.
    Stopped,
    /// It is stopped; the job reports why itself.
    Quiet,
    /// It did not become ready in time: a failed start with this reason.
    FailStart(ExitReason),
}

/// What a job waits for.
pub(crate) enum Wait {
    /// The end of one child's task, asked to stop; past `deadline` it is
    /// killed.
    Stop { key: u64, task: Id, deadline: Option<Instant>, then: AfterStop },
    /// The ends of several children's tasks, asked to stop together.
    Together {
        tasks: HashMap<Id, u64, BuildHasherDefault<IdHasher>>,
        /// Deadlines, earliest first; those of children that have ended
        /// are skipped when they come up.
        deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    },
    /// A child started, until it says it is ready; past `deadline` it
    /// failed to start.
    Ready { key: u64, task: Id, cell: Arc<RunCell>, deadline: Option<(Instant, Duration)> },
}

impl Wait {
    /// The earliest time at which the wait needs a look.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self {
            Wait::Stop { deadline, .. } => *deadline,
            Wait::Together { deadlines, .. } => deadlines.peek().map(|Reverse((at, _))| *at),
            Wait::Ready { deadline, .. } => deadline.map(|(at, _)| at),
        }
    }

    /// Whether the wait is for this task.
    pub(crate) fn is_for(&self, id: Id) -> bool {
        match self {
            Wait::Stop { task, .. } | Wait::Ready { task, .. } => *task == id,
            Wait::Together { tasks, .. } => tasks.contains_key(&id),
        }
    }
}

pub(crate) struct Job {
    pub(crate) kind: JobKind,
    /// Children stopped together first (dynamic children at shutdown).
    pub(crate) together: Vec<u64>,
    /// Then children to stop one at a time, in declaration order: the last
    /// one stops first.
    pub(crate) stops: Vec<u64>,
    /// Then children to start, in declaration order.
    pub(crate) starts: VecDeque<u64>,
    pub(crate) wait: Option<Wait>,
}

impl Job {
    pub(crate) fn new(kind: JobKind) -> Job {
        Job { kind, together: Vec::new(), stops: Vec::new(), starts: VecDeque::new(), wait: None }
    }

    pub(crate) fn stopping(mut self, stops: Vec<u64>) -> Job {
        self.stops = stops;
        self
    }

    pub(crate) fn starting(mut self, starts: impl IntoIterator<Item = u64>) -> Job {
        self.starts = starts.into_iter().collect();
        self
    }

    /// Whether the job will still stop or start the child `key`, or settle
    /// it when it finishes (a restart's batch, a quarantine's children).
    pub(crate) fn holds(&self, key: u64) -> bool {
        let settles = match &self.kind {
            JobKind::Restart { batch, .. } => batch.contains(&key),
            JobKind::Quarantine(_, keys) => keys.contains(&key),
            _ => false,
        };
        settles || self.together.contains(&key) || self.stops.contains(&key) || self.starts.contains(&key)
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        matches!(self.kind, JobKind::Shutdown(..))
    }
}
