//! The one way backstock writes a CSV cell: text a spreadsheet would run as a formula
//! is neutralized, then the cell is quoted when it must be. Every CSV the product
//! writes (tables, catalog and other downloads, royalty statements, claim packs) goes
//! through here, because what it writes came in part from uploaded files.

use std::borrow::Cow;

/// Whether a spreadsheet would take `s` as a formula: it starts with `=`, `+`, `@`, a
/// tab or a carriage return, or with `-` not starting a number (`-12`, `-0.50` and a
/// lone `-` are plain).
pub fn is_formula(s: &str) -> bool {
    if s.starts_with(['=', '+', '@', '\t', '\r']) {
        return true;
    }
    match s.strip_prefix('-') {
        Some(rest) => !rest.is_empty() && !is_number(rest),
        None => false,
    }
}

/// Digits with at most one decimal point and digits on both sides of it.
fn is_number(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// `s` as a spreadsheet will show it, never run: a formula gets a leading `'`.
/// (For writers that quote on their own, such as the `csv` crate.)
pub fn neutralize(s: &str) -> Cow<'_, str> {
    if is_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// One CSV cell: neutralized, then quoted (`"` doubled) when it holds a comma, a
/// quote or a line break.
pub fn cell(s: &str) -> Cow<'_, str> {
    let s = neutralize(s);
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        s
    }
}

/// One CSV record of cells, without its line ending.
pub fn row<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell(c));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralized_and_numbers_are_not() {
        for f in [
            "=1+1", "+1", "@SUM(A1)", "\t=x", "\r=x", "-cmd", "-1+1", "-1.", "-.5",
        ] {
            assert_eq!(neutralize(f), format!("'{f}"), "{f:?}");
        }
        for n in [
            "-12",
            "-0.50",
            "-",
            "",
            "12.5",
            "a=b",
            "Harbor Lights",
            "'=x",
        ] {
            assert_eq!(neutralize(n), n, "{n:?}");
        }
        assert_eq!(
            cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(row(["=x", "-3", "a\nb"]), "'=x,-3,\"a\nb\"");
    }
}
