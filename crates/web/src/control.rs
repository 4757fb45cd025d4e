//! The control database (`DIR/control.db`): users, tenants (labels) and their
//! settings, memberships with a role per tenant, sessions, API tokens, the login
//! throttle, pending uploads and the audit log. Label data never lives here: each
//! tenant has its own `backstock_store::Store` under `DIR/labels/<slug>/`.
//!
//! Secrets are kept hashed: passwords with argon2id, session ids, CSRF-free API tokens
//! as SHA-256 of 256-bit random values (so a copy of the database opens no session).

use crate::roles::Role;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Row;
use std::path::{Path, PathBuf};

pub const CONTROL_DB: &str = "control.db";

#[derive(Debug)]
pub struct ControlError(pub String);

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<sqlx::Error> for ControlError {
    fn from(e: sqlx::Error) -> ControlError {
        ControlError(format!("control database: {e}"))
    }
}

pub type Result<T> = std::result::Result<T, ControlError>;

#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Membership {
    pub user_id: i64,
    pub tenant: String,
    pub role: Role,
    /// The party the membership is limited to: the payee id of an artist, the
    /// distributor id of a distributor.
    pub party: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TenantRow {
    pub slug: String,
    pub name: String,
    /// BCP 47 tag: en-US, en-GB, de-DE, fr-FR … (how dates and numbers are written).
    pub locale: String,
    /// ISO 4217 code of the label's home currency.
    pub currency: String,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub tenant: Option<String>,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub ip: String,
}

/// An API token as listed (never the secret).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created: String,
    /// The token it was minted with.
    pub parent: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct PendingUpload {
    pub id: String,
    pub user_id: i64,
    pub tenant: String,
    pub path: PathBuf,
    pub options: String,
}

