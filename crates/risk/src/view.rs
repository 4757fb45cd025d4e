//! A snapshot's records — the journal read once, corrections applied
//! ([`backstock_records`]) — as of its own date or an earlier one.

pub(crate) use backstock_records::{Records as View, StmtRef};

use crate::Snapshot;
use backstock_domain::Date;

/// Records of a [`Snapshot`].
pub(crate) trait OfSnapshot<'a> {
    /// The snapshot as of its own date.
    fn of(snap: &'a Snapshot) -> View<'a>;
    /// The snapshot as the label knew it on an earlier `date` (never later than the
    /// snapshot's own date).
    fn at(snap: &'a Snapshot, date: Date) -> View<'a>;
}

impl<'a> OfSnapshot<'a> for View<'a> {
    fn of(snap: &'a Snapshot) -> View<'a> {
        View::new(&snap.entries, snap.as_of)
    }
    fn at(snap: &'a Snapshot, date: Date) -> View<'a> {
        View::new(&snap.entries, date.min(snap.as_of))
    }
}
