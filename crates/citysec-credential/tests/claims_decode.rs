//! `Claims::from_cbor` against the decoder it replaced (the whole map through a
//! ciborium `Value` tree, then fields moved out), kept here as the reference.
//!
//! Three generators: encoded random `Claims` (must round-trip and agree), random
//! claim maps whose values have random shapes under the registered keys (every type
//! error path, same error expected), and byte mutations of valid claims (odd
//! encodings, truncations, duplicate keys). Plus hand-written edge cases, including
//! ciborium's nesting limit with raised decoder limits.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::needless_pass_by_value,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use citysec_core::cbor::{Tags, check_well_formed};
use citysec_core::coset::cbor::value::{Integer, Value};
use citysec_core::{Algorithm, Error as CoreError, Key, Limits, SigningKey, Timestamp, VerifyingKey};
use citysec_credential::claims::keys;
use citysec_credential::{ClaimKey, Claims, Confirmation, CredentialKind, Error, ScheduleWindow, StatusRef};
use proptest::prelude::*;

// ---- the reference: the decoder as it was before the zero-copy reader

fn reference(bytes: &[u8], limits: &Limits) -> Result<Claims, Error> {
    check_well_formed(bytes, limits, Tags::Forbid)?;
    let value: Value = citysec_core::coset::cbor::de::from_reader(bytes).map_err(|_| Error::MalformedClaims)?;
    let Value::Map(entries) = value else {
        return Err(Error::MalformedClaims);
    };
    let mut c = Claims::new();
    for (key, v) in entries {
        let key = match key {
            Value::Integer(i) => ClaimKey::Int(i64::try_from(i).map_err(|_| Error::MalformedClaims)?),
            Value::Text(t) => ClaimKey::Text(t),
            _ => return Err(Error::MalformedClaims),
        };
        match key {
            ClaimKey::Int(keys::ISS) => c.iss = Some(r_text(v)?),
            ClaimKey::Int(keys::SUB) => c.sub = Some(r_text(v)?),
            ClaimKey::Int(keys::AUD) => {
                c.aud = match v {
                    Value::Text(t) => vec![t],
                    Value::Array(a) if !a.is_empty() => r_text_list(a)?,
                    _ => return Err(Error::MalformedClaims),
                }
            }
            ClaimKey::Int(keys::EXP) => c.exp = Some(r_time(&v)?),
            ClaimKey::Int(keys::NBF) => c.nbf = Some(r_time(&v)?),
            ClaimKey::Int(keys::IAT) => c.iat = Some(r_time(&v)?),
            ClaimKey::Int(keys::CTI) => match v {
                Value::Bytes(b) => c.cti = Some(b),
                _ => return Err(Error::MalformedClaims),
            },
            ClaimKey::Int(keys::CNF) => c.cnf = Some(r_confirmation(v)?),
            ClaimKey::Int(keys::STATUS) => c.status = Some(r_status_ref(v)?),
            ClaimKey::Int(keys::ROLES) => c.roles = r_text_array(v)?,
            ClaimKey::Int(keys::ZONES) => c.zones = r_text_array(v)?,
            ClaimKey::Int(keys::KIND) => c.kind = Some(CredentialKind::from_text(&r_text(v)?)),
            ClaimKey::Int(keys::SCHEDULE) => c.schedule = r_schedule(v)?,
            other => c.other.push((other, v)),
        }
    }
    Ok(c)
}

fn r_text(v: Value) -> Result<String, Error> {
    match v {
        Value::Text(t) => Ok(t),
        _ => Err(Error::MalformedClaims),
    }
}

fn r_text_list(a: Vec<Value>) -> Result<Vec<String>, Error> {
    a.into_iter().map(r_text).collect()
}

fn r_text_array(v: Value) -> Result<Vec<String>, Error> {
    match v {
        Value::Array(a) => r_text_list(a),
        _ => Err(Error::MalformedClaims),
    }
}

fn r_uint(v: &Value) -> Result<u64, Error> {
    match v {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| Error::MalformedClaims),
        _ => Err(Error::MalformedClaims),
    }
}

