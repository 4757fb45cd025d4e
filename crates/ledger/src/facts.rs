//! Facts recorded in the journal that move nothing: reference data (catalog,
//! agreements), purchase orders, stock reports (balance assertions), legal filings.
//!
//! They live in the same hash-chained journal as movements so that everything the
//! label will need to prove — what it sold to whom on which terms, when it filed — is
//! tamper-evident and replayable as of any date.

use backstock_domain::{Currency, Date, DomainError, Money, PartyId, PartyKind, Rate, Sku, Upc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    Party(PartyRecord),
    CatalogItem(CatalogItem),
    Agreement(Agreement),
    PurchaseOrder(PurchaseOrder),
    StockReport(StockReport),
    ReceiptConfirmed(ReceiptConfirmed),
    /// An alternative code (UPC, EAN, ISRC, the distributor's item number) for a SKU.
    Alias {
        code: String,
        sku: Sku,
    },
    Ucc1Filing(Ucc1Filing),
    PmsiNotice(PmsiNotice),
    /// The label demanded its stock back (or moved to another distributor).
    Demand(Demand),
    /// The distributor's answer to a demand.
    DemandResponse(DemandResponse),
    /// The label disputes a deduction a distributor took from a statement: it stays
    /// owed, shown as disputed.
    DeductionDisputed(DeductionDispute),
    /// Statement lines whose product code was unknown, held (`import --hold-unmatched`)
    /// until an alias names the SKU; then they are posted as a supplementary statement.
    Unmatched(UnmatchedLine),
    /// Someone the label pays royalties to (`payees.csv`). A later record of the same
    /// payee replaces the contact details from then on.
    Payee(PayeeRecord),
    /// One version of a royalty contract (`contracts.csv`), in force from
    /// `effective_from` until a later version of the same contract.
    RoyaltyContract(RoyaltyContract),
    /// A cost the label paid under a royalty contract (`costs.csv`).
    RoyaltyCost(RoyaltyCost),
    /// The distributor failed: a bankruptcy petition, an assignment for the benefit of
    /// creditors, a receivership or an out-of-court liquidation.
    Insolvency(Insolvency),
    /// A document the label attached to a distributor (agreement, notice,
    /// correspondence); its bytes are kept in the store by SHA-256, like originals.
    Document(DocumentRecord),
    /// A payee's tax form received (W-9 from a US person, W-8BEN from a foreign one):
    /// what year-end reporting (1099) needs on file.
    TaxForm(TaxFormRecord),
}

/// Which tax form a payee gave the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxFormKind {
    /// IRS Form W-9 (a US person: the label files a 1099).
    W9,
    /// IRS Form W-8BEN (a foreign individual).
    W8ben,
}

impl TaxFormKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            TaxFormKind::W9 => "w9",
            TaxFormKind::W8ben => "w8ben",
        }
    }
    /// `w9`, `W-9`, `w8ben`, `W-8BEN` (any case).
    pub fn parse(s: &str) -> Option<TaxFormKind> {
        match s.trim().to_ascii_lowercase().replace('-', "").as_str() {
            "w9" => Some(TaxFormKind::W9),
            "w8ben" => Some(TaxFormKind::W8ben),
            _ => None,
        }
    }
    /// As printed: `W-9`, `W-8BEN`.
    pub fn label(&self) -> &'static str {
        match self {
            TaxFormKind::W9 => "W-9",
            TaxFormKind::W8ben => "W-8BEN",
        }
    }
}

/// A tax form received from a payee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxFormRecord {
    pub payee: PartyId,
    pub form: TaxFormKind,
    pub received_on: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyRecord {
    pub party: PartyId,
    pub kind: PartyKind,
    pub legal_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub sku: Sku,
    pub upc: Option<Upc>,
    pub title: String,
    pub artist: String,
    pub format: String,
    pub release_date: Option<Date>,
    pub list_price: Money,
    pub wholesale_price: Money,
    pub unit_cost: Money,
}

impl CatalogItem {
    /// Whether the item is sold as downloads or streams (see [`is_digital_format`]).
    pub fn is_digital(&self) -> bool {
        is_digital_format(&self.format)
    }
}

