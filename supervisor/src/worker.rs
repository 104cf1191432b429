//! The `Worker` trait, what a worker returns, and the `Context` it runs with.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::ExitReason;
use crate::policy::{Backoff, Restart, Shutdown};

/// The error type a failed worker run is turned into.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A unit of work a supervisor starts, watches and restarts.
///
/// The value is the worker's configuration: it is cloned for every start, so
/// each run begins from the same fresh state. Most workers get this trait
/// from [`#[worker]`](crate::worker), which calls the struct's own
/// `async fn run(self, ctx: Context)`; it can also be written by hand:
///
/// ```
/// use supervisor::{Context, Worker, WorkerResult};
///
/// #[derive(Clone)]
/// pub struct Ticker;
///
/// impl Worker for Ticker {
///     async fn run(self, ctx: Context) -> impl WorkerResult {
///         ctx.cancelled().await;
///         Ok::<(), std::io::Error>(())
///     }
/// }
/// ```
///
/// Write the return type as `impl WorkerResult`, as above: naming the
/// concrete type (`-> Result<(), std::io::Error>`) also works, but rustc
/// then warns (`refining_impl_trait`) on public types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a worker",
    label = "this expression must be a `Worker`",
    note = "put `#[supervisor::worker]` on the struct and give it an inherent `async fn run(self, ctx: Context)`, or implement `supervisor::Worker` by hand"
)]
pub trait Worker: Clone + Send + 'static {
    /// The defaults this type sets with `#[worker(...)]`; the options of the
    /// tree win over them.
    const DEFAULTS: WorkerDefaults = WorkerDefaults::NONE;

    /// Runs the worker until it ends or `ctx` is cancelled.
    ///
    /// Return `()` or `Ok(())` for a normal exit and `Err(_)` for a failure;
    /// a panic is a failure too. A worker should return soon after
    /// [`Context::cancelled`] resolves: past its shutdown time it is aborted.
    fn run(self, ctx: Context) -> impl Future<Output = impl WorkerResult> + Send;
}

/// What a worker's `run` may return: `()` or `Result<(), E>` with an error
/// that converts into a boxed error (`std::io::Error`, `anyhow::Error`,
/// `String`, your own error type, ...).
#[diagnostic::on_unimplemented(
    message = "a worker's `run` cannot return `{Self}`",
    note = "return `()` or `Result<(), E>` where `E` converts into `Box<dyn Error + Send + Sync>` (anyhow::Error does)"
)]
pub trait WorkerResult: Send + 'static {
    /// `Ok(())` for a normal exit, `Err` for a failure.
    fn into_result(self) -> Result<(), BoxError>;
}

impl WorkerResult for () {
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<E> WorkerResult for Result<(), E>
where
    E: Into<BoxError> + Send + 'static,
{
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}

/// Per-type defaults set by `#[worker(...)]`. A field left `None` falls back
/// to the library's default; an option in the tree wins over both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkerDefaults {
    /// Default restart policy.
    pub restart: Option<Restart>,
    /// Default shutdown policy.
    pub shutdown: Option<Shutdown>,
    /// Default backoff.
    pub backoff: Option<Backoff>,
    /// Default heartbeat interval.
    pub heartbeat: Option<Duration>,
    /// Default start timeout.
    pub start_timeout: Option<Duration>,
}

impl WorkerDefaults {
    /// No defaults: the library's own apply.
    pub const NONE: WorkerDefaults =
        WorkerDefaults { restart: None, shutdown: None, backoff: None, heartbeat: None, start_timeout: None };
}

/// A worker made of an async function or closure, from
/// [`ChildSpec::from_fn`](crate::ChildSpec::from_fn).
#[derive(Clone)]
pub struct FnWorker<F>(pub(crate) F);

impl<F, Fut> Worker for FnWorker<F>
where
    F: Fn(Context) -> Fut + Clone + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: WorkerResult,
{
    fn run(self, ctx: Context) -> impl Future<Output = impl WorkerResult> + Send {
        (self.0)(ctx)
    }
}

