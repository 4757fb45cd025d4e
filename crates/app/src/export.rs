//! The accountant's exports of any date range (`backstock export FORMAT --from D --to D`,
//! `GET /api/v1/t/{tenant}/export/{format}`): what each entry effective in the range
//! posted to money accounts, as beancount, a plain CSV journal, a Xero manual-journal
//! import or a QuickBooks Online journal-entry import (`backstock-export` renders
//! them), through the label's chart of accounts (`chart-of-accounts.csv` in its data
//! directory, else the default; `backstock export chart` prints the one in use).
//!
//! Only money: units are not in the accountant's books. Every entry recorded so far
//! counts (a closed month's entries cannot change, see `books`); the beancount file
//! brings the balances of everything before the range forward.

use crate::{AppError, Exit};
use backstock_domain::{Currency, Date};
use backstock_export::{Chart, Format, Opening, Range, Txn};
use backstock_ledger::{Entry, Event, LineKind, MoneyAccount, Provenance};
use backstock_store::Store;

pub use backstock_export::Format as ExportFormat;

/// The chart file's name in a label's data directory.
pub const CHART_FILE: &str = "chart-of-accounts.csv";

/// The file of an entry that looks like an open statement of opening.csv (one
/// adjustment line, no SKU, from a file): what the export checks further.
fn opening_candidate(e: &Entry) -> Option<&str> {
    let Event::Statement(st) = &e.event else {
        return None;
    };
    let [line] = st.lines.as_slice() else {
        return None;
    };
    if line.kind != LineKind::Adjustment || line.sku.is_some() {
        return None;
    }
    match &e.provenance {
        Provenance::File { sha256, .. } => Some(sha256),
        _ => None,
    }
}

/// Whether an original is an opening.csv (its header names that kind).
fn is_opening_file(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let first = text.lines().next().unwrap_or("");
    backstock_ingest::Kind::detect(first) == Some(backstock_ingest::Kind::Opening)
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub format: Format,
    pub from: Date,
    pub to: Date,
    /// Only money in this currency (Xero and QuickBooks import one currency).
    pub currency: Option<Currency>,
}

/// The file, and what it holds.
#[derive(Debug, Clone)]
pub struct Exported {
    pub format: Format,
    /// A name to save it under: `backstock-2016-01-01-2016-06-30.beancount`.
    pub file_name: String,
    pub text: String,
    /// Transactions written (journal entries that moved money in the range).
    pub transactions: usize,
    pub from: Date,
    pub to: Date,
    /// What the accountant should know about the file (said beside it, never in it).
    pub notes: Vec<String>,
}

/// Parses a format name: beancount, csv-journal, xero, quickbooks.
pub fn parse_format(s: &str) -> Result<Format, AppError> {
    Format::parse(s).ok_or_else(|| {
        AppError::new(
            Exit::Input,
            format!(
                "unknown export format {s:?}: expected one of {}",
                Format::ALL.map(|f| f.as_str()).join(", ")
            ),
        )
    })
}

/// Where the label's chart file is.
pub fn chart_path(store: &Store) -> std::path::PathBuf {
    store
        .path()
        .parent()
        .map(|p| p.join(CHART_FILE))
        .unwrap_or_else(|| CHART_FILE.into())
}

