//! Workers that talk: mailboxes that belong to a logical child, not to one
//! run of it.
//!
//! [`mailbox`] makes a bounded queue and gives its two ends: an [`Address`]
//! to send to (clone it anywhere: other workers, HTTP handlers, tasks) and a
//! [`Mailbox`], a field of the receiving worker's value. The supervisor keeps
//! that value in the child's spec and clones it for every run, so the queue
//! outlives each run: what is sent while the child restarts or waits out its
//! backoff is kept, in order, for the next run.
//!
//! ```
//! use std::time::Duration;
//! use supervisor::mailbox::{Address, Mailbox, Reply};
//! use supervisor::{supervision_tree, worker, Context};
//!
//! enum Counter {
//!     Add(u64),
//!     Get(Reply<u64>),
//! }
//!
//! #[worker]
//! #[derive(Clone)]
//! struct Tally { inbox: Mailbox<Counter> }
//!
//! impl Tally {
//!     async fn run(self, ctx: Context) -> anyhow::Result<()> {
//!         let mut inbox = self.inbox.receiver(&ctx)?;
//!         let mut total = 0;
//!         // `None` once the run is asked to stop and nothing is left queued.
//!         while let Some(msg) = inbox.recv().await {
//!             match msg {
//!                 Counter::Add(n) => total += n,
//!                 Counter::Get(reply) => { let _ = reply.send(total); }
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
//! let (tally, inbox) = supervisor::mailbox::<Counter>(64);
//! let tree = supervision_tree! {
//!     supervisor app {
//!         worker tally = Tally { inbox };
//!     }
//! }
//! .start()
//! .await?;
//! tally.send(Counter::Add(2)).await?;
//! tally.send(Counter::Add(3)).await?;
//! let total = tally.call(Counter::Get, Duration::from_secs(1)).await?;
//! assert_eq!(total, 5);
//! tree.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The rules:
//! - Every queue is bounded. [`Address::send`] waits for room,
//!   [`Address::try_send`] fails at once, [`Address::send_timeout`] waits so
//!   long.
//! - One run receives at a time: [`Mailbox::receiver`] hands the queue to
//!   the run that asks, until that [`Receiver`] is dropped (when the run
//!   ends, also by a panic or an abort). A second receiver at the same time
//!   gets [`ReceiverBusy`], never half of the stream.
//! - A run that is asked to stop still receives what is queued, within its
//!   shutdown time: [`Receiver::recv`] returns `None` only once the run is
//!   stopping and the queue is empty. Shutdown runs in reverse declaration
//!   order, so declare first what others depend on: producers declared after
//!   their consumer stop first, and the consumer drains what they sent.
//! - When the last [`Mailbox`] clone is gone (its child deleted, a temporary
//!   child that ended, the tree shut down), the mailbox is closed: a send
//!   returns its message in [`SendError::Closed`], a dead letter, and what
//!   was still queued goes to the dead-letter callback (see [`Builder`]).
//! - While a child is stopped by `terminate_child`, or quarantined, its
//!   mailbox stays open and keeps what it holds for `restart_child` (or
//!   hands it back as dead letters on `delete_child`): a send queues while
//!   there is room, and waits only when the queue is full. Bound that wait
//!   with [`Address::send_timeout`], [`Address::try_send`] or the timeout of
//!   [`Address::call`].
//! - A [`call`](Address::call) whose handling run ends before it replies
//!   returns [`CallError::NoReply`] at once, naming the child's path.
//! - At-least-once receipt is opt-in: [`Receiver::recv_guarded`] gives a
//!   [`Delivery`] that goes back to the front of the queue unless it is
//!   [acknowledged](Delivery::ack) before it is dropped; past the mailbox's
//!   redelivery limit it becomes a dead letter, so a poison message cannot
//!   keep its child in a crash loop.
//! - A [`Registry`] maps keys to the addresses of dynamic children (a worker
//!   per connection or per session); an entry goes when its mailbox closes.

mod address;
mod error;
pub(crate) mod hooks;
mod receiver;
mod registry;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

pub use address::{Address, Reply};
pub use error::{AlreadyRegistered, CallError, DeadLetter, DeadLetterReason, ReceiverBusy, SendError};
pub use receiver::{Delivery, Receiver};
pub use registry::Registry;

