//! The sales line parser: bytes of one line → a [`SaleLine`], by hand, no allocation.
//!
//! The columns are found by name in the header (any order, extra columns ignored).
//! Values are written exactly: no surrounding spaces, no quotes, no thousands
//! separators.

use crate::error::InputError;
use std::borrow::Cow;

/// What a column of the sales file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Upc,
    Month,
    Units,
    Net,
    Currency,
    Ignored,
}

/// The header's column names, in the names the file format documents.
const COLUMNS: [(&str, Role); 5] = [
    ("upc", Role::Upc),
    ("sale_month", Role::Month),
    ("units", Role::Units),
    ("net", Role::Net),
    ("currency", Role::Currency),
];

/// The columns of a sales file, from its header.
#[derive(Debug, Clone)]
pub struct Layout {
    roles: Vec<Role>,
    names: Vec<String>,
}

/// The column roles of the canonical sales file, which [`parse_canonical`] reads.
const CANONICAL: [Role; 7] = [
    Role::Month,
    Role::Ignored,
    Role::Ignored,
    Role::Upc,
    Role::Units,
    Role::Net,
    Role::Currency,
];

impl Layout {
    /// Reads the header line (without its line ending; a UTF-8 byte-order mark is
    /// allowed). Every required column must appear exactly once.
    pub fn from_header(header: &[u8], file: &str) -> Result<Layout, InputError> {
        let header = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(header);
        let header = header.strip_suffix(b"\r").unwrap_or(header);
        let text = std::str::from_utf8(header)
            .map_err(|_| InputError::new(file, 1, 0, "", header, "a UTF-8 header line"))?;
        let mut roles = Vec::new();
        let mut names = Vec::new();
        for (i, name) in text.split(',').enumerate() {
            let name = name.trim().to_ascii_lowercase();
            let role = COLUMNS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, r)| *r)
                .unwrap_or(Role::Ignored);
            if role != Role::Ignored && roles.contains(&role) {
                return Err(InputError::new(
                    file,
                    1,
                    i + 1,
                    &name,
                    name.as_bytes(),
                    "each column named once in the header",
                ));
            }
            roles.push(role);
            names.push(name);
        }
        for (name, role) in COLUMNS {
            if !roles.contains(&role) {
                return Err(InputError::new(
                    file,
                    1,
                    0,
                    "",
                    header,
                    format!(
                        "a header naming the columns upc, sale_month, units, net and currency (no column {name:?})"
                    ),
                ));
            }
        }
        Ok(Layout { roles, names })
    }

    /// The canonical layout `sale_month,store,territory,upc,units,net,currency`.
    pub fn canonical() -> Layout {
        // The canonical header is valid by construction.
        Layout::from_header(crate::gen::SALES_HEADER.as_bytes(), "")
            .unwrap_or_else(|_| Layout::empty())
    }

    fn empty() -> Layout {
        Layout {
            roles: Vec::new(),
            names: Vec::new(),
        }
    }

    pub fn columns(&self) -> usize {
        self.roles.len()
    }

    /// Whether lines can go through [`parse_canonical`] (the canonical columns, in
    /// order, whatever the ignored two are called).
    pub fn is_canonical(&self) -> bool {
        self.roles == CANONICAL
    }

    /// The 0-based column holding `role`.
    pub fn position(&self, role: Role) -> Option<usize> {
        self.roles.iter().position(|r| *r == role)
    }

    /// The header name of the 0-based column `index`.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map(String::as_str).unwrap_or("")
    }
}

/// One parsed sales line. `net` is the decimal's digits as an integer and
/// `net_places` how many of them are after the point: the currency decides what that
/// is in minor units ([`SaleLine::net_minor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaleLine {
    /// The UPC-A / EAN-13 digits as a number: a UPC-A and its EAN-13 form (leading 0)
    /// are the same number.
    pub upc: u64,
    /// `year × 12 + month − 1`.
    pub month: u32,
    pub units: i64,
    pub net: i64,
    pub net_places: u8,
    pub currency: [u8; 3],
}

/// A problem in one field of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// 0-based column; `None` when the line as a whole is wrong (field count).
    pub column: Option<usize>,
    /// Byte range of the offending text in the line.
    pub start: usize,
    pub end: usize,
    pub expected: Cow<'static, str>,
}

impl FieldError {
    fn field(column: usize, start: usize, end: usize, expected: &'static str) -> FieldError {
        FieldError {
            column: Some(column),
            start,
            end,
            expected: Cow::Borrowed(expected),
        }
    }
}

