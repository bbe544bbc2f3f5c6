//! `reject_adversarial`: the work before the signature (or AEAD tag) check on the
//! worst adversarial shapes, against the same kind of object, valid and of the same
//! size, in one run.
//!
//! - credential (COSE_Sign1/CWT, default limits: 64 KiB) at 4 KiB and 64 KiB: the
//!   pre-signature path is `UnverifiedSign1::parse`, which `Verifier::verify` runs
//!   before it looks at the signature.
//! - bundle (policy bundle, `LoadOptions::default()`: 2 MiB) at 4 KiB, 64 KiB and
//!   2 MiB: `bundle::load` itself, which refuses every adversarial input before
//!   the signature: the header shape first (the unprotected header must be empty,
//!   the protected one at most `MAX_PROTECTED_HEADER` bytes), then
//!   `UnverifiedSign1::parse` with the loader's limits. One more shape for bundles:
//!   `protected_full`, the worst protected header a bundle may carry.
//! - envelope (telemetry, `ReceiverConfig::default().max_envelope`: 64 KiB) at 4 KiB
//!   and 64 KiB: `Envelope::parse`, which the receiver runs before the AEAD.
//! - record (audit log, `MAX_RECORD_LEN`: 2 KiB): `Record::from_cbor`, which a
//!   gateway runs on every record it ingests before the checkpoint's root is
//!   compared. Shapes: `late_unsorted` (31 ascending keys with long text values,
//!   then a smaller key: refused by the deterministic pass at the end),
//!   `long_keys_dup` (30 text keys of 60 bytes, the last a duplicate),
//!   `late_unknown` (a full record and then an unknown key). Benign: a valid
//!   record of the same size (every text field long), decoded.
//! - receipt (audit log, `MAX_RECEIPT_LEN`: 8 KiB): `Receipt::parse`, which runs
//!   before the root is computed and the signature checked. Shapes in an
//!   unprotected label: `nested` (100-entry maps two deep, a long text first, the
//!   last key a duplicate; receipts allow 128 entries per container),
//!   `unsorted`, `tiny` (arrays of 100 one-byte items, then a duplicate). Benign:
//!   a valid receipt padded to the size by an unprotected byte string, parsed and
//!   verified (root and Ed25519).
//!
//! Adversarial shapes (all in the unprotected header, or the protected one for the
//! label merge), each refused at its last entry: `nested` (256-entry maps two deep,
//! the first value a long text, the outer map's last key a duplicate), `unsorted`
//! (32-entry maps of one-byte keys in descending order, the last map's last key a
//! duplicate: refused with `UnsortedMap` once 256 unsorted entries are passed),
//! `unsorted8_tiny` (eight such maps, the most a message may hold, then one-byte
//! items, then a map with a duplicate key), `longkeys` (256 equal-length text keys that differ only in their
//! last two bytes, the last a duplicate), `unsorted_long` (32 such keys in
//! descending order, the last a duplicate), `tiny` (one-byte items, then a map with
//! a duplicate key), `labels` (32 protected labels, the first value long, and 32
//! unprotected labels of which the last is also protected: the most a bucket may
//! hold), `labels_over` (255 and 256 labels, refused by the counts in the map heads). For the envelope:
//! `trailing` (a valid envelope and one more byte).
//!
//! Benign: a credential whose claims set carries a claim of many short strings
//! (role names, 6 to 10 bytes each); a bundle whose payload carries a policy source
//! of many short rules; a sealed envelope. A pre-signature parse skips the payload
//! byte string in one step, so on a benign object it does not grow with the size;
//! what a verifier spends on a valid object of that size is its signature check
//! and the walk of its payload. So, per group:
//!
//! - `benign`: what the same verifier does with a valid object of that size:
//!   `sign1::verify` (the same parse, key by `kid`, Ed25519 over the whole
//!   message) and the well-formedness pass over the payload; for envelopes the
//!   same `Envelope::parse` (the AEAD is not included).
//! - `benign_walk`: the parse and the payload pass, without the signature: the
//!   CBOR work alone, to compare shapes byte for byte.
//! - `benign_parse`: the parse alone, for reference.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    missing_docs,
    reason = "benchmark code"
)]

