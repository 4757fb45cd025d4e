//! Applying a mapping to the rows of a file, whatever the file format.

use crate::date::{DateFormats, Ymd};
use crate::number::{currency_places, parse_plain, Dec, NumberStyle};
use crate::schema::{
    Action, Code, ColRef, Kind, Line, Mapping, Sign, Source, Span, Test, ValueSpec, FIELDS,
};
use crate::{Note, Overrides, Row, SourceError, MAX_ERRORS};
use std::borrow::Cow;
use std::collections::BTreeSet;

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

/// A date of the file read with the mapping's `date_format` when that lists several
/// formats: which one reads the file is decided once every date has been seen (see
/// [`Engine::settle_dates`]).
struct DateValue {
    line: u64,
    column: Option<(usize, String)>,
    /// The text as the formats read it (split, brackets off).
    text: String,
    target: DateTarget,
}

enum DateTarget {
    /// A `[columns].date`: the period `from_dates` spans.
    Range,
    /// A statement value from a column of a row: the canonical field `pos` of the
    /// rows `rows` made from that row.
    Field {
        rows: std::ops::Range<usize>,
        pos: usize,
        end_of_month: bool,
    },
    /// A statement value of the header area (read again once the format is known).
    Header,
}

/// What an XLSX read knows of the sheet it reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct SheetInfo {
    /// The sheet read.
    pub(crate) name: String,
    /// The workbook's other sheets.
    pub(crate) others: Vec<String>,
    /// Whether the mapping names the sheet (else the first is read).
    pub(crate) named: bool,
    /// 1-based rows the sheet hides (a filter, a collapsed group, hidden by hand).
    pub(crate) hidden: BTreeSet<u64>,
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
    /// Dates read with a `date_format` list of several formats (see [`DateValue`]).
    date_values: Vec<DateValue>,
    /// The one format of such a list that reads every date of the file.
    chosen_dates: Option<DateFormats>,
    /// The statement's currency when it is the same for every row (a fixed value,
    /// the command line's, a header-area cell), once looked up: amounts are checked
    /// against its decimals at their cells.
    file_currency: Option<Option<String>>,
    /// What the reader says without refusing the file (a repeated header skipped,
    /// hidden rows read).
    notes: Vec<Note>,
    /// The sheet of an XLSX read.
    pub(crate) sheet: Option<SheetInfo>,
    /// Hidden sheet rows that made lines.
    hidden_read: Vec<u64>,
    /// The line of the header row, once found.
    header_line: u64,
}

