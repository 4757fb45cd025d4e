//! The one error type of the crate and the capped collector behind it.

use std::fmt;

/// At most this many errors are reported for one input; the rest are dropped.
pub const MAX_ERRORS: usize = 200;

/// Something in the input that is not what X12 (or the transaction set) expects.
///
/// Positions are 1-based. `column` is a byte column within `line`. `segment` is the
/// segment's ordinal number in the whole input (0 when the problem lies before the
/// first segment), `segment_id` its tag (`"ZA"`, `"SE"`, ...; empty when unknown),
/// and `element` the element position (`Some(2)` for `ZA02`) when one element is at
/// fault.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct X12Error {
    pub line: usize,
    pub column: usize,
    pub segment: usize,
    pub segment_id: String,
    pub element: Option<usize>,
    pub found: String,
    pub expected: String,
}

impl fmt::Display for X12Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {} (", self.line, self.column)?;
        if self.segment == 0 {
            f.write_str("before the first segment")?;
        } else {
            write!(f, "segment {}", self.segment)?;
            if !self.segment_id.is_empty() {
                write!(f, " {}", self.segment_id)?;
            }
        }
        if let Some(element) = self.element {
            write!(f, ", element {element}")?;
        }
        f.write_str("): found ")?;
        if self.found.is_empty() {
            f.write_str("nothing")?;
        } else {
            write!(f, "{:?}", self.found)?;
        }
        write!(f, ", expected {}", self.expected)
    }
}

impl std::error::Error for X12Error {}

/// Collects errors, keeping the first [`MAX_ERRORS`].
#[derive(Debug, Default)]
pub(crate) struct Errors {
    list: Vec<X12Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: X12Error) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(error);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn into_vec(self) -> Vec<X12Error> {
        self.list
    }
}

/// Shortens `text` to at most `max` characters (on a character boundary), marking the cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => {
            let mut out = text.get(..cut).unwrap_or("").to_string();
            out.push('…');
            out
        }
    }
}
