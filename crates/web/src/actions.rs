//! The daily actions as forms (the "Record" page, `/t/{tenant}/record`, linked from each
//! distributor's page) and as JSON API routes: payments received, purchase orders,
//! returns, receipt confirmations, demands and their answers, UCC-1 filings, PMSI
//! notices, corrections, aliases (and the unmatched queue), distributor agreements.
//!
//! Each is one `backstock_app` use case (`backstock_app::actions` and the modules it
//! wraps), so the page and the API say the same thing; rows of the canonical files
//! (payments, purchase orders, returns, agreements) are read by the importer's own
//! parser, so a bad value gets the importer's message. A refused form is shown again as
//! typed, with the message at the form (`{action}-error`); a recorded one says what was
//! recorded (`action-result`). Every action (and every refusal of a correction) is in
//! the audit log.
//!
//! Who: `record` (owner, staff, bookkeeper) — payments, purchase orders, receipt
//! confirmations, corrections, aliases; `operate` (owner, staff) — returns, demands and
//! answers, UCC-1 filings, PMSI notices, agreements.
//!
//! Stable element ids: `record`, `{action}-form`, `{action}-{field}`, `{action}-error`,
//! `action-result`, `table-unmatched`, `table-aliases`.

use crate::api::Body;
use crate::auth::Tenant;
use crate::format::Locale;
use crate::html::{esc, page, url_encode};
use crate::roles::Perm;
use crate::views;
use crate::{AppState, Fail};
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use backstock_app::actions as app;
use backstock_domain::{Date, PartyId, Sku};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// What was typed: field → text.
pub type Fields = HashMap<String, String>;

/// One field of a form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `date`, `number`, `decimal`, or `a|b|c` (a choice).
    pub kind: &'static str,
    pub required: bool,
}

const fn f(name: &'static str, label: &'static str, kind: &'static str, required: bool) -> Field {
    Field {
        name,
        label,
        kind,
        required,
    }
}

/// One action: its form and its API route.
pub struct Action {
    pub key: &'static str,
    pub title: &'static str,
    pub perm: Perm,
    pub note: &'static str,
    pub fields: &'static [Field],
    /// The API body's fields (name, description), for the route table.
    pub doc: &'static [(&'static str, &'static str)],
}

const PAYMENT_DOC: &[(&str, &str)] = &[
            ("distributor", "the distributor"),
            ("amount", "decimal text (`1234.56`), never a JSON number"),
            ("currency", "ISO 4217 (default: the agreement's)"),
            ("date", "YYYY-MM-DD (default: the label's today)"),
            ("statement_id", "the statement it pays (default: on account)"),
            ("reference", "remittance or bank reference (default: derived from date, statement and amount, so the same payment twice is recorded once)"),
        ];
const PURCHASE_ORDER_DOC: &[(&str, &str)] = &[
    ("po_number", "the PO number"),
    ("distributor", "the distributor"),
    ("sku", "SKU, UPC or alias"),
    ("units", "1 to 1,000,000,000"),
    ("date", "YYYY-MM-DD (default: the label's today)"),
];
const RETURN_DOC: &[(&str, &str)] = &[
    ("distributor", "the distributor the units come back from"),
    ("sku", "SKU, UPC or alias"),
    ("units", "1 to 1,000,000,000 (no more than it holds)"),
    ("date", "YYYY-MM-DD (default: the label's today)"),
    ("id", "the return's id (default RET-DATE-DISTRIBUTOR)"),
];
const RECEIPT_DOC: &[(&str, &str)] = &[
    ("shipment_id", "the shipment"),
    ("on", "YYYY-MM-DD (default: the label's today)"),
];
const DEMAND_DOC: &[(&str, &str)] = &[
    ("distributor", "the distributor"),
    ("kind", "return or transfer"),
    ("to", "a transfer's new distributor"),
    ("sku", "one SKU (default: all the label's stock it holds)"),
    ("units", "units (default: all)"),
    ("made_on", "YYYY-MM-DD (default: the label's today)"),
    ("via", "how it was sent"),
    (
        "id",
        "the demand's id (default D-DATE-DISTRIBUTOR-KIND[-SKU])",
    ),
];
const ANSWER_DOC: &[(&str, &str)] = &[
    ("demand_id", "the demand"),
    ("outcome", "complied, partial or refused"),
    ("on", "YYYY-MM-DD (default: the label's today)"),
    ("note", "what they said"),
];
const UCC1_DOC: &[(&str, &str)] = &[
    ("distributor", "the distributor"),
    ("file_number", "the filing's number"),
    (
        "state",
        "filing office's state (default: the distributor's state of organization)",
    ),
    ("filed_on", "YYYY-MM-DD (default: the label's today)"),
    ("continues", "the file number it continues"),
];
const PMSI_DOC: &[(&str, &str)] = &[
    ("distributor", "the distributor"),
    ("secured_party", "the lender notified"),
    ("sent_on", "YYYY-MM-DD (default: the label's today)"),
    ("received_on", "YYYY-MM-DD (optional)"),
];
const CORRECTION_DOC: &[(&str, &str)] = &[
    ("entry_id", "the entry to reverse"),
    ("reason", "why it was wrong (required)"),
    ("on", "YYYY-MM-DD the reversal takes effect, from the entry's own date (the default) to today: a later day in an open month when the entry's month is closed"),
];
const ALIAS_DOC: &[(&str, &str)] = &[("code", "the other code"), ("sku", "the SKU it means")];
const AGREEMENT_DOC: &[(&str, &str)] = &[
    ("distributor", "short name"),
    ("legal_name", "legal name"),
    ("state_of_organization", "state of organization"),
    ("agreement_start", "YYYY-MM-DD"),
    ("fee_rate", "decimal rate (0.20)"),
    ("payment_terms_days", "days"),
    ("statement_frequency", "monthly or quarterly"),
    ("reserve_rate", "decimal rate (0.10)"),
    ("reserve_release_days", "days"),
    ("credit_limit", "decimal text"),
    ("currency", "ISO 4217"),
    ("title_retained", "true or false"),
    ("payment_months", "the months it pays everything due in, e.g. 6;12 or jun;dec (optional: empty when it pays statement by statement)"),
];

