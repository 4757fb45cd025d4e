//! Tokenizer: finds the separators in each ISA header and cuts the bytes into
//! segments and elements, remembering where every piece came from.

use crate::error::{clip, Errors, X12Error};

/// The delimiters declared by one interchange's ISA header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Separators {
    /// Separates elements; the byte right after `ISA`.
    pub element: u8,
    /// Separates components of a composite element; the value of ISA16.
    pub component: u8,
    /// Ends a segment; the byte right after ISA16.
    pub segment: u8,
    /// Separates repeats of an element (ISA11, version 00402 and later), if declared.
    pub repetition: Option<u8>,
}

/// One segment: its tag, its elements, and where it sits in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The segment tag, e.g. `"LIN"`.
    pub id: String,
    /// The elements after the tag: `elements[0]` is element 01. Bytes that are not
    /// UTF-8 are replaced by U+FFFD.
    pub elements: Vec<String>,
    /// 1-based ordinal of the segment in the whole input.
    pub number: usize,
    /// 1-based line of the segment's first byte.
    pub line: usize,
    /// 1-based byte column of the segment's first byte.
    pub column: usize,
    /// (line, column) of each element, parallel to `elements`.
    element_positions: Vec<(usize, usize)>,
    /// (line, column) just past the segment's last element.
    end_position: (usize, usize),
    component_separator: u8,
}

impl Segment {
    /// Element `n` (1-based) with surrounding spaces trimmed, or `None` if it is
    /// absent or blank.
    pub fn element(&self, n: usize) -> Option<&str> {
        self.raw_element(n)
            .map(|text| text.trim_matches(' '))
            .filter(|text| !text.is_empty())
    }

    /// Element `n` (1-based) exactly as written, or `None` if the segment is shorter.
    pub fn raw_element(&self, n: usize) -> Option<&str> {
        n.checked_sub(1)
            .and_then(|i| self.elements.get(i))
            .map(String::as_str)
    }

    /// The components of composite element `n` (1-based), trimmed; empty if absent.
    pub fn components(&self, n: usize) -> Vec<&str> {
        let Some(text) = self.raw_element(n) else {
            return Vec::new();
        };
        if self.component_separator.is_ascii() {
            text.split(char::from(self.component_separator))
                .map(|part| part.trim_matches(' '))
                .collect()
        } else {
            vec![text.trim_matches(' ')]
        }
    }

    /// Number of elements after the tag.
    pub fn element_count(&self) -> usize {
        self.elements.len()
    }

    /// (line, column) of element `n` (just past the segment's end if the segment
    /// stops before it), or of the segment itself.
    pub(crate) fn position(&self, element: Option<usize>) -> (usize, usize) {
        match element.and_then(|n| n.checked_sub(1)) {
            Some(i) => self
                .element_positions
                .get(i)
                .copied()
                .unwrap_or(self.end_position),
            None => (self.line, self.column),
        }
    }

    /// An error about this segment (or one of its elements).
    pub(crate) fn error(
        &self,
        element: Option<usize>,
        found: &str,
        expected: impl Into<String>,
    ) -> X12Error {
        let (line, column) = self.position(element);
        X12Error {
            line,
            column,
            segment: self.number,
            segment_id: clip(&self.id, 8),
            element,
            found: clip(found, 60),
            expected: expected.into(),
        }
    }
}

/// Maps byte offsets to 1-based (line, column).
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(bytes: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    pub(crate) fn locate(&self, offset: usize) -> (usize, usize) {
        let index = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(index).copied().unwrap_or(0);
        (index + 1, offset.saturating_sub(start) + 1)
    }
}

/// The segments of one interchange, ISA first, as cut from the input.
pub(crate) struct RawInterchange {
    pub(crate) separators: Separators,
    pub(crate) segments: Vec<Segment>,
    /// Where the data ended if the interchange was not closed by IEA.
    pub(crate) end: (usize, usize),
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn is_filler(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0)
}

/// Skips line breaks and blanks between segments, unless they are separators.
fn skip_filler(bytes: &[u8], mut pos: usize, separators: Option<&Separators>) -> usize {
    while let Some(&b) = bytes.get(pos) {
        let is_separator = separators.is_some_and(|s| b == s.element || b == s.segment);
        if !is_filler(b) || is_separator {
            break;
        }
        pos += 1;
    }
    pos
}

fn starts_with_isa(bytes: &[u8], pos: usize) -> bool {
    bytes.get(pos..pos + 3) == Some(b"ISA".as_slice())
        && bytes
            .get(pos + 3)
            .is_some_and(|b| !b.is_ascii_alphanumeric())
}

/// A short printable excerpt of the input at `pos`, for error messages.
fn preview(bytes: &[u8], pos: usize) -> String {
    let rest = bytes.get(pos..).unwrap_or(&[]);
    let end = rest
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(rest.len())
        .min(24);
    String::from_utf8_lossy(rest.get(..end).unwrap_or(&[])).into_owned()
}

