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

#[cfg(test)]
mod tests {
    use super::*;

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
