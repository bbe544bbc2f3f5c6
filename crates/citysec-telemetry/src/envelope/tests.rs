//! The envelope decoder against the decoder as first written (which accepted any
//! head length) and `check_deterministic`, every head of the layout in a longer
//! form, and the one-pass Enc_structure against the two-buffer version it replaced.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    reason = "test code"
)]

use super::*;
use alloc::vec;
use alloc::vec::Vec;
use citysec_core::cbor::{Reader, Tags, check_deterministic};
use citysec_core::{Algorithm, Limits};
use proptest::prelude::*;

fn reference_bstr<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    let h = r.head()?;
    if h.major != 2 {
        return Err(Error::Malformed);
    }
    Ok(r.take_string(h)?)
}

/// The decoder as first written, on `cbor::Reader`: the same layout, but heads of
/// any length.
fn reference_parse(bytes: &[u8], max_size: usize) -> Result<Envelope<'_>> {
    if bytes.len() > max_size {
        return Err(Error::Core(citysec_core::Error::TooLarge));
    }
    let rest = bytes.strip_prefix(&PREFIX).ok_or(Error::Malformed)?;
    let mut r = Reader::new(rest);
    let map = r.head()?;
    if map.major != 5 || !(2..=4).contains(&map.arg) {
        return Err(Error::Malformed);
    }
    let expect = |r: &mut Reader<'_>, key: u8| -> Result<()> {
        let h = r.head()?;
        match (h.major, h.arg) {
            (0, 5) => Err(Error::Core(citysec_core::Error::InvalidIv)),
            (0, k) if k == u64::from(key) => Ok(()),
            _ => Err(Error::Malformed),
        }
    };
    expect(&mut r, 4)?;
    let device_id = reference_bstr(&mut r)?;
    expect(&mut r, 6)?;
    let partial_iv = reference_bstr(&mut r)?;
    if partial_iv.is_empty() || partial_iv.len() > 5 || (partial_iv.len() > 1 && partial_iv.first() == Some(&0)) {
        return Err(Error::Core(citysec_core::Error::InvalidIv));
    }
    let seq = partial_iv.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let (mut epoch, mut topic) = (0u32, "");
    let mut remaining = map.arg.saturating_sub(2);
    if remaining > 0 && r.remaining().starts_with(&EPOCH_KEY) {
        r.take(EPOCH_KEY.len())?;
        let h = r.head()?;
        if h.major != 0 || h.arg == 0 {
            return Err(Error::Malformed);
        }
        epoch = u32::try_from(h.arg).map_err(|_| Error::Malformed)?;
        remaining = remaining.saturating_sub(1);
    }
    if remaining > 0 && r.remaining().starts_with(&TOPIC_KEY) {
        r.take(TOPIC_KEY.len())?;
        let h = r.head()?;
        if h.major != 3 || h.arg == 0 {
            return Err(Error::Malformed);
        }
        topic = core::str::from_utf8(r.take_string(h)?).map_err(|_| Error::Malformed)?;
        remaining = remaining.saturating_sub(1);
    }
    if remaining != 0 {
        return Err(Error::Malformed);
    }
    let ciphertext = reference_bstr(&mut r)?;
    if !r.remaining().is_empty() {
        return Err(Error::Core(citysec_core::Error::TrailingBytes));
    }
    if ciphertext.len() < TAG_LEN {
        return Err(Error::Core(citysec_core::Error::DecryptFailed));
    }
    check_params(device_id, topic)?;
    Ok(Envelope {
        device_id,
        partial_iv,
        seq,
        epoch,
        topic,
        ciphertext,
    })
}

/// The Enc_structure as first written: the external AAD in its own buffer first.
fn reference_enc_structure(device_id: &[u8], seq: u64, topic: &str) -> Vec<u8> {
    let mut ext = [0u8; 224];
    let mut e = SliceSink::new(&mut ext);
    write::head(&mut e, 4, 3).unwrap();
    write::bytes(&mut e, device_id).unwrap();
    write::head(&mut e, 0, seq).unwrap();
    write::text(&mut e, topic).unwrap();
    let mut buf = [0u8; 256];
    let mut w = SliceSink::new(&mut buf);
    write::head(&mut w, 4, 3).unwrap();
    write::text(&mut w, "Encrypt0").unwrap();
    write::bytes(&mut w, &PROTECTED).unwrap();
    write::bytes(&mut w, e.written()).unwrap();
    w.written().to_vec()
}