pub struct Control {
    pool: AnyPool,
    dir: PathBuf,
    /// Where the control tables are: `None` for `DIR/control.db`, else the PostgreSQL
    /// server (password never shown).
    server: Option<String>,
    /// The database URL itself (the labels are there too).
    database: Option<String>,
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A UTC timestamp `YYYY-MM-DD HH:MM:SS` for people.
pub fn timestamp(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let date = i32::try_from(days)
        .ok()
        .and_then(|d| backstock_domain::Date::from_days_since_epoch(d).ok())
        .map(|d| d.to_string())
        .unwrap_or_else(|| "?".into());
    format!(
        "{date} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// 32 random bytes as 64 hex digits.
pub fn random_token() -> Result<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| ControlError(format!("no randomness: {e}")))?;
    Ok(hex(&b))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of a secret, hex: what is stored for session ids and API tokens.
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ControlError(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ControlError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ControlError(format!("hashing the password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Emails are compared lowercased and trimmed.
pub fn normalize_email(email: &str) -> Result<String> {
    let e = email.trim().to_ascii_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e.contains(char::is_whitespace);
    if ok {
        Ok(e)
    } else {
        Err(ControlError(format!(
            "{email:?} is not an email address (expected name@example.com)"
        )))
    }
}

/// Password rule: at least 10 characters (length is what matters; no composition rules).
pub fn check_password_rule(p: &str) -> Result<()> {
    if p.chars().count() < 10 {
        return Err(ControlError(
            "the password must have at least 10 characters".into(),
        ));
    }
    if p.len() > 1024 {
        return Err(ControlError(
            "the password must have at most 1024 bytes".into(),
        ));
    }
    Ok(())
}

/// A tenant slug: lowercase letters, digits and `-`, 1–40 characters.
pub fn check_slug(s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(ControlError(format!(
            "{s:?} is not a label id (expected lowercase letters, digits and -, up to 40)"
        )))
    }
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tenants (
  slug TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  locale TEXT NOT NULL DEFAULT 'en-US',
  currency TEXT NOT NULL DEFAULT 'USD',
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
  user_id INTEGER NOT NULL REFERENCES users(id),
  tenant TEXT NOT NULL REFERENCES tenants(slug),
  role TEXT NOT NULL,
  party TEXT,
  PRIMARY KEY (user_id, tenant)
);
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at);
CREATE TABLE IF NOT EXISTS login_addresses (
  email TEXT NOT NULL,
  ip TEXT NOT NULL,
  last_ok INTEGER NOT NULL,
  PRIMARY KEY (email, ip)
);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  tenant TEXT NOT NULL REFERENCES tenants(slug),
  path TEXT NOT NULL,
  options TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  tenant TEXT,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL,
  ip TEXT NOT NULL
);
-- One-time links (invitations, password resets): only the SHA-256 of the token is
-- kept; a link works once (used_at) and until expires_at.
CREATE TABLE IF NOT EXISTS one_time_links (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  email TEXT NOT NULL,
  tenant TEXT REFERENCES tenants(slug),
  role TEXT,
  party TEXT,
  made_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX IF NOT EXISTS one_time_links_tenant ON one_time_links(tenant, kind);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#;

/// The control tables on PostgreSQL (schema `backstock_control`): the same tables
/// and rules as [`SCHEMA`], ids as identities, times as `BIGINT` seconds.
const PG_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS tenants (
  slug TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  locale TEXT NOT NULL DEFAULT 'en-US',
  currency TEXT NOT NULL DEFAULT 'USD',
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
  user_id BIGINT NOT NULL REFERENCES users(id),
  tenant TEXT NOT NULL REFERENCES tenants(slug),
  role TEXT NOT NULL,
  party TEXT,
  PRIMARY KEY (user_id, tenant)
);
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  parent_id BIGINT
);
CREATE TABLE IF NOT EXISTS login_failures (
  key TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at);
CREATE TABLE IF NOT EXISTS login_addresses (
  email TEXT NOT NULL,
  ip TEXT NOT NULL,
  last_ok BIGINT NOT NULL,
  PRIMARY KEY (email, ip)
);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  tenant TEXT NOT NULL REFERENCES tenants(slug),
  path TEXT NOT NULL,
  options TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  tenant TEXT,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  detail TEXT NOT NULL,
  ip TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_tenant ON audit(tenant, id);
CREATE TABLE IF NOT EXISTS one_time_links (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  email TEXT NOT NULL,
  tenant TEXT REFERENCES tenants(slug),
  role TEXT,
  party TEXT,
  made_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX IF NOT EXISTS one_time_links_tenant ON one_time_links(tenant, kind);
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
DROP TRIGGER IF EXISTS audit_no_change ON audit;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
DROP TRIGGER IF EXISTS audit_no_truncate ON audit;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"#;

/// A database URL as it may be shown: without its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Columns added to tables of earlier control databases (`CREATE TABLE IF NOT EXISTS`
/// leaves an existing table as it was).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    // The token a token was minted with (NULL: made by a signed-in session or the
    // CLI): revoking a token revokes the tokens it minted.
    ("api_tokens", "parent_id", "INTEGER"),
];

async fn migrate(pool: &AnyPool) -> Result<()> {
    for (table, column, decl) in ADDED_COLUMNS {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pragma_table_info($1) WHERE name = $2")
                .bind(table)
                .bind(column)
                .fetch_one(pool)
                .await?;
        if n == 0 {
            sqlx::raw_sql(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

impl Control {
    /// Opens (creating when absent) the control database in `dir` (`DIR/control.db`).
    pub async fn open(dir: &Path) -> Result<Control> {
        Self::open_at(dir, None).await
    }

    /// Opens the control database: `DIR/control.db` without `database`, else the
    /// tables in the schema `backstock_control` of the PostgreSQL server at
    /// `database` (`postgres://…`; created when absent, by one process at a time).
    /// `dir` still holds what is not the control database: the label stores (or, on
    /// PostgreSQL, their working copies) and uploads awaiting confirmation.
    pub async fn open_at(dir: &Path, database: Option<&str>) -> Result<Control> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ControlError(format!("{}: {e}", dir.display())))?;
        sqlx::any::install_default_drivers();
        let pool = match database {
            None => {
                let path = dir.join(CONTROL_DB);
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    path.to_str().ok_or_else(|| ControlError(format!(
                        "{}: the data directory's path must be UTF-8",
                        dir.display()
                    )))?
                );
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL: readers never wait for the writer; a writer waits
                            // up to 10 s for another; foreign keys enforced.
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA busy_timeout = 10000",
                                "PRAGMA foreign_keys = ON",
                            ] {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                sqlx::raw_sql(SCHEMA).execute(&pool).await?;
                migrate(&pool).await?;
                pool
            }
            Some(url) => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query("SET search_path = backstock_control")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(|e| {
                        ControlError(format!("control database at {}: {e}", redact_url(url)))
                    })?;
                // Two servers starting at once: one makes the tables, the other
                // waits for it (CREATE … IF NOT EXISTS is not safe concurrently).
                sqlx::raw_sql(&format!(
                    "BEGIN; SET LOCAL client_min_messages = warning; SELECT pg_advisory_xact_lock(7261001); CREATE SCHEMA IF NOT EXISTS backstock_control; {PG_SCHEMA} COMMIT;"
                ))
                .execute(&pool)
                .await?;
                pool
            }
        };
        Ok(Control {
            pool,
            dir: dir.to_path_buf(),
            server: database.map(redact_url),
            database: database.map(str::to_string),
        })
    }

    /// The database URL the control tables and labels are in (`None`: the data
    /// directory).
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// The PostgreSQL server the control tables are on (`None`: `DIR/control.db`).
    pub fn server(&self) -> Option<&str> {
        self.server.as_deref()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a tenant's label store lives.
    pub fn label_dir(&self, slug: &str) -> PathBuf {
        self.dir.join("labels").join(slug)
    }

    // ---- users ----

    pub async fn add_user(&self, email: &str, name: &str, password: &str) -> Result<User> {
        let email = normalize_email(email)?;
        check_password_rule(password)?;
        if self.user_by_email(&email).await?.is_some() {
            return Err(ControlError(format!("{email} already has an account")));
        }
        let hash = hash_password(password)?;
        let name = if name.trim().is_empty() {
            email.split('@').next().unwrap_or("").to_string()
        } else {
            name.trim().to_string()
        };
        let id = sqlx::query(
            "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&email)
        .bind(&name)
        .bind(&hash)
        .bind(now())
        .fetch_one(&self.pool)
        .await?
        .get("id");
        Ok(User { id, email, name })
    }

    pub async fn set_password(&self, user_id: i64, password: &str) -> Result<()> {
        check_password_rule(password)?;
        let hash = hash_password(password)?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        // A new password ends every session and every API token of that user (a
        // token minted while the old password was known must not outlive it).
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn user_row(r: &sqlx::any::AnyRow) -> User {
        User {
            id: r.get("id"),
            email: r.get("email"),
            name: r.get("name"),
        }
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_ascii_lowercase();
        let r = sqlx::query("SELECT id, email, name FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(Self::user_row))
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let r = sqlx::query("SELECT id, email, name FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(Self::user_row))
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query("SELECT id, email, name FROM users ORDER BY email")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(Self::user_row).collect())
    }

    /// Checks a password. A missing account costs the same argon2 work as a wrong
    /// password, so timing does not tell which emails have accounts.
    pub async fn check_login(&self, email: &str, password: &str) -> Result<Option<User>> {
        let email = email.trim().to_ascii_lowercase();
        let r = sqlx::query("SELECT id, email, name, password_hash FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = r else {
            // Same work as a real check (against a hash of nothing anyone knows).
            let pw = password.to_string();
            let _ = tokio::task::spawn_blocking(move || verify_password(&pw, dummy_hash())).await;
            return Ok(None);
        };
        let hash: String = r.get("password_hash");
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
            .await
            .unwrap_or(false);
        Ok(ok.then(|| Self::user_row(&r)))
    }

    // ---- tenants ----

    pub async fn ensure_tenant(&self, slug: &str, name: &str) -> Result<TenantRow> {
        check_slug(slug)?;
        sqlx::query("INSERT INTO tenants (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING")
            .bind(slug)
            .bind(name)
            .bind(now())
            .execute(&self.pool)
            .await?;
        self.tenant(slug)
            .await?
            .ok_or_else(|| ControlError(format!("label {slug} was not created")))
    }

    pub async fn tenant(&self, slug: &str) -> Result<Option<TenantRow>> {
        let r = sqlx::query("SELECT slug, name, locale, currency FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.map(|r| TenantRow {
            slug: r.get("slug"),
            name: r.get("name"),
            locale: r.get("locale"),
            currency: r.get("currency"),
        }))
    }

    pub async fn tenants(&self) -> Result<Vec<TenantRow>> {
        let rows = sqlx::query("SELECT slug, name, locale, currency FROM tenants ORDER BY slug")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TenantRow {
                slug: r.get("slug"),
                name: r.get("name"),
                locale: r.get("locale"),
                currency: r.get("currency"),
            })
            .collect())
    }

    pub async fn set_tenant_format(&self, slug: &str, locale: &str, currency: &str) -> Result<()> {
        sqlx::query("UPDATE tenants SET locale = $1, currency = $2 WHERE slug = $3")
            .bind(locale)
            .bind(currency)
            .bind(slug)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- memberships ----

    /// Grants `role` on `tenant` (replacing an earlier role). Artists must name their
    /// payee id, distributors their distributor id; other roles name none.
    pub async fn set_membership(
        &self,
        user_id: i64,
        tenant: &str,
        role: Role,
        party: Option<&str>,
    ) -> Result<()> {
        let party = party.map(str::trim).filter(|p| !p.is_empty());
        let party = match (role.needs_party(), party) {
            (true, None) => {
                return Err(ControlError(format!(
                    "the {role} role is limited to one {}: give its id",
                    role.party_kind()
                )))
            }
            (true, Some(p)) => Some(
                backstock_domain::PartyId::parse(p)
                    .map_err(|e| ControlError(format!("{}: {e}", role.party_kind())))?
                    .to_string(),
            ),
            (false, _) => None,
        };
        if self.tenant(tenant).await?.is_none() {
            return Err(ControlError(format!("no label {tenant}")));
        }
        sqlx::query(
            "INSERT INTO memberships (user_id, tenant, role, party) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, tenant) DO UPDATE SET role = excluded.role, party = excluded.party",
        )
        .bind(user_id)
        .bind(tenant)
        .bind(role.as_str())
        .bind(party)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends a membership: true when there was one.
    pub async fn remove_membership(&self, user_id: i64, tenant: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND tenant = $2")
            .bind(user_id)
            .bind(tenant)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    fn membership_row(r: &sqlx::any::AnyRow) -> Option<Membership> {
        Some(Membership {
            user_id: r.get("user_id"),
            tenant: r.get("tenant"),
            role: Role::parse(r.get::<String, _>("role").as_str())?,
            party: r.get("party"),
        })
    }

    pub async fn membership(&self, user_id: i64, tenant: &str) -> Result<Option<Membership>> {
        let r = sqlx::query(
            "SELECT user_id, tenant, role, party FROM memberships WHERE user_id = $1 AND tenant = $2",
        )
        .bind(user_id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().and_then(Self::membership_row))
    }

    pub async fn memberships_of(&self, user_id: i64) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT user_id, tenant, role, party FROM memberships WHERE user_id = $1 ORDER BY tenant",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().filter_map(Self::membership_row).collect())
    }

    /// The members of one tenant with their accounts, by email.
    pub async fn members(&self, tenant: &str) -> Result<Vec<(User, Membership)>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.name, m.user_id, m.tenant, m.role, m.party
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.tenant = $1 ORDER BY u.email",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((Self::user_row(r), Self::membership_row(r)?)))
            .collect())
    }

    // ---- sessions ----

    /// A new session for `user_id`: returns (session id, CSRF token). Only the
    /// session id's digest is stored.
    pub async fn create_session(&self, user_id: i64) -> Result<(String, String)> {
        let sid = random_token()?;
        let csrf = random_token()?;
        let t = now();
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(digest(&sid))
        .bind(user_id)
        .bind(&csrf)
        .bind(t)
        .bind(t)
        .execute(&self.pool)
        .await?;
        Ok((sid, csrf))
    }

    /// The live session with this id, touched; `None` when unknown or idle longer than
    /// `idle_secs` (an idle session is deleted).
    pub async fn session(&self, sid: &str, idle_secs: i64) -> Result<Option<SessionRow>> {
        let h = digest(sid);
        let r = sqlx::query("SELECT user_id, csrf, last_seen FROM sessions WHERE id_hash = $1")
            .bind(&h)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = r else { return Ok(None) };
        let last: i64 = r.get("last_seen");
        let t = now();
        if t - last > idle_secs {
            self.delete_session(sid).await?;
            return Ok(None);
        }
        // Touch at most once a minute (keeps the write load of page views low).
        if t - last >= 60 {
            sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
                .bind(t)
                .bind(&h)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(SessionRow {
            user_id: r.get("user_id"),
            csrf: r.get("csrf"),
        }))
    }

    pub async fn delete_session(&self, sid: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(digest(sid))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- API tokens ----

    /// A new API token for `user_id` (shown once; only its digest is kept).
    pub async fn create_token(&self, user_id: i64, name: &str) -> Result<String> {
        Ok(self.mint_token(user_id, name, None).await?.1)
    }

    /// A new API token for `user_id`, minted with the token `parent` (when made with a
    /// token): (its id, the token). Revoking the parent revokes it.
    pub async fn mint_token(
        &self,
        user_id: i64,
        name: &str,
        parent: Option<i64>,
    ) -> Result<(i64, String)> {
        let token = format!("bst_{}", random_token()?);
        let id = sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, name, created_at, parent_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(digest(&token))
        .bind(user_id)
        .bind(name)
        .bind(now())
        .bind(parent)
        .fetch_one(&self.pool)
        .await?
        .get("id");
        Ok((id, token))
    }

    pub async fn token_user(&self, token: &str) -> Result<Option<i64>> {
        Ok(self.token(token).await?.map(|(_, user)| user))
    }

    /// (token id, user id) of a live token.
    pub async fn token(&self, token: &str) -> Result<Option<(i64, i64)>> {
        let r = sqlx::query("SELECT id, user_id FROM api_tokens WHERE token_hash = $1")
            .bind(digest(token))
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.map(|r| (r.get("id"), r.get("user_id"))))
    }

    /// (id, name, created) of a user's tokens.
    pub async fn tokens_of(&self, user_id: i64) -> Result<Vec<(i64, String, String)>> {
        Ok(self
            .token_rows(user_id)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name, t.created))
            .collect())
    }

    /// A user's tokens, with the token each was minted with.
    pub async fn token_rows(&self, user_id: i64) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, parent_id FROM api_tokens WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| TokenRow {
                id: r.get("id"),
                name: r.get("name"),
                created: timestamp(r.get("created_at")),
                parent: r.get("parent_id"),
            })
            .collect())
    }

    /// Revokes one of the user's own tokens: its name, or `None` when the user has no
    /// token with that id. The tokens it minted (and theirs) go with it.
    pub async fn revoke_token(&self, user_id: i64, id: i64) -> Result<Option<String>> {
        Ok(self.revoke_token_tree(user_id, id).await?.map(|(n, _)| n))
    }

    /// [`Control::revoke_token`]: (its name, the names of the tokens minted from it,
    /// revoked with it), all in one transaction.
    pub async fn revoke_token_tree(
        &self,
        user_id: i64,
        id: i64,
    ) -> Result<Option<(String, Vec<String>)>> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "WITH RECURSIVE tree(id) AS (
                 SELECT id FROM api_tokens WHERE id = $1 AND user_id = $2
                 UNION SELECT t.id FROM api_tokens t JOIN tree ON t.parent_id = tree.id
                 WHERE t.user_id = $2)
             DELETE FROM api_tokens WHERE id IN (SELECT id FROM tree) RETURNING id, name",
        )
        .bind(id)
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut name = None;
        let mut minted = Vec::new();
        for r in rows {
            if r.get::<i64, _>("id") == id {
                name = Some(r.get("name"));
            } else {
                minted.push((r.get::<i64, _>("id"), r.get::<String, _>("name")));
            }
        }
        minted.sort();
        Ok(name.map(|n| (n, minted.into_iter().map(|(_, n)| n).collect())))
    }

    // ---- login throttle ----

    /// Failed logins for `key` (e.g. `account:x@y`, `ip:1.2.3.4`) in the last `window` s.
    pub async fn failures(&self, key: &str, window: i64) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE key = $1 AND at > $2")
            .bind(key)
            .bind(now() - window)
            .fetch_one(&self.pool)
            .await?;
        Ok(r.get("n"))
    }

    pub async fn record_failure(&self, keys: &[String]) -> Result<()> {
        let t = now();
        for k in keys {
            sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                .bind(k)
                .bind(t)
                .execute(&self.pool)
                .await?;
        }
        // Old failures are of no use to the throttle.
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(t - 86_400)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failures for `key` in the last `window` s: (how many, the oldest, the latest).
    pub async fn failure_span(
        &self,
        key: &str,
        window: i64,
    ) -> Result<(i64, Option<i64>, Option<i64>)> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at) AS first, MAX(at) AS last FROM login_failures WHERE key = $1 AND at > $2",
        )
        .bind(key)
        .bind(now() - window)
        .fetch_one(&self.pool)
        .await?;
        Ok((r.get("n"), r.get("first"), r.get("last")))
    }

    /// Notes a successful sign-in to `email` from `ip`: the address is known to the
    /// account (an account lock does not apply to it).
    pub async fn mark_known_address(&self, email: &str, ip: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO login_addresses (email, ip, last_ok) VALUES ($1, $2, $3)
             ON CONFLICT (email, ip) DO UPDATE SET last_ok = excluded.last_ok",
        )
        .bind(email)
        .bind(ip)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether `email` signed in from `ip` in the last `within` s.
    pub async fn known_address(&self, email: &str, ip: &str, within: i64) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_addresses WHERE email = $1 AND ip = $2 AND last_ok > $3",
        )
        .bind(email)
        .bind(ip)
        .bind(now() - within)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    pub async fn clear_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- uploads awaiting confirmation ----

    pub async fn add_upload(&self, u: &PendingUpload) -> Result<()> {
        sqlx::query(
            "INSERT INTO uploads (id, user_id, tenant, path, options, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&u.id)
        .bind(u.user_id)
        .bind(&u.tenant)
        .bind(u.path.to_string_lossy().to_string())
        .bind(&u.options)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The upload with this id made by this user in this tenant (any other
    /// combination is as if it did not exist).
    pub async fn upload(
        &self,
        id: &str,
        user_id: i64,
        tenant: &str,
    ) -> Result<Option<PendingUpload>> {
        let r = sqlx::query(
            "SELECT id, user_id, tenant, path, options FROM uploads WHERE id = $1 AND user_id = $2 AND tenant = $3",
        )
        .bind(id)
        .bind(user_id)
        .bind(tenant)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.map(|r| PendingUpload {
            id: r.get("id"),
            user_id: r.get("user_id"),
            tenant: r.get("tenant"),
            path: PathBuf::from(r.get::<String, _>("path")),
            options: r.get("options"),
        }))
    }

    /// Uploads previewed more than `age` seconds ago and never confirmed: removed
    /// from the table; their ids are returned so their files can be deleted.
    pub async fn expire_uploads(&self, age: i64) -> Result<Vec<String>> {
        let rows = sqlx::query("DELETE FROM uploads WHERE created_at < $1 RETURNING id")
            .bind(now() - age)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.get("id")).collect())
    }

    /// Takes the upload (one time): true when this call removed it.
    pub async fn take_upload(&self, id: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    // ---- audit ----

    pub async fn audit(
        &self,
        tenant: Option<&str>,
        actor: &str,
        action: &str,
        detail: &str,
        ip: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (at, tenant, actor, action, detail, ip) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now())
        .bind(tenant)
        .bind(actor)
        .bind(action)
        .bind(detail)
        .bind(ip)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A tenant's audit log, newest first: its own events and the logins of its
    /// members.
    pub async fn audit_log(&self, tenant: &str, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT id, at, tenant, actor, action, detail, ip FROM audit
             WHERE tenant = $1
                OR (tenant IS NULL AND actor IN (SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.tenant = $1))
             ORDER BY id DESC LIMIT $2",
        )
        .bind(tenant)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AuditRow {
                id: r.get("id"),
                at: timestamp(r.get("at")),
                tenant: r.get("tenant"),
                actor: r.get("actor"),
                action: r.get("action"),
                detail: r.get("detail"),
                ip: r.get("ip"),
            })
            .collect())
    }
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Join a label with a role (and party); a new account sets its password.
    Invite,
    /// Set a new password for an account.
    Reset,
    /// Finish signing up (`serve --smtp`): the address was proven by opening it.
    Signup,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Invite => "invite",
            LinkKind::Reset => "reset",
            LinkKind::Signup => "signup",
        }
    }
}

