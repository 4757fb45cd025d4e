//! backstock-app: what a label does with backstock — import, demo, risk, shipping,
//! mappings — as functions over a [`Store`](backstock_store::Store). The CLI and the web
//! app both call these; neither holds business logic of its own.

pub mod actions;
pub mod aliases;
pub mod backup;
pub mod books;
pub mod buyback_offer;
pub mod claim_pack;
pub mod correct;
pub mod deductions;
pub mod demands;
pub mod demo;
pub mod export;
pub mod gen;
pub mod import;
pub mod insolvency;
pub mod mapping;
pub mod output;
pub mod paperwork;
pub mod payouts;
pub mod preview;
pub mod risk;
pub mod royalties;
pub mod thresholds;
pub mod timing;

use backstock_domain::Date;
use backstock_store::StoreError;

/// Exit codes (documented in the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Something else went wrong (I/O, database).
    Other = 1,
    /// An input file or argument is invalid; nothing was recorded.
    Input = 3,
    /// The ledger refused (not enough stock, conflicting id, credit hold); nothing was recorded.
    Refused = 4,
    /// `verify` found the journal does not match its hashes.
    Tampered = 5,
    /// No database in the data directory.
    NotInitialized = 6,
}

#[derive(Debug)]
pub struct AppError {
    exit: Exit,
    message: String,
    /// What caused it, kept for the server's log (never shown to a web client).
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AppError {
    pub fn new(exit: Exit, message: impl Into<String>) -> AppError {
        AppError {
            exit,
            message: message.into(),
            source: None,
        }
    }
    /// Keeps `source` as the cause.
    pub fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> AppError {
        self.source = Some(Box::new(source));
        self
    }
    /// The message and every cause below it, for a log: `a: b: c`.
    pub fn chain(&self) -> String {
        let mut out = self.message.clone();
        let mut next: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = next {
            let text = e.to_string();
            if !out.contains(&text) {
                out.push_str(": ");
                out.push_str(&text);
            }
            next = e.source();
        }
        out
    }
    /// How the process should exit.
    pub fn exit(&self) -> Exit {
        self.exit
    }
    /// What to tell the user.
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn context(mut self, c: String) -> AppError {
        self.message = format!("{}\n  ({c})", self.message);
        self
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        let exit = match &e {
            StoreError::NotInitialized(_) => Exit::NotInitialized,
            StoreError::Refused(_) | StoreError::Conflict { .. } => Exit::Refused,
            StoreError::Corrupt(_) => Exit::Tampered,
            _ => Exit::Other,
        };
        let mut message = e.to_string();
        // Stock short at the label: most often stock made before the label started
        // with backstock. Say how to record it rather than leave the owner stuck.
        if message.contains("from label, which holds only") {
            message.push_str(
                "\n  (to record stock the label already has — made before you started with backstock — import an opening.csv first: a line `stock,DATE,label,SKU,UNITS,,,,` for each release and holder, dated on or before this file's first date; see docs/formats.md, \"opening.csv\")",
            );
        }
        AppError::new(exit, message).with_source(e)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The first of `base`, `base:2`, … `base:max` with no entry on record (ids are never
/// reused: a payout or a held posting recorded again after a reversal takes the next);
/// `None` when all are taken.
pub(crate) async fn first_unused_id(
    store: &backstock_store::Store,
    base: &str,
    max: u32,
) -> Result<Option<String>, AppError> {
    for n in 1..=max {
        let id = if n == 1 {
            base.to_string()
        } else {
            format!("{base}:{n}")
        };
        if store.entry(&id).await?.is_none() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Versions of one keyed id (`base`, `base:2`, …) tried before a keyed action is
/// refused as corrected too many times.
const MAX_KEYED_VERSIONS: u32 = 1000;

/// The id an entry keyed as `base` is recorded under: the first of `base`, `base:2`, …
/// that is not on record (`(id, None)`: a new entry) or stands (`(id, Some(entry))`: the
/// same action keyed again is already recorded, another under that id is refused).
/// Versions a correction reversed (`gone`) are passed over, so what was corrected
/// can be keyed again and counts. `None` when every version is taken.
pub(crate) async fn standing_id(
    store: &backstock_store::Store,
    base: &str,
    gone: &std::collections::BTreeSet<String>,
) -> Result<Option<(String, Option<backstock_ledger::Entry>)>, AppError> {
    for n in 1..=MAX_KEYED_VERSIONS {
        let id = if n == 1 {
            base.to_string()
        } else {
            format!("{base}:{n}")
        };
        match store.entry(&id).await? {
            None => return Ok(Some((id, None))),
            Some((_, e, _)) if !gone.contains(&id) => return Ok(Some((id, Some(e)))),
            Some(_) => continue,
        }
    }
    Ok(None)
}

/// Gives each keyed entry whose id a correction reversed the next version of it
/// ([`standing_id`]): a payment, order, return, receipt, filing, demand or answer keyed
/// again after its correction is recorded, not reported as "already recorded" while
/// the books leave it out. Entries whose id is free or standing keep it.
pub(crate) async fn rekey_reversed(
    store: &backstock_store::Store,
    entries: &mut [backstock_ledger::Entry],
) -> Result<(), AppError> {
    let mut gone: Option<std::collections::BTreeSet<String>> = None;
    for e in entries.iter_mut() {
        if store.entry(e.id.as_str()).await?.is_none() {
            continue;
        }
        let gone = match &mut gone {
            Some(g) => &*g,
            None => &*gone.insert(crate::correct::reversed_ids(store, None).await?),
        };
        if !gone.contains(e.id.as_str()) {
            continue;
        }
        let base = e.id.to_string();
        let (id, _) = standing_id(store, &base, gone).await?.ok_or_else(|| {
            AppError::new(
                Exit::Refused,
                format!("{base} was recorded and corrected {MAX_KEYED_VERSIONS} times; nothing was recorded"),
            )
        })?;
        e.id = backstock_ledger::EntryId::new(id)
            .map_err(|x| AppError::new(Exit::Input, x.to_string()))?;
    }
    Ok(())
}

/// A journal entry recorded by `user` through a command (`command` is what they ran,
/// for the provenance): effective on `on`, known on `known`.
pub fn command_entry(
    id: String,
    on: Date,
    known: Date,
    user: &str,
    command: String,
    event: backstock_ledger::Event,
) -> Result<backstock_ledger::Entry, AppError> {
    Ok(backstock_ledger::Entry {
        id: backstock_ledger::EntryId::new(id)
            .map_err(|e| AppError::new(Exit::Input, e.to_string()))?,
        effective_on: on,
        known_on: known,
        provenance: backstock_ledger::Provenance::Command {
            user: user.to_string(),
            command,
        },
        event,
    })
}

/// Every entry of `kinds` recorded so far, with the corrections that may reverse them:
/// what a use case reads through [`backstock_records::Records`] before it decides.
pub(crate) async fn standing_entries(
    store: &backstock_store::Store,
    kinds: &[backstock_ledger::EntryKind],
) -> Result<Vec<backstock_ledger::Entry>, AppError> {
    let mut all = kinds.to_vec();
    all.push(backstock_ledger::EntryKind::Correction);
    Ok(store
        .entries(&all, None)
        .await?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

/// Refuses a distributor the label has no agreement with.
/// Refuses a date after the label's today for something that has happened (a filing,
/// a notice, a demand, a receipt): recorded, it would stay out of every report until
/// that day, and a mistyped year would go unseen.
pub(crate) fn not_after_today(
    flag: &str,
    on: backstock_domain::Date,
    today: backstock_domain::Date,
) -> Result<(), AppError> {
    if on > today {
        return Err(AppError::new(
            Exit::Input,
            format!("{flag} {on} is after the label's today ({today}); record it when it happens"),
        ));
    }
    Ok(())
}

pub(crate) fn require_agreement(
    records: &backstock_records::Records<'_>,
    d: &backstock_domain::PartyId,
) -> Result<(), AppError> {
    if records.agreements.contains_key(d) {
        return Ok(());
    }
    Err(AppError::new(
        Exit::Input,
        format!("{d} has no agreement on record (import distributors.csv first)"),
    ))
}

/// Who is acting, for the journal: `$USER` on the command line.
pub fn user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}

/// Today (UTC) as a date.
pub fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Date::from_days_since_epoch((secs / 86400) as i32).unwrap_or(Date::EARLIEST)
}
