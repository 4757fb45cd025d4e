//! Artist royalties: payees, contracts and costs as data; period runs that post to the
//! ledger and lock; statements reproduced exactly as sent.
//!
//! Rules kept here (the computation itself is `backstock-royalties`):
//! * **Contract versions.** A contract's version in force on a period's last day
//!   governs the whole period; a newer version supersedes from its effective date,
//!   nothing is rewritten.
//! * **Runs lock.** A period is run once (`royalty-run:PERIOD`); running it again
//!   changes nothing; an earlier or overlapping period after a later one is refused,
//!   and so is a gap (periods run in order).
//! * **Late entries roll forward.** An entry recorded after the previous run but
//!   belonging to a locked period (a statement or payment dated in it, a cost dated in
//!   it) is taken as known on the first day of the period being run, so it is
//!   accounted now and the sent statement is never rewritten. The first run also
//!   charges costs dated before it (unrecouped advances carried in). A statement
//!   accounted in a locked period and reversed since is **charged back** the same way:
//!   taken negated, as known on the first day of the period being run — by the first
//!   run made after the correction was recorded, whenever it was known (a reissue
//!   imported with its own earlier issue date then never counts beside the original).
//! * **In default.** A distributor is in default at a period's end when its risk level
//!   is `critical`, or it refused a demand to return the label's stock (as known by
//!   then), or a failure on record is dated by then — whenever the label recorded it.
//! * **Tie-out.** Every run checks Σ payee royalties + rounding + label share +
//!   distributor reserves = receipts, per currency, to the cent; a run that does not
//!   tie is refused.

pub mod files;

use crate::output::{self, Format, Table};
use crate::{AppError, Exit};
use backstock_domain::{Currency, Date, Money, PartyId, Rate, Sku};
use backstock_ingest::{Context, Decoder, Encoding};
use backstock_ledger::facts::{
    Agreement, CatalogItem, DemandOutcome, PayeeRecord, RoyaltyContract, RoyaltyCost,
};
use backstock_ledger::EntryKind;
use backstock_ledger::{Entry, EntryId, Event, Fact, Provenance, RoyaltyPosting, RoyaltyRun};
use backstock_royalties::{
    compute_journal, Contract, ContractTerms, Cost, Journal, OpeningBalances, PayeeStatement,
    Period, RateRule, RoyaltyError, RoyaltyInputs, RunResult,
};
use backstock_royalty_statement as doc;
use backstock_store::{RecordOutcome, SourceFile, Store};
use files::{RoyaltyContext, RoyaltyFile};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn input(e: impl std::fmt::Display) -> AppError {
    AppError::new(Exit::Input, e.to_string())
}

/// A contract record as the royalties computation takes it (checked terms).
pub(crate) fn contract_of(r: &RoyaltyContract) -> Result<Contract, RoyaltyError> {
    Contract::new(ContractTerms {
        id: r.contract_id.clone(),
        payees: r
            .payees
            .iter()
            .map(|s| (s.payee.clone(), s.share))
            .collect(),
        skus: r.skus.clone(),
        basis: r.basis,
        rules: r
            .rules
            .iter()
            .map(|x| RateRule {
                channel: x.channel,
                format: x.format.clone(),
                base: x.base,
                rate: x.rate,
                territory: x.territory.clone(),
                service: x.service.clone(),
            })
            .collect(),
        cross_collateralized: r.cross_collateralized,
        reserve_rate: r.reserve_rate,
        reserve_release_periods: r.reserve_release_periods,
        min_payout: r.min_payout,
    })
}

// ---------------------------------------------------------------- import

/// Royalty files with their kind, in import order.
pub type RoyaltyFiles = Vec<(PathBuf, RoyaltyFile)>;

/// Separates royalty files (payees, contracts, costs: detected by header) from the
/// others. Only when no `--kind` or `--mapping` forces a kind.
pub fn split_files(
    files: Vec<PathBuf>,
    encoding: Option<Encoding>,
) -> Result<(RoyaltyFiles, Vec<PathBuf>), AppError> {
    let mut royalty = Vec::new();
    let mut rest = Vec::new();
    for f in files {
        match detect(&f, encoding)? {
            Some(k) => royalty.push((f, k)),
            None => rest.push(f),
        }
    }
    royalty.sort_by_key(|(_, k)| *k);
    Ok((royalty, rest))
}

fn detect(path: &Path, encoding: Option<Encoding>) -> Result<Option<RoyaltyFile>, AppError> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| input(format!("{}: {e}", path.display())))?;
    let mut head = Vec::new();
    f.take(16 * 1024)
        .read_to_end(&mut head)
        .map_err(|e| input(format!("{}: {e}", path.display())))?;
    let enc = encoding.unwrap_or_else(|| Encoding::sniff(&head));
    let mut s = String::new();
    let _ = Decoder::new(head.as_slice(), enc).read_to_string(&mut s);
    Ok(RoyaltyFile::detect(s.lines().next().unwrap_or("")))
}

/// What royalty files may refer to. `codes`: the import's own context when other files
/// came first in the same command (so a dry run sees the catalog it previews).
async fn context(store: &Store, codes: Option<&Context>) -> Result<RoyaltyContext, AppError> {
    let codes = match codes {
        Some(c) => c.clone(),
        None => {
            let l = store.import_lookups().await?;
            Context::from_lookups(&l.catalog, &l.aliases, &l.agreements, l.digital_skus())
        }
    };
    let mut ctx = RoyaltyContext {
        distributors: codes.distributors.keys().cloned().collect(),
        codes,
        ..Default::default()
    };
    for (_, e) in store
        .entries(
            &[
                EntryKind::Payee,
                EntryKind::RoyaltyContract,
                EntryKind::RoyaltyCost,
            ],
            None,
        )
        .await?
    {
        ctx.learn(&e);
    }
    Ok(ctx)
}

/// Imports royalty files, each one transaction; the same bytes twice change nothing.
pub async fn import_files(
    store: &Store,
    files: &[(PathBuf, RoyaltyFile)],
    encoding: Option<Encoding>,
    dry_run: bool,
    codes: Option<&Context>,
    check: &crate::import::EntryCheck<'_>,
) -> Result<String, AppError> {
    use sha2::{Digest, Sha256};
    let mut report = String::new();
    if files.is_empty() {
        return Ok(report);
    }
    let mut ctx = context(store, codes).await?;
    for (path, kind) in files {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| input(format!("{shown}: {e}")))?;
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if let Some((at, _)) = store.file_imported(&sha).await? {
            report.push_str(&format!(
                "{shown}: already imported on {}; nothing changed\n",
                &at[..at.len().min(10)]
            ));
            continue;
        }
        ctx.file_name = shown.clone();
        ctx.file_sha256 = sha.clone();
        ctx.command = None;
        let enc = encoding.unwrap_or_else(|| Encoding::sniff(&bytes));
        let entries = files::read(*kind, Decoder::new(bytes.as_slice(), enc), &mut ctx)
            .map_err(|e| input(e.to_string().trim_end()))?;
        let n = entries.len();
        let summary = format!(
            "{n} {} line{} → {n} entr{}",
            kind.as_str(),
            if n == 1 { "" } else { "s" },
            if n == 1 { "y" } else { "ies" }
        );
        let refused = entries.iter().map(check).find_map(Result::err);
        if let Some(why) = refused {
            return Err(input(format!(
                "{shown}: {why}; nothing was recorded from this file"
            )));
        }
        if dry_run {
            report.push_str(&format!(
                "{shown}: would record {summary} (dry run: nothing changed)\n"
            ));
            report.push_str(&preview_rows(&entries));
        }
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        let file = SourceFile {
            sha256: sha,
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default(),
            kind: kind.as_str().into(),
            size: bytes.len() as u64,
            parts: vec![backstock_store::compress(&bytes)
                .map_err(|e| AppError::new(Exit::Other, format!("{shown}: {e}")))?],
            lines,
        };
        crate::books::refuse_closed(store, &entries).await?;
        let recorded = store.record(&entries, Some(file)).await;
        // A dry run records into its scratch copy of the books (see `import`), so what
        // the import would refuse is refused here too; only the report differs.
        let recorded = crate::import::recorded_report(&shown, &summary, recorded);
        if dry_run {
            recorded.map_err(|e| crate::import::would_refuse(e, &shown))?;
        } else {
            report.push_str(&recorded?);
        }
    }
    Ok(report)
}