use core::hint::black_box;

use citysec_core::cbor::{Tags, check_well_formed};
use citysec_core::sign1::{self, UnverifiedSign1, VerifyOptions};
use citysec_core::{KeySet, Limits, SigningKey, VerifyingKey};
use citysec_policy::bundle::PolicySigners;
use citysec_telemetry::{Envelope, MasterSecret};
use criterion::{Criterion, Throughput};

const KIB: usize = 1024;

/// A head in preferred form, with core's encoder.
fn head(out: &mut Vec<u8>, major: u8, n: usize) {
    let Ok(()) = citysec_core::cbor::write::head(out, major, citysec_core::cbor::write::len_arg(n));
}

fn text(out: &mut Vec<u8>, s: &[u8]) {
    head(out, 3, s.len());
    out.extend_from_slice(s);
}

/// A tagged COSE_Sign1: protected `{1: -8, 3: "application/x"}` and `extra` more
/// protected entries, the unprotected map, the payload, a 64-byte signature.
fn sign1_raw(extra: &[u8], extra_entries: usize, unprotected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    head(&mut p, 5, 1 + extra_entries);
    p.extend_from_slice(&[0x01, 0x27]);
    p.extend_from_slice(extra);
    let mut out = vec![0xd2, 0x84];
    head(&mut out, 2, p.len());
    out.extend_from_slice(&p);
    out.extend_from_slice(unprotected);
    head(&mut out, 2, payload.len());
    out.extend_from_slice(payload);
    out.extend_from_slice(&[0x58, 0x40]);
    out.extend_from_slice(&[0u8; 64]);
    out
}

/// Unprotected `{4: "k1", 100: value}`.
fn unprotected_with(value: &[u8]) -> Vec<u8> {
    let mut out = vec![0xa2, 0x04, 0x42, b'k', b'1', 0x18, 100];
    out.extend_from_slice(value);
    out
}

/// `count` copies of `unit` in nested arrays of at most 256 items each, the last
/// copy replaced by `last`.
fn arrays_of(unit: &[u8], count: usize, last: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if count <= 256 {
        head(&mut out, 4, count);
        for i in 0..count {
            out.extend_from_slice(if i + 1 == count { last } else { unit });
        }
        return out;
    }
    let per = count.div_ceil(256);
    let children = count.div_ceil(per);
    head(&mut out, 4, children);
    let mut left = count;
    for _ in 0..children {
        let n = left.min(per);
        left -= n;
        out.extend_from_slice(&arrays_of(unit, n, if left == 0 { last } else { unit }));
    }
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

fn prefixed_keys(count: usize, len: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut k = vec![b'k'; len - 2];
            k.extend_from_slice(&[b'a' + (i / 26) as u8, b'a' + (i % 26) as u8]);
            k
        })
        .collect()
}

fn text_map(keys: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    head(&mut out, 5, keys.len());
    for k in keys {
        text(&mut out, k);
        out.push(0);
    }
    out
}

