//! Unit tests of the private pieces: hex, versions.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use crate::hex;
use crate::reference::Version;

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
