//! An artist's royalty statement: the document a label sends (what a royalty run
//! stored, so it can be reproduced exactly) and its renderings — JSON, CSV, HTML and
//! PDF. No I/O, no network: the PDF embeds DejaVu Sans (license in `fonts/`).
//!
//! Order of every rendering: label, payee, period; **totals first** (opening balance,
//! earnings, returns, reserves held and released, costs and recoupment, closing
//! balance, amount payable, and always *earned but not collected*, distributor named
//! and flagged when in default); then the costs charged; then the detail per release ×
//! format × channel × distributor.

#![deny(clippy::float_arithmetic)]

mod pdf;

use backstock_domain::{Currency, Date, Money};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

pub use pdf::{document, document_text, to_pdf, to_pdf_checked, Block, Pdf};

/// One payee's statement for one period (all the payee's contracts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoyaltyStatement {
    /// The label's name, as printed at the top.
    pub label: String,
    /// `2016H1`, `2016Q2` or `2016-05`.
    pub period: String,
    pub period_start: Date,
    pub period_end: Date,
    /// The day the run was made (the statement date).
    pub issued_on: Date,
    pub payee: PayeeInfo,
    pub contracts: Vec<ContractStatement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayeeInfo {
    pub id: String,
    pub name: String,
    pub email: String,
    pub address: String,
}

/// The payee's account under one contract, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractStatement {
    pub contract_id: String,
    pub title: String,
    /// The payee's share of the artist royalty, e.g. `0.6`.
    pub share: String,
    /// `earned` or `collected`.
    pub basis: String,
    pub currency: Currency,
    pub totals: Totals,
    /// Always present (an empty list means everything earned was collected).
    pub not_collected: Vec<NotCollected>,
    pub costs: Vec<CostLine>,
    /// Empty when read by [`from_json_without_detail`].
    #[serde(deserialize_with = "detail_unless_skipped")]
    pub detail: Vec<DetailLine>,
    /// What the run says about the statements of this contract's distributors that an
    /// artist would otherwise not see: a statement reversed after its period was
    /// locked (charged back here), one counted late from a locked period, one that
    /// arrived after this period ended (counted in the next). Empty otherwise (and
    /// then not written: statements stored before it read the same).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

thread_local! {
    /// Set while [`from_json_without_detail`] reads: the detail lines are passed over.
    static SKIP_DETAIL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn detail_unless_skipped<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<DetailLine>, D::Error> {
    if SKIP_DETAIL.with(std::cell::Cell::get) {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(Vec::new())
    } else {
        Vec::deserialize(d)
    }
}

/// A stored statement read for a list or a total (runs, payouts, claim pack): every
/// field but the detail lines, which are passed over unread (most of a statement's
/// bytes; a period of 10,000 payees is read in a fraction of the time, and memory).
/// Never render or store what this returns as the statement: its detail is empty.
pub fn from_json_without_detail(json: &[u8]) -> serde_json::Result<RoyaltyStatement> {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            SKIP_DETAIL.with(|s| s.set(false));
        }
    }
    SKIP_DETAIL.with(|s| s.set(true));
    let _reset = Reset;
    serde_json::from_slice(json)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub opening_balance: Money,
    pub units_sold: i64,
    pub units_returned: i64,
    /// Amount of return lines this period (positive).
    pub returns: Money,
    pub royalty_earned: Money,
    pub royalty_collected: Money,
    /// What this statement recognizes (earned or collected, per the basis).
    pub royalties: Money,
    pub reserve_held: Money,
    pub reserve_released: Money,
    pub costs_charged: Money,
    pub recouped: Money,
    pub closing_balance: Money,
    pub payable: Money,
    pub min_payout: Money,
    /// A positive balance below the minimum payout, carried to the next period.
    pub carried_below_minimum: bool,
    /// What the contract leaves the payee unrecouped in other currencies, when that
    /// held this statement's balance back (carried, not paid). Empty otherwise (and
    /// then not written: statements stored before it read the same).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_for_unrecouped: Vec<Money>,
    pub unrecouped: Money,
    pub reserves_outstanding: Money,
    pub earned_not_collected: Money,
    pub earned_not_collected_in_default: Money,
}

/// Royalties on sales a distributor reported and has not (fully) paid for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCollected {
    pub distributor: String,
    pub distributor_name: String,
    pub in_default: bool,
    pub statement_id: String,
    pub royalty_earned: Money,
    pub royalty_collected: Money,
    pub royalty_uncollected: Money,
    /// The statement is settled without the rest of its cash: the label accepted the
    /// distributor's deduction or wrote the balance off, so this part is not coming.
    /// (Absent from statements stored before it existed: read as `false`.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub settled_short: bool,
}

impl NotCollected {
    /// Where the uncollected part stands, as the statement's tables say it.
    pub fn status(&self) -> &'static str {
        // Settled short first: the label has decided this part is not coming, even
        // from a distributor in default.
        if self.settled_short {
            "deducted: not expected"
        } else if self.in_default {
            "IN DEFAULT"
        } else {
            "not yet due or paid"
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostLine {
    pub date: Date,
    /// advance, recording, manufacturing, other
    pub kind: String,
    pub sku: Option<String>,
    /// What the label paid.
    pub amount: Money,
    /// The part charged to this payee.
    pub charged: Money,
}

/// Earnings for one release × format × channel × distributor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailLine {
    pub release: String,
    pub sku: String,
    pub format: String,
    /// physical or digital
    pub channel: String,
    pub distributor: String,
    pub distributor_name: String,
    pub units_sold: i64,
    pub units_returned: i64,
    /// Net receipts of the lines (sales − returns − fees − chargebacks + adjustments).
    pub receipts: Money,
    pub returns: Money,
    pub royalty_earned: Money,
    pub royalty_collected: Money,
}

/// What makes a stored statement checkable (issue 18 item 8), found when it is shown —
/// never part of what the run stored, so a statement is still reproduced exactly: the
/// rate applied on each detail line (from the contract version in force) and the
/// payments made to the payee up to the statement date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checks {
    pub rates: Vec<RateApplied>,
    pub payments: Vec<PaymentLine>,
}

