//! The royalty run: one pass over the statements, payments and costs known at the
//! period's end.

use crate::model::{Base, Basis, Contract, Cost, CostKind, Payee};
use crate::{Period, RoyaltyError};
use backstock_domain::{Currency, Date, Money, PartyId, Rate, Rounding, Sku};
use backstock_ledger::facts::CatalogItem;
use backstock_ledger::{Channel, Entry, Event, Fact, LineKind, Statement};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Everything a run reads. `entries` are journal entries; those not known by the
/// period's end (`known_on`) are ignored, so passing the whole journal is fine.
#[derive(Debug, Clone, Default)]
pub struct RoyaltyInputs {
    pub entries: Vec<Entry>,
    pub contracts: Vec<Contract>,
    pub payees: Vec<Payee>,
    pub costs: Vec<Cost>,
    /// Distributors the label considers in default (insolvent, not paying).
    pub defaulted_distributors: BTreeSet<PartyId>,
}

/// A payee's balance under a contract, in one currency and recoupment pool (`pool`
/// is the SKU for per-SKU recoupment, `None` for the contract-wide pool).
/// Positive: owed to the payee; negative: unrecouped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountBalance {
    pub contract_id: String,
    pub payee_id: PartyId,
    pub pool: Option<Sku>,
    pub balance: Money,
}

/// A reserve held from a payee in `held_in`, not yet released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldReserve {
    pub contract_id: String,
    pub payee_id: PartyId,
    pub held_in: Period,
    pub amount: Money,
    /// The pool it was held from, and goes back to when released (a SKU on a
    /// contract recouped per SKU; absent: the contract-wide pool, as every reserve
    /// held before pools were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<Sku>,
}

/// Balances carried between runs: a run's `closing` is the next run's opening.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OpeningBalances {
    pub accounts: Vec<AccountBalance>,
    pub reserves: Vec<HeldReserve>,
}

/// Earnings of one payee for one SKU × format × channel × distributor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EarningsRow {
    pub sku: Sku,
    pub format: Option<String>,
    pub channel: Channel,
    pub distributor: PartyId,
    pub units_sold: i64,
    pub units_returned: i64,
    /// Signed amounts of this period's statement lines (sales − returns − fees −
    /// chargebacks + adjustments), whole line, before any royalty.
    pub receipts: Money,
    /// Amount of return lines (positive), included in `receipts` with a minus sign.
    pub returns: Money,
    /// The payee's share of royalties earned on this period's statements.
    pub royalty_earned: Money,
    /// The payee's share of royalties on payments received this period (any
    /// statement, this period's or older).
    pub royalty_collected: Money,
}

/// A cost charged this period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CostCharge {
    pub kind: CostKind,
    pub sku: Option<Sku>,
    pub date: Date,
    /// The cost as paid by the label.
    pub amount: Money,
    /// The part charged to this payee (share, and net-profit rate for non-advances on
    /// net-profit contracts).
    pub charged: Money,
}

/// Royalties on a statement the distributor has not (fully) paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uncollected {
    pub distributor: PartyId,
    pub statement_id: String,
    pub distributor_in_default: bool,
    pub royalty_earned: Money,
    pub royalty_collected: Money,
    pub royalty_uncollected: Money,
}

/// One payee's statement under one contract, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayeeStatement {
    pub contract_id: String,
    pub payee_id: PartyId,
    pub payee_name: String,
    pub payee_email: String,
    pub payee_address: String,
    pub share: Rate,
    pub basis: Basis,
    pub currency: Currency,
    pub opening_balance: Money,
    pub earnings: Vec<EarningsRow>,
    pub royalty_earned: Money,
    pub royalty_collected: Money,
    /// `royalty_earned` or `royalty_collected`, per the contract's basis.
    pub royalties: Money,
    pub reserve_held: Money,
    pub reserve_released: Money,
    pub costs: Vec<CostCharge>,
    pub costs_charged: Money,
    /// Of the opening deficit and this period's costs, what this period's net
    /// royalties recovered.
    pub recouped: Money,
    /// Balance after royalties, reserves and costs, before payment.
    pub balance_before_payment: Money,
    pub payable: Money,
    /// True when a positive balance was below the minimum payout and carried.
    pub carried_below_minimum: bool,
    /// What the same contract leaves this payee unrecouped in other currencies, when
    /// that held this balance back (carried, not paid): the run never converts, and
    /// paying royalties in one currency past a deficit in another pays an artist
    /// whose advance is not recouped. Empty otherwise.
    pub held_for_unrecouped: Vec<Money>,
    /// Balance carried to the next period (sum of pools, after payment).
    pub closing_balance: Money,
    /// What remains unrecouped (sum of negative pools), as a positive amount.
    pub unrecouped: Money,
    /// Reserves still held after this period.
    pub reserves_outstanding: Money,
    /// Earned but not collected, over all statements known at period end.
    pub uncollected: Vec<Uncollected>,
    pub earned_not_collected: Money,
    /// Part of `earned_not_collected` owed by distributors in default.
    pub earned_not_collected_in_default: Money,
}

/// Tie-out of one currency over the lines of this period's statements:
/// `receipts = payee_royalties + rounding_to_label + label_share + distributor_reserves`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TieOut {
    pub currency: Currency,
    /// Signed sum of every line (net due from distributors).
    pub receipts: Money,
    /// Σ payees' earned royalties, summed from the payee statements.
    pub payee_royalties: Money,
    /// Remainders of splitting line royalties between payees (kept by the label).
    pub rounding_to_label: Money,
    /// Receipts less contract royalties, line by line (fees included).
    pub label_share: Money,
    /// Reserve withheld/released lines: the distributor's reserve, no royalty.
    pub distributor_reserves: Money,
    /// Fee lines (informational; inside `label_share` and, on net bases, royalties).
    pub fees: Money,
    pub difference: Money,
    pub ok: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunResult {
    pub period: Period,
    pub statements: Vec<PayeeStatement>,
    pub tie_out: Vec<TieOut>,
    pub warnings: Vec<String>,
    /// Opening balances for the next period.
    pub closing: OpeningBalances,
}

/// A fast hasher for the run's own keys (SKUs, indexes): the line pass looks keys up
/// millions of times, and nothing hashed here comes from an adversary.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl Fx {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

pub(crate) fn money(v: i128, c: Currency, ctx: &str) -> Result<Money, RoyaltyError> {
    i64::try_from(v)
        .map(|m| Money::from_minor(m, c))
        .map_err(|_| RoyaltyError::overflow(ctx))
}

