use super::*;

fn check(hex_str: &str) -> Result<()> {
    let bytes = hex::decode(hex_str).unwrap();
    check_well_formed(&bytes, &Limits::DEFAULT, Tags::Forbid)
}

#[test]
fn accepts_plain_items() {
    assert_eq!(check("00"), Ok(()));
    assert_eq!(check("a201260442313154"), Err(Error::TrailingBytes));
    assert_eq!(check("a2012604423131"), Ok(()));
    assert_eq!(check("8443a10126a0f6f6"), Ok(()));
    assert_eq!(check("f93c00"), Ok(())); // half float 1.0
    assert_eq!(check("6568656c6c6f"), Ok(()));
}

#[test]
fn rejects_indefinite_lengths() {
    assert_eq!(check("9fff"), Err(Error::IndefiniteLength));
    assert_eq!(check("bf01ff"), Err(Error::IndefiniteLength));
    assert_eq!(check("5f4101ff"), Err(Error::IndefiniteLength));
    assert_eq!(check("7f6161ff"), Err(Error::IndefiniteLength));
}

#[test]
fn rejects_duplicate_keys_by_value() {
    assert_eq!(check("a201010102"), Err(Error::DuplicateMapKey));
    // 1 and 24 01 are the same integer in two encodings
    assert_eq!(check("a20101180102"), Err(Error::DuplicateMapKey));
    assert_eq!(check("a2616101616102"), Err(Error::DuplicateMapKey));
    // nested
    assert_eq!(check("81a101a200000000"), Err(Error::DuplicateMapKey));
    // a text key and a byte key with the same content are different keys
    assert_eq!(check("a2616101416102"), Ok(()));
}

#[test]
fn rejects_reserved_and_truncated() {
    assert_eq!(check("1c"), Err(Error::Malformed));
    assert_eq!(check("f800"), Err(Error::Malformed));
    assert_eq!(check("5a00010000"), Err(Error::Malformed));
    assert_eq!(check("62c328"), Err(Error::Malformed)); // invalid UTF-8
    assert_eq!(check(""), Err(Error::Malformed));
    // an array claiming 2^32 entries in five bytes
    assert_eq!(check("9affffffff"), Err(Error::TooManyEntries));
}

#[test]
fn tags_inside_are_refused_unless_allowed() {
    assert_eq!(check("81c11a5bb0b7a0"), Err(Error::UnexpectedTag));
    let bytes = hex::decode("81c11a5bb0b7a0").unwrap();
    assert_eq!(check_well_formed(&bytes, &Limits::DEFAULT, Tags::Allow), Ok(()));
}

#[test]
fn depth_and_entry_limits() {
    let mut deep = std::vec![0x81u8; 17];
    deep.push(0x00);
    assert_eq!(
        check_well_formed(&deep, &Limits::DEFAULT, Tags::Forbid),
        Err(Error::TooDeep)
    );
    let ok = &deep[1..];
    assert_eq!(check_well_formed(ok, &Limits::DEFAULT, Tags::Forbid), Ok(()));

    let limits = Limits::DEFAULT.with_max_entries(2);
    let three = hex::decode("83010203").unwrap();
    assert_eq!(
        check_well_formed(&three, &limits, Tags::Forbid),
        Err(Error::TooManyEntries)
    );

    let limits = Limits::DEFAULT.with_max_message_size(3);
    assert_eq!(check_well_formed(&three, &limits, Tags::Forbid), Err(Error::TooLarge));
}

#[test]
fn to_be_processed_matches_cose_wg_intermediate() {
    // sign-pass-02's ToBeSign: ["Signature1", h'A10126', h'11AA22BB33CC44DD55006699', payload]
    let tbs = to_be_processed(
        "Signature1",
        &hex::decode("a10126").unwrap(),
        &hex::decode("11aa22bb33cc44dd55006699").unwrap(),
        Some(b"This is the content."),
    );
    assert_eq!(
        hex::encode_upper(tbs),
        "846A5369676E61747572653143A101264C11AA22BB33CC44DD5500669954546869732069732074686520636F6E74656E742E"
    );
}

#[test]
fn only_plain_simple_values_and_scalar_keys() {
    // false, true, null, half/single/double floats are fine
    assert_eq!(check("84f4f5f6f93c00"), Ok(()));
    assert_eq!(check("82fa3f800000fb3ff0000000000000"), Ok(()));
    // undefined, an unassigned simple value, a one-byte simple value
    assert_eq!(check("f7"), Err(Error::Malformed));
    assert_eq!(check("f0"), Err(Error::Malformed));
    assert_eq!(check("f820"), Err(Error::Malformed));
    // keys: integers and strings only (null and undefined would both read as null)
    assert_eq!(check("a2f610f730"), Err(Error::Malformed));
    assert_eq!(check("a1f93c0001"), Err(Error::Malformed));
    assert_eq!(check("a1800101"), Err(Error::Malformed));
    assert_eq!(check("a241000141610f"), Ok(()));
}

#[test]
fn duplicate_keys_in_large_maps() {
    // 20 distinct integer keys, then the same map with key 3 again at the end
    // (beyond the remembered keys) and at position 5 (within them).
    let mut ok = std::vec![0xb4u8];
    for k in 0..20u8 {
        ok.extend_from_slice(&[k, 0x00]);
    }
    assert_eq!(check_well_formed(&ok, &Limits::DEFAULT, Tags::Forbid), Ok(()));
    let mut late = ok.clone();
    late[1 + 19 * 2] = 3;
    assert_eq!(
        check_well_formed(&late, &Limits::DEFAULT, Tags::Forbid),
        Err(Error::DuplicateMapKey)
    );
    let mut early = ok.clone();
    early[1 + 5 * 2] = 3;
    assert_eq!(
        check_well_formed(&early, &Limits::DEFAULT, Tags::Forbid),
        Err(Error::DuplicateMapKey)
    );
    // strings: equal content in two encodings is a duplicate, text vs bytes is not
    assert_eq!(check("a2616101780161f6"), Err(Error::DuplicateMapKey));
    assert_eq!(check("a3616101416102616202"), Ok(()));
    assert_eq!(check("a3616101416102416102"), Err(Error::DuplicateMapKey));
}
