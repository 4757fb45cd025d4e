//! What an account is, in the label's terms.
//!
//! Unit accounts are keyed by (owner, holder, SKU, state); money accounts by
//! (party, counterparty, kind, currency). The engine only sees dense ids; the
//! [`crate::Book`] maps these keys to them.

use backstock_domain::{Currency, PartyId, Sku};
use serde::{Deserialize, Serialize};

/// Where units stand, beyond who owns and who holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitState {
    /// Physically held, available.
    OnHand,
    /// Held against the owner's will (e.g. by an insolvent estate that refuses to
    /// return consigned stock).
    Detained,
    /// The source of new units at a plant: goes negative by the units made.
    Origin,
}

impl UnitState {
    pub fn as_str(&self) -> &'static str {
        match self {
            UnitState::OnHand => "on_hand",
            UnitState::Detained => "detained",
            UnitState::Origin => "origin",
        }
    }
    pub fn parse(s: &str) -> Option<UnitState> {
        Some(match s {
            "on_hand" => UnitState::OnHand,
            "detained" => UnitState::Detained,
            "origin" => UnitState::Origin,
            _ => return None,
        })
    }
}

/// Units of one SKU owned by `owner` and physically held by `holder`.
///
/// Fields are private: a unit account is only ever built by the event expansion, where
/// a move takes one `owner` for both sides (see [`crate::events`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnitAccount {
    owner: PartyId,
    holder: PartyId,
    sku: Sku,
    state: UnitState,
}

impl UnitAccount {
    pub(crate) fn new(owner: PartyId, holder: PartyId, sku: Sku, state: UnitState) -> UnitAccount {
        UnitAccount {
            owner,
            holder,
            sku,
            state,
        }
    }
    /// Rebuilds a key read back from storage. Storage is trusted to hold keys that were
    /// created by the event expansion.
    pub fn restore(owner: PartyId, holder: PartyId, sku: Sku, state: UnitState) -> UnitAccount {
        UnitAccount::new(owner, holder, sku, state)
    }
    pub fn owner(&self) -> &PartyId {
        &self.owner
    }
    pub fn holder(&self) -> &PartyId {
        &self.holder
    }
    pub fn sku(&self) -> &Sku {
        &self.sku
    }
    pub fn state(&self) -> UnitState {
        self.state
    }
}

/// Kinds of money account, from the label's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoneyKind {
    /// Owed to the label by the counterparty, due now or later (asset).
    Receivable,
    /// Withheld by the distributor against returns; owed back later (asset).
    ReserveHeld,
    /// Distribution fees charged by the counterparty (expense).
    DistributionFee,
    /// Chargebacks, co-op advertising and similar deductions (expense).
    Chargeback,
    /// Sales at wholesale, net of returns (income).
    Revenue,
    /// Signed adjustments on statements (income).
    Adjustment,
    /// Royalties owed to a payee (liability).
    RoyaltyPayable,
    /// Royalty expense (expense).
    RoyaltyExpense,
    /// Advances and recoupable costs paid to or for a payee (asset until recouped).
    Advance,
    /// Cash received or paid (asset).
    Cash,
    /// Losses written off (expense).
    BadDebt,
    /// Deductions a distributor took from a statement and the label accepted (freight,
    /// co-op, price protection, pricing errors; expense).
    Deduction,
    /// What the label paid to buy its own stock back from a distributor or its
    /// liquidator (expense).
    BuyBack,
}

impl MoneyKind {
    pub const ALL: [MoneyKind; 13] = [
        MoneyKind::Receivable,
        MoneyKind::ReserveHeld,
        MoneyKind::DistributionFee,
        MoneyKind::Chargeback,
        MoneyKind::Revenue,
        MoneyKind::Adjustment,
        MoneyKind::RoyaltyPayable,
        MoneyKind::RoyaltyExpense,
        MoneyKind::Advance,
        MoneyKind::Cash,
        MoneyKind::BadDebt,
        MoneyKind::Deduction,
        MoneyKind::BuyBack,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            MoneyKind::Receivable => "receivable",
            MoneyKind::ReserveHeld => "reserve_held",
            MoneyKind::DistributionFee => "distribution_fee",
            MoneyKind::Chargeback => "chargeback",
            MoneyKind::Revenue => "revenue",
            MoneyKind::Adjustment => "adjustment",
            MoneyKind::RoyaltyPayable => "royalty_payable",
            MoneyKind::RoyaltyExpense => "royalty_expense",
            MoneyKind::Advance => "advance",
            MoneyKind::Cash => "cash",
            MoneyKind::BadDebt => "bad_debt",
            MoneyKind::Deduction => "deduction",
            MoneyKind::BuyBack => "buy_back",
        }
    }
    pub fn parse(s: &str) -> Option<MoneyKind> {
        MoneyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Whether the natural balance is a debit (assets, expenses).
    pub fn is_debit_normal(&self) -> bool {
        matches!(
            self,
            MoneyKind::Receivable
                | MoneyKind::ReserveHeld
                | MoneyKind::DistributionFee
                | MoneyKind::Chargeback
                | MoneyKind::RoyaltyExpense
                | MoneyKind::Advance
                | MoneyKind::Cash
                | MoneyKind::BadDebt
                | MoneyKind::Deduction
                | MoneyKind::BuyBack
        )
    }
}