/// `v × num / den`, HalfEven; `den` > 0.
fn scale(v: i128, num: i128, den: i128) -> Result<i128, RoyaltyError> {
    if den <= 0 {
        return Ok(0);
    }
    let p = v
        .checked_mul(num)
        .ok_or_else(|| RoyaltyError::overflow("collected share"))?;
    // All or nothing (a statement paid in full or not at all) needs no division.
    if num == den {
        return Ok(v);
    }
    if num == 0 {
        return Ok(0);
    }
    Ok(Rounding::HalfEven.divide(p, den))
}

/// `held` spread over the pools with positive physical royalties in proportion to
/// them, every cent placed (the rounding remainder to the largest pool); all of it to
/// the contract-wide pool when no pool has any.
fn reserve_by_pool(held: i128, physical: &BTreeMap<Option<Sku>, i128>) -> Vec<(Option<Sku>, i128)> {
    let positive: Vec<(&Option<Sku>, i128)> = physical
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| (k, *v))
        .collect();
    let total: i128 = positive.iter().map(|(_, v)| v).sum();
    if held == 0 || total <= 0 {
        return if held == 0 {
            Vec::new()
        } else {
            vec![(None, held)]
        };
    }
    let mut out: Vec<(Option<Sku>, i128)> = positive
        .iter()
        .map(|(k, v)| ((*k).clone(), held * v / total))
        .collect();
    let rest = held - out.iter().map(|(_, v)| v).sum::<i128>();
    if let Some(i) = (0..positive.len()).max_by_key(|&i| (positive[i].1, std::cmp::Reverse(i))) {
        out[i].1 += rest;
    }
    out
}

/// [`split`] into `out` (cleared first), answering the remainder: no allocation for
/// a contract with one payee at 100% (everything to that payee, as `allocate` gives).
pub(crate) fn split_into(
    v: i128,
    c: Currency,
    shares: &[Rate],
    out: &mut Vec<i128>,
) -> Result<i128, RoyaltyError> {
    out.clear();
    if let [one] = shares {
        if *one == Rate::ONE {
            money(v, c, "royalty split")?;
            out.push(v);
            return Ok(0);
        }
    }
    let (parts, rest) = split(v, c, shares)?;
    out.extend(parts);
    Ok(rest)
}

fn split(v: i128, c: Currency, shares: &[Rate]) -> Result<(Vec<i128>, i128), RoyaltyError> {
    let m = money(v, c, "royalty split")?;
    let (parts, rest) = m.allocate(shares);
    Ok((
        parts.iter().map(|p| i128::from(p.minor())).collect(),
        i128::from(rest.minor()),
    ))
}

/// What a run reads of the journal, gathered one entry at a time ([`Journal::push`]):
/// catalog items, distributor statements and payments known by the period's end. A
/// statement's lines are kept compact: SKU and distributor as indexes into tables held
/// once (millions of lines hold no string), units and amounts as integers. The entries
/// themselves are not kept, so a caller can stream a large journal through it.
#[derive(Debug, Clone)]
pub struct Journal {
    pub(crate) end: Date,
    pub(crate) catalog: BTreeMap<Sku, CatalogItem>,
    pub(crate) statements: Vec<HeldStatement>,
    seen: HashSet<(PartyId, String)>,
    payments: Vec<OwnedPayment>,
    /// Every SKU of a line held, by its index.
    pub(crate) skus: Vec<Sku>,
    sku_index: FxMap<Sku, u32>,
    /// Every distributor of a statement held, by its index.
    distributors: Vec<PartyId>,
    distributor_index: FxMap<PartyId, u32>,
    warnings: Vec<String>,
}

/// A statement line as the run keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeldLine {
    /// Index into [`Journal::skus`], or [`NO_SKU`].
    pub(crate) sku: u32,
    pub(crate) kind: LineKind,
    pub(crate) channel: Channel,
    pub(crate) units: i64,
    pub(crate) amount_minor: i64,
}

const NO_SKU: u32 = u32::MAX;

impl HeldLine {
    pub(crate) fn sku(&self) -> Option<usize> {
        (self.sku != NO_SKU).then_some(self.sku as usize)
    }
}

/// A distributor statement as the run keeps it.
#[derive(Debug, Clone)]
pub(crate) struct HeldStatement {
    pub(crate) statement_id: String,
    pub(crate) distributor: PartyId,
    /// Index into [`Journal::distributors`].
    distributor_index: u32,
    pub(crate) period_end: Date,
    issued_on: Date,
    pub(crate) currency: Currency,
    pub(crate) lines: Vec<HeldLine>,
    /// The day the statement is both over and known: it belongs to the royalty
    /// period containing this day.
    pub(crate) available: Date,
    pub(crate) role: Role,
}

/// How a held statement takes part in the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// An ordinary statement.
    Counted,
    /// A statement accounted in a locked period and reversed since, as that period
    /// saw it: it takes its payments when the previous period's collections are
    /// recomputed (so they do not flow to other statements the previous run never
    /// credited), none now — its collected royalty comes back out, exactly what was
    /// credited on it. Never earned again.
    ReversedOriginal,
    /// The same statement negated, in the period being run: its earned royalty comes
    /// back out; nothing collected (the original carries that).
    ChargeBack,
}

#[derive(Debug, Clone)]
struct OwnedPayment {
    on: Date,
    id: String,
    distributor: PartyId,
    amount: Money,
    statement_id: Option<String>,
}

impl Journal {
    /// An empty journal for a period ending on `end`.
    pub fn new(end: Date) -> Journal {
        Journal {
            end,
            catalog: BTreeMap::new(),
            statements: Vec::new(),
            seen: HashSet::new(),
            payments: Vec::new(),
            skus: Vec::new(),
            sku_index: FxMap::default(),
            distributors: Vec::new(),
            distributor_index: FxMap::default(),
            warnings: Vec::new(),
        }
    }

    /// Takes in one journal entry (in recording order). Entries not known by the
    /// period's end, and kinds a run does not read, are ignored.
    pub fn push(&mut self, e: Entry) {
        self.push_event(e.event, e.effective_on, e.known_on);
    }

