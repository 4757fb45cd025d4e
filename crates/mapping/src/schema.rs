//! The mapping file: parsing and validating its TOML, and writing it back.

use crate::date::DateFormats;
use crate::number::NumberStyle;
use crate::text::Encoding;
use std::fmt;
use std::fmt::Write as _;
use toml::{Table, Value};

/// What is wrong with a mapping file: the TOML key and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// Dotted path of the key (`statement.period_end`, `lines[2].amount`); empty for
    /// a TOML syntax error.
    pub key: String,
    pub message: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "mapping: {}", self.message)
        } else {
            write!(f, "mapping key `{}`: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for MappingError {}

fn err(key: &str, message: impl Into<String>) -> MappingError {
    MappingError {
        key: key.to_string(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A column: by header name (matched case-insensitively, trimmed) or by 1-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColRef {
    Name(String),
    Index(usize),
}

impl fmt::Display for ColRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColRef::Name(n) => write!(f, "{n:?}"),
            ColRef::Index(i) => write!(f, "column {i}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetRef {
    Name(String),
    /// 1-based.
    Index(usize),
}

/// The kinds of canonical statement line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Sale,
    Return,
    Fee,
    ReserveWithheld,
    ReserveReleased,
    Chargeback,
    Adjustment,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Sale,
        Kind::Return,
        Kind::Fee,
        Kind::ReserveWithheld,
        Kind::ReserveReleased,
        Kind::Chargeback,
        Kind::Adjustment,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Sale => "sale",
            Kind::Return => "return",
            Kind::Fee => "fee",
            Kind::ReserveWithheld => "reserve_withheld",
            Kind::ReserveReleased => "reserve_released",
            Kind::Chargeback => "chargeback",
            Kind::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim().to_ascii_lowercase();
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the kind adds to what the distributor owes the label.
    pub fn adds(&self) -> bool {
        matches!(self, Kind::Sale | Kind::ReserveReleased | Kind::Adjustment)
    }

    /// The kind a negative amount of this kind amounts to.
    pub fn opposite(&self) -> Kind {
        match self {
            Kind::Sale => Kind::Return,
            Kind::Return => Kind::Sale,
            Kind::ReserveWithheld => Kind::ReserveReleased,
            Kind::ReserveReleased => Kind::ReserveWithheld,
            Kind::Fee | Kind::Chargeback | Kind::Adjustment => Kind::Adjustment,
        }
    }
}

const KINDS_EXPECTED: &str =
    "one of sale, return, fee, reserve_withheld, reserve_released, chargeback, adjustment";

/// How a line's amount column is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// The column holds an amount of the line's kind; a negative value means the
    /// opposite kind (a negative sale is a return, a negative fee a credit).
    Positive,
    /// The column holds the effect on what the label is owed: money to the label
    /// positive, deductions (returns, fees, reserves withheld) negative.
    Net,
}

/// One canonical line made from each source row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `None`: the row's kind from `kind_column`.
    pub kind: Option<Kind>,
    pub amount: ColRef,
    /// Columns added to the amount, exactly.
    pub plus: Vec<ColRef>,
    /// Columns subtracted from the amount, exactly.
    pub minus: Vec<ColRef>,
    pub units: Option<ColRef>,
    pub sign: Sign,
    /// Text put first in the memo.
    pub memo: Option<String>,
    /// Columns for the memo instead of `columns.memo`.
    pub memo_columns: Option<Vec<ColRef>>,
    /// Whether the row's item code goes on the line (default true).
    pub with_sku: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// The cell equals the text (case-insensitive, trimmed).
    Equals(String),
    /// The cell starts with the text (case-insensitive, trimmed).
    StartsWith(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ignore the row.
    Skip,
    /// Ignore the row and every row after it (a footer). A row after it that would
    /// make a line is an error: a subtotal taken for the end must not drop the rest.
    Stop,
    /// The row states the net of every line read above it (what the label is owed:
    /// sales − returns − fees − reserves withheld + released ± adjustments) in this
    /// column; the lines must add up to it to the cent. Reading goes on below it.
    Total(ColRef),
    /// Make these lines from the row instead of the default `[[lines]]`.
    Lines(Vec<Line>),
}

/// A special row (reserve, total, footer) recognised by the text of one cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub column: ColRef,
    pub test: Test,
    pub action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Kind(Kind),
    Skip,
}

/// A column of codes that gives each row its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindColumn {
    pub column: ColRef,
    /// Codes as written in the mapping; matched case-insensitively, trimmed.
    pub codes: Vec<(String, Code)>,
}

impl KindColumn {
    pub fn lookup(&self, code: &str) -> Option<Code> {
        let code = code.trim();
        self.codes
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, k)| *k)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The calendar month(s) of the dates.
    Month,
    /// The first and last date themselves.
    Day,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Value(String),
    Column(ColRef),
    /// A cell above the header row: 1-based row and column, and its name (`B3`).
    Cell {
        row: u64,
        col: usize,
        name: String,
    },
    /// The cell above the header that starts with this label: the rest of that cell,
    /// or else the next non-empty cell to its right.
    After(String),
    Template(String),
    FromDates(Span),
}

