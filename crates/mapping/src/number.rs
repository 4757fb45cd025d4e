//! Exact decimal numbers as distributors write them: `1,234.56`, `1.234,56`, `$12.00`,
//! `(12.34)`, `12.34-`, `EUR 5,00`. No floating point anywhere.

/// A decimal number: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dec {
    pub mantissa: i128,
    pub scale: u32,
}

/// Most digits accepted in one number (keeps every sum far from overflow).
const MAX_DIGITS: usize = 24;
/// Most decimal places accepted.
const MAX_SCALE: u32 = 12;

impl Dec {
    pub const ZERO: Dec = Dec {
        mantissa: 0,
        scale: 0,
    };

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    pub fn neg(self) -> Dec {
        Dec {
            mantissa: -self.mantissa,
            scale: self.scale,
        }
    }

    pub fn abs(self) -> Dec {
        Dec {
            mantissa: self.mantissa.abs(),
            scale: self.scale,
        }
    }

    fn rescale(self, scale: u32) -> Option<i128> {
        let up = scale.checked_sub(self.scale)?;
        self.mantissa.checked_mul(10i128.checked_pow(up)?)
    }

    pub fn checked_add(self, other: Dec) -> Option<Dec> {
        let scale = self.scale.max(other.scale);
        let m = self.rescale(scale)?.checked_add(other.rescale(scale)?)?;
        Some(Dec { mantissa: m, scale })
    }

    pub fn checked_sub(self, other: Dec) -> Option<Dec> {
        self.checked_add(other.neg())
    }

    /// Decimal places that are not trailing zeros: 2 for `80.50`, 3 for `80.005`, 0 for
    /// `7.000`.
    pub fn places(self) -> u32 {
        let mut m = self.mantissa;
        let mut scale = self.scale;
        while scale > 0 && m % 10 == 0 {
            m /= 10;
            scale -= 1;
        }
        scale
    }

    /// The integer value, when there is no fractional part.
    pub fn to_integer(self) -> Option<i128> {
        let div = 10i128.checked_pow(self.scale)?;
        (self.mantissa % div == 0).then_some(self.mantissa / div)
    }

    /// Canonical text: `-1234.56`; '.' as decimal point, no thousands separators.
    /// Decimal places beyond two that are trailing zeros are dropped (`12.500` →
    /// `12.50`, `7.000` → `7.00`); otherwise the source's places are kept.
    pub fn to_canonical(self) -> String {
        let mut m = self.mantissa;
        let mut scale = self.scale;
        while scale > 2 && m % 10 == 0 {
            m /= 10;
            scale -= 1;
        }
        if scale == 1 {
            m *= 10;
            scale = 2;
        }
        let digits = m.unsigned_abs().to_string();
        let sign = if m < 0 { "-" } else { "" };
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let scale = scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }
}

/// The decimal places of an ISO 4217 currency (USD 2, JPY 0, BHD 3), for the codes
/// the importer accepts (`backstock-domain`'s `Currency`); `None` for another code
/// (the importer refuses it, naming it).
pub fn currency_places(code: &str) -> Option<u32> {
    backstock_domain::Currency::parse(&code.trim().to_ascii_uppercase())
        .ok()
        .map(|c| u32::from(c.exponent()))
}

/// The currencies a mark written beside an amount can stand for (`€` → EUR, `$` → any
/// dollar, `GBP` → GBP); `None` when the text carries no mark, or one this table does
/// not know (a mapping's own symbol such as `kr`): then nothing can be said of it.
pub fn mark_currencies(text: &str) -> Option<(String, Vec<String>)> {
    let mark: String = text
        .chars()
        .filter(|c| {
            !(c.is_ascii_digit()
                || c.is_whitespace()
                || matches!(
                    c,
                    '.' | ','
                        | '\''
                        | '-'
                        | '+'
                        | '('
                        | ')'
                        | '\u{2212}'
                        | '\u{2013}'
                        | '\u{2014}'
                        | '\u{202f}'
                ))
        })
        .collect();
    if mark.is_empty() {
        return None;
    }
    // `$` is written for dollars and pesos alike.
    let dollars = [
        "USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN", "ARS", "CLP", "COP", "UYU", "TWD",
    ];
    let upper = mark.to_uppercase();
    let codes: Vec<&str> = match upper.as_str() {
        "US$" => vec!["USD"],
        "C$" | "CA$" => vec!["CAD"],
        "R$" => vec!["BRL"],
        "A$" | "AU$" => vec!["AUD"],
        "NZ$" => vec!["NZD"],
        "$" => dollars.to_vec(),
        "€" => vec!["EUR"],
        "£" => vec!["GBP"],
        "¥" => vec!["JPY", "CNY"],
        m if m.len() == 3 && m.chars().all(|c| c.is_ascii_alphabetic()) => vec![m],
        _ => return None,
    };
    Some((mark, codes.into_iter().map(str::to_string).collect()))
}

