//! Scripted workers: what each run does, written down before the tree
//! starts, for tests that need no real worker.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::worker::{Context, Worker, WorkerResult};

/// What one run of a [`Script`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Ready, then runs until cancelled.
    StaysUp,
    /// Ready, then heartbeats at this interval until cancelled.
    Beats(Duration),
    /// Ready, then returns `Ok` after the delay.
    Exits(Duration),
    /// Ready, then returns an error after the delay.
    Fails(Duration),
    /// Ready, then panics after the delay.
    Panics(Duration),
    /// Returns an error at once, without calling `ready()`.
    FailsToStart,
    /// Never calls `ready()`; ends when cancelled.
    NeverReady,
    /// Ready, then ignores cancellation for ever: only an abort ends it.
    Hangs,
}

/// A worker that does, run after run, what its script says: "run 1 fails
/// after 10ms, run 2 panics, run 3 stays up".
///
/// Each method adds the next run; [`times`](Self::times) repeats the last
/// one; runs past the end of the script do what its last run does (an
/// empty script stays up). Every run but `fails_to_start`, `never_ready`
/// and `hangs` calls `ctx.ready()` first and ends as soon as it is
/// cancelled, as a well-behaved worker does.
///
/// Runs are counted over every clone of the script: the fourth run is the
/// fourth time the script runs, whichever supervisor restarted it, so a
/// script that fails three times stays failed-three-times when its
/// supervisor escalates and is started again. [`runs`](Self::runs) says how
/// many have started.
///
/// ```
/// use std::time::Duration;
/// use supervisor::testing::Script;
/// use supervisor::{ChildSpec, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> anyhow::Result<()> {
/// let db = Script::new().fails_after(Duration::from_millis(10)).panics().stays_up();
/// let tree = SupervisorSpec::new("app").child(ChildSpec::worker("db", db.clone())).start().await?;
/// tokio::time::sleep(Duration::from_millis(50)).await;
/// assert_eq!(db.runs(), 3);
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Script {
    steps: Vec<Step>,
    runs: Arc<AtomicU32>,
}

impl Script {
    /// An empty script: every run stays up.
    pub fn new() -> Self {
        Self::default()
    }

