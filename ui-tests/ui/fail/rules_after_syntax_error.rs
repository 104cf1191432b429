#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            supervisor io {
                worker a = ;
                worker b(group = g) = Idle;
                group g;
            }
            supervisor http(max_children = 1) {
                worker listener = Idle;
                worker router = Idle;
            }
            override htp(strategy = one_for_all);
        }
    };
}
