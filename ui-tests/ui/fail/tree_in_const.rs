#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::{SupervisorSpec, supervision_tree};

const SPEC: SupervisorSpec = supervision_tree! {
    supervisor app(within = 5s) {
        worker a(shutdown = 1s) = Idle;
        worker b = Idle;
    }
};

fn main() {
    let _ = SPEC;
}