fn r_time(v: &Value) -> Result<Timestamp, Error> {
    let Value::Integer(i) = v else {
        return Err(Error::InvalidTime);
    };
    let t = u64::try_from(*i).map_err(|_| Error::InvalidTime)?;
    let t = Timestamp::from_unix_seconds(t);
    if t > Timestamp::MAX {
        return Err(Error::InvalidTime);
    }
    Ok(t)
}

fn r_confirmation(v: Value) -> Result<Confirmation, Error> {
    let Value::Map(entries) = v else {
        return Err(Error::MalformedClaims);
    };
    let [(k, inner)] = <[(Value, Value); 1]>::try_from(entries).map_err(|_| Error::MalformedClaims)?;
    match (r_uint(&k)?, inner) {
        (1, Value::Map(key)) => r_holder_key(key).map(Confirmation::Key),
        (3, Value::Bytes(kid)) if !kid.is_empty() => Ok(Confirmation::KeyId(kid)),
        _ => Err(Error::MalformedClaims),
    }
}

/// The holder key rules of docs/credential-profile.md over a `Value` tree (the
/// claims decoder reads them straight from the bytes).
fn r_holder_key(entries: Vec<(Value, Value)>) -> Result<VerifyingKey, Error> {
    let int = |v: &Value| match v {
        Value::Integer(i) => i64::try_from(*i).map_err(|_| Error::MalformedClaims),
        _ => Err(Error::MalformedClaims),
    };
    let (mut kty, mut kid, mut alg, mut crv, mut x, mut y, mut private) = (None, None, None, None, None, None, false);
    for (label, v) in entries {
        let label = match label {
            Value::Integer(i) => i64::try_from(i).map_err(|_| Error::MalformedClaims)?,
            Value::Text(_) => continue,
            _ => return Err(Error::MalformedClaims),
        };
        match label {
            1 => match v {
                Value::Integer(i) => kty = Some(u64::try_from(i).map_err(|_| Error::MalformedClaims)?),
                _ => return Err(Error::MalformedClaims),
            },
            2 => match v {
                Value::Bytes(b) if !b.is_empty() => kid = Some(b),
                _ => return Err(Error::MalformedClaims),
            },
            3 => {
                alg = Some(match &v {
                    Value::Integer(_) => Some(int(&v)?),
                    Value::Text(_) => None,
                    _ => return Err(Error::MalformedClaims),
                });
            }
            4 => match v {
                Value::Array(ops) if !ops.is_empty() => {
                    if !ops.iter().all(|o| matches!(o, Value::Integer(_) | Value::Text(_))) {
                        return Err(Error::MalformedClaims);
                    }
                }
                _ => return Err(Error::MalformedClaims),
            },
            5 => match v {
                Value::Bytes(b) if !b.is_empty() => {}
                _ => return Err(Error::MalformedClaims),
            },
            -1 => {
                crv = Some(if matches!(v, Value::Integer(_)) {
                    Some(int(&v)?)
                } else {
                    None
                })
            }
            -2 => x = Some(v.as_bytes().cloned()),
            -3 => y = Some(v.as_bytes().cloned()),
            -4 => private = true,
            _ => {}
        }
    }
    let kty = kty.ok_or(Error::MalformedClaims)?;
    if kty != 1 && kty != 2 {
        return Err(Error::MalformedClaims);
    }
    if private {
        return Err(Error::MalformedClaims);
    }
    let alg = match alg {
        None => None,
        Some(Some(id)) => Some(Algorithm::from_cose_id(id).ok_or(CoreError::UnsupportedAlgorithm)?),
        Some(None) => return Err(Error::Core(CoreError::UnsupportedAlgorithm)),
    };
    let crv = crv.flatten().ok_or(CoreError::InvalidKey)?;
    let coord = |c: Option<Option<Vec<u8>>>| -> Result<[u8; 32], Error> {
        c.flatten()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or(Error::Core(CoreError::InvalidKey))
    };
    let x = coord(x)?;
    let key = match (kty, crv) {
        (1, 6) => {
            if alg.is_some_and(|a| a != Algorithm::EdDSA) {
                return Err(Error::Core(CoreError::KeyAlgMismatch));
            }
            VerifyingKey::ed25519(&x)?
        }
        (1, 4) => return Err(Error::MalformedClaims),
        (2, 1) => {
            if alg.is_some_and(|a| a != Algorithm::ES256) {
                return Err(Error::Core(CoreError::KeyAlgMismatch));
            }
            VerifyingKey::p256(&x, &coord(y)?)?
        }
        _ => return Err(Error::Core(CoreError::UnsupportedAlgorithm)),
    };
    Ok(match kid {
        Some(kid) => key.with_kid(kid),
        None => key,
    })
}

