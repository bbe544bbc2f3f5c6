//! The redb nonce store: single use, expiry, and both across a restart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use citysec_attest::{Error, NonceStore};
use citysec_core::Timestamp;
use citysec_std::attest::RedbNonceStore;

fn t(s: u64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

#[test]
fn nonces_are_single_use_and_expire_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonces.redb");
    {
        let mut s = RedbNonceStore::open(&path).unwrap();
        s.insert(&[1; 32], t(1100), t(1000)).unwrap();
        s.insert(&[2; 32], t(1100), t(1000)).unwrap();
        s.insert(&[3; 32], t(1010), t(1000)).unwrap();
        assert_eq!(s.insert(&[1; 32], t(1100), t(1000)), Err(Error::InvalidNonce));
        assert_eq!(s.insert(&[4; 15], t(1100), t(1000)), Err(Error::InvalidNonce));
        assert_eq!(s.insert(&[4; 65], t(1100), t(1000)), Err(Error::InvalidNonce));
        s.consume(&[1; 32], t(1001)).unwrap();
        assert_eq!(s.consume(&[1; 32], t(1002)), Err(Error::NonceReplayed));
    }
    // a restarted verifier remembers
    let mut s = RedbNonceStore::open(&path).unwrap();
    assert_eq!(s.consume(&[1; 32], t(1003)), Err(Error::NonceReplayed));
    assert_eq!(s.consume(&[3; 32], t(1010)), Err(Error::NonceExpired));
    assert_eq!(s.consume(&[9; 32], t(1003)), Err(Error::UnknownNonce));
    s.consume(&[2; 32], t(1099)).unwrap();
    // issuing later drops what expired
    s.insert(&[5; 32], t(1300), t(1200)).unwrap();
    assert_eq!(s.consume(&[3; 32], t(1200)), Err(Error::UnknownNonce));
    s.consume(&[5; 32], t(1201)).unwrap();
}
