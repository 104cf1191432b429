//! Tokens to [`ast`](crate::ast): the grammar of `supervision_tree!` and of
//! `#[worker(...)]`'s options.
//!
//! The parser recovers from a mistake in one option or one item and goes on,
//! so that one compilation reports every syntax error, and the items that did
//! parse still expand (their expressions stay type-checked).

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseStream, Parser};
use syn::{Error, Expr, Ident, Lit, Token, braced, parenthesized, token};

use crate::ast::{Decl, Item, RawOption, RawValue, Supervisor, Worker, name};
use crate::suggest;

const ITEM_KEYWORDS: &[&str] = &["worker", "supervisor", "group", "override"];

/// Parses a whole tree. Returns the root if one could be read, and every
/// syntax error met on the way.
pub(crate) fn tree(tokens: TokenStream) -> (Option<Supervisor>, Vec<Error>) {
    let mut errors = Vec::new();
    let parser = |input: ParseStream<'_>| Ok(root(input, &mut errors));
    match parser.parse2(tokens) {
        Ok(root) => (root, errors),
        Err(e) => {
            errors.push(e);
            (None, errors)
        }
    }
}

/// Parses the options of `#[worker(...)]`.
pub(crate) fn attribute_options(tokens: TokenStream) -> (Vec<RawOption>, Vec<Error>) {
    let mut errors = Vec::new();
    let parser = |input: ParseStream<'_>| Ok(options(input, &mut errors));
    match parser.parse2(tokens) {
        Ok(options) => (options, errors),
        Err(e) => {
            errors.push(e);
            (Vec::new(), errors)
        }
    }
}

