//! Audit records: every kind round-trips in one byte form; the kind's rules and
//! the decoder refuse everything else with `MalformedRecord`; personal fields
//! are salted commitments with keyed pseudonyms, and erasing a disclosure keeps
//! every proof valid.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_audit::Error;
use citysec_audit::merkle::{inclusion_proof, root, verify_inclusion};
use citysec_audit::record::{
    Disclosure, Kind, MAX_RECORD_LEN, MAX_TEXT, Outcome, PSEUDONYM_INFO, Personal, Record, pseudonym,
};
use citysec_core::cbor::{Tags, check_deterministic};
use citysec_core::keys::RandomSource;
use citysec_core::{Limits, Result as CoreResult};
use sha2::{Digest as _, Sha256};

/// A random source that repeats one byte: fixed salts for exact vectors.
struct Fixed(u8);

impl RandomSource for Fixed {
    fn fill(&mut self, buf: &mut [u8]) -> CoreResult<()> {
        buf.fill(self.0);
        Ok(())
    }
}

const SITE_KEY: [u8; 32] = [9; 32];

fn person(value: &str, salt: u8) -> (Personal, Disclosure) {
    Personal::commit(&citysec_rustcrypto::PROVIDER, &mut Fixed(salt), &SITE_KEY, value).unwrap()
}

fn one_of_each() -> Vec<Record> {
    let (sub, _) = person("alice@city.example", 1);
    let (cti, _) = person("cred-0042", 2);
    let r = |k| Record::new(k, 1_765_000_000, "door-controller-7").unwrap();
    vec![
        r(Kind::DoorDecision)
            .with_door("north-gate")
            .unwrap()
            .with_outcome(Outcome::Allow)
            .with_step("policy")
            .unwrap()
            .with_rule("staff-weekdays")
            .unwrap()
            .with_issuer("https://id.city.example")
            .unwrap()
            .with_subject(sub)
            .with_credential_id(cti)
            .with_device("reader-7")
            .unwrap(),
        r(Kind::DoorDecision)
            .with_door("north-gate")
            .unwrap()
            .with_outcome(Outcome::Deny)
            .with_step("default")
            .unwrap(),
        r(Kind::CredentialRefused)
            .with_door("north-gate")
            .unwrap()
            .with_reason("Expired")
            .unwrap()
            .with_subject(sub),
        r(Kind::StatusList)
            .with_issuer("https://id.city.example")
            .unwrap()
            .with_outcome(Outcome::Deny)
            .with_number(17)
            .with_reason("Rollback")
            .unwrap(),
        r(Kind::PolicyBundle).with_number(12).with_outcome(Outcome::Allow),
        r(Kind::Attestation)
            .with_device("sensor-3")
            .unwrap()
            .with_outcome(Outcome::Allow)
            .with_tier("affirming")
            .unwrap(),
        r(Kind::TelemetryRefused)
            .with_device("sensor-3")
            .unwrap()
            .with_number(99)
            .with_reason("Replay")
            .unwrap(),
        r(Kind::DoorSensor)
            .with_door("north-gate")
            .unwrap()
            .with_outcome(Outcome::Forced)
            .with_dropped(3),
        r(Kind::CounterReservation)
            .with_name("telemetry-seq")
            .unwrap()
            .with_number(1000)
            .with_end(1999),
        r(Kind::KeyRotation)
            .with_name("issuer-2026-12")
            .unwrap()
            .with_issuer("https://id.city.example")
            .unwrap(),
    ]
}

#[test]
fn every_kind_round_trips_in_one_byte_form() {
    for rec in one_of_each() {
        let bytes = rec.to_cbor().unwrap();
        check_deterministic(&bytes, &Limits::DEFAULT, Tags::Forbid).unwrap();
        let back = Record::from_cbor(&bytes).unwrap();
        assert_eq!(back, rec);
        assert_eq!(back.to_cbor().unwrap(), bytes);
        assert_eq!(rec.leaf_hash().unwrap(), citysec_audit::merkle::leaf_hash(&bytes));
    }
}

