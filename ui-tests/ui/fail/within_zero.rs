#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            worker a(group = g) = Idle;
            group g(max_restarts = 5, within = 0s);
        }
    };
}