fn r_status_ref(v: Value) -> Result<StatusRef, Error> {
    let Value::Map(outer) = v else {
        return Err(Error::MalformedClaims);
    };
    let mut found = None;
    for (k, inner) in outer {
        if matches!(&k, Value::Text(t) if t == "status_list") {
            let Value::Map(fields) = inner else {
                return Err(Error::MalformedClaims);
            };
            let (mut idx, mut uri) = (None, None);
            for (fk, fv) in fields {
                match &fk {
                    Value::Text(t) if t == "idx" => idx = Some(r_uint(&fv)?),
                    Value::Text(t) if t == "uri" => uri = Some(r_text(fv)?),
                    _ => {}
                }
            }
            found = Some(StatusRef {
                idx: idx.ok_or(Error::MalformedClaims)?,
                uri: uri.ok_or(Error::MalformedClaims)?,
            });
        }
    }
    found.ok_or(Error::MalformedClaims)
}

fn r_schedule(v: Value) -> Result<Vec<ScheduleWindow>, Error> {
    let Value::Array(windows) = v else {
        return Err(Error::MalformedClaims);
    };
    windows
        .into_iter()
        .map(|w| {
            let Value::Array(parts) = w else {
                return Err(Error::MalformedClaims);
            };
            let [days, start, end] = <[Value; 3]>::try_from(parts).map_err(|_| Error::MalformedClaims)?;
            let days = u8::try_from(r_uint(&days)?).map_err(|_| Error::MalformedClaims)?;
            let start_minute = u16::try_from(r_uint(&start)?).map_err(|_| Error::MalformedClaims)?;
            let end_minute = u16::try_from(r_uint(&end)?).map_err(|_| Error::MalformedClaims)?;
            if days == 0 || days > 0x7f || start_minute >= end_minute || end_minute > 1440 {
                return Err(Error::MalformedClaims);
            }
            Ok(ScheduleWindow {
                days,
                start_minute,
                end_minute,
            })
        })
        .collect()
}

// ---- helpers

fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    citysec_core::coset::cbor::ser::into_writer(v, &mut out).unwrap();
    out
}

/// Both decoders on `bytes` under `limits`; they must agree, error for error.
fn same(bytes: &[u8], limits: &Limits) -> Result<Claims, Error> {
    let new = Claims::from_cbor(bytes, limits);
    let old = reference(bytes, limits);
    assert_eq!(new, old, "decoders disagree on {}", hex::encode(bytes));
    new
}

fn holder_key() -> Vec<u8> {
    // cnf {1: COSE_Key} of an Ed25519 public key
    let key = citysec_rustcrypto::PROVIDER
        .public_key(&SigningKey::ed25519(&[3; 32]))
        .unwrap();
    Key::Verifying(key).to_cose_key().unwrap().to_vec()
}

fn p256_holder_key() -> Vec<u8> {
    let key = citysec_rustcrypto::PROVIDER
        .public_key(&SigningKey::p256(&[4; 32]).unwrap())
        .unwrap()
        .with_kid(b"holder-p256".to_vec());
    Key::Verifying(key).to_cose_key().unwrap().to_vec()
}

