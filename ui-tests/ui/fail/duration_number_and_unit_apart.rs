#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(within = 5 s) {
            worker a(backoff = 10 ms..1s) = Idle;
        }
    };
}
