//! Mapping of 852 / 846 / 867 transaction sets to flat [`ItemReport`] records.

use crate::date::Date8;
use crate::envelope::{FunctionalGroup, Interchange, Transaction};
use crate::error::Errors;
use crate::lexer::Segment;
use crate::num::{is_decimal, whole_number};

/// Which transaction set an [`ItemReport`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionSet {
    /// 852 Product Activity Data.
    Ts852,
    /// 846 Inventory Inquiry/Advice.
    Ts846,
    /// 867 Product Transfer and Resale Report.
    Ts867,
}

impl TransactionSet {
    /// The ST01 code: `"852"`, `"846"` or `"867"`.
    pub fn code(self) -> &'static str {
        match self {
            TransactionSet::Ts852 => "852",
            TransactionSet::Ts846 => "846",
            TransactionSet::Ts867 => "867",
        }
    }
}

/// What the reported quantity counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activity {
    Sold,
    Returned,
    Received,
    OnHand,
}

/// The scheme of a product identifier, from its X12 qualifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemIdKind {
    /// `UP`: UPC (12 digits).
    Upc,
    /// `EN`: EAN (13 digits).
    Ean,
    /// `UK`: GTIN-14.
    Gtin,
    /// `VN`: the vendor's (label's) item number, e.g. a catalog number.
    VendorItem,
    /// `IN`: the buyer's item number.
    BuyerItem,
    /// `IB`: ISBN.
    Isbn,
    /// Any other qualifier, as written.
    Other(String),
}

impl ItemIdKind {
    /// The kind for an X12 product id qualifier (element 235).
    pub fn from_qualifier(qualifier: &str) -> ItemIdKind {
        match qualifier {
            "UP" => ItemIdKind::Upc,
            "EN" => ItemIdKind::Ean,
            "UK" => ItemIdKind::Gtin,
            "VN" => ItemIdKind::VendorItem,
            "IN" => ItemIdKind::BuyerItem,
            "IB" => ItemIdKind::Isbn,
            other => ItemIdKind::Other(other.to_string()),
        }
    }

    /// The X12 qualifier for this kind.
    pub fn qualifier(&self) -> &str {
        match self {
            ItemIdKind::Upc => "UP",
            ItemIdKind::Ean => "EN",
            ItemIdKind::Gtin => "UK",
            ItemIdKind::VendorItem => "VN",
            ItemIdKind::BuyerItem => "IN",
            ItemIdKind::Isbn => "IB",
            ItemIdKind::Other(q) => q,
        }
    }

    /// Preference when a LIN carries several ids: UP > EN > UK > VN > IN > IB > others.
    fn rank(&self) -> u8 {
        match self {
            ItemIdKind::Upc => 0,
            ItemIdKind::Ean => 1,
            ItemIdKind::Gtin => 2,
            ItemIdKind::VendorItem => 3,
            ItemIdKind::BuyerItem => 4,
            ItemIdKind::Isbn => 5,
            ItemIdKind::Other(_) => 6,
        }
    }
}

/// A product identifier: scheme and value as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemId {
    pub kind: ItemIdKind,
    pub value: String,
}

