//! What can go wrong with a mailbox, and the dead letters it gives up.
//!
//! Every error that carries a message gives it back: nothing sent is
//! dropped in silence.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::describe;

/// A message that could not be sent, given back to its sender.
#[non_exhaustive]
pub enum SendError<M> {
    /// The mailbox is closed for good: its child was deleted, was temporary
    /// and ended, or its tree shut down. The message is a dead letter.
    Closed {
        /// The message, back.
        message: M,
        /// The path of the child that last received from the mailbox.
        path: Option<Arc<str>>,
    },
    /// The mailbox is full ([`Address::try_send`](super::Address::try_send)).
    Full {
        /// The message, back.
        message: M,
        /// The path of the child that last received from the mailbox.
        path: Option<Arc<str>>,
        /// How many messages it holds.
        capacity: usize,
    },
    /// The mailbox had no room within the time given
    /// ([`Address::send_timeout`](super::Address::send_timeout), or a
    /// [`call`](super::Address::call)).
    Timeout {
        /// The message, back.
        message: M,
        /// The path of the child that last received from the mailbox.
        path: Option<Arc<str>>,
        /// How long the send waited.
        after: Duration,
    },
}

impl<M> SendError<M> {
    /// The message, back.
    pub fn into_message(self) -> M {
        match self {
            SendError::Closed { message, .. }
            | SendError::Full { message, .. }
            | SendError::Timeout { message, .. } => message,
        }
    }

    /// The message that was not sent.
    pub fn message(&self) -> &M {
        match self {
            SendError::Closed { message, .. }
            | SendError::Full { message, .. }
            | SendError::Timeout { message, .. } => message,
        }
    }

    /// The path of the child that last received from the mailbox, if one
    /// ever did.
    pub fn path(&self) -> Option<&str> {
        match self {
            SendError::Closed { path, .. } | SendError::Full { path, .. } | SendError::Timeout { path, .. } => {
                path.as_deref()
            }
        }
    }

    /// Whether the mailbox is closed for good (a retry cannot succeed).
    pub fn is_closed(&self) -> bool {
        matches!(self, SendError::Closed { .. })
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mailbox = describe(self.path());
        match self {
            SendError::Closed { .. } => write!(
                f,
                "{mailbox} is closed: its child has ended for good (deleted, temporary and ended, or its tree shut down); the message is returned to the sender"
            ),
            SendError::Full { capacity, .. } => write!(
                f,
                "{mailbox} is full (capacity {capacity}): wait for room with `send` or `send_timeout`, or give it a larger capacity"
            ),
            SendError::Timeout { after, .. } => write!(
                f,
                "{mailbox} had no room for {after:?} (its child may be stopped, quarantined or slow); the message is returned to the sender"
            ),
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            SendError::Closed { .. } => "Closed",
            SendError::Full { .. } => "Full",
            SendError::Timeout { .. } => "Timeout",
        };
        f.debug_struct("SendError").field("kind", &kind).field("path", &self.path()).finish_non_exhaustive()
    }
}

impl<M> std::error::Error for SendError<M> {}

/// Why a [`call`](super::Address::call) has no answer.
#[non_exhaustive]
pub enum CallError<M> {
    /// The request was not sent (the mailbox is closed, or had no room
    /// within the timeout); it is given back.
    NotSent(SendError<M>),
    /// The run handling the request ended (it failed, panicked or was
    /// stopped) or dropped the [`Reply`](super::Reply) without replying.
    NoReply {
        /// The path of the child that last received from the mailbox.
        path: Option<Arc<str>>,
    },
    /// No reply came within the timeout.
    Timeout {
        /// The path of the child that last received from the mailbox.
        path: Option<Arc<str>>,
        /// The timeout.
        after: Duration,
    },
}

impl<M> CallError<M> {
    /// The path of the child that last received from the mailbox, if one
    /// ever did.
    pub fn path(&self) -> Option<&str> {
        match self {
            CallError::NotSent(e) => e.path(),
            CallError::NoReply { path } | CallError::Timeout { path, .. } => path.as_deref(),
        }
    }
}

impl<M> From<SendError<M>> for CallError<M> {
    fn from(e: SendError<M>) -> Self {
        CallError::NotSent(e)
    }
}

impl<M> fmt::Display for CallError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NotSent(e) => write!(f, "the request was not sent: {e}"),
            CallError::NoReply { path } => write!(
                f,
                "{} dropped the request without replying: the run handling it ended (failed, panicked or was stopped) or dropped its `Reply`",
                match path {
                    Some(path) => format!("`{path}`"),
                    None => "the receiver".to_string(),
                }
            ),
            CallError::Timeout { path, after } => {
                write!(f, "no reply from {} within {after:?}", describe(path.as_deref()))
            }
        }
    }
}

impl<M> fmt::Debug for CallError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NotSent(e) => f.debug_tuple("NotSent").field(e).finish(),
            CallError::NoReply { path } => f.debug_struct("NoReply").field("path", path).finish(),
            CallError::Timeout { path, after } => {
                f.debug_struct("Timeout").field("path", path).field("after", after).finish()
            }
        }
    }
}

impl<M> std::error::Error for CallError<M> {}

/// A second receiver was asked for while one is alive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the mailbox of `{path}` already has a receiver: one run receives at a time; drop the other receiver first (a task a previous run spawned may still hold it)"
)]
pub struct ReceiverBusy {
    /// The path of the run that asked.
    pub path: String,
}

/// A key is registered already, in a [`Registry`](super::Registry).
#[derive(Clone, PartialEq, Eq)]
pub struct AlreadyRegistered<K> {
    /// The key.
    pub key: K,
}

impl<K: fmt::Debug> fmt::Display for AlreadyRegistered<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the key {:?} is registered already: unregister it first, or wait until its mailbox closes", self.key)
    }
}

impl<K: fmt::Debug> fmt::Debug for AlreadyRegistered<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlreadyRegistered").field("key", &self.key).finish()
    }
}

impl<K: fmt::Debug> std::error::Error for AlreadyRegistered<K> {}

/// A message a mailbox held but could not deliver, given to the mailbox's
/// dead-letter callback.
#[derive(Debug)]
#[non_exhaustive]
pub struct DeadLetter<M> {
    /// The message.
    pub message: M,
    /// Why it was given up.
    pub reason: DeadLetterReason,
    /// How many times it was delivered again before that.
    pub redeliveries: u32,
    /// The path of the child that last received from the mailbox.
    pub path: Option<Arc<str>>,
}

/// Why a mailbox gave a message up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// It was delivered and not acknowledged more times than the mailbox's
    /// redelivery limit allows.
    RedeliveryLimit,
    /// The mailbox closed with it still queued.
    Closed,
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeadLetterReason::RedeliveryLimit => "not acknowledged within the redelivery limit",
            DeadLetterReason::Closed => "still queued when the mailbox closed",
        })
    }
}
