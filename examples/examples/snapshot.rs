//! Prints the tree's snapshot after a few failures: states, attempts,
//! restart counts and last exits. Ends by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use supervisor::{Context, supervision_tree, worker};

#[worker]
#[derive(Clone)]
struct Idle;

impl Idle {
    async fn run(self, ctx: Context) {
        ctx.cancelled().await
    }
}

/// Panics on its first `times` runs.
#[worker]
#[derive(Clone)]
struct Crashy {
    times: u32,
    runs: Arc<AtomicU32>,
}

impl Crashy {
    async fn run(self, ctx: Context) {
        if self.runs.fetch_add(1, Ordering::SeqCst) < self.times {
            panic!("index out of bounds: the len is 0 but the index is 3");
        }
        ctx.cancelled().await
    }
}

#[worker(restart = transient)]
#[derive(Clone)]
struct Job;

impl Job {
    async fn run(self, _ctx: Context) -> Result<(), std::io::Error> {
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Keep the panics' own report short: the snapshot shows them.
    std::panic::set_hook(Box::new(|_| {}));
    let spec = supervision_tree! {
        supervisor app(max_restarts = 10, within = 5s) {
            worker db = Idle;
            worker migrate = Job;
            supervisor http(strategy = rest_for_one) {
                worker listener = Crashy { times: 2, runs: Arc::new(AtomicU32::new(0)) };
                worker router = Idle;
            }
            worker metrics = Crashy { times: 1, runs: Arc::new(AtomicU32::new(0)) };
        }
    };
    let tree = spec.start().await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let snapshot = tree.snapshot().await?;
    println!("{snapshot}");
    tree.shutdown().await?;
    Ok(())
}