/// The adversarial Sign1 messages of about `n` bytes (a little under).
fn adversarial(n: usize) -> Vec<(&'static str, Vec<u8>)> {
    let room = n - 120;
    let mut out = Vec::new();
    // nested maximum maps, first value a long text
    let mut t = Vec::new();
    text(&mut t, &vec![b'a'; room - 1_600]);
    out.push((
        "nested",
        sign1_raw(&[], 0, &unprotected_with(&max_map(&max_map(&t, false), true)), &[0]),
    ));
    // unsorted small maps of one-byte keys
    let mut map = vec![0xb8, 32];
    for k in (0x20u8..=0x27).rev().chain((0u8..=23).rev()) {
        map.extend_from_slice(&[k, 0x00]);
    }
    let mut dup = map.clone();
    let at = dup.len() - 2;
    dup[at] = 0x27;
    let count = (room - 600) / map.len();
    out.push((
        "unsorted",
        sign1_raw(&[], 0, &unprotected_with(&arrays_of(&map, count, &dup)), &[0]),
    ));
    // the unsorted budget used up (8 such maps, 256 entries), then one-byte items
    let mut eight = vec![0x88];
    for _ in 0..8 {
        eight.extend_from_slice(&map);
    }
    let mut body = vec![0x82];
    body.extend_from_slice(&eight);
    body.extend_from_slice(&arrays_of(&[0], (room - 1_200) * 7 / 8, &[0xa2, 0, 0, 0, 0]));
    out.push(("unsorted8_tiny", sign1_raw(&[], 0, &unprotected_with(&body), &[0])));
    // ascending long keys differing at the end
    let mut keys = prefixed_keys(256, (room / 256).saturating_sub(4).max(4));
    keys[255] = keys[254].clone();
    out.push(("longkeys", sign1_raw(&[], 0, &unprotected_with(&text_map(&keys)), &[0])));
    // 32 long keys in descending order
    let mut keys = prefixed_keys(32, (room / 32).saturating_sub(4).max(4));
    keys.reverse();
    keys[31] = keys[16].clone();
    out.push((
        "unsorted_long",
        sign1_raw(&[], 0, &unprotected_with(&text_map(&keys)), &[0]),
    ));
    // tiny items, then a duplicate
    out.push((
        "tiny",
        sign1_raw(
            &[],
            0,
            &unprotected_with(&arrays_of(&[0], (room - 600) * 7 / 8, &[0xa2, 0, 0, 0, 0])),
            &[0],
        ),
    ));
    // labels in both buckets, found only at the end of the merge, with as many
    // labels as a bucket may hold (MAX_HEADER_LABELS): protected
    // {1, 100..=129, 1000} (label 100's value long), unprotected
    // {8..=38, 1000}, both ascending
    let mut extra = Vec::new();
    for l in (100..130usize).chain([1000]) {
        head(&mut extra, 0, l);
        if l == 100 {
            head(&mut extra, 2, room - 400);
            extra.extend(core::iter::repeat_n(0u8, room - 400));
        } else {
            extra.push(0);
        }
    }
    let mut u = Vec::new();
    head(&mut u, 5, 32);
    for l in (8..39usize).chain([1000]) {
        head(&mut u, 0, l);
        u.push(0);
    }
    out.push(("labels", sign1_raw(&extra, 31, &u, &[0])));
    // the 0.1.0 shape: 255 protected and 256 unprotected labels, now refused by
    // the label count in the map heads before the bytes are walked
    let mut extra = Vec::new();
    for l in 100..355usize {
        head(&mut extra, 0, l);
        extra.push(0);
    }
    let mut u = Vec::new();
    head(&mut u, 5, 256);
    for l in (8..100usize).chain(400..564) {
        head(&mut u, 0, l);
        u.push(0);
    }
    out.push(("labels_over", sign1_raw(&extra, 255, &u, &[0])));
    for (name, msg) in &out {
        assert!(msg.len() <= n, "{name}: {} > {n}", msg.len());
    }
    out
}

/// A bundle-shaped message of `n` bytes whose protected header is the worst a
/// bundle may carry: `MAX_PROTECTED_HEADER` bytes of one-byte items in an array
/// under one label, then a map with a duplicate key; the unprotected header empty
/// and the rest a payload byte string.
fn protected_full(n: usize) -> Vec<u8> {
    let max = citysec_policy::bundle::MAX_PROTECTED_HEADER;
    let mut p = vec![0xa2, 0x01, 0x27, 0x18, 100, 0x98];
    let items = max - p.len() - 1 - 5;
    p.push(items as u8 + 1);
    p.extend(core::iter::repeat_n(0u8, items));
    p.extend_from_slice(&[0xa2, 0, 0, 0, 0]);
    assert_eq!(p.len(), max);
    let mut out = vec![0xd2, 0x84];
    head(&mut out, 2, p.len());
    out.extend_from_slice(&p);
    out.push(0xa0);
    let rest = n - out.len() - 2 - 66 - 5;
    head(&mut out, 2, rest);
    out.extend(core::iter::repeat_n(0u8, rest));
    out.extend_from_slice(&[0x58, 0x40]);
    out.extend_from_slice(&[0u8; 64]);
    assert!(out.len() <= n);
    out
}

