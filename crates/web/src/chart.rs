//! Charts drawn as SVG on the server (pages and, later, PDFs share them). Integer
//! arithmetic only: coordinates are scaled in i128 from minor units.

use crate::html::esc;

/// One line: a name and a value (minor units) per x position, drawn in `color` (the
/// palette's next colour when `None`), dashed for a limit, with marks at points.
#[derive(Default)]
pub struct Series {
    pub name: String,
    pub values: Vec<i64>,
    pub color: Option<&'static str>,
    pub dashed: bool,
    pub marks: Vec<Mark>,
}

/// A dot on a series at x position `at`, in `color`, with a tooltip.
pub struct Mark {
    pub at: usize,
    pub color: &'static str,
    pub label: String,
}

/// Colours for lines that mean nothing in particular: no red or orange, which are
/// kept for warnings ([`WARNING`], [`ALERT`]).
const PALETTE: [&str; 6] = [
    "#2456a6", "#2e7d32", "#6a3d9a", "#00838f", "#546e7a", "#8d6e63",
];

/// The `i`th plain colour (for a series whose colour must be known, e.g. to draw
/// its limit in the same colour).
pub fn plain_color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A neutral grey (a limit shared by every line).
pub const NEUTRAL: &str = "#7f8c8d";

/// A distributor at critical (or failed).
pub const WARNING: &str = "#c0392b";
/// A distributor at alert.
pub const ALERT: &str = "#e67e22";
/// A distributor at watch.
pub const WATCH: &str = "#b7950b";

/// At most this many characters of a legend entry (the rest is an ellipsis, the
/// full name in its tooltip): a legend never runs off the chart.
const LEGEND_CHARS: usize = 22;

fn shortened(s: &str) -> String {
    if s.chars().count() <= LEGEND_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(LEGEND_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// A line chart of `series` over `x_labels` (same length as each series' values),
/// with `fmt` writing axis values. Has a `<title>` and a `<desc>` listing the latest
/// values, so it reads without seeing it.
pub fn line_chart(
    id: &str,
    title: &str,
    x_labels: &[String],
    series: &[Series],
    fmt: &dyn Fn(i64) -> String,
) -> String {
    // The left margin fits the longest y label (about 7 units a character), the right
    // one the legend, so no label is clipped.
    let widest_label = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .chain([0])
        .map(|v| fmt(v).chars().count())
        .max()
        .unwrap_or(0)
        .saturating_add(4);
    let left = i64::try_from(widest_label.saturating_mul(7))
        .unwrap_or(90)
        .clamp(60, 200);
    let w = 760i64;
    let (right, top, bottom) = (190i64, 16i64, 36i64);
    // Tall enough for every legend entry.
    let legend_rows = i64::try_from(series.len()).unwrap_or(0);
    let h = (top + 18 * legend_rows + 40).max(280);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let hi = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let lo = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .min()
        .unwrap_or(0)
        .min(0);
    // Round the axis out to whole steps of 1, 2 or 5 × 10^k (about four of them).
    let step = nice_step((i128::from(hi) - i128::from(lo) + 3) / 4);
    let axis_top = (i128::from(hi) + step - 1).div_euclid(step) * step;
    let axis_bottom = i128::from(lo).div_euclid(step) * step;
    let max = i64::try_from(axis_top).unwrap_or(i64::MAX);
    let min = i64::try_from(axis_bottom).unwrap_or(i64::MIN);
    let span = i128::from(max) - i128::from(min);
    let n = x_labels.len().max(1) as i64;
    let x = |i: usize| -> i64 {
        if n <= 1 {
            left + pw / 2
        } else {
            left + (i as i64) * pw / (n - 1)
        }
    };
    let y = |v: i64| -> i64 {
        let off = (i128::from(v) - i128::from(min)) * i128::from(ph) / span.max(1);
        top + ph - off as i64
    };
    let desc: Vec<String> = series
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s.name,
                s.values.last().map(|v| fmt(*v)).unwrap_or_default()
            )
        })
        .collect();
    let mut o = format!(
        r#"<svg id="{}" role="img" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{}</title><desc>{}</desc>"#,
        esc(id),
        esc(title),
        esc(&desc.join("; "))
    );
    // Grid lines and y labels at 0, 1/4 … 4/4 of the range.
    let ticks = (span / step).clamp(1, 20);
    for k in 0..=ticks {
        let v = i128::from(min) + step * k;
        let v = i64::try_from(v).unwrap_or(0);
        let yy = y(v);
        o.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\" stroke=\"#e3e6ec\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            left + pw,
            left - 6,
            yy + 4,
            esc(&fmt(v))
        ));
    }
    // x labels: about six of them.
    let every = (x_labels.len() / 6).max(1);
    for (i, l) in x_labels.iter().enumerate() {
        if i % every == 0 || i + 1 == x_labels.len() {
            o.push_str(&format!(
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                x(i),
                h - bottom + 16,
                esc(l)
            ));
        }
    }
    let mut plain = 0usize;
    for (si, s) in series.iter().enumerate() {
        let color = s.color.unwrap_or_else(|| {
            plain += 1;
            PALETTE[(plain - 1) % PALETTE.len()]
        });
        let pts: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{},{}", x(i), y(*v)))
            .collect();
        let dash = if s.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        o.push_str(&format!(
            r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"><title>{}</title></polyline>"#,
            pts.join(" "),
            esc(&s.name)
        ));
        for m in &s.marks {
            if let Some(v) = s.values.get(m.at) {
                o.push_str(&format!(
                    r##"<circle cx="{}" cy="{}" r="4.5" fill="{}" stroke="#fff"><title>{}</title></circle>"##,
                    x(m.at),
                    y(*v),
                    m.color,
                    esc(&m.label)
                ));
            }
        }
        let ly = top + 14 + (si as i64) * 18;
        o.push_str(&format!(
            r#"<rect x="{}" y="{}" width="12" height="3" fill="{color}"/><text x="{}" y="{}"><title>{}</title>{}</text>"#,
            left + pw + 12,
            ly - 4,
            left + pw + 28,
            ly,
            esc(&s.name),
            esc(&shortened(&s.name))
        ));
    }
    o.push_str("</svg>");
    o
}

