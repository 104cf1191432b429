//! One run of a child as a task: a worker with its type erased, spawned
//! into its supervisor's task set inside its span, with a panic caught as
//! its end.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use tokio::task::{AbortHandle, JoinError, JoinSet};
use tracing::Instrument;

use super::lane::{Lane, run_in_lane};
use crate::error::ExitReason;
use crate::worker::{Context, Worker, WorkerResult};

/// How a child's run ended: `Ok` for a normal end, or why it failed.
pub(crate) type RunOutput = Result<(), ExitReason>;

/// What a child's task returns: its child's key, and how its run ended.
/// With the key in the output the supervisor needs no map from tasks to
/// children; only a task it aborted ends without one.
pub(crate) type Ended = (u64, RunOutput);

/// A supervisor's children's tasks.
pub(crate) type Tasks = JoinSet<Ended>;

pin_project_lite::pin_project! {
    /// A child's task: its run, with its child's key for its output and a
    /// panic caught as its end.
    struct Task<F> {
        key: u64,
        #[pin]
        run: F,
    }
}

impl<F: Future<Output = RunOutput>> Future for Task<F> {
    type Output = Ended;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Ended> {
        let this = self.project();
        // The task ends with a panic, and so is never polled again.
        match std::panic::catch_unwind(AssertUnwindSafe(|| this.run.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready((*this.key, out)),
            Err(payload) => Poll::Ready((*this.key, Err(ExitReason::Panicked(panic_message(&*payload))))),
        }
    }
}

/// How one run of a worker is spawned.
pub(crate) struct Spawn<'a> {
    /// The child's key, for the task's output.
    pub(crate) key: u64,
    /// With a lane, the task restarts the worker by itself while the lane
    /// allows.
    pub(crate) lane: Option<Lane>,
    /// The supervisor's span: the run's span is a child of it.
    pub(crate) supervisor: &'a tracing::Span,
    /// What the test kit's fault plan does to this run.
    #[cfg(feature = "testing")]
    pub(crate) fault: Option<crate::testing::Fault>,
}

/// A worker with its type erased, so that one supervisor holds many kinds.
pub(crate) trait ErasedWorker: Send + 'static {
    fn clone_box(&self) -> Box<dyn ErasedWorker>;
    fn type_name(&self) -> &'static str;
    /// Spawns one run into the supervisor's task set, as `how` says. Fails,
    /// spawning nothing, when the worker's `Clone` panics.
    fn spawn(&self, set: &mut Tasks, ctx: Context, how: Spawn<'_>) -> Result<AbortHandle, ExitReason>;
}

/// A worker as a child spec keeps it.
pub(crate) fn erase<W: Worker>(worker: W) -> Box<dyn ErasedWorker> {
    Box::new(Erased(worker))
}

struct Erased<W>(W);

impl<W: Worker> ErasedWorker for Erased<W> {
    fn clone_box(&self) -> Box<dyn ErasedWorker> {
        Box::new(Erased(self.0.clone()))
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<W>()
    }

    fn spawn(&self, set: &mut Tasks, ctx: Context, how: Spawn<'_>) -> Result<AbortHandle, ExitReason> {
        let worker = clone_caught(&self.0)?;
        let (key, supervisor) = (how.key, how.supervisor);
        if let Some(lane) = how.lane {
            // The task's runs open their spans inside it: it carries the
            // supervisor's span, so that theirs nest in it as the others do.
            let run = run_in_lane(worker, ctx, lane);
            return Ok(if supervisor.is_disabled() {
                set.spawn(Task { key, run })
            } else {
                set.spawn(Task { key, run: run.instrument(supervisor.clone()) })
            });
        }
        let run_ctx = ctx.clone();
        let run = async move {
            WorkerResult::into_result(worker.run(run_ctx).await).map_err(|e| ExitReason::Failed(Arc::from(e)))
        };
        #[cfg(feature = "testing")]
        if let Some(fault) = how.fault {
            return Ok(spawn_run(set, key, &ctx, supervisor, fault.wrap(ctx.clone(), run)));
        }
        Ok(spawn_run(set, key, &ctx, supervisor, run))
    }
}

/// A clone of `value`, or the panic its `Clone` raised as a failure.
pub(crate) fn clone_caught<T: Clone>(value: &T) -> Result<T, ExitReason> {
    std::panic::catch_unwind(AssertUnwindSafe(|| value.clone()))
        .map_err(|payload| ExitReason::Panicked(panic_message(&*payload)))
}

/// Spawns one run of a child into its supervisor's task set, inside a span
/// that carries the child's path and attempt, a child of the supervisor's.
pub(crate) fn spawn_run<F>(set: &mut Tasks, key: u64, ctx: &Context, supervisor: &tracing::Span, run: F) -> AbortHandle
where
    F: Future<Output = RunOutput> + Send + 'static,
{
    let span = tracing::info_span!(parent: supervisor, "child", path = %ctx.path(), attempt = ctx.attempt());
    // Without a subscriber that wants the span, the wrapper would only make
    // every task bigger.
    if span.is_disabled() { set.spawn(Task { key, run }) } else { set.spawn(Task { key, run: run.instrument(span) }) }
}

pin_project_lite::pin_project! {
    /// One run of a worker, in its span when it has one, with a panic
    /// caught as its end. A hand-written future rather than a closure over
    /// a pinned `async` block: nothing but the run and the span is kept.
    pub(crate) struct OneRun<F> {
        #[pin]
        run: F,
        span: Option<Box<tracing::Span>>,
    }
}

impl<F> OneRun<F> {
    /// `run`, in the span of the run `ctx` speaks for.
    pub(crate) fn new(run: F, ctx: &Context) -> Self {
        OneRun { run, span: run_span(ctx) }
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

/// Why a run ended, from its task's result; `stopping` when the supervisor
/// asked it to stop.
pub(crate) fn classify(end: Result<RunOutput, JoinError>, stopping: bool) -> ExitReason {
    match end {
        Ok(Ok(())) if stopping => ExitReason::Shutdown,
        Ok(Ok(())) => ExitReason::Normal,
        Ok(Err(reason)) => reason,
        Err(e) if e.is_cancelled() => ExitReason::Killed,
        Err(e) => ExitReason::Panicked(panic_message(&*e.into_panic())),
    }
}

/// Why a run ended, from what it returned or the panic it raised.
pub(crate) fn exit_reason<R: WorkerResult>(end: Result<R, Box<dyn Any + Send>>) -> ExitReason {
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
