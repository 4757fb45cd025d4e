//! Envelopes: ISA/IEA, GS/GE, ST/SE, with their counts and control numbers checked.

use crate::error::{Errors, X12Error};
use crate::lexer::{RawInterchange, Segment, Separators};

/// One interchange (ISA ... IEA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interchange {
    pub separators: Separators,
    /// ISA05 / ISA06, trimmed of padding.
    pub sender_qualifier: String,
    pub sender_id: String,
    /// ISA07 / ISA08, trimmed of padding.
    pub receiver_qualifier: String,
    pub receiver_id: String,
    /// ISA09 (YYMMDD) and ISA10 (HHMM) as written.
    pub date: String,
    pub time: String,
    /// ISA12, e.g. `00401`.
    pub version: String,
    /// ISA13.
    pub control_number: String,
    /// ISA15: `P` production, `T` test.
    pub usage_indicator: String,
    pub groups: Vec<FunctionalGroup>,
    /// Line of the ISA segment.
    pub line: usize,
}

/// One functional group (GS ... GE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionalGroup {
    /// GS01, e.g. `PD` (852), `IB` (846), `PT` (867).
    pub functional_id: String,
    /// GS02 application sender code.
    pub sender: String,
    /// GS03 application receiver code.
    pub receiver: String,
    /// GS04 (CCYYMMDD) as written.
    pub date: String,
    /// GS06.
    pub control_number: String,
    /// GS08, e.g. `004010`.
    pub version: String,
    /// The transaction sets that were closed by a matching SE.
    pub transactions: Vec<Transaction>,
    /// Line of the GS segment.
    pub line: usize,
}

/// One transaction set (ST ... SE), segments included from ST to SE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// ST01, e.g. `852`.
    pub id: String,
    /// ST02.
    pub control_number: String,
    /// Every segment from ST to SE inclusive.
    pub segments: Vec<Segment>,
    /// Line of the ST segment.
    pub line: usize,
}

impl Transaction {
    /// The segments between ST and SE.
    pub fn body(&self) -> &[Segment] {
        let len = self.segments.len();
        if len < 2 {
            return &[];
        }
        self.segments.get(1..len - 1).unwrap_or(&[])
    }
}

fn text(segment: &Segment, n: usize) -> String {
    segment.element(n).unwrap_or("").to_string()
}

