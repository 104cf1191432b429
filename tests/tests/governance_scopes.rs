//! Restart groups, overrides, quarantine and shutdown_tree: who a restart
//! touches, whose budget it spends, and what giving up does.

mod common;

use common::*;
use supervisor::{
    ChildInfo, ChildState, Escalation, EventKind, ExitReason, GroupSpec, Policy, Strategy, SupervisorError,
    SupervisorHandle, SupervisorSpec,
};

async fn states(tree: &SupervisorHandle) -> Vec<(String, ChildState)> {
    tree.which_children().await.unwrap().into_iter().map(|c: ChildInfo| (c.id, c.state)).collect()
}

fn st(id: &str, s: ChildState) -> (String, ChildState) {
    (id.to_string(), s)
}

#[tokio::test(start_paused = true)]
async fn group_one_for_all_restarts_only_its_members() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .group(GroupSpec::new("g").strategy(Strategy::OneForAll))
        .child(idle(&probe, "a").group("g"))
        .child(idle(&probe, "outsider"))
        .child(first_then_idle(&probe, "b", Act::ErrAfter(ms(10))).group("g"))
        .child(idle(&probe, "c").group("g"))
        .start()
        .await
        .unwrap();
    probe.clear_log();
    settle_for(ms(50)).await;
    assert_eq!(probe.log(), ["stop:b", "stop:c", "stop:a", "start:a", "start:b", "start:c"]);
    assert_eq!(probe.runs("outsider"), 1);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn group_rest_for_one_restarts_later_members_only() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .group(GroupSpec::new("g").strategy(Strategy::RestForOne))
        .child(idle(&probe, "a").group("g"))
        .child(first_then_idle(&probe, "b", Act::ErrAfter(ms(10))).group("g"))
        .child(idle(&probe, "x"))
        .child(idle(&probe, "c").group("g"))
        .child(idle(&probe, "y"))
        .start()
        .await
        .unwrap();
    probe.clear_log();
    settle_for(ms(50)).await;
    assert_eq!(probe.log(), ["stop:b", "stop:c", "start:b", "start:c"]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn group_budget_exceeded_quarantines_the_group_and_spares_the_supervisor_budget() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .max_restarts(1)
        .within(secs(60))
        .group(
            GroupSpec::new("g")
                .strategy(Strategy::OneForAll)
                .max_restarts(1)
                .within(secs(60))
                .escalation(Escalation::Quarantine),
        )
        .child(scripted(&probe, "a", |n| if n <= 2 { Act::ErrAfter(ms(10)) } else { Act::Idle }).group("g"))
        .child(idle(&probe, "b").group("g"))
        .child(first_then_idle(&probe, "c", Act::ErrAfter(ms(200))))
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    settle_for(ms(100)).await;
    assert_eq!(
        states(&tree).await,
        [st("a", ChildState::Quarantined), st("b", ChildState::Quarantined), st("c", ChildState::Running)]
    );
    assert_eq!(probe.live(), 1, "the group's members are stopped");
    let seen: Vec<(String, String)> = drain(&mut events)
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::BudgetExceeded { scope, .. } => Some((e.path.to_string(), scope)),
            EventKind::Quarantined => Some((e.path.to_string(), "quarantined".into())),
            _ => None,
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("app".to_string(), "group `g` of supervisor `app`".to_string()),
            ("app/a".to_string(), "quarantined".to_string()),
            ("app/b".to_string(), "quarantined".to_string()),
        ]
    );

    // The group's restart did not spend the supervisor's budget of one.
    settle_for(ms(200)).await;
    assert_eq!(probe.runs("c"), 2);
    assert!(!tree.is_finished());

    // Stays quarantined until asked; restart_child brings the whole scope back.
    settle_for(secs(10)).await;
    assert_eq!(probe.runs("a"), 2);
    tree.restart_child("b").await.unwrap();
    assert_eq!(
        states(&tree).await,
        [st("a", ChildState::Running), st("b", ChildState::Running), st("c", ChildState::Running)]
    );
    assert_eq!((probe.runs("a"), probe.runs("b")), (3, 3));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn group_budget_exceeded_escalates_by_default() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .max_restarts(100)
        .group(GroupSpec::new("g").max_restarts(0))
        .child(always(&probe, "a", Act::ErrAfter(ms(10))).group("g"))
        .child(idle(&probe, "b"))
        .start()
        .await
        .unwrap();
    let err = ended(&tree).await.unwrap_err();
    assert!(
        matches!(&err, SupervisorError::Escalated { scope, child, .. }
            if scope == "group `g` of supervisor `app`" && child == "app/a"),
        "{err:?}"
    );
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn override_beats_group() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .group(GroupSpec::new("g").strategy(Strategy::OneForAll))
        .child(scripted(&probe, "a", |n| if n == 1 { Act::ErrAfter(ms(100)) } else { Act::Idle }).group("g"))
        .child(first_then_idle(&probe, "b", Act::ErrAfter(ms(10))).group("g"))
        .override_child("b", Policy::new().strategy(Strategy::OneForOne))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!((probe.runs("a"), probe.runs("b")), (1, 2), "b's override restarts it alone");
    settle_for(ms(100)).await;
    assert_eq!((probe.runs("a"), probe.runs("b")), (2, 3), "a follows the group's one_for_all");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn override_budget_quarantines_only_that_child() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(idle(&probe, "a"))
        .child(always(&probe, "b", Act::ErrAfter(ms(10))))
        .child(idle(&probe, "c"))
        .override_child("b", Policy::new().max_restarts(0).escalation(Escalation::Quarantine))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!(
        states(&tree).await,
        [st("a", ChildState::Running), st("b", ChildState::Quarantined), st("c", ChildState::Running)]
    );
    assert_eq!((probe.runs("a"), probe.runs("b"), probe.runs("c")), (1, 1, 1));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn quarantined_nested_supervisor_keeps_the_rest_of_the_tree_running() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(idle(&probe, "a"))
        .supervisor(
            SupervisorSpec::new("sub")
                .max_restarts(0)
                .escalation(Escalation::Quarantine)
                .child(idle(&probe, "x"))
                .child(first_then_idle(&probe, "y", Act::ErrAfter(ms(10)))),
        )
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    let sub = tree.nested("sub").await.unwrap();
    assert_eq!(states(&sub).await, [st("x", ChildState::Quarantined), st("y", ChildState::Quarantined)]);
    assert_eq!(states(&tree).await, [st("a", ChildState::Running), st("sub", ChildState::Running)]);
    assert_eq!(probe.live(), 1);
    sub.restart_child("x").await.unwrap();
    assert_eq!(states(&sub).await, [st("x", ChildState::Running), st("y", ChildState::Running)]);
    tree.shutdown().await.unwrap();
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_tree_from_a_deep_child_ends_the_whole_tree() {
    let probe = Probe::new();
    let leaf = SupervisorSpec::new("leaf")
        .max_restarts(0)
        .escalation(Escalation::ShutdownTree)
        .child(idle(&probe, "c"))
        .child(always(&probe, "crash", Act::ErrAfter(ms(10))));
    let tree = SupervisorSpec::new("app")
        .child(idle(&probe, "a"))
        .supervisor(SupervisorSpec::new("mid").child(idle(&probe, "b")).supervisor(leaf))
        .child(idle(&probe, "z"))
        .start()
        .await
        .unwrap();
    probe.clear_log();
    let err = ended(&tree).await.unwrap_err();
    let SupervisorError::ShutdownTree { supervisor, cause } = &err else { panic!("{err:?}") };
    assert_eq!(supervisor, "app/mid/leaf");
    assert!(
        matches!(&**cause, SupervisorError::Escalated { child, reason: ExitReason::Failed(_), .. }
            if child == "app/mid/leaf/crash"),
        "{cause:?}"
    );
    assert_eq!(probe.live(), 0);
    assert_eq!(probe.log(), ["stop:crash", "stop:z", "stop:c", "stop:b", "stop:a"]);
    assert_eq!(probe.runs("crash"), 1);
}