/// One quantity for one item (and location) from an 852, 846 or 867.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemReport {
    pub transaction_set: TransactionSet,
    /// ST02 of the transaction set.
    pub control_number: String,
    /// Who sent the report: the name (else id) of the header N1 with entity code FR,
    /// DS, BY or RL (in that preference), else GS02, else ISA06.
    pub reporter: Option<String>,
    /// 852: XQ02 / XQ03 (XQ02 for both when XQ03 is absent). 846: BIA04 for both.
    /// 867: DTM*090 / DTM*091 (in the PTD loop, else in the header), else BPT03.
    pub period_start: Option<Date8>,
    pub period_end: Option<Date8>,
    /// The preferred id of the LIN (UP > EN > UK > VN > IN > IB > others).
    pub item: ItemId,
    /// The LIN's other ids, in the order written.
    pub alternates: Vec<ItemId>,
    /// PID05 free-form description, if any.
    pub description: Option<String>,
    pub activity: Activity,
    /// Units exactly as reported (negative values are kept; returns are *not*
    /// sign-flipped: `activity` says what the number counts).
    pub quantity: i64,
    /// Unit of measure (ZA03, SDQ01, QTY03), if given.
    pub unit: Option<String>,
    /// 852: the SDQ location id. 846: the N1 in the LIN loop. 867: the N1 in the PTD
    /// loop. Otherwise a header N1 with entity code ST, RL, WH, SN or LC. N1 gives
    /// its id (N104) or else its name (N102).
    pub location: Option<String>,
    /// Unit price exactly as written (CTP03, or UIT02 in an 867), if any. When the
    /// item has several, the first that is not a retail price ([`is_retail_price`]).
    pub unit_price: Option<String>,
    /// What that price is, as written: CTP02 (`WHL` wholesale, `UCP` unit cost, `RES`
    /// resale/retail, …) or UIT03 (`WE` wholesale each, `RE` retail each, …).
    pub price_qualifier: Option<String>,
    /// The quantity's qualifier as written (ZA01 `QS`, `QA`…; QTY01 `17`, `33`…):
    /// which count of on-hand units this is, when a report gives several.
    pub qualifier: String,
    /// 867 AMT02 (monetary amount for the line) exactly as written, if any.
    pub amount: Option<String>,
    /// CUR02 currency code, if the transaction set has a CUR segment.
    pub currency: Option<String>,
    /// GS04: the day the functional group was sent, if it is a valid date (when the
    /// label can first have known what the report says).
    pub sent_on: Option<Date8>,
    /// Line of the segment the quantity came from (ZA, SDQ or QTY).
    pub line: usize,
    /// Segment number of that segment in the input.
    pub segment: usize,
    /// 1-based byte column of that segment's first byte (an X12 file is often one
    /// line: the line alone does not find it).
    pub column: usize,
    /// That segment's tag (`ZA`, `SDQ`, `QTY`).
    pub segment_id: String,
}

// ---------------------------------------------------------------------------
// Shared pieces

const REPORTER_CODES: [&str; 4] = ["FR", "DS", "BY", "RL"];
const LOCATION_CODES: [&str; 5] = ["ST", "RL", "WH", "SN", "LC"];

#[derive(Debug, Clone)]
struct Item {
    id: ItemId,
    alternates: Vec<ItemId>,
    description: Option<String>,
    /// (price, its qualifier).
    price: Option<(String, Option<String>)>,
    location: Option<String>,
}

/// Whether a price qualifier (CTP02 or UIT03) says the price is a retail or list
/// price — what a store charged its customer, not what the distributor owes the
/// label: `RES` resale, `RTL` retail, `MSR` manufacturer's suggested retail, `SLP`
/// suggested list, `LPR` list, UIT03 `RE` retail per each.
pub fn is_retail_price(qualifier: &str) -> bool {
    matches!(
        qualifier.trim().to_ascii_uppercase().as_str(),
        "RES" | "RTL" | "MSR" | "SLP" | "LPR" | "RE"
    )
}

#[derive(Debug, Clone)]
enum ItemState {
    /// No LIN yet.
    Missing,
    /// A LIN that could not be read (already reported).
    Invalid,
    Valid(Box<Item>),
}

impl ItemState {
    fn item_mut(&mut self) -> Option<&mut Item> {
        match self {
            ItemState::Valid(item) => Some(item),
            _ => None,
        }
    }
}

/// Everything an [`ItemReport`] takes from the transaction set as a whole.
struct Context<'a> {
    set: TransactionSet,
    transaction: &'a Transaction,
    reporter: Option<String>,
    currency: Option<String>,
    sent_on: Option<Date8>,
}