/// COSE_Key maps with the holder key's labels and values of every shape: valid
/// keys with one thing changed, and random ones.
fn cose_key_map() -> impl Strategy<Value = Value> {
    let ed_x = citysec_rustcrypto::PROVIDER
        .public_key(&SigningKey::ed25519(&[3; 32]))
        .unwrap()
        .to_bytes()
        .to_vec();
    let label = prop_oneof![
        (-5i64..=6).prop_map(Value::from),
        Just(Value::Text("use".into())),
        Just(Value::Bytes(vec![1])),
    ];
    let value = prop_oneof![
        (-10i64..=10).prop_map(Value::from),
        Just(Value::from(-8)),
        Just(Value::from(-7)),
        Just(Value::Bytes(ed_x)),
        Just(Value::Bytes(vec![0; 32])),
        Just(Value::Bytes(vec![])),
        Just(Value::Bytes(vec![7; 5])),
        Just(Value::Text("EdDSA".into())),
        Just(Value::Array(vec![Value::from(2)])),
        Just(Value::Array(vec![])),
        Just(Value::Null),
    ];
    proptest::collection::vec((label, value), 0..7).prop_map(|entries| {
        // Unique labels (the well-formedness pass refuses duplicates anyway).
        let mut seen = Vec::new();
        Value::Map(
            entries
                .into_iter()
                .filter(|(l, _)| {
                    let fresh = !seen.contains(l);
                    seen.push(l.clone());
                    fresh
                })
                .collect(),
        )
    })
}

// ---- generators

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("status_list".to_string()),
        Just("idx".to_string()),
        Just("uri".to_string()),
        Just("staff".to_string()),
        Just("visitor".to_string()),
        "[a-z0-9:/._-]{0,24}",
        "\\PC{0,12}",
        // past ciborium's 4096-byte scratch buffer, with multi-byte characters
        (1usize..3).prop_map(|n| "é€𝄞a".repeat(400 * n)),
    ]
}

fn int() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop_oneof![
            Just(0u64),
            Just(1),
            Just(3),
            Just(0x7f),
            Just(0x80),
            Just(1439),
            Just(1440),
            Just(1441),
            Just(65535),
            Just(253_402_300_799),
            Just(253_402_300_800),
            Just(i64::MAX as u64),
            Just(i64::MAX as u64 + 1),
            Just(u64::MAX),
            0u64..2000,
            any::<u64>(),
        ]
        .prop_map(Value::from),
        prop_oneof![Just(-1i64), -1500i64..0, Just(i64::MIN), any::<i64>()].prop_map(Value::from),
        // -2^64, the most negative CBOR integer
        Just(Value::Integer(Integer::try_from(-(1i128 << 64)).unwrap())),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => int(),
        3 => text().prop_map(Value::Text),
        2 => proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Bytes),
        1 => prop_oneof![Just(1.5f64), Just(-0.0), Just(1e300), Just(1_767_229_200.0), Just(65504.0)].prop_map(Value::Float),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
}

fn key_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => int(),
        2 => text().prop_map(Value::Text),
        1 => prop_oneof![Just("status_list"), Just("idx"), Just("uri"), Just("")]
            .prop_map(|b| Value::Bytes(b.as_bytes().to_vec())),
    ]
}

fn any_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key_value(), inner), 0..4).prop_map(Value::Map),
        ]
    })
}

