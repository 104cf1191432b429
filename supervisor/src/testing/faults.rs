//! Fault injection into a user's real tree: a plan, by child path and run
//! number, of what happens instead of (or after a while of) the real run.
//!
//! The runtime applies the plan; this file owns what a plan says and what
//! each fault does to a run. The runtime's part, all behind the `testing`
//! feature and skipped when no plan was given: it keeps the plan with the
//! tree, asks [`FaultPlan::fault_for`] where a run is spawned, wraps that
//! run in [`Fault::wrap`], and lets no run a plan names restart inside its
//! own task (so that every run goes through the plan).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{ExitReason, StartError};
use crate::runtime::SupervisorHandle;
use crate::spec::{Body, SupervisorSpec, join_path};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Error(Arc<str>),
    Panic(Arc<str>),
    Hang,
    FailToStart(Arc<str>),
    StartTimeout,
    StopHeartbeat,
}

/// What happens to one run of a child: see [`FaultPlan`].
///
/// `error`, `panic`, `hang` and `fail_to_start` replace the real run;
/// with [`after`](Self::after), the real run goes first for that long (and
/// if it ends by itself before, the fault never comes). `start_timeout` and
/// `stop_heartbeat` let the real run go on, deaf to its `ready()` or
/// `heartbeat()` calls.
///
/// ```
/// use std::time::Duration;
/// use supervisor::testing::Fault;
/// let crash = Fault::panic("index out of bounds").after(Duration::from_millis(10));
/// # let _ = crash;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    kind: Kind,
    after: Duration,
}

/// The error a run fails with under [`Fault::error`] or
/// [`Fault::fail_to_start`].
#[derive(Debug, thiserror::Error)]
#[error("injected fault: {0}")]
struct Injected(Arc<str>);

impl Fault {
    fn new(kind: Kind) -> Self {
        Fault { kind, after: Duration::ZERO }
    }

    /// The run fails with an error (`injected fault: {message}`).
    pub fn error(message: impl AsRef<str>) -> Self {
        Self::new(Kind::Error(Arc::from(message.as_ref())))
    }

    /// The run panics with `message`.
    pub fn panic(message: impl AsRef<str>) -> Self {
        Self::new(Kind::Panic(Arc::from(message.as_ref())))
    }

    /// The run hangs, ignoring cancellation: it ends only when its shutdown
    /// time runs out and it is aborted (never under `shutdown = infinity`),
    /// and it calls `heartbeat()` no more.
    pub fn hang() -> Self {
        Self::new(Kind::Hang)
    }

    /// The run fails before it calls `ready()`: under a `start_timeout`, a
    /// failed start (`start()` returns the error on the tree's first start);
    /// without one, a plain failure.
    pub fn fail_to_start() -> Self {
        Self::new(Kind::FailToStart(Arc::from("the child failed to start")))
    }

    /// The real run goes on but its `ready()` calls are ignored: under a
    /// `start_timeout` it times out; without one, nothing changes.
    pub fn start_timeout() -> Self {
        Self::new(Kind::StartTimeout)
    }

    /// The real run goes on but stops calling `heartbeat()` (from the start,
    /// or after [`after`](Self::after)): under a `heartbeat` interval it is
    /// found hung.
    pub fn stop_heartbeat() -> Self {
        Self::new(Kind::StopHeartbeat)
    }

    /// Lets the real run go first for `delay`, then the fault hits.
    pub fn after(mut self, delay: Duration) -> Self {
        self.after = delay;
        self
    }