struct Quantity<'a> {
    activity: Activity,
    quantity: i64,
    unit: Option<String>,
    location: Option<String>,
    period: (Option<Date8>, Option<Date8>),
    amount: Option<String>,
    source: &'a Segment,
}

impl Context<'_> {
    fn report(&self, item: &Item, q: Quantity<'_>) -> ItemReport {
        ItemReport {
            transaction_set: self.set,
            control_number: self.transaction.control_number.clone(),
            reporter: self.reporter.clone(),
            period_start: q.period.0,
            period_end: q.period.1,
            item: item.id.clone(),
            alternates: item.alternates.clone(),
            description: item.description.clone(),
            activity: q.activity,
            quantity: q.quantity,
            unit: q.unit,
            location: q.location,
            unit_price: item.price.as_ref().map(|p| p.0.clone()),
            price_qualifier: item.price.as_ref().and_then(|p| p.1.clone()),
            qualifier: q.source.element(1).unwrap_or("").to_string(),
            amount: q.amount,
            currency: self.currency.clone(),
            sent_on: self.sent_on,
            line: q.source.line,
            segment: q.source.number,
            column: q.source.column,
            segment_id: q.source.id.clone(),
        }
    }
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_string)
}

/// The header N1 that best names the sender, else the envelope sender ids.
fn reporter(
    transaction: &Transaction,
    group: &FunctionalGroup,
    interchange: &Interchange,
) -> Option<String> {
    let header = transaction
        .body()
        .iter()
        .take_while(|s| !matches!(s.id.as_str(), "LIN" | "PTD" | "LX"));
    let mut best: Option<(usize, String)> = None;
    for segment in header.filter(|s| s.id == "N1") {
        let Some(rank) = segment
            .element(1)
            .and_then(|code| REPORTER_CODES.iter().position(|c| *c == code))
        else {
            continue;
        };
        let Some(name) = segment.element(2).or_else(|| segment.element(4)) else {
            continue;
        };
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, name.to_string()));
        }
    }
    best.map(|(_, name)| name)
        .or_else(|| Some(group.sender.trim().to_string()).filter(|s| !s.is_empty()))
        .or_else(|| Some(interchange.sender_id.trim().to_string()).filter(|s| !s.is_empty()))
}

fn currency(transaction: &Transaction) -> Option<String> {
    transaction
        .body()
        .iter()
        .find(|s| s.id == "CUR")
        .and_then(|s| owned(s.element(2)))
}

/// N104 (id), else N102 (name).
fn n1_location(segment: &Segment) -> Option<String> {
    owned(segment.element(4).or_else(|| segment.element(2)))
}

fn is_location_n1(segment: &Segment) -> bool {
    segment
        .element(1)
        .is_some_and(|code| LOCATION_CODES.contains(&code))
}

/// Reads the product ids of a LIN (qualifier/value pairs from LIN02 on).
fn parse_lin(segment: &Segment, errors: &mut Errors) -> ItemState {
    let mut ids: Vec<ItemId> = Vec::new();
    let mut ok = true;
    let mut n = 2;
    while n <= segment.element_count() {
        match (segment.element(n), segment.element(n + 1)) {
            (Some(qualifier), Some(value)) => ids.push(ItemId {
                kind: ItemIdKind::from_qualifier(qualifier),
                value: value.to_string(),
            }),
            (Some(qualifier), None) => {
                ok = false;
                errors.push(segment.error(
                    Some(n + 1),
                    "",
                    format!("a product id after the qualifier {qualifier:?}"),
                ));
            }
            (None, Some(value)) => {
                ok = false;
                errors.push(segment.error(
                    Some(n),
                    "",
                    format!("a product id qualifier (such as UP or EN) before {value:?}"),
                ));
            }
            (None, None) => {}
        }
        n += 2;
    }
    if ids.is_empty() {
        if ok {
            errors.push(segment.error(
                Some(2),
                segment.element(2).unwrap_or(""),
                "at least one product id qualifier/value pair, such as UP*012345678905",
            ));
        }
        return ItemState::Invalid;
    }
    if !ok {
        return ItemState::Invalid;
    }
    let best = ids
        .iter()
        .enumerate()
        .min_by_key(|(i, id)| (id.kind.rank(), *i))
        .map_or(0, |(i, _)| i);
    let id = ids.remove(best);
    ItemState::Valid(Box::new(Item {
        id,
        alternates: ids,
        description: None,
        price: None,
        location: None,
    }))
}

