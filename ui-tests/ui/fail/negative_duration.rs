#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(within = -5s) {
            worker a(backoff = -10ms..1s) = Idle;
        }
    };
}