    fn push_event(&mut self, event: Event, effective_on: Date, known_on: Date) {
        if known_on > self.end {
            return;
        }
        match event {
            Event::Fact(Fact::CatalogItem(ci)) => {
                self.catalog.insert(ci.sku.clone(), ci);
            }
            Event::Statement(st) => {
                if self
                    .seen
                    .contains(&(st.distributor.clone(), st.statement_id.clone()))
                {
                    self.warnings.push(format!(
                        "statement {} of {} recorded twice: second ignored",
                        st.statement_id, st.distributor
                    ));
                    return;
                }
                self.seen
                    .insert((st.distributor.clone(), st.statement_id.clone()));
                let available = st.period_end.max(known_on);
                if available <= self.end {
                    let mut lines = Vec::with_capacity(st.lines.len());
                    for l in st.lines {
                        let sku = match l.sku {
                            None => NO_SKU,
                            Some(sku) => match self.sku_index.get(&sku) {
                                Some(i) => *i,
                                None => {
                                    let i = u32::try_from(self.skus.len())
                                        .ok()
                                        .filter(|i| *i != NO_SKU)
                                        .expect("fewer than 4 billion SKUs");
                                    self.skus.push(sku.clone());
                                    self.sku_index.insert(sku, i);
                                    i
                                }
                            },
                        };
                        lines.push(HeldLine {
                            sku,
                            kind: l.kind,
                            channel: l.channel,
                            units: l.units,
                            amount_minor: l.amount_minor,
                        });
                    }
                    let distributor_index = match self.distributor_index.get(&st.distributor) {
                        Some(i) => *i,
                        None => {
                            let i = u32::try_from(self.distributors.len())
                                .expect("fewer than 4 billion distributors");
                            self.distributors.push(st.distributor.clone());
                            self.distributor_index.insert(st.distributor.clone(), i);
                            i
                        }
                    };
                    self.statements.push(HeldStatement {
                        statement_id: st.statement_id,
                        distributor: st.distributor,
                        distributor_index,
                        period_end: st.period_end,
                        issued_on: st.issued_on,
                        currency: st.currency,
                        lines,
                        available,
                        role: Role::Counted,
                    });
                }
            }
            Event::PaymentReceived {
                payment_id,
                distributor,
                amount,
                statement_id,
            } => self.payments.push(OwnedPayment {
                on: effective_on.max(known_on),
                id: payment_id,
                distributor,
                amount,
                statement_id,
            }),
            _ => {}
        }
    }

    /// Takes in a distributor statement known on `known_on` (see [`Journal::push`]).
    pub fn push_statement(&mut self, st: Statement, known_on: Date) {
        self.push_event(Event::Statement(st), known_on, known_on);
    }

    /// Takes in a statement accounted in a locked period (known on `known_on`) and
    /// reversed since, to be charged back in this run as known on `charge_back_on`
    /// (the period's first day): its earned royalty negated, and what was collected on
    /// it — as the previous period's collections saw it — taken back, while its
    /// payments go to the distributor's other statements from now on.
    pub fn push_charge_back(&mut self, st: Statement, known_on: Date, charge_back_on: Date) {
        let mut negated = st.clone();
        for l in &mut negated.lines {
            l.units = l.units.saturating_neg();
            l.amount_minor = l.amount_minor.saturating_neg();
        }
        let before = self.statements.len();
        self.push_event(Event::Statement(st), known_on, known_on);
        if self.statements.len() == before + 1 {
            self.statements[before].role = Role::ReversedOriginal;
            // The negated copy shares the statement's id: taken past the
            // recorded-twice check, which the original has just passed.
            let key = (negated.distributor.clone(), negated.statement_id.clone());
            self.seen.remove(&key);
            self.push_event(Event::Statement(negated), charge_back_on, charge_back_on);
            if self.statements.len() == before + 2 {
                self.statements[before + 1].role = Role::ChargeBack;
            }
            self.seen.insert(key);
        }
    }

    /// Statement lines held.
    pub fn lines(&self) -> usize {
        self.statements.iter().map(|s| s.lines.len()).sum()
    }
}

struct Payment<'a> {
    on: Date,
    id: &'a str,
    distributor: &'a PartyId,
    amount: Money,
    statement_id: Option<&'a str>,
}

/// Paid amount per statement (by index) as of `asof`: named statement first, the rest
/// to the distributor's oldest unpaid statements. Returns leftovers as warnings.
fn allocate_payments(
    stmts: &[HeldStatement],
    payments: &[Payment],
    asof: Date,
    warnings: Option<&mut Vec<String>>,
    previous_run: bool,
) -> Vec<i128> {
    let mut paid = vec![0i128; stmts.len()];
    let due: Vec<i128> = stmts
        .iter()
        .map(|k| {
            k.lines
                .iter()
                .map(|l| i128::from(l.amount_minor) * i128::from(l.kind.net_sign()))
                .sum()
        })
        .collect();
    // A reversed statement takes payments only as the previous run saw them; a
    // charge-back never does.
    let mut order: Vec<usize> = (0..stmts.len())
        .filter(|&i| {
            stmts[i].available <= asof
                && match stmts[i].role {
                    Role::Counted => true,
                    Role::ReversedOriginal => previous_run,
                    Role::ChargeBack => false,
                }
        })
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&stmts[a], &stmts[b]);
        (x.period_end, x.issued_on, &x.statement_id).cmp(&(
            y.period_end,
            y.issued_on,
            &y.statement_id,
        ))
    });
    let mut notes = Vec::new();
    for p in payments.iter().filter(|p| p.on <= asof) {
        let mut left = i128::from(p.amount.minor());
        let eligible = |i: usize| {
            stmts[i].distributor == *p.distributor && stmts[i].currency == p.amount.currency()
        };
        if let Some(sid) = p.statement_id {
            match order.iter().copied().find(|&i| stmts[i].statement_id == sid && eligible(i)) {
                Some(i) => {
                    let take = left.min((due[i] - paid[i]).max(0));
                    paid[i] += take;
                    left -= take;
                }
                // A statement withdrawn (reversed by a correction) is on file still,
                // but takes no payment: said as such, not as one never sent.
                None if stmts
                    .iter()
                    .enumerate()
                    .any(|(i, st)| st.statement_id == sid && st.role != Role::Counted && eligible(i)) =>
                {
                    notes.push(format!(
                        "payment {} names statement {sid} of {}, which was withdrawn (corrected): applied oldest first",
                        p.id, p.distributor
                    ))
                }
                None => notes.push(format!(
                    "payment {} names statement {sid}, not known for {} in {}: applied oldest first",
                    p.id,
                    p.distributor,
                    p.amount.currency()
                )),
            }
        }
        for &i in &order {
            if left <= 0 {
                break;
            }
            if eligible(i) {
                let take = left.min((due[i] - paid[i]).max(0));
                paid[i] += take;
                left -= take;
            }
        }
        if left != 0 {
            notes.push(format!(
                "payment {} from {}: {} not matched to any unpaid statement",
                p.id,
                p.distributor,
                Money::from_minor(i64::try_from(left).unwrap_or(0), p.amount.currency())
            ));
        }
    }
    if let Some(w) = warnings {
        w.extend(notes);
    }
    paid
}

