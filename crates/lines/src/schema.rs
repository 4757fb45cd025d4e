//! The Parquet schema of a statement line, and lines → Arrow record batches.

use backstock_domain::Currency;
use backstock_ingest::lines::SourceLine;
use datafusion::arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::sync::Arc;

/// Digits of an amount column: every `i64` of minor units fits (a line's amount is at
/// most 10^18 minor units, `Money::LIMIT_MINOR`); a sum is widened by the engine.
pub const AMOUNT_PRECISION: u8 = 19;

/// The columns, in order.
pub const COLUMNS: [&str; 17] = [
    "label",
    "distributor",
    "statement_id",
    "period_start",
    "period_end",
    "month",
    "sku",
    "code",
    "isrc",
    "territory",
    "service",
    "kind",
    "units",
    "amount",
    "currency",
    "source_sha256",
    "line_no",
];

/// The schema of lines in a currency with `scale` decimal places (2 for USD, 0 for
/// JPY): `amount` is `Decimal128(19, scale)`, the exact minor units.
pub fn schema(scale: u8) -> SchemaRef {
    let s = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        s("label", false),
        s("distributor", false),
        s("statement_id", false),
        Field::new("period_start", DataType::Date32, false),
        Field::new("period_end", DataType::Date32, false),
        // YYYY-MM of the period end: the partition, and `--by month`.
        s("month", false),
        // Null for fees and adjustments, and for codes the catalog does not know.
        s("sku", true),
        s("code", false),
        s("isrc", true),
        s("territory", true),
        s("service", true),
        s("kind", false),
        Field::new("units", DataType::Int64, false),
        Field::new(
            "amount",
            DataType::Decimal128(AMOUNT_PRECISION, scale as i8),
            false,
        ),
        s("currency", false),
        s("source_sha256", false),
        Field::new("line_no", DataType::Int64, false),
    ]))
}

