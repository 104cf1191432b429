//! A typed view of the DSL: the tree as parsed ([`Tree`], [`Supervisor`],
//! [`Item`], [`RawOption`]), the vocabulary of options ([`KEYS`], the enum
//! words), and the checked options that `validate` hands to `expand`
//! ([`Options`]).

use std::time::Duration;

use proc_macro2::{Group as TokenGroup, Span, TokenStream};
use syn::{Expr, Ident, Lit, ext::IdentExt};

/// A whole `supervision_tree!` invocation.
pub(crate) struct Tree {
    /// `crate = PATH;`: where the `supervisor` crate is, when it is not
    /// `::supervisor`.
    pub(crate) krate: Option<syn::Path>,
    /// The root, if one could be read.
    pub(crate) root: Option<Supervisor>,
}

/// `supervisor ID (OPTIONS)? { ITEM* }`, the root or a nested one.
pub(crate) struct Supervisor {
    pub(crate) id: Ident,
    pub(crate) options: RawOptions,
    pub(crate) items: Vec<Item>,
    /// An item could not be read: rules that need every item (unknown
    /// groups, empty groups, unknown overrides, auto_shutdown) stay quiet.
    pub(crate) incomplete: bool,
}

/// One item in a supervisor's braces.
pub(crate) enum Item {
    /// `worker ID (OPTIONS)? = EXPR;`
    Worker(Worker),
    /// A nested `supervisor ID (OPTIONS)? { ... }`.
    Supervisor(Supervisor),
    /// `group ID (OPTIONS)?;`
    Group(Decl),
    /// `override ID (OPTIONS)?;`
    Override(Decl),
}

/// `worker ID (OPTIONS)? = EXPR;`
pub(crate) struct Worker {
    pub(crate) id: Ident,
    pub(crate) options: RawOptions,
    /// `None` when the value could not be read (its error is reported).
    pub(crate) expr: Option<Expr>,
}

/// `group ID (OPTIONS)?;` or `override ID (OPTIONS)?;`
pub(crate) struct Decl {
    pub(crate) id: Ident,
    pub(crate) options: RawOptions,
}

/// The options of one item, as written.
#[derive(Default)]
pub(crate) struct RawOptions {
    pub(crate) list: Vec<RawOption>,
    /// An option could not be read at all (not even its key): any key may
    /// be missing, so rules that depend on a key's absence stay quiet.
    pub(crate) incomplete: bool,
}

/// `key`, `key = value`, as written.
pub(crate) struct RawOption {
    pub(crate) key: Ident,
    pub(crate) value: RawValue,
}

/// An option's value as written, before its key gives it a meaning.
pub(crate) enum RawValue {
    /// No value: `significant`.
    Flag,
    /// A word: `one_for_all`, `brutal_kill`, `true`, a group's name.
    Word(Ident),
    /// A literal: `3`, `5s`, `1.5s`.
    Lit(Lit),
    /// `MIN..MAX`.
    Range(Lit, Lit),
    /// `{ expr }`, evaluated at run time.
    Code(TokenGroup),
    /// Rust written where the DSL takes a word or a literal:
    /// `Strategy::OneForAll`, `Duration::from_secs(5)`.
    Rust(TokenStream),
    /// A value whose syntax error is reported already.
    Broken(Span),
}

impl RawValue {
    pub(crate) fn span(&self, key: &Ident) -> Span {
        match self {
            RawValue::Flag => key.span(),
            RawValue::Word(w) => w.span(),
            RawValue::Lit(l) => l.span(),
            RawValue::Range(a, b) => a.span().join(b.span()).unwrap_or_else(|| a.span()),
            RawValue::Code(g) => g.span(),
            RawValue::Rust(tokens) => tokens.clone().into_iter().next().map_or_else(|| key.span(), |t| t.span()),
            RawValue::Broken(span) => *span,
        }
    }
}

/// The name of an identifier as the user means it (`r#type` is `type`).
pub(crate) fn name(id: &Ident) -> String {
    id.unraw().to_string()
}