/// Where one statement-level value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueSpec {
    pub source: Source,
    /// Split the text at this separator and take part `part` (1-based).
    pub split: Option<(String, usize)>,
    /// Date format for this value instead of the mapping's `date_format`.
    pub date_format: Option<DateFormats>,
    /// Move the date to the last day of its month (a period given as a month).
    pub end_of_month: bool,
}

/// The statement-level fields, in the order they are resolved.
pub const FIELDS: [&str; 6] = [
    "distributor",
    "currency",
    "period_start",
    "period_end",
    "issued_on",
    "statement_id",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// Item code columns: the first non-empty one is used.
    pub sku: Vec<ColRef>,
    pub date: Option<ColRef>,
    pub memo: Vec<ColRef>,
}

/// A parsed and validated mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) format: Format,
    pub(crate) sheet: Option<SheetRef>,
    pub(crate) delimiter: u8,
    pub(crate) encoding: Encoding,
    pub(crate) header_row: u64,
    pub(crate) skip_rows_after_header: u64,
    pub(crate) skip_if_column_empty: Vec<ColRef>,
    /// Named columns that may be missing from a file (then read as empty).
    pub(crate) optional_columns: Vec<String>,
    pub(crate) empty_values: Vec<String>,
    pub(crate) decimal: char,
    pub(crate) thousands: Option<String>,
    pub(crate) currency_symbols: Option<Vec<String>>,
    pub(crate) date_format: DateFormats,
    pub(crate) columns: Columns,
    pub(crate) kind_column: Option<KindColumn>,
    pub(crate) statement: [Option<ValueSpec>; 6],
    pub(crate) lines: Vec<Line>,
    pub(crate) rules: Vec<Rule>,
}

impl Mapping {
    /// Parses and validates a mapping; errors name the key and what was expected.
    pub fn parse(toml_text: &str) -> Result<Mapping, MappingError> {
        let table: Table = toml_text
            .parse()
            .map_err(|e: toml::de::Error| err("", format!("not valid TOML: {}", e.message())))?;
        parse_mapping(&table)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The statement fields (`distributor`, `currency`, `period_start`, `period_end`,
    /// `issued_on`, `statement_id`) the mapping does not say where to find: they must
    /// be given as [`crate::Overrides`].
    pub fn unset_statement_fields(&self) -> Vec<&'static str> {
        FIELDS
            .iter()
            .zip(&self.statement)
            .filter(|(_, s)| s.is_none())
            .map(|(f, _)| *f)
            .collect()
    }

    /// Whether any column is given by its header name (then the header row can be
    /// recognised by those names).
    pub(crate) fn names_columns(&self) -> bool {
        let mut cols: Vec<&ColRef> = Vec::new();
        cols.extend(&self.columns.sku);
        cols.extend(&self.columns.date);
        cols.extend(&self.columns.memo);
        cols.extend(&self.skip_if_column_empty);
        cols.extend(self.kind_column.as_ref().map(|k| &k.column));
        let rule_lines = self.rules.iter().flat_map(|r| match &r.action {
            Action::Lines(ls) => ls.as_slice(),
            _ => &[],
        });
        for l in self.lines.iter().chain(rule_lines) {
            cols.push(&l.amount);
            cols.extend(&l.plus);
            cols.extend(&l.minus);
            cols.extend(&l.units);
            cols.extend(l.memo_columns.iter().flatten());
        }
        cols.extend(self.rules.iter().map(|r| &r.column));
        cols.extend(self.rules.iter().filter_map(|r| match &r.action {
            Action::Total(c) => Some(c),
            _ => None,
        }));
        for spec in self.statement.iter().flatten() {
            if let Source::Column(c) = &spec.source {
                cols.push(c);
            }
        }
        cols.iter().any(|c| matches!(c, ColRef::Name(_)))
    }

    pub(crate) fn number_style(&self) -> NumberStyle {
        NumberStyle {
            decimal: self.decimal,
            thousands: match &self.thousands {
                Some(t) => t.chars().collect(),
                None => NumberStyle::default_thousands(self.decimal),
            },
            currency_symbols: self
                .currency_symbols
                .clone()
                .unwrap_or_else(NumberStyle::default_symbols),
        }
    }

    /// The mapping as TOML; `Mapping::parse(&m.to_toml())` gives `m` back.
    pub fn to_toml(&self) -> String {
        write_mapping(self)
    }
}

// ---------------------------------------------------------------------------------
// Reading

struct Tab<'a> {
    path: String,
    table: &'a Table,
    allowed: &'static [&'static str],
}

