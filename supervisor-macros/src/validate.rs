//! Every compile-time rule of the tree, one small function each, in the
//! order `supervisor` calls them. Errors are spanned on the token at fault and
//! gathered, so that one compilation reports all of them. The rules that
//! `SupervisorSpec::validate()` checks too decide and word through `rules`,
//! the file both crates compile.

use std::time::Duration;

use proc_macro2::Span;
use syn::Error;

use crate::ast::{
    self, CheckedChild, CheckedDecl, CheckedSupervisor, ChildKind, Opt, Options, RawOptions, Setting, name,
};
use crate::options::{self, Owner};
use crate::rules::{self, MaxChildren};
use crate::{diag, suggest};

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
    let span = sup.id.span();
    let path = join(parent, &id);
    let owner = Owner::Supervisor { path: &path, root: parent.is_none() };
    let own_options = item_options(&owner, sup.options, errors);
    let mut children = Vec::new();
    let mut groups = Vec::new();
    let mut overrides = Vec::new();
    for item in sup.items {
        match item {
            ast::Item::Worker(w) => {
                let child_id = name(&w.id);
                let child_path = join(Some(&path), &child_id);
                let options = item_options(&Owner::Worker { path: &child_path }, w.options, errors);
                children.push(CheckedChild {
                    id: child_id,
                    span: w.id.span(),
                    options,
                    kind: ChildKind::Worker(w.expr.map(Box::new)),
                });
            }
            ast::Item::Supervisor(s) => {
                let nested = supervisor(s, Some(&path), errors);
                children.push(CheckedChild {
                    id: nested.id.clone(),
                    span: nested.span,
                    options: nested.options.clone(),
                    kind: ChildKind::Supervisor(Box::new(nested)),
                });
            }
            ast::Item::Group(d) => {
                let group_id = name(&d.id);
                let options = item_options(&Owner::Group { id: &group_id, supervisor: &path }, d.options, errors);
                groups.push(CheckedDecl { id: group_id, span: d.id.span(), options });
            }
            ast::Item::Override(d) => {
                let target = name(&d.id);
                override_sets_something(&d, &target, &path, errors);
                let options = item_options(&Owner::Override { id: &target, supervisor: &path }, d.options, errors);
                overrides.push(CheckedDecl { id: target, span: d.id.span(), options });
            }
        }
    }
    duplicate_child_ids(&path, &children, errors);
    duplicate_groups(&path, &groups, errors);
    // With an item lost to a syntax error, a group, a member or a child may
    // be missing: these rules would report what is not wrong.
    if !sup.incomplete {
        let all_groups_known = unknown_groups(&path, &children, &groups, errors);
        if all_groups_known {
            empty_groups(&path, &children, &groups, errors);
        }
    }
    duplicate_overrides(&path, &overrides, errors);
    if !sup.incomplete {
        unknown_overrides(&path, &children, &overrides, errors);
    }
    max_children(&path, &own_options, children.len(), errors);
    significant_permanent(&path, &children, errors);
    significant_under_never(&path, &own_options, &children, errors);
    if !sup.incomplete {
        auto_shutdown_without_significant(&path, &own_options, &children, errors);
    }
    CheckedSupervisor { id, span, options: own_options, children, groups, overrides }
}

/// Types the options of one item and checks the rules on their values.
pub(crate) fn item_options(owner: &Owner<'_>, raw: RawOptions, errors: &mut Vec<Error>) -> Options {
    let mut options = options::options(owner, raw, errors);
    let mut broken = Vec::new();
    options.list.retain(|opt| match value_rules(owner, opt) {
        Ok(()) => true,
        Err(e) => {
            errors.push(e);
            broken.push(opt.key);
            false
        }
    });
    options.broken.extend(broken);
    options
}

/// The child an option of this owner configures: "child `app/db`".
fn child_of(owner: &Owner<'_>) -> String {
    match owner {
        Owner::Supervisor { path, .. } | Owner::Worker { path } => rules::child(path),
        Owner::WorkerType { name } => format!("worker type `{name}`"),
        Owner::Group { .. } | Owner::Override { .. } => owner.describe(),
    }
}

/// The restart scope an option of this owner configures.
fn scope_of(owner: &Owner<'_>) -> String {
    match owner {
        Owner::Supervisor { path, .. } => rules::supervisor_scope(path),
        _ => owner.describe(),
    }
}

