//! The statement as a PDF a label can mail: US Letter, DejaVu Sans embedded (a Type 0
//! font with Identity-H encoding and a ToUnicode map, so text can be copied and
//! searched), totals first, then detail; every page numbered "Page n of N".
//!
//! Written by hand (the PDF objects are few and simple); all positions are integer
//! milli-points, so no float arithmetic is involved.

use crate::{
    not_collected_lines_in, payment_lines_in, summary_lines_in, why_collected_differs_in, Checks,
    RoyaltyStatement, Writing,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// The same font, zlib-compressed once when it was added (`zlib.compress(ttf, 9)`) and
/// embedded as is: compressing 740 kB on every statement took most of a PDF's time.
/// A test checks it inflates to exactly [`FONT`].
static FONT_ZLIB: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf.zlib");
const FONT_NAME: &str = "DejaVuSans";

/// Page geometry in milli-points (1/1000 pt): US Letter, 0.75 in margins.
const PAGE_W: i64 = 612_000;
const PAGE_H: i64 = 792_000;
const MARGIN: i64 = 54_000;
const RIGHT: i64 = PAGE_W - MARGIN;
/// Lowest baseline for body text; the footer sits below it.
const BOTTOM: i64 = 72_000;
const FOOTER_Y: i64 = 40_000;

/// A rendered PDF.
pub struct Pdf {
    pub bytes: Vec<u8>,
    pub pages: usize,
}

enum Op {
    Text {
        x: i64,
        y: i64,
        size: i64,
        text: String,
    },
    Rule {
        y: i64,
    },
}

struct Font<'a> {
    face: Option<ttf_parser::Face<'a>>,
    upem: i64,
}

impl Font<'_> {
    fn load() -> Font<'static> {
        let face = ttf_parser::Face::parse(FONT, 0).ok();
        let upem = face
            .as_ref()
            .map(|f| i64::from(f.units_per_em()))
            .unwrap_or(1000)
            .max(1);
        Font { face, upem }
    }
    fn glyph(&self, c: char) -> u16 {
        self.face
            .as_ref()
            .and_then(|f| f.glyph_index(c))
            .map(|g| g.0)
            .unwrap_or(0)
    }
    /// Advance of a glyph in font units.
    fn advance(&self, gid: u16) -> i64 {
        self.face
            .as_ref()
            .and_then(|f| f.glyph_hor_advance(ttf_parser::GlyphId(gid)))
            .map(i64::from)
            .unwrap_or(0)
    }
    /// Width of `text` at `size` points, in milli-points.
    fn width(&self, text: &str, size: i64) -> i64 {
        let units: i64 = text.chars().map(|c| self.advance(self.glyph(c))).sum();
        units * size * 1000 / self.upem
    }
    /// `text` cut (with an ellipsis) to fit `max` milli-points.
    fn fit(&self, text: &str, size: i64, max: i64) -> String {
        if self.width(text, size) <= max {
            return text.to_string();
        }
        let mut s: String = text.to_string();
        while !s.is_empty() && self.width(&format!("{s}…"), size) > max {
            s.pop();
        }
        format!("{}…", s.trim_end())
    }
    /// Words of `text` wrapped to lines of at most `max` milli-points.
    fn wrap(&self, text: &str, size: i64, max: i64) -> Vec<String> {
        let mut lines = Vec::new();
        let mut cur = String::new();
        for w in text.split(' ') {
            let cand = if cur.is_empty() {
                w.to_string()
            } else {
                format!("{cur} {w}")
            };
            if self.width(&cand, size) > max && !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                cur = w.to_string();
            } else {
                cur = cand;
            }
        }
        if !cur.is_empty() {
            lines.push(cur);
        }
        lines
    }
}

struct Layout<'f> {
    font: &'f Font<'f>,
    pages: Vec<Vec<Op>>,
    y: i64,
    /// Printed again at the top of a page the detail table continues on.
    repeat: Option<Vec<(i64, String, bool)>>,
}

const DETAIL_SIZE: i64 = 8;