/// `YYYY-MM` of a date.
pub fn month_of(d: backstock_domain::Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Lines of one currency being gathered into a record batch.
pub struct Builder {
    currency: Currency,
    label: StringBuilder,
    distributor: StringBuilder,
    statement_id: StringBuilder,
    period_start: Date32Builder,
    period_end: Date32Builder,
    month: StringBuilder,
    sku: StringBuilder,
    code: StringBuilder,
    isrc: StringBuilder,
    territory: StringBuilder,
    service: StringBuilder,
    kind: StringBuilder,
    units: Int64Builder,
    amount: Decimal128Builder,
    currency_col: StringBuilder,
    sha: StringBuilder,
    line_no: Int64Builder,
    rows: usize,
}

impl Builder {
    pub fn new(currency: Currency) -> Builder {
        Builder {
            currency,
            label: StringBuilder::new(),
            distributor: StringBuilder::new(),
            statement_id: StringBuilder::new(),
            period_start: Date32Builder::new(),
            period_end: Date32Builder::new(),
            month: StringBuilder::new(),
            sku: StringBuilder::new(),
            code: StringBuilder::new(),
            isrc: StringBuilder::new(),
            territory: StringBuilder::new(),
            service: StringBuilder::new(),
            kind: StringBuilder::new(),
            units: Int64Builder::new(),
            amount: Decimal128Builder::new(),
            currency_col: StringBuilder::new(),
            sha: StringBuilder::new(),
            line_no: Int64Builder::new(),
            rows: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds a line (of this builder's currency).
    pub fn push(&mut self, label: &str, sha256: &str, l: &SourceLine) {
        self.label.append_value(label);
        self.distributor.append_value(l.distributor.as_str());
        self.statement_id.append_value(&l.statement_id);
        self.period_start
            .append_value(l.period_start.days_since_epoch());
        self.period_end
            .append_value(l.period_end.days_since_epoch());
        self.month.append_value(month_of(l.period_end));
        self.sku.append_option(l.sku.as_ref().map(|s| s.as_str()));
        self.code.append_value(&l.code);
        self.isrc.append_option(l.isrc.as_deref());
        self.territory.append_option(l.territory.as_deref());
        self.service.append_option(l.service.as_deref());
        self.kind.append_value(l.kind.as_str());
        self.units.append_value(l.units);
        self.amount.append_value(i128::from(l.amount_minor));
        self.currency_col.append_value(l.currency.code());
        self.sha.append_value(sha256);
        self.line_no
            .append_value(i64::try_from(l.line).unwrap_or(i64::MAX));
        self.rows += 1;
    }

    /// The lines gathered so far as one batch (the builder is emptied).
    pub fn finish(&mut self) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
        let scale = self.currency.exponent();
        let amount = self
            .amount
            .finish()
            .with_precision_and_scale(AMOUNT_PRECISION, scale as i8)?;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.label.finish()),
            Arc::new(self.distributor.finish()),
            Arc::new(self.statement_id.finish()),
            Arc::new(self.period_start.finish()),
            Arc::new(self.period_end.finish()),
            Arc::new(self.month.finish()),
            Arc::new(self.sku.finish()),
            Arc::new(self.code.finish()),
            Arc::new(self.isrc.finish()),
            Arc::new(self.territory.finish()),
            Arc::new(self.service.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.units.finish()),
            Arc::new(amount),
            Arc::new(self.currency_col.finish()),
            Arc::new(self.sha.finish()),
            Arc::new(self.line_no.finish()),
        ];
        self.rows = 0;
        RecordBatch::try_new(schema(scale), cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_domain::{Date, PartyId, Sku};
    use backstock_ledger::LineKind;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Decimal128Type;

    fn line(cur: &str, amount_minor: i64) -> SourceLine {
        SourceLine {
            line: 7,
            statement_id: "S1".into(),
            distributor: PartyId::parse("northwind").unwrap(),
            period_start: Date::parse("2016-05-01").unwrap(),
            period_end: Date::parse("2016-05-31").unwrap(),
            currency: Currency::parse(cur).unwrap(),
            sku: Some(Sku::parse("MRG-001-CD").unwrap()),
            code: "MRG-001-CD".into(),
            isrc: Some("GBKST2300101".into()),
            territory: None,
            service: None,
            kind: LineKind::Sale,
            units: 3,
            amount_minor,
        }
    }

    #[test]
    fn amounts_are_exact_decimals_with_the_scale_of_their_currency() {
        let mut b = Builder::new(Currency::parse("USD").unwrap());
        b.push("marigold", "ab", &line("USD", -123_456_789_012));
        b.push("marigold", "ab", &line("USD", 999_999_999_999_999_999));
        let batch = b.finish().unwrap();
        assert_eq!(b.rows(), 0);
        assert_eq!(batch.num_rows(), 2);
        let amount = batch
            .column_by_name("amount")
            .unwrap()
            .as_primitive::<Decimal128Type>();
        assert_eq!(amount.data_type(), &DataType::Decimal128(19, 2));
        assert_eq!(amount.value(0), -123_456_789_012);
        assert_eq!(amount.value_as_string(0), "-1234567890.12");
        assert_eq!(amount.value(1), 999_999_999_999_999_999);
        let month = batch.column_by_name("month").unwrap().as_string::<i32>();
        assert_eq!(month.value(0), "2016-05");
        assert!(batch.column_by_name("territory").unwrap().is_null(0));

        let mut y = Builder::new(Currency::parse("JPY").unwrap());
        y.push("marigold", "ab", &line("JPY", 1500));
        let batch = y.finish().unwrap();
        let amount = batch
            .column_by_name("amount")
            .unwrap()
            .as_primitive::<Decimal128Type>();
        assert_eq!(amount.data_type(), &DataType::Decimal128(19, 0));
        assert_eq!(amount.value_as_string(0), "1500");
    }
}