pub const PAYMENT: Action = Action {
    key: "payment",
    doc: PAYMENT_DOC,
    title: "Payment received",
    perm: Perm::Record,
    note: "Money a distributor paid. Read as a row of payments.csv. Without a reference, the same payment keyed twice (date, statement, amount) is recorded once.",
    fields: &[
        f("distributor", "Distributor", "text", true),
        f("amount", "Amount (e.g. 1234.56)", "decimal", true),
        f("currency", "Currency (empty: the agreement's)", "text", false),
        f("date", "Received on (empty: today)", "date", false),
        f("statement_id", "Statement it pays (empty: on account)", "text", false),
        f("reference", "Remittance or bank reference (optional)", "text", false),
    ],
};
pub const PURCHASE_ORDER: Action = Action {
    key: "purchase-order",
    doc: PURCHASE_ORDER_DOC,
    title: "Purchase order",
    perm: Perm::Record,
    note: "A distributor's order, one SKU a line. Read as a row of purchase_orders.csv.",
    fields: &[
        f("po_number", "PO number", "text", true),
        f("distributor", "Distributor", "text", true),
        f("sku", "SKU, UPC or alias", "text", true),
        f("units", "Units", "number", true),
        f("date", "Ordered on (empty: today)", "date", false),
    ],
};
pub const RETURN: Action = Action {
    key: "return",
    doc: RETURN_DOC,
    title: "Return from a distributor",
    perm: Perm::Operate,
    note: "Units coming back to the label. Read as a row of shipments.csv from the distributor to label; more units than it holds are refused. To ship stock out, use the distributor's page.",
    fields: &[
        f("distributor", "From distributor", "text", true),
        f("sku", "SKU, UPC or alias", "text", true),
        f("units", "Units", "number", true),
        f("date", "Received back on (empty: today)", "date", false),
        f("id", "Return id / RMA (empty: RET-date-distributor)", "text", false),
    ],
};
pub const RECEIPT: Action = Action {
    key: "receipt",
    doc: RECEIPT_DOC,
    title: "Receipt confirmation",
    perm: Perm::Record,
    note: "The distributor confirmed receiving every SKU of a shipment as shipped.",
    fields: &[
        f("shipment_id", "Shipment id", "text", true),
        f("on", "Confirmed received on (empty: today)", "date", false),
    ],
};
pub const DEMAND: Action = Action {
    key: "demand",
    doc: DEMAND_DOC,
    title: "Demand to return or transfer stock",
    perm: Perm::Operate,
    note: "The dated demand log a liquidator or a court will ask for.",
    fields: &[
        f("distributor", "Distributor", "text", true),
        f("kind", "Kind", "return|transfer", true),
        f(
            "to",
            "Transfer to (a transfer's new distributor)",
            "text",
            false,
        ),
        f(
            "sku",
            "SKU (empty: all the label's stock it holds)",
            "text",
            false,
        ),
        f("units", "Units (empty: all)", "number", false),
        f("made_on", "Made on (empty: today)", "date", false),
        f(
            "via",
            "Sent by (email, letter, certified mail…)",
            "text",
            true,
        ),
        f("id", "Demand id (empty: derived)", "text", false),
    ],
};
pub const ANSWER: Action = Action {
    key: "answer",
    doc: ANSWER_DOC,
    title: "Answer to a demand",
    perm: Perm::Operate,
    note: "What the distributor answered.",
    fields: &[
        f("demand_id", "Demand id", "text", true),
        f("outcome", "Outcome", "complied|partial|refused", true),
        f("on", "Answered on (empty: today)", "date", false),
        f("note", "Note", "text", false),
    ],
};
pub const UCC1: Action = Action {
    key: "ucc1",
    doc: UCC1_DOC,
    title: "UCC-1 filing",
    perm: Perm::Operate,
    note: "A financing statement (or its continuation) against a distributor; it lapses after five years unless continued.",
    fields: &[
        f("distributor", "Distributor", "text", true),
        f("file_number", "File number", "text", true),
        f("state", "Filed in (state; empty: the distributor's state of organization)", "text", false),
        f("filed_on", "Filed on (empty: today)", "date", false),
        f("continues", "Continues file number (a continuation)", "text", false),
    ],
};
pub const PMSI: Action = Action {
    key: "pmsi",
    doc: PMSI_DOC,
    title: "PMSI notice",
    perm: Perm::Operate,
    note: "Notice to a secured lender of the distributor (UCC 9-324(b)).",
    fields: &[
        f("distributor", "Distributor", "text", true),
        f("secured_party", "Secured party (the lender)", "text", true),
        f("sent_on", "Sent on (empty: today)", "date", false),
        f("received_on", "Received on (optional)", "date", false),
    ],
};
pub const CORRECTION: Action = Action {
    key: "correction",
    doc: CORRECTION_DOC,
    title: "Correction",
    perm: Perm::Record,
    note: "Reverses an entry keyed wrong (history is never edited): give its entry id (the journal, or the sentence that recorded it) and why.",
    fields: &[
        f("entry_id", "Entry id", "text", true),
        f("reason", "Why it was wrong", "text", true),
        f("on", "Takes effect on (empty: the entry's own date; a later day when its month is closed)", "date", false),
    ],
};
pub const ALIAS: Action = Action {
    key: "alias",
    doc: ALIAS_DOC,
    title: "Alias for a code",
    perm: Perm::Record,
    note: "Another code for a SKU (a distributor's item number); statement lines held for that code are posted at once.",
    fields: &[
        f("code", "Code", "text", true),
        f("sku", "SKU", "text", true),
    ],
};
pub const AGREEMENT: Action = Action {
    key: "agreement",
    doc: AGREEMENT_DOC,
    title: "Distributor agreement",
    perm: Perm::Operate,
    note: "A new distributor, or a new version of an agreement from its start date. Read as a row of distributors.csv.",
    fields: &[
        f("distributor", "Short name (id)", "text", true),
        f("legal_name", "Legal name", "text", true),
        f("state_of_organization", "State of organization", "text", true),
        f("agreement_start", "Agreement start", "date", true),
        f("fee_rate", "Fee rate (0.20)", "decimal", true),
        f("payment_terms_days", "Payment terms (days)", "number", true),
        f("statement_frequency", "Statements", "monthly|quarterly", true),
        f("reserve_rate", "Reserve rate (0.10)", "decimal", true),
        f("reserve_release_days", "Reserve released after (days)", "number", true),
        f("credit_limit", "Credit limit", "decimal", true),
        f("currency", "Currency", "text", true),
        f("title_retained", "Title retained until sold", "true|false", true),
        f(
            "payment_months",
            "Pays only in these months (6;12; empty: statement by statement)",
            "text",
            false,
        ),
    ],
};

