//! When a distributor fails: record the event (`insolvency add`), show where the label
//! stands and the deadlines that run from it (`insolvency show`), raise alerts as the
//! deadlines approach, and attach documents to a distributor (`document add`).
//!
//! The deadlines and their rules are `backstock_risk::insolvency`: information for the
//! label and its lawyer, not legal advice.
//!
//! Dates: the record is effective on the event's date and known on the label's today
//! (never before the event). Its entry id is `insolvency:D:n`; recording the same
//! details again records nothing, new details (a claims bar date set later) record a
//! new version that replaces the earlier one from then on.

use crate::output::{money, thousands, Format, Table};
use crate::{AppError, Exit};
use backstock_domain::{Date, PartyId};
use backstock_ledger::facts::{DocumentKind, DocumentRecord, Insolvency, InsolvencyKind};
use backstock_ledger::{EntryKind, Event, Fact};
use backstock_records::Records;
use backstock_risk::insolvency::{DeadlineStatus, InsolvencyReport};
use backstock_risk::receivables::DistributorReceivables;
use backstock_store::Store;
use serde_json::json;
use sha2::{Digest, Sha256};

/// A failure to record.
#[derive(Debug, Clone)]
pub struct AddInsolvency {
    pub distributor: PartyId,
    pub kind: InsolvencyKind,
    pub on: Date,
    pub petition_date: Option<Date>,
    pub case: Option<String>,
    pub claims_bar_date: Option<Date>,
    pub contact: Option<String>,
}

/// What was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub entry_id: String,
    pub distributor: PartyId,
    /// False when the same details were already on record (nothing recorded).
    pub new: bool,
}

/// `bankruptcy`, `assignment`, `receivership` or `liquidation`.
pub fn parse_kind(s: &str) -> Result<InsolvencyKind, AppError> {
    InsolvencyKind::parse(s).ok_or_else(|| {
        AppError::new(
            Exit::Input,
            format!(
                "--kind: expected bankruptcy, assignment, receivership or liquidation, found {:?}",
                s.trim()
            ),
        )
    })
}

/// `agreement`, `notice`, `correspondence` or `other`.
pub fn parse_document_kind(s: &str) -> Result<DocumentKind, AppError> {
    DocumentKind::parse(s).ok_or_else(|| {
        AppError::new(
            Exit::Input,
            format!(
                "--kind: expected agreement, notice, correspondence or other, found {:?}",
                s.trim()
            ),
        )
    })
}

fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Records a distributor's failure. Refused when the distributor has no agreement, a
/// petition date is after the event's recording day… (see the checks below).
#[tracing::instrument(name = "add", skip_all, fields(distributor = %req.distributor))]
pub async fn add(store: &Store, req: AddInsolvency, user: &str) -> Result<Recorded, AppError> {
    let today = crate::risk::today(store).await?;
    let entries =
        crate::standing_entries(store, &[EntryKind::Agreement, EntryKind::Insolvency]).await?;
    let records = Records::new(&entries, Date::LATEST);
    let d = &req.distributor;
    crate::require_agreement(&records, d)?;
    if req.on > today {
        return Err(AppError::new(
            Exit::Input,
            format!("--on {} is after today ({today})", req.on),
        ));
    }
    let earlier: Vec<_> = records
        .insolvencies
        .iter()
        .filter(|x| &x.distributor == d)
        .collect();
    // New details add to the record on file: what is not given again is kept (adding
    // the claims bar date must not erase the trustee's contact or the case number).
    let had = earlier.last().map(|x| x.item);
    let petition_date = req.petition_date.or(had.and_then(|x| x.petition_date));
    let claims_bar_date = req.claims_bar_date.or(had.and_then(|x| x.claims_bar_date));
    let basis = petition_date.unwrap_or(req.on);
    if let Some(b) = claims_bar_date {
        if b < basis {
            return Err(AppError::new(
                Exit::Input,
                format!("--claims-bar-date {b} is before the petition/event date {basis}"),
            ));
        }
    }
    if req.kind == InsolvencyKind::Bankruptcy && petition_date.is_none() {
        return Err(AppError::new(
            Exit::Input,
            "a bankruptcy needs --petition-date (the deadlines run from it)",
        ));
    }
    let item = Insolvency {
        distributor: d.clone(),
        kind: req.kind,
        on: req.on,
        petition_date,
        case: clean(req.case).or_else(|| had.and_then(|x| x.case.clone())),
        claims_bar_date,
        contact: clean(req.contact).or_else(|| had.and_then(|x| x.contact.clone())),
    };
    if let Some(last) = earlier.last() {
        if *last.item == item {
            return Ok(Recorded {
                entry_id: last.entry.id.to_string(),
                distributor: d.clone(),
                new: false,
            });
        }
    }
    // The next number not on record: a failure recorded and then reversed keeps its
    // number, and the failure keyed again takes the one after.
    let mut n = earlier.len() + 1;
    while store.entry(&format!("insolvency:{d}:{n}")).await?.is_some() {
        n += 1;
    }
    let e = crate::command_entry(
        format!("insolvency:{d}:{n}"),
        req.on,
        today.max(req.on),
        user,
        format!("insolvency add {d} --kind {} --on {}", item.kind, item.on),
        Event::Fact(Fact::Insolvency(item)),
    )?;
    let entry_id = e.id.to_string();
    crate::books::record(store, &[e], None).await?;
    Ok(Recorded {
        entry_id,
        distributor: d.clone(),
        new: true,
    })
}