pub(crate) const UPC_EXPECTED: &str = "a 12-digit UPC-A or 13-digit EAN-13";
pub(crate) const MONTH_EXPECTED: &str = "a month written YYYY-MM, 1900-01 to 2199-12";
pub(crate) const UNITS_EXPECTED: &str =
    "a whole number of units such as 12 or -1, at most 1,000,000,000 either way";
pub(crate) const NET_EXPECTED: &str =
    "an amount such as 12.34 or -0.99 (at most 18 digits, no thousands separators)";
pub(crate) const CURRENCY_EXPECTED: &str = "a three-letter ISO 4217 currency code such as USD";

/// Parses one line (without its `\n`; a trailing `\r` is allowed).
///
/// One pass: each field is parsed where it starts and must end at a `,` (or at the end
/// of the line for the last column); only on a problem is the field re-scanned to name
/// it.
#[inline]
pub fn parse_line(line: &[u8], layout: &Layout) -> Result<SaleLine, FieldError> {
    let mut out = SaleLine::default();
    parse_line_into(line, 0, line.len(), layout, &mut out)?;
    Ok(out)
}

/// [`parse_line`] of the line `buf[start..end]` into `out` (so a batch is filled in
/// place; `out` is partly overwritten on an error). Bytes after `end` (the `\n` and the
/// next lines) may be read eight at a time, never used: every field must end inside
/// the line. Positions in the error are relative to `start`.
#[inline]
pub fn parse_line_into(
    buf: &[u8],
    start: usize,
    end: usize,
    layout: &Layout,
    out: &mut SaleLine,
) -> Result<(), FieldError> {
    let end = end.min(buf.len());
    let start = start.min(end);
    let end = if end > start && buf[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    let ahead = &buf[start..];
    let line = &buf[start..end];
    let len = line.len();
    let mut pos = 0usize;
    let last = layout.roles.len().saturating_sub(1);
    for (col, role) in layout.roles.iter().enumerate() {
        let field_start = pos;
        let ok = match role {
            Role::Upc => {
                let (v, to) = upc_at(ahead, len, pos);
                out.upc = v.unwrap_or(0);
                pos = to;
                v.is_some()
            }
            Role::Month => {
                let v = line.get(pos..pos + 7).and_then(parse_month);
                out.month = v.unwrap_or(0);
                pos += if v.is_some() { 7 } else { 0 };
                v.is_some()
            }
            Role::Units => {
                let (v, to) = units_at(ahead, len, pos);
                out.units = v.unwrap_or(0);
                pos = to;
                v.is_some()
            }
            Role::Net => {
                let (v, to) = net_at(ahead, len, pos);
                if let Some((m, p)) = v {
                    out.net = m;
                    out.net_places = p;
                }
                pos = to;
                v.is_some()
            }
            Role::Currency => match line.get(pos..pos + 3) {
                Some(&[a, b, c]) if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                    out.currency = [a, b, c];
                    pos += 3;
                    true
                }
                _ => false,
            },
            Role::Ignored => {
                pos = comma_at(ahead, len, pos);
                true
            }
        };
        let delimited = if col < last {
            line.get(pos) == Some(&b',')
        } else {
            pos == len
        };
        if !(ok && delimited) {
            return Err(field_problem(line, layout, col, *role, field_start));
        }
        pos += 1;
    }
    Ok(())
}

/// The canonical layout's line at `buf[start..]`, parsed straight through without
/// knowing where it ends: every field must stop at its `,`, and the line at `\n`,
/// `\r\n` or the end of `buf`. Returns the index of the line's `\n` (or `buf.len()`).
///
/// `None` for anything else — blank lines and every problem are then left to
/// [`parse_line_into`], which finds the line's end first and names the problem. A
/// property test checks that what this accepts, [`parse_line`] accepts the same way.
#[inline]
pub fn parse_canonical(buf: &[u8], start: usize, out: &mut SaleLine) -> Option<usize> {
    let b = buf.get(start..)?;
    let len = b.len();
    out.month = month_and_comma(load8(b, 0)?)?;
    let pos = comma_in_line(b, 8)? + 1;
    let pos = comma_in_line(b, pos)? + 1;
    let (upc, pos) = upc_at(b, len, pos);
    out.upc = upc?;
    if b.get(pos) != Some(&b',') {
        return None;
    }
    let (units, pos) = units_at(b, len, pos + 1);
    out.units = units?;
    if b.get(pos) != Some(&b',') {
        return None;
    }
    let (net, pos) = net_at(b, len, pos + 1);
    (out.net, out.net_places) = net?;
    if b.get(pos) != Some(&b',') {
        return None;
    }
    let pos = pos + 1;
    match b.get(pos..pos + 3)? {
        &[c0, c1, c2] if [c0, c1, c2].iter().all(u8::is_ascii_uppercase) => {
            out.currency = [c0, c1, c2]
        }
        _ => return None,
    }
    let pos = pos + 3;
    match b.get(pos..(pos + 2).min(len)) {
        Some([b'\n', ..]) | Some([]) => Some(start + pos),
        Some([b'\r', b'\n']) => Some(start + pos + 1),
        _ => None,
    }
}