/// The rows a payees, contracts or costs file would record, as indented lines (at most
/// [`crate::preview::MAX_ROWS`], the rest counted).
fn preview_rows(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries.iter().take(crate::preview::MAX_ROWS) {
        let row = match &e.event {
            Event::Fact(Fact::Payee(p)) => format!(
                "payee {}: {}{}",
                p.payee,
                p.name,
                if p.email.is_empty() {
                    String::new()
                } else {
                    format!(" <{}>", p.email)
                }
            ),
            Event::Fact(Fact::RoyaltyContract(c)) => format!(
                "contract {} from {}: {} ({} release{}), rates {} ({} basis), paying {}",
                c.contract_id,
                c.effective_from,
                c.title,
                c.skus.len(),
                if c.skus.len() == 1 { "" } else { "s" },
                // As contracts.csv writes them: scope (channel/format, @territory,
                // +service), base, rate.
                c.rules
                    .iter()
                    .map(files::rule_text)
                    .collect::<Vec<_>>()
                    .join(", "),
                format!("{:?}", c.basis).to_lowercase(),
                c.payees
                    .iter()
                    .map(|p| format!("{} {}", p.payee, files::percent(p.share)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Event::Fact(Fact::RoyaltyCost(c)) => format!(
                "cost {} on {}: {} {} to contract {}{}",
                c.cost_id,
                c.date,
                crate::output::money(c.amount),
                format!("{:?}", c.kind).to_lowercase(),
                c.contract_id,
                if c.recoupable { ", recoupable" } else { "" }
            ),
            _ => format!("entry {}", e.id),
        };
        out.push_str(&format!("  {row}\n"));
    }
    if entries.len() > crate::preview::MAX_ROWS {
        out.push_str(&format!(
            "  … and {} more\n",
            crate::output::thousands(
                i64::try_from(entries.len() - crate::preview::MAX_ROWS).unwrap_or(i64::MAX)
            )
        ));
    }
    out
}

// ---------------------------------------------------------------- reference data

/// Payees, contract versions and costs on file, in recording order.
#[derive(Default)]
struct Reference {
    payees: BTreeMap<PartyId, PayeeRecord>,
    contracts: BTreeMap<String, Vec<(i64, RoyaltyContract)>>,
    costs: Vec<(i64, RoyaltyCost)>,
}

/// The ids of the entries a correction reversed.
async fn reversed_ids(store: &Store) -> Result<BTreeSet<EntryId>, AppError> {
    Ok(store
        .entries(&[EntryKind::Correction], None)
        .await?
        .into_iter()
        .filter_map(|(_, e)| match e.event {
            Event::Correction { reverses, .. } => Some(reverses),
            _ => None,
        })
        .collect())
}

impl Reference {
    /// The entries of `kinds` on file, those a correction reversed left out (a payee,
    /// a contract version or a cost corrected is not on file); the reversed ones apart.
    async fn on_file(
        store: &Store,
        kinds: &[EntryKind],
        reversed: &BTreeSet<EntryId>,
    ) -> Result<(Reference, Vec<(i64, Entry)>), AppError> {
        let (gone, kept): (Vec<_>, Vec<_>) = store
            .entries(kinds, None)
            .await?
            .into_iter()
            .partition(|(_, e)| reversed.contains(&e.id));
        Ok((Reference::of(&kept), gone))
    }

    fn of(entries: &[(i64, Entry)]) -> Reference {
        let mut r = Reference::default();
        for (seq, e) in entries {
            match &e.event {
                Event::Fact(Fact::Payee(p)) => {
                    r.payees.insert(p.payee.clone(), p.clone());
                }
                Event::Fact(Fact::RoyaltyContract(c)) => r
                    .contracts
                    .entry(c.contract_id.clone())
                    .or_default()
                    .push((*seq, c.clone())),
                Event::Fact(Fact::RoyaltyCost(c)) => r.costs.push((*seq, c.clone())),
                _ => {}
            }
        }
        r
    }
    /// The version of each contract in force on `on` (latest effective date ≤ on;
    /// among equal dates, the later recorded).
    fn in_force(&self, on: Date) -> Vec<&RoyaltyContract> {
        self.contracts
            .values()
            .filter_map(|versions| {
                versions
                    .iter()
                    .filter(|(_, c)| c.effective_from <= on)
                    .max_by_key(|(seq, c)| (c.effective_from, *seq))
                    .map(|(_, c)| c)
            })
            .collect()
    }
    /// The version of contract `id` in force on `on`.
    fn version_on(&self, id: &str, on: Date) -> Option<&RoyaltyContract> {
        self.contracts
            .get(id)?
            .iter()
            .filter(|(_, c)| c.effective_from <= on)
            .max_by_key(|(seq, c)| (c.effective_from, *seq))
            .map(|(_, c)| c)
    }
    fn latest(&self, id: &str) -> Option<&RoyaltyContract> {
        self.contracts
            .get(id)?
            .iter()
            .max_by_key(|(seq, c)| (c.effective_from, *seq))
            .map(|(_, c)| c)
    }
}

/// What a run stores besides the postings (the `result` of the journal entry).
///
/// Runs recorded since issue 15 keep each payee's statement in its own row
/// (`royalty_statements`) and list here, hashed with the entry, the SHA-256 of each
/// statement's JSON (`statement_sha256`); `statements` is then empty in the entry and
/// filled from the rows when a caller asks for the statements. Earlier runs hold their
/// statements inline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRun {
    #[serde(default)]
    pub statements: Vec<doc::RoyaltyStatement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statement_sha256: Vec<StatementDigest>,
    pub tie_out: serde_json::Value,
    pub warnings: Vec<String>,
    pub closing: OpeningBalances,
    /// The run applied every correction recorded before it, whenever it was known
    /// (runs since this field: a statement reversed is left out or charged back by the
    /// first run made after its correction). Runs before it applied only corrections
    /// known by their period's end; the next run charges back what they did not see.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub corrections_as_recorded: bool,
}

/// A stored statement's payee and the hex SHA-256 of its JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDigest {
    pub payee: String,
    pub sha256: String,
}

impl StoredRun {
    /// How many statements the run stored.
    pub fn statement_count(&self) -> usize {
        self.statements.len().max(self.statement_sha256.len())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    let mut out = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

struct PreviousRun {
    seq: i64,
    period: Period,
    stored: StoredRun,
}

async fn runs(store: &Store) -> Result<Vec<(i64, RoyaltyRun)>, AppError> {
    let mut out = Vec::new();
    for (seq, e) in store.entries(&[EntryKind::RoyaltyRun], None).await? {
        if let Event::RoyaltyRun(r) = e.event {
            out.push((seq, r));
        }
    }
    Ok(out)
}

fn stored(run: &RoyaltyRun) -> Result<StoredRun, AppError> {
    serde_json::from_str(run.result.json()).map_err(|e| {
        AppError::new(
            Exit::Tampered,
            format!("the stored royalty run {} is unreadable: {e}", run.period),
        )
    })
}

async fn label_name(store: &Store) -> Result<String, AppError> {
    Ok(store
        .meta("label_name")
        .await?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "The label".into()))
}

/// Distributors in default on the snapshot's date: risk level critical, or a refused
/// demand. `snap` holds the entries of [`crate::risk::RISK_KINDS`] known on that date
/// (the risk computations read no other kind), under the label's thresholds `th`.
/// Statements closed short by the snapshot's date: nothing open on them, and part
/// settled by an accepted deduction or a write-off rather than cash.
fn settled_short(snap: &backstock_risk::Snapshot) -> BTreeSet<(PartyId, String)> {
    let mut out = BTreeSet::new();
    for r in backstock_risk::receivables::compute(snap, None) {
        for b in std::iter::once(&r.book).chain(&r.other_currencies) {
            for st in &b.statements {
                if st.open.is_zero() && !(st.deducted.is_zero() && st.written_off.is_zero()) {
                    out.insert((r.distributor.clone(), st.statement_id.clone()));
                }
            }
        }
    }
    out
}

fn defaulted(
    snap: &backstock_risk::Snapshot,
    th: &backstock_risk::Thresholds,
) -> BTreeSet<PartyId> {
    let mut out: BTreeSet<PartyId> = backstock_risk::signals::assess(snap, th)
        .into_iter()
        .filter(|a| a.level >= backstock_risk::Level::Critical)
        .map(|a| a.distributor)
        .collect();
    let mut demands: BTreeMap<String, PartyId> = BTreeMap::new();
    for e in &snap.entries {
        if let Event::Fact(Fact::Demand(d)) = &e.event {
            demands.insert(d.demand_id.clone(), d.distributor.clone());
        }
    }
    for e in &snap.entries {
        if let Event::Fact(Fact::DemandResponse(r)) = &e.event {
            if r.outcome == DemandOutcome::Refused {
                if let Some(d) = demands.get(&r.demand_id) {
                    out.insert(d.clone());
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------- run

pub struct RunArgs {
    pub period: String,
    pub dry_run: bool,
    /// The day the run is made (default: the label's today).
    pub on: Option<Date>,
    pub format: Format,
    /// The label's name as printed on statements (remembered for later runs).
    pub label_name: Option<String>,
}

/// Which runs exist, and whether `period` may run now. `Ok(Err(msg))`: already run.
fn check_order(
    period: &Period,
    runs: &[(i64, RoyaltyRun)],
) -> Result<Option<(i64, Period)>, AppError> {
    let mut last: Option<(i64, Period, Date)> = None;
    for (seq, r) in runs {
        let p =
            Period::parse(&r.period).map_err(|e| AppError::new(Exit::Tampered, e.to_string()))?;
        if last.as_ref().is_none_or(|(_, _, end)| r.period_end > *end) {
            last = Some((*seq, p, r.period_end));
        }
    }
    let Some((seq, lp, lend)) = last else {
        return Ok(None);
    };
    if period.end() <= lend {
        return Err(AppError::new(
            Exit::Refused,
            format!(
                "royalty period {period} ends on or before {lend}, the end of {lp}, which is already run and locked; later entries roll into the next period ({})",
                lp.plus(1).map(|p| p.to_string()).unwrap_or_default()
            ),
        ));
    }
    if period.start() != lend.add_days(1) {
        return Err(AppError::new(
            Exit::Refused,
            format!(
                "royalty period {period} starts on {}, but the last run ({lp}) ended on {lend}: run the periods in between first (next: {})",
                period.start(),
                lp.plus(1).map(|p| p.to_string()).unwrap_or_default()
            ),
        ));
    }
    Ok(Some((seq, lp)))
}

/// Computes (and unless `dry_run` posts and locks) a royalty period.
#[tracing::instrument(name = "royalty_run", skip_all, fields(period = %a.period, dry_run = a.dry_run))]
pub async fn run(store: &Store, a: RunArgs) -> Result<String, AppError> {
    run_with(store, a, false).await.map(|o| o.summary)
}

/// What [`run_outcome`] did: the summary `run` prints, and the run as stored (or, for
/// a dry run, as it would be stored).
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub period: String,
    /// False for a dry run and for a period already run.
    pub posted: bool,
    /// The period was run before; nothing changed (`run` is that earlier run).
    pub already_run: bool,
    /// For a preview of a period that has not ended yet: the day it can be posted
    /// (its end). The preview counts what is known by the label's today.
    pub postable_from: Option<Date>,
    pub run: StoredRun,
    pub summary: String,
}

/// [`run`], answering with the statements and tie-out as data (for the web app).
pub async fn run_outcome(store: &Store, a: RunArgs) -> Result<RunOutcome, AppError> {
    run_with(store, a, true).await
}

/// `keep_docs`: answer with the statements (otherwise only their count and digests).
async fn run_with(store: &Store, a: RunArgs, keep_docs: bool) -> Result<RunOutcome, AppError> {
    // BACKSTOCK_TIMING=1 prints how long each phase took (for benchmarks).
    let phases = crate::timing::Phases::start();
    let phase = |what: &str| phases.done(what);
    let period = Period::parse(&a.period)
        .map_err(|e| AppError::new(Exit::Input, format!("--period: {e}")))?;
    let all_runs = runs(store).await?;
    let id = format!("royalty-run:{period}");
    if let Some((_, r)) = all_runs
        .iter()
        .find(|(_, r)| r.period == period.to_string())
    {
        let mut st = stored(r)?;
        if keep_docs {
            st.statements = statements_of(store, &r.period, &st, Read::Whole).await?;
        }
        let when = store
            .journal(None, Some(EntryKind::RoyaltyRun), 1_000_000)
            .await?
            .into_iter()
            .find(|j| j.entry_id == id)
            .map(|j| j.recorded_at)
            .unwrap_or_default();
        let summary = format!(
            "Royalty period {period} was already run (entry {id}, recorded {when}) and is locked; nothing changed.\n{} statement{} on file: backstock royalties statement --payee PAYEE --period {period} --format pdf\n",
            st.statement_count(),
            if st.statement_count() == 1 { "" } else { "s" }
        );
        return Ok(RunOutcome {
            period: period.to_string(),
            posted: false,
            already_run: true,
            postable_from: None,
            run: st,
            summary,
        });
    }
    let prev = check_order(&period, &all_runs)?;
    if let Some(name) = a.label_name.as_deref().map(str::trim) {
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(AppError::new(
                Exit::Input,
                format!("--label-name: found {name:?}, expected the label's name, 1-200 printable characters"),
            ));
        }
        if !a.dry_run {
            store.set_meta("label_name", name).await?;
        }
    }
    let today = crate::risk::today(store).await?;
    let on = a.on.unwrap_or(today);
    // A period not yet over can be previewed (what is known so far), never posted.
    let postable_from = (period.end() > on).then(|| period.end());
    if postable_from.is_some() && !a.dry_run {
        return Err(AppError::new(
            Exit::Refused,
            format!(
                "royalty period {period} ends on {}; it can be run from that day (today is {on})",
                period.end()
            ),
        ));
    }
    let previous = match prev {
        None => None,
        Some((seq, p)) => {
            let r = all_runs
                .iter()
                .find(|(s, _)| *s == seq)
                .map(|(_, r)| r)
                .ok_or_else(|| AppError::new(Exit::Other, "previous run vanished"))?;
            Some(PreviousRun {
                seq,
                period: p,
                stored: stored(r)?,
            })
        }
    };
    let Built {
        inputs,
        journal,
        reference,
        names,
        late,
        moved,
        notes,
    } = gather(store, &period, previous.as_ref(), &phase).await?;
    phase("inputs read");
    let mut notes = notes;
    if let Some(end) = postable_from {
        notes.insert(
            0,
            format!("{period} runs to {end}: this preview counts what is known by {on}; the period can be posted and locked from {end}"),
        );
    }
    if inputs.contracts.is_empty() {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "no royalty contract is in force on {}: import payees.csv and contracts.csv (or `backstock contract add`) before running {period}",
                period.end()
            ),
        ));
    }
    let opening = previous
        .as_ref()
        .map(|p| p.stored.closing.clone())
        .unwrap_or_default();
    // Recording the run's entry needs the ledger's book, which a new process loads
    // (hundreds of thousands of accounts): it is loaded by this task while the
    // computation runs on a blocking thread, which keeps one core busy. The runtime's
    // own thread is never blocked waiting for the other (a current-thread runtime
    // blocked so cannot hand pool connections back, and the load would wait forever).
    let load_book = async {
        if !a.dry_run {
            // A book that failed to load is loaded again by `record`, which reports why.
            let _ = store.cache_book().await;
        }
    };
    let compute = tokio::task::spawn_blocking(move || {
        let computed = compute_journal(&journal, &inputs, &period, &opening);
        (computed, period, opening)
    });
    // The blocking thread runs from `spawn_blocking` on; the book loads meanwhile.
    load_book.await;
    let (computed, period, opening) = compute
        .await
        .map_err(|e| AppError::new(Exit::Other, format!("computing the royalty run: {e}")))?;
    let result = computed.map_err(|e| {
        // The computation does not know the period's name; the command to run does.
        let e = e
            .to_string()
            .replace("--period PERIOD", &format!("--period {period}"));
        AppError::new(Exit::Refused, format!("royalty run {period}: {e}"))
    })?;
    phase("computed");
    let bad: Vec<String> = result
        .tie_out
        .iter()
        .filter(|t| !t.ok)
        .map(|t| {
            format!(
                "{}: receipts {} ≠ payee royalties {} + rounding {} + label share {} + distributor reserves {} (off by {})",
                t.currency,
                t.receipts,
                t.payee_royalties,
                t.rounding_to_label,
                t.label_share,
                t.distributor_reserves,
                t.difference
            )
        })
        .collect();
    if !bad.is_empty() {
        return Err(AppError::new(
            Exit::Refused,
            format!(
                "royalty run {period} does not tie out; nothing was posted:\n  {}",
                bad.join("\n  ")
            ),
        ));
    }
    let label = match a.label_name.as_deref() {
        Some(n) => n.trim().to_string(),
        None => label_name(store).await?,
    };
    let postings = postings(&result, &opening)?;
    let mut warnings = result.warnings.clone();
    warnings.extend(notes);
    if a.label_name.is_none() && store.meta("label_name").await?.is_none() {
        warnings.push(
            "the label's name is not set: these statements say \"The label\" and are kept as sent — set it first with `backstock init --name \"Your Label\"` (or --label-name on this run)".into(),
        );
    }
    if !late.is_empty() {
        // At most 10 named (a catch-up import can roll hundreds forward).
        let mut named = late.iter().take(10).cloned().collect::<Vec<_>>().join("; ");
        if late.len() > 10 {
            named.push_str(&format!("; and {} more", late.len() - 10));
        }
        warnings.push(format!(
            "{} entr{} recorded after {} was locked belong{} to a locked period and {} accounted in {period}: {named}",
            late.len(),
            if late.len() == 1 { "y" } else { "ies" },
            previous
                .as_ref()
                .map(|p| p.period.to_string())
                .unwrap_or_default(),
            if late.len() == 1 { "s" } else { "" },
            if late.len() == 1 { "is" } else { "are" },
        ));
    }
    // One statement per payee: each is serialized and hashed (its SHA-256 goes into
    // the run's entry) and, unless this is a dry run, stored in batches before the
    // entry is recorded; the documents are kept only for a caller that shows them.
    // A thread builds the batches in payee order, each on two threads, while this one
    // stores the one before (compressed, one transaction): the same rows in the same
    // order as one at a time.
    let result = std::sync::Arc::new(result);
    // The table of the run is made on a thread of its own meanwhile (it counts one
    // statement per payee, as stored).
    let summary = {
        let result = std::sync::Arc::clone(&result);
        let warnings = warnings.clone();
        let (format, dry_run) = (a.format, a.dry_run);
        std::thread::spawn(move || {
            let count = by_payee(&result).len();
            summary(&result, &period, &warnings, count, format, dry_run)
        })
    };
    let made = {
        let result = std::sync::Arc::clone(&result);
        let label = label.clone();
        let serialize = !a.dry_run;
        let keep = keep_docs || a.dry_run;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Made>, AppError>>(1);
        let worker = std::thread::spawn(move || {
            let groups = by_payee(&result);
            let make = |g: &Vec<&PayeeStatement>| {
                let d = document(g, &label, &period, on, &reference, &names, &moved);
                made(d, serialize, keep)
            };
            for chunk in groups.chunks(STATEMENT_BATCH) {
                let batch = std::thread::scope(|sc| {
                    // Alternate statements between the two threads (sizes vary).
                    let odd = sc.spawn(|| {
                        chunk
                            .iter()
                            .skip(1)
                            .step_by(2)
                            .map(make)
                            .collect::<Result<Vec<_>, _>>()
                    });
                    let even = chunk
                        .iter()
                        .step_by(2)
                        .map(make)
                        .collect::<Result<Vec<_>, _>>()?;
                    let odd = odd.join().map_err(|_| {
                        AppError::new(Exit::Other, "building the statements failed")
                    })??;
                    let mut out = Vec::with_capacity(chunk.len());
                    let mut odd = odd.into_iter();
                    for m in even {
                        out.push(m);
                        out.extend(odd.next());
                    }
                    Ok(out)
                });
                let failed = batch.is_err();
                if tx.send(batch).is_err() || failed {
                    return;
                }
            }
        });
        (rx, worker)
    };
    let (rx, worker) = made;
    let mut kept = Vec::new();
    let mut digests = Vec::new();
    let mut first = true;
    // Blocking receives: the worker needs nothing from this thread's runtime.
    while let Ok(batch) = rx.recv() {
        let mut rows = Vec::new();
        let mut framed = Vec::new();
        for m in batch? {
            if let Some((row, z)) = m.row {
                digests.push(StatementDigest {
                    payee: row.payee.clone(),
                    sha256: row.sha256.clone(),
                });
                rows.push(row);
                framed.push(z);
            }
            kept.extend(m.doc);
        }
        if !a.dry_run {
            store
                .put_framed_royalty_statements(&period.to_string(), &rows, &framed, first)
                .await?;
            first = false;
        }
    }
    worker
        .join()
        .map_err(|_| AppError::new(Exit::Other, "building the statements failed"))?;
    if !a.dry_run && first {
        store
            .put_royalty_statements(&period.to_string(), &[], first)
            .await?;
    }
    let summary = summary
        .join()
        .map_err(|_| AppError::new(Exit::Other, "making the run's table failed"))?;
    phase("statements stored");
    let mut stored_run = StoredRun {
        statements: Vec::new(),
        statement_sha256: digests,
        tie_out: serde_json::to_value(&result.tie_out).unwrap_or_default(),
        warnings: warnings.clone(),
        closing: result.closing.clone(),
        corrections_as_recorded: true,
    };
    // Recording reads the book; what the run computed is no longer needed for it, and
    // is freed on another thread while this one records (a million rows of earnings).
    std::thread::spawn(move || drop(result));
    if a.dry_run {
        stored_run.statements = kept;
        return Ok(RunOutcome {
            period: period.to_string(),
            posted: false,
            already_run: false,
            postable_from,
            run: stored_run,
            summary,
        });
    }
    let entry = Entry {
        id: EntryId::new(id.clone()).map_err(input)?,
        effective_on: period.end(),
        known_on: on,
        provenance: Provenance::Command {
            user: crate::user(),
            command: format!("royalties run --period {period}"),
        },
        event: Event::RoyaltyRun(RoyaltyRun {
            period: period.to_string(),
            period_start: period.start(),
            period_end: period.end(),
            postings,
            result: backstock_ledger::RunDocument::of(&stored_run)
                .map_err(|e| AppError::new(Exit::Other, e.to_string()))?,
        }),
    };
    crate::books::record(store, &[entry], None).await?;
    phase("recorded");
    stored_run.statements = kept;
    Ok(RunOutcome {
        period: period.to_string(),
        posted: true,
        already_run: false,
        postable_from: None,
        run: stored_run,
        summary,
    })
}

/// A statement's header, read without its lines.
#[derive(Deserialize)]
struct StatementHead {
    id: EntryId,
    known_on: Date,
    event: HeadEvent,
}

#[derive(Deserialize)]
struct HeadEvent {
    #[serde(default)]
    statement_id: String,
    #[serde(default)]
    distributor: Option<PartyId>,
    #[serde(default)]
    period_end: Option<Date>,
}

/// A statement entry decoded (the ledger's `Entry` reads a statement straight into its
/// lines, without buffering it first), with its digest for the risk view (the entry
/// whole when it has none: a sum would overflow).
fn statement_entry(seq: i64, json: String) -> Result<(Entry, Entry), backstock_store::StoreError> {
    let e: Entry = serde_json::from_str(&json).map_err(|e| corrupt(seq, e))?;
    let digest = e.statement_digest().unwrap_or_else(|| e.clone());
    Ok((e, digest))
}

/// Decodes the statements in `pending` (the first on a thread of its own when there
/// are two) and hands each to `take` in order, whole and as its digest.
fn take_statements(
    pending: &mut Vec<(i64, String)>,
    take: &mut impl FnMut(i64, Entry, Entry),
) -> Result<(), backstock_store::StoreError> {
    let mut batch = std::mem::take(pending).into_iter();
    type Decoded = Result<(Entry, Entry), backstock_store::StoreError>;
    let decoded: Vec<(i64, Decoded)> = std::thread::scope(|sc| {
        let first = batch
            .next()
            .map(|(seq, json)| (seq, sc.spawn(move || statement_entry(seq, json))));
        let rest: Vec<_> = batch
            .map(|(seq, json)| (seq, statement_entry(seq, json)))
            .collect();
        first
            .map(|(seq, h)| {
                (
                    seq,
                    h.join()
                        .unwrap_or_else(|_| Err(corrupt(seq, "decoding the statement failed"))),
                )
            })
            .into_iter()
            .chain(rest)
            .collect()
    });
    for (seq, d) in decoded {
        let (e, digest) = d?;
        take(seq, e, digest);
    }
    Ok(())
}

fn corrupt(seq: i64, e: impl std::fmt::Display) -> backstock_store::StoreError {
    backstock_store::StoreError::Corrupt(format!("entry #{seq} is unreadable: {e}"))
}

/// Builds the computation's inputs from the journal, reading only what the period
/// needs: reference data (payees, contracts, costs, catalog, agreements), corrections,
/// and the statements and payments effective and known by the period's end (through
/// the `(kind, effective_day)` index, page by page, each statement taken into the
/// compact [`Journal`] as it is read). Counts the entries rolled forward from a locked
/// period.
async fn gather(
    store: &Store,
    period: &Period,
    previous: Option<&PreviousRun>,
    phase: &(dyn Fn(&str) + Sync),
) -> Result<Built, AppError> {
    use backstock_store::royalty_statements::EntryRange;
    let end = period.end();
    let start = period.start();
    let (prev_seq, prev_end) = match previous {
        Some(p) => (p.seq, Some(p.period.end())),
        None => (i64::MAX, None),
    };
    // Every correction recorded before this run applies to it, whenever it was known:
    // a run is made once, and a correction it left for a later period would let a
    // reissue dated in this period (imported with its own issue date) count beside the
    // statement it replaces until then — royalties paid twice.
    let corrections = store.entries(&[EntryKind::Correction], None).await?;
    let reversed: BTreeSet<EntryId> = corrections
        .iter()
        .filter_map(|(_, e)| match &e.event {
            Event::Correction { reverses, .. } => Some(reverses.clone()),
            _ => None,
        })
        .collect();
    // Payees, contract versions and costs reversed by a correction are not on file.
    let (reference, gone) = Reference::on_file(
        store,
        &[
            EntryKind::Payee,
            EntryKind::RoyaltyContract,
            EntryKind::RoyaltyCost,
        ],
        &reversed,
    )
    .await?;
    let reversed_costs: Vec<(i64, backstock_ledger::facts::RoyaltyCost)> = gone
        .into_iter()
        .filter_map(|(seq, e)| match e.event {
            Event::Fact(Fact::RoyaltyCost(c)) => Some((seq, c)),
            _ => None,
        })
        .collect();
    let prev_saw_all = previous.is_some_and(|p| p.stored.corrections_as_recorded);
    // Entries rolled forward from a locked period, named as the run's warning says them.
    let mut late: Vec<String> = Vec::new();
    // The same, said on the statements of the artists of those distributors.
    let mut statement_notes: Vec<(PartyId, String)> = Vec::new();
    let prev_name = previous.map(|p| p.period.to_string()).unwrap_or_default();
    let mut moved = MovedCosts::new();
    let mut notes = Vec::new();
    let mut out = RoyaltyInputs::default();
    // A statement already accounted in a locked period and reversed since: what was
    // stated stands (the sent statement is never rewritten), and its royalties are
    // charged back now — the statement taken negated, as known on this period's first
    // day, like any late entry. Without it the artists kept royalties on sales the
    // label has since said did not happen.
    let mut charge_back: BTreeSet<EntryId> = BTreeSet::new();
    if let Some(pe) = prev_end {
        for (seq, e) in &corrections {
            let Event::Correction { reverses, .. } = &e.event else {
                continue;
            };
            // The previous run applied the corrections recorded before it (left their
            // statements out or charged them back) — a run from before
            // `corrections_as_recorded` only those known by its period's end; any other
            // is charged back now.
            let seen_before = *seq <= prev_seq && (prev_saw_all || e.known_on <= pe);
            if seen_before {
                continue;
            }
            let Some((rseq, json)) = store.entry_json(reverses.as_str()).await? else {
                continue;
            };
            let r: Entry = serde_json::from_str(&json).map_err(|e| corrupt(rseq, e))?;
            if let Event::Statement(st) = &r.event {
                if rseq <= prev_seq && st.period_end.max(r.known_on) <= pe {
                    charge_back.insert(r.id.clone());
                    notes.push(format!(
                        "statement {} of {} was reversed after its royalty period was locked: the royalties stated on it stand in that period's statements and are charged back in {period}",
                        st.statement_id, st.distributor
                    ));
                }
            }
        }
    }
    // A statement of sales in this period that reached the label after the period
    // ended counts in the next one: say so per statement, before anything is posted
    // (a first period can otherwise post 0 with no word why). Only the headers of
    // those statements are read.
    let next = period
        .plus(1)
        .map(|p| p.to_string())
        .unwrap_or_else(|| "the next period".into());
    let after_end = EntryRange {
        kinds: vec![EntryKind::Statement],
        effective_from: Some(start),
        effective_to: Some(end),
        known_from: Some(end.add_days(1)),
        known_to: None,
    };
    store
        .for_each_entry_json(&after_end, 16, |seq, json| {
            let h: StatementHead = serde_json::from_str(&json).map_err(|e| corrupt(seq, e))?;
            let (Some(distributor), Some(period_end)) = (h.event.distributor, h.event.period_end)
            else {
                return Ok(());
            };
            if reversed.contains(&h.id) || prev_end.is_some_and(|pe| period_end <= pe) {
                return Ok(());
            }
            if period_end >= start && period_end <= end && h.known_on > end {
                notes.push(format!(
                    "statement {} of {distributor} (sales to {period_end}) was received on {}, after {period} ended: it counts in {next}",
                    h.event.statement_id, h.known_on
                ));
                statement_notes.push((
                    distributor.clone(),
                    format!(
                        "Statement {} from {{dist}} (sales to {period_end}) reached the label on {}, after this period ended: its sales count in {next}.",
                        h.event.statement_id, h.known_on
                    ),
                ));
            }
            Ok(())
        })
        .await?;
    // Distributors in default are decided by the risk computations over the entries of
    // [`crate::risk::RISK_KINDS`] known by the period's end, with each statement as its
    // digest (as `risk` reads them: the same levels, without a view of every line), and
    // the ledger's holdings of that day. The holdings are read on a thread of their own
    // while this one reads the entries (as [`crate::risk::risk_snapshot`] does).
    let held = {
        let reader = store.reader();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            runtime.block_on(async move { reader.holdings_of(&PartyId::label(), Some(end)).await })
        })
    };
    // The statements effective and known by the period's end are read once: each is
    // taken whole into the run's compact journal as it is decoded (its entry is not
    // kept), and as its digest into the risk view. A statement is decoded straight
    // into its lines (not through the tagged `Event`, which would buffer the whole
    // entry first). The other kinds the risk computations read (payments, catalog
    // items, agreements among them) are read after, and the run takes its part of them.
    let known = EntryRange {
        kinds: vec![EntryKind::Statement],
        effective_from: None,
        effective_to: Some(end),
        known_from: None,
        known_to: Some(end),
    };
    let mut journal = Journal::new(end);
    let mut digests: Vec<(i64, Entry)> = Vec::new();
    let mut take = |seq: i64, e: Entry, digest: Entry| {
        digests.push((seq, digest));
        if charge_back.contains(&e.id) {
            if let Event::Statement(st) = e.event {
                late.push(format!(
                    "statement {} of {} (reversed: charged back)",
                    st.statement_id, st.distributor
                ));
                statement_notes.push((
                    st.distributor.clone(),
                    format!(
                        "Statement {} from {{dist}} was withdrawn after {prev_name} was closed: the royalties it gave then stand, and are taken back in this period.",
                        st.statement_id
                    ),
                ));
                journal.push_charge_back(st, e.known_on, start);
            }
            return;
        }
        if reversed.contains(&e.id) {
            return;
        }
        let Event::Statement(st) = e.event else {
            return;
        };
        let mut known_on = e.known_on;
        if let (Some(pe), true) = (prev_end, seq > prev_seq) {
            if st.period_end.max(known_on) <= pe && known_on <= end {
                known_on = start;
                late.push(format!(
                    "statement {} of {} (sales to {})",
                    st.statement_id, st.distributor, st.period_end
                ));
                statement_notes.push((
                    st.distributor.clone(),
                    format!(
                        "Statement {} from {{dist}} (sales to {}) reached the label after {prev_name} was closed: its sales count in this period.",
                        st.statement_id, st.period_end
                    ),
                ));
            }
        }
        journal.push_statement(st, known_on);
    };
    // Two statements at a time are decoded on two threads (a statement of 100k lines
    // is megabytes of JSON), then taken in recording order.
    let mut pending: Vec<(i64, String)> = Vec::new();
    store
        .for_each_entry_json(&known, 8, |seq, json| {
            pending.push((seq, json));
            if pending.len() == 2 {
                take_statements(&mut pending, &mut take)?;
            }
            Ok(())
        })
        .await?;
    take_statements(&mut pending, &mut take)?;
    phase("statements read");
    let others: Vec<EntryKind> = crate::risk::RISK_KINDS
        .iter()
        .copied()
        .filter(|k| *k != EntryKind::Statement)
        .collect();
    let rest = store.entries(&others, Some(end)).await?;
    // Both in recording order: merged by sequence number.
    let mut seqs = Vec::with_capacity(digests.len() + rest.len());
    let mut entries = Vec::with_capacity(digests.len() + rest.len());
    {
        let mut a = digests.into_iter().peekable();
        let mut b = rest.into_iter().peekable();
        loop {
            let take_a = match (a.peek(), b.peek()) {
                (Some((x, _)), Some((y, _))) => x < y,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (seq, e) = if take_a { a.next() } else { b.next() }.expect("peeked");
            seqs.push(seq);
            entries.push(e);
        }
    }
    phase("entries of the period's end read");
    let held = held
        .await
        .map_err(|e| AppError::new(Exit::Other, format!("reading the holdings failed: {e}")))??;
    let snap = backstock_risk::Snapshot {
        as_of: end,
        entries,
        held,
    };
    // The risk computations run on another thread while this one reads the catalog
    // items and agreements effective or known after the period's end (names on
    // statements).
    let th = crate::risk::thresholds(store).await?;
    let assessing = tokio::task::spawn_blocking(move || {
        let d = defaulted(&snap, &th);
        let short = settled_short(&snap);
        (snap, d, short)
    });
    let mut later: Vec<(i64, Entry)> = Vec::new();
    for range in [
        EntryRange {
            kinds: vec![EntryKind::CatalogItem, EntryKind::Agreement],
            effective_from: Some(end.add_days(1)),
            ..Default::default()
        },
        EntryRange {
            kinds: vec![EntryKind::CatalogItem, EntryKind::Agreement],
            effective_to: Some(end),
            known_from: Some(end.add_days(1)),
            ..Default::default()
        },
    ] {
        store
            .for_each_entry_json(&range, 1024, |seq, json| {
                later.push((
                    seq,
                    serde_json::from_str(&json).map_err(|e| corrupt(seq, e))?,
                ));
                Ok(())
            })
            .await?;
    }
    let (snap, defaulted_distributors, short) = assessing.await.map_err(|e| {
        AppError::new(
            Exit::Other,
            format!("assessing the distributors failed: {e}"),
        )
    })?;
    // A failure on record dated by the period's end is a default whenever it was
    // recorded (a petition in June, entered in July before June's run): the run is
    // made with what the label knows when it runs, as corrections are.
    let mut defaulted_distributors = defaulted_distributors;
    let failures: Vec<Entry> = store
        .entries(&[EntryKind::Insolvency], None)
        .await?
        .into_iter()
        .chain(corrections.iter().cloned())
        .map(|(_, e)| e)
        .collect();
    if let Some(latest) = failures
        .iter()
        .map(|e| e.known_on.max(e.effective_on))
        .max()
    {
        let records = backstock_records::Records::new(&failures, latest);
        for x in records.insolvencies.iter().filter(|x| x.reversed.is_none()) {
            let d = &x.item.distributor;
            if let Some(f) = records.insolvency_of(d) {
                if f.on.min(f.petition_or_event()) <= end {
                    defaulted_distributors.insert(d.clone());
                }
            }
        }
    }
    phase("distributors in default");
    // The run's part of the other entries (payments; catalog items and agreements,
    // with those read above: names on statements, the catalog of items known by the
    // end), all in recording order.
    let mut names = Names {
        settled_short: short,
        statement_notes: std::mem::take(&mut statement_notes),
        ..Names::default()
    };
    let mut refs: Vec<(i64, Entry)> = Vec::new();
    for (seq, mut e) in seqs.into_iter().zip(snap.entries) {
        match &e.event {
            Event::Fact(Fact::CatalogItem(_)) | Event::Fact(Fact::Agreement(_)) => {
                refs.push((seq, e));
            }
            Event::PaymentReceived { .. } => {
                if reversed.contains(&e.id) {
                    continue;
                }
                if let (Some(pe), true) = (prev_end, seq > prev_seq) {
                    let available = e.effective_on.max(e.known_on);
                    if available <= pe && e.known_on <= end {
                        late.push(match &e.event {
                            Event::PaymentReceived {
                                payment_id,
                                distributor,
                                ..
                            } => format!(
                                "payment {payment_id} of {distributor} ({})",
                                e.effective_on
                            ),
                            _ => e.id.to_string(),
                        });
                        e.known_on = start;
                        if e.effective_on > start {
                            e.effective_on = start;
                        }
                    }
                }
                journal.push(e);
            }
            _ => {}
        }
    }
    refs.extend(later);
    refs.sort_by_key(|(seq, _)| *seq);
    for (_, e) in refs {
        names.learn(&e);
        if matches!(e.event, Event::Fact(Fact::CatalogItem(_))) && !reversed.contains(&e.id) {
            journal.push(e);
        }
    }
    tracing::debug!(lines = journal.lines(), "royalty run inputs read");
    let contracts = reference.in_force(end);
    let mut payees_needed = BTreeSet::new();
    for c in &contracts {
        out.contracts.push(contract_of(c).map_err(|e| {
            AppError::new(Exit::Refused, format!("contract {}: {e}", c.contract_id))
        })?);
        for s in &c.payees {
            payees_needed.insert(s.payee.clone());
        }
    }
    // Payees the previous run left a balance or a held reserve, named by the contract
    // or not any more (a band member who left gets the reserve released to them).
    if let Some(p) = previous {
        let in_force_ids: BTreeSet<&str> =
            contracts.iter().map(|c| c.contract_id.as_str()).collect();
        for a in &p.stored.closing.accounts {
            if in_force_ids.contains(a.contract_id.as_str()) {
                payees_needed.insert(a.payee_id.clone());
            }
        }
        for r in &p.stored.closing.reserves {
            if in_force_ids.contains(r.contract_id.as_str()) {
                payees_needed.insert(r.payee_id.clone());
            }
        }
    }
    for p in payees_needed {
        let r = reference.payees.get(&p).ok_or_else(|| {
            AppError::new(
                Exit::Refused,
                format!("payee {p} is named by a contract but not on file (import payees.csv)"),
            )
        })?;
        out.payees.push(
            backstock_royalties::Payee::new(r.payee.clone(), &r.name, &r.email, &r.address)
                .map_err(|e| AppError::new(Exit::Refused, format!("payee {p}: {e}")))?,
        );
    }
    let in_force: BTreeSet<&str> = contracts.iter().map(|c| c.contract_id.as_str()).collect();
    // Contracts in force when the previous period was run: only their costs were
    // charged then. A cost dated before its contract began (an advance paid at
    // signing) waits for the contract's first period.
    let in_force_before: BTreeSet<&str> = prev_end
        .map(|pe| {
            reference
                .in_force(pe)
                .into_iter()
                .map(|c| c.contract_id.as_str())
                .collect()
        })
        .unwrap_or_default();
    for (seq, c) in &reference.costs {
        if c.date > end || !in_force.contains(c.contract_id.as_str()) {
            continue;
        }
        let date = match prev_end {
            // First run: older costs are carried in.
            None if c.date < start => start,
            Some(pe) if c.date <= pe => {
                if !in_force_before.contains(c.contract_id.as_str()) {
                    start // its contract was not in force yet: never charged
                } else if *seq > prev_seq {
                    late.push(format!(
                        "cost {} of contract {} ({})",
                        c.cost_id, c.contract_id, c.date
                    ));
                    start
                } else {
                    continue; // charged by an earlier run
                }
            }
            _ => c.date,
        };
        if date != c.date {
            moved
                .entry((c.contract_id.clone(), c.kind, c.sku.clone(), c.amount))
                .or_default()
                .push(c.date);
        }
        out.costs.push(
            Cost::new(
                &c.contract_id,
                c.sku.clone(),
                c.amount,
                c.kind,
                c.recoupable,
                date,
            )
            .map_err(|e| AppError::new(Exit::Refused, format!("cost {}: {e}", c.cost_id)))?,
        );
    }
    // A cost reversed after an earlier run charged it: that locked period is never
    // rewritten, so say so (later runs do not charge it).
    for (seq, c) in &reversed_costs {
        if let (Some(pe), true) = (prev_end, *seq <= prev_seq) {
            if c.date <= pe {
                notes.push(format!(
                    "cost {} of contract {} ({}, {}) was reversed after {} was locked: it stays charged in that period's statements and is not charged again",
                    c.cost_id,
                    c.contract_id,
                    c.amount,
                    c.date,
                    previous.map(|p| p.period.to_string()).unwrap_or_default()
                ));
            }
        }
    }
    out.defaulted_distributors = defaulted_distributors;
    Ok(Built {
        inputs: out,
        journal,
        reference,
        names,
        late,
        moved,
        notes,
    })
}

/// What the royalties computed from statement lines (`backstock lines royalties`,
/// issue 17.2) take from the journal: the statements, catalog, contracts and payees
/// exactly as the run of the period takes them (the same [`gather`]: statements over
/// and known within the period, late ones rolled forward past the last locked run,
/// reversed ones left out), and the codes held at import per statement.
pub struct LineBasis {
    pub period: Period,
    /// The run's compact journal: `journal.statements_in(&period)` are the statements
    /// whose lines count.
    pub journal: Journal,
    /// The contracts in force on the period's last day, checked.
    pub contracts: Vec<Contract>,
    /// Names of the payees on those contracts.
    pub payee_names: BTreeMap<PartyId, String>,
    /// `(distributor, statement id, code)` of lines held at import because the catalog
    /// did not know their code: never part of that statement; an alias added later posts
    /// them as the statement `ID+CODE`.
    pub held: BTreeSet<(String, String, String)>,
}

/// [`LineBasis`] of `period`: the inputs the next run (or a dry run) of the period
/// would read, after the last run that ends before it.
pub async fn line_basis(store: &Store, period: &Period) -> Result<LineBasis, AppError> {
    let all_runs = runs(store).await?;
    let mut prev: Option<(i64, &RoyaltyRun, Period)> = None;
    for (seq, r) in &all_runs {
        let p =
            Period::parse(&r.period).map_err(|e| AppError::new(Exit::Tampered, e.to_string()))?;
        if p.end() < period.start() && prev.as_ref().is_none_or(|(_, _, q)| p.end() > q.end()) {
            prev = Some((*seq, r, p));
        }
    }
    let previous = match prev {
        None => None,
        Some((seq, r, p)) => Some(PreviousRun {
            seq,
            period: p,
            stored: stored(r)?,
        }),
    };
    let built = gather(store, period, previous.as_ref(), &|_| {}).await?;
    let mut held = BTreeSet::new();
    for (_, e) in store.entries(&[EntryKind::Unmatched], None).await? {
        if let Event::Fact(Fact::Unmatched(u)) = e.event {
            held.insert((u.distributor.to_string(), u.statement_id, u.code));
        }
    }
    Ok(LineBasis {
        period: *period,
        payee_names: built
            .inputs
            .payees
            .iter()
            .map(|p| (p.id().clone(), p.name().to_string()))
            .collect(),
        contracts: built.inputs.contracts,
        journal: built.journal,
        held,
    })
}

/// A run's inputs and what building them noticed.
struct Built {
    inputs: RoyaltyInputs,
    journal: Journal,
    reference: Reference,
    names: Names,
    /// Entries rolled forward from a locked period, each named.
    late: Vec<String>,
    moved: MovedCosts,
    notes: Vec<String>,
}

/// Costs charged in a later period than their date (carried into the first run, or
/// recorded after their period was locked): their own dates, to print them.
type MovedCosts = std::collections::HashMap<
    (
        String,
        backstock_ledger::facts::CostKind,
        Option<Sku>,
        Money,
    ),
    Vec<Date>,
>;

/// Titles of releases and names of distributors, for the statements.
#[derive(Default)]
struct Names {
    catalog: std::collections::HashMap<Sku, CatalogItem>,
    distributors: BTreeMap<PartyId, Agreement>,
    /// Statements settled without the rest of their cash by the period's end (a
    /// deduction accepted, a balance written off): their uncollected royalty is not
    /// coming, and the statement says so.
    settled_short: BTreeSet<(PartyId, String)>,
    /// What an artist's statement says about a distributor's statements counted
    /// differently this period (`{dist}` stands for the distributor's name).
    statement_notes: Vec<(PartyId, String)>,
}

impl Names {
    fn learn(&mut self, e: &Entry) {
        match &e.event {
            Event::Fact(Fact::CatalogItem(c)) => {
                self.catalog.insert(c.sku.clone(), c.clone());
            }
            Event::Fact(Fact::Agreement(a)) => {
                self.distributors.insert(a.distributor.clone(), a.clone());
            }
            _ => {}
        }
    }
    fn distributor(&self, d: &PartyId) -> String {
        self.distributors
            .get(d)
            .map(|a| a.legal_name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| d.to_string())
    }
}

fn kind_text(k: backstock_ledger::facts::CostKind) -> &'static str {
    use backstock_ledger::facts::CostKind as K;
    match k {
        K::Advance => "advance",
        K::Recording => "recording",
        K::Manufacturing => "manufacturing",
        K::Other => "other",
    }
}

