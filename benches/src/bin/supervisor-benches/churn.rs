//! Dynamic children that come and go: a supervisor holding many temporary
//! children added by `start_child` (a connection each, say), all of which
//! end, against a `JoinSet` whose tasks end. The time until every end has
//! been handled, per child, at several sizes: a cost per end that grows
//! with the number of children is a cost per end that is not constant.
//!
//! `cargo run -p supervisor-benches --release -- churn [--reps N]`
//!
//! Prints the table and writes it to `benches/CHURN.md`, with the date, the
//! machine and the command.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use supervisor::{ChildSpec, Context, Restart, SupervisorSpec};
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// The sizes measured.
const SIZES: [usize; 3] = [1_000, 10_000, 50_000];

pub(crate) fn main(args: &[String]) {
    let reps = crate::report::reps_arg(args, 7, "churn");
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no runtime: {e}");
            std::process::exit(1);
        }
    };
    let md = crate::report::header_of(
        "Churn of dynamic children",
        &format!("cargo run -p supervisor-benches --release -- churn --reps {reps}"),
        &format!(
            "a 2-worker tokio runtime; for each size, that many children started and idle, then all told to end at \
             once; timed from that moment until every end is handled (the supervisor: until `which_children` is \
             empty); the two sides interleaved, median of {reps} repetitions"
        ),
    );
    crate::report::finish_report("CHURN.md", md, rt.block_on(measure(reps)));
}

/// Children that wait for `go`, then end normally, counting their ends.
struct Ends {
    go: Notify,
    ended: AtomicUsize,
}

impl Ends {
    fn new() -> Arc<Self> {
        Arc::new(Ends { go: Notify::new(), ended: AtomicUsize::new(0) })
    }

    async fn child(&self) {
        self.go.notified().await;
        self.ended.fetch_add(1, Ordering::Relaxed);
    }

    /// Tells every child to end; from then on the clock runs.
    fn release(&self) -> Instant {
        let t = Instant::now();
        self.go.notify_waiters();
        t
    }
}

/// Bare tokio: n tasks in a `JoinSet`, joined until it is empty.
async fn floor(n: usize) -> Result<Duration, String> {
    let ends = Ends::new();
    let mut set = JoinSet::new();
    for _ in 0..n {
        let ends = ends.clone();
        set.spawn(async move { ends.child().await });
    }
    // Every task has started waiting before the release.
    settle(&ends).await;
    let t = ends.release();
    while let Some(end) = set.join_next().await {
        end.map_err(|e| e.to_string())?;
    }
    Ok(t.elapsed())
}

/// The supervisor: n temporary children added with `start_child`; each
/// end is handled and the child removed.
async fn supervisor(n: usize) -> Result<Duration, String> {
    let ends = Ends::new();
    let tree = SupervisorSpec::new("churn").start().await.map_err(|e| e.to_string())?;
    for i in 0..n {
        let ends = ends.clone();
        let child = ChildSpec::from_fn(format!("conn-{i}"), move |_ctx: Context| {
            let ends = ends.clone();
            async move {
                ends.child().await;
                Ok::<(), &str>(())
            }
        })
        .restart(Restart::Temporary);
        tree.start_child(child).await.map_err(|e| e.to_string())?;
    }
    settle(&ends).await;
    let t = ends.release();
    // Once every child has ended, the supervisor answers a command only
    // after the ends it has been told of: few are left to look at.
    while ends.ended.load(Ordering::Relaxed) < n {
        tokio::task::yield_now().await;
    }
    loop {
        let left = tree.which_children().await.map_err(|e| e.to_string())?.len();
        if left == 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let elapsed = t.elapsed();
    tree.shutdown().await.map_err(|e| e.to_string())?;
    Ok(elapsed)
}

/// Lets every child reach its wait for the release.
async fn settle(ends: &Ends) {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    debug_assert_eq!(ends.ended.load(Ordering::Relaxed), 0);
}

async fn measure(reps: usize) -> Result<String, String> {
    let mut table = String::from(
        "| children ending at once | tokio JoinSet (floor) | per end | **supervisor** | per end | ratio |\n\
         |---|---|---|---|---|---|\n",
    );
    for n in SIZES {
        let (mut bare, mut sup) = (Vec::new(), Vec::new());
        for rep in 0..reps {
            eprint!("\r{n} children: rep {}/{reps}", rep + 1);
            // The order alternates so that neither side always runs first.
            if rep % 2 == 0 {
                bare.push(floor(n).await?);
                sup.push(supervisor(n).await?);
            } else {
                sup.push(supervisor(n).await?);
                bare.push(floor(n).await?);
            }
        }
        eprintln!();
        let (b, s) = (crate::mailbox::median(bare), crate::mailbox::median(sup));
        let per = |d: Duration| format!("{:.2} µs", d.as_secs_f64() * 1e6 / n as f64);
        table += &format!(
            "| {n} | {:.2} ms | {} | {:.2} ms | {} | {:.2}× |\n",
            b.as_secs_f64() * 1e3,
            per(b),
            s.as_secs_f64() * 1e3,
            per(s),
            s.as_secs_f64() / b.as_secs_f64()
        );
    }
    table += &format!(
        "\nmedian of {reps} interleaved repetitions. The supervisor does per end what the floor does not: the \
         exit handled by its policy (temporary: not restarted), reported, and the child removed from its \
         children; the time per end should stay flat as the children grow.\n"
    );
    Ok(table)
}