/// Control numbers match when equal, or when both are digits with the same value.
fn same_control_number(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a == b {
        return true;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    digits(a) && digits(b) && a.trim_start_matches('0') == b.trim_start_matches('0')
}

fn count(segment: &Segment, n: usize) -> Option<usize> {
    segment
        .element(n)
        .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
}

fn check_count(segment: &Segment, n: usize, actual: usize, what: &str, errors: &mut Errors) {
    if count(segment, n) != Some(actual) {
        errors.push(segment.error(
            Some(n),
            segment.element(n).unwrap_or(""),
            format!("{actual}, the number of {what}"),
        ));
    }
}

fn check_control(
    segment: &Segment,
    n: usize,
    opening: &str,
    opening_id: &str,
    what: &str,
    errors: &mut Errors,
) {
    let found = segment.element(n).unwrap_or("");
    if !same_control_number(found, opening) {
        errors.push(segment.error(
            Some(n),
            found,
            format!("\"{opening}\", the control number in {opening_id} of this {what}"),
        ));
    }
}

struct OpenGroup {
    group: FunctionalGroup,
    has_gs: bool,
    started: usize,
}

struct OpenTransaction {
    transaction: Transaction,
}

fn unclosed_transaction(open: &OpenTransaction, at: &Segment, errors: &mut Errors) {
    errors.push(at.error(
        None,
        &at.id,
        format!(
            "an SE segment closing transaction set {} (ST on line {}) first",
            open.transaction.control_number, open.transaction.line
        ),
    ));
}

fn unclosed_group(open: &OpenGroup, at: &Segment, errors: &mut Errors) {
    errors.push(at.error(
        None,
        &at.id,
        format!(
            "a GE segment closing functional group {} (GS on line {}) first",
            open.group.control_number, open.group.line
        ),
    ));
}

fn close_group(open: OpenGroup, ge: &Segment, errors: &mut Errors) -> FunctionalGroup {
    check_count(
        ge,
        1,
        open.started,
        "transaction sets (ST segments) in this group",
        errors,
    );
    if open.has_gs {
        check_control(ge, 2, &open.group.control_number, "GS06", "group", errors);
    }
    open.group
}

/// Builds the envelope tree of one tokenized interchange, reporting every count or
/// control-number mismatch and every segment out of place.
pub(crate) fn build(raw: RawInterchange, errors: &mut Errors) -> Interchange {
    let RawInterchange {
        separators,
        segments,
        end,
    } = raw;
    let mut segments = segments.into_iter();
    let isa = segments.next();
    let mut interchange = Interchange {
        separators,
        sender_qualifier: String::new(),
        sender_id: String::new(),
        receiver_qualifier: String::new(),
        receiver_id: String::new(),
        date: String::new(),
        time: String::new(),
        version: String::new(),
        control_number: String::new(),
        usage_indicator: String::new(),
        groups: Vec::new(),
        line: 1,
    };
    let Some(isa) = isa else {
        return interchange;
    };
    if isa.element_count() != 16 {
        errors.push(isa.error(
            None,
            &format!("{} elements", isa.element_count()),
            "16 elements in the ISA segment",
        ));
    }
    interchange.sender_qualifier = text(&isa, 5);
    interchange.sender_id = text(&isa, 6);
    interchange.receiver_qualifier = text(&isa, 7);
    interchange.receiver_id = text(&isa, 8);
    interchange.date = text(&isa, 9);
    interchange.time = text(&isa, 10);
    interchange.version = text(&isa, 12);
    interchange.control_number = text(&isa, 13);
    interchange.usage_indicator = text(&isa, 15);
    interchange.line = isa.line;
    if !interchange
        .control_number
        .bytes()
        .all(|b| b.is_ascii_digit())
        || interchange.control_number.is_empty()
    {
        errors.push(isa.error(
            Some(13),
            &interchange.control_number,
            "a numeric interchange control number in ISA13",
        ));
    }

    let mut group: Option<OpenGroup> = None;
    let mut transaction: Option<OpenTransaction> = None;
    let mut groups_started = 0usize;
    let mut closed = false;
    let mut last_number = isa.number;

    for segment in segments {
        last_number = segment.number;
        match segment.id.as_str() {
            "GS" => {
                if let Some(open) = transaction.take() {
                    unclosed_transaction(&open, &segment, errors);
                }
                if let Some(open) = group.take() {
                    unclosed_group(&open, &segment, errors);
                    interchange.groups.push(open.group);
                }
                groups_started += 1;
                group = Some(OpenGroup {
                    group: FunctionalGroup {
                        functional_id: text(&segment, 1),
                        sender: text(&segment, 2),
                        receiver: text(&segment, 3),
                        date: text(&segment, 4),
                        control_number: text(&segment, 6),
                        version: text(&segment, 8),
                        transactions: Vec::new(),
                        line: segment.line,
                    },
                    has_gs: true,
                    started: 0,
                });
            }
            "ST" => {
                if let Some(open) = transaction.take() {
                    unclosed_transaction(&open, &segment, errors);
                }
                let open_group = group.get_or_insert_with(|| {
                    errors.push(segment.error(
                        None,
                        "ST",
                        "a GS segment opening a functional group before ST",
                    ));
                    OpenGroup {
                        group: FunctionalGroup {
                            functional_id: String::new(),
                            sender: String::new(),
                            receiver: String::new(),
                            date: String::new(),
                            control_number: String::new(),
                            version: String::new(),
                            transactions: Vec::new(),
                            line: segment.line,
                        },
                        has_gs: false,
                        started: 0,
                    }
                });
                open_group.started += 1;
                if segment.element(2).is_none() {
                    errors.push(segment.error(
                        Some(2),
                        "",
                        "a transaction set control number in ST02",
                    ));
                }
                transaction = Some(OpenTransaction {
                    transaction: Transaction {
                        id: text(&segment, 1),
                        control_number: text(&segment, 2),
                        line: segment.line,
                        segments: vec![segment],
                    },
                });
            }
            "SE" => match transaction.take() {
                Some(mut open) => {
                    let included = open.transaction.segments.len() + 1;
                    check_count(
                        &segment,
                        1,
                        included,
                        "segments from ST to SE inclusive",
                        errors,
                    );
                    check_control(
                        &segment,
                        2,
                        &open.transaction.control_number,
                        "ST02",
                        "transaction set",
                        errors,
                    );
                    open.transaction.segments.push(segment);
                    if let Some(open_group) = group.as_mut() {
                        open_group.group.transactions.push(open.transaction);
                    }
                }
                None => errors.push(segment.error(
                    None,
                    "SE",
                    "an ST segment opening a transaction set before SE",
                )),
            },
            "GE" => {
                if let Some(open) = transaction.take() {
                    unclosed_transaction(&open, &segment, errors);
                }
                match group.take() {
                    Some(open) => {
                        let closed_group = close_group(open, &segment, errors);
                        interchange.groups.push(closed_group);
                    }
                    None => errors.push(segment.error(
                        None,
                        "GE",
                        "a GS segment opening a functional group before GE",
                    )),
                }
            }
            "IEA" => {
                if let Some(open) = transaction.take() {
                    unclosed_transaction(&open, &segment, errors);
                }
                // A group with no GS was already said to lack it: its missing GE, and
                // the IEA's count of groups that counts it, are the same mistake.
                let mut implied = 0;
                if let Some(open) = group.take() {
                    if open.has_gs {
                        unclosed_group(&open, &segment, errors);
                    } else {
                        implied = 1;
                    }
                    interchange.groups.push(open.group);
                }
                check_count(
                    &segment,
                    1,
                    groups_started + implied,
                    "functional groups (GS segments) in this interchange",
                    errors,
                );
                check_control(
                    &segment,
                    2,
                    &interchange.control_number,
                    "ISA13",
                    "interchange",
                    errors,
                );
                closed = true;
            }
            "ISA" => errors.push(segment.error(
                None,
                "ISA",
                format!(
                    "an IEA segment closing interchange {} before another ISA",
                    interchange.control_number
                ),
            )),
            _ => match transaction.as_mut() {
                Some(open) => open.transaction.segments.push(segment),
                None => errors.push(segment.error(
                    None,
                    &segment.id,
                    "an ST segment first: data segments belong inside a transaction set",
                )),
            },
        }
    }

    if !closed {
        let (line, column) = end;
        let segment = last_number;
        let at_end = |expected: String| X12Error {
            line,
            column,
            segment,
            segment_id: String::new(),
            element: None,
            found: String::new(),
            expected,
        };
        if let Some(open) = transaction.take() {
            errors.push(at_end(format!(
                "an SE segment closing transaction set {} (ST on line {}) before the end of the data",
                open.transaction.control_number, open.transaction.line
            )));
        }
        if let Some(open) = group.take() {
            if open.has_gs {
                errors.push(at_end(format!(
                    "a GE segment closing functional group {} (GS on line {}) before the end of the data",
                    open.group.control_number, open.group.line
                )));
            }
            interchange.groups.push(open.group);
        }
        errors.push(at_end(format!(
            "an IEA segment closing interchange {} (ISA on line {}) before the end of the data",
            interchange.control_number, interchange.line
        )));
    }
    interchange
}

#[cfg(test)]
mod tests {
    use super::same_control_number;

    #[test]
    fn control_numbers_compare_numerically_when_numeric() {
        assert!(same_control_number("000000001", "1"));
        assert!(same_control_number("0001", "0001"));
        assert!(same_control_number("A12", "A12"));
        assert!(!same_control_number("0001", "0002"));
        assert!(!same_control_number("A12", "A012"));
        assert!(!same_control_number("", "0"));
    }
}