/// `YYYY-MM,` as eight bytes → the month key (as [`parse_month`] and a `,`).
#[inline(always)]
fn month_and_comma(w: u64) -> Option<u32> {
    // Digits become 0..=9, and the `-` and `,` in their places become 0.
    let t = w ^ 0x2C30_302D_3030_3030;
    let over9 = (((t & LOW7) + 0x7676_7676_7676_7676) | t) & HIGH;
    if over9 != 0 || t & 0xFF00_00FF_0000_0000 != 0 {
        return None;
    }
    let byte = |i: u32| ((t >> (8 * i)) & 0xFF) as u32;
    let year = byte(0) * 1000 + byte(1) * 100 + byte(2) * 10 + byte(3);
    let month = byte(5) * 10 + byte(6);
    if !(1900..=2199).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    Some(year * 12 + month - 1)
}

/// The `,` ending the field from `pos`, if it comes before the line's end.
#[inline(always)]
fn comma_in_line(b: &[u8], mut pos: usize) -> Option<usize> {
    while let Some(w) = load8(b, pos) {
        // The lowest flagged byte of each mask is exact (borrows only flag bytes above
        // a true one): commas, and control bytes (`\n`, `\r`) that end a line.
        let x = w ^ 0x2C2C_2C2C_2C2C_2C2C;
        let commas = x.wrapping_sub(ONES) & !x & HIGH;
        let controls = w.wrapping_sub(0x2020_2020_2020_2020) & !w & HIGH;
        if commas | controls != 0 {
            return (commas.trailing_zeros() < controls.trailing_zeros())
                .then_some(pos + (commas.trailing_zeros() / 8) as usize);
        }
        pos += 8;
    }
    comma_in_tail(b, pos)
}

#[cold]
fn comma_in_tail(b: &[u8], pos: usize) -> Option<usize> {
    let k = b.get(pos..)?.iter().position(|&c| c == b',' || c < 0x20)?;
    (b[pos + k] == b',').then_some(pos + k)
}

// Eight bytes at a time (SWAR): a `u64` loaded little-endian holds bytes in file order
// from its lowest byte.
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const HIGH: u64 = 0x8080_8080_8080_8080;
const ZEROS: u64 = 0x3030_3030_3030_3030;
const ONES: u64 = 0x0101_0101_0101_0101;

#[inline(always)]
fn load8(buf: &[u8], pos: usize) -> Option<u64> {
    buf.get(pos..pos.checked_add(8)?)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
}

/// `0x80` in each byte of `x` that is zero, `0` elsewhere (exact: no carries).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7) + LOW7) | x) & HIGH
}

/// How many of the bytes of `w`, from the first, are ASCII digits (0–8).
#[inline(always)]
fn leading_digits(w: u64) -> usize {
    let a = w ^ ZEROS; // a digit becomes 0..=9
                       // High bit set in a byte above 9: (a & 0x7F) + 0x76 carries into bit 7 from 10 up,
                       // and a byte ≥ 0x80 has it already; no carry crosses bytes.
    let over9 = (((a & LOW7) + 0x7676_7676_7676_7676) | a) & HIGH;
    (over9.trailing_zeros() / 8) as usize
}

/// The value of the first `n` (1–8) bytes of `w`, all digits.
#[inline(always)]
fn digits_value(w: u64, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n));
    let shift = 64 - 8 * (n as u32).clamp(1, 8);
    // Keep the n digits, move them to the top: the lower bytes become leading zeros.
    let v = ((w ^ ZEROS) & (u64::MAX >> shift)) << shift;
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    ((v & 0x0000_00FF_0000_00FF)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32))))
        >> 32
}

