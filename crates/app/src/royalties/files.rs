//! `payees.csv`, `contracts.csv`, `costs.csv`: royalty reference data as canonical
//! CSV (documented in `docs/formats.md`). Parsed at the edge into ledger facts; each
//! file is one transaction, every problem located (line, column, value, expected).

use backstock_domain::{Currency, Date, DomainError, Money, PartyId, Rate, Sku};
use backstock_ingest::error::Errors;
use backstock_ingest::{Context, FileErrors, LineError};
use backstock_ledger::facts::{
    CostKind, PayeeRecord, RoyaltyBase, RoyaltyBasis, RoyaltyContract, RoyaltyCost,
    RoyaltyRateRule, RoyaltyShare,
};
use backstock_ledger::{Channel, Entry, EntryId, Event, Fact, Provenance};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// Kinds of royalty file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoyaltyFile {
    Payees,
    Contracts,
    Costs,
}

impl RoyaltyFile {
    pub const ALL: [RoyaltyFile; 3] = [
        RoyaltyFile::Payees,
        RoyaltyFile::Contracts,
        RoyaltyFile::Costs,
    ];
    /// The kind named `s` (`payees`, `contracts`, `costs`).
    pub fn parse(s: &str) -> Option<RoyaltyFile> {
        RoyaltyFile::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            RoyaltyFile::Payees => "payees",
            RoyaltyFile::Contracts => "contracts",
            RoyaltyFile::Costs => "costs",
        }
    }
    /// Required columns, in documented order.
    pub fn columns(&self) -> &'static [&'static str] {
        match self {
            RoyaltyFile::Payees => &["payee", "name", "email"],
            RoyaltyFile::Contracts => &[
                "contract_id",
                "effective_from",
                "payees",
                "skus",
                "basis",
                "rates",
                "cross_collateralized",
                "reserve_rate",
                "reserve_release_periods",
                "min_payout",
                "currency",
            ],
            RoyaltyFile::Costs => &[
                "cost_id",
                "contract_id",
                "date",
                "kind",
                "amount",
                "currency",
            ],
        }
    }
    /// Columns that may be left out of the header (empty when absent).
    pub fn optional(&self) -> &'static [&'static str] {
        match self {
            RoyaltyFile::Payees => &["address"],
            RoyaltyFile::Contracts => &["title"],
            RoyaltyFile::Costs => &["sku", "recoupable", "memo"],
        }
    }
    /// The kind whose every required column is in the header line.
    pub fn detect(header: &str) -> Option<RoyaltyFile> {
        let cols: Vec<String> = header
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
            .collect();
        // Most specific first: costs and contracts both have contract_id.
        [
            RoyaltyFile::Contracts,
            RoyaltyFile::Costs,
            RoyaltyFile::Payees,
        ]
        .into_iter()
        .find(|k| k.columns().iter().all(|c| cols.iter().any(|h| h == c)))
    }
}

/// What royalty files refer to: the catalog (codes → SKU), payees and contracts on
/// file (and those met earlier in the same import).
#[derive(Debug, Clone, Default)]
pub struct RoyaltyContext {
    pub codes: Context,
    pub payees: BTreeSet<PartyId>,
    /// Contract id → SKUs covered by its latest version.
    pub contracts: BTreeMap<String, BTreeSet<Sku>>,
    /// Versions on file, by (contract id, effective date): a version is never changed.
    pub versions: BTreeMap<(String, Date), RoyaltyContract>,
    /// Costs on file, by id.
    pub costs: BTreeMap<String, RoyaltyCost>,
    /// Distributors (a payee may not have a distributor's name).
    pub distributors: BTreeSet<String>,
    pub file_name: String,
    pub file_sha256: String,
    /// Where entries come from (a file, or a command).
    pub command: Option<String>,
}

impl RoyaltyContext {
    pub fn learn(&mut self, e: &Entry) {
        match &e.event {
            Event::Fact(Fact::Payee(p)) => {
                self.payees.insert(p.payee.clone());
            }
            Event::Fact(Fact::RoyaltyContract(c)) => {
                self.contracts
                    .insert(c.contract_id.clone(), c.skus.iter().cloned().collect());
                self.versions
                    .insert((c.contract_id.clone(), c.effective_from), c.clone());
            }
            Event::Fact(Fact::RoyaltyCost(c)) => {
                self.costs.insert(c.cost_id.clone(), c.clone());
            }
            Event::Fact(Fact::Agreement(a)) => {
                self.distributors.insert(a.distributor.to_string());
            }
            _ => {}
        }
    }
    fn provenance(&self, line: u64) -> Provenance {
        match &self.command {
            Some(c) => Provenance::Command {
                user: crate::user(),
                command: c.clone(),
            },
            None => Provenance::File {
                sha256: self.file_sha256.clone(),
                name: self.file_name.clone(),
                first_line: line,
                last_line: line,
            },
        }
    }
    fn short_sha(&self) -> &str {
        self.file_sha256.get(..12).unwrap_or(&self.file_sha256)
    }
}

