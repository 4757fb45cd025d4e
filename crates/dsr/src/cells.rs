//! Cells of a DSR flat-file line: tab-separated, with the backslash escapes of
//! DSR Part 1 clause 6.6.4 (`\` + TAB is a tab inside a cell, `\\|` a pipe inside a
//! cell, `\\\` a backslash; a lone `\|` is also read as a pipe, as some senders
//! write it). A pipe that is not escaped separates the values of a multi-value cell.

/// Splits a line at the tabs that are not escaped. Cells are returned raw (escapes
/// still in place).
pub(crate) fn split_cells(line: &str) -> Vec<&str> {
    let mut cells = Vec::new();
    let mut start = 0;
    let mut backslashes = 0usize;
    for (i, b) in line.bytes().enumerate() {
        if b == b'\\' {
            backslashes += 1;
            continue;
        }
        if b == b'\t' && backslashes % 3 != 1 {
            cells.push(line.get(start..i).unwrap_or(""));
            start = i + 1;
        }
        backslashes = 0;
    }
    cells.push(line.get(start..).unwrap_or(""));
    cells
}

/// Resolves the escapes of one raw cell (or one value of a multi-value cell).
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut backslashes = 0usize;
    let flush = |out: &mut String, n: usize| out.extend(std::iter::repeat_n('\\', n));
    for c in raw.chars() {
        if c == '\\' {
            backslashes += 1;
            continue;
        }
        flush(&mut out, backslashes / 3);
        match (backslashes % 3, c) {
            (0, c) | (1, c @ ('\t' | '|')) | (2, c @ '|') => out.push(c),
            (rest, c) => {
                flush(&mut out, rest);
                out.push(c);
            }
        }
        backslashes = 0;
    }
    flush(&mut out, backslashes / 3 + backslashes % 3);
    out
}

/// The values of a multi-value cell: split at unescaped pipes, unescaped, trimmed,
/// empty values dropped.
pub(crate) fn split_values(raw: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut start = 0;
    let mut backslashes = 0usize;
    for (i, b) in raw.bytes().enumerate() {
        if b == b'\\' {
            backslashes += 1;
            continue;
        }
        if b == b'|' && backslashes.is_multiple_of(3) {
            values.push(raw.get(start..i).unwrap_or(""));
            start = i + 1;
        }
        backslashes = 0;
    }
    values.push(raw.get(start..).unwrap_or(""));
    values
        .into_iter()
        .map(|v| unescape(v).trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_unescaped_tabs() {
        assert_eq!(split_cells("A\tB\t\tC"), vec!["A", "B", "", "C"]);
        assert_eq!(split_cells("A\\\tB\tC"), vec!["A\\\tB", "C"]);
        // An escaped backslash at the end of a cell does not escape the tab.
        assert_eq!(split_cells("A\\\\\\\tB"), vec!["A\\\\\\", "B"]);
        assert_eq!(split_cells(""), vec![""]);
    }

    #[test]
    fn resolves_escapes() {
        assert_eq!(unescape("A\\\tB"), "A\tB");
        assert_eq!(unescape("A\\\\|B"), "A|B");
        assert_eq!(unescape("A\\|B"), "A|B");
        assert_eq!(unescape("A\\\\\\B"), "A\\B");
        assert_eq!(unescape("C:\\dir"), "C:\\dir");
        assert_eq!(unescape("end\\"), "end\\");
        assert_eq!(unescape("Lët Më Gët \\| Thîś"), "Lët Më Gët | Thîś");
    }

    #[test]
    fn splits_multi_value_cells() {
        assert_eq!(
            split_values("Roma Ryan|Tom Whalley||Enya"),
            vec!["Roma Ryan", "Tom Whalley", "Enya"]
        );
        assert_eq!(split_values("AC\\\\|DC|Queen"), vec!["AC|DC", "Queen"]);
        assert!(split_values("").is_empty());
    }
}
