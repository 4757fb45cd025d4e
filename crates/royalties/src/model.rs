//! Payees, contracts and costs: parsed, not validated — a value that exists is
//! well-formed.

use crate::RoyaltyError;
use backstock_domain::{Date, Money, PartyId, Rate, Sku};
use backstock_ledger::Channel;
use serde::Serialize;
use std::collections::BTreeSet;

pub(crate) fn ppm_text(ppm: u64) -> String {
    format!("{}.{:06}", ppm / 1_000_000, ppm % 1_000_000)
}

/// Someone paid royalties: an artist, producer, estate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payee {
    id: PartyId,
    name: String,
    email: String,
    address: String,
}

impl Payee {
    /// `name` must not be blank; `email` must look like `local@domain`; `address` is
    /// free text (may be empty).
    pub fn new(id: PartyId, name: &str, email: &str, address: &str) -> Result<Payee, RoyaltyError> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(RoyaltyError::invalid(
                "payee name",
                name,
                "a non-blank name",
            ));
        }
        let email = email.trim();
        let ok = match email.split_once('@') {
            Some((l, d)) => {
                !l.is_empty()
                    && d.contains('.')
                    && !d.starts_with('.')
                    && !d.ends_with('.')
                    && !email.contains(char::is_whitespace)
                    && !d.contains('@')
            }
            None => false,
        };
        if !ok {
            return Err(RoyaltyError::invalid(
                "payee email",
                email,
                "an email address such as artist@example.com",
            ));
        }
        Ok(Payee {
            id,
            name: name.to_string(),
            email: email.to_string(),
            address: address.trim().to_string(),
        })
    }
    pub fn id(&self) -> &PartyId {
        &self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn email(&self) -> &str {
        &self.email
    }
    pub fn address(&self) -> &str {
        &self.address
    }
}

pub use backstock_ledger::facts::{CostKind, RoyaltyBase as Base, RoyaltyBasis as Basis};

/// One royalty rule. A line uses the most specific matching rule (each of channel,
/// format, territory and service set counts one: more beats fewer); among equally
/// specific rules, the first listed.
///
/// A rule with a territory or a service (issue 17.2) is for digital income and matches
/// only lines that carry them: the statement lines (`backstock lines royalties`), never
/// the ledger's statements aggregated per SKU (see [`crate::lines`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateRule {
    pub channel: Option<Channel>,
    /// The catalog format (`CD`, `LP`…), compared case-insensitively.
    pub format: Option<String>,
    pub base: Base,
    pub rate: Rate,
    /// Territory of sale (`US`), compared case-insensitively.
    pub territory: Option<String>,
    /// Service (`GenStreamPremium`), compared case-insensitively.
    pub service: Option<String>,
}

fn channel_text(c: Channel) -> &'static str {
    if c.is_physical() {
        "physical"
    } else {
        "digital"
    }
}

fn same_text(want: &Option<String>, have: Option<&str>) -> bool {
    match (want, have) {
        (None, _) => true,
        (Some(want), Some(have)) => want.trim().eq_ignore_ascii_case(have.trim()),
        (Some(_), None) => false,
    }
}

impl RateRule {
    /// A rule with neither territory nor service: the rules of a ledger line.
    pub fn new(
        channel: Option<Channel>,
        format: Option<String>,
        base: Base,
        rate: Rate,
    ) -> RateRule {
        RateRule {
            channel,
            format,
            base,
            rate,
            territory: None,
            service: None,
        }
    }
    /// Whether the rule needs a line's territory or service.
    pub fn is_line_level(&self) -> bool {
        self.territory.is_some() || self.service.is_some()
    }
    /// For a ledger line (no territory, no service).
    pub(crate) fn matches(&self, channel: Channel, format: Option<&str>) -> bool {
        self.matches_line(channel, format, None, None)
    }
    /// For a statement line with its territory and service.
    pub(crate) fn matches_line(
        &self,
        channel: Channel,
        format: Option<&str>,
        territory: Option<&str>,
        service: Option<&str>,
    ) -> bool {
        self.channel.is_none_or(|c| c == channel)
            && same_text(&self.format, format)
            && same_text(&self.territory, territory)
            && same_text(&self.service, service)
    }
    /// The rule's scope as contracts.csv writes it: `*`, `digital`, `physical/LP`,
    /// `digital@US`, `digital+GenStore`, `digital/ALBUM@US+GenStore`.
    pub fn scope_text(&self) -> String {
        let mut s = match (&self.channel, &self.format) {
            (None, None) => "*".to_string(),
            (Some(c), None) => channel_text(*c).to_string(),
            (None, Some(f)) => f.clone(),
            (Some(c), Some(f)) => format!("{}/{f}", channel_text(*c)),
        };
        if let Some(t) = &self.territory {
            s.push('@');
            s.push_str(t);
        }
        if let Some(v) = &self.service {
            s.push('+');
            s.push_str(v);
        }
        s
    }
    fn specificity(&self) -> u8 {
        u8::from(self.channel.is_some())
            + u8::from(self.format.is_some())
            + u8::from(self.territory.is_some())
            + u8::from(self.service.is_some())
    }
}

