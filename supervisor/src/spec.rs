//! Specs: what a tree is made of, built by `supervision_tree!` or by hand, and
//! the rules they must keep (`validate`).

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

use crate::error::rules::{self, MaxChildren};
use crate::error::{SpecError, SpecErrors};
use crate::policy::{AutoShutdown, Backoff, Escalation, Policy, Restart, Shutdown, Strategy};
use crate::runtime::run::{ErasedWorker, erase};
use crate::worker::{Context, FnWorker, Worker, WorkerDefaults, WorkerResult};

/// What a child is: a worker or a nested supervisor.
pub(crate) enum Body {
    Worker(Box<dyn ErasedWorker>),
    Supervisor(Box<SupervisorSpec>),
}

impl Clone for Body {
    fn clone(&self) -> Self {
        match self {
            Body::Worker(w) => Body::Worker(w.clone_box()),
            Body::Supervisor(s) => Body::Supervisor(s.clone()),
        }
    }
}

/// One child of a supervisor: a worker or a nested supervisor, with its
/// restart, shutdown, backoff, heartbeat and start options.
///
/// Options left unset come from the worker type's `#[worker(...)]` defaults,
/// then from the library's: permanent, 5 s shutdown for workers (infinity for
/// supervisors), no backoff, no heartbeat, no start timeout.
///
/// ```
/// use std::time::Duration;
/// use supervisor::{ChildSpec, Context, Restart, Shutdown};
///
/// let child = ChildSpec::from_fn("poller", |ctx: Context| async move { ctx.cancelled().await })
///     .restart(Restart::Transient)
///     .shutdown(Duration::from_secs(2))
///     .heartbeat(Duration::from_millis(500));
/// assert_eq!(child.id(), "poller");
/// assert_eq!(child.options().shutdown, Shutdown::Timeout(Duration::from_secs(2)));
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    pub(crate) id: Arc<str>,
    pub(crate) kind: Body,
    /// The options set: the worker type's `#[worker]` defaults, each
    /// replaced by the builder (the tree) when it sets one.
    pub(crate) set: WorkerDefaults,
    pub(crate) group: Option<Arc<str>>,
    pub(crate) significant: bool,
}

/// A child's options as they are in force, from [`ChildSpec::options`]:
/// the defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildOptions {
    /// When the child is restarted (permanent unless set).
    pub restart: Restart,
    /// How it is stopped (5 s for a worker, infinity for a supervisor,
    /// unless set).
    pub shutdown: Shutdown,
    /// The delay before a restart after a failure (none unless set).
    pub backoff: Backoff,
    /// How often it must call `ctx.heartbeat()`, if it must.
    pub heartbeat: Option<Duration>,
    /// How long it may take to call `ctx.ready()`, if it must.
    pub start_timeout: Option<Duration>,
    /// The restart group of its supervisor it belongs to, if any.
    pub group: Option<Arc<str>>,
    /// Whether it is significant for its supervisor's `auto_shutdown`.
    pub significant: bool,
}

impl ChildSpec {
    fn with_kind(id: &str, kind: Body, defaults: WorkerDefaults) -> Self {
        ChildSpec { id: Arc::from(id), kind, set: defaults, group: None, significant: false }
    }

    /// A worker child; its type's `#[worker(...)]` defaults apply until the
    /// options below set something else.
    pub fn worker<W: Worker>(id: impl AsRef<str>, worker: W) -> Self {
        Self::with_kind(id.as_ref(), Body::Worker(erase(worker)), W::DEFAULTS)
    }

    /// A worker made of an async function or closure taking the [`Context`].
    ///
    /// ```
    /// use supervisor::{ChildSpec, Context};
    /// async fn tick(ctx: Context) -> anyhow::Result<()> {
    ///     ctx.cancelled().await;
    ///     Ok(())
    /// }
    /// let child = ChildSpec::from_fn("tick", tick);
    /// # let _ = child;
    /// ```
    pub fn from_fn<F, Fut>(id: impl AsRef<str>, f: F) -> Self
    where
        F: Fn(Context) -> Fut + Clone + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: WorkerResult,
    {
        Self::worker(id, FnWorker(f))
    }

    /// A nested supervisor as a child; its id is the spec's id. Its default
    /// shutdown is `infinity`: it gets all the time its own children need.
    pub fn supervisor(spec: SupervisorSpec) -> Self {
        let id = spec.id.clone();
        let mut child = Self::with_kind(&id, Body::Supervisor(Box::new(spec)), WorkerDefaults::NONE);
        child.id = id;
        child
    }

