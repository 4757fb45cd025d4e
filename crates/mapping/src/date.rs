//! Calendar dates and a small strftime subset (`%Y %y %m %d %b %%`).

use std::fmt;

/// A valid calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ymd {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl fmt::Display for Ymd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

pub fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

pub fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Ymd {
    /// A date, if it exists (years 1000–9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Ymd> {
        ((1000..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month))
        .then_some(Ymd { year, month, day })
    }

    pub fn first_of_month(self) -> Ymd {
        Ymd { day: 1, ..self }
    }

    pub fn last_of_month(self) -> Ymd {
        Ymd {
            day: days_in_month(self.year, self.month),
            ..self
        }
    }

    /// `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Ymd> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = s.get(0..4)?.parse().ok()?;
        let m = s.get(5..7)?.parse().ok()?;
        let d = s.get(8..10)?.parse().ok()?;
        if !s.get(0..4)?.bytes().all(|c| c.is_ascii_digit())
            || !s.get(5..7)?.bytes().all(|c| c.is_ascii_digit())
            || !s.get(8..10)?.bytes().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        Ymd::new(y, m, d)
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Year4,
    Year2,
    Month,
    MonthName,
    Day,
    Literal(char),
}

/// A parsed `date_format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    text: String,
    tokens: Vec<Token>,
}

