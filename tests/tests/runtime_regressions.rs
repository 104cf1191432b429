//! Schedules the randomized suite found to break a promise, pinned by name.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use supervisor::{ChildSpec, ChildState, Context, Escalation, GroupSpec, Policy, Shutdown, Strategy, SupervisorSpec};

/// Counts live runs: +1 when made, -1 when dropped.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: &Arc<AtomicUsize>) -> Live {
        count.fetch_add(1, Ordering::SeqCst);
        Live(count.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn stale_failed_start_does_not_leave_two_live_runs() {
    let live = Arc::new(AtomicUsize::new(0));
    let l = live.clone();
    // `a` fails once at 65 ms: its rest_for_one restart also restarts `b`.
    let a = ChildSpec::from_fn("a", |ctx: Context| async move {
        if ctx.attempt() == 1 {
            tokio::time::sleep(Duration::from_millis(65)).await;
            return Err("a failed");
        }
        ctx.cancelled().await;
        Ok(())
    });
    // `b`: run 1 fails at 55 ms; run 2 fails to start at 65 ms, the same
    // instant as `a`'s failure; later runs idle.
    let b = ChildSpec::from_fn("b", move |ctx: Context| {
        let l = l.clone();
        async move {
            let _live = Live::new(&l);
            match ctx.attempt() {
                1 => {
                    ctx.ready();
                    tokio::time::sleep(Duration::from_millis(55)).await;
                    Err("b failed")
                }
                2 => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Err("b failed to start")
                }
                _ => {
                    ctx.ready();
                    ctx.cancelled().await;
                    Ok(())
                }
            }
        }
    })
    .start_timeout(Duration::from_millis(10));
    let tree = SupervisorSpec::new("app").strategy(Strategy::RestForOne).child(a).child(b).start().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(live.load(Ordering::SeqCst), 1, "live runs of b: {:#?}", tree.which_children().await.unwrap());
    tree.shutdown().await.unwrap();
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn killed_nested_supervisor_takes_its_whole_subtree_down_first() {
    for _ in 0..20 {
        let live = Arc::new(AtomicUsize::new(0));
        let l = live.clone();
        let w = ChildSpec::from_fn("w", move |ctx: Context| {
            let l = l.clone();
            async move {
                let _live = Live::new(&l);
                ctx.cancelled().await;
            }
        });
        let s3 = SupervisorSpec::new("s3").child(w);
        let s2 = SupervisorSpec::new("s2").supervisor(s3);
        let s1 = ChildSpec::supervisor(SupervisorSpec::new("s1").supervisor(s2)).shutdown(Shutdown::BrutalKill);
        let tree = SupervisorSpec::new("app").child(s1).start().await.unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 1);
        // Shut down from another task, as a service's signal handler would.
        let t = tree.clone();
        let left = tokio::spawn(async move {
            t.shutdown().await.unwrap();
            live.load(Ordering::SeqCst)
        })
        .await
        .unwrap();
        assert_eq!(left, 0, "runs of app/s1/s2/s3/w alive after shutdown() returned");
    }
}

#[tokio::test(start_paused = true)]
async fn nested_supervisor_past_its_shutdown_time_is_killed_with_its_subtree() {
    let live = Arc::new(AtomicUsize::new(0));
    let l = live.clone();
    // Ignores cancellation: only an abort ends it.
    let stubborn = ChildSpec::from_fn("stubborn", move |_ctx: Context| {
        let l = l.clone();
        async move {
            let _live = Live::new(&l);
            std::future::pending::<()>().await;
        }
    })
    .shutdown(Shutdown::Infinity);
    let inner = SupervisorSpec::new("inner").child(stubborn);
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::supervisor(inner).shutdown(Duration::from_secs(2)))
        .start()
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    tree.shutdown().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(2), "killed when its shutdown time ran out");
    assert_eq!(live.load(Ordering::SeqCst), 0, "the worker below it was awaited");
}

#[tokio::test(start_paused = true)]
async fn quarantined_child_is_not_restarted_by_a_siblings_one_for_all() {
    // `q` is in group g (budget 0, quarantine): its first failure quarantines it.
    let q = ChildSpec::from_fn("q", |ctx: Context| async move {
        if ctx.attempt() == 1 {
            return Err("q failed");
        }
        ctx.cancelled().await;
        Ok(())
    })
    .group("g");
    // `s` fails once at 100 ms: a one_for_all restart of the supervisor's scope.
    let s = ChildSpec::from_fn("s", |ctx: Context| async move {
        if ctx.attempt() == 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Err("s failed");
        }
        ctx.cancelled().await;
        Ok(())
    });
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .child(q)
        .child(s)
        .group(GroupSpec::new("g").max_restarts(0).escalation(Escalation::Quarantine))
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(tree.which_children().await.unwrap()[0].state, ChildState::Quarantined);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let kids = tree.which_children().await.unwrap();
    assert_eq!(kids[0].state, ChildState::Quarantined, "{kids:#?}");
    assert_eq!(kids[1].attempt, 2, "the sibling itself was restarted");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn siblings_of_a_failed_start_under_a_narrower_override_still_start() {
    // c0's override is one_for_one; its second run fails before ready.
    let c0 = ChildSpec::from_fn("c0", |ctx: Context| async move {
        if ctx.attempt() == 2 {
            return Err("no");
        }
        ctx.ready();
        ctx.cancelled().await;
        Ok(())
    })
    .start_timeout(Duration::from_millis(10));
    // c1 fails once after 100 ms: one_for_all restarts c0 and c1.
    let c1 = ChildSpec::from_fn("c1", |ctx: Context| async move {
        if ctx.attempt() == 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            return Err("boom");
        }
        ctx.cancelled().await;
        Ok(())
    });
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .child(c0)
        .child(c1)
        .override_child("c0", Policy::new().strategy(Strategy::OneForOne))
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let kids = tree.which_children().await.unwrap();
    assert!(kids.iter().all(|c| c.state == ChildState::Running), "{kids:#?}");
    tree.shutdown().await.unwrap();
}