    /// Sets the restart policy.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.set.restart = Some(restart);
        self
    }

    /// Sets the shutdown policy: a [`Shutdown`], or a `Duration` for
    /// `Shutdown::Timeout`.
    pub fn shutdown(mut self, shutdown: impl Into<Shutdown>) -> Self {
        self.set.shutdown = Some(shutdown.into());
        self
    }

    /// Sets the backoff: a [`Backoff`], or a `Range<Duration>` for
    /// `Backoff::Exponential`.
    pub fn backoff(mut self, backoff: impl Into<Backoff>) -> Self {
        self.set.backoff = Some(backoff.into());
        self
    }

    /// Sets the heartbeat interval: the child must call `ctx.heartbeat()` at
    /// least this often once running.
    pub fn heartbeat(mut self, interval: Duration) -> Self {
        self.set.heartbeat = Some(interval);
        self
    }

    /// Sets the start timeout: the child counts as running once it calls
    /// `ctx.ready()`, and fails to start if it does not within this time.
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.set.start_timeout = Some(timeout);
        self
    }

    /// Puts the child in a restart group of its supervisor.
    pub fn group(mut self, group: impl AsRef<str>) -> Self {
        self.group = Some(Arc::from(group.as_ref()));
        self
    }

    /// Marks the child significant for its supervisor's `auto_shutdown`.
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// The child's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the child is a nested supervisor.
    pub fn is_supervisor(&self) -> bool {
        matches!(self.kind, Body::Supervisor(_))
    }

    /// The child's options as they are in force: set on the spec (in the
    /// tree), else the worker type's `#[worker(...)]` defaults, else the
    /// library's.
    ///
    /// ```
    /// use std::time::Duration;
    /// use supervisor::{ChildSpec, Context, Restart, Shutdown};
    ///
    /// let child = ChildSpec::from_fn("poller", |ctx: Context| async move { ctx.cancelled().await })
    ///     .restart(Restart::Transient);
    /// let options = child.options();
    /// assert_eq!(options.restart, Restart::Transient);
    /// assert_eq!(options.shutdown, Shutdown::Timeout(Duration::from_secs(5)), "the library's default");
    /// ```
    pub fn options(&self) -> ChildOptions {
        ChildOptions {
            restart: self.set.restart.unwrap_or_default(),
            shutdown: self.set.shutdown.unwrap_or(match self.kind {
                Body::Worker(_) => Shutdown::default(),
                Body::Supervisor(_) => Shutdown::Infinity,
            }),
            backoff: self.set.backoff.unwrap_or_default(),
            heartbeat: self.set.heartbeat,
            start_timeout: self.set.start_timeout,
            group: self.group.clone(),
            significant: self.significant,
        }
    }

    /// The rules of one child of the supervisor at `parent`, whose groups
    /// `has_group` knows (and `closest_group` suggests from): the same for
    /// declared children and `start_child`.
    pub(crate) fn validate_as_child(
        &self,
        parent: &str,
        has_group: impl Fn(&str) -> bool,
        closest_group: impl Fn(&str) -> Option<String>,
        auto: AutoShutdown,
        errors: &mut Vec<SpecError>,
    ) {
        if self.id.is_empty() || self.id.contains('/') {
            errors.push(SpecError::InvalidId { supervisor: parent.to_string(), id: self.id.to_string() });
        }
        if let Some(g) = &self.group
            && !has_group(g)
        {
            errors.push(SpecError::UnknownGroup {
                supervisor: parent.to_string(),
                child: join_path(parent, &self.id),
                group: g.to_string(),
                suggestion: closest_group(g),
            });
        }
        self.validate_options(parent, auto, errors);
    }

    fn validate_options(&self, parent: &str, auto: AutoShutdown, errors: &mut Vec<SpecError>) {
        // The path is only built for an error: this runs for every child at
        // every start.
        let path = || join_path(parent, &self.id);
        let zero = |option: &'static str| SpecError::ZeroDuration {
            child: path(),
            option,
            hint: rules::zero_duration_hint(option).unwrap_or_default(),
        };
        if let Some(Backoff::Exponential { min, max }) = self.set.backoff {
            if min.is_zero() {
                errors.push(zero("backoff"));
            }
            if !rules::backoff_in_order(min, max) {
                errors.push(SpecError::BackoffMinAboveMax { child: path(), min, max });
            }
        }
        let options = self.options();
        if options.heartbeat.is_some_and(|d| d.is_zero()) {
            errors.push(zero("heartbeat"));
        }
        if options.start_timeout.is_some_and(|d| d.is_zero()) {
            errors.push(zero("start_timeout"));
        }
        if options.shutdown == Shutdown::Timeout(Duration::ZERO) {
            errors.push(zero("shutdown"));
        }
        if self.significant {
            if options.restart == Restart::Permanent {
                errors.push(SpecError::SignificantPermanent { child: path() });
            }
            if auto == AutoShutdown::Never {
                errors.push(SpecError::SignificantUnderNever { supervisor: parent.to_string(), child: path() });
            }
        }
        if let Body::Supervisor(spec) = &self.kind {
            spec.validate_at(parent, errors);
        }
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ChildSpec");
        d.field("id", &self.id);
        match &self.kind {
            Body::Worker(w) => d.field("worker", &w.type_name()),
            Body::Supervisor(s) => d.field("supervisor", s),
        };
        let options = self.options();
        d.field("restart", &options.restart)
            .field("shutdown", &options.shutdown)
            .field("backoff", &options.backoff)
            .field("heartbeat", &options.heartbeat)
            .field("start_timeout", &options.start_timeout)
            .field("group", &self.group)
            .field("significant", &self.significant)
            .finish()
    }
}

