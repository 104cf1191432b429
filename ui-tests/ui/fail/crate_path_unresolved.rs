#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        crate = sv;
        supervisor app {
            worker a = Idle;
            worker b = Idle;
        }
    };
}
