//! Applying a mapping to the rows of a file, whatever the file format.

use crate::date::{DateFormats, Ymd};
use crate::number::{parse_plain, Dec, NumberStyle};
use crate::schema::{
    Action, Code, ColRef, Kind, Line, Mapping, Sign, Source, Span, Test, ValueSpec, FIELDS,
};
use crate::{Overrides, Row, SourceError, MAX_ERRORS};
use std::borrow::Cow;

/// One cell as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    Empty,
    Text(Cow<'a, str>),
    /// A spreadsheet number, as plain decimal text (`-1234.5`).
    Number(String),
    /// A spreadsheet date.
    Date(Ymd),
}

/// A source row: CSV record or sheet row.
pub(crate) trait RowCells {
    fn width(&self) -> usize;
    /// 0-based.
    fn cell(&self, i: usize) -> Cell<'_>;
    /// The date a spreadsheet number cell holds as a serial day number in a General
    /// (not date) format, such as 42460 for 2016-03-31 (1970-9999 only; the
    /// workbook's 1900 or 1904 date system); `None` for anything else.
    fn serial_date(&self, i: usize) -> Option<Ymd> {
        let _ = i;
        None
    }
}

impl RowCells for csv::StringRecord {
    fn width(&self) -> usize {
        self.len()
    }
    fn cell(&self, i: usize) -> Cell<'_> {
        match self.get(i) {
            Some(s) => Cell::Text(Cow::Borrowed(s)),
            None => Cell::Empty,
        }
    }
}

/// Position of each statement-level field among the canonical columns.
fn canonical_pos(field: usize) -> usize {
    match FIELDS[field] {
        "distributor" => 1,
        "currency" => 9,
        "period_start" => 2,
        "period_end" => 3,
        "issued_on" => 4,
        _ => 0,
    }
}

fn describe(field: &str) -> &'static str {
    match field {
        "distributor" => "the distributor's short name",
        "currency" => "a currency code such as USD or EUR",
        "period_start" => "the first day of the statement period",
        "period_end" => "the last day of the statement period",
        "issued_on" => "the date the statement was issued",
        _ => "a statement id",
    }
}

fn is_date_field(field: usize) -> bool {
    matches!(FIELDS[field], "period_start" | "period_end" | "issued_on")
}

/// The Excel name (`B3`) of the cell at 0-based row `r`, column `c`.
pub(crate) fn cell_name(r: u32, c: u32) -> String {
    format!("{}{}", letters(c as usize + 1), u64::from(r) + 1)
}

/// Excel-style column letters for a 1-based column number.
fn letters(mut n: usize) -> String {
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn normalize_header(s: &str) -> String {
    s.trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A resolved column: 0-based index and the name used in messages.
#[derive(Debug, Clone)]
struct Col {
    idx: usize,
    name: String,
}

struct LinePlan {
    kind: Option<Kind>,
    amount: Col,
    plus: Vec<Col>,
    minus: Vec<Col>,
    units: Option<Col>,
    sign: Sign,
    memo: Option<String>,
    memo_cols: Option<Vec<Col>>,
    with_sku: bool,
}

enum ActionPlan {
    Skip,
    Stop,
    Total(Col),
    Lines(Vec<LinePlan>),
}

struct RulePlan {
    col: Col,
    test: Test,
    action: ActionPlan,
}

impl RulePlan {
    /// The rule as the mapping says it: `UPC starts with "TOTAL"`.
    fn said(&self) -> String {
        match &self.test {
            Test::Equals(e) => format!("{} is {e:?}", self.col.name),
            Test::StartsWith(p) => format!("{} starts with {p:?}", self.col.name),
        }
    }
}

struct Plan {
    sku: Vec<Col>,
    date: Option<Col>,
    memo: Vec<Col>,
    skip_empty: Vec<Col>,
    kind: Option<Col>,
    lines: Vec<LinePlan>,
    rules: Vec<RulePlan>,
    /// Every column a line of the mapping reads an amount from (default and rule
    /// lines): a row that makes no line but has money in one of them is refused.
    amount_cols: Vec<Col>,
    /// Statement fields taken from a column of each row.
    stmt_cols: [Option<Col>; 6],
}

/// How many lines below `header_row` the header is looked for when that row lacks
/// the columns the mapping names (a title block one line longer this month, a blank
/// line above the header).
const HEADER_SEARCH: u64 = 50;

/// How many lines above `header_row` the header is looked for when that row lacks the
/// mapping's columns (a title block one line shorter this month).
const HEADER_SEARCH_BACK: usize = 10;

/// What a candidate header row lacks: columns the mapping names that it does not have,
/// and names it has more than once (with their 1-based column numbers).
struct HeaderProblem {
    missing: Vec<String>,
    ambiguous: Vec<(String, Vec<usize>)>,
}

/// A row of the header area, kept as text.
struct Preamble {
    line: u64,
    cells: Vec<String>,
    /// Spreadsheet number cells that may be serial dates: (0-based column, date).
    serials: Vec<(usize, Ymd)>,
}

impl Preamble {
    fn new(line: u64, cells: Vec<String>, row: &impl RowCells) -> Preamble {
        Preamble {
            line,
            serials: (0..row.width())
                .filter_map(|i| row.serial_date(i).map(|d| (i, d)))
                .collect(),
            cells,
        }
    }

    fn serial(&self, col: usize) -> Option<Ymd> {
        self.serials
            .iter()
            .find(|(c, _)| *c == col)
            .map(|(_, d)| *d)
    }
}

/// A row kept as text, read again as a data row when the header turns out to be above
/// it (a title block shorter than the mapping says).
impl RowCells for Preamble {
    fn width(&self) -> usize {
        self.cells.len()
    }
    fn cell(&self, i: usize) -> Cell<'_> {
        match self.cells.get(i) {
            Some(s) if !s.is_empty() => Cell::Text(Cow::Borrowed(s.as_str())),
            _ => Cell::Empty,
        }
    }
    fn serial_date(&self, i: usize) -> Option<Ymd> {
        self.serial(i)
    }
}

pub(crate) struct Engine<'m> {
    m: &'m Mapping,
    overrides: &'m Overrides,
    style: NumberStyle,
    preamble: Vec<Preamble>,
    plan: Option<Plan>,
    header_failed: bool,
    /// The first row tried as the header and what it lacked, reported if no row has
    /// the mapping's columns.
    first_header: Option<(u64, Vec<String>, HeaderProblem)>,
    /// The header row's cells, once found.
    pub(crate) header: Vec<String>,
    /// Read only as far as the header row.
    pub(crate) stop_at_header: bool,
    to_skip: u64,
    /// Rows first kept as the header block that turned out to be data (the header was
    /// above `header_row`), read once the header is known.
    data_above: Vec<Preamble>,
    stopped: bool,
    /// Where a `stop` rule ended the lines (its line and the rule as said): rows after
    /// it are still looked at, and one that would make a line is an error.
    stop_rule: Option<(u64, String)>,
    /// Σ of the lines read so far, as their effect on what the label is owed (what a
    /// `total` row is checked against).
    net_read: Dec,
    /// Whether a `total` row was met (a mapping that has one expects it: a file
    /// without it may have been cut short).
    total_seen: bool,
    /// The last `total` row's line and the net read by then: lines read after it that
    /// change the net are money the total leaves out.
    last_total: Option<(u64, Dec)>,
    rows: Vec<Row>,
    errors: Vec<SourceError>,
    dates: Option<(Ymd, Ymd)>,
}