impl From<Duration> for Shutdown {
    fn from(d: Duration) -> Self {
        Shutdown::Timeout(d)
    }
}

impl From<std::ops::Range<Duration>> for Backoff {
    fn from(r: std::ops::Range<Duration>) -> Self {
        Backoff::Exponential { min: r.start, max: r.end }
    }
}

/// A restart group of a supervisor: its members restart together with the
/// group's strategy, against the group's own budget when it sets one.
///
/// ```
/// use std::time::Duration;
/// use supervisor::{GroupSpec, Strategy};
/// let g = GroupSpec::new("pipeline").strategy(Strategy::RestForOne).max_restarts(10).within(Duration::from_secs(1));
/// assert_eq!(g.id(), "pipeline");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSpec {
    pub(crate) id: Arc<str>,
    pub(crate) policy: Policy,
}

impl GroupSpec {
    /// A group with no policy of its own (it inherits the supervisor's).
    pub fn new(id: impl AsRef<str>) -> Self {
        GroupSpec { id: Arc::from(id.as_ref()), policy: Policy::new() }
    }

    /// The group's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The group's own policy layer.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Sets the whole policy layer.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the group's strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.policy.strategy = Some(strategy);
        self
    }

    /// Sets the group's restart budget count.
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.policy.max_restarts = Some(n);
        self
    }

    /// Sets the group's intensity window.
    pub fn within(mut self, within: Duration) -> Self {
        self.policy.within = Some(within);
        self
    }

    /// Sets what the group does when its budget is exceeded.
    pub fn escalation(mut self, escalation: Escalation) -> Self {
        self.policy.escalation = Some(escalation);
        self
    }
}

/// A supervisor: its policy, its children in declaration order, its restart
/// groups and per-child overrides.
///
/// ```
/// use std::time::Duration;
/// use supervisor::{ChildSpec, Context, Strategy, SupervisorSpec};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
/// let spec = SupervisorSpec::new("app")
///     .strategy(Strategy::OneForAll)
///     .max_restarts(5)
///     .within(Duration::from_secs(10))
///     .child(ChildSpec::from_fn("a", |ctx: Context| async move { ctx.cancelled().await }))
///     .child(ChildSpec::from_fn("b", |ctx: Context| async move { ctx.cancelled().await }));
/// spec.validate()?;
/// let tree = spec.start().await?;
/// assert_eq!(tree.count_children().await?.workers, 2);
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SupervisorSpec {
    pub(crate) id: Arc<str>,
    pub(crate) policy: Policy,
    pub(crate) auto_shutdown: AutoShutdown,
    pub(crate) max_children: Option<usize>,
    pub(crate) children: Vec<ChildSpec>,
    pub(crate) groups: Vec<GroupSpec>,
    pub(crate) overrides: Vec<(Arc<str>, Policy)>,
}

impl SupervisorSpec {
    /// An empty supervisor with the default policy: one_for_one, 3 restarts
    /// in 5 s, escalate.
    pub fn new(id: impl AsRef<str>) -> Self {
        SupervisorSpec {
            id: Arc::from(id.as_ref()),
            policy: Policy::new(),
            auto_shutdown: AutoShutdown::Never,
            max_children: None,
            children: Vec::new(),
            groups: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// The supervisor's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The supervisor's own policy layer.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The children, in declaration order.
    pub fn children(&self) -> &[ChildSpec] {
        &self.children
    }

    /// Sets the strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.policy.strategy = Some(strategy);
        self
    }

    /// Sets the most restarts allowed within the window (0: the first restart
    /// escalates).
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.policy.max_restarts = Some(n);
        self
    }

