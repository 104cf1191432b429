//! Restarts a child's task makes by itself.
//!
//! A worker restarted alone (one_for_one scope), at once (no backoff), and
//! with nothing the supervisor must watch between runs (no heartbeat, no
//! start timeout, not significant) needs nothing from its supervisor to be
//! restarted but a look at its scope's budget (`decide::restarts_in_task`
//! says which). Its task does that itself: when a run ends, it records the
//! restart in the scope's shared window and starts the next run from a
//! fresh clone of the worker, in the same task. The old run has ended
//! before the new one starts; the logs, metrics and events come from the
//! same `report` functions the supervisor calls; and a stop asked for at
//! any time reaches the current run through the task's cell.
//!
//! Everything else goes back to the supervisor, which decides as usual: a
//! stop asked for, an exit the policy does not restart, a restart the budget
//! does not allow (the supervisor then records it and escalates), a clone
//! of the worker that panics.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::cell::RunCell;
use super::decide;
use super::report;
use super::run::{OneRun, RunOutput, clone_caught, exit_reason};
use super::window::SharedWindow;
use crate::error::ExitReason;
use crate::worker::{Context, Worker};

/// What a child's task needs to restart its worker by itself: the window
/// and budget of the scope the restarts count against.
pub(crate) struct Lane {
    pub(crate) window: Arc<SharedWindow>,
}

impl Lane {
    /// Whether the run that ended with `reason` is restarted here; if so,
    /// records and reports the restart as the supervisor would.
    fn restart_here(&self, cell: &RunCell, reason: &ExitReason) -> bool {
        if cell.is_cancelled() || !decide::should_restart(cell.restart, reason) {
            return false;
        }
        if !self.window.try_record(Instant::now()) {
            return false;
        }
        let tree = cell.tree();
        let path = &cell.path;
        let attempt = cell.attempt();
        report::exited(tree, path, attempt, reason);
        report::restart_scheduled(tree, path, attempt, reason, Duration::ZERO);
        let attempt = cell.restart_in_task(reason.clone());
        report::started(tree, path, attempt);
        true
    }
}

/// A child's task that restarts its worker by itself while its lane allows.
///
/// Written as one `async` block rather than `async fn`s: the block keeps its
/// captures once, where an `async fn` keeps a copy of its arguments too,
/// and every byte here is in every child's task.
#[allow(clippy::manual_async_fn)]
pub(crate) fn run_in_lane<W: Worker>(
    worker: W,
    ctx: Context,
    lane: Lane,
) -> impl Future<Output = RunOutput> + Send + 'static {
    async move {
        loop {
            // A clone that panics ends the task as that run's failure.
            let this_run = clone_caught(&worker)?;
            let reason = exit_reason(OneRun::new(this_run.run(ctx.clone()), &ctx).await);
            if !lane.restart_here(&ctx.inner, &reason) {
                return match reason {
                    ExitReason::Normal => Ok(()),
                    other => Err(other),
                };
            }
            // A worker that fails at once would keep this task, and its
            // thread, busy: give way once tokio's budget for it is spent.
            tokio::task::consume_budget().await;
        }
    }
}