/// Where an option is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Root,
    Nested,
    Worker,
    Group,
    Override,
    /// `#[worker(...)]` on a struct.
    WorkerType,
}

/// What kind of value a key takes.
#[derive(Clone, Copy)]
pub(crate) enum ValueKind {
    Choice(&'static ChoiceSet),
    U32,
    Usize,
    Duration,
    Shutdown,
    Backoff,
    GroupName,
    Bool,
}

/// One option key: its value and where it may be written.
pub(crate) struct KeyDef {
    pub(crate) name: &'static str,
    pub(crate) kind: ValueKind,
    pub(crate) places: &'static [Place],
    /// Where it goes, for the message when it is written elsewhere.
    pub(crate) goes_on: &'static str,
}

/// The words of one enum of the runtime, with their variants.
pub(crate) struct ChoiceSet {
    /// The runtime type, `Strategy`.
    pub(crate) ty: &'static str,
    /// What the value is called in messages.
    pub(crate) what: &'static str,
    /// (word, variant)
    pub(crate) choices: &'static [(&'static str, &'static str)],
}

impl ChoiceSet {
    pub(crate) fn words(&self) -> Vec<&'static str> {
        self.choices.iter().map(|(w, _)| *w).collect()
    }
}

pub(crate) static STRATEGY: ChoiceSet = ChoiceSet {
    ty: "Strategy",
    what: "strategy",
    choices: &[("one_for_one", "OneForOne"), ("one_for_all", "OneForAll"), ("rest_for_one", "RestForOne")],
};
pub(crate) static RESTART: ChoiceSet = ChoiceSet {
    ty: "Restart",
    what: "restart policy",
    choices: &[("permanent", "Permanent"), ("transient", "Transient"), ("temporary", "Temporary")],
};
pub(crate) static ESCALATION: ChoiceSet = ChoiceSet {
    ty: "Escalation",
    what: "escalation",
    choices: &[("escalate", "Escalate"), ("shutdown_tree", "ShutdownTree"), ("quarantine", "Quarantine")],
};
pub(crate) static AUTO_SHUTDOWN: ChoiceSet = ChoiceSet {
    ty: "AutoShutdown",
    what: "auto_shutdown",
    choices: &[("never", "Never"), ("any_significant", "AnySignificant"), ("all_significant", "AllSignificant")],
};
/// The words `shutdown` takes besides a duration.
pub(crate) static SHUTDOWN_WORDS: ChoiceSet =
    ChoiceSet { ty: "Shutdown", what: "shutdown", choices: &[("brutal_kill", "BrutalKill"), ("infinity", "Infinity")] };

use Place::{Group as G, Nested as N, Override as O, Root as R, Worker as W, WorkerType as T};

/// Every option key, in the order the docs list them.
pub(crate) static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "strategy",
        kind: ValueKind::Choice(&STRATEGY),
        places: &[R, N, G, O],
        goes_on: "supervisors, groups and overrides",
    },
    KeyDef {
        name: "max_restarts",
        kind: ValueKind::U32,
        places: &[R, N, G, O],
        goes_on: "supervisors, groups and overrides",
    },
    KeyDef {
        name: "within",
        kind: ValueKind::Duration,
        places: &[R, N, G, O],
        goes_on: "supervisors, groups and overrides",
    },
    KeyDef {
        name: "escalation",
        kind: ValueKind::Choice(&ESCALATION),
        places: &[R, N, G, O],
        goes_on: "supervisors, groups and overrides",
    },
    KeyDef { name: "auto_shutdown", kind: ValueKind::Choice(&AUTO_SHUTDOWN), places: &[R, N], goes_on: "supervisors" },
    KeyDef { name: "max_children", kind: ValueKind::Usize, places: &[R, N], goes_on: "supervisors" },
    KeyDef {
        name: "restart",
        kind: ValueKind::Choice(&RESTART),
        places: &[N, W, T],
        goes_on: "workers and nested supervisors",
    },
    KeyDef {
        name: "shutdown",
        kind: ValueKind::Shutdown,
        places: &[N, W, T],
        goes_on: "workers and nested supervisors",
    },
    KeyDef { name: "backoff", kind: ValueKind::Backoff, places: &[W, T], goes_on: "workers" },
    KeyDef { name: "group", kind: ValueKind::GroupName, places: &[N, W], goes_on: "workers and nested supervisors" },
    KeyDef { name: "significant", kind: ValueKind::Bool, places: &[N, W], goes_on: "workers and nested supervisors" },
    KeyDef { name: "heartbeat", kind: ValueKind::Duration, places: &[W, T], goes_on: "workers" },
    KeyDef { name: "start_timeout", kind: ValueKind::Duration, places: &[W, T], goes_on: "workers" },
];

