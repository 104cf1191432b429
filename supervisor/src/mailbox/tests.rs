//! Unit tests of mailboxes on a context made by hand, without a tree.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::*;

fn context(path: &str) -> Context {
    crate::runtime::detached_context(path)
}

/// Dead letters with their reason and redelivery count.
type Collected<M> = Arc<Mutex<Vec<(M, DeadLetterReason, u32)>>>;

/// A mailbox whose dead letters land in the returned list.
fn collecting<M: Send + 'static>(capacity: usize, limit: u32) -> (Address<M>, Mailbox<M>, Collected<M>) {
    let dead = Arc::new(Mutex::new(Vec::new()));
    let sink = dead.clone();
    let (address, mailbox) = builder(capacity)
        .redelivery_limit(limit)
        .on_dead_letter(move |d: DeadLetter<M>| sink.lock().unwrap().push((d.message, d.reason, d.redeliveries)))
        .build();
    (address, mailbox, dead)
}

#[tokio::test]
async fn second_receiver_is_refused_until_the_first_is_dropped() {
    let (_address, mailbox) = mailbox::<u32>(4);
    let ctx = context("app/consumer");
    let first = mailbox.receiver(&ctx).unwrap();
    let err = mailbox.receiver(&ctx).unwrap_err();
    assert_eq!(err.path, "app/consumer");
    assert!(err.to_string().contains("already has a receiver"), "{err}");
    drop(first);
    assert!(mailbox.receiver(&ctx).is_ok());
}

#[tokio::test]
async fn queue_survives_its_receiver_in_order() {
    let (address, mailbox) = mailbox::<u32>(8);
    let ctx = context("app/c");
    let mut rx = mailbox.receiver(&ctx).unwrap();
    for i in 0..4 {
        address.send(i).await.unwrap();
    }
    assert_eq!(rx.recv().await, Some(0));
    drop(rx);
    let mut rx = mailbox.receiver(&ctx).unwrap();
    assert_eq!(rx.try_recv(), Some(1));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, Some(3));
    assert_eq!(rx.try_recv(), None);
}

#[tokio::test]
async fn a_stopping_run_drains_what_is_queued_then_gets_none() {
    let (address, mailbox) = mailbox::<u32>(8);
    let ctx = context("app/c");
    let mut rx = mailbox.receiver(&ctx).unwrap();
    address.send(1).await.unwrap();
    address.send(2).await.unwrap();
    ctx.inner.cancel();
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
}

#[tokio::test(start_paused = true)]
async fn a_waiting_receiver_wakes_with_none_when_its_run_is_stopped() {
    let (_address, mailbox) = mailbox::<u32>(8);
    let ctx = context("app/c");
    let mut rx = mailbox.receiver(&ctx).unwrap();
    let stopper = ctx.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        stopper.inner.cancel();
    });
    let start = Instant::now();
    assert_eq!(rx.recv().await, None);
    assert_eq!(start.elapsed(), Duration::from_millis(5));
}

#[tokio::test(start_paused = true)]
async fn a_receiver_moved_to_another_task_still_wakes_when_its_run_is_stopped() {
    let (address, mailbox) = mailbox::<u32>(8);
    let ctx = context("app/c");
    let mut rx = mailbox.receiver(&ctx).unwrap();
    // Waits (and registers for the stop) in one task, is woken by a message.
    let first = tokio::spawn(async move {
        let got = rx.recv().await;
        (got, rx)
    });
    tokio::time::sleep(Duration::from_millis(1)).await;
    address.send(1).await.unwrap();
    let (got, mut rx) = first.await.unwrap();
    assert_eq!(got, Some(1));
    // Waits again, in another task: the stop must reach this one.
    let second = tokio::spawn(async move { rx.recv().await });
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(!second.is_finished());
    ctx.inner.cancel();
    assert_eq!(tokio::time::timeout(Duration::from_secs(1), second).await.unwrap().unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn cancelling_the_runs_token_drains_as_a_stop_does() {
    let (address, mailbox) = mailbox::<u32>(8);
    let ctx = context("app/c");
    let mut rx = mailbox.receiver(&ctx).unwrap();
    let token = ctx.token().clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        address.send(1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        token.cancel();
    });
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(tokio::time::timeout(Duration::from_secs(1), rx.recv()).await.unwrap(), None);
}

#[tokio::test]
async fn closing_gives_back_what_is_queued_as_dead_letters() {
    let (address, mailbox, dead) = collecting::<u32>(8, 3);
    address.send(1).await.unwrap();
    address.send(2).await.unwrap();
    drop(mailbox);
    let err = address.send(3).await.unwrap_err();
    assert!(err.is_closed());
    assert_eq!(err.into_message(), 3);
    assert_eq!(*dead.lock().unwrap(), vec![(1, DeadLetterReason::Closed, 0), (2, DeadLetterReason::Closed, 0)]);
}

#[tokio::test]
async fn unacked_delivery_comes_back_first_then_dead_letters_past_the_limit() {
    let (address, mailbox, dead) = collecting::<&'static str>(8, 2);
    let ctx = context("app/c");
    address.send("poison").await.unwrap();
    address.send("next").await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let mut rx = mailbox.receiver(&ctx).unwrap();
        let d = rx.recv_guarded().await.unwrap();
        seen.push((*d, d.redeliveries()));
        // The run ends before the ack: delivery and receiver are dropped.
    }
    assert_eq!(seen, vec![("poison", 0), ("poison", 1), ("poison", 2)]);
    assert_eq!(*dead.lock().unwrap(), vec![("poison", DeadLetterReason::RedeliveryLimit, 2)]);
    let mut rx = mailbox.receiver(&ctx).unwrap();
    let d = rx.recv_guarded().await.unwrap();
    assert_eq!((d.ack(), rx.len()), ("next", 0));
}