#[derive(Default)]
struct RowAcc {
    units_sold: i128,
    units_returned: i128,
    receipts: i128,
    returns: i128,
    earned: i128,
    collected: i128,
}

type RowKey = (Sku, Option<String>, Channel, PartyId);

#[derive(Default)]
struct Acc {
    rows: BTreeMap<RowKey, RowAcc>,
    earned: i128,
    collected: i128,
    physical_recognized: i128,
    /// Physical royalties recognized, by the pool they went to (a reserve is held
    /// from the pools its royalties are in).
    physical_pools: BTreeMap<Option<Sku>, i128>,
    pools: BTreeMap<Option<Sku>, i128>,
    opening_pools: BTreeMap<Option<Sku>, i128>,
    charges_by_pool: BTreeMap<Option<Sku>, i128>,
    costs: Vec<CostCharge>,
    uncollected: BTreeMap<(PartyId, String), (i128, i128)>,
}

type AccKey = (String, PartyId, Currency);

/// What the line pass accumulates per contract × payee × currency.
#[derive(Default)]
struct LineAcc {
    /// By SKU index × channel × distributor index.
    rows: FxMap<(u32, Channel, u32), RowAcc>,
    earned: i128,
    collected: i128,
    physical_recognized: i128,
    /// Physical royalties recognized by pool (SKU index; `None`: contract-wide).
    physical_pools: FxMap<Option<u32>, i128>,
    /// By SKU index (`None`: the contract-wide pool).
    pools: FxMap<Option<u32>, i128>,
    uncollected: FxMap<usize, (i128, i128)>,
}

/// A SKU held by the journal as the line pass reads it: its catalog item, and the
/// contracts covering it (contract index, the rule for a physical and a digital line
/// of its format).
struct SkuInfo<'a> {
    item: Option<&'a CatalogItem>,
    /// The catalog calls it a digital format ([`channel_of`]).
    digital: bool,
    covering: Vec<(usize, [Option<&'a crate::model::RateRule>; 2])>,
}

/// The channel a statement line counts in for royalties: a SKU the catalog gives a
/// digital format (Digital, Download, Stream, MP3, FLAC, WAV…) is digital income
/// whatever file reported it — a canonical statement or a mapped layout has no channel
/// column, and its rate and reserves are the digital ones (a DSR's lines are digital
/// already). Any other SKU keeps the line's own channel.
pub fn channel_of(line: Channel, item: Option<&CatalogItem>) -> Channel {
    if item.is_some_and(CatalogItem::is_digital) {
        Channel::Digital
    } else {
        line
    }
}

/// [`Money::apply_rate`] HalfEven, in 64-bit arithmetic when the product fits (the
/// same result; 128-bit division is the slow part of a line), as a minor amount.
pub(crate) fn apply_rate(m: Money, rate: Rate) -> Result<i128, RoyaltyError> {
    if let Some(p) = m.minor().checked_mul(i64::from(rate.ppm())) {
        let den = i64::from(Rate::ONE_PPM);
        return Ok(i128::from(Rounding::HalfEven.divide_i64(p, den)));
    }
    let royalty = m
        .apply_rate(rate, Rounding::HalfEven)
        .map_err(|e| RoyaltyError::domain("royalty", e))?;
    Ok(i128::from(royalty.minor()))
}

/// The royalty of one ledger line under `rule` (or, from the statement lines, of the
/// lines of one ledger line that one rule governs): the base per the rule — net
/// receipts the signed amount, PPD the wholesale price × signed units (sales and
/// returns) — and the rate applied once, HalfEven. The product's run and the
/// line-level computation ([`crate::lines`]) both round here.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn line_royalty(
    rule: &crate::model::RateRule,
    kind: LineKind,
    units: i128,
    signed: i128,
    item: Option<&CatalogItem>,
    sku: &Sku,
    cur: Currency,
    statement_id: &str,
) -> Result<i128, RoyaltyError> {
    let base = match rule.base {
        Base::NetReceipts | Base::NetProfitSplit => signed,
        Base::PpdPerUnit => {
            let units = match kind {
                LineKind::Sale | LineKind::Return => units * i128::from(kind.net_sign()),
                _ => 0,
            };
            if units == 0 {
                0
            } else {
                let item = item.ok_or_else(|| RoyaltyError::MissingWholesalePrice {
                    sku: sku.to_string(),
                })?;
                if item.wholesale_price.currency() != cur {
                    return Err(RoyaltyError::CurrencyMismatch {
                        context: format!("wholesale price of {sku} for statement {statement_id}"),
                        found: item.wholesale_price.currency().to_string(),
                        expected: cur.to_string(),
                    });
                }
                units
                    .checked_mul(i128::from(item.wholesale_price.minor()))
                    .ok_or_else(|| RoyaltyError::overflow("royalty base"))?
            }
        }
    };
    // The one rounding of the line: HalfEven.
    apply_rate(money(base, cur, "royalty base")?, rule.rate)
}