/// Statements stored per transaction by a run.
const STATEMENT_BATCH: usize = 500;

/// One payee's statement as a run built it: the stored row (unless a dry run) and the
/// document (when kept).
struct Made {
    /// The row and its JSON compressed as stored.
    row: Option<(
        backstock_store::royalty_statements::RoyaltyStatementRow,
        Vec<u8>,
    )>,
    doc: Option<doc::RoyaltyStatement>,
}

fn made(d: doc::RoyaltyStatement, serialize: bool, keep: bool) -> Result<Made, AppError> {
    let row = if serialize {
        let json = serde_json::to_vec(&d)
            .map_err(|e| AppError::new(Exit::Other, format!("statement {}: {e}", d.payee.id)))?;
        // Compressed here, on the threads that make the statements: the thread that
        // stores them only writes.
        let framed = backstock_store::royalty_statements::frame_statement(&json)?;
        Some((
            backstock_store::royalty_statements::RoyaltyStatementRow {
                payee: d.payee.id.clone(),
                sha256: sha256_hex(&json),
                json,
            },
            framed,
        ))
    } else {
        None
    };
    Ok(Made {
        row,
        doc: keep.then_some(d),
    })
}

/// The run's payee statements grouped by payee, in payee order (a payee may have
/// several contracts and currencies).
fn by_payee(r: &RunResult) -> Vec<Vec<&PayeeStatement>> {
    let mut groups: BTreeMap<&PartyId, Vec<&PayeeStatement>> = BTreeMap::new();
    for s in &r.statements {
        groups.entry(&s.payee_id).or_default().push(s);
    }
    groups.into_values().collect()
}