/// The label's chart of accounts: its file over the default.
pub fn chart(store: &Store) -> Result<Chart, AppError> {
    let p = chart_path(store);
    match std::fs::read_to_string(&p) {
        Ok(text) => Chart::from_csv(&text)
            .map_err(|e| AppError::new(Exit::Input, format!("{}: {e}", p.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Chart::default()),
        Err(e) => Err(AppError::new(Exit::Other, format!("{}: {e}", p.display())).with_source(e)),
    }
}

/// An entry in words, for the narration.
pub fn describe(e: &Entry) -> String {
    match &e.event {
        Event::Statement(s) => format!(
            "Statement {} from {} ({} to {})",
            s.statement_id, s.distributor, s.period_start, s.period_end
        ),
        Event::PaymentReceived {
            payment_id,
            distributor,
            statement_id,
            ..
        } => match statement_id {
            Some(st) => format!("Payment {payment_id} from {distributor} for {st}"),
            None => format!("Payment {payment_id} from {distributor}"),
        },
        Event::DeductionAccepted {
            distributor,
            statement_id,
            note,
            ..
        } => format!("Deduction accepted: {distributor} on {statement_id} {note}")
            .trim_end()
            .to_string(),
        Event::ReceivableWrittenOff {
            distributor,
            reason,
            ..
        } => format!("Written off: {distributor} ({reason})"),
        Event::BuyBack {
            buyback_id,
            holder,
            paid_to,
            ..
        } => format!("Buy-back {buyback_id} from {holder}, paid to {paid_to}"),
        Event::Correction {
            reverses, reason, ..
        } => format!("Correction reversing {reverses}: {reason}"),
        Event::RoyaltyRun(r) => format!("Royalty run {}", r.period),
        Event::RoyaltyPaid(p) => match &p.reference {
            Some(r) => format!("Royalties paid to {} ({r})", p.payee),
            None => format!("Royalties paid to {}", p.payee),
        },
        other => format!("{} {}", other.name().replace('_', " "), e.id),
    }
}

/// The transactions of entries effective from `from` to `to`, and the opening balances
/// before `from`.
async fn gather(
    store: &Store,
    from: Date,
    to: Date,
    currency: Option<Currency>,
) -> Result<(Opening, Vec<Txn>), AppError> {
    let mut before: Vec<(MoneyAccount, MoneyAccount, u64)> = Vec::new();
    let mut txns: Vec<Txn> = Vec::new();
    let mut failed: Option<AppError> = None;
    // Transactions that may be an open statement of opening.csv, with their file.
    let mut candidates: Vec<(usize, String)> = Vec::new();
    // Every such statement seen (in the range or before it), by entry id: a
    // correction reversing one is brought forward like it.
    let mut candidate_files: std::collections::HashMap<String, String> = Default::default();
    let keep = |a: &MoneyAccount| currency.is_none_or(|c| a.currency() == c);
    store
        .for_each_money_effect(None, Some(to), |seq, e, money| {
            if failed.is_some() {
                return Ok(());
            }
            let money: Vec<_> = money.into_iter().filter(|m| keep(&m.debit)).collect();
            if money.is_empty() {
                return Ok(());
            }
            let file = opening_candidate(&e)
                .map(str::to_string)
                .or_else(|| match &e.event {
                    Event::Correction { reverses, .. } => {
                        candidate_files.get(reverses.as_str()).cloned()
                    }
                    _ => None,
                });
            if let (Some(f), Event::Statement(_)) = (&file, &e.event) {
                candidate_files.insert(e.id.to_string(), f.clone());
            }
            if e.effective_on < from {
                before.extend(money.into_iter().map(|m| (m.debit, m.credit, m.amount)));
                return Ok(());
            }
            match Txn::from_postings(
                seq,
                e.effective_on,
                e.id.as_str(),
                e.event.name(),
                describe(&e),
                money.iter().map(|m| (&m.debit, &m.credit, m.amount)),
            ) {
                Ok(Some(t)) => {
                    if let Some(sha) = file {
                        candidates.push((txns.len(), sha));
                    }
                    txns.push(t)
                }
                Ok(None) => {}
                Err(err) => failed = Some(AppError::new(Exit::Other, err.to_string())),
            }
            Ok(())
        })
        .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    // An open statement of the label's opening balances was income in its earlier
    // books: in a range that holds its day, it is brought forward (to the
    // opening-balances equity account), not this period's income.
    let mut opening_files: std::collections::BTreeMap<String, bool> = Default::default();
    for (i, sha) in candidates {
        let is_opening = match opening_files.get(&sha) {
            Some(v) => *v,
            None => {
                let v = store
                    .file_bytes(&sha)
                    .await?
                    .is_some_and(|bytes| is_opening_file(&bytes));
                opening_files.insert(sha, v);
                v
            }
        };
        if is_opening {
            if let Some(t) = txns.get_mut(i) {
                t.bring_forward();
            }
        }
    }
    let opening = Opening::from_postings(before.iter().map(|(d, c, a)| (d, c, *a)))
        .map_err(|e| AppError::new(Exit::Other, e.to_string()))?;
    txns.sort_by_key(|t| (t.date, t.seq));
    Ok((opening, txns))
}

/// The books of a date range in one format.
pub async fn export(store: &Store, req: &ExportRequest) -> Result<Exported, AppError> {
    use tracing::Instrument as _;
    let span = tracing::info_span!("export", format = req.format.as_str());
    export_in(store, req).instrument(span).await
}

async fn export_in(store: &Store, req: &ExportRequest) -> Result<Exported, AppError> {
    if req.from > req.to {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "--from {} is after --to {}: give the first and the last day of the range",
                req.from, req.to
            ),
        ));
    }
    let chart = chart(store)?;
    let (opening, txns) = gather(store, req.from, req.to, req.currency).await?;
    let title = store
        .meta("label_name")
        .await?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "The label".into());
    let range = Range {
        from: req.from,
        to: req.to,
        title,
    };
    let text = backstock_export::render(req.format, &range, &chart, &opening, &txns)
        .map_err(|e| AppError::new(Exit::Input, e.to_string()))?;
    let suffix = match req.format {
        Format::Beancount => "",
        Format::CsvJournal => "-journal",
        Format::Xero => "-xero",
        Format::QuickBooks => "-quickbooks",
    };
    let mut notes = Vec::new();
    let in_currency = req
        .currency
        .map(|c| format!(" in {}", c.code()))
        .unwrap_or_default();
    if txns.is_empty() && opening.lines.is_empty() {
        notes.push(format!(
            "no money{in_currency} moved from {} to {}: the file holds no transaction",
            req.from, req.to
        ));
    }
    if let (Some(c), Format::Xero | Format::QuickBooks) = (req.currency, req.format) {
        notes.push(format!(
            "the amounts are in {} as recorded, never converted, and the accounts are those of the chart (the same for every currency): {} journals are in the organisation's base currency, so import this file into an organisation whose base currency is {}, or convert it first",
            c.code(),
            if req.format == Format::Xero { "Xero manual" } else { "QuickBooks" },
            c.code()
        ));
    }
    Ok(Exported {
        notes,
        format: req.format,
        file_name: format!(
            "backstock-{}-{}{suffix}.{}",
            req.from,
            req.to,
            req.format.extension()
        ),
        text,
        transactions: txns.len(),
        from: req.from,
        to: req.to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_unknown_ones_are_named() {
        assert_eq!(parse_format("beancount").unwrap(), Format::Beancount);
        assert_eq!(parse_format("QuickBooks").unwrap(), Format::QuickBooks);
        assert_eq!(parse_format("csv-journal").unwrap(), Format::CsvJournal);
        let e = parse_format("ledger").unwrap_err();
        assert!(e
            .message()
            .contains("beancount, csv-journal, xero, quickbooks"));
    }

    #[tokio::test]
    async fn the_demo_exports_balanced_books_that_match_its_balances() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        crate::demo::load(&dir, None).await.unwrap();
        let store = Store::open(&dir, false).await.unwrap();
        let from = Date::parse("2012-01-01").unwrap();
        let to = Date::parse("2199-12-31").unwrap();
        let (opening, txns) = gather(&store, from, to, None).await.unwrap();
        assert!(opening.lines.is_empty());
        assert!(txns.len() > 100);
        // Every transaction balances per currency.
        for t in &txns {
            assert!(t.sums().values().all(|v| *v == 0), "{}", t.entry_id);
        }
        // Summed, they are the ledger's money balances, account by account.
        let mut sums: std::collections::BTreeMap<(String, String, String), i128> =
            Default::default();
        for t in &txns {
            for l in &t.lines {
                *sums
                    .entry((
                        l.counterparty.clone(),
                        l.kind.as_str().to_string(),
                        l.currency.code().to_string(),
                    ))
                    .or_default() += i128::from(l.amount_minor);
            }
        }
        sums.retain(|_, v| *v != 0);
        let mut ledger: std::collections::BTreeMap<(String, String, String), i128> =
            Default::default();
        for r in store.balances(None, None).await.unwrap() {
            if r.balance_minor != 0 {
                *ledger
                    .entry((r.counterparty, r.kind, r.currency))
                    .or_default() += i128::from(r.balance_minor);
            }
        }
        ledger.retain(|_, v| *v != 0);
        assert_eq!(sums, ledger);

        // A later range brings the earlier balances forward and still ties out.
        let mid = Date::parse("2015-01-01").unwrap();
        let (opening, later) = gather(&store, mid, to, None).await.unwrap();
        assert!(!opening.lines.is_empty());
        assert!(later.len() < txns.len());
        let out = export(
            &store,
            &ExportRequest {
                format: Format::Beancount,
                from: mid,
                to,
                currency: None,
            },
        )
        .await
        .unwrap();
        assert!(out.text.contains("Balances brought forward to 2015-01-01"));
        assert_eq!(out.transactions, later.len());
    }

    #[tokio::test]
    async fn a_bad_chart_file_is_refused_with_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), true).await.unwrap();
        std::fs::write(chart_path(&store), "kind,beancount\ncash,Bank\n").unwrap();
        let e = chart(&store).unwrap_err();
        assert!(e.message().contains(CHART_FILE) && e.message().contains("Assets"));
        let e = export(
            &store,
            &ExportRequest {
                format: Format::Xero,
                from: Date::parse("2016-02-01").unwrap(),
                to: Date::parse("2016-01-01").unwrap(),
                currency: None,
            },
        )
        .await
        .unwrap_err();
        assert!(e.message().contains("after"), "{}", e.message());
    }
}
