//! The handle users hold: commands to one supervisor, and the tree's exit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::event::Subscription;
use super::snapshot::Snapshot;
use crate::error::{CommandError, ExitReason, SupervisorError};
use crate::mailbox::MailboxDepth;
use crate::spec::ChildSpec;

/// How a supervisor ended: `Ok` after a requested shutdown or an
/// auto_shutdown, `Err` after an escalation.
pub(crate) type Exit = Result<(), SupervisorError>;

pub(crate) enum Command {
    WhichChildren(oneshot::Sender<Vec<ChildInfo>>),
    StartChild(Box<ChildSpec>, oneshot::Sender<Result<String, CommandError>>),
    TerminateChild(Arc<str>, oneshot::Sender<Result<(), CommandError>>),
    RestartChild(Arc<str>, oneshot::Sender<Result<(), CommandError>>),
    DeleteChild(Arc<str>, oneshot::Sender<Result<(), CommandError>>),
    Nested(Arc<str>, oneshot::Sender<Result<SupervisorHandle, CommandError>>),
    CheckInvariants(oneshot::Sender<Result<(), String>>),
}

/// What every handle of one supervisor shares, and each of its runs holds
/// (through its context).
pub(crate) struct Shared {
    pub(crate) path: Arc<str>,
    /// Cancelled to ask this supervisor to shut down.
    pub(crate) stop: CancellationToken,
    pub(crate) exit: watch::Receiver<Option<Exit>>,
    pub(crate) tree: Arc<super::Tree>,
    pub(crate) tx: mpsc::Sender<Command>,
    /// Pings, answered by the loop in every state (not only when idle).
    pub(crate) pings: mpsc::Sender<oneshot::Sender<()>>,
}

/// What the handles a root's `start` gave out share: when the last one is
/// dropped, nobody owns the tree any more and it shuts down.
struct Owner {
    stop: CancellationToken,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A handle to a running supervisor: commands, nested handles, shutdown and
/// the wait for its end. Cheap to clone.
///
/// Every command answers promptly: a supervisor that has ended, or is
/// shutting down, answers [`CommandError::NotRunning`].
///
/// Dropping every clone of the handle that [`SupervisorSpec::start`] gave
/// shuts the tree down gracefully in the background (in reverse order, with
/// each child's shutdown policy), so that a tree can never outlive all of
/// its owners; keep a handle, or await [`wait`](Self::wait), for as long as
/// the tree should run. Handles of nested supervisors, and those a run gets
/// from [`Context::supervisor`](crate::Context::supervisor), do not keep
/// their supervisor alive: their parent, or the root's owners, do.
///
/// ```
/// use supervisor::{ChildSpec, ChildState, Context, SupervisorSpec};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
/// let idle = |ctx: Context| async move { ctx.cancelled().await };
/// let tree = SupervisorSpec::new("app").child(ChildSpec::from_fn("db", idle)).start().await?;
///
/// tree.terminate_child("db").await?;
/// assert_eq!(tree.which_children().await?[0].state, ChildState::Stopped);
/// tree.restart_child("db").await?;
/// let path = tree.start_child(ChildSpec::from_fn("job", idle)).await?;
/// assert_eq!(path, "app/job");
/// println!("{}", tree.snapshot().await?);
///
/// tree.shutdown().await?;          // every task has ended when it returns
/// assert!(tree.which_children().await.is_err(), "an ended supervisor answers NotRunning");
/// # Ok(()) }
/// ```
///
/// [`SupervisorSpec::start`]: crate::SupervisorSpec::start
#[derive(Clone)]
pub struct SupervisorHandle {
    pub(crate) shared: Arc<Shared>,
    owner: Option<Arc<Owner>>,
}

/// What a child is, in [`ChildInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(rename_all = "snake_case"))]
pub enum ChildKind {
    /// A worker.
    Worker,
    /// A nested supervisor.
    Supervisor,
}

/// Where a child stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(rename_all = "snake_case"))]
pub enum ChildState {
    /// Its task runs.
    Running,
    /// It waits for its backoff delay before starting again.
    Restarting,
    /// It is not running and will not start by itself (terminated, or ended
    /// and not to be restarted); `restart_child` starts it.
    Stopped,
    /// Its scope exceeded a budget with `escalation = quarantine`; it stays
    /// stopped until `restart_child`.
    Quarantined,
}

/// One child as [`SupervisorHandle::which_children`] and
/// [`SupervisorHandle::snapshot`] report it.
///
/// With the `serde` feature it serializes with the same field names, but
/// `uptime` as whole milliseconds (`uptime_ms`) and `last_exit` as
/// `{kind, failure, message}`; fields without a value are left out.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ChildInfo {
    /// The child's id.
    pub id: String,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Where it stands.
    pub state: ChildState,
    /// How many times it was restarted after an exit of its own (a restart
    /// caused by a sibling shows in `attempt`).
    pub restarts: u32,
    /// Its current (or last) run: 1 for the first start.
    pub attempt: u32,
    /// How its last run ended, if one has ended.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub last_exit: Option<ExitReason>,
    /// Whether it was added with `start_child`.
    pub dynamic: bool,
    /// How long the current run has been going, if it runs.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "uptime_ms", serialize_with = "uptime_ms", skip_serializing_if = "Option::is_none")
    )]
    pub uptime: Option<Duration>,
    /// How full the mailbox its runs receive from is, if they take one.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub mailbox: Option<MailboxDepth>,
    /// A running nested supervisor's own children, in a
    /// [`snapshot`](SupervisorHandle::snapshot) (`which_children` leaves it
    /// out).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub supervisor: Option<Snapshot>,
}

