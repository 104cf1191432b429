#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            worker db = Idle;
            override queue(strategy = one_for_all);
        }
    };
}