/// Money of `kind` between `party` (whose books these are: the label) and
/// `counterparty`, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MoneyAccount {
    party: PartyId,
    counterparty: PartyId,
    kind: MoneyKind,
    currency: Currency,
}

impl MoneyAccount {
    pub fn new(
        party: PartyId,
        counterparty: PartyId,
        kind: MoneyKind,
        currency: Currency,
    ) -> MoneyAccount {
        MoneyAccount {
            party,
            counterparty,
            kind,
            currency,
        }
    }
    pub fn party(&self) -> &PartyId {
        &self.party
    }
    pub fn counterparty(&self) -> &PartyId {
        &self.counterparty
    }
    pub fn kind(&self) -> MoneyKind {
        self.kind
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AccountKey {
    Units(UnitAccount),
    Money(MoneyAccount),
}

/// What a key's JSON may hold (`{"type":"units"|"money", …}`), read in one pass.
/// serde's derive for an internally tagged enum first copies every field into a
/// buffer of its own to find the tag, then reads the variant from that buffer; a label
/// group's book has hundreds of thousands of keys, parsed whenever a process loads
/// it or lists its stock. Unknown fields are ignored, as the derive did.
#[derive(Deserialize)]
struct KeyFields {
    #[serde(rename = "type")]
    tag: KeyTag,
    owner: Option<PartyId>,
    holder: Option<PartyId>,
    sku: Option<Sku>,
    state: Option<UnitState>,
    party: Option<PartyId>,
    counterparty: Option<PartyId>,
    kind: Option<MoneyKind>,
    currency: Option<Currency>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum KeyTag {
    Units,
    Money,
}

impl<'de> Deserialize<'de> for AccountKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<AccountKey, D::Error> {
        fn field<T, E: serde::de::Error>(v: Option<T>, name: &'static str) -> Result<T, E> {
            v.ok_or_else(|| E::missing_field(name))
        }
        let f = KeyFields::deserialize(d)?;
        Ok(match f.tag {
            KeyTag::Units => AccountKey::Units(UnitAccount {
                owner: field(f.owner, "owner")?,
                holder: field(f.holder, "holder")?,
                sku: field(f.sku, "sku")?,
                state: field(f.state, "state")?,
            }),
            KeyTag::Money => AccountKey::Money(MoneyAccount {
                party: field(f.party, "party")?,
                counterparty: field(f.counterparty, "counterparty")?,
                kind: field(f.kind, "kind")?,
                currency: field(f.currency, "currency")?,
            }),
        })
    }
}

/// The ledger an account lives on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LedgerKey {
    Units(Sku),
    Money(Currency),
}

impl AccountKey {
    /// The key's canonical JSON, exactly as `serde_json::to_string` writes it (the
    /// hash chain covers it), without serde: an import writes it for every account it
    /// opens, hundreds of thousands for a month of statements. Party ids, SKUs, kinds
    /// and currency codes never need escaping (their characters are checked when they
    /// are parsed); a test holds this to serde's output.
    pub fn canonical_json(&self) -> String {
        let mut s = String::with_capacity(112);
        let mut field = |first: bool, name: &str, value: &str| {
            s.push_str(if first { "{\"" } else { ",\"" });
            s.push_str(name);
            s.push_str("\":\"");
            s.push_str(value);
            s.push('"');
        };
        match self {
            AccountKey::Units(u) => {
                field(true, "type", "units");
                field(false, "owner", u.owner.as_str());
                field(false, "holder", u.holder.as_str());
                field(false, "sku", u.sku.as_str());
                field(false, "state", u.state.as_str());
            }
            AccountKey::Money(m) => {
                field(true, "type", "money");
                field(false, "party", m.party.as_str());
                field(false, "counterparty", m.counterparty.as_str());
                field(false, "kind", m.kind.as_str());
                field(false, "currency", m.currency.code());
            }
        }
        s.push('}');
        s
    }

