//! Identifiers: product codes and party names.

use crate::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

macro_rules! string_serde {
    ($t:ty, $expected:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                crate::text_serde::parse_str(d, $expected, <$t>::parse)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A GS1 product code: UPC-A (12 digits) or EAN-13 (13 digits), check digit verified,
/// leading zeros kept. A UPC-A and the EAN-13 with a leading `0` name the same
/// product: [`Upc::gtin13`] gives the common 13-digit form for matching.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Upc {
    digits: String,
}

impl Upc {
    pub fn parse(text: &str) -> Result<Upc, DomainError> {
        let t = text.trim();
        let expected = "a 12-digit UPC-A or 13-digit EAN-13 with a correct check digit";
        if !(t.len() == 12 || t.len() == 13) || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::new(text, expected));
        }
        if !gs1_check_ok(t) {
            return Err(DomainError::new(
                text,
                format!(
                    "{expected} (the last digit should be {})",
                    gs1_check_digit(&t[..t.len() - 1])
                ),
            ));
        }
        Ok(Upc {
            digits: t.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// The code as 13 digits (UPC-A gets a leading zero).
    pub fn gtin13(&self) -> String {
        if self.digits.len() == 12 {
            format!("0{}", self.digits)
        } else {
            self.digits.clone()
        }
    }

    /// Completes 11 (UPC-A) or 12 (EAN-13) digits with their check digit.
    pub fn with_check_digit(body: &str) -> Result<Upc, DomainError> {
        if !(body.len() == 11 || body.len() == 12) || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::new(
                body,
                "11 or 12 digits to complete with a check digit",
            ));
        }
        Upc::parse(&format!("{body}{}", gs1_check_digit(body)))
    }
}
string_serde!(Upc, "a UPC or EAN as a string");

/// GS1 mod-10: from the right of the body, weights 3,1,3,1…
fn gs1_check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

fn gs1_check_ok(digits: &str) -> bool {
    let (body, check) = digits.split_at(digits.len() - 1);
    u32::from(check.as_bytes()[0] - b'0') == gs1_check_digit(body)
}

/// The label's catalog number for one product in one format (e.g. `MRG-123-CD`).
/// 1–64 characters: letters, digits, space, `-`, `_`, `.`, `/`, `#`; trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(Arc<str>);

impl Sku {
    pub fn parse(text: &str) -> Result<Sku, DomainError> {
        let t = text.trim();
        let ok = !t.is_empty()
            && t.len() <= 64
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || " -_./#".contains(c));
        if !ok {
            return Err(DomainError::new(
                text,
                "a catalog number of 1-64 letters, digits, spaces or - _ . / #",
            ));
        }
        Ok(Sku(Arc::from(t)))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The SKU that orders before every other (`#`, the smallest character a SKU may
    /// start with): the lower bound of a range over a map keyed by (…, SKU).
    pub fn least() -> Sku {
        Sku(Arc::from("#"))
    }
}
string_serde!(Sku, "a SKU as a string");

/// The short name of a party, unique within a label (tenant): `label`, `allegro`,
/// `plant:optimal`. 1–64 characters: lowercase letters, digits, `-`, `_`, `.`, and
/// one optional `kind:` prefix. Input is lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(Arc<str>);

impl PartyId {
    /// The tenant itself.
    pub const LABEL: &'static str = "label";
    /// Retail: where sold units go.
    pub const MARKET: &'static str = "market";
    /// Where written-off (destroyed, lost) units go.
    pub const SCRAP: &'static str = "scrap";

    pub fn parse(text: &str) -> Result<PartyId, DomainError> {
        let t = text.trim().to_ascii_lowercase();
        let name = match t.split_once(':') {
            Some((kind, name)) if !kind.is_empty() && !name.contains(':') => name,
            Some(_) => "",
            None => t.as_str(),
        };
        let ok = !name.is_empty()
            && t.len() <= 64
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.:".contains(c));
        if !ok {
            return Err(DomainError::new(
                text,
                "a short name of 1-64 letters, digits, - _ . (e.g. allegro or plant:optimal)",
            ));
        }
        Ok(PartyId(Arc::from(t)))
    }

