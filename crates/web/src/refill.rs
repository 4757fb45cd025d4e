//! A refused form, shown again as typed.
//!
//! When a form posted from a page is refused (a bad value, a rule of the ledger), the
//! user gets that page back with the form filled in as they typed it and the refusal
//! beside it — not an error page and a retype. [`refill`] does the filling on the
//! page's own HTML: it finds the form that was posted (by its `action`, and among
//! several with the same action by its hidden fields, e.g. the deduction a row's form
//! is for), sets each field's value from what was posted, and puts the message at
//! the form and at the top of the page.
//!
//! The pages' HTML is this crate's own (attributes double-quoted, values escaped), so a
//! small tag reader is enough; anything it does not recognise is copied unchanged,
//! and a page without the form gives `None` (the caller shows the plain error page).
//! Passwords are never written back into a page, and hidden fields keep the page's
//! values (a fresh CSRF token, the row the form is for).

use crate::html::esc;

/// The hidden field a refilled form carries: the page it is on, so that a second
/// refusal renders that page again (the browser's address is then the form's action).
/// The error layer takes it off the request before the handler sees it.
pub const FROM_FIELD: &str = "_from";

/// The most a page may be for it to be refilled (a page is tens of kilobytes; a
/// bigger one is shown as the plain error page instead).
const PAGE_MAX_BYTES: usize = 8 << 20;

/// `page` with the form posted to `action` filled from `typed` (name, value; in the
/// order posted) and `message` shown at it and at the top of the page; `from` is the
/// page's own path, kept in the form ([`FROM_FIELD`]). `None` when the page has no
/// such form.
pub fn refill(
    page: &str,
    action: &str,
    typed: &[(String, String)],
    message: &str,
    from: &str,
) -> Option<String> {
    if page.len() > PAGE_MAX_BYTES {
        return None;
    }
    let (start, open_end, end) = find_form(page, action, typed)?;
    let mut out = String::with_capacity(page.len() + 1024);
    let notice = format!(
        r##"<div id="error-message" class="err" role="alert"><p>{} — nothing was recorded. <a href="#refused-form">The form</a> is below as you typed it.</p></div>"##,
        esc(message)
    );
    // The notice goes under the page's heading, where the eye starts.
    let top = page[..start]
        .find("</h1>")
        .map(|i| i + "</h1>".len())
        .unwrap_or(0);
    out.push_str(&page[..top]);
    out.push_str(&notice);
    out.push_str(&page[top..start]);
    out.push_str(&mark_form(&page[start..open_end]));
    out.push_str(&format!(
        r#"<p id="refused-form-error" class="err">{}</p><input type="hidden" name="{FROM_FIELD}" value="{}">"#,
        esc(message),
        esc(from)
    ));
    out.push_str(&fill(&page[open_end..end], typed));
    out.push_str(&page[end..]);
    Some(out)
}

/// The posted form: (start of `<form`, end of its opening tag, start of `</form>`).
/// Of the forms posting to `action`, the first whose hidden fields (but the CSRF
/// token and [`FROM_FIELD`]) all hold what was posted.
fn find_form(
    page: &str,
    action: &str,
    typed: &[(String, String)],
) -> Option<(usize, usize, usize)> {
    let mut at = 0;
    while let Some(i) = page[at..].find("<form") {
        let start = at + i;
        let tag = Tag::read(page, start)?;
        let end = page[tag.end..].find("</form>").map(|j| tag.end + j)?;
        at = tag.end;
        let posts_here = tag
            .get("method")
            .is_some_and(|m| m.eq_ignore_ascii_case("post"))
            && tag.get("action").map(unescape).is_some_and(|a| {
                let path = a.split(['?', '#']).next().unwrap_or_default();
                path == action
            });
        if posts_here && hidden_match(&page[tag.end..end], typed) {
            return Some((start, tag.end, end));
        }
    }
    None
}

fn hidden_match(form: &str, typed: &[(String, String)]) -> bool {
    tags(form).all(|(_, t)| {
        if !t.is("input")
            || !t
                .get("type")
                .is_some_and(|v| v.eq_ignore_ascii_case("hidden"))
        {
            return true;
        }
        let Some(name) = t.get("name").map(unescape) else {
            return true;
        };
        if name == "csrf" || name == FROM_FIELD {
            return true;
        }
        let value = t.get("value").map(unescape).unwrap_or_default();
        typed.iter().any(|(k, v)| *k == name && *v == value)
    })
}

