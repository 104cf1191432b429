//! The runtime: one task per supervisor, its handle, and the tree they share.

mod decide;
mod event;
mod handle;
mod lane;
#[cfg(feature = "metrics")]
mod metrics;
mod service;
mod snapshot;
mod supervisor;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, oneshot};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use event::{Event, EventKind, RecvError, Subscription};
pub use handle::{ChildInfo, ChildKindName, ChildState, ChildrenCount, SupervisorHandle};
pub use service::{Signal, TreeExit};
pub use snapshot::{ChildSnapshot, Snapshot};

use crate::error::{ExitReason, StartError, SupervisorError};
use crate::spec::SupervisorSpec;
use crate::worker::Context;
pub(crate) use lane::{Lane, run_in_lane};
use supervisor::{StartReport, Supervisor};

/// What a child's task returns: `Ok` for a normal end, or why it failed.
pub(crate) type RunOutput = Result<(), ExitReason>;

/// Events held for slow subscribers before they start losing the oldest.
const EVENT_CAPACITY: usize = 1024;

/// What all supervisors of one tree share.
pub(crate) struct Tree {
    pub(crate) epoch: Instant,
    /// The root's stop signal, for `escalation = shutdown_tree`.
    root_stop: CancellationToken,
    /// Why the tree was shut down by policy (first cause wins).
    cause: Mutex<Option<SupervisorError>>,
    pub(crate) events: broadcast::Sender<Event>,
    /// Live subscriptions; read on every event, so an atomic rather than
    /// the channel's own count, which takes a lock.
    pub(crate) subscribers: AtomicUsize,
}

impl Tree {
    pub(crate) fn emit(&self, path: &Arc<str>, attempt: u32, kind: EventKind) {
        #[cfg(feature = "metrics")]
        metrics::record(path, &kind);
        // Building an event costs nothing when nobody listens.
        if self.subscribers.load(Ordering::Relaxed) > 0 {
            let _ = self.events.send(Event { at: Instant::now(), path: path.clone(), attempt, kind });
        }
    }

    pub(crate) fn shutdown_tree(&self, cause: SupervisorError) {
        if let Ok(mut slot) = self.cause.lock()
            && slot.is_none()
        {
            *slot = Some(cause);
        }
        self.root_stop.cancel();
    }

    pub(crate) fn cause(&self) -> Option<SupervisorError> {
        self.cause.lock().ok().and_then(|c| c.clone())
    }
}

/// Spawns one run of a child into its supervisor's task set, inside a span
/// that carries the child's path and attempt.
pub(crate) fn spawn_run<F>(set: &mut JoinSet<RunOutput>, ctx: Context, run: F) -> AbortHandle
where
    F: Future<Output = RunOutput> + Send + 'static,
{
    let span = tracing::info_span!("child", path = %ctx.path(), attempt = ctx.attempt());
    // Without a subscriber that wants the span, the wrapper would only make
    // every task bigger.
    if span.is_disabled() { set.spawn(run) } else { set.spawn(run.instrument(span)) }
}

/// Starts a tree; the same as [`SupervisorSpec::start`].
///
/// ```
/// use supervisor::{ChildSpec, Context, SupervisorSpec};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
/// let spec = SupervisorSpec::new("app")
///     .child(ChildSpec::from_fn("idle", |ctx: Context| async move { ctx.cancelled().await }));
/// let tree = supervisor::start(spec).await?;
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
pub async fn start(spec: SupervisorSpec) -> Result<SupervisorHandle, StartError> {
    start_root(spec).await
}

pub(crate) async fn start_root(spec: SupervisorSpec) -> Result<SupervisorHandle, StartError> {
    spec.validate()?;
    let root_stop = CancellationToken::new();
    let tree = Arc::new(Tree {
        epoch: Instant::now(),
        root_stop: root_stop.clone(),
        cause: Mutex::new(None),
        events: broadcast::channel(EVENT_CAPACITY).0,
        subscribers: AtomicUsize::new(0),
    });
    // The root has no parent to kill it: its kill token is never cancelled.
    let (sup, handle) = Supervisor::new(spec, "", tree, root_stop, CancellationToken::new());
    let (tx, rx) = oneshot::channel();
    let span = tracing::info_span!("supervisor", path = %handle.path());
    // The root task is owned through its handles: it ends by itself once it
    // is shut down, or once every handle is dropped.
    tokio::spawn(sup.run(StartReport::Root(tx)).instrument(span));
    match rx.await {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(StartError::Cancelled { supervisor: handle.path().to_string() }),
    }
}
