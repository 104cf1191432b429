//! The receiving end one run holds, and the guarded deliveries of
//! at-least-once receipt.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll, Wake, Waker};

use tokio_util::sync::WaitForCancellationFutureOwned;

use super::error::DeadLetterReason;
use super::{Pending, Queue, Shared, hooks};
use crate::runtime::EventKind;
use crate::worker::Context;

/// The queue of a mailbox, held by the one run that receives from it (see
/// [`Mailbox::receiver`](super::Mailbox::receiver)). Dropping it hands the
/// queue back to the mailbox, for the next run.
pub struct Receiver<M> {
    /// `Some` until dropped.
    queue: Option<Queue<M>>,
    shared: Arc<Shared<M>>,
    ctx: Context,
    stop: StopSignal,
}

impl<M> fmt::Debug for Receiver<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("path", &self.ctx.path()).field("len", &self.shared.len()).finish()
    }
}

impl<M> Drop for Receiver<M> {
    fn drop(&mut self) {
        if let Some(queue) = self.queue.take() {
            self.shared.put_back(queue);
        }
    }
}

/// What becomes of a delivery dropped without [`Delivery::ack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unacked {
    /// Back to the front of the queue, delivered again for the n-th time.
    Redeliver(u32),
    /// Given up.
    DeadLetter,
}

/// Decides the fate of a delivery that was not acknowledged after
/// `redeliveries` redeliveries, under `limit`.
fn unacked(redeliveries: u32, limit: u32) -> Unacked {
    if redeliveries < limit { Unacked::Redeliver(redeliveries + 1) } else { Unacked::DeadLetter }
}

impl<M> Receiver<M> {
    pub(crate) fn new(queue: Queue<M>, shared: Arc<Shared<M>>, ctx: Context) -> Self {
        Receiver { queue: Some(queue), shared, ctx, stop: StopSignal::default() }
    }

    /// The next message, waiting for one while the run goes on.
    ///
    /// Once the run is asked to stop (or its [token](Context::token) is
    /// cancelled), it still returns what is queued (a consumer drains its
    /// mailbox within its shutdown time), then `None`:
    /// `while let Some(msg) = rx.recv().await { .. }` is the whole loop.
    pub async fn recv(&mut self) -> Option<M> {
        let queue = self.queue.as_mut()?;
        if let Some(pending) = queue.front.take() {
            self.shared.meta().set_front(false);
            return Some(pending.message);
        }
        recv_queued(queue, &mut self.stop, &self.ctx).await
    }

    /// The next message if one is queued now.
    pub fn try_recv(&mut self) -> Option<M> {
        let queue = self.queue.as_mut()?;
        if let Some(pending) = queue.front.take() {
            self.shared.meta().set_front(false);
            return Some(pending.message);
        }
        queue.rx.try_recv().ok()
    }

    /// The next message as a [`Delivery`] that must be acknowledged: dropped
    /// without [`ack`](Delivery::ack), by the code or because the run ends
    /// (it fails, panics, is aborted), it goes back to the front of the
    /// queue and is delivered again, up to the mailbox's redelivery limit;
    /// past it, it becomes a dead letter.
    ///
    /// Otherwise as [`recv`](Self::recv), including the drain once the run
    /// is asked to stop.
    ///
    /// ```
    /// # use supervisor::{mailbox::Mailbox, Context};
    /// # async fn consume(inbox: Mailbox<String>, ctx: Context) -> anyhow::Result<()> {
    /// let mut rx = inbox.receiver(&ctx)?;
    /// while let Some(job) = rx.recv_guarded().await {
    ///     store(&job).await?; // an error ends the run: the job is delivered again
    ///     job.ack();
    /// }
    /// # Ok(()) }
    /// # async fn store(_: &str) -> anyhow::Result<()> { Ok(()) }
    /// ```
    pub async fn recv_guarded(&mut self) -> Option<Delivery<'_, M>> {
        let queue = self.queue.as_mut()?;
        let (message, redeliveries) = match queue.front.take() {
            Some(pending) => {
                self.shared.meta().set_front(false);
                (pending.message, pending.redeliveries)
            }
            None => (recv_queued(queue, &mut self.stop, &self.ctx).await?, 0),
        };
        Some(Delivery { receiver: self, message: Some(message), redeliveries })
    }

    /// Messages queued now (including one waiting for redelivery).
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A delivery was dropped without an ack.
    fn unacked(&mut self, message: M, redeliveries: u32) {
        match unacked(redeliveries, self.shared.redelivery_limit()) {
            Unacked::Redeliver(n) => {
                if let Some(queue) = self.queue.as_mut() {
                    queue.front = Some(Pending { message, redeliveries: n });
                    self.shared.meta().set_front(true);
                }
                hooks::emit(&self.ctx, EventKind::Redelivered { redeliveries: n });
            }
            Unacked::DeadLetter => {
                self.shared.dead_letter(message, DeadLetterReason::RedeliveryLimit, redeliveries);
                hooks::emit(&self.ctx, EventKind::DeadLetter { reason: DeadLetterReason::RedeliveryLimit, count: 1 });
            }
        }
    }
}

