//! A hundred clients of `/events` on a real listener, one of which never
//! reads (feature `admin`). Alone in its test binary: it reads the
//! process's resident memory, which other tests would move.
#![cfg(feature = "admin")]

mod admin_support;

use std::time::Duration;

use admin_support::{READ, RawClient, Tally, config, http_get, start_served};

/// Resident memory of this process, in kB.
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_event_clients_and_one_that_never_reads() {
    const CYCLES: u32 = 100;
    const STALLED_CYCLES: u32 = 1000;
    let (tree, server) = start_served(config().max_event_streams(100)).await;
    let addr = server.local_addr().unwrap();

    // The one that never reads, with a small receive buffer.
    let mut stalled = RawClient::get(addr, "/events", READ, true).await;
    assert!(stalled.head().await.starts_with("HTTP/1.1 200"));
    let mut readers = Vec::new();
    for _ in 0..99 {
        let mut client = RawClient::get(addr, "/events", READ, false).await;
        assert!(client.head().await.starts_with("HTTP/1.1 200"));
        assert_eq!(client.messages_until(|name, _| name == "tree").await.len(), 1);
        readers.push(client);
    }
    // The 101st is refused, not queued.
    assert!(http_get(addr, "/events").await.starts_with("HTTP/1.1 503"));

    let rss_before = rss_kb();
    let reading: Vec<_> =
        readers.into_iter().map(|mut client| tokio::spawn(async move { client.tally("app/marker").await })).collect();
    for _ in 0..CYCLES {
        tree.terminate_child("churn").await.unwrap();
        tree.restart_child("churn").await.unwrap();
    }
    tree.terminate_child("marker").await.unwrap();
    for task in reading {
        let tally = task.await.unwrap();
        assert_eq!(tally, Tally { churn: 2 * CYCLES as u64, missed: 0, in_order: true, reached_marker: true });
    }
    let grown_kb = rss_kb().saturating_sub(rss_before);
    // A sanity bound: a stream holds no queue of its own (the tree's ring
    // is shared) and hyper's buffers are bounded, whatever a client reads.
    assert!(grown_kb < 16 * 1024, "memory grew by {grown_kb} kB");

    // More events than the ring holds, while only the stalled client is
    // connected: the supervisor is not held up by it.
    for _ in 0..STALLED_CYCLES {
        tree.terminate_child("churn").await.unwrap();
        tree.restart_child("churn").await.unwrap();
    }
    tree.terminate_child("marker2").await.unwrap();
    // It is still served once it reads: what its socket held, then a notice
    // of what it missed if it fell behind the ring, then the newest events.
    // (The kernel's socket buffers may hold all of it: whether it lags here
    // is theirs to say; the in-process test pins the notice.)
    let first = stalled.tally("app/marker").await;
    let second = stalled.tally("app/marker2").await;
    assert!(first.reached_marker && second.reached_marker, "{first:?} {second:?}");
    assert!(first.in_order && second.in_order, "{first:?} {second:?}");
    assert_eq!(first.churn + first.missed, 2 * u64::from(CYCLES), "{first:?}");
    assert_eq!(second.churn + second.missed, 2 * u64::from(STALLED_CYCLES), "{second:?}");
    drop(stalled);
    tokio::time::timeout(Duration::from_secs(10), tree.shutdown()).await.expect("no hang").unwrap();
}
