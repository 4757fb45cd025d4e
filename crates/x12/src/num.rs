//! X12 numeric elements (type R, "decimal number"), read without floating point.

/// Splits an optional leading sign off `text`.
fn sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix('+') {
        (false, rest)
    } else {
        (false, text)
    }
}

/// True if `text` is an X12 decimal: optional sign, digits, at most one decimal
/// point, at least one digit (`12`, `-3`, `9.99`, `.5`, `12.`).
pub(crate) fn is_decimal(text: &str) -> bool {
    let (_, body) = sign(text);
    let (int, frac) = match body.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (body, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac)
}

/// The value of `text` if it is a decimal with no fractional part (`12`, `-3`,
/// `12.00`) that fits in an `i64`.
pub(crate) fn whole_number(text: &str) -> Option<i64> {
    if !is_decimal(text) {
        return None;
    }
    let (negative, body) = sign(text);
    let (int, frac) = match body.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (body, ""),
    };
    if !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    let mut value: i128 = 0;
    for b in int.bytes() {
        value = value
            .checked_mul(10)?
            .checked_add(i128::from(b.checked_sub(b'0')?))?;
        if value > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    if negative {
        value = -value;
    }
    i64::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        for ok in ["0", "12", "-3", "+4", "9.99", ".5", "12.", "-0.25"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", "-", ".", "1.2.3", "1e3", "12a", " 1", "1,000"] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(whole_number("12"), Some(12));
        assert_eq!(whole_number("-3"), Some(-3));
        assert_eq!(whole_number("12.000"), Some(12));
        assert_eq!(whole_number("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(whole_number("9223372036854775807"), Some(i64::MAX));
        assert_eq!(whole_number("9223372036854775808"), None);
        assert_eq!(whole_number("1.5"), None);
        assert_eq!(
            whole_number("99999999999999999999999999999999999999999"),
            None
        );
        assert_eq!(whole_number("abc"), None);
    }
}
