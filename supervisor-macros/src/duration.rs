//! Duration literals of the DSL: an integer or decimal number with a unit,
//! `500ms`, `5s`, `1.5s`, `2m`. They reach the macro as one literal token
//! whose suffix is the unit.

use std::time::Duration;

use proc_macro2::Span;
use syn::Lit;

/// The units, with their length in nanoseconds.
pub(crate) const UNITS: &[(&str, u128)] =
    &[("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)];

/// Spellings users reach for, and the unit they mean.
const ALIASES: &[(&str, &str)] = &[
    ("ns", "us"),
    ("µs", "us"),
    ("micros", "us"),
    ("msec", "ms"),
    ("millis", "ms"),
    ("sec", "s"),
    ("secs", "s"),
    ("second", "s"),
    ("seconds", "s"),
    ("min", "m"),
    ("mins", "m"),
    ("minute", "m"),
    ("minutes", "m"),
    ("hr", "h"),
    ("hrs", "h"),
    ("hour", "h"),
    ("hours", "h"),
];

/// Parses a duration literal, or says what is wrong with it.
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
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let too_long = || err(lit.span(), format!("duration `{text}` is too long"));
    let mantissa: u128 = format!("{int}{frac}").parse().map_err(|_| too_long())?;
    let scale = 10u128.checked_pow(u32::try_from(frac.len()).map_err(|_| too_long())?).ok_or_else(too_long)?;
    let scaled = mantissa.checked_mul(unit_nanos).ok_or_else(too_long)?;
    if scaled % scale != 0 {
        return Err(err(lit.span(), format!("duration `{text}` is finer than a nanosecond: round it")));
    }
    let nanos = scaled / scale;
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| too_long())?;
    // The remainder of a division by 10^9 always fits in a u32.
    let sub = (nanos % 1_000_000_000) as u32;
    Ok(Duration::new(secs, sub))
}

/// The message for a unit that is not one of the DSL's.
fn bad_unit(digits: &str, unit: &str) -> String {
    let hint = if matches!(unit, "d" | "day" | "days") {
        match digits.parse::<u64>().ok().and_then(|n| n.checked_mul(24)) {
            Some(hours) => format!(": days are not a unit; write `{hours}h`"),
            None => ": days are not a unit; write it in hours".to_string(),
        }
    } else if let Some((_, u)) = ALIASES.iter().find(|(a, _)| *a == unit) {
        format!(": did you mean `{digits}{u}`?")
    } else {
        String::new()
    };
    format!("unknown duration unit `{unit}` in `{digits}{unit}`{hint} (units: us, ms, s, m, h)")
}

/// How a duration is printed in messages: like `Duration`'s `Debug`, as the
/// runtime's `validate()` prints it (`10ms`, `1s`, `1.5s`).
pub(crate) fn show(d: Duration) -> String {
    format!("{d:?}")
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
    fn shows_like_debug() {
        assert_eq!(show(Duration::from_millis(10)), "10ms");
        assert_eq!(show(Duration::from_millis(1500)), "1.5s");
    }
}
