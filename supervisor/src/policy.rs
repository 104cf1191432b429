//! The policy vocabulary of a tree: strategies, restart policies, shutdown
//! policies, backoff, escalation and auto-shutdown, with OTP's names.

use std::fmt;
use std::time::Duration;

/// Which children a supervisor restarts when one of them fails.
///
/// ```
/// use supervisor::{Strategy, SupervisorSpec};
/// let spec = SupervisorSpec::new("app").strategy(Strategy::RestForOne);
/// assert_eq!(spec.policy().strategy, Some(Strategy::RestForOne));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Restart only the child that ended (`one_for_one`, the default).
    #[default]
    OneForOne,
    /// Stop every other child of the scope in reverse order, then start the
    /// whole scope again in declaration order (`one_for_all`).
    OneForAll,
    /// Stop the children declared after the one that ended, in reverse order,
    /// then start it and them again in declaration order (`rest_for_one`).
    RestForOne,
}

/// When a child is restarted after it ends.
///
/// ```
/// use supervisor::{ChildSpec, Restart, Context};
/// async fn job(_ctx: Context) {}
/// let child = ChildSpec::from_fn("job", job).restart(Restart::Transient);
/// assert_eq!(child.options().restart, Restart::Transient);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted, whatever the reason it ended (the default).
    #[default]
    Permanent,
    /// Restarted only after a failure (an error, a panic, a missed heartbeat).
    Transient,
    /// Never restarted, not even when a sibling's restart stops it; its spec
    /// is removed from the supervisor once it has ended.
    Temporary,
}

/// How a child is stopped: the time it gets between the cancellation of its
/// token and the abort of its task.
///
/// ```
/// use std::time::Duration;
/// use supervisor::Shutdown;
/// assert_eq!(Shutdown::default(), Shutdown::Timeout(Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Abort the task at once, without a cancellation first (`brutal_kill`).
    BrutalKill,
    /// Cancel the token, wait this long for the task to end, then abort it.
    Timeout(Duration),
    /// Cancel the token and wait for as long as the task takes (`infinity`,
    /// the default for nested supervisors).
    Infinity,
}

impl Default for Shutdown {
    /// Five seconds, OTP's default for workers.
    fn default() -> Self {
        Shutdown::Timeout(Duration::from_secs(5))
    }
}

/// The delay before a failed child is started again.
///
/// With `Exponential { min, max }` the n-th consecutive failure waits
/// `min(max, min * 2^(n-1))`, less a random jitter of up to a quarter, never
/// below `min`. The count resets once the child has run for `max`.
///
/// ```
/// use std::time::Duration;
/// use supervisor::Backoff;
/// let b = Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1));
/// assert_eq!(b.ceiling(1), Duration::from_millis(10));
/// assert_eq!(b.ceiling(3), Duration::from_millis(40));
/// assert_eq!(b.ceiling(30), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backoff {
    /// Restart at once (the default).
    #[default]
    None,
    /// Exponential backoff between `min` and `max`.
    Exponential {
        /// The delay after the first failure.
        min: Duration,
        /// The longest delay, and how long a run must last to reset the count.
        max: Duration,
    },
}

impl Backoff {
    /// Exponential backoff from `min` to `max`.
    pub const fn exponential(min: Duration, max: Duration) -> Self {
        Backoff::Exponential { min, max }
    }

    /// The delay before jitter after `failures` consecutive failures (1 for
    /// the first): `min(max, min * 2^(failures-1))`; zero for `None`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Exponential { min, max } => {
                let shift = failures.saturating_sub(1).min(63);
                let factor = 1u64 << shift;
                let factor = u32::try_from(factor).unwrap_or(u32::MAX);
                min.checked_mul(factor).unwrap_or(max).min(max)
            }
        }
    }

    /// The delay to wait after `failures` consecutive failures, with jitter:
    /// uniform in `[max(min, 3/4 of ceiling), ceiling]`.
    pub fn delay(&self, failures: u32) -> Duration {
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Exponential { min, .. } => {
                let ceiling = self.ceiling(failures);
                let floor = (ceiling - ceiling / 4).max(min).min(ceiling);
                // Saturated: a delay near `Duration::MAX` must not overflow.
                let span = u64::try_from((ceiling - floor).as_nanos()).unwrap_or(u64::MAX);
                if span == 0 { ceiling } else { floor.saturating_add(Duration::from_nanos(fastrand::u64(0..=span))) }
            }
        }
    }

    /// How long a child must run before its failure count resets.
    pub fn reset_after(&self) -> Option<Duration> {
        match *self {
            Backoff::None => None,
            Backoff::Exponential { max, .. } => Some(max),
        }
    }
}