pub const ALL: [&Action; 11] = [
    &PAYMENT,
    &PURCHASE_ORDER,
    &RETURN,
    &RECEIPT,
    &DEMAND,
    &ANSWER,
    &UCC1,
    &PMSI,
    &CORRECTION,
    &ALIAS,
    &AGREEMENT,
];

fn locale(t: &Tenant) -> Locale {
    Locale::new(&t.row.locale, &t.row.currency)
}

fn base(t: &Tenant, rest: &str) -> String {
    format!("/t/{}/{rest}", url_encode(t.slug()))
}

fn get(fl: &Fields, k: &str) -> String {
    fl.get(k).map(|s| s.trim().to_string()).unwrap_or_default()
}

fn opt(fl: &Fields, k: &str) -> Option<String> {
    Some(get(fl, k)).filter(|s| !s.is_empty())
}

fn need(fl: &Fields, k: &str, what: &str) -> Result<String, Fail> {
    opt(fl, k).ok_or_else(|| Fail::bad(format!("{k}: {what}")))
}

/// A date as the importer says it: `on: found "x", expected …`.
fn date(fl: &Fields, k: &str, today: Date) -> Result<Date, Fail> {
    match opt(fl, k) {
        None => Ok(today),
        Some(d) => Date::parse(&d)
            .map_err(|e| Fail::bad(format!("{k}: found {d:?}, expected {}", e.expected()))),
    }
}

