//! Every compile-time rule of the DSL, one small function each. Errors are
//! spanned on the token at fault and gathered, so that one compilation
//! reports all of them; the wording is that of the runtime's `SpecError`.

use std::time::Duration;

use proc_macro2::Span;
use syn::{Error, Lit};

use crate::ast::{
    self, CheckedChild, CheckedDecl, CheckedSupervisor, ChildKind, ChoiceSet, KEYS, KeyDef, Opt, Options, Place,
    RawOption, RawValue, SHUTDOWN_WORDS, Setting, ValueKind, name,
};
use crate::duration::{self, show};
use crate::suggest::{did_you_mean, one_of};

/// Who an option belongs to, for messages.
pub(crate) enum Owner<'a> {
    /// A supervisor, by path.
    Supervisor { path: &'a str, root: bool },
    /// A worker of a tree, by path.
    Worker { path: &'a str },
    /// A group of a supervisor.
    Group { id: &'a str, supervisor: &'a str },
    /// An override in a supervisor.
    Override { id: &'a str, supervisor: &'a str },
    /// A struct under `#[worker]`.
    WorkerType { name: &'a str },
}

impl Owner<'_> {
    fn place(&self) -> Place {
        match self {
            Owner::Supervisor { root: true, .. } => Place::Root,
            Owner::Supervisor { root: false, .. } => Place::Nested,
            Owner::Worker { .. } => Place::Worker,
            Owner::Group { .. } => Place::Group,
            Owner::Override { .. } => Place::Override,
            Owner::WorkerType { .. } => Place::WorkerType,
        }
    }

    /// "the root supervisor `app`", "worker `app/db`", ...
    fn describe(&self) -> String {
        match self {
            Owner::Supervisor { path, root: true } => format!("the root supervisor `{path}`"),
            Owner::Supervisor { path, root: false } => format!("supervisor `{path}`"),
            Owner::Worker { path } => format!("worker `{path}`"),
            Owner::Group { id, supervisor } => format!("group `{id}` of supervisor `{supervisor}`"),
            Owner::Override { id, supervisor } => {
                format!("the override of `{id}` in supervisor `{supervisor}`")
            }
            Owner::WorkerType { name } => format!("`#[worker]` of `{name}`"),
        }
    }

    /// The child an option of this owner configures: "child `app/db`".
    fn child(&self) -> String {
        match self {
            Owner::Supervisor { path, .. } | Owner::Worker { path } => format!("child `{path}`"),
            Owner::WorkerType { name } => format!("worker type `{name}`"),
            Owner::Group { .. } | Owner::Override { .. } => self.describe(),
        }
    }

    /// The restart scope an option of this owner configures.
    fn scope(&self) -> String {
        match self {
            Owner::Supervisor { path, .. } => format!("supervisor `{path}`"),
            _ => self.describe(),
        }
    }
}

/// Checks a whole tree; returns it with its checked options, and the errors.
pub(crate) fn tree(root: ast::Supervisor) -> (CheckedSupervisor, Vec<Error>) {
    let mut errors = Vec::new();
    let checked = supervisor(root, None, &mut errors);
    (checked, errors)
}

fn join(parent: Option<&str>, id: &str) -> String {
    match parent {
        Some(p) => format!("{p}/{id}"),
        None => id.to_string(),
    }
}

fn supervisor(sup: ast::Supervisor, parent: Option<&str>, errors: &mut Vec<Error>) -> CheckedSupervisor {
    let id = name(&sup.id);
    let path = join(parent, &id);
    let owner = Owner::Supervisor { path: &path, root: parent.is_none() };
    let own_options = options(&owner, sup.options, errors);
    let mut children = Vec::new();
    let mut groups = Vec::new();
    let mut overrides = Vec::new();
    for item in sup.items {
        match item {
            ast::Item::Worker(w) => {
                let child_id = name(&w.id);
                let child_path = join(Some(&path), &child_id);
                let options = options(&Owner::Worker { path: &child_path }, w.options, errors);
                children.push(CheckedChild {
                    id: child_id,
                    span: w.id.span(),
                    options,
                    kind: ChildKind::Worker(Box::new(w.expr)),
                });
            }
            ast::Item::Supervisor(s) => {
                let span = s.id.span();
                let nested = supervisor(s, Some(&path), errors);
                children.push(CheckedChild {
                    id: nested.id.clone(),
                    span,
                    options: nested.options.clone(),
                    kind: ChildKind::Supervisor(Box::new(nested)),
                });
            }
            ast::Item::Group(d) => {
                let group_id = name(&d.id);
                let options = options(&Owner::Group { id: &group_id, supervisor: &path }, d.options, errors);
                groups.push(CheckedDecl { id: group_id, span: d.id.span(), options });
            }
            ast::Item::Override(d) => {
                let target = name(&d.id);
                override_sets_something(&d, &target, &path, errors);
                let options = options(&Owner::Override { id: &target, supervisor: &path }, d.options, errors);
                overrides.push(CheckedDecl { id: target, span: d.id.span(), options });
            }
        }
    }
    duplicate_child_ids(&path, &children, errors);
    duplicate_groups(&path, &groups, errors);
    let all_groups_known = unknown_groups(&path, &children, &groups, errors);
    if all_groups_known {
        empty_groups(&path, &children, &groups, errors);
    }
    duplicate_overrides(&path, &overrides, errors);
    unknown_overrides(&path, &children, &overrides, errors);
    max_children(&path, &own_options, children.len(), errors);
    significant_permanent(&path, &children, errors);
    significant_under_never(&path, &own_options, &children, errors);
    auto_shutdown_without_significant(&path, &own_options, &children, errors);
    CheckedSupervisor { id, options: own_options, children, groups, overrides }
}

/// Checks the options of one item: known keys in their place, each once,
/// with values of the key's kind and within its bounds.
pub(crate) fn options(owner: &Owner<'_>, raw: Vec<RawOption>, errors: &mut Vec<Error>) -> Options {
    let mut out = Options::default();
    let mut seen: Vec<(&'static str, Span)> = Vec::new();
    for opt in raw {
        let key = name(&opt.key);
        let Some(def) = known_key(owner, &key, opt.key.span(), errors) else {
            continue;
        };
        if !allowed_here(owner, def, opt.key.span(), errors) {
            continue;
        }
        if !first_of_its_key(owner, def.name, opt.key.span(), &seen, errors) {
            continue;
        }
        seen.push((def.name, opt.key.span()));
        let value_span = opt.value.span(&opt.key);
        match setting(owner, def, &opt.value, value_span).and_then(|s| within_bounds(owner, def.name, s, value_span)) {
            Ok(setting) => out.list.push(Opt { key: def.name, key_span: opt.key.span(), value_span, setting }),
            Err(e) => {
                errors.push(e);
                out.broken.push(def.name);
            }
        }
    }
    out
}

/// Rule: option keys are known (with "did you mean").
fn known_key(owner: &Owner<'_>, key: &str, span: Span, errors: &mut Vec<Error>) -> Option<&'static KeyDef> {
    let def = KEYS.iter().find(|k| k.name == key);
    if def.is_none() {
        let here = owner.place().keys();
        errors.push(Error::new(
            span,
            format!(
                "unknown option `{key}` on {}: {}it takes {}",
                owner.describe(),
                did_you_mean(key, here.iter().copied()),
                one_of(&here)
            ),
        ));
    }
    def
}

/// Rule: an option is written where it applies (`heartbeat` on a worker, not
/// on a group; `restart` on a child, not on the root).
fn allowed_here(owner: &Owner<'_>, def: &KeyDef, span: Span, errors: &mut Vec<Error>) -> bool {
    let place = owner.place();
    if def.places.contains(&place) {
        return true;
    }
    let why = match (place, def.name) {
        (Place::Root, "restart" | "shutdown" | "group" | "significant") => " (the root is nobody's child)",
        _ => "",
    };
    errors.push(Error::new(
        span,
        format!(
            "`{}` is not an option of {}: it goes on {}{why}; {} takes {}",
            def.name,
            owner.describe(),
            def.goes_on,
            match place {
                Place::Root => "the root supervisor",
                Place::Nested => "a nested supervisor",
                Place::Worker => "a worker",
                Place::Group => "a group",
                Place::Override => "an override",
                Place::WorkerType => "#[worker]",
            },
            one_of(&place.keys())
        ),
    ));
    false
}

/// Rule: each key once per item (a second error points at the first).
fn first_of_its_key(
    owner: &Owner<'_>,
    key: &str,
    span: Span,
    seen: &[(&'static str, Span)],
    errors: &mut Vec<Error>,
) -> bool {
    let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) else {
        return true;
    };
    errors.push(Error::new(span, format!("duplicate option `{key}` on {}: set it once", owner.describe())));
    errors.push(Error::new(*first, format!("`{key}` is first set here")));
    false
}

/// Gives a written value the meaning its key asks for.
fn setting(owner: &Owner<'_>, def: &KeyDef, value: &RawValue, span: Span) -> syn::Result<Setting> {
    let key = def.name;
    if let RawValue::Code(group) = value {
        return if owner.place() == Place::WorkerType {
            Err(Error::new(
                group.span(),
                format!(
                    "`#[worker]` options are constants: write `{key}` as a literal here, or set a run-time value in the tree, e.g. `worker a({key} = {{ ... }}) = ...`"
                ),
            ))
        } else {
            Ok(Setting::Code(group.clone()))
        };
    }
    if let RawValue::Flag = value
        && !matches!(def.kind, ValueKind::Bool)
    {
        return Err(Error::new(span, needs_value(def)));
    }
    match def.kind {
        ValueKind::Choice(set) => choice(set, key, value),
        ValueKind::U32 => integer(key, value, u64::from(u32::MAX)),
        ValueKind::Usize => integer(key, value, u64::try_from(usize::MAX).unwrap_or(u64::MAX)),
        ValueKind::Duration => match value {
            RawValue::Lit(lit) => duration::parse(lit).map(Setting::Duration),
            other => Err(not_a(key, "a duration like `5s`", other)),
        },
        ValueKind::Shutdown => shutdown(value),
        ValueKind::Backoff => backoff(value),
        ValueKind::GroupName => match value {
            RawValue::Word(w) => Ok(Setting::Group(name(w))),
            other => Err(not_a(key, "the name of a group of this supervisor", other)),
        },
        ValueKind::Bool => match value {
            RawValue::Flag => Ok(Setting::Bool(true)),
            RawValue::Lit(Lit::Bool(b)) => Ok(Setting::Bool(b.value)),
            RawValue::Word(w) if w == "true" => Ok(Setting::Bool(true)),
            RawValue::Word(w) if w == "false" => Ok(Setting::Bool(false)),
            other => Err(not_a(key, "nothing (`significant`) or `true` / `false`", other)),
        },
    }
}

fn needs_value(def: &KeyDef) -> String {
    let example = match def.kind {
        ValueKind::Choice(set) => set.choices[0].0,
        ValueKind::U32 | ValueKind::Usize => "3",
        ValueKind::Duration | ValueKind::Shutdown => "5s",
        ValueKind::Backoff => "10ms..1s",
        ValueKind::GroupName => "my_group",
        ValueKind::Bool => "true",
    };
    format!("`{}` needs a value, e.g. `{} = {example}`", def.name, def.name)
}

/// Rule: enum words are known (with "did you mean" and the valid ones).
fn choice(set: &ChoiceSet, key: &str, value: &RawValue) -> syn::Result<Setting> {
    let words = set.words();
    match value {
        RawValue::Word(w) => {
            let word = name(w);
            match set.choices.iter().find(|(c, _)| *c == word) {
                Some((_, variant)) => Ok(Setting::Choice(set.ty, variant)),
                None => Err(Error::new(
                    w.span(),
                    format!(
                        "unknown {} `{word}`: {}expected {}",
                        set.what,
                        did_you_mean(&word, words.iter().copied()),
                        one_of(&words)
                    ),
                )),
            }
        }
        other => Err(not_a(key, &one_of(&words), other)),
    }
}

/// Rule: integers are plain, non-negative and in range.
fn integer(key: &str, value: &RawValue, max: u64) -> syn::Result<Setting> {
    let RawValue::Lit(Lit::Int(lit)) = value else {
        return Err(not_a(key, "a whole number", value));
    };
    if !lit.suffix().is_empty() {
        return Err(Error::new(
            lit.span(),
            format!("`{key}` takes a plain whole number, found `{lit}`: write `{key} = {}`", lit.base10_digits()),
        ));
    }
    match lit.base10_parse::<u64>() {
        Ok(n) if n <= max => Ok(Setting::Int(n)),
        _ => Err(Error::new(lit.span(), format!("`{key}` is too large: at most {max}"))),
    }
}

/// `shutdown = DURATION | brutal_kill | infinity`.
fn shutdown(value: &RawValue) -> syn::Result<Setting> {
    match value {
        RawValue::Lit(lit) => duration::parse(lit).map(Setting::Duration),
        RawValue::Word(w) => {
            let word = name(w);
            let words = SHUTDOWN_WORDS.words();
            match SHUTDOWN_WORDS.choices.iter().find(|(c, _)| *c == word) {
                Some((_, variant)) => Ok(Setting::ShutdownWord(variant)),
                None => Err(Error::new(
                    w.span(),
                    format!(
                        "unknown shutdown `{word}`: {}expected a duration like `5s`, brutal_kill or infinity",
                        did_you_mean(&word, words.iter().copied())
                    ),
                )),
            }
        }
        other => Err(not_a("shutdown", "a duration like `5s`, brutal_kill or infinity", other)),
    }
}

/// `backoff = none | MIN..MAX`.
fn backoff(value: &RawValue) -> syn::Result<Setting> {
    match value {
        RawValue::Word(w) if w == "none" => Ok(Setting::BackoffNone),
        RawValue::Range(min, max) => {
            let min_d = duration::parse(min);
            let max_d = duration::parse(max);
            match (min_d, max_d) {
                (Ok(a), Ok(b)) => Ok(Setting::Backoff(a, b)),
                (Err(mut a), Err(b)) => {
                    a.combine(b);
                    Err(a)
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        RawValue::Lit(lit) => Err(Error::new(
            lit.span(),
            format!("a backoff is a range of delays `MIN..MAX`, e.g. `backoff = {}..1s`, or `none`", lit_text(lit)),
        )),
        RawValue::Word(w) => Err(Error::new(
            w.span(),
            format!(
                "unknown backoff `{}`: {}expected `none` or a range of delays `MIN..MAX`, e.g. `10ms..1s`",
                name(w),
                did_you_mean(&name(w), ["none"])
            ),
        )),
        other => Err(not_a("backoff", "`none` or a range of delays `MIN..MAX`", other)),
    }
}

/// A literal as written.
fn lit_text(lit: &Lit) -> String {
    quote::ToTokens::to_token_stream(lit).to_string()
}

fn not_a(key: &str, expected: &str, found: &RawValue) -> Error {
    let (span, text) = match found {
        RawValue::Flag => (Span::call_site(), String::from("nothing")),
        RawValue::Word(w) => (w.span(), format!("`{}`", name(w))),
        RawValue::Lit(l) => (l.span(), format!("`{}`", lit_text(l))),
        RawValue::Range(a, b) => (a.span(), format!("`{}..{}`", lit_text(a), lit_text(b))),
        RawValue::Code(g) => (g.span(), String::from("a block")),
    };
    Error::new(span, format!("`{key}` takes {expected}, found {text}"))
}

/// Rules on values that parse: no zero where zero means nothing, backoff in
/// order. The wording is `SpecError::{ZeroWithin, ZeroDuration,
/// BackoffMinAboveMax}`'s.
fn within_bounds(owner: &Owner<'_>, key: &'static str, setting: Setting, span: Span) -> syn::Result<Setting> {
    match (&setting, key) {
        (Setting::Duration(d), "within") if d.is_zero() => Err(zero_within(owner, span)),
        (Setting::Duration(d), "heartbeat") if d.is_zero() => {
            Err(zero_duration(owner, key, "give it an interval longer than zero", span))
        }
        (Setting::Duration(d), "start_timeout") if d.is_zero() => {
            Err(zero_duration(owner, key, "give it a timeout longer than zero", span))
        }
        (Setting::Duration(d), "shutdown") if d.is_zero() => {
            Err(zero_duration(owner, key, "write `shutdown = brutal_kill` to stop it at once, or give it time", span))
        }
        (Setting::Backoff(min, max), _) => {
            backoff_min_not_zero(owner, *min, span)?;
            backoff_in_order(owner, *min, *max, span)?;
            Ok(setting)
        }
        _ => Ok(setting),
    }
}

/// Rule: `within` is longer than zero.
fn zero_within(owner: &Owner<'_>, span: Span) -> Error {
    Error::new(span, format!("`within` of {} is zero: the intensity window must be longer than zero", owner.scope()))
}

/// Rule: heartbeat, start_timeout, shutdown and backoff's first delay are
/// not zero.
fn zero_duration(owner: &Owner<'_>, key: &str, hint: &str, span: Span) -> Error {
    Error::new(span, format!("`{key}` of {} is zero: {hint}", owner.child()))
}

fn backoff_min_not_zero(owner: &Owner<'_>, min: Duration, span: Span) -> syn::Result<()> {
    if min.is_zero() {
        return Err(zero_duration(
            owner,
            "backoff",
            "the first delay must be longer than zero; write `backoff = none` for no delay",
            span,
        ));
    }
    Ok(())
}

/// Rule: backoff's min is not above its max.
fn backoff_in_order(owner: &Owner<'_>, min: Duration, max: Duration, span: Span) -> syn::Result<()> {
    if min > max {
        return Err(Error::new(
            span,
            format!(
                "backoff of {} has min {} above max {}: write the smaller delay first",
                owner.child(),
                show(min),
                show(max)
            ),
        ));
    }
    Ok(())
}

/// Rule: an override sets at least one option.
fn override_sets_something(decl: &ast::Decl, target: &str, path: &str, errors: &mut Vec<Error>) {
    if decl.options.is_empty() {
        errors.push(Error::new(
            decl.keyword.span().join(decl.id.span()).unwrap_or_else(|| decl.id.span()),
            format!(
                "the override of `{target}` in supervisor `{path}` sets nothing: give it strategy, max_restarts, within or escalation, or remove it"
            ),
        ));
    }
}

/// Rule: sibling ids are unique (workers and nested supervisors alike).
fn duplicate_child_ids(path: &str, children: &[CheckedChild], errors: &mut Vec<Error>) {
    for (i, child) in children.iter().enumerate() {
        if let Some(first) = children[..i].iter().find(|c| c.id == child.id) {
            errors.push(Error::new(
                child.span,
                format!(
                    "duplicate child id `{}` in supervisor `{path}`: sibling ids must be unique; rename one of them",
                    child.id
                ),
            ));
            errors.push(Error::new(first.span, format!("`{}` is first declared here", child.id)));
        }
    }
}

/// Rule: each group is declared once.
fn duplicate_groups(path: &str, groups: &[CheckedDecl], errors: &mut Vec<Error>) {
    for (i, group) in groups.iter().enumerate() {
        if let Some(first) = groups[..i].iter().find(|g| g.id == group.id) {
            errors.push(Error::new(
                group.span,
                format!("duplicate group `{}` in supervisor `{path}`: declare each group once", group.id),
            ));
            errors.push(Error::new(first.span, format!("group `{}` is first declared here", group.id)));
        }
    }
}

/// Rule: `group = g` names a group its supervisor declares. Returns whether
/// every group named is known (when not, "no members" would be noise).
fn unknown_groups(path: &str, children: &[CheckedChild], groups: &[CheckedDecl], errors: &mut Vec<Error>) -> bool {
    let mut all_known = true;
    for child in children {
        if child.options.is_broken("group") {
            all_known = false;
        }
        let Some(Opt { setting: Setting::Group(g), value_span, .. }) = child.options.get("group") else {
            continue;
        };
        if groups.iter().any(|d| d.id == *g) {
            continue;
        }
        all_known = false;
        errors.push(Error::new(
            *value_span,
            format!(
                "child `{path}/{}` names group `{g}`, which supervisor `{path}` does not declare: {}declare `group {g}(...)` or fix the name",
                child.id,
                did_you_mean(g, groups.iter().map(|d| d.id.as_str()))
            ),
        ));
    }
    all_known
}

/// Rule: a declared group has members.
fn empty_groups(path: &str, children: &[CheckedChild], groups: &[CheckedDecl], errors: &mut Vec<Error>) {
    // A group named at run time (`group = { ... }`) may be any of them.
    if children.iter().any(|c| matches!(c.options.get("group"), Some(Opt { setting: Setting::Code(_), .. }))) {
        return;
    }
    for (i, group) in groups.iter().enumerate() {
        if groups[..i].iter().any(|g| g.id == group.id) {
            continue;
        }
        let has_member = children
            .iter()
            .any(|c| matches!(c.options.get("group"), Some(Opt { setting: Setting::Group(g), .. }) if *g == group.id));
        if !has_member {
            errors.push(Error::new(
                group.span,
                format!(
                    "group `{}` of supervisor `{path}` has no members: add `group = {}` to a child or remove the group",
                    group.id, group.id
                ),
            ));
        }
    }
}

/// Rule: one override per child.
fn duplicate_overrides(path: &str, overrides: &[CheckedDecl], errors: &mut Vec<Error>) {
    for (i, o) in overrides.iter().enumerate() {
        if let Some(first) = overrides[..i].iter().find(|f| f.id == o.id) {
            errors.push(Error::new(
                o.span,
                format!(
                    "duplicate override of child `{}` in supervisor `{path}`: merge the options into one override",
                    o.id
                ),
            ));
            errors.push(Error::new(first.span, format!("the override of `{}` is first declared here", o.id)));
        }
    }
}

/// Rule: an override names a child of its supervisor.
fn unknown_overrides(path: &str, children: &[CheckedChild], overrides: &[CheckedDecl], errors: &mut Vec<Error>) {
    for (i, o) in overrides.iter().enumerate() {
        if overrides[..i].iter().any(|f| f.id == o.id) || children.iter().any(|c| c.id == o.id) {
            continue;
        }
        let hint = match crate::suggest::closest(&o.id, children.iter().map(|c| c.id.as_str())) {
            Some(c) => format!("; did you mean `{c}`?"),
            None => String::new(),
        };
        errors.push(Error::new(
            o.span,
            format!("override of unknown child `{}`: supervisor `{path}` has no such child{hint}", o.id),
        ));
    }
}

/// Rule: `max_children` is above zero and not below the declared children.
fn max_children(path: &str, options: &Options, declared: usize, errors: &mut Vec<Error>) {
    let Some(Opt { setting: Setting::Int(max), value_span, .. }) = options.get("max_children") else {
        return;
    };
    if *max == 0 {
        errors.push(Error::new(
            *value_span,
            format!("`max_children` of supervisor `{path}` is 0: allow at least one child"),
        ));
    } else if *max < declared as u64 {
        errors.push(Error::new(
            *value_span,
            format!(
                "`max_children` of supervisor `{path}` is {max}, below its {declared} declared children: raise it to at least {declared}"
            ),
        ));
    }
}

fn is_significant(child: &CheckedChild) -> bool {
    matches!(child.options.get("significant"), Some(Opt { setting: Setting::Bool(true), .. }))
}

/// Rule: a significant child is not permanent. A worker's `restart` is seen
/// here only when the tree writes it (a `#[worker]` default is caught by
/// `validate()` at start); a nested supervisor without `restart` is
/// permanent.
fn significant_permanent(path: &str, children: &[CheckedChild], errors: &mut Vec<Error>) {
    for child in children.iter().filter(|c| is_significant(c)) {
        let span = match child.options.get("restart") {
            Some(restart) if child.options.is_choice("restart", "Permanent") => restart.value_span,
            None if matches!(child.kind, ChildKind::Supervisor(_)) && !child.options.is_broken("restart") => {
                match child.options.get("significant") {
                    Some(flag) => flag.key_span,
                    None => continue,
                }
            }
            _ => continue,
        };
        errors.push(Error::new(
            span,
            format!(
                "child `{path}/{}` is significant but permanent: a permanent child never ends by itself; make it transient or temporary",
                child.id
            ),
        ));
    }
}

/// Rule: `significant` only under `auto_shutdown` any_significant or
/// all_significant (the default is never).
fn significant_under_never(path: &str, options: &Options, children: &[CheckedChild], errors: &mut Vec<Error>) {
    let never = match options.get("auto_shutdown") {
        None => !options.is_broken("auto_shutdown"),
        Some(_) => options.is_choice("auto_shutdown", "Never"),
    };
    if !never {
        return;
    }
    for child in children.iter().filter(|c| is_significant(c)) {
        if let Some(flag) = child.options.get("significant") {
            errors.push(Error::new(
                flag.key_span,
                format!(
                    "child `{path}/{}` is significant but supervisor `{path}` has auto_shutdown = never: set auto_shutdown = any_significant or all_significant, or drop `significant`",
                    child.id
                ),
            ));
        }
    }
}

/// Rule: `auto_shutdown` other than never needs a significant child.
fn auto_shutdown_without_significant(
    path: &str,
    options: &Options,
    children: &[CheckedChild],
    errors: &mut Vec<Error>,
) {
    let Some(Opt { setting: Setting::Choice(_, variant), value_span, .. }) = options.get("auto_shutdown") else {
        return;
    };
    if *variant == "Never" {
        return;
    }
    let maybe_significant = children.iter().any(|c| {
        c.options.is_broken("significant")
            || matches!(c.options.get("significant"), Some(Opt { setting: Setting::Bool(true) | Setting::Code(_), .. }))
    });
    if !maybe_significant {
        let word = ast::AUTO_SHUTDOWN.choices.iter().find(|(_, v)| v == variant).map_or("", |(w, _)| *w);
        errors.push(Error::new(
            *value_span,
            format!(
                "supervisor `{path}` has auto_shutdown = {word} but no significant child: mark a child `significant` or remove auto_shutdown"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn check(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let (root, errs) = crate::parse::tree(tokens);
        assert!(errs.is_empty(), "syntax: {:?}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>());
        tree(root.expect("a root")).1.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_valid_tree_has_no_errors() {
        let errs = check(quote! {
            supervisor app(strategy = one_for_all, max_restarts = 0, within = 1.5s, escalation = quarantine,
                           auto_shutdown = any_significant, max_children = 10) {
                worker a(restart = transient, shutdown = brutal_kill, backoff = 10ms..1s, group = g,
                         significant, heartbeat = 1s, start_timeout = 2s) = A;
                supervisor s(restart = temporary, shutdown = infinity, significant = true) { worker b = B; }
                group g(strategy = rest_for_one);
                override a(strategy = one_for_one, within = { d });
            }
        });
        assert!(errs.is_empty(), "{errs:?}");
    }

    #[test]
    fn duplicate_ids_point_at_both() {
        let errs = check(quote! { supervisor app { worker a = A; worker a = A; } });
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[0],
            "duplicate child id `a` in supervisor `app`: sibling ids must be unique; rename one of them"
        );
    }

    #[test]
    fn unknown_group_does_not_also_report_empty_group() {
        let errs = check(quote! { supervisor app { worker a(group = injest) = A; group ingest; } });
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("did you mean `ingest`?"), "{errs:?}");
    }

    #[test]
    fn broken_auto_shutdown_does_not_cascade() {
        let errs = check(
            quote! { supervisor app(auto_shutdown = any_signifcant) { worker a(restart = temporary, significant) = A; } },
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("did you mean `any_significant`?"));
    }

    #[test]
    fn backoff_min_above_max_prints_durations_like_debug() {
        let errs = check(quote! { supervisor app { worker a(backoff = 1.5s..10ms) = A; } });
        assert_eq!(errs, ["backoff of child `app/a` has min 1.5s above max 10ms: write the smaller delay first"]);
    }
}
