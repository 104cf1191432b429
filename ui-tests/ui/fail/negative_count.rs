#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(max_restarts = -1, max_children = -2) {
            worker a = Idle;
        }
    };
}