fn opt_date(fl: &Fields, k: &str) -> Result<Option<Date>, Fail> {
    opt(fl, k)
        .map(|d| {
            Date::parse(&d)
                .map_err(|e| Fail::bad(format!("{k}: found {d:?}, expected {}", e.expected())))
        })
        .transpose()
}

fn party(fl: &Fields, k: &str) -> Result<PartyId, Fail> {
    let v = need(fl, k, "which distributor?")?;
    PartyId::parse(&v)
        .map_err(|e| Fail::bad(format!("{k}: found {v:?}, expected {}", e.expected())))
}

fn sku(fl: &Fields, k: &str) -> Result<Option<Sku>, Fail> {
    opt(fl, k)
        .map(|v| {
            Sku::parse(&v)
                .map_err(|e| Fail::bad(format!("{k}: found {v:?}, expected {}", e.expected())))
        })
        .transpose()
}

/// Units as the importer reads them.
fn units(fl: &Fields, k: &str) -> Result<Option<u64>, Fail> {
    opt(fl, k)
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|u| *u > 0 && *u <= 1_000_000_000)
                .ok_or_else(|| {
                    Fail::bad(format!(
                        "{k}: found {v:?}, expected a whole number of units from 1 to 1,000,000,000"
                    ))
                })
        })
        .transpose()
}

fn recorded_or_not(recorded: bool, words: String) -> String {
    if recorded {
        words
    } else {
        format!("Already recorded, nothing changed: {words}")
    }
}

