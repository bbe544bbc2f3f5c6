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

fn det(hex_str: &str) -> Result<()> {
    let bytes = hex::decode(hex_str).unwrap();
    check_deterministic(&bytes, &Limits::DEFAULT, Tags::Forbid)
}

#[test]
fn deterministic_requires_shortest_heads() {
    assert_eq!(det("a2012604423131"), Ok(()));
    // the integer 1 as 18 01, the map head as b8 02, a text length as 78 01
    assert_eq!(det("1801"), Err(Error::NotDeterministic));
    assert_eq!(check("1801"), Ok(()));
    assert_eq!(det("b8020126044131"), Err(Error::NotDeterministic));
    assert_eq!(det("780161"), Err(Error::NotDeterministic));
    assert_eq!(det("190017"), Err(Error::NotDeterministic));
    assert_eq!(det("1a0000ffff"), Err(Error::NotDeterministic));
    assert_eq!(det("1b00000000ffffffff"), Err(Error::NotDeterministic));
    assert_eq!(det("1b0000000100000000"), Ok(()));
    assert_eq!(det("19ffff"), Ok(()));
    assert_eq!(det("3818"), Ok(()));
    assert_eq!(det("3817"), Err(Error::NotDeterministic));
}

#[test]
fn deterministic_requires_ascending_keys() {
    // {1: 0, -1: 0}: 0x01 < 0x20, in order
    assert_eq!(det("a2010020 00".replace(' ', "").as_str()), Ok(()));
    // {-1: 0, 1: 0}: out of order, fine for the general pass
    assert_eq!(
        det("a2200001 00".replace(' ', "").as_str()),
        Err(Error::NotDeterministic)
    );
    assert_eq!(check("a22000 0100".replace(' ', "").as_str()), Ok(()));
    // {"b": 0, "a": 0} and {"aa": 0, "b": 0} (shorter sorts first)
    assert_eq!(det("a2616200616100"), Err(Error::NotDeterministic));
    assert_eq!(det("a262616100616200"), Err(Error::NotDeterministic));
    assert_eq!(det("a261620062616100"), Ok(()));
    // integers before byte strings before text
    assert_eq!(det("a30100410000616100"), Ok(()));
    assert_eq!(det("a30100616100410000"), Err(Error::NotDeterministic));
    // an equal key is a duplicate, in either pass
    assert_eq!(
        det("a2010001 00".replace(' ', "").as_str()),
        Err(Error::DuplicateMapKey)
    );
    // nested maps are checked too
    assert_eq!(
        det("81a2020001 00".replace(' ', "").as_str()),
        Err(Error::NotDeterministic)
    );
}

#[test]
fn deterministic_floats() {
    // half 1.0 is preferred; 1.0 as single or double is not
    assert_eq!(det("f93c00"), Ok(()));
    assert_eq!(det("fa3f800000"), Err(Error::NotDeterministic));
    assert_eq!(det("fb3ff0000000000000"), Err(Error::NotDeterministic));
    // 0.1 needs a double; 100000.0 a single; 5.960464477539063e-8 is the smallest half subnormal
    assert_eq!(det("fb3fb999999999999a"), Ok(()));
    assert_eq!(det("fa47c35000"), Ok(()));
    assert_eq!(det("fa33800000"), Err(Error::NotDeterministic));
    assert_eq!(det("f90001"), Ok(()));
    // half the smallest half subnormal needs a single
    assert_eq!(det("fa33000000"), Ok(()));
    // NaN only as f97e00; infinity as a half
    assert_eq!(det("f97e00"), Ok(()));
    assert_eq!(det("f97e01"), Err(Error::NotDeterministic));
    assert_eq!(det("fa7fc00000"), Err(Error::NotDeterministic));
    assert_eq!(det("fa7f800000"), Err(Error::NotDeterministic));
    assert_eq!(det("f97c00"), Ok(()));
    // the smallest single subnormal as a double, and 1.5 * 2^-149 (not a single)
    assert_eq!(det("fb36a0000000000000"), Err(Error::NotDeterministic));
    assert_eq!(det("fb36a8000000000000"), Ok(()));
}

/// An unsigned integer in shortest form.
fn uint(k: u16) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::new();
    write_head(&mut out, 0, u64::from(k));
    out
}

/// A map of the given integer keys, each with value 0.
fn int_map(keys: &[u16]) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::new();
    write_head(&mut out, 5, keys.len() as u64);
    for &k in keys {
        out.extend(uint(k));
        out.push(0);
    }
    out
}