fn date(segment: &Segment, n: usize, errors: &mut Errors) -> Option<Date8> {
    let text = segment.element(n)?;
    let date = Date8::parse(text);
    if date.is_none() {
        errors.push(segment.error(
            Some(n),
            text,
            "a calendar date written CCYYMMDD (or YYMMDD)",
        ));
    }
    date
}

fn quantity(segment: &Segment, n: usize, errors: &mut Errors) -> Option<i64> {
    let text = segment.element(n).unwrap_or("");
    let value = whole_number(text);
    if value.is_none() {
        errors.push(segment.error(Some(n), text, "a whole number of units"));
    }
    value
}

fn price(segment: &Segment, n: usize, errors: &mut Errors) -> Option<String> {
    let text = segment.element(n)?;
    if is_decimal(text) {
        Some(text.to_string())
    } else {
        errors.push(segment.error(Some(n), text, "a decimal amount such as 9.99"));
        None
    }
}

fn describe(item: &mut ItemState, segment: &Segment) {
    if let Some(item) = item.item_mut() {
        if item.description.is_none() {
            item.description = owned(segment.element(5));
        }
    }
}

/// The item's price from element `n`, its qualifier in element `q`: the first
/// given, unless it is a retail price and a later one is not.
fn set_price(item: &mut ItemState, segment: &Segment, n: usize, q: usize, errors: &mut Errors) {
    if let Some(item) = item.item_mut() {
        let Some(found) = price(segment, n, errors) else {
            return;
        };
        let qualifier = owned(segment.element(q));
        let retail = |p: &Option<String>| p.as_deref().is_some_and(is_retail_price);
        let replace = match &item.price {
            None => true,
            Some((_, old)) => retail(old) && !retail(&qualifier),
        };
        if replace {
            item.price = Some((found, qualifier));
        }
    }
}

fn missing_item(segment: &Segment, errors: &mut Errors) {
    errors.push(segment.error(
        None,
        &segment.id,
        format!(
            "a LIN segment identifying the item before this {}",
            segment.id
        ),
    ));
}

// ---------------------------------------------------------------------------
// 852 Product Activity Data

fn za_activity(code: &str) -> Option<Activity> {
    match code {
        "QS" => Some(Activity::Sold),
        "QU" | "Q2" => Some(Activity::Returned),
        "QR" => Some(Activity::Received),
        "QA" | "OH" | "QE" => Some(Activity::OnHand),
        _ => None,
    }
}

struct ZaLoop<'a> {
    za: &'a Segment,
    sdqs: Vec<&'a Segment>,
    /// The period (XQ) in force where the ZA stands: a later XQ opens another
    /// period, it does not move this one.
    period: (Option<Date8>, Option<Date8>),
}