struct Row<'a> {
    rec: &'a csv::StringRecord,
    line: u64,
    /// Header position of each column (required then optional), if present.
    idx: &'a [Option<usize>],
    names: &'a [&'static str],
}

impl<'a> Row<'a> {
    fn col(&self, name: &str) -> usize {
        self.names.iter().position(|n| *n == name).unwrap_or(0)
    }
    fn raw(&self, name: &str) -> &'a str {
        self.idx[self.col(name)]
            .and_then(|i| self.rec.get(i))
            .unwrap_or("")
            .trim()
    }
    fn err(&self, name: &str, found: &str, expected: impl Into<String>) -> LineError {
        let c = self.col(name);
        LineError {
            line: self.line,
            column: self.idx[c].map(|i| (i + 1, name.to_string())),
            found: found.to_string(),
            expected: expected.into(),
        }
    }
    fn get<T>(
        &self,
        name: &str,
        errs: &mut Errors,
        f: impl FnOnce(&str) -> Result<T, DomainError>,
    ) -> Option<T> {
        let v = self.raw(name);
        match f(v) {
            Ok(t) => Some(t),
            Err(e) => {
                errs.push(self.err(name, v, e.expected()));
                None
            }
        }
    }
    fn text(&self, name: &str, errs: &mut Errors, max: usize, required: bool) -> Option<String> {
        let v = self.raw(name);
        if (required && v.is_empty()) || v.chars().count() > max || v.chars().any(char::is_control)
        {
            errs.push(self.err(
                name,
                v,
                format!(
                    "text of {}-{max} printable characters",
                    if required { 1 } else { 0 }
                ),
            ));
            return None;
        }
        Some(v.to_string())
    }
}

fn boolean(s: &str) -> Result<bool, DomainError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "y" | "1" => Ok(true),
        "no" | "false" | "n" | "0" => Ok(false),
        _ => Err(DomainError::new(s, "yes or no (true or false)")),
    }
}

fn periods(s: &str) -> Result<u32, DomainError> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= 40)
        .ok_or_else(|| DomainError::new(s, "a whole number of royalty periods, 0-40"))
}

fn basis(s: &str) -> Result<RoyaltyBasis, DomainError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "earned" => Ok(RoyaltyBasis::Earned),
        "collected" | "paid" | "paid_or_credited" => Ok(RoyaltyBasis::Collected),
        _ => Err(DomainError::new(s, "earned or collected")),
    }
}

fn cost_kind(s: &str) -> Result<CostKind, DomainError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "advance" => Ok(CostKind::Advance),
        "recording" => Ok(CostKind::Recording),
        "manufacturing" => Ok(CostKind::Manufacturing),
        "other" => Ok(CostKind::Other),
        _ => Err(DomainError::new(
            s,
            "advance, recording, manufacturing or other",
        )),
    }
}

fn identifier(s: &str, what: &str) -> Result<String, DomainError> {
    let t = s.trim();
    if t.is_empty()
        || t.len() > 64
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./#".contains(c))
    {
        return Err(DomainError::new(
            s,
            format!("{what}: 1-64 characters (letters, digits, -_./#)"),
        ));
    }
    Ok(t.to_string())
}

/// `june-okafor:60%;ada-brennan:40%` (or `=` instead of `:`).
pub fn parse_shares(s: &str) -> Result<Vec<(PartyId, Rate)>, DomainError> {
    let expected = "payee:share pairs separated by ';', e.g. june-okafor:60%;ada-brennan:40%";
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (p, r) = part
            .split_once([':', '='])
            .ok_or_else(|| DomainError::new(part, expected))?;
        let payee = PartyId::parse(p.trim()).map_err(|e| DomainError::new(part, e.expected()))?;
        let rate = Rate::parse(r.trim()).map_err(|e| DomainError::new(part, e.expected()))?;
        out.push((payee, rate));
    }
    if out.is_empty() {
        return Err(DomainError::new(s, expected));
    }
    Ok(out)
}

