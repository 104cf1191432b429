//! Every item and every option of the grammar, with literal values.
#[path = "../common.rs"]
mod common;
use common::*;
use supervisor::{Backoff, Restart, Shutdown, supervision_tree};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let spec = supervision_tree! {
        supervisor app(
            strategy = one_for_one,
            max_restarts = 0,
            within = 1.5s,
            escalation = escalate,
            auto_shutdown = any_significant,
            max_children = 10,
        ) {
            worker a(restart = permanent, shutdown = 10s, backoff = 10ms..1s, group = flow) = Idle;
            worker b(restart = transient, shutdown = brutal_kill, backoff = none, group = flow) = Idle;
            worker c(restart = temporary, shutdown = infinity, significant) = Job;
            worker d(restart = transient, significant = true, heartbeat = 1h, start_timeout = 2m) = Job;
            worker e(significant = false, shutdown = 250us) = Idle;
            worker r#type(group = bare_group) = Idle;
            supervisor nested(
                strategy = one_for_all,
                max_restarts = 5,
                within = 500ms,
                escalation = shutdown_tree,
                auto_shutdown = never,
                max_children = 1,
                restart = transient,
                shutdown = 2s,
                group = flow,
            ) {
                worker inner = Idle;
            }
            supervisor quiet(escalation = quarantine, auto_shutdown = all_significant) {
                worker once(restart = temporary, significant) = Job;
            }
            supervisor bare {}
            group flow(strategy = rest_for_one, max_restarts = 10, within = 1s, escalation = quarantine);
            group bare_group;
            override a(strategy = one_for_all, max_restarts = 1, within = 2s, escalation = shutdown_tree);
        }
    };
    spec.validate().expect("a tree the macro accepts is valid");

    let children = spec.children();
    assert_eq!(children.len(), 9);
    assert_eq!(
        children[0].options().backoff,
        Backoff::exponential(
            std::time::Duration::from_millis(10),
            std::time::Duration::from_secs(1),
        )
    );
    assert_eq!(children[1].options().shutdown, Shutdown::BrutalKill);
    assert_eq!(children[2].options().shutdown, Shutdown::Infinity);
    assert!(children[3].options().significant);
    assert_eq!(
        children[3].options().heartbeat,
        Some(std::time::Duration::from_secs(3600))
    );
    assert_eq!(
        children[4].options().shutdown,
        Shutdown::Timeout(std::time::Duration::from_micros(250))
    );
    assert_eq!(children[5].id(), "type");
    assert_eq!(children[6].options().restart, Restart::Transient);
    assert!(children[6].is_supervisor());
}