/// The form's opening tag, marked, with the anchor the notice links to: its own id
/// when it has none, else an empty element before it (a form's id is kept: tests and
/// links use it).
fn mark_form(open: &str) -> String {
    let Some(tag) = Tag::read(open, 0) else {
        return open.to_string();
    };
    let mut attrs: Vec<(String, Option<String>)> = tag
        .attrs
        .into_iter()
        .filter(|(k, _)| k != "data-refused")
        .collect();
    attrs.push(("data-refused".into(), Some("true".into())));
    let had_id = attrs.iter().any(|(k, _)| k == "id");
    let mut s = write_tag("form", &attrs);
    if !had_id {
        s = s.replacen("<form", r#"<form id="refused-form""#, 1);
    } else {
        s = format!(r#"<span id="refused-form"></span>{s}"#);
    }
    s
}

/// The form's inside with every field as typed.
fn fill(form: &str, typed: &[(String, String)]) -> String {
    let first = |name: &str| {
        typed
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let all = |name: &str, value: &str| typed.iter().any(|(k, v)| k == name && v == value);
    let mut out = String::with_capacity(form.len() + 256);
    let mut copied = 0;
    let mut select: Option<String> = None;
    let mut it = tags(form).peekable();
    while let Some((start, t)) = it.next() {
        let name = t.get("name").map(unescape);
        let replacement = if t.is("input") {
            let kind = t.get("type").unwrap_or("text").to_ascii_lowercase();
            match (kind.as_str(), &name) {
                ("hidden" | "password" | "file" | "submit" | "button" | "reset" | "image", _)
                | (_, None) => None,
                ("checkbox" | "radio", Some(n)) => {
                    let value = t.get("value").map(unescape).unwrap_or_else(|| "on".into());
                    Some(with_attr(&t, "checked", all(n, &value).then_some(None)))
                }
                (_, Some(n)) => first(n).map(|v| with_attr(&t, "value", Some(Some(esc(v))))),
            }
        } else if t.is("select") {
            select = name;
            None
        } else if t.is("/select") {
            select = None;
            None
        } else if t.is("option") {
            select.as_deref().and_then(|n| {
                let posted = first(n)?;
                let value = t.get("value").map(unescape)?;
                Some(with_attr(&t, "selected", (value == posted).then_some(None)))
            })
        } else if t.is("textarea") {
            // The text up to `</textarea>` is replaced with what was typed.
            if let (Some(n), Some(close)) = (&name, form[t.end..].find("</textarea>")) {
                if let Some(v) = first(n) {
                    out.push_str(&form[copied..t.end]);
                    out.push_str(&esc(v));
                    copied = t.end + close;
                    while it.peek().is_some_and(|(s, _)| *s < copied) {
                        it.next();
                    }
                }
            }
            None
        } else {
            None
        };
        if let Some(r) = replacement {
            out.push_str(&form[copied..start]);
            out.push_str(&r);
            copied = t.end;
        }
    }
    out.push_str(&form[copied..]);
    out
}

/// `t` written again with attribute `name` set to `value` (`Some(None)`: present
/// without a value, `None`: removed).
fn with_attr(t: &Tag, name: &str, value: Option<Option<String>>) -> String {
    let mut attrs: Vec<(String, Option<String>)> =
        t.attrs.iter().filter(|(k, _)| k != name).cloned().collect();
    if let Some(v) = value {
        attrs.push((name.to_string(), v));
    }
    write_tag(&t.name, &attrs)
}

fn write_tag(name: &str, attrs: &[(String, Option<String>)]) -> String {
    let mut s = format!("<{name}");
    for (k, v) in attrs {
        match v {
            Some(v) => s.push_str(&format!(r#" {k}="{v}""#)),
            None => s.push_str(&format!(" {k}")),
        }
    }
    s.push('>');
    s
}

/// A tag as written: its name (lower case; `/select` for a closing one), its
/// attributes with their values as written (escaped), and where it ends.
struct Tag {
    name: String,
    attrs: Vec<(String, Option<String>)>,
    end: usize,
}

impl Tag {
    /// The tag starting at `at` (a `<`), or `None` when it does not end.
    fn read(s: &str, at: usize) -> Option<Tag> {
        let b = s.as_bytes();
        let mut i = at + 1;
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
            i += 1;
        }
        let name = s[name_start..i].trim_end_matches('/').to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() {
                return None;
            }
            if b[i] == b'>' {
                return Some(Tag {
                    name,
                    attrs,
                    end: i + 1,
                });
            }
            let k0 = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let key = s[k0..i].to_ascii_lowercase();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                let value = match b.get(i) {
                    Some(q @ (b'"' | b'\'')) => {
                        let close = s[i + 1..].find(char::from(*q))? + i + 1;
                        let v = &s[i + 1..close];
                        i = close + 1;
                        v
                    }
                    _ => {
                        let v0 = i;
                        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                            i += 1;
                        }
                        &s[v0..i]
                    }
                };
                attrs.push((key, Some(value.to_string())));
            } else {
                attrs.push((key, None));
            }
        }
    }

    fn is(&self, name: &str) -> bool {
        self.name == name
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_deref().unwrap_or(""))
    }
}

/// The tags in `s` (not comments or text), each with where it starts.
fn tags(s: &str) -> impl Iterator<Item = (usize, Tag)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let i = at + s.get(at..)?.find('<')?;
        if s[i..].starts_with("<!--") {
            at = s[i..].find("-->").map_or(s.len(), |j| i + j + 3);
            continue;
        }
        let Some(t) = Tag::read(s, i) else {
            at = s.len();
            return None;
        };
        at = t.end;
        return Some((i, t));
    })
}

