//! `#[worker(OPTIONS)]`: checked per-type defaults and an `impl Worker` that
//! calls the struct's inherent `async fn run(self, ctx: Context)`.
//!
//! Each way `run` can be wrong is one error that shows the signature to
//! write: the expansion passes `run` through a check per property (it
//! exists, takes `self` and the context, is async, returns `()` or a
//! `Result`, is `Send`), each a trait of the runtime's `__private` module with
//! its own `#[diagnostic::on_unimplemented]` message. They live there because
//! the attribute cannot be resolved in a `#![no_implicit_prelude]` module.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{Error, Item, ItemStruct};

use crate::ast::{Options, RawOptions, RawValue, name};
use crate::options::Owner;
use crate::{expand, krate, parse, validate};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let (mut raw, mut errors) = parse::attribute_options(args);
    let given = crate_option(&mut raw, &mut errors);
    let strukt = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(s)) => s,
        Ok(other) => {
            errors.push(not_a_struct(&other));
            return with_errors(item, errors);
        }
        Err(e) => {
            errors.push(e);
            return with_errors(item, errors);
        }
    };
    let krate = match krate::locate(given.as_ref(), Span::call_site(), |name| format!("`#[worker(crate = {name})]`")) {
        Ok(krate) => krate,
        Err((error, renamed)) => {
            errors.insert(0, error);
            match renamed {
                Some(krate) => krate,
                // Without the crate there is no `Worker` to implement.
                None => return with_errors(item, errors),
            }
        }
    };
    let type_name = strukt.ident.to_string();
    let options = validate::item_options(&Owner::WorkerType { name: &type_name }, raw, &mut errors);
    // The impl is emitted even when an option is wrong, so that the trees
    // using this worker do not fail too.
    let worker_impl = worker_impl(&strukt, &options, &krate);
    let errors = errors.iter().map(Error::to_compile_error);
    quote! {
        #strukt
        #worker_impl
        #(#errors)*
    }
}

