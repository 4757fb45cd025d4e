//! The journal read as the label's records, as of a date, with corrections applied:
//! the one reading that risk, the web views, the CLI's tables, royalties and the claim
//! pack share, so a corrected shipment is gone from every one of them at once.
//!
//! [`Records::new`] keeps only what stands (entries reversed by a correction that is
//! not itself reversed are left out); [`Records::with_reversed`] keeps the reversed
//! ones too, each with its [`Reversal`] (who reversed it, when, why), for the pages and
//! tables that list history. Both see only entries effective **and** known on the date.
//!
//! Unit moves here ([`UnitMove`]) are the label-owned units' changes per holder as the
//! events state them; the ledger's postings are the authority on balances (the store's
//! `stock`), these serve the pure computations that have only the entries.
//!
//! Pure: no I/O, no clock. Nothing here panics on data.
use backstock_domain::{Date, Money, PartyId, Sku};
use backstock_ledger::facts::{
    Agreement, CatalogItem, DeductionDispute, DeductionReason, Demand, DemandResponse,
    DocumentRecord, Insolvency, PmsiNotice, PurchaseOrder, ReceiptConfirmed, StockReport,
    Ucc1Filing,
};
use backstock_ledger::{Channel, Entry, EntryId, Event, Fact, LineKind, Statement};
use std::collections::{BTreeMap, HashMap};

/// A correction that reversed an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reversal<'a> {
    /// The correction's entry id.
    pub by: &'a EntryId,
    /// When it was recorded (the correction's `known_on`).
    pub on: Date,
    pub reason: &'a str,
}

#[derive(Debug, Clone, Copy)]
pub struct StmtRef<'a> {
    /// Position in recording order (ties broken by it everywhere).
    pub seq: usize,
    pub entry: &'a Entry,
    pub st: &'a Statement,
    /// Set only in [`Records::with_reversed`], for a reversed entry.
    pub reversed: Option<Reversal<'a>>,
}

impl StmtRef<'_> {
    /// When the label received the statement: the entry's `known_on`.
    pub fn received_on(&self) -> Date {
        self.entry.known_on
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PayRef<'a> {
    pub seq: usize,
    pub date: Date,
    pub payment_id: &'a str,
    pub distributor: &'a PartyId,
    pub amount: Money,
    pub statement_id: Option<&'a str>,
    pub entry: &'a Entry,
    /// Set only in [`Records::with_reversed`], for a reversed entry.
    pub reversed: Option<Reversal<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub struct ShipRef<'a> {
    pub entry: &'a Entry,
    /// Set only in [`Records::with_reversed`], for a reversed entry.
    pub reversed: Option<Reversal<'a>>,
    pub date: Date,
    pub shipment_id: &'a str,
    pub from: &'a PartyId,
    pub to: &'a PartyId,
    pub sku: &'a Sku,
    pub units: u64,
    pub po_number: Option<&'a str>,
    pub override_reason: Option<&'a str>,
}

/// Money taken off a distributor's receivable without cash: a deduction the label
/// accepted, or a balance it wrote off.
#[derive(Debug, Clone, Copy)]
pub struct SettleRef<'a> {
    pub seq: usize,
    pub date: Date,
    pub entry_id: &'a str,
    pub distributor: &'a PartyId,
    pub amount: Money,
    pub statement_id: Option<&'a str>,
    /// `Some` for an accepted deduction, `None` for a write-off.
    pub reason: Option<DeductionReason>,
    /// What the label wrote: an accepted deduction's note, a write-off's reason.
    pub note: &'a str,
    /// Set only in [`Records::with_reversed`], for a reversed entry.
    pub reversed: Option<Reversal<'a>>,
}

/// A change in label-owned units at a holder.
#[derive(Debug, Clone, Copy)]
pub struct UnitMove<'a> {
    /// The entry that moved them.
    pub entry: &'a Entry,
    pub date: Date,
    pub holder: &'a PartyId,
    pub sku: &'a Sku,
    pub delta: i64,
}

/// A fact as recorded: the entry it came in and, in [`Records::with_reversed`], its
/// reversal. Reads as the fact itself (`Deref`).
#[derive(Debug)]
pub struct Rec<'a, T> {
    pub entry: &'a Entry,
    pub item: &'a T,
    pub reversed: Option<Reversal<'a>>,
}

impl<T> Clone for Rec<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Rec<'_, T> {}