/// One rule: `SCOPE:BASE:RATE`. SCOPE is `*` (everything), a channel (`physical`,
/// `digital`), a format (`CD`, `LP`…) or `channel/format`, then optionally `@TERRITORY`
/// (an ISO 3166 code such as `US`) and `+SERVICE` (a service as the statement lines
/// name it, e.g. `GenStreamPremium`): rates by territory or service, for digital income
/// (issue 17.2; a scope without a channel then means `digital`). BASE is
/// `net_receipts`, `ppd` or `net_profit`; RATE a decimal or percentage.
pub fn parse_rule(s: &str) -> Result<RoyaltyRateRule, DomainError> {
    let expected = "a rule SCOPE:BASE:RATE such as *:net_receipts:18%, physical/LP:ppd:12%, digital@US:net_receipts:25% or digital+GenStore:net_receipts:30% (scope * | physical | digital | FORMAT | channel/FORMAT, then optionally @TERRITORY and +SERVICE for digital income; base net_receipts | ppd | net_profit)";
    let parts: Vec<&str> = s.split(':').map(str::trim).collect();
    let [scope, base, rate] = parts.as_slice() else {
        return Err(DomainError::new(s, expected));
    };
    // SCOPE[@TERRITORY][+SERVICE]
    let (scope, service) = match scope.split_once('+') {
        Some((a, b)) => (a.trim(), Some(b.trim())),
        None => (*scope, None),
    };
    let (scope, territory) = match scope.split_once('@') {
        Some((a, b)) => (a.trim(), Some(b.trim())),
        None => (scope, None),
    };
    let territory = match territory {
        None => None,
        Some(t) if t.len() == 2 && t.chars().all(|c| c.is_ascii_alphabetic()) => {
            Some(t.to_ascii_uppercase())
        }
        Some(t) => {
            return Err(DomainError::new(
                s,
                format!(
                "a territory after @ as a two-letter ISO 3166 code such as US or GB, found {t:?}"
            ),
            ))
        }
    };
    let service = match service {
        None => None,
        Some(v)
            if !v.is_empty()
                && v.len() <= 64
                && v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_. ".contains(c)) =>
        {
            Some(v.to_string())
        }
        Some(v) => {
            return Err(DomainError::new(
                s,
                format!("a service after + as the statement lines name it (1-64 letters, digits, spaces, -_.), such as GenStreamPremium, found {v:?}"),
            ))
        }
    };
    let chan = |t: &str| -> Result<Option<Channel>, DomainError> {
        match t.to_ascii_lowercase().as_str() {
            "" | "*" | "all" => Ok(None),
            "physical" => Ok(Some(Channel::Physical)),
            "digital" => Ok(Some(Channel::Digital)),
            _ => Err(DomainError::new(s, expected)),
        }
    };
    let fmt = |t: &str| -> Result<Option<String>, DomainError> {
        let t = t.trim();
        if t.is_empty() || t == "*" {
            Ok(None)
        } else if t.len() > 40 || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            Err(DomainError::new(s, expected))
        } else {
            Ok(Some(t.to_string()))
        }
    };
    let (mut channel, format) = match scope.split_once('/') {
        Some((c, f)) => (chan(c)?, fmt(f)?),
        None => match chan(scope) {
            Ok(c) => (c, None),
            Err(_) => (None, fmt(scope)?),
        },
    };
    if territory.is_some() || service.is_some() {
        match channel {
            Some(Channel::Physical) => {
                return Err(DomainError::new(
                    s,
                    "a rate by territory or service for digital income (digital@US, *+GenStore): physical sales carry no territory or service",
                ))
            }
            // Only digital lines carry a territory and service.
            _ => channel = Some(Channel::Digital),
        }
    }
    let base = match base.to_ascii_lowercase().as_str() {
        "net_receipts" | "net" => RoyaltyBase::NetReceipts,
        "ppd" | "ppd_per_unit" => RoyaltyBase::PpdPerUnit,
        "net_profit" | "net_profit_split" => RoyaltyBase::NetProfitSplit,
        _ => return Err(DomainError::new(s, expected)),
    };
    let rate = Rate::parse(rate).map_err(|e| DomainError::new(s, e.expected()))?;
    Ok(RoyaltyRateRule {
        channel,
        format,
        base,
        rate,
        territory,
        service,
    })
}

pub fn parse_rules(s: &str) -> Result<Vec<RoyaltyRateRule>, DomainError> {
    let rules: Vec<RoyaltyRateRule> = s
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(parse_rule)
        .collect::<Result<_, _>>()?;
    if rules.is_empty() {
        return Err(DomainError::new(
            s,
            "at least one rate rule, e.g. *:net_receipts:18%",
        ));
    }
    // One rule per scope: two for the same sales would leave the rate to their order.
    let scope = |r: &RoyaltyRateRule| {
        (
            r.channel,
            r.format.as_deref().map(str::to_ascii_lowercase),
            r.territory.as_deref().map(str::to_ascii_lowercase),
            r.service.as_deref().map(str::to_ascii_lowercase),
        )
    };
    for (i, r) in rules.iter().enumerate() {
        if rules[..i].iter().any(|o| scope(o) == scope(r)) {
            let text = s
                .split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .nth(i)
                .unwrap_or(s);
            return Err(DomainError::new(
                s,
                format!("each scope once: {text} covers the same sales as an earlier rule (which rate applies would be left to their order)"),
            ));
        }
    }
    Ok(rules)
}

/// A rate as a percentage: 0.125 → `12.5%`.
pub fn percent(r: Rate) -> String {
    r.percent_text()
}

/// A rule written back in the file's syntax.
pub fn rule_text(r: &RoyaltyRateRule) -> String {
    let scope = match (&r.channel, &r.format) {
        (None, None) => "*".to_string(),
        (Some(c), None) => channel_text(*c).to_string(),
        (None, Some(f)) => f.clone(),
        (Some(c), Some(f)) => format!("{}/{f}", channel_text(*c)),
    };
    let mut scope = scope;
    if let Some(t) = &r.territory {
        scope.push('@');
        scope.push_str(t);
    }
    if let Some(v) = &r.service {
        scope.push('+');
        scope.push_str(v);
    }
    let base = match r.base {
        RoyaltyBase::NetReceipts => "net_receipts",
        RoyaltyBase::PpdPerUnit => "ppd",
        RoyaltyBase::NetProfitSplit => "net_profit",
    };
    format!("{scope}:{base}:{}", percent(r.rate))
}

