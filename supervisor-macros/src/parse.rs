//! Tokens to [`ast`](crate::ast): the grammar of `supervision_tree!` and of
//! `#[worker(...)]`'s options.
//!
//! The parser recovers from a mistake in one option or one item and goes on,
//! so that one compilation reports every syntax error: a broken option is
//! skipped up to its `,`, a broken item up to its `;` or past its braces. What
//! did parse is kept, so that the rules still run on it and its expressions
//! still expand (and stay type-checked); a supervisor that lost an item is
//! marked incomplete, and the rules that need every item stay quiet there.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseStream, Parser};
use syn::{Error, Expr, Ident, Lit, LitInt, Token, braced, parenthesized, token};

use crate::ast::{Decl, Item, RawOption, RawOptions, RawValue, Supervisor, Tree, ValueKind, Worker, name};
use crate::{duration, suggest};

const ITEM_KEYWORDS: &[&str] = &["worker", "supervisor", "group", "override"];

/// Parses a whole tree, and returns every syntax error met on the way.
pub(crate) fn tree(tokens: TokenStream) -> (Tree, Vec<Error>) {
    let mut errors = Vec::new();
    let parser = |input: ParseStream<'_>| {
        let krate = crate_path(input, &mut errors);
        Ok(Tree { krate, root: root(input, &mut errors) })
    };
    match parser.parse2(tokens) {
        Ok(tree) => (tree, errors),
        Err(e) => {
            errors.push(e);
            (Tree { krate: None, root: None }, errors)
        }
    }
}

/// Parses the options of `#[worker(...)]`.
pub(crate) fn attribute_options(tokens: TokenStream) -> (RawOptions, Vec<Error>) {
    let mut errors = Vec::new();
    let parser = |input: ParseStream<'_>| Ok(options(input, &mut errors));
    match parser.parse2(tokens) {
        Ok(options) => (options, errors),
        Err(e) => {
            errors.push(e);
            (RawOptions { list: Vec::new(), incomplete: true }, errors)
        }
    }
}

/// `crate = PATH;` before the root: where the `supervisor` crate is when the
/// calling crate names it otherwise.
fn crate_path(input: ParseStream<'_>, errors: &mut Vec<Error>) -> Option<syn::Path> {
    if !input.peek(Token![crate]) {
        return None;
    }
    let keyword = input.parse::<Token![crate]>().ok()?;
    let path = match input.parse::<Token![=]>() {
        Ok(_) => path_value(input),
        Err(_) => Err(Error::new(keyword.span, "expected `crate = PATH;`, e.g. `crate = sv;`")),
    };
    let path = path.and_then(|p| {
        if input.peek(Token![;]) {
            skip_token(input);
            Ok(p)
        } else {
            Err(input.error("expected `;` after `crate = PATH`, e.g. `crate = sv;`, before the root supervisor"))
        }
    });
    match path {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            skip_item(input);
            None
        }
    }
}

/// The path of `crate = PATH`: `sv`, `::sv`, `my_lib::supervisor`, or the
/// same in quotes as serde and tokio take it.
pub(crate) fn path_value(input: ParseStream<'_>) -> syn::Result<syn::Path> {
    if input.peek(syn::LitStr) {
        let lit: syn::LitStr = input.parse()?;
        return lit.parse_with(syn::Path::parse_mod_style);
    }
    input.call(syn::Path::parse_mod_style).map_err(|e| {
        Error::new(
            e.span(),
            "expected the path of the `supervisor` crate, e.g. `crate = sv` or `crate = my_lib::supervisor`",
        )
    })
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
        let word = keyword.to_string();
        match word.as_str() {
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
            other if other != "supervisor" => {
                let close = suggest::closest(other, ["supervisor"]).is_some();
                errors.push(Error::new(
                    keyword.span(),
                    format!(
                        "expected `supervisor`, found `{other}`: {}a tree starts with its root, e.g. `supervisor app {{ ... }}`",
                        suggest::did_you_mean(other, ["supervisor"])
                    ),
                ));
                if !close {
                    skip_all(input);
                    break;
                }
                // A misspelt `supervisor`: read the tree anyway, so that the
                // rest of it is checked.
            }
            _ => {}
        }
        match supervisor_after_keyword(input, errors) {
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
        }
    }
    root
}