#[test]
fn the_kinds_rules_are_enforced_when_writing() {
    let r = |k| Record::new(k, 1, "src").unwrap();
    // a required field missing
    assert_eq!(
        r(Kind::DoorDecision).with_door("d").unwrap().to_cbor().unwrap_err(),
        Error::MalformedRecord
    );
    // a field the kind does not take
    let extra = r(Kind::PolicyBundle)
        .with_number(1)
        .with_outcome(Outcome::Allow)
        .with_door("d")
        .unwrap();
    assert_eq!(extra.to_cbor().unwrap_err(), Error::MalformedRecord);
    // an outcome of another kind
    let sensor = r(Kind::DoorSensor).with_door("d").unwrap().with_outcome(Outcome::Allow);
    assert_eq!(sensor.to_cbor().unwrap_err(), Error::MalformedRecord);
    let decision = r(Kind::DoorDecision).with_door("d").unwrap().with_step("s").unwrap();
    assert_eq!(
        decision.with_outcome(Outcome::Opened).to_cbor().unwrap_err(),
        Error::MalformedRecord
    );
    // a reservation that ends before it starts
    let res = r(Kind::CounterReservation)
        .with_name("c")
        .unwrap()
        .with_number(10)
        .with_end(9);
    assert_eq!(res.to_cbor().unwrap_err(), Error::MalformedRecord);
    // texts: empty, too long; sources too long
    assert_eq!(r(Kind::DoorSensor).with_door("").unwrap_err(), Error::MalformedRecord);
    assert_eq!(
        r(Kind::DoorSensor).with_door(&"x".repeat(MAX_TEXT + 1)).unwrap_err(),
        Error::MalformedRecord
    );
    assert!(r(Kind::DoorSensor).with_door(&"x".repeat(MAX_TEXT)).is_ok());
    assert_eq!(
        Record::new(Kind::DoorSensor, 1, "").unwrap_err(),
        Error::MalformedRecord
    );
    assert_eq!(
        Record::new(Kind::DoorSensor, 1, &"s".repeat(65)).unwrap_err(),
        Error::MalformedRecord
    );
}

/// `rec`'s bytes with `from` replaced by `to` (once).
fn edit(rec: &Record, from: &[u8], to: &[u8]) -> Vec<u8> {
    let bytes = rec.to_cbor().unwrap();
    let i = bytes.windows(from.len()).position(|w| w == from).unwrap();
    [&bytes[..i], to, &bytes[i + from.len()..]].concat()
}

#[test]
fn the_decoder_takes_only_the_one_form() {
    let rec = Record::new(Kind::PolicyBundle, 5, "g")
        .unwrap()
        .with_number(7)
        .with_outcome(Outcome::Allow);
    let bytes = rec.to_cbor().unwrap();
    // {0: 1, 1: 4, 2: 5, 3: "g", 11: 1, 19: 7}
    assert_eq!(bytes, [0xa6, 0, 1, 1, 4, 2, 5, 3, 0x61, b'g', 0x0b, 1, 0x13, 7]);
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("version 2", edit(&rec, &[0, 1, 1], &[0, 2, 1])),
        ("kind 10", edit(&rec, &[1, 4], &[1, 10])),
        ("outcome 6", edit(&rec, &[0x0b, 1], &[0x0b, 6])),
        ("a long head", edit(&rec, &[0x13, 7], &[0x13, 0x18, 7])),
        ("unknown key 5", edit(&rec, &[0x0b, 1], &[0x05, 1])),
        (
            "unknown key 23",
            [&bytes[..], &[]]
                .concat()
                .iter()
                .copied()
                .take(bytes.len() - 2)
                .chain([0x17, 7])
                .collect(),
        ),
        (
            "keys out of order",
            edit(&rec, &[0x0b, 1, 0x13, 7], &[0x13, 7, 0x0b, 1]),
        ),
        ("trailing byte", [&bytes[..], &[0]].concat()),
        ("a text source as bytes", edit(&rec, &[0x61, b'g'], &[0x41, b'g'])),
        (
            "an empty source",
            edit(
                &rec,
                &[0xa6, 0, 1, 1, 4, 2, 5, 3, 0x61, b'g'],
                &[0xa6, 0, 1, 1, 4, 2, 5, 3, 0x60],
            ),
        ),
        (
            "dropped 0",
            edit(
                &rec,
                &[0xa6, 0, 1, 1, 4, 2, 5, 3, 0x61, b'g'],
                &[0xa7, 0, 1, 1, 4, 2, 5, 3, 0x61, b'g', 4, 0],
            ),
        ),
        ("no version", edit(&rec, &[0xa6, 0, 1], &[0xa5])),
        ("a float", edit(&rec, &[0x13, 7], &[0x13, 0xf9, 0x47, 0x00])),
        ("an array", vec![0x80]),
        ("empty", vec![]),
    ];
    for (name, b) in &bad {
        assert_eq!(Record::from_cbor(b).unwrap_err(), Error::MalformedRecord, "{name}");
    }
    assert_eq!(
        Record::from_cbor(&vec![0; MAX_RECORD_LEN + 1]).unwrap_err(),
        Error::TooLarge
    );
    // a personal field of the wrong lengths
    let (sub, _) = person("alice", 1);
    let with_sub = Record::new(Kind::CredentialRefused, 5, "g")
        .unwrap()
        .with_door("d")
        .unwrap()
        .with_reason("r")
        .unwrap()
        .with_subject(sub);
    let bytes = with_sub.to_cbor().unwrap();
    let i = bytes.windows(3).position(|w| w == [0x82, 0x58, 0x20]).unwrap();
    let pseudo = i + 3 + 32;
    assert_eq!(bytes[pseudo], 0x50);
    // a 15-byte pseudonym: still well-formed CBOR, refused for its length
    let short = [
        &bytes[..pseudo],
        &[0x4f],
        &bytes[pseudo + 1..pseudo + 16],
        &bytes[pseudo + 17..],
    ]
    .concat();
    check_deterministic(&short, &Limits::DEFAULT, Tags::Forbid).unwrap();
    assert_eq!(Record::from_cbor(&short).unwrap_err(), Error::MalformedRecord);
    // an array of three
    let three = [&bytes[..i], &[0x83], &bytes[i + 1..], &[]].concat();
    assert_eq!(Record::from_cbor(&three).unwrap_err(), Error::MalformedRecord);
}