    /// Read a key from its JSON: the canonical form ([`AccountKey::canonical_json`],
    /// what the store writes) is read field by field without serde — a label group's
    /// store holds hundreds of thousands of keys, read whenever a process loads the
    /// book or lists stock — and anything else (another field order, escapes) through
    /// serde, so every JSON serde accepts reads the same. Ids are checked by their
    /// own parsers either way.
    pub fn read(text: &str) -> Result<AccountKey, serde_json::Error> {
        match AccountKey::read_canonical(text) {
            Some(key) => Ok(key),
            None => serde_json::from_str(text),
        }
    }

    /// The canonical form's fields in order, or `None` (then serde decides).
    fn read_canonical(text: &str) -> Option<AccountKey> {
        if text.contains('\\') {
            return None;
        }
        // `"name":"value"` pairs, in the order `canonical_json` writes them.
        let mut rest = text.strip_prefix("{\"")?.strip_suffix("\"}")?;
        let mut field = |name: &str| -> Option<&str> {
            let r = rest.strip_prefix(name)?.strip_prefix("\":\"")?;
            // The last value runs to the end (its closing quote was stripped above).
            let (value, after) = match r.find('"') {
                Some(end) => (&r[..end], r[end..].strip_prefix("\",\"")?),
                None => (r, ""),
            };
            rest = after;
            Some(value)
        };
        let key = match field("type")? {
            "units" => AccountKey::Units(UnitAccount {
                owner: PartyId::parse(field("owner")?).ok()?,
                holder: PartyId::parse(field("holder")?).ok()?,
                sku: Sku::parse(field("sku")?).ok()?,
                state: UnitState::parse(field("state")?)?,
            }),
            "money" => AccountKey::Money(MoneyAccount {
                party: PartyId::parse(field("party")?).ok()?,
                counterparty: PartyId::parse(field("counterparty")?).ok()?,
                kind: MoneyKind::parse(field("kind")?)?,
                currency: Currency::parse(field("currency")?).ok()?,
            }),
            _ => return None,
        };
        // Every field taken and nothing left over, and the text is exactly the key's
        // canonical form (a value the parsers trimmed or lower-cased is not).
        (rest.is_empty() && key.canonical_json() == text).then_some(key)
    }

