//! Closing the books: a month closed (`backstock books close 2016-05`) accepts no more
//! entries, so its reports — and the accountant's export of it — never change. An entry
//! dated into a closed month, or into an earlier month (it would change the closed
//! month's balances), is refused with a sentence naming the closed month and how to
//! reopen it; only an owner reopens a month, with a written reason. Facts (catalog
//! items, aliases, agreements, filings — reference data is dated 1900-01-01) post
//! nothing and are not refused.
//!
//! [`record`] and [`record_all`] are the one place the label's entries are appended
//! (every use case records through them); they check the closed months first.
//!
//! Closes and reopens are kept as an append-only log in the store's `meta` table
//! (`books:000001`, … — each action one new key with who, when and why), read back in
//! order; `books list` shows it.

use crate::{AppError, Exit};
use backstock_domain::Date;
use backstock_ledger::Entry;
use backstock_store::{RecordOutcome, SourceFile, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

const PREFIX: &str = "books:";

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// `2016-05`.
    pub fn parse(s: &str) -> Result<Month, AppError> {
        let bad = || {
            AppError::new(
                Exit::Input,
                format!("{s:?} is not a month: write it as YYYY-MM (2016-05)"),
            )
        };
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        Date::from_ymd(year, month, 1).map_err(|_| bad())?;
        Ok(Month { year, month })
    }
    pub fn of(d: Date) -> Month {
        Month {
            year: d.year(),
            month: d.month(),
        }
    }
    pub fn first_day(self) -> Date {
        Date::from_ymd(self.year, self.month, 1).unwrap_or(Date::EARLIEST)
    }
    pub fn last_day(self) -> Date {
        self.first_day().last_of_month()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One close or reopen, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookAction {
    /// `close` or `reopen`.
    pub action: String,
    pub month: Month,
    pub by: String,
    /// When (UTC, `YYYY-MM-DDTHH:MM:SSZ`).
    pub at: String,
    /// Why (a reopen's written reason).
    #[serde(default)]
    pub reason: String,
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let s = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::today(),
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// The log, oldest first.
pub async fn log(store: &Store) -> Result<Vec<BookAction>, AppError> {
    let mut rows = store.meta_with_prefix(PREFIX).await?;
    rows.sort();
    rows.into_iter()
        .map(|(k, v)| {
            serde_json::from_str(&v).map_err(|e| {
                AppError::new(
                    Exit::Tampered,
                    format!("{k} in the store is unreadable: {e}"),
                )
            })
        })
        .collect()
}

/// The months closed now.
pub async fn closed(store: &Store) -> Result<BTreeSet<Month>, AppError> {
    let mut out = BTreeSet::new();
    for a in log(store).await? {
        match a.action.as_str() {
            "close" => {
                out.insert(a.month);
            }
            _ => {
                out.remove(&a.month);
            }
        }
    }
    Ok(out)
}

async fn append(store: &Store, a: &BookAction) -> Result<(), AppError> {
    let n = store.meta_with_prefix(PREFIX).await?.len() + 1;
    let text = serde_json::to_string(a)
        .map_err(|e| AppError::new(Exit::Other, format!("cannot write the log: {e}")))?;
    store.set_meta(&format!("{PREFIX}{n:06}"), &text).await?;
    Ok(())
}

/// What closing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub month: Month,
    /// False when it was closed already (nothing logged).
    pub new: bool,
}

/// Closes a month that has ended (by the label's today).
pub async fn close(store: &Store, month: Month, by: &str) -> Result<Closed, AppError> {
    let today = crate::risk::today(store).await?;
    if month.last_day() >= today {
        return Err(AppError::new(
            Exit::Refused,
            format!(
                "{month} has not ended yet (today is {today}): a month is closed after its last day"
            ),
        ));
    }
    if closed(store).await?.contains(&month) {
        return Ok(Closed { month, new: false });
    }
    append(
        store,
        &BookAction {
            action: "close".into(),
            month,
            by: by.to_string(),
            at: now(),
            reason: String::new(),
        },
    )
    .await?;
    tracing::info!(%month, by, "books closed");
    Ok(Closed { month, new: true })
}

/// Reopens a closed month, with a written reason (the caller checks it is an owner).
pub async fn reopen(
    store: &Store,
    month: Month,
    by: &str,
    reason: &str,
) -> Result<Reopened, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::new(
            Exit::Input,
            format!("say why {month} is reopened (--reason \"…\"): it goes in the log"),
        ));
    }
    if !closed(store).await?.contains(&month) {
        return Err(AppError::new(
            Exit::Refused,
            format!("{month} is not closed; nothing to reopen"),
        ));
    }
    append(
        store,
        &BookAction {
            action: "reopen".into(),
            month,
            by: by.to_string(),
            at: now(),
            reason: reason.to_string(),
        },
    )
    .await?;
    tracing::info!(%month, by, reason, "books reopened");
    let still_closed: Vec<Month> = closed(store)
        .await?
        .into_iter()
        .filter(|m| *m > month)
        .collect();
    Ok(Reopened {
        month,
        still_closed,
    })
}

