//! Work before the signature check on adversarial receipts and notes is linear in
//! their size: the receipt parser's well-formedness pass takes at most
//! `cbor::STEPS_PER_BYTE` steps per byte on the worst shapes, each refused with
//! its exact error; a note is parsed in one pass and, however many lines repeat
//! a trusted key, checked with one signature. Counts, not times: the timings are
//! the `reject_adversarial` benchmark's.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_audit::Error;
use citysec_audit::note::{MAX_NOTE_LEN, Note};
use citysec_audit::receipt::{MAX_RECEIPT_LEN, Receipt};
use citysec_core::Limits;
use citysec_core::cbor::write::{head as write_head, len_arg};
use citysec_core::cbor::{STEPS_PER_BYTE, Tags, check_counted};

fn head(out: &mut Vec<u8>, major: u8, n: usize) {
    let Ok(()) = write_head(out, major, len_arg(n));
}

/// A receipt whose unprotected header holds `{100: value, 396: {-1: [proof]}}`,
/// with a genuine-looking proof and signature.
fn receipt_with(value: &[u8]) -> Vec<u8> {
    let protected = [0xa2, 0x01, 0x27, 0x19, 0x01, 0x8b, 0x01];
    let mut proof = vec![0x83, 0x05, 0x03, 0x81, 0x58, 0x20];
    proof.extend_from_slice(&[7u8; 32]);
    let mut out = vec![0xd2, 0x84];
    head(&mut out, 2, protected.len());
    out.extend_from_slice(&protected);
    out.extend_from_slice(&[0xa2, 0x18, 100]);
    out.extend_from_slice(value);
    out.extend_from_slice(&[0x19, 0x01, 0x8c, 0xa1, 0x20, 0x81]);
    head(&mut out, 2, proof.len());
    out.extend_from_slice(&proof);
    out.extend_from_slice(&[0xf6, 0x58, 0x40]);
    out.extend_from_slice(&[0u8; 64]);
    out
}

fn max_map(first: &[u8], dup: bool) -> Vec<u8> {
    let mut out = Vec::new();
    head(&mut out, 5, 256);
    for k in 0..256usize {
        head(&mut out, 0, if dup && k == 255 { 254 } else { k });
        if k == 0 {
            out.extend_from_slice(first);
        } else {
            out.push(0);
        }
    }
    out
}

/// 32-entry maps of one-byte keys in descending order, in one array, about
/// `target` bytes, the last map's last key a duplicate.
fn descending_maps(target: usize) -> Vec<u8> {
    let mut map = vec![0xb8, 32];
    for k in (0x20u8..=0x27).rev().chain((0u8..=23).rev()) {
        map.extend_from_slice(&[k, 0x00]);
    }
    let count = (target / map.len()).min(255);
    let mut out = Vec::new();
    head(&mut out, 4, count);
    for i in 0..count {
        let mut m = map.clone();
        if i + 1 == count {
            let at = m.len() - 2;
            m[at] = 0x27;
        }
        out.extend_from_slice(&m);
    }
    out
}

/// One-byte items in arrays of 255, then a map with a duplicate key.
fn tiny(target: usize) -> Vec<u8> {
    let per = 255usize;
    let arrays = target / (per + 2);
    let mut out = Vec::new();
    head(&mut out, 4, arrays + 1);
    for _ in 0..arrays {
        head(&mut out, 4, per);
        out.extend(core::iter::repeat_n(0u8, per));
    }
    out.extend_from_slice(&[0xa2, 0, 0, 0, 0]);
    out
}

fn check(name: &str, msg: &[u8], core_error: citysec_core::Error) {
    assert!(msg.len() <= MAX_RECEIPT_LEN, "{name}: {} bytes", msg.len());
    assert_eq!(Receipt::parse(msg).unwrap_err(), Error::MalformedReceipt, "{name}");
    let body = &msg[1..];
    let limits = Limits::new(MAX_RECEIPT_LEN, 8, 128);
    let (result, steps) = check_counted(body, &limits, Tags::Forbid, false);
    assert_eq!(result, Err(core_error), "{name}");
    assert!(
        steps <= STEPS_PER_BYTE * body.len() + 1,
        "{name}: {steps} steps for {} bytes",
        body.len()
    );
}

