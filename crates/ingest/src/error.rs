use std::fmt;

/// One problem in an input file: where, what was found, what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// 1-based column number and its header name, when the problem is in one cell.
    pub column: Option<(usize, String)>,
    pub found: String,
    pub expected: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: a problem of the file as a whole (its total past the money limit).
        if self.line == 0 {
            write!(f, "(the file as a whole)")?;
        } else {
            write!(f, "line {}", self.line)?;
        }
        if let Some((n, name)) = &self.column {
            write!(f, ", column {n} ({name})")?;
        }
        // A value of thousands of characters (a column of text pasted whole) is shown
        // by its start and its length: the message names where it is.
        const SHOWN_CHARS: usize = 120;
        let n = self.found.chars().count();
        if n > SHOWN_CHARS {
            let head: String = self.found.chars().take(SHOWN_CHARS).collect();
            write!(
                f,
                ": found {head:?}… ({n} characters), expected {}",
                self.expected
            )
        } else {
            write!(f, ": found {:?}, expected {}", self.found, self.expected)
        }
    }
}

/// Every problem found in one file (up to [`MAX_ERRORS`]). The file was not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileErrors {
    pub file: String,
    pub errors: Vec<LineError>,
    /// More errors existed than were kept.
    pub truncated: bool,
}

/// Limit on errors collected per file: enough to fix a file, not so many that a wrong
/// file floods the screen.
pub const MAX_ERRORS: usize = 100;

impl fmt::Display for FileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {}{} problem{}; nothing was recorded from this file",
            self.file,
            if self.truncated { "more than " } else { "" },
            self.errors.len(),
            if self.errors.len() == 1 && !self.truncated {
                ""
            } else {
                "s"
            }
        )?;
        for e in &self.errors {
            writeln!(f, "  {}:{e}", self.file)?;
        }
        if self.truncated {
            writeln!(f, "  … and more (showing the first {MAX_ERRORS})")?;
        }
        Ok(())
    }
}

/// Collects errors up to the limit.
#[derive(Debug, Default)]
pub struct Errors {
    pub list: Vec<LineError>,
    pub truncated: bool,
}

impl Errors {
    pub fn push(&mut self, e: LineError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(e);
        } else {
            self.truncated = true;
        }
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    /// The file's errors in the order of its lines (checks that run after reading,
    /// such as unknown codes, are found later than the lines they name).
    pub fn into_file(self, file: &str) -> FileErrors {
        let mut errors = self.list;
        errors.sort_by_key(|e| (e.line, e.column.as_ref().map(|c| c.0)));
        FileErrors {
            file: file.to_string(),
            errors,
            truncated: self.truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64, column: Option<usize>) -> LineError {
        LineError {
            line,
            column: column.map(|c| (c, "x".to_string())),
            found: String::new(),
            expected: String::new(),
        }
    }

    #[test]
    fn errors_are_listed_in_line_order() {
        let mut errs = Errors::default();
        for e in [at(4, Some(2)), at(2, None), at(4, Some(1)), at(3, Some(9))] {
            errs.push(e);
        }
        let lines: Vec<(u64, Option<usize>)> = errs
            .into_file("f.csv")
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_ref().map(|c| c.0)))
            .collect();
        assert_eq!(
            lines,
            vec![(2, None), (3, Some(9)), (4, Some(1)), (4, Some(2))]
        );
    }
}