/// Rules on values that parse: no zero where zero means nothing, backoff in
/// order.
fn value_rules(owner: &Owner<'_>, opt: &Opt) -> syn::Result<()> {
    match (&opt.setting, opt.key) {
        (Setting::Duration(d), "within") if d.is_zero() => Err(zero_within(owner, opt.value_span)),
        (Setting::Duration(d), key) if d.is_zero() => zero_duration(owner, key, opt.value_span),
        (Setting::Backoff(min, max), _) => {
            if min.is_zero() {
                zero_duration(owner, "backoff", opt.value_span)?;
            }
            backoff_in_order(owner, *min, *max, opt.value_span)
        }
        _ => Ok(()),
    }
}

/// Rule: `within` is longer than zero.
fn zero_within(owner: &Owner<'_>, span: Span) -> Error {
    Error::new(span, rules::zero_within(&scope_of(owner)))
}

/// Rule: heartbeat, start_timeout, shutdown and backoff's first delay are
/// not zero.
fn zero_duration(owner: &Owner<'_>, key: &str, span: Span) -> syn::Result<()> {
    match rules::zero_duration_hint(key) {
        Some(hint) => Err(Error::new(span, rules::zero_duration(&child_of(owner), key, hint))),
        None => Ok(()),
    }
}

/// Rule: backoff's min is not above its max.
fn backoff_in_order(owner: &Owner<'_>, min: Duration, max: Duration, span: Span) -> syn::Result<()> {
    if rules::backoff_in_order(min, max) {
        return Ok(());
    }
    Err(Error::new(span, rules::backoff_min_above_max(&child_of(owner), min, max)))
}