impl<'f> Layout<'f> {
    fn new(font: &'f Font<'f>) -> Layout<'f> {
        Layout {
            font,
            pages: vec![Vec::new()],
            y: PAGE_H - MARGIN,
            repeat: None,
        }
    }
    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let n = self.pages.len() - 1;
        &mut self.pages[n]
    }
    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = PAGE_H - MARGIN;
        if let Some(cols) = self.repeat.clone() {
            self.row(&cols, DETAIL_SIZE);
            self.rule();
        }
    }
    /// Moves down by a line of `size` points, starting a page if needed.
    fn advance(&mut self, size: i64) {
        let step = size * 1000 * 14 / 10;
        if self.y - step < BOTTOM {
            self.new_page();
        }
        self.y -= step;
    }
    fn text(&mut self, x: i64, size: i64, text: &str) {
        let y = self.y;
        self.page().push(Op::Text {
            x,
            y,
            size,
            text: text.to_string(),
        });
    }
    fn right(&mut self, right: i64, size: i64, text: &str) {
        let x = right - self.font.width(text, size);
        self.text(x, size, text);
    }
    fn line(&mut self, size: i64, text: &str) {
        for l in self.font.wrap(text, size, RIGHT - MARGIN) {
            self.advance(size);
            self.text(MARGIN, size, &l);
        }
    }
    fn gap(&mut self, pts: i64) {
        self.y -= pts * 1000;
        if self.y < BOTTOM {
            self.new_page();
        }
    }
    fn rule(&mut self) {
        let y = self.y - 3_000;
        self.page().push(Op::Rule { y });
        self.y -= 4_000;
    }
    /// A table row: cells at x (left edge, or right edge when `right`).
    fn row(&mut self, cells: &[(i64, String, bool)], size: i64) {
        self.advance(size);
        for (x, t, right) in cells {
            if *right {
                self.right(*x, size, t);
            } else {
                self.text(*x, size, t);
            }
        }
    }
}

/// Detail columns: (x, header, right-aligned, max width for left-aligned text).
const DETAIL_COLS: [(i64, &str, bool, i64); 11] = [
    (MARGIN, "release", false, 84_000),
    (142_000, "SKU", false, 52_000),
    (198_000, "fmt", false, 20_000),
    (220_000, "channel", false, 36_000),
    (258_000, "distributor", false, 62_000),
    (322_000, "rate", false, 70_000),
    (420_000, "sold", true, 0),
    (444_000, "ret.", true, 0),
    (484_000, "receipts", true, 0),
    (526_000, "earned", true, 0),
    (RIGHT, "collected", true, 0),
];