/// A cell's 1-based column and header name, as [`SourceError::column`] has them.
type CellAt = Option<(usize, String)>;

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
            date_values: Vec::new(),
            chosen_dates: None,
            file_currency: None,
            notes: Vec::new(),
            sheet: None,
            hidden_read: Vec::new(),
            header_line: 0,
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
                    self.header_line = line;
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
            // A row passed over that holds money is a sale or a charge, not the
            // sub-header the mapping expected there: refused, never dropped.
            if let Some((c, found)) = self.plan.as_ref().and_then(|p| self.money_in(p, cells)) {
                let e = Self::err(
                    line,
                    c,
                    found,
                    format!(
                        "no amount on the {} row{} below the header that the mapping passes over (skip_rows_after_header = {}): this file has no such row there — check skip_rows_after_header for this layout (a row of money to leave out on purpose, an opening balance, takes a [[rules]] entry with action = \"skip\")",
                        self.m.skip_rows_after_header,
                        if self.m.skip_rows_after_header == 1 { "" } else { "s" },
                        self.m.skip_rows_after_header
                    ),
                );
                self.push_error(e);
            }
            return;
        }
        self.data_row(line, cells);
    }

    /// The first cell of a column the mapping reads amounts from that holds a non-zero
    /// amount, with its text.
    fn money_in<'c>(&self, plan: &'c Plan, cells: &impl RowCells) -> Option<(&'c Col, String)> {
        plan.amount_cols.iter().find_map(|c| {
            let cell = cells.cell(c.idx);
            self.number(&cell)
                .is_some_and(|v| !v.is_zero())
                .then(|| (c, cell_text(&cell).trim().to_string()))
        })
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
            self.header_line = h.line;
        }
        self.plan = Some(plan);
        true
    }

    /// Reports a header row without the columns the mapping names (or naming one of
    /// them twice); nothing more is read.
    fn fail_header(&mut self, line: u64, names: Vec<String>, problem: HeaderProblem) {
        self.header_failed = true;
        let found = names.join(", ");
        // Which sheet was read, said once (on the first of its errors).
        let mut sheet = self.sheet_said();
        for what in problem.missing {
            self.push_error(SourceError {
                line,
                column: None,
                found: found.clone(),
                expected: format!("{what} on the header row{}", std::mem::take(&mut sheet)),
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

    /// Which sheet of a workbook was read, for a message about its header: `` of sheet
    /// "Summary" (the first sheet: the mapping names none; the workbook's other sheets
    /// are "Detail" — set sheet = "…" in the mapping to read another)``. Empty for CSV.
    fn sheet_said(&self) -> String {
        let Some(info) = &self.sheet else {
            return String::new();
        };
        let others: Vec<String> = info.others.iter().map(|o| format!("{o:?}")).collect();
        let others = match others.len() {
            0 => "the workbook has no other sheet".to_string(),
            1 => format!("the workbook's other sheet is {}", others[0]),
            _ => format!("the workbook's other sheets are {}", others.join(", ")),
        };
        if info.named {
            format!(" of sheet {:?} ({others})", info.name)
        } else if info.others.is_empty() {
            format!(
                " of sheet {:?} (the first sheet: the mapping names none; {others})",
                info.name
            )
        } else {
            format!(
                " of sheet {:?} (the first sheet: the mapping names none; {others} — set sheet = \"…\" in the mapping to read another)",
                info.name
            )
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

    /// An amount cell; empty is zero. With the statement's currency known, an amount
    /// with more decimals than the currency has is refused here, at its cell
    /// (`$80.005` in USD): nothing is rounded.
    fn amount(
        &self,
        line: u64,
        cells: &impl RowCells,
        col: &Col,
        currency: Option<&(String, u32)>,
        errs: &mut RowErrors,
    ) -> Dec {
        let cell = cells.cell(col.idx);
        let parsed = match &cell {
            Cell::Number(n) => parse_plain(n).ok_or_else(|| n.clone()),
            Cell::Date(d) => Err(d.to_string()),
            _ => match self.text(&cell) {
                None => return Dec::ZERO,
                Some(t) => self.style.parse(&t).ok_or_else(|| t.into_owned()),
            },
        };
        // A mark of another currency than the statement's (`€1,680.00` in a USD
        // statement) is refused at its cell: the amount would be recorded in the wrong
        // currency, never converted.
        if let (Ok(_), Some((code, _)), Some(text)) = (
            &parsed,
            currency,
            match &cell {
                Cell::Number(_) | Cell::Date(_) => None,
                _ => self.text(&cell),
            },
        ) {
            if let Some((mark, codes)) = crate::number::mark_currencies(&text) {
                if !codes.iter().any(|c| c.eq_ignore_ascii_case(code)) {
                    errs.push(Self::err(
                        line,
                        col,
                        text.trim(),
                        format!(
                            "an amount in {code}, the statement's currency: this one is written in {mark} (amounts are never converted; if the statement is in {}, import it with --currency {})",
                            codes[0], codes[0]
                        ),
                    ));
                    return Dec::ZERO;
                }
            }
        }
        match parsed {
            Ok(d) => match currency {
                Some((code, places)) if d.places() > *places => {
                    let expected = if *places == 0 {
                        format!("a whole amount for {code}, which has no decimals (amounts are never rounded)")
                    } else {
                        format!(
                            "an amount with at most {places} decimals for {code}, as the currency has (amounts are never rounded)"
                        )
                    };
                    errs.push(Self::err(line, col, cell_text(&cell).trim(), expected));
                    Dec::ZERO
                }
                _ => d,
            },
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

    /// A date cell: the date (as the first of the mapping's formats that reads it), and
    /// the text a format read it from (`None` for a spreadsheet date or serial day
    /// number, which no format reads).
    fn date(
        &self,
        line: u64,
        cells: &impl RowCells,
        col: &Col,
        errs: &mut RowErrors,
    ) -> Option<(Ymd, Option<String>)> {
        let cell = cells.cell(col.idx);
        if let Cell::Date(d) = cell {
            return Some((d, None));
        }
        let t = self.text(&cell).unwrap_or_default();
        match self
            .m
            .date_format
            .parse_date(&t)
            .map(|d| (d, Some(t.to_string())))
            .or_else(|| cells.serial_date(col.idx).map(|d| (d, None)))
        {
            Some(d) => Some(d),
            None => {
                // Written the way the format writes dates, yet no such day (31/02):
                // say that, not that the layout is wrong.
                let shape = |s: &str| -> String {
                    s.trim()
                        .chars()
                        .map(|c| if c.is_ascii_digit() { '9' } else { c })
                        .collect()
                };
                let example = self.m.date_format.example();
                let what = if shape(&t) == shape(&example) {
                    "a date that exists (written as the layout writes dates, but there is no such day), such as"
                } else {
                    "a date such as"
                };
                errs.push(Self::err(
                    line,
                    col,
                    t.into_owned(),
                    format!("{what} {} ({})", example, self.m.date_format.as_str()),
                ));
                None
            }
        }
    }

    /// The statement's currency when it is one for the whole file (the command line's,
    /// a fixed value, a header-area cell): `None` when it comes from each row's column,
    /// a template, or is not there.
    fn fixed_currency(&self) -> Option<String> {
        const CURRENCY: usize = 1;
        if let Some(o) = self.overrides.get(FIELDS[CURRENCY]) {
            return self.check_value(CURRENCY, o, None).ok();
        }
        let spec = self.m.statement[CURRENCY].as_ref()?;
        match &spec.source {
            Source::Value(v) => {
                let v = match &spec.split {
                    Some((sep, part)) => v.split(sep.as_str()).nth(part - 1).unwrap_or(""),
                    None => v,
                };
                self.check_value(CURRENCY, v, None).ok()
            }
            src @ (Source::Cell { .. } | Source::After(_)) => {
                let (_, _, _, raw, _) = self.header_value(src)?;
                self.finish_value(CURRENCY, &raw, spec).ok()
            }
            _ => None,
        }
    }

    /// The currency of a row, with its decimal places, when known.
    fn row_currency(&self, plan: &Plan, cells: &impl RowCells) -> Option<(String, u32)> {
        const CURRENCY: usize = 1;
        let code = match self.file_currency.clone().flatten() {
            Some(c) => c,
            None => {
                let col = plan.stmt_cols[CURRENCY].as_ref()?;
                let spec = self.m.statement[CURRENCY].as_ref()?;
                let cell = cells.cell(col.idx);
                let raw = self.text(&cell)?;
                self.finish_value(CURRENCY, &raw, spec).ok()?
            }
        };
        let places = currency_places(&code)?;
        Some((code, places))
    }

    /// Whether a row repeats the header row (a page break in an export): every cell
    /// the same as the header's.
    fn repeats_header(&self, cells: &impl RowCells) -> bool {
        if self.header.iter().all(|h| h.trim().is_empty()) {
            return false;
        }
        (0..cells.width().max(self.header.len())).all(|i| {
            let cell = cells.cell(i);
            normalize_header(&cell_text(&cell))
                == normalize_header(self.header.get(i).map_or("", String::as_str))
        })
    }

    fn data_row(&mut self, line: u64, cells: &impl RowCells) {
        if self.plan.is_none() {
            return;
        }
        if (0..cells.width()).all(|i| self.text(&cells.cell(i)).is_none()) {
            return;
        }
        if self.m.header_row != 0 && self.repeats_header(cells) {
            self.notes.push(Note {
                line,
                message: format!(
                    "this line repeats the header row (line {}), as an export does at a page break: skipped",
                    self.header_line
                ),
            });
            return;
        }
        if self.file_currency.is_none() {
            self.file_currency = Some(self.fixed_currency());
        }
        let Some(plan) = self.plan.as_ref() else {
            return;
        };
        let multi_dates = self.m.date_format.count() > 1;
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
                        // The lines since the total row before (a file of several
                        // statements, each with its total) or all of them (a grand
                        // total): either may be what this row states.
                        let before = self.last_total.map(|(_, n)| n);
                        self.last_total = Some((line, self.net_read));
                        // Rows refused above are not in the sum: their errors say it.
                        if self.stop_rule.is_none() && self.errors.is_empty() {
                            let e = self.check_total(line, cells, col, &r.said(), before);
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
        if !from_rule {
            if let Some(empty) = plan
                .skip_empty
                .iter()
                .find(|c| self.text(&cells.cell(c.idx)).is_none())
            {
                // Passed over — unless it holds money: a fee or freight row with no
                // item code would be dropped from what the statement says is due.
                if let Some((c, found)) = self.money_in(plan, cells) {
                    let e = Self::err(
                        line,
                        c,
                        found,
                        format!(
                            "no amount on a row passed over because its {:?} cell is empty (skip_if_column_empty): add a [[rules]] entry for rows like it (a fee, freight, chargeback or adjustment line), or action = \"skip\" if the amount is not part of what the statement says is due",
                            empty.name
                        ),
                    );
                    self.push_error(e);
                }
                return;
            }
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
                // A totals row with no rule for it: read as a line, its code would be
                // an unknown product (and, held, its money counted twice).
                if !from_rule && is_totals_label(&sku) {
                    sku_refused = true;
                    errs.push(Self::err(
                        line,
                        c,
                        t.into_owned(),
                        format!(
                            "an item code: this looks like a totals row — give the mapping a rule for it ([[rules]] column = {:?}, starts_with = {:?}, action = \"total\" to check the lines against it, or action = \"skip\")",
                            c.name,
                            sku.split_whitespace().next().unwrap_or("TOTAL")
                        ),
                    ));
                }
                break;
            }
        }

        if let Some(dc) = plan.date.as_ref().filter(|dc| {
            // Special rows (reserve, totals) may carry no date.
            !from_rule || self.text(&cells.cell(dc.idx)).is_some()
        }) {
            match self.date(line, cells, dc, &mut errs) {
                // Which of several formats reads the file is decided at its end.
                Some((_, Some(text))) if multi_dates => self.date_values.push(DateValue {
                    line,
                    column: Some((dc.idx + 1, dc.name.clone())),
                    text,
                    target: DateTarget::Range,
                }),
                Some((d, _)) => {
                    self.dates = Some(match self.dates {
                        None => (d, d),
                        Some((lo, hi)) => (lo.min(d), hi.max(d)),
                    });
                }
                None => {}
            }
        }

        let currency = self.row_currency(plan, cells);
        let mut out: Vec<Row> = Vec::new();
        let mut row_net = Dec::ZERO;
        for lp in lines {
            let Some(kind) = lp.kind.or(row_kind) else {
                continue;
            };
            let mut amount = self.amount(line, cells, &lp.amount, currency.as_ref(), &mut errs);
            for c in &lp.plus {
                let v = self.amount(line, cells, c, currency.as_ref(), &mut errs);
                amount = amount.checked_add(v).unwrap_or_else(|| {
                    errs.push(Self::err(line, c, "", "amounts whose sum stays in range"));
                    Dec::ZERO
                });
            }
            for c in &lp.minus {
                let v = self.amount(line, cells, c, currency.as_ref(), &mut errs);
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
            } else if amount.is_zero() {
                // Units alone: their sign says which way the stock moves, so a sale
                // of -2 units is a return of 2 (README: "sign ignored unless the
                // amount is zero").
                if kind == Kind::Sale && units < 0 {
                    (Kind::Return, amount)
                } else {
                    (kind, amount)
                }
            } else if lp.sign == Sign::Positive && lp.kind.is_none() && !kind.adds() {
                // The row's own code says it is a deduction (a return, fee,
                // chargeback or reserve withheld): written negative, it is that
                // deduction, never money to the label (`RT … -8,00` is a return of
                // 8.00, not a sale).
                (kind, amount.abs())
            } else if effect.is_negative() != kind.adds() {
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
        // Dates among them read by one of several formats: (field, cell, text).
        let mut stmt_dates: Vec<(usize, CellAt, String)> = Vec::new();
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
                if multi_dates && is_date_field(i) && spec.date_format.is_none() {
                    let text = self.value_text(i, &raw, spec);
                    if self.m.date_format.parse_date(text).is_some() {
                        stmt_dates.push((
                            i,
                            (col.idx != usize::MAX).then(|| (col.idx + 1, col.name.clone())),
                            text.to_string(),
                        ));
                    }
                }
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
            let made = self.rows.len()..self.rows.len() + out.len();
            for (i, column, text) in stmt_dates {
                let end_of_month = self.m.statement[i]
                    .as_ref()
                    .is_some_and(|spec| spec.end_of_month);
                self.date_values.push(DateValue {
                    line,
                    column,
                    text,
                    target: DateTarget::Field {
                        rows: made.clone(),
                        pos: canonical_pos(i),
                        end_of_month,
                    },
                });
            }
            if !out.is_empty()
                && self
                    .sheet
                    .as_ref()
                    .is_some_and(|s| s.hidden.contains(&line))
            {
                self.hidden_read.push(line);
            }
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
        before: Option<Dec>,
    ) -> Option<SourceError> {
        let cell = cells.cell(col.idx);
        let stated = self.number(&cell);
        let found = cell_text(&cell).trim().to_string();
        let ties = |v: Dec, net: Dec| v.checked_sub(net).is_some_and(|d| d.is_zero());
        let section = before.and_then(|b| self.net_read.checked_sub(b));
        match stated {
            // A total row with no number in the column ("see above", blank) states
            // nothing to check.
            None => None,
            Some(v) if section.is_some_and(|net| ties(v, net)) => None,
            Some(v) if !ties(v, self.net_read) => Some(Self::err(
                line,
                col,
                found,
                format!(
                    "{} — what the lines read above it add up to (sales − returns − fees − reserves withheld + released ± adjustments), as this total row says ({rule}) they must; a row the mapping does not read, or reads twice, makes the difference of {}{}",
                    self.net_read.to_canonical(),
                    v.checked_sub(self.net_read).map_or_else(String::new, Dec::to_canonical),
                    match section {
                        Some(net) => format!(
                            " (the lines since the total row before it add up to {}: neither is what it says)",
                            net.to_canonical()
                        ),
                        None => String::new(),
                    } + &self.hidden_said()
                ),
            )),
            Some(_) => None,
        }
    }

    /// The hidden sheet rows read as lines, for a total that does not tie out: `; row 3
    /// is hidden in the sheet and was read …`. Empty when there are none.
    fn hidden_said(&self) -> String {
        let Some(rows) = self.hidden_rows_said() else {
            return String::new();
        };
        let (noun, verb) = if self.hidden_read.len() == 1 {
            ("row", "is hidden in the sheet and was read")
        } else {
            ("rows", "are hidden in the sheet and were read")
        };
        format!(
            "; {noun} {rows} {verb} (a filter or a collapsed group hides rows: unhide them to see whether the total leaves them out)"
        )
    }

    /// The hidden rows read as lines, as a list (`3, 7 and 9`).
    fn hidden_rows_said(&self) -> Option<String> {
        const SHOWN: usize = 20;
        let rows: Vec<String> = self
            .hidden_read
            .iter()
            .take(SHOWN)
            .map(u64::to_string)
            .collect();
        let more = self.hidden_read.len().saturating_sub(SHOWN);
        match rows.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            [init @ .., last] if more == 0 => Some(format!("{} and {last}", init.join(", "))),
            _ => Some(format!("{} and {more} more", rows.join(", "))),
        }
    }

    /// Decides how dates read with a `date_format` list of several formats are read:
    /// the whole file with the first format of the list that reads every one of its
    /// dates. When no one format reads them all, each date is read by the formats
    /// that can, and one that reads as two different dates is refused as ambiguous:
    /// the order of day and month is never guessed row by row.
    fn settle_dates(&mut self) {
        let m = self.m;
        let formats = &m.date_format;
        if formats.count() < 2 {
            return;
        }
        let mut values = std::mem::take(&mut self.date_values);
        // Dates of the header area read with the mapping's formats.
        for (i, field) in FIELDS.iter().enumerate() {
            if !is_date_field(i) || self.overrides.get(field).is_some() {
                continue;
            }
            let Some(spec) = self.m.statement[i].as_ref() else {
                continue;
            };
            if spec.date_format.is_some()
                || !matches!(spec.source, Source::Cell { .. } | Source::After(_))
            {
                continue;
            }
            let Some((line, col, name, raw, _)) = self.header_value(&spec.source) else {
                continue;
            };
            let text = self.value_text(i, &raw, spec);
            if formats.parse_date(text).is_some() {
                values.push(DateValue {
                    line,
                    column: Some((col, name)),
                    text: text.to_string(),
                    target: DateTarget::Header,
                });
            }
        }
        let chosen = (0..formats.count()).find(|&f| {
            values
                .iter()
                .all(|v| formats.reads_with(f, &v.text).is_some())
        });
        // Why each format before the chosen one (or every format) was passed over.
        let passed_over = |upto: usize| -> Vec<String> {
            (0..upto)
                .filter_map(|f| {
                    let v = values
                        .iter()
                        .find(|v| formats.reads_with(f, &v.text).is_none())?;
                    Some(format!(
                        "{} does not read {:?} (line {})",
                        formats.text_of(f),
                        v.text,
                        v.line
                    ))
                })
                .collect()
        };
        let reasons = if chosen.is_none() {
            passed_over(formats.count())
        } else {
            Vec::new()
        };
        let mut errors: Vec<SourceError> = Vec::new();
        for v in &values {
            let date = match chosen {
                Some(f) => formats.reads_with(f, &v.text),
                None => {
                    let readings = formats.readings(&v.text);
                    let first = readings.first().copied();
                    let other = readings
                        .iter()
                        .find(|(_, d)| Some(*d) != first.map(|(_, d)| d));
                    if let (Some((f1, d1)), Some((f2, d2))) = (first, other) {
                        errors.push(SourceError {
                            line: v.line,
                            column: v.column.clone(),
                            found: v.text.clone(),
                            expected: format!(
                                "a date that reads one way: this one is {d1} as {} and {d2} as {}, and no one format of the mapping's date_format list reads every date of the file ({}) — keep in date_format only the order this distributor writes",
                                formats.text_of(f1),
                                formats.text_of(*f2),
                                reasons.join("; ")
                            ),
                        });
                        continue;
                    }
                    first.map(|(_, d)| d)
                }
            };
            let Some(d) = date else { continue };
            match &v.target {
                DateTarget::Range => {
                    self.dates = Some(match self.dates {
                        None => (d, d),
                        Some((lo, hi)) => (lo.min(d), hi.max(d)),
                    });
                }
                DateTarget::Field {
                    rows,
                    pos,
                    end_of_month,
                } => {
                    let value = if *end_of_month { d.last_of_month() } else { d }.to_string();
                    for r in self.rows.get_mut(rows.clone()).into_iter().flatten() {
                        r.fields[*pos] = value.clone();
                    }
                }
                DateTarget::Header => {}
            }
        }
        self.chosen_dates = chosen.and_then(|f| formats.only(f));
        for e in errors {
            self.push_error(e);
        }
    }

    /// Applies `split` and checks a statement value read from the file; dates are
    /// read with the mapping's date format and returned as `YYYY-MM-DD`.
    fn finish_value(&self, field: usize, raw: &str, spec: &ValueSpec) -> Result<String, String> {
        let v = self.value_text(field, raw, spec);
        let format = spec
            .date_format
            .as_ref()
            .or(self.chosen_dates.as_ref())
            .unwrap_or(&self.m.date_format);
        let value = self.check_value(field, v, Some(format))?;
        Ok(end_of_month(spec, value))
    }

    /// The part of a statement value that is read: `split` applied, and brackets and
    /// quotes around a date or currency taken off.
    fn value_text<'r>(&self, field: usize, raw: &'r str, spec: &ValueSpec) -> &'r str {
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
        v
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
                None => Ymd::parse_iso(v).or_else(|| {
                    self.chosen_dates
                        .as_ref()
                        .unwrap_or(&self.m.date_format)
                        .parse_date(v)
                }),
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

    /// The rows, with the notes of what was read without refusing the file.
    pub(crate) fn finish_noted(mut self) -> Result<(Vec<Row>, Vec<Note>), Vec<SourceError>> {
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
                    "the header row on line {} (header_row in the mapping){}",
                    self.m.header_row,
                    self.sheet_said()
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
        if self.plan.is_some() {
            self.settle_dates();
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

        // Rows dated outside the period the header (or the command) gives: recorded
        // in that period all the same (the statement's own period is the record), but
        // said — a file of January's sales under a March header is worth a look.
        let from_dates = |i: usize| {
            self.overrides.get(FIELDS[i]).is_none()
                && self.m.statement[i]
                    .as_ref()
                    .is_some_and(|spec| matches!(spec.source, Source::FromDates(_)))
        };
        if let (Some((lo, hi)), Some(ps), Some(pe), false) = (
            self.dates,
            file_values[2].as_deref().and_then(Ymd::parse_iso),
            file_values[3].as_deref().and_then(Ymd::parse_iso),
            from_dates(2) || from_dates(3),
        ) {
            if lo < ps || hi > pe {
                self.notes.push(Note {
                    line: self.header_line,
                    message: format!(
                        "the rows are dated {lo} to {hi}, outside the statement's period {ps} to {pe}: recorded in that period — check the period (--period-start/--period-end) if the file says another"
                    ),
                });
            }
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
        if let (Some(first), Some(list), Some(sheet)) = (
            self.hidden_read.first(),
            self.hidden_rows_said(),
            self.sheet.as_ref(),
        ) {
            let (noun, verb) = if self.hidden_read.len() == 1 {
                ("row", "is hidden")
            } else {
                ("rows", "are hidden")
            };
            self.notes.push(Note {
                line: *first,
                message: format!(
                    "{noun} {list} {verb} in sheet {:?} and read as lines of the statement (a filter or a collapsed group hides rows): check they belong to it",
                    sheet.name
                ),
            });
        }
        self.notes.sort_by_key(|n| n.line);
        Ok((rows, self.notes))
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
    use crate::{convert_csv, convert_csv_noted, Mapping, Overrides};

    /// The reviewer's `eu.toml`: a code column, `sign` as given.
    fn eu_mapping(sign: &str, date_format: &str) -> Mapping {
        let toml = format!(
            r#"
name = "eu-csv"
format = "csv"
delimiter = ";"
decimal = ","
date_format = {date_format}
[columns]
sku = "EAN"
date = "Datum"
memo = ["Titel"]
[kind_column]
column = "Art"
[kind_column.codes]
VK = "sale"
RT = "return"
GEB = "fee"
[statement]
distributor = "northwind"
currency = "EUR"
statement_id = {{ template = "EU-{{period_start}}" }}
period_start = {{ from_dates = "month" }}
period_end = {{ from_dates = "month" }}
issued_on = {{ template = "{{period_end}}" }}
[[lines]]
amount = "Betrag"
units = "Menge"
sign = "{sign}"
"#
        );
        Mapping::parse(&toml).unwrap_or_else(|e| panic!("{e}"))
    }

    fn lines(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r.fields[5], r.fields[6], r.fields[7], r.fields[8]
                )
            })
            .collect()
    }

    fn said(errs: &[SourceError]) -> String {
        errs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The net of canonical lines, as the ledger takes it.
    fn net(rows: &[Row]) -> Dec {
        rows.iter().fold(Dec::ZERO, |acc, r| {
            let a = parse_plain(&r.fields[8]).unwrap_or(Dec::ZERO);
            let adds = matches!(
                r.fields[5].as_str(),
                "sale" | "reserve_released" | "adjustment"
            );
            acc.checked_add(if adds { a } else { a.neg() })
                .unwrap_or(acc)
        })
    }

    const EU1: &str = "Datum;Art;EAN;Titel;Menge;Betrag\n\
                       03/06/2016;VK;859712000019;Harbor Lights;1.000;1.234,56\n\
                       04/06/2016;RT;859712000019;Harbor Lights;1;-8,00\n\
                       05/06/2016;GEB;;Gebühr;;-15,84\n";

    #[test]
    fn a_row_coded_as_a_deduction_stays_one_when_written_negative() {
        let no = Overrides::default();
        let positive = eu_mapping("positive", r#""%d/%m/%Y""#);
        let rows =
            convert_csv(&positive, EU1.as_bytes(), &no).unwrap_or_else(|e| panic!("{}", said(&e)));
        assert_eq!(
            lines(&rows),
            [
                "sale 859712000019 1000 1234.56",
                "return 859712000019 1 8.00",
                "fee  0 15.84",
            ]
        );
        assert_eq!(net(&rows).to_canonical(), "1210.72");
        // Written positive, the same lines.
        let plain = EU1.replace("-8,00", "8,00").replace("-15,84", "15,84");
        let rows = convert_csv(&positive, plain.as_bytes(), &no)
            .unwrap_or_else(|e| panic!("{}", said(&e)));
        assert_eq!(net(&rows).to_canonical(), "1210.72");
        // A negative sale is still a return (its money goes the way it is written).
        let neg_sale = EU1.replace("1.000;1.234,56", "2;-16,00");
        let rows = convert_csv(&positive, neg_sale.as_bytes(), &no)
            .unwrap_or_else(|e| panic!("{}", said(&e)));
        assert_eq!(lines(&rows)[0], "return 859712000019 2 16.00");
        // sign = "net": the column is the effect on the label, the same net.
        let net_mapping = eu_mapping("net", r#""%d/%m/%Y""#);
        let rows = convert_csv(&net_mapping, EU1.as_bytes(), &no)
            .unwrap_or_else(|e| panic!("{}", said(&e)));
        assert_eq!(net(&rows).to_canonical(), "1210.72");
    }

    #[test]
    fn negative_units_with_no_money_move_stock_back() {
        let csv = "Datum;Art;EAN;Titel;Menge;Betrag\n\
                   03/06/2016;VK;859712000019;x;10;80,00\n\
                   04/06/2016;RT;859712000019;x;-3;0,00\n\
                   04/06/2016;VK;859712000026;y;-2;0,00\n";
        for sign in ["positive", "net"] {
            let m = eu_mapping(sign, r#""%d/%m/%Y""#);
            let rows = convert_csv(&m, csv.as_bytes(), &Overrides::default())
                .unwrap_or_else(|e| panic!("{}", said(&e)));
            assert_eq!(
                lines(&rows),
                [
                    "sale 859712000019 10 80.00",
                    "return 859712000019 3 0.00",
                    "return 859712000026 2 0.00",
                ],
                "sign = {sign}"
            );
        }
    }

    #[test]
    fn a_list_of_date_formats_reads_the_file_one_way() {
        let m = eu_mapping("net", r#"["%m/%d/%Y", "%d/%m/%Y"]"#);
        let no = Overrides::default();
        // 13/06/2016 is read by %d/%m/%Y only: the whole file is read that way.
        let csv = "Datum;Art;EAN;Titel;Menge;Betrag\n\
                   13/06/2016;VK;859712000019;x;10;80,00\n\
                   03/06/2016;VK;859712000026;y;4;46,00\n";
        let rows = convert_csv(&m, csv.as_bytes(), &no).unwrap_or_else(|e| panic!("{}", said(&e)));
        assert_eq!(rows[0].fields[2], "2016-06-01");
        assert_eq!(rows[0].fields[3], "2016-06-30");
        // Every date read by the first format: that one.
        let csv = "Datum;Art;EAN;Titel;Menge;Betrag\n\
                   06/13/2016;VK;859712000019;x;10;80,00\n\
                   06/03/2016;VK;859712000026;y;4;46,00\n";
        let rows = convert_csv(&m, csv.as_bytes(), &no).unwrap_or_else(|e| panic!("{}", said(&e)));
        assert_eq!(
            (rows[0].fields[2].as_str(), rows[0].fields[3].as_str()),
            ("2016-06-01", "2016-06-30")
        );
        // No one format reads them all: a date either reads is refused, naming both.
        let csv = "Datum;Art;EAN;Titel;Menge;Betrag\n\
                   13/06/2016;VK;859712000019;x;10;80,00\n\
                   06/30/2016;VK;859712000019;x;1;8,00\n\
                   03/06/2016;VK;859712000026;y;4;46,00\n";
        let errs = convert_csv(&m, csv.as_bytes(), &no).expect_err("ambiguous");
        assert_eq!(
            said(&errs),
            "line 4, column 1 (Datum): found \"03/06/2016\", expected a date that reads one way: this one is 2016-03-06 as %m/%d/%Y and 2016-06-03 as %d/%m/%Y, and no one format of the mapping's date_format list reads every date of the file (%m/%d/%Y does not read \"13/06/2016\" (line 2); %d/%m/%Y does not read \"06/30/2016\" (line 3)) — keep in date_format only the order this distributor writes"
        );
    }

    #[test]
    fn a_list_of_date_formats_reads_statement_values_the_same_way() {
        let toml = r#"
name = "hdr"
date_format = ["%m/%d/%Y", "%d/%m/%Y"]
header_row = 3
[columns]
sku = "UPC"
date = "Date"
[statement]
distributor = "northwind"
currency = "USD"
statement_id = "S-1"
period_start = { after = "Period:", split = " - ", part = 1 }
period_end = { after = "Period:", split = " - ", part = 2 }
issued_on = { column = "Paid" }
[[lines]]
kind = "sale"
amount = "Amount"
units = "Qty"
"#;
        let m = Mapping::parse(toml).unwrap_or_else(|e| panic!("{e}"));
        // The header's 30/06/2016 is read by %d/%m/%Y only: so is every date.
        let csv = "Period:,01/06/2016 - 30/06/2016\n\
                   \n\
                   Date,UPC,Qty,Amount,Paid\n\
                   03/06/2016,859712000019,1,8.00,05/07/2016\n";
        let rows = convert_csv(&m, csv.as_bytes(), &Overrides::default())
            .unwrap_or_else(|e| panic!("{}", said(&e)));
        assert_eq!(
            rows[0].fields[2..5],
            ["2016-06-01", "2016-06-30", "2016-07-05"]
        );
    }

    const US_HEAD: &str = "\"Northwind Music Distribution, Inc.\",,,,,,,,,,,\n\
        Label Sales Statement,,,,,,,,,,,\n\
        Statement No:,NW-1606,,,,,,,,,,\n\
        Label:,Marigold Records,,,,,,,,,,\n\
        Statement Period:,06/01/2016 - 06/30/2016,,,,,,,,,,\n\
        Statement Date:,07/15/2016,,,,,,,,,,\n\
        Currency:,USD,,,,,,,,,,\n\
        ,,,,,,,,,,,\n\
        UPC,Catalog #,Artist,Title,Format,Units Sold,Units Returned,Net Units,Gross Sales $,Returns $,Dist Fee $,Net $\n";
    const US_TAIL: &str = "859712000026,MRG-002-LP,The Tidewater Band,Harbor Lights,LP,4,0,4,$46.00,$0.00,($10.12),$35.88\n\
        ,,,,,,,,,,,\n\
        Reserve for Returns Withheld (20%),,,,,,,,,,,($18.41)\n\
        TOTAL,,,,,14,1,13,$126.00,($8.00),($25.96),$73.63\n";

    fn indie() -> (Mapping, Overrides) {
        let m = crate::find_builtin("indie-dist-us").expect("shipped");
        let o = Overrides {
            distributor: Some("northwind".into()),
            ..Overrides::default()
        };
        (m, o)
    }

    #[test]
    fn more_decimals_than_the_currency_has_are_refused_at_the_cell() {
        let (m, o) = indie();
        let csv = format!(
            "{US_HEAD}859712000019,MRG-001-CD,The Tidewater Band,Harbor Lights,CD,10,1,9,$80.005,($8.00),($15.84),$56.16\n{US_TAIL}"
        );
        let errs = convert_csv(&m, csv.as_bytes(), &o).expect_err("3 decimals");
        assert_eq!(
            said(&errs),
            "line 10, column 9 (Gross Sales $): found \"$80.005\", expected an amount with at most 2 decimals for USD, as the currency has (amounts are never rounded)"
        );
        // Trailing zeros are not more decimals.
        let csv = format!(
            "{US_HEAD}859712000019,MRG-001-CD,The Tidewater Band,Harbor Lights,CD,10,1,9,$80.000,($8.00),($15.84),$56.16\n{US_TAIL}"
        );
        assert!(convert_csv(&m, csv.as_bytes(), &o).is_ok());
    }

    #[test]
    fn a_repeated_header_row_is_skipped_and_said() {
        let (m, o) = indie();
        let first = "859712000019,MRG-001-CD,The Tidewater Band,Harbor Lights,CD,10,1,9,$80.00,($8.00),($15.84),$56.16\n";
        let header = US_HEAD.lines().last().unwrap_or_default();
        let once = format!("{US_HEAD}{first}{US_TAIL}");
        let twice = format!("{US_HEAD}{first}{header}\n{US_TAIL}");
        let plain = convert_csv(&m, once.as_bytes(), &o).unwrap_or_else(|e| panic!("{}", said(&e)));
        let got =
            convert_csv_noted(&m, twice.as_bytes(), &o).unwrap_or_else(|e| panic!("{}", said(&e)));
        assert_eq!(lines(&got.rows), lines(&plain));
        assert_eq!(
            got.notes.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["line 11: this line repeats the header row (line 9), as an export does at a page break: skipped"]
        );
    }

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

/// `TOTAL`, `Total:`, `Subtotal CD`, `Grand total`, `Totals`: a label of a totals row
/// (compared ignoring case), never a product code.
fn is_totals_label(code: &str) -> bool {
    let lower = code.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("grand ")
        .map(str::trim_start)
        .unwrap_or(&lower);
    let rest = rest
        .strip_prefix("sub")
        .map(|r| r.trim_start_matches(['-', ' ']))
        .unwrap_or(rest);
    match rest.strip_prefix("total") {
        Some(after) => {
            let after = after.strip_prefix('s').unwrap_or(after);
            after.is_empty() || after.starts_with([' ', ':', '('])
        }
        None => false,
    }
}

#[cfg(test)]
mod totals_label_tests {
    #[test]
    fn totals_labels_are_known_and_product_codes_are_not() {
        for t in [
            "TOTAL",
            "Total:",
            "Subtotal CD",
            "Sub-total",
            "Grand Total",
            "totals",
            "TOTAL (USD)",
        ] {
            assert!(super::is_totals_label(t), "{t}");
        }
        for t in [
            "TOTALLY-01",
            "MRG-001-CD",
            "859712000019",
            "TOT-1",
            "subway",
        ] {
            assert!(!super::is_totals_label(t), "{t}");
        }
    }
}