/// The keys that configure a `SupervisorSpec`; the others configure the
/// `ChildSpec` around it.
pub(crate) const SUPERVISOR_KEYS: &[&str] =
    &["strategy", "max_restarts", "within", "escalation", "auto_shutdown", "max_children"];

impl Place {
    /// The keys allowed here.
    pub(crate) fn keys(self) -> Vec<&'static str> {
        KEYS.iter().filter(|k| k.places.contains(&self)).map(|k| k.name).collect()
    }
}

/// A checked option value.
#[derive(Clone)]
pub(crate) enum Setting {
    /// An enum word: (runtime type, variant).
    Choice(&'static str, &'static str),
    Int(u64),
    Duration(Duration),
    /// `shutdown = brutal_kill | infinity` (a duration is `Duration`).
    ShutdownWord(&'static str),
    BackoffNone,
    Backoff(Duration, Duration),
    Group(String),
    Bool(bool),
    Code(TokenGroup),
}

/// A checked option.
#[derive(Clone)]
pub(crate) struct Opt {
    pub(crate) key: &'static str,
    pub(crate) key_span: Span,
    pub(crate) value_span: Span,
    pub(crate) setting: Setting,
}

/// The checked options of one item. Options with an error are left out and
/// their keys remembered, so that rules depending on them stay quiet rather
/// than cascade.
#[derive(Default, Clone)]
pub(crate) struct Options {
    pub(crate) list: Vec<Opt>,
    pub(crate) broken: Vec<&'static str>,
    /// An option could not be read at all: every key counts as broken.
    pub(crate) incomplete: bool,
}

impl Options {
    pub(crate) fn get(&self, key: &str) -> Option<&Opt> {
        self.list.iter().find(|o| o.key == key)
    }

    /// Whether `key` was written but could not be understood (or may have
    /// been, in a list that could not be read).
    pub(crate) fn is_broken(&self, key: &str) -> bool {
        self.incomplete || self.broken.contains(&key)
    }

    /// Whether the option is the literal enum word (not a run-time value).
    pub(crate) fn is_choice(&self, key: &str, variant: &str) -> bool {
        matches!(self.get(key), Some(Opt { setting: Setting::Choice(_, v), .. }) if *v == variant)
    }
}

/// A supervisor whose rules hold (or whose errors have been reported).
pub(crate) struct CheckedSupervisor {
    pub(crate) id: String,
    pub(crate) span: Span,
    pub(crate) options: Options,
    pub(crate) children: Vec<CheckedChild>,
    pub(crate) groups: Vec<CheckedDecl>,
    pub(crate) overrides: Vec<CheckedDecl>,
}

pub(crate) struct CheckedChild {
    pub(crate) id: String,
    pub(crate) span: Span,
    pub(crate) options: Options,
    pub(crate) kind: ChildKind,
}

pub(crate) enum ChildKind {
    /// `None` when its value could not be read: it is checked, not expanded.
    Worker(Option<Box<Expr>>),
    Supervisor(Box<CheckedSupervisor>),
}

pub(crate) struct CheckedDecl {
    pub(crate) id: String,
    pub(crate) span: Span,
    pub(crate) options: Options,
}