/// Errors of one row, collected before deciding whether the row yields lines.
type RowErrors = Vec<SourceError>;

impl<'m> Engine<'m> {
    pub(crate) fn new(m: &'m Mapping, overrides: &'m Overrides) -> Engine<'m> {
        Engine {
            m,
            overrides,
            style: m.number_style(),
            preamble: Vec::new(),
            plan: None,
            header_failed: false,
            first_header: None,
            header: Vec::new(),
            stop_at_header: false,
            to_skip: m.skip_rows_after_header,
            data_above: Vec::new(),
            stopped: false,
            stop_rule: None,
            net_read: Dec::ZERO,
            total_seen: false,
            last_total: None,
            rows: Vec::new(),
            errors: Vec::new(),
            dates: None,
        }
    }

    pub(crate) fn push_error(&mut self, e: SourceError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        }
        if self.errors.len() >= MAX_ERRORS {
            self.stopped = true;
        }
    }

    /// Takes one row; returns false once nothing more will be read (a footer rule
    /// stopped reading, or the error limit was reached).
    pub(crate) fn feed(&mut self, line: u64, cells: &impl RowCells) -> bool {
        if self.stopped || self.header_failed {
            return false;
        }
        let header_row = self.m.header_row;
        if header_row == 0 && self.plan.is_none() {
            match self.plan_for(None) {
                Ok(plan) => self.plan = Some(plan),
                Err(problem) => {
                    self.fail_header(0, Vec::new(), problem);
                    return false;
                }
            }
        }
        if self.plan.is_none() {
            let texts: Vec<String> = (0..cells.width())
                .map(|i| cell_text(&cells.cell(i)).into_owned())
                .collect();
            if line < header_row {
                self.preamble.push(Preamble::new(line, texts, cells));
                return true;
            }
            // The header row, or (a title block longer than the mapping says, a
            // blank line) one of the rows below it: the first that has every column
            // the mapping names.
            match self.plan_for(Some(&texts)) {
                Ok(plan) => {
                    self.plan = Some(plan);
                    self.header = texts;
                    return !self.stop_at_header;
                }
                Err(_)
                    if self.first_header.is_none()
                        && self.m.names_columns()
                        && self.header_above() =>
                {
                    // The rows kept after the header found above were data: read
                    // them, then this one.
                    if self.stop_at_header {
                        return false;
                    }
                    let rows = std::mem::take(&mut self.data_above);
                    for r in &rows {
                        if self.stopped {
                            break;
                        }
                        self.data_or_skip(r.line, r);
                    }
                    if !self.stopped {
                        self.data_or_skip(line, cells);
                    }
                    return !self.stopped;
                }
                Err(problem) => {
                    let searching = problem.ambiguous.is_empty()
                        && self.m.names_columns()
                        && line - header_row <= HEADER_SEARCH;
                    // The row header_row names is reported, unless a later one has
                    // the columns but names one twice.
                    if self.first_header.is_none() || !problem.ambiguous.is_empty() {
                        self.first_header = Some((line, texts.clone(), problem));
                    }
                    if searching {
                        self.preamble.push(Preamble::new(line, texts, cells));
                        return true;
                    }
                    if let Some((line, names, problem)) = self.first_header.take() {
                        self.fail_header(line, names, problem);
                    }
                    return false;
                }
            }
        }
        self.data_or_skip(line, cells);
        !self.stopped
    }

    /// A row below the header: passed over while `skip_rows_after_header` lasts, else
    /// read.
    fn data_or_skip(&mut self, line: u64, cells: &impl RowCells) {
        if self.to_skip > 0 {
            self.to_skip -= 1;
            return;
        }
        self.data_row(line, cells);
    }

    /// Looks for the header in the rows kept above `header_row` (nearest first): when
    /// one has every column the mapping names, it becomes the header, the rows kept
    /// below it move to `data_above`, and `true` is returned.
    fn header_above(&mut self) -> bool {
        let n = self.preamble.len();
        let found = (n.saturating_sub(HEADER_SEARCH_BACK)..n)
            .rev()
            .find_map(|k| {
                let p = self.preamble.get(k)?;
                self.plan_for(Some(&p.cells)).ok().map(|plan| (k, plan))
            });
        let Some((k, plan)) = found else {
            return false;
        };
        self.data_above = self.preamble.split_off(k + 1);
        if let Some(h) = self.preamble.pop() {
            self.header = h.cells;
        }
        self.plan = Some(plan);
        true
    }

    /// Reports a header row without the columns the mapping names (or naming one of
    /// them twice); nothing more is read.
    fn fail_header(&mut self, line: u64, names: Vec<String>, problem: HeaderProblem) {
        self.header_failed = true;
        let found = names.join(", ");
        for what in problem.missing {
            self.push_error(SourceError {
                line,
                column: None,
                found: found.clone(),
                expected: format!("{what} on the header row"),
            });
        }
        for (name, cols) in problem.ambiguous {
            let numbers: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
            self.push_error(SourceError {
                line,
                column: Some((cols[0], name.clone())),
                found: format!(
                    "{} columns named {name:?} (columns {})",
                    cols.len(),
                    numbers.join(" and ")
                ),
                expected: format!(
                    "one column named {name:?} on the header row: give the column by number in the mapping (such as {})",
                    cols[0]
                ),
            });
        }
    }

    /// How the mapping's columns are found on a header row (`None`: no header, columns
    /// by number), or what the row lacks.
    fn plan_for(&self, names: Option<&[String]>) -> Result<Plan, HeaderProblem> {
        let normalized: Option<Vec<String>> =
            names.map(|ns| ns.iter().map(|n| normalize_header(n)).collect());
        let mut missing: Vec<String> = Vec::new();
        let mut ambiguous: Vec<(String, Vec<usize>)> = Vec::new();
        let optional: Vec<String> = self
            .m
            .optional_columns
            .iter()
            .map(|c| normalize_header(c))
            .collect();
        let mut resolve = |c: &ColRef, what: &str| -> Col {
            match c {
                ColRef::Index(i) => Col {
                    idx: i - 1,
                    name: names
                        .and_then(|ns| ns.get(i - 1))
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| letters(*i)),
                },
                ColRef::Name(n) => {
                    let want = normalize_header(n);
                    let at: Vec<usize> = normalized
                        .as_ref()
                        .map(|ns| {
                            ns.iter()
                                .enumerate()
                                .filter(|(_, h)| **h == want)
                                .map(|(i, _)| i)
                                .collect()
                        })
                        .unwrap_or_default();
                    if at.len() > 1 && !ambiguous.iter().any(|(a, _)| normalize_header(a) == want) {
                        // Two columns of the same name: which one is meant is not
                        // guessed.
                        ambiguous.push((n.clone(), at.iter().map(|i| i + 1).collect()));
                    }
                    match at.first() {
                        Some(&idx) => Col {
                            idx,
                            name: names
                                .and_then(|ns| ns.get(idx))
                                .map(|s| s.trim().to_string())
                                .unwrap_or_default(),
                        },
                        None if optional.contains(&want) => Col {
                            idx: usize::MAX,
                            name: n.clone(),
                        },
                        None => {
                            let m = format!("a column named {n:?} ({what})");
                            if !missing.contains(&m) {
                                missing.push(m);
                            }
                            Col {
                                idx: usize::MAX,
                                name: n.clone(),
                            }
                        }
                    }
                }
            }
        };
        let m = self.m;
        let line_plan = |l: &Line, resolve: &mut dyn FnMut(&ColRef, &str) -> Col| LinePlan {
            kind: l.kind,
            amount: resolve(&l.amount, "amount"),
            plus: l.plus.iter().map(|c| resolve(c, "amount")).collect(),
            minus: l.minus.iter().map(|c| resolve(c, "amount")).collect(),
            units: l.units.as_ref().map(|c| resolve(c, "units")),
            sign: l.sign,
            memo: l.memo.clone(),
            memo_cols: l
                .memo_columns
                .as_ref()
                .map(|cs| cs.iter().map(|c| resolve(c, "memo")).collect()),
            with_sku: l.with_sku,
        };
        let sku = m
            .columns
            .sku
            .iter()
            .map(|c| resolve(c, "item code"))
            .collect();
        let date = m.columns.date.as_ref().map(|c| resolve(c, "date"));
        let memo = m.columns.memo.iter().map(|c| resolve(c, "memo")).collect();
        let skip_empty = m
            .skip_if_column_empty
            .iter()
            .map(|c| resolve(c, "skip_if_column_empty"))
            .collect();
        let kind = m
            .kind_column
            .as_ref()
            .map(|k| resolve(&k.column, "kind codes"));
        let lines: Vec<LinePlan> = m.lines.iter().map(|l| line_plan(l, &mut resolve)).collect();
        let rules: Vec<RulePlan> = m
            .rules
            .iter()
            .map(|r| RulePlan {
                col: resolve(&r.column, "rules"),
                test: r.test.clone(),
                action: match &r.action {
                    Action::Skip => ActionPlan::Skip,
                    Action::Stop => ActionPlan::Stop,
                    Action::Total(c) => ActionPlan::Total(resolve(c, "rules")),
                    Action::Lines(ls) => {
                        ActionPlan::Lines(ls.iter().map(|l| line_plan(l, &mut resolve)).collect())
                    }
                },
            })
            .collect();
        let mut stmt_cols: [Option<Col>; 6] = Default::default();
        for (i, spec) in m.statement.iter().enumerate() {
            if let Some(ValueSpec {
                source: Source::Column(c),
                ..
            }) = spec
            {
                if self.overrides.get(FIELDS[i]).is_none() {
                    stmt_cols[i] = Some(resolve(c, FIELDS[i]));
                }
            }
        }
        if !missing.is_empty() || !ambiguous.is_empty() {
            return Err(HeaderProblem { missing, ambiguous });
        }
        let mut amount_cols: Vec<Col> = Vec::new();
        let rule_lines = rules.iter().flat_map(|r: &RulePlan| match &r.action {
            ActionPlan::Lines(ls) => ls.as_slice(),
            _ => &[],
        });
        let total_cols = rules.iter().filter_map(|r| match &r.action {
            ActionPlan::Total(c) => Some(c),
            _ => None,
        });
        for l in lines.iter().chain(rule_lines) {
            for c in std::iter::once(&l.amount).chain(&l.plus).chain(&l.minus) {
                if c.idx != usize::MAX && !amount_cols.iter().any(|a| a.idx == c.idx) {
                    amount_cols.push(c.clone());
                }
            }
        }
        // The total's column too: money there on a row that makes no line (a charge
        // below the TOTAL) is money the statement's net leaves out.
        for c in total_cols {
            if c.idx != usize::MAX && !amount_cols.iter().any(|a| a.idx == c.idx) {
                amount_cols.push(c.clone());
            }
        }
        Ok(Plan {
            amount_cols,
            sku,
            date,
            memo,
            skip_empty,
            kind,
            lines,
            rules,
            stmt_cols,
        })
    }

    /// The text of a cell, `None` when empty (or one of `empty_values`).
    fn text<'c>(&self, cell: &'c Cell<'_>) -> Option<Cow<'c, str>> {
        let t = cell_text(cell);
        let trimmed = t.trim();
        if trimmed.is_empty()
            || self
                .m
                .empty_values
                .iter()
                .any(|e| e.trim().eq_ignore_ascii_case(trimmed))
        {
            return None;
        }
        // `="012345678905"`: the formula a CSV export writes so that a spreadsheet
        // keeps a code's leading zeros, for the text inside.
        let unformula = |t: &str| -> Option<String> {
            let inner = t.trim().strip_prefix("=\"")?.strip_suffix('"')?;
            (!inner.contains('"')).then(|| inner.trim().to_string())
        };
        if let Some(inner) = unformula(trimmed) {
            return (!inner.is_empty()).then_some(Cow::Owned(inner));
        }
        Some(match t {
            Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
            Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
        })
    }

    fn err(
        line: u64,
        col: &Col,
        found: impl Into<String>,
        expected: impl Into<String>,
    ) -> SourceError {
        SourceError {
            line,
            // A missing optional column has no number.
            column: (col.idx != usize::MAX).then(|| (col.idx + 1, col.name.clone())),
            found: found.into(),
            expected: expected.into(),
        }
    }

    /// An amount cell; empty is zero.
    fn amount(&self, line: u64, cells: &impl RowCells, col: &Col, errs: &mut RowErrors) -> Dec {
        let cell = cells.cell(col.idx);
        let parsed = match &cell {
            Cell::Number(n) => parse_plain(n).ok_or_else(|| n.clone()),
            Cell::Date(d) => Err(d.to_string()),
            _ => match self.text(&cell) {
                None => return Dec::ZERO,
                Some(t) => self.style.parse(&t).ok_or_else(|| t.into_owned()),
            },
        };
        match parsed {
            Ok(d) => d,
            Err(found) => {
                errs.push(Self::err(
                    line,
                    col,
                    found,
                    format!("a decimal amount such as {}", self.style.example()),
                ));
                Dec::ZERO
            }
        }
    }

    /// A units cell: a whole number (`3`, `3.00`, `(2)`); empty is zero.
    fn units(&self, line: u64, cells: &impl RowCells, col: &Col, errs: &mut RowErrors) -> i64 {
        let cell = cells.cell(col.idx);
        let (parsed, found) = match &cell {
            Cell::Number(n) => (parse_plain(n), n.clone()),
            Cell::Date(d) => (None, d.to_string()),
            _ => match self.text(&cell) {
                None => return 0,
                Some(t) => (self.style.parse(&t), t.into_owned()),
            },
        };
        match parsed
            .and_then(Dec::to_integer)
            .and_then(|i| i64::try_from(i).ok())
            .filter(|u| u.unsigned_abs() <= 1_000_000_000)
        {
            Some(u) => u,
            None => {
                errs.push(Self::err(
                    line,
                    col,
                    found,
                    "a whole number of units (at most 1,000,000,000)",
                ));
                0
            }
        }
    }

    fn date(
        &self,
        line: u64,
        cells: &impl RowCells,
        col: &Col,
        errs: &mut RowErrors,
    ) -> Option<Ymd> {
        let cell = cells.cell(col.idx);
        if let Cell::Date(d) = cell {
            return Some(d);
        }
        let t = self.text(&cell).unwrap_or_default();
        match self
            .m
            .date_format
            .parse_date(&t)
            .or_else(|| cells.serial_date(col.idx))
        {
            Some(d) => Some(d),
            None => {
                errs.push(Self::err(
                    line,
                    col,
                    t.into_owned(),
                    format!(
                        "a date such as {} ({})",
                        self.m.date_format.example(),
                        self.m.date_format.as_str()
                    ),
                ));
                None
            }
        }
    }

    fn data_row(&mut self, line: u64, cells: &impl RowCells) {
        let Some(plan) = self.plan.as_ref() else {
            return;
        };
        if (0..cells.width()).all(|i| self.text(&cells.cell(i)).is_none()) {
            return;
        }
        let mut lines: &[LinePlan] = &plan.lines;
        let mut from_rule = false;
        for r in &plan.rules {
            let cell = cells.cell(r.col.idx);
            let Some(t) = self.text(&cell) else { continue };
            let hit = match &r.test {
                Test::Equals(e) => t.eq_ignore_ascii_case(e),
                Test::StartsWith(p) => t
                    .get(..p.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(p)),
            };
            if hit {
                match &r.action {
                    ActionPlan::Skip => return,
                    ActionPlan::Stop => {
                        if self.stop_rule.is_none() {
                            self.stop_rule = Some((line, r.said()));
                        }
                        return;
                    }
                    ActionPlan::Total(col) => {
                        self.total_seen = true;
                        self.last_total = Some((line, self.net_read));
                        // Rows refused above are not in the sum: their errors say it.
                        if self.stop_rule.is_none() && self.errors.is_empty() {
                            let e = self.check_total(line, cells, col, &r.said());
                            if let Some(e) = e {
                                self.push_error(e);
                            }
                        }
                        return;
                    }
                    ActionPlan::Lines(ls) => {
                        lines = ls;
                        from_rule = true;
                    }
                }
                break;
            }
        }
        if !from_rule
            && plan
                .skip_empty
                .iter()
                .any(|c| self.text(&cells.cell(c.idx)).is_none())
        {
            return;
        }
        let mut errs: RowErrors = Vec::new();
        let mut row_kind: Option<Kind> = None;
        if let (false, Some(kc), Some(kcol)) =
            (from_rule, self.m.kind_column.as_ref(), plan.kind.as_ref())
        {
            let cell = cells.cell(kcol.idx);
            let code = self.text(&cell).unwrap_or_default();
            match kc.lookup(&code) {
                Some(Code::Skip) => return,
                Some(Code::Kind(k)) => row_kind = Some(k),
                None => {
                    let known: Vec<&str> = kc.codes.iter().map(|(c, _)| c.as_str()).collect();
                    errs.push(Self::err(
                        line,
                        kcol,
                        code.into_owned(),
                        format!("one of the codes {}", known.join(", ")),
                    ));
                }
            }
        }

        // The item code: the first non-empty code column.
        let mut sku = String::new();
        let mut sku_refused = false;
        let mut sku_col = 0u32;
        for c in &plan.sku {
            let cell = cells.cell(c.idx);
            if let Some(t) = self.text(&cell) {
                sku_col = source_number(c);
                if let Some(digits) = scientific_code(&t) {
                    // A spreadsheet showed the barcode as a number in scientific form
                    // (`1.99758300217E+11`) and the CSV kept what it showed.
                    match digits {
                        Some(d) => sku = d,
                        None => {
                            sku_refused = true;
                            errs.push(Self::err(
                            line,
                            c,
                            t.into_owned(),
                            "a UPC or EAN with all its digits: a spreadsheet wrote this one in scientific form and its last digits are lost (format the column as Number with 0 decimals, or as Text, and export the file again)",
                        ));
                        }
                    }
                    break;
                }
                sku = normalize_code(&t, matches!(cell, Cell::Number(_)));
                break;
            }
        }

        if let Some(dc) = plan.date.as_ref().filter(|dc| {
            // Special rows (reserve, totals) may carry no date.
            !from_rule || self.text(&cells.cell(dc.idx)).is_some()
        }) {
            if let Some(d) = self.date(line, cells, dc, &mut errs) {
                self.dates = Some(match self.dates {
                    None => (d, d),
                    Some((lo, hi)) => (lo.min(d), hi.max(d)),
                });
            }
        }

        let mut out: Vec<Row> = Vec::new();
        let mut row_net = Dec::ZERO;
        for lp in lines {
            let Some(kind) = lp.kind.or(row_kind) else {
                continue;
            };
            let mut amount = self.amount(line, cells, &lp.amount, &mut errs);
            for c in &lp.plus {
                let v = self.amount(line, cells, c, &mut errs);
                amount = amount.checked_add(v).unwrap_or_else(|| {
                    errs.push(Self::err(line, c, "", "amounts whose sum stays in range"));
                    Dec::ZERO
                });
            }
            for c in &lp.minus {
                let v = self.amount(line, cells, c, &mut errs);
                amount = amount.checked_sub(v).unwrap_or_else(|| {
                    errs.push(Self::err(
                        line,
                        c,
                        "",
                        "amounts whose difference stays in range",
                    ));
                    Dec::ZERO
                });
            }
            let units = match &lp.units {
                Some(c) => self.units(line, cells, c, &mut errs),
                None => 0,
            };
            if amount.is_zero() && units == 0 {
                continue;
            }
            // Money for units the row does not give: a blank units cell is not "none
            // sold" (a distributor that sold none writes 0), and a sale recorded as 0
            // units would leave the stock at the distributor.
            if let (Some(c), true, false) = (
                lp.units.as_ref(),
                matches!(kind, Kind::Sale | Kind::Return),
                amount.is_zero(),
            ) {
                if self.text(&cells.cell(c.idx)).is_none()
                    && !matches!(cells.cell(c.idx), Cell::Number(_))
                {
                    errs.push(Self::err(
                        line,
                        c,
                        "",
                        format!(
                            "the number of units of this {} of {} (write 0 when the amount is for no units)",
                            kind.as_str(),
                            amount.to_canonical()
                        ),
                    ));
                    continue;
                }
            }
            // The effect on what the label is owed decides the kind.
            let effect = match (lp.sign, kind.adds()) {
                (Sign::Net, _) | (Sign::Positive, true) => amount,
                (Sign::Positive, false) => amount.neg(),
            };
            let (out_kind, out_amount) = if kind == Kind::Adjustment {
                (kind, effect)
            } else if amount.is_zero() || effect.is_negative() != kind.adds() {
                (kind, effect.abs())
            } else {
                let opposite = kind.opposite();
                let a = if opposite == Kind::Adjustment {
                    effect
                } else {
                    effect.abs()
                };
                (opposite, a)
            };
            let line_sku = if lp.with_sku {
                sku.clone()
            } else {
                String::new()
            };
            if matches!(out_kind, Kind::Sale | Kind::Return) && line_sku.is_empty() {
                if sku_refused {
                    // Already said at the code's cell.
                    continue;
                }
                let (n, name) = plan.sku.first().map_or((0, "item code".to_string()), |c| {
                    (c.idx.saturating_add(1), c.name.clone())
                });
                errs.push(SourceError {
                    line,
                    column: (n > 0).then_some((n, name)),
                    found: String::new(),
                    expected: "an item code (UPC, EAN or catalog number) on sale and return lines"
                        .into(),
                });
                continue;
            }
            let mut memo_parts: Vec<String> = Vec::new();
            if let Some(m) = &lp.memo {
                memo_parts.push(m.clone());
            }
            for c in lp.memo_cols.as_ref().unwrap_or(&plan.memo) {
                if let Some(t) = self.text(&cells.cell(c.idx)) {
                    memo_parts.push(t.into_owned());
                }
            }
            let mut fields: [String; 11] = Default::default();
            fields[5] = out_kind.as_str().to_string();
            fields[6] = line_sku;
            fields[7] = units.unsigned_abs().to_string();
            fields[8] = out_amount.to_canonical();
            let signed = if out_kind.adds() {
                out_amount
            } else {
                out_amount.neg()
            };
            row_net = row_net.checked_add(signed).unwrap_or_else(|| {
                errs.push(Self::err(
                    line,
                    &lp.amount,
                    "",
                    "amounts whose sum stays in range",
                ));
                Dec::ZERO
            });
            fields[10] = memo_parts.join(" / ");
            let mut columns = [0u32; 11];
            if !from_rule {
                columns[5] = plan
                    .kind
                    .as_ref()
                    .filter(|_| lp.kind.is_none())
                    .map_or(0, source_number);
            }
            if lp.with_sku {
                columns[6] = sku_col;
            }
            columns[7] = lp.units.as_ref().map_or(0, source_number);
            if lp.plus.is_empty() && lp.minus.is_empty() {
                columns[8] = source_number(&lp.amount);
            }
            out.push(Row {
                line,
                fields,
                columns,
            });
        }
        // Statement fields from columns of this row (only rows that yield lines).
        let mut stmt: [Option<String>; 6] = Default::default();
        for (i, col) in plan.stmt_cols.iter().enumerate() {
            let Some(col) = col.as_ref().filter(|_| !out.is_empty()) else {
                continue;
            };
            let Some(spec) = &self.m.statement[i] else {
                continue;
            };
            let cell = cells.cell(col.idx);
            let value = if let (Cell::Date(d), true) = (&cell, is_date_field(i)) {
                Ok(end_of_month(spec, d.to_string()))
            } else {
                let raw = self.text(&cell).unwrap_or_default();
                self.finish_value(i, &raw, spec)
                    .or_else(|e| match cells.serial_date(col.idx) {
                        Some(d) if is_date_field(i) && spec.split.is_none() => {
                            Ok(end_of_month(spec, d.to_string()))
                        }
                        _ => Err(e),
                    })
            };
            match value {
                Ok(v) => stmt[i] = Some(v),
                Err(expected) => {
                    let found = self.text(&cell).unwrap_or_default().into_owned();
                    errs.push(Self::err(line, col, found, expected));
                }
            }
        }

        for row in &mut out {
            for (i, v) in stmt.iter().enumerate() {
                if let Some(v) = v {
                    row.fields[canonical_pos(i)] = v.clone();
                    row.columns[canonical_pos(i)] =
                        plan.stmt_cols[i].as_ref().map_or(0, source_number);
                }
            }
        }
        if let Some((stop_line, rule)) = &self.stop_rule {
            // After the footer: text is ignored, but a row that reads as a line means
            // the rule stopped too early (a subtotal taken for the end).
            if errs.is_empty() {
                if let Some(first) = out.first() {
                    let e = SourceError {
                        line,
                        column: None,
                        found: format!(
                            "a {} line ({} units of {}, {}) after line {stop_line}",
                            first.fields[5], first.fields[7], first.fields[6], first.fields[8]
                        ),
                        expected: format!(
                            "nothing after line {stop_line}, where the mapping stops reading ({rule}: action = \"stop\"). If that line is a subtotal, test the grand total alone (equals = \"…\") and skip the subtotals (action = \"skip\")"
                        ),
                    };
                    self.push_error(e);
                }
            }
            return;
        }
        if errs.is_empty() && out.is_empty() && !from_rule {
            // A row the mapping makes nothing of, with money in a column it reads
            // amounts from (freight, co-op, a charge with no item code): recording the
            // statement without it would be silently wrong.
            for c in &plan.amount_cols {
                let cell = cells.cell(c.idx);
                let value = self.number(&cell);
                if value.is_some_and(|v| !v.is_zero()) {
                    let found = cell_text(&cell).trim().to_string();
                    let e = Self::err(
                        line,
                        c,
                        found,
                        "no amount on a row the mapping makes no line of (it has no item code, or no rule matches it): add a [[rules]] entry for rows like it (a fee, chargeback or adjustment line), or action = \"skip\" if the amount is not part of what the statement says is due",
                    );
                    self.push_error(e);
                    return;
                }
            }
        }
        if errs.is_empty() {
            self.net_read = self.net_read.checked_add(row_net).unwrap_or(self.net_read);
            self.rows.extend(out);
        } else {
            // A cell two lines read (`sub total` as the sale and in a fee) is one
            // problem.
            let mut said: Vec<SourceError> = Vec::new();
            for e in errs {
                if !said.contains(&e) {
                    said.push(e.clone());
                    self.push_error(e);
                }
            }
        }
    }

    /// A cell read as an amount when it is one (`None` when empty, a date, or text
    /// that is not a number in the mapping's style).
    fn number(&self, cell: &Cell<'_>) -> Option<Dec> {
        match cell {
            Cell::Number(n) => parse_plain(n),
            Cell::Date(_) => None,
            _ => self.text(cell).and_then(|t| self.style.parse(&t)),
        }
    }

    /// Checks a `total` row: its amount, when it is a number, must be the net of the
    /// lines read above it.
    fn check_total(
        &self,
        line: u64,
        cells: &impl RowCells,
        col: &Col,
        rule: &str,
    ) -> Option<SourceError> {
        let cell = cells.cell(col.idx);
        let stated = self.number(&cell);
        let found = cell_text(&cell).trim().to_string();
        match stated {
            // A total row with no number in the column ("see above", blank) states
            // nothing to check.
            None => None,
            Some(v) if !v.checked_sub(self.net_read).is_some_and(|d| d.is_zero()) => Some(Self::err(
                line,
                col,
                found,
                format!(
                    "{} — what the lines read above it add up to (sales − returns − fees − reserves withheld + released ± adjustments), as this total row says ({rule}) they must; a row the mapping does not read, or reads twice, makes the difference of {}",
                    self.net_read.to_canonical(),
                    v.checked_sub(self.net_read).map_or_else(String::new, Dec::to_canonical)
                ),
            )),
            Some(_) => None,
        }
    }

    /// Applies `split` and checks a statement value read from the file; dates are
    /// read with the mapping's date format and returned as `YYYY-MM-DD`.
    fn finish_value(&self, field: usize, raw: &str, spec: &ValueSpec) -> Result<String, String> {
        let mut v = unbracket(raw.trim());
        if let Some((sep, part)) = &spec.split {
            v = v
                .split(sep.as_str())
                .nth(part.saturating_sub(1))
                .unwrap_or("")
                .trim();
        }
        if is_date_field(field) || FIELDS[field] == "currency" {
            // `[USD]`, `(03/31/2016)`, `"2016-03-31"`: no date or currency code
            // has brackets or quotes.
            v = v.trim_matches(|c: char| {
                matches!(c, '[' | ']' | '(' | ')' | '"' | '\'') || c.is_whitespace()
            });
        }
        let format = spec.date_format.as_ref().unwrap_or(&self.m.date_format);
        let value = self.check_value(field, v, Some(format))?;
        Ok(end_of_month(spec, value))
    }

    /// Checks a statement value; `Err` is what was expected.
    fn check_value(
        &self,
        field: usize,
        v: &str,
        format: Option<&DateFormats>,
    ) -> Result<String, String> {
        let name = FIELDS[field];
        if is_date_field(field) {
            let d = match format {
                Some(f) => f.parse_date(v),
                None => Ymd::parse_iso(v).or_else(|| self.m.date_format.parse_date(v)),
            };
            return d.map(|d| d.to_string()).ok_or_else(|| {
                format!(
                    "{} ({name}): a date such as {}",
                    describe(name),
                    format.map_or_else(|| "2024-01-31".to_string(), DateFormats::example)
                )
            });
        }
        match name {
            "currency" => {
                let c = v.trim();
                if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
                    Ok(c.to_ascii_uppercase())
                } else {
                    Err(format!("{} (currency)", describe(name)))
                }
            }
            "distributor" => {
                let d = v.trim();
                if !d.is_empty()
                    && d.len() <= 64
                    && d.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                {
                    Ok(d.to_string())
                } else {
                    Err(format!(
                        "{} (distributor): letters, digits, '-', '_' or '.'",
                        describe(name)
                    ))
                }
            }
            _ => {
                let s = v.trim();
                if !s.is_empty() && s.chars().count() <= 100 {
                    Ok(s.to_string())
                } else {
                    Err(format!(
                        "{} (statement_id) of 1-100 characters",
                        describe(name)
                    ))
                }
            }
        }
    }

    /// Finds the value a `cell` or `after` source points at in the header area.
    /// Also the serial date of a spreadsheet number cell found.
    fn header_value(&self, source: &Source) -> Option<(u64, usize, String, String, Option<Ymd>)> {
        match source {
            Source::Cell { row, col, name } => {
                let p = self.preamble.iter().find(|p| p.line == *row)?;
                let v = p.cells.get(col - 1).cloned().unwrap_or_default();
                Some((*row, *col, name.clone(), v, p.serial(col - 1)))
            }
            Source::After(label) => {
                for p in &self.preamble {
                    for (i, c) in p.cells.iter().enumerate() {
                        let t = c.trim();
                        let Some(head) = t.get(..label.len()) else {
                            continue;
                        };
                        if !head.eq_ignore_ascii_case(label) {
                            continue;
                        }
                        // `Statement No: 12`, `Statement No 12`, `Viewing Range=[…]`.
                        let rest = t[label.len()..]
                            .trim_start_matches([':', '=', ' ', '\t', '\u{a0}'])
                            .trim();
                        let cell_name = format!("{}{}", letters(i + 1), p.line);
                        if !rest.is_empty() {
                            return Some((p.line, i + 1, cell_name, rest.to_string(), None));
                        }
                        if let Some((j, v)) = p
                            .cells
                            .iter()
                            .enumerate()
                            .skip(i + 1)
                            .find(|(_, v)| !v.trim().is_empty())
                        {
                            let name = format!("{}{}", letters(j + 1), p.line);
                            return Some((p.line, j + 1, name, v.trim().to_string(), p.serial(j)));
                        }
                        return Some((p.line, i + 1, cell_name, String::new(), None));
                    }
                }
                None
            }
            _ => None,
        }
    }

    pub(crate) fn finish(mut self) -> Result<Vec<Row>, Vec<SourceError>> {
        if self.plan.is_none() && !self.header_failed && self.errors.is_empty() {
            if let Some((line, names, problem)) = self.first_header.take() {
                self.fail_header(line, names, problem);
                return Err(self.errors);
            }
            self.push_error(SourceError {
                line: self.m.header_row,
                column: None,
                found: "the end of the file".into(),
                expected: format!(
                    "the header row on line {} (header_row in the mapping)",
                    self.m.header_row
                ),
            });
        }
        if let (false, Some(rule)) = (
            self.total_seen || self.stop_rule.is_some(),
            self.plan.as_ref().and_then(|p| {
                p.rules
                    .iter()
                    .find(|r| matches!(r.action, ActionPlan::Total(_)))
            }),
        ) {
            let e = SourceError {
                line: 0,
                column: None,
                found: "the end of the file, with no total row".into(),
                expected: format!(
                    "the statement's total row ({}: action = \"total\"), which this mapping expects: was the file cut short, or exported without its totals?",
                    rule.said()
                ),
            };
            self.push_error(e);
        }
        if let Some((at, net)) = self.last_total {
            if self.errors.is_empty()
                && !self.net_read.checked_sub(net).is_some_and(|d| d.is_zero())
            {
                let e = SourceError {
                    line: at,
                    column: None,
                    found: format!(
                        "lines below the total row that add {} to the net",
                        self.net_read
                            .checked_sub(net)
                            .map_or_else(String::new, Dec::to_canonical)
                    ),
                    expected: "the total row below every line of the statement (a row below it is money the total leaves out): skip such rows (action = \"skip\") if they are not part of what is due".into(),
                };
                self.push_error(e);
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        // File-level values, in FIELDS order; `None` = per row (column or template).
        let mut file_values: [Option<String>; 6] = Default::default();
        let mut templates: [Option<String>; 6] = Default::default();
        let mut errors: Vec<SourceError> = Vec::new();
        for (i, field) in FIELDS.iter().enumerate() {
            if let Some(o) = self.overrides.get(field) {
                match self.check_value(i, o, None) {
                    Ok(v) => file_values[i] = Some(v),
                    Err(expected) => errors.push(SourceError {
                        line: 0,
                        column: None,
                        found: o.to_string(),
                        expected: format!("{expected} (given on the command line)"),
                    }),
                }
                continue;
            }
            let Some(spec) = &self.m.statement[i] else {
                errors.push(SourceError {
                    line: 0,
                    column: None,
                    found: String::new(),
                    expected: format!(
                        "{} ({field}): mapping {} has no statement.{field}, so give it on the command line",
                        describe(field),
                        self.m.name()
                    ),
                });
                continue;
            };
            match &spec.source {
                Source::Value(v) => {
                    let v = match &spec.split {
                        Some((sep, part)) => v.split(sep.as_str()).nth(part - 1).unwrap_or(""),
                        None => v,
                    };
                    match self.check_value(i, v, None) {
                        Ok(v) => file_values[i] = Some(v),
                        Err(expected) => errors.push(SourceError {
                            line: 0,
                            column: None,
                            found: v.to_string(),
                            expected: format!("{expected} (statement.{field} in the mapping)"),
                        }),
                    }
                }
                Source::Column(_) => {}
                Source::Template(t) => templates[i] = Some(t.clone()),
                Source::FromDates(span) => {
                    if let Some((lo, hi)) = self.dates {
                        let d = match (FIELDS[i], span) {
                            ("period_start", Span::Month) => lo.first_of_month(),
                            ("period_start", Span::Day) => lo,
                            (_, Span::Month) => hi.last_of_month(),
                            (_, Span::Day) => hi,
                        };
                        file_values[i] = Some(d.to_string());
                    }
                }
                src @ (Source::Cell { .. } | Source::After(_)) => match self.header_value(src) {
                    None => errors.push(SourceError {
                        line: 0,
                        column: None,
                        found: String::new(),
                        expected: match src {
                            Source::After(label) => format!(
                                "{} ({field}): a cell starting with {label:?} above the header row",
                                describe(field)
                            ),
                            _ => format!("{} ({field}) in the header area", describe(field)),
                        },
                    }),
                    Some((line, col, name, raw, serial)) => {
                        match self.finish_value(i, &raw, spec).or_else(|e| match serial {
                            Some(d) if is_date_field(i) && spec.split.is_none() => {
                                Ok(end_of_month(spec, d.to_string()))
                            }
                            _ => Err(e),
                        }) {
                            Ok(v) => file_values[i] = Some(v),
                            Err(expected) => errors.push(SourceError {
                                line,
                                column: Some((col, name)),
                                found: raw,
                                expected,
                            }),
                        }
                    }
                },
            }
        }
        if !errors.is_empty() {
            errors.truncate(MAX_ERRORS);
            return Err(errors);
        }

        let mut rows = std::mem::take(&mut self.rows);
        let mut last: Option<(String, String)> = None;
        let mut template_cache: [Option<(Vec<String>, String)>; 6] = Default::default();
        for row in &mut rows {
            for i in 0..FIELDS.len() {
                let pos = canonical_pos(i);
                if let Some(v) = &file_values[i] {
                    row.fields[pos] = v.clone();
                } else if let Some(t) = &templates[i] {
                    // Consecutive rows mostly share their values: reuse the last result.
                    let inputs: Vec<&str> = (0..i)
                        .map(|j| row.fields[canonical_pos(j)].as_str())
                        .collect();
                    if let Some((key, value)) = &template_cache[i] {
                        if key.iter().map(String::as_str).eq(inputs.iter().copied()) {
                            row.fields[pos] = value.clone();
                            continue;
                        }
                    }
                    let mut s = t.clone();
                    for (j, f) in FIELDS.iter().enumerate().take(i) {
                        s = s.replace(&format!("{{{f}}}"), inputs[j]);
                    }
                    let key: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
                    let checked = self.check_value(i, &s, None);
                    if let Ok(v) = &checked {
                        template_cache[i] = Some((key, v.clone()));
                    }
                    match checked {
                        Ok(v) => row.fields[pos] = v,
                        Err(expected) => {
                            let key = (s.clone(), expected.clone());
                            if last.as_ref() != Some(&key) {
                                errors.push(SourceError {
                                    line: row.line,
                                    column: None,
                                    found: s,
                                    expected: format!(
                                        "{expected} (from statement.{} = {{ template = {t:?} }})",
                                        FIELDS[i]
                                    ),
                                });
                                last = Some(key);
                            }
                        }
                    }
                }
            }
            let (ps, pe) = (&row.fields[2], &row.fields[3]);
            if !ps.is_empty() && !pe.is_empty() && pe < ps {
                let key = (format!("{ps}..{pe}"), "period".to_string());
                if last.as_ref() != Some(&key) {
                    errors.push(SourceError {
                        line: row.line,
                        column: None,
                        found: format!("period {ps} to {pe}"),
                        expected: "a period end on or after the period start".into(),
                    });
                    last = Some(key);
                }
            }
            if errors.len() >= MAX_ERRORS {
                break;
            }
        }
        if !errors.is_empty() {
            errors.truncate(MAX_ERRORS);
            return Err(errors);
        }
        Ok(rows)
    }
}

/// The 1-based number of a column read (0 for an optional column the file lacks).
fn source_number(c: &Col) -> u32 {
    u32::try_from(c.idx.saturating_add(1)).unwrap_or(0)
}

/// A value in one pair of square brackets (`[3/1/16 - 3/31/16]`, as report settings
/// are written) without them.
fn unbracket(v: &str) -> &str {
    match v.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        Some(inner) if !inner.contains(['[', ']']) => inner.trim(),
        _ => v,
    }
}