impl DateFormat {
    /// Parses a format; `Err` says what is wrong.
    pub fn parse(text: &str) -> Result<DateFormat, String> {
        let mut tokens = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                tokens.push(Token::Literal(c));
                continue;
            }
            tokens.push(match chars.next() {
                Some('Y') => Token::Year4,
                Some('y') => Token::Year2,
                Some('m') => Token::Month,
                Some('d') => Token::Day,
                Some('b') | Some('B') => Token::MonthName,
                Some('%') => Token::Literal('%'),
                Some(o) => return Err(format!("%{o} is not supported (use %Y %y %m %d %b)")),
                None => return Err("a lone % at the end".into()),
            });
        }
        let count = |t: &dyn Fn(&Token) -> bool| tokens.iter().filter(|x| t(x)).count();
        if count(&|t| matches!(t, Token::Year4 | Token::Year2)) != 1
            || count(&|t| matches!(t, Token::Month | Token::MonthName)) != 1
            || count(&|t| matches!(t, Token::Day)) > 1
        {
            return Err(
                "one year (%Y or %y), one month (%m or %b) and at most one day (%d)".into(),
            );
        }
        Ok(DateFormat {
            text: text.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// An example date written in this format (31 January 2024), for messages.
    pub fn example(&self) -> String {
        let mut s = String::new();
        for t in &self.tokens {
            match t {
                Token::Year4 => s.push_str("2024"),
                Token::Year2 => s.push_str("24"),
                Token::Month => s.push_str("01"),
                Token::MonthName => s.push_str("Jan"),
                Token::Day => s.push_str("31"),
                Token::Literal(c) => s.push(*c),
            }
        }
        s
    }

    /// Parses a date written in this format. A time of day after the date (after a
    /// space or `T`) is ignored. `YYYY-MM-DD` is always accepted too.
    pub fn parse_date(&self, text: &str) -> Option<Ymd> {
        let text = text.trim();
        self.parse_strict(text).or_else(|| {
            let head = text.get(..10)?;
            let rest = &text[10..];
            if rest.is_empty() || rest.starts_with([' ', 'T']) {
                Ymd::parse_iso(head)
            } else {
                None
            }
        })
    }

    fn parse_strict(&self, text: &str) -> Option<Ymd> {
        let mut s = text;
        let (mut y, mut m, mut d) = (None, None, None);
        for t in &self.tokens {
            match t {
                Token::Literal(c) if c.is_whitespace() => {
                    let t = s.trim_start();
                    if t.len() == s.len() {
                        return None;
                    }
                    s = t;
                }
                Token::Literal(c) => s = s.strip_prefix(*c)?,
                Token::Year4 => {
                    let (v, rest) = digits(s, 4, 4)?;
                    y = Some(u16::try_from(v).ok()?);
                    s = rest;
                }
                Token::Year2 => {
                    let (v, rest) = digits(s, 2, 2)?;
                    // POSIX: 69–99 → 1969–1999, 00–68 → 2000–2068.
                    let v = u16::try_from(v).ok()?;
                    y = Some(if v >= 69 { 1900 + v } else { 2000 + v });
                    s = rest;
                }
                Token::Month => {
                    let (v, rest) = digits(s, 1, 2)?;
                    m = Some(u8::try_from(v).ok()?);
                    s = rest;
                }
                Token::Day => {
                    let (v, rest) = digits(s, 1, 2)?;
                    d = Some(u8::try_from(v).ok()?);
                    s = rest;
                }
                Token::MonthName => {
                    let letters = s
                        .char_indices()
                        .find(|(_, c)| !c.is_ascii_alphabetic())
                        .map_or(s.len(), |(i, _)| i);
                    let word = s[..letters].to_ascii_lowercase();
                    if word.len() < 3 {
                        return None;
                    }
                    let i = MONTHS.iter().position(|full| full.starts_with(&word))?;
                    m = Some(u8::try_from(i + 1).ok()?);
                    s = &s[letters..];
                }
            }
        }
        if !(s.is_empty() || s.starts_with([' ', 'T'])) {
            return None;
        }
        // Without %d (a month such as "01/2024"), the first of the month.
        Ymd::new(y?, m?, d.unwrap_or(1))
    }
}

/// One or more date formats, tried in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormats(Vec<DateFormat>);

impl DateFormats {
    /// Parses a non-empty list of formats; `Err` says what is wrong.
    pub fn parse(texts: &[String]) -> Result<DateFormats, String> {
        if texts.is_empty() {
            return Err("at least one format".into());
        }
        texts
            .iter()
            .map(|t| DateFormat::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map(DateFormats)
    }

    pub fn texts(&self) -> Vec<&str> {
        self.0.iter().map(DateFormat::as_str).collect()
    }

    /// The formats, for messages: `%m/%d/%y or %d %b %Y`.
    pub fn as_str(&self) -> String {
        self.texts().join(" or ")
    }

    /// An example in the first format.
    pub fn example(&self) -> String {
        self.0.first().map(DateFormat::example).unwrap_or_default()
    }

    pub fn parse_date(&self, text: &str) -> Option<Ymd> {
        self.0.iter().find_map(|f| f.parse_date(text))
    }

    /// How many formats the list has.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// The `i`-th format alone, as a list of one.
    pub fn only(&self, i: usize) -> Option<DateFormats> {
        self.0.get(i).map(|f| DateFormats(vec![f.clone()]))
    }

    /// The `i`-th format's text (`%d/%m/%Y`).
    pub fn text_of(&self, i: usize) -> &str {
        self.0.get(i).map_or("", DateFormat::as_str)
    }

    /// Whether the `i`-th format reads `text`.
    pub fn reads_with(&self, i: usize, text: &str) -> Option<Ymd> {
        self.0.get(i).and_then(|f| f.parse_date(text))
    }

    /// Every format that reads `text`, with the date it reads: `03/06/2016` is
    /// 2016-03-06 under `%m/%d/%Y` and 2016-06-03 under `%d/%m/%Y`.
    pub fn readings(&self, text: &str) -> Vec<(usize, Ymd)> {
        self.0
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.parse_date(text).map(|d| (i, d)))
            .collect()
    }
}

/// `min..=max` ASCII digits at the start of `s`.
fn digits(s: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = s
        .bytes()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n < min {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(f: &str, s: &str) -> Option<String> {
        DateFormat::parse(f)
            .ok()?
            .parse_date(s)
            .map(|d| d.to_string())
    }

    #[test]
    fn readings_of_a_list() {
        let f =
            DateFormats::parse(&["%m/%d/%Y".to_string(), "%d/%m/%Y".to_string()]).expect("formats");
        let r: Vec<(usize, String)> = f
            .readings("03/06/2016")
            .into_iter()
            .map(|(i, d)| (i, d.to_string()))
            .collect();
        assert_eq!(
            r,
            vec![(0, "2016-03-06".to_string()), (1, "2016-06-03".to_string())]
        );
        assert_eq!(f.readings("13/06/2016").len(), 1);
        assert_eq!(f.reads_with(0, "13/06/2016"), None);
        assert_eq!(f.only(1).map(|o| o.as_str()).as_deref(), Some("%d/%m/%Y"));
    }

    #[test]
    fn formats() {
        assert_eq!(p("%m/%d/%Y", "01/31/2024").as_deref(), Some("2024-01-31"));
        assert_eq!(p("%m/%d/%Y", "1/5/2024").as_deref(), Some("2024-01-05"));
        assert_eq!(p("%d.%m.%Y", "29.02.2024").as_deref(), Some("2024-02-29"));
        assert_eq!(p("%d.%m.%Y", "29.02.2023"), None);
        assert_eq!(p("%d.%m.%Y", "31.04.2024"), None);
        assert_eq!(p("%Y-%m-%d", "2024-13-01"), None);
        assert_eq!(p("%d-%b-%Y", "05-Mar-2024").as_deref(), Some("2024-03-05"));
        assert_eq!(
            p("%d-%b-%Y", "05-march-2024").as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(p("%d-%b-%Y", "05-Mxr-2024"), None);
        assert_eq!(
            p("%m/%d/%y", "1/4/21 11:22pm").as_deref(),
            Some("2021-01-04")
        );
        assert_eq!(p("%m/%d/%y", "12/31/99").as_deref(), Some("1999-12-31"));
        assert_eq!(p("%m/%d/%y", "1/4/21x"), None);
        assert_eq!(
            p("%d %b %Y", "04 Jan 2021 23:22:11 GMT").as_deref(),
            Some("2021-01-04")
        );
        assert_eq!(p("%d.%m.%Y", "2024-03-31").as_deref(), Some("2024-03-31"));
        assert_eq!(
            p("%d.%m.%Y", "2024-03-31T10:00").as_deref(),
            Some("2024-03-31")
        );
        assert_eq!(p("%d.%m.%Y", ""), None);
        assert_eq!(p("%m/%Y", "02/2024").as_deref(), Some("2024-02-01"));
        assert_eq!(p("%B %Y", "February 2024").as_deref(), Some("2024-02-01"));
        assert!(DateFormat::parse("%Y-%d").is_err());
        assert!(DateFormat::parse("%d-%m-%d-%Y").is_err());
        assert!(DateFormat::parse("%Y-%m-%d %H").is_err());
        assert_eq!(
            DateFormat::parse("%d.%m.%Y")
                .map(|f| f.example())
                .as_deref(),
            Ok("31.01.2024")
        );
    }
}