/// Rule: an override sets at least one option.
fn override_sets_something(decl: &ast::Decl, target: &str, path: &str, errors: &mut Vec<Error>) {
    if decl.options.list.is_empty() && !decl.options.incomplete {
        errors.push(Error::new(
            decl.id.span(),
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
            errors.push(diag::with_note(
                child.span,
                child.span,
                rules::duplicate_child(path, &child.id),
                first.span,
                &format!("`{}` is first declared", child.id),
                "above",
            ));
        }
    }
}

/// Rule: each group is declared once.
fn duplicate_groups(path: &str, groups: &[CheckedDecl], errors: &mut Vec<Error>) {
    for (i, group) in groups.iter().enumerate() {
        if let Some(first) = groups[..i].iter().find(|g| g.id == group.id) {
            errors.push(diag::with_note(
                group.span,
                group.span,
                rules::duplicate_group(path, &group.id),
                first.span,
                &format!("group `{}` is first declared", group.id),
                "above",
            ));
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
        let suggestion = suggest::closest(g, groups.iter().map(|d| d.id.as_str()));
        errors.push(Error::new(*value_span, rules::unknown_group(path, &join(Some(path), &child.id), g, suggestion)));
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
            errors.push(Error::new(group.span, rules::empty_group(path, &group.id)));
        }
    }
}

/// Rule: one override per child.
fn duplicate_overrides(path: &str, overrides: &[CheckedDecl], errors: &mut Vec<Error>) {
    for (i, o) in overrides.iter().enumerate() {
        if let Some(first) = overrides[..i].iter().find(|f| f.id == o.id) {
            errors.push(diag::with_note(
                o.span,
                o.span,
                rules::duplicate_override(path, &o.id),
                first.span,
                &format!("the override of `{}` is first declared", o.id),
                "above",
            ));
        }
    }
}

/// Rule: an override names a child of its supervisor.
fn unknown_overrides(path: &str, children: &[CheckedChild], overrides: &[CheckedDecl], errors: &mut Vec<Error>) {
    for (i, o) in overrides.iter().enumerate() {
        if overrides[..i].iter().any(|f| f.id == o.id) || children.iter().any(|c| c.id == o.id) {
            continue;
        }
        let suggestion = suggest::closest(&o.id, children.iter().map(|c| c.id.as_str()));
        errors.push(Error::new(o.span, rules::unknown_override(path, &o.id, suggestion)));
    }
}

/// Rule: `max_children` is above zero and not below the declared children.
fn max_children(path: &str, options: &Options, declared: usize, errors: &mut Vec<Error>) {
    let Some(Opt { setting: Setting::Int(max), value_span, .. }) = options.get("max_children") else {
        return;
    };
    let declared = declared as u64;
    match rules::max_children(*max, declared) {
        Some(MaxChildren::Zero) => errors.push(Error::new(*value_span, rules::zero_max_children(path))),
        Some(MaxChildren::BelowDeclared) => {
            errors.push(Error::new(*value_span, rules::max_children_below_declared(path, *max, declared)))
        }
        None => {}
    }
}

fn is_significant(child: &CheckedChild) -> bool {
    matches!(child.options.get("significant"), Some(Opt { setting: Setting::Bool(true), .. }))
}

/// Rule: a significant child is not permanent. A worker's `restart` is seen
/// here only when the tree writes it (a `#[worker]` default is caught by
/// `validate()` at start); a nested supervisor without `restart` is
/// permanent. The error is on `restart = permanent`, and notes where
/// `significant` is.
fn significant_permanent(path: &str, children: &[CheckedChild], errors: &mut Vec<Error>) {
    for child in children.iter().filter(|c| is_significant(c)) {
        let Some(flag) = child.options.get("significant") else { continue };
        let child_path = join(Some(path), &child.id);
        let message = rules::significant_permanent(&child_path);
        match child.options.get("restart") {
            Some(restart) if child.options.is_choice("restart", "Permanent") => errors.push(diag::with_note(
                restart.key_span,
                restart.value_span,
                message,
                flag.key_span,
                "it is marked `significant`",
                "too",
            )),
            None if matches!(child.kind, ChildKind::Supervisor(_)) && !child.options.is_broken("restart") => {
                errors.push(Error::new(flag.key_span, message));
            }
            _ => {}
        }
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
            errors.push(Error::new(flag.key_span, rules::significant_under_never(path, &join(Some(path), &child.id))));
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
        errors.push(Error::new(*value_span, rules::auto_shutdown_without_significant(path, word)));
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn check(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let (tree, errs) = crate::parse::tree(tokens);
        assert!(errs.is_empty(), "syntax: {:?}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>());
        super::tree(tree.root.expect("a root")).1.iter().map(|e| e.to_string()).collect()
    }

    /// Syntax errors and rule errors together, as the macro reports them.
    fn all_errors(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let (tree, mut errs) = crate::parse::tree(tokens);
        errs.extend(super::tree(tree.root.expect("a root")).1);
        errs.iter().map(|e| e.to_string()).collect()
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
    fn a_duplicate_is_one_error_that_notes_the_first() {
        let errs = check(quote! { supervisor app { worker a = A; worker a = A; } });
        assert_eq!(
            errs,
            [
                "duplicate child id `a` in supervisor `app`: sibling ids must be unique; rename one of them\nnote: `a` is first declared above"
            ]
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
    fn rules_run_on_what_parsed_after_a_syntax_error() {
        let errs = all_errors(quote! {
            supervisor app {
                supervisor broken { worker x = ; worker y(group = g) = Y; group g; }
                supervisor fine(max_children = 0) { worker a = A; worker a = A; }
                override fine(within = 0s);
            }
        });
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].contains("expected the value of worker `x`"), "{errs:?}");
        assert!(errs[1].starts_with("duplicate child id `a` in supervisor `app/fine`"), "{errs:?}");
        assert!(errs[2].contains("`max_children` of supervisor `app/fine` is 0"), "{errs:?}");
        assert!(errs[3].contains("`within` of the override of `fine`"), "{errs:?}");
    }

    #[test]
    fn a_lost_item_keeps_the_rules_that_need_every_item_quiet() {
        let errs = all_errors(quote! {
            supervisor app(auto_shutdown = any_significant) {
                worker a(group = g) = A;
                5;
                override b(strategy = one_for_all);
            }
        });
        assert_eq!(errs.len(), 1, "{errs:?}");
    }

    #[test]
    fn backoff_min_above_max_prints_durations_like_debug() {
        let errs = check(quote! { supervisor app { worker a(backoff = 1.5s..10ms) = A; } });
        assert_eq!(errs, ["backoff of child `app/a` has min 1.5s above max 10ms: write the smaller delay first"]);
    }

    #[test]
    fn significant_on_permanent_notes_the_flag() {
        let errs = check(quote! {
            supervisor app(auto_shutdown = any_significant) { worker a(restart = permanent, significant) = A; }
        });
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].ends_with("\nnote: it is marked `significant` too"), "{errs:?}");
    }
}
