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
/// ```
/// use supervisor::{supervision_tree, worker, Context};
///
/// #[worker]
/// #[derive(Clone, Default)]
/// struct Stage;
///
/// impl Stage {
///     async fn run(self, ctx: Context) {
///         ctx.cancelled().await;
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
/// let spec = supervision_tree! {
///     supervisor app(strategy = one_for_one, max_restarts = 3, within = 5s) {
///         worker db(restart = permanent, shutdown = 10s) = Stage;
///         worker ingest(group = pipeline) = Stage::default();
///         worker parse(group = pipeline, backoff = 10ms..1s) = Stage;
///         supervisor http(strategy = rest_for_one) {
///             worker listener(shutdown = brutal_kill) = Stage;
///         }
///         group pipeline(strategy = rest_for_one, max_restarts = 10, within = 1s);
///         override db(strategy = one_for_all);
///     }
/// };
/// let tree = spec.start().await?;
/// assert_eq!(tree.which_children().await?.len(), 4);
/// tree.shutdown().await?;
/// # Ok(()) }
/// ```
///
/// One root `supervisor ID (OPTIONS)? { ITEM* }`; items are
/// `worker ID (OPTIONS)? = EXPR;`, nested `supervisor`s, `group ID (OPTIONS)?;`
/// and `override ID (OPTIONS);`. Options are `key = value`; a value in braces,
/// `within = { cfg.window }`, is evaluated at run time and checked by
/// `validate()` at start. Duplicate ids, unknown groups and override targets,
/// misplaced or misspelled options, zero or inverted durations and the
/// `significant`/`auto_shutdown` rules are compile errors on the offending
/// token, all reported at once. `crate = sv;` before the root says where the
/// `supervisor` crate is when the calling crate names it otherwise. Every
/// option, its default and every rule: the guide's chapter on the DSL,
/// `supervisor::guide::dsl`.
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
/// ```
/// use supervisor::{supervision_tree, worker, ChildSpec, Context, Restart};
///
/// #[worker(restart = transient, shutdown = 1s, backoff = 10ms..1s)]
/// #[derive(Clone)]
/// struct Poller { url: String }
///
/// impl Poller {
///     async fn run(self, ctx: Context) -> anyhow::Result<()> {
///         let _ = &self.url;
///         ctx.cancelled().await;
///         Ok(())
///     }
/// }
///
/// // The type's defaults apply wherever the tree sets nothing else.
/// let child = ChildSpec::worker("poller", Poller { url: "http://localhost".into() });
/// assert_eq!(child.options().restart, Restart::Transient);
/// let spec = supervision_tree! {
///     supervisor app {
///         worker poller(restart = permanent) = Poller { url: "http://localhost".into() };
///     }
/// };
/// assert_eq!(spec.children()[0].options().restart, Restart::Permanent, "the tree's option wins");
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