/// An uptime as whole milliseconds, the unit dashboards read.
#[cfg(feature = "serde")]
fn uptime_ms<S: serde::Serializer>(uptime: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match uptime {
        Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        None => s.serialize_none(),
    }
}

/// Counts of a supervisor's children, as OTP's `count_children`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChildrenCount {
    /// Child specs held, running or not.
    pub specs: usize,
    /// Children running now.
    pub active: usize,
    /// Nested supervisors held.
    pub supervisors: usize,
    /// Workers held.
    pub workers: usize,
}

impl SupervisorHandle {
    /// The handle of a root, given by its start: its clones own the tree.
    pub(crate) fn owning(shared: Arc<Shared>) -> Self {
        let owner = Arc::new(Owner { stop: shared.stop.clone() });
        SupervisorHandle { shared, owner: Some(owner) }
    }

    /// A handle that does not keep its supervisor alive.
    pub(crate) fn unowned(shared: Arc<Shared>) -> Self {
        SupervisorHandle { shared, owner: None }
    }

    /// The supervisor's path from the root (`app/http`).
    pub fn path(&self) -> &str {
        &self.shared.path
    }

    fn not_running(&self) -> CommandError {
        CommandError::NotRunning { supervisor: self.shared.path.to_string() }
    }

    async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, CommandError> {
        let (tx, rx) = oneshot::channel();
        self.shared.tx.send(make(tx)).await.map_err(|_| self.not_running())?;
        rx.await.map_err(|_| self.not_running())
    }

    /// Resolves once the supervisor's loop has answered: it runs and is not
    /// stuck. It answers while it starts or stops children too, when other
    /// commands wait; for liveness probes and watchdogs.
    ///
    /// ```
    /// use supervisor::{ChildSpec, Context, SupervisorSpec};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
    /// let tree = SupervisorSpec::new("app")
    ///     .child(ChildSpec::from_fn("idle", |ctx: Context| async move { ctx.cancelled().await }))
    ///     .start()
    ///     .await?;
    /// tree.ping().await?;
    /// tree.shutdown().await?;
    /// assert!(tree.ping().await.is_err(), "a supervisor that has ended does not answer");
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<(), CommandError> {
        let (tx, rx) = oneshot::channel();
        self.shared.pings.send(tx).await.map_err(|_| self.not_running())?;
        rx.await.map_err(|_| self.not_running())
    }

    /// Every child with its kind, state, restart count and last exit, in
    /// declaration order (dynamic children last).
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CommandError> {
        self.call(Command::WhichChildren).await
    }

    /// Counts of the children.
    pub async fn count_children(&self) -> Result<ChildrenCount, CommandError> {
        let children = self.which_children().await?;
        Ok(ChildrenCount {
            specs: children.len(),
            active: children.iter().filter(|c| c.state == ChildState::Running).count(),
            supervisors: children.iter().filter(|c| c.kind == ChildKind::Supervisor).count(),
            workers: children.iter().filter(|c| c.kind == ChildKind::Worker).count(),
        })
    }

    /// Adds a child at run time and starts it; resolves once it runs, with
    /// its path (`app/conn-7`). Limited by `max_children`; the child is not
    /// kept across a restart of this supervisor, and is stopped
    /// concurrently with the other dynamic children at shutdown.
    pub async fn start_child(&self, child: ChildSpec) -> Result<String, CommandError> {
        self.call(|tx| Command::StartChild(Box::new(child), tx)).await?
    }