/// What [`reopen`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reopened {
    pub month: Month,
    /// Later months still closed: entries dated into the reopened month are refused
    /// while any of them is (they would change its closing balances).
    pub still_closed: Vec<Month>,
}

impl Reopened {
    /// What to tell the user, with `reason`.
    pub fn said(&self, reason: &str) -> String {
        let mut s = format!("Reopened {} ({}).", self.month, reason.trim());
        if let Some(last) = self.still_closed.last() {
            s.push_str(&format!(
                " Entries dated into {} are still refused while {} stay{} closed: reopen {} too (latest first).",
                self.month,
                self.still_closed.iter().map(Month::to_string).collect::<Vec<_>>().join(", "),
                if self.still_closed.len() == 1 { "s" } else { "" },
                if self.still_closed.len() == 1 { last.to_string() } else { "them".to_string() }
            ));
        }
        s
    }
}

/// Refuses entries dated into a closed month, or before one (they would change its
/// closing balances).
pub fn check(closed: &BTreeSet<Month>, entries: &[&Entry]) -> Result<(), AppError> {
    let Some(last) = closed.iter().next_back() else {
        return Ok(());
    };
    for e in entries {
        // Facts (reference data dated 1900-01-01, filings, notes) post nothing: the
        // closed month's balances cannot change by them.
        if matches!(e.event, backstock_ledger::Event::Fact(_)) {
            continue;
        }
        let m = Month::of(e.effective_on);
        if m > *last {
            continue;
        }
        let blocking: Vec<String> = closed.range(m..).map(|c| c.to_string()).collect();
        let first = closed.range(m..).next().copied().unwrap_or(*last);
        let what = if first == m {
            format!("in {m}, whose books are closed")
        } else {
            format!(
                "before the closed books of {} (it would change them)",
                blocking.join(", ")
            )
        };
        // A correction can instead take effect in the first open month.
        let instead = match &e.event {
            backstock_ledger::Event::Correction { reverses, .. } => {
                let open = last.last_day().add_days(1);
                format!(
                    " Or let the correction take effect in an open month: backstock correct {reverses} --reason \"…\" --on {open} (or a later day)"
                )
            }
            _ => String::new(),
        };
        return Err(AppError::new(
            Exit::Refused,
            format!(
                "entry {} is dated {}, {what}; nothing was recorded. An owner can reopen {} (the Books page, or `backstock books reopen {} --reason \"…\"`){instead}",
                e.id,
                e.effective_on,
                if blocking.len() == 1 { "it" } else { "them" },
                blocking.join(" / ")
            ),
        ));
    }
    Ok(())
}

/// Refuses entries dated into (or before) a closed month, for a caller that records
/// them itself (an import reports the store's outcome in its own words).
pub async fn refuse_closed(store: &Store, entries: &[Entry]) -> Result<(), AppError> {
    let c = closed(store).await?;
    check(&c, &entries.iter().collect::<Vec<_>>())
}

/// Records a batch of entries (and the file they came from) — unless one is dated into
/// a closed month. The one place entries are appended for the label.
pub async fn record(
    store: &Store,
    entries: &[Entry],
    file: Option<SourceFile>,
) -> Result<RecordOutcome, AppError> {
    let c = closed(store).await?;
    check(&c, &entries.iter().collect::<Vec<_>>())?;
    Ok(store.record(entries, file).await?)
}