/// A valid credential of about `n` bytes: a claims set with `iss`, `exp` and a
/// claim (key -70000) of many short role names, signed.
fn benign_credential(key: &SigningKey, n: usize) -> Vec<u8> {
    let room = n - 200;
    let mut roles = Vec::new();
    let mut i = 0usize;
    let mut items = Vec::new();
    while roles.len() + 14 < room - 600 {
        let mut t = Vec::new();
        text(&mut t, format!("role-{i}").as_bytes());
        roles.extend_from_slice(&t);
        items.push(t);
        i += 1;
    }
    let mut claim = Vec::new();
    let outer = items.len().div_ceil(256);
    head(&mut claim, 4, outer);
    for chunk in items.chunks(256) {
        head(&mut claim, 4, chunk.len());
        for t in chunk {
            claim.extend_from_slice(t);
        }
    }
    let mut payload = vec![0xa3, 0x01];
    text(&mut payload, b"https://issuer.example");
    payload.extend_from_slice(&[0x04, 0x1a, 0x77, 0x00, 0x00, 0x00]);
    payload.extend_from_slice(&[0x3a, 0x00, 0x01, 0x11, 0x6f]);
    payload.extend_from_slice(&claim);
    let msg = sign1::sign(&citysec_rustcrypto::signer_copy(key).unwrap(), &payload, b"").unwrap();
    assert!(msg.len() <= n, "{} > {n}", msg.len());
    msg
}

/// A bundle-shaped message of about `n` bytes: a payload map with a policy source
/// of many short rules, signed.
fn benign_bundle(key: &SigningKey, n: usize) -> Vec<u8> {
    let mut policy = String::new();
    let mut i = 0usize;
    while policy.len() + 200 < n - 400 {
        policy.push_str(&format!(
            "permit \"door-{i}\" action open on door when resource.id == \"d{i}\" and subject.roles has \"staff\";\n"
        ));
        i += 1;
    }
    let mut payload = vec![0xa6, 0x01, 0x01, 0x02, 0x07, 0x03, 0x1a, 0x65, 0x00, 0x00, 0x00, 0x04];
    text(
        &mut payload,
        b"attribute subject.roles: set<string>; attribute resource.id: string;",
    );
    payload.push(0x05);
    text(&mut payload, policy.as_bytes());
    payload.extend_from_slice(&[0x06, 0x58, 0x20]);
    payload.extend_from_slice(&[0x11; 32]);
    let msg = sign1::sign(&citysec_rustcrypto::signer_copy(key).unwrap(), &payload, b"").unwrap();
    assert!(msg.len() <= n, "{} > {n}", msg.len());
    msg
}

fn label(n: usize) -> String {
    if n >= 1024 * KIB {
        format!("{}MiB", n / (1024 * KIB))
    } else {
        format!("{}KiB", n / KIB)
    }
}