impl<'a> Tab<'a> {
    fn new(
        path: &str,
        table: &'a Table,
        allowed: &'static [&'static str],
    ) -> Result<Tab<'a>, MappingError> {
        for k in table.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(err(
                    &join(path, k),
                    format!("unknown key (expected one of: {})", allowed.join(", ")),
                ));
            }
        }
        Ok(Tab {
            path: path.to_string(),
            table,
            allowed,
        })
    }

    fn key(&self, k: &str) -> String {
        debug_assert!(self.allowed.contains(&k));
        join(&self.path, k)
    }

    fn get(&self, k: &str) -> Option<&'a Value> {
        self.table.get(k)
    }

    fn string(&self, k: &str) -> Result<Option<String>, MappingError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(err(
                &self.key(k),
                format!("expected a string, found {}", type_name(v)),
            )),
        }
    }

    fn int(&self, k: &str, min: i64, max: i64) -> Result<Option<i64>, MappingError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Integer(i)) if (min..=max).contains(i) => Ok(Some(*i)),
            Some(v) => Err(err(
                &self.key(k),
                format!(
                    "expected a whole number from {min} to {max}, found {}",
                    show(v)
                ),
            )),
        }
    }

    fn bool(&self, k: &str) -> Result<Option<bool>, MappingError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(v) => Err(err(
                &self.key(k),
                format!("expected true or false, found {}", show(v)),
            )),
        }
    }

    fn strings(&self, k: &str) -> Result<Option<Vec<String>>, MappingError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) => Ok(s.clone()),
                    v => Err(err(
                        &format!("{}[{}]", self.key(k), i + 1),
                        format!("expected a string, found {}", type_name(v)),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => Err(err(
                &self.key(k),
                format!(
                    "expected a string or a list of strings, found {}",
                    type_name(v)
                ),
            )),
        }
    }

    fn col(&self, k: &str) -> Result<Option<ColRef>, MappingError> {
        self.get(k).map(|v| col_ref(&self.key(k), v)).transpose()
    }

    fn cols(&self, k: &str) -> Result<Option<Vec<ColRef>>, MappingError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| col_ref(&format!("{}[{}]", self.key(k), i + 1), v))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => col_ref(&self.key(k), v).map(|c| Some(vec![c])),
        }
    }

    fn table(&self, k: &str) -> Result<Option<&'a Table>, MappingError> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Table(t)) => Ok(Some(t)),
            Some(v) => Err(err(
                &self.key(k),
                format!("expected a table, found {}", type_name(v)),
            )),
        }
    }

    fn tables(&self, k: &str) -> Result<Vec<&'a Table>, MappingError> {
        match self.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Table(t) => Ok(t),
                    v => Err(err(
                        &format!("{}[{}]", self.key(k), i + 1),
                        format!("expected a table, found {}", type_name(v)),
                    )),
                })
                .collect(),
            Some(v) => Err(err(
                &self.key(k),
                format!(
                    "expected an array of tables ([[{k}]]), found {}",
                    type_name(v)
                ),
            )),
        }
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(i) => i.to_string(),
        Value::Boolean(b) => b.to_string(),
        v => type_name(v).to_string(),
    }
}

fn col_ref(key: &str, v: &Value) -> Result<ColRef, MappingError> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(ColRef::Name(s.trim().to_string())),
        Value::Integer(i) if (1..=16_384).contains(i) => Ok(ColRef::Index(*i as usize)),
        v => Err(err(
            key,
            format!(
                "expected a column: a header name such as \"Units Sold\" or a 1-based column number, found {}",
                show(v)
            ),
        )),
    }
}

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "format",
    "sheet",
    "delimiter",
    "encoding",
    "header_row",
    "skip_rows_after_header",
    "skip_if_column_empty",
    "optional_columns",
    "empty_values",
    "decimal",
    "thousands",
    "currency_symbols",
    "date_format",
    "columns",
    "kind_column",
    "statement",
    "lines",
    "rules",
];

