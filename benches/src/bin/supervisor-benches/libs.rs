//! The libraries in the table: their names, which scenarios each can run,
//! and what a reader must know about how each does a scenario.

/// Every column of the table, in its order.
pub(crate) const LIBS: [Lib; 8] =
    [Lib::Floor, Lib::Token, Lib::Ordered, Lib::Supervisor, Lib::AshFlare, Lib::Rts, Lib::Ractor, Lib::Kameo];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Lib {
    /// The floor: bare tokio as a user writes it, a `JoinSet` whose tasks
    /// are respawned by hand; one token for a cooperative stop.
    Floor,
    /// Bare tokio with a `CancellationToken` per child.
    Token,
    /// Bare tokio that stops children as OTP does: one at a time, last
    /// first, each awaited before the next is cancelled.
    Ordered,
    /// This workspace's `supervisor`.
    Supervisor,
    AshFlare,
    /// rust-tokio-supervisor (library `rust_supervisor`).
    Rts,
    /// ractor with the ractor-supervisor crate's supervisors.
    Ractor,
    Kameo,
}

/// Whether a library takes part in a scenario.
pub(crate) enum Runs {
    Yes,
    /// The column has nothing to measure here (the ordered floor only
    /// stops children); the cell is a dash without a note.
    NotApplicable,
    /// The library cannot do what the scenario asks: the cell says so in
    /// a note instead of a number.
    Cannot(&'static str),
}

/// The competitors' versions, read from the pins in benches/Cargo.toml so
/// that the report cannot name another version than the one measured.
pub(crate) fn pinned(krate: &str) -> &'static str {
    const MANIFEST: &str = include_str!("../../../Cargo.toml");
    MANIFEST
        .lines()
        .find_map(|line| {
            let (name, rest) = line.split_once('=')?;
            if name.trim() != krate {
                return None;
            }
            rest.trim().trim_matches('"').strip_prefix('=')
        })
        .unwrap_or("?")
}

impl Lib {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Lib::Floor => "tokio",
            Lib::Token => "tokio-token",
            Lib::Ordered => "tokio-ordered",
            Lib::Supervisor => "supervisor",
            Lib::AshFlare => "ash-flare",
            Lib::Rts => "rust-tokio-supervisor",
            Lib::Ractor => "ractor",
            Lib::Kameo => "kameo",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Lib> {
        LIBS.into_iter().find(|l| l.key() == key)
    }

    /// The column's heading.
    pub(crate) fn title(self) -> String {
        match self {
            Lib::Floor => "tokio JoinSet (floor)".to_string(),
            Lib::Token => "tokio + a CancellationToken per child".to_string(),
            Lib::Ordered => "tokio + tokens, stopped in order".to_string(),
            Lib::Supervisor => "**supervisor**".to_string(),
            Lib::AshFlare => format!("ash-flare {}", pinned("ash-flare")),
            Lib::Rts => format!("rust-tokio-supervisor {}", pinned("rust-tokio-supervisor")),
            Lib::Ractor => {
                format!("ractor {} + ractor-supervisor {}", pinned("ractor"), pinned("ractor-supervisor"))
            }
            Lib::Kameo => format!("kameo {}", pinned("kameo")),
        }
    }

    pub(crate) fn runs(self, scenario: &str) -> Runs {
        match (self, scenario) {
            (Lib::Ordered, "shutdown_10000" | "one_for_all_100") => Runs::Yes,
            (Lib::Ordered, _) => Runs::NotApplicable,
            (Lib::Rts, "dynamic_10000") => Runs::Cannot(
                "`add_child` records a child manifest (a string) and starts no task: there is no dynamic child to time",
            ),
            _ => Runs::Yes,
        }
    }

    /// What a reader must know about how this library does a scenario
    /// (shown as a note on its first row).
    pub(crate) fn note(self, scenario: &str) -> Option<&'static str> {
        Some(match (self, scenario) {
            (Lib::Floor, "shutdown_10000") => {
                "one token shared by all children, cancelled once, then `join_next` until the set is empty"
            }
            (Lib::Floor, "one_for_all_100") => {
                "one token per generation: cancelled, the set drained, all spawned again"
            }
            (Lib::Floor, "dynamic_10000") => {
                "4 tasks spawn into one `JoinSet` behind a mutex; stopped by `abort_all`, then drained"
            }
            (Lib::Token, "shutdown_10000") => "each child's token cancelled, last first, then all joined",
            (Lib::Ordered, "shutdown_10000") => {
                "cancel one, await its end, then the next, last first; no yield between children"
            }
            (Lib::Supervisor, "restart_one_for_one") => "restarted inside its own task: no supervisor round trip",
            (Lib::Supervisor, "restart_one_for_all") => {
                "restarted by the supervisor: the scope is one_for_all of this one child"
            }
            (Lib::Supervisor, "shutdown_10000") => {
                "strict reverse order, each child cancelled and awaited before the next"
            }
            (Lib::Supervisor, "dynamic_10000") => "dynamic children stop concurrently at shutdown",
            (Lib::AshFlare, "shutdown_10000") => {
                "aborts its children rather than cancelling them (a worker has no stop signal), one at a time in declaration order; timed until its loop has exited"
            }
            (Lib::AshFlare, "one_for_all_100") => "aborts the other children, one at a time in declaration order",
            (Lib::AshFlare, "dynamic_10000") => "`start_child` checks the new id against every child in a list",
            (Lib::Rts, "shutdown_10000") => "`shutdown_tree` advances a state machine and stops no running child",
            (Lib::Rts, "one_for_all_100") => "starts the whole scope again without stopping the old runs",
            (Lib::Rts, "restart_one_for_one") => "its restart budget is declared but not enforced by this version",
            (Lib::Ractor, "shutdown_10000") => {
                "`stop_and_wait` on the supervisor: ractor kills (aborts) the linked children all at once and does not wait for them"
            }
            (Lib::Ractor, "one_for_all_100") => {
                "kills the others, then sleeps 10 ms (hard-coded, to let their names unregister) before starting them again"
            }
            (Lib::Ractor, "restart_one_for_all") => "each one_for_all restart sleeps 10 ms (hard-coded)",
            (Lib::Ractor, "dynamic_10000") => {
                "ractor-supervisor's `DynamicSupervisor::spawn_child`; every child has a name in ractor's global registry"
            }
            (Lib::Kameo, "shutdown_10000") => {
                "stops all children at once (not in order) and waits until their mailboxes close"
            }
            (Lib::Kameo, "one_for_all_100") => {
                "stops the others at once and restarts them in no set order (children are kept in a HashMap)"
            }
            (Lib::Kameo, "dynamic_10000") => "`supervise(..).spawn()` from 4 tasks on a running supervisor actor",
            _ => return None,
        })
    }
}