    fn then(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// The next run calls `ready()` and runs until it is cancelled.
    pub fn stays_up(self) -> Self {
        self.then(Step::StaysUp)
    }

    /// The next run calls `ready()`, then `heartbeat()` every `interval`
    /// until it is cancelled.
    pub fn beats_every(self, interval: Duration) -> Self {
        self.then(Step::Beats(interval))
    }

    /// The next run returns `Ok(())` at once (a normal exit).
    pub fn exits(self) -> Self {
        self.exits_after(Duration::ZERO)
    }

    /// The next run returns `Ok(())` after `delay`.
    pub fn exits_after(self, delay: Duration) -> Self {
        self.then(Step::Exits(delay))
    }

    /// The next run fails at once with the error `scripted failure of run N`.
    pub fn fails(self) -> Self {
        self.fails_after(Duration::ZERO)
    }

    /// The next run fails after `delay`.
    pub fn fails_after(self, delay: Duration) -> Self {
        self.then(Step::Fails(delay))
    }

    /// The next run panics at once with `scripted panic in run N`.
    pub fn panics(self) -> Self {
        self.panics_after(Duration::ZERO)
    }

    /// The next run panics after `delay`.
    pub fn panics_after(self, delay: Duration) -> Self {
        self.then(Step::Panics(delay))
    }

    /// The next run fails before it calls `ready()`: under a
    /// `start_timeout`, a failed start; without one, a plain failure.
    pub fn fails_to_start(self) -> Self {
        self.then(Step::FailsToStart)
    }

    /// The next run never calls `ready()`: under a `start_timeout`, it
    /// times out. It ends when cancelled.
    pub fn never_ready(self) -> Self {
        self.then(Step::NeverReady)
    }

    /// The next run calls `ready()` and then ignores cancellation for ever:
    /// it ends only when its shutdown time runs out and it is aborted (never
    /// under `shutdown = infinity`).
    pub fn hangs(self) -> Self {
        self.then(Step::Hangs)
    }

    /// Repeats the last run so that it makes `n` runs in all (it stays
    /// once for `n` of 0 or 1): `Script::new().fails().times(3).stays_up()`
    /// fails three runs. On an empty script, `n` runs that stay up.
    pub fn times(mut self, n: u32) -> Self {
        let last = self.steps.last().copied().unwrap_or(Step::StaysUp);
        let have = u32::from(!self.steps.is_empty());
        for _ in have..n {
            self.steps.push(last);
        }
        self
    }

    /// How many runs have started, over every clone.
    pub fn runs(&self) -> u32 {
        self.runs.load(Ordering::SeqCst)
    }

    fn step(&self, run: u32) -> Step {
        let at = usize::try_from(run.saturating_sub(1)).unwrap_or(usize::MAX);
        self.steps.get(at).or(self.steps.last()).copied().unwrap_or(Step::StaysUp)
    }
}

/// Waits `delay`, or less if the run is cancelled first; says whether the
/// whole delay went by.
async fn wait_unless_cancelled(ctx: &Context, delay: Duration) -> bool {
    if delay.is_zero() {
        return !ctx.is_cancelled();
    }
    tokio::select! {
        _ = ctx.cancelled() => false,
        _ = tokio::time::sleep(delay) => true,
    }
}

async fn play(step: Step, run: u32, ctx: Context) -> Result<(), String> {
    if !matches!(step, Step::FailsToStart | Step::NeverReady) {
        ctx.ready();
    }
    match step {
        Step::StaysUp | Step::NeverReady => ctx.cancelled().await,
        Step::Beats(interval) => {
            ctx.heartbeat();
            while wait_unless_cancelled(&ctx, interval).await {
                ctx.heartbeat();
            }
        }
        Step::Exits(delay) => {
            wait_unless_cancelled(&ctx, delay).await;
        }
        Step::Fails(delay) => {
            if wait_unless_cancelled(&ctx, delay).await {
                return Err(format!("scripted failure of run {run}"));
            }
        }
        Step::Panics(delay) => {
            if wait_unless_cancelled(&ctx, delay).await {
                panic!("scripted panic in run {run}");
            }
        }
        Step::FailsToStart => return Err(format!("scripted failure to start in run {run}")),
        Step::Hangs => std::future::pending::<()>().await,
    }
    Ok(())
}

impl Worker for Script {
    fn run(self, ctx: Context) -> impl Future<Output = impl WorkerResult> + Send {
        let run = self.runs.fetch_add(1, Ordering::SeqCst).saturating_add(1);
        play(self.step(run), run, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_past_the_end_repeat_the_last() {
        let s = Script::new().fails().panics();
        assert_eq!(
            [1, 2, 3, 9].map(|r| s.step(r)),
            [
                Step::Fails(Duration::ZERO),
                Step::Panics(Duration::ZERO),
                Step::Panics(Duration::ZERO),
                Step::Panics(Duration::ZERO)
            ]
        );
        assert_eq!(Script::new().step(1), Step::StaysUp);
    }

    #[test]
    fn times_makes_n_runs_of_the_last() {
        let s = Script::new().exits().fails().times(3).stays_up();
        let steps: Vec<Step> = (1..=6).map(|r| s.step(r)).collect();
        let fail = Step::Fails(Duration::ZERO);
        assert_eq!(steps, [Step::Exits(Duration::ZERO), fail, fail, fail, Step::StaysUp, Step::StaysUp]);
        assert_eq!(Script::new().times(2).steps, [Step::StaysUp, Step::StaysUp]);
        assert_eq!(Script::new().fails().times(0).steps, [fail]);
    }
}