fn root(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Option<Supervisor> {
    if input.is_empty() {
        errors.push(Error::new(
            Span::call_site(),
            "empty supervision tree: declare its root supervisor, e.g. `supervisor app { worker a = MyWorker; }`",
        ));
        return None;
    }
    let mut root: Option<Supervisor> = None;
    while !input.is_empty() {
        if input.peek(Token![;]) {
            skip_token(input);
            continue;
        }
        let keyword = match input.call(Ident::parse_any) {
            Ok(keyword) => keyword,
            Err(_) => {
                errors.push(input.error("expected the root supervisor, e.g. `supervisor app { ... }`"));
                skip_all(input);
                break;
            }
        };
        match keyword.to_string().as_str() {
            "supervisor" => match supervisor_after_keyword(input, errors) {
                Ok(second) => match &root {
                    Some(first) => errors.push(Error::new(
                        second.id.span(),
                        format!(
                            "a tree has exactly one root supervisor, and `{}` is a second one: move it inside `{}` as a nested supervisor, or declare it in a supervision_tree! of its own",
                            name(&second.id),
                            name(&first.id)
                        ),
                    )),
                    None => root = Some(second),
                },
                Err(e) => {
                    errors.push(e);
                    skip_item(input);
                }
            },
            kw @ ("worker" | "group" | "override") => {
                errors.push(Error::new(
                    keyword.span(),
                    format!(
                        "the root of a tree must be a supervisor, not a {kw}: put the items inside one, e.g. `supervisor app {{ {kw} ... }}`"
                    ),
                ));
                skip_all(input);
                break;
            }
            other => {
                errors.push(Error::new(
                    keyword.span(),
                    format!(
                        "expected `supervisor`, found `{other}`: {}a tree starts with its root, e.g. `supervisor app {{ ... }}`",
                        suggest::did_you_mean(other, ["supervisor"])
                    ),
                ));
                skip_all(input);
                break;
            }
        }
    }
    root
}

/// `ID (OPTIONS)? { ITEM* }` after the `supervisor` keyword.
fn supervisor_after_keyword(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Supervisor> {
    let id = id(input, "supervisor")?;
    let options = if input.peek(token::Paren) { options_group(input, errors)? } else { Vec::new() };
    if !input.peek(token::Brace) {
        let id = name(&id);
        return Err(input.error(format!(
            "expected `{{` after supervisor `{id}`: list its children in braces, e.g. `supervisor {id} {{ worker a = MyWorker; }}`"
        )));
    }
    let content;
    braced!(content in input);
    let items = items(&content, errors);
    Ok(Supervisor { id, options, items })
}

fn items(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Vec<Item> {
    let mut items = Vec::new();
    while !input.is_empty() {
        if input.peek(Token![;]) {
            // A `;` after a nested supervisor's braces is harmless.
            skip_token(input);
            continue;
        }
        match item(input, errors) {
            Ok(item) => items.push(item),
            Err(e) => {
                errors.push(e);
                skip_item(input);
            }
        }
    }
    items
}

fn item(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Item> {
    if !input.peek(Ident::peek_any) {
        return Err(input.error("expected an item: `worker`, `supervisor`, `group` or `override`"));
    }
    let keyword = input.call(Ident::parse_any)?;
    match keyword.to_string().as_str() {
        "worker" => worker(input, errors).map(Item::Worker),
        "supervisor" => supervisor_after_keyword(input, errors).map(Item::Supervisor),
        "group" => decl(keyword, input, errors).map(Item::Group),
        "override" => decl(keyword, input, errors).map(Item::Override),
        other => Err(Error::new(
            keyword.span(),
            format!(
                "unknown item `{other}`: {}an item is a worker, supervisor, group or override",
                suggest::did_you_mean(other, ITEM_KEYWORDS.iter().copied())
            ),
        )),
    }
}

/// `ID (OPTIONS)? = EXPR;` after the `worker` keyword.
fn worker(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Worker> {
    let id = id(input, "worker")?;
    let options = if input.peek(token::Paren) { options_group(input, errors)? } else { Vec::new() };
    let shown = name(&id);
    if input.peek(Token![=]) && !input.peek(Token![==]) {
        skip_token(input);
    } else if input.peek(token::Brace) {
        return Err(input.error(format!(
            "a worker has no braces: write `worker {shown} = EXPR;` with a value whose type is a `Worker`"
        )));
    } else {
        errors.push(
            input.error(format!("expected `=` before the value of worker `{shown}`: write `worker {shown} = EXPR;`")),
        );
        // Take the value anyway when one follows, so that it is still
        // type-checked and nothing else is reported for this item.
        let fork = input.fork();
        match fork.parse::<Expr>() {
            Ok(expr) if fork.is_empty() || fork.peek(Token![;]) => {
                input.advance_to(&fork);
                if input.peek(Token![;]) {
                    skip_token(input);
                }
                return Ok(Worker { id, options, expr });
            }
            _ => {
                skip_item(input);
                return Ok(Worker { id, options, expr: missing_expr() });
            }
        }
    }
    let expr: Expr = input.parse().map_err(|e| {
        Error::new(
            e.span(),
            format!("expected the value of worker `{shown}` after `=`, e.g. `worker {shown} = MyWorker;`"),
        )
    })?;
    if input.peek(Token![;]) {
        skip_token(input);
    } else if input.is_empty() || at_item_start(input) {
        errors.push(Error::new(last_span(&expr), format!("expected `;` after the value of worker `{shown}`")));
    } else {
        return Err(input.error(format!("expected `;` after the value of worker `{shown}`")));
    }
    Ok(Worker { id, options, expr })
}

/// A stand-in for a worker value that could not be read; its worker is
/// dropped before expansion.
fn missing_expr() -> Expr {
    Expr::Verbatim(TokenStream::new())
}

/// `ID (OPTIONS)?;` after `group` or `override`.
fn decl(keyword: Ident, input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Decl> {
    let kw = keyword.to_string();
    let id = id(input, &kw)?;
    let options = if input.peek(token::Paren) { options_group(input, errors)? } else { Vec::new() };
    if input.peek(Token![;]) {
        skip_token(input);
    } else if input.is_empty() || at_item_start(input) {
        errors.push(Error::new(id.span(), format!("expected `;` after `{kw} {}(...)`", name(&id))));
    } else if input.peek(token::Brace) {
        return Err(input.error(format!("a {kw} has no braces: write `{kw} {}(strategy = one_for_all);`", name(&id))));
    } else {
        return Err(input.error(format!("expected `;` after `{kw} {}(...)`", name(&id))));
    }
    Ok(Decl { keyword, id, options })
}

fn id(input: ParseStream<'_>, what: &str) -> syn::Result<Ident> {
    input
        .call(Ident::parse_any)
        .map_err(|e| Error::new(e.span(), format!("expected the {what}'s id after `{what}`, e.g. `{what} name`")))
}

fn options_group(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Vec<RawOption>> {
    let content;
    parenthesized!(content in input);
    Ok(options(&content, errors))
}

/// `key = value, key, ...` with a trailing comma allowed.
fn options(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Vec<RawOption> {
    let mut out = Vec::new();
    while !input.is_empty() {
        match option(input) {
            Ok(opt) => out.push(opt),
            Err(e) => {
                errors.push(e);
                skip_past_comma(input);
                continue;
            }
        }
        if input.is_empty() {
            break;
        }
        if input.peek(Token![,]) {
            skip_token(input);
        } else {
            errors.push(input.error("expected `,` between options"));
            skip_past_comma(input);
        }
    }
    out
}

fn option(input: ParseStream<'_>) -> syn::Result<RawOption> {
    if !input.peek(Ident::peek_any) {
        return Err(input.error("expected an option, e.g. `strategy = one_for_all`"));
    }
    let key = input.call(Ident::parse_any)?;
    let value = if input.peek(Token![=]) && !input.peek(Token![==]) {
        skip_token(input);
        value(&key, input)?
    } else if input.is_empty() || input.peek(Token![,]) {
        RawValue::Flag
    } else {
        let key = name(&key);
        return Err(input.error(format!("expected `=` after `{key}`, e.g. `{key} = ...`")));
    };
    Ok(RawOption { key, value })
}

fn value(key: &Ident, input: ParseStream<'_>) -> syn::Result<RawValue> {
    let key = name(key);
    if input.peek(token::Brace) {
        return match input.parse::<TokenTree>()? {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Ok(RawValue::Code(g)),
            other => Err(Error::new(other.span(), "expected `{ expr }`")),
        };
    }
    if input.peek(Lit) {
        let lit: Lit = input.parse()?;
        if input.peek(Token![..=]) {
            return Err(input.error("a backoff range is written `MIN..MAX`, without `=`"));
        }
        if input.peek(Token![..]) {
            input.parse::<Token![..]>()?;
            if !input.peek(Lit) {
                return Err(input.error("expected the longest delay after `..`, e.g. `backoff = 10ms..1s`"));
            }
            let max: Lit = input.parse()?;
            return Ok(RawValue::Range(lit, max));
        }
        return Ok(RawValue::Lit(lit));
    }
    if input.peek(Ident::peek_any) {
        return Ok(RawValue::Word(input.call(Ident::parse_any)?));
    }
    if input.peek(Token![-]) {
        return Err(input.error(format!("`{key}` cannot be negative")));
    }
    if input.peek(Token![..]) {
        return Err(input.error("a backoff range needs its shortest delay first: `MIN..MAX`, e.g. `10ms..1s`"));
    }
    if input.is_empty() || input.peek(Token![,]) {
        return Err(input.error(format!("expected a value after `{key} =`")));
    }
    Err(input.error(format!(
        "expected a value for `{key}`: a word, a number, a duration like `5s`, or a run-time value in braces `{{ expr }}`"
    )))
}

/// Whether the next tokens start an item (`worker name`, ...), where parsing
/// can pick up again after a mistake.
fn at_item_start(input: ParseStream<'_>) -> bool {
    let fork = input.fork();
    match fork.call(Ident::parse_any) {
        Ok(kw) => ITEM_KEYWORDS.contains(&kw.to_string().as_str()) && fork.peek(Ident::peek_any),
        Err(_) => false,
    }
}

/// Skips the rest of a broken item: up to and including its `;`, or up to
/// the start of the next item.
fn skip_item(input: ParseStream<'_>) {
    while !input.is_empty() {
        if at_item_start(input) {
            return;
        }
        let semi = input.peek(Token![;]);
        skip_token(input);
        if semi {
            return;
        }
    }
}

fn skip_past_comma(input: ParseStream<'_>) {
    while !input.is_empty() {
        let comma = input.peek(Token![,]);
        skip_token(input);
        if comma {
            return;
        }
    }
}

fn skip_all(input: ParseStream<'_>) {
    while !input.is_empty() {
        skip_token(input);
    }
}

fn skip_token(input: ParseStream<'_>) {
    // Only called when a token is left, which `TokenTree` always parses.
    let _ = input.parse::<TokenTree>();
}

fn last_span(expr: &Expr) -> Span {
    expr.to_token_stream().into_iter().last().map_or_else(Span::call_site, |t| t.span())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(tokens: TokenStream) -> Vec<String> {
        tree(tokens).1.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn parses_every_item() {
        let (root, errs) = tree(quote! {
            supervisor app(strategy = one_for_one, within = 5s) {
                worker db(restart = permanent, backoff = 10ms..1s, significant) = Db { url };
                supervisor http { worker l = L; }
                group g(strategy = rest_for_one);
                override db(strategy = one_for_all);
            }
        });
        assert!(errs.is_empty(), "{:?}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>());
        let root = root.expect("a root");
        assert_eq!(root.items.len(), 4);
        assert_eq!(root.options.len(), 2);
    }

    #[test]
    fn reports_missing_equals_and_semicolon_once_each() {
        let errs = errors(quote! {
            supervisor app { worker a Idle; worker b = Idle worker c = Idle; }
        });
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("expected `=` before the value of worker `a`"));
        assert!(errs[1].contains("expected `;` after the value of worker `b`"));
    }

    #[test]
    fn rejects_two_roots_and_no_root() {
        assert!(errors(quote! { supervisor a {} supervisor b {} })[0].contains("exactly one root"));
        assert!(errors(quote! {})[0].contains("empty supervision tree"));
        assert!(errors(quote! { worker a = A; })[0].contains("must be a supervisor"));
    }

    #[test]
    fn recovers_inside_options() {
        let (root, errs) = tree(quote! { supervisor app(strategy one_for_all, within = 1s) { } });
        assert_eq!(errs.len(), 1);
        assert_eq!(root.expect("a root").options.len(), 1);
    }

    #[test]
    fn malformed_input_always_ends_with_an_error() {
        let cases = [
            quote! { supervisor app { worker } },
            quote! { supervisor app { group; } },
            quote! { supervisor app { 5 } },
            quote! { supervisor app {} extra },
            quote! { supervisor app(=5, within) { worker a(restart = ) = A; } },
            quote! { supervisor app { worker a(backoff = ..1s) = A; worker b(backoff = 1s..) = B; } },
            quote! { supervisor { } },
            quote! { supervisor app { worker a { } } },
            quote! { supervisor app { override a(strategy = one_for_all) worker b = B; } },
            quote! { 42 },
        ];
        for case in cases {
            assert!(!tree(case.clone()).1.is_empty(), "no error for `{case}`");
        }
    }
}
