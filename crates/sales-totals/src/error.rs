//! Errors that name the file, line, column, the value found and what was expected.

use std::fmt;

/// At most this many problems are reported per file (the rest are counted).
pub const MAX_REPORTED: usize = 100;

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    /// 1-based; the header is line 1.
    pub line: u64,
    /// 1-based column number, 0 when the problem is the whole line.
    pub column: usize,
    /// The column's name from the header (empty when `column` is 0).
    pub column_name: String,
    /// The offending text, at most 60 characters.
    pub found: String,
    pub expected: String,
}

impl InputError {
    pub fn new(
        file: &str,
        line: u64,
        column: usize,
        column_name: &str,
        found: &[u8],
        expected: impl Into<String>,
    ) -> InputError {
        InputError {
            file: file.to_string(),
            line,
            column,
            column_name: column_name.to_string(),
            found: shorten(found),
            expected: expected.into(),
        }
    }
}

/// The text of `bytes` (lossy UTF-8), cut to 60 characters.
pub(crate) fn shorten(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 60 {
        text.chars().take(57).collect::<String>() + "..."
    } else {
        text.into_owned()
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column == 0 {
            write!(
                f,
                "{}: line {}: found {:?}, expected {}",
                self.file, self.line, self.found, self.expected
            )
        } else {
            write!(
                f,
                "{}: line {}, column {} ({}): found {:?}, expected {}",
                self.file, self.line, self.column, self.column_name, self.found, self.expected
            )
        }
    }
}

/// Why a run produced no totals.
#[derive(Debug)]
pub enum SalesError {
    /// The file could not be opened or read.
    Io { file: String, error: std::io::Error },
    /// The file is invalid: the first [`MAX_REPORTED`] problems, in file order;
    /// `more` when there were others after them.
    Input { errors: Vec<InputError>, more: bool },
}

impl SalesError {
    pub(crate) fn io(file: &str, error: std::io::Error) -> SalesError {
        SalesError::Io {
            file: file.to_string(),
            error,
        }
    }

    pub(crate) fn one(error: InputError) -> SalesError {
        SalesError::Input {
            errors: vec![error],
            more: false,
        }
    }
}

impl fmt::Display for SalesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SalesError::Io { file, error } => write!(f, "{file}: {error}"),
            SalesError::Input { errors, more } => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{e}")?;
                }
                if *more {
                    write!(f, "\n… and more problems after these")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SalesError {}