/// A payee's balance payable in one currency is held (carried to the next period, not
/// paid) while the same contract leaves that payee unrecouped contract-wide in another
/// currency: costs and advances recoup only from royalties in their own currency
/// (nothing is converted), so paying the other currency out would pay an artist whose
/// advance is not recouped. A deficit of one SKU's own costs (a contract recouped per
/// SKU) holds nothing back — the SKU's royalties in another currency could not be told
/// apart from the rest once carried — and is said in a warning. Said per statement.
fn hold_against_other_currencies(
    statements: &mut [PayeeStatement],
    closing: &mut OpeningBalances,
    warnings: &mut Vec<String>,
) -> Result<(), RoyaltyError> {
    // (contract, payee) → per currency: (contract-wide deficit, per-SKU deficits).
    let mut deficits: BTreeMap<(String, PartyId), BTreeMap<Currency, (i128, i128)>> =
        BTreeMap::new();
    for a in &closing.accounts {
        if a.balance.minor() >= 0 {
            continue;
        }
        let slot = deficits
            .entry((a.contract_id.clone(), a.payee_id.clone()))
            .or_default()
            .entry(a.balance.currency())
            .or_default();
        let owed = -i128::from(a.balance.minor());
        if a.pool.is_none() {
            slot.0 += owed;
        } else {
            slot.1 += owed;
        }
    }
    if deficits.is_empty() {
        return Ok(());
    }
    for s in statements.iter_mut() {
        if s.payable.minor() <= 0 {
            continue;
        }
        let Some(d) = deficits.get(&(s.contract_id.clone(), s.payee_id.clone())) else {
            continue;
        };
        let mut wide = Vec::new();
        let mut per_sku = Vec::new();
        for (cur, (w, k)) in d.iter().filter(|(c, _)| **c != s.currency) {
            if *w > 0 {
                wide.push(money(*w, *cur, "unrecouped")?);
            }
            if *k > 0 {
                per_sku.push(money(*k, *cur, "unrecouped")?);
            }
        }
        let list = |v: &[Money]| {
            v.iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        };
        if wide.is_empty() {
            if !per_sku.is_empty() {
                warnings.push(format!(
                    "contract {}: {} paid to {} while SKUs of the contract are unrecouped by {} of their own costs (recouped per SKU, from royalties in that currency only: currencies are never converted)",
                    s.contract_id, s.payable, s.payee_id, list(&per_sku)
                ));
            }
            continue;
        }
        let held = s.payable;
        s.payable = Money::zero(s.currency);
        s.closing_balance = s
            .closing_balance
            .checked_add(held)
            .map_err(|e| RoyaltyError::domain("balance", e))?;
        match closing.accounts.iter_mut().find(|a| {
            a.contract_id == s.contract_id
                && a.payee_id == s.payee_id
                && a.pool.is_none()
                && a.balance.currency() == s.currency
        }) {
            Some(a) => {
                a.balance = a
                    .balance
                    .checked_add(held)
                    .map_err(|e| RoyaltyError::domain("balance", e))?
            }
            None => closing.accounts.push(AccountBalance {
                contract_id: s.contract_id.clone(),
                payee_id: s.payee_id.clone(),
                pool: None,
                balance: held,
            }),
        }
        warnings.push(format!(
            "contract {}: {held} payable to {} is held, not paid: the contract leaves {} unrecouped by {} (currencies are never converted, so that deficit recoups only from royalties in its own currency); carried forward while it is unrecouped",
            s.contract_id,
            s.payee_id,
            s.payee_id,
            list(&wide)
        ));
        s.held_for_unrecouped = wide;
    }
    Ok(())
}

/// Computes every payee statement for `period`. See the crate docs for the rules.
pub fn compute(
    inputs: &RoyaltyInputs,
    period: &Period,
    opening: &OpeningBalances,
) -> Result<RunResult, RoyaltyError> {
    let mut journal = Journal::new(period.end());
    for e in &inputs.entries {
        journal.push(e.clone());
    }
    compute_journal(&journal, inputs, period, opening)
}