fn key(device: &[u8], epoch: u32) -> DeviceKey {
    let k = SymmetricKey::new(Algorithm::ChaCha20Poly1305, &[9; 32])
        .unwrap()
        .with_base_iv([3; 12]);
    DeviceKey::from_parts(device, epoch, k).unwrap()
}

/// Edits applied to a valid envelope.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match *e {
            Edit::Set(i, b) => {
                if !bytes.is_empty() {
                    bytes[i % n] = b;
                }
            }
            Edit::Insert(i, b) => bytes.insert(i % (n + 1).min(bytes.len() + 1), b),
            Edit::Remove(i) => {
                if !bytes.is_empty() {
                    bytes.remove(i % n);
                }
            }
            Edit::Truncate(i) => bytes.truncate(i % n),
        }
    }
    bytes
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to the layout come up often.
    let byte = prop_oneof![
        any::<u8>(),
        Just(0x04u8),
        Just(0x05),
        Just(0x06),
        Just(0x18),
        Just(0x19),
        Just(0x1f),
        Just(0x3a),
        Just(0x40),
        Just(0x58),
        Just(0x59),
        Just(0x60),
        Just(0xa2),
        Just(0xa3),
        Just(0xa4),
        Just(0xf8),
        Just(0x00),
    ];
    prop_oneof![
        (0usize..80, byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (0usize..80, byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        (0usize..80).prop_map(Edit::Remove),
        (0usize..200).prop_map(Edit::Truncate),
    ]
}

/// Offsets of the heads of a valid envelope after the fixed prefix, in order: the
/// map, label 4, the kid's length, label 6, the Partial IV's length, then (when
/// present) the epoch label and value, the topic label and length, and last the
/// ciphertext's length.
fn heads(env: &[u8]) -> Vec<usize> {
    let mut r = Reader::new(env);
    r.take(PREFIX.len()).unwrap();
    let mut at = Vec::new();
    let mut next = |r: &mut Reader<'_>| {
        at.push(r.position());
        r.head().unwrap()
    };
    let map = next(&mut r);
    for _ in 0..map.arg {
        next(&mut r);
        let v = next(&mut r);
        if matches!(v.major, 2 | 3) {
            r.take_string(v).unwrap();
        }
    }
    let ct = next(&mut r);
    r.take_string(ct).unwrap();
    assert!(r.remaining().is_empty());
    at
}

/// The same bytes with the head at `at` written one size longer (same value).
fn widen(bytes: &[u8], at: usize) -> Vec<u8> {
    let first = bytes[at];
    let (major, info) = (first & 0xe0, first & 0x1f);
    let (old_len, arg) = match info {
        0..=23 => (1, u64::from(info)),
        24 => (2, u64::from(bytes[at + 1])),
        25 => (3, u64::from(u16::from_be_bytes([bytes[at + 1], bytes[at + 2]]))),
        26 => (
            5,
            u64::from(u32::from_be_bytes(bytes[at + 1..at + 5].try_into().unwrap())),
        ),
        _ => panic!("cannot widen head {first:#04x}"),
    };
    let wide: Vec<u8> = match info {
        0..=23 => vec![major | 24, arg as u8],
        24 => [&[major | 25][..], &(arg as u16).to_be_bytes()].concat(),
        25 => [&[major | 26][..], &(arg as u32).to_be_bytes()].concat(),
        _ => [&[major | 27][..], &arg.to_be_bytes()].concat(),
    };
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(&wide);
    out.extend_from_slice(&bytes[at + old_len..]);
    out
}

const NOT_DETERMINISTIC: Error = Error::Core(citysec_core::Error::NotDeterministic);

/// A valid envelope with all four header entries: a kid of 11 bytes, a two-byte
/// Partial IV, epoch 3, a 12-byte topic and a ciphertext of 19 bytes.
fn full() -> Vec<u8> {
    seal(
        &citysec_rustcrypto::PROVIDER,
        &key(b"sensor-0042", 3),
        0x0102,
        "city/air/no2",
        b"abc",
    )
    .unwrap()
}

