//! An index of a snapshot's live entries by kind, as of a date.

use crate::{reverses, Snapshot};
use backstock_domain::{Date, Money, PartyId, Sku};
use backstock_ledger::facts::{
    Agreement, CatalogItem, DeductionDispute, DeductionReason, Demand, DemandResponse, PmsiNotice,
    PurchaseOrder, ReceiptConfirmed, StockReport, Ucc1Filing,
};
use backstock_ledger::{Channel, Entry, Event, Fact, LineKind, Statement};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Copy)]
pub(crate) struct StmtRef<'a> {
    /// Position in recording order (ties broken by it everywhere).
    pub seq: usize,
    pub entry: &'a Entry,
    pub st: &'a Statement,
}

impl StmtRef<'_> {
    /// When the label received the statement: the entry's `known_on`.
    pub fn received_on(&self) -> Date {
        self.entry.known_on
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PayRef<'a> {
    pub seq: usize,
    pub date: Date,
    pub payment_id: &'a str,
    pub distributor: &'a PartyId,
    pub amount: Money,
    pub statement_id: Option<&'a str>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ShipRef<'a> {
    pub date: Date,
    pub shipment_id: &'a str,
    pub from: &'a PartyId,
    pub to: &'a PartyId,
    pub sku: &'a Sku,
    pub units: u64,
    pub po_number: Option<&'a str>,
}

/// Money taken off a distributor's receivable without cash: a deduction the label
/// accepted, or a balance it wrote off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SettleRef<'a> {
    pub seq: usize,
    pub date: Date,
    pub entry_id: &'a str,
    pub distributor: &'a PartyId,
    pub amount: Money,
    pub statement_id: Option<&'a str>,
    /// `Some` for an accepted deduction, `None` for a write-off.
    pub reason: Option<DeductionReason>,
}

/// A change in label-owned units at a holder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitMove<'a> {
    pub date: Date,
    pub holder: &'a PartyId,
    pub sku: &'a Sku,
    pub delta: i64,
}

#[derive(Debug)]
pub(crate) struct View<'a> {
    pub as_of: Date,
    /// Latest agreement per distributor.
    pub agreements: BTreeMap<PartyId, &'a Agreement>,
    /// Latest catalog item per SKU.
    pub catalog: BTreeMap<Sku, &'a CatalogItem>,
    /// Statements, one per (distributor, statement id) (a later one replaces an earlier
    /// one), in recording order.
    pub statements: Vec<StmtRef<'a>>,
    pub payments: Vec<PayRef<'a>>,
    /// Deductions accepted and balances written off, in recording order.
    pub settlements: Vec<SettleRef<'a>>,
    pub disputes: Vec<&'a DeductionDispute>,
    pub shipments: Vec<ShipRef<'a>>,
    pub moves: Vec<UnitMove<'a>>,
    pub pos: Vec<&'a PurchaseOrder>,
    pub stock_reports: Vec<&'a StockReport>,
    pub receipts: Vec<&'a ReceiptConfirmed>,
    pub filings: Vec<&'a Ucc1Filing>,
    pub notices: Vec<&'a PmsiNotice>,
    pub demands: Vec<&'a Demand>,
    pub responses: Vec<&'a DemandResponse>,
}

/// The label as a holder, borrowed for as long as any view.
fn e_label() -> &'static PartyId {
    static LABEL: std::sync::OnceLock<PartyId> = std::sync::OnceLock::new();
    LABEL.get_or_init(PartyId::label)
}

fn i64_units(u: u64) -> i64 {
    i64::try_from(u).unwrap_or(i64::MAX)
}

