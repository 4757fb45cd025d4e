//! Roles and what each may do. A route declares one [`Access`]; the tenant extractor
//! (`crate::auth::Tenant`) is the only place that checks it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, and manages users and the label's settings.
    Owner,
    /// Everything but users and settings.
    Staff,
    /// Reads everything of the label and imports files.
    Bookkeeper,
    /// Only what concerns one payee: the releases they are paid on.
    Artist,
    /// One distributor: uploads its statements and stock reports, sees its shipments
    /// and purchase orders.
    Distributor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Staff,
        Role::Bookkeeper,
        Role::Artist,
        Role::Distributor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::Bookkeeper => "bookkeeper",
            Role::Artist => "artist",
            Role::Distributor => "distributor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether a membership with this role is limited to one party.
    pub fn needs_party(self) -> bool {
        matches!(self, Role::Artist | Role::Distributor)
    }

    /// What the party of a limited role is.
    pub fn party_kind(self) -> &'static str {
        match self {
            Role::Artist => "payee",
            Role::Distributor => "distributor",
            _ => "party",
        }
    }

    /// The one table of who may do what.
    pub fn may(self, p: Perm) -> bool {
        use Perm::*;
        use Role::*;
        match p {
            Member => true,
            ReadLabel => matches!(self, Owner | Staff | Bookkeeper),
            Catalog => matches!(self, Owner | Staff | Bookkeeper | Artist),
            Shipments => matches!(self, Owner | Staff | Bookkeeper | Distributor),
            Import => matches!(self, Owner | Staff | Bookkeeper | Distributor),
            Operate => matches!(self, Owner | Staff),
            Pay => matches!(self, Owner | Staff),
            Manage => self == Owner,
            Statements => matches!(self, Owner | Staff | Bookkeeper | Artist),
            Export => matches!(self, Owner | Staff | Bookkeeper),
            CloseBooks => matches!(self, Owner | Bookkeeper),
            Record => matches!(self, Owner | Staff | Bookkeeper),
            Mappings => matches!(self, Owner | Staff | Bookkeeper),
        }
    }

    /// The role an invitation gets unless another is chosen: the least privileged
    /// role not limited to one party (an artist or distributor member needs its payee
    /// or distributor picked). A bookkeeper reads the label and imports files, but
    /// cannot ship or override a credit hold (`operate`) nor manage users and
    /// settings (`manage`).
    pub const LEAST_PRIVILEGED: Role = Role::Bookkeeper;

    /// Where a member lands after choosing the label.
    pub fn home(self) -> &'static str {
        match self {
            Role::Owner | Role::Staff | Role::Bookkeeper => "dashboard",
            Role::Artist => "statements",
            Role::Distributor => "shipments",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a tenant route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Perm {
    /// Any member of the label.
    Member,
    /// The label's books: dashboard, distributors, receivables, risk, stock.
    ReadLabel,
    /// The catalog (an artist sees only their releases).
    Catalog,
    /// Shipments and purchase orders (a distributor sees only its own).
    Shipments,
    /// Upload files (a distributor only statements and stock reports for itself).
    Import,
    /// Record things that are not files: shipments (and credit-hold overrides).
    Operate,
    /// Pay royalties to payees (one payment or a whole run), the bank's payout file,
    /// tax forms.
    Pay,
    /// Users, roles, settings and the audit log.
    Manage,
    /// Royalty statements (an artist sees only their own payee's).
    Statements,
    /// The accountant's exports (beancount, CSV journal, Xero, QuickBooks).
    Export,
    /// Close a month of the books (reopening one is `manage`: the owner).
    CloseBooks,
    /// Key in what a bookkeeper records by hand: payments received, purchase orders,
    /// receipt confirmations, corrections, aliases (returns, demands, filings and
    /// agreements are `operate`).
    Record,
    /// Build, preview and save mappings for distributors' own file layouts.
    Mappings,
}

impl Perm {
    /// What correcting (reversing) an entry of `kind` takes: the permission that
    /// records such entries, so a correction is never a way around the role table (a
    /// bookkeeper, who may not pay artists or record a failure, may not reverse a
    /// payout or an insolvency either). What a bookkeeper keys or imports (payments,
    /// orders, receipts, aliases, statements, shipments and the other files) is
    /// `record`.
    pub fn to_correct(kind: backstock_ledger::EntryKind) -> Perm {
        use backstock_ledger::EntryKind as K;
        match kind {
            K::Detention
            | K::WriteOff
            | K::TitleTransfer
            | K::DeductionAccepted
            | K::DeductionDisputed
            | K::ReceivableWrittenOff
            | K::BuyBack
            | K::Agreement
            | K::Ucc1Filing
            | K::PmsiNotice
            | K::Demand
            | K::DemandResponse
            | K::Insolvency
            | K::Document
            | K::RoyaltyRun => Perm::Operate,
            K::RoyaltyPaid | K::TaxForm => Perm::Pay,
            _ => Perm::Record,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Perm::Member => "member",
            Perm::ReadLabel => "read_label",
            Perm::Catalog => "catalog",
            Perm::Shipments => "shipments",
            Perm::Import => "import",
            Perm::Operate => "operate",
            Perm::Pay => "pay",
            Perm::Manage => "manage",
            Perm::Statements => "statements",
            Perm::Export => "export",
            Perm::CloseBooks => "close_books",
            Perm::Record => "record",
            Perm::Mappings => "mappings",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the login page, the OpenAPI document, the style sheet).
    Public,
    /// Any signed-in user (their own account and tokens).
    Signed,
    /// A member of the tenant in the URL whose role has the permission.
    Tenant(Perm),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_table() {
        assert!(Role::Owner.may(Perm::Manage));
        assert!(!Role::Staff.may(Perm::Manage));
        assert!(Role::Staff.may(Perm::Operate));
        assert!(!Role::Bookkeeper.may(Perm::Operate));
        assert!(Role::Bookkeeper.may(Perm::Import));
        assert!(!Role::Artist.may(Perm::ReadLabel));
        assert!(!Role::Artist.may(Perm::Import));
        assert!(Role::Artist.may(Perm::Catalog));
        assert!(!Role::Distributor.may(Perm::Catalog));
        assert!(Role::Distributor.may(Perm::Shipments));
        assert!(Role::Artist.may(Perm::Statements) && Role::Bookkeeper.may(Perm::Statements));
        assert!(!Role::Distributor.may(Perm::Statements));
        assert!(Role::Bookkeeper.may(Perm::Export) && Role::Staff.may(Perm::Export));
        assert!(!Role::Artist.may(Perm::Export) && !Role::Distributor.may(Perm::Export));
        assert!(Role::Bookkeeper.may(Perm::CloseBooks) && !Role::Staff.may(Perm::CloseBooks));
        assert!(Role::Bookkeeper.may(Perm::Record) && Role::Staff.may(Perm::Record));
        assert!(!Role::Artist.may(Perm::Record) && !Role::Distributor.may(Perm::Record));
        assert!(Role::Bookkeeper.may(Perm::Mappings) && Role::Staff.may(Perm::Mappings));
        assert!(!Role::Artist.may(Perm::Mappings) && !Role::Distributor.may(Perm::Mappings));
        assert_eq!(Role::Artist.home(), "statements");
        // The invitation default may neither move stock nor manage the label, and
        // needs no party.
        let least = Role::LEAST_PRIVILEGED;
        assert!(!least.may(Perm::Operate) && !least.may(Perm::Manage) && !least.needs_party());
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert!(r.may(Perm::Member));
            assert!(r.may(Perm::ReadLabel) || r.needs_party());
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
