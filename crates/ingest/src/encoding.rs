//! Text encodings: UTF-8 (with or without BOM) and Windows-1252, decoded while
//! streaming.

use std::io::{self, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

impl Encoding {
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => {
                Some(Encoding::Windows1252)
            }
            _ => None,
        }
    }

    /// Guesses from the first bytes of a file: valid UTF-8 (a sequence cut at the end
    /// of the sample is fine) means UTF-8, anything else Windows-1252.
    pub fn sniff(sample: &[u8]) -> Encoding {
        match std::str::from_utf8(sample) {
            Ok(_) => Encoding::Utf8,
            Err(e) if e.error_len().is_none() => Encoding::Utf8,
            Err(_) => Encoding::Windows1252,
        }
    }
}

/// Where a sample that is not UTF-8 as a whole still holds text written in UTF-8: a
/// file pasted together from two exports (`Café` in UTF-8 on one line, `Ñandú` in
/// Windows-1252 on another). Read either way, one of the two would be stored garbled
/// (`CafÃ©`), so the importer refuses it. Returns (line of the UTF-8 text, that text's
/// character, line of the first byte that is not UTF-8). Only sequences that decode to
/// accented letters or typographic punctuation count: in real Windows-1252 text those
/// byte pairs (`Ã©`, `â€™`) do not occur.
pub fn mixed(sample: &[u8]) -> Option<(u64, char, u64)> {
    let bad = match std::str::from_utf8(sample) {
        Ok(_) => return None,
        Err(e) if e.error_len().is_none() => return None,
        Err(e) => e.valid_up_to(),
    };
    let line_of = |at: usize| 1 + sample[..at].iter().filter(|b| **b == b'\n').count() as u64;
    let mut i = 0;
    while i < sample.len() {
        let len = match sample[i] {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => {
                i += 1;
                continue;
            }
        };
        if let Some(c) = sample
            .get(i..i + len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|s| s.chars().next())
        {
            if matches!(u32::from(c), 0xc0..=0xff | 0x2018..=0x2026) {
                return Some((line_of(i), c, line_of(bad)));
            }
        }
        i += 1;
    }
    None
}

/// Windows-1252 bytes 0x80–0x9F (the rest of the upper half is Latin-1).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

pub fn cp1252_char(b: u8) -> char {
    match b {
        0x80..=0x9f => CP1252_HIGH[(b - 0x80) as usize],
        _ => char::from(b),
    }
}

/// A reader that turns Windows-1252 bytes into UTF-8, and drops a leading UTF-8 BOM
/// for UTF-8 input.
pub struct Decoder<R> {
    inner: R,
    encoding: Encoding,
    pending: Vec<u8>,
    pos: usize,
    started: bool,
}

impl<R: Read> Decoder<R> {
    pub fn new(inner: R, encoding: Encoding) -> Decoder<R> {
        Decoder {
            inner,
            encoding,
            pending: Vec::new(),
            pos: 0,
            started: false,
        }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.pending.len() {
            let n = (self.pending.len() - self.pos).min(out.len());
            out[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        match self.encoding {
            Encoding::Utf8 => {
                if !self.started {
                    self.started = true;
                    let mut head = [0u8; 3];
                    let mut got = 0;
                    while got < 3 {
                        let n = self.inner.read(&mut head[got..])?;
                        if n == 0 {
                            break;
                        }
                        got += n;
                    }
                    let skip = if got == 3 && head == [0xef, 0xbb, 0xbf] {
                        3
                    } else {
                        0
                    };
                    self.pending = head[skip..got].to_vec();
                    self.pos = 0;
                    if !self.pending.is_empty() {
                        return self.read(out);
                    }
                }
                self.inner.read(out)
            }
            Encoding::Windows1252 => {
                let mut buf = vec![0u8; out.len().clamp(1, 64 * 1024) / 2 + 1];
                let n = self.inner.read(&mut buf)?;
                if n == 0 {
                    return Ok(0);
                }
                self.pending.clear();
                self.pos = 0;
                for &b in &buf[..n] {
                    if b < 0x80 {
                        self.pending.push(b);
                    } else {
                        let mut tmp = [0u8; 4];
                        self.pending
                            .extend_from_slice(cp1252_char(b).encode_utf8(&mut tmp).as_bytes());
                    }
                }
                self.read(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], enc: Encoding) -> String {
        let mut s = String::new();
        Decoder::new(bytes, enc).read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn bom_and_cp1252() {
        assert_eq!(decode(b"\xef\xbb\xbfsku,upc", Encoding::Utf8), "sku,upc");
        assert_eq!(decode(b"ab", Encoding::Utf8), "ab");
        assert_eq!(decode(b"", Encoding::Utf8), "");
        assert_eq!(
            decode(b"Caf\xe9 \x80 \x93\x96\x94", Encoding::Windows1252),
            "Café € “–”"
        );
        assert_eq!(Encoding::sniff(b"Caf\xe9 au lait"), Encoding::Windows1252);
        assert_eq!(Encoding::sniff("Café".as_bytes()), Encoding::Utf8);
        assert_eq!(Encoding::sniff(&"Café".as_bytes()[..4]), Encoding::Utf8);
    }
}

#[cfg(test)]
mod mixed_tests {
    use super::mixed;

    #[test]
    fn text_in_two_encodings_is_found_and_either_alone_is_not() {
        let both = b"sku,artist\nA,Caf\xc3\xa9 Tacvba\nB,\xd1and\xfa\n";
        assert_eq!(mixed(both), Some((2, '\u{e9}', 3)));
        assert_eq!(mixed(b"sku,artist\nA,Caf\xc3\xa9\n"), None, "all UTF-8");
        assert_eq!(
            mixed(b"sku,artist\nB,\xd1and\xfa\n"),
            None,
            "all Windows-1252"
        );
        // CAF\xc9\x92s is "CAFÉ’s" in Windows-1252, not UTF-8 text.
        assert_eq!(mixed(b"A,CAF\xc9\x92s\n"), None);
    }
}
