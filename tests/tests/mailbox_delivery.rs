//! Mailboxes across restarts: what is queued waits for the next run, in
//! order; nothing is lost however often the receiver crashes; calls to a
//! run that dies answer at once; a poison message is given up.

mod common;
mod mailbox_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{ms, secs, settle, settle_for};
use mailbox_common::{Step, collecting, consumer};
use supervisor::mailbox::{CallError, DeadLetterReason, Mailbox, Reply};
use supervisor::{Backoff, ChildSpec, ChildState, Context, SupervisorHandle, SupervisorSpec};
use tokio::time::Instant;

/// Fails the run on it.
const FAIL: u32 = u32::MAX;

async fn state(tree: &SupervisorHandle, id: &str) -> (ChildState, u32) {
    let kids = tree.which_children().await.unwrap();
    let c = kids.into_iter().find(|c| c.id == id).unwrap();
    (c.state, c.attempt)
}

#[tokio::test(start_paused = true)]
async fn messages_sent_during_a_backoff_arrive_after_the_restart_in_order() {
    let (address, inbox, dead) = collecting::<u32>(64, 3);
    let (child, taken) =
        consumer("sink", inbox, |m, attempt, _| if m == FAIL && attempt == 1 { Step::Fail } else { Step::Take });
    let tree =
        SupervisorSpec::new("app").child(child.backoff(Backoff::exponential(ms(100), secs(1)))).start().await.unwrap();
    address.send(0).await.unwrap();
    address.send(FAIL).await.unwrap();
    settle().await;
    assert_eq!(state(&tree, "sink").await, (ChildState::Restarting, 1));
    for i in 1..=10 {
        address.send(i).await.unwrap();
    }
    settle().await;
    assert_eq!(taken.messages(), vec![0], "nothing is taken while the child backs off");

    settle_for(ms(200)).await;
    assert_eq!(state(&tree, "sink").await, (ChildState::Running, 2));
    // The failed delivery comes back first; then the rest, in order.
    let expected: Vec<(u32, u32)> = [(1, 0), (2, FAIL)].into_iter().chain((1..=10).map(|i| (2, i))).collect();
    assert_eq!(taken.all(), expected);
    assert_eq!(dead.len(), 0);
    tree.shutdown().await.unwrap();
}

/// A steady stream into a consumer that fails (and now and then panics)
/// on every fifth delivery and on every poison message: every message
/// sent is taken once or given up as a dead letter, never lost, never
/// taken twice, and the order holds.
async fn crash_restarts_lose_nothing(backoff: Option<Backoff>) {
    const CRASHES: u32 = 1_000;
    let deliveries = Arc::new(AtomicU32::new(0));
    let crashes = Arc::new(AtomicU32::new(0));
    let (address, inbox, dead) = collecting::<u32>(16, 2);
    let (d, c) = (deliveries.clone(), crashes.clone());
    let (child, taken) = consumer("sink", inbox, move |m, _, _| {
        let n = d.fetch_add(1, Ordering::SeqCst) + 1;
        if m % 101 == 0 || n % 5 == 0 {
            let crash = c.fetch_add(1, Ordering::SeqCst) + 1;
            if crash % 100 == 0 { Step::Panic } else { Step::Fail }
        } else {
            Step::Take
        }
    });
    let child = match backoff {
        Some(b) => child.backoff(b),
        None => child,
    };
    let tree = SupervisorSpec::new("app").max_restarts(u32::MAX).within(secs(1)).child(child).start().await.unwrap();

    let mut sent = 0u32;
    while crashes.load(Ordering::SeqCst) < CRASHES {
        address.send(sent).await.unwrap();
        sent += 1;
    }
    tree.shutdown().await.unwrap();

    let taken = taken.messages();
    let given_up = dead.messages();
    assert_eq!(sent as usize, taken.len() + given_up.len(), "sent == taken + dead letters");
    let mut all: Vec<u32> = taken.iter().chain(&given_up).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..sent).collect::<Vec<_>>(), "each message exactly once");
    assert!(taken.windows(2).all(|w| w[0] < w[1]), "the order holds across restarts");
    assert!(given_up.iter().filter(|&&m| m % 101 == 0).count() >= 2, "poison messages are given up: {given_up:?}");
    assert!(taken.iter().all(|m| m % 101 != 0), "a poison message is never taken");
    assert!(
        dead.all().iter().all(|(m, r)| *r != DeadLetterReason::RedeliveryLimit || m % 101 == 0),
        "only poison messages run out of redeliveries: {:?}",
        dead.all()
    );
}