/// What a running child sees of its supervisor: who it is, whether it should
/// stop, and the means to say it is ready and alive.
///
/// Cheap to clone; every clone speaks for the same run. A clone kept past
/// the end of its run (in a task the worker spawned, say) may follow the
/// child's next runs: a worker restarted inside its own task keeps one
/// context state across those runs, so such a clone sees their attempt and
/// is cancelled when they are stopped. A worker that spawns tasks should
/// end them before it returns (a `JoinSet` it owns aborts them on drop).
///
/// ```
/// use supervisor::Context;
///
/// async fn serve(ctx: Context) {
///     ctx.ready();
///     loop {
///         tokio::select! {
///             _ = ctx.cancelled() => break,
///             _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => ctx.heartbeat(),
///         }
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Context {
    pub(crate) inner: Arc<RunCell>,
}

/// State shared between one child task and its supervisor: one allocation
/// per task. The cancellation token is made only when a worker asks for it
/// ([`Context::token`]); `cancelled()` waits on the cell itself.
///
/// A task that restarts its worker by itself (see `runtime::lane`) keeps
/// its cell across those runs: a stop asked for during one run reaches the
/// next, and the attempt and restart counts move on in place.
pub(crate) struct RunCell {
    pub(crate) path: Arc<str>,
    /// Where the child's id starts in `path`.
    id_start: u32,
    attempt: AtomicU32,
    /// The child's restart policy, for restarts made inside the task.
    pub(crate) restart: Restart,
    /// What few runs need, made on first use: a token, a record of
    /// restarts made inside the task.
    extras: OnceLock<Box<Extras>>,
    stop: AtomicBool,
    ready: AtomicBool,
    /// Wakes the run on `stop` and the supervisor on `ready`; each waiter
    /// checks its own flag.
    notify: Notify,
    /// Nanoseconds since `epoch` of the last heartbeat (0: none yet).
    last_beat: AtomicU64,
    epoch: Instant,
}

pin_project_lite::pin_project! {
    /// Waits for one of a [`RunCell`]'s flags. A hand-written future, as
    /// tokio's `WaitForCancellationFuture` is: it sits in every worker that
    /// awaits `ctx.cancelled()`, and an `async` block would be bigger.
    pub(crate) struct WaitFor<'a> {
        cell: &'a RunCell,
        ready: bool,
        #[pin]
        notified: Notified<'a>,
    }
}

impl Future for WaitFor<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let mut this = self.project();
        loop {
            let flag = if *this.ready { &this.cell.ready } else { &this.cell.stop };
            if flag.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            if this.notified.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // Woken for the other flag: wait again.
            this.notified.set(this.cell.notify.notified());
        }
    }
}

/// The parts of a [`RunCell`] that few runs need.
struct Extras {
    token: OnceLock<CancellationToken>,
    in_task: OnceLock<InTaskRuns>,
}

/// The record of the restarts a task made by itself.
struct InTaskRuns {
    restarts: AtomicU32,
    /// When the current run started, in nanoseconds since the tree's epoch.
    started: AtomicU64,
    last_exit: Mutex<Option<ExitReason>>,
}

impl RunCell {
    pub(crate) fn new(path: Arc<str>, id_len: usize, attempt: u32, restart: Restart, epoch: Instant) -> Arc<Self> {
        let id_start = u32::try_from(path.len().saturating_sub(id_len)).unwrap_or(0);
        Arc::new(RunCell {
            path,
            id_start,
            attempt: AtomicU32::new(attempt),
            restart,
            extras: OnceLock::new(),
            stop: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            notify: Notify::new(),
            last_beat: AtomicU64::new(0),
            epoch,
        })
    }

    pub(crate) fn id(&self) -> &str {
        self.path.get(self.id_start as usize..).unwrap_or(&self.path)
    }

