//! The web app's HTTP tests, one binary: each module drives a real server over HTTP.
//! (One binary, not one per file: each would link the whole server again, 160 MB a time.)

mod actions;
mod backup;
mod books;
mod common;
mod corrections;
mod csv_amounts;
mod dashboard_cache;
mod deductions;
mod export;
mod http;
mod insolvency;
mod invitations;
mod locale;
mod lockout;
mod mappings;
mod matrix;
mod paging;
mod payouts;
mod postgres;
mod preview;
mod refusals;
mod royalties;
mod signup;
mod tokens;
mod upload_dates;