fn parse_mapping(table: &Table) -> Result<Mapping, MappingError> {
    let t = Tab::new("", table, TOP_KEYS)?;
    let name = t
        .string("name")?
        .ok_or_else(|| err("name", "required: a short name such as \"indie-dist-us\""))?;
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(err(
            "name",
            format!("expected 1-64 letters, digits, '-', '_' or '.', found {name:?}"),
        ));
    }
    let description = t.string("description")?.unwrap_or_default();
    let format = match t
        .string("format")?
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        Some(o) => {
            return Err(err(
                "format",
                format!("expected \"csv\" or \"xlsx\", found {o:?}"),
            ))
        }
    };
    let sheet = match t.get("sheet") {
        None => None,
        Some(_) if format != Format::Xlsx => {
            return Err(err("sheet", "only for format = \"xlsx\""));
        }
        Some(Value::String(s)) if !s.is_empty() => Some(SheetRef::Name(s.clone())),
        Some(Value::Integer(i)) if (1..=1000).contains(i) => Some(SheetRef::Index(*i as usize)),
        Some(v) => {
            return Err(err(
                "sheet",
                format!(
                    "expected a sheet name or a 1-based sheet number, found {}",
                    show(v)
                ),
            ))
        }
    };
    let delimiter = match t.string("delimiter")? {
        None => b',',
        Some(_) if format != Format::Csv => {
            return Err(err("delimiter", "only for format = \"csv\""))
        }
        Some(d) => match d.as_str() {
            "," => b',',
            ";" => b';',
            "\t" | "tab" => b'\t',
            "|" => b'|',
            o => {
                return Err(err(
                    "delimiter",
                    format!("expected \",\", \";\", \"\\t\" or \"|\", found {o:?}"),
                ))
            }
        },
    };
    let encoding = match t.string("encoding")? {
        None => Encoding::Auto,
        Some(_) if format != Format::Csv => {
            return Err(err("encoding", "only for format = \"csv\""))
        }
        Some(e) => Encoding::parse(&e).ok_or_else(|| {
            err(
                "encoding",
                format!(
                    "expected \"auto\", \"utf-8\", \"windows-1252\" or \"utf-16\", found {e:?}"
                ),
            )
        })?,
    };
    let header_row = t.int("header_row", 0, 1_000_000)?.unwrap_or(1) as u64;
    let skip_rows_after_header = t.int("skip_rows_after_header", 0, 1_000_000)?.unwrap_or(0) as u64;
    let skip_if_column_empty = t.cols("skip_if_column_empty")?.unwrap_or_default();
    let optional_columns = t.strings("optional_columns")?.unwrap_or_default();
    let empty_values = t.strings("empty_values")?.unwrap_or_default();
    let decimal = match t.string("decimal")?.as_deref() {
        None | Some(".") => '.',
        Some(",") => ',',
        Some(o) => {
            return Err(err(
                "decimal",
                format!("expected \".\" or \",\", found {o:?}"),
            ))
        }
    };
    let thousands = t.string("thousands")?;
    if let Some(th) = &thousands {
        if th.contains(decimal) || th.chars().any(|c| c.is_ascii_digit() || c == '-') {
            return Err(err(
                "thousands",
                format!(
                    "expected the thousands separator(s), not digits, '-' or the decimal separator {decimal:?}, found {th:?}"
                ),
            ));
        }
    }
    let currency_symbols = t.strings("currency_symbols")?;
    if let Some(syms) = &currency_symbols {
        if let Some(bad) = syms.iter().find(|s| {
            s.is_empty()
                || s.chars().any(|c| {
                    c.is_ascii_digit() || c == decimal || matches!(c, '-' | '(' | ')' | '+')
                })
        }) {
            return Err(err(
                "currency_symbols",
                format!("expected symbols or codes such as \"$\" or \"EUR\", found {bad:?}"),
            ));
        }
    }
    let date_format_texts = t
        .strings("date_format")?
        .unwrap_or_else(|| vec!["%Y-%m-%d".into()]);
    let date_format = DateFormats::parse(&date_format_texts).map_err(|m| {
        err(
            "date_format",
            format!(
                "expected a format such as \"%m/%d/%Y\" or \"%d.%m.%Y\" (or a list of them): {m}"
            ),
        )
    })?;

    let columns = match t.table("columns")? {
        None => Columns {
            sku: Vec::new(),
            date: None,
            memo: Vec::new(),
        },
        Some(c) => {
            let c = Tab::new("columns", c, &["sku", "date", "memo"])?;
            Columns {
                sku: c.cols("sku")?.unwrap_or_default(),
                date: c.col("date")?,
                memo: c.cols("memo")?.unwrap_or_default(),
            }
        }
    };

    let kind_column = match t.table("kind_column")? {
        None => None,
        Some(k) => {
            let k = Tab::new("kind_column", k, &["column", "codes"])?;
            let column = k.col("column")?.ok_or_else(|| {
                err(
                    "kind_column.column",
                    "required: the column holding the codes",
                )
            })?;
            let codes_t = k.table("codes")?.ok_or_else(|| {
                err(
                    "kind_column.codes",
                    "required: a table of code = \"kind\" (or \"skip\")",
                )
            })?;
            let mut codes = Vec::new();
            for (code, v) in codes_t {
                let key = format!("kind_column.codes.{}", key_text(code));
                let target = match v {
                    Value::String(s) if s.eq_ignore_ascii_case("skip") => Code::Skip,
                    Value::String(s) => Code::Kind(Kind::parse(s).ok_or_else(|| {
                        err(
                            &key,
                            format!("expected {KINDS_EXPECTED} or skip, found {s:?}"),
                        )
                    })?),
                    v => {
                        return Err(err(
                            &key,
                            format!("expected a kind, found {}", type_name(v)),
                        ))
                    }
                };
                if code.trim().is_empty() {
                    return Err(err(&key, "expected a non-empty code"));
                }
                codes.push((code.trim().to_string(), target));
            }
            if codes.is_empty() {
                return Err(err("kind_column.codes", "expected at least one code"));
            }
            Some(KindColumn { column, codes })
        }
    };

    let lines = t
        .tables("lines")?
        .into_iter()
        .enumerate()
        .map(|(i, l)| parse_line(&format!("lines[{}]", i + 1), l, kind_column.is_some()))
        .collect::<Result<Vec<_>, _>>()?;
    if lines.is_empty() {
        return Err(err(
            "lines",
            "expected at least one [[lines]] table saying which column gives which kind of line",
        ));
    }

    let mut rules = Vec::new();
    for (i, r) in t.tables("rules")?.into_iter().enumerate() {
        let path = format!("rules[{}]", i + 1);
        let r = Tab::new(
            &path,
            r,
            &[
                "column",
                "equals",
                "starts_with",
                "action",
                "lines",
                "amount",
            ],
        )?;
        let column = r.col("column")?.ok_or_else(|| {
            err(
                &r.key("column"),
                "required: the column whose text is tested",
            )
        })?;
        let test = match (r.string("equals")?, r.string("starts_with")?) {
            (Some(e), None) if !e.trim().is_empty() => Test::Equals(e.trim().to_string()),
            (None, Some(s)) if !s.trim().is_empty() => Test::StartsWith(s.trim().to_string()),
            _ => {
                return Err(err(
                    &path,
                    "expected exactly one of equals = \"…\" or starts_with = \"…\" (not empty)",
                ))
            }
        };
        let rule_lines = r
            .tables("lines")?
            .into_iter()
            .enumerate()
            .map(|(j, l)| parse_line(&format!("{path}.lines[{}]", j + 1), l, false))
            .collect::<Result<Vec<_>, _>>()?;
        let total_amount = r.col("amount")?;
        if total_amount.is_some() && r.string("action")?.as_deref() != Some("total") {
            return Err(err(
                &r.key("amount"),
                "only with action = \"total\" (the column of the total row holding the statement's net); a line's amount goes in [[rules.lines]]",
            ));
        }
        let action = match (r.string("action")?.as_deref(), rule_lines.is_empty()) {
            (Some("total"), true) => Action::Total(total_amount.ok_or_else(|| {
                err(
                    &r.key("amount"),
                    "required with action = \"total\": the column of the total row holding the statement's net",
                )
            })?),
            (Some("skip"), true) => Action::Skip,
            (Some("stop"), true) => Action::Stop,
            (None | Some("lines"), false) => Action::Lines(rule_lines),
            (None | Some("lines"), true) => {
                return Err(err(
                    &r.key("lines"),
                    "expected [[rules.lines]] (or action = \"skip\", \"stop\" or \"total\")",
                ))
            }
            (Some(a), _) => {
                return Err(err(
                    &r.key("action"),
                    format!(
                    "expected \"skip\", \"stop\", \"total\" (with amount = \"column\") or \"lines\" (with [[rules.lines]]), found {a:?}"
                ),
                ))
            }
        };
        rules.push(Rule {
            column,
            test,
            action,
        });
    }

    let mut statement: [Option<ValueSpec>; 6] = Default::default();
    if let Some(s) = t.table("statement")? {
        let s = Tab::new("statement", s, &FIELDS)?;
        for (i, f) in FIELDS.iter().enumerate() {
            if let Some(v) = s.get(f) {
                statement[i] = Some(parse_source(&s.key(f), f, v, i)?);
            }
        }
    }

    let m = Mapping {
        name,
        description,
        format,
        sheet,
        delimiter,
        encoding,
        header_row,
        skip_rows_after_header,
        skip_if_column_empty,
        optional_columns,
        empty_values,
        decimal,
        thousands,
        currency_symbols,
        date_format,
        columns,
        kind_column,
        statement,
        lines,
        rules,
    };
    check_refs(&m)?;
    Ok(m)
}