#[test]
fn unsorted_maps_are_checked_exactly_up_to_their_limit() {
    let ok = |b: &[u8]| check_well_formed(b, &Limits::DEFAULT, Tags::Forbid);
    // 32 keys in descending order: accepted; with a duplicate anywhere: refused
    let desc: alloc::vec::Vec<u16> = (0..32).rev().collect();
    assert_eq!(ok(&int_map(&desc)), Ok(()));
    for dup_at in [0usize, 7, 15, 17, 31] {
        let mut keys = desc.clone();
        keys[dup_at] = desc[16];
        assert_eq!(
            ok(&int_map(&keys)),
            Err(Error::DuplicateMapKey),
            "duplicate at {dup_at}"
        );
    }
    // shuffled distinct keys pass, in any order
    let shuffled: alloc::vec::Vec<u16> = (0..32u16).map(|i| (i * 13) % 32).collect();
    assert_eq!(ok(&int_map(&shuffled)), Ok(()));
    // 33 keys in order: fine; one out of order: too large to check unsorted
    let asc: alloc::vec::Vec<u16> = (0..33).collect();
    assert_eq!(ok(&int_map(&asc)), Ok(()));
    let mut swapped = asc.clone();
    swapped.swap(30, 31);
    assert_eq!(ok(&int_map(&swapped)), Err(Error::UnsortedMap));
    // in a 256-entry ascending map a duplicate at the end is found
    let big: alloc::vec::Vec<u16> = (0..256).collect();
    assert_eq!(ok(&int_map(&big)), Ok(()));
    let mut dup = big.clone();
    dup[255] = 254;
    assert_eq!(ok(&int_map(&dup)), Err(Error::DuplicateMapKey));
    // and the same key in a longer encoding is still the same key
    let mut long = int_map(&[1, 2]);
    long.truncate(3);
    long.extend([0x18, 0x01, 0x00]);
    assert_eq!(ok(&long), Err(Error::DuplicateMapKey));
}

/// Builders of the adversarial shapes the linear-work bound is checked on.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test builders on small known sizes"
)]
mod shapes {
    use alloc::vec::Vec;

    use super::write_head;

    pub(super) fn head(out: &mut Vec<u8>, major: u8, arg: usize) {
        write_head(out, major, arg as u64);
    }

    pub(super) fn text(out: &mut Vec<u8>, s: &[u8]) {
        head(out, 3, s.len());
        out.extend_from_slice(s);
    }

    /// `units` repeated inside arrays of at most 256 items (two levels at most), so
    /// that the whole is about `target` bytes and within the default limits.
    pub(super) fn fill(unit: &[u8], target: usize) -> Vec<u8> {
        let k = (target / unit.len()).max(1);
        let mut out = Vec::new();
        if k <= 256 {
            head(&mut out, 4, k);
            for _ in 0..k {
                out.extend_from_slice(unit);
            }
        } else {
            let outer = k.div_ceil(256).min(256);
            head(&mut out, 4, outer);
            let mut left = k;
            for _ in 0..outer {
                let n = left.min(256);
                left -= n;
                head(&mut out, 4, n);
                for _ in 0..n {
                    out.extend_from_slice(unit);
                }
            }
        }
        out
    }

    /// A 256-entry map of integer keys 0..=255 whose first value is `first`, the
    /// others 0; with `dup`, the last key repeats the one before it.
    pub(super) fn max_map(first: &[u8], dup: bool) -> Vec<u8> {
        let mut out = Vec::new();
        head(&mut out, 5, 256);
        for k in 0..256usize {
            let key = if dup && k == 255 { 254 } else { k };
            head(&mut out, 0, key);
            if k == 0 {
                out.extend_from_slice(first);
            } else {
                out.push(0);
            }
        }
        out
    }

    /// Maximum-entry maps nested `levels` deep, each level the first value of the
    /// one above, the innermost first value a text of `len` bytes; with `dup`, the
    /// outermost map's last key is a duplicate (found at its last bytes).
    pub(super) fn nested_max_maps(levels: usize, len: usize, dup: bool) -> Vec<u8> {
        let mut inner = Vec::new();
        text(&mut inner, &alloc::vec![b'a'; len]);
        for level in 0..levels {
            inner = max_map(&inner, dup && level + 1 == levels);
        }
        inner
    }

    /// Single-entry maps nested `depth` deep around 0.
    pub(super) fn chain(depth: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..depth {
            out.extend_from_slice(&[0xa1, 0x00]);
        }
        out.push(0);
        out
    }

    /// A map of the given text keys, each with value 0.
    pub(super) fn text_map(keys: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        head(&mut out, 5, keys.len());
        for k in keys {
            text(&mut out, k);
            out.push(0);
        }
        out
    }

    /// `count` keys of `len` bytes that share all but their last two bytes,
    /// `(i)`-th key ending in the big-endian `i`.
    pub(super) fn prefixed_keys(count: usize, len: usize) -> Vec<Vec<u8>> {
        (0..count)
            .map(|i| {
                let mut k = alloc::vec![b'k'; len - 2];
                k.extend_from_slice(&[b'a' + (i / 26) as u8, b'a' + (i % 26) as u8]);
                k
            })
            .collect()
    }