/// Where the label stands with a failed distributor.
#[derive(Debug, Clone)]
pub struct Standing {
    pub report: InsolvencyReport,
    /// Receivables, reserves and the stock it holds (at risk), as of the same date.
    pub receivables: Option<DistributorReceivables>,
}

/// The failure on record for `d` and its deadlines as of `as_of` (the label's today
/// when `None`); `None` when no failure is on record.
pub async fn standing(
    store: &Store,
    d: &PartyId,
    as_of: Option<Date>,
) -> Result<Option<Standing>, AppError> {
    let as_of = match as_of {
        Some(d) => d,
        None => crate::risk::today(store).await?,
    };
    let snap = crate::risk::snapshot(store, as_of).await?;
    let th = crate::risk::thresholds(store).await?;
    let Some(report) = backstock_risk::insolvency::report(&snap, d, &th) else {
        return Ok(None);
    };
    let receivables = backstock_risk::receivables::compute(&snap, Some(d))
        .into_iter()
        .next();
    Ok(Some(Standing {
        report,
        receivables,
    }))
}

/// Every distributor with a failure on record, as of the label's today.
pub async fn all_standing(store: &Store) -> Result<Vec<Standing>, AppError> {
    let today = crate::risk::today(store).await?;
    let snap = crate::risk::snapshot(store, today).await?;
    let th = crate::risk::thresholds(store).await?;
    let rec = backstock_risk::receivables::compute(&snap, None);
    Ok(standings_of(&snap, &th, &rec))
}

/// Every failure on record in `snap` and where the label stands, with `receivables`
/// computed on the same snapshot: for a caller that has both already (the web app's
/// books).
pub fn standings_of(
    snap: &backstock_risk::Snapshot,
    th: &backstock_risk::Thresholds,
    receivables: &[DistributorReceivables],
) -> Vec<Standing> {
    backstock_risk::insolvency::reports(snap, th)
        .into_iter()
        .map(|report| {
            let receivables = receivables
                .iter()
                .find(|r| r.distributor == report.distributor)
                .cloned();
            Standing {
                report,
                receivables,
            }
        })
        .collect()
}