impl<'a, T> Rec<'a, T> {
    pub fn new(entry: &'a Entry, item: &'a T, reversed: Option<Reversal<'a>>) -> Rec<'a, T> {
        Rec {
            entry,
            item,
            reversed,
        }
    }
}

impl<T> std::ops::Deref for Rec<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item
    }
}

/// The journal's records as of a date (see the crate doc).
#[derive(Debug)]
pub struct Records<'a> {
    pub as_of: Date,
    /// The agreement in force per distributor: the one started last (of two starting
    /// the same day, the one recorded last).
    pub agreements: BTreeMap<PartyId, &'a Agreement>,
    /// Every agreement of each distributor, in recording order: renegotiated terms
    /// are a new agreement from its own start, and what was due before it stays due
    /// on the terms of its day ([`Records::agreement_on`]).
    pub agreement_history: BTreeMap<PartyId, Vec<&'a Agreement>>,
    /// Latest catalog item per SKU.
    pub catalog: BTreeMap<&'a Sku, &'a CatalogItem>,
    /// Statements, one per (distributor, statement id) (a later one replaces an earlier
    /// one), in recording order.
    pub statements: Vec<StmtRef<'a>>,
    pub payments: Vec<PayRef<'a>>,
    /// Deductions accepted and balances written off, in recording order.
    pub settlements: Vec<SettleRef<'a>>,
    pub disputes: Vec<Rec<'a, DeductionDispute>>,
    pub shipments: Vec<ShipRef<'a>>,
    pub moves: Vec<UnitMove<'a>>,
    pub pos: Vec<Rec<'a, PurchaseOrder>>,
    pub stock_reports: Vec<Rec<'a, StockReport>>,
    pub receipts: Vec<Rec<'a, ReceiptConfirmed>>,
    pub filings: Vec<Rec<'a, Ucc1Filing>>,
    pub notices: Vec<Rec<'a, PmsiNotice>>,
    pub demands: Vec<Rec<'a, Demand>>,
    pub responses: Vec<Rec<'a, DemandResponse>>,
    /// Distributors' failures recorded (`insolvency add`), in recording order; a
    /// later record for the same distributor updates the earlier one (see
    /// [`Records::insolvency_of`]).
    pub insolvencies: Vec<Rec<'a, Insolvency>>,
    /// Documents attached to distributors, in recording order.
    pub documents: Vec<Rec<'a, DocumentRecord>>,
}

/// Entries effective and known on `as_of`, with their position in recording order.
fn visible(entries: &[Entry], as_of: Date) -> Vec<(usize, &Entry)> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.effective_on <= as_of && e.known_on <= as_of)
        .collect()
}

/// Every entry reversed on `as_of` by a correction that is not itself reversed, with
/// that correction.
fn reversals(entries: &[Entry], as_of: Date) -> HashMap<&str, Reversal<'_>> {
    standing_reversals(visible(entries, as_of).into_iter().map(|(_, e)| e))
}

/// The entries reversed by the corrections among `entries` (in recording order) that
/// are not themselves reversed, with the correction that reversed each. Other entries
/// are passed over, so the corrections alone give the same answer as the journal.
pub fn standing_reversals<'a>(
    entries: impl DoubleEndedIterator<Item = &'a Entry>,
) -> HashMap<&'a str, Reversal<'a>> {
    // A correction comes after what it reverses: walking backwards, whether a
    // correction is itself void is known before its target is reached.
    let mut void: HashMap<&str, Reversal<'_>> = HashMap::new();
    for e in entries.rev() {
        if void.contains_key(e.id.as_str()) {
            continue;
        }
        if let Event::Correction {
            reverses, reason, ..
        } = &e.event
        {
            void.insert(
                reverses.as_str(),
                Reversal {
                    by: &e.id,
                    on: e.known_on,
                    reason,
                },
            );
        }
    }
    void
}

/// The label as a holder, borrowed for as long as any view.
fn e_label() -> &'static PartyId {
    static LABEL: std::sync::OnceLock<PartyId> = std::sync::OnceLock::new();
    LABEL.get_or_init(PartyId::label)
}

fn i64_units(u: u64) -> i64 {
    i64::try_from(u).unwrap_or(i64::MAX)
}

/// The entry an event reverses, when it is a correction.
pub fn reverses(e: &Entry) -> Option<&EntryId> {
    match &e.event {
        Event::Correction { reverses, .. } => Some(reverses),
        _ => None,
    }
}

