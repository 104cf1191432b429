#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            worker my-db = Idle;
            supervisor http-front { worker listener = Idle; }
        }
    };
}
