use std::fmt;

/// Why a value could not be parsed or an operation could not be done.
///
/// `found` is the offending input (truncated to 60 characters) and `expected` says, in
/// words a label owner understands, what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError {
    found: String,
    expected: String,
}

impl DomainError {
    pub fn new(found: impl Into<String>, expected: impl Into<String>) -> DomainError {
        let mut found = found.into();
        if found.chars().count() > 60 {
            found = found.chars().take(57).collect::<String>() + "...";
        }
        DomainError {
            found,
            expected: expected.into(),
        }
    }
    pub fn found(&self) -> &str {
        &self.found
    }
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "found {:?}, expected {}", self.found, self.expected)
    }
}

impl std::error::Error for DomainError {}