fn separator_name(b: u8) -> String {
    match b {
        b'\n' => "a line feed".to_string(),
        b'\r' => "a carriage return".to_string(),
        b' ' => "a space".to_string(),
        b if b.is_ascii_graphic() => format!("'{}'", char::from(b)),
        b => format!("byte 0x{b:02X}"),
    }
}

/// Finds the separators of the ISA starting at `start`: the element separator is the
/// byte after `ISA`, ISA16 (the byte after the 16th element separator) is the
/// component separator and the byte after it the segment terminator. Works for the
/// fixed-width 106-byte header and for unpadded headers alike.
fn detect_separators(bytes: &[u8], start: usize) -> Result<Separators, (usize, String, String)> {
    let element = match bytes.get(start + 3) {
        Some(&b) => b,
        None => {
            return Err((
                bytes.len(),
                String::new(),
                "an element separator after ISA".into(),
            ))
        }
    };
    if element.is_ascii_alphanumeric() || is_filler(element) {
        return Err((
            start + 3,
            separator_name(element),
            "an element separator (such as '*') right after ISA".into(),
        ));
    }
    let sixteenth = bytes
        .iter()
        .enumerate()
        .skip(start + 3)
        .filter(|(_, &b)| b == element)
        .nth(15)
        .map(|(i, _)| i);
    let Some(sixteenth) = sixteenth else {
        return Err((
            bytes.len(),
            String::new(),
            "16 ISA elements followed by the component separator and segment terminator".into(),
        ));
    };
    let (Some(&component), Some(&segment)) = (bytes.get(sixteenth + 1), bytes.get(sixteenth + 2))
    else {
        return Err((
            bytes.len(),
            String::new(),
            "the component separator (ISA16) and the segment terminator after it".into(),
        ));
    };
    if component == element || component.is_ascii_alphanumeric() || is_filler(component) {
        return Err((
            sixteenth + 1,
            separator_name(component),
            "a component separator in ISA16 (such as '>' or ':') distinct from the element separator".into(),
        ));
    }
    if segment == element || segment == component || segment.is_ascii_alphanumeric() {
        return Err((
            sixteenth + 2,
            separator_name(segment),
            "a segment terminator (such as '~' or a line feed) right after ISA16".into(),
        ));
    }
    // A terminator inside the header means it has fewer than 16 elements.
    if bytes
        .get(start..sixteenth)
        .is_some_and(|isa| isa.contains(&segment))
    {
        let at = bytes
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, &b)| b == segment)
            .map_or(start, |(i, _)| i);
        return Err((
            at,
            separator_name(segment),
            "16 elements in the ISA segment before its terminator".into(),
        ));
    }
    Ok(Separators {
        element,
        component,
        segment,
        repetition: None,
    })
}

fn is_segment_id(id: &str) -> bool {
    let b = id.as_bytes();
    (2..=3).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_uppercase)
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn build_segment(
    bytes: &[u8],
    start: usize,
    end: usize,
    separators: &Separators,
    number: usize,
    index: &LineIndex,
) -> Segment {
    let content = bytes.get(start..end).unwrap_or(&[]);
    let mut pieces = Vec::new();
    let mut piece_start = 0;
    for (i, &b) in content.iter().enumerate() {
        if b == separators.element {
            pieces.push((piece_start, i));
            piece_start = i + 1;
        }
    }
    pieces.push((piece_start, content.len()));
    let text = |(a, b): (usize, usize)| {
        String::from_utf8_lossy(content.get(a..b).unwrap_or(&[])).into_owned()
    };
    let mut iter = pieces.into_iter();
    let id = iter.next().map(text).unwrap_or_default();
    let mut elements = Vec::new();
    let mut element_positions = Vec::new();
    for piece in iter {
        element_positions.push(index.locate(start + piece.0));
        elements.push(text(piece));
    }
    let (line, column) = index.locate(start);
    Segment {
        id,
        elements,
        number,
        line,
        column,
        element_positions,
        end_position: index.locate(end),
        component_separator: separators.component,
    }
}