/// A one-time link as stored (never its token).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LinkRow {
    pub id: i64,
    pub email: String,
    pub tenant: Option<String>,
    pub role: Option<Role>,
    pub party: Option<String>,
    pub made_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// What a link's token leads to.
#[derive(Debug, Clone)]
pub enum LinkState {
    /// Usable now.
    Valid(LinkRow),
    /// Used already (at that time).
    Used(LinkRow),
    /// Past its expiry.
    Expired(LinkRow),
    /// No such link (or one of another kind).
    Unknown,
}

impl Control {
    // ---- one-time links (invitations, password resets) ----

    /// Makes a one-time link valid for `valid_secs`: (its id, the token). Only the
    /// token's SHA-256 is kept.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_link(
        &self,
        kind: LinkKind,
        email: &str,
        tenant: Option<&str>,
        role: Option<Role>,
        party: Option<&str>,
        made_by: &str,
        valid_secs: i64,
    ) -> Result<(i64, String)> {
        let token = random_token()?;
        let t = now();
        let id = sqlx::query(
            "INSERT INTO one_time_links (token_hash, kind, email, tenant, role, party, made_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(digest(&token))
        .bind(kind.as_str())
        .bind(email)
        .bind(tenant)
        .bind(role.map(Role::as_str))
        .bind(party)
        .bind(made_by)
        .bind(t)
        .bind(t.saturating_add(valid_secs))
        .fetch_one(&self.pool)
        .await?
        .get("id");
        Ok((id, token))
    }

    fn link_row(r: &sqlx::any::AnyRow) -> LinkRow {
        LinkRow {
            id: r.get("id"),
            email: r.get("email"),
            tenant: r.get("tenant"),
            role: r
                .get::<Option<String>, _>("role")
                .as_deref()
                .and_then(Role::parse),
            party: r.get("party"),
            made_by: r.get("made_by"),
            created_at: r.get("created_at"),
            expires_at: r.get("expires_at"),
            used_at: r.get("used_at"),
        }
    }

    /// What the token of a `kind` link leads to now.
    pub async fn link(&self, kind: LinkKind, token: &str) -> Result<LinkState> {
        let r = sqlx::query(
            "SELECT id, email, tenant, role, party, made_by, created_at, expires_at, used_at
             FROM one_time_links WHERE token_hash = $1 AND kind = $2",
        )
        .bind(digest(token.trim()))
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = r else {
            return Ok(LinkState::Unknown);
        };
        let row = Self::link_row(&r);
        Ok(if row.used_at.is_some() {
            LinkState::Used(row)
        } else if row.expires_at <= now() {
            LinkState::Expired(row)
        } else {
            LinkState::Valid(row)
        })
    }

    /// Uses the link (once): true when this call used it, false when it was used
    /// already or has expired meanwhile.
    pub async fn use_link(&self, id: i64) -> Result<bool> {
        let t = now();
        let n = sqlx::query(
            "UPDATE one_time_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(t)
        .bind(id)
        .bind(t)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Ends the unused `kind` links of an email (a newer one replaces them): how many.
    pub async fn end_links(&self, kind: LinkKind, email: &str) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE one_time_links SET used_at = $1 WHERE kind = $2 AND email = $3 AND used_at IS NULL",
        )
        .bind(now())
        .bind(kind.as_str())
        .bind(email)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// A label's invitations not used and not expired, newest first.
    pub async fn pending_invitations(&self, tenant: &str) -> Result<Vec<LinkRow>> {
        let rows = sqlx::query(
            "SELECT id, email, tenant, role, party, made_by, created_at, expires_at, used_at
             FROM one_time_links
             WHERE tenant = $1 AND kind = 'invite' AND used_at IS NULL AND expires_at > $2
             ORDER BY id DESC",
        )
        .bind(tenant)
        .bind(now())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(Self::link_row).collect())
    }

    /// Creates a label: its store under `labels/<slug>/` (`backstock user add
    /// --create-label`, sign-up and `POST /api/v1/labels` all come here: the one place
    /// a label is made), then its row. Refused when the id is taken by a label; a
    /// directory already there is taken too unless `adopt` (the operator's CLI adopts
    /// a store moved into `labels/<slug>/`; a newcomer on the web is never handed one).
    pub async fn create_label(&self, slug: &str, name: &str, adopt: bool) -> Result<TenantRow> {
        check_slug(slug)?;
        let name = check_label_name(name)?;
        let dir = self.label_dir(slug);
        if self.tenant(slug).await?.is_some() || (dir.exists() && !adopt) {
            return Err(ControlError(format!(
                "the label id {slug:?} is taken; choose another"
            )));
        }
        if let (Some(url), false) = (&self.database, adopt) {
            // A label of that id already in the database (copied there by `store
            // copy`) is the operator's to adopt, never a newcomer's.
            use backstock_store::contract::Journal;
            // On a thread of its own: the PostgreSQL store's futures are not `Send`.
            let (url, label) = (url.clone(), slug.to_string());
            let handle = tokio::runtime::Handle::current();
            let held = tokio::task::spawn_blocking(move || {
                handle.block_on(async move {
                    backstock_store_pg::PgStore::connect(&url, &label)
                        .await?
                        .head()
                        .await
                })
            })
            .await
            .map_err(|e| ControlError(format!("the label {slug} in the database: {e}")))?
            .map_err(|e| ControlError(format!("the label {slug} in the database: {e}")))?;
            if held.entries > 0 {
                return Err(ControlError(format!(
                    "the label id {slug:?} is taken; choose another"
                )));
            }
        }
        backstock_store::Store::open(&dir, true)
            .await
            .map_err(|e| ControlError(format!("creating the store of {slug}: {e}")))?;
        let n =
            sqlx::query("INSERT INTO tenants (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING")
                .bind(slug)
                .bind(&name)
                .bind(now())
                .execute(&self.pool)
                .await?
                .rows_affected();
        if n != 1 {
            return Err(ControlError(format!(
                "the label id {slug:?} is taken; choose another"
            )));
        }
        self.tenant(slug)
            .await?
            .ok_or_else(|| ControlError(format!("label {slug} was not created")))
    }
}

