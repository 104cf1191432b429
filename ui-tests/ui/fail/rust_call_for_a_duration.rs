#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(within = Duration::from_secs(5)) {
            worker a(shutdown = std::time::Duration::from_millis(1500)) = Idle;
        }
    };
}