pub fn channel_text(c: Channel) -> &'static str {
    match c {
        Channel::Physical => "physical",
        Channel::Digital => "digital",
    }
}

fn entry(ctx: &RoyaltyContext, id: String, on: Date, line: u64, fact: Fact) -> Option<Entry> {
    Some(Entry {
        id: EntryId::new(id).ok()?,
        effective_on: on,
        known_on: on,
        provenance: ctx.provenance(line),
        event: Event::Fact(fact),
    })
}

/// Reads a royalty file (already decoded to UTF-8) into entries, learning them into
/// `ctx` as it goes; or every problem found.
pub fn read(
    kind: RoyaltyFile,
    input: impl Read,
    ctx: &mut RoyaltyContext,
) -> Result<Vec<Entry>, FileErrors> {
    let mut errs = Errors::default();
    let into = |errs: Errors, ctx: &RoyaltyContext| errs.into_file(&ctx.file_name);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errs.push(LineError {
                line: 1,
                column: None,
                found: e.to_string(),
                expected: "a UTF-8 or Windows-1252 CSV file with a header row".into(),
            });
            return Err(into(errs, ctx));
        }
    };
    let names: Vec<&'static str> = kind
        .columns()
        .iter()
        .chain(kind.optional())
        .copied()
        .collect();
    let mut idx = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let pos = headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        });
        if pos.is_none() && i < kind.columns().len() {
            errs.push(LineError {
                line: 1,
                column: None,
                found: headers.iter().collect::<Vec<_>>().join(","),
                expected: format!(
                    "a header with the column {name:?} (columns: {}; optional: {})",
                    kind.columns().join(","),
                    kind.optional().join(",")
                ),
            });
        }
        idx.push(pos);
    }
    if !errs.is_empty() {
        return Err(into(errs, ctx));
    }
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errs.push(LineError {
                    line: e.position().map(|p| p.line()).unwrap_or(line),
                    column: None,
                    found: e.to_string(),
                    expected: "well-formed CSV in UTF-8 (or Windows-1252, see --encoding)".into(),
                });
                continue;
            }
        }
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let row = Row {
            rec: &rec,
            line: rec.position().map(|p| p.line()).unwrap_or(line),
            idx: &idx,
            names: &names,
        };
        let name_at = |at: usize| headers.get(at).map(|h| h.trim().to_string());
        if let Some(e) =
            backstock_ingest::canonical::value_over_lines(&rec, headers.len(), row.line, name_at)
                .or_else(|| {
                    backstock_ingest::canonical::too_many_values(
                        &rec,
                        headers.len(),
                        row.line,
                        name_at,
                    )
                })
        {
            errs.push(e);
            continue;
        }
        let e = match kind {
            RoyaltyFile::Payees => payee_row(&row, ctx, &mut errs, &mut seen),
            RoyaltyFile::Contracts => contract_row(&row, ctx, &mut errs, &mut seen),
            RoyaltyFile::Costs => cost_row(&row, ctx, &mut errs, &mut seen),
        };
        if let Some(e) = e {
            ctx.learn(&e);
            out.push(e);
        }
        if errs.truncated {
            break;
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(into(errs, ctx))
    }
}

fn duplicate(
    row: &Row,
    col: &str,
    key: String,
    seen: &mut BTreeMap<String, u64>,
    errs: &mut Errors,
) -> bool {
    if let Some(first) = seen.get(&key) {
        errs.push(row.err(
            col,
            row.raw(col),
            format!("a value not already given on line {first}"),
        ));
        return true;
    }
    seen.insert(key, row.line);
    false
}

fn payee_row(
    row: &Row,
    ctx: &RoyaltyContext,
    errs: &mut Errors,
    seen: &mut BTreeMap<String, u64>,
) -> Option<Entry> {
    let id = row.get("payee", errs, PartyId::parse);
    if let Some(p) = &id {
        if p.is_label()
            || [PartyId::MARKET, PartyId::SCRAP].contains(&p.as_str())
            || p.as_str().starts_with("plant:")
            || ctx.distributors.contains(p.as_str())
        {
            errs.push(row.err(
                "payee",
                p.as_str(),
                "a payee name that is not label, market, scrap, a plant or a distributor",
            ));
            return None;
        }
        if duplicate(row, "payee", p.to_string(), seen, errs) {
            return None;
        }
    }
    let name = row.text("name", errs, 200, true);
    let email = row.raw("email");
    let address = row.text("address", errs, 500, false);
    let (Some(id), Some(name), Some(address)) = (id, name, address) else {
        return None;
    };
    // The same checks the royalty run relies on.
    if let Err(backstock_royalties::RoyaltyError::Invalid { expected, .. }) =
        backstock_royalties::Payee::new(id.clone(), &name, email, &address)
    {
        errs.push(row.err("email", email, expected));
        return None;
    }
    entry(
        ctx,
        format!("payee:{id}:{}", ctx.short_sha()),
        Date::EARLIEST,
        row.line,
        Fact::Payee(PayeeRecord {
            payee: id,
            name,
            email: email.to_string(),
            address,
        }),
    )
}