/// Values shaped like (or nearly like) what each registered claim expects.
fn claim_value(key: i64) -> BoxedStrategy<Value> {
    let texts = proptest::collection::vec(prop_oneof![4 => text().prop_map(Value::Text), 1 => scalar()], 0..4)
        .prop_map(Value::Array);
    let shaped = match key {
        keys::AUD | keys::ROLES | keys::ZONES => texts.boxed(),
        keys::STATUS => {
            let field = prop_oneof![
                (Just(Value::Text("idx".into())), int()),
                (Just(Value::Text("idx".into())), (0u64..100).prop_map(Value::from)),
                (Just(Value::Text("uri".into())), text().prop_map(Value::Text)),
                (key_value(), scalar()),
            ];
            let inner = prop_oneof![
                4 => proptest::collection::vec(field, 0..4).prop_map(Value::Map),
                1 => scalar(),
            ];
            let entry = prop_oneof![
                (Just(Value::Text("status_list".into())), inner),
                (key_value(), any_value()),
            ];
            proptest::collection::vec(entry, 0..3).prop_map(Value::Map).boxed()
        }
        keys::SCHEDULE => {
            let part = prop_oneof![
                4 => (0u64..200).prop_map(Value::from),
                4 => (0u64..1500).prop_map(Value::from),
                1 => (-3i64..0).prop_map(Value::from),
                1 => scalar(),
            ];
            let window = prop_oneof![
                6 => proptest::collection::vec(part.clone(), 3..=3).prop_map(Value::Array),
                1 => proptest::collection::vec(part, 0..5).prop_map(Value::Array),
                1 => scalar(),
            ];
            proptest::collection::vec(window, 0..3).prop_map(Value::Array).boxed()
        }
        keys::CNF => {
            let cose: Value = citysec_core::coset::cbor::de::from_reader(holder_key().as_slice()).unwrap();
            let p256: Value = citysec_core::coset::cbor::de::from_reader(p256_holder_key().as_slice()).unwrap();
            prop_oneof![
                Just(Value::Map(vec![(Value::from(1), cose)])),
                Just(Value::Map(vec![(Value::from(1), p256)])),
                cose_key_map().prop_map(|m| Value::Map(vec![(Value::from(1), m)])),
                proptest::collection::vec(any::<u8>(), 0..4)
                    .prop_map(|k| Value::Map(vec![(Value::from(3), Value::Bytes(k))])),
                (int(), any_value()).prop_map(|(k, v)| Value::Map(vec![(k, v)])),
            ]
            .boxed()
        }
        _ => Just(Value::Null).boxed(),
    };
    prop_oneof![3 => shaped, 2 => scalar(), 1 => any_value()].boxed()
}

fn claim_map() -> impl Strategy<Value = Value> {
    let registered = prop_oneof![
        Just(keys::ISS),
        Just(keys::SUB),
        Just(keys::AUD),
        Just(keys::EXP),
        Just(keys::NBF),
        Just(keys::IAT),
        Just(keys::CTI),
        Just(keys::CNF),
        Just(keys::STATUS),
        Just(keys::ROLES),
        Just(keys::ZONES),
        Just(keys::KIND),
        Just(keys::SCHEDULE),
    ]
    .prop_flat_map(|k| (Just(Value::from(k)), claim_value(k)));
    let entry = prop_oneof![
        4 => registered,
        1 => (key_value(), any_value()),
        1 => (proptest::collection::vec(any::<u8>(), 0..3).prop_map(Value::Bytes), scalar()),
    ];
    prop_oneof![
        8 => proptest::collection::vec(entry, 0..8).prop_map(Value::Map),
        1 => any_value(),
    ]
}

