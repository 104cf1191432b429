//! The `Worker` trait, what a worker returns, and the `Context` it runs with.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::policy::{Backoff, Restart, Shutdown};
use crate::runtime::cell::RunCell;
use crate::runtime::event::EventKind;
use crate::runtime::handle::SupervisorHandle;

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
/// the end of its run (in a task the worker spawned, say) sees the run
/// cancelled once it has ended, and so do the tokens made from
/// [`token`](Self::token). A worker restarted inside its own task keeps one
/// context across those runs, so there such a clone follows them: it sees
/// their attempt and is cancelled when they are stopped. A worker that
/// spawns tasks should end them before it returns (a `JoinSet` it owns
/// aborts them on drop). Where a worker keeps state across restarts: see
/// the [guide](crate::guide::workers).
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

    /// [`cancelled`](Self::cancelled) as a future that owns what it needs:
    /// for APIs that take a `'static` future, such as axum's
    /// `with_graceful_shutdown`.
    ///
    /// ```
    /// use supervisor::Context;
    /// fn shutdown_signal(ctx: &Context) -> impl std::future::Future<Output = ()> + Send + 'static {
    ///     ctx.cancelled_owned()
    /// }
    /// ```
    pub fn cancelled_owned(&self) -> impl Future<Output = ()> + Send + 'static {
        let ctx = self.clone();
        async move { ctx.cancelled().await }
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
        #[cfg(feature = "testing")]
        if self.inner.ignores_ready() {
            return;
        }
        self.inner.mark_ready();
    }

    /// Says that the child is alive. A child with a `heartbeat` interval that
    /// stays silent for longer is stopped and handled as failed.
    pub fn heartbeat(&self) {
        #[cfg(feature = "testing")]
        if self.inner.ignores_heartbeat() {
            return;
        }
        self.inner.beat();
    }

    /// A handle to this child's supervisor, for commands from inside the
    /// tree (start a sibling, restart one, look at the tree).
    ///
    /// It does not keep the tree alive: once every handle that
    /// [`start`](crate::SupervisorSpec::start) gave out is dropped, the tree
    /// shuts down as usual, and commands on this handle answer
    /// [`CommandError::NotRunning`](crate::CommandError::NotRunning) once
    /// the supervisor has ended. Its [`shutdown`](SupervisorHandle::shutdown)
    /// stops the supervisor like any other handle's.
    ///
    /// ```
    /// use supervisor::{ChildSpec, Context, SupervisorSpec};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
    /// let tree = SupervisorSpec::new("app")
    ///     .child(ChildSpec::from_fn("spawner", |ctx: Context| async move {
    ///         let idle = ChildSpec::from_fn("helper", |ctx: Context| async move { ctx.cancelled().await });
    ///         let path = ctx.supervisor().start_child(idle).await?;
    ///         assert_eq!(path, "app/helper");
    ///         ctx.cancelled().await;
    ///         anyhow::Ok(())
    ///     }))
    ///     .start()
    ///     .await?;
    /// # tokio::task::yield_now().await;
    /// tree.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn supervisor(&self) -> SupervisorHandle {
        SupervisorHandle::unowned(self.inner.supervisor.clone())
    }

    /// A handle to the root supervisor of this child's tree, which does not
    /// keep the tree alive either (see [`supervisor`](Self::supervisor)):
    /// for workers that show or steer the whole tree, such as the admin
    /// endpoint.
    pub fn root(&self) -> SupervisorHandle {
        let root = self.inner.tree().root.get().and_then(std::sync::Weak::upgrade);
        // Only a context kept past the end of its tree finds no root: its
        // own supervisor's handle then answers `NotRunning` as the root's
        // would.
        SupervisorHandle::unowned(root.unwrap_or_else(|| self.inner.supervisor.clone()))
    }

    /// Sends an event about this run (its path and attempt) to the tree's
    /// subscribers.
    #[allow(dead_code, reason = "used by the parts of the library that report on a run")]
    pub(crate) fn emit(&self, kind: EventKind) {
        self.inner.tree().emit(&self.inner.path, self.inner.attempt(), kind);
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
