//! Events to records: every event kind, texts cut at 256 bytes, personal values
//! refused rather than cut, the side table and the policy when full.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic, reason = "tests")]

use citysec_audit::Error;
use citysec_audit::auditor::{Auditor, PersonalField, RamSideTable, SideTable as _};
use citysec_audit::log::{Appended, ControllerLog, RamStore, RecordStore as _, WhenFull};
use citysec_audit::record::{Kind, Outcome, Record, pseudonym};
use citysec_core::audit::{AuditEvent, SensorEvent};
use citysec_core::{Clock, FixedClock, RandomSource, Timestamp};

/// xorshift64: distinct salts for a test.
struct Rng(u64);
impl RandomSource for Rng {
    fn fill(&mut self, buf: &mut [u8]) -> citysec_core::Result<()> {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0.to_le_bytes()[0];
        }
        Ok(())
    }
}

struct NoClock;
impl Clock for NoClock {
    fn now(&self) -> Option<Timestamp> {
        None
    }
}

const T: u64 = 1_765_000_000;

fn auditor(max_records: usize, when_full: WhenFull, clock: Box<dyn Clock + Send>) -> Auditor<RamStore, RamSideTable> {
    let log = ControllerLog::new("gate.example/log", RamStore::new(max_records, 1 << 20), when_full).unwrap();
    Auditor::new(
        log,
        RamSideTable::new(16),
        "gate-1",
        &citysec_rustcrypto::PROVIDER,
        [9; 32],
        Box::new(Rng(0x9e37_79b9_7f4a_7c15)),
        clock,
    )
    .unwrap()
}

fn record(a: &Auditor<RamStore, RamSideTable>, index: u64) -> Record {
    Record::from_cbor(a.log().store().get(index).unwrap()).unwrap()
}

#[test]
fn every_event_becomes_the_record_of_its_kind() {
    let mut a = auditor(
        64,
        WhenFull::Deny,
        Box::new(FixedClock(Timestamp::from_unix_seconds(T))),
    );
    let events = [
        AuditEvent::DoorDecision {
            door: "d1",
            allowed: true,
            step: "policy",
            reason: None,
            rule: Some("r1,r2"),
            issuer: Some("iss"),
            subject: Some("alice"),
            credential_id: Some(&[0xc0, 0xff, 0xee]),
            device: Some(&[1, 2, 0xab]),
        },
        AuditEvent::CredentialRefused {
            door: "d1",
            reason: "credential expired",
        },
        AuditEvent::StatusList {
            issuer: Some("iss"),
            installed: true,
            issued_at: Some(77),
            reason: None,
        },
        AuditEvent::PolicyBundle {
            version: 4,
            installed: false,
            reason: Some("rollback"),
        },
        AuditEvent::Attestation {
            device: None,
            accepted: false,
            tier: None,
            reason: Some("bad endorsement"),
        },
        AuditEvent::TelemetryRefused {
            device: b"s",
            seq: 9,
            reason: "replayed envelope",
        },
        AuditEvent::DoorSensor {
            door: "d1",
            event: SensorEvent::HeldOpen,
        },
        AuditEvent::CounterReservation {
            name: "seq",
            first: 100,
            last: 199,
        },
        AuditEvent::KeyRotation {
            name: "k2",
            issuer: None,
        },
    ];
    for (i, e) in events.iter().enumerate() {
        let time = (i == 0).then(|| Timestamp::from_unix_seconds(5));
        assert_eq!(a.append_event(time, e), Ok(Appended::Logged(i as u64)));
    }
    let r: Vec<Record> = (0..9).map(|i| record(&a, i)).collect();
    let kinds: Vec<Kind> = r.iter().map(Record::kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::DoorDecision,
            Kind::CredentialRefused,
            Kind::StatusList,
            Kind::PolicyBundle,
            Kind::Attestation,
            Kind::TelemetryRefused,
            Kind::DoorSensor,
            Kind::CounterReservation,
            Kind::KeyRotation
        ]
    );
    // The event's own time, else the clock's.
    assert_eq!((r[0].time(), r[1].time()), (5, T));
    assert!(r.iter().all(|x| x.source() == "gate-1"));
    assert_eq!(r[0].rule(), Some("r1,r2"));
    assert_eq!(r[0].device(), Some("0102ab"));
    let sub = a.side_table().get(0, PersonalField::Subject).unwrap();
    let cti = a.side_table().get(0, PersonalField::CredentialId).unwrap();
    assert_eq!((sub.value(), cti.value()), ("alice", "c0ffee"));
    assert!(r[0].subject().unwrap().is_opened_by(sub));
    assert!(r[0].credential_id().unwrap().is_opened_by(cti));
    assert_eq!(
        r[0].subject().unwrap().pseudonym(),
        &pseudonym(&citysec_rustcrypto::PROVIDER, &[9; 32], "alice").unwrap()
    );
    assert_eq!(r[1].reason(), Some("credential expired"));
    assert_eq!(
        (r[2].issuer(), r[2].number(), r[2].outcome()),
        (Some("iss"), Some(77), Some(Outcome::Allow))
    );
    assert_eq!(
        (r[3].number(), r[3].outcome(), r[3].reason()),
        (Some(4), Some(Outcome::Deny), Some("rollback"))
    );
    assert_eq!((r[4].device(), r[4].reason()), (None, Some("bad endorsement")));
    assert_eq!((r[5].device(), r[5].number()), (Some("73"), Some(9)));
    assert_eq!(r[6].outcome(), Some(Outcome::HeldOpen));
    assert_eq!((r[7].number(), r[7].end()), (Some(100), Some(199)));
    assert_eq!((r[8].name(), r[8].issuer()), (Some("k2"), None));
}