/// The rate a contract applies to one channel × format, as printed
/// (`20% of net receipts`, `15% of PPD`, `50% of net profit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateApplied {
    pub contract_id: String,
    pub channel: String,
    pub format: String,
    pub rate: String,
}

/// A payment made to the payee (remittance): when, how much, the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    pub date: Date,
    pub amount: Money,
    pub reference: String,
}

impl Checks {
    /// The rate applied on `l` of contract `contract_id` (empty when not known).
    pub fn rate_of(&self, contract_id: &str, l: &DetailLine) -> &str {
        self.rates
            .iter()
            .find(|r| {
                r.contract_id == contract_id && r.channel == l.channel && r.format == l.format
            })
            .map(|r| r.rate.as_str())
            .unwrap_or("")
    }
    /// Payments in `currency`, oldest first.
    pub fn payments_in(&self, currency: Currency) -> impl Iterator<Item = &PaymentLine> {
        self.payments
            .iter()
            .filter(move |p| p.amount.currency() == currency)
    }
}

/// A rate in parts per million as a percentage: `20%`, `17.5%`.
pub fn percent(ppm: u32) -> String {
    let int = ppm / 10_000;
    let frac = ppm % 10_000;
    if frac == 0 {
        format!("{int}%")
    } else {
        let f = format!("{frac:04}");
        format!("{int}.{}%", f.trim_end_matches('0'))
    }
}

/// Why royalties collected differ from royalties earned, in one paragraph: the
/// distributors' statements not paid yet, those of distributors in default named.
pub fn why_collected_differs(c: &ContractStatement) -> String {
    why_collected_differs_in(c, &Writing::default())
}

/// [`why_collected_differs`] in the label's [`Writing`].
pub fn why_collected_differs_in(c: &ContractStatement, w: &Writing) -> String {
    let t = &c.totals;
    let cur = c.currency;
    let mut s = format!(
        "Royalties are earned when a distributor reports a sale and collected when it pays for it. This period: earned {} {cur}, collected {} {cur}",
        w.amount(t.royalty_earned),
        w.amount(t.royalty_collected)
    );
    let diff = t
        .royalty_earned
        .minor()
        .saturating_sub(t.royalty_collected.minor());
    if diff == 0 {
        s.push_str(" (the same).");
    } else {
        s.push_str(&format!(
            " (a difference of {} {cur}; collected also counts payments received this period for earlier periods' statements).",
            w.amount(Money::from_minor(diff, cur))
        ));
    }
    if c.not_collected.is_empty() {
        s.push_str(" Every statement the distributors sent has been paid.");
    } else {
        let n = c.not_collected.len();
        s.push_str(&format!(
            " Not collected yet: {} {cur} on {n} unpaid statement{} (listed below)",
            w.amount(t.earned_not_collected),
            if n == 1 { "" } else { "s" }
        ));
        let mut defaulted: Vec<&str> = c
            .not_collected
            .iter()
            .filter(|x| x.in_default)
            .map(|x| x.distributor_name.as_str())
            .collect();
        defaulted.dedup();
        if defaulted.is_empty() {
            s.push('.');
        } else {
            s.push_str(&format!(
                ", of which {} {cur} is owed by distributors in default ({}): reported as sold but not paid; the label is pursuing the claim.",
                w.amount(t.earned_not_collected_in_default),
                defaulted.join(", ")
            ));
        }
    }
    s.push_str(&format!(
        " On the {} basis, the {} figure is what is credited to you.",
        c.basis,
        if c.basis == "collected" {
            "collected"
        } else {
            "earned"
        }
    ));
    s
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Html,
    Pdf,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "html" | "htm" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

/// Renders the statement in `format` (PDF as bytes, the others UTF-8).
pub fn render(st: &RoyaltyStatement, format: Format) -> Vec<u8> {
    render_checked(st, &Checks::default(), format)
}

/// Renders the statement with what makes it checkable ([`Checks`]): the rate on each
/// line, why collected differs from earned, the payments made up to its date.
pub fn render_checked(st: &RoyaltyStatement, checks: &Checks, format: Format) -> Vec<u8> {
    render_in(st, checks, format, &Writing::default())
}

/// [`render_checked`] with the HTML and PDF written in the label's [`Writing`] (its
/// locale's amounts, counts and dates); JSON and CSV are data and stay as they are.
pub fn render_in(st: &RoyaltyStatement, checks: &Checks, format: Format, w: &Writing) -> Vec<u8> {
    match format {
        Format::Json => to_json_checked(st, checks).into_bytes(),
        Format::Csv => to_csv_checked(st, checks).into_bytes(),
        Format::Html => to_html_in(st, checks, w).into_bytes(),
        Format::Pdf => pdf::to_pdf_in(st, checks, w).bytes,
    }
}

/// The statement as the run stored it.
pub fn to_json(st: &RoyaltyStatement) -> String {
    serde_json::to_string_pretty(st).unwrap_or_default() + "\n"
}

/// The stored statement with, added: each detail line's `rate`, each contract's
/// `why_collected_differs`, and `payments` (made to the payee up to the statement
/// date). Read back as a [`RoyaltyStatement`], the additions are ignored.
pub fn to_json_value(st: &RoyaltyStatement, checks: &Checks) -> serde_json::Value {
    let mut v = serde_json::to_value(st).unwrap_or_default();
    if let Some(cs) = v.get_mut("contracts").and_then(|c| c.as_array_mut()) {
        for (cj, c) in cs.iter_mut().zip(&st.contracts) {
            if let Some(ds) = cj.get_mut("detail").and_then(|d| d.as_array_mut()) {
                for (dj, d) in ds.iter_mut().zip(&c.detail) {
                    dj["rate"] = serde_json::json!(checks.rate_of(&c.contract_id, d));
                }
            }
            cj["why_collected_differs"] = serde_json::json!(why_collected_differs(c));
        }
    }
    v["payments"] = serde_json::to_value(&checks.payments).unwrap_or_default();
    v
}

/// [`to_json_value`] as text.
pub fn to_json_checked(st: &RoyaltyStatement, checks: &Checks) -> String {
    serde_json::to_string_pretty(&to_json_value(st, checks)).unwrap_or_default() + "\n"
}

/// How a statement writes amounts, counts and dates for people: the label's locale
/// (the web app makes one from it). The default is the statement's own — `1,234.56`,
/// `1,000` units, dates `2016-06-30` — as the CLI writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writing {
    /// Between groups of three digits: `,`, `.`, a narrow space, or nothing.
    pub group: String,
    /// Before the minor units: `.` or `,`.
    pub decimal: char,
    pub dates: DateOrder,
}