fn layout(st: &RoyaltyStatement, checks: &Checks, font: &Font, w: &Writing) -> Vec<Vec<Op>> {
    let mut l = Layout::new(font);
    l.advance(18);
    l.text(MARGIN, 18, &st.label);
    l.advance(12);
    l.text(MARGIN, 12, "Royalty statement");
    l.right(
        RIGHT,
        10,
        &format!(
            "Period {} ({} to {})",
            st.period,
            w.date(st.period_start),
            w.date(st.period_end)
        ),
    );
    l.advance(10);
    l.right(RIGHT, 10, &format!("Issued {}", w.date(st.issued_on)));
    l.gap(6);
    for t in [&st.payee.name, &st.payee.address, &st.payee.email] {
        if !t.is_empty() {
            l.line(10, t);
        }
    }
    l.line(9, &format!("Payee id: {}", st.payee.id));
    for c in &st.contracts {
        l.gap(10);
        l.line(13, &format!("Contract {} — {}", c.contract_id, c.title));
        l.line(
            9,
            &format!(
                "Your share {} · royalties on the {} basis · amounts in {}",
                c.share, c.basis, c.currency
            ),
        );
        l.rule();
        for (k, v) in summary_lines_in(c, w) {
            let size = if k.starts_with("AMOUNT PAYABLE") {
                11
            } else {
                10
            };
            l.row(&[(MARGIN, k, false), (RIGHT, v, true)], size);
        }
        l.rule();
        l.gap(4);
        l.line(
            11,
            "Earned but not collected: why collected differs from earned",
        );
        for line in font.wrap(&why_collected_differs_in(c, w), 8, RIGHT - MARGIN) {
            l.line(8, &line);
        }
        if !c.notes.is_empty() {
            l.gap(4);
            l.line(11, "Statements counted differently this period");
            for n in &c.notes {
                for line in font.wrap(n, 8, RIGHT - MARGIN) {
                    l.line(8, &line);
                }
            }
        }
        if c.not_collected.is_empty() {
            for s in not_collected_lines_in(c, w) {
                l.line(9, &s);
            }
        }
        if !c.not_collected.is_empty() {
            let cols = |a: String, b: String, x: String, y: String, z: String, w: String| {
                vec![
                    (MARGIN, a, false),
                    (170_000, b, false),
                    (390_000, x, true),
                    (445_000, y, true),
                    (505_000, z, true),
                    (RIGHT, w, true),
                ]
            };
            l.row(
                &cols(
                    "unpaid statement".into(),
                    "distributor".into(),
                    "earned".into(),
                    "collected so far".into(),
                    "not collected".into(),
                    "status".into(),
                ),
                8,
            );
            l.rule();
            for n in &c.not_collected {
                l.row(
                    &cols(
                        font.fit(&n.statement_id, 8, 110_000),
                        font.fit(&n.distributor_name, 8, 150_000),
                        w.amount(n.royalty_earned),
                        w.amount(n.royalty_collected),
                        w.amount(n.royalty_uncollected),
                        if n.settled_short {
                            "deducted".into()
                        } else if n.in_default {
                            "IN DEFAULT".into()
                        } else {
                            "outstanding".into()
                        },
                    ),
                    8,
                );
            }
        }
        if !c.costs.is_empty() {
            l.gap(6);
            l.line(11, "Advances and costs charged");
            let cols = |a: String, b: String, s: String, x: String, y: String| {
                vec![
                    (MARGIN, a, false),
                    (140_000, b, false),
                    (240_000, s, false),
                    (460_000, x, true),
                    (RIGHT, y, true),
                ]
            };
            l.row(
                &cols(
                    "date".into(),
                    "kind".into(),
                    "SKU".into(),
                    "cost".into(),
                    "charged to you".into(),
                ),
                9,
            );
            l.rule();
            for k in &c.costs {
                l.row(
                    &cols(
                        w.date(k.date),
                        k.kind.clone(),
                        k.sku.clone().unwrap_or_else(|| "all releases".into()),
                        w.amount(k.amount),
                        w.amount(k.charged),
                    ),
                    9,
                );
            }
        }
        l.gap(6);
        l.line(11, "Detail by release, format, channel and distributor");
        let header: Vec<(i64, String, bool)> = DETAIL_COLS
            .iter()
            .map(|(x, h, r, _)| (*x, (*h).to_string(), *r))
            .collect();
        l.row(&header, DETAIL_SIZE);
        l.rule();
        l.repeat = Some(header);
        for d in &c.detail {
            let cells: Vec<String> = vec![
                d.release.clone(),
                d.sku.clone(),
                d.format.clone(),
                d.channel.clone(),
                d.distributor_name.clone(),
                checks.rate_of(&c.contract_id, d).to_string(),
                w.units(d.units_sold),
                w.units(d.units_returned),
                w.amount(d.receipts),
                w.amount(d.royalty_earned),
                w.amount(d.royalty_collected),
            ];
            let row: Vec<(i64, String, bool)> = DETAIL_COLS
                .iter()
                .zip(cells)
                .map(|((x, _, r, max), t)| {
                    let t = if *r {
                        t
                    } else {
                        font.fit(&t, DETAIL_SIZE, *max)
                    };
                    (*x, t, *r)
                })
                .collect();
            l.row(&row, DETAIL_SIZE);
        }
        if c.detail.is_empty() {
            l.line(9, "No sales reported this period.");
        }
        l.repeat = None;
    }
    l.gap(10);
    l.line(13, &format!("Paid to you (up to {})", w.date(st.issued_on)));
    let (rows, totals) = payment_lines_in(checks, w);
    if rows.is_empty() {
        l.line(9, "No payments made to you up to the statement date.");
    } else {
        let cols = |a: String, b: String, x: String| {
            vec![(MARGIN, a, false), (140_000, b, false), (RIGHT, x, true)]
        };
        l.row(&cols("date".into(), "reference".into(), "amount".into()), 9);
        l.rule();
        for [d, r, a] in rows {
            l.row(&cols(d, font.fit(&r, 9, 300_000), a), 9);
        }
        l.rule();
        for t in totals {
            l.row(
                &cols(
                    "Total paid".into(),
                    String::new(),
                    format!("{} {}", w.amount(t), t.currency()),
                ),
                10,
            );
        }
    }
    l.pages
}

/// Milli-points as a PDF number.
fn num(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    if a.is_multiple_of(1000) {
        format!("{sign}{}", a / 1000)
    } else {
        format!("{sign}{}.{:03}", a / 1000, a % 1000)
    }
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(bytes);
    z.finish().unwrap_or_default()
}

