//! Pre-signature work on whole COSE_Sign1 messages: adversarial headers cost at most
//! `cbor::STEPS_PER_BYTE` steps per byte in the well-formedness pass, and each is
//! refused with its exact error by `UnverifiedSign1::parse` (the step the verifiers
//! run before any signature). Counts, not times: the timings are the
//! `reject_adversarial` benchmark's.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::cbor::{STEPS_PER_BYTE, Tags, check_counted};
use citysec_core::sign1::{UnverifiedSign1, VerifyOptions};
use citysec_core::{Error, Limits};

fn head(out: &mut Vec<u8>, major: u8, n: usize) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

/// A tagged COSE_Sign1 with protected `{1: -8}` plus `protected_extra` entries
/// (each a key and a value, already encoded, counted in `extra_entries`), the
/// unprotected map `unprotected`, a one-byte payload and a 64-byte signature.
fn sign1(protected_extra: &[u8], extra_entries: usize, unprotected: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    head(&mut p, 5, 1 + extra_entries);
    p.extend_from_slice(&[0x01, 0x27]);
    p.extend_from_slice(protected_extra);
    let mut out = vec![0xd2, 0x84];
    head(&mut out, 2, p.len());
    out.extend_from_slice(&p);
    out.extend_from_slice(unprotected);
    out.extend_from_slice(&[0x41, 0x00, 0x58, 0x40]);
    out.extend_from_slice(&[0u8; 64]);
    out
}

/// `{100: value}` as an unprotected header.
fn unprotected_with(value: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa1, 0x18, 100];
    out.extend_from_slice(value);
    out
}

/// A 256-entry map of keys 0..=255 whose first value is `first`; with `dup` the
/// last key repeats the one before it.
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

/// 32-entry maps of one-byte keys in descending order, in arrays, about `target` bytes.
fn descending_maps(target: usize, dup_last: bool) -> Vec<u8> {
    let mut map = vec![0xb8, 32];
    for k in (0x20u8..=0x27).rev().chain((0u8..=23).rev()) {
        map.extend_from_slice(&[k, 0x00]);
    }
    let k = target / map.len();
    let mut out = Vec::new();
    let outer = k.div_ceil(256);
    head(&mut out, 4, outer);
    let mut left = k;
    for _ in 0..outer {
        let n = left.min(256);
        left -= n;
        head(&mut out, 4, n);
        for i in 0..n {
            if dup_last && left == 0 && i + 1 == n {
                // the last map's last key repeats its first
                let mut m = map.clone();
                let at = m.len() - 2;
                m[at] = 0x27;
                out.extend_from_slice(&m);
            } else {
                out.extend_from_slice(&map);
            }
        }
    }
    out
}

fn check(name: &str, msg: &[u8], expected: Error) {
    let opts = VerifyOptions::default();
    assert_eq!(UnverifiedSign1::parse(msg, &opts).unwrap_err(), expected, "{name}");
    // the pass over the body (after the tag), and over the protected header's content
    let body = &msg[1..];
    let (_, steps) = check_counted(body, &Limits::DEFAULT, Tags::Forbid, false);
    assert!(
        steps <= STEPS_PER_BYTE * body.len() + 1,
        "{name}: {steps} steps for {} bytes",
        body.len()
    );
}

#[test]
fn adversarial_headers_are_refused_in_linear_work() {
    for target in [4 * 1024, 60 * 1024] {
        // nested maximum-entry maps with a large first value, duplicate at the end
        let text = {
            let mut t = Vec::new();
            let len = target - 1_600;
            head(&mut t, 3, len);
            t.extend(core::iter::repeat_n(b'a', len));
            t
        };
        let nested = max_map(&max_map(&text, false), true);
        let msg = sign1(&[], 0, &unprotected_with(&nested));
        assert!(msg.len() <= target, "{} bytes", msg.len());
        check("nested maximum maps", &msg, Error::DuplicateMapKey);

        // unsorted small maps: refused when their entries pass the message's total
        let msg = sign1(&[], 0, &unprotected_with(&descending_maps(target - 200, true)));
        check("descending small maps", &msg, Error::UnsortedMap);

        // the same inside the protected header (walked by the pass over its content)
        let mut extra = vec![0x18, 100];
        extra.extend_from_slice(&descending_maps(target - 200, true));
        let msg = sign1(&extra, 1, &[0xa0]);
        assert_eq!(
            UnverifiedSign1::parse(&msg, &VerifyOptions::default()).unwrap_err(),
            Error::UnsortedMap
        );
    }
}

#[test]
fn a_label_in_both_buckets_is_found_among_the_most_labels_allowed() {
    // protected: alg and labels 100..=130 (32 labels), the first value 30,000 bytes long
    let mut extra = Vec::new();
    for l in 100..131usize {
        head(&mut extra, 0, l);
        if l == 100 {
            head(&mut extra, 2, 30_000);
            extra.extend(core::iter::repeat_n(0u8, 30_000));
        } else {
            extra.push(0);
        }
    }
    let unprotected = |labels: &mut dyn Iterator<Item = usize>| {
        let labels: Vec<usize> = labels.collect();
        let mut u = Vec::new();
        head(&mut u, 5, labels.len());
        for l in labels {
            head(&mut u, 0, l);
            u.push(0);
        }
        u
    };
    let parse = |u: &[u8]| UnverifiedSign1::parse(&sign1(&extra, 31, u), &VerifyOptions::default()).map(|_| ());
    // 32 ascending labels after the protected ones: no label in both buckets
    assert_eq!(parse(&unprotected(&mut (1000..1032))), Ok(()));
    // 32 ascending labels 130..=161, the first of them also protected
    assert_eq!(parse(&unprotected(&mut (130..162))), Err(Error::DuplicateHeaderLabel));
    // 32 labels in descending order, one of them protected
    assert_eq!(
        parse(&unprotected(&mut (0..32).rev().map(|l| l + 110))),
        Err(Error::DuplicateHeaderLabel)
    );
    assert_eq!(parse(&unprotected(&mut (0..32).rev().map(|l| l + 400))), Ok(()));
    // one label more in either bucket is refused before the pass reads the bytes
    assert_eq!(parse(&unprotected(&mut (1000..1033))), Err(Error::TooManyEntries));
    let mut more = extra.clone();
    head(&mut more, 0, 131);
    more.push(0);
    let msg = sign1(&more, 32, &unprotected(&mut (1000..1001)));
    assert_eq!(
        UnverifiedSign1::parse(&msg, &VerifyOptions::default()).map(|_| ()),
        Err(Error::TooManyEntries)
    );
}
