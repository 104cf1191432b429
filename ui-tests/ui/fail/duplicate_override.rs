#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            worker db = Idle;
            override db(strategy = one_for_all);
            override db(max_restarts = 1);
        }
    };
}