#[test]
fn adversarial_receipts_are_refused_in_linear_work() {
    // the genuine shape parses
    Receipt::parse(&receipt_with(&[0x00])).unwrap();
    let room = MAX_RECEIPT_LEN - 200;
    // maps of more than 128 entries are over the receipt's limit at once
    check(
        "a maximum map",
        &receipt_with(&max_map(&[0], true)),
        citysec_core::Error::TooManyEntries,
    );
    // nested maps of 100 entries, a long text first, the last key a duplicate
    let mut t = Vec::new();
    head(&mut t, 3, room - 1_000);
    t.extend(core::iter::repeat_n(b'a', room - 1_000));
    let mut inner = Vec::new();
    head(&mut inner, 5, 100);
    for k in 0..100usize {
        head(&mut inner, 0, k);
        if k == 0 {
            inner.extend_from_slice(&t);
        } else {
            inner.push(0);
        }
    }
    let mut outer = Vec::new();
    head(&mut outer, 5, 100);
    for k in 0..100usize {
        head(&mut outer, 0, if k == 99 { 98 } else { k });
        if k == 0 {
            outer.extend_from_slice(&inner);
        } else {
            outer.push(0);
        }
    }
    check(
        "nested maps",
        &receipt_with(&outer),
        citysec_core::Error::DuplicateMapKey,
    );
    check(
        "descending small maps",
        &receipt_with(&descending_maps(room)),
        citysec_core::Error::UnsortedMap,
    );
    // tiny items: arrays of 255 are over the 128-entry limit; of 100, a duplicate
    let mut tiny100 = Vec::new();
    let arrays = (room / 102).min(100);
    head(&mut tiny100, 4, arrays + 1);
    for _ in 0..arrays {
        head(&mut tiny100, 4, 100);
        tiny100.extend(core::iter::repeat_n(0u8, 100));
    }
    tiny100.extend_from_slice(&[0xa2, 0, 0, 0, 0]);
    check(
        "tiny items",
        &receipt_with(&tiny100),
        citysec_core::Error::DuplicateMapKey,
    );
    check(
        "arrays of 255",
        &receipt_with(&tiny(room)),
        citysec_core::Error::TooManyEntries,
    );
    // too large: refused before any byte is read
    assert_eq!(
        Receipt::parse(&vec![0xd2; MAX_RECEIPT_LEN + 1]).unwrap_err(),
        Error::TooLarge
    );
}

/// The note parser's one pass: the largest note of the most lines parses, one
/// line more is refused, and a byte over the size is refused before reading.
#[test]
fn notes_at_the_limits() {
    let line = format!("\u{2014} k {}\n", "A".repeat(200));
    let lines = 64;
    let text = "x".repeat(MAX_NOTE_LEN - lines * line.len() - 2) + "\n";
    let note = format!("{text}\n{}", line.repeat(lines));
    assert_eq!(note.len(), MAX_NOTE_LEN);
    assert_eq!(Note::parse(note.as_bytes()).unwrap().signatures().len(), lines);
    let over = format!("{note}{line}");
    assert_eq!(Note::parse(over.as_bytes()).unwrap_err(), Error::TooLarge);
    let many = format!("x\n\n{}", "\u{2014} k AAAAAAA=\n".repeat(65));
    assert_eq!(Note::parse(many.as_bytes()).unwrap_err(), Error::TooManySignatures);
}

/// Records go through core's deterministic pass first: the worst shapes that fit
/// in a record (2 KiB) are refused within the same bound.
#[test]
fn adversarial_records_are_refused_in_linear_work() {
    use citysec_audit::record::{MAX_RECORD_LEN, Record};
    let limits = Limits::new(MAX_RECORD_LEN, 3, 32);
    // a 32-entry map of descending one-byte keys, then one entry too many
    let mut desc = vec![0xb8, 32];
    for k in (0u8..32).rev() {
        desc.push(if k < 24 { k } else { 0x18 });
        if k >= 24 {
            desc.push(k);
        }
        desc.push(0);
    }
    // text keys of 60 bytes, ascending but the last a duplicate
    let mut long = Vec::new();
    head(&mut long, 5, 30);
    for k in 0..30usize {
        let key = format!("{:0>60}", if k == 29 { 28 } else { k });
        head(&mut long, 3, key.len());
        long.extend_from_slice(key.as_bytes());
        long.push(0);
    }
    for (name, msg, core_error) in [
        ("descending keys", desc, citysec_core::Error::NotDeterministic),
        (
            "long text keys, a duplicate",
            long,
            citysec_core::Error::DuplicateMapKey,
        ),
    ] {
        assert!(msg.len() <= MAX_RECORD_LEN, "{name}");
        assert_eq!(Record::from_cbor(&msg).unwrap_err(), Error::MalformedRecord, "{name}");
        let (result, steps) = check_counted(&msg, &limits, Tags::Forbid, true);
        assert_eq!(result, Err(core_error), "{name}");
        assert!(
            steps <= STEPS_PER_BYTE * msg.len() + 1,
            "{name}: {steps} steps for {} bytes",
            msg.len()
        );
    }
    assert_eq!(
        Record::from_cbor(&vec![0xa0; MAX_RECORD_LEN + 1]).unwrap_err(),
        Error::TooLarge
    );
}