/// Waits for the channel's next message, or for the run's stop; once
/// stopping, takes only what is queued.
async fn recv_queued<M>(queue: &mut Queue<M>, stop: &mut StopSignal, ctx: &Context) -> Option<M> {
    if stop.is_stopping(ctx) {
        return queue.rx.try_recv().ok();
    }
    let rx = &mut queue.rx;
    // `Some`: what the channel gave; `None`: the run is stopping. The
    // channel goes first: a queued message costs no look at the stop.
    let got = std::future::poll_fn(|cx| {
        if let Poll::Ready(message) = rx.poll_recv(cx) {
            return Poll::Ready(Some(message));
        }
        stop.poll(ctx, cx).map(|()| None)
    })
    .await;
    match got {
        Some(message) => message,
        None => queue.rx.try_recv().ok(),
    }
}

/// The run's stop, waited on by a receiver across its calls to `recv`.
///
/// A wait on the stop is a `Notify` waiter: polling it while it is pending
/// takes a lock. A consumer that keeps up with its producers finds its
/// queue empty at nearly every message, so the wait is made once per
/// receiver, polled with a waker of its own, and polled again only when
/// that waker has fired; the task's own waker is passed on to it, and
/// replaced only when the receiver moves to another task.
#[derive(Default)]
struct StopSignal {
    /// Made on the first wait.
    wait: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    /// The waker the wait is polled with.
    waker: Option<(Arc<StopWaker>, Waker)>,
    /// The task waker it passes on, as last given to it.
    task: Option<Waker>,
    /// The run's token was cancelled (by its stop, or by the worker's own
    /// code): the receiver drains as when stopping.
    fired: bool,
}

/// Wakes the receiving task when the stop's wait fires, and records that
/// it did.
#[derive(Default)]
struct StopWaker {
    fired: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for StopWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::SeqCst);
        if let Some(task) = self.task.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            task.wake_by_ref();
        }
    }
}

impl StopSignal {
    /// Whether the run is asked to stop. Lock-free: it is asked before
    /// every message.
    fn is_stopping(&self, ctx: &Context) -> bool {
        self.fired || ctx.is_cancelled()
    }

    fn poll(&mut self, ctx: &Context, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.is_stopping(ctx) {
            return Poll::Ready(());
        }
        let (stop_waker, waker) = self.waker.get_or_insert_with(|| {
            let stop_waker = Arc::new(StopWaker::default());
            let waker = Waker::from(stop_waker.clone());
            (stop_waker, waker)
        });
        // Passed on under the lock only when it changes: not per message.
        if !self.task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
            self.task = Some(cx.waker().clone());
            *stop_waker.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        }
        // The first time, or woken by the wait: look at it.
        if self.wait.is_none()
            || (stop_waker.fired.load(Ordering::Relaxed) && stop_waker.fired.swap(false, Ordering::SeqCst))
        {
            let wait = self.wait.get_or_insert_with(|| Box::pin(ctx.token().clone().cancelled_owned()));
            if wait.as_mut().poll(&mut TaskContext::from_waker(waker)).is_ready() {
                self.fired = true;
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

/// A message from [`Receiver::recv_guarded`], to be acknowledged with
/// [`ack`](Self::ack) once handled. Dropped without an ack, it goes back to
/// the front of the queue (or, past the redelivery limit, to the dead
/// letters). It reads as the message (`Deref`).
pub struct Delivery<'a, M> {
    receiver: &'a mut Receiver<M>,
    /// `Some` until acknowledged or dropped.
    message: Option<M>,
    redeliveries: u32,
}

impl<M> Delivery<'_, M> {
    /// Acknowledges the message: the mailbox forgets it. Returns it.
    pub fn ack(mut self) -> M {
        match self.message.take() {
            Some(message) => message,
            // `message` is `Some` until `ack` or `drop`, each of which
            // runs once.
            None => unreachable!("a delivery is acknowledged once"),
        }
    }

    /// How many times this message was delivered before (0 the first
    /// time).
    pub fn redeliveries(&self) -> u32 {
        self.redeliveries
    }

    fn message(&self) -> &M {
        match &self.message {
            Some(message) => message,
            None => unreachable!("a delivery holds its message until it is acknowledged or dropped"),
        }
    }
}

impl<M> Deref for Delivery<'_, M> {
    type Target = M;

    fn deref(&self) -> &M {
        self.message()
    }
}

impl<M> DerefMut for Delivery<'_, M> {
    fn deref_mut(&mut self) -> &mut M {
        match &mut self.message {
            Some(message) => message,
            None => unreachable!("a delivery holds its message until it is acknowledged or dropped"),
        }
    }
}

impl<M: fmt::Debug> fmt::Debug for Delivery<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery").field("message", self.message()).field("redeliveries", &self.redeliveries).finish()
    }
}

impl<M> Drop for Delivery<'_, M> {
    fn drop(&mut self) {
        if let Some(message) = self.message.take() {
            self.receiver.unacked(message, self.redeliveries);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Unacked, unacked};

    #[test]
    fn unacked_delivery_is_redelivered_up_to_the_limit() {
        assert_eq!(unacked(0, 3), Unacked::Redeliver(1));
        assert_eq!(unacked(2, 3), Unacked::Redeliver(3));
        assert_eq!(unacked(3, 3), Unacked::DeadLetter);
    }

    #[test]
    fn limit_zero_gives_up_at_the_first_unacked_delivery() {
        assert_eq!(unacked(0, 0), Unacked::DeadLetter);
    }

    #[test]
    fn redelivery_count_does_not_overflow() {
        assert_eq!(unacked(u32::MAX, u32::MAX), Unacked::DeadLetter);
    }
}
