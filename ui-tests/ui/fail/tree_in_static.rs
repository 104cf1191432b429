#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::{SupervisorSpec, supervision_tree};

static SPEC: SupervisorSpec = supervision_tree! {
    supervisor app {
        worker a = Idle;
    }
};

fn main() {
    let _ = &SPEC;
}