/// `insolvency show`: the record, the label's position and the deadlines.
pub async fn show(
    store: &Store,
    d: &PartyId,
    as_of: Option<Date>,
    format: Format,
) -> Result<String, AppError> {
    let Some(s) = standing(store, d, as_of).await? else {
        // On record, but not yet on the day asked: say when it is from, rather than
        // that there is none.
        let later = match as_of {
            Some(_) => standing(store, d, None).await?,
            None => None,
        };
        return Err(AppError::new(
            Exit::Input,
            match (later, as_of) {
                (Some(l), Some(day)) if l.report.insolvency.on > day => format!(
                    "{d} had no failure on record as of {day}: the one recorded is dated {} — give an --as-of on or after it, or none",
                    l.report.insolvency.on
                ),
                // Dated by then, but entered later: as of that day the label did not
                // know of it yet.
                (Some(l), Some(day)) => format!(
                    "{d} had no failure on record as of {day}: the one on record (dated {}) was entered after that day, so the books of {day} did not know it — give a later --as-of, or none",
                    l.report.insolvency.on
                ),
                _ => format!("no insolvency of {d} on record (backstock insolvency add {d} …)"),
            },
        ));
    };
    raise_deadline_alerts(store, std::slice::from_ref(&s)).await?;
    if format == Format::Json {
        let v = json!({
            "report": s.report,
            "receivables": s.receivables,
            "not_legal_advice": NOT_ADVICE,
        });
        return Ok(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n");
    }
    Ok(render(&s))
}

/// Said wherever deadlines are shown.
pub const NOT_ADVICE: &str = "Deadlines are computed from the rules named, as information: not legal advice. Courts set the claims bar date; ask the label's lawyer.";

/// The standing as text.
pub fn render(s: &Standing) -> String {
    let r = &s.report;
    let x = &r.insolvency;
    let mut out = format!(
        "{}: {}\n",
        r.distributor,
        backstock_risk::insolvency::sentence(x)
    );
    out.push_str(&format!(
        "  kind {}; on {}; petition {}; case {}; claims bar date {}; contact {}\n",
        x.kind,
        x.on,
        x.petition_date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into()),
        x.case.as_deref().unwrap_or("-"),
        x.claims_bar_date
            .map(|d| d.to_string())
            .unwrap_or_else(|| "not set".into()),
        x.contact.as_deref().unwrap_or("-"),
    ));
    if let Some(rc) = &s.receivables {
        out.push_str(&format!(
            "\nAs of {}: owed {} (open statements), reserves held {}\nStock at risk: {} units, {} at cost, {} at wholesale\n",
            r.as_of,
            money(rc.book.open_balance),
            money(rc.exposure.reserve_held),
            thousands(rc.stock.units),
            money(rc.stock.at_cost),
            money(rc.stock.at_wholesale),
        ));
    }
    out.push_str(&format!(
        "Goods received in the 45 days before {}: {} units ({} at wholesale); in the 20 days: {} units ({} at wholesale)\n",
        r.basis_date,
        thousands(i64::try_from(r.window_45.units).unwrap_or(i64::MAX)),
        money(r.window_45.value_at_wholesale),
        thousands(i64::try_from(r.window_20.units).unwrap_or(i64::MAX)),
        money(r.window_20.value_at_wholesale),
    ));
    out.push_str("\nDeadlines:\n");
    let mut t = Table::new(&["deadline", "due", "days left", "status", "what", "rule"]);
    for dl in &r.deadlines {
        t.push(vec![
            dl.title.to_string(),
            dl.due_on.map(|d| d.to_string()).unwrap_or_default(),
            dl.days_left.map(|d| d.to_string()).unwrap_or_default(),
            dl.status.as_str().to_string(),
            dl.what.clone(),
            format!(
                "{}{}",
                dl.source,
                if dl.bankruptcy_only {
                    " (bankruptcy only)"
                } else {
                    ""
                }
            ),
        ]);
    }
    out.push_str(&t.text());
    out.push_str(&format!("\n{NOT_ADVICE}\n"));
    out
}

/// Records an alert for each deadline due within
/// [`backstock_risk::insolvency::DUE_SOON_DAYS`], once per deadline and due date (and
/// POSTs it to the webhook like a level alert). Returns the alert ids.
pub async fn raise_deadline_alerts(store: &Store, all: &[Standing]) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::new();
    // A deadline alert keeps the distributor's last alerted level (from = to), so the
    // alert of a level rising is still raised when the level rises.
    let last = store.last_alert_levels().await?;
    for s in all {
        let r = &s.report;
        let level = last
            .get(r.distributor.as_str())
            .map(String::as_str)
            .unwrap_or("ok");
        for dl in r
            .deadlines
            .iter()
            .filter(|d| d.status == DeadlineStatus::DueSoon)
        {
            let Some(due) = dl.due_on else { continue };
            let key = format!("deadline_alert:{}:{}:{due}", r.distributor, dl.code);
            if store.meta(&key).await?.is_some() {
                continue;
            }
            let body = json!({
                "event": "deadline_approaching",
                "distributor": r.distributor,
                "deadline": dl.code,
                "title": dl.title,
                "due_on": due.to_string(),
                "days_left": dl.days_left,
                "what": dl.what,
                "rule": dl.rule,
                "source": dl.source,
                "as_of": r.as_of.to_string(),
            })
            .to_string();
            let id = store
                .add_alert(
                    &r.as_of.to_string(),
                    r.distributor.as_str(),
                    level,
                    level,
                    &body,
                )
                .await?;
            store.set_meta(&key, &id.to_string()).await?;
            if let Some(url) = store.meta("webhook_url").await? {
                let b = body.clone();
                let sent = tokio::task::spawn_blocking(move || crate::risk::post_json(&url, &b))
                    .await
                    .unwrap_or_else(|e| Err(format!("the webhook call failed: {e}")));
                match sent {
                    Ok(status) => {
                        store
                            .mark_alert_delivery(id, true, &format!("HTTP {status}"))
                            .await?
                    }
                    Err(e) => store.mark_alert_delivery(id, false, &e).await?,
                }
            }
            ids.push(id);
        }
    }
    Ok(ids)
}

// ---------------------------------------------------------------- documents

/// A document to attach.
#[derive(Debug, Clone)]
pub struct AddDocument {
    pub distributor: PartyId,
    pub kind: DocumentKind,
    /// The file's name (no directories).
    pub name: String,
    pub bytes: Vec<u8>,
    pub note: Option<String>,
}

