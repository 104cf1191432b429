#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(strategy = Strategy::OneForAll) {
            worker a(restart = supervisor::Restart::Transient) = Idle;
        }
    };
}
