//! Option typing: an option's key is known and written where it applies,
//! once, and its value is of the kind its key takes. What a typed value must
//! then hold (no zero window, a backoff in order) is a rule, in `validate`.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::{Error, Lit};

use crate::ast::{
    ChoiceSet, KEYS, KeyDef, Opt, Options, Place, RawOption, RawOptions, RawValue, SHUTDOWN_WORDS, Setting, ValueKind,
    name,
};
use crate::suggest::{did_you_mean, one_of};
use crate::{diag, duration};

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
    pub(crate) fn place(&self) -> Place {
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
    pub(crate) fn describe(&self) -> String {
        match self {
            Owner::Supervisor { path, root: true } => format!("the root supervisor `{path}`"),
            Owner::Supervisor { path, root: false } => format!("supervisor `{path}`"),
            Owner::Worker { path } => format!("worker `{path}`"),
            Owner::Group { id, supervisor } => crate::rules::group_scope(id, supervisor),
            Owner::Override { id, supervisor } => crate::rules::override_scope(id, supervisor),
            Owner::WorkerType { name } => format!("`#[worker]` of `{name}`"),
        }
    }
}

/// Types the options of one item: known keys in their place, each once,
/// with values of the key's kind.
pub(crate) fn options(owner: &Owner<'_>, raw: RawOptions, errors: &mut Vec<Error>) -> Options {
    let mut out = Options { incomplete: raw.incomplete, ..Options::default() };
    let mut seen: Vec<(&'static str, Span)> = Vec::new();
    for opt in raw.list {
        let key = name(&opt.key);
        let Some(def) = known_key(owner, &key, opt.key.span(), errors) else {
            continue;
        };
        if !allowed_here(owner, def, opt.key.span(), errors) {
            continue;
        }
        if !first_of_its_key(owner, def.name, &opt, &seen, errors) {
            continue;
        }
        seen.push((def.name, opt.key.span()));
        let value_span = opt.value.span(&opt.key);
        match setting(owner, def, &opt.value, value_span) {
            Ok(Some(setting)) => out.list.push(Opt { key: def.name, key_span: opt.key.span(), value_span, setting }),
            Ok(None) => out.broken.push(def.name),
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

/// Rule: each key once per item; the one error notes where it is first set.
fn first_of_its_key(
    owner: &Owner<'_>,
    key: &str,
    opt: &RawOption,
    seen: &[(&'static str, Span)],
    errors: &mut Vec<Error>,
) -> bool {
    let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) else {
        return true;
    };
    let span = opt.key.span();
    errors.push(diag::with_note(
        span,
        span,
        format!("duplicate option `{key}` on {}: set it once", owner.describe()),
        *first,
        &format!("`{key}` is first set"),
        "before",
    ));
    false
}

/// Gives a written value the meaning its key asks for; `None` for a value
/// whose error is reported already.
fn setting(owner: &Owner<'_>, def: &KeyDef, value: &RawValue, span: Span) -> syn::Result<Option<Setting>> {
    let key = def.name;
    match value {
        RawValue::Broken(_) => return Ok(None),
        RawValue::Rust(tokens) => return Err(rust_value(def, tokens)),
        RawValue::Code(group) => {
            return if owner.place() == Place::WorkerType {
                Err(Error::new(
                    group.span(),
                    format!(
                        "`#[worker]` options are constants: write `{key}` as a literal here, or set a run-time value in the tree, e.g. `worker a({key} = {{ ... }}) = ...`"
                    ),
                ))
            } else {
                Ok(Some(Setting::Code(group.clone())))
            };
        }
        RawValue::Flag if !matches!(def.kind, ValueKind::Bool) => return Err(Error::new(span, needs_value(def))),
        _ => {}
    }
    let setting = match def.kind {
        ValueKind::Choice(set) => choice(set, key, value)?,
        ValueKind::U32 => integer(key, value, u64::from(u32::MAX))?,
        ValueKind::Usize => integer(key, value, u64::try_from(usize::MAX).unwrap_or(u64::MAX))?,
        ValueKind::Duration => match value {
            RawValue::Lit(lit) => Setting::Duration(duration::parse(lit)?),
            other => return Err(not_a(key, "a duration like `5s`", other)),
        },
        ValueKind::Shutdown => shutdown(value)?,
        ValueKind::Backoff => backoff(value)?,
        ValueKind::GroupName => match value {
            RawValue::Word(w) => Setting::Group(name(w)),
            other => return Err(not_a(key, "the name of a group of this supervisor", other)),
        },
        ValueKind::Bool => match value {
            RawValue::Flag => Setting::Bool(true),
            RawValue::Lit(Lit::Bool(b)) => Setting::Bool(b.value),
            RawValue::Word(w) if w == "true" => Setting::Bool(true),
            RawValue::Word(w) if w == "false" => Setting::Bool(false),
            other => return Err(not_a(key, "nothing (`significant`) or `true` / `false`", other)),
        },
    };
    Ok(Some(setting))
}

fn needs_value(def: &KeyDef) -> String {
    format!("`{}` needs a value, e.g. `{} = {}`", def.name, def.name, example(def))
}

/// A value of the kind `def` takes, for messages.
fn example(def: &KeyDef) -> &'static str {
    match def.kind {
        ValueKind::Choice(set) => set.choices[0].0,
        ValueKind::U32 | ValueKind::Usize => "3",
        ValueKind::Duration | ValueKind::Shutdown => "5s",
        ValueKind::Backoff => "10ms..1s",
        ValueKind::GroupName => "my_group",
        ValueKind::Bool => "true",
    }
}

/// Rule: the DSL takes words and literals; Rust goes in braces. Says what
/// the Rust means in the DSL when it can tell (`Strategy::OneForAll` is
/// `one_for_all`, `Duration::from_secs(5)` is `5s`).
fn rust_value(def: &KeyDef, tokens: &TokenStream) -> Error {
    let key = def.name;
    let written = compact(tokens);
    let kind = match def.kind {
        ValueKind::Choice(set) => format!("one of its words ({})", one_of(&set.words())),
        ValueKind::U32 | ValueKind::Usize => "a whole number".to_string(),
        ValueKind::Duration => "a duration like `5s`".to_string(),
        ValueKind::Shutdown => "a duration like `5s`, brutal_kill or infinity".to_string(),
        ValueKind::Backoff => "`none` or a range of durations like `10ms..1s`".to_string(),
        ValueKind::GroupName => "the name of a group".to_string(),
        ValueKind::Bool => "`true` or `false`".to_string(),
    };
    let dsl = dsl_equivalent(def, tokens).unwrap_or_else(|| example(def).to_string());
    Error::new_spanned(
        tokens,
        format!(
            "`{key}` takes {kind} as the DSL writes it, not a Rust expression: write `{key} = {dsl}`, or put the expression in braces to evaluate it at run time: `{key} = {{ {written} }}`"
        ),
    )
}

/// The DSL value a Rust expression spells, if it is one the DSL has.
fn dsl_equivalent(def: &KeyDef, tokens: &TokenStream) -> Option<String> {
    let word = |set: &ChoiceSet| {
        let last = idents(tokens).into_iter().last()?;
        let word = snake_case(&last);
        set.words().contains(&word.as_str()).then_some(word)
    };
    match def.kind {
        ValueKind::Choice(set) => word(set),
        ValueKind::Duration => durations(tokens).into_iter().next(),
        ValueKind::Shutdown => word(&SHUTDOWN_WORDS).or_else(|| durations(tokens).into_iter().next()),
        ValueKind::Backoff => match durations(tokens).as_slice() {
            [min, max] => Some(format!("{min}..{max}")),
            _ => idents(tokens).last().filter(|w| *w == "None").map(|_| "none".to_string()),
        },
        _ => None,
    }
}

/// Every identifier of `tokens`, in order, groups included.
fn idents(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for t in tokens.clone() {
        match t {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => out.extend(idents(&g.stream())),
            _ => {}
        }
    }
    out
}

/// The durations that `Duration::from_secs(5)`-style calls in `tokens`
/// write, in the DSL (`5s`).
fn durations(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    let mut tokens = tokens.clone().into_iter().peekable();
    while let Some(t) = tokens.next() {
        let args = match (&t, tokens.peek()) {
            (TokenTree::Ident(_), Some(TokenTree::Group(args))) if args.delimiter() == Delimiter::Parenthesis => {
                args.stream()
            }
            (TokenTree::Group(g), _) => {
                out.extend(durations(&g.stream()));
                continue;
            }
            _ => continue,
        };
        tokens.next();
        let unit = match t.to_string().as_str() {
            "from_secs" | "from_secs_f64" | "from_secs_f32" => "s",
            "from_millis" => "ms",
            "from_micros" => "us",
            "from_nanos" => "ns",
            "from_mins" => "min",
            "from_hours" => "hours",
            _ => {
                out.extend(durations(&args));
                continue;
            }
        };
        let args: Vec<TokenTree> = args.into_iter().collect();
        if let [TokenTree::Literal(n)] = args.as_slice()
            && let Some(d) = duration::suggest_unit(&n.to_string(), unit)
        {
            out.push(d);
        }
    }
    out
}

/// `OneForAll` as the DSL writes it: `one_for_all`.
fn snake_case(word: &str) -> String {
    let mut out = String::new();
    for (i, c) in word.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Tokens as a user writes them: `Duration::from_secs(5)`, not
/// `Duration :: from_secs (5)`.
fn compact(tokens: &TokenStream) -> String {
    let mut out = String::new();
    let mut word_before = false;
    for t in tokens.clone() {
        match t {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{ ", " }"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                out.push_str(&compact(&g.stream()));
                out.push_str(close);
                word_before = false;
            }
            TokenTree::Punct(p) => {
                out.push(p.as_char());
                if p.as_char() == ',' {
                    out.push(' ');
                }
                word_before = false;
            }
            word => {
                if word_before {
                    out.push(' ');
                }
                out.push_str(&word.to_string());
                word_before = true;
            }
        }
    }
    out
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

/// Rule: integers are plain and in range (a negative one is reported by
/// the parser).
fn integer(key: &str, value: &RawValue, max: u64) -> syn::Result<Setting> {
    let RawValue::Lit(Lit::Int(lit)) = value else {
        return Err(not_a(key, "a whole number", value));
    };
    let digits = lit.base10_digits();
    if !lit.suffix().is_empty() {
        return Err(Error::new(
            lit.span(),
            format!("`{key}` takes a plain whole number, found `{lit}`: write `{key} = {digits}`"),
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
        RawValue::Rust(t) => (found.span(&syn::Ident::new(key, Span::call_site())), format!("`{}`", compact(t))),
        RawValue::Broken(span) => (*span, String::from("something else")),
    };
    Error::new(span, format!("`{key}` takes {expected}, found {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn def(key: &str) -> &'static KeyDef {
        KEYS.iter().find(|k| k.name == key).expect("a key")
    }

    #[test]
    fn rust_is_read_back_as_the_dsl_where_it_can_be() {
        let cases = [
            ("strategy", quote!(Strategy::OneForAll), Some("one_for_all")),
            ("escalation", quote!(supervisor::Escalation::ShutdownTree), Some("shutdown_tree")),
            ("within", quote!(Duration::from_secs(5)), Some("5s")),
            ("within", quote!(std::time::Duration::from_millis(250)), Some("250ms")),
            ("heartbeat", quote!(Duration::from_nanos(1500)), Some("1.5us")),
            ("shutdown", quote!(Shutdown::BrutalKill), Some("brutal_kill")),
            ("shutdown", quote!(Shutdown::Timeout(Duration::from_secs(2))), Some("2s")),
            (
                "backoff",
                quote!(Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1))),
                Some("10ms..1s"),
            ),
            ("strategy", quote!(Strategy::Fastest), None),
            ("within", quote!(cfg.window), None),
        ];
        for (key, tokens, expected) in cases {
            assert_eq!(dsl_equivalent(def(key), &tokens).as_deref(), expected, "{key} = {tokens}");
        }
    }

    #[test]
    fn rust_is_quoted_as_written() {
        assert_eq!(compact(&quote!(Duration::from_secs(5))), "Duration::from_secs(5)");
        assert_eq!(compact(&quote!(Backoff::exponential(a, b))), "Backoff::exponential(a, b)");
        assert_eq!(compact(&quote!(cfg.window)), "cfg.window");
    }
}