/// One payee's statement document.
fn document(
    group: &[&PayeeStatement],
    label: &str,
    period: &Period,
    on: Date,
    reference: &Reference,
    names: &Names,
    moved: &MovedCosts,
) -> doc::RoyaltyStatement {
    let mut d: Option<doc::RoyaltyStatement> = None;
    for s in group {
        let d = d.get_or_insert_with(|| doc::RoyaltyStatement {
            label: label.to_string(),
            period: period.to_string(),
            period_start: period.start(),
            period_end: period.end(),
            issued_on: on,
            payee: doc::PayeeInfo {
                id: s.payee_id.to_string(),
                name: s.payee_name.clone(),
                email: s.payee_email.clone(),
                address: s.payee_address.clone(),
            },
            contracts: Vec::new(),
        });
        let mut sec = section(s, reference, names, period.end());
        // A cost charged late shows its own date. (Each payee's statement lists every
        // cost of the contract, so the lookup starts afresh per statement.)
        if !moved.is_empty() {
            let mut left = moved.clone();
            for (c, k) in sec.costs.iter_mut().zip(&s.costs) {
                if let Some(dates) =
                    left.get_mut(&(s.contract_id.clone(), k.kind, k.sku.clone(), k.amount))
                {
                    if !dates.is_empty() {
                        c.date = dates.remove(0);
                    }
                }
            }
        }
        d.contracts.push(sec);
    }
    d.unwrap_or_else(|| doc::RoyaltyStatement {
        label: label.to_string(),
        period: period.to_string(),
        period_start: period.start(),
        period_end: period.end(),
        issued_on: on,
        payee: doc::PayeeInfo {
            id: String::new(),
            name: String::new(),
            email: String::new(),
            address: String::new(),
        },
        contracts: Vec::new(),
    })
}