/// What a scope does when its restarts exceed its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Escalation {
    /// The supervisor stops all its children in reverse order and exits with
    /// an error, which its parent handles as a failed child (the default).
    #[default]
    Escalate,
    /// The whole tree shuts down gracefully from the root.
    ShutdownTree,
    /// The scope is stopped and stays stopped, shown as quarantined, while
    /// the rest of the tree runs on; `restart_child` brings it back.
    Quarantine,
}

/// When significant children ending by themselves end their supervisor (OTP's
/// `auto_shutdown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AutoShutdown {
    /// Significant children have no effect (the default).
    #[default]
    Never,
    /// The supervisor ends when any significant child ends by itself.
    AnySignificant,
    /// The supervisor ends when all significant children have ended by
    /// themselves.
    AllSignificant,
}

/// A restart policy layer: a supervisor's own, a group's, or one child's
/// override. Unset fields fall through to the next layer: override, then
/// group, then supervisor, then the defaults (one_for_one, 3 restarts in 5 s,
/// escalate).
///
/// ```
/// use std::time::Duration;
/// use supervisor::{Policy, Strategy};
/// let p = Policy::new().strategy(Strategy::OneForAll).max_restarts(10).within(Duration::from_secs(1));
/// assert!(p.has_budget());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Policy {
    /// The restart strategy of this layer.
    pub strategy: Option<Strategy>,
    /// The most restarts allowed within `within`.
    pub max_restarts: Option<u32>,
    /// The length of the sliding intensity window.
    pub within: Option<Duration>,
    /// What happens when the budget is exceeded.
    pub escalation: Option<Escalation>,
}

impl Policy {
    /// The default number of restarts allowed within the window.
    pub const DEFAULT_MAX_RESTARTS: u32 = 3;
    /// The default length of the intensity window.
    pub const DEFAULT_WITHIN: Duration = Duration::from_secs(5);

    /// A layer that sets nothing.
    pub const fn new() -> Self {
        Policy { strategy: None, max_restarts: None, within: None, escalation: None }
    }

    /// Sets the strategy.
    pub const fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// Sets the most restarts allowed within the window (0: the first restart
    /// escalates).
    pub const fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = Some(max_restarts);
        self
    }

    /// Sets the length of the intensity window (must be greater than zero).
    pub const fn within(mut self, within: Duration) -> Self {
        self.within = Some(within);
        self
    }

    /// Sets what happens when the budget is exceeded.
    pub const fn escalation(mut self, escalation: Escalation) -> Self {
        self.escalation = Some(escalation);
        self
    }

    /// Whether this layer has a restart budget of its own (sets
    /// `max_restarts` or `within`).
    pub const fn has_budget(&self) -> bool {
        self.max_restarts.is_some() || self.within.is_some()
    }

    /// This layer over `below`: each field set here wins.
    pub fn or(self, below: Policy) -> Policy {
        Policy {
            strategy: self.strategy.or(below.strategy),
            max_restarts: self.max_restarts.or(below.max_restarts),
            within: self.within.or(below.within),
            escalation: self.escalation.or(below.escalation),
        }
    }
}

/// The DSL's words: `Display` writes a value as the tree macro reads it.
macro_rules! dsl_words {
    ($ty:ty { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl fmt::Display for $ty {
            /// The DSL word (`one_for_all`, `transient`, ...).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$variant => $word),+ })
            }
        }
    };
}

dsl_words!(Strategy { OneForOne => "one_for_one", OneForAll => "one_for_all", RestForOne => "rest_for_one" });
dsl_words!(Restart { Permanent => "permanent", Transient => "transient", Temporary => "temporary" });
dsl_words!(Escalation { Escalate => "escalate", ShutdownTree => "shutdown_tree", Quarantine => "quarantine" });
dsl_words!(AutoShutdown { Never => "never", AnySignificant => "any_significant", AllSignificant => "all_significant" });
