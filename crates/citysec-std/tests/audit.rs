//! The site log in redb: the tree, its proofs and its tiles match the in-memory
//! reference, the state survives a reopen, and a process killed mid-append
//! loses nothing it acknowledged.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::std_instead_of_core,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use citysec_audit::Error as AuditError;
use citysec_audit::merkle::{self, Hash, leaf_hash};
use citysec_audit::note::NoteSigner;
use citysec_std::Error;
use citysec_std::audit::{MAX_ENTRY, RedbLog, tile_path};

const ORIGIN: &str = "site.city.example/log";

fn entry(i: u64) -> Vec<u8> {
    format!("record {i}").into_bytes()
}

fn append_range(log: &mut RedbLog, from: u64, to: u64, batch: u64) {
    let mut i = from;
    while i < to {
        let end = (i + batch).min(to);
        let entries: Vec<Vec<u8>> = (i..end).map(entry).collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        assert_eq!(log.append(&refs).unwrap(), i..end);
        i = end;
    }
}

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&entry(i))).collect()
}

#[test]
fn the_tree_and_its_proofs_match_the_reference_at_every_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = RedbLog::open(dir.path().join("site.redb"), ORIGIN).unwrap();
    assert_eq!((log.size(), log.root()), (0, merkle::empty_root()));
    append_range(&mut log, 0, 300, 7);
    let all = leaves(300);
    assert_eq!(log.root(), merkle::root(&all));
    for size in [1u64, 2, 3, 7, 8, 9, 64, 255, 256, 257, 299, 300] {
        let l = &all[..size as usize];
        assert_eq!(log.root_at(size).unwrap(), merkle::root(l), "size {size}");
        for index in [0, size / 2, size - 1] {
            assert_eq!(
                log.inclusion_proof(index, size).unwrap(),
                merkle::inclusion_proof(l, index).unwrap()
            );
        }
        for size1 in [1, size / 3 + 1, size] {
            assert_eq!(
                log.consistency_proof(size1, size).unwrap(),
                merkle::consistency_proof(l, size1).unwrap()
            );
        }
    }
    assert_eq!(log.entry(299).unwrap(), Some(entry(299)));
    assert_eq!(log.entry(300).unwrap(), None);
    // Sizes beyond the log, bad indices and bad entries, each refused.
    assert!(matches!(
        log.root_at(301),
        Err(Error::Audit(AuditError::SizesOutOfOrder))
    ));
    assert!(matches!(
        log.inclusion_proof(300, 300),
        Err(Error::Audit(AuditError::IndexOutOfRange))
    ));
    assert!(matches!(
        log.consistency_proof(0, 300),
        Err(Error::Audit(AuditError::EmptyTree))
    ));
    assert!(matches!(
        log.consistency_proof(5, 4),
        Err(Error::Audit(AuditError::SizesOutOfOrder))
    ));
    let big = vec![1u8; MAX_ENTRY + 1];
    assert!(matches!(
        log.append(&[b"fine", &big]),
        Err(Error::Audit(AuditError::MalformedRecord))
    ));
    assert!(matches!(
        log.append(&[b""]),
        Err(Error::Audit(AuditError::MalformedRecord))
    ));
    assert_eq!(log.size(), 300, "a refused batch appends nothing");
}

#[test]
fn the_log_survives_a_reopen_and_belongs_to_one_origin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.redb");
    {
        let mut log = RedbLog::open(&path, ORIGIN).unwrap();
        append_range(&mut log, 0, 100, 33);
    }
    let mut log = RedbLog::open(&path, ORIGIN).unwrap();
    assert_eq!((log.size(), log.root()), (100, merkle::root(&leaves(100))));
    append_range(&mut log, 100, 130, 30);
    assert_eq!(log.root(), merkle::root(&leaves(130)));
    drop(log);
    assert!(matches!(
        RedbLog::open(&path, "other.example/log"),
        Err(Error::Store(_))
    ));
}

/// The hashes of a tile file.
fn read_hashes(path: &Path) -> Vec<Hash> {
    std::fs::read(path)
        .unwrap()
        .chunks(32)
        .map(|c| c.try_into().unwrap())
        .collect()
}