    /// Runs `run`, the child's real run, as this fault says. `ctx` is the
    /// run's context, through which the fault turns `ready()` and
    /// `heartbeat()` off.
    pub(crate) async fn wrap<C, F>(self, ctx: C, run: F) -> Result<(), ExitReason>
    where
        C: RunSwitches,
        F: Future<Output = Result<(), ExitReason>> + Send + 'static,
    {
        match self.kind {
            Kind::StartTimeout => {
                ctx.ignore_ready();
                return run.await;
            }
            Kind::StopHeartbeat => {
                let mut run = std::pin::pin!(run);
                if !self.after.is_zero() {
                    tokio::select! {
                        ended = &mut run => return ended,
                        _ = tokio::time::sleep(self.after) => {}
                    }
                }
                ctx.ignore_heartbeat();
                return run.await;
            }
            Kind::Error(_) | Kind::Panic(_) | Kind::Hang | Kind::FailToStart(_) => {}
        }
        if let Kind::FailToStart(_) = self.kind {
            // The real run must not call `ready()` meanwhile.
            tokio::time::sleep(self.after).await;
        } else if !self.after.is_zero() {
            tokio::select! {
                ended = run => return ended,
                _ = tokio::time::sleep(self.after) => {}
            }
        }
        match self.kind {
            Kind::Error(msg) | Kind::FailToStart(msg) => Err(ExitReason::Failed(Arc::new(Injected(msg)))),
            Kind::Panic(msg) => panic!("{msg}"),
            _ => std::future::pending().await,
        }
    }
}

/// What a fault turns off in the run it wraps: the runtime's `Context`
/// implements it with two flags of the run (see the module's notes).
pub(crate) trait RunSwitches: Send + 'static {
    /// From now on, this run's `ctx.ready()` does nothing.
    fn ignore_ready(&self);
    /// From now on, this run's `ctx.heartbeat()` does nothing.
    fn ignore_heartbeat(&self);
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    path: Arc<str>,
    run: u32,
    /// This run and every later one.
    onwards: bool,
    fault: Fault,
}

/// A plan of faults for a real tree, by worker path and run number, given
/// to [`start_with_faults`]. The workers stay untouched: the plan wraps
/// their runs from outside. Faults go on workers; a nested supervisor fails
/// when one of its workers fails past its budget.
///
/// The run number is the child's attempt, as [`Context::attempt`] and the
/// events report it: 1 for its first start, one more on every restart. A
/// supervisor that is restarted starts its children at 1 again.
///
/// ```
/// use std::time::Duration;
/// use supervisor::testing::{Fault, FaultPlan};
///
/// let plan = FaultPlan::new()
///     .at("app/db", 1, Fault::error("connection refused").after(Duration::from_millis(5)))
///     .at("app/db", 2, Fault::panic("bad row"))
///     .from("app/http/router", 3, Fault::stop_heartbeat());
/// # let _ = plan;
/// ```
///
/// [`Context::attempt`]: crate::Context::attempt
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan {
    entries: Vec<Entry>,
}

impl FaultPlan {
    /// A plan without faults.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, path: &str, run: u32, onwards: bool, fault: Fault) -> Self {
        self.entries.push(Entry { path: Arc::from(path), run, onwards, fault });
        self
    }

    /// Run `run` of the worker at `path` (`app/db`) meets `fault`.
    pub fn at(self, path: impl AsRef<str>, run: u32, fault: Fault) -> Self {
        self.push(path.as_ref(), run, false, fault)
    }

    /// Run `run` of the worker at `path` and every later one meet `fault`
    /// (a fault given for one run with [`at`](Self::at) wins over it).
    pub fn from(self, path: impl AsRef<str>, run: u32, fault: Fault) -> Self {
        self.push(path.as_ref(), run, true, fault)
    }

    /// Whether the plan has no fault.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The fault that run `run` of the child at `path` meets, if any: the
    /// one given for that run, else the latest-starting `from` that covers it.
    pub(crate) fn fault_for(&self, path: &str, run: u32) -> Option<Fault> {
        let of_path = || self.entries.iter().filter(|e| *e.path == *path);
        of_path()
            .find(|e| !e.onwards && e.run == run)
            .or_else(|| of_path().filter(|e| e.onwards && e.run <= run).max_by_key(|e| e.run))
            .map(|e| e.fault.clone())
    }

    /// Whether the plan has a fault for some run of the child at `path`:
    /// such a child's runs are each spawned by its supervisor, never
    /// restarted inside their task, so that every run meets its fault.
    pub(crate) fn names(&self, path: &str) -> bool {
        self.entries.iter().any(|e| *e.path == *path)
    }

    /// Checks the plan against the tree it is for: every path names a
    /// declared worker, no run is 0, no run is planned twice.
    pub fn check(&self, spec: &SupervisorSpec) -> Result<(), FaultPlanError> {
        let mut workers = Vec::new();
        let mut supervisors = Vec::new();
        collect_paths(spec, &spec.id, &mut workers, &mut supervisors);
        for (i, entry) in self.entries.iter().enumerate() {
            if supervisors.iter().any(|p| **p == *entry.path) {
                return Err(FaultPlanError::NotAWorker { path: entry.path.to_string() });
            }
            if !workers.iter().any(|p| **p == *entry.path) {
                let near = closest(&entry.path, workers.iter().map(String::as_str));
                return Err(FaultPlanError::UnknownChild {
                    path: entry.path.to_string(),
                    hint: near.map(|p| format!("did you mean `{p}`? ")).unwrap_or_default(),
                });
            }
            if entry.run == 0 {
                return Err(FaultPlanError::RunZero { path: entry.path.to_string() });
            }
            let twice = self.entries[..i]
                .iter()
                .any(|e| e.path == entry.path && e.run == entry.run && e.onwards == entry.onwards);
            if twice {
                return Err(FaultPlanError::Twice { path: entry.path.to_string(), run: entry.run });
            }
        }
        Ok(())
    }
}

