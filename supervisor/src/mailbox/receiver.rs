//! The receiving end one run holds, and the guarded deliveries of
//! at-least-once receipt.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

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
        Receiver { queue: Some(queue), shared, ctx }
    }

    /// The next message, waiting for one while the run goes on.
    ///
    /// Once the run is asked to stop, it still returns what is queued (a
    /// consumer drains its mailbox within its shutdown time), then `None`:
    /// `while let Some(msg) = rx.recv().await { .. }` is the whole loop.
    pub async fn recv(&mut self) -> Option<M> {
        let queue = self.queue.as_mut()?;
        if let Some(pending) = queue.front.take() {
            self.shared.meta().set_front(false);
            return Some(pending.message);
        }
        recv_queued(queue, &self.ctx).await
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
            None => (recv_queued(queue, &self.ctx).await?, 0),
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
async fn recv_queued<M>(queue: &mut Queue<M>, ctx: &Context) -> Option<M> {
    if ctx.is_cancelled() {
        return queue.rx.try_recv().ok();
    }
    // The channel is polled first: a queued message costs no wait on the
    // stop signal.
    let mut stop = pin!(ctx.cancelled());
    let rx = &mut queue.rx;
    // `Some`: what the channel gave; `None`: the run is stopping.
    let got = std::future::poll_fn(|cx| {
        if let Poll::Ready(message) = rx.poll_recv(cx) {
            return Poll::Ready(Some(message));
        }
        stop.as_mut().poll(cx).map(|()| None)
    })
    .await;
    match got {
        Some(message) => message,
        None => queue.rx.try_recv().ok(),
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