/// Per-location quantities of an SDQ: (location, quantity, unit).
fn sdq_quantities(sdq: &Segment, errors: &mut Errors) -> Option<Vec<(String, i64)>> {
    let mut out = Vec::new();
    let mut ok = true;
    for n in (3..=21).step_by(2) {
        match (
            sdq.element(n),
            sdq.raw_element(n + 1).map(|s| s.trim_matches(' ')),
        ) {
            (Some(location), Some(text)) if !text.is_empty() => match whole_number(text) {
                Some(q) => out.push((location.to_string(), q)),
                None => {
                    ok = false;
                    errors.push(sdq.error(Some(n + 1), text, "a whole number of units"));
                }
            },
            (Some(location), _) => {
                ok = false;
                errors.push(sdq.error(
                    Some(n + 1),
                    "",
                    format!("a whole number of units for location {location:?}"),
                ));
            }
            (None, Some(text)) if !text.is_empty() => {
                ok = false;
                errors.push(sdq.error(
                    Some(n),
                    "",
                    format!("a location id before the quantity {text:?}"),
                ));
            }
            _ => {}
        }
    }
    if out.is_empty() && ok {
        ok = false;
        errors.push(sdq.error(
            Some(3),
            "",
            "at least one location/quantity pair from SDQ03 on",
        ));
    }
    ok.then_some(out)
}

struct Pending {
    reports: Vec<ItemReport>,
}

fn close_za(
    za_loop: Option<ZaLoop<'_>>,
    item: &ItemState,
    ctx: &Context<'_>,
    header_location: &Option<String>,
    pending: &mut Pending,
    errors: &mut Errors,
) {
    let Some(ZaLoop { za, sdqs, period }) = za_loop else {
        return;
    };
    let Some(activity) = za.element(1).and_then(za_activity) else {
        return;
    };
    let item = match item {
        ItemState::Valid(item) => item,
        ItemState::Invalid => return,
        ItemState::Missing => return missing_item(za, errors),
    };
    let unit = owned(za.element(3));
    let total = match za.element(2) {
        Some(_) => match quantity(za, 2, errors) {
            Some(q) => Some(q),
            None => return,
        },
        None => None,
    };
    if sdqs.is_empty() {
        let Some(total) = total else {
            errors.push(za.error(
                Some(2),
                "",
                "a quantity in ZA02 or in SDQ segments after the ZA",
            ));
            return;
        };
        pending.reports.push(ctx.report(
            item,
            Quantity {
                activity,
                quantity: total,
                unit,
                location: header_location.clone(),
                period,
                amount: None,
                source: za,
            },
        ));
        return;
    }
    let mut rows = Vec::new();
    let mut ok = true;
    for sdq in &sdqs {
        match sdq_quantities(sdq, errors) {
            Some(pairs) => rows.extend(pairs.into_iter().map(|(l, q)| (l, q, *sdq))),
            None => ok = false,
        }
    }
    if !ok {
        return;
    }
    if let Some(total) = total {
        let sum: i128 = rows.iter().map(|(_, q, _)| i128::from(*q)).sum();
        if sum != i128::from(total) {
            errors.push(za.error(
                Some(2),
                za.element(2).unwrap_or(""),
                format!("{sum}, the sum of the SDQ quantities that follow"),
            ));
            return;
        }
    }
    for (location, q, sdq) in rows {
        pending.reports.push(ctx.report(
            item,
            Quantity {
                activity,
                quantity: q,
                unit: owned(sdq.element(1)).or_else(|| unit.clone()),
                location: Some(location),
                period,
                amount: None,
                source: sdq,
            },
        ));
    }
}

/// Fills in what the LIN loop learned after its quantities (price, description).
fn finish_item(item: &ItemState, pending: &mut Pending, out: &mut Vec<ItemReport>) {
    if let ItemState::Valid(item) = item {
        for mut report in pending.reports.drain(..) {
            if report.unit_price.is_none() {
                report.unit_price = item.price.as_ref().map(|p| p.0.clone());
                report.price_qualifier = item.price.as_ref().and_then(|p| p.1.clone());
            }
            if report.description.is_none() {
                report.description = item.description.clone();
            }
            out.push(report);
        }
    }
    pending.reports.clear();
}