    /// A 32-entry map of one-byte integer keys (0..=23 and -1..=-8) in descending
    /// order: every key is inserted at the front of the sorted key array.
    pub(super) fn descending_small_map() -> Vec<u8> {
        let mut out = alloc::vec![0xb8, 32];
        for k in (0x20u8..=0x27).rev() {
            out.extend_from_slice(&[k, 0x00]);
        }
        for k in (0u8..=23).rev() {
            out.extend_from_slice(&[k, 0x00]);
        }
        out
    }
}

/// Each adversarial shape at several sizes: the pass's steps stay within
/// `STEPS_PER_BYTE * n + 1`, and each outcome is the expected one.
#[test]
fn pass_work_is_linear_on_adversarial_shapes() {
    use alloc::vec::Vec;
    use shapes::*;

    let mut worst: f64 = 0.0;
    let mut cases: Vec<(&str, Vec<u8>, Result<()>)> = Vec::new();
    for target in [1_000usize, 4_000, 16_000, 60_000] {
        // nested maximum-entry maps with a large first value (the 0.1 attack), with
        // a duplicate key at the end of the outermost map
        let levels = if target < 4_000 { 1 } else { 2 };
        let nested_len = target.saturating_sub(levels * 600).max(1);
        cases.push(("nested max maps", nested_max_maps(levels, nested_len, false), Ok(())));
        cases.push((
            "nested max maps, duplicate at the end",
            nested_max_maps(levels, nested_len, true),
            Err(Error::DuplicateMapKey),
        ));
        // maximum depth: chains reaching depth 16 (two array levels around 14 maps)
        cases.push(("maximum depth", fill(&chain(14), target), Ok(())));
        // many tiny items
        cases.push(("tiny items", fill(&[0x00], target), Ok(())));
        // long strings (multi-byte UTF-8)
        let long = {
            let mut t = Vec::new();
            text(&mut t, "é".repeat(target / 8).as_bytes());
            t
        };
        cases.push(("long strings", fill(&long, target), Ok(())));
        // 32-entry unsorted maps of long equal-length keys sharing all but the end
        let key_len = (target / 40).clamp(4, 1_000);
        let mut keys = prefixed_keys(32, key_len);
        keys.reverse();
        let unsorted = text_map(&keys);
        cases.push(("unsorted maps of long keys", fill(&unsorted, target), Ok(())));
        let mut dup_keys = keys.clone();
        dup_keys[31] = dup_keys[16].clone();
        cases.push((
            "unsorted map of long keys, duplicate last",
            text_map(&dup_keys),
            Err(Error::DuplicateMapKey),
        ));
        // 32-entry unsorted maps of one-byte keys, each key inserted at the front:
        // eight of them (the message's unsorted total), then as many as fit
        let small = descending_small_map();
        let mut eight = alloc::vec![0x88];
        for _ in 0..8 {
            eight.extend_from_slice(&small);
        }
        cases.push(("descending small maps", eight, Ok(())));
        let many = fill(&small, target);
        let fits = target / small.len() <= 8;
        cases.push((
            "descending small maps beyond the total",
            many,
            if fits { Ok(()) } else { Err(Error::UnsortedMap) },
        ));
        // long keys in ascending order that differ only at the end
        let asc_len = (target / 260).max(4);
        let asc = prefixed_keys(256, asc_len);
        cases.push(("ascending long keys", text_map(&asc), Ok(())));
        let mut asc_dup = asc.clone();
        asc_dup[255] = asc_dup[254].clone();
        cases.push((
            "ascending long keys, duplicate last",
            text_map(&asc_dup),
            Err(Error::DuplicateMapKey),
        ));
    }
    for (name, bytes, expected) in &cases {
        assert!(
            bytes.len() <= Limits::DEFAULT.max_message_size,
            "{name}: {} bytes",
            bytes.len()
        );
        for deterministic in [false, true] {
            let (outcome, steps) = check_counted(bytes, &Limits::DEFAULT, Tags::Forbid, deterministic);
            let want = match (deterministic, *name) {
                // unsorted maps are not deterministic
                (
                    true,
                    "unsorted maps of long keys" | "descending small maps" | "descending small maps beyond the total",
                ) => Err(Error::NotDeterministic),
                (true, "unsorted map of long keys, duplicate last") => Err(Error::NotDeterministic),
                _ => *expected,
            };
            assert_eq!(
                outcome,
                want,
                "{name} ({} bytes, deterministic {deterministic})",
                bytes.len()
            );
            let n = bytes.len();
            assert!(steps <= STEPS_PER_BYTE * n + 1, "{name}: {steps} steps for {n} bytes");
            worst = worst.max(steps as f64 / n as f64);
            std::eprintln!(
                "{name}: {n} bytes, deterministic {deterministic}: {steps} steps ({:.2}/byte)",
                steps as f64 / n as f64
            );
        }
    }
    // the bound is not loose: the worst shape comes within a factor 2 of it
    assert!(worst > STEPS_PER_BYTE as f64 / 2.0, "worst {worst:.2} steps per byte");
}