fn claims_strategy() -> impl Strategy<Value = Claims> {
    let opt_text = || proptest::option::of(text());
    let opt_time = || proptest::option::of((0u64..=253_402_300_799).prop_map(Timestamp::from_unix_seconds));
    let window = (1u8..=0x7f, 0u16..1440).prop_flat_map(|(days, start)| {
        (start + 1..=1440).prop_map(move |end| ScheduleWindow {
            days,
            start_minute: start,
            end_minute: end,
        })
    });
    let other_key = prop_oneof![
        any::<i64>()
            .prop_filter("not a registered claim", |k| !(1..=8).contains(k)
                && *k != 65535
                && !(-65540..=-65537).contains(k))
            .prop_map(ClaimKey::Int),
        text().prop_map(ClaimKey::Text),
    ];
    (
        (opt_text(), opt_text(), proptest::collection::vec(text(), 0..3)),
        (opt_time(), opt_time(), opt_time()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..17)),
        proptest::option::of(prop_oneof![
            Just(Confirmation::Key(
                citysec_rustcrypto::PROVIDER
                    .public_key(&SigningKey::ed25519(&[3; 32]))
                    .unwrap()
            )),
            proptest::collection::vec(any::<u8>(), 1..9).prop_map(Confirmation::KeyId),
        ]),
        proptest::option::of((any::<u64>(), text()).prop_map(|(idx, uri)| StatusRef { idx, uri })),
        (
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(text(), 0..3),
            proptest::option::of(text().prop_map(|t| CredentialKind::from_text(&t))),
            proptest::collection::vec(window, 0..3),
        ),
        proptest::collection::btree_map(other_key, any_value(), 0..4),
    )
        .prop_map(
            |((iss, sub, aud), (exp, nbf, iat), cti, cnf, status, (roles, zones, kind, schedule), other)| {
                let mut c = Claims::new();
                c.iss = iss;
                c.sub = sub;
                c.aud = aud;
                c.exp = exp;
                c.nbf = nbf;
                c.iat = iat;
                c.cti = cti;
                c.cnf = cnf;
                c.status = status;
                c.roles = roles;
                c.zones = zones;
                c.kind = kind;
                c.schedule = schedule;
                c.other = other.into_iter().collect();
                c
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encoded_claims_decode_alike_and_round_trip(c in claims_strategy()) {
        let bytes = c.to_cbor().unwrap();
        match same(&bytes, &Limits::DEFAULT) {
            // a random unknown claim may hold a map with a repeated key
            Err(Error::Core(citysec_core::Error::DuplicateMapKey)) => {}
            // empty roles/zones/schedule are not encoded, which decodes as empty again
            got => prop_assert_eq!(got.unwrap(), c),
        }
    }

    #[test]
    fn random_claim_maps_decode_alike(map in claim_map()) {
        same(&cbor(&map), &Limits::DEFAULT).ok();
    }

    #[test]
    fn mutated_claims_decode_alike(
        c in claims_strategy(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..4),
    ) {
        let mut bytes = c.to_cbor().unwrap();
        for (at, byte, how) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match how {
                0 => bytes[i] = byte,
                1 => bytes[i] ^= 1 << (byte % 8),
                2 => bytes.truncate(i),
                _ => bytes.insert(i, byte),
            }
        }
        same(&bytes, &Limits::DEFAULT).ok();
    }
}

// ---- hand-written edge cases

fn map(entries: Vec<(Value, Value)>) -> Vec<u8> {
    cbor(&Value::Map(entries))
}