/// A catalog format that names digital income rather than a physical product: it
/// contains `digital`, `download` or `stream`, or is `MP3`, `FLAC`, `WAV`, `AAC`, `ALAC`
/// or `OGG` (ignoring case and surrounding space). A statement line of such a SKU is
/// digital whatever file reported it: no units leave a warehouse, the digital royalty
/// rate applies and no reserve is held.
pub fn is_digital_format(format: &str) -> bool {
    let f = format.trim().to_ascii_lowercase();
    f.contains("digital")
        || f.contains("download")
        || f.contains("stream")
        || matches!(f.as_str(), "mp3" | "flac" | "wav" | "aac" | "alac" | "ogg")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementFrequency {
    Monthly,
    Quarterly,
}

impl StatementFrequency {
    pub fn months(&self) -> i32 {
        match self {
            StatementFrequency::Monthly => 1,
            StatementFrequency::Quarterly => 3,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            StatementFrequency::Monthly => "monthly",
            StatementFrequency::Quarterly => "quarterly",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub distributor: PartyId,
    pub legal_name: String,
    pub state_of_organization: String,
    pub agreement_start: Date,
    pub fee_rate: Rate,
    pub payment_terms_days: u32,
    pub statement_frequency: StatementFrequency,
    pub reserve_rate: Rate,
    pub reserve_release_days: u32,
    pub credit_limit: Money,
    pub currency: Currency,
    pub title_retained: bool,
    /// The months the distributor pays in, when the agreement sets a payment calendar
    /// ("everything due, in June and December"): empty when it pays statement by
    /// statement. Left out of the entry's JSON when empty, so agreements recorded
    /// before the field existed keep their bodies and hashes.
    #[serde(default, skip_serializing_if = "PaymentMonths::is_empty")]
    pub payment_months: PaymentMonths,
}

/// The months of the year a distributor pays in (1 = January … 12 = December), each
/// once, in calendar order; empty = no payment calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u32>", into = "Vec<u32>")]
pub struct PaymentMonths(Vec<u32>);

impl PaymentMonths {
    const NAMES: [&'static str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];

    /// Months written as numbers (`6;12`) or English names, whole or at least their
    /// first three letters (`jun;dec`, `June December`), separated by `;`, `,`, `/`,
    /// `|` or spaces, in any order; empty text is no calendar. A month given twice, or
    /// anything else, is an error naming what was expected.
    pub fn parse(text: &str) -> Result<PaymentMonths, DomainError> {
        const EXPECTED: &str = "the months the distributor pays in, each once: numbers or names, e.g. 6;12 or jun;dec (empty: it pays statement by statement)";
        let mut months = Vec::new();
        for word in text
            .split([';', ',', '/', '|', ' ', '\t'])
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            let named = || {
                let w = word.to_ascii_lowercase();
                Self::NAMES
                    .iter()
                    .position(|name| w.len() >= 3 && name.to_ascii_lowercase().starts_with(&w))
                    .map(|i| i as u32 + 1)
            };
            let month = match word.parse::<u32>() {
                Ok(n) => Some(n).filter(|n| (1..=12).contains(n)),
                Err(_) => named(),
            };
            let Some(month) = month.filter(|m| !months.contains(m)) else {
                return Err(DomainError::new(word, EXPECTED));
            };
            months.push(month);
        }
        months.sort_unstable();
        Ok(PaymentMonths(months))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The months, 1 = January, in calendar order.
    pub fn months(&self) -> &[u32] {
        &self.0
    }

    /// Whether the distributor pays in `month` (1 = January).
    pub fn contains(&self, month: u32) -> bool {
        self.0.contains(&month)
    }

    /// The months by name, "June and December", for sentences.
    pub fn names(&self) -> String {
        let names: Vec<&str> = self
            .0
            .iter()
            .map(|m| Self::NAMES[*m as usize - 1])
            .collect();
        match names.split_last() {
            None => String::new(),
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
}

impl TryFrom<Vec<u32>> for PaymentMonths {
    type Error = String;
    fn try_from(months: Vec<u32>) -> Result<Self, String> {
        let text: Vec<String> = months.iter().map(u32::to_string).collect();
        let parsed = PaymentMonths::parse(&text.join(";")).map_err(|e| e.to_string())?;
        // Stored in calendar order: anything else was not written by backstock.
        if parsed.0 != months {
            return Err(format!("payment months {months:?} out of order"));
        }
        Ok(parsed)
    }
}

impl From<PaymentMonths> for Vec<u32> {
    fn from(m: PaymentMonths) -> Vec<u32> {
        m.0
    }
}

impl std::fmt::Display for PaymentMonths {
    /// As the CSV column takes them: `6;12`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&text.join(";"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrder {
    pub po_number: String,
    pub date: Date,
    pub distributor: PartyId,
    pub sku: Sku,
    pub units: u64,
}

/// Where a stock report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockReportSource {
    Csv,
    Edi846,
    Edi852,
}

/// A distributor's own count: an assertion to check against the ledger, never a
/// movement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockReport {
    pub distributor: PartyId,
    pub as_of: Date,
    pub sku: Sku,
    pub units_on_hand: i64,
    pub source: StockReportSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptConfirmed {
    pub shipment_id: String,
    pub distributor: PartyId,
    pub sku: Sku,
    pub units: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ucc1Filing {
    pub distributor: PartyId,
    pub file_number: String,
    pub state: String,
    pub filed_on: Date,
    /// A continuation of an earlier filing (9-515(d)), if it is one.
    pub continues: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmsiNotice {
    pub distributor: PartyId,
    pub secured_party: String,
    pub sent_on: Date,
    pub received_on: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemandKind {
    /// Return the stock to the label.
    Return,
    /// Transfer the stock to another distributor.
    Transfer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Demand {
    pub demand_id: String,
    pub distributor: PartyId,
    pub kind: DemandKind,
    /// The new distributor, for a transfer.
    pub transfer_to: Option<PartyId>,
    /// `None` = all stock held.
    pub sku: Option<Sku>,
    pub units: Option<u64>,
    pub made_on: Date,
    /// How it was sent (email, letter, certified mail…), for the claim pack.
    pub via: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemandOutcome {
    Complied,
    Partial,
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandResponse {
    pub demand_id: String,
    pub answered_on: Date,
    pub outcome: DemandOutcome,
    pub note: String,
}

/// Why the label accepted a distributor's deduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeductionReason {
    Freight,
    CoOp,
    PriceProtection,
    PricingError,
    Other,
}

impl DeductionReason {
    pub const ALL: [DeductionReason; 5] = [
        DeductionReason::Freight,
        DeductionReason::CoOp,
        DeductionReason::PriceProtection,
        DeductionReason::PricingError,
        DeductionReason::Other,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            DeductionReason::Freight => "freight",
            DeductionReason::CoOp => "co_op",
            DeductionReason::PriceProtection => "price_protection",
            DeductionReason::PricingError => "pricing_error",
            DeductionReason::Other => "other",
        }
    }
    /// Accepts `co-op` and `co_op` alike.
    pub fn parse(s: &str) -> Option<DeductionReason> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        DeductionReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for DeductionReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The label disputes what a distributor deducted from a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeductionDispute {
    pub distributor: PartyId,
    pub statement_id: String,
    /// The amount disputed (the deduction's open amount when disputed).
    pub amount: Money,
    pub disputed_on: Date,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedLine {
    pub statement_id: String,
    pub distributor: PartyId,
    pub period_start: Date,
    pub period_end: Date,
    pub issued_on: Date,
    pub currency: Currency,
    pub code: String,
    pub kind: crate::events::LineKind,
    pub units: i64,
    pub amount_minor: i64,
    /// Source lines (first, last).
    pub first_line: u64,
    pub last_line: u64,
    /// Digital for a line of a DDEX DSR (absent — physical — in a file without a
    /// channel, and in every line held before this field: their bytes are unchanged).
    #[serde(default, skip_serializing_if = "crate::events::Channel::is_physical")]
    pub channel: crate::events::Channel,
}

/// A royalty payee: artist, producer, co-leader, estate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayeeRecord {
    pub payee: PartyId,
    pub name: String,
    pub email: String,
    pub address: String,
}

/// When royalties become due: on sales as reported, or only on what was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoyaltyBasis {
    /// On sales reported by the distributor, paid for or not.
    Earned,
    /// Only on the share of each statement the distributor has actually paid
    /// ("paid or credited").
    Collected,
}

/// What a royalty rate is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoyaltyBase {
    /// The statement line's amount (sales − returns − fees − chargebacks + adjustments).
    NetReceipts,
    /// The catalog wholesale price × units (sales − returns): "published price to
    /// dealers" per unit.
    PpdPerUnit,
    /// Net receipts split at the rate, with the contract's recoupable non-advance costs
    /// charged at the same rate (e.g. 50/50 of net profit). Advances are recouped at 100%.
    NetProfitSplit,
}

/// Kinds of cost recoupable under a royalty contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    Advance,
    Recording,
    Manufacturing,
    Other,
}

/// One royalty rate rule: the most specific rule matching a line's channel, format,
/// territory and service applies (more of them set beats fewer).
///
/// `territory` and `service` (issue 17.2) are for digital income and are read from the
/// statement lines (`backstock lines royalties`); they are left out of the JSON when
/// absent, so every rule recorded before them serializes, and hashes, as it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoyaltyRateRule {
    pub channel: Option<crate::events::Channel>,
    pub format: Option<String>,
    pub base: RoyaltyBase,
    pub rate: Rate,
    /// ISO 3166 territory of sale (`US`), as the lines give it; compared ignoring case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<String>,
    /// The service (`GenStreamPremium`), as the lines give it; compared ignoring case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// A payee's share of the artist royalty under a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoyaltyShare {
    pub payee: PartyId,
    pub share: Rate,
}

/// One version of a royalty contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoyaltyContract {
    pub contract_id: String,
    pub effective_from: Date,
    pub title: String,
    pub payees: Vec<RoyaltyShare>,
    pub skus: Vec<Sku>,
    pub basis: RoyaltyBasis,
    pub rules: Vec<RoyaltyRateRule>,
    pub cross_collateralized: bool,
    pub reserve_rate: Rate,
    pub reserve_release_periods: u32,
    pub min_payout: Money,
}

/// A cost the label paid under a contract, recoupable from the payees' royalties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoyaltyCost {
    pub cost_id: String,
    pub contract_id: String,
    pub date: Date,
    pub kind: CostKind,
    pub amount: Money,
    pub sku: Option<Sku>,
    pub recoupable: bool,
    pub memo: String,
}

/// How a distributor failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsolvencyKind {
    /// A petition under the Bankruptcy Code (Chapter 7 or 11).
    Bankruptcy,
    /// An assignment for the benefit of creditors.
    Assignment,
    /// A court-appointed receiver.
    Receivership,
    /// An out-of-court liquidation (e.g. for a secured lender, as Allegro's in 2016).
    Liquidation,
}

impl InsolvencyKind {
    pub const ALL: [InsolvencyKind; 4] = [
        InsolvencyKind::Bankruptcy,
        InsolvencyKind::Assignment,
        InsolvencyKind::Receivership,
        InsolvencyKind::Liquidation,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            InsolvencyKind::Bankruptcy => "bankruptcy",
            InsolvencyKind::Assignment => "assignment",
            InsolvencyKind::Receivership => "receivership",
            InsolvencyKind::Liquidation => "liquidation",
        }
    }
    pub fn parse(s: &str) -> Option<InsolvencyKind> {
        let s = s.trim().to_ascii_lowercase();
        InsolvencyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// In words, for sentences: "a bankruptcy petition", "an assignment for the benefit
    /// of creditors".
    pub fn describe(&self) -> &'static str {
        match self {
            InsolvencyKind::Bankruptcy => "a bankruptcy petition",
            InsolvencyKind::Assignment => "an assignment for the benefit of creditors",
            InsolvencyKind::Receivership => "a receivership",
            InsolvencyKind::Liquidation => "an out-of-court liquidation",
        }
    }
}

impl std::fmt::Display for InsolvencyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A distributor's failure as the label recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Insolvency {
    pub distributor: PartyId,
    pub kind: InsolvencyKind,
    /// When it happened (closed, assigned, receiver appointed).
    pub on: Date,
    /// The bankruptcy petition's date, when there is one (the deadlines run from it;
    /// otherwise from `on`).
    pub petition_date: Option<Date>,
    /// Court and case number, or the assignee's / receiver's reference.
    pub case: Option<String>,
    pub claims_bar_date: Option<Date>,
    /// Who to write to (trustee, assignee, receiver, lender's counsel).
    pub contact: Option<String>,
}

impl Insolvency {
    /// The date the windows and deadlines run from: the petition, else the event.
    pub fn petition_or_event(&self) -> Date {
        self.petition_date.unwrap_or(self.on)
    }
}

/// What kind of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// The distribution agreement (saying the label keeps title).
    Agreement,
    /// A PMSI notice or its receipt.
    Notice,
    /// Letters, emails.
    Correspondence,
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 4] = [
        DocumentKind::Agreement,
        DocumentKind::Notice,
        DocumentKind::Correspondence,
        DocumentKind::Other,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentKind::Agreement => "agreement",
            DocumentKind::Notice => "notice",
            DocumentKind::Correspondence => "correspondence",
            DocumentKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<DocumentKind> {
        let s = s.trim().to_ascii_lowercase();
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A document attached to a distributor; the bytes are the store's original with
/// this SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub distributor: PartyId,
    pub kind: DocumentKind,
    /// The file's name as attached.
    pub name: String,
    pub sha256: String,
    pub size: u64,
    /// The date the label attached it.
    pub added_on: Date,
    pub note: Option<String>,
}

#[cfg(test)]
mod rate_rule_tests {
    use crate::chain::{entry_hash, GENESIS};
    use crate::Entry;

    /// A contract entry as recorded before rules had a territory or service (issue
    /// 17.2): read and written again, it is the same bytes, so its hash — and every
    /// link of the chain after it — is unchanged and `verify` still passes.
    #[test]
    fn an_old_contract_entry_serializes_byte_identically() {
        let old = r#"{"id":"contract:C-0:2015-01-01","effective_on":"2015-01-01","known_on":"2015-01-02","provenance":{"source":"demo"},"event":{"event":"fact","fact":"royalty_contract","contract_id":"C-0","effective_from":"2015-01-01","title":"Artist 0 catalogue","payees":[{"payee":"artist-0","share":"1"}],"skus":["GEN-000000","GEN-010000"],"basis":"earned","rules":[{"channel":null,"format":null,"base":"net_receipts","rate":"0.15"},{"channel":"physical","format":"LP","base":"ppd_per_unit","rate":"0.12"}],"cross_collateralized":false,"reserve_rate":"0","reserve_release_periods":0,"min_payout":{"amount_minor":0,"currency":"USD"}}}"#;
        let e: Entry = serde_json::from_str(old).unwrap();
        let again = serde_json::to_string(&e).unwrap();
        assert_eq!(again, old);
        assert_eq!(
            entry_hash(&GENESIS, 1, &again, "[]"),
            entry_hash(&GENESIS, 1, old, "[]")
        );
        let crate::Event::Fact(super::Fact::RoyaltyContract(c)) = &e.event else {
            panic!("a contract: {e:?}");
        };
        assert!(c
            .rules
            .iter()
            .all(|r| r.territory.is_none() && r.service.is_none()));
    }

    #[test]
    fn a_territory_or_service_is_written_only_when_set() {
        let mut r = super::RoyaltyRateRule {
            channel: Some(crate::Channel::Digital),
            format: None,
            base: super::RoyaltyBase::NetReceipts,
            rate: backstock_domain::Rate::parse("25%").unwrap(),
            territory: None,
            service: None,
        };
        assert!(!serde_json::to_string(&r).unwrap().contains("territory"));
        r.territory = Some("US".into());
        r.service = Some("GenStore".into());
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            text.ends_with(r#""territory":"US","service":"GenStore"}"#),
            "{text}"
        );
        assert_eq!(
            serde_json::from_str::<super::RoyaltyRateRule>(&text).unwrap(),
            r
        );
    }

    #[test]
    fn payment_months_read_as_numbers_or_names_in_any_order() {
        use super::PaymentMonths;
        for text in [
            "6;12",
            "12,6",
            "jun;dec",
            "June December",
            "dec/JUN",
            " 6 | 12 ",
        ] {
            let m = PaymentMonths::parse(text).unwrap();
            assert_eq!(m.months(), &[6, 12], "{text}");
            assert_eq!(m.names(), "June and December");
            assert_eq!(m.to_string(), "6;12");
        }
        assert!(PaymentMonths::parse("  ").unwrap().is_empty());
        assert_eq!(
            PaymentMonths::parse("3;6;9;12").unwrap().names(),
            "March, June, September and December"
        );
        for (bad, word) in [
            ("13", "13"),
            ("0", "0"),
            ("ju;dec", "ju"),
            ("6;june", "june"),
            ("midsummer", "midsummer"),
            ("6.5", "6.5"),
        ] {
            let e = PaymentMonths::parse(bad).unwrap_err();
            assert_eq!(e.found(), word, "{bad}");
            assert!(e.expected().contains("e.g. 6;12"), "{bad}: {e}");
        }
        // Stored as a list in calendar order; anything else is refused when read.
        let m = PaymentMonths::parse("dec;jun").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "[6,12]");
        assert_eq!(serde_json::from_str::<PaymentMonths>("[6,12]").unwrap(), m);
        assert!(serde_json::from_str::<PaymentMonths>("[12,6]").is_err());
        assert!(serde_json::from_str::<PaymentMonths>("[13]").is_err());
    }
}