const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// Where the field from `pos` ends: its `,` or the end of the line (`len`).
#[inline(always)]
fn comma_at(ahead: &[u8], len: usize, mut pos: usize) -> usize {
    while pos < len {
        let Some(w) = load8(ahead, pos) else {
            return field_end(&ahead[..len], pos);
        };
        let m = zero_bytes(w ^ 0x2C2C_2C2C_2C2C_2C2C);
        if m != 0 {
            return (pos + (m.trailing_zeros() / 8) as usize).min(len);
        }
        pos += 8;
    }
    len
}

/// An optional sign at `pos`: (negative, where the digits start).
#[inline(always)]
fn sign_at(line: &[u8], pos: usize) -> (bool, usize) {
    match line.get(pos) {
        Some(b'-') => (true, pos + 1),
        Some(b'+') => (false, pos + 1),
        _ => (false, pos),
    }
}

/// Where the field starting at `pos` ends (its `,` or the end of the line).
#[inline]
fn field_end(line: &[u8], pos: usize) -> usize {
    line.get(pos..)
        .and_then(|rest| rest.iter().position(|&b| b == b','))
        .map_or(line.len(), |k| pos + k)
}

/// The problem with the field of `role` starting at `start` (cold path).
#[cold]
fn field_problem(line: &[u8], layout: &Layout, col: usize, role: Role, start: usize) -> FieldError {
    let columns = layout.roles.len();
    let end = field_end(line, start);
    let whole_line = |found: usize| {
        FieldError {
        column: None,
        start: 0,
        end: line.len(),
        expected: Cow::Owned(format!(
            "{columns} comma-separated fields, as in the header (found {found}; quoted fields are not read)"
        )),
    }
    };
    if col + 1 < columns && end == line.len() {
        return whole_line(col + 1);
    }
    if col + 1 == columns && end < line.len() {
        return whole_line(line.iter().filter(|&&b| b == b',').count() + 1);
    }
    let expected = match role {
        Role::Upc => UPC_EXPECTED,
        Role::Month => MONTH_EXPECTED,
        Role::Units => UNITS_EXPECTED,
        Role::Net => NET_EXPECTED,
        Role::Currency | Role::Ignored => CURRENCY_EXPECTED,
    };
    FieldError::field(col, start, end, expected)
}

/// Digits from `pos`: a UPC if there are 12 or 13 of them; and where they stop.
#[inline(always)]
fn upc_at(ahead: &[u8], len: usize, pos: usize) -> (Option<u64>, usize) {
    if let (Some(w1), Some(w2)) = (load8(ahead, pos), load8(ahead, pos + 8)) {
        let n = leading_digits(w2);
        if leading_digits(w1) == 8 && (n == 4 || n == 5) && pos + 8 + n <= len {
            let v = digits_value(w1, 8) * POW10[n] + digits_value(w2, n);
            return (Some(v), pos + 8 + n);
        }
    }
    upc_scalar(&ahead[..len], pos)
}

#[cold]
fn upc_scalar(line: &[u8], mut pos: usize) -> (Option<u64>, usize) {
    let start = pos;
    let mut v = 0u64;
    while let Some(&b) = line.get(pos) {
        let d = b.wrapping_sub(b'0');
        if d > 9 || pos - start == 13 {
            break;
        }
        v = v * 10 + u64::from(d);
        pos += 1;
    }
    let n = pos - start;
    ((n == 12 || n == 13).then_some(v), pos)
}

/// 12 or 13 digits → their value (check digit not verified here: the catalog's codes
/// are, and a line must name one of them).
#[inline]
pub fn parse_upc(field: &[u8]) -> Option<u64> {
    match upc_at(field, field.len(), 0) {
        (v, end) if end == field.len() => v,
        _ => None,
    }
}

/// `YYYY-MM` → `year × 12 + month − 1`.
#[inline]
pub fn parse_month(field: &[u8]) -> Option<u32> {
    let [y0, y1, y2, y3, b'-', m0, m1] = field else {
        return None;
    };
    let mut v = [0u32; 6];
    for (slot, &b) in v.iter_mut().zip([y0, y1, y2, y3, m0, m1]) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        *slot = u32::from(d);
    }
    let year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    let month = v[4] * 10 + v[5];
    if !(1900..=2199).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    Some(year * 12 + month - 1)
}

/// The `YYYY-MM` text of a month key.
pub fn month_text(key: u32) -> String {
    format!("{:04}-{:02}", key / 12, key % 12 + 1)
}