/// How a layout writes numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberStyle {
    /// The decimal separator: '.' or ','.
    pub decimal: char,
    /// Characters accepted as thousands separators (in groups of three digits).
    pub thousands: Vec<char>,
    /// Currency symbols or codes stripped from either end (`$`, `€`, `EUR`).
    pub currency_symbols: Vec<String>,
}

impl NumberStyle {
    pub fn default_thousands(decimal: char) -> Vec<char> {
        if decimal == ',' {
            vec!['.', ' ', '\u{a0}', '\u{202f}', '\'']
        } else {
            vec![',', ' ', '\u{a0}', '\u{202f}', '\'']
        }
    }

    pub fn default_symbols() -> Vec<String> {
        [
            "US$", "$", "€", "£", "¥", "USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// An example amount in this style, for error messages.
    pub fn example(&self) -> &'static str {
        if self.decimal == ',' {
            "1.234,56"
        } else {
            "1,234.56"
        }
    }

    /// Parses `text` (already trimmed and known not to be empty).
    pub fn parse(&self, text: &str) -> Option<Dec> {
        if self.is_accounting_zero(text) {
            return Some(Dec::ZERO);
        }
        let (negative, core) = self.strip(text)?;
        let d = parse_core(core, self.decimal, &self.thousands)?;
        Some(if negative { d.neg() } else { d })
    }

    /// Zero as spreadsheets' accounting format writes it: a dash alone, or beside a
    /// currency symbol (`-`, `$ -`, `- €`, `£–`).
    fn is_accounting_zero(&self, text: &str) -> bool {
        let mut s = text.trim();
        for sym in &self.currency_symbols {
            if sym.is_empty() {
                continue;
            }
            if let Some(r) = strip_prefix_ci(s, sym) {
                s = r.trim();
            }
            if let Some(r) = strip_suffix_ci(s, sym) {
                s = r.trim();
            }
        }
        matches!(s, "-" | "\u{2013}" | "\u{2014}" | "\u{2212}")
    }

    /// Strips signs, parentheses, currency symbols and spaces from both ends; returns
    /// whether the number is negative and what is left.
    fn strip<'a>(&self, text: &'a str) -> Option<(bool, &'a str)> {
        let mut s = text.trim();
        let mut negations = 0u32;
        let mut parens = false;
        loop {
            let before = s;
            if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
                if parens {
                    return None;
                }
                parens = true;
                negations += 1;
                s = inner;
            }
            for minus in ['-', '\u{2212}'] {
                if let Some(r) = s.strip_prefix(minus) {
                    negations += 1;
                    s = r;
                }
                if let Some(r) = s.strip_suffix(minus) {
                    negations += 1;
                    s = r;
                }
            }
            if let Some(r) = s.strip_prefix('+') {
                s = r;
            }
            for sym in &self.currency_symbols {
                if sym.is_empty() {
                    continue;
                }
                if let Some(r) = strip_prefix_ci(s, sym) {
                    s = r;
                }
                if let Some(r) = strip_suffix_ci(s, sym) {
                    s = r;
                }
            }
            s = s.trim_matches(|c: char| c.is_whitespace());
            if s == before {
                break;
            }
        }
        if negations > 1 || s.is_empty() {
            return None;
        }
        Some((negations == 1, s))
    }
}

fn strip_prefix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    let head = s.get(..p.len())?;
    head.eq_ignore_ascii_case(p).then(|| &s[p.len()..])
}

fn strip_suffix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    let at = s.len().checked_sub(p.len())?;
    let tail = s.get(at..)?;
    tail.eq_ignore_ascii_case(p).then(|| &s[..at])
}