#[tokio::test]
async fn acked_delivery_is_not_delivered_again() {
    let (address, mailbox) = mailbox::<u32>(8);
    let ctx = context("app/c");
    address.send(1).await.unwrap();
    let mut rx = mailbox.receiver(&ctx).unwrap();
    assert_eq!(rx.recv_guarded().await.unwrap().ack(), 1);
    drop(rx);
    let mut rx = mailbox.receiver(&ctx).unwrap();
    assert_eq!(rx.try_recv(), None);
}

#[tokio::test]
async fn depth_counts_a_message_waiting_for_redelivery() {
    let (address, mailbox) = mailbox::<u32>(4);
    let ctx = context("app/c");
    address.send(1).await.unwrap();
    address.send(2).await.unwrap();
    assert_eq!(mailbox.depth(), MailboxDepth { queued: 2, capacity: 4 });
    let mut rx = mailbox.receiver(&ctx).unwrap();
    drop(rx.recv_guarded().await);
    assert_eq!(address.len(), 2, "one back at the front, one in the channel");
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!((address.len(), mailbox.depth().to_string()), (1, "1/4".to_string()));
}

#[tokio::test]
async fn call_fails_at_once_when_the_handler_drops_the_reply() {
    let (address, mailbox) = mailbox::<Reply<u32>>(4);
    let ctx = context("app/cache");
    let mut rx = mailbox.receiver(&ctx).unwrap();
    let handler = tokio::spawn(async move {
        drop(rx.recv().await);
        rx
    });
    let err = address.call(|reply| reply, Duration::from_secs(3600)).await.unwrap_err();
    assert!(matches!(err, CallError::NoReply { .. }), "{err:?}");
    assert_eq!(err.path(), Some("app/cache"));
    assert!(err.to_string().contains("`app/cache`"), "{err}");
    drop(handler.await.unwrap());
}

#[test]
fn capacity_zero_counts_as_one() {
    let (address, _mailbox) = mailbox::<u32>(0);
    assert_eq!(address.capacity(), 1);
    address.try_send(1).unwrap();
    assert!(matches!(address.try_send(2), Err(SendError::Full { message: 2, capacity: 1, .. })));
}

#[test]
fn registry_forgets_a_key_when_its_mailbox_closes_but_not_a_later_registration() {
    let registry: Registry<&'static str, u32> = Registry::new();
    let (_a, first) = mailbox::<u32>(1);
    registry.register("k", &first).unwrap();
    assert!(matches!(registry.register("k", &first), Err(AlreadyRegistered { key: "k" })));
    registry.unregister("k").unwrap();
    let (_b, second) = mailbox::<u32>(1);
    let address = registry.register("k", &second).unwrap();
    // The first mailbox's registration was replaced: closing it leaves the
    // second one alone.
    drop(first);
    assert!(registry.lookup("k").is_some_and(|a| a.same_mailbox(&address)));
    drop(second);
    assert!(registry.is_empty());
}

#[test]
fn errors_name_the_mailbox_and_the_fix() {
    let (address, mailbox) = mailbox::<u32>(1);
    address.try_send(1).unwrap();
    let full = address.try_send(2).unwrap_err();
    assert_eq!(
        full.to_string(),
        "a mailbox that no run has received from yet is full (capacity 1): wait for room with `send` or `send_timeout`, or give it a larger capacity"
    );
    let _rx = mailbox.receiver(&context("app/sink")).unwrap();
    let full = address.try_send(3).unwrap_err();
    assert!(full.to_string().starts_with("the mailbox of `app/sink` is full"), "{full}");
}