/// The order of a date's parts, and what is between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// `2016-06-30`
    Iso,
    /// `06/30/2016`
    Mdy(char),
    /// `30/06/2016`, `30.06.2016`, `30-06-2016`
    Dmy(char),
}

impl Default for Writing {
    fn default() -> Writing {
        Writing {
            group: ",".into(),
            decimal: '.',
            dates: DateOrder::Iso,
        }
    }
}

impl Writing {
    /// A whole number with its groups: `1,234,567`, `-12`.
    pub fn units(&self, n: i64) -> String {
        let s = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push_str(&self.group);
            }
            out.push(c);
        }
        if n < 0 {
            format!("-{out}")
        } else {
            out
        }
    }

    /// An amount without its currency: `1,234.56`, `1.234,56`, `-0.05`, `1,500` (JPY).
    pub fn amount(&self, m: Money) -> String {
        let exp = u32::from(m.currency().exponent());
        let scale = 10i128.pow(exp);
        let minor = i128::from(m.minor());
        let whole = i64::try_from(minor.abs() / scale).unwrap_or(i64::MAX);
        let frac = minor.abs() % scale;
        let mut out = if minor < 0 {
            "-".to_string()
        } else {
            String::new()
        };
        out.push_str(&self.units(whole));
        if exp > 0 {
            out.push(self.decimal);
            out.push_str(&format!("{frac:0width$}", width = exp as usize));
        }
        out
    }

    pub fn date(&self, d: Date) -> String {
        let (y, m, day) = (d.year(), d.month(), d.day());
        match self.dates {
            DateOrder::Iso => d.to_string(),
            DateOrder::Mdy(sep) => format!("{m:02}{sep}{day:02}{sep}{y}"),
            DateOrder::Dmy(sep) => format!("{day:02}{sep}{m:02}{sep}{y}"),
        }
    }
}

/// An amount for people: `1,234.56` (the currency is printed once per section).
pub fn amount(m: Money) -> String {
    Writing::default().amount(m)
}

/// The summary lines of one contract section, in the order printed (totals first).
/// Shared by every rendering so they say the same thing.
pub fn summary_lines(c: &ContractStatement) -> Vec<(String, String)> {
    summary_lines_in(c, &Writing::default())
}