/// `ID (OPTIONS)? { ITEM* }` after the `supervisor` keyword.
fn supervisor_after_keyword(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Supervisor> {
    let id = id(input, "supervisor", errors)?;
    let options = if input.peek(token::Paren) { options_group(input, errors)? } else { RawOptions::default() };
    if !input.peek(token::Brace) {
        let id = name(&id);
        return Err(input.error(format!(
            "expected `{{` after supervisor `{id}`: list its children in braces, e.g. `supervisor {id} {{ worker a = MyWorker; }}`"
        )));
    }
    let content;
    braced!(content in input);
    let (items, incomplete) = items(&content, errors);
    Ok(Supervisor { id, options, items, incomplete })
}

/// The items of a supervisor, and whether one of them could not be read.
fn items(input: ParseStream<'_>, errors: &mut Vec<Error>) -> (Vec<Item>, bool) {
    let mut items = Vec::new();
    let mut incomplete = false;
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
                incomplete = true;
                skip_item(input);
            }
        }
    }
    (items, incomplete)
}

fn item(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Item> {
    if !input.peek(Ident::peek_any) {
        return Err(input.error("expected an item: `worker`, `supervisor`, `group` or `override`"));
    }
    let keyword = input.call(Ident::parse_any)?;
    let word = keyword.to_string();
    let meant = match word.as_str() {
        kw if ITEM_KEYWORDS.contains(&kw) => kw,
        other => {
            let unknown = Error::new(
                keyword.span(),
                format!(
                    "unknown item `{other}`: {}an item is a worker, supervisor, group or override",
                    suggest::did_you_mean(other, ITEM_KEYWORDS.iter().copied())
                ),
            );
            // A misspelt keyword: read the item as the one it is close to,
            // so that it is still checked and nothing after it is lost. When
            // it does not read as that item either, the misspelling is the
            // one error to report.
            let Some(meant) = suggest::closest(other, ITEM_KEYWORDS.iter().copied()) else {
                return Err(unknown);
            };
            let fork = input.fork();
            let mut ignored = Vec::new();
            let keyword = Ident::new(meant, keyword.span());
            return match item_after_keyword(meant, keyword, &fork, &mut ignored) {
                Ok(item) if ignored.is_empty() => {
                    input.advance_to(&fork);
                    errors.push(unknown);
                    Ok(item)
                }
                _ => Err(unknown),
            };
        }
    };
    item_after_keyword(meant, keyword, input, errors)
}

fn item_after_keyword(
    keyword_name: &str,
    keyword: Ident,
    input: ParseStream<'_>,
    errors: &mut Vec<Error>,
) -> syn::Result<Item> {
    match keyword_name {
        "worker" => worker(input, errors).map(Item::Worker),
        "supervisor" => supervisor_after_keyword(input, errors).map(Item::Supervisor),
        "group" => decl(keyword, input, errors).map(Item::Group),
        _ => decl(keyword, input, errors).map(Item::Override),
    }
}

/// `ID (OPTIONS)? = EXPR;` after the `worker` keyword.
fn worker(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Worker> {
    let id = id(input, "worker", errors)?;
    let options = if input.peek(token::Paren) { options_group(input, errors)? } else { RawOptions::default() };
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
        let expr = match fork.parse::<Expr>() {
            Ok(expr) if fork.is_empty() || fork.peek(Token![;]) => {
                input.advance_to(&fork);
                if input.peek(Token![;]) {
                    skip_token(input);
                }
                Some(expr)
            }
            _ => {
                skip_item(input);
                None
            }
        };
        return Ok(Worker { id, options, expr });
    }
    let expr: Expr = match input.parse() {
        Ok(expr) => expr,
        Err(e) => {
            errors.push(Error::new(
                e.span(),
                format!("expected the value of worker `{shown}` after `=`, e.g. `worker {shown} = MyWorker;`"),
            ));
            skip_item(input);
            // The worker is still a child: its id and options are checked.
            return Ok(Worker { id, options, expr: None });
        }
    };
    if input.peek(Token![;]) {
        skip_token(input);
    } else if input.is_empty() || at_item_start(input) {
        errors.push(Error::new(last_span(&expr), format!("expected `;` after the value of worker `{shown}`")));
    } else {
        return Err(input.error(format!("expected `;` after the value of worker `{shown}`")));
    }
    Ok(Worker { id, options, expr: Some(expr) })
}

/// `ID (OPTIONS)?;` after `group` or `override`.
fn decl(keyword: Ident, input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<Decl> {
    let kw = keyword.to_string();
    let id = id(input, &kw, errors)?;
    let options = if input.peek(token::Paren) { options_group(input, errors)? } else { RawOptions::default() };
    if input.peek(Token![;]) {
        skip_token(input);
    } else if input.is_empty() || at_item_start(input) {
        errors.push(Error::new(id.span(), format!("expected `;` after `{kw} {}(...)`", name(&id))));
    } else if input.peek(token::Brace) {
        return Err(input.error(format!("a {kw} has no braces: write `{kw} {}(strategy = one_for_all);`", name(&id))));
    } else {
        return Err(input.error(format!("expected `;` after `{kw} {}(...)`", name(&id))));
    }
    Ok(Decl { id, options })
}

/// An item's id. Ids are Rust identifiers; one written with hyphens is
/// reported once and read as its underscore form, so that nothing after it
/// is misread.
fn id(input: ParseStream<'_>, what: &str, errors: &mut Vec<Error>) -> syn::Result<Ident> {
    let first = input
        .call(Ident::parse_any)
        .map_err(|e| Error::new(e.span(), format!("expected the {what}'s id after `{what}`, e.g. `{what} name`")))?;
    Ok(unhyphenate(input, first, errors, |written, fixed| {
        format!("ids are Rust identifiers, and `{written}` has a hyphen: write `{fixed}`")
    }))
}

/// Reads `-part` after `first` as long as they follow (`my-db-2`); with any,
/// reports `message(written, fixed)` once over the whole name and returns the
/// underscore form.
fn unhyphenate(
    input: ParseStream<'_>,
    first: Ident,
    errors: &mut Vec<Error>,
    message: impl Fn(&str, &str) -> String,
) -> Ident {
    let mut written = name(&first);
    let mut last: Option<TokenTree> = None;
    while input.peek(Token![-]) && (input.peek2(Ident::peek_any) || input.peek2(LitInt)) {
        skip_token(input);
        let Ok(part) = input.parse::<TokenTree>() else { break };
        written.push('-');
        written.push_str(&part.to_string());
        last = Some(part);
    }
    let Some(last) = last else {
        return first;
    };
    let fixed = written.replace('-', "_");
    let range: TokenStream = [TokenTree::Ident(first.clone()), last].into_iter().collect();
    errors.push(Error::new_spanned(range, message(&written, &fixed)));
    Ident::new(&fixed, first.span())
}

fn options_group(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<RawOptions> {
    let content;
    parenthesized!(content in input);
    Ok(options(&content, errors))
}

/// `key = value, key, ...` with a trailing comma allowed.
fn options(input: ParseStream<'_>, errors: &mut Vec<Error>) -> RawOptions {
    let mut out = RawOptions::default();
    while !input.is_empty() {
        match option(input, errors) {
            Ok(opt) => out.list.push(opt),
            Err(e) => {
                errors.push(e);
                out.incomplete = true;
                skip_past_comma(input);
                continue;
            }
        }
        if input.is_empty() {
            break;
        }
        if input.peek(Token![,]) {
            skip_token(input);
        } else if at_option_start(input) {
            // `strategy = one_for_all within = 5s`: the next option is whole.
            errors.push(input.error("expected `,` between options"));
        } else {
            errors.push(input.error("expected `,` between options"));
            out.incomplete = true;
            skip_past_comma(input);
        }
    }
    out
}

/// One option. An error in its value is reported here and the option kept
/// with its key, its value marked broken; an `Err` means not even the key
/// could be read.
fn option(input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<RawOption> {
    if !input.peek(Ident::peek_any) {
        return Err(input.error("expected an option, e.g. `strategy = one_for_all`"));
    }
    let key = input.call(Ident::parse_any)?;
    let key = unhyphenate(input, key, errors, |written, fixed| {
        format!("option names are Rust identifiers, and `{written}` has a hyphen: write `{fixed}`")
    });
    let value = if input.peek(Token![=]) && !input.peek(Token![==]) {
        skip_token(input);
        match value(&key, input, errors) {
            Ok(value) => value,
            Err(e) => {
                let span = e.span();
                errors.push(e);
                skip_to_comma(input);
                RawValue::Broken(span)
            }
        }
    } else if input.is_empty() || input.peek(Token![,]) {
        RawValue::Flag
    } else {
        let shown = name(&key);
        let e = input.error(format!("expected `=` after `{shown}`, e.g. `{shown} = ...`"));
        let span = e.span();
        errors.push(e);
        skip_to_comma(input);
        RawValue::Broken(span)
    };
    Ok(RawOption { key, value })
}

fn value(key: &Ident, input: ParseStream<'_>, errors: &mut Vec<Error>) -> syn::Result<RawValue> {
    let key = name(key);
    if input.peek(token::Brace) {
        return match input.parse::<TokenTree>()? {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Ok(RawValue::Code(g)),
            other => Err(Error::new(other.span(), "expected `{ expr }`")),
        };
    }
    if input.peek(Token![::]) {
        return Ok(RawValue::Rust(rest_of_option(input, TokenStream::new())));
    }
    if input.peek(Token![-]) && input.peek2(Lit) {
        return Err(negative(&key, input));
    }
    if input.peek(Lit) {
        let lit: Lit = input.parse()?;
        if let Some(unit) = unit_written_apart(&lit, input) {
            return Err(apart(&lit, &unit));
        }
        if input.peek(Token![..=]) {
            return Err(input.error("a backoff range is written `MIN..MAX`, without `=`"));
        }
        if input.peek(Token![..]) {
            input.parse::<Token![..]>()?;
            if input.peek(Token![-]) && input.peek2(Lit) {
                return Err(negative(&key, input));
            }
            if !input.peek(Lit) {
                return Err(input.error("expected the longest delay after `..`, e.g. `backoff = 10ms..1s`"));
            }
            let max: Lit = input.parse()?;
            if let Some(unit) = unit_written_apart(&max, input) {
                return Err(apart(&max, &unit));
            }
            return Ok(RawValue::Range(lit, max));
        }
        if rust_follows(input) {
            return Ok(RawValue::Rust(rest_of_option(input, lit.to_token_stream())));
        }
        return Ok(RawValue::Lit(lit));
    }
    if input.peek(Ident::peek_any) {
        let word = input.call(Ident::parse_any)?;
        if rust_follows(input) {
            return Ok(RawValue::Rust(rest_of_option(input, word.to_token_stream())));
        }
        let word = unhyphenate(input, word, errors, |written, fixed| {
            format!("names are Rust identifiers, and `{written}` has a hyphen: write `{fixed}`")
        });
        return Ok(RawValue::Word(word));
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

/// `-5s`, `-1`: a negative number, which no option takes. The error spans
/// the sign and the number, and says what the option takes instead.
fn negative(key: &str, input: ParseStream<'_>) -> Error {
    let minus: Option<TokenTree> = input.parse().ok();
    let number: Option<TokenTree> = input.parse().ok();
    let written = format!("-{}", number.as_ref().map(ToString::to_string).unwrap_or_default());
    let positive = written.trim_start_matches('-');
    let allowed = match crate::ast::KEYS.iter().find(|k| k.name == key).map(|k| k.kind) {
        Some(ValueKind::U32) => "write a whole number, 0 or more".to_string(),
        Some(ValueKind::Usize) => "write a whole number, 1 or more".to_string(),
        Some(ValueKind::Duration | ValueKind::Shutdown | ValueKind::Backoff) => {
            format!("write a duration longer than zero, e.g. `{positive}`")
        }
        _ => "no option takes a negative number".to_string(),
    };
    let range: TokenStream = minus.into_iter().chain(number).collect();
    Error::new_spanned(range, format!("`{key}` cannot be negative, and `{written}` is: {allowed}"))
}

/// `5 s`: a number without a unit followed by a word. Takes the word.
fn unit_written_apart(lit: &Lit, input: ParseStream<'_>) -> Option<Ident> {
    let bare = match lit {
        Lit::Int(i) => i.suffix().is_empty(),
        Lit::Float(f) => f.suffix().is_empty(),
        _ => false,
    };
    if !bare || !input.peek(Ident::peek_any) || at_option_start(input) {
        return None;
    }
    input.call(Ident::parse_any).ok()
}

fn apart(lit: &Lit, unit: &Ident) -> Error {
    let number = lit.to_token_stream().to_string();
    let range: TokenStream = [lit.to_token_stream(), unit.to_token_stream()].into_iter().collect();
    let unit = unit.to_string();
    let fix = match duration::suggest_unit(&number, &unit) {
        Some(fixed) => format!("write `{fixed}`"),
        None => format!("write it with one of us, ms, s, m or h, e.g. `{number}s`"),
    };
    Error::new_spanned(
        range,
        format!("a duration is one token, its number and unit written together: `{number} {unit}` is two; {fix}"),
    )
}

/// Whether Rust follows a word or literal (`Strategy::OneForAll`,
/// `Duration::from_secs(5)`, `cfg.window`): a path, a call, a field, a macro.
fn rust_follows(input: ParseStream<'_>) -> bool {
    input.peek(Token![::])
        || input.peek(token::Paren)
        || input.peek(token::Bracket)
        || input.peek(token::Brace)
        || input.peek(Token![!])
        || (input.peek(Token![.]) && !input.peek(Token![..]))
}

/// `first` and what follows it up to the option's `,`.
fn rest_of_option(input: ParseStream<'_>, first: TokenStream) -> TokenStream {
    let mut tokens = first;
    while !input.is_empty() && !input.peek(Token![,]) {
        match input.parse::<TokenTree>() {
            Ok(t) => tokens.extend([t]),
            Err(_) => break,
        }
    }
    tokens
}

/// Whether the next tokens start an option (`key =`, `key,`), where parsing
/// can pick up again after a missing comma.
fn at_option_start(input: ParseStream<'_>) -> bool {
    let fork = input.fork();
    fork.call(Ident::parse_any).is_ok() && fork.peek(Token![=]) && !fork.peek(Token![==])
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

/// Skips the rest of a broken item: up to and including its `;`, past its
/// braces when a new item or nothing follows them (a misspelt `supervisor`
/// and its children), or up to the start of the next item.
fn skip_item(input: ParseStream<'_>) {
    while !input.is_empty() {
        if at_item_start(input) {
            return;
        }
        let semi = input.peek(Token![;]);
        let braces = input.peek(token::Brace);
        skip_token(input);
        if semi || (braces && (input.is_empty() || input.peek(Ident::peek_any))) {
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

/// Skips up to the next `,` and leaves it.
fn skip_to_comma(input: ParseStream<'_>) {
    while !input.is_empty() && !input.peek(Token![,]) {
        skip_token(input);
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

    fn root(tokens: TokenStream) -> Supervisor {
        tree(tokens).0.root.expect("a root")
    }

    #[test]
    fn parses_every_item() {
        let (tree, errs) = tree(quote! {
            crate = ::sv;
            supervisor app(strategy = one_for_one, within = 5s) {
                worker db(restart = permanent, backoff = 10ms..1s, significant) = Db { url };
                supervisor http { worker l = L; }
                group g(strategy = rest_for_one);
                override db(strategy = one_for_all);
            }
        });
        assert!(errs.is_empty(), "{:?}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>());
        assert_eq!(tree.krate.expect("a crate path").to_token_stream().to_string(), ":: sv");
        let root = tree.root.expect("a root");
        assert_eq!(root.items.len(), 4);
        assert_eq!(root.options.list.len(), 2);
        assert!(!root.incomplete);
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
        let (tree, errs) = tree(quote! { supervisor app(strategy one_for_all, within = 1s) { } });
        assert_eq!(errs.len(), 1);
        let root = tree.root.expect("a root");
        assert_eq!(root.options.list.len(), 2);
        assert!(matches!(root.options.list[0].value, RawValue::Broken(_)));
    }

    #[test]
    fn a_missing_comma_loses_no_option() {
        let (tree, errs) = tree(quote! { supervisor app(strategy = one_for_all within = 1s) { } });
        assert_eq!(errs.len(), 1, "{:?}", errs.iter().map(|e| e.to_string()).collect::<Vec<_>>());
        let root = tree.root.expect("a root");
        assert_eq!(root.options.list.len(), 2);
        assert!(!root.options.incomplete);
    }

    #[test]
    fn a_misspelt_keyword_is_read_as_the_item_it_is_close_to() {
        let (tree, errs) = tree(quote! {
            supervisor app { wroker a = Idle; grup g; worker b(group = g) = Idle; }
        });
        let errs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("did you mean `worker`?"), "{errs:?}");
        assert!(errs[1].contains("did you mean `group`?"), "{errs:?}");
        let root = tree.root.expect("a root");
        assert_eq!(root.items.len(), 3);
        assert!(!root.incomplete);
    }

    #[test]
    fn recovery_after_an_unknown_item_stops_at_its_braces() {
        let errs = errors(quote! {
            supervisor app { zzzzz http { worker l = L; } qqqqq b = Idle; }
        });
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[1].contains("unknown item `qqqqq`"), "{errs:?}");
    }

    #[test]
    fn hyphenated_ids_are_one_error_and_read_with_underscores() {
        let (tree, errs) =
            tree(quote! { supervisor app { worker my-db-2 = Idle; worker b(max-restarts = 1) = Idle; } });
        let errs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("`my-db-2` has a hyphen: write `my_db_2`"), "{errs:?}");
        let root = tree.root.expect("a root");
        let Item::Worker(w) = &root.items[0] else { panic!("a worker") };
        assert_eq!(w.id.to_string(), "my_db_2");
        assert!(w.expr.is_some());
    }

    #[test]
    fn rust_where_the_dsl_takes_a_word_is_kept_whole() {
        let root = root(quote! { supervisor app(strategy = Strategy::OneForAll, within = Duration::from_secs(5)) {} });
        assert_eq!(root.options.list.len(), 2);
        for opt in &root.options.list {
            assert!(matches!(opt.value, RawValue::Rust(_)), "{}", opt.key);
        }
    }

    #[test]
    fn a_number_and_its_unit_apart_are_one_error() {
        let errs = errors(quote! { supervisor app(within = 5 s, max_restarts = 2) {} });
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("write `5s`"), "{errs:?}");
    }

    #[test]
    fn negative_values_say_so_over_sign_and_number() {
        let errs =
            errors(quote! { supervisor app(within = -5s, max_restarts = -1) { worker a(backoff = 1s..-2s) = A; } });
        assert_eq!(
            errs,
            [
                "`within` cannot be negative, and `-5s` is: write a duration longer than zero, e.g. `5s`",
                "`max_restarts` cannot be negative, and `-1` is: write a whole number, 0 or more",
                "`backoff` cannot be negative, and `-2s` is: write a duration longer than zero, e.g. `2s`",
            ]
        );
    }

    #[test]
    fn a_broken_item_marks_its_supervisor_incomplete() {
        let (tree, errs) = tree(quote! {
            supervisor app { supervisor a { 5 } supervisor b { worker x = X; } }
        });
        assert_eq!(errs.len(), 1);
        let root = tree.root.expect("a root");
        let [Item::Supervisor(a), Item::Supervisor(b)] = root.items.as_slice() else { panic!("two supervisors") };
        assert!(a.incomplete && !b.incomplete && !root.incomplete);
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
            quote! { crate sv; supervisor app {} },
            quote! { crate = ; supervisor app {} },
            quote! { 42 },
        ];
        for case in cases {
            assert!(!tree(case.clone()).1.is_empty(), "no error for `{case}`");
        }
    }
}