/// Runs an action: its use case, its sentence, its audit line. Answers the JSON the
/// API gives and the sentence the page shows.
pub async fn run(
    state: &AppState,
    t: &Tenant,
    a: &Action,
    fl: &Fields,
) -> Result<(Value, String), Fail> {
    let store = t.store();
    let user = t.viewer.user.email.clone();
    let l = locale(t);
    let today = backstock_app::risk::today(store).await?;
    let (audit, value, words): (&str, Value, String) = match a.key {
        "payment" => {
            let req = app::ReceivePayment {
                distributor: get(fl, "distributor"),
                amount: get(fl, "amount"),
                currency: opt(fl, "currency"),
                date: opt(fl, "date"),
                statement_id: opt(fl, "statement_id"),
                reference: opt(fl, "reference"),
            };
            let p = app::receive_payment(store, &req, &user).await?;
            let b = views::books(t, &state.cache).await?;
            let open = b
                .receivables
                .iter()
                .find(|r| r.distributor == p.distributor)
                .map(|r| r.book.open_balance);
            let mut w = format!(
                "Recorded a payment of {} received from {} on {}{} as {}.",
                l.money(p.amount),
                p.distributor,
                l.date(p.date),
                p.statement_id
                    .as_ref()
                    .map(|s| format!(" against statement {s}"))
                    .unwrap_or_else(|| " on account".into()),
                p.entry_id
            );
            if let Some(o) = open {
                w.push_str(&format!(
                    " Open balance of {} now: {}.",
                    p.distributor,
                    l.money(o)
                ));
            }
            let mut v = json!(p);
            v["amount"] = json!({"amount": p.amount.to_decimal_string(), "amount_minor": p.amount.minor(), "currency": p.amount.currency().code()});
            if let Some(o) = open {
                v["open_balance"] = json!({"amount": o.to_decimal_string(), "amount_minor": o.minor(), "currency": o.currency().code()});
            }
            ("payment_received", v, recorded_or_not(p.recorded, w))
        }
        "purchase-order" => {
            let req = app::AddPurchaseOrder {
                po_number: get(fl, "po_number"),
                date: opt(fl, "date"),
                distributor: get(fl, "distributor"),
                sku: get(fl, "sku"),
                units: get(fl, "units"),
            };
            let p = app::add_purchase_order(store, &req, &user).await?;
            let w = format!(
                "Recorded purchase order {} of {}: {} units of {} on {} as {}.",
                p.po_number,
                p.distributor,
                l.int(i64::try_from(p.units).unwrap_or(i64::MAX)),
                p.sku,
                l.date(p.date),
                p.entry_id
            );
            ("purchase_order", json!(p), recorded_or_not(p.recorded, w))
        }
        "return" => {
            let req = app::ReturnStock {
                distributor: get(fl, "distributor"),
                sku: get(fl, "sku"),
                units: get(fl, "units"),
                date: opt(fl, "date"),
                id: opt(fl, "id"),
            };
            let r = app::return_stock(store, &req, &user).await?;
            let w = format!(
                "Recorded the return of {} units of {} from {} on {} as {}.",
                l.int(i64::try_from(r.units).unwrap_or(i64::MAX)),
                r.sku,
                r.from,
                l.date(r.date),
                r.entry_id
            );
            ("return", json!(r), recorded_or_not(r.recorded, w))
        }
        "receipt" => {
            let sid = need(fl, "shipment_id", "which shipment?")?;
            let on = date(fl, "on", today)?;
            let (r, new) = app::receipt(store, &sid, on, &user).await?;
            let w = format!(
                "Recorded that {} confirmed receiving shipment {} ({} SKU line{}) on {}.",
                r.distributor,
                r.shipment_id,
                r.lines,
                if r.lines == 1 { "" } else { "s" },
                l.date(r.on)
            );
            (
                "receipt_confirmed",
                json!({"shipment_id": r.shipment_id, "distributor": r.distributor, "lines": r.lines, "on": r.on, "recorded": new}),
                recorded_or_not(new, w),
            )
        }
        "demand" => {
            let kind = backstock_app::demands::parse_kind(&get(fl, "kind"))
                .map_err(|e| Fail::bad(e.message().replace("--kind", "kind")))?;
            let to = match opt(fl, "to") {
                Some(_) => Some(party(fl, "to")?),
                None => None,
            };
            let req = backstock_app::demands::AddDemand {
                distributor: party(fl, "distributor")?,
                kind,
                transfer_to: to,
                sku: sku(fl, "sku")?,
                units: units(fl, "units")?,
                made_on: date(fl, "made_on", today)?,
                via: need(
                    fl,
                    "via",
                    "how was it sent (email, letter, certified mail…)?",
                )?,
                id: opt(fl, "id"),
            };
            let made = req.made_on;
            let (r, new) = app::demand(store, req, &user).await?;
            let w = format!(
                "Recorded demand {} to {} ({}) made on {} as {}.",
                r.demand_id,
                r.distributor,
                get(fl, "kind"),
                l.date(made),
                r.entry_id
            );
            (
                "demand",
                json!({"demand_id": r.demand_id, "distributor": r.distributor, "entry_id": r.entry_id, "recorded": new}),
                recorded_or_not(new, w),
            )
        }
        "answer" => {
            let outcome = backstock_app::demands::parse_outcome(&get(fl, "outcome"))
                .map_err(|e| Fail::bad(e.message().replace("--outcome", "outcome")))?;
            let req = backstock_app::demands::Respond {
                demand_id: need(fl, "demand_id", "which demand?")?,
                answered_on: date(fl, "on", today)?,
                outcome,
                note: get(fl, "note"),
            };
            let on = req.answered_on;
            let (r, new) = app::answer(store, req, &user).await?;
            let w = format!(
                "Recorded {}'s answer to demand {} ({}) on {} as {}.",
                r.distributor,
                r.demand_id,
                get(fl, "outcome"),
                l.date(on),
                r.entry_id
            );
            (
                "demand_answered",
                json!({"demand_id": r.demand_id, "distributor": r.distributor, "entry_id": r.entry_id, "recorded": new}),
                recorded_or_not(new, w),
            )
        }
        "ucc1" => {
            let d = party(fl, "distributor")?;
            let state_default = {
                let b = views::books(t, &state.cache).await?;
                views::distributor(&b, d.as_str())
                    .map(|x| x.agreement.state_of_organization.clone())
                    .unwrap_or_default()
            };
            let req = backstock_app::paperwork::FileUcc1 {
                distributor: d,
                file_number: get(fl, "file_number"),
                state: opt(fl, "state").unwrap_or(state_default),
                filed_on: date(fl, "filed_on", today)?,
                continues: opt(fl, "continues"),
            };
            let (r, new) = app::ucc1(store, req, &user).await?;
            let w = r.said(|d| l.date(d));
            (
                "ucc1_filed",
                json!({"distributor": r.distributor, "file_number": r.file_number, "filed_on": r.filed_on, "lapses_on": r.lapses_on, "continues_nothing": r.ineffective, "entry_id": format!("ucc1:{}:{}", r.distributor, r.file_number), "recorded": new}),
                recorded_or_not(new, w),
            )
        }
        "pmsi" => {
            let req = backstock_app::paperwork::SendNotice {
                distributor: party(fl, "distributor")?,
                secured_party: get(fl, "secured_party"),
                sent_on: date(fl, "sent_on", today)?,
                received_on: opt_date(fl, "received_on")?,
            };
            let sent = req.sent_on;
            let (r, new) = app::pmsi(store, req, &user).await?;
            let w = format!(
                "Recorded the PMSI notice to {} about {} sent on {} as {}.",
                r.secured_party,
                r.distributor,
                l.date(sent),
                r.entry_id
            );
            (
                "pmsi_notice",
                json!({"distributor": r.distributor, "secured_party": r.secured_party, "entry_id": r.entry_id, "recorded": new}),
                recorded_or_not(new, w),
            )
        }
        "correction" => {
            let req = backstock_app::correct::CorrectRequest {
                entry_id: need(fl, "entry_id", "which entry?")?,
                reason: get(fl, "reason"),
                on: opt_date(fl, "on")?,
            };
            // Reversing an entry takes the permission that records it (a correction
            // itself is never corrected: `correct` refuses that).
            if let Some((_, e, _)) = store.entry(req.entry_id.trim()).await? {
                let needs = crate::roles::Perm::to_correct(e.event.kind());
                if !t.membership.role.may(needs) {
                    return Err(Fail::new(
                        403,
                        "forbidden",
                        format!(
                            "your role in this label ({}) may not correct {}: a {} entry is corrected by whoever may record one (permission {})",
                            t.membership.role,
                            req.entry_id.trim(),
                            e.event.kind().as_str(),
                            needs.as_str()
                        ),
                    ));
                }
            }
            let (c, new) = match app::correction(store, &req, &user).await {
                Ok(x) => x,
                Err(e) => {
                    let fail = Fail::from(e);
                    if fail.status == 409 {
                        t.audit(
                            &state.control,
                            "correction_refused",
                            &format!("{}: {}", req.entry_id, fail.message),
                        )
                        .await?;
                    }
                    return Err(fail);
                }
            };
            let w = format!(
                "Recorded correction {} reversing {} (effective {}, known {}): {}.",
                c.correction_id,
                c.reverses,
                l.date(c.effective_on),
                l.date(c.known_on),
                req.reason.trim()
            );
            (
                "correction",
                json!({"correction_id": c.correction_id, "reverses": c.reverses, "effective_on": c.effective_on, "known_on": c.known_on, "reason": req.reason.trim(), "recorded": new}),
                recorded_or_not(new, w),
            )
        }
        "alias" => {
            let s = sku(fl, "sku")?.ok_or_else(|| Fail::bad("sku: which SKU?"))?;
            #[cfg(feature = "lines")]
            let before = store.last_seq().await?.unwrap_or(0);
            let (x, new) = app::alias(store, &get(fl, "code"), s, &user).await?;
            #[allow(unused_mut)]
            let mut w = format!(
                "Recorded that {} means {}; {} held line{} from {} statement{} posted.",
                x.code,
                x.sku,
                x.lines_posted,
                if x.lines_posted == 1 { "" } else { "s" },
                x.statements,
                if x.statements == 1 { "" } else { "s" }
            );
            // The originals of the lines posted are written again with the SKU.
            #[cfg(feature = "lines")]
            if new && x.lines_posted > 0 {
                let note = crate::upload::lines_written(state, t, before).await;
                if !note.is_empty() {
                    w = format!("{w} {}", note.trim_end().replace('\n', " "));
                }
            }
            (
                "alias",
                json!({"code": x.code, "sku": x.sku, "lines_posted": x.lines_posted, "statements": x.statements, "entry_id": x.entry_id, "recorded": new}),
                recorded_or_not(new, w),
            )
        }
        "agreement" => {
            let pairs: Vec<(String, String)> = a
                .fields
                .iter()
                .map(|x| (x.name.to_string(), get(fl, x.name)))
                .collect();
            let r = app::add_agreement(store, &pairs, &user).await?;
            let w = format!(
                "Recorded the agreement with {} ({}) from {} as {}.",
                r.distributor,
                r.legal_name,
                l.date(r.agreement_start),
                r.entry_ids.join(", ")
            );
            ("agreement", json!(r), recorded_or_not(r.recorded, w))
        }
        other => return Err(Fail::not_found(format!("no action {other}"))),
    };
    t.audit(&state.control, audit, &words).await?;
    let mut value = value;
    value["message"] = json!(words);
    Ok((value, words))
}