use crate::runtime::EventKind;
use crate::worker::Context;
use hooks::MailboxProbe;

/// Redeliveries of one unacknowledged message before it becomes a dead
/// letter, unless [`Builder::redelivery_limit`] says otherwise.
pub const DEFAULT_REDELIVERY_LIMIT: u32 = 3;

/// The largest capacity tokio's channel can count.
const MAX_CAPACITY: usize = tokio::sync::Semaphore::MAX_PERMITS;

/// Makes a mailbox holding up to `capacity` messages: the [`Address`] to
/// send to and the [`Mailbox`] to put in the receiving worker's value.
///
/// A capacity of 0 counts as 1: a mailbox always has room for one message.
/// For a redelivery limit or a dead-letter callback, use [`builder`].
///
/// ```
/// let (jobs, inbox) = supervisor::mailbox::<String>(128);
/// assert_eq!(jobs.capacity(), 128);
/// # let _ = inbox;
/// ```
pub fn mailbox<M: Send + 'static>(capacity: usize) -> (Address<M>, Mailbox<M>) {
    builder(capacity).build()
}

/// Starts a mailbox with options: a redelivery limit, a dead-letter
/// callback.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
///
/// let lost = Arc::new(AtomicU64::new(0));
/// let counter = lost.clone();
/// let (jobs, inbox) = supervisor::mailbox::builder::<String>(128)
///     .redelivery_limit(5)
///     .on_dead_letter(move |dead| {
///         eprintln!("dead letter {:?}: {}", dead.message, dead.reason);
///         counter.fetch_add(1, Ordering::Relaxed);
///     })
///     .build();
/// # let _ = (jobs, inbox);
/// ```
pub fn builder<M: Send + 'static>(capacity: usize) -> Builder<M> {
    Builder {
        capacity: capacity.clamp(1, MAX_CAPACITY),
        redelivery_limit: DEFAULT_REDELIVERY_LIMIT,
        on_dead_letter: None,
    }
}

/// The callback that receives a mailbox's dead letters.
type DeadLetterFn<M> = Arc<dyn Fn(DeadLetter<M>) + Send + Sync>;

/// Options of a mailbox, from [`builder`].
#[must_use = "a builder does nothing until `build()`"]
pub struct Builder<M> {
    capacity: usize,
    redelivery_limit: u32,
    on_dead_letter: Option<DeadLetterFn<M>>,
}

impl<M: Send + 'static> Builder<M> {
    /// How many times an unacknowledged [`Delivery`] is delivered again
    /// before it becomes a dead letter (default
    /// [`DEFAULT_REDELIVERY_LIMIT`]; 0: never again).
    pub fn redelivery_limit(mut self, limit: u32) -> Self {
        self.redelivery_limit = limit;
        self
    }

    /// Called with every message the mailbox holds but can no longer
    /// deliver: a delivery past its redelivery limit, and what is still
    /// queued when the mailbox closes. (A send to a closed mailbox returns
    /// its message to the sender instead.)
    ///
    /// It runs where the message is given up (in the receiving run, or
    /// where the last [`Mailbox`] is dropped): keep it short, and do not
    /// panic in it. Without a callback, each dead letter is logged with
    /// `tracing` at warn level.
    pub fn on_dead_letter(mut self, f: impl Fn(DeadLetter<M>) + Send + Sync + 'static) -> Self {
        self.on_dead_letter = Some(Arc::new(f));
        self
    }

    /// Makes the mailbox: its [`Address`] and its [`Mailbox`].
    pub fn build(self) -> (Address<M>, Mailbox<M>) {
        let (tx, rx) = mpsc::channel(self.capacity);
        let meta = Arc::new(Meta::default());
        let address = Address::new(tx.clone(), meta.clone());
        let shared = Arc::new(Shared {
            slot: Mutex::new(Some(Queue { rx, front: None })),
            tx,
            meta,
            redelivery_limit: self.redelivery_limit,
            on_dead_letter: self.on_dead_letter,
            last_run: Mutex::new(None),
            on_close: Mutex::new(Vec::new()),
        });
        (address, Mailbox { shared })
    }
}

