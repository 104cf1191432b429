//! `#[worker(OPTIONS)]`: checked per-type defaults and an `impl Worker` that
//! calls the struct's inherent `async fn run(self, ctx: Context)`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{Error, Item, ItemStruct};

use crate::ast::Options;
use crate::validate::{self, Owner};
use crate::{expand, parse};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let (raw, mut errors) = parse::attribute_options(args);
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
    let type_name = strukt.ident.to_string();
    let options = validate::options(&Owner::WorkerType { name: &type_name }, raw, &mut errors);
    // The impl is emitted even when an option is wrong, so that the trees
    // using this worker do not fail too.
    let worker_impl = worker_impl(&strukt, &options);
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

fn worker_impl(strukt: &ItemStruct, options: &Options) -> TokenStream {
    let ident = &strukt.ident;
    let name = ident.to_string();
    let generic = !strukt.generics.params.is_empty();
    let (impl_generics, ty_generics, where_clause) = strukt.generics.split_for_impl();
    let ty = quote!(#ident #ty_generics);
    let mut predicates: Vec<TokenStream> =
        where_clause.map(|w| w.predicates.iter().map(|p| quote!(#p)).collect()).unwrap_or_default();
    if generic {
        // A generic worker is a worker for the parameters that make it one.
        predicates.push(quote!(#ty: ::core::marker::Send + 'static));
    }
    let fn_where = quote!(where #(#predicates,)*);
    // `for<'w>` keeps the bound from being "trivially false" on a struct
    // without `Clone`: then the impl is merely unusable, and the one error is
    // `assert_clone`'s, which says what to add.
    predicates.push(quote!(for<'__w> #ty: ::core::clone::Clone));
    let impl_where = quote!(where #(#predicates,)*);

    let defaults = defaults(options);
    let span = ident.span();
    // `<T>::run` finds the inherent `run` first. Without one it would find
    // `Worker::run` itself (when the trait is in scope) and recurse; the local
    // trait below makes that an error that says what to add instead.
    let call = quote_spanned!(span=> <#ty>::run(worker, ctx));
    // What `run` must return, spanned on the struct: a wrong return type or a
    // future that is not `Send` is reported there.
    let returns = quote_spanned! {span=>
        impl ::core::future::Future<Output = impl ::supervisor::WorkerResult> + ::core::marker::Send
    };
    let message = format!("`{name}` has no inherent `run` method for `#[worker]` to call");
    let label = format!("#[worker] calls `{name}::run(self, ctx)`");
    let note = format!(
        "add `impl {name} {{{{ async fn run(self, ctx: supervisor::Context) {{{{ ... }}}} }}}}`; it may return `()` or `Result<(), E>`"
    );
    let assert_clone =
        (!generic).then(|| quote_spanned!(span=> const _: () = ::supervisor::__private::assert_clone::<#ty>();));
    quote! {
        const _: () = {
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            trait WorkerNeedsAnInherentRun {}

            #[allow(dead_code)]
            trait AddAnInherentAsyncFnRunToTheStruct: ::core::marker::Sized {
                fn run(self, _: ::supervisor::Context) -> ::core::future::Ready<()>
                where
                    Self: WorkerNeedsAnInherentRun,
                {
                    ::core::future::ready(())
                }
            }
            impl<T> AddAnInherentAsyncFnRunToTheStruct for T {}

            fn __supervisor_run #impl_generics (worker: #ty, ctx: ::supervisor::Context) -> #returns
            #fn_where
            {
                #call
            }

            impl #impl_generics ::supervisor::Worker for #ty #impl_where {
                #defaults

                fn run(
                    self,
                    ctx: ::supervisor::Context,
                ) -> impl ::core::future::Future<Output = impl ::supervisor::WorkerResult> + ::core::marker::Send {
                    __supervisor_run(self, ctx)
                }
            }

            #assert_clone
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
        const DEFAULTS: ::supervisor::WorkerDefaults = ::supervisor::WorkerDefaults {
            #(#fields,)*
            ..::supervisor::WorkerDefaults::NONE
        };
    })
}