    pub fn ledger(&self) -> LedgerKey {
        match self {
            AccountKey::Units(u) => LedgerKey::Units(u.sku.clone()),
            AccountKey::Money(m) => LedgerKey::Money(m.currency),
        }
    }
    /// The balance-limit flags an account of this key gets.
    ///
    /// Only the label's own warehouse refuses to go below zero: what a distributor
    /// reports is recorded as reported (a discrepancy is for reconciliation to show,
    /// not a reason to lose a statement).
    pub fn flags(&self) -> crate::engine::AccountFlags {
        match self {
            AccountKey::Units(u)
                if u.holder.is_label() && u.owner.is_label() && u.state == UnitState::OnHand =>
            {
                crate::engine::AccountFlags::CREDITS_MUST_NOT_EXCEED_DEBITS
            }
            _ => crate::engine::AccountFlags::NONE,
        }
    }
}

impl std::fmt::Display for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccountKey::Units(u) => write!(
                f,
                "units {} owned by {} held by {} ({})",
                u.sku,
                u.owner,
                u.holder,
                u.state.as_str()
            ),
            AccountKey::Money(m) => write!(
                f,
                "{} {}/{} {}",
                m.kind.as_str(),
                m.party,
                m.counterparty,
                m.currency
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn party() -> impl Strategy<Value = PartyId> {
        "(plant:)?[a-z0-9_.-]{1,20}"
            .prop_map(|s| PartyId::parse(&s).unwrap_or_else(|_| PartyId::label()))
    }
    fn sku() -> impl Strategy<Value = Sku> {
        "[A-Za-z0-9][A-Za-z0-9 _./#-]{0,30}[A-Za-z0-9#]"
            .prop_map(|s| Sku::parse(&s).unwrap_or_else(|_| unreachable!("{s}")))
    }

    proptest! {
        #[test]
        fn canonical_json_is_serdes(
            owner in party(), holder in party(), sku in sku(), state in 0usize..3,
            kind in 0usize..MoneyKind::ALL.len(), cur in 0usize..3,
        ) {
            let state = [UnitState::OnHand, UnitState::Detained, UnitState::Origin][state];
            let u = AccountKey::Units(UnitAccount::new(owner.clone(), holder.clone(), sku, state));
            prop_assert_eq!(u.canonical_json(), serde_json::to_string(&u).unwrap_or_default());
            let currency = Currency::parse(["USD", "JPY", "BHD"][cur]).unwrap_or(Currency::USD);
            let m = AccountKey::Money(MoneyAccount::new(owner, holder, MoneyKind::ALL[kind], currency));
            prop_assert_eq!(m.canonical_json(), serde_json::to_string(&m).unwrap_or_default());
            // And each reads back as itself, through serde and through `read`.
            for k in [u, m] {
                let back: AccountKey = serde_json::from_str(&k.canonical_json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&back, &k);
                prop_assert_eq!(AccountKey::read_canonical(&k.canonical_json()), Some(k.clone()));
                let read = AccountKey::read(&k.canonical_json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(read, k);
            }
        }
    }

    /// Whatever the text, `read` answers as serde does: a key where serde reads one,
    /// an error where serde refuses.
    #[test]
    fn read_answers_as_serde_does() {
        for text in [
            r#"{"type":"units","owner":"label","holder":"d1","sku":"A/B","state":"on_hand"}"#,
            r#"{"type":"units","holder":"d1","owner":"label","sku":"A/B","state":"on_hand"}"#,
            r#"{"type":"units","owner":"label","holder":"d1","sku":" A/B ","state":"on_hand"}"#,
            r#"{"type":"units","owner":"LABEL","holder":"d1","sku":"A","state":"on_hand"}"#,
            r#"{"type":"units","owner":"label","holder":"d1","sku":"A","state":"on_hand","x":"y"}"#,
            r#"{"type":"units","owner":"label","holder":"d1","sku":"A","state":"gone"}"#,
            r#"{"type":"units","owner":"label","holder":"d1","sku":"A"}"#,
            r#"{"type":"money","party":"label","counterparty":"d1","kind":"cash","currency":"USD"}"#,
            r#"{"type":"money","party":"label","counterparty":"d1","kind":"cash","currency":"usd"}"#,
            r#"{"type":"money","party":"label","counterparty":"d1","kind":"cash","currency":"XXX"}"#,
            r#"{"type":"money","party":"label","counterparty":"d1","kind":"cash"}"#,
            r#"{"type":"money","party":"label","counterparty":"d\u0031","kind":"cash","currency":"USD"}"#,
            r#"{"type":"money" , "party":"label","counterparty":"d1","kind":"cash","currency":"USD"}"#,
            r#"{"type":"shares"}"#,
            r#"{}"#,
            r#""#,
            r#"{"type":"units","owner":"label","holder":"d1","sku":"A","state":"on_hand"}x"#,
        ] {
            let serde: Result<AccountKey, _> = serde_json::from_str(text);
            let read = AccountKey::read(text);
            assert_eq!(read.as_ref().ok(), serde.as_ref().ok(), "{text}");
            assert_eq!(read.is_err(), serde.is_err(), "{text}");
        }
    }

    #[test]
    fn a_key_missing_a_field_or_of_an_unknown_type_is_refused_with_its_name() {
        let err = |t: &str| {
            serde_json::from_str::<AccountKey>(t)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        assert!(
            err(r#"{"type":"units","owner":"label","holder":"label","state":"on_hand"}"#)
                .contains("missing field `sku`")
        );
        assert!(
            err(r#"{"type":"money","party":"label","counterparty":"d","kind":"cash"}"#)
                .contains("missing field `currency`")
        );
        assert!(err(r#"{"type":"shares","party":"label"}"#).contains("unknown variant `shares`"));
        assert!(err(r#"{"owner":"label"}"#).contains("missing field `type`"));
        assert!(err(
            r#"{"type":"units","owner":"label","holder":"label","sku":"A","state":"lost"}"#
        )
        .contains("unknown variant `lost`"));
        // Escaped text is read as its characters (the scratch-buffer path).
        let k: AccountKey = serde_json::from_str(
            r#"{"type":"units","owner":"label","holder":"d\u0031","sku":"A\/B","state":"on_hand"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            k.canonical_json(),
            r#"{"type":"units","owner":"label","holder":"d1","sku":"A/B","state":"on_hand"}"#
        );
    }
}
