//! The sending end: an address that stays valid across the child's runs.

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::Meta;
use super::error::{CallError, SendError};

/// Where to send a child's messages. Cheap to clone, `Send + Sync`; it stays
/// valid across the child's restarts, and does not keep its mailbox open.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (jobs, inbox) = supervisor::mailbox::<u32>(2);
/// jobs.send(1).await.unwrap();
/// jobs.try_send(2).unwrap();
/// // Full: the message comes back in the error.
/// let err = jobs.try_send(3).unwrap_err();
/// assert_eq!(err.into_message(), 3);
/// drop(inbox);
/// // Closed for good: a dead letter, given back.
/// let err = jobs.send(4).await.unwrap_err();
/// assert!(err.is_closed());
/// # }
/// ```
pub struct Address<M> {
    tx: mpsc::Sender<M>,
    meta: Arc<Meta>,
}

impl<M> Clone for Address<M> {
    fn clone(&self) -> Self {
        Address { tx: self.tx.clone(), meta: self.meta.clone() }
    }
}

impl<M> fmt::Debug for Address<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("path", &self.meta.path())
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The way back for one [`call`](Address::call): put it in the request,
/// and the handler answers through it.
///
/// Dropping it without answering (also when the handling run ends) makes
/// the call fail at once with [`CallError::NoReply`].
pub struct Reply<R> {
    tx: oneshot::Sender<R>,
}

impl<R> Reply<R> {
    /// Answers the call. Gives the value back if the caller has stopped
    /// waiting (it timed out or was dropped).
    pub fn send(self, value: R) -> Result<(), R> {
        self.tx.send(value)
    }

    /// Whether the caller has stopped waiting.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

impl<R> fmt::Debug for Reply<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply").field("closed", &self.is_closed()).finish()
    }
}

impl<M> Address<M> {
    pub(crate) fn new(tx: mpsc::Sender<M>, meta: Arc<Meta>) -> Self {
        Address { tx, meta }
    }

    fn closed(&self, message: M) -> SendError<M> {
        SendError::Closed { message, path: self.meta.path() }
    }

    /// Sends `message`, waiting for room while the mailbox is full.
    ///
    /// Fails only when the mailbox is closed for good, giving the message
    /// back. A full mailbox of a stopped or quarantined child makes this
    /// wait until it is restarted or deleted: to bound the wait, use
    /// [`send_timeout`](Self::send_timeout) or [`try_send`](Self::try_send).
    /// Dropping the future before it resolves drops the message unsent.
    pub async fn send(&self, message: M) -> Result<(), SendError<M>> {
        self.tx.send(message).await.map_err(|e| self.closed(e.0))
    }

    /// Sends `message` if there is room now.
    pub fn try_send(&self, message: M) -> Result<(), SendError<M>> {
        self.tx.try_send(message).map_err(|e| match e {
            mpsc::error::TrySendError::Full(message) => {
                SendError::Full { message, path: self.meta.path(), capacity: self.capacity() }
            }
            mpsc::error::TrySendError::Closed(message) => self.closed(message),
        })
    }

    /// Sends `message`, waiting at most `after` for room. `Duration::MAX`
    /// waits as [`send`](Self::send) does.
    pub async fn send_timeout(&self, message: M, after: Duration) -> Result<(), SendError<M>> {
        match deadline(after) {
            Some(deadline) => self.send_by(message, deadline, after).await,
            None => self.send(message).await,
        }
    }

    /// Sends `message` once there is room, unless `deadline` passes first.
    async fn send_by(&self, message: M, deadline: Instant, after: Duration) -> Result<(), SendError<M>> {
        // Room now: no timer.
        let permit = match self.tx.try_reserve() {
            Ok(permit) => permit,
            Err(mpsc::error::TrySendError::Closed(())) => return Err(self.closed(message)),
            Err(mpsc::error::TrySendError::Full(())) => {
                match tokio::time::timeout_at(deadline, self.tx.reserve()).await {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) => return Err(self.closed(message)),
                    Err(_) => return Err(SendError::Timeout { message, path: self.meta.path(), after }),
                }
            }
        };
        permit.send(message);
        Ok(())
    }

    /// Sends a request made by `make` around a [`Reply`], and waits for
    /// the answer; `timeout` bounds the whole call (room in the mailbox and
    /// the answer).
    ///
    /// If the run handling the request ends before it answers (it fails,
    /// panics or is stopped), the call fails at once with
    /// [`CallError::NoReply`], naming the child: it does not wait for the
    /// timeout. So does a call whose request the mailbox gives up (a dead
    /// letter drops its `Reply`).
    ///
    /// `Duration::MAX` is OTP's `infinity`: the call sets no timer (a timer
    /// is most of what a call costs over a bare channel and oneshot) and
    /// still fails at once as above, but waits for as long as the child is
    /// stopped or quarantined with the request queued; dropping the call's
    /// future is then the way out.
    ///
    /// ```
    /// use std::time::Duration;
    /// use supervisor::mailbox::Reply;
    ///
    /// enum Query { Len(Reply<usize>) }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let (db, inbox) = supervisor::mailbox::<Query>(8);
    /// // Nobody receives yet: the request waits in the mailbox.
    /// let err = db.call(Query::Len, Duration::from_millis(10)).await.unwrap_err();
    /// assert!(matches!(err, supervisor::mailbox::CallError::Timeout { .. }));
    /// # drop(inbox); }
    /// ```
    pub async fn call<R>(&self, make: impl FnOnce(Reply<R>) -> M, timeout: Duration) -> Result<R, CallError<M>> {
        let (tx, mut rx) = oneshot::channel();
        let request = make(Reply { tx });
        let answer = match deadline(timeout) {
            None => {
                self.send(request).await?;
                Some(rx.await)
            }
            Some(deadline) => {
                self.send_by(request, deadline, timeout).await?;
                // The reply is polled before the timer: an answer already
                // there needs no look at the clock.
                let mut sleep = pin!(tokio::time::sleep_until(deadline));
                std::future::poll_fn(|cx| {
                    if let Poll::Ready(answer) = std::pin::Pin::new(&mut rx).poll(cx) {
                        return Poll::Ready(Some(answer));
                    }
                    sleep.as_mut().poll(cx).map(|()| None)
                })
                .await
            }
        };
        match answer {
            Some(Ok(value)) => Ok(value),
            Some(Err(_)) => Err(CallError::NoReply { path: self.meta.path() }),
            None => Err(CallError::Timeout { path: self.meta.path(), after: timeout }),
        }
    }

    /// Messages queued now (including one waiting for redelivery).
    pub fn len(&self) -> usize {
        self.meta.queued(&self.tx)
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many messages the mailbox holds at most.
    pub fn capacity(&self) -> usize {
        self.tx.max_capacity()
    }

    /// Whether the mailbox is closed for good: every send fails.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Whether both addresses lead to the same mailbox.
    pub fn same_mailbox(&self, other: &Address<M>) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

/// When a wait of `after` from now ends; `None` when it never does (the
/// instant is past what the clock can count: `Duration::MAX`).
fn deadline(after: Duration) -> Option<Instant> {
    if after == Duration::MAX { None } else { Instant::now().checked_add(after) }
}
