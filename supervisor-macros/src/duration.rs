//! Duration literals of the DSL: an integer or decimal number with a unit,
//! `500ms`, `5s`, `1.5s`, `2m`. They reach the macro as one literal token
//! whose suffix is the unit.

use std::time::Duration;

use proc_macro2::Span;
use syn::Lit;

/// The units, with their length in nanoseconds.
pub(crate) const UNITS: &[(&str, u128)] =
    &[("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)];

/// Spellings users reach for: (spelling, the unit of the DSL of the same
/// magnitude, length in nanoseconds).
const ALIASES: &[(&str, &str, u128)] = &[
    ("ns", "us", 1),
    ("nanos", "us", 1),
    ("nsec", "us", 1),
    ("µs", "us", 1_000),
    ("micros", "us", 1_000),
    ("usec", "us", 1_000),
    ("msec", "ms", 1_000_000),
    ("millis", "ms", 1_000_000),
    ("sec", "s", 1_000_000_000),
    ("secs", "s", 1_000_000_000),
    ("second", "s", 1_000_000_000),
    ("seconds", "s", 1_000_000_000),
    ("min", "m", 60_000_000_000),
    ("mins", "m", 60_000_000_000),
    ("minute", "m", 60_000_000_000),
    ("minutes", "m", 60_000_000_000),
    ("hr", "h", 3_600_000_000_000),
    ("hrs", "h", 3_600_000_000_000),
    ("hour", "h", 3_600_000_000_000),
    ("hours", "h", 3_600_000_000_000),
    ("d", "h", 86_400_000_000_000),
    ("day", "h", 86_400_000_000_000),
    ("days", "h", 86_400_000_000_000),
];

/// Why a number of some unit is not a whole number of nanoseconds.
enum Inexact {
    TooLong,
    FinerThanANanosecond,
}

/// `digits` (`5`, `1.5`, `1_000`) of a unit `unit_nanos` long, in
/// nanoseconds, exactly.
fn nanos(digits: &str, unit_nanos: u128) -> Result<u128, Inexact> {
    let digits = digits.replace('_', "");
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    let mantissa: u128 = format!("{int}{frac}").parse().map_err(|_| Inexact::TooLong)?;
    let scale = u32::try_from(frac.len()).ok().and_then(|n| 10u128.checked_pow(n)).ok_or(Inexact::TooLong)?;
    let scaled = mantissa.checked_mul(unit_nanos).ok_or(Inexact::TooLong)?;
    if scaled % scale != 0 {
        return Err(Inexact::FinerThanANanosecond);
    }
    Ok(scaled / scale)
}

/// `nanos` written in a unit `unit_nanos` long (`1.5`, `0.005`), if a
/// decimal writes it exactly.
fn written_in(nanos: u128, unit_nanos: u128) -> Option<String> {
    let whole = nanos / unit_nanos;
    let mut rest = nanos % unit_nanos;
    if rest == 0 {
        return Some(whole.to_string());
    }
    let mut out = format!("{whole}.");
    // A unit is at most 3.6e12 ns: the decimals of an exact value end
    // within 13 digits, and those of a third of a minute never do.
    for _ in 0..13 {
        rest *= 10;
        out.push(char::from(b'0' + u8::try_from(rest / unit_nanos).ok()?));
        rest %= unit_nanos;
        if rest == 0 {
            return Some(out);
        }
    }
    None
}

/// The duration `number` `unit` means, written in a unit of the DSL of the
/// same magnitude: `5 s` is `5s`, `2secs` is `2s`, `5ns` is `0.005us`, `3days`
/// is `72h`. `None` when the unit means nothing known, or no unit writes it.
pub(crate) fn suggest_unit(number: &str, unit: &str) -> Option<String> {
    if UNITS.iter().any(|(u, _)| *u == unit) {
        return Some(format!("{}{unit}", number.replace('_', "")));
    }
    let &(_, target, alias_nanos) = ALIASES.iter().find(|(a, _, _)| *a == unit)?;
    let target_nanos = UNITS.iter().find(|(u, _)| *u == target).map(|(_, n)| *n)?;
    let nanos = nanos(number, alias_nanos).ok()?;
    // A spelling of another magnitude (`ns`, `days`) is best read in the
    // largest unit that writes it whole: `3000000ns` is `3ms`.
    if alias_nanos != target_nanos
        && let Some((unit, unit_nanos)) = UNITS.iter().rev().find(|(_, n)| nanos >= *n && nanos % n == 0)
    {
        return Some(format!("{}{unit}", nanos / unit_nanos));
    }
    Some(format!("{}{target}", written_in(nanos, target_nanos)?))
}

/// The message for a unit that is not one of the DSL's.
fn bad_unit(digits: &str, unit: &str) -> String {
    let written = format!("{digits}{unit}");
    let hint = match (ALIASES.iter().find(|(a, _, _)| *a == unit), suggest_unit(digits, unit)) {
        (Some((_, "h", _)), Some(fixed)) if unit.starts_with('d') => format!(": days are not a unit; write `{fixed}`"),
        (Some((_, "us", 1)), Some(fixed)) => format!(": nanoseconds are not a unit; write `{fixed}`"),
        (Some(_), Some(fixed)) => format!(": did you mean `{fixed}`?"),
        (Some((_, target, _)), None) => format!(
            ": `{written}` cannot be written in `{target}` or another unit exactly (a duration is a whole number of nanoseconds)"
        ),
        (None, _) => String::new(),
    };
    format!("unknown duration unit `{unit}` in `{written}`{hint} (units: us, ms, s, m, h)")
}

/// Parses a duration literal, or says what is wrong with it. (A negative
/// one never reaches it: the parser reports the sign.)
pub(crate) fn parse(lit: &Lit) -> Result<Duration, syn::Error> {
    let (digits, unit) = match lit {
        Lit::Int(i) => (i.base10_digits(), i.suffix()),
        Lit::Float(f) => (f.base10_digits(), f.suffix()),
        Lit::Str(s) => {
            return Err(err(
                lit.span(),
                format!("expected a duration, found the string \"{}\": write it without quotes, e.g. `5s`", s.value()),
            ));
        }
        _ => {
            return Err(err(lit.span(), "expected a duration like `500ms`, `5s` or `1.5s`"));
        }
    };
    let text = format!("{digits}{unit}");
    if unit.is_empty() {
        return Err(err(
            lit.span(),
            format!("duration `{text}` has no unit: write it with one of us, ms, s, m or h, e.g. `{digits}s`"),
        ));
    }
    let Some(&(_, unit_nanos)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(err(lit.span(), bad_unit(digits, unit)));
    };
    if digits.contains(['e', 'E']) {
        return Err(err(lit.span(), format!("duration `{text}` has an exponent: write the number out")));
    }
    let nanos = nanos(digits, unit_nanos).map_err(|why| match why {
        Inexact::TooLong => err(lit.span(), format!("duration `{text}` is too long")),
        Inexact::FinerThanANanosecond => {
            err(lit.span(), format!("duration `{text}` is finer than a nanosecond: round it"))
        }
    })?;
    let secs =
        u64::try_from(nanos / 1_000_000_000).map_err(|_| err(lit.span(), format!("duration `{text}` is too long")))?;
    // The remainder of a division by 10^9 always fits in a u32.
    let sub = (nanos % 1_000_000_000) as u32;
    Ok(Duration::new(secs, sub))
}

fn err(span: Span, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Lit {
        syn::parse_str(s).expect("a literal")
    }

    fn ok(s: &str) -> Duration {
        parse(&lit(s)).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn fails(s: &str) -> String {
        parse(&lit(s)).expect_err(s).to_string()
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(ok("7us"), Duration::from_micros(7));
        assert_eq!(ok("10ms"), Duration::from_millis(10));
        assert_eq!(ok("5s"), Duration::from_secs(5));
        assert_eq!(ok("2m"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("1_000ms"), Duration::from_secs(1));
    }

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("0.25ms"), Duration::from_micros(250));
        assert_eq!(ok("0.5h"), Duration::from_secs(1800));
    }

    #[test]
    fn rejects_bad_units_and_missing_units() {
        assert!(fails("5").contains("has no unit"), "{}", fails("5"));
        assert!(fails("1.5").contains("has no unit"));
        assert!(fails("3days").contains("write `72h`"), "{}", fails("3days"));
        assert!(fails("3secs").contains("did you mean `3s`?"));
        assert!(fails("3x").contains("unknown duration unit `x`"));
        assert!(fails("0.0000000001s").contains("finer than a nanosecond"));
        assert!(fails("\"5s\"").contains("without quotes"));
    }

    #[test]
    fn unit_suggestions_keep_the_magnitude() {
        assert_eq!(
            fails("5ns"),
            "unknown duration unit `ns` in `5ns`: nanoseconds are not a unit; write `0.005us` (units: us, ms, s, m, h)"
        );
        assert!(fails("5000ns").contains("write `5us`"), "{}", fails("5000ns"));
        assert!(fails("3000000ns").contains("write `3ms`"), "{}", fails("3000000ns"));
        assert!(fails("1.5days").contains("write `36h`"), "{}", fails("1.5days"));
        assert!(fails("250millis").contains("did you mean `250ms`?"));
        assert!(fails("0.5ns").contains("cannot be written"), "{}", fails("0.5ns"));
        assert_eq!(suggest_unit("5", "s").as_deref(), Some("5s"));
        assert_eq!(suggest_unit("1_500", "ns").as_deref(), Some("1.5us"));
        assert_eq!(suggest_unit("5", "fortnights"), None);
        // What is suggested parses back to the same length.
        for (number, unit) in [("5", "ns"), ("1500", "nanos"), ("2", "secs"), ("3", "days"), ("0.25", "hours")] {
            let fixed = suggest_unit(number, unit).expect("a suggestion");
            let alias = ALIASES.iter().find(|(a, _, _)| *a == unit).expect("an alias").2;
            let expected = nanos(number, alias).ok().expect("exact");
            assert_eq!(ok(&fixed).as_nanos(), expected, "{number}{unit} -> {fixed}");
        }
    }
}
