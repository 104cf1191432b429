//! A tree from the macro starts, runs its children and shuts down.
#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let spec = supervision_tree! {
        supervisor app(strategy = one_for_one, max_restarts = 2, within = 1s) {
            worker source(group = flow) = Idle;
            worker sink(group = flow, backoff = 5ms..50ms) = Idle;
            worker once = Job;
            supervisor http(strategy = rest_for_one) {
                worker listener(shutdown = 100ms) = Idle;
            }
            group flow(strategy = one_for_all);
        }
    };
    let tree = spec.start().await.expect("tree starts");
    let ids: Vec<String> = tree
        .which_children()
        .await
        .expect("running")
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(
        ids.contains(&"source".to_string()) && ids.contains(&"http".to_string()),
        "{ids:?}"
    );
    tree.shutdown().await.expect("tree shuts down");
}