#[test]
fn personal_fields_are_commitments_and_pseudonyms() {
    let (p, d) = person("alice@city.example", 1);
    // SHA-256(salt ‖ value), computed here with sha2 directly
    let mut h = Sha256::new();
    h.update([1u8; 32]);
    h.update(b"alice@city.example");
    let want: [u8; 32] = h.finalize().into();
    assert_eq!(p.commitment(), &want);
    assert_eq!(d.salt(), &[1u8; 32]);
    assert_eq!(d.value(), "alice@city.example");
    assert!(p.is_opened_by(&d));
    assert!(!p.is_opened_by(&Disclosure::new([1; 32], "bob@city.example")));
    assert!(!p.is_opened_by(&Disclosure::new([2; 32], "alice@city.example")));
    // another salt: another commitment, the same pseudonym (records link)
    let (q, _) = person("alice@city.example", 2);
    assert_ne!(q.commitment(), p.commitment());
    assert_eq!(q.pseudonym(), p.pseudonym());
    // the pseudonym is HKDF(salt = site key, ikm = value, info) on both providers
    let mut okm = [0u8; 16];
    citysec_ring::PROVIDER
        .hkdf_sha256(&SITE_KEY, b"alice@city.example", PSEUDONYM_INFO, &mut okm)
        .unwrap();
    assert_eq!(&okm, p.pseudonym());
    assert_eq!(
        pseudonym(&citysec_ring::PROVIDER, &SITE_KEY, "alice@city.example").unwrap(),
        *p.pseudonym()
    );
    // another site key: unlinkable
    assert_ne!(
        pseudonym(&citysec_rustcrypto::PROVIDER, &[8; 32], "alice@city.example").unwrap(),
        *p.pseudonym()
    );
    // Debug shows no personal data
    let shown = format!("{d:?}");
    assert!(!shown.contains("alice"), "{shown}");
    assert_eq!(
        Personal::commit(&citysec_rustcrypto::PROVIDER, &mut Fixed(0), &SITE_KEY, "").unwrap_err(),
        Error::MalformedRecord
    );
}

/// GDPR erasure: drop the disclosures of one person; every record stays in
/// the log unchanged, every proof still verifies, the commitment can no longer
/// be opened, and the pseudonym still links that person's records.
#[test]
fn erasure_keeps_every_proof() {
    let records = one_of_each();
    let leaves: Vec<_> = records.iter().map(|r| r.leaf_hash().unwrap()).collect();
    let tree_root = root(&leaves);
    let mut disclosures = vec![person("alice@city.example", 1).1];
    disclosures.clear(); // erased
    for (i, leaf) in leaves.iter().enumerate() {
        let proof = inclusion_proof(&leaves, i as u64).unwrap();
        assert_eq!(
            verify_inclusion(i as u64, leaves.len() as u64, leaf, &proof, &tree_root),
            Ok(())
        );
    }
    let subject_records: Vec<_> = records.iter().filter_map(Record::subject).collect();
    assert_eq!(subject_records.len(), 2);
    assert_eq!(subject_records[0].pseudonym(), subject_records[1].pseudonym());
    assert!(disclosures.iter().all(|d| !subject_records[0].is_opened_by(d)));
}

/// docs/audit-log.md's record vector: the door decision with subject and
/// credential id committed with salts `01` x 32 and `02` x 32, site key `09` x 32.
#[test]
fn documented_record() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit-log.md")).unwrap();
    let block = doc.split("```json\n").nth(3).unwrap().split("```").next().unwrap();
    let v: serde_json::Value = serde_json::from_str(block).unwrap();
    let rec = &one_of_each()[0];
    let bytes = rec.to_cbor().unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, v["record"].as_str().unwrap());
    let leaf: String = rec.leaf_hash().unwrap().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(leaf, v["leaf_hash"].as_str().unwrap());
    let (sub, _) = person("alice@city.example", 1);
    let c: String = sub.commitment().iter().map(|b| format!("{b:02x}")).collect();
    let p: String = sub.pseudonym().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(c, v["subject_commitment"].as_str().unwrap());
    assert_eq!(p, v["subject_pseudonym"].as_str().unwrap());
}

#[test]
#[ignore = "prints the vector of docs/audit-log.md"]
fn print_documented_record() {
    let rec = &one_of_each()[0];
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let (sub, _) = person("alice@city.example", 1);
    println!("record {}", hex(&rec.to_cbor().unwrap()));
    println!("leaf_hash {}", hex(&rec.leaf_hash().unwrap()));
    println!("subject_commitment {}", hex(sub.commitment()));
    println!("subject_pseudonym {}", hex(sub.pseudonym()));
}
