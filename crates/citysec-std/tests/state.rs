//! Held state survives a reopen, in redb and in the file store; a damaged file is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::state::{HeldBundle, HeldStatusList, StateStore, StoreError};
use citysec_std::state::{FileStateStore, RedbStateStore, STATE_FILE_NAME};

fn bundle(v: u64) -> HeldBundle {
    HeldBundle {
        version: v,
        payload_digest: [v as u8; 32],
    }
}

fn list(iat: u64) -> HeldStatusList {
    HeldStatusList {
        iat,
        payload_digest: [0xab; 32],
    }
}

fn exercise(store: &mut dyn StateStore) {
    assert_eq!(store.bundle(), Ok(None));
    assert_eq!(store.status_list("https://a.example/1"), Ok(None));
    store.save_bundle(&bundle(3)).unwrap();
    store.save_bundle(&bundle(4)).unwrap();
    store.save_status_list("https://a.example/1", &list(10)).unwrap();
    store
        .save_status_list("https://a.example/2 with space", &list(11))
        .unwrap();
    store.save_status_list("", &list(12)).unwrap();
}

fn check(store: &dyn StateStore) {
    assert_eq!(store.bundle(), Ok(Some(bundle(4))));
    assert_eq!(store.status_list("https://a.example/1"), Ok(Some(list(10))));
    assert_eq!(store.status_list("https://a.example/2 with space"), Ok(Some(list(11))));
    assert_eq!(store.status_list(""), Ok(Some(list(12))));
    assert_eq!(store.status_list("https://a.example/3"), Ok(None));
}

#[test]
fn redb_state_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    exercise(&mut RedbStateStore::open(&path).unwrap());
    check(&RedbStateStore::open(&path).unwrap());
}

#[test]
fn file_state_survives_a_reopen_and_is_private() {
    let dir = tempfile::tempdir().unwrap();
    exercise(&mut FileStateStore::open(dir.path()).unwrap());
    let reopened = FileStateStore::open(dir.path()).unwrap();
    check(&reopened);
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(reopened.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(dir.path().join(STATE_FILE_NAME)).unwrap();
    assert!(text.starts_with("citysec-held-state 1\nbundle 4 0404"), "{text}");
}

#[test]
fn a_damaged_state_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STATE_FILE_NAME);
    for bad in [
        "",
        "citysec-held-state 2\n",
        "citysec-held-state 1\nbundle 04 00\n",
        "citysec-held-state 1\nbundle x 00\n",
        "citysec-held-state 1\nstatus 1 0000000000000000000000000000000000000000000000000000000000000000 zz\n",
        "citysec-held-state 1\nbundle 1 0000000000000000000000000000000000000000000000000000000000000000\nbundle 2 0000000000000000000000000000000000000000000000000000000000000000\n",
    ] {
        std::fs::write(&path, bad).unwrap();
        let err = FileStateStore::open(dir.path()).unwrap_err();
        assert!(
            matches!(&err, citysec_std::Error::Store(m) if m.ends_with(&StoreError::Corrupt.to_string())),
            "{bad:?}: {err}"
        );
    }
    // Not a directory.
    let err = FileStateStore::open(&path).unwrap_err();
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotADirectory));
}