fn contract_row(
    row: &Row,
    ctx: &RoyaltyContext,
    errs: &mut Errors,
    seen: &mut BTreeMap<String, u64>,
) -> Option<Entry> {
    let id = row.get("contract_id", errs, |s| identifier(s, "a contract id"));
    let from = row.get("effective_from", errs, Date::parse);
    if let (Some(id), Some(from)) = (&id, &from) {
        if duplicate(row, "contract_id", format!("{id}@{from}"), seen, errs) {
            return None;
        }
    }
    let title = row.text("title", errs, 200, false);
    let mut shares = row.get("payees", errs, parse_shares);
    // The shares' sum is checked here, with the row's other problems (not only once
    // they are all fixed), and said in percent as the label wrote them.
    if let Some(list) = &shares {
        let sum: u64 = list.iter().map(|(_, r)| u64::from(r.ppm())).sum();
        if sum != u64::from(Rate::ONE.ppm()) {
            let raw = row.raw("payees");
            let said = Rate::from_ppm(u32::try_from(sum).unwrap_or(u32::MAX))
                .map(|r| r.percent_text())
                .unwrap_or_else(|_| "more than 100000%".into());
            // `jo:100` is a fraction (10000%): say how to write a percentage.
            let bare = raw.split(';').any(|part| {
                part.split_once([':', '='])
                    .is_some_and(|(_, v)| !v.trim().ends_with('%'))
            });
            errs.push(row.err(
                "payees",
                raw,
                format!(
                    "shares summing to exactly 100% (these sum to {said}){}",
                    if bare && sum > u64::from(Rate::ONE.ppm()) {
                        "; a share without a % sign is a fraction of 1 (100 means 10000%): write 60% or 0.6"
                    } else {
                        ""
                    }
                ),
            ));
            shares = None;
        }
    }
    if let Some(shares) = &shares {
        for (p, _) in shares {
            if !ctx.payees.contains(p) {
                errs.push(row.err(
                    "payees",
                    p.as_str(),
                    "a payee named in payees.csv (import it first, or in the same command)",
                ));
            }
        }
    }
    let mut skus = Vec::new();
    let raw_skus = row.raw("skus");
    for code in raw_skus.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        match ctx.codes.resolve_code(code) {
            Some(s) if !skus.contains(&s) => skus.push(s),
            Some(_) => {}
            None => errs.push(row.err(
                "skus",
                code,
                "SKUs or UPCs in the catalog, separated by ';' (import catalog.csv first)",
            )),
        }
    }
    if raw_skus.is_empty() {
        errs.push(row.err(
            "skus",
            "",
            "at least one SKU or UPC in the catalog, separated by ';'",
        ));
    }
    let basis = row.get("basis", errs, basis);
    let rules = row.get("rates", errs, parse_rules);
    let cross = row.get("cross_collateralized", errs, boolean);
    let reserve_rate = row.get("reserve_rate", errs, |s| {
        if s.is_empty() {
            Ok(Rate::ZERO)
        } else {
            Rate::parse(s).and_then(|r| {
                if r > Rate::ONE {
                    Err(DomainError::new(s, "a reserve rate from 0% to 100%"))
                } else {
                    Ok(r)
                }
            })
        }
    });
    let periods = row.get("reserve_release_periods", errs, |s| {
        if s.is_empty() {
            Ok(0)
        } else {
            periods(s)
        }
    });
    let cur = row.get("currency", errs, Currency::parse);
    let min = cur.and_then(|c| {
        row.get("min_payout", errs, |s| {
            if s.is_empty() {
                Ok(Money::zero(c))
            } else {
                Money::parse(s, c).and_then(|m| {
                    if m.minor() < 0 {
                        Err(DomainError::new(s, "a minimum payout of 0 or more"))
                    } else {
                        Ok(m)
                    }
                })
            }
        })
    });
    let (
        Some(id),
        Some(from),
        Some(title),
        Some(shares),
        Some(basis),
        Some(rules),
        Some(cross),
        Some(reserve_rate),
        Some(periods),
        Some(min),
    ) = (
        id,
        from,
        title,
        shares,
        basis,
        rules,
        cross,
        reserve_rate,
        periods,
        min,
    )
    else {
        return None;
    };
    if skus.is_empty() {
        return None;
    }
    let record = RoyaltyContract {
        contract_id: id.clone(),
        effective_from: from,
        title,
        payees: shares
            .into_iter()
            .map(|(payee, share)| RoyaltyShare { payee, share })
            .collect(),
        skus,
        basis,
        rules,
        cross_collateralized: cross,
        reserve_rate,
        reserve_release_periods: periods,
        min_payout: min,
    };
    if ctx
        .versions
        .get(&(id.clone(), from))
        .is_some_and(|v| *v != record)
    {
        errs.push(row.err(
            "effective_from",
            &from.to_string(),
            format!("a date other than {from}: contract {id} already has a version from that day with other terms (versions are never changed; give the new terms a later effective_from)"),
        ));
        return None;
    }
    if let Err(e) = super::contract_of(&record) {
        use backstock_royalties::RoyaltyError as E;
        let (col, found, expected) = match &e {
            E::SharesDoNotSumToOne { sum_ppm, .. } => (
                "payees",
                row.raw("payees").to_string(),
                format!(
                    "shares summing to exactly 100% (these sum to {})",
                    Rate::from_ppm(u32::try_from(*sum_ppm).unwrap_or(u32::MAX))
                        .map(|r| r.percent_text())
                        .unwrap_or_else(|_| format!("{sum_ppm} ppm"))
                ),
            ),
            E::Duplicate { .. } => (
                "payees",
                row.raw("payees").to_string(),
                "each payee once".to_string(),
            ),
            E::Invalid {
                field,
                found,
                expected,
            } => {
                let col = if field.contains("reserve") {
                    "reserve_rate"
                } else if field.contains("minimum") {
                    "min_payout"
                } else if field.contains("rate") || field.contains("rule") {
                    "rates"
                } else if field.contains("payee") {
                    "payees"
                } else if field.contains("sku") {
                    "skus"
                } else {
                    "contract_id"
                };
                (col, found.clone(), expected.clone())
            }
            other => ("contract_id", id.clone(), other.to_string()),
        };
        errs.push(row.err(col, &found, expected));
        return None;
    }
    entry(
        ctx,
        format!("contract:{id}:{from}"),
        from,
        row.line,
        Fact::RoyaltyContract(record),
    )
}