/// An attached document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub entry_id: String,
    pub sha256: String,
    pub size: u64,
    /// False when this document was already attached to this distributor.
    pub new: bool,
}

/// Attaches a document: its bytes are kept in the store by SHA-256 (like an imported
/// original) and a `document` entry in the chain records it. The same bytes attached
/// to the same distributor twice record once.
#[tracing::instrument(name = "add_document", skip_all, fields(distributor = %req.distributor))]
pub async fn add_document(
    store: &Store,
    req: AddDocument,
    user: &str,
) -> Result<Attached, AppError> {
    let today = crate::risk::today(store).await?;
    let entries =
        crate::standing_entries(store, &[EntryKind::Agreement, EntryKind::Document]).await?;
    let records = Records::new(&entries, Date::LATEST);
    let d = &req.distributor;
    crate::require_agreement(&records, d)?;
    if req.bytes.is_empty() {
        return Err(AppError::new(Exit::Input, "the document is empty"));
    }
    let name = std::path::Path::new(req.name.trim())
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "document".into());
    let sha: String = Sha256::digest(&req.bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(x) = records
        .documents_of(d)
        .find(|x| x.sha256 == sha && x.reversed.is_none())
    {
        return Ok(Attached {
            entry_id: x.entry.id.to_string(),
            sha256: sha,
            size: x.size,
            new: false,
        });
    }
    let size = req.bytes.len() as u64;
    let e = crate::command_entry(
        format!("document:{d}:{}", &sha[..16]),
        today,
        today,
        user,
        format!("document add {d} {name} --kind {}", req.kind),
        Event::Fact(Fact::Document(DocumentRecord {
            distributor: d.clone(),
            kind: req.kind,
            name: name.clone(),
            sha256: sha.clone(),
            size,
            added_on: today,
            note: clean(req.note),
        })),
    )?;
    let entry_id = e.id.to_string();
    let file = if store.file_imported(&sha).await?.is_some() {
        None
    } else {
        let mut parts = Vec::new();
        for chunk in req.bytes.chunks(backstock_store::PART_BYTES) {
            parts.push(backstock_store::compress(chunk).map_err(|e| {
                AppError::new(Exit::Other, format!("compressing {name}: {e}")).with_source(e)
            })?);
        }
        let lines = req.bytes.iter().filter(|b| **b == b'\n').count() as u64;
        Some(backstock_store::SourceFile {
            sha256: sha.clone(),
            name,
            kind: "document".into(),
            size,
            parts,
            lines,
        })
    };
    crate::books::record(store, &[e], file).await?;
    Ok(Attached {
        entry_id,
        sha256: sha,
        size,
        new: true,
    })
}

/// Sentences for the holders among `holders` that have failed (as known on `as_of`,
/// the label's today when `None`): "cascade: Insolvent: … its stock is at risk …".
/// For tables of stock; on any store of the contract (a data directory, a label in
/// PostgreSQL).
pub async fn at_risk_notes<S>(
    store: &S,
    holders: &[&str],
    as_of: Option<Date>,
) -> Result<Vec<String>, AppError>
where
    S: backstock_store::contract::Journal + backstock_store::contract::Settings + Sync,
{
    let as_of = match as_of {
        Some(d) => d,
        None => {
            let today = store
                .settings()
                .await?
                .into_iter()
                .find(|(k, _)| k == "today");
            today
                .and_then(|(_, v)| Date::parse(&v).ok())
                .unwrap_or_else(crate::today)
        }
    };
    let mut entries = Vec::new();
    store
        .each_entry(
            &[EntryKind::Insolvency, EntryKind::Correction],
            None,
            |_, e| {
                entries.push(e);
                Ok(())
            },
        )
        .await?;
    Ok(notes_from(&entries, holders, as_of))
}

fn notes_from(entries: &[backstock_ledger::Entry], holders: &[&str], as_of: Date) -> Vec<String> {
    let records = Records::new(entries, as_of);
    let mut out = Vec::new();
    for h in holders {
        let Ok(p) = PartyId::parse(h) else { continue };
        if let Some(x) = records.insolvency_of(&p) {
            out.push(format!(
                "{p}: {} (backstock insolvency show {p})",
                backstock_risk::insolvency::sentence(x)
            ));
        }
    }
    out
}

/// The documents attached to `d`, oldest first.
pub async fn documents(store: &Store, d: &PartyId) -> Result<Vec<DocumentRecord>, AppError> {
    let entries = crate::standing_entries(store, &[EntryKind::Document]).await?;
    let records = Records::new(&entries, Date::LATEST);
    Ok(records.documents_of(d).map(|x| x.item.clone()).collect())
}