#[test]
fn edge_cases_decode_alike_with_the_expected_error() {
    let l = Limits::DEFAULT;
    let big = Value::Integer(Integer::try_from(-(1i128 << 64)).unwrap());
    let cases: Vec<(Vec<u8>, Result<(), Error>)> = vec![
        // not a map
        (cbor(&Value::Array(vec![])), Err(Error::MalformedClaims)),
        (cbor(&Value::from(1)), Err(Error::MalformedClaims)),
        // keys: bytes, and integers outside i64
        (
            map(vec![(Value::Bytes(vec![1]), Value::from(1))]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(Value::from(u64::MAX), Value::from(1))]),
            Err(Error::MalformedClaims),
        ),
        (map(vec![(big.clone(), Value::from(1))]), Err(Error::MalformedClaims)),
        (map(vec![(Value::from(i64::MIN), Value::from(1))]), Ok(())),
        (map(vec![(Value::from(i64::MAX), Value::from(1))]), Ok(())),
        // times
        (
            map(vec![(Value::from(keys::EXP), Value::from(253_402_300_799u64))]),
            Ok(()),
        ),
        (
            map(vec![(Value::from(keys::EXP), Value::from(253_402_300_800u64))]),
            Err(Error::InvalidTime),
        ),
        (
            map(vec![(Value::from(keys::NBF), Value::from(-1))]),
            Err(Error::InvalidTime),
        ),
        (
            map(vec![(Value::from(keys::IAT), Value::Float(5.0))]),
            Err(Error::InvalidTime),
        ),
        (
            map(vec![(Value::from(keys::EXP), Value::Null)]),
            Err(Error::InvalidTime),
        ),
        (
            map(vec![(Value::from(keys::EXP), Value::Array(vec![]))]),
            Err(Error::InvalidTime),
        ),
        // the first bad claim decides the error
        (
            map(vec![
                (Value::from(keys::EXP), Value::from(-1)),
                (Value::from(keys::ISS), Value::from(1)),
            ]),
            Err(Error::InvalidTime),
        ),
        (
            map(vec![
                (Value::from(keys::ISS), Value::from(1)),
                (Value::from(keys::EXP), Value::from(-1)),
            ]),
            Err(Error::MalformedClaims),
        ),
        // aud
        (
            map(vec![(Value::from(keys::AUD), Value::Array(vec![]))]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(Value::from(keys::AUD), Value::Bytes(b"a".to_vec()))]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(
                Value::from(keys::AUD),
                Value::Array(vec![Value::Text("a".into()), Value::from(1)]),
            )]),
            Err(Error::MalformedClaims),
        ),
        // roles may be empty, must be an array of texts
        (map(vec![(Value::from(keys::ROLES), Value::Array(vec![]))]), Ok(())),
        (
            map(vec![(Value::from(keys::ROLES), Value::Text("a".into()))]),
            Err(Error::MalformedClaims),
        ),
        // cti bytes, possibly empty
        (map(vec![(Value::from(keys::CTI), Value::Bytes(vec![]))]), Ok(())),
        (
            map(vec![(Value::from(keys::CTI), Value::Text("x".into()))]),
            Err(Error::MalformedClaims),
        ),
        // cnf kid must not be empty
        (
            map(vec![(
                Value::from(keys::CNF),
                Value::Map(vec![(Value::from(3), Value::Bytes(vec![]))]),
            )]),
            Err(Error::MalformedClaims),
        ),
        // status: other entries ignored, idx/uri required, idx unsigned
        (
            map(vec![(
                Value::from(keys::STATUS),
                Value::Map(vec![
                    (Value::from(1), Value::Array(vec![Value::Null])),
                    (
                        Value::Text("status_list".into()),
                        Value::Map(vec![
                            (Value::Bytes(b"idx".to_vec()), Value::from(-1)),
                            (Value::Text("idx".into()), Value::from(7)),
                            (Value::Text("extra".into()), Value::Map(vec![])),
                            (Value::Text("uri".into()), Value::Text("u".into())),
                        ]),
                    ),
                ]),
            )]),
            Ok(()),
        ),
        (
            map(vec![(
                Value::from(keys::STATUS),
                Value::Map(vec![(
                    Value::Text("status_list".into()),
                    Value::Map(vec![
                        (Value::Text("idx".into()), Value::from(-7)),
                        (Value::Text("uri".into()), Value::Text("u".into())),
                    ]),
                )]),
            )]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(
                Value::from(keys::STATUS),
                Value::Map(vec![(
                    Value::Text("status_list".into()),
                    Value::Map(vec![(Value::Text("idx".into()), Value::from(7))]),
                )]),
            )]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(Value::from(keys::STATUS), Value::Map(vec![]))]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(
                Value::from(keys::STATUS),
                Value::Map(vec![(
                    Value::Bytes(b"status_list".to_vec()),
                    Value::Map(vec![
                        (Value::Text("idx".into()), Value::from(7)),
                        (Value::Text("uri".into()), Value::Text("u".into())),
                    ]),
                )]),
            )]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(
                Value::from(keys::SCHEDULE),
                Value::Array(vec![Value::Array(vec![
                    Value::from(1),
                    Value::from(-1),
                    Value::from(20),
                ])]),
            )]),
            Err(Error::MalformedClaims),
        ),
        // schedule windows
        (
            map(vec![(
                Value::from(keys::SCHEDULE),
                Value::Array(vec![Value::Array(vec![
                    Value::from(0x7f),
                    Value::from(0),
                    Value::from(1440),
                ])]),
            )]),
            Ok(()),
        ),
        (
            map(vec![(
                Value::from(keys::SCHEDULE),
                Value::Array(vec![Value::Array(vec![
                    Value::from(0x80),
                    Value::from(0),
                    Value::from(1440),
                ])]),
            )]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(
                Value::from(keys::SCHEDULE),
                Value::Array(vec![Value::Array(vec![
                    Value::from(1),
                    Value::from(10),
                    Value::from(10),
                ])]),
            )]),
            Err(Error::MalformedClaims),
        ),
        (
            map(vec![(
                Value::from(keys::SCHEDULE),
                Value::Array(vec![Value::Array(vec![
                    Value::from(1),
                    Value::from(10),
                    Value::from(20),
                    Value::from(1),
                ])]),
            )]),
            Err(Error::MalformedClaims),
        ),
        // kind keeps unknown texts
        (
            map(vec![(Value::from(keys::KIND), Value::Text("guard".into()))]),
            Ok(()),
        ),
        // non-preferred encodings: {0x18 0x01: "a"} is iss = "a"
        (vec![0xa1, 0x18, 0x01, 0x61, b'a'], Ok(())),
        // a duplicate written with another encoding of the same key
        (
            vec![0xa2, 0x01, 0x61, b'a', 0x18, 0x01, 0x61, b'b'],
            Err(Error::Core(citysec_core::Error::DuplicateMapKey)),
        ),
        // trailing bytes, truncation, indefinite length, a tag
        (vec![0xa0, 0x00], Err(Error::Core(citysec_core::Error::TrailingBytes))),
        (vec![0xa1, 0x01], Err(Error::Core(citysec_core::Error::Malformed))),
        (
            vec![0xbf, 0xff],
            Err(Error::Core(citysec_core::Error::IndefiniteLength)),
        ),
        (
            vec![0xa1, 0x3a, 0x00, 0x01, 0x00, 0x00, 0xc1, 0x00],
            Err(Error::Core(citysec_core::Error::UnexpectedTag)),
        ),
    ];
    for (bytes, expected) in cases {
        let got = same(&bytes, &l).map(|_| ());
        assert_eq!(got, expected, "{}", hex::encode(&bytes));
    }
    let key = Value::Map(vec![(
        Value::from(1),
        citysec_core::coset::cbor::de::from_reader(holder_key().as_slice()).unwrap(),
    )]);
    let c = same(&map(vec![(Value::from(keys::CNF), key)]), &l).unwrap();
    assert!(matches!(c.cnf, Some(Confirmation::Key(_))));
}

