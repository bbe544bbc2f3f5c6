//! The inline envelope decoder and the one-pass Enc_structure against the
//! versions they replaced (built on `citysec_core::cbor::Reader` and two buffers).

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
use citysec_core::cbor::Reader;
use citysec_core::{Algorithm, RustCrypto};
use proptest::prelude::*;

fn reference_bstr<'a>(r: &mut Reader<'a>) -> Result<&'a [u8]> {
    let h = r.head()?;
    if h.major != 2 {
        return Err(Error::Malformed);
    }
    Ok(r.take_string(h)?)
}

/// The decoder as first written, on `cbor::Reader`.
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
    let mut e = Writer::new(&mut ext);
    e.head(4, 3).unwrap();
    e.bytes(2, device_id).unwrap();
    e.head(0, seq).unwrap();
    e.bytes(3, topic.as_bytes()).unwrap();
    let mut buf = [0u8; 256];
    let mut w = Writer::new(&mut buf);
    w.head(4, 3).unwrap();
    w.bytes(3, b"Encrypt0").unwrap();
    w.bytes(2, &PROTECTED).unwrap();
    w.bytes(2, e.written()).unwrap();
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn parse_matches_the_reader_based_decoder(
        device in proptest::collection::vec(any::<u8>(), 1..=40),
        seq in prop_oneof![0u64..300, 0u64..=MAX_SEQ],
        epoch in prop_oneof![Just(0u32), 1u32..70_000],
        topic in "[a-z/]{0,30}",
        body_len in 0usize..40,
        edits in proptest::collection::vec(edit(), 0..4),
        max in prop_oneof![Just(64 * 1024usize), 0usize..200],
    ) {
        let env = seal(&RustCrypto, &key(&device, epoch), seq, &topic, &vec![7u8; body_len]).unwrap();
        let bytes = apply(env, &edits);
        prop_assert_eq!(Envelope::parse(&bytes, max), reference_parse(&bytes, max));
    }

    #[test]
    fn parse_matches_on_arbitrary_bytes(tail in proptest::collection::vec(any::<u8>(), 0..60)) {
        let mut bytes = PREFIX.to_vec();
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(Envelope::parse(&bytes, 1000), reference_parse(&bytes, 1000));
        prop_assert_eq!(Envelope::parse(&tail, 1000), reference_parse(&tail, 1000));
    }

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
