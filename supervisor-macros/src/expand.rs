//! Checked ast to tokens: plain builder calls with absolute paths, so that
//! the expansion means the same wherever the macro is called.

use std::time::Duration;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Error;
use syn::spanned::Spanned;

use crate::ast::{CheckedDecl, CheckedSupervisor, ChildKind, Opt, SUPERVISOR_KEYS, Setting};

/// The `SupervisorSpec` expression of a tree.
pub(crate) fn tree(root: &CheckedSupervisor) -> TokenStream {
    supervisor_spec(root)
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
pub(crate) fn fallback(errors: Vec<Error>) -> TokenStream {
    with_errors(quote!(::supervisor::SupervisorSpec::new("")), errors)
}

fn supervisor_spec(s: &CheckedSupervisor) -> TokenStream {
    let id = &s.id;
    let options = s.options.list.iter().filter(|o| SUPERVISOR_KEYS.contains(&o.key)).map(method_call);
    let children = s.children.iter().filter_map(|c| {
        let id = &c.id;
        let base = match &c.kind {
            ChildKind::Worker(expr) => {
                if matches!(&**expr, syn::Expr::Verbatim(t) if t.is_empty()) {
                    // A worker whose value could not be read (its error is
                    // reported already).
                    return None;
                }
                // Spanned on the expression, so that "`X` is not a worker"
                // (E0277) points at it rather than at the macro.
                quote_spanned!(expr.span()=> ::supervisor::ChildSpec::worker(#id, #expr))
            }
            ChildKind::Supervisor(nested) => {
                let nested = supervisor_spec(nested);
                quote!(::supervisor::ChildSpec::supervisor(#nested))
            }
        };
        let options = c.options.list.iter().filter(|o| !SUPERVISOR_KEYS.contains(&o.key)).map(method_call);
        Some(quote!(.child(#base #(#options)*)))
    });
    let groups = s.groups.iter().map(|CheckedDecl { id, options, .. }| {
        let options = options.list.iter().map(method_call);
        quote!(.group(::supervisor::GroupSpec::new(#id) #(#options)*))
    });
    let overrides = s.overrides.iter().map(|CheckedDecl { id, options, .. }| {
        let options = options.list.iter().map(method_call);
        quote!(.override_child(#id, ::supervisor::Policy::new() #(#options)*))
    });
    quote! {
        ::supervisor::SupervisorSpec::new(#id)
            #(#options)*
            #(#children)*
            #(#groups)*
            #(#overrides)*
    }
}

/// `.key(value)`: every option is the builder method of its name.
fn method_call(opt: &Opt) -> TokenStream {
    let method = format_ident!("{}", opt.key, span = opt.key_span);
    let value = match &opt.setting {
        Setting::Code(group) => run_time_value(group),
        other => constant(opt.key, other),
    };
    quote!(.#method(#value))
}

/// A run-time value `{ expr }`. Its tokens keep their spans, so type errors
/// point at them; the braces get the macro's span, as they are the DSL's
/// syntax and not needless braces for `unused_braces` to warn about.
fn run_time_value(group: &proc_macro2::Group) -> TokenStream {
    let mut braces = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, group.stream());
    braces.set_span(proc_macro2::Span::mixed_site());
    quote!(#braces)
}

/// The value of a setting of `key` as a constant expression of the type
/// its builder method takes, which is also the type of its `WorkerDefaults`
/// field (but for `shutdown`, whose method also takes a plain `Duration`).
pub(crate) fn constant(key: &str, setting: &Setting) -> TokenStream {
    match setting {
        Setting::Choice(ty, variant) => {
            let ty = format_ident!("{}", ty);
            let variant = format_ident!("{}", variant);
            quote!(::supervisor::#ty::#variant)
        }
        Setting::Int(n) => {
            let n = Literal::u64_unsuffixed(*n);
            quote!(#n)
        }
        Setting::Duration(d) if key == "shutdown" => {
            let d = duration(*d);
            quote!(::supervisor::Shutdown::Timeout(#d))
        }
        Setting::Duration(d) => duration(*d),
        Setting::ShutdownWord(variant) => {
            let variant = format_ident!("{}", variant);
            quote!(::supervisor::Shutdown::#variant)
        }
        Setting::BackoffNone => quote!(::supervisor::Backoff::None),
        Setting::Backoff(min, max) => {
            let (min, max) = (duration(*min), duration(*max));
            quote!(::supervisor::Backoff::exponential(#min, #max))
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
    quote!(::supervisor::__private::Duration::new(#secs, #nanos))
}
