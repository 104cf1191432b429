//! Testing a tree of your own: the db crashes three times and comes back,
//! the pipeline gives up and is started again, the root stays up. On tokio's
//! paused clock, the half second this takes in the tree passes in a few
//! milliseconds, with no sleep in the test.
//!
//! To copy it next to your tree, put in your dev-dependencies
//! `supervisor = { version = "0.1", features = ["testing"] }` and
//! `tokio = { version = "1", features = ["macros", "rt", "test-util"] }`,
//! and your own workers (or `Script`s standing in for them) in the tree.

use std::time::Duration;

use supervisor::testing::{
    Exit, Recorder, Script, escalated, exited, restart_scheduled, restart_scheduled_between, run_until_idle, started,
    wait_for_state,
};
use supervisor::{ChildState, supervision_tree};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn the_db_recovers_and_the_pipeline_restarts_under_a_root_that_stays_up() -> anyhow::Result<()> {
    // Stand-ins for the real workers: what each of their runs does.
    let db = Script::new().fails_after(ms(1)).times(3).stays_up();
    let ingest = Script::new().fails_after(ms(1)).times(3).stays_up();
    let spec = supervision_tree! {
        supervisor app(max_restarts = 10, within = 1s) {
            worker db(backoff = 10ms..100ms) = db.clone();
            supervisor pipeline(max_restarts = 2, within = 1s) {
                worker ingest = ingest.clone();
                worker parse = Script::new();
            }
        }
    };
    let tree = spec.start().await?;
    let mut events = Recorder::new(&tree);

    // Lets the tree run until nothing has happened for 200ms and no child
    // waits for a restart; gives up after 10s of the tree's time.
    run_until_idle(&tree, ms(200), Duration::from_secs(10)).await?;

    // The db: three crashes, each restarted after its backoff (10ms, then
    // doubling, less up to a quarter of jitter); the fourth run stays up.
    events.assert_in_order(&[
        exited("app/db", Exit::Error).attempt(1),
        restart_scheduled("app/db", ms(10)),
        exited("app/db", Exit::Error).attempt(2),
        restart_scheduled_between("app/db", ms(15), ms(20)),
        exited("app/db", Exit::Error).attempt(3),
        restart_scheduled_between("app/db", ms(30), ms(40)),
        started("app/db").attempt(4),
    ]);
    // The pipeline: ingest's third failure is one more than its budget of 2
    // restarts, so the pipeline gives up; app starts it again, and ingest's
    // fourth run stays up.
    events.assert_in_order(&[
        exited("app/pipeline/ingest", Exit::Error).attempt(3),
        escalated("app/pipeline"),
        exited("app/pipeline", Exit::Supervisor),
        restart_scheduled("app/pipeline", Duration::ZERO),
        started("app/pipeline"),
    ]);
    assert_eq!((db.runs(), ingest.runs()), (4, 4));
    let pipeline = wait_for_state(&tree, "app/pipeline", ChildState::Running, ms(1)).await?;
    assert_eq!(pipeline.restarts, 1);
    assert!(!tree.is_finished(), "the root stays up");
    tree.shutdown().await?;
    Ok(())
}