#[test]
fn every_head_of_the_layout_in_a_longer_form_is_refused() {
    let env = full();
    assert_eq!(Envelope::parse(&env, 1024).map(|e| e.seq()), Ok(0x0102));
    assert_eq!(check_deterministic(&env, &Limits::default(), Tags::Allow), Ok(()));
    let at = heads(&env);
    assert_eq!(at.len(), 10);
    let names = [
        "map head",
        "label 4",
        "kid length",
        "label 6",
        "partial iv length",
        "epoch label",
        "epoch value",
        "topic label",
        "topic length",
        "ciphertext length",
    ];
    for (name, &pos) in names.iter().zip(&at) {
        let wide = widen(&env, pos);
        assert!(wide.len() > env.len(), "{name}");
        assert_eq!(Envelope::parse(&wide, 1024).err(), Some(NOT_DETERMINISTIC), "{name}");
        assert_eq!(
            check_deterministic(&wide, &Limits::default(), Tags::Allow),
            Err(citysec_core::Error::NotDeterministic),
            "{name}"
        );
        // The decoder as first written took the eight places the review found (all
        // but the epoch and topic labels, which it compared as bytes).
        let old = reference_parse(&wide, 1024);
        if name.ends_with("label") && name.starts_with(['e', 't']) {
            assert_eq!(old.err(), Some(Error::Malformed), "{name}");
        } else {
            assert_eq!(old, Envelope::parse(&env, 1024), "{name}");
        }
    }
}

/// The eight places the review listed, one test each, with the exact error.
mod longer_head {
    use super::*;

    fn refused(index: usize, expected_first_byte: u8) {
        let env = full();
        let pos = heads(&env)[index];
        assert_eq!(env[pos], expected_first_byte);
        let wide = widen(&env, pos);
        assert_eq!(Envelope::parse(&wide, 64 * 1024).err(), Some(NOT_DETERMINISTIC));
    }

    #[test]
    fn map_head() {
        refused(0, 0xa4);
    }

    #[test]
    fn label_4() {
        refused(1, 0x04);
    }

    #[test]
    fn kid_length() {
        refused(2, 0x4b);
    }

    #[test]
    fn label_6() {
        refused(3, 0x06);
    }

    #[test]
    fn partial_iv_length() {
        refused(4, 0x42);
    }

    #[test]
    fn epoch_value() {
        refused(6, 0x03);
    }

    #[test]
    fn topic_length() {
        refused(8, 0x6c);
    }

    #[test]
    fn ciphertext_length() {
        refused(9, 0x53);
    }

    #[test]
    fn two_byte_heads_in_four_and_eight_bytes() {
        // epoch 300 is `19 012c`; a 1 KiB ciphertext's length is `59 0410`
        let env = seal(&citysec_rustcrypto::PROVIDER, &key(b"s", 300), 7, "", &[0u8; 1024]).unwrap();
        let at = heads(&env);
        assert_eq!(at.len(), 8);
        for index in [6, 7] {
            assert_eq!(env[at[index]] & 0x1f, 25);
            let four = widen(&env, at[index]);
            assert_eq!(Envelope::parse(&four, 64 * 1024).err(), Some(NOT_DETERMINISTIC));
            let eight = widen(&four, at[index]);
            assert_eq!(Envelope::parse(&eight, 64 * 1024).err(), Some(NOT_DETERMINISTIC));
        }
        assert_eq!(Envelope::parse(&env, 64 * 1024).map(|e| e.epoch()), Ok(300));
    }

    #[test]
    fn the_fixed_prefix() {
        // tag 16, array of 3, bstr of 4, {1: 24}: each head one size longer (the
        // protected bytes grow by one, so their bstr length changes with them)
        let env = full();
        let tag = widen(&env, 0);
        let array = widen(&env, 1);
        let bstr = widen(&env, 2);
        let mut map = widen(&env, 3);
        map[2] = 0x45;
        let mut label = widen(&env, 4);
        label[2] = 0x45;
        let mut alg = [&env[..5], &[0x19, 0x00, 0x18], &env[7..]].concat();
        alg[2] = 0x45;
        for wide in [tag, array, bstr, map, label, alg] {
            assert_eq!(
                Envelope::parse(&wide, 1024).err(),
                Some(NOT_DETERMINISTIC),
                "{wide:02x?}"
            );
        }
        // another tag or layout in shortest form stays `Malformed`
        let mut other = env.clone();
        other[0] = 0xd2;
        assert_eq!(Envelope::parse(&other, 1024).err(), Some(Error::Malformed));
    }
}

/// `check_deterministic` on `bytes`, and on the content of the protected-header
/// byte string if `bytes` start with a tag, an array and a byte string (a header
/// encoded inside a byte string is part of the format too).
fn deterministic(bytes: &[u8]) -> core::result::Result<(), citysec_core::Error> {
    let limits = Limits::default();
    check_deterministic(bytes, &limits, Tags::Allow)?;
    let mut r = Reader::new(bytes);
    if let (Ok(t), Ok(a), Ok(b)) = (r.head(), r.head(), r.head())
        && (t.major, a.major, b.major) == (6, 4, 2)
    {
        check_deterministic(r.take_string(b)?, &limits, Tags::Allow)?;
    }
    Ok(())
}

