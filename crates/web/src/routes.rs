//! The route table: every route once, with the access it needs. The router, the
//! OpenAPI document (`/api/openapi.json`) and the authorization-matrix test are built
//! from it, so a new route is routed, documented and tested for isolation together.

use crate::roles::{Access, Perm};
use crate::{
    actions, api, backup, books, deductions, export, insolvency, pages, royalties, signup, AppState,
};
use axum::routing::{get, post, MethodRouter};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
        }
    }
}

/// What a route's request body is.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    None,
    /// `application/x-www-form-urlencoded` fields.
    Form(&'static [(&'static str, &'static str)]),
    /// `multipart/form-data` fields (a `file` part and text fields).
    Multipart(&'static [(&'static str, &'static str)]),
    /// A JSON object's fields.
    Json(&'static [(&'static str, &'static str)]),
}

pub struct Route {
    pub verb: Verb,
    /// axum path syntax: `/t/{tenant}/…`.
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    /// Query parameters (name, description).
    pub query: &'static [(&'static str, &'static str)],
    pub body: Body,
    /// What a success answers with.
    pub answers: &'static str,
    handler: fn() -> MethodRouter<AppState>,
}

impl Route {
    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/")
    }
}

const TABLE_QUERY: &[(&str, &str)] = &[
    ("sort", "column to sort a table by (`-column` descending; `table.column` on pages with several tables)"),
    ("format", "`csv` downloads a table"),
    ("table", "which table to download as CSV"),
];
const DATED_QUERY: &[(&str, &str)] = &[
    ("as_of", "YYYY-MM-DD: the books as the label knew them on that day (default: its today)"),
    ("sort", "column to sort a table by (`-column` descending; `table.column` on pages with several tables)"),
    ("format", "`csv` downloads a table"),
    ("table", "which table to download as CSV"),
];
const AS_OF: &[(&str, &str)] = &[(
    "as_of",
    "YYYY-MM-DD: the books as the label knew them on that day (default: its today)",
)];
const UPLOAD_FIELDS: &[(&str, &str)] = &[
    ("file", "the file (CSV, XLSX, EDI X12, DDEX DSR)"),
    ("kind", "file kind; empty = detect from the header"),
    ("mapping", "a mapping for a distributor's own layout"),
    (
        "distributor",
        "who sent an EDI/DSR/mapped file (a distributor member: always itself)",
    ),
    ("statement_id", "statement id for a mapped file"),
    ("period_start", "statement period start for a mapped file"),
    ("period_end", "statement period end for a mapped file"),
    ("issued_on", "statement issue date for a mapped file"),
    ("currency", "statement currency for a mapped file"),
];
const SHIP_FIELDS: &[(&str, &str)] = &[
    ("sku", "the SKU"),
    ("units", "units to ship (1 to 1,000,000,000)"),
    ("po", "purchase order number (optional)"),
    (
        "override",
        "why to ship despite a credit hold (recorded with your name)",
    ),
];
const MEMBER_FIELDS: &[(&str, &str)] = &[
    ("email", "the member's email"),
    ("name", "their name (new accounts)"),
    (
        "role",
        "owner, staff, bookkeeper, artist or distributor (left out: bookkeeper, the least privilege)",
    ),
    (
        "party",
        "one of the label's payee ids (artist) or distributor ids (distributor); another id is refused",
    ),
    (
        "password",
        "initial password for a new account (at least 10 characters)",
    ),
];
const SIGNUP_LINK_FIELDS: &[(&str, &str)] = &[
    ("csrf", "the form's token"),
    ("name", "your name"),
    ("password", "your password, at least 10 characters"),
    ("label_name", "the label's name"),
    (
        "label_slug",
        "the label's id in addresses: lowercase letters, digits and -, up to 40",
    ),
];
const SIGNUP_FIELDS: &[(&str, &str)] = &[
    ("csrf", "the form's token"),
    ("email", "your email (signed out; with serve --smtp the only field: a link to finish is mailed, and the answer is the same whether or not the address has an account)"),
    ("name", "your name (signed out, without --smtp)"),
    (
        "password",
        "your password, at least 10 characters (signed out, without --smtp)",
    ),
    ("label_name", "the label's name"),
    (
        "label_slug",
        "the label's id in addresses: lowercase letters, digits and -, up to 40",
    ),
];
const ACCEPT_FIELDS_INVITE: &[(&str, &str)] = &[
    ("csrf", "the form's token"),
    ("name", "your name (a new account)"),
    (
        "password",
        "a new account's password (at least 10 characters), or an existing account's own",
    ),
    ("password2", "the new password again"),
];
const NEW_PASSWORD_FIELDS: &[(&str, &str)] = &[
    ("csrf", "the form's token"),
    ("password", "the new password (at least 10 characters)"),
    ("password2", "the new password again"),
];
const INVITE_FIELDS: &[(&str, &str)] = &[
    ("email", "whom to invite"),
    (
        "role",
        "owner, staff, bookkeeper, artist or distributor (left out: bookkeeper, the least privilege)",
    ),
    (
        "party",
        "one of the label's payee ids (artist) or distributor ids (distributor)",
    ),
];
const ROLE_FIELDS: &[(&str, &str)] = &[
    ("role", "owner, staff, bookkeeper, artist or distributor"),
    ("party", "payee id (artist) or distributor id (distributor)"),
];
const SETTINGS_FIELDS: &[(&str, &str)] = &[
    (
        "locale",
        "en-US, en-GB, en-CA, en-AU, de-DE, fr-FR, es-ES, it-IT, nl-NL or iso",
    ),
    ("currency", "the label's home currency (ISO 4217)"),
];

const PERIOD_FIELDS: &[(&str, &str)] = &[("period", "royalty period: 2016H1, 2016Q2 or 2016-05")];
const CONFIRM_FIELDS: &[(&str, &str)] = &[
    ("period", "royalty period: 2016H1, 2016Q2 or 2016-05"),
    (
        "journal",
        "the journal length the preview showed (optional): refused if the books changed since",
    ),
];
const RUN_FIELDS: &[(&str, &str)] = &[
    ("period", "royalty period: 2016H1, 2016Q2 or 2016-05"),
    (
        "dry_run",
        "boolean: preview only, record nothing (default false)",
    ),
];
const STATEMENTS_QUERY: &[(&str, &str)] = &[
    ("period", "only this period"),
    ("payee", "only this payee"),
    ("sort", "column to sort a table by (`-column` descending; `table.column` on pages with several tables)"),
    ("format", "`csv` downloads a table"),
    ("table", "which table to download as CSV"),
];
const STATEMENT_QUERY: &[(&str, &str)] = &[
    ("format", "`html` (default), `pdf`, `csv` or `json`; with `table`, `csv` downloads that table of the page"),
    ("table", "with format=csv: detail, costs or not_collected"),
    ("sort", "column to sort a table by"),
];

const ACCEPT_FIELDS: &[(&str, &str)] = &[
    ("distributor", "the distributor"),
    ("statement_id", "the statement it deducted from"),
    (
        "reason",
        "freight, co-op, price-protection, pricing-error or other",
    ),
    (
        "amount",
        "decimal text in the statement's currency (`12.34` or `12.34 USD`); default: all that is deducted",
    ),
    ("note", "a note for the journal (optional)"),
    ("on", "YYYY-MM-DD (default: the label's today)"),
];
const DISPUTE_FIELDS: &[(&str, &str)] = &[
    ("distributor", "the distributor"),
    ("statement_id", "the statement it deducted from"),
    ("note", "why it is disputed (required)"),
    ("on", "YYYY-MM-DD (default: the label's today)"),
];
const WRITE_OFF_FIELDS: &[(&str, &str)] = &[
    (
        "statement_id",
        "only this statement's open amount (default: the whole balance)",
    ),
    (
        "amount",
        "decimal text (`1234.56` or `1234.56 USD`); default: all that is open",
    ),
    ("reason", "why (required; goes in the journal)"),
    ("on", "YYYY-MM-DD (default: the label's today)"),
];
const DETAIN_FIELDS: &[(&str, &str)] = &[
    ("sku", "the SKU"),
    (
        "units",
        "units held against the label's will (no more than the distributor holds on hand; with release, detained)",
    ),
    ("reason", "why, in the label's words (required; goes in the journal)"),
    (
        "release",
        "boolean: release detained units back to on hand (default false)",
    ),
    (
        "id",
        "the entry's id (default detention:DISTRIBUTOR:SKU:DATE:UNITS: the same detention twice is recorded once)",
    ),
    ("on", "YYYY-MM-DD, not after today (default today)"),
];

const BUY_BACK_FIELDS: &[(&str, &str)] = &[
    ("sku", "the SKU"),
    ("units", "units bought back (no more than the distributor holds)"),
    (
        "paid",
        "paid in all, decimal text (`120.00` or `120.00 USD`; `0` if nothing); default currency: the agreement's",
    ),
    (
        "paid_to",
        "who was paid (a liquidator, a lender's agent; default: the distributor)",
    ),
    (
        "detained",
        "boolean: the units were held against the label's will (default false)",
    ),
    (
        "id",
        "the buy-back's id (default BB-DATE-DISTRIBUTOR-SKU: the same buy-back twice is recorded once)",
    ),
    ("on", "YYYY-MM-DD (default: the label's today)"),
];
const DEDUCTIONS_QUERY: &[(&str, &str)] = &[
    (
        "as_of",
        "YYYY-MM-DD: the books as the label knew them on that day (default: its today)",
    ),
    ("distributor", "only this distributor's"),
    (
        "all",
        "`true`: also accepted and written-off deductions (default: only outstanding ones)",
    ),
    (
        "cursor",
        "the `next` of the previous page (rows by distributor and statement)",
    ),
    ("limit", "rows per page: 1 to 500 (default 500)"),
];

/// Paging of an API list (`crate::paging`).
const PAGE_QUERY: &[(&str, &str)] = &[
    (
        "cursor",
        "the `next` of the previous page (absent: the first page)",
    ),
    ("limit", "rows per page: 1 to 500 (default 500)"),
];
const SHIPMENTS_QUERY: &[(&str, &str)] = &[
    (
        "cursor",
        "the `next` of the previous page of shipments (by date, shipment, SKU)",
    ),
    (
        "po_cursor",
        "the `purchase_orders_next` of the previous page of purchase orders",
    ),
    ("limit", "rows per page of each: 1 to 500 (default 500)"),
];

const OFFER_QUERY: &[(&str, &str)] = &[
    (
        "offer_per_unit",
        "decimal text: the price offered a unit (`1.00`)",
    ),
    ("shipping", "decimal text: shipping for the whole lot"),
    (
        "as_of",
        "YYYY-MM-DD: the stock as of that day (default: the label's today)",
    ),
];

/// Every route of the application.
pub fn all() -> Vec<Route> {
    use Access::*;
    use Perm::*;
    let r = |verb, path, access, summary, query, body, answers, handler| Route {
        verb,
        path,
        access,
        summary,
        query,
        body,
        answers,
        handler,
    };
    #[allow(unused_mut)]
    let mut routes = vec![
        // ---- pages ----
        r(Verb::Get, "/", Public, "Home: your labels, or the sign-in page", &[], Body::None, "text/html", || get(pages::home)),
        r(Verb::Get, "/login", Public, "Sign-in form", &[("next", "where to go after signing in")], Body::None, "text/html", || get(pages::login_form)),
        r(Verb::Post, "/login", Public, "Sign in (an address that keeps failing waits, twice as long each time; an account is locked only to addresses it has not signed in from, after many failures); rotates the session", &[], Body::Form(&[("email", "account email"), ("password", "password"), ("next", "where to go after")]), "303 redirect + session cookie", || post(pages::login)),
        r(Verb::Post, "/logout", Signed, "Sign out (ends the session)", &[], Body::Form(&[("csrf", "the session's CSRF token")]), "303 redirect", || post(pages::logout)),
        r(Verb::Get, "/account", Signed, "Your account: labels and API tokens", &[], Body::None, "text/html", || get(pages::account)),
        r(Verb::Post, "/account/tokens", Signed, "Create an API token for yourself (shown once)", &[], Body::Form(&[("name", "what the token is for")]), "text/html", || post(pages::create_token)),
        r(Verb::Post, "/account/tokens/{token}/revoke", Signed, "Revoke one of your API tokens", &[], Body::Form(&[("csrf", "the session's CSRF token")]), "303 redirect", || post(pages::revoke_token)),
        r(Verb::Post, "/account/password", Signed, "Change your password (ends your other sessions and every API token)", &[], Body::Form(&[("current", "your current password"), ("new", "the new password (at least 10 characters)")]), "303 redirect + a new session cookie", || post(pages::change_password)),
        r(Verb::Get, "/signup", Public, "Sign-up form: an account and its first label (signed in: another label); closed with serve --no-signup", &[], Body::None, "text/html", || get(signup::signup_form)),
        r(Verb::Post, "/signup", Public, "Create an account and its first label (signed in: another label), whose owner it is; signs in (throttled per address)", &[], Body::Form(SIGNUP_FIELDS), "303 redirect to the label's dashboard + session cookie", || post(signup::signup_post)),
        r(Verb::Get, "/signup/{token}", Public, "A sign-up link (serve --smtp): the form for the name, password and first label", &[], Body::None, "text/html", || get(signup::signup_link_form)),
        r(Verb::Post, "/signup/{token}", Public, "Create the account of the link's address and its first label (once); signs in (throttled per address)", &[], Body::Form(SIGNUP_LINK_FIELDS), "303 redirect to the label's dashboard + session cookie", || post(signup::signup_link_post)),
        r(Verb::Get, "/invite/{token}", Public, "An invitation link: who invites whom to which label as what", &[], Body::None, "text/html", || get(signup::invite_page)),
        r(Verb::Post, "/invite/{token}", Public, "Accept an invitation (once): a new account sets its password, an existing one gives its own; becomes a member with the role", &[], Body::Form(ACCEPT_FIELDS_INVITE), "303 redirect to the label + session cookie", || post(signup::accept_post)),
        r(Verb::Get, "/reset", Public, "Forgot your password: ask for a link", &[], Body::None, "text/html", || get(signup::reset_form)),
        r(Verb::Post, "/reset", Public, "Send a one-time link (valid 1 hour) to set a new password; the same answer whether or not the account exists (throttled per address)", &[], Body::Form(&[("csrf", "the form's token"), ("email", "the account's email")]), "text/html", || post(signup::reset_post)),
        r(Verb::Get, "/reset/{token}", Public, "A password-reset link: the form for the new password", &[], Body::None, "text/html", || get(signup::new_password_form)),
        r(Verb::Post, "/reset/{token}", Public, "Set the new password (once): ends every session and API token of the account, then signs in", &[], Body::Form(NEW_PASSWORD_FIELDS), "303 redirect + session cookie", || post(signup::new_password_post)),
        r(Verb::Get, "/static/app.css", Public, "The style sheet", &[], Body::None, "text/css", || get(pages::css)),
        r(Verb::Get, "/t/{tenant}", Tenant(Member), "A label's start page for your role", &[], Body::None, "303 redirect", || get(pages::tenant_home)),
        r(Verb::Get, "/t/{tenant}/dashboard", Tenant(ReadLabel), "Dashboard: exposure over time, risk levels and reasons, alerts, receivables ageing, stock by holder", DATED_QUERY, Body::None, "text/html or text/csv", || get(pages::dashboard)),
        r(Verb::Get, "/t/{tenant}/distributors", Tenant(ReadLabel), "Distributors with level, open balance and exposure", DATED_QUERY, Body::None, "text/html or text/csv", || get(pages::distributors)),
        r(Verb::Get, "/t/{tenant}/distributors/{distributor}", Tenant(ReadLabel), "One distributor: agreement, UCC status, statements, payments, stock, signal timeline, demands", DATED_QUERY, Body::None, "text/html or text/csv", || get(pages::distributor)),
        r(Verb::Post, "/t/{tenant}/distributors/{distributor}/shipments", Tenant(Operate), "Ship consigned stock (refused on credit hold unless overridden)", &[], Body::Form(SHIP_FIELDS), "text/html", || post(pages::ship)),
        r(Verb::Get, "/t/{tenant}/catalog", Tenant(Catalog), "The catalog (an artist: their own releases)", TABLE_QUERY, Body::None, "text/html or text/csv", || get(pages::catalog)),
        r(Verb::Get, "/t/{tenant}/shipments", Tenant(Shipments), "Shipments and purchase orders (a distributor: its own)", TABLE_QUERY, Body::None, "text/html or text/csv", || get(pages::shipments)),
        r(Verb::Get, "/t/{tenant}/import", Tenant(Import), "Upload form", &[], Body::None, "text/html", || get(pages::import_form)),
        r(Verb::Post, "/t/{tenant}/import", Tenant(Import), "Upload and preview (dry run); nothing is recorded", &[("csrf", "the session's CSRF token")], Body::Multipart(UPLOAD_FIELDS), "text/html", || post(pages::import_preview)),
        r(Verb::Post, "/t/{tenant}/import/{upload}/confirm", Tenant(Import), "Record a previewed upload", &[], Body::Form(&[("csrf", "the session's CSRF token")]), "text/html", || post(pages::import_confirm)),
        r(Verb::Post, "/t/{tenant}/import/{upload}/discard", Tenant(Import), "Drop a previewed upload", &[], Body::Form(&[("csrf", "the session's CSRF token")]), "303 redirect", || post(pages::import_discard)),
        r(Verb::Get, "/t/{tenant}/royalties", Tenant(ReadLabel), "Royalty periods run and locked; the form to run one (owner, staff)", TABLE_QUERY, Body::None, "text/html or text/csv", || get(royalties::royalties_page)),
        r(Verb::Post, "/t/{tenant}/royalties/preview", Tenant(Operate), "Preview a royalty period (dry run: statements per payee and the tie-out; nothing recorded)", &[], Body::Form(PERIOD_FIELDS), "text/html", || post(royalties::preview)),
        r(Verb::Post, "/t/{tenant}/royalties/runs", Tenant(Operate), "Run a royalty period: post its statements to the ledger and lock it", &[], Body::Form(CONFIRM_FIELDS), "text/html", || post(royalties::post_run)),
        r(Verb::Get, "/t/{tenant}/statements", Tenant(Statements), "Royalty statements (an artist: their own, what is not collected, the releases they are paid on)", STATEMENTS_QUERY, Body::None, "text/html or text/csv", || get(royalties::statements_page)),
        r(Verb::Get, "/t/{tenant}/statements/{period}/{payee}", Tenant(Statements), "One payee's statement of a period, exactly as the run stored it", STATEMENT_QUERY, Body::None, "text/html, application/pdf, text/csv or application/json", || get(royalties::statement_page)),
        r(Verb::Get, "/t/{tenant}/users", Tenant(Manage), "Members, roles, invitations, label settings", TABLE_QUERY, Body::None, "text/html or text/csv", || get(pages::users)),
        r(Verb::Post, "/t/{tenant}/users", Tenant(Manage), "Invite: give an account (new or existing) a role in this label", &[], Body::Form(MEMBER_FIELDS), "303 redirect", || post(pages::invite)),
        r(Verb::Post, "/t/{tenant}/invitations", Tenant(Manage), "Invite by a one-time link (valid 7 days; mailed with serve --smtp): shown once", &[], Body::Form(INVITE_FIELDS), "text/html", || post(signup::invitation_post)),
        r(Verb::Post, "/t/{tenant}/users/{user}/role", Tenant(Manage), "Change a member's role", &[], Body::Form(ROLE_FIELDS), "303 redirect", || post(pages::change_role)),
        r(Verb::Post, "/t/{tenant}/users/{user}/remove", Tenant(Manage), "Remove a member from this label", &[], Body::Form(&[("csrf", "the session's CSRF token")]), "303 redirect", || post(pages::remove_member)),
        r(Verb::Post, "/t/{tenant}/settings", Tenant(Manage), "Locale and currency of the label", &[], Body::Form(SETTINGS_FIELDS), "303 redirect", || post(pages::settings)),
        r(Verb::Get, "/t/{tenant}/audit", Tenant(Manage), "Audit log: logins, imports, overrides, role changes", TABLE_QUERY, Body::None, "text/html or text/csv", || get(pages::audit)),
        r(Verb::Get, "/t/{tenant}/deductions", Tenant(ReadLabel), "Deductions outstanding per distributor (accept, dispute), accepted and written off; write off and buy back (owner, staff)", DATED_QUERY, Body::None, "text/html or text/csv", || get(deductions::page_get)),
        r(Verb::Post, "/t/{tenant}/deductions/accept", Tenant(Operate), "Accept a deduction (all of it, or an amount) with a reason: it leaves the receivable for the deduction expense", &[], Body::Form(ACCEPT_FIELDS), "text/html", || post(deductions::accept_post)),
        r(Verb::Post, "/t/{tenant}/deductions/dispute", Tenant(Operate), "Dispute a deduction: it stays owed, shown as disputed", &[], Body::Form(DISPUTE_FIELDS), "text/html", || post(deductions::dispute_post)),
        r(Verb::Post, "/t/{tenant}/distributors/{distributor}/write-offs", Tenant(Operate), "Write off a statement's open amount or the distributor's balance (bad debt)", &[], Body::Form(WRITE_OFF_FIELDS), "text/html", || post(deductions::write_off_post)),
        r(Verb::Post, "/t/{tenant}/distributors/{distributor}/buy-backs", Tenant(Operate), "Buy consigned units back from the distributor or its liquidator", &[], Body::Form(BUY_BACK_FIELDS), "text/html", || post(deductions::buy_back_post)),
        r(Verb::Post, "/t/{tenant}/distributors/{distributor}/detentions", Tenant(Operate), "Record the label's units at the distributor as held against its will (a refused return, a seizure), or release them: they stay the label's and at the distributor", &[], Body::Form(DETAIN_FIELDS), "text/html", || post(deductions::detain_post)),
        r(Verb::Get, "/t/{tenant}/thresholds", Tenant(Manage), "The label's risk thresholds: each one's default and this label's value", &[], Body::None, "text/html", || get(deductions::thresholds_get)),
        r(Verb::Post, "/t/{tenant}/thresholds", Tenant(Manage), "Set risk thresholds (a field left empty goes back to its default)", &[], Body::Form(deductions::threshold_fields()), "text/html", || post(deductions::thresholds_post)),
        r(Verb::Post, "/t/{tenant}/distributors/{distributor}/insolvency", Tenant(Operate), "Record that the distributor failed (bankruptcy, assignment, receivership, liquidation): in default everywhere from then on", &[], Body::Form(insolvency::INSOLVENCY_FIELDS), "text/html", || post(insolvency::form_post)),
        r(Verb::Post, "/t/{tenant}/distributors/{distributor}/documents", Tenant(Operate), "Attach a document to the distributor (kept by hash, in the chain)", &[("csrf", "the session's CSRF token")], Body::Multipart(insolvency::DOCUMENT_FIELDS), "text/html", || post(insolvency::document_post)),
        r(Verb::Get, "/t/{tenant}/distributors/{distributor}/failed", Tenant(ReadLabel), "This distributor has failed: the steps in order, each with its deadline and what is ready; `offer_per_unit` (and `shipping`) weigh a liquidator's offer", OFFER_QUERY, Body::None, "text/html", || get(insolvency::failed_page)),
        r(Verb::Get, "/t/{tenant}/distributors/{distributor}/claim-pack.zip", Tenant(ReadLabel), "The claim pack as a zip (default as of the petition or event date)", AS_OF, Body::None, "application/zip", || get(insolvency::pack_zip)),
        r(Verb::Get, "/t/{tenant}/books", Tenant(ReadLabel), "Books: the months closed and the log of closes and reopens; close a month (owner, bookkeeper), reopen one (owner); the accountant's exports; download a backup (owner)", &[], Body::None, "text/html", || get(books::page_get)),
        r(Verb::Post, "/t/{tenant}/books/close", Tenant(CloseBooks), "Close a month that has ended: entries dated into it or before it are refused from then on", &[], Body::Form(books::CLOSE_FIELDS), "text/html", || post(books::close_post)),
        r(Verb::Post, "/t/{tenant}/books/reopen", Tenant(Manage), "Reopen a closed month, with a reason (audited)", &[], Body::Form(books::REOPEN_FIELDS), "text/html", || post(books::reopen_post)),
        // ---- artist payouts (crates/web/src/payouts.rs) ----
        r(Verb::Get, "/t/{tenant}/payouts", Tenant(Statements), "Payouts: what is payable to each payee, pay one or a whole royalty run (owner, staff), payments made, tax forms, the year-end CSV; an artist: the remittance advice of their own payee", &[], Body::None, "text/html", || get(crate::payouts::page_get)),
        r(Verb::Post, "/t/{tenant}/payouts/pay", Tenant(Pay), "Pay one payee (royalty payable -> cash); refused when more than is payable; the same payout twice records once", &[], Body::Form(crate::payouts::PAY_FIELDS), "text/html", || post(crate::payouts::pay_post)),
        r(Verb::Post, "/t/{tenant}/payouts/run", Tenant(Pay), "Pay everyone a royalty run made payable (at or above their minimum) what is not paid yet", &[], Body::Form(crate::payouts::RUN_FIELDS), "text/html", || post(crate::payouts::run_post)),
        r(Verb::Post, "/t/{tenant}/payouts/tax-form", Tenant(Pay), "Record a payee's tax form (W-9 / W-8BEN) as received", &[], Body::Form(crate::payouts::TAX_FORM_FIELDS), "text/html", || post(crate::payouts::tax_form_post)),
        r(Verb::Get, "/t/{tenant}/payouts/file.csv", Tenant(Pay), "The payout file for the bank (payee, name, amount, currency, reference) of a run or a day", crate::payouts::FILE_QUERY, Body::None, "text/csv", || get(crate::payouts::file_csv)),
        r(Verb::Get, "/t/{tenant}/payouts/year-end.csv", Tenant(ReadLabel), "Per payee, what was paid in a calendar year and the tax form on file (for 1099 preparation)", crate::payouts::YEAR_QUERY, Body::None, "text/csv", || get(crate::payouts::year_end_csv)),
        r(Verb::Get, "/t/{tenant}/backup", Tenant(Manage), "Download a backup: the label's whole store as one file (a consistent copy, its hash chain checked; restore with `backstock restore FILE`)", &[], Body::None, "application/vnd.sqlite3", || get(backup::download)),
        // ---- API ----
        r(Verb::Get, "/api/openapi.json", Public, "This document", &[], Body::None, "application/json", || get(api::openapi)),
        r(Verb::Get, "/api/v1/me", Signed, "You and your memberships", &[], Body::None, "application/json", || get(api::me)),
        r(Verb::Post, "/api/v1/tokens", Signed, "Create an API token for yourself (shown once)", &[], Body::Json(&[("name", "what the token is for")]), "application/json", || post(api::create_token)),
        r(Verb::Post, "/api/v1/tokens/{token}/revoke", Signed, "Revoke one of your API tokens (the id from /api/v1/me) and the tokens minted with it", &[], Body::None, "application/json", || post(api::revoke_token)),
        r(Verb::Post, "/api/v1/labels", Signed, "Create a label (its store under labels/<slug>/); you become its owner (closed with serve --no-signup)", &[], Body::Json(&[("name", "the label's name"), ("slug", "its id in addresses: lowercase letters, digits and -, up to 40")]), "application/json", || post(signup::api_create_label)),
        r(Verb::Get, "/api/v1/t/{tenant}/dashboard", Tenant(ReadLabel), "Risk, alerts, receivables ageing, stock by holder, exposure history", AS_OF, Body::None, "application/json", || get(api::dashboard)),
        r(Verb::Get, "/api/v1/t/{tenant}/distributors", Tenant(ReadLabel), "Distributors with level, open balance and exposure", AS_OF, Body::None, "application/json", || get(api::distributors)),
        r(Verb::Get, "/api/v1/t/{tenant}/distributors/{distributor}", Tenant(ReadLabel), "One distributor in full", AS_OF, Body::None, "application/json", || get(api::distributor)),
        r(Verb::Post, "/api/v1/t/{tenant}/distributors/{distributor}/shipments", Tenant(Operate), "Ship consigned stock (refused on credit hold unless overridden)", &[], Body::Json(SHIP_FIELDS), "application/json", || post(api::ship)),
        r(Verb::Get, "/api/v1/t/{tenant}/catalog", Tenant(Catalog), "The catalog (an artist: their own releases), by SKU, a page at a time (`next`: the cursor of the following page)", PAGE_QUERY, Body::None, "application/json", || get(api::catalog)),
        r(Verb::Get, "/api/v1/t/{tenant}/shipments", Tenant(Shipments), "Shipments and purchase orders (a distributor: its own), a page of each at a time", SHIPMENTS_QUERY, Body::None, "application/json", || get(api::shipments)),
        r(Verb::Post, "/api/v1/t/{tenant}/imports", Tenant(Import), "Upload and preview (dry run); confirm with the returned upload_id", &[], Body::Multipart(UPLOAD_FIELDS), "application/json", || post(api::import_preview)),
        r(Verb::Post, "/api/v1/t/{tenant}/imports/{upload}/confirm", Tenant(Import), "Record a previewed upload", &[], Body::None, "application/json", || post(api::import_confirm)),
        r(Verb::Post, "/api/v1/t/{tenant}/imports/{upload}/discard", Tenant(Import), "Drop a previewed upload", &[], Body::None, "application/json", || post(api::import_discard)),
        r(Verb::Get, "/api/v1/t/{tenant}/royalties", Tenant(ReadLabel), "Royalty periods run, with totals and tie-out; the next period that may run", &[], Body::None, "application/json", || get(royalties::api_runs)),
        r(Verb::Post, "/api/v1/t/{tenant}/royalties/runs", Tenant(Operate), "Run a royalty period (`dry_run`: preview only); a posted period is locked", &[], Body::Json(RUN_FIELDS), "application/json", || post(royalties::api_run)),
        r(Verb::Get, "/api/v1/t/{tenant}/statements", Tenant(Statements), "Royalty statements (an artist: their own, and the releases they are paid on)", &[("period", "only this period"), ("payee", "only this payee")], Body::None, "application/json", || get(royalties::api_statements)),
        r(Verb::Get, "/api/v1/t/{tenant}/statements/{period}/{payee}", Tenant(Statements), "One payee's statement of a period, as stored (the JSON of `backstock royalties statement --format json`; money as `amount_minor` + `currency`)", &[], Body::None, "application/json", || get(royalties::api_statement)),
        r(Verb::Get, "/api/v1/t/{tenant}/members", Tenant(Manage), "Members and roles, by email, a page at a time", PAGE_QUERY, Body::None, "application/json", || get(api::members)),
        r(Verb::Post, "/api/v1/t/{tenant}/members", Tenant(Manage), "Invite: give an account (new or existing) a role", &[], Body::Json(MEMBER_FIELDS), "application/json", || post(api::invite)),
        r(Verb::Get, "/api/v1/t/{tenant}/invitations", Tenant(Manage), "Invitations waiting (not used, not expired; never their links)", &[], Body::None, "application/json", || get(signup::api_invitations)),
        r(Verb::Post, "/api/v1/t/{tenant}/invitations", Tenant(Manage), "Invite by a one-time link valid 7 days (mailed with serve --smtp); the answer's `invitation.link` is shown once", &[], Body::Json(INVITE_FIELDS), "application/json", || post(signup::api_invite)),
        r(Verb::Post, "/api/v1/t/{tenant}/members/{user}/role", Tenant(Manage), "Change a member's role", &[], Body::Json(ROLE_FIELDS), "application/json", || post(api::change_role)),
        r(Verb::Post, "/api/v1/t/{tenant}/members/{user}/remove", Tenant(Manage), "Remove a member from this label", &[], Body::None, "application/json", || post(api::remove_member)),
        r(Verb::Post, "/api/v1/t/{tenant}/settings", Tenant(Manage), "Locale and currency of the label", &[], Body::Json(SETTINGS_FIELDS), "application/json", || post(api::settings)),
        r(Verb::Get, "/api/v1/t/{tenant}/audit", Tenant(Manage), "Audit log, newest first, a page at a time (of the latest 5,000 events)", PAGE_QUERY, Body::None, "application/json", || get(api::audit)),
        r(Verb::Get, "/api/v1/t/{tenant}/deductions", Tenant(ReadLabel), "Deductions (outstanding; `all=true` also accepted and written off), with the outstanding total per currency", DEDUCTIONS_QUERY, Body::None, "application/json", || get(deductions::api_list)),
        r(Verb::Post, "/api/v1/t/{tenant}/deductions/accept", Tenant(Operate), "Accept a deduction with a reason (the same acceptance twice is recorded once: `recorded: false`)", &[], Body::Json(ACCEPT_FIELDS), "application/json", || post(deductions::api_accept)),
        r(Verb::Post, "/api/v1/t/{tenant}/deductions/dispute", Tenant(Operate), "Dispute a deduction (already disputed: nothing recorded, `recorded: false`)", &[], Body::Json(DISPUTE_FIELDS), "application/json", || post(deductions::api_dispute)),
        r(Verb::Post, "/api/v1/t/{tenant}/distributors/{distributor}/write-offs", Tenant(Operate), "Write off a statement's open amount or the distributor's balance", &[], Body::Json(WRITE_OFF_FIELDS), "application/json", || post(deductions::api_write_off)),
        r(Verb::Post, "/api/v1/t/{tenant}/distributors/{distributor}/buy-backs", Tenant(Operate), "Buy consigned units back from the distributor or its liquidator", &[], Body::Json(BUY_BACK_FIELDS), "application/json", || post(deductions::api_buy_back)),
        r(Verb::Post, "/api/v1/t/{tenant}/distributors/{distributor}/detentions", Tenant(Operate), "Record the label's units at the distributor as held against its will, or release them", &[], Body::Json(DETAIN_FIELDS), "application/json", || post(deductions::api_detain)),
        r(Verb::Post, "/api/v1/t/{tenant}/distributors/{distributor}/insolvency", Tenant(Operate), "Record that the distributor failed; answers the deadlines (the same details twice: `recorded: false`)", &[], Body::Json(insolvency::INSOLVENCY_FIELDS), "application/json", || post(insolvency::api_post)),
        r(Verb::Get, "/api/v1/t/{tenant}/distributors/{distributor}/insolvency", Tenant(ReadLabel), "The failure on record, the deadlines with their rules, receivables and stock at risk", &[], Body::None, "application/json", || get(insolvency::api_get)),
        r(Verb::Post, "/api/v1/t/{tenant}/distributors/{distributor}/documents", Tenant(Operate), "Attach a document to the distributor (kept by hash, in the chain)", &[], Body::Multipart(insolvency::DOCUMENT_FIELDS), "application/json", || post(insolvency::api_document)),
        r(Verb::Get, "/api/v1/t/{tenant}/distributors/{distributor}/buyback-offer", Tenant(ReadLabel), "A liquidator's offer weighed per SKU against re-pressing and the last 12 months' sales (nothing recorded)", OFFER_QUERY, Body::None, "application/json", || get(insolvency::api_offer)),
        r(Verb::Get, "/api/v1/t/{tenant}/distributors/{distributor}/claim-pack.zip", Tenant(ReadLabel), "The claim pack as a zip", AS_OF, Body::None, "application/zip", || get(insolvency::pack_zip)),
        r(Verb::Get, "/api/v1/t/{tenant}/thresholds", Tenant(Manage), "The label's risk thresholds: name, default, current", &[], Body::None, "application/json", || get(deductions::api_thresholds)),
        r(Verb::Get, "/api/v1/t/{tenant}/books", Tenant(ReadLabel), "The months closed and the log of closes and reopens (who, when, why)", &[], Body::None, "application/json", || get(books::api_get)),
        r(Verb::Post, "/api/v1/t/{tenant}/books/close", Tenant(CloseBooks), "Close a month that has ended (closed already: `recorded: false`)", &[], Body::Json(books::CLOSE_FIELDS), "application/json", || post(books::api_close)),
        r(Verb::Post, "/api/v1/t/{tenant}/books/reopen", Tenant(Manage), "Reopen a closed month with a reason (audited)", &[], Body::Json(books::REOPEN_FIELDS), "application/json", || post(books::api_reopen)),
        r(Verb::Get, "/api/v1/t/{tenant}/payouts", Tenant(Statements), "Payments made (an artist: their own payee's, the remittance advice) and, for the label, what is payable per payee", &[], Body::None, "application/json", || get(crate::payouts::api_get)),
        r(Verb::Post, "/api/v1/t/{tenant}/payouts", Tenant(Pay), "Pay one payee (`payee`, `amount`, `currency`) or a royalty run (`period`); refused when more than is payable; the same payout twice: `recorded: false`", &[], Body::Json(crate::payouts::API_FIELDS), "application/json", || post(crate::payouts::api_post)),
        r(Verb::Get, "/api/v1/t/{tenant}/backup", Tenant(Manage), "A backup of the label's whole store as one SQLite file (consistent, its hash chain checked)", &[], Body::None, "application/vnd.sqlite3", || get(backup::download)),
        r(Verb::Get, "/api/v1/t/{tenant}/export/{format}", Tenant(Export), "The accountant's books of a date range: `beancount`, `csv-journal`, `xero` (manual-journal import) or `quickbooks` (journal-entry import); money only, every transaction balanced", export::EXPORT_QUERY, Body::None, "text/plain (beancount) or text/csv, as a download", || get(export::api_export)),
        r(Verb::Post, "/api/v1/t/{tenant}/thresholds", Tenant(Manage), "Set risk thresholds: `{\"name\": 45}`; `null` goes back to the default", &[], Body::Json(deductions::threshold_fields()), "application/json", || post(deductions::api_thresholds_post)),
        // ---- the daily actions (crates/web/src/actions.rs) ----
        r(Verb::Get, "/t/{tenant}/record", Tenant(Record), "Record: a form for each daily action the role may take; the unmatched queue and aliases", &[("distributor", "prefill the distributor fields")], Body::None, "text/html", || get(actions::page_get)),
        r(Verb::Post, "/t/{tenant}/record/payment", Tenant(actions::PAYMENT.perm), "Record a payment received from a distributor (payments.csv's row and messages; the same payment twice: `recorded: false`) — the form; refused: the form again as typed", &[], Body::Form(actions::PAYMENT.doc), "text/html", || post(actions::payment_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/payments", Tenant(actions::PAYMENT.perm), "Record a payment received from a distributor (payments.csv's row and messages; the same payment twice: `recorded: false`)", &[], Body::Json(actions::PAYMENT.doc), "application/json", || post(actions::payment_api)),
        r(Verb::Post, "/t/{tenant}/record/purchase-order", Tenant(actions::PURCHASE_ORDER.perm), "Record a distributor's purchase order line (purchase_orders.csv's row and messages) — the form; refused: the form again as typed", &[], Body::Form(actions::PURCHASE_ORDER.doc), "text/html", || post(actions::purchase_order_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/purchase-orders", Tenant(actions::PURCHASE_ORDER.perm), "Record a distributor's purchase order line (purchase_orders.csv's row and messages)", &[], Body::Json(actions::PURCHASE_ORDER.doc), "application/json", || post(actions::purchase_order_api)),
        r(Verb::Post, "/t/{tenant}/record/return", Tenant(actions::RETURN.perm), "Record units returned by a distributor to the label (shipments.csv's row from the distributor to label) — the form; refused: the form again as typed", &[], Body::Form(actions::RETURN.doc), "text/html", || post(actions::return_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/returns", Tenant(actions::RETURN.perm), "Record units returned by a distributor to the label (shipments.csv's row from the distributor to label)", &[], Body::Json(actions::RETURN.doc), "application/json", || post(actions::return_api)),
        r(Verb::Post, "/t/{tenant}/record/receipt", Tenant(actions::RECEIPT.perm), "Record that a distributor confirmed receiving a shipment — the form; refused: the form again as typed", &[], Body::Form(actions::RECEIPT.doc), "text/html", || post(actions::receipt_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/receipts", Tenant(actions::RECEIPT.perm), "Record that a distributor confirmed receiving a shipment", &[], Body::Json(actions::RECEIPT.doc), "application/json", || post(actions::receipt_api)),
        r(Verb::Post, "/t/{tenant}/record/demand", Tenant(actions::DEMAND.perm), "Record a demand to return or transfer stock (id derived: the same demand twice is recorded once) — the form; refused: the form again as typed", &[], Body::Form(actions::DEMAND.doc), "text/html", || post(actions::demand_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/demands", Tenant(actions::DEMAND.perm), "Record a demand to return or transfer stock (id derived: the same demand twice is recorded once)", &[], Body::Json(actions::DEMAND.doc), "application/json", || post(actions::demand_api)),
        r(Verb::Post, "/t/{tenant}/record/answer", Tenant(actions::ANSWER.perm), "Record a distributor's answer to a demand — the form; refused: the form again as typed", &[], Body::Form(actions::ANSWER.doc), "text/html", || post(actions::answer_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/demands/answers", Tenant(actions::ANSWER.perm), "Record a distributor's answer to a demand", &[], Body::Json(actions::ANSWER.doc), "application/json", || post(actions::answer_api)),
        r(Verb::Post, "/t/{tenant}/record/ucc1", Tenant(actions::UCC1.perm), "Record a UCC-1 filing (or continuation) against a distributor — the form; refused: the form again as typed", &[], Body::Form(actions::UCC1.doc), "text/html", || post(actions::ucc1_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/ucc1-filings", Tenant(actions::UCC1.perm), "Record a UCC-1 filing (or continuation) against a distributor", &[], Body::Json(actions::UCC1.doc), "application/json", || post(actions::ucc1_api)),
        r(Verb::Post, "/t/{tenant}/record/pmsi", Tenant(actions::PMSI.perm), "Record a PMSI notice sent to a distributor's secured lender — the form; refused: the form again as typed", &[], Body::Form(actions::PMSI.doc), "text/html", || post(actions::pmsi_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/pmsi-notices", Tenant(actions::PMSI.perm), "Record a PMSI notice sent to a distributor's secured lender", &[], Body::Json(actions::PMSI.doc), "application/json", || post(actions::pmsi_api)),
        r(Verb::Post, "/t/{tenant}/record/correction", Tenant(actions::CORRECTION.perm), "Correct (reverse) an entry, with the reason; refused with a sentence when it cannot be reversed — the form; refused: the form again as typed", &[], Body::Form(actions::CORRECTION.doc), "text/html", || post(actions::correction_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/corrections", Tenant(actions::CORRECTION.perm), "Correct (reverse) an entry, with the reason; refused with a sentence when it cannot be reversed", &[], Body::Json(actions::CORRECTION.doc), "application/json", || post(actions::correction_api)),
        r(Verb::Post, "/t/{tenant}/record/alias", Tenant(actions::ALIAS.perm), "Record another code for a SKU; held statement lines with that code are posted — the form; refused: the form again as typed", &[], Body::Form(actions::ALIAS.doc), "text/html", || post(actions::alias_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/aliases", Tenant(actions::ALIAS.perm), "Record another code for a SKU; held statement lines with that code are posted", &[], Body::Json(actions::ALIAS.doc), "application/json", || post(actions::alias_api)),
        r(Verb::Post, "/t/{tenant}/record/agreement", Tenant(actions::AGREEMENT.perm), "Record a distributor and its agreement (distributors.csv's row and messages) — the form; refused: the form again as typed", &[], Body::Form(actions::AGREEMENT.doc), "text/html", || post(actions::agreement_page)),
        r(Verb::Post, "/api/v1/t/{tenant}/agreements", Tenant(actions::AGREEMENT.perm), "Record a distributor and its agreement (distributors.csv's row and messages)", &[], Body::Json(actions::AGREEMENT.doc), "application/json", || post(actions::agreement_api)),
        // ---- mappings in the browser (crates/web/src/mappings.rs) ----
        r(Verb::Get, "/t/{tenant}/mappings", Tenant(Mappings), "Mappings: the label's saved and the shipped ones; upload a sample to build a new one", &[], Body::None, "text/html", || get(crate::mappings::page_get)),
        r(Verb::Post, "/t/{tenant}/mappings/preview", Tenant(Mappings), "A sample's first rows, the choices (defaults detected from it) and the canonical rows the mapping gives, or every problem as the importer says it; nothing recorded", &[("csrf", "the session's CSRF token")], Body::Multipart(crate::mappings::FIELDS), "text/html", || post(crate::mappings::preview_post)),
        r(Verb::Post, "/t/{tenant}/mappings", Tenant(Mappings), "Save the mapping the form says (as backstock mapping add does; audited); refused: the form again with the reason", &[("csrf", "the session's CSRF token")], Body::Multipart(crate::mappings::FIELDS), "text/html", || post(crate::mappings::save_post)),
        r(Verb::Get, "/api/v1/t/{tenant}/mappings", Tenant(Mappings), "Mappings the label can import with: saved, then shipped (name, format, source, description)", &[], Body::None, "application/json", || get(crate::mappings::api_list)),
        r(Verb::Post, "/api/v1/t/{tenant}/mappings/preview", Tenant(Mappings), "A sample (`file`, or `sample` from an earlier answer) and the mapping's fields -> the sample's first rows, the fields with the defaults detected, the TOML, at most 20 canonical rows and every problem (file, line, column, expected); nothing recorded", &[], Body::Multipart(crate::mappings::FIELDS), "application/json", || post(crate::mappings::api_preview)),
        r(Verb::Post, "/api/v1/t/{tenant}/mappings", Tenant(Mappings), "Save a mapping (`toml`, or the builder's fields with `sample`), as backstock mapping add does; audited", &[], Body::Json(crate::mappings::SAVE_FIELDS), "application/json", || post(crate::mappings::api_save)),
        r(Verb::Get, "/api/v1/t/{tenant}/unmatched", Tenant(ReadLabel), "Statement lines held for an unknown code, and the aliases on record", &[], Body::None, "application/json", || get(actions::api_unmatched)),
    ];
    // ---- line-level analytics (cargo feature `lines`; crates/web/src/lines.rs) ----
    #[cfg(feature = "lines")]
    routes.extend([
        r(Verb::Get, "/t/{tenant}/lines", Tenant(Statements), "Sales lines: a period's statement lines grouped by territory, service, month, … (DataFusion, checked against an exact sum), charts and a table (an artist: the releases they are paid on)", LINES_QUERY, Body::None, "text/html or text/csv", || get(crate::lines::lines_page)),
        r(Verb::Get, "/api/v1/t/{tenant}/lines", Tenant(Statements), "A period's statement lines grouped and summed (the rows of `backstock lines query --format json`, a page at a time; an artist: their own payee's releases)", LINES_QUERY, Body::None, "application/json", || get(crate::lines::api_lines)),
    ]);
    routes
}

#[cfg(feature = "lines")]
const LINES_QUERY: &[(&str, &str)] = &[
    ("period", "2016H1, 2016Q2 or 2016-05: statements whose period ends in it (default: the latest half-year with lines)"),
    ("by", "comma-separated: isrc, territory, service, month, sku, distributor, kind (default: territory)"),
    ("payee", "only the SKUs on the contracts paying this payee (an artist: always their own)"),
    ("cursor", "API: the `next` of the previous page"),
    ("limit", "API: rows a page (at most 500)"),
    ("format", "page: `csv` downloads every group"),
];

/// The router: each route with its declared access attached for the extractors.
pub fn router() -> axum::Router<AppState> {
    let mut router = axum::Router::new();
    for r in all() {
        let access = r.access;
        let mr = (r.handler)().route_layer(axum::middleware::from_fn(
            move |mut req: axum::extract::Request, next: axum::middleware::Next| {
                req.extensions_mut().insert(crate::auth::Required(access));
                next.run(req)
            },
        ));
        router = router.route(r.path, mr);
    }
    router
}

fn fields_schema(fields: &[(&str, &str)], binary_file: bool) -> Value {
    let mut props = serde_json::Map::new();
    for (n, d) in fields {
        let v = if binary_file && *n == "file" {
            json!({"type": "string", "format": "binary", "description": d})
        } else if *n == "units" {
            json!({"type": "integer", "description": d})
        } else if *n == "dry_run" || *n == "detained" {
            json!({"type": "boolean", "description": d})
        } else {
            json!({"type": "string", "description": d})
        };
        props.insert((*n).to_string(), v);
    }
    json!({"type": "object", "properties": props})
}

/// The OpenAPI 3.1 document, generated from [`all`].
pub fn openapi() -> Value {
    let mut paths = serde_json::Map::new();
    for r in all() {
        let mut params: Vec<Value> = Vec::new();
        for seg in r.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        for (n, d) in r.query {
            params.push(json!({"name": n, "in": "query", "required": false, "description": d, "schema": {"type": "string"}}));
        }
        let who = match r.access {
            Access::Public => "anyone".to_string(),
            Access::Signed => "any signed-in user".to_string(),
            Access::Tenant(p) => format!(
                "members whose role allows `{}` ({})",
                p.as_str(),
                crate::roles::Role::ALL
                    .iter()
                    .filter(|x| x.may(p))
                    .map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let roles: Vec<&str> = match r.access {
            Access::Tenant(p) => crate::roles::Role::ALL
                .iter()
                .filter(|x| x.may(p))
                .map(|x| x.as_str())
                .collect(),
            _ => Vec::new(),
        };
        let operation_id: String = format!("{}{}", r.verb.as_str().to_ascii_lowercase(), r.path)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
            .split('_')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        let mut op = json!({
            "operationId": operation_id,
            "x-roles": roles,
            "summary": r.summary,
            "description": format!("Who: {who}. Answers: {}.", r.answers),
            "parameters": params,
            "responses": {
                "200": {"description": r.answers},
                "default": {"description": "an error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if r.access != Access::Public {
            op["security"] = json!([{"bearer": []}, {"session": []}]);
        }
        let body = match r.body {
            Body::None => None,
            Body::Form(f) => Some(("application/x-www-form-urlencoded", fields_schema(f, false))),
            Body::Multipart(f) => Some(("multipart/form-data", fields_schema(f, true))),
            Body::Json(f) => Some(("application/json", fields_schema(f, false))),
        };
        if let Some((ct, schema)) = body {
            op["requestBody"] = json!({"required": true, "content": {ct: {"schema": schema}}});
        }
        let path = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        path[r.verb.as_str().to_ascii_lowercase()] = op;
    }
    let codes: Vec<Value> = crate::ERROR_CODES
        .iter()
        .map(|(c, d)| json!({"const": c, "description": d}))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "backstock",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A label's stock and money at its distributors. JSON under /api/v1 with `Authorization: Bearer <token>` (create one with `backstock user token EMAIL` or on /account). Pages share the same routes' access rules."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::auth::SESSION_COOKIE, "description": "state-changing requests also need the session's CSRF token (header x-csrf-token)"}
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"oneOf": codes},
                        "message": {"type": "string"},
                        "details": {"type": "array", "items": {"type": "string"}, "description": "every problem, one per item (e.g. each bad line of an upload)"}
                    }}}
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_once() {
        let doc = openapi();
        let routes = all();
        let mut seen = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        for r in &routes {
            let id = doc["paths"][r.path][r.verb.as_str().to_ascii_lowercase()]["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            assert!(ids.insert(id.clone()), "operationId {id} twice");
            assert!(
                seen.insert((r.verb, r.path)),
                "{} {} twice",
                r.verb.as_str(),
                r.path
            );
            let op = &doc["paths"][r.path][r.verb.as_str().to_ascii_lowercase()];
            assert!(op["summary"].is_string(), "{} undocumented", r.path);
            // A tenant route takes its tenant from the URL (where the extractor reads it).
            if matches!(r.access, Access::Tenant(_)) {
                assert!(r.path.contains("/t/{tenant}"), "{}", r.path);
            }
        }
        assert!(doc["paths"]["/api/v1/t/{tenant}/imports"]["post"]["requestBody"].is_object());
        assert_eq!(
            doc["paths"]["/api/v1/t/{tenant}/audit"]["get"]["operationId"],
            "get_api_v1_t_tenant_audit"
        );
        assert_eq!(
            doc["paths"]["/api/v1/t/{tenant}/audit"]["get"]["x-roles"],
            json!(["owner"])
        );
    }
}