/// A label's name: 1–100 characters, no control characters; trimmed.
pub fn check_label_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() {
        return Err(ControlError("give the label a name".into()));
    }
    if n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(ControlError(
            "the label's name must be at most 100 characters, without control characters".into(),
        ));
    }
    Ok(n.to_string())
}

/// An argon2id hash of a random value nobody knows (for equal-time failed lookups).
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret = random_token().unwrap_or_else(|_| format!("{:?}", std::time::Instant::now()));
        hash_password(&secret).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batter", &h));
        assert!(!verify_password("x", "not a hash"));
        let a = random_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token().unwrap());
        assert_eq!(digest("abc").len(), 64);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[test]
    fn emails_slugs_timestamps() {
        assert_eq!(normalize_email(" A@Example.com ").unwrap(), "a@example.com");
        assert!(normalize_email("nobody").is_err());
        assert!(normalize_email("a@b").is_err());
        assert!(check_slug("marigold-2").is_ok());
        assert!(check_slug("Marigold").is_err());
        assert!(check_slug("../x").is_err());
        assert_eq!(timestamp(86_400 + 3661), "1970-01-02 01:01:01");
        assert!(check_password_rule("short").is_err());
    }

    #[tokio::test]
    async fn sessions_expire_and_memberships_need_parties() {
        let dir = tempfile::tempdir().unwrap();
        let c = Control::open(dir.path()).await.unwrap();
        let u = c.add_user("o@x.org", "O", "long enough pw").await.unwrap();
        assert!(c.add_user("O@x.org", "", "long enough pw").await.is_err());
        assert!(c
            .check_login("o@x.org", "long enough pw")
            .await
            .unwrap()
            .is_some());
        assert!(c
            .check_login("o@x.org", "wrong password")
            .await
            .unwrap()
            .is_none());
        assert!(c
            .check_login("nobody@x.org", "whatever!!")
            .await
            .unwrap()
            .is_none());
        c.ensure_tenant("a", "A").await.unwrap();
        assert!(c
            .set_membership(u.id, "a", Role::Artist, None)
            .await
            .is_err());
        c.set_membership(u.id, "a", Role::Artist, Some("june-okafor"))
            .await
            .unwrap();
        assert_eq!(
            c.membership(u.id, "a").await.unwrap().unwrap().role,
            Role::Artist
        );
        assert!(c.membership(u.id, "b").await.unwrap().is_none());
        let (sid, _) = c.create_session(u.id).await.unwrap();
        assert!(c.session(&sid, 60).await.unwrap().is_some());
        assert!(c.session(&sid, -1).await.unwrap().is_none());
        assert!(c.session(&sid, 60).await.unwrap().is_none());
        let t = c.create_token(u.id, "cli").await.unwrap();
        assert_eq!(c.token_user(&t).await.unwrap(), Some(u.id));
        assert_eq!(c.token_user("bst_nope").await.unwrap(), None);
        c.audit(Some("a"), "o@x.org", "login", "", "127.0.0.1")
            .await
            .unwrap();
        assert_eq!(c.audit_log("a", 10).await.unwrap().len(), 1);
        assert!(sqlx::query("DELETE FROM audit")
            .execute(&c.pool)
            .await
            .is_err());
    }
}

