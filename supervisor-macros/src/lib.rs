//! The macros of the [`supervisor`](https://docs.rs/supervisor) crate:
//! `supervision_tree!` and `#[worker]`. Use them through `supervisor`, which
//! re-exports them; their expansions name `::supervisor`.
//!
//! Data flows one way: tokens are parsed into a typed view of the tree
//! (`parse`, `ast`), options are typed (`options`), every rule is checked
//! with errors on the token at fault (`validate`, worded in `rules`, which
//! the runtime's `validate()` compiles too), and plain builder calls are
//! generated (`expand`, `worker`) under the crate's path (`krate`).

mod ast;
mod diag;
mod duration;
mod expand;
mod krate;
mod options;
mod parse;
mod rules;
mod suggest;
mod validate;
mod worker;

use proc_macro::TokenStream;

/// Declares a supervision tree and evaluates to its `supervisor::SupervisorSpec`.
///
/// ```text
/// use supervisor::{supervision_tree, worker, Context};
///
/// let spec = supervision_tree! {
///     supervisor app(strategy = one_for_one, max_restarts = 3, within = 5s) {
///         worker db(restart = permanent, shutdown = 10s) = Db { url: url.clone() };
///         worker ingest(group = pipeline) = Ingest::default();
///         worker parse(group = pipeline, backoff = 10ms..1s) = Parse::default();
///         supervisor http(strategy = rest_for_one) {
///             worker listener(start_timeout = 2s) = Listener::bind(addr);
///         }
///         group pipeline(strategy = rest_for_one, max_restarts = 10, within = 1s);
///         override db(strategy = one_for_all);
///     }
/// };
/// let tree = spec.start().await?;
/// ```
///
/// One root `supervisor ID (OPTIONS)? { ITEM* }`; items are
/// `worker ID (OPTIONS)? = EXPR;`, nested `supervisor`s, `group ID (OPTIONS)?;`
/// and `override ID (OPTIONS);`. Options are `key = value`; a value in braces,
/// `within = { cfg.window }`, is evaluated at run time and checked by
/// `validate()` at start. Duplicate ids, unknown groups and override targets,
/// misplaced or misspelled options, zero or inverted durations and the
/// `significant`/`auto_shutdown` rules are compile errors on the offending
/// token. `crate = sv;` before the root says where the `supervisor` crate is
/// when the calling crate names it otherwise. See the crate's README for
/// every option and rule.
#[proc_macro]
pub fn supervision_tree(input: TokenStream) -> TokenStream {
    let (tree, mut errors) = parse::tree(input.into());
    let span = tree.root.as_ref().map_or_else(proc_macro2::Span::call_site, |r| r.id.span());
    let krate = match krate::locate(tree.krate.as_ref(), span, |name| {
        format!("`crate = {name};` before the root supervisor")
    }) {
        Ok(krate) => krate,
        Err((error, renamed)) => {
            errors.insert(0, error);
            match renamed {
                Some(krate) => krate,
                None => return expand::without_crate(errors).into(),
            }
        }
    };
    let Some(root) = tree.root else {
        return expand::fallback(errors, &krate).into();
    };
    // The rules run after a syntax error too, on what parsed: a supervisor
    // that lost an item keeps quiet the rules that need every item.
    let (checked, rule_errors) = validate::tree(root);
    errors.extend(rule_errors);
    expand::with_errors(expand::tree(&checked, &krate), errors).into()
}

/// Makes a struct a `supervisor::Worker` that calls its inherent
/// `async fn run(self, ctx: Context)`, with checked per-type defaults.
///
/// ```text
/// use supervisor::{worker, Context};
///
/// #[worker(restart = transient, shutdown = 1s, backoff = 10ms..1s)]
/// #[derive(Clone)]
/// struct Poller { url: String }
///
/// impl Poller {
///     async fn run(self, ctx: Context) -> anyhow::Result<()> {
///         ctx.cancelled().await;
///         Ok(())
///     }
/// }
/// ```
///
/// Options: `restart`, `shutdown`, `backoff`, `heartbeat`, `start_timeout`,
/// checked like the tree's; the tree's per-child options win over them.
/// `run` may return `()` or `Result<(), E>` with `E` convertible to a boxed
/// error. The struct must be `Clone` (each start runs a fresh clone) and
/// `Send + 'static`; generics are allowed. `crate = sv` says where the
/// `supervisor` crate is when the calling crate names it otherwise.
#[proc_macro_attribute]
pub fn worker(args: TokenStream, item: TokenStream) -> TokenStream {
    worker::expand(args.into(), item.into()).into()
}