#[test]
fn long_texts_are_cut_at_a_character_boundary_and_long_personal_values_refused() {
    let mut a = auditor(8, WhenFull::Deny, Box::new(FixedClock(Timestamp::from_unix_seconds(T))));
    // 255 ASCII bytes and a two-byte character: cut before the character.
    let reason = format!("{}é and more", "x".repeat(255));
    a.append_event(
        None,
        &AuditEvent::CredentialRefused {
            door: "d",
            reason: &reason,
        },
    )
    .unwrap();
    assert_eq!(record(&a, 0).reason(), Some("x".repeat(255).as_str()));
    let long = "a".repeat(257);
    let e = AuditEvent::DoorDecision {
        door: "d",
        allowed: false,
        step: "policy",
        reason: None,
        rule: None,
        issuer: None,
        subject: Some(&long),
        credential_id: None,
        device: None,
    };
    assert_eq!(a.append_event(None, &e), Err(Error::MalformedRecord));
    assert_eq!(a.log().size(), 1, "nothing appended");
}

#[test]
fn without_a_time_nothing_is_recorded() {
    let mut a = auditor(8, WhenFull::Deny, Box::new(NoClock));
    let e = AuditEvent::KeyRotation {
        name: "k",
        issuer: None,
    };
    assert_eq!(a.append_event(None, &e), Err(Error::NoTime));
    assert_eq!(
        a.append_event(Some(Timestamp::from_unix_seconds(1)), &e),
        Ok(Appended::Logged(0))
    );
}

#[test]
fn a_dropped_record_leaves_no_disclosure_behind() {
    let mut a = auditor(
        1,
        WhenFull::DecideAndCount,
        Box::new(FixedClock(Timestamp::from_unix_seconds(T))),
    );
    let e = AuditEvent::DoorDecision {
        door: "d",
        allowed: true,
        step: "policy",
        reason: None,
        rule: None,
        issuer: None,
        subject: Some("bob"),
        credential_id: None,
        device: None,
    };
    assert_eq!(a.append_event(None, &e), Ok(Appended::Logged(0)));
    assert_eq!(a.append_event(None, &e), Ok(Appended::Dropped));
    assert_eq!(a.side_table().len(), 1);
    assert_eq!(a.log().dropped(), 1);
    assert_eq!(a.side_table_mut().erase_value("bob"), 1);
    assert!(a.side_table().is_empty());
}