#[test]
fn tiles_are_the_c2sp_layout_and_rebuild_the_checkpoint() {
    assert_eq!(tile_path(Some(0), 1_234_067, 256), "tile/0/x001/x234/067");
    assert_eq!(tile_path(Some(2), 0, 1), "tile/2/000.p/1");
    assert_eq!(tile_path(None, 1000, 17), "tile/entries/x001/000.p/17");

    let dir = tempfile::tempdir().unwrap();
    let mut log = RedbLog::open(dir.path().join("site.redb"), ORIGIN).unwrap();
    // The spec's example: 70,000 entries.
    append_range(&mut log, 0, 70_000, 1000);
    let key = citysec_rustcrypto::signer_copy(&citysec_core::SigningKey::ed25519(&[7; 32])).unwrap();
    let signer = NoteSigner::new("site.city.example/log", key).unwrap();
    let signed = log.checkpoint().unwrap().sign(&signer).unwrap();
    let out = dir.path().join("tiles");
    let stats = log.write_tiles(&out, 70_000, &signed).unwrap();
    // 273 full level-0 tiles and one of width 112, one full level-1 tile and
    // one of width 17, one level-2 tile of width 1; as many entry bundles as
    // level-0 tiles.
    assert_eq!((stats.tiles, stats.bundles), (273 + 1 + 1 + 1 + 1, 274));
    assert_eq!(read_hashes(&out.join("tile/0/272")).len(), 256);
    assert_eq!(read_hashes(&out.join("tile/0/273.p/112")).len(), 112);
    assert_eq!(read_hashes(&out.join("tile/1/000")).len(), 256);
    assert_eq!(read_hashes(&out.join("tile/1/001.p/17")).len(), 17);
    assert_eq!(read_hashes(&out.join("tile/2/000.p/1")).len(), 1);
    assert!(!out.join("tile/2/000").exists());
    assert_eq!(std::fs::read_to_string(out.join("checkpoint")).unwrap(), signed);

    // A client that has only the files: the leaves from the level-0 tiles
    // rebuild the checkpoint's root, each entry bundle hashes to its tile, and
    // each level-1 hash is the root of a full tile below it.
    let mut leaves = Vec::new();
    for n in 0..273u64 {
        leaves.extend(read_hashes(&out.join(tile_path(Some(0), n, 256))));
    }
    leaves.extend(read_hashes(&out.join("tile/0/273.p/112")));
    assert_eq!(merkle::root(&leaves), log.root());
    let bundle = std::fs::read(out.join("tile/entries/273.p/112")).unwrap();
    let mut at = 0;
    let mut hashes = Vec::new();
    while at < bundle.len() {
        let len = u16::from_be_bytes([bundle[at], bundle[at + 1]]) as usize;
        hashes.push(leaf_hash(&bundle[at + 2..at + 2 + len]));
        at += 2 + len;
    }
    assert_eq!(hashes, read_hashes(&out.join("tile/0/273.p/112")));
    let level1 = read_hashes(&out.join("tile/1/000"));
    assert_eq!(level1[5], merkle::root(&leaves[5 * 256..6 * 256]));

    // A checkpoint of another size or root is refused; full tiles are not
    // written again.
    assert!(matches!(
        log.write_tiles(&out, 69_999, &signed),
        Err(Error::Audit(AuditError::MalformedCheckpoint))
    ));
    let signed_smaller = citysec_audit::checkpoint::Checkpoint::new(ORIGIN, 69_999, log.root_at(69_999).unwrap())
        .unwrap()
        .sign(&signer)
        .unwrap();
    let again = log.write_tiles(&out, 69_999, &signed_smaller).unwrap();
    assert_eq!(again.tiles, 3, "only the partial tiles of each level");
    assert_eq!(again.bundles, 1);
}

const CHILD: &str = "CITYSEC_AUDIT_CRASH_CHILD";

