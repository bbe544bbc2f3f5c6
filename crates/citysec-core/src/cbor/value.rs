//! One CBOR item into a coset [`Value`], read straight from the bytes.
//!
//! ciborium's `from_reader` goes through serde, whose error messages format
//! floats: on firmware that machinery costs more flash than the decoders that
//! use it. This reader builds the same [`Value`] tree for the input the citysec
//! profile lets through, with no serde in the way.

use alloc::string::String;
use alloc::vec::Vec;

use coset::cbor::value::{Integer, Value};

use super::{MAJOR_ARRAY, MAJOR_BYTES, MAJOR_MAP, MAJOR_NINT, MAJOR_SIMPLE, MAJOR_TEXT, MAJOR_UINT, Reader};
use crate::{Error, Result};

/// The container nesting at which ciborium's `from_reader` stops (its recursion
/// limit): containers at depth 0 to 255 are read, one at depth 256 is refused.
pub(crate) const VALUE_NESTING_LIMIT: usize = 256;

/// Decodes `bytes`, exactly one CBOR item, into the [`Value`] that ciborium's
/// `from_reader` makes of it, without going through serde.
///
/// Run [`check_well_formed`](super::check_well_formed) (with [`Tags::Forbid`](super::Tags))
/// first: this decoder applies the profile's duplicate-key rule and limits only
/// as far as needed to stay safe. On its own it reads integers (negative ones
/// down to -2^64), byte and text strings (UTF-8 checked), arrays, maps (entries
/// in wire order), `false`, `true`, `null`, `undefined` (as [`Value::Null`], as
/// ciborium does) and half, single and double floats (widened to `f64` exactly).
///
/// # Errors
/// [`Error::UnexpectedTag`] for any tag (ciborium's tag and bignum handling is
/// not reproduced: the citysec profile forbids tags inside COSE objects);
/// [`Error::Malformed`] for other simple values, invalid UTF-8, truncated input
/// or a count larger than the bytes left; [`Error::IndefiniteLength`];
/// [`Error::TooDeep`] for a container nested 256 deep (ciborium's limit);
/// [`Error::TrailingBytes`] if bytes follow the item.
pub fn to_value(bytes: &[u8]) -> Result<Value> {
    let mut r = Reader::new(bytes);
    let v = item(&mut r, 0)?;
    if r.position() != bytes.len() {
        return Err(Error::TrailingBytes);
    }
    Ok(v)
}

/// The next item; `depth` counts the containers around it.
fn item(r: &mut Reader<'_>, depth: usize) -> Result<Value> {
    // The additional information says a float's width (2, 4 or 8 bytes).
    let info = r.remaining().first().map(|b| b & 0x1f);
    let head = r.head()?;
    match head.major {
        MAJOR_UINT => Ok(Value::Integer(Integer::from(head.arg))),
        MAJOR_NINT => {
            let n = (-1i128).checked_sub(i128::from(head.arg)).ok_or(Error::Malformed)?;
            Integer::try_from(n).map(Value::Integer).map_err(|_| Error::Malformed)
        }
        MAJOR_BYTES => Ok(Value::Bytes(r.take_string(head)?.to_vec())),
        MAJOR_TEXT => {
            let s = core::str::from_utf8(r.take_string(head)?).map_err(|_| Error::Malformed)?;
            Ok(Value::Text(String::from(s)))
        }
        MAJOR_ARRAY | MAJOR_MAP => {
            if depth >= VALUE_NESTING_LIMIT {
                return Err(Error::TooDeep);
            }
            let inner = depth.checked_add(1).ok_or(Error::TooDeep)?;
            // Every item takes at least one byte: a larger count is a lie, refused
            // before anything is allocated for it.
            let count = usize::try_from(head.arg)
                .ok()
                .filter(|n| *n <= r.remaining().len())
                .ok_or(Error::Malformed)?;
            if head.major == MAJOR_ARRAY {
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(item(r, inner)?);
                }
                Ok(Value::Array(items))
            } else {
                let mut entries = Vec::with_capacity(count);
                for _ in 0..count {
                    let k = item(r, inner)?;
                    entries.push((k, item(r, inner)?));
                }
                Ok(Value::Map(entries))
            }
        }
        MAJOR_SIMPLE if head.float => float(info, head.arg).map(Value::Float),
        MAJOR_SIMPLE => match head.arg {
            20 => Ok(Value::Bool(false)),
            21 => Ok(Value::Bool(true)),
            22 | 23 => Ok(Value::Null),
            _ => Err(Error::Malformed),
        },
        // Tags (major type 6).
        _ => Err(Error::UnexpectedTag),
    }
}

