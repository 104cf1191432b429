//! Checked ast to tokens: plain builder calls, with every path absolute or
//! through the crate's own path, so that the expansion means the same
//! wherever the macro is called (`#![no_implicit_prelude]` included).
//!
//! The shape of a tree's expansion:
//!
//! ```text
//! {
//!     use ::supervisor as __supervisor;
//!     __supervisor::__private::build_the_tree_in_a_function(&mut Some(|| {
//!         __supervisor::SupervisorSpec::new("app").child(ChildSpec::worker("a", EXPR).shutdown({ VALUE }))
//!     }))
//! }
//! ```
//!
//! The builder calls run in one function, so that a tree in a `const` is one
//! error, at that call. The user's expressions stay in the calls, where a
//! type error points at them, except those with control flow that a closure
//! would change (`?`, `.await`, `return`): these, and all written before
//! them (to keep the order of evaluation), are bound to locals first,
//! where the macro was called.

use std::time::Duration;

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::Error;
use syn::spanned::Spanned;

use crate::ast::{CheckedDecl, CheckedSupervisor, ChildKind, Opt, SUPERVISOR_KEYS, Setting};

/// The `SupervisorSpec` expression of a tree; `krate` is the path of the
/// `supervisor` crate.
pub(crate) fn tree(root: &CheckedSupervisor, krate: &TokenStream) -> TokenStream {
    // A first pass, which builds no tokens, finds the last value that must
    // be evaluated outside the closure; the second binds it and those
    // before it.
    let mut probe = Values { probing: true, ..Values::default() };
    supervisor_spec(root, &mut probe);
    let mut values = Values {
        hoist_until: probe.last_with_control_flow.map_or(0, |i| i + 1),
        workers: probe.workers,
        ..Values::default()
    };
    let spec = supervisor_spec(root, &mut values);
    let lets = values.lets;
    let build = quote_spanned! {root.span=>
        __supervisor::__private::build_the_tree_in_a_function(
            &mut ::core::option::Option::Some(|| #spec)
        )
    };
    let import = import(krate);
    quote! {{
        #import
        #(#lets)*
        #build
    }}
}

/// `use PATH as __supervisor;`, spanned on the path, so that a path that
/// does not resolve is one error, on it (the later uses of the failed import
/// stay quiet).
pub(crate) fn import(krate: &TokenStream) -> TokenStream {
    let span =
        krate.clone().into_iter().find(|t| matches!(t, TokenTree::Ident(_))).map_or_else(Span::call_site, |t| t.span());
    quote_spanned!(span=> use #krate as __supervisor;)
}

/// The expansion with its errors in front. The spec is still built from what
/// was understood, so the user's expressions stay type-checked (and
/// completed by rust-analyzer) and the macro keeps its type: nothing else
/// fails because of it.
pub(crate) fn with_errors(expansion: TokenStream, errors: Vec<Error>) -> TokenStream {
    if errors.is_empty() {
        return expansion;
    }
    let errors = errors.iter().map(Error::to_compile_error);
    quote! {{
        #(#errors)*
        #expansion
    }}
}

/// What a tree that could not be read at all expands to: its errors and an
/// empty spec of the right type.
pub(crate) fn fallback(errors: Vec<Error>, krate: &TokenStream) -> TokenStream {
    let import = import(krate);
    with_errors(quote!({ #import __supervisor::SupervisorSpec::new("") }), errors)
}

/// What a tree expands to when the `supervisor` crate cannot be named: its
/// errors, and an expression of any type that names nothing else, so that
/// the one error about the crate is the only one.
pub(crate) fn without_crate(errors: Vec<Error>) -> TokenStream {
    with_errors(quote!(::core::unreachable!()), errors)
}

/// The user's values (worker expressions, run-time values), in the order
/// they are evaluated: where each goes.
#[derive(Default)]
struct Values {
    /// Only looking for the values with control flow: the pass returns no
    /// tokens (the expansion of a large tree is mostly token building).
    probing: bool,
    /// How many of the first values are bound to locals before the closure.
    hoist_until: usize,
    /// Values met so far.
    count: usize,
    /// The last one whose control flow a closure would change.
    last_with_control_flow: Option<usize>,
    lets: Vec<TokenStream>,
    /// The worker expressions as tokens, with their spans, made once by the
    /// first pass (turning a `syn::Expr` into tokens is the costly part).
    workers: std::collections::VecDeque<(TokenStream, Span)>,
}

impl Values {
    /// A worker's expression as tokens, and its span.
    fn worker(&mut self, expr: &syn::Expr) -> (TokenStream, Span) {
        if self.probing {
            let tokens = quote!(#expr);
            let span = tokens.span();
            self.workers.push_back((tokens.clone(), span));
            (tokens, span)
        } else {
            // Both passes meet the workers in the same order.
            self.workers.pop_front().unwrap_or_else(|| {
                let tokens = quote!(#expr);
                let span = tokens.span();
                (tokens, span)
            })
        }
    }

    /// Where `value` goes: itself, or a local bound to it before the closure
    /// (with the type `ty` where the builder method takes one type), located
    /// at `at` so that a type error still points at the user's tokens.
    fn place(&mut self, value: TokenStream, ty: Option<TokenStream>, at: Span) -> TokenStream {
        let index = self.count;
        self.count += 1;
        if has_control_flow(&value) {
            self.last_with_control_flow = Some(index);
        }
        if self.probing {
            return TokenStream::new();
        }
        if index >= self.hoist_until {
            return value;
        }
        let local = format_ident!("__supervisor_value_{}", index, span = Span::mixed_site().located_at(at));
        let ty = ty.map(|ty| quote!(: #ty));
        self.lets.push(quote!(let #local #ty = #value;));
        quote!(#local)
    }
}

/// Whether `tokens` hold `?`, `.await`, `return`, `break`, `continue` or
/// `yield`, which mean something else inside a closure. Nested closures and
/// async blocks count too: binding their value first changes nothing.
fn has_control_flow(tokens: &TokenStream) -> bool {
    let mut after_dot = false;
    tokens.clone().into_iter().any(|t| {
        let found = match &t {
            TokenTree::Punct(p) => p.as_char() == '?',
            TokenTree::Ident(i) => {
                let word = i.to_string();
                matches!(word.as_str(), "return" | "break" | "continue" | "yield") || (after_dot && word == "await")
            }
            TokenTree::Group(g) => has_control_flow(&g.stream()),
            TokenTree::Literal(_) => false,
        };
        after_dot = matches!(&t, TokenTree::Punct(p) if p.as_char() == '.');
        found
    })
}

/// The one type the builder method of `key` takes, for a value bound to a
/// local; `None` where it takes `impl Into<..>` or `impl AsRef<str>`.
fn value_type(key: &str) -> Option<TokenStream> {
    Some(match key {
        "strategy" => quote!(__supervisor::Strategy),
        "escalation" => quote!(__supervisor::Escalation),
        "auto_shutdown" => quote!(__supervisor::AutoShutdown),
        "restart" => quote!(__supervisor::Restart),
        "max_restarts" => quote!(u32),
        "max_children" => quote!(usize),
        "within" | "heartbeat" | "start_timeout" => quote!(__supervisor::__private::Duration),
        "significant" => quote!(bool),
        _ => return None,
    })
}

fn supervisor_spec(s: &CheckedSupervisor, values: &mut Values) -> TokenStream {
    let id = &s.id;
    let options: Vec<TokenStream> =
        s.options.list.iter().filter(|o| SUPERVISOR_KEYS.contains(&o.key)).map(|o| method_call(o, values)).collect();
    let mut children = Vec::new();
    for c in &s.children {
        let id = &c.id;
        let base = match &c.kind {
            // A worker whose value could not be read (its error is reported
            // already) is checked, not built.
            ChildKind::Worker(None) => continue,
            ChildKind::Worker(Some(expr)) => {
                let (tokens, span) = values.worker(expr);
                let worker = values.place(tokens, None, span);
                // Spanned on the expression, so that "`X` is not a worker"
                // (E0277) points at it rather than at the macro.
                quote_spanned!(span=> __supervisor::ChildSpec::worker(#id, #worker))
            }
            ChildKind::Supervisor(nested) => {
                let nested = supervisor_spec(nested, values);
                quote!(__supervisor::ChildSpec::supervisor(#nested))
            }
        };
        let options: Vec<TokenStream> = c
            .options
            .list
            .iter()
            .filter(|o| !SUPERVISOR_KEYS.contains(&o.key))
            .map(|o| method_call(o, values))
            .collect();
        if !values.probing {
            children.push(quote!(.child(#base #(#options)*)));
        }
    }
    let mut groups = Vec::new();
    for CheckedDecl { id, options, .. } in &s.groups {
        let options: Vec<TokenStream> = options.list.iter().map(|o| method_call(o, values)).collect();
        groups.push(quote!(.group(__supervisor::GroupSpec::new(#id) #(#options)*)));
    }
    let mut overrides = Vec::new();
    for CheckedDecl { id, options, .. } in &s.overrides {
        let options: Vec<TokenStream> = options.list.iter().map(|o| method_call(o, values)).collect();
        overrides.push(quote!(.override_child(#id, __supervisor::Policy::new() #(#options)*)));
    }
    if values.probing {
        return TokenStream::new();
    }
    quote! {
        __supervisor::SupervisorSpec::new(#id)
            #(#options)*
            #(#children)*
            #(#groups)*
            #(#overrides)*
    }
}

/// `.key(value)`: every option is the builder method of its name.
fn method_call(opt: &Opt, values: &mut Values) -> TokenStream {
    if values.probing {
        if let Setting::Code(group) = &opt.setting {
            values.place(group.stream(), None, group.span());
        }
        return TokenStream::new();
    }
    let method = format_ident!("{}", opt.key, span = opt.key_span);
    let value = match &opt.setting {
        Setting::Code(group) => values.place(run_time_value(group), value_type(opt.key), group.span()),
        other => constant(opt.key, other),
    };
    quote!(.#method(#value))
}

/// A run-time value `{ expr }`. Its tokens keep their spans, so type errors
/// point at them; the braces get the macro's span, as they are the DSL's
/// syntax and not needless braces for `unused_braces` to warn about.
fn run_time_value(group: &proc_macro2::Group) -> TokenStream {
    let mut braces = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, group.stream());
    braces.set_span(Span::mixed_site());
    quote!(#braces)
}

/// The value of a setting of `key` as a constant expression of the type
/// its builder method takes, which is also the type of its `WorkerDefaults`
/// field (but for `shutdown`, whose method also takes a plain `Duration`).
/// Its paths start at `__supervisor`, the crate's name in the expansion.
pub(crate) fn constant(key: &str, setting: &Setting) -> TokenStream {
    match setting {
        Setting::Choice(ty, variant) => {
            let ty = format_ident!("{}", ty);
            let variant = format_ident!("{}", variant);
            quote!(__supervisor::#ty::#variant)
        }
        Setting::Int(n) => {
            let n = Literal::u64_unsuffixed(*n);
            quote!(#n)
        }
        Setting::Duration(d) if key == "shutdown" => {
            let d = duration(*d);
            quote!(__supervisor::Shutdown::Timeout(#d))
        }
        Setting::Duration(d) => duration(*d),
        Setting::ShutdownWord(variant) => {
            let variant = format_ident!("{}", variant);
            quote!(__supervisor::Shutdown::#variant)
        }
        Setting::BackoffNone => quote!(__supervisor::Backoff::None),
        Setting::Backoff(min, max) => {
            let (min, max) = (duration(*min), duration(*max));
            quote!(__supervisor::Backoff::exponential(#min, #max))
        }
        Setting::Group(g) => quote!(#g),
        Setting::Bool(b) => quote!(#b),
        Setting::Code(group) => quote!(#group),
    }
}

/// A `Duration` as a constant expression.
pub(crate) fn duration(d: Duration) -> TokenStream {
    let secs = Literal::u64_unsuffixed(d.as_secs());
    let nanos = Literal::u32_unsuffixed(d.subsec_nanos());
    quote!(__supervisor::__private::Duration::new(#secs, #nanos))
}