/// Applies `end_of_month` to a `YYYY-MM-DD` value.
fn end_of_month(spec: &ValueSpec, iso: String) -> String {
    match Ymd::parse_iso(&iso) {
        Some(d) if spec.end_of_month => d.last_of_month().to_string(),
        _ => iso,
    }
}

pub(crate) fn cell_text<'c>(cell: &'c Cell<'_>) -> Cow<'c, str> {
    match cell {
        Cell::Empty => Cow::Borrowed(""),
        Cell::Text(t) => Cow::Borrowed(t.as_ref()),
        Cell::Number(n) => Cow::Borrowed(n.as_str()),
        Cell::Date(d) => Cow::Owned(d.to_string()),
    }
}

/// UPC/EAN written with spaces or dashes (`0 12345 67890 5`) → digits only; a
/// spreadsheet number that lost the leading zero of a UPC-A gets it back when the
/// check digit then verifies. Other codes are kept as written.
fn normalize_code(code: &str, from_number: bool) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    let only_digits_and_seps = code
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-'));
    if only_digits_and_seps && (8..=14).contains(&digits.len()) {
        if from_number && digits.len() == 11 {
            let padded = format!("0{digits}");
            if gtin_ok(&padded) {
                return padded;
            }
        }
        return digits;
    }
    code.to_string()
}

