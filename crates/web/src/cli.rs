//! What `backstock serve` and `backstock user …` do (the CLI parses, this acts).

use crate::control::Control;
use crate::roles::Role;
use crate::{AppState, Config};
use backstock_app::{AppError, Exit};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The demo tenant.
pub const DEMO_LABEL: &str = "marigold";
/// The demo password when `--demo-password` is not given (printed at start).
pub const DEMO_PASSWORD: &str = "marigold-demo";

/// The demo logins: (email, role, party).
pub const DEMO_USERS: [(&str, Role, Option<&str>); 5] = [
    ("owner@marigold.test", Role::Owner, None),
    ("staff@marigold.test", Role::Staff, None),
    ("bookkeeper@marigold.test", Role::Bookkeeper, None),
    ("artist@marigold.test", Role::Artist, Some("june-okafor")),
    (
        "distributor@marigold.test",
        Role::Distributor,
        Some("northwind"),
    ),
];

fn err(e: crate::control::ControlError) -> AppError {
    AppError::new(Exit::Other, e.0)
}

fn input(e: crate::control::ControlError) -> AppError {
    AppError::new(Exit::Input, e.0)
}

pub const SERVE_EXAMPLES: &str = "Examples:\n  backstock serve --demo                      demo label, one login per role (printed)\n  backstock --data-dir /srv/backstock serve --addr 0.0.0.0:8080 --secure-cookies";

/// `backstock serve`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Create the demo label (Marigold Records) and one login per role, then serve it
    /// (data in ./backstock-serve-demo unless --data-dir).
    #[arg(long)]
    pub demo: bool,
    /// The demo logins' password (default: marigold-demo).
    #[arg(long, requires = "demo")]
    pub demo_password: Option<String>,
    /// Mark the session cookie Secure (serving over TLS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Behind a reverse proxy: trust X-Forwarded-For, -Proto and -Host.
    #[arg(long)]
    pub behind_proxy: bool,
    /// Minutes of inactivity after which a session ends.
    #[arg(long, default_value_t = 30)]
    pub idle_minutes: i64,
    /// No sign-up: accounts and labels are not made on the web (only by invitation
    /// and `backstock user add`).
    #[arg(long)]
    pub no_signup: bool,
    /// Mail invitation and password-reset links through this SMTP server
    /// (`smtp://[user:password@]host[:port]`, plain SMTP; e.g. a local relay). Without
    /// it the links are written to the server's log (and invitations shown to the owner).
    #[arg(long, value_name = "URL")]
    pub smtp: Option<String>,
    /// The sender of those mails.
    #[arg(long, value_name = "ADDRESS", default_value = "backstock@localhost")]
    pub mail_from: String,
    /// Where people reach the server (e.g. https://labels.example.com): the start of
    /// the links mailed. Default: http:// and the address served on.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

/// `backstock user …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Give an account (created if new: password from $BACKSTOCK_PASSWORD or stdin) a role in a label.
    Add {
        email: String,
        #[arg(long)]
        label: String,
        #[arg(long)]
        role: String,
        /// The payee id (artist) or distributor id (distributor) the role is limited to.
        #[arg(long)]
        party: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Create the label with this name if it does not exist.
        #[arg(long)]
        create_label: Option<String>,
    },
    /// Accounts and their roles.
    List {
        #[arg(long)]
        label: Option<String>,
    },
    /// Change a member's role in a label.
    Role {
        email: String,
        #[arg(long)]
        label: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        party: Option<String>,
    },
    /// Create an API token for the account (printed once).
    Token {
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Set a new password (from $BACKSTOCK_PASSWORD or stdin); ends their sessions.
    Password { email: String },
}

/// Runs a `backstock user …` command on the data directory `dir`.
pub async fn user(
    dir: &Path,
    database: Option<&str>,
    command: UserCommand,
) -> Result<String, AppError> {
    let control = Control::open_at(dir, database).await.map_err(err)?;
    let c = &control;
    match command {
        UserCommand::Add {
            email,
            label,
            role,
            party,
            name,
            create_label,
        } => {
            user_add(
                c,
                &email,
                &label,
                &role,
                party.as_deref(),
                name.as_deref(),
                create_label.as_deref(),
            )
            .await
        }
        UserCommand::List { label } => user_list(c, label.as_deref()).await,
        UserCommand::Role {
            email,
            label,
            role,
            party,
        } => user_role(c, &email, &label, &role, party.as_deref()).await,
        UserCommand::Token { email, name } => user_token(c, &email, &name).await,
        UserCommand::Password { email } => user_password(c, &email).await,
    }
}

