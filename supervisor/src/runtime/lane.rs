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
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use super::RunOutput;
use super::decide::{self, SharedWindow};
use super::event::EventKind;
use crate::error::ExitReason;
use crate::worker::{Context, RunCell, Worker, WorkerResult};

/// What a child's task needs to restart its worker by itself.
pub(crate) struct Lane {
    /// The window and budget of the scope the restarts count against, and
    /// the tree to report them to.
    pub(crate) window: Arc<SharedWindow>,
}

impl Lane {
    /// Whether the run that ended with `reason` is restarted here; if so,
    /// records the restart as the supervisor would.
    fn restart_here(&self, cell: &RunCell, reason: &ExitReason) -> bool {
        if cell.is_cancelled() || !decide::should_restart(cell.restart, reason) {
            return false;
        }
        if !self.window.try_record(Instant::now()) {
            return false;
        }
        let path = &cell.path;
        let attempt = cell.attempt();
        if reason.is_failure() {
            tracing::warn!(child = %path, attempt, %reason, "child failed");
        } else {
            tracing::debug!(child = %path, attempt, %reason, "child exited");
        }
        self.window.tree.emit(path, attempt, EventKind::Exited { reason: reason.clone() });
        tracing::info!(child = %path, %reason, delay = ?Duration::ZERO, "restarting");
        self.window.tree.emit(path, attempt, EventKind::RestartScheduled { delay: Duration::ZERO });
        let attempt = cell.restart_in_task(reason.clone());
        tracing::debug!(child = %path, attempt, "child started");
        self.window.tree.emit(path, attempt, EventKind::Started);
        true
    }
}

/// A child's task that restarts its worker by itself while its lane allows.
///
/// Written as one `async` block rather than `async fn`s: the block keeps its
/// captures once, where an `async fn` keeps a copy of its arguments too,
/// and every byte here is in every child's task.
#[allow(clippy::manual_async_fn)]
pub(crate) fn run_in_lane<W: Worker>(
    worker: W,
    ctx: Context,
    lane: Lane,
) -> impl Future<Output = RunOutput> + Send + 'static {
    async move {
        loop {
            let run = OneRun { run: worker.clone().run(ctx.clone()), span: run_span(&ctx) };
            let reason = exit_reason(run.await);
            if !lane.restart_here(&ctx.inner, &reason) {
                return match reason {
                    ExitReason::Normal => Ok(()),
                    other => Err(other),
                };
            }
            // A worker that fails at once would keep this task, and its
            // thread, busy: give way once tokio's budget for it is spent.
            tokio::task::consume_budget().await;
        }
    }
}

pin_project_lite::pin_project! {
    /// One run of a worker, in its span when it has one, with a panic
    /// caught as its end. A hand-written future rather than a closure over
    /// a pinned `async` block: nothing but the run and the span is kept.
    struct OneRun<F> {
        #[pin]
        run: F,
        span: Option<Box<tracing::Span>>,
    }
}

impl<F: Future> Future for OneRun<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.as_ref().map(|s| s.enter());
        // The run is dropped, never polled again, once it has panicked.
        match std::panic::catch_unwind(AssertUnwindSafe(|| this.run.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The span of one run, boxed: it sits in the task only when a subscriber
/// wants it. (A function of its own, so that the unboxed span is not kept
/// in the task's state.)
fn run_span(ctx: &Context) -> Option<Box<tracing::Span>> {
    let span = tracing::info_span!("child", path = %ctx.path(), attempt = ctx.attempt());
    (!span.is_disabled()).then(|| Box::new(span))
}

/// Why a run ended, from what it returned or the panic it raised.
fn exit_reason<R: WorkerResult>(end: Result<R, Box<dyn Any + Send>>) -> ExitReason {
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