/// Optional sign and 1–10 digits from `pos`, |units| ≤ 10⁹; and where they stop.
#[inline(always)]
fn units_at(ahead: &[u8], len: usize, pos: usize) -> (Option<i64>, usize) {
    let (neg, p) = sign_at(&ahead[..len], pos);
    if let Some(w) = load8(ahead, p) {
        let n = leading_digits(w);
        if (1..=7).contains(&n) && p + n <= len {
            let v = digits_value(w, n) as i64;
            return (Some(if neg { -v } else { v }), p + n);
        }
    }
    units_scalar(&ahead[..len], pos)
}

#[cold]
fn units_scalar(line: &[u8], mut pos: usize) -> (Option<i64>, usize) {
    let neg = match line.get(pos) {
        Some(b'-') => {
            pos += 1;
            true
        }
        Some(b'+') => {
            pos += 1;
            false
        }
        _ => false,
    };
    let start = pos;
    let mut v = 0i64;
    while let Some(&b) = line.get(pos) {
        let d = b.wrapping_sub(b'0');
        if d > 9 || pos - start == 10 {
            break;
        }
        v = v * 10 + i64::from(d);
        pos += 1;
    }
    let ok = pos > start && v <= 1_000_000_000;
    (ok.then_some(if neg { -v } else { v }), pos)
}

/// Optional sign, 1–10 digits, |units| ≤ 10⁹.
#[inline]
pub fn parse_units(field: &[u8]) -> Option<i64> {
    match units_at(field, field.len(), 0) {
        (v, end) if end == field.len() => v,
        _ => None,
    }
}

/// Optional sign, digits, optional `.` and digits (at least one digit in all, at most
/// 18) from `pos` → (the digits as an integer, signed; how many after the point), and
/// where they stop.
#[inline(always)]
fn net_at(ahead: &[u8], len: usize, pos: usize) -> (Option<(i64, u8)>, usize) {
    let (neg, p) = sign_at(&ahead[..len], pos);
    if let Some(w) = load8(ahead, p) {
        let n = leading_digits(w);
        let int = |n: usize| if n == 0 { 0 } else { digits_value(w, n) };
        if n < 8 && p + n < len && (w >> (8 * n)) as u8 == b'.' {
            if n <= 6 {
                // The fraction ends inside the same eight bytes (`12.34,EU`): drop the
                // point and read all the digits at once.
                let f = leading_digits(w >> (8 * (n + 1)));
                let to = p + n + 1 + f;
                if n + 1 + f < 8 && n + f >= 1 && to <= len {
                    let low = (1u64 << (8 * n)) - 1;
                    let digits = (w & low) | ((w >> 8) & !low);
                    let v = digits_value(digits, n + f) as i64;
                    return (Some((if neg { -v } else { v }, f as u8)), to);
                }
            }
            if let Some(w2) = load8(ahead, p + n + 1) {
                let f = leading_digits(w2);
                let to = p + n + 1 + f;
                if f < 8 && n + f >= 1 && to <= len {
                    let frac = if f == 0 { 0 } else { digits_value(w2, f) };
                    let v = (int(n) * POW10[f] + frac) as i64;
                    return (Some((if neg { -v } else { v }, f as u8)), to);
                }
            }
        } else if (1..8).contains(&n) && p + n <= len {
            let v = int(n) as i64;
            return (Some((if neg { -v } else { v }, 0)), p + n);
        }
    }
    net_scalar(&ahead[..len], pos)
}

#[cold]
fn net_scalar(line: &[u8], mut pos: usize) -> (Option<(i64, u8)>, usize) {
    let neg = match line.get(pos) {
        Some(b'-') => {
            pos += 1;
            true
        }
        Some(b'+') => {
            pos += 1;
            false
        }
        _ => false,
    };
    let mut v = 0i64;
    let mut count = 0u32;
    let mut places: Option<u8> = None;
    while let Some(&b) = line.get(pos) {
        if b == b'.' {
            if places.is_some() {
                return (None, pos);
            }
            places = Some(0);
            pos += 1;
            continue;
        }
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        count += 1;
        if count > 18 {
            return (None, pos);
        }
        v = v * 10 + i64::from(d);
        if let Some(p) = places.as_mut() {
            *p += 1;
        }
        pos += 1;
    }
    if count == 0 {
        return (None, pos);
    }
    (Some((if neg { -v } else { v }, places.unwrap_or(0))), pos)
}