impl<M> fmt::Debug for Builder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("capacity", &self.capacity)
            .field("redelivery_limit", &self.redelivery_limit)
            .field("on_dead_letter", &self.on_dead_letter.is_some())
            .finish()
    }
}

/// The receiving end of a mailbox, kept in the worker's value (it is
/// `Clone`, so the worker stays `Clone`); each run takes the queue with
/// [`receiver`](Self::receiver).
///
/// Every clone is the same mailbox. It stays open while one clone lives:
/// the supervisor's spec holds one for as long as the child exists, so do
/// not keep clones elsewhere if sends should fail once the child is gone.
pub struct Mailbox<M> {
    shared: Arc<Shared<M>>,
}

impl<M> Clone for Mailbox<M> {
    fn clone(&self) -> Self {
        Mailbox { shared: self.shared.clone() }
    }
}

impl<M> fmt::Debug for Mailbox<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("path", &self.shared.meta.path())
            .field("len", &self.shared.len())
            .field("capacity", &self.shared.tx.max_capacity())
            .finish()
    }
}

impl<M: Send + 'static> Mailbox<M> {
    /// Takes the queue for this run: the run then receives every message,
    /// until the [`Receiver`] is dropped (at the latest when the run ends,
    /// also by a panic or an abort). Take it once, at the start of `run`.
    ///
    /// Fails with [`ReceiverBusy`] while another receiver is alive: a task
    /// the previous run spawned and left behind may still hold it (end such
    /// tasks before the run returns), or this run took it already.
    pub fn receiver(&self, ctx: &Context) -> Result<Receiver<M>, ReceiverBusy> {
        let queue = self.shared.slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(queue) = queue else {
            return Err(ReceiverBusy { path: ctx.path().to_string() });
        };
        self.shared.meta.set_path(ctx.path());
        *self.shared.last_run.lock().unwrap_or_else(PoisonError::into_inner) = Some(ctx.clone());
        let probe: Arc<dyn MailboxProbe> = self.shared.clone();
        hooks::attach(ctx, Arc::downgrade(&probe));
        Ok(Receiver::new(queue, self.shared.clone(), ctx.clone()))
    }

    /// A new address of this mailbox.
    pub fn address(&self) -> Address<M> {
        Address::new(self.shared.tx.clone(), self.shared.meta.clone())
    }
}

impl<M> Mailbox<M> {
    /// Messages queued now (including one waiting for redelivery).
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many messages the mailbox holds at most.
    pub fn capacity(&self) -> usize {
        self.shared.tx.max_capacity()
    }

    /// How full the mailbox is now: queued messages and capacity.
    pub fn depth(&self) -> MailboxDepth
    where
        M: Send,
    {
        MailboxProbe::depth(&*self.shared)
    }

    /// Runs `hook` when this mailbox closes (for the registry).
    pub(crate) fn on_close(&self, hook: Box<dyn OnClose>) {
        let mut hooks = self.shared.on_close.lock().unwrap_or_else(PoisonError::into_inner);
        hooks.retain(|h| !h.is_stale());
        hooks.push(hook);
    }
}

/// Something to do when a mailbox closes.
pub(crate) trait OnClose: Send {
    /// Whether it no longer needs doing (so that re-registrations do not
    /// pile up).
    fn is_stale(&self) -> bool;
    fn close(self: Box<Self>);
}

/// A mailbox's queue and what goes with it: taken by the run that receives,
/// and put back when its receiver is dropped.
pub(crate) struct Queue<M> {
    pub(crate) rx: mpsc::Receiver<M>,
    /// A delivery that was not acknowledged, to go out before the rest.
    /// One at most: a receiver holds one [`Delivery`] at a time.
    pub(crate) front: Option<Pending<M>>,
}

/// A message waiting to be delivered again.
pub(crate) struct Pending<M> {
    pub(crate) message: M,
    /// How many times it has been delivered again so far.
    pub(crate) redeliveries: u32,
}

