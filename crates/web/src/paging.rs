//! Paging of lists. API list routes take `?cursor=…&limit=…` and answer the rows after
//! the cursor (at most [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when not given) with `next`:
//! the cursor of the following page, `null` on the last. A cursor is the key of the
//! last row given (for the catalog its SKU): rows are in key order, so a page stays
//! right when rows are added before or after it. List pages show [`PAGE_ROWS`] rows
//! at a time with next/previous links (`html::Grid`); CSV downloads stream every row.

use crate::Fail;
use std::collections::HashMap;

/// Rows an API list answers when no `limit` is given.
pub const DEFAULT_LIMIT: usize = 500;
/// The most rows an API list answers at once (a larger `limit` is held to it).
pub const MAX_LIMIT: usize = 500;
/// Rows a list page shows at once.
pub const PAGE_ROWS: usize = 500;

/// What a client asked for: rows after `cursor`, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageReq {
    pub cursor: Option<String>,
    pub limit: usize,
}

impl PageReq {
    /// From `?cursor=` and `?limit=` (1 or more; above [`MAX_LIMIT`] is held to it).
    pub fn from_query(q: &HashMap<String, String>) -> Result<PageReq, Fail> {
        let limit = match q.get("limit").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => DEFAULT_LIMIT,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if n >= 1 => n.min(MAX_LIMIT),
                _ => {
                    return Err(Fail::bad(format!(
                        "limit: {s:?} is not a number of rows from 1 to {MAX_LIMIT}"
                    )))
                }
            },
        };
        let cursor = q.get("cursor").filter(|c| !c.is_empty()).cloned();
        Ok(PageReq { cursor, limit })
    }

    /// The page of `rows` (in ascending key order) after the cursor, and the next
    /// cursor when more rows follow.
    pub fn page<T>(
        &self,
        rows: impl IntoIterator<Item = T>,
        key: impl Fn(&T) -> String,
    ) -> (Vec<T>, Option<String>) {
        self.page_where(rows, key, |k, c| k > c)
    }

    /// [`PageReq::page`] for rows in another order: `follows(row key, cursor)` says
    /// whether a row comes after the cursor (e.g. a lower id, newest first).
    pub fn page_where<T>(
        &self,
        rows: impl IntoIterator<Item = T>,
        key: impl Fn(&T) -> String,
        follows: impl Fn(&str, &str) -> bool,
    ) -> (Vec<T>, Option<String>) {
        let mut out = Vec::new();
        let mut more = false;
        for r in rows {
            if let Some(c) = &self.cursor {
                if !follows(key(&r).as_str(), c.as_str()) {
                    continue;
                }
            }
            if out.len() == self.limit {
                more = true;
                break;
            }
            out.push(r);
        }
        let next = if more { out.last().map(&key) } else { None };
        (out, next)
    }
}

/// A cursor of several parts (each part's bytes in hex, parts joined by `.`): safe
/// in a URL and ordered as the parts are.
pub fn key(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.bytes().map(|b| format!("{b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(".")
}

/// `next` and `limit` added to a list answer.
pub fn answer(mut v: serde_json::Value, req: &PageReq, next: Option<String>) -> serde_json::Value {
    v["limit"] = serde_json::json!(req.limit);
    v["next"] = serde_json::json!(next);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_keys() {
        let q = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let r = PageReq::from_query(&q(&[])).unwrap();
        assert_eq!(r.limit, DEFAULT_LIMIT);
        assert_eq!(
            PageReq::from_query(&q(&[("limit", "9999")])).unwrap().limit,
            MAX_LIMIT
        );
        assert!(PageReq::from_query(&q(&[("limit", "0")])).is_err());
        assert!(PageReq::from_query(&q(&[("limit", "-1")])).is_err());
        let rows = ["a", "b", "c", "d", "e"];
        let mut req = PageReq {
            cursor: None,
            limit: 2,
        };
        let mut got = Vec::new();
        loop {
            let (p, next) = req.page(rows, |r| r.to_string());
            got.extend(p);
            match next {
                Some(n) => req.cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(got, rows);
        // Exactly a page left: no next.
        let (p, next) = PageReq {
            cursor: Some("c".into()),
            limit: 2,
        }
        .page(rows, |r| r.to_string());
        assert_eq!((p, next), (vec!["d", "e"], None));
        // Composite keys order as their parts; a shorter part sorts first.
        assert!(key(&["2016-01-02", "S1"]) < key(&["2016-01-02", "S2"]));
        assert!(key(&["2016-01-02", "S"]) < key(&["2016-01-02", "S1"]));
        assert!(key(&["2016-01-02", "Z"]) < key(&["2016-01-03", "A"]));
        // Newest first by id.
        let ids = [9i64, 7, 4, 2];
        let r = PageReq {
            cursor: Some("7".into()),
            limit: 1,
        };
        let (p, next) = r.page_where(
            ids,
            |i| i.to_string(),
            |k, c| k.parse::<i64>().ok() < c.parse::<i64>().ok(),
        );
        assert_eq!((p, next.as_deref()), (vec![4], Some("4")));
    }
}
