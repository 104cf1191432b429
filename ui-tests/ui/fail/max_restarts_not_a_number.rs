#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(max_restarts = many) {
            worker a = Idle;
        }
    };
}
