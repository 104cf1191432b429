#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            worker a(group = ingest) = Idle;
            worker b(group = injest) = Idle;
            group ingest(strategy = rest_for_one);
        }
    };
}