    /// Stops a child with its shutdown policy. Its spec is kept (it can be
    /// restarted or deleted), except a temporary child's, which is removed.
    pub async fn terminate_child(&self, id: &str) -> Result<(), CommandError> {
        self.call(|tx| Command::TerminateChild(Arc::from(id), tx)).await?
    }

    /// Starts a child that is not running (stopped, quarantined, or waiting
    /// for its backoff). A quarantined child's whole scope comes back.
    pub async fn restart_child(&self, id: &str) -> Result<(), CommandError> {
        self.call(|tx| Command::RestartChild(Arc::from(id), tx)).await?
    }

    /// Removes a child's spec; the child must not be running.
    pub async fn delete_child(&self, id: &str) -> Result<(), CommandError> {
        self.call(|tx| Command::DeleteChild(Arc::from(id), tx)).await?
    }

    /// The handle of a running nested supervisor, by its id (`app/http`'s
    /// from `app`'s handle with `nested("http")`).
    ///
    /// ```
    /// use supervisor::{ChildSpec, Context, SupervisorSpec};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
    /// let tree = SupervisorSpec::new("app")
    ///     .supervisor(SupervisorSpec::new("http").child(ChildSpec::from_fn("router", |ctx: Context| async move {
    ///         ctx.cancelled().await
    ///     })))
    ///     .start()
    ///     .await?;
    /// let http = tree.nested("http").await?;
    /// assert_eq!(http.path(), "app/http");
    /// http.terminate_child("router").await?;
    /// tree.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn nested(&self, id: &str) -> Result<SupervisorHandle, CommandError> {
        self.call(|tx| Command::Nested(Arc::from(id), tx)).await?
    }

    /// Checks the supervisor's internal invariants now, and reports any that
    /// a supervisor of the tree found broken after one of its steps (debug
    /// builds check after every step). For the library's own tests.
    #[doc(hidden)]
    pub async fn check_invariants(&self) -> Result<(), String> {
        self.shared.tree.violations()?;
        // A supervisor that has ended holds no state to check.
        self.call(Command::CheckInvariants).await.unwrap_or(Ok(()))
    }

    /// Subscribes to the events of the whole tree from now on.
    ///
    /// ```
    /// use supervisor::{ChildSpec, Context, EventKind, SupervisorSpec};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
    /// let tree = SupervisorSpec::new("app")
    ///     .child(ChildSpec::from_fn("idle", |ctx: Context| async move { ctx.cancelled().await }))
    ///     .start()
    ///     .await?;
    /// let mut events = tree.subscribe();
    /// tree.shutdown().await?;
    /// let first = events.recv().await?;
    /// assert!(matches!(first.kind, EventKind::ShutdownStarted));
    /// # Ok(()) }
    /// ```
    pub fn subscribe(&self) -> Subscription {
        self.shared.tree.subscribers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Subscription {
            rx: self.shared.tree.events.subscribe(),
            exit: self.shared.exit.clone(),
            tree: self.shared.tree.clone(),
        }
    }

    /// Whether the supervisor has ended.
    pub fn is_finished(&self) -> bool {
        self.shared.exit.borrow().is_some()
    }

    /// Waits for the supervisor to end and returns how: `Ok` after a
    /// requested shutdown or an auto_shutdown, the error after an
    /// escalation or a `shutdown_tree`. Every task of the supervisor's
    /// subtree has ended when it returns.
    pub async fn wait(&self) -> Result<(), SupervisorError> {
        let mut exit = self.shared.exit.clone();
        let result = match exit.wait_for(Option::is_some).await {
            Ok(value) => value.clone(),
            Err(_) => None,
        };
        result.unwrap_or_else(|| Err(SupervisorError::Aborted { supervisor: self.shared.path.to_string() }))
    }

    /// Shuts the supervisor down (children in reverse order, each with its
    /// shutdown policy) and waits until every task of its subtree has ended.
    /// Returns how the supervisor ended, as [`wait`](Self::wait) does: a tree
    /// that had already ended with an error returns that error.
    ///
    /// On a nested supervisor's handle this ends that supervisor as if it
    /// had exited by itself, and its parent applies its restart policy (a
    /// permanent supervisor is started again); to stop it for good, call
    /// `terminate_child` on the parent.
    pub async fn shutdown(&self) -> Result<(), SupervisorError> {
        self.shared.stop.cancel();
        self.wait().await
    }
}

impl std::fmt::Debug for SupervisorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorHandle")
            .field("path", &self.path())
            .field("owns_tree", &self.owner.is_some())
            .field("finished", &self.is_finished())
            .finish()
    }
}