#[test]
fn steps_count_the_work() {
    // 0x00: one head
    assert_eq!(
        check_counted(&[0x00], &Limits::DEFAULT, Tags::Forbid, false),
        (Ok(()), 1)
    );
    // "aé": one head and three bytes of UTF-8
    let t = hex::decode("6361c3a9").unwrap();
    assert_eq!(check_counted(&t, &Limits::DEFAULT, Tags::Forbid, false), (Ok(()), 4));
    // a byte string is skipped in one step
    let b = hex::decode("43616263").unwrap();
    assert_eq!(check_counted(&b, &Limits::DEFAULT, Tags::Forbid, false), (Ok(()), 1));
    // {"ab": 0, "ac": 0}: 5 items, 2 text bytes each, one comparison (2 heads, 2 bytes)
    let m = hex::decode("a262616200626163 00".replace(' ', "")).unwrap();
    assert_eq!(check_counted(&m, &Limits::DEFAULT, Tags::Forbid, false), (Ok(()), 13));
    // {1: 0, 0: 0}: 5 heads, the descending comparison (2), the binary search over
    // one kept key (2), one slot moved
    let m = hex::decode("a201000000").unwrap();
    assert_eq!(check_counted(&m, &Limits::DEFAULT, Tags::Forbid, false), (Ok(()), 10));
    // an empty input: the one head it failed to read
    assert_eq!(
        check_counted(&[], &Limits::DEFAULT, Tags::Forbid, false),
        (Err(Error::Malformed), 1)
    );
}

#[test]
fn map_key_state_size() {
    // the per-level scratch the module docs state: 152 bytes on 32-bit, 304 on 64-bit
    let expected = if usize::BITS == 64 { 304 } else { 152 };
    assert_eq!(size_of::<MapKeys>(), expected);
}

#[test]
fn maps_share_a_key_merges_exactly() {
    let share = |a: &[u8], b: &[u8]| maps_share_a_key(a, b).unwrap();
    // small unsorted maps
    assert!(share(&int_map(&[5, 3, 1]), &int_map(&[4, 2, 3])));
    assert!(!share(&int_map(&[5, 3, 1]), &int_map(&[4, 2, 0])));
    // a large ascending map against a small unsorted one, the shared key last
    let big: alloc::vec::Vec<u16> = (0..256).map(|k| k * 2).collect();
    assert!(share(&int_map(&big), &int_map(&[511, 3, 510])));
    assert!(!share(&int_map(&big), &int_map(&[511, 3, 509])));
    // the same value in a longer encoding is the same key
    let mut long = alloc::vec![0xa1, 0x18, 0x05, 0x00];
    assert!(share(&long, &int_map(&[5])));
    long[2] = 0x06;
    assert!(!share(&long, &int_map(&[5])));
    // text and integer keys
    let t = hex::decode("a2616101626262 02".replace(' ', "")).unwrap();
    assert!(share(&t, &hex::decode("a1626262f6").unwrap()));
    assert!(!share(&t, &hex::decode("a1626263f6").unwrap()));
    // empty maps share nothing; a non-map is malformed
    assert!(!share(&[0xa0], &int_map(&[1])));
    assert_eq!(maps_share_a_key(&[0x80], &[0xa0]), Err(Error::Malformed));
}

#[test]
fn unsorted_entries_are_bounded_per_message() {
    let small = shapes::descending_small_map();
    let maps = |n: usize| {
        let mut out = alloc::vec::Vec::new();
        write_head(&mut out, 4, n as u64);
        for _ in 0..n {
            out.extend_from_slice(&small);
        }
        out
    };
    let ok = |b: &[u8]| check_well_formed(b, &Limits::DEFAULT, Tags::Forbid);
    // 8 maps of 32 unsorted entries: 256, the most; a ninth map is refused
    assert_eq!(ok(&maps(8)), Ok(()));
    assert_eq!(ok(&maps(9)), Err(Error::UnsortedMap));
    // a map that turns unsorted at its last key charges all its entries
    let mut tail = maps(8);
    tail[0] = 0x89;
    tail.extend_from_slice(&int_map(&[1, 0]));
    assert_eq!(ok(&tail), Err(Error::UnsortedMap));
    // ascending maps are not charged
    let mut asc = maps(8);
    asc[0] = 0x89;
    asc.extend_from_slice(&int_map(&(0..32).collect::<alloc::vec::Vec<u16>>()));
    assert_eq!(ok(&asc), Ok(()));
}