    /// Sets the intensity window.
    pub fn within(mut self, within: Duration) -> Self {
        self.policy.within = Some(within);
        self
    }

    /// Sets what happens when the supervisor's budget is exceeded.
    pub fn escalation(mut self, escalation: Escalation) -> Self {
        self.policy.escalation = Some(escalation);
        self
    }

    /// Sets when significant children end the supervisor.
    pub fn auto_shutdown(mut self, auto: AutoShutdown) -> Self {
        self.auto_shutdown = auto;
        self
    }

    /// Limits the number of children, dynamic ones included.
    pub fn max_children(mut self, max: usize) -> Self {
        self.max_children = Some(max);
        self
    }

    /// Adds a child (declaration order is start order).
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }

    /// Adds a worker child with default options.
    pub fn worker<W: Worker>(self, id: impl AsRef<str>, worker: W) -> Self {
        self.child(ChildSpec::worker(id, worker))
    }

    /// Adds a nested supervisor child with default options.
    pub fn supervisor(self, spec: SupervisorSpec) -> Self {
        self.child(ChildSpec::supervisor(spec))
    }

    /// Declares a restart group.
    pub fn group(mut self, group: GroupSpec) -> Self {
        self.groups.push(group);
        self
    }

    /// Overrides strategy, budget or escalation for one child.
    pub fn override_child(mut self, id: impl AsRef<str>, policy: Policy) -> Self {
        self.overrides.push((Arc::from(id.as_ref()), policy));
        self
    }

    /// Checks every rule of the tree and returns all that it breaks, with the
    /// wording of the compile errors of `supervision_tree!`.
    ///
    /// ```
    /// use supervisor::{ChildSpec, Context, SupervisorSpec};
    /// let idle = |ctx: Context| async move { ctx.cancelled().await };
    /// let spec = SupervisorSpec::new("app")
    ///     .child(ChildSpec::from_fn("a", idle))
    ///     .child(ChildSpec::from_fn("a", idle));
    /// let err = spec.validate().unwrap_err();
    /// assert!(err.to_string().contains("duplicate child id `a` in supervisor `app`"));
    /// ```
    pub fn validate(&self) -> Result<(), SpecErrors> {
        let mut errors = Vec::new();
        self.validate_at("", &mut errors);
        if errors.is_empty() { Ok(()) } else { Err(SpecErrors(errors)) }
    }

    pub(crate) fn validate_at(&self, parent: &str, errors: &mut Vec<SpecError>) {
        let path = join_path(parent, &self.id);
        if self.id.is_empty() || self.id.contains('/') {
            errors.push(SpecError::InvalidId {
                supervisor: if parent.is_empty() { path.clone() } else { parent.to_string() },
                id: self.id.to_string(),
            });
        }
        check_policy(&self.policy, || rules::supervisor_scope(&path), errors);
        if let Some(max) = self.max_children {
            let declared = self.children.len();
            match rules::max_children(max as u64, declared as u64) {
                Some(MaxChildren::Zero) => errors.push(SpecError::ZeroMaxChildren { supervisor: path.clone() }),
                Some(MaxChildren::BelowDeclared) => {
                    errors.push(SpecError::MaxChildrenBelowDeclared { supervisor: path.clone(), max, declared })
                }
                None => {}
            }
        }
        // Sets keep the checks linear: trees with thousands of children are
        // validated at every start.
        let mut ids: HashSet<&str, BuildHasherDefault<IdHasher>> =
            HashSet::with_capacity_and_hasher(self.children.len(), BuildHasherDefault::default());
        let mut used_groups: HashSet<&str> = HashSet::new();
        for child in &self.children {
            if let Some(g) = &child.group {
                used_groups.insert(g);
            }
            if !ids.insert(&child.id) {
                errors.push(SpecError::DuplicateChild { supervisor: path.clone(), id: child.id.to_string() });
            }
            // Groups are few: a scan is cheaper than a set here.
            child.validate_as_child(
                &path,
                |g| self.groups.iter().any(|gs| *gs.id == *g),
                |g| rules::closest(g, self.groups.iter().map(|gs| &*gs.id)).map(str::to_string),
                self.auto_shutdown,
                errors,
            );
        }
        let mut groups: HashSet<&str> = HashSet::with_capacity(self.groups.len());
        // A misspelt group name would also leave its group empty: the one
        // mistake is reported once, as the unknown name.
        let every_named_group_declared = used_groups.iter().all(|g| self.groups.iter().any(|gs| *gs.id == **g));
        for group in &self.groups {
            if !groups.insert(&group.id) {
                errors.push(SpecError::DuplicateGroup { supervisor: path.clone(), group: group.id.to_string() });
                continue;
            }
            if every_named_group_declared && !used_groups.contains(&*group.id) {
                errors.push(SpecError::EmptyGroup { supervisor: path.clone(), group: group.id.to_string() });
            }
            check_policy(&group.policy, || rules::group_scope(&group.id, &path), errors);
        }
        let mut overridden: HashSet<&str> = HashSet::with_capacity(self.overrides.len());
        for (id, policy) in &self.overrides {
            if !overridden.insert(id) {
                errors.push(SpecError::DuplicateOverride { supervisor: path.clone(), id: id.to_string() });
                continue;
            }
            if !ids.contains(&**id) {
                let suggestion = rules::closest(id, self.children.iter().map(|c| &*c.id)).map(str::to_string);
                errors.push(SpecError::UnknownOverride { supervisor: path.clone(), id: id.to_string(), suggestion });
            }
            check_policy(policy, || rules::override_scope(id, &path), errors);
        }
        if self.auto_shutdown != AutoShutdown::Never && !self.children.iter().any(|c| c.significant) {
            errors
                .push(SpecError::AutoShutdownWithoutSignificant { supervisor: path.clone(), auto: self.auto_shutdown });
        }
    }
}