    /// The current run's attempt.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt.load(Ordering::Relaxed)
    }

    /// Records a restart made inside the task after a run ended with
    /// `reason`; returns the new attempt.
    pub(crate) fn restart_in_task(&self, reason: ExitReason) -> u32 {
        let runs = self.extras().in_task.get_or_init(|| InTaskRuns {
            restarts: AtomicU32::new(0),
            started: AtomicU64::new(0),
            last_exit: Mutex::new(None),
        });
        *runs.last_exit.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
        runs.restarts.fetch_add(1, Ordering::Relaxed);
        runs.started.store(self.nanos_since_epoch(), Ordering::Relaxed);
        self.attempt.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// What the restarts made inside the task add to the supervisor's
    /// record: their count, the last run's exit, and when the current run
    /// started.
    pub(crate) fn in_task(&self) -> Option<(u32, Option<ExitReason>, Instant)> {
        let runs = self.extras.get()?.in_task.get()?;
        let last = runs.last_exit.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let started = self.epoch + Duration::from_nanos(runs.started.load(Ordering::Relaxed));
        Some((runs.restarts.load(Ordering::Relaxed), last, started))
    }

    fn extras(&self) -> &Extras {
        self.extras.get_or_init(|| Box::new(Extras { token: OnceLock::new(), in_task: OnceLock::new() }))
    }

    fn nanos_since_epoch(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Asks the run to stop.
    pub(crate) fn cancel(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        if let Some(token) = self.extras.get().and_then(|x| x.token.get()) {
            token.cancel();
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(crate) fn cancelled(&self) -> WaitFor<'_> {
        self.wait_for(false)
    }

    /// The run's token, made on first use; cancelled with the run.
    pub(crate) fn token(&self) -> &CancellationToken {
        let token = self.extras().token.get_or_init(CancellationToken::new);
        // `cancel` may have looked for the token before it existed.
        if self.is_cancelled() {
            token.cancel();
        }
        token
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub(crate) fn mark_ready(&self) {
        if !self.ready.swap(true, Ordering::SeqCst) {
            self.notify.notify_waiters();
        }
    }

    pub(crate) async fn ready(&self) {
        self.wait_for(true).await
    }

    /// Waits until the `ready` flag (or else the stop flag) is set.
    fn wait_for(&self, ready: bool) -> WaitFor<'_> {
        // Made before the flag is first read: a wake-up sent in between is
        // not lost.
        WaitFor { cell: self, ready, notified: self.notify.notified() }
    }

    /// When the child last showed it was alive, if it ever did.
    pub(crate) fn last_beat(&self) -> Option<Instant> {
        match self.last_beat.load(Ordering::Acquire) {
            0 => None,
            nanos => Some(self.epoch + Duration::from_nanos(nanos)),
        }
    }
}

impl Context {
    /// This child's id among its siblings.
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// The child's path from the root, ids joined by `/` (`app/http/router`).
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// Which run of this child this is: 1 for the first start, one more on
    /// every restart.
    pub fn attempt(&self) -> u32 {
        self.inner.attempt()
    }

    /// Resolves when the supervisor asks this run to stop. Return soon after:
    /// past the child's shutdown time the task is aborted.
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + '_ {
        self.inner.cancelled()
    }

    /// Whether the supervisor has asked this run to stop.
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    /// A token cancelled when this run must stop, to hand to code that takes
    /// a [`CancellationToken`]. Tokens made from it with `child_token()` are
    /// cancelled with it.
    pub fn token(&self) -> &CancellationToken {
        self.inner.token()
    }

    /// Says that the child has started. A child with a `start_timeout` counts
    /// as running only once it calls this; for others it is a no-op. Calling
    /// it again does nothing.
    pub fn ready(&self) {
        self.inner.mark_ready();
    }

    /// Says that the child is alive. A child with a `heartbeat` interval that
    /// stays silent for longer is stopped and handled as failed.
    pub fn heartbeat(&self) {
        // Zero means "never"; a beat at the very epoch is stored as 1 ns.
        let nanos = self.inner.nanos_since_epoch().max(1);
        self.inner.last_beat.store(nanos, Ordering::Release);
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("path", &self.path())
            .field("attempt", &self.attempt())
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
