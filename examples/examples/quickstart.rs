//! A two-level tree: a restart, an escalation from a nested supervisor, and
//! a clean shutdown. Run it with `cargo run --example quickstart`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use supervisor::{Context, EventKind, supervision_tree, worker};

/// Waits for work until asked to stop.
#[worker(shutdown = 1s)]
#[derive(Clone)]
struct Cache;

impl Cache {
    async fn run(self, ctx: Context) {
        println!("  [{}] attempt {} running", ctx.path(), ctx.attempt());
        ctx.cancelled().await;
        println!("  [{}] stopping", ctx.path());
    }
}

/// Fails on its first `fail_times` runs in the whole program, then settles.
#[worker(restart = permanent)]
#[derive(Clone)]
struct Flaky {
    fail_times: u32,
    runs: Arc<AtomicU32>,
}

impl Flaky {
    async fn run(self, ctx: Context) -> Result<(), String> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if run <= self.fail_times {
            println!("  [{}] attempt {} fails", ctx.path(), ctx.attempt());
            return Err(format!("connection refused (run {run})"));
        }
        println!("  [{}] attempt {} is up", ctx.path(), ctx.attempt());
        ctx.cancelled().await;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let ingest_runs = Arc::new(AtomicU32::new(0));
    let spec = supervision_tree! {
        supervisor app(strategy = one_for_one, max_restarts = 5, within = 10s) {
            worker cache = Cache;
            // Fails once: restarted by its supervisor.
            worker feed = Flaky { fail_times: 1, runs: Arc::new(AtomicU32::new(0)) };
            // Fails three times in a row: more than its supervisor allows
            // (2 in 1 s), so `pipeline` gives up and `app` restarts it.
            supervisor pipeline(strategy = one_for_all, max_restarts = 2, within = 1s) {
                worker parse = Cache;
                worker ingest = Flaky { fail_times: 3, runs: ingest_runs.clone() };
            }
        }
    };

    let tree = spec.start().await?;
    let mut events = tree.subscribe();
    println!("started:\n{}", tree.snapshot().await?);

    // Watch until the nested supervisor has escalated and come back.
    let mut escalated = false;
    while let Ok(event) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
        let event = event?;
        match &event.kind {
            EventKind::RestartScheduled { .. } => println!("restart of {}", event.path),
            EventKind::Escalated { error } => {
                println!("escalation: {error}");
                escalated = true;
            }
            EventKind::Started if escalated && &*event.path == "app/pipeline/ingest" => break,
            _ => {}
        }
    }

    println!("after the failures:\n{}", tree.snapshot().await?);
    tree.shutdown().await?;
    println!("shut down cleanly");
    Ok(())
}
