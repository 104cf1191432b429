//! "Did you mean" for misspelled names: the closest candidate by edit
//! distance, when it is close enough to be the likely intent.

/// The candidate closest to `word`, if one is within a third of its length
/// (at least one edit), as rustc does for its own suggestions.
pub(crate) fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = word.chars().count().max(3) / 3;
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (distance(&word.to_lowercase(), &c.to_lowercase()), c))
        // A name of one or two letters is "close" to any other: no guess.
        .filter(|(d, _)| *d <= limit && *d < word.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

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

/// Optimal string alignment distance: Levenshtein plus swaps of two
/// neighbours, so that `cahce` is one edit from `cache`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(closest("stratgy", ["strategy", "within"]), Some("strategy"));
        assert_eq!(closest("cahce", ["cache", "db"]), Some("cache"));
        assert_eq!(closest("injest", ["ingest"]), Some("ingest"));
        assert_eq!(closest("one_for_al", ["one_for_one", "one_for_all", "rest_for_one"]), Some("one_for_all"));
    }

    #[test]
    fn does_not_suggest_far_names() {
        assert_eq!(closest("db", ["cache"]), None);
        assert_eq!(closest("b", ["a"]), None);
        assert_eq!(closest("zzzzzz", ["strategy"]), None);
    }

    #[test]
    fn lists_words() {
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }
}
