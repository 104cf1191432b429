#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            supervisr http { worker listener = Idle; }
            wroker b = Idle;
            wrkr c = Idle;
            worker d = Idle;
        }
    };
}