/// The paths of the declared workers and of the nested supervisors.
fn collect_paths(spec: &SupervisorSpec, path: &str, workers: &mut Vec<String>, supervisors: &mut Vec<String>) {
    for child in &spec.children {
        let child_path = join_path(path, &child.id);
        match &child.kind {
            Body::Worker(_) => workers.push(child_path),
            Body::Supervisor(nested) => {
                collect_paths(nested, &child_path, workers, supervisors);
                supervisors.push(child_path);
            }
        }
    }
}

/// The candidate within a few edits of `word`, if one is.
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates.map(|c| (edits(word, c), c)).filter(|(d, _)| *d <= limit).min_by_key(|(d, _)| *d).map(|(_, c)| c)
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A fault plan that does not fit its tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FaultPlanError {
    /// A path names no declared worker.
    #[error(
        "the fault plan names `{path}`, which is no worker of the tree: {hint}give a worker's full path, `root/child`"
    )]
    UnknownChild {
        /// The path.
        path: String,
        /// `did you mean ...? `, or nothing.
        hint: String,
    },
    /// A path names a nested supervisor.
    #[error(
        "the fault plan names `{path}`, a supervisor: faults go on workers; to make it fail, fail one of its workers past its budget"
    )]
    NotAWorker {
        /// The path.
        path: String,
    },
    /// A run numbered 0.
    #[error("the fault plan gives run 0 of `{path}`: runs count from 1, the first start")]
    RunZero {
        /// The path.
        path: String,
    },
    /// The same run planned twice.
    #[error("the fault plan gives run {run} of `{path}` twice: keep one fault per run")]
    Twice {
        /// The path.
        path: String,
        /// The run.
        run: u32,
    },
}

