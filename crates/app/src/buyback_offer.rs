//! A liquidator's offer to sell the label its own stock back (Allegro's: $1 a unit plus
//! shipping), weighed per SKU: what buying back costs (offer + its share of the
//! shipping, by units) against re-pressing the same units (the catalog's unit cost),
//! and how many the label can expect to sell (units sold over the last 12 months, at
//! every distributor, as the statements report them).
//!
//! Nothing is recorded: an accepted offer is recorded per SKU with `backstock buyback D
//! --sku S --units N --paid X` (units home, cash to the buy-back expense). Whether it
//! reduces the claim is the label's choice: the receivable is untouched unless it
//! writes part off (`backstock writeoff`).

use crate::deductions::Amount;
use crate::{AppError, Exit};
use backstock_domain::{Date, Money, PartyId, Sku};
use backstock_ledger::{Channel, LineKind};
use backstock_records::Records;
use backstock_store::query::StockFilter;
use backstock_store::Store;
use serde::Serialize;
use std::collections::BTreeMap;

/// The offer to weigh.
#[derive(Debug, Clone)]
pub struct Offer {
    pub distributor: PartyId,
    pub per_unit: Amount,
    /// Shipping for the whole lot (split over the SKUs by units).
    pub shipping: Option<Amount>,
    pub as_of: Option<Date>,
}

/// Buy it back, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Cheaper than re-pressing, and it sells.
    Buy,
    /// Cheaper than re-pressing, but the label sold none in a year: only what it needs.
    BuyWhatSells,
    /// Re-pressing costs less than the offer.
    Repress,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Buy => "buy",
            Verdict::BuyWhatSells => "buy what sells",
            Verdict::Repress => "re-press",
        }
    }
}

/// One SKU weighed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferLine {
    pub sku: Sku,
    pub title: String,
    pub units_held: i64,
    pub offer: Money,
    pub shipping: Money,
    /// offer + shipping.
    pub cost: Money,
    /// The catalog's unit cost × units.
    pub repress_cost: Money,
    /// repress_cost − cost (negative: re-pressing is cheaper).
    pub saving: Money,
    pub sold_last_12_months: i64,
    /// min(units held, sold in the last 12 months) × wholesale price.
    pub expected_sales_at_wholesale: Money,
    pub verdict: Verdict,
}

/// The offer weighed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferAnalysis {
    pub distributor: PartyId,
    pub as_of: Date,
    pub per_unit: Money,
    pub shipping: Money,
    pub lines: Vec<OfferLine>,
    pub units: i64,
    pub cost: Money,
    pub repress_cost: Money,
    /// The SKUs whose verdict is `buy`: units and what they cost.
    pub recommended_units: i64,
    pub recommended_cost: Money,
}

fn add(a: Money, b: Money) -> Money {
    a.checked_add(b).unwrap_or(a)
}

/// Weighs the offer for the units of the label `d` holds (on hand and detained).
pub async fn analyse(store: &Store, o: &Offer) -> Result<OfferAnalysis, AppError> {
    let as_of = match o.as_of {
        Some(d) => d,
        None => crate::risk::today(store).await?,
    };
    let snap = crate::risk::snapshot(store, as_of).await?;
    let view = Records::new(&snap.entries, as_of);
    let d = &o.distributor;
    let agreement = view
        .agreements
        .get(d)
        .ok_or_else(|| AppError::new(Exit::Input, format!("{d} has no agreement on record")))?;
    let cur = agreement.currency;
    let per_unit = o.per_unit.in_currency(cur, "the agreement")?;
    let shipping = match &o.shipping {
        Some(s) => s.in_currency(cur, "the agreement")?,
        None => Money::zero(cur),
    };
    if per_unit.minor() < 0 || shipping.minor() < 0 {
        return Err(AppError::new(
            Exit::Input,
            "--offer-per-unit and --shipping cannot be negative",
        ));
    }
    let rows = store
        .stock(&StockFilter {
            as_of: Some(as_of),
            owner: Some(PartyId::LABEL.into()),
            holder: Some(d.to_string()),
            ..Default::default()
        })
        .await?;
    let mut held: BTreeMap<Sku, i64> = BTreeMap::new();
    for r in rows {
        if let Ok(s) = Sku::parse(&r.sku) {
            *held.entry(s).or_default() += r.units;
        }
    }
    held.retain(|_, u| *u > 0);
    let year_ago = as_of.add_days(-365);
    let mut sold: BTreeMap<&Sku, i64> = BTreeMap::new();
    for s in &view.statements {
        if s.st.period_end <= year_ago {
            continue;
        }
        for l in s.st.lines.iter().filter(|l| l.channel == Channel::Physical) {
            let sign = match l.kind {
                LineKind::Sale => 1,
                LineKind::Return => -1,
                _ => continue,
            };
            if let Some(sku) = &l.sku {
                *sold.entry(sku).or_default() += sign * l.units;
            }
        }
    }
    let units: i64 = held.values().sum();
    let zero = Money::zero(cur);
    // Shipping split by units; the remainder of the split goes to the first SKUs.
    let mut ship_left = shipping.minor();
    let mut lines = Vec::new();
    let n = held.len();
    for (i, (sku, u)) in held.iter().enumerate() {
        let item = view.catalog.get(sku);
        let share = if i + 1 == n {
            ship_left
        } else if units > 0 {
            let s =
                i64::try_from(i128::from(shipping.minor()) * i128::from(*u) / i128::from(units))
                    .unwrap_or(0);
            ship_left -= s;
            s
        } else {
            0
        };
        let ship = Money::from_minor(share, cur);
        let offer = per_unit.checked_mul_units(*u).unwrap_or(zero);
        let cost = add(offer, ship);
        let repress = item
            .map(|c| c.unit_cost)
            .filter(|c| c.currency() == cur)
            .and_then(|c| c.checked_mul_units(*u).ok())
            .unwrap_or(zero);
        let saving = repress.checked_sub(cost).unwrap_or(zero);
        let sold12 = sold.get(sku).copied().unwrap_or(0).max(0);
        let expected = item
            .map(|c| c.wholesale_price)
            .filter(|c| c.currency() == cur)
            .and_then(|c| c.checked_mul_units((*u).min(sold12)).ok())
            .unwrap_or(zero);
        let verdict = if saving.minor() < 0 {
            Verdict::Repress
        } else if sold12 == 0 {
            Verdict::BuyWhatSells
        } else {
            Verdict::Buy
        };
        lines.push(OfferLine {
            sku: sku.clone(),
            title: item.map(|c| c.title.clone()).unwrap_or_default(),
            units_held: *u,
            offer,
            shipping: ship,
            cost,
            repress_cost: repress,
            saving,
            sold_last_12_months: sold12,
            expected_sales_at_wholesale: expected,
            verdict,
        });
    }
    let cost = lines.iter().fold(zero, |a, l| add(a, l.cost));
    let repress_cost = lines.iter().fold(zero, |a, l| add(a, l.repress_cost));
    let rec: Vec<&OfferLine> = lines.iter().filter(|l| l.verdict == Verdict::Buy).collect();
    Ok(OfferAnalysis {
        distributor: d.clone(),
        as_of,
        per_unit,
        shipping,
        units,
        cost,
        repress_cost,
        recommended_units: rec.iter().map(|l| l.units_held).sum(),
        recommended_cost: rec.iter().fold(zero, |a, l| add(a, l.cost)),
        lines,
    })
}
