#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app {
            worker a(heartbeat = 500ns) = Idle;
            worker b(start_timeout = 3000000ns) = Idle;
        }
    };
}