/// An attribute value as the browser reads it (the entities [`esc`] writes).
fn unescape(v: &str) -> String {
    if !v.contains('&') {
        return v.to_string();
    }
    v.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const PAGE: &str = r#"<html><body><main><h1>Deductions</h1>
<form method="get" action="/t/a/deductions"><input name="as_of" type="date" value=""></form>
<form id="accept-1" class="inline" method="post" action="/t/a/deductions/accept"><input type="hidden" name="csrf" value="fresh"><input type="hidden" name="statement_id" value="S-1"><select name="reason"><option value="freight" selected>freight</option><option value="other">other</option></select><input name="note"><button>Accept</button></form>
<form id="accept-2" class="inline" method="post" action="/t/a/deductions/accept"><input type="hidden" name="csrf" value="fresh"><input type="hidden" name="statement_id" value="S-2"><select name="reason"><option value="freight" selected>freight</option><option value="other">other</option></select><input name="note"><button>Accept</button></form>
<form method="post" action="/t/a/distributors/d%20x/write-offs"><input type="hidden" name="csrf" value="fresh"><input name="amount" inputmode="decimal" value="0.00"><input name="pw" type="password"><label><input type="checkbox" name="detained" value="true"> detained</label><textarea name="why">old</textarea><!-- <input name="amount"> --><button>Write off</button></form>
</main></body></html>"#;

    #[test]
    fn the_posted_form_is_found_by_its_action_and_its_hidden_fields() {
        let t = typed(&[
            ("csrf", "stale"),
            ("statement_id", "S-2"),
            ("reason", "other"),
            ("note", "co-op <ad>"),
        ]);
        let out = refill(
            PAGE,
            "/t/a/deductions/accept",
            &t,
            "not a \"reason\"",
            "/t/a/deductions",
        )
        .unwrap();
        let second = &out[out.find(r#"id="accept-2""#).unwrap()..];
        let second = &second[..second.find("</form>").unwrap()];
        assert!(
            second.contains(r#"<option value="other" selected>"#),
            "{second}"
        );
        assert!(second.contains(r#"<option value="freight">"#), "{second}");
        assert!(second.contains(r#"value="co-op &lt;ad&gt;""#), "{second}");
        assert!(
            second.contains(r#"name="csrf" value="fresh""#),
            "the page's token stays: {second}"
        );
        assert!(
            second.contains(r#"name="_from" value="/t/a/deductions""#),
            "{second}"
        );
        assert!(second.contains("not a &quot;reason&quot;"), "{second}");
        // The other row's form is untouched, the notice is under the heading.
        let first = &out[out.find(r#"id="accept-1""#).unwrap()..];
        let first = &first[..first.find("</form>").unwrap()];
        assert!(
            first.contains(r#"<option value="freight" selected>"#),
            "{first}"
        );
        assert!(!first.contains("co-op"));
        assert!(out.contains(r#"</h1><div id="error-message" class="err" role="alert">"#));
        assert_eq!(out.matches("id=\"refused-form\"").count(), 1);
    }

    #[test]
    fn text_checkboxes_and_text_areas_come_back_and_passwords_never() {
        let t = typed(&[
            ("amount", "12,5x"),
            ("pw", "secret"),
            ("detained", "true"),
            ("why", "seized & sold"),
        ]);
        let out = refill(
            PAGE,
            "/t/a/distributors/d%20x/write-offs",
            &t,
            "amount: not a number",
            "/p",
        )
        .unwrap();
        assert!(
            out.contains(r#"<input name="amount" inputmode="decimal" value="12,5x">"#),
            "{out}"
        );
        assert!(!out.contains("secret"), "{out}");
        assert!(out.contains(r#"value="true" checked>"#), "{out}");
        assert!(
            out.contains("<textarea name=\"why\">seized &amp; sold</textarea>"),
            "{out}"
        );
        assert!(
            out.contains("<!-- <input name=\"amount\"> -->"),
            "comments are copied: {out}"
        );
        assert!(
            out.contains(r#"<form id="refused-form" method="post""#),
            "{out}"
        );
        // Unticked: the box comes back unticked.
        let out = refill(
            PAGE,
            "/t/a/distributors/d%20x/write-offs",
            &typed(&[("amount", "1")]),
            "m",
            "/p",
        )
        .unwrap();
        assert!(
            out.contains(r#"value="true">"#) && !out.contains("checked"),
            "{out}"
        );
    }

    #[test]
    fn without_the_form_there_is_nothing_to_refill() {
        let t = typed(&[("statement_id", "S-9")]);
        assert!(refill(PAGE, "/t/a/deductions/accept", &t, "m", "/p").is_none());
        assert!(refill(PAGE, "/t/a/elsewhere", &[], "m", "/p").is_none());
        assert!(refill("<form method=\"post\" action=\"/x\"", "/x", &[], "m", "/p").is_none());
        assert!(refill("", "/x", &[], "m", "/p").is_none());
    }
}
