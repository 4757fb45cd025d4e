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

/// The chain version new entries are sealed with. Version 1 hashes the entry and its
/// postings; version 2 also the time it was recorded and the SHA-256 of the file it
/// came from. Entries keep the version they were sealed with (so a store made before
/// version 2 still verifies), and a version never goes down along the chain.
pub const VERSION: u8 = 2;

/// Version 1: `SHA-256("backstock-journal-v1\0" ‖ prev ‖ seq ‖ len ‖ entry JSON ‖ len
/// ‖ postings)`, lengths and seq as u64 big-endian.
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

/// Version 2: `SHA-256("backstock-journal-v2\0" ‖ prev ‖ seq ‖ len ‖ entry JSON ‖ len
/// ‖ postings ‖ len ‖ recorded_at ‖ 0 | 1 ‖ [len ‖ file SHA-256 hex])`: when the entry
/// was recorded (the store's UTC timestamp text) and the original it came from (`0`
/// when none) are covered too.
pub fn entry_hash_v2(
    prev: &[u8; 32],
    seq: u64,
    entry_json: &str,
    postings_json: &str,
    recorded_at: &str,
    file_sha256: Option<&str>,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"backstock-journal-v2\0");
    h.update(prev);
    h.update(seq.to_be_bytes());
    for part in [entry_json, postings_json, recorded_at] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    match file_sha256 {
        None => h.update([0u8]),
        Some(f) => {
            h.update([1u8]);
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
    }
    h.finalize().into()
}

/// The hash of a link of chain `version` (`None` for a version this build does not
/// know).
pub fn link_hash(
    version: u8,
    prev: &[u8; 32],
    seq: u64,
    entry_json: &str,
    postings_json: &str,
    recorded_at: &str,
    file_sha256: Option<&str>,
) -> Option<[u8; 32]> {
    match version {
        1 => Some(entry_hash(prev, seq, entry_json, postings_json)),
        2 => Some(entry_hash_v2(
            prev,
            seq,
            entry_json,
            postings_json,
            recorded_at,
            file_sha256,
        )),
        _ => None,
    }
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

    #[test]
    fn version_1_is_unchanged_and_version_2_covers_time_and_file() {
        // A version-1 link hashes exactly as before version 2 existed (the value
        // computed independently from the documented layout).
        let v1 = entry_hash(&GENESIS, 1, "{}", "[]");
        assert_eq!(
            to_hex(&v1),
            "5b33b2d1de0bf75fd311f7c883a2f2b41dc56e438fbfaa96a3390423b0a5a3f0"
        );
        assert_eq!(
            link_hash(1, &GENESIS, 1, "{}", "[]", "t", Some("f")),
            Some(v1)
        );
        let at = "2016-06-30T12:00:00Z";
        let a = entry_hash_v2(&GENESIS, 1, "{}", "[]", at, None);
        assert_ne!(a, v1);
        assert_ne!(
            a,
            entry_hash_v2(&GENESIS, 1, "{}", "[]", "2016-06-30T12:00:01Z", None)
        );
        assert_ne!(a, entry_hash_v2(&GENESIS, 1, "{}", "[]", at, Some("")));
        assert_ne!(
            entry_hash_v2(&GENESIS, 1, "{}", "[]", at, Some("ab")),
            entry_hash_v2(&GENESIS, 1, "{}", "[]", at, Some("ac"))
        );
        assert_eq!(link_hash(2, &GENESIS, 1, "{}", "[]", at, None), Some(a));
        assert_eq!(link_hash(3, &GENESIS, 1, "{}", "[]", at, None), None);
    }
}