fn check_policy(policy: &Policy, scope: impl Fn() -> String, errors: &mut Vec<SpecError>) {
    if policy.within.is_some_and(|w| w.is_zero()) {
        errors.push(SpecError::ZeroWithin { scope: scope() });
    }
}

impl fmt::Debug for SupervisorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorSpec")
            .field("id", &self.id)
            .field("policy", &self.policy)
            .field("auto_shutdown", &self.auto_shutdown)
            .field("max_children", &self.max_children)
            .field("children", &self.children)
            .field("groups", &self.groups)
            .field("overrides", &self.overrides)
            .finish()
    }
}

/// A child's path as the runtime keeps it, joined in `scratch` (a buffer
/// its caller reuses, so that only the `Arc` is allocated) and copied once
/// into its `Arc`.
pub(crate) fn join_path_arc(scratch: &mut String, parent: &str, id: &str) -> Arc<str> {
    scratch.clear();
    if !parent.is_empty() {
        scratch.push_str(parent);
        scratch.push('/');
    }
    scratch.push_str(id);
    Arc::from(scratch.as_str())
}

pub(crate) fn join_path(parent: &str, id: &str) -> String {
    // Built by hand: `format!` costs more than the rest of a child's start.
    let mut path = String::with_capacity(parent.len() + 1 + id.len());
    if !parent.is_empty() {
        path.push_str(parent);
        path.push('/');
    }
    path.push_str(id);
    path
}

/// Hashes child ids for the duplicate check. The ids come from the program,
/// not from an adversary, so a fast multiply-rotate hash (in the manner of
/// rustc's FxHash) does instead of SipHash.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(26) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        let mut word = [0u8; 8];
        let rest = chunks.remainder();
        word[..rest.len()].copy_from_slice(rest);
        self.0 = (self.0.rotate_left(26) ^ u64::from_le_bytes(word) ^ rest.len() as u64).wrapping_mul(K);
    }

    fn write_u8(&mut self, n: u8) {
        self.0 = (self.0.rotate_left(26) ^ u64::from(n)).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_in_a_reused_buffer() {
        let mut scratch = String::new();
        assert_eq!(&*join_path_arc(&mut scratch, "", "app"), "app");
        assert_eq!(&*join_path_arc(&mut scratch, "app/db", "pool"), "app/db/pool");
        assert_eq!(&*join_path_arc(&mut scratch, "app", "größe"), "app/größe");
        let long = "x".repeat(300);
        assert_eq!(*join_path_arc(&mut scratch, "app", &long), *format!("app/{long}"));
    }

    #[test]
    fn the_id_set_finds_duplicates_among_many() {
        let mut spec = SupervisorSpec::new("app");
        for i in 0..2000 {
            spec = spec.child(ChildSpec::from_fn(format!("w{i}"), |_ctx: Context| async {}));
        }
        assert!(spec.validate().is_ok());
        let spec = spec.child(ChildSpec::from_fn("w1999", |_ctx: Context| async {}));
        let errors = spec.validate().unwrap_err().to_string();
        assert!(errors.contains("w1999"), "{errors}");
    }
}