#[test]
fn a_process_killed_mid_append_loses_nothing_it_acknowledged() {
    if let Some(path) = std::env::var_os(CHILD) {
        // The child: append batches of 50 forever, saying which are durable.
        let mut log = RedbLog::open(Path::new(&path), ORIGIN).unwrap();
        let mut next = log.size();
        loop {
            let entries: Vec<Vec<u8>> = (next..next + 50).map(entry).collect();
            let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            next = log.append(&refs).unwrap().end;
            println!("acked {next}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.redb");
    let mut acked = 0u64;
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "a_process_killed_mid_append_loses_nothing_it_acknowledged",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = 0;
        for line in stdout.lines() {
            let line = line.unwrap();
            if let Some(n) = line.strip_prefix("acked ") {
                acked = n.parse().unwrap();
                seen += 1;
                // Kill it while it is appending the next batch.
                if seen == 20 + round * 7 {
                    child.kill().unwrap();
                    break;
                }
            }
        }
        child.wait().unwrap();
        let log = RedbLog::open(&path, ORIGIN).unwrap();
        assert!(log.size() >= acked, "round {round}: {} < {acked}", log.size());
        assert_eq!(log.size() % 50, 0, "a batch is whole or absent");
        assert_eq!(log.root(), merkle::root(&leaves(log.size())), "round {round}");
        for i in [0, acked / 2, acked - 1] {
            assert_eq!(log.entry(i).unwrap(), Some(entry(i)));
        }
    }
}

#[test]
fn a_pinned_checkpoint_survives_a_restart_and_refuses_rollback_and_edits() {
    use citysec_audit::checkpoint::CheckpointVerifier;
    use citysec_std::audit::FilePin;
    let p = &citysec_rustcrypto::PROVIDER;
    let signer = NoteSigner::new(ORIGIN, p.signer(citysec_core::SigningKey::ed25519(&[7; 32])).unwrap()).unwrap();
    let verifier = CheckpointVerifier::new(ORIGIN, signer.verifier(p).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut log = RedbLog::open(dir.path().join("site.redb"), ORIGIN).unwrap();
    append_range(&mut log, 0, 10, 10);
    let cp10 = verifier
        .verify(p, log.checkpoint().unwrap().sign(&signer).unwrap().as_bytes())
        .unwrap();
    let pin_path = dir.path().join("pin");
    let mut pin = FilePin::open(&pin_path).unwrap();
    assert!(pin.pinned().is_none());
    pin.accept(&cp10, &[]).unwrap();
    append_range(&mut log, 10, 25, 15);
    let cp25 = verifier
        .verify(p, log.checkpoint().unwrap().sign(&signer).unwrap().as_bytes())
        .unwrap();
    pin.accept(&cp25, &log.consistency_proof(10, 25).unwrap()).unwrap();
    assert_eq!(std::fs::read(&pin_path).unwrap().len(), 40);

    // After a restart: the pin is at 25; the checkpoint of 10 is a rollback.
    let mut pin = FilePin::open(&pin_path).unwrap();
    assert_eq!(pin.pinned().unwrap().size(), 25);
    assert!(matches!(
        pin.accept(&cp10, &[]),
        Err(Error::Audit(AuditError::Rollback))
    ));

    // An insider rewrites record 3 in another copy of the log: its checkpoint
    // does not extend the pinned tree.
    let mut forged = RedbLog::open(dir.path().join("forged.redb"), ORIGIN).unwrap();
    let mut entries: Vec<Vec<u8>> = (0..30).map(entry).collect();
    entries[3] = b"record 3, edited".to_vec();
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    forged.append(&refs).unwrap();
    let bad = verifier
        .verify(p, forged.checkpoint().unwrap().sign(&signer).unwrap().as_bytes())
        .unwrap();
    assert!(matches!(
        pin.accept(&bad, &forged.consistency_proof(25, 30).unwrap()),
        Err(Error::Audit(AuditError::RootMismatch))
    ));
    assert_eq!(pin.pinned().unwrap().size(), 25, "unchanged");
    assert_eq!(FilePin::open(&pin_path).unwrap().pinned().unwrap().size(), 25);
    std::fs::write(&pin_path, b"short").unwrap();
    assert!(matches!(
        FilePin::open(&pin_path),
        Err(Error::Audit(AuditError::MalformedPin))
    ));
}