fn map_852(ctx: &Context<'_>, errors: &mut Errors, out: &mut Vec<ItemReport>) {
    let mut period = (None, None);
    let mut header_location = None;
    let mut item = ItemState::Missing;
    let mut pending = Pending {
        reports: Vec::new(),
    };
    let mut za: Option<ZaLoop<'_>> = None;
    for segment in ctx.transaction.body() {
        match segment.id.as_str() {
            "XQ" => {
                let start = date(segment, 2, errors);
                let end = match segment.element(3) {
                    Some(_) => date(segment, 3, errors),
                    None => start,
                };
                period = (start, end);
            }
            "N1" if matches!(item, ItemState::Missing) && is_location_n1(segment) => {
                header_location = n1_location(segment);
            }
            "LIN" => {
                close_za(
                    za.take(),
                    &item,
                    ctx,
                    &header_location,
                    &mut pending,
                    errors,
                );
                finish_item(&item, &mut pending, out);
                item = parse_lin(segment, errors);
            }
            "PID" => describe(&mut item, segment),
            "CTP" => set_price(&mut item, segment, 3, 2, errors),
            "ZA" => {
                close_za(
                    za.take(),
                    &item,
                    ctx,
                    &header_location,
                    &mut pending,
                    errors,
                );
                za = Some(ZaLoop {
                    za: segment,
                    sdqs: Vec::new(),
                    period,
                });
            }
            "SDQ" => match za.as_mut() {
                Some(open) => open.sdqs.push(segment),
                None => errors.push(segment.error(
                    None,
                    "SDQ",
                    "a ZA segment (the activity the SDQ quantities belong to) before SDQ",
                )),
            },
            _ => {}
        }
    }
    close_za(
        za.take(),
        &item,
        ctx,
        &header_location,
        &mut pending,
        errors,
    );
    finish_item(&item, &mut pending, out);
}

// ---------------------------------------------------------------------------
// 846 Inventory Inquiry/Advice

const ON_HAND_QTY: [&str; 3] = ["33", "17", "OH"];