/// With limits raised past ciborium's nesting limit (256 containers), both refuse
/// a 257th nested container and accept 256, whether it is empty or not.
#[test]
fn nesting_beyond_the_value_limit_is_refused_alike() {
    let limits = Limits::DEFAULT.with_max_depth(400);
    let nested = |containers: usize, innermost: Value| {
        // the claims map is the first container
        let mut v = innermost;
        for _ in 0..containers - 1 {
            v = Value::Array(vec![v]);
        }
        map(vec![(Value::from(-70000), v)])
    };
    let empty = |containers: usize| nested(containers - 1, Value::Array(vec![]));
    assert!(same(&nested(256, Value::from(0)), &limits).is_ok());
    assert!(same(&empty(256), &limits).is_ok());
    assert_eq!(same(&empty(257), &limits), Err(Error::MalformedClaims));
    assert_eq!(same(&nested(257, Value::from(0)), &limits), Err(Error::MalformedClaims));
    // deep inside a known claim, and after a claim with another error
    let deep_aud = {
        let mut v = Value::Array(vec![]);
        for _ in 0..300 {
            v = Value::Array(vec![v]);
        }
        v
    };
    let bytes = map(vec![
        (Value::from(keys::EXP), Value::from(-1)),
        (Value::from(keys::AUD), deep_aud),
    ]);
    assert_eq!(same(&bytes, &limits), Err(Error::MalformedClaims));
    // under the default limits the depth rule answers first
    assert_eq!(
        same(&empty(257), &Limits::DEFAULT),
        Err(Error::Core(citysec_core::Error::TooDeep))
    );
}
