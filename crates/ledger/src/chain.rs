//! The journal's hash chain.
//!
//! Each entry's hash is SHA-256 over a domain tag, the previous entry's hash, the
//! entry's sequence number, its canonical JSON (the whole [`crate::Entry`]) and the
//! canonical JSON of the postings it expanded into. Changing any byte of any stored
//! entry or transfer changes that entry's hash and breaks every link after it;
//! `backstock verify` recomputes the chain and names the first entry that does not
//! match.

use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0u8; 32];

pub fn entry_hash(prev: &[u8; 32], seq: u64, entry_json: &str, postings_json: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"backstock-journal-v1\0");
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update((entry_json.len() as u64).to_be_bytes());
    h.update(entry_json.as_bytes());
    h.update((postings_json.len() as u64).to_be_bytes());
    h.update(postings_json.as_bytes());
    h.finalize().into()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_changes_with_any_byte() {
        let a = entry_hash(&GENESIS, 1, "{}", "[]");
        let b = entry_hash(&a, 2, "{\"x\":1}", "[]");
        assert_ne!(a, b);
        assert_ne!(b, entry_hash(&a, 2, "{\"x\":2}", "[]"));
        assert_ne!(b, entry_hash(&a, 3, "{\"x\":1}", "[]"));
        // Length prefixes keep field boundaries: moving bytes between fields changes it.
        assert_ne!(
            entry_hash(&GENESIS, 1, "ab", "c"),
            entry_hash(&GENESIS, 1, "a", "bc")
        );
        assert_eq!(to_hex(&[0, 255]), "00ff");
    }
}
