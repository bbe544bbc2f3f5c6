//! Unit tests of the private pieces: the CBOR writer, hex, versions.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use alloc::vec::Vec;

use crate::enc;
use crate::hex;
use crate::reference::Version;

#[test]
fn heads_are_shortest_form() {
    for (arg, want) in [
        (0u64, &[0x00][..]),
        (23, &[0x17]),
        (24, &[0x18, 0x18]),
        (255, &[0x18, 0xff]),
        (256, &[0x19, 0x01, 0x00]),
        (65_535, &[0x19, 0xff, 0xff]),
        (65_536, &[0x1a, 0x00, 0x01, 0x00, 0x00]),
        (u64::from(u32::MAX) + 1, &[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]),
    ] {
        let mut out = Vec::new();
        enc::uint(&mut out, arg).unwrap();
        assert_eq!(out, want, "{arg}");
        assert_eq!(enc::head_len(arg), want.len());
    }
}

#[test]
fn negative_integers() {
    for (v, want) in [
        (-1i64, &[0x20][..]),
        (-8, &[0x27]),
        (-65_601, &[0x3a, 0x00, 0x01, 0x00, 0x40]),
        (i64::MIN, &[0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ] {
        let mut out = Vec::new();
        enc::int(&mut out, v).unwrap();
        assert_eq!(out, want, "{v}");
    }
}

#[test]
fn slice_sink_refuses_overflow() {
    let mut buf = [0u8; 3];
    let mut s = enc::SliceSink::new(&mut buf);
    enc::bytes(&mut s, &[1, 2]).unwrap();
    assert_eq!(enc::bytes(&mut s, &[3]), Err(crate::Error::BufferTooSmall));
}

#[test]
fn hex_round_trip_and_strictness() {
    assert_eq!(hex::encode(&[0x01, 0xab, 0xff]), "01abff");
    assert_eq!(hex::decode("01abff").unwrap(), [0x01, 0xab, 0xff]);
    assert_eq!(hex::decode("01ABFF"), None);
    assert_eq!(hex::decode("abc"), None);
    assert_eq!(hex::decode("0g"), None);
}

#[test]
fn versions_compare_numerically_with_padding() {
    let v = |s| Version::parse(s).unwrap();
    assert!(v("1.10.0") > v("1.9.9"));
    assert_eq!(v("1.4"), v("1.4.0"));
    assert!(v("2") > v("1.99.99"));
    for bad in ["", "1..2", "1.a", "v1.2", "1.2-rc1", "1.2.3.4.5.6.7.8.9", "4294967296"] {
        assert!(Version::parse(bad).is_none(), "{bad}");
    }
    assert!(Version::parse("1.2.3.4.5.6.7.8").is_some());
}