/// A code written in scientific form (`1.99758300217E+11`, `6.7003123457E+10`):
/// `None` when it is not in that form; `Some(Some(digits))` when it is a whole
/// UPC/EAN (8, 12, 13 or 14 digits, or 11 that lost a UPC's leading zero) whose check
/// digit verifies; `Some(None)` when digits are missing (`1.99758E+11`) or it is no
/// barcode.
fn scientific_code(code: &str) -> Option<Option<String>> {
    let (mantissa, exp) = code.split_once(['e', 'E'])?;
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.len() != 1
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || exp.is_empty()
        || exp.len() > 2
        || !exp.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let exp: usize = exp.parse().ok()?;
    if exp < frac.len() || int == "0" {
        return Some(None);
    }
    let digits = format!("{int}{frac}{}", "0".repeat(exp - frac.len()));
    let code = match digits.len() {
        11 => format!("0{digits}"),
        8 | 12 | 13 | 14 => digits,
        _ => return Some(None),
    };
    Some(gtin_ok(&code).then_some(code))
}

fn gtin_ok(code: &str) -> bool {
    let d: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    let Some((check, body)) = d.split_last() else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, v)| if i % 2 == 0 { v * 3 } else { *v })
        .sum();
    (10 - sum % 10) % 10 == *check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(normalize_code("0 12345 67890 5", false), "012345678905");
        assert_eq!(normalize_code("12345678905", true), "012345678905");
        assert_eq!(normalize_code("12345678904", true), "12345678904");
        assert_eq!(normalize_code("CAT-001", false), "CAT-001");
        assert_eq!(normalize_code("4006381333931", true), "4006381333931");
        assert!(gtin_ok("4006381333931"));
        assert!(!gtin_ok("4006381333932"));
    }

    #[test]
    fn barcodes_in_scientific_form() {
        assert_eq!(scientific_code("FR-001"), None);
        assert_eq!(scientific_code("199758300217"), None);
        assert_eq!(
            scientific_code("1.99758300217E+11"),
            Some(Some("199758300217".into()))
        );
        // The trailing zero of the mantissa dropped, as Excel writes it.
        assert_eq!(
            scientific_code("1.9975830004E+11"),
            Some(Some("199758300040".into()))
        );
        // A UPC that lost its leading zero.
        assert_eq!(
            scientific_code("6.7003123457e10"),
            Some(Some("067003123457".into()))
        );
        assert_eq!(
            scientific_code("4.006381333931E+12"),
            Some(Some("4006381333931".into()))
        );
        // Digits lost: refused, never guessed.
        assert_eq!(scientific_code("1.99758E+11"), Some(None));
        assert_eq!(scientific_code("1.99758300218E+11"), Some(None));
        assert_eq!(scientific_code("1.5E+3"), Some(None));
        assert_eq!(scientific_code("1.234E+1"), Some(None));
    }

    #[test]
    fn column_letters() {
        assert_eq!(letters(1), "A");
        assert_eq!(letters(26), "Z");
        assert_eq!(letters(27), "AA");
        assert_eq!(letters(703), "AAA");
    }
}