/// Digits with an optional decimal separator and thousands separators in groups of
/// three (`1,234,567.89`); a leading separator is not allowed.
fn parse_core(s: &str, decimal: char, thousands: &[char]) -> Option<Dec> {
    let (int, frac) = match s.find(decimal) {
        Some(i) => (&s[..i], Some(&s[i + decimal.len_utf8()..])),
        None => (s, None),
    };
    let mut digits = String::with_capacity(s.len());
    // Integer part: groups separated by one thousands separator.
    let mut group_len = 0usize;
    let mut grouped = false;
    let mut sep: Option<char> = None;
    for c in int.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            group_len += 1;
        } else if thousands.contains(&c) {
            // The same separator throughout; the first group 1–3 digits, the rest 3.
            if sep.is_some_and(|p| p != c) || group_len == 0 || (grouped && group_len != 3) {
                return None;
            }
            if !grouped && group_len > 3 {
                return None;
            }
            sep = Some(c);
            grouped = true;
            group_len = 0;
        } else {
            return None;
        }
    }
    if grouped && group_len != 3 {
        return None;
    }
    let mut scale = 0u32;
    if let Some(frac) = frac {
        for c in frac.chars() {
            if !c.is_ascii_digit() {
                return None;
            }
            digits.push(c);
            scale += 1;
        }
        if int.is_empty() && frac.is_empty() {
            return None;
        }
    }
    if digits.is_empty() || scale > MAX_SCALE {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > MAX_DIGITS {
        return None;
    }
    let mantissa: i128 = if trimmed.is_empty() {
        0
    } else {
        trimmed.parse().ok()?
    };
    Some(Dec { mantissa, scale })
}

/// Parses the plain decimal text a spreadsheet number cell becomes (`-1234.5`,
/// `1e-7` never occurs as Rust prints floats without exponents).
pub fn parse_plain(s: &str) -> Option<Dec> {
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let d = parse_core(rest, '.', &[])?;
    Some(if neg { d.neg() } else { d })
}