fn with_errors(item: TokenStream, errors: Vec<Error>) -> TokenStream {
    let errors = errors.iter().map(Error::to_compile_error);
    quote!(#item #(#errors)*)
}

/// Takes `crate = PATH` out of the options: where the `supervisor` crate is.
fn crate_option(raw: &mut RawOptions, errors: &mut Vec<Error>) -> Option<syn::Path> {
    let at = raw.list.iter().position(|o| name(&o.key) == "crate")?;
    let opt = raw.list.remove(at);
    let path = match &opt.value {
        RawValue::Word(w) => Ok(syn::Path::from(w.clone())),
        RawValue::Rust(tokens) => syn::parse::Parser::parse2(parse::path_value, tokens.clone()),
        RawValue::Lit(syn::Lit::Str(s)) => s.parse_with(syn::Path::parse_mod_style),
        RawValue::Broken(_) => return None,
        _ => Err(Error::new(
            opt.value.span(&opt.key),
            "`crate` takes the path of the `supervisor` crate, e.g. `crate = sv` or `crate = my_lib::supervisor`",
        )),
    };
    match path {
        Ok(path) => Some(path),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// Rule: `#[worker]` goes on a struct.
fn not_a_struct(item: &Item) -> Error {
    let (span, what, fix): (Span, &str, &str) = match item {
        Item::Enum(e) => (
            e.enum_token.span,
            "an enum",
            "wrap the enum in a struct, or implement `supervisor::Worker` for it by hand",
        ),
        Item::Union(u) => {
            (u.union_token.span, "a union", "wrap it in a struct, or implement `supervisor::Worker` for it by hand")
        }
        Item::Fn(f) => (
            f.sig.fn_token.span,
            "a function",
            "move its body into `async fn run(self, ctx: Context)` of a struct, or add it with `ChildSpec::from_fn` to a tree built by hand",
        ),
        other => (
            syn::spanned::Spanned::span(other),
            "this item",
            "put it on a struct with an inherent `async fn run(self, ctx: Context)`",
        ),
    };
    Error::new(span, format!("#[worker] goes on a struct, not on {what}: {fix}"))
}

fn worker_impl(strukt: &ItemStruct, options: &Options, krate: &TokenStream) -> TokenStream {
    let ident = &strukt.ident;
    let generic = !strukt.generics.params.is_empty();
    let (impl_generics, ty_generics, where_clause) = strukt.generics.split_for_impl();
    let ty = quote!(#ident #ty_generics);
    let mut predicates: Vec<TokenStream> =
        where_clause.map(|w| w.predicates.iter().map(|p| quote!(#p)).collect()).unwrap_or_default();
    if generic {
        // A generic worker is a worker for the parameters that make it one.
        predicates.push(quote!(#ty: ::core::marker::Send + 'static));
    } else {
        // `for<'w>` keeps the bound from being "trivially false" on a struct
        // that is not `Send`: the impl and `run` are then merely unusable,
        // and the one error is `assert_worker`'s, on the field at fault.
        predicates.push(quote!(for<'__w> #ty: ::core::marker::Send));
    }
    let fn_where = quote!(where #(#predicates,)*);
    // The same for `Clone`: the one error is `assert_worker`'s, which says
    // what to add.
    predicates.push(quote!(for<'__w> #ty: ::core::clone::Clone));
    let impl_where = quote!(where #(#predicates,)*);

    let defaults = defaults(options);
    let span = ident.span();
    // `<T>::run` finds the inherent `run` first. Without one it finds the
    // fallback imported below, whose bound says what to add (instead of
    // `Worker::run` itself, which would recurse).
    let fallback = if generic { quote!(Generic) } else { quote!(Plain) };
    // All on the struct's name: rustc checks the fallback's bound at the type
    // and at the path, and reports it once only when the two spans agree.
    let call_ty = respan(ty.clone(), span);
    let call = quote_spanned! {span=>
        __supervisor::__private::run_is_async::<#call_ty, _>(
            __supervisor::__private::run_takes_self_and_context::<#call_ty, _>(<#call_ty>::run, worker, ctx)
        )
    };
    // What `run` must return, spanned on the struct: a wrong return type or a
    // future that is not `Send` is reported there.
    let returns = quote_spanned! {span=>
        impl ::core::future::Future<Output = impl __supervisor::WorkerResult> + ::core::marker::Send
    };
    let import = expand::import(krate);
    let assert_worker =
        (!generic).then(|| quote_spanned!(span=> const _: () = __supervisor::__private::assert_worker::<#ty>();));
    quote! {
        const _: () = {
            #import
            #[allow(unused_imports)]
            use __supervisor::__private::fallback::#fallback as _;

            fn __supervisor_run #impl_generics (worker: #ty, ctx: __supervisor::Context) -> #returns
            #fn_where
            {
                #call
            }

            impl #impl_generics __supervisor::Worker for #ty #impl_where {
                #defaults

                fn run(
                    self,
                    ctx: __supervisor::Context,
                ) -> impl ::core::future::Future<Output = impl __supervisor::WorkerResult> + ::core::marker::Send {
                    __supervisor_run(self, ctx)
                }
            }

            #assert_worker
        };
    }
}

/// `const DEFAULTS` from the attribute's options, or nothing for none.
fn defaults(options: &Options) -> Option<TokenStream> {
    if options.list.is_empty() {
        return None;
    }
    let fields = options.list.iter().map(|opt| {
        let field = syn::Ident::new(opt.key, opt.key_span);
        let value = expand::constant(opt.key, &opt.setting);
        quote!(#field: ::core::option::Option::Some(#value))
    });
    Some(quote! {
        const DEFAULTS: __supervisor::WorkerDefaults = __supervisor::WorkerDefaults {
            #(#fields,)*
            ..__supervisor::WorkerDefaults::NONE
        };
    })
}

/// `tokens` with every span set to `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                t = proc_macro2::TokenTree::Group(group);
            }
            t.set_span(span);
            t
        })
        .collect()
}
