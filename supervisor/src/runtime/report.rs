//! The one reporting path of a tree: each function logs a moment of a
//! child's or a supervisor's life, counts it (feature `metrics`, through
//! [`Tree::emit`]) and sends its event. The supervisor and the tasks that
//! restart their workers by themselves call the same functions, so both
//! paths say the same thing in the same words.

use std::sync::Arc;
use std::time::Duration;

use super::Tree;
use super::event::EventKind;
use crate::error::{ExitReason, SupervisorError};

/// A child runs (ready, when it has to say so).
pub(crate) fn started(tree: &Tree, path: &Arc<str>, attempt: u32) {
    tracing::debug!(child = %path, attempt, "child started");
    tree.emit(path, attempt, EventKind::Started);
}

/// A child ended, or failed to become ready, while starting.
pub(crate) fn start_failed(tree: &Tree, path: &Arc<str>, attempt: u32, reason: &ExitReason) {
    tracing::warn!(child = %path, attempt, %reason, "child failed to start");
    tree.emit(path, attempt, EventKind::StartFailed { reason: reason.clone() });
}

/// A child's run ended.
pub(crate) fn exited(tree: &Tree, path: &Arc<str>, attempt: u32, reason: &ExitReason) {
    if reason.is_failure() {
        tracing::warn!(child = %path, attempt, %reason, "child failed");
    } else {
        tracing::debug!(child = %path, attempt, %reason, "child exited");
    }
    tree.emit(path, attempt, EventKind::Exited { reason: reason.clone() });
}

/// A child will start again after `delay`, because its run ended with
/// `reason`.
pub(crate) fn restart_scheduled(tree: &Tree, path: &Arc<str>, attempt: u32, reason: &ExitReason, delay: Duration) {
    tracing::info!(child = %path, %reason, ?delay, "restarting");
    tree.emit(path, attempt, EventKind::RestartScheduled { delay });
}

/// A child stayed silent past its heartbeat interval.
pub(crate) fn heartbeat_missed(tree: &Tree, path: &Arc<str>, attempt: u32, interval: Duration) {
    tracing::warn!(child = %path, ?interval, "heartbeat missed");
    tree.emit(path, attempt, EventKind::HeartbeatMissed { interval });
}

/// A child was stopped by a quarantine of its scope.
pub(crate) fn quarantined(tree: &Tree, path: &Arc<str>, attempt: u32) {
    tracing::warn!(child = %path, "quarantined");
    tree.emit(path, attempt, EventKind::Quarantined);
}

/// A scope of the supervisor at `path` spent its budget.
pub(crate) fn budget_exceeded(tree: &Tree, path: &Arc<str>, scope: String, restarts: u32, within: Duration) {
    tree.emit(path, 0, EventKind::BudgetExceeded { scope, restarts, within });
}

/// The supervisor at `path` gives up (`error` says how: it exits, or it
/// shuts the whole tree down); `what` says it in words for the log.
pub(crate) fn escalated(tree: &Tree, path: &Arc<str>, error: &SupervisorError, what: &'static str) {
    tracing::error!(supervisor = %path, %error, "{what}");
    tree.emit(path, 0, EventKind::Escalated { error: error.clone() });
}

/// The supervisor at `path` ends because of its significant children.
pub(crate) fn auto_shutdown(tree: &Tree, path: &Arc<str>) {
    tracing::info!(supervisor = %path, "significant children ended: auto_shutdown");
    tree.emit(path, 0, EventKind::AutoShutdown);
}

/// The supervisor at `path` begins to stop its children.
pub(crate) fn shutdown_started(tree: &Tree, path: &Arc<str>) {
    tracing::debug!(supervisor = %path, "shutting down");
    tree.emit(path, 0, EventKind::ShutdownStarted);
}

/// Every child of the supervisor at `path` has ended.
pub(crate) fn shutdown_completed(tree: &Tree, path: &Arc<str>) {
    tree.emit(path, 0, EventKind::ShutdownCompleted);
}