/// [`summary_lines`] in the label's [`Writing`].
pub fn summary_lines_in(c: &ContractStatement, w: &Writing) -> Vec<(String, String)> {
    let t = &c.totals;
    let mut v = vec![
        ("Opening balance".to_string(), w.amount(t.opening_balance)),
        (
            format!(
                "Royalties earned ({} units sold, {} returned)",
                w.units(t.units_sold),
                w.units(t.units_returned)
            ),
            w.amount(t.royalty_earned),
        ),
        (
            "Royalties on payments collected".to_string(),
            w.amount(t.royalty_collected),
        ),
        (
            format!("Royalties credited this period ({} basis)", c.basis),
            w.amount(t.royalties),
        ),
        (
            "Returns included above (at wholesale)".to_string(),
            w.amount(t.returns),
        ),
        (
            "Reserve held against returns".to_string(),
            w.amount(neg(t.reserve_held)),
        ),
        ("Reserve released".to_string(), w.amount(t.reserve_released)),
        (
            "Advances and costs charged".to_string(),
            w.amount(neg(t.costs_charged)),
        ),
        ("Recouped this period".to_string(), w.amount(t.recouped)),
        (
            "Closing balance carried forward".to_string(),
            w.amount(t.closing_balance),
        ),
        ("Unrecouped balance".to_string(), w.amount(t.unrecouped)),
        (
            "Reserves still held".to_string(),
            w.amount(t.reserves_outstanding),
        ),
        (
            if !t.held_for_unrecouped.is_empty() {
                format!(
                    "AMOUNT PAYABLE (held: unrecouped by {} in another currency, never converted; carried forward)",
                    t.held_for_unrecouped
                        .iter()
                        .map(|m| format!("{} {}", w.amount(*m), m.currency()))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            } else if t.carried_below_minimum {
                format!(
                    "AMOUNT PAYABLE (below the {} minimum: carried forward)",
                    w.amount(t.min_payout)
                )
            } else {
                "AMOUNT PAYABLE".to_string()
            },
            w.amount(t.payable),
        ),
        (
            "Earned but not collected (all periods)".to_string(),
            w.amount(t.earned_not_collected),
        ),
    ];
    if !t.earned_not_collected_in_default.is_zero() {
        v.push((
            "  of which owed by distributors in default".to_string(),
            w.amount(t.earned_not_collected_in_default),
        ));
    }
    v
}

/// One sentence per distributor owing royalties not yet collected.
pub fn not_collected_lines(c: &ContractStatement) -> Vec<String> {
    not_collected_items(c).into_iter().map(|l| l.text).collect()
}

/// [`not_collected_lines`] in the label's [`Writing`].
pub fn not_collected_lines_in(c: &ContractStatement, w: &Writing) -> Vec<String> {
    not_collected_items_in(c, w)
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// A sentence of "earned but not collected", and whether it names a distributor in
/// default (for a badge: decided from the data, never from the words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCollectedLine {
    pub text: String,
    pub in_default: bool,
}

/// [`not_collected_lines`] with whether each distributor is in default.
pub fn not_collected_items(c: &ContractStatement) -> Vec<NotCollectedLine> {
    not_collected_items_in(c, &Writing::default())
}

/// [`not_collected_items`] in the label's [`Writing`].
pub fn not_collected_items_in(c: &ContractStatement, w: &Writing) -> Vec<NotCollectedLine> {
    // By distributor, and apart what is settled short (deducted: not coming) from
    // what is still owed.
    let mut by: Vec<(String, bool, bool, Money, usize)> = Vec::new();
    for n in &c.not_collected {
        let short = n.settled_short;
        match by
            .iter_mut()
            .find(|(d, _, s, ..)| *d == n.distributor_name && *s == short)
        {
            Some(e) => {
                e.3 = Money::from_minor(
                    e.3.minor().saturating_add(n.royalty_uncollected.minor()),
                    e.3.currency(),
                );
                e.4 += 1;
            }
            None => by.push((
                n.distributor_name.clone(),
                n.in_default && !short,
                short,
                n.royalty_uncollected,
                1,
            )),
        }
    }
    if by.is_empty() {
        return vec![NotCollectedLine {
            text: "Everything earned has been collected from the distributors.".into(),
            in_default: false,
        }];
    }
    by.into_iter()
        .map(|(d, default, short, m, n)| NotCollectedLine {
            // Less than nothing not collected: returns beyond sales on statements not
            // yet settled — nothing is owed to the artist there, default or not.
            in_default: default && m.minor() >= 0,
            text: format!(
                "{d}: {} {} on {n} statement{}{}",
                w.amount(m),
                c.currency,
                if n == 1 { "" } else { "s" },
                if m.minor() < 0 {
                    " — returns beyond sales on statements not yet settled: charged when the distributor settles them"
                } else if default {
                    " — IN DEFAULT: reported as sold but not paid; the label is pursuing the claim"
                } else if short {
                    " — paid short, and the label accepted the distributor's deduction (or wrote the rest off): not expected"
                } else {
                    " — not yet due or paid"
                }
            ),
        })
        .collect()
}

fn neg(m: Money) -> Money {
    Money::from_minor(m.minor().saturating_neg(), m.currency())
}

/// A CSV cell through the product's one neutralizing writer.
fn csv_cell(s: &str) -> String {
    backstock_domain::csv::cell(s).into_owned()
}

/// CSV: one row per item, `record` saying which part of the statement it is
/// (`header`, `contract` (its title in `text`, its currency), `total`, `note`, `not_collected`, `cost`, `detail`, `payment`); amounts
/// as plain decimals; `amount` holds only money in `currency` (a header's value is in
/// `text`, the totals' unit counts in `units_sold`/`units_returned` on the `units`
/// row, `carried_below_minimum` is `yes`/`no` in `text`); `rate` is the rate applied
/// on a detail line, `text` a note's words or a payment's reference.
pub fn to_csv(st: &RoyaltyStatement) -> String {
    to_csv_checked(st, &Checks::default())
}

/// [`to_csv`] with the rates and payments of `checks`.
pub fn to_csv_checked(st: &RoyaltyStatement, checks: &Checks) -> String {
    let mut out = String::from(
        "record,contract_id,item,release,sku,format,channel,distributor,units_sold,units_returned,receipts,returns,royalty_earned,royalty_collected,amount,currency,rate,text\n",
    );
    let mut row = |cells: [&str; 18]| {
        out.push_str(
            &cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    };
    for (k, v) in [
        ("label", st.label.as_str()),
        ("payee", st.payee.id.as_str()),
        ("payee_name", st.payee.name.as_str()),
        ("period", st.period.as_str()),
        ("period_start", &st.period_start.to_string()),
        ("period_end", &st.period_end.to_string()),
        ("issued_on", &st.issued_on.to_string()),
    ] {
        row([
            "header", "", k, "", "", "", "", "", "", "", "", "", "", "", "", "", "", v,
        ]);
    }
    for c in &st.contracts {
        let cur = c.currency.to_string();
        let t = &c.totals;
        let d = |m: Money| m.to_decimal_string();
        // The contract's title, as the PDF and HTML head its section.
        let mut title = [""; 18];
        title[0] = "contract";
        title[1] = &c.contract_id;
        title[2] = "title";
        title[15] = &cur;
        title[17] = &c.title;
        row(title);
        // Only money in `amount` (so a spreadsheet can sum it), with its currency: the
        // totals' unit counts in their own columns, the one yes/no in `text`.
        // (item, units_sold, units_returned, amount, text)
        let money = |k: &'static str, m: Money| (k, String::new(), String::new(), d(m), "");
        let rows = [
            money("opening_balance", t.opening_balance),
            (
                "units_sold",
                t.units_sold.to_string(),
                String::new(),
                String::new(),
                "",
            ),
            (
                "units_returned",
                String::new(),
                t.units_returned.to_string(),
                String::new(),
                "",
            ),
            money("returns", t.returns),
            money("royalty_earned", t.royalty_earned),
            money("royalty_collected", t.royalty_collected),
            money("royalties", t.royalties),
            money("reserve_held", t.reserve_held),
            money("reserve_released", t.reserve_released),
            money("costs_charged", t.costs_charged),
            money("recouped", t.recouped),
            money("closing_balance", t.closing_balance),
            money("payable", t.payable),
            money("min_payout", t.min_payout),
            (
                "carried_below_minimum",
                String::new(),
                String::new(),
                String::new(),
                if t.carried_below_minimum { "yes" } else { "no" },
            ),
            money("unrecouped", t.unrecouped),
            money("reserves_outstanding", t.reserves_outstanding),
            money("earned_not_collected", t.earned_not_collected),
            money(
                "earned_not_collected_in_default",
                t.earned_not_collected_in_default,
            ),
        ];
        for (k, sold, returned, amount, text) in rows {
            let currency = if amount.is_empty() { "" } else { cur.as_str() };
            row([
                "total",
                &c.contract_id,
                k,
                "",
                "",
                "",
                "",
                "",
                &sold,
                &returned,
                "",
                "",
                "",
                "",
                &amount,
                currency,
                "",
                text,
            ]);
        }
        // A note: its item, an amount and currency when it has one, its words.
        let mut note = |item: &str, amount: &str, currency: &str, text: &str| {
            let mut cells = [""; 18];
            cells[0] = "note";
            cells[1] = &c.contract_id;
            cells[2] = item;
            cells[14] = amount;
            cells[15] = currency;
            cells[17] = text;
            row(cells);
        };
        note("why_collected_differs", "", &cur, &why_collected_differs(c));
        for n in &c.notes {
            note("statement_counted_differently", "", "", n);
        }
        for m in &t.held_for_unrecouped {
            // The balance was held back by a deficit in another currency.
            note(
                "held_for_unrecouped",
                &d(*m),
                m.currency().code(),
                "the balance is held, not paid: the contract is unrecouped by this amount in another currency (never converted)",
            );
        }
        for n in &c.not_collected {
            row([
                "not_collected",
                &c.contract_id,
                if n.settled_short {
                    "settled_short"
                } else if n.in_default {
                    "in_default"
                } else {
                    "outstanding"
                },
                &n.statement_id,
                "",
                "",
                "",
                &n.distributor,
                "",
                "",
                "",
                "",
                &d(n.royalty_earned),
                &d(n.royalty_collected),
                &d(n.royalty_uncollected),
                &cur,
                "",
                "",
            ]);
        }
        for k in &c.costs {
            row([
                "cost",
                &c.contract_id,
                &k.kind,
                &k.date.to_string(),
                k.sku.as_deref().unwrap_or(""),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &d(k.charged),
                &cur,
                "",
                "",
            ]);
        }
        for l in &c.detail {
            row([
                "detail",
                &c.contract_id,
                "",
                &l.release,
                &l.sku,
                &l.format,
                &l.channel,
                &l.distributor,
                &l.units_sold.to_string(),
                &l.units_returned.to_string(),
                &d(l.receipts),
                &d(l.returns),
                &d(l.royalty_earned),
                &d(l.royalty_collected),
                "",
                &cur,
                checks.rate_of(&c.contract_id, l),
                "",
            ]);
        }
    }
    for p in &checks.payments {
        row([
            "payment",
            "",
            &p.date.to_string(),
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            &p.amount.to_decimal_string(),
            p.amount.currency().code(),
            "",
            &p.reference,
        ]);
    }
    out
}

/// Text escaped for HTML (element content and quoted attribute values). The web app
/// uses this one too.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A self-contained HTML page (inline style, no scripts, no external resources).
pub fn to_html(st: &RoyaltyStatement) -> String {
    to_html_checked(st, &Checks::default())
}

/// [`to_html`] with the rates and payments of `checks`.
pub fn to_html_checked(st: &RoyaltyStatement, checks: &Checks) -> String {
    to_html_in(st, checks, &Writing::default())
}

/// [`to_html_checked`] with amounts, counts and dates in the label's [`Writing`].
pub fn to_html_in(st: &RoyaltyStatement, checks: &Checks, w: &Writing) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — royalty statement {} — {}</title>\n<style>body{{font-family:'DejaVu Sans',Verdana,sans-serif;font-size:13px;max-width:60em;margin:2em auto;color:#111}}h1{{font-size:22px;margin:0}}h2{{font-size:16px;border-bottom:1px solid #999;margin-top:2em}}table{{border-collapse:collapse;width:100%;margin:.5em 0}}td,th{{padding:2px 6px;border-bottom:1px solid #ddd;text-align:left}}.n{{text-align:right;font-variant-numeric:tabular-nums}}.pay{{font-weight:bold;background:#f3f3f3}}.default{{color:#a00;font-weight:bold}}</style></head><body>\n",
        esc(&st.label),
        esc(&st.period),
        esc(&st.payee.name)
    );
    let _ = write!(
        h,
        "<h1>{}</h1>\n<p>Royalty statement for <b>{}</b> — period {} ({} to {}), issued {}</p>\n<p>{}<br>{}<br>{}</p>\n",
        esc(&st.label),
        esc(&st.payee.name),
        esc(&st.period),
        w.date(st.period_start),
        w.date(st.period_end),
        w.date(st.issued_on),
        esc(&st.payee.name),
        esc(&st.payee.address),
        esc(&st.payee.email)
    );
    for c in &st.contracts {
        let _ = write!(
            h,
            "<h2>Contract {} — {}</h2>\n<p>Your share: {} · basis: {} · amounts in {}</p>\n<table>\n",
            esc(&c.contract_id),
            esc(&c.title),
            esc(&c.share),
            esc(&c.basis),
            c.currency
        );
        for (k, v) in summary_lines_in(c, w) {
            let cls = if k.starts_with("AMOUNT PAYABLE") {
                " class=\"pay\""
            } else {
                ""
            };
            let _ = writeln!(
                h,
                "<tr{cls}><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(&k),
                esc(&v)
            );
        }
        h.push_str("</table>\n<h3>Earned but not collected</h3>\n<ul>\n");
        for line in not_collected_lines_in(c, w) {
            let _ = writeln!(
                h,
                "<li{}>{}</li>",
                if line.contains("IN DEFAULT") {
                    " class=\"default\""
                } else {
                    ""
                },
                esc(&line)
            );
        }
        h.push_str("</ul>\n");
        let _ = writeln!(
            h,
            "<h3>Why collected differs from earned</h3>\n<p class=\"why\">{}</p>",
            esc(&why_collected_differs_in(c, w))
        );
        if !c.notes.is_empty() {
            h.push_str(
                "<h3>Statements counted differently this period</h3>\n<ul class=\"notes\">\n",
            );
            for n in &c.notes {
                let _ = writeln!(h, "<li>{}</li>", esc(n));
            }
            h.push_str("</ul>\n");
        }
        if !c.not_collected.is_empty() {
            h.push_str("<table class=\"unpaid\"><tr><th>unpaid statement</th><th>distributor</th><th class=\"n\">earned</th><th class=\"n\">collected</th><th class=\"n\">not collected</th><th>status</th></tr>\n");
            for n in &c.not_collected {
                let _ = writeln!(
                    h,
                    "<tr{}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    if n.in_default && !n.settled_short { " class=\"default\"" } else { "" },
                    esc(&n.statement_id),
                    esc(&n.distributor_name),
                    w.amount(n.royalty_earned),
                    w.amount(n.royalty_collected),
                    w.amount(n.royalty_uncollected),
                    n.status()
                );
            }
            h.push_str("</table>\n");
        }
        if !c.costs.is_empty() {
            h.push_str("<h3>Advances and costs charged</h3>\n<table><tr><th>date</th><th>kind</th><th>SKU</th><th class=\"n\">cost</th><th class=\"n\">charged to you</th></tr>\n");
            for k in &c.costs {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    w.date(k.date),
                    esc(&k.kind),
                    esc(k.sku.as_deref().unwrap_or("all releases")),
                    w.amount(k.amount),
                    w.amount(k.charged)
                );
            }
            h.push_str("</table>\n");
        }
        h.push_str("<h3>Detail</h3>\n<table><tr><th>release</th><th>SKU</th><th>format</th><th>channel</th><th>distributor</th><th class=\"n\">sold</th><th class=\"n\">returned</th><th>rate</th><th class=\"n\">net receipts</th><th class=\"n\">royalty earned</th><th class=\"n\">royalty collected</th></tr>\n");
        for l in &c.detail {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&l.release),
                esc(&l.sku),
                esc(&l.format),
                esc(&l.channel),
                esc(&l.distributor_name),
                w.units(l.units_sold),
                w.units(l.units_returned),
                esc(checks.rate_of(&c.contract_id, l)),
                w.amount(l.receipts),
                w.amount(l.royalty_earned),
                w.amount(l.royalty_collected)
            );
        }
        if c.detail.is_empty() {
            h.push_str("<tr><td colspan=\"11\">No sales reported this period.</td></tr>\n");
        }
        h.push_str("</table>\n");
    }
    payments_html(&mut h, checks, st.issued_on, w);
    h.push_str("</body></html>\n");
    h
}