impl<'a> Records<'a> {
    /// What stands on `as_of`: entries effective and known by then, in recording order,
    /// without the reversed ones.
    pub fn new(entries: &'a [Entry], as_of: Date) -> Records<'a> {
        Records::build(entries, as_of, false)
    }

    /// Like [`Records::new`], but reversed entries are kept, each with its
    /// [`Reversal`] — for lists that show history. Computations must use
    /// [`Records::new`].
    pub fn with_reversed(entries: &'a [Entry], as_of: Date) -> Records<'a> {
        Records::build(entries, as_of, true)
    }

    /// The reversal of entry `id` as of the records' date, if it was reversed.
    pub fn reversal_of(entries: &'a [Entry], as_of: Date, id: &str) -> Option<Reversal<'a>> {
        reversals(entries, as_of).remove(id)
    }

    /// The agreement with `d` in force on `day`: of those started by then, the one
    /// started last (of two starting the same day, the one recorded last); before
    /// any started, the first. `None` without an agreement.
    pub fn agreement_on(&self, d: &PartyId, day: Date) -> Option<&'a Agreement> {
        let history = self.agreement_history.get(d)?;
        history
            .iter()
            .enumerate()
            .filter(|(_, a)| a.agreement_start <= day)
            .max_by_key(|(i, a)| (a.agreement_start, *i))
            .or_else(|| {
                history
                    .iter()
                    .enumerate()
                    .min_by_key(|(i, a)| (a.agreement_start, *i))
            })
            .map(|(_, a)| *a)
    }

    fn build(entries: &'a [Entry], as_of: Date, keep_reversed: bool) -> Records<'a> {
        let visible = visible(entries, as_of);
        let void = reversals(entries, as_of);
        let mut v = Records {
            as_of,
            agreements: BTreeMap::new(),
            agreement_history: BTreeMap::new(),
            catalog: BTreeMap::new(),
            statements: Vec::new(),
            payments: Vec::new(),
            settlements: Vec::new(),
            disputes: Vec::new(),
            shipments: Vec::new(),
            moves: Vec::new(),
            pos: Vec::new(),
            stock_reports: Vec::new(),
            receipts: Vec::new(),
            filings: Vec::new(),
            notices: Vec::new(),
            demands: Vec::new(),
            responses: Vec::new(),
            insolvencies: Vec::new(),
            documents: Vec::new(),
        };
        let mut stmt_index: BTreeMap<(&'a PartyId, &'a str), usize> = BTreeMap::new();
        // Catalog items in recording order, made a map once at the end: a label
        // group's 100,000 items inserted one by one cost a search and a copy of the
        // SKU each, and the risk computations build several views of one snapshot.
        let mut catalog: Vec<&'a CatalogItem> = Vec::new();
        for (seq, e) in visible {
            let reversed = void.get(e.id.as_str()).copied();
            if reversed.is_some() && !keep_reversed {
                continue;
            }
            // Reversed records are listed, but move nothing.
            let counts = reversed.is_none();
            let on = e.effective_on;
            let moves_before = v.moves.len();
            match &e.event {
                Event::Manufacture { to, sku, units, .. } => v.moves.push(UnitMove {
                    entry: e,
                    date: on,
                    holder: to,
                    sku,
                    delta: i64_units(*units),
                }),
                Event::Shipment {
                    shipment_id,
                    from,
                    to,
                    sku,
                    units,
                    po_number,
                    override_reason,
                } => {
                    v.shipments.push(ShipRef {
                        entry: e,
                        reversed,
                        date: on,
                        shipment_id,
                        from,
                        to,
                        sku,
                        units: *units,
                        po_number: po_number.as_deref(),
                        override_reason: override_reason.as_deref(),
                    });
                    if from != to {
                        v.moves.push(UnitMove {
                            entry: e,
                            date: on,
                            holder: from,
                            sku,
                            delta: -i64_units(*units),
                        });
                        v.moves.push(UnitMove {
                            entry: e,
                            date: on,
                            holder: to,
                            sku,
                            delta: i64_units(*units),
                        });
                    }
                }
                Event::Statement(st) => {
                    for l in st.lines.iter().filter(|l| l.channel == Channel::Physical) {
                        let sign = match l.kind {
                            LineKind::Sale => -1,
                            LineKind::Return => 1,
                            _ => continue,
                        };
                        if let Some(sku) = &l.sku {
                            v.moves.push(UnitMove {
                                entry: e,
                                date: on,
                                holder: &st.distributor,
                                sku,
                                delta: l.units.saturating_mul(sign),
                            });
                        }
                    }
                    let r = StmtRef {
                        seq,
                        entry: e,
                        st,
                        reversed,
                    };
                    if !counts {
                        v.statements.push(r);
                        continue;
                    }
                    match stmt_index.get(&(&st.distributor, st.statement_id.as_str())) {
                        Some(&i) => {
                            if let Some(slot) = v.statements.get_mut(i) {
                                *slot = r;
                            }
                        }
                        None => {
                            stmt_index.insert(
                                (&st.distributor, st.statement_id.as_str()),
                                v.statements.len(),
                            );
                            v.statements.push(r);
                        }
                    }
                }
                Event::PaymentReceived {
                    payment_id,
                    distributor,
                    amount,
                    statement_id,
                } => v.payments.push(PayRef {
                    seq,
                    date: on,
                    payment_id,
                    distributor,
                    amount: *amount,
                    statement_id: statement_id.as_deref(),
                    entry: e,
                    reversed,
                }),
                Event::WriteOff {
                    holder, sku, units, ..
                } => v.moves.push(UnitMove {
                    entry: e,
                    date: on,
                    holder,
                    sku,
                    delta: -i64_units(*units),
                }),
                Event::TitleTransfer {
                    from_owner,
                    from_holder,
                    to_owner,
                    to_holder,
                    sku,
                    units,
                    ..
                } => {
                    if from_owner.is_label() {
                        v.moves.push(UnitMove {
                            entry: e,
                            date: on,
                            holder: from_holder,
                            sku,
                            delta: -i64_units(*units),
                        });
                    }
                    if to_owner.is_label() {
                        v.moves.push(UnitMove {
                            entry: e,
                            date: on,
                            holder: to_holder,
                            sku,
                            delta: i64_units(*units),
                        });
                    }
                }
                Event::DeductionAccepted {
                    distributor,
                    statement_id,
                    amount,
                    reason,
                    note,
                } => v.settlements.push(SettleRef {
                    seq,
                    date: on,
                    entry_id: e.id.as_str(),
                    distributor,
                    amount: *amount,
                    statement_id: Some(statement_id.as_str()),
                    reason: Some(*reason),
                    note: note.as_str(),
                    reversed,
                }),
                Event::ReceivableWrittenOff {
                    distributor,
                    statement_id,
                    amount,
                    reason,
                } => v.settlements.push(SettleRef {
                    seq,
                    date: on,
                    entry_id: e.id.as_str(),
                    distributor,
                    amount: *amount,
                    statement_id: statement_id.as_deref(),
                    reason: None,
                    note: reason.as_str(),
                    reversed,
                }),
                Event::BuyBack {
                    holder, sku, units, ..
                } => {
                    v.moves.push(UnitMove {
                        entry: e,
                        date: on,
                        holder,
                        sku,
                        delta: -i64_units(*units),
                    });
                    v.moves.push(UnitMove {
                        entry: e,
                        date: on,
                        holder: e_label(),
                        sku,
                        delta: i64_units(*units),
                    });
                }
                Event::Detention { .. }
                | Event::Correction { .. }
                | Event::RoyaltyRun(_)
                | Event::RoyaltyPaid(_) => {}
                Event::Fact(f) => match f {
                    Fact::Agreement(a) if counts => {
                        // The one in force: started last (an older agreement
                        // recorded later, to date old statements' terms, does not
                        // replace it); of two starting the same day, the later.
                        let newer = v
                            .agreements
                            .get(&a.distributor)
                            .is_none_or(|x| a.agreement_start >= x.agreement_start);
                        if newer {
                            v.agreements.insert(a.distributor.clone(), a);
                        }
                        v.agreement_history
                            .entry(a.distributor.clone())
                            .or_default()
                            .push(a);
                    }
                    Fact::CatalogItem(c) if counts => catalog.push(c),
                    Fact::PurchaseOrder(po) if po.date <= as_of => {
                        v.pos.push(Rec::new(e, po, reversed))
                    }
                    Fact::StockReport(r) if r.as_of <= as_of => {
                        v.stock_reports.push(Rec::new(e, r, reversed))
                    }
                    Fact::ReceiptConfirmed(r) => v.receipts.push(Rec::new(e, r, reversed)),
                    Fact::Ucc1Filing(f) if f.filed_on <= as_of => {
                        v.filings.push(Rec::new(e, f, reversed))
                    }
                    Fact::PmsiNotice(n) if n.sent_on <= as_of => {
                        v.notices.push(Rec::new(e, n, reversed))
                    }
                    Fact::Demand(d) if d.made_on <= as_of => {
                        v.demands.push(Rec::new(e, d, reversed))
                    }
                    Fact::DemandResponse(r) if r.answered_on <= as_of => {
                        v.responses.push(Rec::new(e, r, reversed))
                    }
                    Fact::DeductionDisputed(x) if x.disputed_on <= as_of => {
                        v.disputes.push(Rec::new(e, x, reversed))
                    }
                    Fact::Insolvency(x) if x.on <= as_of => {
                        v.insolvencies.push(Rec::new(e, x, reversed))
                    }
                    Fact::Document(x) if x.added_on <= as_of => {
                        v.documents.push(Rec::new(e, x, reversed))
                    }
                    _ => {}
                },
            }
            if !counts {
                v.moves.truncate(moves_before);
            }
        }
        // Sorted stably by SKU (one pass when the items came in SKU order), the
        // last of equal SKUs kept: the item recorded last, as inserting in recording
        // order would. Keys unique and sorted, `collect` builds the map in one pass.
        catalog.sort_by(|x, y| x.sku.cmp(&y.sku));
        let mut latest: Vec<&'a CatalogItem> = Vec::with_capacity(catalog.len());
        for c in catalog {
            match latest.last_mut() {
                Some(last) if last.sku == c.sku => *last = c,
                _ => latest.push(c),
            }
        }
        v.catalog = latest.into_iter().map(|c| (&c.sku, c)).collect();
        v
    }

    pub fn statements_of<'s>(
        &'s self,
        d: &'s PartyId,
    ) -> impl Iterator<Item = &'s StmtRef<'a>> + 's {
        self.statements
            .iter()
            .filter(move |s| &s.st.distributor == d)
    }

    pub fn payments_of<'s>(&'s self, d: &'s PartyId) -> impl Iterator<Item = &'s PayRef<'a>> + 's {
        self.payments.iter().filter(move |p| p.distributor == d)
    }

    /// The distributor's failure on record (the latest record standing), if any.
    pub fn insolvency_of(&self, d: &PartyId) -> Option<&'a Insolvency> {
        self.insolvencies
            .iter()
            .rev()
            .find(|x| &x.distributor == d && x.reversed.is_none())
            .map(|x| x.item)
    }