/// Cross-key checks: names need a header row, cells must lie above it, dates need a
/// date column.
fn check_refs(m: &Mapping) -> Result<(), MappingError> {
    if m.header_row == 0 {
        let mut named = Vec::new();
        named.extend(m.columns.sku.iter().map(|c| ("columns.sku", c)));
        named.extend(m.columns.memo.iter().map(|c| ("columns.memo", c)));
        named.extend(m.columns.date.iter().map(|c| ("columns.date", c)));
        named.extend(
            m.skip_if_column_empty
                .iter()
                .map(|c| ("skip_if_column_empty", c)),
        );
        if let Some(k) = &m.kind_column {
            named.push(("kind_column.column", &k.column));
        }
        for l in &m.lines {
            named.push(("lines", &l.amount));
            named.extend(l.units.iter().map(|c| ("lines", c)));
            named.extend(l.plus.iter().chain(&l.minus).map(|c| ("lines", c)));
        }
        for r in &m.rules {
            named.push(("rules", &r.column));
            if let Action::Total(c) = &r.action {
                named.push(("rules", c));
            }
        }
        if let Some((key, c)) = named
            .into_iter()
            .find(|(_, c)| matches!(c, ColRef::Name(_)))
        {
            return Err(err(
                key,
                format!("header_row = 0 (no header): columns must be given by number, found {c}"),
            ));
        }
    }
    let can_sell = |l: &Line| matches!(l.kind, None | Some(Kind::Sale | Kind::Return));
    let rule_lines = m.rules.iter().flat_map(|r| match &r.action {
        Action::Lines(ls) => ls.as_slice(),
        _ => &[],
    });
    if m.columns.sku.is_empty() && m.lines.iter().chain(rule_lines).any(can_sell) {
        return Err(err(
            "columns.sku",
            "required when lines can be sales or returns: the column(s) with the UPC, EAN or catalog number",
        ));
    }
    for (i, spec) in m.statement.iter().enumerate() {
        let Some(spec) = spec else { continue };
        let key = format!("statement.{}", FIELDS[i]);
        match &spec.source {
            Source::Cell { row, name, .. } if *row >= m.header_row => {
                return Err(err(
                    &key,
                    format!(
                        "expected a cell above the header row {} (the header area), found {name}",
                        m.header_row
                    ),
                ))
            }
            Source::After(_) if m.header_row <= 1 => {
                return Err(err(
                    &key,
                    "`after` needs a header area: header_row must be 2 or more",
                ))
            }
            Source::FromDates(_) if m.columns.date.is_none() => {
                return Err(err(&key, "`from_dates` needs columns.date"))
            }
            Source::Column(ColRef::Name(n)) if m.header_row == 0 => {
                return Err(err(
                    &key,
                    format!("header_row = 0: give column {n:?} by number"),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_line(path: &str, t: &Table, has_kind_column: bool) -> Result<Line, MappingError> {
    let t = Tab::new(
        path,
        t,
        &[
            "kind",
            "amount",
            "plus",
            "minus",
            "units",
            "sign",
            "memo",
            "memo_columns",
            "with_sku",
        ],
    )?;
    let kind = match t.string("kind")? {
        None if has_kind_column => None,
        None => {
            return Err(err(
                &t.key("kind"),
                format!("required (no kind_column here): {KINDS_EXPECTED}"),
            ))
        }
        Some(k) => Some(Kind::parse(&k).ok_or_else(|| {
            err(
                &t.key("kind"),
                format!("expected {KINDS_EXPECTED}, found {k:?}"),
            )
        })?),
    };
    let amount = t
        .col("amount")?
        .ok_or_else(|| err(&t.key("amount"), "required: the column holding the amount"))?;
    let sign = match t.string("sign")?.as_deref() {
        None | Some("positive") => Sign::Positive,
        Some("net") => Sign::Net,
        Some(o) => {
            return Err(err(
                &t.key("sign"),
                format!("expected \"positive\" or \"net\", found {o:?}"),
            ))
        }
    };
    Ok(Line {
        kind,
        amount,
        plus: t.cols("plus")?.unwrap_or_default(),
        minus: t.cols("minus")?.unwrap_or_default(),
        units: t.col("units")?,
        sign,
        memo: t.string("memo")?.filter(|m| !m.is_empty()),
        memo_columns: t.cols("memo_columns")?,
        with_sku: t.bool("with_sku")?.unwrap_or(true),
    })
}

fn parse_source(
    key: &str,
    field: &str,
    v: &Value,
    index: usize,
) -> Result<ValueSpec, MappingError> {
    let is_date = matches!(field, "period_start" | "period_end" | "issued_on");
    let t = match v {
        Value::String(s) => {
            if is_date && crate::date::Ymd::parse_iso(s).is_none() {
                return Err(err(key, format!("expected a date YYYY-MM-DD, found {s:?}")));
            }
            return Ok(ValueSpec {
                source: Source::Value(s.clone()),
                split: None,
                date_format: None,
                end_of_month: false,
            });
        }
        Value::Table(t) => t,
        v => {
            return Err(err(
                key,
                format!(
                    "expected a value (\"…\") or a table such as {{ column = \"…\" }}, {{ cell = \"B3\" }}, {{ after = \"Label:\" }}, {{ template = \"…\" }}, found {}",
                    type_name(v)
                ),
            ))
        }
    };
    let t = Tab::new(
        key,
        t,
        &[
            "value",
            "column",
            "cell",
            "after",
            "template",
            "from_dates",
            "split",
            "part",
            "date_format",
            "end_of_month",
        ],
    )?;
    let given: Vec<&str> = ["value", "column", "cell", "after", "template", "from_dates"]
        .into_iter()
        .filter(|k| t.get(k).is_some())
        .collect();
    if given.len() != 1 {
        return Err(err(
            key,
            format!(
                "expected exactly one of value, column, cell, after, template, from_dates; found {}",
                if given.is_empty() { "none".to_string() } else { given.join(", ") }
            ),
        ));
    }
    let source = match given[0] {
        "value" => Source::Value(t.string("value")?.unwrap_or_default()),
        "column" => Source::Column(t.col("column")?.ok_or_else(|| err(key, "column"))?),
        "cell" => {
            let c = t.string("cell")?.unwrap_or_default();
            let (row, col) = parse_cell(&c).ok_or_else(|| {
                err(
                    &t.key("cell"),
                    format!("expected a cell such as \"B3\", found {c:?}"),
                )
            })?;
            Source::Cell {
                row,
                col,
                name: c.trim().to_ascii_uppercase(),
            }
        }
        "after" => {
            let a = t.string("after")?.unwrap_or_default();
            if a.trim().is_empty() {
                return Err(err(
                    &t.key("after"),
                    "expected the label text, such as \"Statement No:\"",
                ));
            }
            Source::After(a.trim().to_string())
        }
        "template" => {
            let tpl = t.string("template")?.unwrap_or_default();
            check_template(&t.key("template"), &tpl, index)?;
            Source::Template(tpl)
        }
        _ => {
            if !matches!(field, "period_start" | "period_end") {
                return Err(err(
                    &t.key("from_dates"),
                    "only for period_start and period_end",
                ));
            }
            match t.string("from_dates")?.as_deref() {
                Some("month") => Source::FromDates(Span::Month),
                Some("day") => Source::FromDates(Span::Day),
                o => {
                    return Err(err(
                        &t.key("from_dates"),
                        format!("expected \"month\" or \"day\", found {o:?}"),
                    ))
                }
            }
        }
    };
    if let Source::Value(v) = &source {
        if is_date && crate::date::Ymd::parse_iso(v).is_none() {
            return Err(err(key, format!("expected a date YYYY-MM-DD, found {v:?}")));
        }
    }
    let split = match (t.string("split")?, t.int("part", 1, 100)?) {
        (None, None) => None,
        (None, Some(_)) => return Err(err(&t.key("part"), "only with split")),
        (Some(s), p) if !s.is_empty() => Some((s, p.unwrap_or(1) as usize)),
        (Some(_), _) => {
            return Err(err(
                &t.key("split"),
                "expected a non-empty separator such as \" - \"",
            ))
        }
    };
    if split.is_some() && matches!(source, Source::Template(_) | Source::FromDates(_)) {
        return Err(err(&t.key("split"), "not with template or from_dates"));
    }
    let file_value = matches!(
        source,
        Source::Column(_) | Source::Cell { .. } | Source::After(_)
    );
    let date_format = match t.strings("date_format")? {
        None => None,
        Some(_) if !(is_date && file_value) => {
            return Err(err(
                &t.key("date_format"),
                "only for dates read from the file (column, cell or after)",
            ))
        }
        Some(f) => Some(DateFormats::parse(&f).map_err(|m| {
            err(
                &t.key("date_format"),
                format!("expected a format such as \"%B %Y\" or \"%m/%Y\": {m}"),
            )
        })?),
    };
    let end_of_month = t.bool("end_of_month")?.unwrap_or(false);
    if end_of_month && !(is_date && file_value) {
        return Err(err(
            &t.key("end_of_month"),
            "only for dates read from the file (column, cell or after)",
        ));
    }
    Ok(ValueSpec {
        source,
        split,
        date_format,
        end_of_month,
    })
}

/// `{field}` placeholders must name fields resolved before this one.
fn check_template(key: &str, tpl: &str, index: usize) -> Result<(), MappingError> {
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| err(key, format!("unclosed '{{' in {tpl:?}")))?;
        let name = &after[..close];
        match FIELDS.iter().position(|f| *f == name) {
            Some(p) if p < index => {}
            _ => {
                return Err(err(
                    key,
                    format!(
                        "expected placeholders among {}, found {{{name}}}",
                        FIELDS[..index]
                            .iter()
                            .map(|f| format!("{{{f}}}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                ))
            }
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// `B3` → (row 3, column 2).
pub(crate) fn parse_cell(s: &str) -> Option<(u64, usize)> {
    let s = s.trim();
    let letters = s.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 || letters == s.len() {
        return None;
    }
    let mut col = 0usize;
    for b in s[..letters].bytes() {
        col = col * 26 + usize::from(b.to_ascii_uppercase() - b'A' + 1);
    }
    let digits = &s[letters..];
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') || digits.len() > 7 {
        return None;
    }
    Some((digits.parse().ok()?, col))
}

// ---------------------------------------------------------------------------------
// Writing

fn q(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

fn key_text(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        q(k)
    }
}

fn col_text(c: &ColRef) -> String {
    match c {
        ColRef::Name(n) => q(n),
        ColRef::Index(i) => i.to_string(),
    }
}

fn cols_text(cs: &[ColRef]) -> String {
    format!(
        "[{}]",
        cs.iter().map(col_text).collect::<Vec<_>>().join(", ")
    )
}

fn strings_text(ss: &[String]) -> String {
    format!(
        "[{}]",
        ss.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

fn formats_text(f: &DateFormats) -> String {
    match f.texts().as_slice() {
        [one] => q(one),
        many => format!(
            "[{}]",
            many.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn write_line(out: &mut String, header: &str, l: &Line) {
    let _ = writeln!(out, "\n{header}");
    if let Some(k) = l.kind {
        let _ = writeln!(out, "kind = {}", q(k.as_str()));
    }
    let _ = writeln!(out, "amount = {}", col_text(&l.amount));
    if !l.plus.is_empty() {
        let _ = writeln!(out, "plus = {}", cols_text(&l.plus));
    }
    if !l.minus.is_empty() {
        let _ = writeln!(out, "minus = {}", cols_text(&l.minus));
    }
    if let Some(u) = &l.units {
        let _ = writeln!(out, "units = {}", col_text(u));
    }
    if l.sign == Sign::Net {
        let _ = writeln!(out, "sign = \"net\"");
    }
    if let Some(m) = &l.memo {
        let _ = writeln!(out, "memo = {}", q(m));
    }
    if let Some(mc) = &l.memo_columns {
        let _ = writeln!(out, "memo_columns = {}", cols_text(mc));
    }
    if !l.with_sku {
        let _ = writeln!(out, "with_sku = false");
    }
}

fn write_mapping(m: &Mapping) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "name = {}", q(&m.name));
    if !m.description.is_empty() {
        let _ = writeln!(o, "description = {}", q(&m.description));
    }
    let _ = writeln!(o, "format = {}", q(m.format.as_str()));
    match &m.sheet {
        Some(SheetRef::Name(n)) => {
            let _ = writeln!(o, "sheet = {}", q(n));
        }
        Some(SheetRef::Index(i)) => {
            let _ = writeln!(o, "sheet = {i}");
        }
        None => {}
    }
    if m.format == Format::Csv {
        let d = char::from(m.delimiter).to_string();
        let _ = writeln!(o, "delimiter = {}", q(&d));
        let _ = writeln!(o, "encoding = {}", q(m.encoding.as_str()));
    }
    let _ = writeln!(o, "header_row = {}", m.header_row);
    if m.skip_rows_after_header > 0 {
        let _ = writeln!(o, "skip_rows_after_header = {}", m.skip_rows_after_header);
    }
    if !m.skip_if_column_empty.is_empty() {
        let _ = writeln!(
            o,
            "skip_if_column_empty = {}",
            cols_text(&m.skip_if_column_empty)
        );
    }
    if !m.optional_columns.is_empty() {
        let _ = writeln!(
            o,
            "optional_columns = {}",
            strings_text(&m.optional_columns)
        );
    }
    if !m.empty_values.is_empty() {
        let _ = writeln!(o, "empty_values = {}", strings_text(&m.empty_values));
    }
    let _ = writeln!(o, "decimal = {}", q(&m.decimal.to_string()));
    if let Some(t) = &m.thousands {
        let _ = writeln!(o, "thousands = {}", q(t));
    }
    if let Some(s) = &m.currency_symbols {
        let _ = writeln!(o, "currency_symbols = {}", strings_text(s));
    }
    let _ = writeln!(o, "date_format = {}", formats_text(&m.date_format));

    let c = &m.columns;
    if !c.sku.is_empty() || c.date.is_some() || !c.memo.is_empty() {
        let _ = writeln!(o, "\n[columns]");
        if !c.sku.is_empty() {
            let _ = writeln!(o, "sku = {}", cols_text(&c.sku));
        }
        if let Some(d) = &c.date {
            let _ = writeln!(o, "date = {}", col_text(d));
        }
        if !c.memo.is_empty() {
            let _ = writeln!(o, "memo = {}", cols_text(&c.memo));
        }
    }
    if let Some(k) = &m.kind_column {
        let _ = writeln!(o, "\n[kind_column]\ncolumn = {}", col_text(&k.column));
        let _ = writeln!(o, "\n[kind_column.codes]");
        for (code, target) in &k.codes {
            let t = match target {
                Code::Skip => "skip",
                Code::Kind(k) => k.as_str(),
            };
            let _ = writeln!(o, "{} = {}", key_text(code), q(t));
        }
    }
    if m.statement.iter().any(Option::is_some) {
        let _ = writeln!(o, "\n[statement]");
        for (i, spec) in m.statement.iter().enumerate() {
            let Some(spec) = spec else { continue };
            let mut parts = Vec::new();
            match &spec.source {
                Source::Value(v) if spec.split.is_none() => {
                    let _ = writeln!(o, "{} = {}", FIELDS[i], q(v));
                    continue;
                }
                Source::Value(v) => parts.push(format!("value = {}", q(v))),
                Source::Column(c) => parts.push(format!("column = {}", col_text(c))),
                Source::Cell { name, .. } => parts.push(format!("cell = {}", q(name))),
                Source::After(a) => parts.push(format!("after = {}", q(a))),
                Source::Template(t) => parts.push(format!("template = {}", q(t))),
                Source::FromDates(s) => parts.push(format!(
                    "from_dates = {}",
                    q(match s {
                        Span::Month => "month",
                        Span::Day => "day",
                    })
                )),
            }
            if let Some((sep, part)) = &spec.split {
                parts.push(format!("split = {}", q(sep)));
                parts.push(format!("part = {part}"));
            }
            if let Some(f) = &spec.date_format {
                parts.push(format!("date_format = {}", formats_text(f)));
            }
            if spec.end_of_month {
                parts.push("end_of_month = true".to_string());
            }
            let _ = writeln!(o, "{} = {{ {} }}", FIELDS[i], parts.join(", "));
        }
    }
    for l in &m.lines {
        write_line(&mut o, "[[lines]]", l);
    }
    for r in &m.rules {
        let _ = writeln!(o, "\n[[rules]]\ncolumn = {}", col_text(&r.column));
        match &r.test {
            Test::Equals(e) => {
                let _ = writeln!(o, "equals = {}", q(e));
            }
            Test::StartsWith(s) => {
                let _ = writeln!(o, "starts_with = {}", q(s));
            }
        }
        match &r.action {
            Action::Skip => {
                let _ = writeln!(o, "action = \"skip\"");
            }
            Action::Stop => {
                let _ = writeln!(o, "action = \"stop\"");
            }
            Action::Total(c) => {
                let _ = writeln!(o, "action = \"total\"\namount = {}", col_text(c));
            }
            Action::Lines(ls) => {
                for l in ls {
                    write_line(&mut o, "[[rules.lines]]", l);
                }
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        assert_eq!(parse_cell("B3"), Some((3, 2)));
        assert_eq!(parse_cell("aa10"), Some((10, 27)));
        assert_eq!(parse_cell("B0"), None);
        assert_eq!(parse_cell("3B"), None);
        assert_eq!(parse_cell("B"), None);
    }
}
