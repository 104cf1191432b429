#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            worker a(group = g) = Idle;
            group g(strategy = one_for_all, heartbeat = 1s);
        }
    };
}