/// Cuts one interchange starting at the ISA at `start`. Stops after IEA, before a new
/// ISA, or at the end of the input. Returns the interchange and where to go on.
fn tokenize_interchange(
    bytes: &[u8],
    start: usize,
    mut separators: Separators,
    index: &LineIndex,
    segment_number: &mut usize,
    errors: &mut Errors,
) -> (RawInterchange, usize) {
    let mut segments: Vec<Segment> = Vec::new();
    let mut pos = start;
    loop {
        pos = skip_filler(bytes, pos, Some(&separators));
        if pos >= bytes.len() || (!segments.is_empty() && starts_with_isa(bytes, pos)) {
            break;
        }
        let end = bytes
            .iter()
            .enumerate()
            .skip(pos)
            .find(|(_, &b)| b == separators.segment)
            .map_or(bytes.len(), |(i, _)| i);
        let mut content_end = end;
        while content_end > pos
            && bytes
                .get(content_end - 1)
                .is_some_and(|&b| (b == b'\r' || b == b'\n') && b != separators.element)
        {
            content_end -= 1;
        }
        let next = end.saturating_add(1);
        if content_end > pos {
            *segment_number += 1;
            let segment =
                build_segment(bytes, pos, content_end, &separators, *segment_number, index);
            if segments.is_empty() {
                // ISA11 is the repetition separator from version 00402 on.
                if let Some(rep) = segment.raw_element(11) {
                    let b = rep.as_bytes();
                    if let [r] = b {
                        if !r.is_ascii_alphanumeric()
                            && *r != separators.element
                            && *r != separators.component
                            && *r != separators.segment
                        {
                            separators.repetition = Some(*r);
                        }
                    }
                }
            }
            if !is_segment_id(&segment.id) {
                let id = segment.id.clone();
                let mut error = segment.error(
                    None,
                    &id,
                    "a segment identifier of 2 or 3 capital letters or digits",
                );
                error.segment_id = String::new();
                errors.push(error);
            }
            let is_iea = segment.id == "IEA";
            segments.push(segment);
            if is_iea {
                return (
                    RawInterchange {
                        separators,
                        segments,
                        end: index.locate(bytes.len()),
                    },
                    next,
                );
            }
        }
        pos = next;
    }
    (
        RawInterchange {
            separators,
            segments,
            end: index.locate(pos.min(bytes.len())),
        },
        pos,
    )
}

/// Cuts the whole input into interchanges. Problems that stop tokenizing (no ISA,
/// unusable separators, junk between interchanges) are reported and end the scan.
pub(crate) fn tokenize(bytes: &[u8], errors: &mut Errors) -> Vec<RawInterchange> {
    let index = LineIndex::new(bytes);
    let mut pos = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    let mut segment_number = 0;
    let mut interchanges = Vec::new();
    let located = |offset: usize, segment: usize, found: String, expected: String| {
        let (line, column) = index.locate(offset);
        X12Error {
            line,
            column,
            segment,
            segment_id: String::new(),
            element: None,
            found: clip(&found, 60),
            expected,
        }
    };
    loop {
        pos = skip_filler(bytes, pos, None);
        if pos >= bytes.len() {
            break;
        }
        if !starts_with_isa(bytes, pos) {
            let expected = if interchanges.is_empty() {
                "an ISA interchange header at the start of the data"
            } else {
                "an ISA segment starting another interchange, or the end of the data"
            };
            errors.push(located(
                pos,
                segment_number,
                preview(bytes, pos),
                expected.into(),
            ));
            break;
        }
        match detect_separators(bytes, pos) {
            Err((offset, found, expected)) => {
                errors.push(located(offset, segment_number + 1, found, expected));
                break;
            }
            Ok(separators) => {
                let (interchange, next) = tokenize_interchange(
                    bytes,
                    pos,
                    separators,
                    &index,
                    &mut segment_number,
                    errors,
                );
                interchanges.push(interchange);
                pos = next;
            }
        }
    }
    if interchanges.is_empty() && errors.is_empty() {
        errors.push(located(
            pos.min(bytes.len()),
            0,
            String::new(),
            "an ISA interchange header".into(),
        ));
    }
    interchanges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_locates_offsets() {
        let index = LineIndex::new(b"ab\ncd\n\nx");
        assert_eq!(index.locate(0), (1, 1));
        assert_eq!(index.locate(1), (1, 2));
        assert_eq!(index.locate(3), (2, 1));
        assert_eq!(index.locate(6), (3, 1));
        assert_eq!(index.locate(7), (4, 1));
        assert_eq!(index.locate(100), (4, 94));
    }

    #[test]
    fn separators_of_padded_and_unpadded_headers() {
        let padded = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240105*1200*U*00401*000000001*0*P*>~";
        assert_eq!(padded.len(), 106);
        let s = detect_separators(padded, 0).ok();
        assert_eq!(
            s.map(|s| (s.element, s.component, s.segment)),
            Some((b'*', b'>', b'~'))
        );
        let unpadded = b"ISA|00||00||ZZ|S|ZZ|R|240105|1200|^|00501|1|0|T|:\nGS";
        let s = detect_separators(unpadded, 0).ok();
        assert_eq!(
            s.map(|s| (s.element, s.component, s.segment)),
            Some((b'|', b':', b'\n'))
        );
    }

    #[test]
    fn rejects_headers_without_sixteen_elements() {
        assert!(detect_separators(b"ISA*00*~GS*PD~", 0).is_err());
        assert!(detect_separators(b"ISA", 0).is_err());
        assert!(detect_separators(b"ISAX00", 0).is_err());
    }
}