/// A float from its raw bits and the head's additional information (25: half,
/// 26: single, 27: double).
fn float(info: Option<u8>, bits: u64) -> Result<f64> {
    match info {
        Some(25) => u16::try_from(bits).map(f16_to_f64).map_err(|_| Error::Malformed),
        Some(26) => u32::try_from(bits)
            .map(|b| f64::from(f32::from_bits(b)))
            .map_err(|_| Error::Malformed),
        Some(27) => Ok(f64::from_bits(bits)),
        _ => Err(Error::Malformed),
    }
}

/// IEEE 754 binary16 to binary64, exactly (NaN payloads as the `half` crate
/// widens them, so the result equals ciborium's bit for bit).
fn f16_to_f64(h: u16) -> f64 {
    let sign = u64::from(h & 0x8000) << 48;
    let exp = (h >> 10) & 0x1f;
    let man = u64::from(h & 0x03ff);
    let magnitude = match exp {
        0 if man == 0 => 0.0,
        // Subnormals: man * 2^-24, normal in binary64. Built from bits, as the
        // rest: a Cortex-M4F has no double-precision unit to multiply with.
        0 => {
            // The top set bit of the 10-bit mantissa: 2^top <= man < 2^(top+1).
            let top = 15u32.saturating_sub((h & 0x03ff).leading_zeros());
            let exp = u64::from(top).saturating_add(1023 - 24);
            let frac = man.checked_shl(52u32.saturating_sub(top)).unwrap_or(0) & 0x000f_ffff_ffff_ffff;
            f64::from_bits((exp << 52) | frac)
        }
        0x1f if man == 0 => f64::INFINITY,
        0x1f => f64::from_bits(0x7ff8_0000_0000_0000 | (man << 42)),
        // Rebias the exponent from 15 to 1023.
        _ => f64::from_bits((u64::from(exp).saturating_add(1008) << 52) | (man << 42)),
    };
    f64::from_bits(magnitude.to_bits() | sign)
}

#[cfg(test)]
mod tests {
    use alloc::boxed::Box;
    use alloc::vec;
    use alloc::vec::Vec;

    use coset::cbor::value::Value;
    use proptest::prelude::*;

    use super::to_value;
    use crate::cbor::{Tags, check_well_formed};
    use crate::{Error, Limits};

    /// What ciborium's serde path makes of `bytes` (the reference).
    fn ciborium(bytes: &[u8]) -> Option<Value> {
        coset::cbor::de::from_reader(bytes).ok()
    }

    fn encode(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        coset::cbor::ser::into_writer(v, &mut out).unwrap();
        out
    }

    /// Equal values, or equal encodings (a NaN is not equal to itself).
    fn same(a: &Value, b: &Value) -> bool {
        a == b || encode(a) == encode(b)
    }

    fn agree(bytes: &[u8]) {
        let ours = to_value(bytes);
        match (ours, ciborium(bytes)) {
            (Ok(a), Some(b)) => assert!(
                same(&a, &b),
                "{} decodes to {a:?} but ciborium says {b:?}",
                hex::encode(bytes)
            ),
            (Err(_), None) => {}
            (a, b) => panic!("{}: ours {a:?}, ciborium {b:?}", hex::encode(bytes)),
        }
    }

    #[test]
    fn reads_what_ciborium_reads() {
        for h in [
            "00",
            "17",
            "1818",
            "1bffffffffffffffff",
            "20",
            "3bffffffffffffffff",
            "3b7fffffffffffffff",
            "40",
            "4401020304",
            "60",
            "6568656c6c6f",
            "80",
            "83010203",
            "a0",
            "a201020304",
            "a1616182f4f5",
            "f4",
            "f5",
            "f6",
            "f93c00",
            "f98000",
            "f90001",
            "f903ff",
            "f97c00",
            "fbfc00",
            "f97e00",
            "f97e01",
            "f9fe23",
            "fa47c35000",
            "fa00000001",
            "fa7fc00001",
            "fb3ff199999999999a",
            "fb7ff8000000000001",
            "8181818100",
            "a1a10102a10304",
        ] {
            agree(&hex::decode(h).unwrap());
        }
    }

    #[test]
    fn half_floats_widen_exactly() {
        for bits in 0..=u16::MAX {
            let mut bytes = vec![0xf9];
            bytes.extend_from_slice(&bits.to_be_bytes());
            agree(&bytes);
        }
    }