/// Payments made to the payee up to the statement date, with the total per currency.
pub fn payment_lines(checks: &Checks) -> (Vec<[String; 3]>, Vec<Money>) {
    payment_lines_in(checks, &Writing::default())
}

/// [`payment_lines`] in the label's [`Writing`].
pub fn payment_lines_in(checks: &Checks, w: &Writing) -> (Vec<[String; 3]>, Vec<Money>) {
    let mut rows = Vec::new();
    let mut totals: Vec<Money> = Vec::new();
    for p in &checks.payments {
        rows.push([
            w.date(p.date),
            p.reference.clone(),
            format!("{} {}", w.amount(p.amount), p.amount.currency()),
        ]);
        match totals
            .iter_mut()
            .find(|t| t.currency() == p.amount.currency())
        {
            Some(t) => {
                *t = Money::from_minor(t.minor().saturating_add(p.amount.minor()), t.currency())
            }
            None => totals.push(p.amount),
        }
    }
    (rows, totals)
}

/// The payments section of the HTML statement.
fn payments_html(h: &mut String, checks: &Checks, issued_on: Date, w: &Writing) {
    let _ = writeln!(h, "<h2>Paid to you (up to {})</h2>", w.date(issued_on));
    let (rows, totals) = payment_lines_in(checks, w);
    if rows.is_empty() {
        h.push_str("<p>No payments made to you up to the statement date.</p>\n");
        return;
    }
    h.push_str("<table class=\"payments\"><tr><th>date</th><th>reference</th><th class=\"n\">amount</th></tr>\n");
    for [d, r, a] in &rows {
        let _ = writeln!(
            h,
            "<tr><td>{d}</td><td>{}</td><td class=\"n\">{a}</td></tr>",
            esc(r)
        );
    }
    for t in totals {
        let _ = writeln!(
            h,
            "<tr class=\"pay\"><td>Total paid</td><td></td><td class=\"n\">{} {}</td></tr>",
            w.amount(t),
            t.currency()
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
pub(crate) mod testdata {
    use super::*;

    pub fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::USD)
    }
    fn d(s: &str) -> Date {
        Date::parse(s).unwrap_or(Date::EARLIEST)
    }

    /// A statement with `rows` detail lines.
    pub fn statement(rows: usize) -> RoyaltyStatement {
        let detail = (0..rows)
            .map(|i| DetailLine {
                release: format!("Release number {i}"),
                sku: format!("MRG-{i:03}-CD"),
                format: "CD".into(),
                channel: "physical".into(),
                distributor: if i % 2 == 0 { "northwind" } else { "cascade" }.into(),
                distributor_name: if i % 2 == 0 {
                    "Northwind Music Distribution, Inc."
                } else {
                    "Cascade Media Group, LLC"
                }
                .into(),
                units_sold: 100 + i as i64,
                units_returned: 8,
                receipts: usd(80_000 + i as i64),
                returns: usd(6_400),
                royalty_earned: usd(12_000 + i as i64),
                royalty_collected: usd(9_000),
            })
            .collect();
        RoyaltyStatement {
            label: "Marigold Records".into(),
            period: "2016H1".into(),
            period_start: d("2016-01-01"),
            period_end: d("2016-06-30"),
            issued_on: d("2016-06-30"),
            payee: PayeeInfo {
                id: "june-okafor".into(),
                name: "June Okafor".into(),
                email: "june@example.com".into(),
                address: "12 Elm St, Asheville NC".into(),
            },
            contracts: vec![ContractStatement {
                contract_id: "C-OKAFOR".into(),
                title: "June Okafor recordings".into(),
                share: "0.6".into(),
                basis: "earned".into(),
                currency: Currency::USD,
                totals: Totals {
                    opening_balance: usd(-50_000),
                    units_sold: 1200,
                    units_returned: 96,
                    returns: usd(76_800),
                    royalty_earned: usd(144_000),
                    royalty_collected: usd(100_000),
                    royalties: usd(144_000),
                    reserve_held: usd(14_400),
                    reserve_released: usd(3_000),
                    costs_charged: usd(20_000),
                    recouped: usd(70_000),
                    closing_balance: usd(62_600),
                    payable: usd(0),
                    min_payout: usd(10_000),
                    carried_below_minimum: false,
                    held_for_unrecouped: Vec::new(),
                    unrecouped: usd(0),
                    reserves_outstanding: usd(14_400),
                    earned_not_collected: usd(44_000),
                    earned_not_collected_in_default: usd(30_000),
                },
                not_collected: vec![
                    NotCollected {
                        distributor: "cascade".into(),
                        distributor_name: "Cascade Media Group, LLC".into(),
                        in_default: true,
                        statement_id: "CASCADE-2016-01".into(),
                        royalty_earned: usd(30_000),
                        royalty_collected: usd(0),
                        royalty_uncollected: usd(30_000),
                        settled_short: false,
                    },
                    NotCollected {
                        distributor: "northwind".into(),
                        distributor_name: "Northwind Music Distribution, Inc.".into(),
                        in_default: false,
                        statement_id: "NORTHWIND-2016-05".into(),
                        royalty_earned: usd(14_000),
                        royalty_collected: usd(0),
                        royalty_uncollected: usd(14_000),
                        settled_short: false,
                    },
                ],
                costs: vec![CostLine {
                    date: d("2016-02-01"),
                    kind: "recording".into(),
                    sku: Some("MRG-001-CD".into()),
                    amount: usd(20_000),
                    charged: usd(20_000),
                }],
                detail,
                notes: Vec::new(),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testdata::*;
    use super::*;

    fn checks() -> Checks {
        Checks {
            rates: vec![RateApplied {
                contract_id: "C-OKAFOR".into(),
                channel: "physical".into(),
                format: "CD".into(),
                rate: "22% of net receipts".into(),
            }],
            payments: vec![PaymentLine {
                date: Date::parse("2016-02-15").unwrap_or(Date::EARLIEST),
                amount: usd(25_000),
                reference: "WIRE-0042".into(),
            }],
        }
    }

    /// Issue 18.8: every format shows the rate on each line, why collected differs
    /// from earned (the unpaid statements, the one in default), and what was paid.
    #[test]
    fn the_statement_can_be_checked_in_every_format() {
        let st = statement(2);
        let x = checks();
        let html = to_html_checked(&st, &x);
        assert!(html.contains("<td>22% of net receipts</td>"), "{html}");
        assert!(html.contains("Why collected differs from earned"));
        assert!(
            html.contains(
                "earned 1,440.00 USD, collected 1,000.00 USD (a difference of 440.00 USD"
            ),
            "{html}"
        );
        assert!(html.contains("<td>CASCADE-2016-01</td>") && html.contains("IN DEFAULT"));
        assert!(
            html.contains(
                "of which 300.00 USD is owed by distributors in default (Cascade Media Group, LLC)"
            ),
            "{html}"
        );
        assert!(
            html.contains("Paid to you (up to 2016-06-30)")
                && html.contains("WIRE-0042")
                && html.contains("250.00 USD")
        );

        let csv = to_csv_checked(&st, &x);
        assert!(
            csv.lines()
                .any(|l| l.starts_with("detail,C-OKAFOR,")
                    && l.ends_with(",USD,22% of net receipts,")),
            "{csv}"
        );
        assert!(
            csv.contains("note,C-OKAFOR,why_collected_differs,"),
            "{csv}"
        );
        assert!(
            csv.contains("payment,,2016-02-15,,,,,,,,,,,,250.00,USD,,WIRE-0042\n"),
            "{csv}"
        );

        let v = to_json_value(&st, &x);
        assert_eq!(
            v["contracts"][0]["detail"][0]["rate"],
            "22% of net receipts"
        );
        assert!(!v["contracts"][0]["why_collected_differs"]
            .as_str()
            .unwrap()
            .contains("IN DEFAULT"));
        assert!(v["contracts"][0]["why_collected_differs"]
            .as_str()
            .unwrap()
            .contains("in default (Cascade Media Group, LLC)"));
        assert_eq!(v["payments"][0]["reference"], "WIRE-0042");
        assert_eq!(v["payments"][0]["amount"]["amount_minor"], 25_000);
        // The additions read back as the stored statement.
        let back: RoyaltyStatement = serde_json::from_value(v).unwrap();
        assert_eq!(back, st);

        let pdf = to_pdf_checked(&st, &x);
        assert!(pdf.bytes.starts_with(b"%PDF-"));
        assert!(pdf.bytes.len() > to_pdf(&st).bytes.len());
        // Without checks: no rates, and says nothing was paid.
        let plain = to_html(&st);
        assert!(plain.contains("No payments made to you up to the statement date."));
    }

    #[test]
    fn percentages() {
        assert_eq!(percent(200_000), "20%");
        assert_eq!(percent(175_000), "17.5%");
        assert_eq!(percent(1_000_000), "100%");
        assert_eq!(percent(123), "0.0123%");
    }

    #[test]
    fn json_round_trips_and_snapshots() {
        let st = statement(2);
        let j = to_json(&st);
        let back: RoyaltyStatement = serde_json::from_str(&j).unwrap();
        assert_eq!(back, st);
        insta::assert_snapshot!("statement_json", j);
    }

    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!("statement_csv", to_csv(&statement(2)));
    }

    /// The `amount` column holds only money, with its currency beside it: a
    /// spreadsheet summing it meets no names, dates, counts or yes/no.
    #[test]
    fn csv_amount_column_is_money_only() {
        let csv = to_csv(&statement(3));
        let mut lines = csv.lines();
        let head: Vec<&str> = lines.next().unwrap().split(',').collect();
        let amount = head.iter().position(|c| *c == "amount").unwrap();
        let currency = head.iter().position(|c| *c == "currency").unwrap();
        let mut checked = 0;
        for l in lines.filter(|l| !l.contains('"')) {
            let cells: Vec<&str> = l.split(',').collect();
            let a = cells[amount];
            if a.is_empty() {
                continue;
            }
            let digits = a.strip_prefix('-').unwrap_or(a);
            assert!(
                digits.split_once('.').is_some_and(|(i, f)| {
                    !i.is_empty() && i.chars().chain(f.chars()).all(|c| c.is_ascii_digit())
                }),
                "not money in amount: {l}"
            );
            assert!(!cells[currency].is_empty(), "money without currency: {l}");
            checked += 1;
        }
        assert!(checked > 10, "{csv}");
        assert!(csv.contains("header,,label,,,,,,,,,,,,,,,"), "{csv}");
    }

    #[test]
    fn totals_come_first_and_default_is_flagged() {
        let st = statement(3);
        let html = to_html(&st);
        let pay = html.find("AMOUNT PAYABLE").unwrap();
        let detail = html.find("<h3>Detail</h3>").unwrap();
        assert!(pay < detail);
        assert!(html.contains("Cascade Media Group, LLC: 300.00 USD on 1 statement — IN DEFAULT"));
        assert!(html.contains("class=\"default\""));
        let lines = summary_lines(&st.contracts[0]);
        assert_eq!(lines[0], ("Opening balance".into(), "-500.00".into()));
        assert!(lines
            .iter()
            .any(|(k, v)| k.starts_with("Earned but not collected") && v == "440.00"));
    }

    /// Issue 19.6: a title (or any text) a spreadsheet would run as a formula is
    /// written neutralized, as the catalog export writes it; amounts stay numbers.
    #[test]
    fn csv_text_never_runs_as_a_formula() {
        let mut st = statement(2);
        st.contracts[0].title = "=HYPERLINK(\"http://x.test\",\"pay\")".into();
        st.payee.name = "@SUM(A1)".into();
        st.contracts[0].detail[0].release = "+1-555".into();
        st.contracts[0].detail[1].release = "-cmd".into();
        let csv = to_csv(&st);
        assert!(!csv.contains(",=") && !csv.contains(",\"="), "{csv}");
        assert!(csv.contains("'@SUM(A1)"), "{csv}");
        assert!(csv.contains("'+1-555") && csv.contains("'-cmd"), "{csv}");
        assert!(csv.contains("-500.00"), "{csv}");
    }

    #[test]
    fn html_escapes() {
        let mut st = statement(0);
        st.payee.name = "<script>Ada & co</script>".into();
        let html = to_html(&st);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;Ada &amp; co"));
        assert!(html.contains("No sales reported this period."));
    }

    #[test]
    fn amounts() {
        assert_eq!(amount(usd(-123_456_789)), "-1,234,567.89");
        assert_eq!(amount(usd(5)), "0.05");
        assert_eq!(Format::parse("PDF"), Some(Format::Pdf));
        assert_eq!(Format::parse("doc"), None);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(amount(Money::from_minor(1_500, jpy)), "1,500");
        assert_eq!(
            amount(Money::from_minor(i64::MIN, Currency::USD)),
            "-92,233,720,368,547,758.08"
        );
    }

    fn german() -> Writing {
        Writing {
            group: ".".into(),
            decimal: ',',
            dates: DateOrder::Dmy('.'),
        }
    }

    #[test]
    fn writing_in_a_locale() {
        let de = german();
        assert_eq!(de.amount(usd(-123_456_789)), "-1.234.567,89");
        assert_eq!(de.units(1_234), "1.234");
        assert_eq!(de.date(Date::parse("2016-06-30").unwrap()), "30.06.2016");
        let us = Writing {
            dates: DateOrder::Mdy('/'),
            ..Writing::default()
        };
        assert_eq!(us.date(Date::parse("2016-06-30").unwrap()), "06/30/2016");
        assert_eq!(
            Writing::default().date(Date::parse("2016-06-30").unwrap()),
            "2016-06-30"
        );
    }

    #[test]
    fn html_in_the_labels_locale() {
        let st = statement(2);
        let x = checks();
        let html = to_html_in(&st, &x, &german());
        assert!(
            html.contains("(01.01.2016 to 30.06.2016), issued 30.06.2016"),
            "{html}"
        );
        assert!(
            html.contains("earned 1.440,00 USD, collected 1.000,00 USD"),
            "{html}"
        );
        assert!(!html.contains("1,440.00"), "{html}");
        // The default is the statement as before, and JSON and CSV are data.
        assert_eq!(
            to_html_in(&st, &x, &Writing::default()),
            to_html_checked(&st, &x)
        );
        for f in [Format::Json, Format::Csv] {
            assert_eq!(render_in(&st, &x, f, &german()), render_checked(&st, &x, f));
        }
    }
}

#[cfg(test)]
mod without_detail_tests {
    #[test]
    fn a_statement_read_without_detail_is_the_statement_less_its_detail() {
        let full = super::testdata::statement(3);
        assert!(!full.contracts[0].detail.is_empty());
        let json = super::to_json(&full);
        let mut light = super::from_json_without_detail(json.as_bytes()).unwrap();
        assert!(light.contracts.iter().all(|c| c.detail.is_empty()));
        // Everything else is as stored; and a plain read after it reads the detail.
        for (l, f) in light.contracts.iter_mut().zip(&full.contracts) {
            l.detail.clone_from(&f.detail);
        }
        assert_eq!(light, full);
        let again: super::RoyaltyStatement = serde_json::from_str(&json).unwrap();
        assert_eq!(again, full);
    }
}

#[cfg(test)]
mod not_collected_tests {
    use super::testdata::*;
    use super::*;

    #[test]
    fn returns_beyond_sales_not_yet_settled_are_not_called_a_claim_in_default() {
        let mut st = statement(1);
        let c = &mut st.contracts[0];
        c.not_collected = vec![NotCollected {
            distributor: "cascade".into(),
            distributor_name: "Cascade".into(),
            in_default: true,
            statement_id: "C-9".into(),
            royalty_earned: usd(-86),
            royalty_collected: usd(0),
            royalty_uncollected: usd(-86),
            settled_short: false,
        }];
        let items = not_collected_items(c);
        assert_eq!(items.len(), 1);
        assert!(!items[0].in_default);
        assert!(
            items[0]
                .text
                .contains("returns beyond sales on statements not yet settled"),
            "{}",
            items[0].text
        );
        assert!(!items[0].text.contains("IN DEFAULT"), "{}", items[0].text);
    }
}
