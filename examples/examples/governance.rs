//! Restart governance at work: a restart group, an exponential backoff and a
//! heartbeat that catches a hung worker. Ends by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use supervisor::{Context, EventKind, supervision_tree, worker};

/// Reads, and fails on its first two runs.
#[worker]
#[derive(Clone)]
struct Source {
    runs: Arc<AtomicU32>,
}

impl Source {
    async fn run(self, ctx: Context) -> anyhow::Result<()> {
        if self.runs.fetch_add(1, Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            anyhow::bail!("upstream closed the connection");
        }
        ctx.cancelled().await;
        Ok(())
    }
}

/// Consumes what the source reads; restarted with it (same group).
#[worker]
#[derive(Clone)]
struct Sink;

impl Sink {
    async fn run(self, ctx: Context) {
        ctx.cancelled().await
    }
}

/// Beats twice, then hangs on its first run without noticing.
#[worker]
#[derive(Clone)]
struct Poller {
    runs: Arc<AtomicU32>,
}

impl Poller {
    async fn run(self, ctx: Context) {
        let first = self.runs.fetch_add(1, Ordering::SeqCst) == 0;
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            ctx.heartbeat();
        }
        if first {
            // Stuck: no more heartbeats.
            ctx.cancelled().await;
            return;
        }
        loop {
            tokio::select! {
                _ = ctx.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(20)) => ctx.heartbeat(),
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let poller_runs = Arc::new(AtomicU32::new(0));
    let spec = supervision_tree! {
        supervisor ingest(max_restarts = 10, within = 10s) {
            worker source(group = flow, backoff = 50ms..400ms) = Source { runs: Arc::new(AtomicU32::new(0)) };
            worker sink(group = flow) = Sink;
            worker audit = Sink;
            worker poller(heartbeat = 100ms, shutdown = 50ms) = Poller { runs: poller_runs.clone() };
            group flow(strategy = one_for_all, max_restarts = 5, within = 5s);
        }
    };
    let tree = spec.start().await?;
    let mut events = tree.subscribe();
    let started = tokio::time::Instant::now();
    let mut heartbeat_missed = false;
    let mut source_restarts = 0;
    while let Ok(event) = tokio::time::timeout(Duration::from_secs(2), events.recv()).await {
        let event = event?;
        let at = started.elapsed().as_millis();
        match &event.kind {
            EventKind::Exited { reason } => println!("{at:>5} ms  {} {reason}", event.path),
            EventKind::RestartScheduled { delay } => {
                println!("{at:>5} ms  {} restarts in {delay:?}", event.path);
                if &*event.path == "ingest/source" {
                    source_restarts += 1;
                }
            }
            EventKind::HeartbeatMissed { interval } => {
                println!("{at:>5} ms  {} missed its {interval:?} heartbeat", event.path);
                heartbeat_missed = true;
            }
            EventKind::Started => println!("{at:>5} ms  {} started (attempt {})", event.path, event.attempt),
            _ => {}
        }
        if heartbeat_missed && source_restarts == 2 && poller_runs.load(Ordering::SeqCst) == 2 {
            break;
        }
    }
    println!("\n{}", tree.snapshot().await?);
    anyhow::ensure!(heartbeat_missed, "the hung poller was not caught");
    anyhow::ensure!(source_restarts == 2, "the source restarted {source_restarts} times, expected 2");
    tree.shutdown().await?;
    Ok(())
}
