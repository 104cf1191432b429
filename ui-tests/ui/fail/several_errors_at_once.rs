#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(stratgy = one_for_all, within = 0s) {
            worker a(group = pipelin) = Idle;
            worker a(heartbeat = 5) = Idle;
            group pipeline(strategy = one_for_all);
            override b(strategy = rest_for_one);
        }
    };
}
