//! The state one child's task shares with its supervisor, behind the run's
//! [`Context`](crate::Context): one allocation per task.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::sync::futures::Notified;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Tree;
use super::handle::Shared;
use crate::error::ExitReason;
use crate::mailbox::hooks::MailboxProbe;
use crate::policy::Restart;

/// State shared between one child task and its supervisor. The cancellation
/// token is made only when a worker asks for it ([`Context::token`]);
/// `cancelled()` waits on the cell itself.
///
/// A task that restarts its worker by itself (see `runtime::lane`) keeps
/// its cell across those runs: a stop asked for during one run reaches the
/// next, and the attempt and restart counts move on in place.
///
/// [`Context::token`]: crate::Context::token
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
    /// Nanoseconds since the tree's epoch of the last heartbeat (0: none yet).
    last_beat: AtomicU64,
    /// The child's supervisor: its handle's state, and through it the tree.
    pub(crate) supervisor: Arc<Shared>,
    /// What the test kit's faults turned off in this run.
    #[cfg(feature = "testing")]
    switches: std::sync::atomic::AtomicU8,
}

/// `ctx.ready()` does nothing in this run.
#[cfg(feature = "testing")]
const READY_OFF: u8 = 1;
/// `ctx.heartbeat()` does nothing in this run.
#[cfg(feature = "testing")]
const HEARTBEAT_OFF: u8 = 2;

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
    /// The mailbox the run receives from (the last one taken, if several).
    mailbox: Mutex<Option<MailboxRef>>,
}

/// A child's mailbox as the runtime sees it: weak, so that it never keeps
/// the mailbox open.
pub(crate) type MailboxRef = Weak<dyn MailboxProbe>;

/// The record of the restarts a task made by itself.
struct InTaskRuns {
    restarts: AtomicU32,
    /// When the current run started, in nanoseconds since the tree's epoch.
    started: AtomicU64,
    last_exit: Mutex<Option<ExitReason>>,
}

/// What the restarts made inside a task add to the supervisor's record of
/// the child.
pub(crate) struct InTask {
    pub(crate) restarts: u32,
    pub(crate) last_exit: Option<ExitReason>,
    /// When the current run started.
    pub(crate) started: Instant,
}

impl RunCell {
    pub(crate) fn new(
        path: Arc<str>,
        id_len: usize,
        attempt: u32,
        restart: Restart,
        supervisor: Arc<Shared>,
    ) -> Arc<Self> {
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
            supervisor,
            #[cfg(feature = "testing")]
            switches: std::sync::atomic::AtomicU8::new(0),
        })
    }

    pub(crate) fn tree(&self) -> &Tree {
        &self.supervisor.tree
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
    /// record, if it made any.
    pub(crate) fn in_task(&self) -> Option<InTask> {
        let runs = self.extras.get()?.in_task.get()?;
        let last_exit = runs.last_exit.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let started = self.tree().epoch + Duration::from_nanos(runs.started.load(Ordering::Relaxed));
        Some(InTask { restarts: runs.restarts.load(Ordering::Relaxed), last_exit, started })
    }

    fn extras(&self) -> &Extras {
        self.extras.get_or_init(|| {
            Box::new(Extras { token: OnceLock::new(), in_task: OnceLock::new(), mailbox: Mutex::new(None) })
        })
    }

    fn nanos_since_epoch(&self) -> u64 {
        u64::try_from(self.tree().epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Keeps the mailbox the run has taken to receive from.
    pub(crate) fn attach_mailbox(&self, mailbox: MailboxRef) {
        *self.extras().mailbox.lock().unwrap_or_else(PoisonError::into_inner) = Some(mailbox);
    }

    /// The mailbox the run receives from, if it took one.
    pub(crate) fn mailbox(&self) -> Option<MailboxRef> {
        self.extras.get()?.mailbox.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Asks the run to stop.
    pub(crate) fn cancel(&self) {
        // Once is enough: a run stopped and then ended is told only once.
        if self.stop.swap(true, Ordering::SeqCst) {
            return;
        }
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

    /// Waits until the `ready` flag (or else the stop flag) is set.
    pub(crate) fn ready(&self) -> WaitFor<'_> {
        self.wait_for(true)
    }

    fn wait_for(&self, ready: bool) -> WaitFor<'_> {
        // Made before the flag is first read: a wake-up sent in between is
        // not lost.
        WaitFor { cell: self, ready, notified: self.notify.notified() }
    }

    /// Records a heartbeat now.
    pub(crate) fn beat(&self) {
        // Zero means "never"; a beat at the very epoch is stored as 1 ns.
        let nanos = self.nanos_since_epoch().max(1);
        self.last_beat.store(nanos, Ordering::Release);
    }

    /// When the child last showed it was alive, if it ever did.
    pub(crate) fn last_beat(&self) -> Option<Instant> {
        match self.last_beat.load(Ordering::Acquire) {
            0 => None,
            nanos => Some(self.tree().epoch + Duration::from_nanos(nanos)),
        }
    }
}

#[cfg(feature = "testing")]
impl RunCell {
    /// Whether a fault turned this run's `ctx.ready()` off.
    pub(crate) fn ignores_ready(&self) -> bool {
        self.switches.load(Ordering::SeqCst) & READY_OFF != 0
    }

    /// Whether a fault turned this run's `ctx.heartbeat()` off.
    pub(crate) fn ignores_heartbeat(&self) -> bool {
        self.switches.load(Ordering::SeqCst) & HEARTBEAT_OFF != 0
    }
}

/// The test kit's faults turn a run's `ready()` and `heartbeat()` off.
#[cfg(feature = "testing")]
impl crate::testing::RunSwitches for crate::worker::Context {
    fn ignore_ready(&self) {
        self.inner.switches.fetch_or(READY_OFF, Ordering::SeqCst);
    }

    fn ignore_heartbeat(&self) {
        self.inner.switches.fetch_or(HEARTBEAT_OFF, Ordering::SeqCst);
    }
}
