//! Sign-in throttling that a stranger cannot turn into a lockout (the numbers are
//! [`crate::Config`]'s defaults; all state is in the control database, so a restart
//! keeps it):
//!
//! - **Per address, exponential delay.** Each client address has
//!   [`Config::max_ip_failures`](crate::Config) (5) failed sign-ins free in
//!   `throttle_window` (24 h), whatever the accounts. From then on it must wait before
//!   its next try: `ip_delay_secs` (1 s) after the 5th failure, doubled by every
//!   further failure (2, 4, 8 … s), at most `max_ip_delay_secs` (15 min), counted from
//!   its last failure. A try during the wait is answered 429 with `Retry-After` and
//!   checks no password (so it is not a failure and costs no hashing). One address can
//!   so make about 18 guesses an hour at most.
//! - **Per account, a lock only after many failures, and only for strangers.** An
//!   account with `max_account_failures` (50) failed sign-ins in `lock_window` (1 h),
//!   from any addresses, is locked to addresses it has not signed in from in
//!   `known_address_secs` (30 days) until its failures of the last hour fall below
//!   the limit. The owner at their usual addresses still gets in; guesses from
//!   everywhere else stop.
//! - A successful sign-in marks the address as known for the account; it does not
//!   wipe the address's failures (guessing at other accounts between one's own
//!   sign-ins would reset the wait).

use crate::Config;

/// Why a sign-in is refused before any password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The address failed too often: it may try again in `secs`.
    AddressWaits { secs: i64 },
    /// The account is locked to addresses it has not signed in from, for `secs` at
    /// most.
    AccountLocked { secs: i64 },
}

impl Refusal {
    /// Seconds until a try can succeed (for `Retry-After`), at least 1.
    pub fn retry_after(&self) -> i64 {
        match self {
            Refusal::AddressWaits { secs } | Refusal::AccountLocked { secs } => (*secs).max(1),
        }
    }

    /// What the person signing in is told.
    pub fn message(&self) -> String {
        match self {
            Refusal::AddressWaits { .. } => format!(
                "too many failed sign-ins from this address; try again in {}",
                duration(self.retry_after())
            ),
            Refusal::AccountLocked { .. } => format!(
                "this account is locked to new addresses after many failed sign-ins; sign in from an address you have used before, or try again in {}",
                duration(self.retry_after())
            ),
        }
    }
}

/// `45 seconds`, `3 minutes`, `1 hour`.
fn duration(secs: i64) -> String {
    let (n, unit) = if secs < 120 {
        (secs, "second")
    } else if secs < 2 * 3600 {
        ((secs + 59) / 60, "minute")
    } else {
        ((secs + 3599) / 3600, "hour")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// How long an address with `failures` failures in the window waits after its last
/// one: nothing below the free allowance, then the first delay doubled by each
/// further failure, capped.
pub fn address_delay(c: &Config, failures: i64) -> i64 {
    if failures < c.max_ip_failures.max(1) {
        return 0;
    }
    let doublings = u32::try_from(failures - c.max_ip_failures.max(1)).unwrap_or(u32::MAX);
    let delay = 1i64
        .checked_shl(doublings.min(62))
        .and_then(|f| c.ip_delay_secs.max(1).checked_mul(f))
        .unwrap_or(i64::MAX);
    delay.min(c.max_ip_delay_secs.max(1))
}

/// The address's wait now, from its failures in the window and the time of its last.
pub fn address_wait(c: &Config, failures: i64, last_failure: Option<i64>, now: i64) -> Option<i64> {
    let last = last_failure?;
    let until = last.saturating_add(address_delay(c, failures));
    (until > now).then(|| until - now)
}

/// Whether an account with `failures` failures in the lock window is locked (to
/// unknown addresses), and for how long at most: until its oldest failure counted
/// leaves the window.
pub fn account_lock(
    c: &Config,
    failures: i64,
    oldest_counted: Option<i64>,
    now: i64,
) -> Option<i64> {
    if failures < c.max_account_failures.max(1) {
        return None;
    }
    let until = oldest_counted?.saturating_add(c.lock_window);
    Some((until - now).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_the_allowance_and_is_capped() {
        let c = Config::new("/x".into());
        let d: Vec<i64> = (0..20).map(|n| address_delay(&c, n)).collect();
        assert_eq!(&d[..9], &[0, 0, 0, 0, 0, 1, 2, 4, 8]);
        assert_eq!(d[14], 512);
        assert_eq!(d[15], 900, "capped at 15 minutes");
        assert_eq!(address_delay(&c, i64::MAX), 900, "no overflow");
        // At most ~18 failures an hour from one address: 5 free, then the waits.
        let mut t = 0i64;
        let mut n = 0i64;
        while t <= 3600 {
            t += address_delay(&c, n);
            n += 1;
        }
        assert!(n - 1 <= 19, "{n}");
        assert_eq!(address_wait(&c, 6, Some(100), 101), Some(1));
        assert_eq!(address_wait(&c, 6, Some(100), 102), None);
        assert_eq!(address_wait(&c, 3, Some(100), 100), None);
    }

    #[test]
    fn an_account_locks_only_after_many_failures_until_they_age_out() {
        let c = Config::new("/x".into());
        assert_eq!(account_lock(&c, 49, Some(0), 10), None);
        assert_eq!(account_lock(&c, 50, Some(0), 600), Some(3000));
        assert_eq!(
            Refusal::AccountLocked { secs: 3000 }.message(),
            "this account is locked to new addresses after many failed sign-ins; sign in from an address you have used before, or try again in 50 minutes"
        );
        assert_eq!(
            Refusal::AddressWaits { secs: 0 }.message(),
            "too many failed sign-ins from this address; try again in 1 second"
        );
    }
}