fn pdf_text(s: &str) -> String {
    // A literal string in PDFDocEncoding-safe ASCII; other characters become '?'.
    let mut o = String::from("(");
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                o.push('\\');
                o.push(c);
            }
            ' '..='~' => o.push(c),
            _ => o.push('?'),
        }
    }
    o.push(')');
    o
}

/// Renders the statement as a PDF.
pub fn to_pdf(st: &RoyaltyStatement) -> Pdf {
    to_pdf_checked(st, &Checks::default())
}

/// Renders the statement as a PDF with the rates and payments of `checks`.
pub fn to_pdf_checked(st: &RoyaltyStatement, checks: &Checks) -> Pdf {
    to_pdf_in(st, checks, &Writing::default())
}

/// [`to_pdf_checked`] with amounts, counts and dates in the label's [`Writing`].
pub fn to_pdf_in(st: &RoyaltyStatement, checks: &Checks, w: &Writing) -> Pdf {
    let font = Font::load();
    let pages = layout(st, checks, &font, w);
    let footer = format!("{} — {} — {}", st.label, st.payee.name, st.period);
    let title = format!("Royalty statement {} {}", st.period, st.payee.name);
    finish(&font, pages, &footer, &title, &st.label)
}

/// A block of a plain document ([`document`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// 16 pt.
    Title(String),
    /// 11 pt, with space above.
    Heading(String),
    /// 9 pt, wrapped.
    Text(String),
    /// 8 pt, wrapped.
    Small(String),
    Rule,
    /// Columns: (x in points from the left margin — the right edge when right-aligned —,
    /// header, right-aligned); rows of cells at 8 pt, the header repeated on each page.
    Table {
        cols: Vec<(i64, String, bool)>,
        rows: Vec<Vec<String>>,
    },
}

/// The blocks as plain text, one line per text line or table row (cells joined by
/// " | "): what the PDF says, for review and snapshot tests.
pub fn document_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Title(t) => out.push_str(&format!("# {t}\n")),
            Block::Heading(t) => out.push_str(&format!("\n## {t}\n")),
            Block::Text(t) | Block::Small(t) => out.push_str(&format!("{t}\n")),
            Block::Rule => out.push_str("---\n"),
            Block::Table { cols, rows } => {
                let h: Vec<&str> = cols.iter().map(|c| c.1.as_str()).collect();
                out.push_str(&format!("{}\n", h.join(" | ")));
                for r in rows {
                    out.push_str(&format!("{}\n", r.join(" | ")));
                }
            }
        }
    }
    out
}

/// A plain document (the claim pack's cover and schedules): US Letter, DejaVu Sans
/// embedded, "Page n of N" with `footer` on every page.
pub fn document(title: &str, author: &str, footer: &str, blocks: &[Block]) -> Pdf {
    let font = Font::load();
    let mut l = Layout::new(&font);
    for b in blocks {
        match b {
            Block::Title(t) => l.line(16, t),
            Block::Heading(t) => {
                l.gap(6);
                l.line(11, t);
            }
            Block::Text(t) => l.line(9, t),
            Block::Small(t) => l.line(8, t),
            Block::Rule => l.rule(),
            Block::Table { cols, rows } => {
                let cells = |r: &[String]| -> Vec<(i64, String, bool)> {
                    cols.iter()
                        .enumerate()
                        .map(|(i, (x, _, right))| {
                            let text = r.get(i).cloned().unwrap_or_default();
                            (MARGIN + x * 1000, text, *right)
                        })
                        .collect()
                };
                let header: Vec<String> = cols.iter().map(|c| c.1.clone()).collect();
                let header = cells(&header);
                l.row(&header, DETAIL_SIZE);
                l.rule();
                l.repeat = Some(header);
                for r in rows {
                    let c = cells(r);
                    l.row(&c, DETAIL_SIZE);
                }
                l.repeat = None;
            }
        }
    }
    finish(&font, l.pages, footer, title, author)
}

