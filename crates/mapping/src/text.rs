//! Turning a CSV file's bytes into text: UTF-8 (BOM or not), UTF-16 (with a BOM) and
//! Windows-1252.

/// The `encoding` hint of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-16 if the file starts with its byte-order mark, else UTF-8 if the bytes
    /// are valid UTF-8, else Windows-1252.
    Auto,
    Utf8,
    Windows1252,
    /// UTF-16, little-endian unless a byte-order mark says otherwise.
    Utf16,
}

impl Encoding {
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Some(Encoding::Auto),
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => {
                Some(Encoding::Windows1252)
            }
            "utf-16" | "utf16" | "utf-16le" | "utf-16be" => Some(Encoding::Utf16),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Encoding::Auto => "auto",
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Utf16 => "utf-16",
        }
    }
}

/// Windows-1252 bytes 0x80–0x9F (the rest of the upper half is Latin-1).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

fn cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9f => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

fn utf16(bytes: &[u8], big_endian: bool) -> String {
    let units = bytes.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Decodes `bytes`; `Err` gives the 1-based line of the first invalid UTF-8 byte.
pub fn decode(bytes: &[u8], hint: Encoding) -> Result<String, u64> {
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        if matches!(hint, Encoding::Auto | Encoding::Utf16) {
            return Ok(utf16(rest, false));
        }
    }
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        if matches!(hint, Encoding::Auto | Encoding::Utf16) {
            return Ok(utf16(rest, true));
        }
    }
    let body = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    match hint {
        Encoding::Utf16 => Ok(utf16(bytes, false)),
        Encoding::Windows1252 => Ok(cp1252(bytes)),
        Encoding::Utf8 => match std::str::from_utf8(body) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => {
                let upto = &body[..e.valid_up_to()];
                let line = upto.iter().filter(|b| **b == b'\n').count() as u64 + 1;
                Err(line)
            }
        },
        Encoding::Auto => match std::str::from_utf8(body) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Ok(cp1252(bytes)),
        },
    }
}

/// The line each CSV record starts on, as an editor numbers lines. (The csv crate
/// numbers a record from where the record before it ended: one too low after a
/// `\r\n`, whose `\n` it reads with the next record, and after blank lines, which it
/// skips; so a CRLF file's lines, or a header under a blank line, were misnumbered.)
/// A line break is `\n`, `\r\n` or a lone `\r`.
pub(crate) struct LineNumbers<'a> {
    text: &'a [u8],
    /// Bytes before this have been counted.
    scanned: usize,
    breaks: u64,
}

impl<'a> LineNumbers<'a> {
    pub(crate) fn new(text: &'a [u8]) -> LineNumbers<'a> {
        LineNumbers {
            text,
            scanned: 0,
            breaks: 0,
        }
    }

    /// The line of the record the csv reader puts at `byte` (offsets asked about never
    /// decrease): line breaks at that offset (the rest of the last terminator, blank
    /// lines) come before the record.
    pub(crate) fn line_at(&mut self, byte: u64) -> u64 {
        let len = self.text.len();
        let mut at = usize::try_from(byte)
            .unwrap_or(len)
            .min(len)
            .max(self.scanned);
        while at < len && matches!(self.text[at], b'\r' | b'\n') {
            at += 1;
        }
        let t = self.text;
        for i in self.scanned..at {
            if t[i] == b'\n' || (t[i] == b'\r' && t.get(i + 1) != Some(&b'\n')) {
                self.breaks += 1;
            }
        }
        self.scanned = at;
        self.breaks + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of each record as the csv reader reads `text`.
    fn lines(text: &str) -> Vec<u64> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut n = LineNumbers::new(text.as_bytes());
        let mut rec = csv::StringRecord::new();
        let mut out = Vec::new();
        while r.read_record(&mut rec).unwrap() {
            out.push(n.line_at(rec.position().unwrap().byte()));
        }
        out
    }

    #[test]
    fn records_are_numbered_by_the_line_they_start_on() {
        assert_eq!(lines("a\nb\nc\n"), [1, 2, 3]);
        assert_eq!(lines("a\r\nb\r\nc\r\n"), [1, 2, 3]);
        assert_eq!(lines("a\n\nb\n\n\nc"), [1, 3, 6]);
        assert_eq!(lines("a\r\n\r\nb\r\n"), [1, 3]);
        assert_eq!(lines("a\rb\rc"), [1, 2, 3]);
        assert_eq!(lines("\"x\ny\",1\r\nz,2\r\n\r\nw,3"), [1, 3, 5]);
    }

    #[test]
    fn decodes() {
        assert_eq!(
            decode(b"\xef\xbb\xbfa,b", Encoding::Auto).as_deref(),
            Ok("a,b")
        );
        assert_eq!(
            decode(b"caf\xe9 \x80", Encoding::Auto).as_deref(),
            Ok("café €")
        );
        assert_eq!(decode(b"a\nb\xff", Encoding::Utf8), Err(2));
        assert_eq!(
            decode(b"\xff\xfea\x00,\x00", Encoding::Auto).as_deref(),
            Ok("a,")
        );
        assert_eq!(decode(b"\xfe\xff\x00a", Encoding::Auto).as_deref(), Ok("a"));
    }
}