fn section(
    s: &PayeeStatement,
    reference: &Reference,
    names: &Names,
    end: Date,
) -> doc::ContractStatement {
    // The version the run applied (in force on the period's last day): its title and
    // minimum payout, not a later version's.
    let contract = reference
        .version_on(&s.contract_id, end)
        .or_else(|| reference.latest(&s.contract_id));
    let title = contract.map(|c| c.title.clone()).unwrap_or_default();
    let zero = Money::zero(s.currency);
    let sum = |f: &dyn Fn(&backstock_royalties::EarningsRow) -> i64| -> i64 {
        s.earnings.iter().map(f).fold(0i64, i64::saturating_add)
    };
    doc::ContractStatement {
        contract_id: s.contract_id.clone(),
        title,
        share: files::percent(s.share),
        basis: match s.basis {
            backstock_royalties::Basis::Earned => "earned".into(),
            backstock_royalties::Basis::Collected => "collected".into(),
        },
        currency: s.currency,
        totals: doc::Totals {
            opening_balance: s.opening_balance,
            units_sold: sum(&|r| r.units_sold),
            units_returned: sum(&|r| r.units_returned),
            returns: Money::from_minor(sum(&|r| r.returns.minor()), s.currency),
            royalty_earned: s.royalty_earned,
            royalty_collected: s.royalty_collected,
            royalties: s.royalties,
            reserve_held: s.reserve_held,
            reserve_released: s.reserve_released,
            costs_charged: s.costs_charged,
            recouped: s.recouped,
            closing_balance: s.closing_balance,
            payable: s.payable,
            min_payout: contract
                .map(|c| c.min_payout)
                .filter(|m| m.currency() == s.currency)
                .unwrap_or(zero),
            carried_below_minimum: s.carried_below_minimum,
            held_for_unrecouped: s.held_for_unrecouped.clone(),
            unrecouped: s.unrecouped,
            reserves_outstanding: s.reserves_outstanding,
            earned_not_collected: s.earned_not_collected,
            earned_not_collected_in_default: s.earned_not_collected_in_default,
        },
        not_collected: s
            .uncollected
            .iter()
            .map(|u| doc::NotCollected {
                distributor: u.distributor.to_string(),
                distributor_name: names.distributor(&u.distributor),
                in_default: u.distributor_in_default,
                statement_id: u.statement_id.clone(),
                royalty_earned: u.royalty_earned,
                royalty_collected: u.royalty_collected,
                royalty_uncollected: u.royalty_uncollected,
                settled_short: names
                    .settled_short
                    .contains(&(u.distributor.clone(), u.statement_id.clone())),
            })
            .collect(),
        costs: s
            .costs
            .iter()
            .map(|c| doc::CostLine {
                date: c.date,
                kind: kind_text(c.kind).into(),
                sku: c.sku.as_ref().map(|s| s.to_string()),
                amount: c.amount,
                charged: c.charged,
            })
            .collect(),
        detail: s
            .earnings
            .iter()
            .map(|r| {
                let item = names.catalog.get(&r.sku);
                doc::DetailLine {
                    release: item.map(|i| i.title.clone()).unwrap_or_default(),
                    sku: r.sku.to_string(),
                    format: r
                        .format
                        .clone()
                        .or_else(|| item.map(|i| i.format.clone()))
                        .unwrap_or_default(),
                    channel: files::channel_text(r.channel).into(),
                    distributor: r.distributor.to_string(),
                    distributor_name: names.distributor(&r.distributor),
                    units_sold: r.units_sold,
                    units_returned: r.units_returned,
                    receipts: r.receipts,
                    returns: r.returns,
                    royalty_earned: r.royalty_earned,
                    royalty_collected: r.royalty_collected,
                }
            })
            .collect(),
        // The notes about the statements of the distributors this contract earned
        // from (or was to earn from) this period.
        notes: names
            .statement_notes
            .iter()
            .filter(|(d, _)| s.earnings.iter().any(|r| &r.distributor == d))
            .map(|(d, n)| n.replace("{dist}", &names.distributor(d)))
            .collect(),
    }
}