/// Why [`start_with_faults`] did not start the tree.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FaultStartError {
    /// The plan does not fit the tree.
    #[error(transparent)]
    Plan(#[from] FaultPlanError),
    /// The tree did not start (a fault of the plan may be why).
    #[error(transparent)]
    Start(#[from] StartError),
}

/// Starts `spec` as [`SupervisorSpec::start`] does, with `plan`'s faults
/// injected into the runs it names. The plan is checked against the tree
/// first. Without the `testing` feature, or with an empty plan, the
/// runtime has no fault path at all.
///
/// ```
/// use std::time::Duration;
/// use supervisor::testing::{start_with_faults, Fault, FaultPlan};
/// use supervisor::{ChildSpec, Context, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() -> anyhow::Result<()> {
/// let spec = SupervisorSpec::new("app")
///     .child(ChildSpec::from_fn("db", |ctx: Context| async move { ctx.cancelled().await }));
/// let plan = FaultPlan::new().at("app/bd", 1, Fault::panic("boom"));
/// let err = start_with_faults(spec, plan).await.unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "the fault plan names `app/bd`, which is no worker of the tree: did you mean `app/db`? give a worker's full path, `root/child`"
/// );
/// # Ok(()) }
/// ```
pub async fn start_with_faults(spec: SupervisorSpec, plan: FaultPlan) -> Result<SupervisorHandle, FaultStartError> {
    plan.check(&spec)?;
    if plan.is_empty() {
        return Ok(spec.start().await?);
    }
    Ok(crate::runtime::start_tree(spec, crate::runtime::Faults(Some(Arc::new(plan)))).await?)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::spec::ChildSpec;
    use crate::worker::Context;

    /// A context's switches, seen from the test.
    #[derive(Clone, Default)]
    struct Switches {
        ready_off: Arc<AtomicBool>,
        heartbeat_off: Arc<AtomicBool>,
    }

    impl RunSwitches for Switches {
        fn ignore_ready(&self) {
            self.ready_off.store(true, Ordering::SeqCst);
        }
        fn ignore_heartbeat(&self) {
            self.heartbeat_off.store(true, Ordering::SeqCst);
        }
    }

    /// A real run that records what it saw of the switches each time it
    /// is polled, and what it was doing when it was dropped.
    #[derive(Clone, Default)]
    struct Probe {
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Probe {
        fn push(&self, line: impl Into<String>) {
            self.log.lock().unwrap().push(line.into());
        }
        fn log(&self) -> Vec<String> {
            self.log.lock().unwrap().clone()
        }
        /// Runs for `length`, then ends with `end`; logs start and end, and
        /// a drop before the end.
        fn run(
            &self,
            length: Duration,
            end: Result<(), ExitReason>,
        ) -> impl Future<Output = Result<(), ExitReason>> + Send + 'static {
            struct Dropped(Probe, bool);
            impl Drop for Dropped {
                fn drop(&mut self) {
                    if !self.1 {
                        self.0.push("dropped");
                    }
                }
            }
            let probe = self.clone();
            async move {
                let mut guard = Dropped(probe.clone(), false);
                probe.push("real run");
                tokio::time::sleep(length).await;
                guard.1 = true;
                probe.push("ended");
                end
            }
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_replaces_the_run() {
        let probe = Probe::default();
        let out = Fault::error("disk full").wrap(Switches::default(), probe.run(ms(10), Ok(()))).await;
        assert!(matches!(&out, Err(ExitReason::Failed(e)) if e.to_string() == "injected fault: disk full"), "{out:?}");
        assert_eq!(probe.log(), Vec::<String>::new(), "the real run never started");
    }

    #[tokio::test(start_paused = true)]
    async fn after_lets_the_real_run_go_first_then_drops_it() {
        let probe = Probe::default();
        let t0 = tokio::time::Instant::now();
        let out = Fault::error("late").after(ms(5)).wrap(Switches::default(), probe.run(ms(10), Ok(()))).await;
        assert!(matches!(out, Err(ExitReason::Failed(_))));
        assert_eq!(t0.elapsed(), ms(5));
        assert_eq!(probe.log(), ["real run", "dropped"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_that_ends_before_the_fault_keeps_its_own_end() {
        let probe = Probe::default();
        let out = Fault::panic("never").after(ms(50)).wrap(Switches::default(), probe.run(ms(10), Ok(()))).await;
        assert_eq!(out, Ok(()));
        assert_eq!(probe.log(), ["real run", "ended"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_panic_fault_panics_with_its_message() {
        let fault = Fault::panic("bad row").wrap(Switches::default(), async { Ok(()) });
        let err = tokio::spawn(fault).await.unwrap_err();
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("bad row"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hang_never_ends_and_drops_the_real_run() {
        let probe = Probe::default();
        let hang = Fault::hang().after(ms(1)).wrap(Switches::default(), probe.run(ms(10), Ok(())));
        let out = tokio::time::timeout(Duration::from_secs(3600), hang).await;
        assert!(out.is_err(), "still hanging an hour later");
        assert_eq!(probe.log(), ["real run", "dropped"]);
    }

    #[tokio::test(start_paused = true)]
    async fn fail_to_start_never_runs_the_real_run() {
        let probe = Probe::default();
        let t0 = tokio::time::Instant::now();
        let out = Fault::fail_to_start().after(ms(3)).wrap(Switches::default(), probe.run(ms(1), Ok(()))).await;
        assert!(
            matches!(&out, Err(ExitReason::Failed(e)) if e.to_string() == "injected fault: the child failed to start")
        );
        assert_eq!(t0.elapsed(), ms(3));
        assert!(probe.log().is_empty(), "{:?}", probe.log());
    }

    #[tokio::test(start_paused = true)]
    async fn start_timeout_turns_ready_off_before_the_run_starts() {
        let switches = Switches::default();
        let seen = switches.clone();
        let run = async move {
            // What the run sees when it would call ready().
            assert!(seen.ready_off.load(Ordering::SeqCst));
            Ok(())
        };
        assert_eq!(Fault::start_timeout().wrap(switches.clone(), run).await, Ok(()));
        assert!(!switches.heartbeat_off.load(Ordering::SeqCst));
    }

    #[tokio::test(start_paused = true)]
    async fn stop_heartbeat_turns_heartbeats_off_after_the_delay() {
        let switches = Switches::default();
        let seen = switches.clone();
        let run = async move {
            let mut beats = Vec::new();
            for _ in 0..4 {
                beats.push(!seen.heartbeat_off.load(Ordering::SeqCst));
                tokio::time::sleep(ms(10)).await;
            }
            assert_eq!(beats, [true, true, true, false], "heartbeats count at 0, 10 and 20ms, not at 30ms");
            Ok(())
        };
        assert_eq!(Fault::stop_heartbeat().after(ms(25)).wrap(switches.clone(), run).await, Ok(()));
        assert!(!switches.ready_off.load(Ordering::SeqCst));
    }

    #[test]
    fn a_run_meets_its_own_fault_before_a_fault_from_onwards() {
        let plan = FaultPlan::new()
            .from("app/db", 3, Fault::hang())
            .at("app/db", 4, Fault::panic("four"))
            .from("app/db", 6, Fault::stop_heartbeat())
            .at("app/cache", 1, Fault::error("x"));
        let faults: Vec<Option<Fault>> = (1..=7).map(|run| plan.fault_for("app/db", run)).collect();
        assert_eq!(
            faults,
            [
                None,
                None,
                Some(Fault::hang()),
                Some(Fault::panic("four")),
                Some(Fault::hang()),
                Some(Fault::stop_heartbeat()),
                Some(Fault::stop_heartbeat()),
            ]
        );
        assert_eq!(plan.fault_for("app/cache", 2), None);
        assert_eq!(plan.fault_for("app/other", 1), None);
    }

    fn tree() -> SupervisorSpec {
        let idle = |ctx: Context| async move { ctx.cancelled().await };
        SupervisorSpec::new("app")
            .child(ChildSpec::from_fn("db", idle))
            .supervisor(SupervisorSpec::new("http").child(ChildSpec::from_fn("router", idle)))
    }

    #[test]
    fn a_plan_names_declared_children_by_full_path() {
        let ok = FaultPlan::new().at("app/db", 1, Fault::hang()).at("app/http/router", 1, Fault::hang());
        assert_eq!(ok.check(&tree()), Ok(()));
        assert!(ok.names("app/http/router") && !ok.names("app/http"));
        let err = FaultPlan::new().at("app/http", 2, Fault::hang()).check(&tree()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the fault plan names `app/http`, a supervisor: faults go on workers; to make it fail, fail one of its workers past its budget"
        );
        let err = FaultPlan::new().at("app/http/ruoter", 1, Fault::hang()).check(&tree()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the fault plan names `app/http/ruoter`, which is no worker of the tree: did you mean `app/http/router`? give a worker's full path, `root/child`"
        );
        let err = FaultPlan::new().at("router", 1, Fault::hang()).check(&tree()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the fault plan names `router`, which is no worker of the tree: give a worker's full path, `root/child`"
        );
    }

    #[test]
    fn a_plan_counts_runs_from_one_and_once_each() {
        let err = FaultPlan::new().at("app/db", 0, Fault::hang()).check(&tree()).unwrap_err();
        assert_eq!(err.to_string(), "the fault plan gives run 0 of `app/db`: runs count from 1, the first start");
        let err = FaultPlan::new()
            .at("app/db", 2, Fault::hang())
            .at("app/db", 2, Fault::panic("x"))
            .check(&tree())
            .unwrap_err();
        assert_eq!(err.to_string(), "the fault plan gives run 2 of `app/db` twice: keep one fault per run");
        let both = FaultPlan::new().at("app/db", 2, Fault::hang()).from("app/db", 2, Fault::panic("x"));
        assert_eq!(both.check(&tree()), Ok(()), "one run's fault and one from onwards may share a start");
    }
}
