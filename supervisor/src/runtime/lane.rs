//! Restarts a child's task makes by itself.
//!
//! A worker restarted alone (one_for_one scope), at once (no backoff), and
//! with nothing the supervisor must watch between runs (no heartbeat, no
//! start timeout, not significant) needs nothing from its supervisor to be
//! restarted but a look at its scope's budget. Its task does that itself:
//! when a run ends, it records the restart in the scope's shared window and
//! starts the next run from a fresh clone of the worker, in the same task.
//! The old run has ended before the new one starts, the events and counts are
//! the ones the supervisor would have made, and a stop asked for at any time
//! reaches the current run through the task's cell.
//!
//! Everything else goes back to the supervisor, which decides as usual: a
//! stop asked for, an exit the policy does not restart, a restart the budget
//! does not allow (the supervisor then records it and escalates).

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use super::decide::{self, SharedWindow};
use super::event::EventKind;
use super::{RunOutput, Tree};
use crate::error::ExitReason;
use crate::policy::Restart;
use crate::worker::{Context, RunCell, Worker, WorkerResult};

/// What a child's task needs to restart its worker by itself.
pub(crate) struct Lane {
    pub(crate) restart: Restart,
    /// The window of the scope whose budget the restarts count against.
    pub(crate) window: Arc<SharedWindow>,
    pub(crate) max_restarts: u32,
    pub(crate) within: Duration,
    pub(crate) tree: Arc<Tree>,
}

impl Lane {
    /// Whether the run that ended with `reason` is restarted here; if so,
    /// records the restart as the supervisor would.
    fn restart_here(&self, cell: &RunCell, reason: &ExitReason) -> bool {
        if cell.is_cancelled() || !decide::should_restart(self.restart, reason) {
            return false;
        }
        if !self.window.lock().try_record(Instant::now(), self.max_restarts, self.within) {
            return false;
        }
        let path = &cell.path;
        let attempt = cell.attempt();
        if reason.is_failure() {
            tracing::warn!(child = %path, attempt, %reason, "child failed");
        } else {
            tracing::debug!(child = %path, attempt, %reason, "child exited");
        }
        self.tree.emit(path, attempt, EventKind::Exited { reason: reason.clone() });
        tracing::info!(child = %path, %reason, delay = ?Duration::ZERO, "restarting");
        self.tree.emit(path, attempt, EventKind::RestartScheduled { delay: Duration::ZERO });
        let attempt = cell.restart_in_task(reason.clone());
        tracing::debug!(child = %path, attempt, "child started");
        self.tree.emit(path, attempt, EventKind::Started);
        true
    }
}

/// A child's task that restarts its worker by itself while its lane allows.
pub(crate) async fn run_in_lane<W: Worker>(worker: W, ctx: Context, lane: Lane) -> RunOutput {
    loop {
        let reason = run_once(worker.clone(), ctx.clone()).await;
        if !lane.restart_here(&ctx.inner, &reason) {
            return match reason {
                ExitReason::Normal => Ok(()),
                other => Err(other),
            };
        }
        // A worker that fails at once would keep this task, and its thread,
        // busy: give way once tokio's budget for this task is spent.
        tokio::task::consume_budget().await;
    }
}

/// One run of a worker, in its own span, with a panic caught as its exit.
async fn run_once<W: Worker>(worker: W, ctx: Context) -> ExitReason {
    let span = tracing::info_span!("child", path = %ctx.path(), attempt = ctx.attempt());
    let mut run = std::pin::pin!(worker.run(ctx));
    let end = std::future::poll_fn(|cx| {
        // The run is dropped, never polled again, once it has panicked.
        match span.in_scope(|| std::panic::catch_unwind(AssertUnwindSafe(|| run.as_mut().poll(cx)))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await;
    match end {
        Ok(out) => match out.into_result() {
            Ok(()) => ExitReason::Normal,
            Err(e) => ExitReason::Failed(Arc::from(e)),
        },
        Err(payload) => ExitReason::Panicked(panic_message(&*payload)),
    }
}

/// A panic's message, from its payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> Arc<str> {
    if let Some(s) = payload.downcast_ref::<&str>() {
        Arc::from(*s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        Arc::from(s.as_str())
    } else {
        Arc::from("a non-string panic payload")
    }
}