    #[test]
    fn refuses_what_the_profile_refuses() {
        let err = |h: &str| to_value(&hex::decode(h).unwrap()).unwrap_err();
        assert_eq!(err("c100"), Error::UnexpectedTag);
        assert_eq!(err("d8184100"), Error::UnexpectedTag);
        assert_eq!(err("f0"), Error::Malformed);
        assert_eq!(err("f820"), Error::Malformed);
        assert_eq!(err("9f00ff"), Error::IndefiniteLength);
        assert_eq!(err("0000"), Error::TrailingBytes);
        assert_eq!(err("62c328"), Error::Malformed);
        assert_eq!(err("9bffffffffffffffff"), Error::Malformed);
        assert_eq!(err("8301"), Error::Malformed);
    }

    #[test]
    fn undefined_reads_as_null_like_ciborium() {
        // The well-formedness pass refuses `undefined`; on its own this decoder
        // reads it as ciborium does.
        assert_eq!(to_value(&[0xf7]), Ok(Value::Null));
        agree(&[0xf7]);
    }

    #[test]
    fn nesting_stops_where_ciborium_stops() {
        let nested = |n: usize| {
            let mut b = vec![0x81; n];
            b.push(0x00);
            b
        };
        agree(&nested(255));
        agree(&nested(256));
        agree(&nested(257));
        assert!(to_value(&nested(256)).is_ok());
        assert_eq!(to_value(&nested(257)), Err(Error::TooDeep));
    }

    #[test]
    fn core_writes_edge_values_as_ciborium_does() {
        let floats = [
            0.0,
            -0.0,
            1.0,
            65504.0,
            65520.0,
            5.960_464_477_539_063e-8,
            2.980_232_238_769_531_2e-8,
            6.103_515_625e-5,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001),
            f64::from_bits(0x7ff8_0400_0000_0000),
            f64::from_bits(0x7ff8_0000_0000_0001),
            f64::from(f32::MIN_POSITIVE),
            f64::MIN_POSITIVE,
        ];
        let mut values: Vec<Value> = floats.iter().map(|f| Value::Float(*f)).collect();
        values.push(Value::Integer(u64::MAX.into()));
        values.push(Value::Integer(
            coset::cbor::value::Integer::try_from(-(1i128 << 64)).unwrap(),
        ));
        values.push(Value::Tag(1, Box::new(Value::Integer(5.into()))));
        values.push(Value::Tag(
            u64::MAX,
            Box::new(Value::Tag(0, Box::new(Value::Text("t".into())))),
        ));
        for v in values {
            let mut ours = Vec::new();
            crate::cbor::write::value(&mut ours, &v).unwrap();
            assert_eq!(ours, encode(&v), "{v:?}");
        }
        // a container inside 256 others is refused, as the decoder refuses it
        let deep = |n: usize| (0..n).fold(Value::Null, |v, _| Value::Array(vec![v]));
        let mut out = Vec::new();
        assert!(crate::cbor::write::value(&mut out, &deep(256)).is_ok());
        assert_eq!(to_value(&out).map(|_| ()), Ok(()));
        assert_eq!(
            crate::cbor::write::value(&mut Vec::new(), &deep(257)),
            Err(Error::TooDeep)
        );
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<u64>().prop_map(|n| Value::Integer(n.into())),
            any::<i64>().prop_map(|n| Value::Integer(n.into())),
            any::<f64>().prop_map(Value::Float),
            any::<f32>().prop_map(|f| Value::Float(f64::from(f))),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
            ".{0,20}".prop_map(Value::Text),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((inner.clone(), inner), 0..6).prop_map(Value::Map),
            ]
        })
    }

    proptest! {
        #[test]
        fn encoded_values_decode_alike(v in value()) {
            let bytes = encode(&v);
            let ours = to_value(&bytes).unwrap();
            prop_assert!(same(&ours, &v));
            agree(&bytes);
        }

        #[test]
        fn well_formed_bytes_decode_alike(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if check_well_formed(&bytes, &Limits::DEFAULT, Tags::Forbid).is_ok() {
                agree(&bytes);
            }
        }

        /// core's encoder writes every value byte for byte as ciborium does.
        #[test]
        fn core_writes_values_as_ciborium_does(v in value()) {
            let mut ours = Vec::new();
            crate::cbor::write::value(&mut ours, &v).unwrap();
            prop_assert_eq!(ours, encode(&v));
        }

        #[test]
        fn core_writes_every_float_as_ciborium_does(bits in any::<u64>(), half in any::<u16>(), single in any::<u32>()) {
            // any double, every double that is a half, every double that is a single
            let halfwide = f64::from(half::f16::from_bits(half));
            for f in [f64::from_bits(bits), halfwide, f64::from(f32::from_bits(single))] {
                let v = Value::Float(f);
                let mut ours = Vec::new();
                crate::cbor::write::value(&mut ours, &v).unwrap();
                prop_assert_eq!(ours, encode(&v), "{:016x}", f.to_bits());
            }
        }

        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = to_value(&bytes);
        }
    }
}