    /// Documents attached to the distributor, oldest first.
    pub fn documents_of<'s>(
        &'s self,
        d: &'s PartyId,
    ) -> impl Iterator<Item = &'s Rec<'a, DocumentRecord>> + 's {
        self.documents.iter().filter(move |x| &x.distributor == d)
    }

    /// Shipments to the distributor (from anyone) and manufacture delivered there.
    pub fn shipments_to<'s>(
        &'s self,
        d: &'s PartyId,
    ) -> impl Iterator<Item = &'s ShipRef<'a>> + 's {
        self.shipments
            .iter()
            .filter(move |s| s.to == d && s.from != d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_ledger::facts::PurchaseOrder;
    use backstock_ledger::Provenance;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }
    fn p(s: &str) -> PartyId {
        PartyId::parse(s).unwrap()
    }
    fn entry(id: &str, on: &str, event: Event) -> Entry {
        Entry {
            id: EntryId::new(id).unwrap(),
            effective_on: d(on),
            known_on: d(on),
            provenance: Provenance::Demo,
            event,
        }
    }
    fn ship(id: &str, on: &str, units: u64) -> Entry {
        entry(
            &format!("shipment:{id}:CD1"),
            on,
            Event::Shipment {
                shipment_id: id.into(),
                from: p("label"),
                to: p("cascade"),
                sku: Sku::parse("CD1").unwrap(),
                units,
                po_number: None,
                override_reason: None,
            },
        )
    }
    fn correct(id: &str, of: &str, on: &str) -> Entry {
        entry(
            id,
            on,
            Event::Correction {
                reverses: EntryId::new(of).unwrap(),
                reason: "keyed twice".into(),
                postings: vec![],
            },
        )
    }

    #[test]
    fn a_corrected_shipment_is_gone_from_the_records_and_listed_as_reversed() {
        let es = vec![
            ship("SH1", "2016-01-01", 10),
            ship("SH2", "2016-01-02", 6),
            correct("correction:SH2", "shipment:SH2:CD1", "2016-01-05"),
        ];
        let now = Records::new(&es, d("2016-02-01"));
        assert_eq!(now.shipments.len(), 1);
        assert_eq!(now.shipments[0].shipment_id, "SH1");
        let held: i64 = now
            .moves
            .iter()
            .filter(|m| m.holder.as_str() == "cascade")
            .map(|m| m.delta)
            .sum();
        assert_eq!(held, 10);
        // Before the correction was known, SH2 stood.
        assert_eq!(Records::new(&es, d("2016-01-03")).shipments.len(), 2);
        // Listed with its reversal, moving nothing.
        let all = Records::with_reversed(&es, d("2016-02-01"));
        assert_eq!(all.shipments.len(), 2);
        let r = all.shipments[1].reversed.expect("reversed");
        assert_eq!(
            (r.by.as_str(), r.on, r.reason),
            ("correction:SH2", d("2016-01-05"), "keyed twice")
        );
        assert_eq!(all.moves.len(), now.moves.len());
        assert!(Records::reversal_of(&es, d("2016-02-01"), "shipment:SH2:CD1").is_some());
    }

    #[test]
    fn the_catalog_holds_each_skus_item_recorded_last_that_stands() {
        use backstock_domain::{Currency, Money};
        use backstock_ledger::facts::CatalogItem;
        let item = |id: &str, sku: &str, on: &str, wholesale: i64| {
            let usd = |m| Money::from_minor(m, Currency::USD);
            let c = CatalogItem {
                sku: Sku::parse(sku).unwrap(),
                upc: None,
                title: format!("{sku} at {wholesale}"),
                artist: "A".into(),
                format: "CD".into(),
                release_date: None,
                list_price: usd(1500),
                wholesale_price: usd(wholesale),
                unit_cost: usd(200),
            };
            entry(id, on, Event::Fact(Fact::CatalogItem(c)))
        };
        // Out of SKU order, one SKU repriced twice, the last repricing corrected.
        let es = vec![
            item("c:B:1", "B", "2016-01-01", 700),
            item("c:A:1", "A", "2016-01-01", 800),
            item("c:B:2", "B", "2016-02-01", 750),
            item("c:C:1", "C", "2016-01-01", 900),
            item("c:B:3", "B", "2016-03-01", 790),
            correct("correction:B:3", "c:B:3", "2016-03-02"),
        ];
        let price = |r: &Records<'_>, sku: &str| {
            r.catalog
                .get(&Sku::parse(sku).unwrap())
                .map(|c| c.wholesale_price.minor())
        };
        let now = Records::new(&es, d("2016-12-31"));
        let skus: Vec<&str> = now.catalog.keys().map(|s| s.as_str()).collect();
        assert_eq!(skus, ["A", "B", "C"]);
        assert_eq!(price(&now, "B"), Some(750));
        assert_eq!(price(&now, "A"), Some(800));
        assert_eq!(price(&Records::new(&es, d("2016-03-01")), "B"), Some(790));
        assert_eq!(price(&Records::new(&es, d("2016-01-15")), "B"), Some(700));
        assert_eq!(Records::new(&es, d("2015-12-31")).catalog.len(), 0);
    }

    #[test]
    fn a_reversed_correction_restores_what_it_reversed() {
        let po = PurchaseOrder {
            po_number: "PO1".into(),
            date: d("2016-01-01"),
            distributor: p("cascade"),
            sku: Sku::parse("CD1").unwrap(),
            units: 5,
        };
        let es = vec![
            entry("po:PO1", "2016-01-01", Event::Fact(Fact::PurchaseOrder(po))),
            correct("c1", "po:PO1", "2016-01-02"),
            correct("c2", "c1", "2016-01-03"),
        ];
        let now = Records::new(&es, d("2016-02-01"));
        assert_eq!(now.pos.len(), 1);
        assert_eq!(now.pos[0].units, 5);
        assert!(now.pos[0].reversed.is_none());
        assert_eq!(Records::new(&es, d("2016-01-02")).pos.len(), 0);
    }
}