/// [`compute`] over a [`Journal`] gathered by the caller; `inputs.entries` is ignored.
pub fn compute_journal(
    journal: &Journal,
    inputs: &RoyaltyInputs,
    period: &Period,
    opening: &OpeningBalances,
) -> Result<RunResult, RoyaltyError> {
    let (start, end) = (period.start(), period.end());
    let prev_end = start.add_days(-1);
    let mut warnings = Vec::new();

    // --- reference data ---
    let mut payees: BTreeMap<&PartyId, &Payee> = BTreeMap::new();
    for p in &inputs.payees {
        if payees.insert(p.id(), p).is_some() {
            return Err(RoyaltyError::Duplicate {
                what: "payee".into(),
                id: p.id().to_string(),
            });
        }
    }
    let mut contracts: BTreeMap<&str, &Contract> = BTreeMap::new();
    for c in &inputs.contracts {
        if contracts.insert(c.id(), c).is_some() {
            return Err(RoyaltyError::Duplicate {
                what: "contract".into(),
                id: c.id().to_string(),
            });
        }
        // Rates by territory or service need the statement lines; the statements here
        // are per SKU. Never ignored silently: refused, naming the contract.
        if let Some(r) = c.line_level_rule() {
            return Err(RoyaltyError::LineLevelRules {
                contract: c.id().to_string(),
                scope: r.scope_text(),
            });
        }
        for (p, _) in c.payees() {
            if !payees.contains_key(p) {
                return Err(RoyaltyError::UnknownPayee {
                    contract: c.id().into(),
                    payee: p.to_string(),
                });
            }
        }
    }
    for cost in &inputs.costs {
        if !contracts.contains_key(cost.contract_id()) {
            return Err(RoyaltyError::UnknownContract {
                contract: cost.contract_id().into(),
                referenced_by: format!("a cost of {}", cost.amount()),
            });
        }
    }

    // --- journal known at period end ---
    // Which contracts cover each SKU, in contract-id order (as iterating `contracts`
    // and filtering would give), with each one's rule per channel for the SKU's
    // format: looked up once per SKU held, so a line finds them by its SKU index (10k
    // artists' contracts × millions of lines otherwise).
    let by_index: Vec<&Contract> = contracts.values().copied().collect();
    let shares_of: Vec<Vec<Rate>> = by_index.iter().map(|c| c.shares()).collect();
    let mut covering: FxMap<&Sku, Vec<usize>> = FxMap::default();
    for (ci, c) in by_index.iter().enumerate() {
        for sku in c.skus() {
            covering.entry(sku).or_default().push(ci);
        }
    }
    let channel_slot = |ch: Channel| usize::from(!ch.is_physical());
    let sku_info: Vec<SkuInfo> = journal
        .skus
        .iter()
        .map(|sku| {
            let item = journal.catalog.get(sku);
            let format = item.map(|i| i.format.as_str());
            SkuInfo {
                item,
                digital: channel_of(Channel::Physical, item) == Channel::Digital,
                covering: covering
                    .get(sku)
                    .into_iter()
                    .flatten()
                    .map(|&ci| {
                        let c = by_index[ci];
                        (
                            ci,
                            [Channel::Physical, Channel::Digital].map(|ch| c.rule_for(ch, format)),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    warnings.extend(journal.warnings.iter().cloned());
    let stmts = &journal.statements;
    let mut payments: Vec<Payment> = journal
        .payments
        .iter()
        .map(|p| Payment {
            on: p.on,
            id: &p.id,
            distributor: &p.distributor,
            amount: p.amount,
            statement_id: p.statement_id.as_deref(),
        })
        .collect();
    payments.sort_by(|a, b| (a.on, a.id).cmp(&(b.on, b.id)));
    let paid_now = allocate_payments(stmts, &payments, end, Some(&mut warnings), false);
    let paid_before = allocate_payments(stmts, &payments, prev_end, None, true);

    // --- lines ---
    // Accumulated by contract index × payee index × currency, rows by SKU index ×
    // channel × distributor index (the format is the SKU's), uncollected by statement
    // index: no key is built from strings per line. Turned into `accs` (ordered by
    // ids) below.
    let mut hot: FxMap<(usize, usize, Currency), LineAcc> = FxMap::default();
    // per currency: receipts, payee royalties (accumulated), rounding, label, reserves, fees
    let mut tie: BTreeMap<Currency, [i128; 6]> = BTreeMap::new();
    let mut no_rule = BTreeSet::new();
    let (mut earned_parts, mut now_parts, mut delta_parts) = (Vec::new(), Vec::new(), Vec::new());
    for (si, st) in stmts.iter().enumerate() {
        if st.lines.is_empty() {
            continue;
        }
        let cur = st.currency;
        let dist = st.distributor_index;
        let in_period = period.contains(st.available);
        let due: i128 = st
            .lines
            .iter()
            .map(|l| i128::from(l.amount_minor) * i128::from(l.kind.net_sign()))
            .sum();
        // collected share = paid ÷ net due (a statement with nothing due counts as collected)
        let frac = |paid: i128| {
            if due <= 0 {
                (1, 1)
            } else {
                (paid.min(due), due)
            }
        };
        let (n_now, d_now) = match st.role {
            Role::Counted => frac(paid_now[si]),
            // Nothing is collected on a reversed statement from now on, and a
            // charge-back collects nothing (the original gives back what it had).
            Role::ReversedOriginal | Role::ChargeBack => (0, 1),
        };
        let (n_before, d_before) = if st.available <= prev_end && st.role != Role::ChargeBack {
            frac(paid_before[si])
        } else {
            (0, 1)
        };
        let t = tie.entry(cur).or_default();
        for line in &st.lines {
            let signed = i128::from(line.amount_minor) * i128::from(line.kind.net_sign());
            let reserve_line = matches!(
                line.kind,
                LineKind::ReserveWithheld | LineKind::ReserveReleased
            );
            if in_period {
                t[0] += signed;
                if reserve_line {
                    t[4] += signed;
                }
                if line.kind == LineKind::Fee {
                    t[5] += signed;
                }
            }
            let mut line_royalties = 0i128;
            if let (Some(sku_i), false) = (line.sku(), reserve_line) {
                let info = &sku_info[sku_i];
                let item = info.item;
                let line_channel = if info.digital {
                    Channel::Digital
                } else {
                    line.channel
                };
                for &(ci, rules) in &info.covering {
                    let c = by_index[ci];
                    let Some(rule) = rules[channel_slot(line_channel)] else {
                        let sku = &journal.skus[sku_i];
                        let format = item.map(|i| i.format.as_str());
                        if no_rule.insert((
                            c.id(),
                            sku.clone(),
                            line_channel,
                            format.map(str::to_string),
                        )) {
                            warnings.push(format!(
                                "contract {}: no rate rule for {sku} ({:?}, format {}): no royalty",
                                c.id(),
                                line_channel,
                                format.unwrap_or("unknown")
                            ));
                        }
                        continue;
                    };
                    let royalty = line_royalty(
                        rule,
                        line.kind,
                        i128::from(line.units),
                        signed,
                        item,
                        &journal.skus[sku_i],
                        cur,
                        &st.statement_id,
                    )
                    .map_err(|e| match e {
                        // Name the contract and say the way forward: the run cannot
                        // convert a price between currencies.
                        RoyaltyError::CurrencyMismatch {
                            context,
                            found,
                            expected,
                        } => RoyaltyError::CurrencyMismatch {
                            context: format!(
                                "contract {}, a rate on the wholesale price (ppd): {context}",
                                c.id()
                            ),
                            expected: format!(
                                "{expected} — a ppd royalty is a rate of the catalog's wholesale price, and the catalog prices this SKU in {found} while the statement is in {expected}; give the contract a new version (`backstock contract add` or contracts.csv) whose rule for this format or channel is net_receipts, then run again"
                            ),
                            found,
                        },
                        e => e,
                    })?;
                    line_royalties += royalty;
                    let coll_now = scale(royalty, n_now, d_now)?;
                    let coll_delta = coll_now - scale(royalty, n_before, d_before)?;
                    let shares = &shares_of[ci];
                    let earned_rest = split_into(royalty, cur, shares, &mut earned_parts)?;
                    split_into(coll_now, cur, shares, &mut now_parts)?;
                    split_into(coll_delta, cur, shares, &mut delta_parts)?;
                    if in_period {
                        t[2] += earned_rest;
                    }
                    let pool = if c.cross_collateralized() {
                        None
                    } else {
                        Some(line.sku)
                    };
                    for pi in 0..c.payees().len() {
                        let acc = hot.entry((ci, pi, cur)).or_default();
                        let earned = if in_period { earned_parts[pi] } else { 0 };
                        let collected = delta_parts[pi];
                        if in_period || collected != 0 {
                            let row = acc.rows.entry((line.sku, line_channel, dist)).or_default();
                            if in_period {
                                row.receipts += signed;
                                match line.kind {
                                    LineKind::Sale => row.units_sold += i128::from(line.units),
                                    LineKind::Return => {
                                        row.units_returned += i128::from(line.units);
                                        row.returns += i128::from(line.amount_minor);
                                    }
                                    _ => {}
                                }
                            }
                            row.earned += earned;
                            row.collected += collected;
                        }
                        acc.earned += earned;
                        acc.collected += collected;
                        let recognized = match c.basis() {
                            Basis::Earned => earned,
                            Basis::Collected => collected,
                        };
                        if line_channel.is_physical() {
                            acc.physical_recognized += recognized;
                            // Only a contract recouped per SKU has pools to hold a
                            // reserve from; a cross-collateralized one holds it from
                            // its one pool (no map touched per line).
                            if pool.is_some() {
                                *acc.physical_pools.entry(pool).or_default() += recognized;
                            }
                        }
                        *acc.pools.entry(pool).or_default() += recognized;
                        // A reversed statement and its charge-back cancel out: neither
                        // is earned-but-not-collected.
                        if st.role == Role::Counted {
                            let u = acc.uncollected.entry(si).or_default();
                            u.0 += earned_parts[pi];
                            u.1 += now_parts[pi];
                        }
                    }
                }
            }
            if in_period && !reserve_line {
                t[3] += signed - line_royalties;
            }
        }
    }

    let mut accs: BTreeMap<AccKey, Acc> = BTreeMap::new();
    for ((ci, pi, cur), h) in hot {
        let c = by_index[ci];
        let payee = c.payees()[pi].0.clone();
        let mut rows = BTreeMap::new();
        for ((sku_i, channel, dist), r) in h.rows {
            let sku = journal.skus[sku_i as usize].clone();
            let format = sku_info[sku_i as usize].item.map(|i| i.format.clone());
            rows.insert(
                (
                    sku,
                    format,
                    channel,
                    journal.distributors[dist as usize].clone(),
                ),
                r,
            );
        }
        let uncollected = h
            .uncollected
            .into_iter()
            .map(|(si, v)| {
                let st = &stmts[si];
                ((st.distributor.clone(), st.statement_id.clone()), v)
            })
            .collect();
        accs.insert(
            (c.id().to_string(), payee, cur),
            Acc {
                rows,
                earned: h.earned,
                collected: h.collected,
                physical_recognized: h.physical_recognized,
                physical_pools: h
                    .physical_pools
                    .into_iter()
                    .map(|(pool, v)| (pool.map(|i| journal.skus[i as usize].clone()), v))
                    .collect(),
                pools: h
                    .pools
                    .into_iter()
                    .map(|(pool, v)| (pool.map(|i| journal.skus[i as usize].clone()), v))
                    .collect(),
                uncollected,
                ..Acc::default()
            },
        );
    }

    // --- opening balances and reserves ---
    for a in &opening.accounts {
        let c =
            contracts
                .get(a.contract_id.as_str())
                .ok_or_else(|| RoyaltyError::UnknownContract {
                    contract: a.contract_id.clone(),
                    referenced_by: format!("the opening balance of {}", a.payee_id),
                })?;
        let pool = if c.cross_collateralized() {
            None
        } else {
            a.pool.clone()
        };
        let acc = accs
            .entry((
                a.contract_id.clone(),
                a.payee_id.clone(),
                a.balance.currency(),
            ))
            .or_default();
        *acc.opening_pools.entry(pool.clone()).or_default() += i128::from(a.balance.minor());
        *acc.pools.entry(pool).or_default() += i128::from(a.balance.minor());
    }

    // A payee with a reserve still held on a contract in force has an account, even
    // when the contract's version no longer names them (a band member who left): the
    // reserve is released to them when due, on a statement of their own.
    for r in &opening.reserves {
        if contracts.contains_key(r.contract_id.as_str()) {
            accs.entry((
                r.contract_id.clone(),
                r.payee_id.clone(),
                r.amount.currency(),
            ))
            .or_default();
        }
    }

    // --- costs of the period ---
    for cost in inputs
        .costs
        .iter()
        .filter(|c| c.recoupable() && period.contains(c.date()))
    {
        let Some(c) = contracts.get(cost.contract_id()) else {
            continue;
        };
        let cur = cost.amount().currency();
        let chargeable = match (cost.kind(), c.net_profit_rate()) {
            (CostKind::Advance, _) | (_, None) => cost.amount(),
            (_, Some(rate)) => cost
                .amount()
                .apply_rate(rate, Rounding::HalfEven)
                .map_err(|e| RoyaltyError::domain("cost", e))?,
        };
        let (parts, _) = chargeable.allocate_whole(&c.shares());
        let pool = if c.cross_collateralized() {
            None
        } else {
            cost.sku().cloned()
        };
        for ((payee, _), part) in c.payees().iter().zip(parts) {
            let acc = accs
                .entry((c.id().to_string(), payee.clone(), cur))
                .or_default();
            *acc.pools.entry(pool.clone()).or_default() -= i128::from(part.minor());
            *acc.charges_by_pool.entry(pool.clone()).or_default() += i128::from(part.minor());
            acc.costs.push(CostCharge {
                kind: cost.kind(),
                sku: cost.sku().cloned(),
                date: cost.date(),
                amount: cost.amount(),
                charged: part,
            });
        }
    }

    // every payee gets a statement, even an empty one
    let with_any: BTreeSet<(String, PartyId)> = accs
        .keys()
        .map(|(cid, p, _)| (cid.clone(), p.clone()))
        .collect();
    for c in contracts.values() {
        for (payee, _) in c.payees() {
            if !with_any.contains(&(c.id().to_string(), payee.clone())) {
                accs.entry((c.id().to_string(), payee.clone(), c.min_payout().currency()))
                    .or_default();
            }
        }
    }

    // --- close each account ---
    let mut statements = Vec::new();
    let mut closing = OpeningBalances::default();
    let mut reserves_left: Vec<&HeldReserve> = opening.reserves.iter().collect();
    for ((cid, pid, cur), mut acc) in accs {
        let c =
            contracts
                .get(cid.as_str())
                .copied()
                .ok_or_else(|| RoyaltyError::UnknownContract {
                    contract: cid.clone(),
                    referenced_by: "an account".into(),
                })?;
        let payee = payees
            .get(&pid)
            .copied()
            .ok_or_else(|| RoyaltyError::UnknownPayee {
                contract: cid.clone(),
                payee: pid.to_string(),
            })?;
        let share = c
            .payees()
            .iter()
            .find(|(p, _)| *p == pid)
            .map(|(_, r)| *r)
            .unwrap_or(Rate::ZERO);
        let opening_balance: i128 = acc.opening_pools.values().sum();
        let royalties = match c.basis() {
            Basis::Earned => acc.earned,
            Basis::Collected => acc.collected,
        };
        // reserves: hold on positive physical royalties; release what has aged
        let held = if acc.physical_recognized > 0 {
            scale(
                acc.physical_recognized,
                i128::from(c.reserve_rate().ppm()),
                i128::from(Rate::ONE_PPM),
            )?
        } else {
            0
        };
        let mut released = 0i128;
        let mut outstanding = 0i128;
        let n = i64::from(c.reserve_release_periods());
        let mine = |r: &HeldReserve| {
            r.contract_id == cid && r.payee_id == pid && r.amount.currency() == cur
        };
        let mut pending: Vec<(Period, Option<Sku>, i128)> = reserves_left
            .iter()
            .filter(|r| mine(r))
            .map(|r| (r.held_in, r.pool.clone(), i128::from(r.amount.minor())))
            .collect();
        reserves_left.retain(|r| !mine(r));
        // The reserve is held from the pools its royalties went to (in proportion to
        // each pool's physical royalties, the cent rounding left to the largest), and
        // goes back to the same pool when released: on a contract recouped per SKU, a
        // reserve on a SKU's royalties is neither a contract-wide debt nor, released,
        // paid out past that SKU's unrecouped cost — and what the statement calls
        // recouped is what came off the costs.
        if c.cross_collateralized() {
            acc.physical_pools.clear();
        }
        for (pool, part) in reserve_by_pool(held, &acc.physical_pools)
            .into_iter()
            .filter(|(_, part)| *part != 0)
        {
            *acc.pools.entry(pool.clone()).or_default() -= part;
            pending.push((*period, pool, part));
        }
        for (held_in, pool, amount) in pending {
            let due = held_in.plus(n).map(|p| p.end() <= end).unwrap_or(false);
            if due {
                released += amount;
                *acc.pools.entry(pool).or_default() += amount;
            } else {
                outstanding += amount;
                closing.reserves.push(HeldReserve {
                    contract_id: cid.clone(),
                    payee_id: pid.clone(),
                    held_in,
                    amount: money(amount, cur, "reserve")?,
                    pool,
                });
            }
        }
        // positive per-SKU pools flow into the contract-wide pool; negative ones stay
        if !c.cross_collateralized() {
            let mut moved = 0i128;
            for (pool, bal) in acc.pools.iter_mut() {
                if pool.is_some() && *bal > 0 {
                    moved += *bal;
                    *bal = 0;
                }
            }
            *acc.pools.entry(None).or_default() += moved;
        }
        // recouped, per pool: net credits of the period against debt (opening deficit +
        // charges). After the flow above: royalties of a SKU with no cost of its own
        // recoup the contract-wide costs, and are counted there.
        let mut recouped = 0i128;
        for (pool, bal) in &acc.pools {
            let open = acc.opening_pools.get(pool).copied().unwrap_or(0);
            let charges = acc.charges_by_pool.get(pool).copied().unwrap_or(0);
            let credits = bal - open + charges;
            recouped += credits.max(0).min((-open).max(0) + charges);
        }
        let balance_before: i128 = acc.pools.values().sum();
        let available = acc.pools.get(&None).copied().unwrap_or(0);
        let min = if c.min_payout().currency() == cur {
            i128::from(c.min_payout().minor())
        } else {
            if c.min_payout().minor() != 0 {
                warnings.push(format!("contract {cid}: minimum payout is in {}, statement in {cur}: no minimum applied", c.min_payout().currency()));
            }
            0
        };
        let (payable, carried) = if available > 0 && available >= min {
            (available, false)
        } else {
            (0, available > 0)
        };
        *acc.pools.entry(None).or_default() -= payable;
        for (pool, bal) in &acc.pools {
            if *bal != 0 {
                closing.accounts.push(AccountBalance {
                    contract_id: cid.clone(),
                    payee_id: pid.clone(),
                    pool: pool.clone(),
                    balance: money(*bal, cur, "balance")?,
                });
            }
        }
        let closing_balance: i128 = acc.pools.values().sum();
        let unrecouped: i128 = acc.pools.values().filter(|b| **b < 0).map(|b| -b).sum();
        let mut uncollected = Vec::new();
        let (mut enc, mut enc_default) = (0i128, 0i128);
        for ((dist, sid), (earned, coll)) in acc.uncollected {
            let un = earned - coll;
            if un == 0 {
                continue;
            }
            let in_default = inputs.defaulted_distributors.contains(&dist);
            enc += un;
            if in_default {
                enc_default += un;
            }
            uncollected.push(Uncollected {
                distributor: dist,
                statement_id: sid,
                distributor_in_default: in_default,
                royalty_earned: money(earned, cur, "uncollected")?,
                royalty_collected: money(coll, cur, "uncollected")?,
                royalty_uncollected: money(un, cur, "uncollected")?,
            });
        }
        let mut earnings = Vec::new();
        for ((sku, format, channel, distributor), r) in acc.rows {
            let units = |v: i128| i64::try_from(v).map_err(|_| RoyaltyError::overflow("units"));
            earnings.push(EarningsRow {
                sku,
                format,
                channel,
                distributor,
                units_sold: units(r.units_sold)?,
                units_returned: units(r.units_returned)?,
                receipts: money(r.receipts, cur, "receipts")?,
                returns: money(r.returns, cur, "returns")?,
                royalty_earned: money(r.earned, cur, "royalty")?,
                royalty_collected: money(r.collected, cur, "royalty")?,
            });
        }
        let costs_charged: i128 = acc
            .costs
            .iter()
            .map(|c| i128::from(c.charged.minor()))
            .sum();
        statements.push(PayeeStatement {
            contract_id: cid.clone(),
            payee_id: pid.clone(),
            payee_name: payee.name().to_string(),
            payee_email: payee.email().to_string(),
            payee_address: payee.address().to_string(),
            share,
            basis: c.basis(),
            currency: cur,
            opening_balance: money(opening_balance, cur, "opening")?,
            earnings,
            royalty_earned: money(acc.earned, cur, "royalty")?,
            royalty_collected: money(acc.collected, cur, "royalty")?,
            royalties: money(royalties, cur, "royalty")?,
            reserve_held: money(held, cur, "reserve")?,
            reserve_released: money(released, cur, "reserve")?,
            costs: acc.costs,
            costs_charged: money(costs_charged, cur, "costs")?,
            recouped: money(recouped, cur, "recouped")?,
            balance_before_payment: money(balance_before, cur, "balance")?,
            payable: money(payable, cur, "payable")?,
            carried_below_minimum: carried,
            held_for_unrecouped: Vec::new(),
            closing_balance: money(closing_balance, cur, "balance")?,
            unrecouped: money(unrecouped, cur, "unrecouped")?,
            reserves_outstanding: money(outstanding, cur, "reserve")?,
            uncollected,
            earned_not_collected: money(enc, cur, "uncollected")?,
            earned_not_collected_in_default: money(enc_default, cur, "uncollected")?,
        });
    }
    hold_against_other_currencies(&mut statements, &mut closing, &mut warnings)?;
    for r in reserves_left {
        warnings.push(format!(
            "reserve of {} held in {} for {} on contract {}: no such account, carried unchanged",
            r.amount, r.held_in, r.payee_id, r.contract_id
        ));
        closing.reserves.push(r.clone());
    }

    // --- tie-out: payee royalties summed from the statements, the rest line by line ---
    let mut tie_out = Vec::new();
    for (cur, t) in tie {
        let payee_royalties: i128 = statements
            .iter()
            .filter(|s| s.currency == cur)
            .flat_map(|s| s.earnings.iter())
            .map(|r| i128::from(r.royalty_earned.minor()))
            .sum();
        let difference = t[0] - payee_royalties - t[2] - t[3] - t[4];
        if difference != 0 {
            warnings.push(format!(
                "tie-out in {cur} is off by {}",
                money(difference, cur, "tie-out")?
            ));
        }
        tie_out.push(TieOut {
            currency: cur,
            receipts: money(t[0], cur, "receipts")?,
            payee_royalties: money(payee_royalties, cur, "tie-out")?,
            rounding_to_label: money(t[2], cur, "tie-out")?,
            label_share: money(t[3], cur, "tie-out")?,
            distributor_reserves: money(t[4], cur, "tie-out")?,
            fees: money(t[5], cur, "tie-out")?,
            difference: money(difference, cur, "tie-out")?,
            ok: difference == 0,
        });
    }
    Ok(RunResult {
        period: *period,
        statements,
        tie_out,
        warnings,
        closing,
    })
}