/// The smallest 1, 2 or 5 × 10^k at least `raw`.
fn nice_step(raw: i128) -> i128 {
    let raw = raw.max(1);
    let mut p: i128 = 1;
    loop {
        for m in [1, 2, 5] {
            if m * p >= raw {
                return m * p;
            }
        }
        p = p.saturating_mul(10);
    }
}

/// Horizontal bars, one per (label, value); negative values draw as zero-length bars.
pub fn bar_chart(
    id: &str,
    title: &str,
    items: &[(String, i64)],
    fmt: &dyn Fn(i64) -> String,
) -> String {
    let row = 24i64;
    let (left, right, top) = (170i64, 110i64, 8i64);
    let w = 760i64;
    let h = top * 2 + row * items.len().max(1) as i64;
    let pw = w - left - right;
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let desc: Vec<String> = items
        .iter()
        .map(|(l, v)| format!("{l}: {}", fmt(*v)))
        .collect();
    let mut o = format!(
        r#"<svg id="{}" role="img" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>{}</title><desc>{}</desc>"#,
        esc(id),
        esc(title),
        esc(&desc.join("; "))
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = top + (i as i64) * row;
        let len = (i128::from((*v).max(0)) * i128::from(pw) / i128::from(max)) as i64;
        o.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{left}\" y=\"{}\" width=\"{len}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect><text x=\"{}\" y=\"{}\">{}</text>",
            left - 8,
            y + 16,
            esc(label),
            y + 4,
            row - 8,
            PALETTE[i % PALETTE.len()],
            esc(&format!("{label}: {}", fmt(*v))),
            left + len + 6,
            y + 16,
            esc(&fmt(*v))
        ));
    }
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_lines_within_the_box() {
        let svg = line_chart(
            "c",
            "Exposure",
            &["a".into(), "b".into(), "c".into()],
            &[
                Series {
                    name: "north".into(),
                    values: vec![0, 50, 100],
                    ..Series::default()
                },
                Series {
                    name: "<x>".into(),
                    values: vec![100, 0, -20],
                    marks: vec![Mark {
                        at: 1,
                        color: WARNING,
                        label: "to critical".into(),
                    }],
                    ..Series::default()
                },
            ],
            &|v| v.to_string(),
        );
        assert!(svg.starts_with("<svg id=\"c\""));
        // The axis runs -50 … 100 in steps of 50.
        assert!(svg.contains(">-50</text>") && svg.contains(">100</text>"));
        // The left margin fits the widest label ("-50" plus room): 60; the plot is 510 wide.
        assert!(svg.contains("points=\"60,168 315,92 570,16\""), "{svg}");
        assert!(svg.contains("<title>to critical</title>"), "{svg}");
        assert_eq!(nice_step(2752600 / 4), 1_000_000);
        assert_eq!(nice_step(30), 50);
        assert_eq!(nice_step(1), 1);
        assert!(svg.contains("&lt;x&gt;"));
        assert!(svg.contains("<desc>north: 100; &lt;x&gt;: -20</desc>"));
        let bars = bar_chart(
            "b",
            "Stock",
            &[
                ("label".into(), 100),
                ("<d>".into(), 50),
                ("gone".into(), -5),
            ],
            &|v| v.to_string(),
        );
        assert!(bars.contains("width=\"480\"") && bars.contains("width=\"240\""));
        assert!(bars.contains("width=\"0\"") && bars.contains("&lt;d&gt;"));
        // An empty chart still draws (no division by zero).
        assert!(line_chart("e", "t", &[], &[], &|v| v.to_string()).ends_with("</svg>"));
    }
}
