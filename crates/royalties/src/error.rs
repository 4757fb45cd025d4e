use backstock_domain::DomainError;
use std::fmt;

/// Why a royalty run (or a contract, payee, cost) was refused. Every variant says what
/// was found and, where it helps, what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoyaltyError {
    /// A value that does not parse.
    Invalid {
        field: String,
        found: String,
        expected: String,
    },
    /// A contract's payee shares do not sum to exactly 1 (1 000 000 ppm).
    SharesDoNotSumToOne { contract: String, sum_ppm: u64 },
    /// A contract names a payee that is not in the inputs.
    UnknownPayee { contract: String, payee: String },
    /// A cost or opening balance names a contract that is not in the inputs.
    UnknownContract {
        contract: String,
        referenced_by: String,
    },
    /// Two contracts or payees with one id.
    Duplicate { what: String, id: String },
    /// A PPD rule needs the catalog's wholesale price of a SKU the catalog lacks.
    MissingWholesalePrice { sku: String },
    /// Amounts in two currencies where one was required.
    CurrencyMismatch {
        context: String,
        found: String,
        expected: String,
    },
    /// Arithmetic beyond ±92 quadrillion minor units.
    Overflow { context: String },
    /// A contract with rates by territory or service, given to the run over statements
    /// aggregated per SKU (which carry neither): computed from the lines instead.
    LineLevelRules { contract: String, scope: String },
}

impl RoyaltyError {
    pub(crate) fn invalid(
        field: impl Into<String>,
        found: impl Into<String>,
        expected: impl Into<String>,
    ) -> RoyaltyError {
        RoyaltyError::Invalid {
            field: field.into(),
            found: found.into(),
            expected: expected.into(),
        }
    }
    pub(crate) fn domain(field: &str, e: DomainError) -> RoyaltyError {
        RoyaltyError::invalid(field, e.found(), e.expected())
    }
    pub(crate) fn overflow(context: impl Into<String>) -> RoyaltyError {
        RoyaltyError::Overflow {
            context: context.into(),
        }
    }
}

impl fmt::Display for RoyaltyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoyaltyError::Invalid { field, found, expected } => {
                write!(f, "{field}: found {found:?}, expected {expected}")
            }
            RoyaltyError::SharesDoNotSumToOne { contract, sum_ppm } => write!(
                f,
                "contract {contract}: payee shares sum to {sum_ppm} ppm ({}), expected exactly 1 (100%)",
                crate::model::ppm_text(*sum_ppm)
            ),
            RoyaltyError::UnknownPayee { contract, payee } => {
                write!(f, "contract {contract} names payee {payee}, who is not on file")
            }
            RoyaltyError::UnknownContract { contract, referenced_by } => {
                write!(f, "{referenced_by} names contract {contract}, which is not on file")
            }
            RoyaltyError::Duplicate { what, id } => write!(f, "two {what}s with id {id}"),
            RoyaltyError::MissingWholesalePrice { sku } => write!(
                f,
                "SKU {sku} has a PPD royalty rule but no catalog item (wholesale price) on file"
            ),
            RoyaltyError::CurrencyMismatch { context, found, expected } => {
                write!(f, "{context}: found {found}, expected {expected}")
            }
            RoyaltyError::Overflow { context } => {
                write!(f, "{context}: amount beyond ±92,233,720,368,547,758.07")
            }
            RoyaltyError::LineLevelRules { contract, scope } => write!(
                f,
                "contract {contract} has a rate by territory or service ({scope}), and the royalty run reads statements per SKU, which carry neither territory nor service: compute this contract's royalties from the statement lines with `backstock lines royalties --period PERIOD` (a backstock built with --features lines), or record a version of the contract without such rates to run the period here"
            ),
        }
    }
}

impl std::error::Error for RoyaltyError {}