/// Creates the demo label (when absent) as a tenant with one login per role.
pub async fn setup_demo(control: &Control, password: &str) -> Result<String, AppError> {
    control
        .ensure_tenant(DEMO_LABEL, "Marigold Records")
        .await
        .map_err(err)?;
    let dir = control.label_dir(DEMO_LABEL);
    match control.database() {
        None => {
            let loaded = match backstock_store::Store::open(&dir, false).await {
                Ok(s) => s.entry_count().await? > 0,
                Err(_) => false,
            };
            if !loaded {
                backstock_app::demo::load(&dir, None).await?;
            }
        }
        Some(url) => {
            // The demo label in the database: made in the working copy's place and
            // copied there, once.
            use backstock_store::contract::Journal;
            let on_server = |e: backstock_store::StoreError| {
                AppError::new(Exit::Other, format!("the demo label in the database: {e}"))
            };
            let pg = backstock_store_pg::PgStore::connect(url, DEMO_LABEL)
                .await
                .map_err(on_server)?;
            if pg.head().await.map_err(on_server)?.entries == 0 {
                if dir.exists() {
                    std::fs::remove_dir_all(&dir).map_err(|e| {
                        AppError::new(Exit::Other, format!("{}: {e}", dir.display()))
                    })?;
                }
                backstock_app::demo::load(&dir, None).await?;
                let local = backstock_store::Store::open(&dir, false).await?;
                backstock_store::copy::copy_journal(&local, &pg)
                    .await
                    .map_err(on_server)?;
                local.pool().close().await;
            }
        }
    }
    let mut out = String::from("Demo logins (label \"marigold\", Marigold Records):\n");
    for (email, role, party) in DEMO_USERS {
        let user = match control.user_by_email(email).await.map_err(err)? {
            Some(u) => {
                control.set_password(u.id, password).await.map_err(input)?;
                u
            }
            None => control
                .add_user(email, &format!("Demo {role}"), password)
                .await
                .map_err(input)?,
        };
        control
            .set_membership(user.id, DEMO_LABEL, role, party)
            .await
            .map_err(err)?;
        out.push_str(&format!(
            "  {email:<28} {role:<12}{}\n",
            party.map(|p| format!(" ({p})")).unwrap_or_default()
        ));
    }
    out.push_str(&format!("Password for all of them: {password}\n"));
    Ok(out)
}

/// Serves the labels of `data_dir` until Ctrl-C.
pub async fn serve(
    a: ServeArgs,
    data_dir: PathBuf,
    database: Option<String>,
) -> Result<String, AppError> {
    crate::init_logging();
    let mut config = Config::new(data_dir.clone());
    config.database = database;
    config.secure_cookies = a.secure_cookies;
    config.behind_proxy = a.behind_proxy;
    config.idle_secs = a.idle_minutes.max(1) * 60;
    config.no_signup = a.no_signup;
    if let Some(url) = &a.smtp {
        config.mail = crate::signup::Mail::smtp(url, &a.mail_from)
            .map_err(|e| AppError::new(Exit::Input, e))?;
    }
    let listener = tokio::net::TcpListener::bind(&a.addr)
        .await
        .map_err(|e| AppError::new(Exit::Other, format!("cannot listen on {}: {e}", a.addr)))?;
    let local = listener
        .local_addr()
        .map_err(|e| AppError::new(Exit::Other, e.to_string()))?;
    // Links are made from this, never from a request's Host (which a stranger sets).
    config.base_url = Some(
        a.base_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{local}")),
    );
    let state = AppState::open(config).await.map_err(err)?;
    let mut intro = String::new();
    if a.demo {
        let pw = a.demo_password.as_deref().unwrap_or(DEMO_PASSWORD);
        intro.push_str(&setup_demo(&state.control, pw).await?);
    } else if state.control.tenants().await.map_err(err)?.is_empty() {
        if data_dir.join(backstock_store::DB_FILE).exists() {
            intro.push_str(&format!(
                "{} holds one label's database ({}); the web app serves labels from {}/labels/<label>/. Move it there, e.g.:\n  mkdir -p {d}/labels/mylabel && mv {d}/{db}* {d}/labels/mylabel/\nthen create the label and its owner as below.\n",
                data_dir.display(),
                backstock_store::DB_FILE,
                data_dir.display(),
                d = data_dir.display(),
                db = backstock_store::DB_FILE,
            ));
        }
        intro.push_str(&format!(
            "No labels in {} yet. Create one with its owner:\n  backstock --data-dir {} user add you@example.com --label mylabel --create-label \"My Label\" --role owner\n",
            data_dir.display(),
            data_dir.display()
        ));
        if !a.no_signup {
            intro.push_str(&format!(
                "or sign up in the browser: {}/signup\n",
                state.config.base_url.as_deref().unwrap_or("")
            ));
        }
    }
    println!(
        "{intro}backstock is serving {} on http://{local}/  (Ctrl-C stops)",
        data_dir.display()
    );
    let app = crate::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| AppError::new(Exit::Other, format!("serving: {e}")))?;
    Ok("Stopped.\n".into())
}

