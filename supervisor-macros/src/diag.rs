//! Shapes of compile errors beyond one message on one token: a message over
//! a range of tokens, and a note that points at a second place of the same
//! mistake ("first declared here"), which a proc macro on stable cannot
//! attach as a label of its own, so it is written into the one error.

use std::fmt::Display;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use syn::Error;

/// An error spanning from `start` to `end` (`restart = permanent`).
pub(crate) fn over(start: Span, end: Span, message: impl Display) -> Error {
    // `syn` spans an error from its first token to its last; two stand-ins
    // carry the spans.
    let first = Ident::new("start", start);
    let last = Ident::new("end", end);
    let range: TokenStream = quote!(#first #last);
    Error::new_spanned(range, message)
}

/// An error over `start..end` whose message is followed by a note on where
/// `other` is: `note: `a` is first declared on line 7`. `what` is the note's
/// subject and verb, `elsewhere` its ending when lines are not known
/// (outside a compiler).
pub(crate) fn with_note(
    start: Span,
    end: Span,
    message: impl Display,
    other: Span,
    what: &str,
    elsewhere: &str,
) -> Error {
    let place = match (line_column(start), line_column(other)) {
        (Some((here, _)), Some((there, column))) if here == there => format!("on this line, at column {column}"),
        (_, Some((there, _))) => format!("on line {there}"),
        _ => elsewhere.to_string(),
    };
    over(start, end, format!("{message}\nnote: {what} {place}"))
}

/// Where a span starts, as rustc shows it (1-based), when the macro runs
/// inside the compiler.
fn line_column(span: Span) -> Option<(usize, usize)> {
    if !proc_macro::is_available() {
        return None;
    }
    let span = span.unwrap();
    Some((span.line(), span.column()))
}
