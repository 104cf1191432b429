//! Backoff and heartbeats, observed on tokio's paused clock.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use supervisor::{Backoff, ChildSpec, ChildState, Context, EventKind, ExitReason, Strategy, SupervisorSpec};
use tokio::time::Instant;

/// A child that logs the instant of every start and then does
/// `script(attempt)`: fail at once, or run for a while and fail, or idle.
fn timed(starts: &Arc<Mutex<Vec<Instant>>>, script: fn(u32) -> Option<Duration>) -> ChildSpec {
    let starts = starts.clone();
    ChildSpec::from_fn("flaky", move |ctx: Context| {
        let starts = starts.clone();
        async move {
            starts.lock().unwrap().push(Instant::now());
            match script(ctx.attempt()) {
                Some(run) => {
                    tokio::time::sleep(run).await;
                    Err("flaky failed")
                }
                None => {
                    ctx.cancelled().await;
                    Ok(())
                }
            }
        }
    })
}

fn gaps(starts: &[Instant]) -> Vec<Duration> {
    starts.windows(2).map(|w| w[1] - w[0]).collect()
}

/// `[floor, ceiling]` of the n-th backoff delay for 100 ms..1 s.
fn bounds(n: u32) -> (Duration, Duration) {
    let ceiling = ms(100 * (1u64 << (n - 1).min(20))).min(secs(1));
    let floor = (ceiling - ceiling / 4).max(ms(100));
    (floor, ceiling)
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_double_with_jitter_and_never_go_below_min() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let tree = SupervisorSpec::new("app")
        .max_restarts(1000)
        .within(secs(60))
        .child(timed(&starts, |n| if n <= 10 { Some(Duration::ZERO) } else { None }).backoff(ms(100)..secs(1)))
        .start()
        .await
        .unwrap();
    settle_for(secs(20)).await;
    let gaps = gaps(&starts.lock().unwrap());
    assert_eq!(gaps.len(), 10);
    for (i, gap) in gaps.iter().enumerate() {
        let (floor, ceiling) = bounds(i as u32 + 1);
        assert!(floor <= *gap && *gap <= ceiling, "delay {} was {gap:?}, not in [{floor:?}, {ceiling:?}]", i + 1);
    }
    assert_eq!(gaps[0], ms(100), "the first delay is min: jitter never goes below it");
    assert!(gaps[1..].iter().enumerate().any(|(i, g)| *g < bounds(i as u32 + 2).1), "no jitter at all: {gaps:?}");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn backoff_resets_after_a_run_of_at_least_max() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let tree = SupervisorSpec::new("app")
        .max_restarts(1000)
        .within(secs(60))
        .child(
            timed(&starts, |n| match n {
                1..=3 => Some(Duration::ZERO),
                4 => Some(secs(1)),
                5 => Some(Duration::ZERO),
                _ => None,
            })
            .backoff(ms(100)..secs(1)),
        )
        .start()
        .await
        .unwrap();
    settle_for(secs(10)).await;
    let gaps = gaps(&starts.lock().unwrap());
    assert_eq!(gaps.len(), 5, "{gaps:?}");
    assert_eq!(gaps[3], secs(1) + ms(100), "after a run of 1 s the count restarts: 100 ms");
    let (floor, ceiling) = bounds(2);
    assert!(floor <= gaps[4] && gaps[4] <= ceiling, "{gaps:?}");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn backoff_keeps_growing_after_a_run_shorter_than_max() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let tree = SupervisorSpec::new("app")
        .max_restarts(1000)
        .within(secs(60))
        .child(
            timed(&starts, |n| match n {
                1..=3 => Some(Duration::ZERO),
                4 => Some(ms(999)),
                _ => None,
            })
            .backoff(ms(100)..secs(1)),
        )
        .start()
        .await
        .unwrap();
    settle_for(secs(10)).await;
    let gaps = gaps(&starts.lock().unwrap());
    assert_eq!(gaps.len(), 4, "{gaps:?}");
    let (floor, ceiling) = bounds(4);
    let delay = gaps[3] - ms(999);
    assert!(floor <= delay && delay <= ceiling, "{delay:?}");
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn backoff_none_restarts_at_once() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let tree = SupervisorSpec::new("app")
        .child(timed(&starts, |n| if n <= 3 { Some(Duration::ZERO) } else { None }).backoff(Backoff::None))
        .start()
        .await
        .unwrap();
    settle().await;
    let gaps = gaps(&starts.lock().unwrap());
    assert_eq!(gaps, [Duration::ZERO; 3]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_during_a_backoff_returns_promptly_and_starts_nothing() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(always(&probe, "flaky", Act::ErrAfter(ms(5))).backoff(secs(10)..secs(60)))
        .start()
        .await
        .unwrap();
    settle_for(ms(100)).await;
    assert_eq!(tree.which_children().await.unwrap()[0].state, ChildState::Restarting);
    let t0 = Instant::now();
    tree.shutdown().await.unwrap();
    assert_eq!(t0.elapsed(), Duration::ZERO);
    settle_for(secs(120)).await;
    assert_eq!(probe.runs("flaky"), 1);
    assert_eq!(probe.live(), 0);
}

#[tokio::test(start_paused = true)]
async fn commands_are_served_while_a_restart_waits() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .strategy(Strategy::OneForAll)
        .child(idle(&probe, "a"))
        .child(first_then_idle(&probe, "flaky", Act::ErrAfter(ms(5))).backoff(secs(10)..secs(60)))
        .start()
        .await
        .unwrap();
    settle_for(ms(100)).await;
    let t0 = Instant::now();
    let states: Vec<ChildState> = tree.which_children().await.unwrap().into_iter().map(|c| c.state).collect();
    assert_eq!(states, [ChildState::Restarting, ChildState::Restarting]);
    tree.start_child(idle(&probe, "dyn")).await.unwrap();
    tree.terminate_child("dyn").await.unwrap();
    assert_eq!(t0.elapsed(), Duration::ZERO, "commands waited for the backoff");
    assert_eq!(probe.live(), 0);
    settle_for(secs(10)).await;
    assert_eq!((probe.runs("a"), probe.runs("flaky")), (2, 2));
    let states: Vec<ChildState> = tree.which_children().await.unwrap().into_iter().map(|c| c.state).collect();
    assert_eq!(states, [ChildState::Running, ChildState::Running, ChildState::Stopped]);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn silent_child_is_restarted_after_its_heartbeat_interval() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(first_then_idle(&probe, "mute", Act::Idle).heartbeat(ms(100)))
        .start()
        .await
        .unwrap();
    let mut events = tree.subscribe();
    settle_for(ms(90)).await;
    assert_eq!(probe.runs("mute"), 1);
    settle_for(ms(20)).await;
    assert_eq!(probe.runs("mute"), 2);
    let info = &tree.which_children().await.unwrap()[0];
    assert_eq!(info.last_exit, Some(ExitReason::HeartbeatMissed(ms(100))));
    assert_eq!(info.restarts, 1);
    let missed = drain(&mut events)
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::HeartbeatMissed { interval } if interval == ms(100)))
        .count();
    assert_eq!(missed, 1);
    assert_eq!(probe.overlaps(), 0);
    tree.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn beating_child_is_not_restarted() {
    let probe = Probe::new();
    let tree = SupervisorSpec::new("app")
        .child(always(&probe, "alive", Act::Beat(ms(60))).heartbeat(ms(100)))
        .start()
        .await
        .unwrap();
    settle_for(secs(5)).await;
    assert_eq!(probe.runs("alive"), 1);
    assert_eq!(tree.which_children().await.unwrap()[0].restarts, 0);
    tree.shutdown().await.unwrap();
}