/// [`record`], taking the entries (a large import is not held twice).
pub async fn record_all(
    store: &Store,
    entries: Vec<Entry>,
    file: Option<SourceFile>,
) -> Result<RecordOutcome, AppError> {
    let c = closed(store).await?;
    check(&c, &entries.iter().collect::<Vec<_>>())?;
    Ok(store.record_all(entries, file).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly() {
        assert_eq!(Month::parse("2016-05").unwrap().to_string(), "2016-05");
        for bad in ["2016-5", "2016-13", "May 2016", "2016/05", ""] {
            assert_eq!(Month::parse(bad).unwrap_err().exit(), Exit::Input, "{bad}");
        }
        let m = Month::parse("2016-02").unwrap();
        assert_eq!(m.last_day().to_string(), "2016-02-29");
    }

    #[tokio::test]
    async fn closing_refuses_entries_into_and_before_a_closed_month() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path(), true).await.unwrap();
        store.set_meta("today", "2016-07-15").await.unwrap();
        let may = Month::parse("2016-05").unwrap();
        assert!(close(&store, may, "ann").await.unwrap().new);
        assert!(!close(&store, may, "ann").await.unwrap().new);
        let e = close(&store, Month::parse("2016-07").unwrap(), "ann")
            .await
            .unwrap_err();
        assert!(e.message().contains("has not ended"));
        let entry = |d: &str| {
            crate::command_entry(
                format!("payment:{d}"),
                Date::parse(d).unwrap(),
                Date::parse(d).unwrap(),
                "ann",
                "test".into(),
                backstock_ledger::Event::PaymentReceived {
                    payment_id: format!("P{d}"),
                    distributor: backstock_domain::PartyId::parse("northwind").unwrap(),
                    amount: backstock_domain::Money::from_minor(
                        100,
                        backstock_domain::Currency::USD,
                    ),
                    statement_id: None,
                },
            )
            .unwrap()
        };
        let c = closed(&store).await.unwrap();
        let e = check(&c, &[&entry("2016-05-20")]).unwrap_err();
        assert_eq!(e.exit(), Exit::Refused);
        assert!(
            e.message().contains("in 2016-05, whose books are closed")
                && e.message().contains("books reopen 2016-05 --reason"),
            "{}",
            e.message()
        );
        let e = check(&c, &[&entry("2016-04-02")]).unwrap_err();
        assert!(e.message().contains("before the closed books of 2016-05"));
        check(&c, &[&entry("2016-06-01")]).unwrap();
        // A fact (reference data, dated 1900-01-01) posts nothing: not refused.
        let mut fact = entry("2016-05-20");
        fact.effective_on = Date::EARLIEST;
        fact.event = backstock_ledger::Event::Fact(backstock_ledger::Fact::Alias {
            code: "C1".into(),
            sku: backstock_domain::Sku::parse("MRG-001-CD").unwrap(),
        });
        check(&c, &[&fact]).unwrap();
        // Reopening needs a reason, and a closed month.
        assert_eq!(
            reopen(&store, may, "ann", " ").await.unwrap_err().exit(),
            Exit::Input
        );
        reopen(&store, may, "ann", "late credit note")
            .await
            .unwrap();
        assert!(closed(&store).await.unwrap().is_empty());
        assert_eq!(
            reopen(&store, may, "ann", "again")
                .await
                .unwrap_err()
                .exit(),
            Exit::Refused
        );
        let l = log(&store).await.unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].reason, "late credit note");
        // Reopening a month under a later closed one says entries into it are still
        // refused (it said "Reopened" and nothing more).
        let june = Month::parse("2016-06").unwrap();
        close(&store, may, "ann").await.unwrap();
        close(&store, june, "ann").await.unwrap();
        let r = reopen(&store, may, "ann", "late credit note")
            .await
            .unwrap();
        assert_eq!(r.still_closed, vec![june]);
        let said = r.said("late credit note");
        assert!(
            said.contains("still refused while 2016-06 stays closed"),
            "{said}"
        );
        let c = closed(&store).await.unwrap();
        assert!(check(&c, &[&entry("2016-05-20")]).is_err());
        let r = reopen(&store, june, "ann", "same").await.unwrap();
        assert!(r.still_closed.is_empty() && !r.said("same").contains("still"));
        check(&closed(&store).await.unwrap(), &[&entry("2016-05-20")]).unwrap();
    }
}
