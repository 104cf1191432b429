//! Restart intensity: the sliding window, escalation up the tree, and what
//! the root's `wait()` says about it.

mod common;

use common::*;
use supervisor::{CommandError, EventKind, ExitReason, SupervisorError, SupervisorSpec};

#[tokio::test(start_paused = true)]
async fn intensity_exceeded_escalates_through_two_levels_to_the_root() {
    let probe = Probe::new();
    let leaf = SupervisorSpec::new("leaf").max_restarts(1).within(secs(10)).child(idle(&probe, "calm")).child(always(
        &probe,
        "crash",
        Act::ErrAfter(ms(5)),
    ));
    let mid = SupervisorSpec::new("mid").max_restarts(0).child(idle(&probe, "mid_sib")).supervisor(leaf);
    let tree = SupervisorSpec::new("app")
        .max_restarts(0)
        .child(idle(&probe, "root_sib"))
        .supervisor(mid)
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();

    let err = ended(&tree).await.unwrap_err();
    let SupervisorError::Escalated { supervisor, child, reason, restarts, .. } = &err else {
        panic!("expected an escalation, got {err:?}");
    };
    assert_eq!((supervisor.as_str(), child.as_str(), *restarts), ("app", "app/mid", 1));
    let ExitReason::Supervisor(mid_err) = reason else { panic!("{reason:?}") };
    let SupervisorError::Escalated { supervisor, child, reason, .. } = &**mid_err else { panic!("{mid_err:?}") };
    assert_eq!((supervisor.as_str(), child.as_str()), ("app/mid", "app/mid/leaf"));
    let ExitReason::Supervisor(leaf_err) = reason else { panic!("{reason:?}") };
    let SupervisorError::Escalated { supervisor, scope, child, reason, restarts, within } = &**leaf_err else {
        panic!("{leaf_err:?}")
    };
    assert_eq!((supervisor.as_str(), child.as_str()), ("app/mid/leaf", "app/mid/leaf/crash"));
    assert_eq!(scope, "supervisor `app/mid/leaf`");
    assert_eq!((*restarts, *within), (2, secs(10)));
    assert!(matches!(reason, ExitReason::Failed(e) if e.to_string() == "crash failed"));

    assert_eq!(probe.runs("crash"), 2, "one restart allowed, the second escalates");
    assert_eq!(probe.runs("calm"), 1);
    assert_eq!(probe.live(), 0, "every task of the tree ended");
    let escalated: Vec<String> = drain(&mut events)
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Escalated { .. }))
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(escalated, ["app/mid/leaf", "app/mid", "app"]);
    assert!(matches!(tree.which_children().await, Err(CommandError::NotRunning { .. })));
    assert!(tree.shutdown().await.is_err(), "shutdown of an ended tree returns its error");
}

#[tokio::test(start_paused = true)]
async fn zero_max_restarts_escalates_at_the_first_restart() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .max_restarts(0)
        .child(idle(&probe, "other"))
        .child(always(&probe, "crash", Act::ErrAfter(ms(5))))
        .start()
        .await
        .unwrap();
    let err = ended(&tree).await.unwrap_err();
    assert!(
        matches!(&err, SupervisorError::Escalated { supervisor, child, restarts: 1, .. }
            if supervisor == "app" && child == "app/crash"),
        "{err:?}"
    );
    assert_eq!(probe.runs("crash"), 1);
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn restarts_within_the_window_escalate() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .max_restarts(1)
        .within(secs(1))
        .child(always(&probe, "crash", Act::ErrAfter(ms(500))))
        .start()
        .await
        .unwrap();
    let t0 = tokio::time::Instant::now();
    assert!(ended(&tree).await.is_err());
    assert_eq!(t0.elapsed(), ms(1000), "the second failure, 500 ms after the first, exceeds 1 in 1 s");
    assert_eq!(probe.runs("crash"), 2);
}

#[tokio::test(start_paused = true)]
async fn restart_outside_the_window_does_not_count() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .max_restarts(1)
        .within(secs(1))
        .child(always(&probe, "crash", Act::ErrAfter(ms(1500))))
        .start()
        .await
        .unwrap();
    settle_for(ms(7600)).await;
    assert_eq!(probe.runs("crash"), 6, "five failures 1.5 s apart, each restarted");
    assert!(!tree.is_finished());
    let info = &tree.which_children().await.unwrap()[0];
    assert_eq!(info.restarts, 5);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn escalated_nested_supervisor_is_restarted_by_a_parent_with_budget() {
    let probe = Probe::new();
    // The nested supervisor gives up at once; its parent restarts it.
    let calls = Probe::new();
    let c = calls.clone();
    let sub = SupervisorSpec::new("sub").max_restarts(0).child(scripted(&probe, "w", move |_| {
        // Fails on the first run of each nested incarnation only once overall.
        if c.runs("marker") == 0 {
            drop(c.enter("marker"));
            Act::ErrAfter(ms(5))
        } else {
            Act::Idle
        }
    }));
    let tree = SupervisorSpec::new("app").supervisor(sub).start().await.unwrap();
    settle_for(ms(50)).await;
    assert_eq!(probe.runs("w"), 2);
    let info = &tree.which_children().await.unwrap()[0];
    assert_eq!(info.restarts, 1);
    assert!(matches!(info.last_exit, Some(ExitReason::Supervisor(_))), "{:?}", info.last_exit);
    assert!(!tree.is_finished());
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}