/// What the clones of a mailbox share.
pub(crate) struct Shared<M> {
    /// The queue while no run receives; `None` while a [`Receiver`] holds it.
    slot: Mutex<Option<Queue<M>>>,
    /// Keeps the channel open while the mailbox lives, whatever the
    /// addresses do, and makes new addresses.
    tx: mpsc::Sender<M>,
    meta: Arc<Meta>,
    redelivery_limit: u32,
    on_dead_letter: Option<DeadLetterFn<M>>,
    /// The last run that received, to report what the mailbox gives up
    /// after it.
    last_run: Mutex<Option<Context>>,
    on_close: Mutex<Vec<Box<dyn OnClose>>>,
}

impl<M> Shared<M> {
    fn len(&self) -> usize {
        self.meta.queued(&self.tx)
    }

    /// Puts back the queue a receiver held.
    pub(crate) fn put_back(&self, queue: Queue<M>) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(queue);
    }

    pub(crate) fn redelivery_limit(&self) -> u32 {
        self.redelivery_limit
    }

    pub(crate) fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Gives up one message: to the callback, else to the log.
    pub(crate) fn dead_letter(&self, message: M, reason: DeadLetterReason, redeliveries: u32) {
        let path = self.meta.path();
        match &self.on_dead_letter {
            Some(f) => f(DeadLetter { message, reason, redeliveries, path }),
            None => tracing::warn!(
                mailbox = path.as_deref().unwrap_or("(no receiver yet)"),
                %reason,
                redeliveries,
                message = std::any::type_name::<M>(),
                "dead letter"
            ),
        }
    }
}

impl<M> hooks::MailboxProbe for Shared<M>
where
    M: Send,
{
    fn depth(&self) -> MailboxDepth {
        MailboxDepth { queued: self.len(), capacity: self.tx.max_capacity() }
    }
}

impl<M> Drop for Shared<M> {
    fn drop(&mut self) {
        let queue = self.slot.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        let mut given_up = 0usize;
        if let Some(mut queue) = queue {
            // Closed first, so that no send slips in behind the drain.
            queue.rx.close();
            if let Some(p) = queue.front.take() {
                self.dead_letter(p.message, DeadLetterReason::Closed, p.redeliveries);
                given_up += 1;
            }
            while let Ok(message) = queue.rx.try_recv() {
                self.dead_letter(message, DeadLetterReason::Closed, 0);
                given_up += 1;
            }
        }
        let last_run = self.last_run.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        if given_up > 0
            && let Some(ctx) = last_run
        {
            hooks::emit(&ctx, EventKind::DeadLetter { reason: DeadLetterReason::Closed, count: given_up });
        }
        for hook in std::mem::take(self.on_close.get_mut().unwrap_or_else(PoisonError::into_inner)) {
            hook.close();
        }
    }
}

/// What the addresses of a mailbox share with it (but not its queue: an
/// address must not keep a mailbox open).
#[derive(Default)]
pub(crate) struct Meta {
    /// The path of the child that last received, for errors.
    path: Mutex<Option<Arc<str>>>,
    /// Messages waiting for redelivery (0 or 1), for the depth.
    front: std::sync::atomic::AtomicUsize,
}

impl Meta {
    pub(crate) fn path(&self) -> Option<Arc<str>> {
        self.path.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set_path(&self, path: &str) {
        let mut slot = self.path.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.as_deref() != Some(path) {
            *slot = Some(Arc::from(path));
        }
    }

    /// Messages queued in `tx`'s channel, and one waiting for redelivery.
    pub(crate) fn queued<M>(&self, tx: &mpsc::Sender<M>) -> usize {
        // Permits in use: messages sent and not yet received.
        let in_channel = tx.max_capacity() - tx.capacity();
        in_channel + self.front.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_front(&self, waiting: bool) {
        self.front.store(usize::from(waiting), std::sync::atomic::Ordering::Relaxed);
    }
}

/// How full a mailbox is, for snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MailboxDepth {
    /// Messages queued now.
    pub queued: usize,
    /// The most it holds.
    pub capacity: usize,
}

impl fmt::Display for MailboxDepth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.queued, self.capacity)
    }
}

/// The path to name in an error about a mailbox.
fn describe(path: Option<&str>) -> String {
    match path {
        Some(path) => format!("the mailbox of `{path}`"),
        None => "a mailbox that no run has received from yet".to_string(),
    }
}

#[cfg(test)]
mod tests;
