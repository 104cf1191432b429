//! What mailboxes and the runtime core share, in one place: mailbox events
//! reported with the run's path and attempt, and the probe through which the
//! core reads a child's queue depth for `which_children` and `snapshot()`.

use std::sync::Weak;

use super::MailboxDepth;
use crate::runtime::EventKind;
use crate::worker::Context;

/// What the core reads of a child's mailbox.
pub(crate) trait MailboxProbe: Send + Sync {
    /// The queue's depth now.
    fn depth(&self) -> MailboxDepth;
}

/// Called when `ctx`'s run takes its mailbox's queue. The core is to keep
/// `probe` with the child (a `Weak`: it must not keep the mailbox open) and
/// read it for the child's entry in `which_children` and `snapshot`.
pub(crate) fn attach(ctx: &Context, probe: Weak<dyn MailboxProbe>) {
    ctx.inner.attach_mailbox(probe);
}

/// Reports a mailbox event of `ctx`'s child (dead letters, redeliveries).
/// The core is to send it to the tree's subscribers with the run's path and
/// attempt.
pub(crate) fn emit(ctx: &Context, kind: EventKind) {
    match &kind {
        EventKind::DeadLetter { reason, count } => {
            tracing::debug!(child = ctx.path(), attempt = ctx.attempt(), %reason, count, "dead letters");
        }
        EventKind::Redelivered { redeliveries } => {
            tracing::debug!(child = ctx.path(), attempt = ctx.attempt(), redeliveries, "redelivery");
        }
        _ => {}
    }
    ctx.emit(kind);
}