fn map_846(ctx: &Context<'_>, errors: &mut Errors, out: &mut Vec<ItemReport>) {
    let mut period = (None, None);
    let mut header_location = None;
    let mut item = ItemState::Missing;
    let mut pending = Pending {
        reports: Vec::new(),
    };
    for segment in ctx.transaction.body() {
        match segment.id.as_str() {
            "BIA" => {
                let d = date(segment, 4, errors);
                period = (d, d);
            }
            "N1" => match &mut item {
                ItemState::Missing => {
                    if is_location_n1(segment) {
                        header_location = n1_location(segment);
                    }
                }
                ItemState::Valid(item) => item.location = n1_location(segment),
                ItemState::Invalid => {}
            },
            "LIN" => {
                finish_item(&item, &mut pending, out);
                item = parse_lin(segment, errors);
            }
            "PID" => describe(&mut item, segment),
            "CTP" => set_price(&mut item, segment, 3, 2, errors),
            "QTY" => {
                if !segment.element(1).is_some_and(|q| ON_HAND_QTY.contains(&q)) {
                    continue;
                }
                let current = match &item {
                    ItemState::Valid(item) => item,
                    ItemState::Invalid => continue,
                    ItemState::Missing => {
                        missing_item(segment, errors);
                        continue;
                    }
                };
                if let Some(q) = quantity(segment, 2, errors) {
                    pending.reports.push(
                        ctx.report(
                            current,
                            Quantity {
                                activity: Activity::OnHand,
                                quantity: q,
                                unit: segment
                                    .components(3)
                                    .first()
                                    .filter(|u| !u.is_empty())
                                    .map(|u| u.to_string()),
                                location: current
                                    .location
                                    .clone()
                                    .or_else(|| header_location.clone()),
                                period,
                                amount: None,
                                source: segment,
                            },
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    finish_item(&item, &mut pending, out);
}

// ---------------------------------------------------------------------------
// 867 Product Transfer and Resale Report

const SOLD_QTY: [&str; 4] = ["32", "39", "72", "01"];

fn ptd_activity(code: &str) -> Option<Activity> {
    match code {
        "SS" | "DS" | "CS" | "SD" => Some(Activity::Sold),
        "BN" | "RU" | "RV" | "BR" | "RT" => Some(Activity::Returned),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// LIN, then its QTYs (the common implementation-guide layout).
    LinFirst,
    /// QTY, then the LIN it counts (the 004010 QTY loop).
    QtyFirst,
}

struct Group<'a> {
    item: ItemState,
    has_lin: bool,
    /// Each QTY with the AMT that follows it (an AMT is the amount of the quantity
    /// before it, never of every quantity of the item).
    quantities: Vec<(&'a Segment, Option<String>)>,
    /// An AMT read before any QTY of the group: the next QTY's.
    amount: Option<String>,
}

struct PtdLoop<'a> {
    activity: Option<Activity>,
    location: Option<String>,
    start: Option<Date8>,
    end: Option<Date8>,
    order: Option<Order>,
    groups: Vec<Group<'a>>,
}

impl<'a> PtdLoop<'a> {
    fn new(ptd: &Segment) -> PtdLoop<'a> {
        PtdLoop {
            activity: ptd.element(1).and_then(ptd_activity),
            location: None,
            start: None,
            end: None,
            order: None,
            groups: Vec::new(),
        }
    }

    fn lin(&mut self, item: ItemState) {
        let order = *self.order.get_or_insert(Order::LinFirst);
        if order == Order::QtyFirst {
            let mut attached = false;
            for group in self.groups.iter_mut().rev().take_while(|g| !g.has_lin) {
                group.item = item.clone();
                group.has_lin = true;
                attached = true;
            }
            if attached {
                return;
            }
        }
        self.groups.push(Group {
            item,
            has_lin: true,
            quantities: Vec::new(),
            amount: None,
        });
    }

    fn qty(&mut self, segment: &'a Segment) {
        let order = *self.order.get_or_insert(Order::QtyFirst);
        match (order, self.groups.last_mut()) {
            (Order::LinFirst, Some(group)) => {
                let amount = group.amount.take();
                group.quantities.push((segment, amount));
            }
            _ => self.groups.push(Group {
                item: ItemState::Missing,
                has_lin: false,
                quantities: vec![(segment, None)],
                amount: None,
            }),
        }
    }

    fn current(&mut self) -> Option<&mut Group<'a>> {
        self.groups.last_mut()
    }
}

fn close_ptd(
    ptd: Option<PtdLoop<'_>>,
    ctx: &Context<'_>,
    header: (Option<Date8>, Option<Date8>),
    errors: &mut Errors,
    out: &mut Vec<ItemReport>,
) {
    let Some(ptd) = ptd else {
        return;
    };
    let period = (ptd.start.or(header.0), ptd.end.or(header.1));
    for group in &ptd.groups {
        let mut reported_missing = false;
        for (qty, amount) in &group.quantities {
            let code = qty.element(1).unwrap_or("");
            let activity = if ON_HAND_QTY.contains(&code) {
                Some(Activity::OnHand)
            } else if SOLD_QTY.contains(&code) {
                ptd.activity
            } else {
                None
            };
            let Some(activity) = activity else {
                continue;
            };
            let item = match &group.item {
                ItemState::Valid(item) => item,
                ItemState::Invalid => continue,
                ItemState::Missing => {
                    if !reported_missing {
                        reported_missing = true;
                        errors.push(qty.error(
                            None,
                            "QTY",
                            "a LIN segment identifying the item this QTY counts",
                        ));
                    }
                    continue;
                }
            };
            if let Some(q) = quantity(qty, 2, errors) {
                out.push(
                    ctx.report(
                        item,
                        Quantity {
                            activity,
                            quantity: q,
                            unit: qty
                                .components(3)
                                .first()
                                .filter(|u| !u.is_empty())
                                .map(|u| u.to_string()),
                            location: ptd.location.clone(),
                            period,
                            amount: amount.clone(),
                            source: qty,
                        },
                    ),
                );
            }
        }
    }
}

fn map_867(ctx: &Context<'_>, errors: &mut Errors, out: &mut Vec<ItemReport>) {
    let mut report_date = None;
    let mut header_start = None;
    let mut header_end = None;
    let mut ptd: Option<PtdLoop<'_>> = None;
    for segment in ctx.transaction.body() {
        let id = segment.id.as_str();
        if id == "PTD" {
            let header = header_period(header_start, header_end, report_date);
            close_ptd(ptd.take(), ctx, header, errors, out);
            ptd = Some(PtdLoop::new(segment));
            continue;
        }
        let Some(open) = ptd.as_mut() else {
            match id {
                "BPT" => report_date = date(segment, 3, errors),
                "DTM" => match segment.element(1) {
                    Some("090") => header_start = date(segment, 2, errors),
                    Some("091") => header_end = date(segment, 2, errors),
                    _ => {}
                },
                "LIN" | "QTY" => errors.push(segment.error(
                    None,
                    id,
                    format!("a PTD segment opening a product transfer loop before {id}"),
                )),
                _ => {}
            }
            continue;
        };
        match id {
            "DTM" => match segment.element(1) {
                Some("090") => open.start = date(segment, 2, errors),
                Some("091") => open.end = date(segment, 2, errors),
                _ => {}
            },
            "N1" => open.location = n1_location(segment),
            "LIN" => open.lin(parse_lin(segment, errors)),
            "QTY" => open.qty(segment),
            "PID" => {
                if let Some(group) = open.current() {
                    describe(&mut group.item, segment);
                }
            }
            "CTP" | "UIT" => {
                let (n, q) = if id == "CTP" { (3, 2) } else { (2, 3) };
                if let Some(group) = open.current() {
                    set_price(&mut group.item, segment, n, q, errors);
                } else {
                    let _ = price(segment, n, errors);
                }
            }
            "AMT" => {
                let amount = price(segment, 2, errors);
                if let Some(group) = open.current() {
                    // The amount of the last quantity read, if it has none yet; else
                    // of the next one.
                    match group.quantities.last_mut() {
                        Some((_, slot @ None)) => *slot = amount,
                        _ => {
                            if group.amount.is_none() {
                                group.amount = amount;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let header = header_period(header_start, header_end, report_date);
    close_ptd(ptd.take(), ctx, header, errors, out);
}

/// An 867's period from its header: DTM*090 to DTM*091 (either alone: that day),
/// else the report's date (BPT03) — never the report's date as the start of a period
/// whose end is given.
fn header_period(
    start: Option<Date8>,
    end: Option<Date8>,
    report_date: Option<Date8>,
) -> (Option<Date8>, Option<Date8>) {
    (start.or(end).or(report_date), end.or(start).or(report_date))
}

// ---------------------------------------------------------------------------

/// Maps every 852, 846 and 867 in the interchanges; other transaction sets are
/// skipped. Problems are added to `errors`; what could be read is returned.
pub(crate) fn map(interchanges: &[Interchange], errors: &mut Errors) -> Vec<ItemReport> {
    let mut out = Vec::new();
    for interchange in interchanges {
        for group in &interchange.groups {
            for transaction in &group.transactions {
                let set = match transaction.id.as_str() {
                    "852" => TransactionSet::Ts852,
                    "846" => TransactionSet::Ts846,
                    "867" => TransactionSet::Ts867,
                    _ => continue,
                };
                let ctx = Context {
                    set,
                    transaction,
                    reporter: reporter(transaction, group, interchange),
                    currency: currency(transaction),
                    sent_on: Date8::parse(&group.date),
                };
                match set {
                    TransactionSet::Ts852 => map_852(&ctx, errors, &mut out),
                    TransactionSet::Ts846 => map_846(&ctx, errors, &mut out),
                    TransactionSet::Ts867 => map_867(&ctx, errors, &mut out),
                }
            }
        }
    }
    out
}