/// The terms of a contract, as typed; [`Contract::new`] checks them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractTerms {
    pub id: String,
    /// Payee and share; shares must sum to exactly 1.
    pub payees: Vec<(PartyId, Rate)>,
    pub skus: Vec<Sku>,
    pub basis: Basis,
    pub rules: Vec<RateRule>,
    /// Costs recouped across all the contract's SKUs (true) or each SKU's costs only
    /// from that SKU's royalties (false; costs without a SKU then recoup from all).
    pub cross_collateralized: bool,
    /// Share of physical royalties held back against returns.
    pub reserve_rate: Rate,
    /// Periods after which a held reserve is released (0: released at once).
    pub reserve_release_periods: u32,
    /// Balances below this are carried forward instead of paid.
    pub min_payout: Money,
}

/// A royalty contract with checked terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contract {
    id: String,
    payees: Vec<(PartyId, Rate)>,
    skus: BTreeSet<Sku>,
    basis: Basis,
    rules: Vec<RateRule>,
    cross_collateralized: bool,
    reserve_rate: Rate,
    reserve_release_periods: u32,
    min_payout: Money,
}

impl Contract {
    pub fn new(t: ContractTerms) -> Result<Contract, RoyaltyError> {
        let id = t.id.trim().to_string();
        if id.is_empty() || id.len() > 64 || id.chars().any(char::is_control) {
            return Err(RoyaltyError::invalid(
                "contract id",
                id,
                "1-64 printable characters",
            ));
        }
        if t.payees.is_empty() {
            return Err(RoyaltyError::invalid(
                format!("contract {id} payees"),
                "none",
                "at least one payee",
            ));
        }
        let mut seen = BTreeSet::new();
        for (p, _) in &t.payees {
            if !seen.insert(p.clone()) {
                return Err(RoyaltyError::Duplicate {
                    what: format!("payee on contract {id}"),
                    id: p.to_string(),
                });
            }
        }
        let sum: u64 = t.payees.iter().map(|(_, r)| u64::from(r.ppm())).sum();
        if sum != u64::from(Rate::ONE_PPM) {
            return Err(RoyaltyError::SharesDoNotSumToOne {
                contract: id,
                sum_ppm: sum,
            });
        }
        if t.skus.is_empty() {
            return Err(RoyaltyError::invalid(
                format!("contract {id} skus"),
                "none",
                "at least one SKU",
            ));
        }
        if t.rules.is_empty() {
            return Err(RoyaltyError::invalid(
                format!("contract {id} rate rules"),
                "none",
                "at least one rate rule",
            ));
        }
        for r in &t.rules {
            if r.rate > Rate::ONE {
                return Err(RoyaltyError::invalid(
                    format!("contract {id} rate"),
                    r.rate.to_string(),
                    "a royalty rate between 0 and 1",
                ));
            }
            for (what, v) in [("territory", &r.territory), ("service", &r.service)] {
                if v.as_deref().is_some_and(|t| t.trim().is_empty()) {
                    return Err(RoyaltyError::invalid(
                        format!("contract {id} rule {what}"),
                        "",
                        format!("a {what}, or no {what}"),
                    ));
                }
            }
            if r.is_line_level() && r.channel == Some(Channel::Physical) {
                return Err(RoyaltyError::invalid(
                    format!("contract {id} rule channel"),
                    "physical",
                    "digital (or no channel) for a rate by territory or service: physical sales carry neither",
                ));
            }
            if r.format.as_deref().is_some_and(|f| f.trim().is_empty()) {
                return Err(RoyaltyError::invalid(
                    format!("contract {id} rule format"),
                    "",
                    "a format such as CD or LP, or no format",
                ));
            }
        }
        if t.reserve_rate > Rate::ONE {
            return Err(RoyaltyError::invalid(
                format!("contract {id} reserve rate"),
                t.reserve_rate.to_string(),
                "a reserve rate between 0 and 1",
            ));
        }
        if t.min_payout.minor() < 0 {
            return Err(RoyaltyError::invalid(
                format!("contract {id} minimum payout"),
                t.min_payout.to_string(),
                "zero or a positive amount",
            ));
        }
        Ok(Contract {
            id,
            payees: t.payees,
            skus: t.skus.into_iter().collect(),
            basis: t.basis,
            rules: t.rules,
            cross_collateralized: t.cross_collateralized,
            reserve_rate: t.reserve_rate,
            reserve_release_periods: t.reserve_release_periods,
            min_payout: t.min_payout,
        })
    }
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn payees(&self) -> &[(PartyId, Rate)] {
        &self.payees
    }
    pub fn shares(&self) -> Vec<Rate> {
        self.payees.iter().map(|(_, r)| *r).collect()
    }
    pub fn covers(&self, sku: &Sku) -> bool {
        self.skus.contains(sku)
    }
    pub fn skus(&self) -> &BTreeSet<Sku> {
        &self.skus
    }
    pub fn basis(&self) -> Basis {
        self.basis
    }
    pub fn rules(&self) -> &[RateRule] {
        &self.rules
    }
    pub fn cross_collateralized(&self) -> bool {
        self.cross_collateralized
    }
    pub fn reserve_rate(&self) -> Rate {
        self.reserve_rate
    }
    pub fn reserve_release_periods(&self) -> u32 {
        self.reserve_release_periods
    }
    pub fn min_payout(&self) -> Money {
        self.min_payout
    }