/// A password from `$BACKSTOCK_PASSWORD`, else the first line of standard input.
pub fn read_password() -> Result<String, AppError> {
    if let Ok(p) = std::env::var("BACKSTOCK_PASSWORD") {
        return Ok(p);
    }
    eprintln!("Password (at least 10 characters), then Enter:");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| AppError::new(Exit::Other, format!("reading the password: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn role(s: &str) -> Result<Role, AppError> {
    Role::parse(s).ok_or_else(|| {
        AppError::new(
            Exit::Input,
            format!("--role {s:?}: expected owner, staff, bookkeeper, artist or distributor"),
        )
    })
}

/// Refuses a limited role's party that is not one of the label's, with the sentence
/// the web app says ([`crate::views::Parties::check`]): the payees on file for an
/// artist, the distributors for a distributor member.
async fn check_party(
    c: &Control,
    label: &str,
    role: Role,
    party: Option<&str>,
) -> Result<(), AppError> {
    let Some(party) = crate::views::party_to_check(role, party) else {
        return Ok(());
    };
    label_parties(c, label)
        .await?
        .check(role, party)
        .map_err(|e| AppError::new(Exit::Input, format!("--party {party}: {e}")))
}

/// The label's parties as of its today, read from its store (the data directory's,
/// or the database's with `--database`).
async fn label_parties(c: &Control, label: &str) -> Result<crate::views::Parties, AppError> {
    use backstock_store::contract::{Journal, Settings};
    async fn read<S: Journal + Settings>(
        s: &S,
    ) -> Result<crate::views::Parties, backstock_store::StoreError> {
        let today = s
            .settings()
            .await?
            .into_iter()
            .find(|(k, _)| k == "today")
            .and_then(|(_, v)| backstock_domain::Date::parse(&v).ok())
            .unwrap_or_else(backstock_app::today);
        let mut entries = Vec::new();
        s.each_entry(&[], Some(today), |_, e| {
            entries.push(e);
            Ok(())
        })
        .await?;
        Ok(crate::views::parties_of(&entries, today))
    }
    match c.database() {
        Some(url) => {
            let pg = backstock_store_pg::PgStore::connect(url, label).await?;
            Ok(read(&pg).await?)
        }
        None => {
            let store = backstock_store::Store::open(&c.label_dir(label), false).await?;
            let parties = read(&store).await;
            store.pool().close().await;
            Ok(parties?)
        }
    }
}

/// `backstock user add EMAIL --label L --role R [--party P] [--name N] [--create-label NAME]`.
pub async fn user_add(
    c: &Control,
    email: &str,
    label: &str,
    role_name: &str,
    party: Option<&str>,
    name: Option<&str>,
    create_label: Option<&str>,
) -> Result<String, AppError> {
    let role = role(role_name)?;
    let mut out = String::new();
    if let Some(n) = create_label {
        if c.tenant(label).await.map_err(err)?.is_none() {
            c.create_label(label, n, true).await.map_err(input)?;
            out.push_str(&format!(
                "Created label {label} ({n}) in {}.\n",
                c.label_dir(label).display()
            ));
        }
    }
    if c.tenant(label).await.map_err(err)?.is_none() {
        return Err(AppError::new(
            Exit::Input,
            format!(
                "no label {label:?} in {} (create it with --create-label \"Name\")",
                c.dir().display()
            ),
        ));
    }
    check_party(c, label, role, party).await?;
    let user = match c.user_by_email(email).await.map_err(err)? {
        Some(u) => u,
        None => {
            let pw = read_password()?;
            let u = c
                .add_user(email, name.unwrap_or(""), &pw)
                .await
                .map_err(input)?;
            out.push_str(&format!("Created the account {}.\n", u.email));
            u
        }
    };
    c.set_membership(user.id, label, role, party)
        .await
        .map_err(input)?;
    c.audit(
        Some(label),
        &format!("cli:{}", backstock_app::user()),
        "role_granted",
        &format!("{} as {role}", user.email),
        "cli",
    )
    .await
    .map_err(err)?;
    out.push_str(&format!("{} is {role} of {label}.\n", user.email));
    Ok(out)
}

/// `backstock user list [--label L]`.
pub async fn user_list(c: &Control, label: Option<&str>) -> Result<String, AppError> {
    let mut t =
        backstock_app::output::Table::new(&["email", "name", "label", "role", "limited to"]);
    for u in c.users().await.map_err(err)? {
        let ms = c.memberships_of(u.id).await.map_err(err)?;
        let ms: Vec<_> = ms
            .into_iter()
            .filter(|m| label.is_none_or(|l| l == m.tenant))
            .collect();
        if ms.is_empty() && label.is_none() {
            t.push(vec![
                u.email.clone(),
                u.name.clone(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for m in ms {
            t.push(vec![
                u.email.clone(),
                u.name.clone(),
                m.tenant,
                m.role.to_string(),
                m.party.unwrap_or_default(),
            ]);
        }
    }
    Ok(t.text())
}

/// `backstock user role EMAIL --label L --role R [--party P]`.
pub async fn user_role(
    c: &Control,
    email: &str,
    label: &str,
    role_name: &str,
    party: Option<&str>,
) -> Result<String, AppError> {
    let role = role(role_name)?;
    let u = c
        .user_by_email(email)
        .await
        .map_err(err)?
        .ok_or_else(|| AppError::new(Exit::Input, format!("no account {email}")))?;
    let before = c
        .membership(u.id, label)
        .await
        .map_err(err)?
        .ok_or_else(|| {
            AppError::new(
                Exit::Input,
                format!("{email} is not a member of {label} (use user add)"),
            )
        })?;
    check_party(c, label, role, party).await?;
    c.set_membership(u.id, label, role, party)
        .await
        .map_err(input)?;
    c.audit(
        Some(label),
        &format!("cli:{}", backstock_app::user()),
        "role_changed",
        &format!("{}: {} → {role}", u.email, before.role),
        "cli",
    )
    .await
    .map_err(err)?;
    Ok(format!(
        "{} is now {role} of {label} (was {}).\n",
        u.email, before.role
    ))
}

/// `backstock user token EMAIL [--name N]`: a new API token, printed once.
pub async fn user_token(c: &Control, email: &str, name: &str) -> Result<String, AppError> {
    let u = c
        .user_by_email(email)
        .await
        .map_err(err)?
        .ok_or_else(|| AppError::new(Exit::Input, format!("no account {email}")))?;
    let t = c.create_token(u.id, name).await.map_err(err)?;
    c.audit(
        None,
        &u.email,
        "token_created",
        &format!("{name} (cli)"),
        "cli",
    )
    .await
    .map_err(err)?;
    Ok(format!("{t}\n"))
}

/// `backstock user password EMAIL`: sets a new password (ends their sessions).
pub async fn user_password(c: &Control, email: &str) -> Result<String, AppError> {
    let u = c
        .user_by_email(email)
        .await
        .map_err(err)?
        .ok_or_else(|| AppError::new(Exit::Input, format!("no account {email}")))?;
    let pw = read_password()?;
    c.set_password(u.id, &pw).await.map_err(input)?;
    Ok(format!(
        "New password set for {}; their sessions and API tokens ended.\n",
        u.email
    ))
}
