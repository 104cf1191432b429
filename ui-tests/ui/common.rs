// Workers shared by the ui cases, included with
// `#[path = "../common.rs"] mod common;`.
#![allow(dead_code)]
use supervisor::{Context, worker};

/// Runs until cancelled.
#[worker]
#[derive(Clone, Default)]
pub struct Idle;
impl Idle {
    pub async fn run(self, ctx: Context) {
        ctx.cancelled().await
    }
}

/// Ends at once; transient by default.
#[worker(restart = transient, shutdown = 1s)]
#[derive(Clone, Default)]
pub struct Job;
impl Job {
    pub async fn run(self, _ctx: Context) -> Result<(), std::io::Error> {
        Ok(())
    }
}