// ---------------------------------------------------------------------------------------
// The page

/// What the page shows after a POST.
pub enum Outcome<'a> {
    Done(&'a str),
    Refused(&'a Action, &'a Fields, &'a Fail),
}

fn form_html(t: &Tenant, a: &Action, typed: &Fields, error: Option<&Fail>) -> String {
    let k = a.key;
    let l = locale(t);
    let mut s = format!(
        r#"<section id="{k}"><h2>{}</h2><p class="note">{}</p>"#,
        esc(a.title),
        esc(a.note)
    );
    if let Some(e) = error {
        s.push_str(&format!(
            r#"<div id="{k}-error" class="err" role="alert"><p>{}</p>"#,
            esc(&l.sentence(&e.message))
        ));
        if !e.details.is_empty() {
            s.push_str("<ul>");
            for d in &e.details {
                s.push_str(&format!("<li>{}</li>", esc(&l.sentence(d))));
            }
            s.push_str("</ul>");
        }
        s.push_str("</div>");
    }
    s.push_str(&format!(
        r#"<form id="{k}-form" class="stack" method="post" action="{}"><input type="hidden" name="csrf" value="{}">"#,
        esc(&base(t, &format!("record/{k}"))),
        esc(t.viewer.csrf())
    ));
    for x in a.fields {
        let id = format!("{k}-{}", x.name.replace('_', "-"));
        let v = typed.get(x.name).map(String::as_str).unwrap_or("");
        let req = if x.required { " required" } else { "" };
        s.push_str(&format!(r#"<label for="{id}">{}</label>"#, esc(x.label)));
        if x.kind.contains('|') {
            s.push_str(&format!(r#"<select id="{id}" name="{}"{req}>"#, x.name));
            if !x.required {
                s.push_str(r#"<option value=""></option>"#);
            }
            for o in x.kind.split('|') {
                let sel = if o == v { " selected" } else { "" };
                s.push_str(&format!(r#"<option value="{o}"{sel}>{o}</option>"#));
            }
            s.push_str("</select>");
        } else {
            // Dates and amounts are text, so what was typed (even wrong) comes back.
            let extra = match x.kind {
                "number" => r#" inputmode="numeric""#,
                "decimal" => r#" inputmode="decimal""#,
                "date" => r#" placeholder="YYYY-MM-DD""#,
                _ => "",
            };
            s.push_str(&format!(
                r#"<input id="{id}" name="{}" value="{}"{extra}{req}>"#,
                x.name,
                esc(v)
            ));
        }
    }
    s.push_str(&format!(
        r#"<button id="{k}-submit" class="primary" type="submit">Record</button></form></section>"#
    ));
    s
}

async fn queue_html(t: &Tenant) -> Result<String, Fail> {
    let pending = backstock_app::aliases::unmatched_pending(t.store()).await?;
    let aliases = backstock_app::aliases::list(t.store()).await?;
    let l = locale(t);
    let mut s = String::from(
        r#"<section id="unmatched"><h2>Unmatched statement lines</h2><table id="table-unmatched"><thead><tr><th>code</th><th>distributor</th><th>statement</th><th>kind</th><th class="num">units</th><th class="num">amount</th></tr></thead><tbody>"#,
    );
    for (_, u) in &pending {
        let m = backstock_domain::Money::from_minor(u.amount_minor, u.currency);
        s.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            esc(&u.code),
            esc(u.distributor.as_str()),
            esc(&u.statement_id),
            esc(u.kind.as_str()),
            esc(&l.int(u.units)),
            esc(&l.money(m))
        ));
    }
    if pending.is_empty() {
        s.push_str(r#"<tr><td colspan="6">No line is waiting for a code.</td></tr>"#);
    }
    s.push_str(r#"</tbody></table><h3>Aliases</h3><table id="table-aliases"><thead><tr><th>code</th><th>SKU</th></tr></thead><tbody>"#);
    for (c, k) in &aliases {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(c),
            esc(k.as_str())
        ));
    }
    s.push_str("</tbody></table></section>");
    Ok(s)
}

/// The Record page: every form the viewer may use; a refused form kept as typed.
pub async fn render(
    t: &Tenant,
    q: &HashMap<String, String>,
    outcome: Option<Outcome<'_>>,
) -> Result<Response, Fail> {
    let mut prefill: Fields = HashMap::new();
    if let Some(d) = q.get("distributor").filter(|d| !d.trim().is_empty()) {
        prefill.insert("distributor".into(), d.trim().to_string());
    }
    let mut body = String::new();
    let mut status = StatusCode::OK;
    if let Some(Outcome::Done(w)) = &outcome {
        body.push_str(&format!(
            r#"<p id="action-result" class="okbox" role="status">{}</p>"#,
            esc(&locale(t).sentence(w))
        ));
    }
    let mut index = String::from(r#"<nav id="record"><p>"#);
    let mut forms = String::new();
    for a in ALL.iter().filter(|a| t.may(a.perm)) {
        index.push_str(&format!(
            r##"<a href="#{}">{}</a> · "##,
            a.key,
            esc(a.title)
        ));
        match &outcome {
            Some(Outcome::Refused(r, typed, fail)) if r.key == a.key => {
                status = StatusCode::from_u16(fail.status).unwrap_or(StatusCode::BAD_REQUEST);
                forms.push_str(&form_html(t, a, typed, Some(fail)));
            }
            _ => forms.push_str(&form_html(t, a, &prefill, None)),
        }
    }
    index.push_str(&format!(
        r#"<a href="{}">Deductions</a></p></nav>"#,
        esc(&base(t, "deductions"))
    ));
    body.push_str(&index);
    body.push_str(&forms);
    if t.may(Perm::Record) {
        body.push_str(&queue_html(t).await?);
    }
    Ok((status, page("Record", Some(t), &body)).into_response())
}

pub async fn page_get(
    t: Tenant,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Fail> {
    render(&t, &q, None).await
}

async fn page_post(
    state: AppState,
    t: Tenant,
    a: &'static Action,
    fields: Vec<(String, String)>,
) -> Result<Response, Fail> {
    let fl: Fields = fields.into_iter().filter(|(k, _)| k != "csrf").collect();
    let q = HashMap::new();
    let typed = match dates_as_iso(&fl, &locale(&t)) {
        Ok(x) => x,
        Err(fail) => return render(&t, &q, Some(Outcome::Refused(a, &fl, &fail))).await,
    };
    match run(&state, &t, a, &typed).await {
        Ok((_, words)) => render(&t, &q, Some(Outcome::Done(&words))).await,
        // Refused (a bad value, a closed month, the ledger): the form again, as typed.
        Err(fail) if matches!(fail.status, 400 | 409 | 422) => {
            render(&t, &q, Some(Outcome::Refused(a, &fl, &fail))).await
        }
        Err(fail) => Err(fail),
    }
}

/// Whether a form field holds a date (`date`, `on`, `made_on`, `filed_on`,
/// `agreement_start`…).
fn is_date_field(k: &str) -> bool {
    k == "date" || k == "on" || k.ends_with("_on") || k == "agreement_start"
}

/// A form's dates as the use cases take them (`YYYY-MM-DD`): a page shows dates as the
/// label writes them (`06/30/2016` for en-US), so its forms take them so too, and ISO.
/// A date written neither way is refused naming both ways (the importer's message,
/// rewritten into the label's format, would have said "YYYY-MM-DD, e.g. 06/30/2016").
/// The API takes ISO dates only.
fn dates_as_iso(fl: &Fields, l: &crate::format::Locale) -> Result<Fields, Fail> {
    let mut out = fl.clone();
    for (k, v) in out.iter_mut() {
        let t = v.trim();
        if !is_date_field(k) || t.is_empty() || Date::parse(t).is_ok() {
            continue;
        }
        match l.parse_date(t) {
            Some(d) => *v = d.to_string(),
            None => {
                return Err(Fail::bad(format!(
                    "{k}: found {t:?}, expected a date written {} (as this label shows dates) or YYYY-MM-DD",
                    l.date_pattern()
                )))
            }
        }
    }
    Ok(out)
}

/// A JSON body's fields as text: numbers for counts are fine; money must be decimal
/// text (a JSON number could round).
fn json_fields(b: Map<String, Value>) -> Result<Fields, Fail> {
    let mut out = HashMap::new();
    for (k, v) in b {
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Bool(x) => x.to_string(),
            Value::Number(n) if matches!(k.as_str(), "amount" | "credit_limit") => {
                return Err(Fail::bad(format!(
                    "{k}: give the amount as decimal text, e.g. \"12.34\" (a JSON number could round; found {n})"
                )))
            }
            Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
            Value::Number(n) => {
                return Err(Fail::bad(format!(
                    "{k}: give {n} as text (\"0.20\"): a JSON number with a fraction could round"
                )))
            }
            other => return Err(Fail::bad(format!("{k}: {other} is not text"))),
        };
        out.insert(k, text);
    }
    Ok(out)
}

async fn api_post(
    state: AppState,
    t: Tenant,
    a: &'static Action,
    b: Map<String, Value>,
) -> Result<Json<Value>, Fail> {
    let fl = json_fields(b)?;
    let (v, _) = run(&state, &t, a, &fl).await?;
    Ok(Json(v))
}

macro_rules! handlers {
    ($($page:ident, $api:ident => $action:expr;)*) => {$(
        pub async fn $page(
            State(state): State<AppState>,
            t: Tenant,
            Form(fields): Form<Vec<(String, String)>>,
        ) -> Result<Response, Fail> {
            page_post(state, t, $action, fields).await
        }
        pub async fn $api(
            State(state): State<AppState>,
            t: Tenant,
            Body(b): Body<Map<String, Value>>,
        ) -> Result<Json<Value>, Fail> {
            api_post(state, t, $action, b).await
        }
    )*};
}

handlers! {
    payment_page, payment_api => &PAYMENT;
    purchase_order_page, purchase_order_api => &PURCHASE_ORDER;
    return_page, return_api => &RETURN;
    receipt_page, receipt_api => &RECEIPT;
    demand_page, demand_api => &DEMAND;
    answer_page, answer_api => &ANSWER;
    ucc1_page, ucc1_api => &UCC1;
    pmsi_page, pmsi_api => &PMSI;
    correction_page, correction_api => &CORRECTION;
    alias_page, alias_api => &ALIAS;
    agreement_page, agreement_api => &AGREEMENT;
}

/// The unmatched queue and the aliases on record.
pub async fn api_unmatched(t: Tenant) -> Result<Json<Value>, Fail> {
    let pending = backstock_app::aliases::unmatched_pending(t.store()).await?;
    let aliases = backstock_app::aliases::list(t.store()).await?;
    Ok(Json(json!({
        "unmatched": pending.into_iter().map(|(_, u)| u).collect::<Vec<_>>(),
        "aliases": aliases.into_iter().map(|(code, sku)| json!({"code": code, "sku": sku})).collect::<Vec<_>>(),
    })))
}