/// Postings per statement so that after the run each payee's advance account holds
/// exactly what is unrecouped and royalty payable what is owed (payable, positive
/// balances carried, reserves held).
fn postings(r: &RunResult, opening: &OpeningBalances) -> Result<Vec<RoyaltyPosting>, AppError> {
    let mut out = Vec::new();
    for s in &r.statements {
        // Unrecouped at the opening, per pool, as the computation pooled them.
        let mut pools: BTreeMap<Option<&Sku>, i64> = BTreeMap::new();
        for a in opening.accounts.iter().filter(|a| {
            a.contract_id == s.contract_id
                && a.payee_id == s.payee_id
                && a.balance.currency() == s.currency
        }) {
            *pools.entry(a.pool.as_ref()).or_default() += a.balance.minor();
        }
        let unrecouped_open: i64 = pools.values().filter(|v| **v < 0).map(|v| -v).sum();
        let recouped = unrecouped_open
            .checked_add(s.costs_charged.minor())
            .and_then(|v| v.checked_sub(s.unrecouped.minor()))
            .ok_or_else(|| AppError::new(Exit::Refused, "royalty amounts overflow"))?;
        if s.royalties.is_zero() && s.costs_charged.is_zero() && recouped == 0 {
            continue;
        }
        out.push(RoyaltyPosting {
            contract_id: s.contract_id.clone(),
            payee: s.payee_id.clone(),
            royalties: s.royalties,
            costs_charged: s.costs_charged,
            recouped: Money::from_minor(recouped, s.currency),
        });
    }
    Ok(out)
}

fn summary(
    r: &RunResult,
    period: &Period,
    warnings: &[String],
    count: usize,
    format: Format,
    dry_run: bool,
) -> String {
    let mut t = Table::new(&[
        "payee",
        "contract",
        "basis",
        "opening",
        "royalties",
        "reserve",
        "costs",
        "recouped",
        "payable",
        "closing",
        "not collected",
        "in default",
    ])
    .numeric(&[3, 4, 5, 6, 7, 8, 9, 10, 11]);
    let m = output::money;
    for s in &r.statements {
        t.push(vec![
            s.payee_id.to_string(),
            s.contract_id.clone(),
            match s.basis {
                backstock_royalties::Basis::Earned => "earned".into(),
                backstock_royalties::Basis::Collected => "collected".into(),
            },
            m(s.opening_balance),
            m(s.royalties),
            m(Money::from_minor(
                s.reserve_released.minor() - s.reserve_held.minor(),
                s.currency,
            )),
            m(s.costs_charged),
            m(s.recouped),
            m(s.payable),
            m(s.closing_balance),
            m(s.earned_not_collected),
            m(s.earned_not_collected_in_default),
        ]);
    }
    match format {
        Format::Json => {
            return serde_json::to_string_pretty(&json!({
                "period": period.to_string(),
                "dry_run": dry_run,
                "statements": r.statements,
                "tie_out": r.tie_out,
                "warnings": warnings,
            }))
            .unwrap_or_default()
                + "\n"
        }
        Format::Csv => return t.render(Format::Csv, &serde_json::Value::Null),
        Format::Table => {}
    }
    let mut out = format!(
        "Royalty period {period} ({} to {}){}\n\n",
        period.start(),
        period.end(),
        if dry_run {
            " — dry run: nothing posted"
        } else {
            " — posted and locked"
        }
    );
    out.push_str(&t.text());
    out.push_str("\nTie-out (receipts = payee royalties + rounding to label + label share + distributor reserves):\n");
    for x in &r.tie_out {
        out.push_str(&format!(
            "  {}: {} = {} + {} + {} + {}  {}\n",
            x.currency,
            m(x.receipts),
            m(x.payee_royalties),
            m(x.rounding_to_label),
            m(x.label_share),
            m(x.distributor_reserves),
            if x.ok {
                "ties to the cent"
            } else {
                "DOES NOT TIE"
            }
        ));
    }
    if r.tie_out.is_empty() {
        out.push_str("  no distributor statements in this period\n");
    }
    for w in warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    if !dry_run {
        out.push_str(&format!(
            "\n{} statement{} stored: backstock royalties statement --payee PAYEE --period {period} --format pdf --output FILE\n",
            count,
            if count == 1 { "" } else { "s" }
        ));
    }
    out
}

// ---------------------------------------------------------------- statements

/// Checks a stored statement row against its own SHA-256 and decodes it.
fn decode_row(
    period: &str,
    row: &backstock_store::royalty_statements::RoyaltyStatementRow,
    read: Read,
) -> Result<doc::RoyaltyStatement, AppError> {
    if sha256_hex(&row.json) != row.sha256 {
        return Err(AppError::new(
            Exit::Tampered,
            format!(
                "the stored royalty statement of {} for {period} does not match its SHA-256",
                row.payee
            ),
        ));
    }
    match read {
        Read::Whole => serde_json::from_slice(&row.json),
        Read::WithoutDetail => doc::from_json_without_detail(&row.json),
    }
    .map_err(|e| {
        AppError::new(
            Exit::Tampered,
            format!(
                "the stored royalty statement of {} for {period} is unreadable: {e}",
                row.payee
            ),
        )
    })
}

/// The run entry of `period`, if recorded, with what it stored.
async fn run_of(store: &Store, period: &str) -> Result<Option<(RoyaltyRun, Date)>, AppError> {
    let Some((seq, json)) = store.entry_json(&format!("royalty-run:{period}")).await? else {
        return Ok(None);
    };
    let e: Entry = serde_json::from_str(&json).map_err(|e| {
        AppError::new(
            Exit::Tampered,
            format!("entry #{seq} (royalty run {period}) is unreadable: {e}"),
        )
    })?;
    match e.event {
        Event::RoyaltyRun(r) => Ok(Some((r, e.known_on))),
        _ => Ok(None),
    }
}