/// Optional sign, digits, optional `.` and digits (at least one digit in all, at most
/// 18) → (the digits as an integer, signed; how many after the point).
#[inline]
pub fn parse_net(field: &[u8]) -> Option<(i64, u8)> {
    match net_at(field, field.len(), 0) {
        (v, end) if end == field.len() => v,
        _ => None,
    }
}

/// The amount in minor units of a currency with `exponent` decimals: more places than
/// the currency has are accepted only when they are zeros (`1.230` USD), as
/// `Money::parse` does — parsing never rounds.
#[inline(always)]
pub fn net_minor(net: i64, places: u8, exponent: u8) -> Option<i64> {
    if places == exponent {
        return Some(net);
    }
    if places < exponent {
        return 10i64
            .checked_pow(u32::from(exponent - places))
            .and_then(|m| net.checked_mul(m));
    }
    let div = 10i64.checked_pow(u32::from(places - exponent))?;
    if net % div == 0 {
        Some(net / div)
    } else {
        None
    }
}

impl SaleLine {
    /// The net amount in minor units of a currency with `exponent` decimals.
    #[inline(always)]
    pub fn net_minor(&self, exponent: u8) -> Option<i64> {
        net_minor(self.net, self.net_places, exponent)
    }
}

/// `net × ppm / 10⁶` rounded half to even: the same as
/// `Money::apply_rate(rate, Rounding::HalfEven)` (proved by a property test), in
/// `i64` when the product fits and `i128` otherwise. `None` if the result leaves `i64`.
#[inline]
pub fn royalty(net: i64, ppm: u32) -> Option<i64> {
    const ONE: i64 = 1_000_000;
    // |net| < 2³³ and ppm ≤ 10⁹ < 2³⁰: |net × ppm| < 2⁶³.
    if net.unsigned_abs() < (1u64 << 33) {
        let p = net * i64::from(ppm);
        let a = p.unsigned_abs();
        let q = a / ONE as u64;
        let r = a % ONE as u64;
        let up = r > (ONE as u64) / 2 || (r == (ONE as u64) / 2 && q % 2 == 1);
        let m = (q + u64::from(up)) as i64;
        Some(if p < 0 { -m } else { m })
    } else {
        let v = backstock_domain::Rounding::HalfEven
            .divide(i128::from(net) * i128::from(ppm), i128::from(ONE));
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backstock_domain::{Currency, Money, Rate, Rounding};
    use proptest::prelude::*;

    fn layout() -> Layout {
        Layout::canonical()
    }

    #[test]
    fn parses_a_canonical_line() {
        let l = parse_line(b"2016-03,spotify,US,190000000019,1234,4.94,USD", &layout()).unwrap();
        assert_eq!(l.upc, 190_000_000_019);
        assert_eq!(month_text(l.month), "2016-03");
        assert_eq!(l.units, 1234);
        assert_eq!((l.net, l.net_places), (494, 2));
        assert_eq!(&l.currency, b"USD");
        let r = parse_line(b"2016-12,apple,GB,0190000000019,-1,-0.62,GBP\r", &layout()).unwrap();
        assert_eq!(r.upc, 190_000_000_019);
        assert_eq!((r.units, r.net), (-1, -62));
    }

    #[test]
    fn header_in_any_order_with_extra_columns() {
        let l = Layout::from_header(
            b"\xEF\xBB\xBFNet,Currency,isrc,UPC,units,sale_month\r",
            "s.csv",
        )
        .unwrap();
        let line = parse_line(b"1.5,EUR,USX,190000000019,3,2016-01", &l).unwrap();
        assert_eq!((line.net, line.net_places, line.units), (15, 1, 3));
        assert_eq!(line.net_minor(2), Some(150));
        let e = Layout::from_header(b"upc,sale_month,units,net", "s.csv").unwrap_err();
        assert!(e.expected.contains("currency"), "{e}");
        let e = Layout::from_header(b"upc,upc,sale_month,units,net,currency", "s.csv").unwrap_err();
        assert_eq!(e.column, 2);
    }

    #[test]
    fn each_bad_field_is_named() {
        let l = layout();
        let cases: [(&[u8], Option<usize>, &str); 10] = [
            (b"2016-13,s,US,190000000019,1,1.00,USD", Some(0), "2016-13"),
            (
                b"2016-01,s,US,19000000001,1,1.00,USD",
                Some(3),
                "19000000001",
            ),
            (
                b"2016-01,s,US,19000000001x9,1,1.00,USD",
                Some(3),
                "19000000001x9",
            ),
            (b"2016-01,s,US,190000000019,1.5,1.00,USD", Some(4), "1.5"),
            (
                b"2016-01,s,US,190000000019,1000000001,1.00,USD",
                Some(4),
                "1000000001",
            ),
            (b"2016-01,s,US,190000000019,1,1,000.00,USD", None, ""),
            (b"2016-01,s,US,190000000019,1,1.0.0,USD", Some(5), "1.0.0"),
            (b"2016-01,s,US,190000000019,1,,USD", Some(5), ""),
            (b"2016-01,s,US,190000000019,1,1.00,usd", Some(6), "usd"),
            (b"2016-01,s,US,190000000019,1,1.00", None, ""),
        ];
        for (line, column, found) in cases {
            let e = parse_line(line, &l).unwrap_err();
            assert_eq!(e.column, column, "{}", String::from_utf8_lossy(line));
            if column.is_some() {
                assert_eq!(&line[e.start..e.end], found.as_bytes());
            }
        }
    }

    #[test]
    fn royalty_half_even_ties_and_signs() {
        assert_eq!(royalty(5, 500_000), Some(2)); // 2.5 → 2
        assert_eq!(royalty(15, 500_000), Some(8)); // 7.5 → 8
        assert_eq!(royalty(-15, 500_000), Some(-8));
        assert_eq!(royalty(-5, 500_000), Some(-2));
        assert_eq!(royalty(6, 250_000), Some(2)); // 1.5 → 2
        assert_eq!(royalty(10, 250_000), Some(2)); // 2.5 → 2
        assert_eq!(royalty(i64::MAX, 1_000_000), Some(i64::MAX));
        assert_eq!(royalty(i64::MAX, 2_000_000), None);
    }

    proptest! {
        #[test]
        fn royalty_is_money_apply_rate(net in any::<i64>(), ppm in 0u32..=1_000_000_000) {
            let rate = Rate::from_ppm(ppm).unwrap();
            let expected = Money::from_minor(net, Currency::USD)
                .apply_rate(rate, Rounding::HalfEven)
                .ok()
                .map(|m| m.minor());
            prop_assert_eq!(royalty(net, ppm), expected);
        }

        #[test]
        fn small_royalties_are_money_apply_rate(net in -100_000_000i64..100_000_000, ppm in 0u32..=1_000_000) {
            let rate = Rate::from_ppm(ppm).unwrap();
            let expected = Money::from_minor(net, Currency::USD)
                .apply_rate(rate, Rounding::HalfEven)
                .unwrap()
                .minor();
            prop_assert_eq!(royalty(net, ppm), Some(expected));
        }

        #[test]
        fn net_is_money_parse(text in "[-+]?[0-9]{0,9}(\\.[0-9]{0,5})?") {
            for currency in ["USD", "JPY", "BHD"] {
                let c = Currency::parse(currency).unwrap();
                let ours = parse_net(text.as_bytes())
                    .and_then(|(m, p)| net_minor(m, p, c.exponent()));
                let theirs = Money::parse(&text, c).ok().map(|m| m.minor());
                prop_assert_eq!(ours, theirs, "{} {}", text, currency);
            }
        }

        #[test]
        fn eight_bytes_at_a_time(bytes in proptest::collection::vec(
            prop_oneof![b'0'..=b'9', any::<u8>()], 8)
        ) {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes);
            let w = u64::from_le_bytes(word);
            let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            prop_assert_eq!(leading_digits(w), n);
            for k in 1..=n {
                let expected = bytes[..k].iter().fold(0u64, |v, b| v * 10 + u64::from(b - b'0'));
                prop_assert_eq!(digits_value(w, k), expected);
            }
            let commas = bytes.iter().position(|&b| b == b',').unwrap_or(8);
            prop_assert_eq!(comma_at(&bytes, 8, 0), commas);
            let stop = bytes.iter().position(|&b| b == b',' || b < 0x20);
            prop_assert_eq!(
                comma_in_line(&bytes, 0),
                stop.filter(|&k| bytes[k] == b',')
            );
        }

        #[test]
        fn month_and_comma_is_parse_month(text in "[0-9]{4}[-/][0-9]{2}[,;]|[0-9x,-]{8}") {
            let b = text.as_bytes();
            let mut word = [0u8; 8];
            word.copy_from_slice(b);
            let expected = parse_month(&b[..7]).filter(|_| b[7] == b',');
            prop_assert_eq!(month_and_comma(u64::from_le_bytes(word)), expected);
        }

        /// The eight-at-a-time paths (taken inside a line, with bytes after it) agree
        /// with each field parsed alone (byte at a time).
        #[test]
        fn fields_in_a_line_parse_as_alone(
            upc in "[0-9]{11,14}",
            units in "[-+]?[0-9]{0,11}x?",
            net in "[-+]?[0-9]{0,10}(\\.[0-9]{0,9})?",
            store in "[a-z,]{0,12}",
            tail in "(\r?\n2016-01,spotify,US,190000000015,1,1.00,USD)?",
        ) {
            let text = format!("2016-01,{store},US,{upc},{units},{net},USD{tail}");
            let end = text.find(['\r', '\n']).unwrap_or(text.len());
            let mut out = SaleLine::default();
            let got = parse_line_into(text.as_bytes(), 0, end, &layout(), &mut out);
            let alone = (
                parse_upc(upc.as_bytes()),
                parse_units(units.as_bytes()),
                parse_net(net.as_bytes()),
            );
            match alone {
                (Some(u), Some(n), Some((m, p))) if !store.contains(',') => {
                    prop_assert!(got.is_ok(), "{:?} {:?}", text, got);
                    prop_assert_eq!((out.upc, out.units, out.net, out.net_places), (u, n, m, p));
                }
                _ => prop_assert!(got.is_err(), "{:?} parsed as {:?}", text, out),
            }
        }

        /// What the canonical fast path accepts, the general parser accepts with the
        /// same values; and it finds the same end of line.
        #[test]
        fn canonical_path_agrees(
            line in "(20[0-9]{2}-[01][0-9]|x)?,?[a-z,]{0,9},[A-Z,]{0,3},[0-9]{11,14},[-+]?[0-9.]{0,11},[-+]?[0-9.]{0,12},[A-Za-z]{2,4}\r?",
            next in "(\n[0-9,\n]{0,20})?",
        ) {
            let text = format!("{line}{next}");
            let mut fast = SaleLine::default();
            if let Some(end) = parse_canonical(text.as_bytes(), 0, &mut fast) {
                let expected_end = text.find('\n').unwrap_or(text.len());
                prop_assert_eq!(end, expected_end);
                let slow = parse_line(&text.as_bytes()[..end], &layout());
                prop_assert_eq!(slow, Ok(fast), "{:?}", text);
            }
        }

        #[test]
        fn canonical_path_takes_well_formed_lines(
            upc in 0u64..10_000_000_000_000,
            units in -1_000_000_000i64..=1_000_000_000,
            net in -999_999_999_999i64..999_999_999_999,
            crlf in any::<bool>(),
        ) {
            let sign = if net < 0 { "-" } else { "" };
            let text = format!(
                "2016-07,spotify,GB,{upc:012},{units},{sign}{}.{:02},GBP{}2016-08,",
                net.unsigned_abs() / 100,
                net.unsigned_abs() % 100,
                if crlf { "\r\n" } else { "\n" }
            );
            let mut fast = SaleLine::default();
            let end = parse_canonical(text.as_bytes(), 0, &mut fast);
            prop_assert_eq!(end, text.find('\n'));
            prop_assert_eq!((fast.upc, fast.units, fast.net_minor(2)), (upc, units, Some(net)));
        }

        #[test]
        fn lines_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = parse_line(&bytes, &layout());
        }

        #[test]
        fn near_valid_lines_never_panic(text in "[0-9,.\\-+A-Z]{0,60}") {
            let _ = parse_line(text.as_bytes(), &layout());
        }

        #[test]
        fn written_lines_read_back(
            upc in 0u64..10_000_000_000_000,
            year in 1900u32..=2199,
            month in 1u32..=12,
            units in -1_000_000_000i64..=1_000_000_000,
            net in -999_999_999_999i64..999_999_999_999,
        ) {
            let sign = if net < 0 { "-" } else { "" };
            let text = format!(
                "{year:04}-{month:02},store,US,{upc:013},{units},{sign}{}.{:02},EUR",
                net.unsigned_abs() / 100,
                net.unsigned_abs() % 100
            );
            let l = parse_line(text.as_bytes(), &layout()).unwrap();
            prop_assert_eq!(l.upc, upc);
            prop_assert_eq!(month_text(l.month), format!("{year:04}-{month:02}"));
            prop_assert_eq!(l.units, units);
            prop_assert_eq!(l.net_minor(2), Some(net));
            prop_assert_eq!(&l.currency, b"EUR");
        }
    }
}