#[tokio::test(start_paused = true)]
async fn thousand_crash_restarts_in_the_task_lose_nothing() {
    crash_restarts_lose_nothing(None).await;
}

#[tokio::test(start_paused = true)]
async fn thousand_crash_restarts_by_the_supervisor_lose_nothing() {
    crash_restarts_lose_nothing(Some(Backoff::exponential(ms(1), ms(1)))).await;
}

enum Query {
    Echo(u32, Reply<u32>),
    Explode(Reply<u32>),
}

#[derive(Clone)]
struct Cache {
    inbox: Mailbox<Query>,
}

impl supervisor::Worker for Cache {
    async fn run(self, ctx: Context) -> impl supervisor::WorkerResult {
        let mut rx = self.inbox.receiver(&ctx)?;
        while let Some(query) = rx.recv().await {
            match query {
                Query::Echo(n, reply) => {
                    let _ = reply.send(n);
                }
                Query::Explode(_reply) => panic!("the cache exploded"),
            }
        }
        Ok::<(), supervisor::mailbox::ReceiverBusy>(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_to_a_handler_that_panics_errors_at_once_naming_the_child() {
    let (cache, inbox) = supervisor::mailbox::<Query>(8);
    let tree = SupervisorSpec::new("app")
        .child(ChildSpec::worker("cache", Cache { inbox }).backoff(Backoff::exponential(ms(50), ms(50))))
        .start()
        .await
        .unwrap();
    assert_eq!(cache.call(|r| Query::Echo(7, r), secs(1)).await.unwrap(), 7);

    let start = Instant::now();
    let err = cache.call(Query::Explode, secs(30)).await.unwrap_err();
    assert_eq!(start.elapsed(), ms(0), "no wait for the timeout");
    assert!(matches!(err, CallError::NoReply { .. }), "{err:?}");
    assert_eq!(err.path(), Some("app/cache"));
    assert!(err.to_string().contains("`app/cache`"), "{err}");

    // A call during the backoff waits for the next run.
    let start = Instant::now();
    assert_eq!(cache.call(|r| Query::Echo(8, r), secs(1)).await.unwrap(), 8);
    assert!(start.elapsed() >= ms(50), "answered by the next run, after its backoff: {:?}", start.elapsed());
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_call_times_out_when_nobody_answers_and_names_the_child() {
    let (cache, inbox) = supervisor::mailbox::<Query>(8);
    let tree = SupervisorSpec::new("app").child(ChildSpec::worker("cache", Cache { inbox })).start().await.unwrap();
    tree.terminate_child("cache").await.unwrap();
    let start = Instant::now();
    let err = cache.call(|r| Query::Echo(1, r), ms(250)).await.unwrap_err();
    assert_eq!(start.elapsed(), ms(250));
    assert!(matches!(err, CallError::Timeout { .. }), "{err:?}");
    assert_eq!(err.to_string(), "no reply from the mailbox of `app/cache` within 250ms");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_poison_message_is_given_up_after_the_redelivery_limit() {
    const POISON: u32 = 13;
    let (address, inbox, dead) = collecting::<u32>(8, 2);
    let (child, taken) = consumer("sink", inbox, |m, _, _| if m == POISON { Step::Fail } else { Step::Take });
    let tree = SupervisorSpec::new("app").child(child).start().await.unwrap();
    for m in [1, POISON, 2] {
        address.send(m).await.unwrap();
    }
    settle().await;
    // Delivered once and twice again, each time failing its run; then given
    // up, and the child goes on with the next message.
    let kids = tree.which_children().await.unwrap();
    assert_eq!((kids[0].state, kids[0].restarts), (ChildState::Running, 3));
    assert_eq!(dead.all(), vec![(POISON, DeadLetterReason::RedeliveryLimit)]);
    assert_eq!(taken.all(), vec![(1, 1), (4, 2)]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_redelivered_message_knows_how_often_it_came_back() {
    let (address, inbox, dead) = collecting::<u32>(8, 5);
    let (child, taken) =
        consumer("sink", inbox, |_, _, redeliveries| if redeliveries < 2 { Step::Panic } else { Step::Take });
    let tree = SupervisorSpec::new("app").child(child).start().await.unwrap();
    address.send(9).await.unwrap();
    settle().await;
    assert_eq!(taken.all(), vec![(3, 9)], "taken by the third run, on its second redelivery");
    assert_eq!(dead.len(), 0);
    tree.shutdown().await.unwrap();
}
