//! What a tree shows of its mailboxes: each child's queue depth in
//! `which_children` and `snapshot()`, and dead letters and redeliveries as
//! events with the child's path; a run's own handles for dynamic children.

mod common;
mod mailbox_common;

use std::time::Duration;

use common::{drain, settle};
use mailbox_common::{Step, consumer};
use supervisor::mailbox::{DeadLetterReason, MailboxDepth, Registry};
use supervisor::{ChildSpec, ChildState, Context, EventKind, Restart, SupervisorSpec};

#[tokio::test(start_paused = true)]
async fn a_childs_mailbox_depth_shows_while_it_runs_and_while_it_is_stopped() {
    let (address, inbox) = supervisor::mailbox::<u32>(8);
    let (child, taken) = consumer("consumer", inbox, |_, _, _| Step::Take);
    let tree = SupervisorSpec::new("app").child(child).start().await.unwrap();
    settle().await;
    let depth = |kids: &[supervisor::ChildInfo]| kids[0].mailbox;
    assert_eq!(depth(&tree.which_children().await.unwrap()), Some(MailboxDepth { queued: 0, capacity: 8 }));
    tree.terminate_child("consumer").await.unwrap();
    for m in 0..3 {
        address.send(m).await.unwrap();
    }
    let kids = tree.which_children().await.unwrap();
    assert_eq!(kids[0].state, ChildState::Stopped);
    assert_eq!(depth(&kids), Some(MailboxDepth { queued: 3, capacity: 8 }), "kept while it is stopped");
    let shown = tree.snapshot().await.unwrap();
    assert_eq!(shown.children[0].mailbox, Some(MailboxDepth { queued: 3, capacity: 8 }));
    assert!(shown.to_string().contains("mailbox 3/8"), "{shown}");
    tree.restart_child("consumer").await.unwrap();
    settle().await;
    assert_eq!(taken.messages(), [0, 1, 2]);
    assert_eq!(depth(&tree.which_children().await.unwrap()), Some(MailboxDepth { queued: 0, capacity: 8 }));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn redeliveries_and_dead_letters_are_events_of_the_child() {
    let (address, inbox) = supervisor::mailbox::builder::<u32>(8).redelivery_limit(1).build();
    // Message 7 fails its run every time it is taken: once redelivered,
    // then given up.
    let (child, taken) = consumer("consumer", inbox, |m, _, _| if m == 7 { Step::Fail } else { Step::Take });
    let tree = SupervisorSpec::new("app").max_restarts(10).child(child).start().await.unwrap();
    let mut events = tree.subscribe();
    address.send(7).await.unwrap();
    address.send(8).await.unwrap();
    settle().await;
    assert_eq!(taken.messages(), [8]);
    let mailbox_events: Vec<(String, EventKind)> = drain(&mut events)
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Redelivered { .. } | EventKind::DeadLetter { .. }))
        .map(|e| (e.path.to_string(), e.kind))
        .collect();
    assert_eq!(mailbox_events.len(), 2, "{mailbox_events:?}");
    assert!(matches!(&mailbox_events[0], (p, EventKind::Redelivered { redeliveries: 1 }) if p == "app/consumer"));
    assert!(matches!(
        &mailbox_events[1],
        (p, EventKind::DeadLetter { reason: DeadLetterReason::RedeliveryLimit, count: 1 }) if p == "app/consumer"
    ));
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_run_starts_a_dynamic_child_registered_under_its_path() {
    let registry: Registry<String, u32> = Registry::new();
    let answered = std::sync::Arc::new(std::sync::Mutex::new(None));
    let spawner = {
        let (registry, answered) = (registry.clone(), answered.clone());
        ChildSpec::from_fn("spawner", move |ctx: Context| {
            let (registry, answered) = (registry.clone(), answered.clone());
            async move {
                let (_address, inbox) = supervisor::mailbox::<u32>(4);
                let sessions = ctx.supervisor();
                // Registered before it starts, under the path it will have.
                let key = format!("{}/session-1", sessions.path());
                registry.register(key.clone(), &inbox)?;
                let (child, _taken) = consumer("session-1", inbox, |_, _, _| Step::Take);
                let path = sessions.start_child(child.restart(Restart::Temporary)).await?;
                *answered.lock().unwrap() = Some(path);
                ctx.cancelled().await;
                anyhow::Ok(())
            }
        })
    };
    let tree = SupervisorSpec::new("app").child(spawner).start().await.unwrap();
    settle().await;
    assert_eq!(answered.lock().unwrap().as_deref(), Some("app/session-1"), "start_child answers the child's path");
    assert!(registry.lookup(&"app/session-1".to_string()).is_some());
    // The temporary child ends for good: its entry goes with its mailbox.
    tree.terminate_child("session-1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(registry.lookup(&"app/session-1".to_string()).is_none());
    tree.shutdown().await.unwrap();
}