impl<'a> View<'a> {
    /// The snapshot as of its own date.
    pub fn of(snap: &'a Snapshot) -> View<'a> {
        View::new(&snap.entries, snap.as_of)
    }

    /// The snapshot as the label knew it on an earlier `date` (never later than the
    /// snapshot's own date).
    pub fn at(snap: &'a Snapshot, date: Date) -> View<'a> {
        View::new(&snap.entries, date.min(snap.as_of))
    }

    pub fn new(entries: &'a [Entry], as_of: Date) -> View<'a> {
        let visible: Vec<(usize, &'a Entry)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.effective_on <= as_of && e.known_on <= as_of)
            .collect();
        // A correction comes after what it reverses: walking backwards, whether a
        // correction is itself void is known before its target is reached.
        let mut void: HashSet<&str> = HashSet::new();
        for (_, e) in visible.iter().rev() {
            if void.contains(e.id.as_str()) {
                continue;
            }
            if let Some(r) = reverses(e) {
                void.insert(r.as_str());
            }
        }
        let mut v = View {
            as_of,
            agreements: BTreeMap::new(),
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
        };
        let mut stmt_index: BTreeMap<(&'a PartyId, &'a str), usize> = BTreeMap::new();
        for (seq, e) in visible {
            if void.contains(e.id.as_str()) {
                continue;
            }
            let on = e.effective_on;
            match &e.event {
                Event::Manufacture { to, sku, units, .. } => v.moves.push(UnitMove {
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
                    ..
                } => {
                    v.shipments.push(ShipRef {
                        date: on,
                        shipment_id,
                        from,
                        to,
                        sku,
                        units: *units,
                        po_number: po_number.as_deref(),
                    });
                    if from != to {
                        v.moves.push(UnitMove {
                            date: on,
                            holder: from,
                            sku,
                            delta: -i64_units(*units),
                        });
                        v.moves.push(UnitMove {
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
                                date: on,
                                holder: &st.distributor,
                                sku,
                                delta: l.units.saturating_mul(sign),
                            });
                        }
                    }
                    let r = StmtRef { seq, entry: e, st };
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
                }),
                Event::WriteOff {
                    holder, sku, units, ..
                } => v.moves.push(UnitMove {
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
                            date: on,
                            holder: from_holder,
                            sku,
                            delta: -i64_units(*units),
                        });
                    }
                    if to_owner.is_label() {
                        v.moves.push(UnitMove {
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
                    ..
                } => v.settlements.push(SettleRef {
                    seq,
                    date: on,
                    entry_id: e.id.as_str(),
                    distributor,
                    amount: *amount,
                    statement_id: Some(statement_id.as_str()),
                    reason: Some(*reason),
                }),
                Event::ReceivableWrittenOff {
                    distributor,
                    statement_id,
                    amount,
                    ..
                } => v.settlements.push(SettleRef {
                    seq,
                    date: on,
                    entry_id: e.id.as_str(),
                    distributor,
                    amount: *amount,
                    statement_id: statement_id.as_deref(),
                    reason: None,
                }),
                Event::BuyBack {
                    holder, sku, units, ..
                } => {
                    v.moves.push(UnitMove {
                        date: on,
                        holder,
                        sku,
                        delta: -i64_units(*units),
                    });
                    v.moves.push(UnitMove {
                        date: on,
                        holder: e_label(),
                        sku,
                        delta: i64_units(*units),
                    });
                }
                Event::Detention { .. } | Event::Correction { .. } | Event::RoyaltyRun(_) => {}
                Event::Fact(f) => match f {
                    Fact::Agreement(a) => {
                        v.agreements.insert(a.distributor.clone(), a);
                    }
                    Fact::CatalogItem(c) => {
                        v.catalog.insert(c.sku.clone(), c);
                    }
                    Fact::PurchaseOrder(po) if po.date <= as_of => v.pos.push(po),
                    Fact::StockReport(r) if r.as_of <= as_of => v.stock_reports.push(r),
                    Fact::ReceiptConfirmed(r) => v.receipts.push(r),
                    Fact::Ucc1Filing(f) if f.filed_on <= as_of => v.filings.push(f),
                    Fact::PmsiNotice(n) if n.sent_on <= as_of => v.notices.push(n),
                    Fact::Demand(d) if d.made_on <= as_of => v.demands.push(d),
                    Fact::DemandResponse(r) if r.answered_on <= as_of => v.responses.push(r),
                    Fact::DeductionDisputed(x) if x.disputed_on <= as_of => v.disputes.push(x),
                    _ => {}
                },
            }
        }
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