    pub fn label() -> PartyId {
        PartyId(Arc::from(PartyId::LABEL))
    }
    pub fn market() -> PartyId {
        PartyId(Arc::from(PartyId::MARKET))
    }
    pub fn scrap() -> PartyId {
        PartyId(Arc::from(PartyId::SCRAP))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_label(&self) -> bool {
        &*self.0 == PartyId::LABEL
    }
}
string_serde!(PartyId, "a party id as a string");

/// What a party is to the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// The tenant.
    Label,
    Distributor,
    /// A manufacturer (pressing plant).
    Plant,
    /// Retail: the world that buys.
    Market,
    /// An artist, producer or other royalty payee.
    Payee,
    /// A liquidator or insolvent estate selling off stock.
    Liquidator,
    /// Destroyed or lost stock.
    Scrap,
}

impl PartyKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            PartyKind::Label => "label",
            PartyKind::Distributor => "distributor",
            PartyKind::Plant => "plant",
            PartyKind::Market => "market",
            PartyKind::Payee => "payee",
            PartyKind::Liquidator => "liquidator",
            PartyKind::Scrap => "scrap",
        }
    }

    pub fn parse(text: &str) -> Result<PartyKind, DomainError> {
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "label" => PartyKind::Label,
            "distributor" => PartyKind::Distributor,
            "plant" => PartyKind::Plant,
            "market" => PartyKind::Market,
            "payee" | "artist" => PartyKind::Payee,
            "liquidator" => PartyKind::Liquidator,
            "scrap" => PartyKind::Scrap,
            _ => {
                return Err(DomainError::new(
                    text,
                    "one of label, distributor, plant, market, payee, liquidator, scrap",
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_sku_orders_before_the_least(text in "[ -~]{1,64}") {
            if let Ok(s) = Sku::parse(&text) {
                prop_assert!(Sku::least() <= s);
            }
        }
    }

    #[test]
    fn upc() {
        assert_eq!(Upc::parse("036000291452").unwrap().as_str(), "036000291452");
        assert_eq!(
            Upc::parse("036000291452").unwrap().gtin13(),
            "0036000291452"
        );
        assert!(Upc::parse("036000291453")
            .unwrap_err()
            .expected()
            .contains("should be 2"));
        assert!(Upc::parse("4006381333931").is_ok());
        assert!(Upc::parse("4006381333932").is_err());
        assert!(Upc::parse("12345").is_err());
        assert!(Upc::parse("03600029145a").is_err());
        assert_eq!(
            Upc::with_check_digit("03600029145").unwrap().as_str(),
            "036000291452"
        );
    }

    #[test]
    fn sku_and_party() {
        assert_eq!(Sku::parse(" MRG-123 CD ").unwrap().as_str(), "MRG-123 CD");
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("a,b").is_err());
        assert_eq!(PartyId::parse("Allegro").unwrap().as_str(), "allegro");
        assert_eq!(
            PartyId::parse("plant:Optimal").unwrap().as_str(),
            "plant:optimal"
        );
        assert!(PartyId::parse("plant:").is_err());
        assert!(PartyId::parse("a b").is_err());
        assert!(PartyId::parse("a:b:c").is_err());
        assert!(PartyId::label().is_label());
    }

    proptest! {
        #[test]
        fn check_digit_completes(body in "[0-9]{11,12}") {
            let upc = Upc::with_check_digit(&body).unwrap();
            prop_assert!(upc.as_str().starts_with(&body));
        }
        #[test]
        fn parsers_never_panic(s in ".{0,70}") {
            let _ = Upc::parse(&s);
            let _ = Sku::parse(&s);
            let _ = PartyId::parse(&s);
        }
    }
}