/// One group: every adversarial message (asserting its error first) and the
/// benign one, through the same pre-signature parse.
#[expect(clippy::too_many_arguments, reason = "one call per kind of object")]
fn sign1_group(
    c: &mut Criterion,
    kind: &str,
    n: usize,
    opts: &VerifyOptions<'_>,
    trusted: &KeySet<VerifyingKey>,
    benign: &[u8],
    adv: &[(&'static str, Vec<u8>)],
    reject: &dyn Fn(&[u8]) -> String,
    results: &mut Vec<Group>,
) {
    let group_name = format!("reject_adversarial_{kind}_{}", label(n));
    let mut g = c.benchmark_group(&group_name);
    g.throughput(Throughput::Bytes(n as u64));
    let payload_limits = opts.limits;
    let mut ids = Vec::new();
    for (name, msg) in adv {
        let err = reject(msg);
        let id = format!("adv_{name}");
        g.bench_function(&id, |b| {
            b.iter(|| reject(black_box(msg)));
        });
        ids.push((id, msg.len(), err));
    }
    UnverifiedSign1::parse(benign, opts).unwrap();
    g.bench_function("benign", |b| {
        b.iter(|| {
            let m = sign1::verify(&citysec_rustcrypto::PROVIDER, trusted, black_box(benign), opts).unwrap();
            check_well_formed(m.payload(), &payload_limits, Tags::Forbid).unwrap();
        });
    });
    g.bench_function("benign_walk", |b| {
        b.iter(|| {
            let m = UnverifiedSign1::parse(black_box(benign), opts).unwrap();
            check_well_formed(m.payload_unverified(), &payload_limits, Tags::Forbid).unwrap();
        });
    });
    g.bench_function("benign_parse", |b| {
        b.iter(|| UnverifiedSign1::parse(black_box(benign), opts).unwrap());
    });
    g.finish();
    results.push(Group {
        name: group_name,
        adversarial: ids,
        benign_len: benign.len(),
    });
}

struct Group {
    name: String,
    adversarial: Vec<(String, usize, String)>,
    benign_len: usize,
}

fn reject_adversarial(c: &mut Criterion) {
    let mut results = Vec::new();
    let key = SigningKey::ed25519(&[7u8; 32]).with_kid(b"k1".to_vec());
    let trusted = KeySet::from_keys([citysec_rustcrypto::PROVIDER.public_key(&key).unwrap()]).unwrap();
    let signers = PolicySigners::from_keys(
        &citysec_rustcrypto::PROVIDER,
        [citysec_rustcrypto::PROVIDER.public_key(&key).unwrap()],
    )
    .unwrap();

    // credentials: the verifier's default limits (64 KiB)
    let cred_opts = VerifyOptions::default();
    for n in [4 * KIB, 64 * KIB] {
        let benign = benign_credential(&key, n);
        let reject = |m: &[u8]| format!("{:?}", UnverifiedSign1::parse(m, &cred_opts).unwrap_err());
        sign1_group(
            c,
            "credential",
            n,
            &cred_opts,
            &trusted,
            &benign,
            &adversarial(n),
            &reject,
            &mut results,
        );
    }

    // bundles: the loader's limits (LoadOptions::default().max_bundle_len)
    let load = citysec_policy::bundle::LoadOptions::default();
    let max_bundle = load.max_bundle_len;
    let bundle_opts = VerifyOptions::default().with_limits(Limits::DEFAULT.with_max_message_size(max_bundle));
    // the loader refuses every shape before the signature: the shapes in the
    // unprotected header by the header shape, `protected_full` in the pass
    let reject = |m: &[u8]| {
        let e = citysec_policy::bundle::load(&signers, black_box(m), &load).unwrap_err();
        assert!(!matches!(
            e,
            citysec_policy::bundle::BundleError::Cose(citysec_core::Error::BadSignature)
        ));
        format!("{e:?}")
    };
    for n in [4 * KIB, 64 * KIB, max_bundle] {
        let mut adv = adversarial(n);
        adv.push(("protected_full", protected_full(n)));
        let benign = benign_bundle(&key, n);
        sign1_group(
            c,
            "bundle",
            n,
            &bundle_opts,
            &trusted,
            &benign,
            &adv,
            &reject,
            &mut results,
        );
    }

    // envelopes: the receiver's default maximum (64 KiB)
    let max_env = citysec_telemetry::ReceiverConfig::default().max_envelope;
    let device = MasterSecret::new([3; 32])
        .derive(&citysec_rustcrypto::PROVIDER, b"sensor-1", 0)
        .unwrap();
    for n in [4 * KIB, max_env] {
        let benign =
            citysec_telemetry::seal(&citysec_rustcrypto::PROVIDER, &device, 1, "t", &vec![0x42; n - 64]).unwrap();
        let pad = n - 1 - benign.len();
        let benign = citysec_telemetry::seal(
            &citysec_rustcrypto::PROVIDER,
            &device,
            1,
            "t",
            &vec![0x42; n - 64 + pad],
        )
        .unwrap();
        assert_eq!(benign.len(), n - 1);
        let mut trailing = benign.clone();
        trailing.push(0);
        Envelope::parse(&benign, max_env).unwrap();
        let err = Envelope::parse(&trailing, max_env).unwrap_err();
        let group_name = format!("reject_adversarial_envelope_{}", label(n));
        let mut g = c.benchmark_group(&group_name);
        g.throughput(Throughput::Bytes(n as u64));
        g.bench_function("adv_trailing", |b| {
            b.iter(|| Envelope::parse(black_box(&trailing), max_env).unwrap_err());
        });
        g.bench_function("benign", |b| {
            b.iter(|| Envelope::parse(black_box(&benign), max_env).unwrap())
        });
        g.finish();
        results.push(Group {
            name: group_name,
            adversarial: vec![("adv_trailing".into(), trailing.len(), format!("{err:?}"))],
            benign_len: benign.len(),
        });
    }

    receipt_group(c, &mut results);
    record_group(c, &mut results);

    println!();
    println!("reject_adversarial: worst adversarial / benign (mean times), target <= 3; adversarial MB/s");
    for g in &results {
        let Some(benign) = citysec_benches::mean_ns(&g.name, "benign") else {
            println!("  {}: not measured in this run", g.name);
            continue;
        };
        let parse_only = citysec_benches::mean_ns(&g.name, "benign_parse");
        let walk = citysec_benches::mean_ns(&g.name, "benign_walk");
        let mut worst: Option<(f64, &str, usize)> = None;
        for (id, len, err) in &g.adversarial {
            if let Some(t) = citysec_benches::mean_ns(&g.name, id) {
                println!(
                    "  {}: {id} ({len} B, {err}): {t:.0} ns, {:.0} MB/s",
                    g.name,
                    *len as f64 / t * 1e3
                );
                if worst.is_none_or(|(w, _, _)| t > w) {
                    worst = Some((t, id, *len));
                }
            }
        }
        if let Some((t, id, len)) = worst {
            let r = t / benign;
            let verdict = if r <= 3.0 { "meets" } else { "MISSES" };
            let walk = walk.map_or(String::new(), |w| {
                format!("; worst / benign_walk {w:.0} ns = {:.2}", t / w)
            });
            let parse = parse_only.map_or(String::new(), |p| format!("; benign parse alone {p:.0} ns"));
            println!(
                "  {}: worst {id} {t:.0} ns ({:.0} MB/s) / benign ({} B) {benign:.0} ns = {r:.2} ({verdict} target <= 3){walk}{parse}",
                g.name,
                len as f64 / t * 1e3,
                g.benign_len
            );
        }
    }
}

/// A receipt with `{100: value, 396: {-1: [proof]}}` unprotected.
fn receipt_with(protected: &[u8], value: &[u8], proof: &[u8], sig: &[u8]) -> Vec<u8> {
    let mut out = vec![0xd2, 0x84];
    head(&mut out, 2, protected.len());
    out.extend_from_slice(protected);
    out.extend_from_slice(&[0xa2, 0x18, 100]);
    out.extend_from_slice(value);
    out.extend_from_slice(&[0x19, 0x01, 0x8c, 0xa1, 0x20, 0x81]);
    head(&mut out, 2, proof.len());
    out.extend_from_slice(proof);
    out.extend_from_slice(&[0xf6, 0x58, 0x40]);
    out.extend_from_slice(sig);
    out
}

/// A `count`-entry map of keys 0.., the first value `first`, the last key a
/// duplicate when `dup`.
fn map_of(count: usize, first: &[u8], dup: bool) -> Vec<u8> {
    let mut out = Vec::new();
    head(&mut out, 5, count);
    for k in 0..count {
        head(&mut out, 0, if dup && k + 1 == count { k - 1 } else { k });
        if k == 0 {
            out.extend_from_slice(first);
        } else {
            out.push(0);
        }
    }
    out
}

fn receipt_group(c: &mut Criterion, results: &mut Vec<Group>) {
    use citysec_audit::merkle::{inclusion_proof, leaf_hash, root};
    use citysec_audit::receipt::{MAX_RECEIPT_LEN, Receipt, issue_inclusion};

    let n = MAX_RECEIPT_LEN;
    let provider = &citysec_rustcrypto::PROVIDER;
    let signer = provider
        .signer(SigningKey::ed25519(&[7u8; 32]).with_kid(b"k1".to_vec()))
        .unwrap();
    let key = provider.import(signer.verifying_key().clone()).unwrap();
    let leaves: Vec<_> = (0..1000u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let path = inclusion_proof(&leaves, 500).unwrap();
    let genuine = issue_inclusion(&signer, 1000, 500, &path, &root(&leaves)).unwrap();
    // the genuine receipt's parts, to rebuild it with an extra unprotected label
    let parsed = Receipt::parse(&genuine).unwrap();
    let protected = [&[0xa3, 0x01, 0x27, 0x04, 0x42][..], b"k1", &[0x19, 0x01, 0x8b, 0x01]].concat();
    let mut proof = vec![0x83, 0x19, 0x03, 0xe8, 0x19, 0x01, 0xf4];
    head(&mut proof, 4, path.len());
    for h in &path {
        proof.extend_from_slice(&[0x58, 0x20]);
        proof.extend_from_slice(h);
    }
    assert_eq!(parsed.inclusion_proofs()[0].path, path);
    let sig = &genuine[genuine.len() - 64..];
    let room = n - receipt_with(&protected, &[0x40], &proof, sig).len() - 8;
    let mut pad = Vec::new();
    head(&mut pad, 2, room);
    pad.extend(core::iter::repeat_n(0u8, room));
    let benign = receipt_with(&protected, &pad, &proof, sig);
    assert!(benign.len() <= n);
    Receipt::parse(&benign)
        .unwrap()
        .verify_inclusion(provider, &key, &leaves[500])
        .unwrap();

    let mut t = Vec::new();
    text(&mut t, &vec![b'a'; room - 1_000]);
    let nested = map_of(100, &map_of(100, &t, false), true);
    let mut map = vec![0xb8, 32];
    for k in (0x20u8..=0x27).rev().chain((0u8..=23).rev()) {
        map.extend_from_slice(&[k, 0x00]);
    }
    let mut dup = map.clone();
    let at = dup.len() - 2;
    dup[at] = 0x27;
    let count = ((room - 100) / map.len()).min(128);
    let mut unsorted = Vec::new();
    head(&mut unsorted, 4, count);
    for i in 0..count {
        unsorted.extend_from_slice(if i + 1 == count { &dup } else { &map });
    }
    let arrays = ((room - 100) / 102).min(100);
    let mut tiny = Vec::new();
    head(&mut tiny, 4, arrays + 1);
    for _ in 0..arrays {
        head(&mut tiny, 4, 100);
        tiny.extend(core::iter::repeat_n(0u8, 100));
    }
    tiny.extend_from_slice(&[0xa2, 0, 0, 0, 0]);
    let adv = [("nested", nested), ("unsorted", unsorted), ("tiny", tiny)]
        .map(|(name, v)| (name, receipt_with(&protected, &v, &proof, sig)));

    let group_name = format!("reject_adversarial_receipt_{}", label(n));
    let mut g = c.benchmark_group(&group_name);
    g.throughput(Throughput::Bytes(n as u64));
    let mut ids = Vec::new();
    for (name, msg) in &adv {
        assert!(msg.len() <= n, "{name}: {} > {n}", msg.len());
        let err = Receipt::parse(msg).unwrap_err();
        let id = format!("adv_{name}");
        g.bench_function(&id, |b| b.iter(|| Receipt::parse(black_box(msg)).unwrap_err()));
        ids.push((id, msg.len(), format!("{err:?}")));
    }
    g.bench_function("benign", |b| {
        b.iter(|| {
            Receipt::parse(black_box(&benign))
                .unwrap()
                .verify_inclusion(provider, &key, &leaves[500])
                .unwrap()
        });
    });
    g.bench_function("benign_parse", |b| {
        b.iter(|| Receipt::parse(black_box(&benign)).unwrap())
    });
    g.finish();
    results.push(Group {
        name: group_name,
        adversarial: ids,
        benign_len: benign.len(),
    });
}

fn record_group(c: &mut Criterion, results: &mut Vec<Group>) {
    use citysec_audit::record::{Kind, MAX_RECORD_LEN, Outcome, Record};

    let n = MAX_RECORD_LEN;
    let long = |c: char| c.to_string().repeat(230);
    let benign = Record::new(Kind::DoorDecision, 1_765_000_000, &"s".repeat(64))
        .unwrap()
        .with_door(&long('d'))
        .unwrap()
        .with_outcome(Outcome::Deny)
        .with_step(&long('s'))
        .unwrap()
        .with_rule(&long('r'))
        .unwrap()
        .with_reason(&long('x'))
        .unwrap()
        .with_issuer(&long('i'))
        .unwrap()
        .with_device(&long('v'))
        .unwrap()
        .to_cbor()
        .unwrap();
    assert!(benign.len() <= n);
    // 31 ascending keys with text values, then a smaller key.
    let mut late_unsorted = Vec::new();
    head(&mut late_unsorted, 5, 32);
    for k in 0u8..31 {
        late_unsorted.push(if k < 24 { k } else { 0x18 });
        if k >= 24 {
            late_unsorted.push(k);
        }
        text(&mut late_unsorted, &vec![b'a'; (benign.len() - 200) / 31]);
    }
    late_unsorted.extend_from_slice(&[0x00, 0x00]);
    // 30 text keys of 60 bytes, the last a duplicate.
    let mut long_keys_dup = Vec::new();
    head(&mut long_keys_dup, 5, 30);
    for k in 0..30usize {
        let key = format!("{:0>60}", if k == 29 { 28 } else { k });
        text(&mut long_keys_dup, key.as_bytes());
        long_keys_dup.push(0);
    }
    // the benign record with one more entry, an unknown key, at the end
    let mut late_unknown = benign.clone();
    late_unknown[0] += 1;
    late_unknown.extend_from_slice(&[0x17, 0x00]);
    let adv = [
        ("late_unsorted", late_unsorted),
        ("long_keys_dup", long_keys_dup),
        ("late_unknown", late_unknown),
    ];

    let group_name = format!("reject_adversarial_record_{}", label(n));
    let mut g = c.benchmark_group(&group_name);
    g.throughput(Throughput::Bytes(n as u64));
    let mut ids = Vec::new();
    for (name, msg) in &adv {
        assert!(msg.len() <= n, "{name}: {} > {n}", msg.len());
        let err = Record::from_cbor(msg).unwrap_err();
        let id = format!("adv_{name}");
        g.bench_function(&id, |b| b.iter(|| Record::from_cbor(black_box(msg)).unwrap_err()));
        ids.push((id, msg.len(), format!("{err:?}")));
    }
    g.bench_function("benign", |b| b.iter(|| Record::from_cbor(black_box(&benign)).unwrap()));
    g.finish();
    results.push(Group {
        name: group_name,
        adversarial: ids,
        benign_len: benign.len(),
    });
}

fn main() {
    let mut c = citysec_benches::criterion();
    reject_adversarial(&mut c);
    c.final_summary();
}
