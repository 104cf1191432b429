//! Every option can take a run-time value in braces.
#[path = "../common.rs"]
mod common;
use common::*;
use std::time::Duration;
use supervisor::{
    AutoShutdown, Backoff, Escalation, Restart, Shutdown, Strategy, supervision_tree,
};

struct Config {
    strategy: Strategy,
    restarts: u32,
    window: Duration,
    grace: Duration,
    group: &'static str,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cfg = Config {
        strategy: Strategy::OneForAll,
        restarts: 7,
        window: Duration::from_secs(2),
        grace: Duration::from_millis(300),
        group: "flow",
    };
    let (min, max) = (Duration::from_millis(5), Duration::from_millis(50));
    let spec = supervision_tree! {
        supervisor app(
            strategy = { cfg.strategy },
            max_restarts = { cfg.restarts },
            within = { cfg.window },
            escalation = { Escalation::Quarantine },
            auto_shutdown = { AutoShutdown::Never },
            max_children = { 4 },
        ) {
            worker a(
                restart = { Restart::Transient },
                shutdown = { cfg.grace },
                backoff = { min..max },
                group = { cfg.group },
                significant = { false },
                heartbeat = { Duration::from_secs(1) },
                start_timeout = { Duration::from_secs(1) },
            ) = Idle;
            worker b(shutdown = { Shutdown::BrutalKill }, backoff = { Backoff::None }) = Idle;
            group flow(strategy = { Strategy::RestForOne }, max_restarts = { 1 }, within = { cfg.window });
            override b(escalation = { Escalation::ShutdownTree });
        }
    };
    spec.validate().expect("valid");
    let a = &spec.children()[0];
    assert_eq!(a.options().restart, Restart::Transient);
    assert_eq!(
        a.options().shutdown,
        Shutdown::Timeout(Duration::from_millis(300))
    );
    assert_eq!(a.options().backoff, Backoff::exponential(min, max));
    assert_eq!(a.options().group.as_deref(), Some("flow"));
    assert_eq!(spec.policy().max_restarts, Some(7));
}