/// The decoder is the one first written plus the shortest-head rule: the same
/// result, except that a head in a longer form is `NotDeterministic` (where the
/// bytes indeed fail [`deterministic`]); and what it accepts passes it.
fn agrees(bytes: &[u8], max: usize) -> core::result::Result<(), TestCaseError> {
    let got = Envelope::parse(bytes, max);
    let deterministic = deterministic(bytes);
    match got {
        Ok(env) => {
            prop_assert_eq!(Ok(env), reference_parse(bytes, max));
            prop_assert_eq!(deterministic, Ok(()));
        }
        Err(NOT_DETERMINISTIC) => prop_assert!(deterministic.is_err(), "{:02x?}", bytes),
        Err(e) => prop_assert_eq!(Err(e), reference_parse(bytes, max)),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn parse_is_the_first_decoder_with_shortest_heads(
        device in proptest::collection::vec(any::<u8>(), 1..=40),
        seq in prop_oneof![0u64..300, 0u64..=MAX_SEQ],
        epoch in prop_oneof![Just(0u32), 1u32..70_000],
        topic in "[a-z/]{0,30}",
        body_len in 0usize..300,
        wide in proptest::option::of((0usize..10, 1usize..=3)),
        edits in proptest::collection::vec(edit(), 0..4),
        max in prop_oneof![Just(64 * 1024usize), 0usize..400],
    ) {
        let mut env = seal(&citysec_rustcrypto::PROVIDER, &key(&device, epoch), seq, &topic, &vec![7u8; body_len]).unwrap();
        if let Some((index, steps)) = wide {
            let at = heads(&env);
            let pos = at[index % at.len()];
            for _ in 0..steps {
                if env[pos] & 0x1f < 27 {
                    env = widen(&env, pos);
                }
            }
            prop_assert_eq!(Envelope::parse(&env, 64 * 1024).err(), Some(NOT_DETERMINISTIC));
        }
        let bytes = apply(env, &edits);
        agrees(&bytes, max)?;
    }

    #[test]
    fn parse_agrees_on_arbitrary_bytes(tail in proptest::collection::vec(any::<u8>(), 0..60)) {
        let mut bytes = PREFIX.to_vec();
        bytes.extend_from_slice(&tail);
        agrees(&bytes, 1000)?;
        agrees(&tail, 1000)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn enc_structure_matches_the_two_buffer_version(
        device in proptest::collection::vec(any::<u8>(), 1..=MAX_DEVICE_ID),
        seq in prop_oneof![0u64..300, any::<u64>()],
        topic in "[a-z/]{0,128}",
    ) {
        let mut buf = [0u8; 256];
        let got = enc_structure(&device, seq, &topic, &mut buf).unwrap().to_vec();
        prop_assert_eq!(got, reference_enc_structure(&device, seq, &topic));
    }
}

/// The two constants the fast paths copy are what core's COSE_Encrypt0 writers
/// write for the envelope's protected header.
#[test]
fn the_copied_prefixes_are_what_core_writes() {
    let mut start = Vec::new();
    let Ok(()) = encrypt0::write_message_start(&mut start, &PROTECTED);
    assert_eq!(start, PREFIX);

    let mut enc = Vec::new();
    let Ok(()) = encrypt0::write_enc_structure_start(&mut enc, &PROTECTED, 0);
    assert_eq!(enc.last(), Some(&0x40), "the empty external AAD's head");
    enc.pop();
    assert_eq!(enc, ENC0_START);

    let mut key = Vec::new();
    let Ok(()) = write::int(&mut key, LABEL_EPOCH);
    assert_eq!(key, EPOCH_KEY);
    key.clear();
    let Ok(()) = write::int(&mut key, LABEL_TOPIC);
    assert_eq!(key, TOPIC_KEY);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// The nonce from `seq` is core's nonce from the Partial IV of `seq`.
    #[test]
    fn nonce_is_cores_partial_iv_nonce(
        iv in any::<[u8; 12]>(),
        seq in prop_oneof![0u64..70_000, 0..=MAX_SEQ],
    ) {
        let (piv, len) = partial_iv(seq).unwrap();
        let core = encrypt0::partial_iv_nonce(&iv, &piv[..len]).unwrap();
        prop_assert_eq!(nonce(&iv, seq), core);
    }
}