/// Rounds the decimal text of a spreadsheet number to 15 significant digits, as
/// Excel shows numbers, dropping trailing zeros: `10.000000000000002` → `10`,
/// `3703.6799999999998` → `3703.68`. Digits of the integer part are never rounded
/// away. Works on the text, so no float arithmetic.
pub fn tidy_float_text(s: &str) -> String {
    const SIGNIFICANT: usize = 15;
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return s.to_string();
    }
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
    let mut point = int.len();
    let Some(first) = digits.iter().position(|b| *b != b'0') else {
        return "0".to_string();
    };
    let keep = (first + SIGNIFICANT).max(point);
    if keep < digits.len() {
        let round_up = digits[keep] >= b'5';
        digits.truncate(keep);
        if round_up {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, b'1');
                    point += 1;
                    break;
                }
                i -= 1;
                if digits[i] == b'9' {
                    digits[i] = b'0';
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
    }
    let int_part = String::from_utf8_lossy(&digits[..point]).into_owned();
    let frac_part = String::from_utf8_lossy(&digits[point..]).into_owned();
    let frac_part = frac_part.trim_end_matches('0');
    let int_part = match int_part.trim_start_matches('0') {
        "" => "0",
        t => t,
    };
    let body = if frac_part.is_empty() {
        int_part.to_string()
    } else {
        format!("{int_part}.{frac_part}")
    };
    if neg && body != "0" {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> NumberStyle {
        NumberStyle {
            decimal: '.',
            thousands: NumberStyle::default_thousands('.'),
            currency_symbols: NumberStyle::default_symbols(),
        }
    }
    fn eu() -> NumberStyle {
        NumberStyle {
            decimal: ',',
            thousands: NumberStyle::default_thousands(','),
            currency_symbols: NumberStyle::default_symbols(),
        }
    }
    fn c(style: &NumberStyle, s: &str) -> Option<String> {
        style.parse(s).map(|d| d.to_canonical())
    }

    #[test]
    fn us_style() {
        let s = us();
        assert_eq!(c(&s, "1,234.56").as_deref(), Some("1234.56"));
        assert_eq!(c(&s, "$1,234.56").as_deref(), Some("1234.56"));
        assert_eq!(c(&s, "($12.34)").as_deref(), Some("-12.34"));
        assert_eq!(c(&s, "$(12.34)").as_deref(), Some("-12.34"));
        assert_eq!(c(&s, "-$12.34").as_deref(), Some("-12.34"));
        assert_eq!(c(&s, "12.34-").as_deref(), Some("-12.34"));
        assert_eq!(c(&s, "USD 7").as_deref(), Some("7"));
        assert_eq!(c(&s, ".5").as_deref(), Some("0.50"));
        assert_eq!(c(&s, "0.001").as_deref(), Some("0.001"));
        assert_eq!(c(&s, "12.500").as_deref(), Some("12.50"));
        assert_eq!(c(&s, "1,234,567").as_deref(), Some("1234567"));
        assert_eq!(c(&s, "1.2.3"), None);
        assert_eq!(c(&s, "12,34"), None);
        assert_eq!(c(&s, "1,2345"), None);
        assert_eq!(c(&s, ",123"), None);
        assert_eq!(c(&s, "-(1)"), None);
        assert_eq!(c(&s, "--1"), None);
        assert_eq!(c(&s, "1e5"), None);
        assert_eq!(c(&s, "$"), None);
        assert_eq!(c(&s, "."), None);
        assert_eq!(c(&s, "1 234.50").as_deref(), Some("1234.50"));
        // Accounting-format zeros.
        assert_eq!(c(&s, "-").as_deref(), Some("0"));
        assert_eq!(c(&s, " $ -   ").as_deref(), Some("0"));
        assert_eq!(c(&s, "$–").as_deref(), Some("0"));
        assert_eq!(c(&s, "--"), None);
        assert_eq!(c(&s, "$ - 1").as_deref(), Some("-1"));
    }

    #[test]
    fn eu_style() {
        let s = eu();
        assert_eq!(c(&s, "1.234,56").as_deref(), Some("1234.56"));
        assert_eq!(c(&s, "(12,00)").as_deref(), Some("-12.00"));
        assert_eq!(c(&s, "12,00-").as_deref(), Some("-12.00"));
        assert_eq!(c(&s, "1.234.567,8 €").as_deref(), Some("1234567.80"));
        assert_eq!(mark_currencies("1,234.56"), None);
        assert_eq!(mark_currencies("(12.00)"), None);
        assert_eq!(
            mark_currencies("€1,680.00"),
            Some(("€".to_string(), vec!["EUR".to_string()]))
        );
        assert!(mark_currencies("$ 3.00")
            .unwrap()
            .1
            .contains(&"CAD".to_string()));
        assert_eq!(
            mark_currencies("93,00- EUR").unwrap().1,
            vec!["EUR".to_string()]
        );
        assert_eq!(
            mark_currencies("1680.00 usd").unwrap().1,
            vec!["USD".to_string()]
        );
        assert_eq!(mark_currencies("12 kr"), None);
        assert_eq!(c(&s, "EUR 0,99").as_deref(), Some("0.99"));
        assert_eq!(c(&s, "1.2.3"), None);
        assert_eq!(c(&s, "12.50"), None);
        assert_eq!(c(&s, "1.250").as_deref(), Some("1250"));
    }

    #[test]
    fn arithmetic_and_format() {
        let a = Dec {
            mantissa: 1050,
            scale: 2,
        };
        let b = Dec {
            mantissa: 3,
            scale: 0,
        };
        assert_eq!(
            a.checked_sub(b).map(Dec::to_canonical).as_deref(),
            Some("7.50")
        );
        assert_eq!(
            Dec {
                mantissa: -5,
                scale: 3
            }
            .to_canonical(),
            "-0.005"
        );
        assert_eq!(
            Dec {
                mantissa: 300,
                scale: 2
            }
            .to_integer(),
            Some(3)
        );
    }

    #[test]
    fn places_and_currencies() {
        let s = us();
        let places = |t: &str| s.parse(t).map(Dec::places);
        assert_eq!(places("80.005"), Some(3));
        assert_eq!(places("80.50"), Some(1));
        assert_eq!(places("7.000"), Some(0));
        assert_eq!(places("1,200"), Some(0));
        assert_eq!(currency_places("usd"), Some(2));
        assert_eq!(currency_places("JPY"), Some(0));
        assert_eq!(currency_places("BHD"), Some(3));
        assert_eq!(currency_places("XYZ"), None);
    }

    #[test]
    fn float_text() {
        assert_eq!(tidy_float_text("10.000000000000002"), "10");
        assert_eq!(tidy_float_text("0.30000000000000004"), "0.3");
        assert_eq!(tidy_float_text("3703.6799999999998"), "3703.68");
        assert_eq!(tidy_float_text("1234.5600000001"), "1234.5600000001");
        assert_eq!(tidy_float_text("-0.0"), "0");
        assert_eq!(tidy_float_text("-12.5"), "-12.5");
        assert_eq!(tidy_float_text("4006381333931"), "4006381333931");
        assert_eq!(tidy_float_text("99.99999999999999"), "100");
        assert_eq!(tidy_float_text("123456789012345678"), "123456789012345678");
        assert_eq!(tidy_float_text("NaN"), "NaN");
    }
}
