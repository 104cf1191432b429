//! A mailbox through its child's life: stopped, deleted, shut down,
//! drained, full; one receiver at a time; a registry of dynamic children.

mod common;
mod mailbox_common;

use std::sync::{Arc, Mutex};

use common::{ms, secs, settle, settle_for};
use mailbox_common::{Step, collecting, consumer};
use supervisor::mailbox::{DeadLetterReason, Mailbox, Registry, SendError};
use supervisor::{ChildSpec, ChildState, Context, ExitReason, Restart, Shutdown, SupervisorSpec};

#[tokio::test(start_paused = true)]
async fn sends_to_a_deleted_child_come_back_as_dead_letters() {
    let (address, inbox, dead) = collecting::<u32>(8, 3);
    let (child, taken) = consumer("sink", inbox, |_, _, _| Step::Take);
    let tree = SupervisorSpec::new("app").child(child).start().await.unwrap();
    address.send(1).await.unwrap();
    settle().await;
    tree.terminate_child("sink").await.unwrap();
    // Stopped, not gone: the mailbox keeps what comes in.
    address.send(2).await.unwrap();
    address.send(3).await.unwrap();
    assert!(!address.is_closed());
    assert_eq!(address.len(), 2);

    tree.delete_child("sink").await.unwrap();
    assert_eq!(dead.all(), vec![(2, DeadLetterReason::Closed), (3, DeadLetterReason::Closed)]);
    assert!(address.is_closed());
    let err = address.send(4).await.unwrap_err();
    assert!(err.is_closed(), "{err}");
    assert_eq!(err.path(), Some("app/sink"));
    assert_eq!(err.into_message(), 4, "the message comes back");
    assert!(matches!(address.try_send(5), Err(SendError::Closed { message: 5, .. })));
    assert_eq!(taken.messages(), vec![1]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn sends_after_shutdown_come_back_as_dead_letters() {
    let (address, inbox, dead) = collecting::<u32>(8, 3);
    // Never takes anything: a run that ends without draining.
    let (child, _taken) = consumer("sink", inbox, |_, _, _| Step::Slow(secs(3600)));
    let tree = SupervisorSpec::new("app").child(child.shutdown(Shutdown::BrutalKill)).start().await.unwrap();
    for m in 1..=3 {
        address.send(m).await.unwrap();
    }
    settle().await;
    tree.shutdown().await.unwrap();
    // The delivery the run held goes back to the front before the mailbox
    // closes: every message is accounted for, in order.
    assert_eq!(dead.messages(), vec![1, 2, 3]);
    let err = address.send(4).await.unwrap_err();
    assert!(err.is_closed());
    assert!(err.to_string().starts_with("the mailbox of `app/sink` is closed"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_stopping_consumer_drains_its_mailbox_when_its_producer_stops_first() {
    const N: u32 = 100;
    let (address, inbox, dead) = collecting::<u32>(N as usize, 3);
    // Declared first: it stops last, after the producer.
    let (sink, taken) = consumer("sink", inbox, |_, _, _| Step::Slow(ms(1)));
    let producer = ChildSpec::from_fn("producer", move |ctx: Context| {
        let address = address.clone();
        async move {
            for m in 0..N {
                address.send(m).await.unwrap();
            }
            ctx.cancelled().await;
        }
    });
    let tree = SupervisorSpec::new("app").child(sink.shutdown(secs(5))).child(producer).start().await.unwrap();
    settle().await;
    assert!(taken.messages().len() < N as usize, "the consumer is slower than the producer");
    tree.shutdown().await.unwrap();
    assert_eq!(taken.messages(), (0..N).collect::<Vec<_>>(), "everything queued is taken within the shutdown time");
    assert_eq!(dead.len(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_drain_ends_with_the_shutdown_time_and_the_rest_are_dead_letters() {
    const N: u32 = 100;
    let (address, inbox, dead) = collecting::<u32>(N as usize, 3);
    let (sink, taken) = consumer("sink", inbox, |_, _, _| Step::Slow(ms(1)));
    let tree = SupervisorSpec::new("app").child(sink.shutdown(ms(20))).start().await.unwrap();
    for m in 0..N {
        address.send(m).await.unwrap();
    }
    tree.shutdown().await.unwrap();
    let taken = taken.messages();
    assert!((15..=25).contains(&taken.len()), "about 20 ms of work: {}", taken.len());
    let mut all: Vec<u32> = taken.iter().copied().chain(dead.messages()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..N).collect::<Vec<_>>(), "taken or given up, never lost");
}

#[tokio::test(start_paused = true)]
async fn a_full_mailbox_makes_send_wait_and_try_send_fail_without_growing() {
    const CAPACITY: usize = 4;
    let (address, inbox, dead) = collecting::<u32>(CAPACITY, 3);
    let (sink, taken) = consumer("sink", inbox, |_, _, _| Step::Take);
    let tree = SupervisorSpec::new("app").child(sink).start().await.unwrap();
    tree.terminate_child("sink").await.unwrap();
    for m in 0..CAPACITY as u32 {
        address.try_send(m).unwrap();
    }
    for m in 0..10_000 {
        let err = address.try_send(100 + m).unwrap_err();
        assert!(matches!(&err, SendError::Full { capacity: CAPACITY, .. }), "{err}");
        assert_eq!(err.into_message(), 100 + m);
        assert_eq!(address.len(), CAPACITY, "the queue never holds more than its capacity");
    }
    let err = address.send_timeout(50, ms(30)).await.unwrap_err();
    assert!(matches!(err, SendError::Timeout { message: 50, .. }), "{err:?}");
    assert!(err.to_string().contains("had no room for 30ms"), "{err}");

    // `send` waits for room: it completes once the child runs again.
    let waiting = tokio::spawn({
        let address = address.clone();
        async move { address.send(99).await }
    });
    settle_for(secs(60)).await;
    assert!(!waiting.is_finished(), "send waits while the mailbox is full");
    assert_eq!(address.len(), CAPACITY);
    tree.restart_child("sink").await.unwrap();
    waiting.await.unwrap().unwrap();
    settle().await;
    assert_eq!(taken.messages(), vec![0, 1, 2, 3, 99]);
    assert_eq!(dead.len(), 0);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_quarantined_childs_mailbox_keeps_its_messages_for_the_restart() {
    let (address, inbox, dead) = collecting::<u32>(8, 10);
    let (sink, taken) =
        consumer("sink", inbox, |m, attempt, _| if m == 0 && attempt < 3 { Step::Fail } else { Step::Take });
    let tree = SupervisorSpec::new("app")
        .max_restarts(1)
        .within(secs(5))
        .escalation(supervisor::Escalation::Quarantine)
        .child(sink)
        .start()
        .await
        .unwrap();
    address.send(0).await.unwrap();
    settle().await;
    assert_eq!(tree.which_children().await.unwrap()[0].state, ChildState::Quarantined);
    address.send(1).await.unwrap();
    assert_eq!(address.len(), 2, "the failed delivery and the new message wait");
    tree.restart_child("sink").await.unwrap();
    settle().await;
    assert_eq!(taken.messages(), vec![0, 1]);
    assert_eq!(dead.len(), 0);
    tree.shutdown().await.unwrap();
}

/// A worker that leaves its receiver to a task it does not end.
#[derive(Clone)]
struct Leaky {
    inbox: Mailbox<u32>,
    leaked: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl supervisor::Worker for Leaky {
    async fn run(self, ctx: Context) -> impl supervisor::WorkerResult {
        let mut rx = self.inbox.receiver(&ctx)?;
        if ctx.attempt() == 1 {
            let task = tokio::spawn(async move {
                let _ = rx.recv().await;
            });
            *self.leaked.lock().unwrap() = Some(task);
            return Err(anyhow::anyhow!("left a receiver behind"));
        }
        let _ = rx.recv().await;
        Ok::<(), anyhow::Error>(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_second_receiver_at_the_same_time_gets_a_clear_error() {
    let (address, inbox) = supervisor::mailbox::<u32>(8);
    let leaked = Arc::new(Mutex::new(None));
    let tree = SupervisorSpec::new("app")
        .max_restarts(1)
        .within(secs(5))
        .escalation(supervisor::Escalation::Quarantine)
        .child(ChildSpec::worker("sink", Leaky { inbox, leaked: leaked.clone() }).restart(Restart::Permanent))
        .start()
        .await
        .unwrap();
    settle().await;
    let sink = tree.which_children().await.unwrap().remove(0);
    assert_eq!(sink.state, ChildState::Quarantined, "the second run cannot take the queue");
    let Some(ExitReason::Failed(err)) = sink.last_exit else { panic!("{:?}", sink.last_exit) };
    assert!(err.to_string().starts_with("the mailbox of `app/sink` already has a receiver"), "{err}");

    // The leftover task takes the next message whole, then lets go.
    address.send(7).await.unwrap();
    let task = leaked.lock().unwrap().take().unwrap();
    task.await.unwrap();
    tree.restart_child("sink").await.unwrap();
    assert_eq!(tree.which_children().await.unwrap()[0].state, ChildState::Running);
    tree.shutdown().await.unwrap();
}

/// One session per key, a temporary dynamic child ending on `0`.
#[tokio::test(start_paused = true)]
async fn a_registry_forgets_a_dynamic_child_that_ended_for_good() {
    let sessions: Registry<u32, u32> = Registry::new();
    let tree = SupervisorSpec::new("app").max_children(8).start().await.unwrap();
    let mut logs = Vec::new();
    for key in 1..=3 {
        let (_, inbox) = supervisor::mailbox::<u32>(4);
        sessions.register(key, &inbox).unwrap();
        let (child, taken) =
            consumer(&format!("session-{key}"), inbox, |m, _, _| if m == 0 { Step::Fail } else { Step::Take });
        tree.start_child(child.restart(Restart::Temporary)).await.unwrap();
        logs.push(taken);
    }
    assert_eq!(sessions.len(), 3);
    let two = sessions.lookup(&2).unwrap();
    two.send(5).await.unwrap();
    two.send(0).await.unwrap();
    settle().await;
    assert_eq!(logs[1].messages(), vec![5]);
    assert!(sessions.lookup(&2).is_none(), "a temporary child that ended is gone for good");
    let mut keys = sessions.keys();
    keys.sort_unstable();
    assert_eq!(keys, vec![1, 3]);
    assert!(two.send(6).await.unwrap_err().is_closed());

    tree.shutdown().await.unwrap();
    assert!(sessions.is_empty(), "the tree's end closes every mailbox");
}