    /// The rule for a line: most specific match, first listed among equals.
    pub fn rule_for(&self, channel: Channel, format: Option<&str>) -> Option<&RateRule> {
        let mut best: Option<&RateRule> = None;
        for r in self.rules.iter().filter(|r| r.matches(channel, format)) {
            if best.is_none_or(|b| r.specificity() > b.specificity()) {
                best = Some(r);
            }
        }
        best
    }

    /// The rule for a statement line with its territory and service, by its index in
    /// [`Contract::rules`]: most specific match, first listed among equals.
    pub fn rule_index_for_line(
        &self,
        channel: Channel,
        format: Option<&str>,
        territory: Option<&str>,
        service: Option<&str>,
    ) -> Option<usize> {
        let mut best: Option<(usize, u8)> = None;
        for (i, r) in self.rules.iter().enumerate() {
            if !r.matches_line(channel, format, territory, service) {
                continue;
            }
            if best.is_none_or(|(_, s)| r.specificity() > s) {
                best = Some((i, r.specificity()));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The first rule with a territory or service, if any.
    pub fn line_level_rule(&self) -> Option<&RateRule> {
        self.rules.iter().find(|r| r.is_line_level())
    }

    /// The net-profit split rate costs are charged at, if the contract has one.
    pub fn net_profit_rate(&self) -> Option<Rate> {
        self.rules
            .iter()
            .find(|r| r.base == Base::NetProfitSplit)
            .map(|r| r.rate)
    }
}

/// A cost the label paid under a contract. Charged against the payees' balances in
/// the period containing `date` (if recoupable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cost {
    contract_id: String,
    sku: Option<Sku>,
    amount: Money,
    kind: CostKind,
    recoupable: bool,
    date: Date,
}

impl Cost {
    /// `amount` must be positive.
    pub fn new(
        contract_id: &str,
        sku: Option<Sku>,
        amount: Money,
        kind: CostKind,
        recoupable: bool,
        date: Date,
    ) -> Result<Cost, RoyaltyError> {
        if amount.minor() <= 0 {
            return Err(RoyaltyError::invalid(
                "cost amount",
                amount.to_string(),
                "a positive amount",
            ));
        }
        let contract_id = contract_id.trim().to_string();
        if contract_id.is_empty() {
            return Err(RoyaltyError::invalid("cost contract", "", "a contract id"));
        }
        Ok(Cost {
            contract_id,
            sku,
            amount,
            kind,
            recoupable,
            date,
        })
    }
    pub fn contract_id(&self) -> &str {
        &self.contract_id
    }
    pub fn sku(&self) -> Option<&Sku> {
        self.sku.as_ref()
    }
    pub fn amount(&self) -> Money {
        self.amount
    }
    pub fn kind(&self) -> CostKind {
        self.kind
    }
    pub fn recoupable(&self) -> bool {
        self.recoupable
    }
    pub fn date(&self) -> Date {
        self.date
    }
}