#[cfg(test)]
mod migration_tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;

    /// A control database made before tokens knew their parent opens, gains the column,
    /// and keeps its tokens working.
    #[tokio::test]
    async fn an_older_control_database_gains_the_token_parent() {
        let dir = tempfile::tempdir().unwrap();
        {
            let opts = SqliteConnectOptions::from_str("sqlite:")
                .unwrap()
                .filename(dir.path().join(CONTROL_DB))
                .create_if_missing(true);
            let pool = SqlitePoolOptions::new().connect_with(opts).await.unwrap();
            sqlx::raw_sql(
                "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
                 CREATE TABLE api_tokens (id INTEGER PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, user_id INTEGER NOT NULL REFERENCES users(id), name TEXT NOT NULL, created_at INTEGER NOT NULL);
                 INSERT INTO users VALUES (1, 'a@b.test', 'a', 'x', 0);",
            )
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query("INSERT INTO api_tokens (token_hash, user_id, name, created_at) VALUES ($1, 1, 'old', 0)")
                .bind(digest("bst_old"))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        let c = Control::open(dir.path()).await.unwrap();
        assert_eq!(c.token("bst_old").await.unwrap(), Some((1, 1)));
        let (child, _) = c.mint_token(1, "child", Some(1)).await.unwrap();
        assert_eq!(c.token_rows(1).await.unwrap()[1].parent, Some(1));
        let (name, minted) = c.revoke_token_tree(1, 1).await.unwrap().unwrap();
        assert_eq!((name.as_str(), minted), ("old", vec!["child".to_string()]));
        assert!(c.token_rows(1).await.unwrap().is_empty(), "{child}");
        // An older database gains the one-time links table too.
        let (id, t) = c
            .create_link(
                LinkKind::Reset,
                "a@b.test",
                None,
                None,
                None,
                "a@b.test",
                60,
            )
            .await
            .unwrap();
        assert!(matches!(
            c.link(LinkKind::Reset, &t).await.unwrap(),
            LinkState::Valid(_)
        ));
        assert!(matches!(
            c.link(LinkKind::Invite, &t).await.unwrap(),
            LinkState::Unknown
        ));
        assert!(c.use_link(id).await.unwrap());
        assert!(!c.use_link(id).await.unwrap(), "once");
        assert!(matches!(
            c.link(LinkKind::Reset, &t).await.unwrap(),
            LinkState::Used(_)
        ));
        let (late, t) = c
            .create_link(
                LinkKind::Reset,
                "a@b.test",
                None,
                None,
                None,
                "a@b.test",
                -1,
            )
            .await
            .unwrap();
        assert!(matches!(
            c.link(LinkKind::Reset, &t).await.unwrap(),
            LinkState::Expired(_)
        ));
        assert!(
            !c.use_link(late).await.unwrap(),
            "an expired link is not used"
        );
        // Opening again changes nothing.
        drop(c);
        Control::open(dir.path()).await.unwrap();
    }
}