/// Footers, fonts, objects: the pages as a PDF file.
fn finish(font: &Font, mut pages: Vec<Vec<Op>>, footer: &str, title: &str, author: &str) -> Pdf {
    let n = pages.len();
    for (i, p) in pages.iter_mut().enumerate() {
        let left = footer;
        p.push(Op::Text {
            x: MARGIN,
            y: FOOTER_Y,
            size: 8,
            text: font.fit(left, 8, 380_000),
        });
        let right = format!("Page {} of {n}", i + 1);
        p.push(Op::Text {
            x: RIGHT - font.width(&right, 8),
            y: FOOTER_Y,
            size: 8,
            text: right,
        });
    }
    // Content streams, collecting the glyphs used.
    let mut used: BTreeMap<u16, char> = BTreeMap::new();
    let mut contents = Vec::with_capacity(n);
    for p in &pages {
        let mut s = String::new();
        for op in p {
            match op {
                Op::Text { x, y, size, text } => {
                    let mut hex = String::with_capacity(text.len() * 4);
                    for c in text.chars() {
                        let g = font.glyph(c);
                        used.entry(g).or_insert(c);
                        let _ = write!(hex, "{g:04X}");
                    }
                    let _ = writeln!(
                        s,
                        "BT /F1 {size} Tf {} {} Td <{hex}> Tj ET",
                        num(*x),
                        num(*y)
                    );
                }
                Op::Rule { y } => {
                    let _ = writeln!(
                        s,
                        "0.5 w {} {} m {} {} l S",
                        num(MARGIN),
                        num(*y),
                        num(RIGHT),
                        num(*y)
                    );
                }
            }
        }
        contents.push(deflate(s.as_bytes()));
    }

    // Objects: 1 catalog, 2 pages, 3 Type0 font, 4 CIDFont, 5 descriptor,
    // 6 font file, 7 ToUnicode, 8 info, then page/content pairs.
    let mut objs: Vec<Vec<u8>> = Vec::new();
    let page_id = |i: usize| 9 + 2 * i;
    objs.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", page_id(i))).collect();
    objs.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    objs.push(format!("<< /Type /Font /Subtype /Type0 /BaseFont /{FONT_NAME} /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 7 0 R >>").into_bytes());
    let scale = |v: i64| v * 1000 / font.upem;
    let mut w = String::new();
    for g in used.keys() {
        let _ = write!(w, "{g} [{}] ", scale(font.advance(*g)));
    }
    objs.push(format!("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{FONT_NAME} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 5 0 R /CIDToGIDMap /Identity /DW 600 /W [{w}] >>").into_bytes());
    let (bbox, ascent, descent, cap) = match &font.face {
        Some(f) => {
            let b = f.global_bounding_box();
            (
                [
                    scale(i64::from(b.x_min)),
                    scale(i64::from(b.y_min)),
                    scale(i64::from(b.x_max)),
                    scale(i64::from(b.y_max)),
                ],
                scale(i64::from(f.ascender())),
                scale(i64::from(f.descender())),
                scale(i64::from(f.capital_height().unwrap_or(f.ascender()))),
            )
        }
        None => ([0, -200, 1000, 900], 900, -200, 700),
    };
    objs.push(format!("<< /Type /FontDescriptor /FontName /{FONT_NAME} /Flags 32 /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {ascent} /Descent {descent} /CapHeight {cap} /StemV 80 /FontFile2 6 0 R >>", bbox[0], bbox[1], bbox[2], bbox[3]).into_bytes());
    let z = FONT_ZLIB;
    let mut ff = format!(
        "<< /Length {} /Length1 {} /Filter /FlateDecode >>\nstream\n",
        z.len(),
        FONT.len()
    )
    .into_bytes();
    ff.extend_from_slice(z);
    ff.extend_from_slice(b"\nendstream");
    objs.push(ff);
    let mut cmap = String::from("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    let pairs: Vec<(&u16, &char)> = used.iter().collect();
    for chunk in pairs.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar", chunk.len());
        for (g, c) in chunk {
            let mut buf = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut buf)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(cmap, "<{g:04X}> <{hex}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let mut cm = format!("<< /Length {} >>\nstream\n", cmap.len()).into_bytes();
    cm.extend_from_slice(cmap.as_bytes());
    cm.extend_from_slice(b"\nendstream");
    objs.push(cm);
    objs.push(
        format!(
            "<< /Title {} /Author {} /Producer (backstock) >>",
            pdf_text(title),
            pdf_text(author)
        )
        .into_bytes(),
    );
    for (i, c) in contents.iter().enumerate() {
        objs.push(format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>", num(PAGE_W), num(PAGE_H), page_id(i) + 1).into_bytes());
        let mut s =
            format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", c.len()).into_bytes();
        s.extend_from_slice(c);
        s.extend_from_slice(b"\nendstream");
        objs.push(s);
    }
    let mut out: Vec<u8> = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objs.len());
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    let mut x = format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1);
    for o in offsets {
        let _ = writeln!(x, "{o:010} 00000 n ");
    }
    let _ = write!(
        x,
        "trailer\n<< /Size {} /Root 1 0 R /Info 8 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objs.len() + 1
    );
    out.extend_from_slice(x.as_bytes());
    Pdf {
        bytes: out,
        pages: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::statement;
    use crate::DateOrder;

    #[test]
    fn the_embedded_compressed_font_is_the_font() {
        use std::io::Read as _;
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(FONT_ZLIB)
            .read_to_end(&mut out)
            .unwrap();
        assert!(
            out == FONT,
            "fonts/DejaVuSans.ttf.zlib is not DejaVuSans.ttf compressed"
        );
    }

    fn count(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).filter(|w| *w == needle).count()
    }

    #[test]
    fn a_pdf_with_the_font_embedded() {
        let pdf = to_pdf(&statement(3));
        assert!(pdf.bytes.starts_with(b"%PDF-1.7"));
        assert!(pdf.bytes.ends_with(b"%%EOF\n"));
        assert_eq!(pdf.pages, 1);
        assert_eq!(count(&pdf.bytes, b"/FontFile2 6 0 R"), 1);
        assert_eq!(count(&pdf.bytes, b"/BaseFont /DejaVuSans"), 2);
        assert_eq!(count(&pdf.bytes, b"/Type /Page /Parent"), 1);
        assert!(Font::load().face.is_some(), "the embedded font parses");
    }

    #[test]
    fn long_statements_are_paginated() {
        let short = to_pdf(&statement(0));
        assert_eq!(short.pages, 1);
        let long = to_pdf(&statement(250));
        // To look at it: STATEMENT_PDF_OUT=/tmp/long.pdf cargo test -p backstock-royalty-statement
        if let Some(path) = std::env::var_os("STATEMENT_PDF_OUT") {
            std::fs::write(path, &long.bytes).unwrap();
        }
        // 8 pt rows at 11.2 pt: ~55 rows a page after the first page's totals.
        assert!(long.pages >= 5 && long.pages <= 6, "{} pages", long.pages);
        assert_eq!(count(&long.bytes, b"/Type /Page /Parent"), long.pages);
        assert_eq!(
            count(&long.bytes, format!("/Count {} ", long.pages).as_bytes()),
            1
        );
        // Every detail row is laid out exactly once, plus a repeated header per page.
        let font = Font::load();
        let pages = layout(
            &statement(250),
            &Checks::default(),
            &font,
            &Writing::default(),
        );
        let rows: usize = pages
            .iter()
            .flatten()
            .filter(|op| matches!(op, Op::Text { text, .. } if text.starts_with("Release number")))
            .count();
        assert_eq!(rows, 250);
        let headers: usize = pages
            .iter()
            .flatten()
            .filter(|op| matches!(op, Op::Text { text, .. } if text == "collected"))
            .count();
        assert_eq!(headers, pages.len());
        // Nothing is drawn below the bottom margin except the footer.
        assert!(pages.iter().flatten().all(|op| match op {
            Op::Text { y, .. } => *y >= BOTTOM,
            Op::Rule { y } => *y >= BOTTOM - 4_000,
        }));
    }

    #[test]
    fn a_pdf_in_the_labels_locale() {
        let font = Font::load();
        let de = Writing {
            group: ".".into(),
            decimal: ',',
            dates: DateOrder::Dmy('.'),
        };
        let texts: Vec<String> = layout(&statement(3), &Checks::default(), &font, &de)
            .into_iter()
            .flatten()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text),
                Op::Rule { .. } => None,
            })
            .collect();
        assert!(texts.iter().any(|t| t == "Issued 30.06.2016"), "{texts:?}");
        assert!(
            texts
                .iter()
                .any(|t| t == "Period 2016H1 (01.01.2016 to 30.06.2016)"),
            "{texts:?}"
        );
        // Detail amounts: 120.00 USD earned on the first line.
        assert!(texts.iter().any(|t| t == "120,00"), "{texts:?}");
        assert!(!texts.iter().any(|t| t == "120.00"), "{texts:?}");
        // The whole PDF is made, one page.
        assert_eq!(to_pdf_in(&statement(3), &Checks::default(), &de).pages, 1);
    }

    #[test]
    fn numbers() {
        assert_eq!(num(612_000), "612");
        assert_eq!(num(54_500), "54.500");
        assert_eq!(num(-1_250), "-1.250");
        assert_eq!(pdf_text("a(b)é"), "(a\\(b\\)?)");
    }
}
