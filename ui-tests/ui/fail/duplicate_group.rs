#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            worker a(group = pipeline) = Idle;
            group pipeline(strategy = one_for_all);
            group pipeline(strategy = rest_for_one);
        }
    };
}
