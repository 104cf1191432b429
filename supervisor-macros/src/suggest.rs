//! "Did you mean" for misspelled names. The distance is the rules' (the
//! runtime's `validate()` suggests with the same one).

pub(crate) use crate::rules::closest;

/// `did you mean `x`? ` with a trailing space, or nothing.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match closest(word, candidates) {
        Some(c) => format!("did you mean `{c}`? "),
        None => String::new(),
    }
}

/// `a, b or c`.
pub(crate) fn one_of(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_words() {
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn says_nothing_without_a_close_name() {
        assert_eq!(did_you_mean("stratgy", ["strategy"]), "did you mean `strategy`? ");
        assert_eq!(did_you_mean("zzzzzz", ["strategy"]), "");
    }
}