#[tokio::test(start_paused = true)]
async fn siblings_behind_a_failed_restart_start_once_it_is_handled() {
    let probe = Probe::new();
    // a's failure restarts the group; b then fails to start, and its override
    // restarts b alone: c, left waiting behind b, must still start.
    let tree = SupervisorSpec::new("app")
        .group(GroupSpec::new("g").strategy(Strategy::OneForAll))
        .child(first_then_idle(&probe, "a", Act::ErrAfter(ms(10))).group("g"))
        .child(scripted(&probe, "b", |n| if n == 2 { Act::Err } else { Act::Idle }).start_timeout(secs(1)).group("g"))
        .child(idle(&probe, "c").group("g"))
        .override_child("b", Policy::new().strategy(Strategy::OneForOne))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!((probe.runs("a"), probe.runs("b"), probe.runs("c")), (2, 3, 2));
    assert_eq!(
        states(&tree).await,
        [st("a", ChildState::Running), st("b", ChildState::Running), st("c", ChildState::Running)]
    );
    assert_eq!(probe.live(), 3);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn siblings_behind_a_transient_that_ends_normally_while_restarting_still_start() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .child(first_then_idle(&probe, "a", Act::ErrAfter(ms(10))))
        .child(
            scripted(&probe, "b", |n| if n == 2 { Act::Ok } else { Act::Idle })
                .start_timeout(secs(1))
                .restart(supervisor::Restart::Transient),
        )
        .child(idle(&probe, "c"))
        .start()
        .await
        .unwrap();
    settle_for(ms(50)).await;
    assert_eq!((probe.runs("a"), probe.runs("b"), probe.runs("c")), (2, 2, 2));
    assert_eq!(
        states(&tree).await,
        [st("a", ChildState::Running), st("b", ChildState::Stopped), st("c", ChildState::Running)]
    );
    tree.shutdown().await.unwrap();
}