/// Rows for a run recorded with its statements inline (before the table existed).
async fn derive_rows(store: &Store, period: &str, st: &StoredRun) -> Result<(), AppError> {
    let mut rows = Vec::with_capacity(st.statements.len());
    for d in &st.statements {
        let json = serde_json::to_vec(d)
            .map_err(|e| AppError::new(Exit::Other, format!("statement {}: {e}", d.payee.id)))?;
        rows.push(backstock_store::royalty_statements::RoyaltyStatementRow {
            payee: d.payee.id.clone(),
            sha256: sha256_hex(&json),
            json,
        });
    }
    store.add_derived_royalty_statements(period, &rows).await?;
    Ok(())
}

/// How much of each stored statement [`statements_of`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// Everything: to show or send the statement.
    Whole,
    /// All but the detail lines (left empty): for lists and totals.
    WithoutDetail,
}

/// Every statement a run stored, in payee order: inline (older runs) or from the
/// per-payee rows, each checked against the SHA-256 the run's entry holds. The rows
/// of a page are checked and decoded on two threads.
async fn statements_of(
    store: &Store,
    period: &str,
    st: &StoredRun,
    read: Read,
) -> Result<Vec<doc::RoyaltyStatement>, AppError> {
    if st.statement_sha256.is_empty() {
        return Ok(st.statements.clone());
    }
    let want: BTreeMap<&str, &str> = st
        .statement_sha256
        .iter()
        .map(|d| (d.payee.as_str(), d.sha256.as_str()))
        .collect();
    let mut out = Vec::with_capacity(want.len());
    let mut bad = None;
    let mut rows = Vec::new();
    let decode = |rows: &mut Vec<backstock_store::royalty_statements::RoyaltyStatementRow>,
                  out: &mut Vec<doc::RoyaltyStatement>,
                  bad: &mut Option<AppError>| {
        let one = |row: &backstock_store::royalty_statements::RoyaltyStatementRow| {
            if want.get(row.payee.as_str()) != Some(&row.sha256.as_str()) {
                return Err(AppError::new(
                    Exit::Tampered,
                    format!("the stored royalty statement of {} for {period} is not the one its run recorded", row.payee),
                ));
            }
            decode_row(period, row, read)
        };
        let half = rows.len() / 2;
        let (a, b) = rows.split_at(half);
        let (ra, rb) = std::thread::scope(|sc| {
            let t = sc.spawn(|| b.iter().map(one).collect::<Vec<_>>());
            let ra: Vec<_> = a.iter().map(one).collect();
            (ra, t.join())
        });
        let rb = rb.unwrap_or_else(|_| {
            vec![Err(AppError::new(
                Exit::Other,
                "reading the stored statements failed",
            ))]
        });
        for r in ra.into_iter().chain(rb) {
            match r {
                Ok(d) => out.push(d),
                Err(e) => {
                    bad.get_or_insert(e);
                }
            }
        }
        rows.clear();
    };
    store
        .for_each_royalty_statement(period, |row| {
            rows.push(row);
            if rows.len() == STATEMENTS_DECODED_AT_ONCE {
                decode(&mut rows, &mut out, &mut bad);
            }
            Ok(())
        })
        .await?;
    decode(&mut rows, &mut out, &mut bad);
    if let Some(e) = bad {
        return Err(e);
    }
    if out.len() != want.len() {
        return Err(AppError::new(
            Exit::Tampered,
            format!(
                "royalty run {period} recorded {} statements; {} are stored",
                want.len(),
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// Every stored royalty statement checked against its run's entry: each row hashes to
/// its SHA-256, that SHA-256 is the one the run recorded (hash-chained in the journal)
/// for that payee, and the run's every statement is stored. `verify --full` runs it: a
/// statement edited in the database, with its row's own hash made to match, is found
/// here rather than only when someone asks for that statement. Answers how many were
/// checked; the first mismatch is an error (exit 5).
pub async fn verify_stored_statements(store: &Store) -> Result<usize, AppError> {
    let mut n = 0;
    for (_, r) in runs(store).await? {
        let st = stored(&r)?;
        if st.statement_sha256.is_empty() {
            continue; // a run from before statements had rows of their own
        }
        n += statements_of(store, &r.period, &st, Read::WithoutDetail)
            .await?
            .len();
    }
    Ok(n)
}

/// Stored statements decoded together (two threads): a bound on the rows in memory.
const STATEMENTS_DECODED_AT_ONCE: usize = 128;

/// One payee's stored statement of a period: a keyed read of its row, checked against
/// the SHA-256 its run's entry holds. `Ok(None)`: the period has not been run, or the
/// payee has no statement in it. A run recorded before statements had rows of their
/// own is read whole once and its rows are written then.
pub async fn stored_statement(
    store: &Store,
    period: &str,
    payee: &str,
) -> Result<Option<doc::RoyaltyStatement>, AppError> {
    let Ok(period) = Period::parse(period.trim()) else {
        return Ok(None);
    };
    let period = period.to_string();
    let Some((run, _)) = run_of(store, &period).await? else {
        return Ok(None);
    };
    let st = stored(&run)?;
    if let Some(row) = store.royalty_statement(&period, payee).await? {
        if st.statement_sha256.is_empty() {
            // Derived from an inline run: the entry's copy is the record.
            return Ok(st.statements.into_iter().find(|s| s.payee.id == payee));
        }
        let want = st
            .statement_sha256
            .iter()
            .find(|d| d.payee == payee)
            .map(|d| d.sha256.as_str());
        if want != Some(row.sha256.as_str()) {
            return Err(AppError::new(
                Exit::Tampered,
                format!("the stored royalty statement of {payee} for {period} is not the one its run recorded"),
            ));
        }
        return decode_row(&period, &row, Read::Whole).map(Some);
    }
    if st.statement_sha256.iter().any(|d| d.payee == payee) {
        return Err(AppError::new(
            Exit::Tampered,
            format!("royalty run {period} recorded a statement for {payee}, but it is not stored"),
        ));
    }
    if !st.statements.is_empty() {
        derive_rows(store, &period, &st).await?;
    }
    Ok(st.statements.into_iter().find(|s| s.payee.id == payee))
}

/// The periods run, in recording order (their entries only: no statement is read).
pub async fn run_periods(store: &Store) -> Result<Vec<String>, AppError> {
    Ok(runs(store)
        .await?
        .into_iter()
        .map(|(_, r)| r.period)
        .collect())
}

/// Whether `period` has been run.
pub async fn period_run(store: &Store, period: &str) -> Result<bool, AppError> {
    let Ok(period) = Period::parse(period.trim()) else {
        return Ok(false);
    };
    Ok(store
        .entry_json(&format!("royalty-run:{period}"))
        .await?
        .is_some())
}

/// A payee's statement for a run period, rendered exactly from what the run stored.
pub async fn statement(
    store: &Store,
    payee: &str,
    period: &str,
    format: doc::Format,
) -> Result<Vec<u8>, AppError> {
    let period =
        Period::parse(period).map_err(|e| AppError::new(Exit::Input, format!("--period: {e}")))?;
    let payee =
        PartyId::parse(payee).map_err(|e| AppError::new(Exit::Input, format!("--payee: {e}")))?;
    if let Some(s) = stored_statement(store, &period.to_string(), payee.as_str()).await? {
        return Ok(doc::render(&s, format));
    }
    let all = runs(store).await?;
    let Some((_, r)) = all.iter().find(|(_, r)| r.period == period.to_string()) else {
        let done: Vec<&str> = all.iter().map(|(_, r)| r.period.as_str()).collect();
        return Err(AppError::new(
            Exit::Input,
            format!(
                "royalty period {period} has not been run (run: {}); `backstock royalties run --period {period}` first",
                if done.is_empty() { "none yet".to_string() } else { done.join(", ") }
            ),
        ));
    };
    let st = stored(r)?;
    let ids: Vec<String> = if st.statement_sha256.is_empty() {
        st.statements.iter().map(|s| s.payee.id.clone()).collect()
    } else {
        st.statement_sha256
            .iter()
            .map(|d| d.payee.clone())
            .collect()
    };
    Err(AppError::new(
        Exit::Input,
        format!(
            "no statement for payee {payee} in {period}; payees with statements: {}",
            ids.join(", ")
        ),
    ))
}

/// One line per payee statement of a period run: payable, and what is earned but not
/// collected (naming distributors in default).
pub async fn statement_summaries(store: &Store, period: &str) -> Result<String, AppError> {
    let all = runs(store).await?;
    let Some((_, r)) = all.iter().find(|(_, r)| r.period == period) else {
        return Ok(String::new());
    };
    let mut out = String::new();
    for s in statements_of(store, &r.period, &stored(r)?, Read::WithoutDetail).await? {
        for c in &s.contracts {
            let default: Vec<String> = c
                .not_collected
                .iter()
                .filter(|n| n.in_default)
                .map(|n| n.distributor.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            out.push_str(&format!(
                "  {:<17} {:<13} payable {:>13}  earned but not collected {:>12}{}\n",
                s.payee.id,
                c.contract_id,
                output::money(c.totals.payable),
                output::money(c.totals.earned_not_collected),
                if default.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} in default: {})",
                        output::money(c.totals.earned_not_collected_in_default),
                        default.join(", ")
                    )
                }
            ));
        }
    }
    Ok(out)
}

/// A recorded royalty run with what it stored.
#[derive(Debug, Clone)]
pub struct RunOnFile {
    pub period: String,
    pub period_start: Date,
    pub period_end: Date,
    /// The day the run was made (its entry's known-on date).
    pub run_on: Date,
    pub stored: StoredRun,
}

/// Royalty runs recorded, oldest period first, with their stored statements.
pub async fn runs_on_file(store: &Store) -> Result<Vec<RunOnFile>, AppError> {
    let mut out = Vec::new();
    for (_, e) in store.entries(&[EntryKind::RoyaltyRun], None).await? {
        if let Event::RoyaltyRun(r) = &e.event {
            let mut st = stored(r)?;
            if !st.statement_sha256.is_empty() {
                st.statements = statements_of(store, &r.period, &st, Read::WithoutDetail).await?;
            }
            out.push(RunOnFile {
                period: r.period.clone(),
                period_start: r.period_start,
                period_end: r.period_end,
                run_on: e.known_on,
                stored: st,
            });
        }
    }
    out.sort_by_key(|r| r.period_end);
    Ok(out)
}

/// The period that may run next: the one after the last run, or `None` before the
/// first run (any period may be first).
pub fn next_period(runs: &[RunOnFile]) -> Option<String> {
    let last = runs.iter().max_by_key(|r| r.period_end)?;
    Period::parse(&last.period)
        .ok()?
        .plus(1)
        .map(|p| p.to_string())
}

/// The contracts (version in force on `on`) that pay `payee`.
pub async fn contracts_of_payee(
    store: &Store,
    payee: &str,
    on: Date,
) -> Result<Vec<RoyaltyContract>, AppError> {
    let reversed = reversed_ids(store).await?;
    let (r, _) = Reference::on_file(store, &[EntryKind::RoyaltyContract], &reversed).await?;
    Ok(r.in_force(on)
        .into_iter()
        .filter(|c| c.payees.iter().any(|s| s.payee.as_str() == payee))
        .cloned()
        .collect())
}

/// Advances (costs of kind `advance`) the label paid in calendar year `year`, per
/// payee and currency: (total in minor units, how many). Each advance is split between
/// the payees of the contract version in force on its date (the first version when it
/// is dated before the contract's start) as the royalty run charges it — to the cent,
/// every cent to someone. Paid to the artist, an advance is income in the year paid
/// (for 1099 preparation), whatever the royalties later recoup of it.
pub async fn advances_paid(
    store: &Store,
    year: i32,
) -> Result<BTreeMap<(String, Currency), (i64, usize)>, AppError> {
    let reversed = reversed_ids(store).await?;
    let (r, _) = Reference::on_file(
        store,
        &[EntryKind::RoyaltyContract, EntryKind::RoyaltyCost],
        &reversed,
    )
    .await?;
    let mut out: BTreeMap<(String, Currency), (i64, usize)> = BTreeMap::new();
    for (_, cost) in &r.costs {
        if cost.kind != backstock_ledger::facts::CostKind::Advance || cost.date.year() != year {
            continue;
        }
        let contract = r.version_on(&cost.contract_id, cost.date).or_else(|| {
            r.contracts
                .get(&cost.contract_id)?
                .iter()
                .min_by_key(|(seq, c)| (c.effective_from, *seq))
                .map(|(_, c)| c)
        });
        let Some(contract) = contract else {
            continue;
        };
        let shares: Vec<Rate> = contract.payees.iter().map(|s| s.share).collect();
        let (parts, _) = cost.amount.allocate_whole(&shares);
        for (share, part) in contract.payees.iter().zip(parts) {
            if part.is_zero() {
                continue;
            }
            let slot = out
                .entry((share.payee.to_string(), part.currency()))
                .or_insert((0, 0));
            slot.0 = slot
                .0
                .checked_add(part.minor())
                .ok_or_else(|| AppError::new(Exit::Refused, "advance totals overflow"))?;
            slot.1 += 1;
        }
    }
    Ok(out)
}

/// Royalty runs recorded, oldest first.
pub async fn list_runs(store: &Store, format: Format) -> Result<String, AppError> {
    let mut t = Table::new(&["period", "from", "to", "statements", "payable"]).numeric(&[3]);
    let mut js = Vec::new();
    for (_, r) in runs(store).await? {
        let mut st = stored(&r)?;
        st.statements = statements_of(store, &r.period, &st, Read::WithoutDetail).await?;
        let mut payable: BTreeMap<Currency, i64> = BTreeMap::new();
        for s in &st.statements {
            for c in &s.contracts {
                *payable.entry(c.currency).or_default() += c.totals.payable.minor();
            }
        }
        let pay: Vec<String> = payable
            .iter()
            .map(|(c, v)| output::money(Money::from_minor(*v, *c)))
            .collect();
        t.push(vec![
            r.period.clone(),
            r.period_start.to_string(),
            r.period_end.to_string(),
            st.statements.len().to_string(),
            pay.join(" + "),
        ]);
        js.push(json!({"period": r.period, "period_start": r.period_start, "period_end": r.period_end, "statements": st.statements.len(), "warnings": st.warnings}));
    }
    Ok(t.render(format, &json!(js)))
}

// ---------------------------------------------------------------- contracts and payees

fn shares_text(c: &RoyaltyContract) -> String {
    c.payees
        .iter()
        .map(|s| format!("{}:{}", s.payee, files::percent(s.share)))
        .collect::<Vec<_>>()
        .join(";")
}

fn contract_json(c: &RoyaltyContract) -> serde_json::Value {
    json!({
        "contract_id": c.contract_id,
        "effective_from": c.effective_from,
        "title": c.title,
        "payees": c.payees,
        "skus": c.skus,
        "basis": c.basis,
        "rates": c.rules.iter().map(files::rule_text).collect::<Vec<_>>(),
        "cross_collateralized": c.cross_collateralized,
        "reserve_rate": c.reserve_rate,
        "reserve_release_periods": c.reserve_release_periods,
        "min_payout": {"amount": c.min_payout.to_decimal_string(), "currency": c.min_payout.currency().code()},
    })
}

pub async fn contract_list(store: &Store, format: Format) -> Result<String, AppError> {
    let reversed = reversed_ids(store).await?;
    let (r, _) = Reference::on_file(store, &[EntryKind::RoyaltyContract], &reversed).await?;
    let mut t = Table::new(&[
        "contract",
        "from",
        "title",
        "payees",
        "skus",
        "basis",
        "rates",
        "cross",
        "reserve",
        "min payout",
    ]);
    let mut js = Vec::new();
    for id in r.contracts.keys() {
        let Some(c) = r.latest(id) else { continue };
        t.push(vec![
            c.contract_id.clone(),
            c.effective_from.to_string(),
            c.title.clone(),
            shares_text(c),
            c.skus.len().to_string(),
            json!(c.basis).as_str().unwrap_or("").to_string(),
            c.rules
                .iter()
                .map(files::rule_text)
                .collect::<Vec<_>>()
                .join(";"),
            if c.cross_collateralized { "yes" } else { "no" }.into(),
            if c.reserve_rate == Rate::ZERO {
                "none".into()
            } else {
                format!(
                    "{} for {} period{}",
                    files::percent(c.reserve_rate),
                    c.reserve_release_periods,
                    if c.reserve_release_periods == 1 {
                        ""
                    } else {
                        "s"
                    }
                )
            },
            output::money(c.min_payout),
        ]);
        js.push(contract_json(c));
    }
    Ok(t.render(format, &json!(js)))
}

pub async fn contract_show(store: &Store, id: &str, format: Format) -> Result<String, AppError> {
    let reversed = reversed_ids(store).await?;
    let (r, _) = Reference::on_file(
        store,
        &[
            EntryKind::RoyaltyContract,
            EntryKind::RoyaltyCost,
            EntryKind::Payee,
        ],
        &reversed,
    )
    .await?;
    let Some(versions) = r.contracts.get(id.trim()) else {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "no contract {id:?}; contracts on file: {}",
                r.contracts.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let mut versions: Vec<&RoyaltyContract> = versions.iter().map(|(_, c)| c).collect();
    versions.sort_by_key(|c| c.effective_from);
    let costs: Vec<&RoyaltyCost> = r
        .costs
        .iter()
        .map(|(_, c)| c)
        .filter(|c| c.contract_id == id.trim())
        .collect();
    if format == Format::Json {
        return Ok(serde_json::to_string_pretty(&json!({
            "versions": versions.iter().map(|c| contract_json(c)).collect::<Vec<_>>(),
            "costs": costs,
        }))
        .unwrap_or_default()
            + "\n");
    }
    let mut out = String::new();
    for (i, c) in versions.iter().enumerate() {
        let until = versions
            .get(i + 1)
            .map(|n| format!("until {}", n.effective_from.add_days(-1)))
            .unwrap_or_else(|| "in force".into());
        out.push_str(&format!(
            "contract {} — {}\n  version from {} ({until})\n  payees: {}\n  SKUs: {}\n  basis: {}\n  rates: {}\n  cross-collateralized: {}\n  reserve: {} released after {} period(s)\n  minimum payout: {}\n",
            c.contract_id,
            c.title,
            c.effective_from,
            c.payees
                .iter()
                .map(|s| format!(
                    "{} ({}) {}",
                    s.payee,
                    r.payees.get(&s.payee).map(|p| p.name.as_str()).unwrap_or("?"),
                    files::percent(s.share)
                ))
                .collect::<Vec<_>>()
                .join(", "),
            c.skus.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
            json!(c.basis).as_str().unwrap_or(""),
            c.rules.iter().map(files::rule_text).collect::<Vec<_>>().join("; "),
            if c.cross_collateralized { "yes" } else { "no" },
            files::percent(c.reserve_rate),
            c.reserve_release_periods,
            output::money(c.min_payout)
        ));
    }
    if !costs.is_empty() {
        out.push_str("  costs:\n");
        for c in costs {
            out.push_str(&format!(
                "    {} {} {:<13} {:>14}  {}{}{}\n",
                c.cost_id,
                c.date,
                kind_text(c.kind),
                output::money(c.amount),
                c.sku
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "all releases".into()),
                if c.recoupable {
                    ""
                } else {
                    " (not recoupable)"
                },
                if c.memo.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", c.memo)
                }
            ));
        }
    }
    Ok(out)
}

/// `contract add` flags, written as one row of contracts.csv so the same checks apply.
pub struct ContractArgs {
    pub id: String,
    pub effective_from: Date,
    pub title: String,
    pub payees: String,
    pub skus: Vec<String>,
    pub basis: String,
    pub rates: Vec<String>,
    pub cross_collateralized: bool,
    pub reserve_rate: String,
    pub reserve_release_periods: u32,
    pub min_payout: String,
    pub currency: String,
}

pub async fn contract_add(store: &Store, a: ContractArgs) -> Result<String, AppError> {
    let cell = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let csv = format!(
        "contract_id,effective_from,title,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency\n{},{},{},{},{},{},{},{},{},{},{},{}\n",
        cell(&a.id),
        a.effective_from,
        cell(&a.title),
        cell(&a.payees),
        cell(&a.skus.join(";")),
        cell(&a.basis),
        cell(&a.rates.join(";")),
        if a.cross_collateralized { "yes" } else { "no" },
        cell(&a.reserve_rate),
        a.reserve_release_periods,
        cell(&a.min_payout),
        cell(&a.currency)
    );
    let mut ctx = context(store, None).await?;
    ctx.file_name = "contract add".into();
    ctx.command = Some(format!("contract add --id {}", a.id));
    let entries = files::read(RoyaltyFile::Contracts, csv.as_bytes(), &mut ctx).map_err(|e| {
        // Name the flags rather than a file's columns.
        let msgs: Vec<String> = e
            .errors
            .iter()
            .map(|l| {
                let flag = l
                    .column
                    .as_ref()
                    .map(|(_, n)| {
                        format!(
                            "--{}",
                            n.replace('_', "-")
                                .replace("contract-id", "id")
                                .replace("payees", "payee")
                                .replace("skus", "sku")
                                .replace("rates", "rate")
                                .replace("reserve-release-periods", "reserve-periods")
                        )
                    })
                    .unwrap_or_else(|| "contract".into());
                format!("{flag}: found {:?}, expected {}", l.found, l.expected)
            })
            .collect();
        AppError::new(
            Exit::Input,
            format!("contract add: nothing recorded\n  {}", msgs.join("\n  ")),
        )
    })?;
    match crate::books::record(store, &entries, None).await? {
        RecordOutcome::Recorded { recorded: 0, .. } => Ok(format!(
            "contract {} from {} was already recorded with these terms; nothing changed\n",
            a.id, a.effective_from
        )),
        _ => Ok(format!(
            "recorded contract {} (version from {})\n",
            a.id, a.effective_from
        )),
    }
}

pub async fn payee_list(store: &Store, format: Format) -> Result<String, AppError> {
    let reversed = reversed_ids(store).await?;
    let (r, _) = Reference::on_file(
        store,
        &[EntryKind::Payee, EntryKind::RoyaltyContract],
        &reversed,
    )
    .await?;
    let mut t = Table::new(&["payee", "name", "email", "address", "contracts"]);
    let mut js = Vec::new();
    for (id, p) in &r.payees {
        let contracts: Vec<String> = r
            .contracts
            .keys()
            .filter(|c| {
                r.latest(c)
                    .is_some_and(|c| c.payees.iter().any(|s| &s.payee == id))
            })
            .cloned()
            .collect();
        t.push(vec![
            id.to_string(),
            p.name.clone(),
            p.email.clone(),
            p.address.clone(),
            contracts.join(" "),
        ]);
        js.push(json!({"payee": id, "name": p.name, "email": p.email, "address": p.address, "contracts": contracts}));
    }
    Ok(t.render(format, &json!(js)))
}
