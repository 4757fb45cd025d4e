//! Small builders for hand-made timelines in tests.

#![allow(dead_code)]

use crate::Snapshot;
use backstock_domain::{Currency, Date, Money, PartyId, Rate, Sku};
use backstock_ledger::facts::{
    Agreement, CatalogItem, Demand, DemandKind, DemandOutcome, DemandResponse, PmsiNotice,
    PurchaseOrder, ReceiptConfirmed, StatementFrequency, StockReport, StockReportSource,
    Ucc1Filing,
};
use backstock_ledger::{
    Channel, Entry, EntryId, Event, Fact, LineKind, Provenance, Statement, StatementLine,
};

pub fn d(s: &str) -> Date {
    Date::parse(s).expect("test date")
}
pub fn p(s: &str) -> PartyId {
    PartyId::parse(s).expect("test party")
}
pub fn sku(s: &str) -> Sku {
    Sku::parse(s).expect("test sku")
}
pub fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}
pub fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::parse("EUR").expect("eur"))
}

pub fn sale(s: &str, units: i64, minor: i64) -> StatementLine {
    StatementLine {
        kind: LineKind::Sale,
        sku: Some(sku(s)),
        units,
        amount_minor: minor,
        channel: Channel::Physical,
    }
}
pub fn ret(s: &str, units: i64, minor: i64) -> StatementLine {
    StatementLine {
        kind: LineKind::Return,
        sku: Some(sku(s)),
        units,
        amount_minor: minor,
        channel: Channel::Physical,
    }
}
/// A digital sale: money, no units leave a warehouse.
pub fn digital(s: &str, units: i64, minor: i64) -> StatementLine {
    StatementLine {
        channel: Channel::Digital,
        ..sale(s, units, minor)
    }
}
pub fn line(kind: LineKind, minor: i64) -> StatementLine {
    StatementLine {
        kind,
        sku: None,
        units: 0,
        amount_minor: minor,
        channel: Channel::Physical,
    }
}

pub fn agreement(dist: &str, start: &str) -> Agreement {
    Agreement {
        distributor: p(dist),
        legal_name: format!("{dist} Distribution LLC"),
        state_of_organization: "OR".into(),
        agreement_start: d(start),
        fee_rate: Rate::parse("0.22").expect("rate"),
        payment_terms_days: 60,
        statement_frequency: StatementFrequency::Monthly,
        reserve_rate: Rate::parse("0.2").expect("rate"),
        reserve_release_days: 180,
        credit_limit: usd(5_000_000),
        currency: Currency::USD,
        title_retained: true,
        payment_months: Default::default(),
    }
}

/// A timeline of entries in recording order.
#[derive(Default, Clone)]
pub struct Tl {
    pub entries: Vec<Entry>,
}

impl Tl {
    pub fn new() -> Tl {
        Tl::default()
    }

    pub fn push(&mut self, on: Date, known: Date, event: Event) -> &mut Tl {
        let id = EntryId::new(format!("e{}", self.entries.len() + 1)).expect("id");
        self.entries.push(Entry {
            id,
            effective_on: on,
            known_on: known,
            provenance: Provenance::Demo,
            event,
        });
        self
    }

    pub fn fact(&mut self, on: &str, f: Fact) -> &mut Tl {
        self.push(d(on), d(on), Event::Fact(f))
    }

    pub fn agreement(&mut self, a: Agreement) -> &mut Tl {
        let on = a.agreement_start.to_string();
        self.fact(&on, Fact::Agreement(a))
    }

    /// `dist` monthly from 2019, quarterly from 2020-07-01; statements for January,
    /// February and the third quarter of 2020 (March to June never came).
    pub fn monthly_then_quarterly(&mut self, dist: &str) -> &mut Tl {
        self.agreement(agreement(dist, "2019-01-01"));
        let mut q = agreement(dist, "2020-07-01");
        q.statement_frequency = backstock_ledger::facts::StatementFrequency::Quarterly;
        self.agreement(q)
            .statement("M1", dist, "2020-01-01", "2020-01-31", "2020-02-15", vec![])
            .statement("M2", dist, "2020-02-01", "2020-02-29", "2020-03-15", vec![])
            .statement("Q3", dist, "2020-07-01", "2020-09-30", "2020-10-20", vec![])
    }

