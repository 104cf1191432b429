#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::supervision_tree;

fn main() {
    let _ = supervision_tree! {
        supervisor app(auto_shutdown = any_significant) {
            supervisor jobs(significant) {
                worker a = Job;
            }
        }
    };
}
