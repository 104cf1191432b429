//! The runtime: one task per supervisor, its handle, and the tree they share.
//!
//! Files, each owning one thing: `supervisor` (the loop, restarts and
//! escalation), `job` (what a supervisor is in the middle of), `child` (a
//! child's phase and its invariants), `commands` (the handle's commands),
//! `decide` (the decisions, as pure functions), `window` (restart
//! intensity), `report` (logs, metrics and events), `run` and `cell` (one
//! run of a child as a task, and what it shares with its supervisor),
//! `lane` (restarts a task makes by itself), `handle`, `event`,
//! `snapshot`, `service`.

pub(crate) mod cell;
mod child;
mod commands;
pub(crate) mod decide;
pub(crate) mod event;
pub(crate) mod handle;
mod job;
mod lane;
mod lifecycle;
#[cfg(feature = "metrics")]
mod metrics;
mod report;
pub(crate) mod run;
mod service;
mod slots;
mod snapshot;
mod supervisor;
mod timers;
mod window;

use std::hash::Hasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use tokio::sync::{broadcast, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use event::{Event, EventKind, RecvError, Subscription};
pub use handle::{ChildInfo, ChildKind, ChildState, ChildrenCount, SupervisorHandle};
pub use service::{Signal, TreeExit};
pub use snapshot::Snapshot;

use crate::error::{StartError, SupervisorError};
use crate::spec::SupervisorSpec;
use job::StartReport;
use supervisor::Supervisor;

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
    /// Invariants a supervisor found broken after a step (debug builds).
    #[cfg(debug_assertions)]
    violations: Mutex<Vec<String>>,
    /// The faults the test kit injects (nothing without the feature).
    #[cfg_attr(not(feature = "testing"), expect(dead_code, reason = "only the `testing` feature reads faults"))]
    pub(crate) faults: Faults,
    /// The root supervisor's handle state, for the runs that ask for it
    /// (weak: the tree must not own itself).
    pub(crate) root: OnceLock<Weak<handle::Shared>>,
}

/// The fault plan a tree was started with (feature `testing`; without it,
/// nothing at all).
#[derive(Default)]
pub(crate) struct Faults(#[cfg(feature = "testing")] pub(crate) Option<Arc<crate::testing::FaultPlan>>);

#[cfg(feature = "testing")]
impl Faults {
    /// The plan, if the tree has one.
    pub(crate) fn plan(&self) -> Option<&crate::testing::FaultPlan> {
        self.0.as_deref()
    }
}

impl Tree {
    /// Sends an event (and counts it, with the `metrics` feature). Only the
    /// `report` functions call this.
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

    #[cfg(debug_assertions)]
    pub(crate) fn record_violation(&self, violation: String) {
        tracing::error!(%violation, "supervisor invariant broken");
        if let Ok(mut all) = self.violations.lock() {
            all.push(violation);
        }
    }

    /// The invariants found broken so far (none outside debug builds).
    pub(crate) fn violations(&self) -> Result<(), String> {
        #[cfg(debug_assertions)]
        if let Ok(all) = self.violations.lock()
            && !all.is_empty()
        {
            return Err(all.join("; "));
        }
        Ok(())
    }
}

impl SupervisorSpec {
    /// Validates the spec and starts the tree on the current tokio runtime:
    /// children start in declaration order, each running once ready. Returns
    /// the root's handle once every child runs, or the error of the child
    /// that failed to start (those started before it are stopped first).
    ///
    /// Dropping the returned future before it resolves stops what it has
    /// started, in reverse order, as dropping the handle would.
    pub async fn start(self) -> Result<SupervisorHandle, StartError> {
        start_tree(self, Faults::default()).await
    }
}

/// Starts a tree, with the faults the test kit injects into it.
pub(crate) async fn start_tree(spec: SupervisorSpec, faults: Faults) -> Result<SupervisorHandle, StartError> {
    spec.validate()?;
    let root_stop = CancellationToken::new();
    let tree = Arc::new(Tree {
        epoch: Instant::now(),
        root_stop: root_stop.clone(),
        cause: Mutex::new(None),
        events: broadcast::channel(EVENT_CAPACITY).0,
        subscribers: AtomicUsize::new(0),
        #[cfg(debug_assertions)]
        violations: Mutex::new(Vec::new()),
        faults,
        root: OnceLock::new(),
    });
    // The root has no parent to kill it: its kill token is never cancelled.
    let (sup, shared) = Supervisor::new(spec, "", tree.clone(), root_stop, CancellationToken::new());
    let _ = tree.root.set(Arc::downgrade(&shared));
    // Made before the root runs: if this future is dropped while the
    // root starts its children, the handle goes with it, and the root
    // sees it has no owner left.
    let handle = SupervisorHandle::owning(shared);
    let (tx, rx) = oneshot::channel();
    // The root task is owned through its handles: it ends by itself once
    // it is shut down, or once every handle is dropped.
    tokio::spawn(sup.run_boxed(StartReport::Root(tx)));
    match rx.await {
        Ok(Ok(())) => Ok(handle),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(StartError::Cancelled { supervisor: handle.path().to_string() }),
    }
}

/// Hashes task ids, which tokio hands out as distinct integers, as they
/// are: the map is touched on every start and exit.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Spread consecutive ids over the table's high bits too.
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A run's context for unit tests, with no supervisor behind it: commands
/// on its handles answer `NotRunning`, its events go nowhere.
#[cfg(test)]
pub(crate) fn detached_context(path: &str) -> crate::worker::Context {
    let tree = Arc::new(Tree {
        epoch: Instant::now(),
        root_stop: CancellationToken::new(),
        cause: Mutex::new(None),
        events: broadcast::channel(EVENT_CAPACITY).0,
        subscribers: AtomicUsize::new(0),
        #[cfg(debug_assertions)]
        violations: Mutex::new(Vec::new()),
        faults: Faults::default(),
        root: OnceLock::new(),
    });
    let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
    let shared = Arc::new(handle::Shared {
        path: Arc::from(parent),
        stop: CancellationToken::new(),
        exit: tokio::sync::watch::channel(None).1,
        tree,
        tx: tokio::sync::mpsc::channel(1).0,
        pings: tokio::sync::mpsc::channel(1).0,
    });
    let id_len = path.len() - parent.len() - usize::from(!parent.is_empty());
    crate::worker::Context { inner: cell::RunCell::new(Arc::from(path), id_len, 1, crate::Restart::Permanent, shared) }
}