    pub fn catalog(&mut self, s: &str, wholesale: i64, cost: i64) -> &mut Tl {
        self.fact(
            "2010-01-01",
            Fact::CatalogItem(CatalogItem {
                sku: sku(s),
                upc: None,
                title: format!("Title {s}"),
                artist: "Artist".into(),
                format: "CD".into(),
                release_date: None,
                list_price: usd(wholesale.saturating_mul(2)),
                wholesale_price: usd(wholesale),
                unit_cost: usd(cost),
            }),
        )
    }

    pub fn make(&mut self, on: &str, s: &str, units: u64) -> &mut Tl {
        self.push(
            d(on),
            d(on),
            Event::Manufacture {
                run_id: format!("run-{on}-{s}"),
                plant: p("plant:optimal"),
                to: PartyId::label(),
                sku: sku(s),
                units,
            },
        )
    }

    pub fn ship(
        &mut self,
        id: &str,
        on: &str,
        from: &str,
        to: &str,
        s: &str,
        units: u64,
    ) -> &mut Tl {
        self.ship_po(id, on, from, to, s, units, None)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn ship_po(
        &mut self,
        id: &str,
        on: &str,
        from: &str,
        to: &str,
        s: &str,
        units: u64,
        po: Option<&str>,
    ) -> &mut Tl {
        self.push(
            d(on),
            d(on),
            Event::Shipment {
                shipment_id: id.into(),
                from: p(from),
                to: p(to),
                sku: sku(s),
                units,
                po_number: po.map(str::to_string),
                override_reason: None,
            },
        )
    }

    /// A statement in USD for [start, end], received on `known`.
    pub fn statement(
        &mut self,
        id: &str,
        dist: &str,
        start: &str,
        end: &str,
        known: &str,
        lines: Vec<StatementLine>,
    ) -> &mut Tl {
        self.statement_in(id, dist, start, end, known, Currency::USD, lines)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn statement_in(
        &mut self,
        id: &str,
        dist: &str,
        start: &str,
        end: &str,
        known: &str,
        currency: Currency,
        lines: Vec<StatementLine>,
    ) -> &mut Tl {
        self.push(
            d(end),
            d(known),
            Event::Statement(Statement {
                statement_id: id.into(),
                distributor: p(dist),
                period_start: d(start),
                period_end: d(end),
                issued_on: d(known),
                currency,
                lines,
            }),
        )
    }

    pub fn pay(
        &mut self,
        id: &str,
        on: &str,
        dist: &str,
        amount: Money,
        stmt: Option<&str>,
    ) -> &mut Tl {
        self.push(
            d(on),
            d(on),
            Event::PaymentReceived {
                payment_id: id.into(),
                distributor: p(dist),
                amount,
                statement_id: stmt.map(str::to_string),
            },
        )
    }

    pub fn po(&mut self, num: &str, on: &str, dist: &str, s: &str, units: u64) -> &mut Tl {
        self.fact(
            on,
            Fact::PurchaseOrder(PurchaseOrder {
                po_number: num.into(),
                date: d(on),
                distributor: p(dist),
                sku: sku(s),
                units,
            }),
        )
    }

    pub fn stock_report(&mut self, dist: &str, as_of: &str, s: &str, units: i64) -> &mut Tl {
        self.fact(
            as_of,
            Fact::StockReport(StockReport {
                distributor: p(dist),
                as_of: d(as_of),
                sku: sku(s),
                units_on_hand: units,
                source: StockReportSource::Csv,
            }),
        )
    }

    pub fn receipt(
        &mut self,
        on: &str,
        shipment: &str,
        dist: &str,
        s: &str,
        units: u64,
    ) -> &mut Tl {
        self.fact(
            on,
            Fact::ReceiptConfirmed(ReceiptConfirmed {
                shipment_id: shipment.into(),
                distributor: p(dist),
                sku: sku(s),
                units,
            }),
        )
    }

    pub fn ucc(
        &mut self,
        dist: &str,
        number: &str,
        state: &str,
        filed: &str,
        continues: Option<&str>,
    ) -> &mut Tl {
        self.fact(
            filed,
            Fact::Ucc1Filing(Ucc1Filing {
                distributor: p(dist),
                file_number: number.into(),
                state: state.into(),
                filed_on: d(filed),
                continues: continues.map(str::to_string),
            }),
        )
    }

    pub fn pmsi(&mut self, dist: &str, party: &str, sent: &str, received: Option<&str>) -> &mut Tl {
        self.fact(
            sent,
            Fact::PmsiNotice(PmsiNotice {
                distributor: p(dist),
                secured_party: party.into(),
                sent_on: d(sent),
                received_on: received.map(d),
            }),
        )
    }

    pub fn demand(&mut self, id: &str, dist: &str, made: &str) -> &mut Tl {
        self.fact(
            made,
            Fact::Demand(Demand {
                demand_id: id.into(),
                distributor: p(dist),
                kind: DemandKind::Return,
                transfer_to: None,
                sku: None,
                units: None,
                made_on: d(made),
                via: "certified mail".into(),
            }),
        )
    }

    pub fn response(&mut self, id: &str, on: &str, outcome: DemandOutcome) -> &mut Tl {
        self.fact(
            on,
            Fact::DemandResponse(DemandResponse {
                demand_id: id.into(),
                answered_on: d(on),
                outcome,
                note: "we are reviewing our options".into(),
            }),
        )
    }

    /// `months` monthly statements from `first_month` (YYYY-MM-01), each selling `units`
    /// of `s` for `minor`, received 15 days after the month; paid in full `pay_delay(i)`
    /// days after the due date (60 days after month end), or never when `None`.
    #[allow(clippy::too_many_arguments)]
    pub fn monthly(
        &mut self,
        dist: &str,
        first_month: &str,
        months: i32,
        s: &str,
        units: i64,
        minor: i64,
        pay_delay: impl Fn(i32) -> Option<i32>,
    ) -> &mut Tl {
        self.monthly_with(dist, first_month, months, s, units, minor, 60, |i| {
            pay_delay(i).map(|delay| (delay, minor))
        })
    }

    /// Like [`Tl::monthly`] with `terms` days and `pay(i) = (days after due, amount)`.
    /// Statement ids are `{dist}-YYYY-MM`, payment ids `pay-{statement id}`.
    #[allow(clippy::too_many_arguments)]
    pub fn monthly_with(
        &mut self,
        dist: &str,
        first_month: &str,
        months: i32,
        s: &str,
        units: i64,
        minor: i64,
        terms: i32,
        pay: impl Fn(i32) -> Option<(i32, i64)>,
    ) -> &mut Tl {
        let first = d(first_month);
        for i in 0..months {
            let start = first.add_months(i);
            let end = start.last_of_month();
            let known = end.add_days(15);
            let id = format!("{dist}-{}", start.to_string().get(..7).unwrap_or("x"));
            self.statement(
                &id,
                dist,
                &start.to_string(),
                &end.to_string(),
                &known.to_string(),
                vec![sale(s, units, minor)],
            );
            if let Some((delay, amount)) = pay(i) {
                let due = end.add_days(terms);
                let on = due.add_days(delay).max(known);
                self.pay(
                    &format!("pay-{id}"),
                    &on.to_string(),
                    dist,
                    usd(amount),
                    Some(&id),
                );
            }
        }
        self.sort();
        self
    }

    /// Puts entries in date order (max of effective and known), keeping recording order
    /// among equal dates, as a journal recorded day by day would be.
    pub fn sort(&mut self) -> &mut Tl {
        self.entries.sort_by_key(|e| e.effective_on.max(e.known_on));
        self
    }

    /// Drops the statement `id` and payments naming it.
    pub fn drop_statement(&mut self, id: &str) -> &mut Tl {
        self.entries.retain(|e| match &e.event {
            Event::Statement(st) => st.statement_id != id,
            Event::PaymentReceived { statement_id, .. } => statement_id.as_deref() != Some(id),
            _ => true,
        });
        self
    }

    /// The statement `id` reaches the label on `known` instead.
    pub fn receive_late(&mut self, id: &str, known: &str) -> &mut Tl {
        for e in &mut self.entries {
            if let Event::Statement(st) = &mut e.event {
                if st.statement_id == id {
                    st.issued_on = d(known);
                    e.known_on = d(known);
                }
            }
        }
        self.sort()
    }

    pub fn snap(&self, as_of: &str) -> Snapshot {
        Snapshot::from_entries(d(as_of), self.entries.clone())
    }
}