fn cost_row(
    row: &Row,
    ctx: &RoyaltyContext,
    errs: &mut Errors,
    seen: &mut BTreeMap<String, u64>,
) -> Option<Entry> {
    let id = row.get("cost_id", errs, |s| identifier(s, "a cost id"));
    if let Some(id) = &id {
        if duplicate(row, "cost_id", id.clone(), seen, errs) {
            return None;
        }
    }
    let contract = row.raw("contract_id");
    let covered = ctx.contracts.get(contract);
    if covered.is_none() {
        errs.push(row.err(
            "contract_id",
            contract,
            "a contract in contracts.csv (import it first, or in the same command)",
        ));
    }
    let date = row.get("date", errs, Date::parse);
    let kind = row.get("kind", errs, cost_kind);
    let cur = row.get("currency", errs, Currency::parse);
    let amount = cur.and_then(|c| {
        row.get("amount", errs, |s| {
            Money::parse(s, c).and_then(|m| {
                if m.minor() > 0 {
                    Ok(m)
                } else {
                    Err(DomainError::new(s, "a positive amount"))
                }
            })
        })
    });
    let sku_raw = row.raw("sku");
    let sku = if sku_raw.is_empty() {
        Some(None)
    } else {
        match ctx.codes.resolve_code(sku_raw) {
            Some(s) if covered.is_none_or(|c| c.contains(&s)) => Some(Some(s)),
            Some(_) => {
                errs.push(row.err(
                    "sku",
                    sku_raw,
                    format!("a SKU covered by contract {contract}, or empty (a cost of the whole contract)"),
                ));
                None
            }
            None => {
                errs.push(row.err(
                    "sku",
                    sku_raw,
                    "a SKU or UPC in the catalog, or empty (a cost of the whole contract)",
                ));
                None
            }
        }
    };
    let recoupable = row.get("recoupable", errs, |s| {
        if s.is_empty() {
            Ok(true)
        } else {
            boolean(s)
        }
    });
    let memo = row.text("memo", errs, 500, false);
    let (
        Some(id),
        Some(_),
        Some(date),
        Some(kind),
        Some(amount),
        Some(sku),
        Some(recoupable),
        Some(memo),
    ) = (id, covered, date, kind, amount, sku, recoupable, memo)
    else {
        return None;
    };
    let record = RoyaltyCost {
        cost_id: id.clone(),
        contract_id: contract.to_string(),
        date,
        kind,
        amount,
        sku,
        recoupable,
        memo,
    };
    if ctx.costs.get(&id).is_some_and(|c| *c != record) {
        errs.push(row.err(
            "cost_id",
            &id,
            "a cost id not already used (this one is on file with other details, and recorded costs are never changed: reverse a wrong one with `backstock correct cost:ID` and give the right one an id of its own)",
        ));
        return None;
    }
    entry(
        ctx,
        format!("cost:{id}"),
        date,
        row.line,
        Fact::RoyaltyCost(record),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_domain::Upc;

    fn ctx() -> RoyaltyContext {
        let catalog = vec![
            ("MRG-001-CD".to_string(), None, 800, "USD".to_string()),
            (
                "MRG-002-LP".to_string(),
                Upc::with_check_digit("85971200002")
                    .ok()
                    .map(|u| u.to_string()),
                1150,
                "USD".to_string(),
            ),
        ];
        let mut c = RoyaltyContext {
            codes: Context::from_lookups(&catalog, &[], &[("northwind".into(), "USD".into())], &[]),
            file_name: "t.csv".into(),
            file_sha256: "0123456789abcdef".into(),
            ..Default::default()
        };
        c.distributors.insert("northwind".into());
        c
    }

    fn read_str(
        kind: RoyaltyFile,
        s: &str,
        c: &mut RoyaltyContext,
    ) -> Result<Vec<Entry>, FileErrors> {
        read(kind, s.as_bytes(), c)
    }

    #[test]
    fn detects_kinds() {
        assert_eq!(
            RoyaltyFile::detect("payee,name,email,address"),
            Some(RoyaltyFile::Payees)
        );
        assert_eq!(
            RoyaltyFile::detect("\u{feff}cost_id,contract_id,date,kind,amount,currency,sku"),
            Some(RoyaltyFile::Costs)
        );
        assert_eq!(
            RoyaltyFile::detect("contract_id,effective_from,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency"),
            Some(RoyaltyFile::Contracts)
        );
        assert_eq!(RoyaltyFile::detect("sku,upc,title"), None);
    }

    #[test]
    fn a_whole_set_reads() {
        let mut c = ctx();
        let p = read_str(
            RoyaltyFile::Payees,
            "payee,name,email,address\njune,June Okafor,june@example.com,\"1 Elm St, Asheville\"\nada,Ada Brennan,ada@example.com,\n",
            &mut c,
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        let upc = Upc::with_check_digit("85971200002").unwrap();
        let k = read_str(
            RoyaltyFile::Contracts,
            &format!("contract_id,effective_from,title,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency\nC1,2012-07-01,Slow Burn,june:60%;ada:40%,MRG-001-CD;{upc},earned,*:net_receipts:18%;physical/LP:ppd:12%,yes,20%,2,50.00,USD\n"),
            &mut c,
        )
        .unwrap();
        let Event::Fact(Fact::RoyaltyContract(rc)) = &k[0].event else {
            panic!("not a contract")
        };
        assert_eq!(rc.skus.len(), 2, "the UPC resolves to its SKU");
        assert_eq!(rc.rules.len(), 2);
        assert_eq!(rule_text(&rc.rules[1]), "physical/LP:ppd:12%");
        assert_eq!(k[0].id.as_str(), "contract:C1:2012-07-01");
        let costs = read_str(
            RoyaltyFile::Costs,
            "cost_id,contract_id,date,kind,amount,currency,sku\nA1,C1,2012-07-15,advance,2000.00,USD,\nR1,C1,2012-08-01,recording,500.00,USD,MRG-002-LP\n",
            &mut c,
        )
        .unwrap();
        assert_eq!(costs.len(), 2);
        let Event::Fact(Fact::RoyaltyCost(rc)) = &costs[0].event else {
            panic!("not a cost")
        };
        assert!(rc.recoupable, "recoupable by default");
    }

    /// The context with two payees on file, june and ada.
    fn ctx_with_june_and_ada() -> RoyaltyContext {
        let mut c = ctx();
        read_str(
            RoyaltyFile::Payees,
            "payee,name,email\njune,June,june@example.com\nada,Ada,ada@example.com\n",
            &mut c,
        )
        .unwrap();
        c
    }

    /// A row's shares, reserve rate and minimum payout are judged with its other
    /// problems — every problem in one round — and said as the label wrote them.
    #[test]
    fn every_problem_of_a_contract_row_is_said_at_once() {
        let mut c = ctx_with_june_and_ada();
        let e = read_str(
            RoyaltyFile::Contracts,
            "contract_id,effective_from,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency\nC1,2012-13-01,june:60%;ada:30%,MRG-001-CD,earned,*:net_receipts:18%,yes,120%,2,-5.00,USD\nC2,2012-07-01,june:100,MRG-001-CD,earned,*:net_receipts:18%,yes,0,0,0,USD\n",
            &mut c,
        )
        .unwrap_err();
        let text = e.to_string();
        for want in [
            "line 2, column 2 (effective_from): found \"2012-13-01\"",
            "line 2, column 3 (payees): found \"june:60%;ada:30%\", expected shares summing to exactly 100% (these sum to 90%)",
            "line 2, column 8 (reserve_rate): found \"120%\", expected a reserve rate from 0% to 100%",
            "line 2, column 10 (min_payout): found \"-5.00\", expected a minimum payout of 0 or more",
            "line 3, column 3 (payees): found \"june:100\", expected shares summing to exactly 100% (these sum to 10000%); a share without a % sign is a fraction of 1 (100 means 10000%): write 60% or 0.6",
        ] {
            assert!(text.contains(want), "{want}\n in {text}");
        }
        // Two rules for the same sales: refused, the second named.
        let e = read_str(
            RoyaltyFile::Contracts,
            "contract_id,effective_from,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency\nC3,2012-07-01,june:100%,MRG-001-CD,earned,*:ppd:15%;LP:ppd:12%;*:ppd:20%,yes,0,0,0,USD\n",
            &mut c,
        )
        .unwrap_err();
        let text = e.to_string();
        let want = "line 2, column 6 (rates): found \"*:ppd:15%;LP:ppd:12%;*:ppd:20%\", expected each scope once: *:ppd:20% covers the same sales as an earlier rule";
        assert!(text.contains(want), "{want}\n in {text}");
    }

    #[test]
    fn errors_are_located() {
        let mut c = ctx_with_june_and_ada();
        let e = read_str(
            RoyaltyFile::Contracts,
            "contract_id,effective_from,payees,skus,basis,rates,cross_collateralized,reserve_rate,reserve_release_periods,min_payout,currency\nC1,2012-07-01,june:60%;ada:30%,MRG-001-CD,earned,*:net_receipts:18%,yes,0,0,0,USD\nC2,2012-13-01,june:100%,NOPE,sometimes,*:gross:18%,maybe,0,0,0,USD\n",
            &mut c,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("line 2, column 3 (payees): found \"june:60%;ada:30%\", expected shares summing to exactly 100% (these sum to 90%)"), "{text}");
        assert!(
            text.contains("line 3, column 2 (effective_from): found \"2012-13-01\""),
            "{text}"
        );
        assert!(
            text.contains("line 3, column 4 (skus): found \"NOPE\""),
            "{text}"
        );
        assert!(
            text.contains(
                "line 3, column 5 (basis): found \"sometimes\", expected earned or collected"
            ),
            "{text}"
        );
        assert!(
            text.contains("line 3, column 6 (rates): found \"*:gross:18%\""),
            "{text}"
        );
        assert!(
            text.contains(
                "line 3, column 7 (cross_collateralized): found \"maybe\", expected yes or no"
            ),
            "{text}"
        );

        let e = read_str(
            RoyaltyFile::Payees,
            "payee,name,email\nnorthwind,N,n@example.com\nbob,Bob,not-an-email\nbob,Bob,bob@example.com\n",
            &mut c,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 2, column 1 (payee): found \"northwind\""),
            "{e}"
        );
        assert!(
            e.contains("line 3, column 3 (email): found \"not-an-email\""),
            "{e}"
        );

        let e = read_str(
            RoyaltyFile::Costs,
            "cost_id,contract_id,date,kind,amount,currency,sku\nA1,C9,2012-07-15,bribe,-5.00,USD,\n",
            &mut c,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 2, column 2 (contract_id): found \"C9\""),
            "{e}"
        );
        assert!(
            e.contains("line 2, column 4 (kind): found \"bribe\""),
            "{e}"
        );
        assert!(
            e.contains("line 2, column 5 (amount): found \"-5.00\", expected a positive amount"),
            "{e}"
        );

        let e = read_str(RoyaltyFile::Costs, "cost_id,contract_id\n", &mut c)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "line 1: found \"cost_id,contract_id\", expected a header with the column \"date\""
            ),
            "{e}"
        );
    }

    #[test]
    fn rules_parse_with_territories_and_services_for_digital_income() {
        let r = parse_rule("LP:ppd:0.12").unwrap();
        assert_eq!((r.channel, r.format.as_deref()), (None, Some("LP")));
        assert_eq!((r.territory.as_deref(), r.service.as_deref()), (None, None));
        let r = parse_rule("digital:net_profit:50%").unwrap();
        assert_eq!(r.channel, Some(Channel::Digital));
        assert_eq!(r.base, RoyaltyBase::NetProfitSplit);
        // Issue 17.2: @TERRITORY and +SERVICE; no channel means digital.
        let r = parse_rule("digital@us:net_receipts:25%").unwrap();
        assert_eq!(r.territory.as_deref(), Some("US"));
        assert_eq!(rule_text(&r), "digital@US:net_receipts:25%");
        let r = parse_rule("*+GenStore:net_receipts:30%").unwrap();
        assert_eq!(r.channel, Some(Channel::Digital));
        assert_eq!(r.service.as_deref(), Some("GenStore"));
        assert_eq!(rule_text(&r), "digital+GenStore:net_receipts:30%");
        let r = parse_rule("digital/ALBUM@GB+GenStreamFree:net_receipts:12.5%").unwrap();
        assert_eq!(
            (
                r.format.as_deref(),
                r.territory.as_deref(),
                r.service.as_deref()
            ),
            (Some("ALBUM"), Some("GB"), Some("GenStreamFree"))
        );
        assert_eq!(
            rule_text(&r),
            "digital/ALBUM@GB+GenStreamFree:net_receipts:12.5%"
        );
        assert_eq!(parse_rule(&rule_text(&r)).unwrap(), r);
        let e = parse_rule("physical@US:ppd:10%").unwrap_err();
        assert!(
            e.expected().contains("physical sales carry no territory"),
            "{e}"
        );
        let e = parse_rule("digital@USA:ppd:10%").unwrap_err();
        assert!(e.expected().contains("two-letter ISO 3166 code"), "{e}");
        let e = parse_rule("digital+:ppd:10%").unwrap_err();
        assert!(e.expected().contains("a service after +"), "{e}");
        assert!(parse_rule("*:ppd").is_err());
        assert!(parse_rules(" ; ").is_err());
        assert!(parse_shares("june").is_err());
        assert_eq!(parse_shares("june=50%; ada:0.5").unwrap().len(), 2);
    }
}
