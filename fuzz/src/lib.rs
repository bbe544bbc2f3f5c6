//! Harness logic for the citysec-core fuzz targets.
//!
//! Each `fuzz_targets/*.rs` binary is a one-line wrapper around a function here, so
//! the same checks also run under `cargo test` (stable, no sanitizer), which
//! replays the committed seeds in `seeds/`. Every function must return normally for
//! any input: a panic is a finding. The `assert!`s are invariants that must hold
//! whatever the input is.
//!
//! The fixed keys are the ones of the COSE WG examples the seeds come from, so the
//! seeds reach the success paths (a signature that verifies, a ciphertext that
//! decrypts) and the fuzzer mutates from there.

use std::sync::LazyLock;

use citysec_core::cbor::{self, Tags};
use citysec_core::encrypt0::UnverifiedEncrypt0;
use citysec_core::sign1::{UnverifiedSign1, VerifyOptions};
use citysec_core::{Algorithm, Key, Limits, SymmetricKey, VerifyingKey};

/// Decodes a fixed-length hex string (test keys only).
fn unhex<const N: usize>(s: &str) -> [u8; N] {
    assert_eq!(s.len(), N * 2, "hex length");
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).expect("hex digit");
    }
    out
}

/// Ed25519 public key of RFC 8032 test 1 (COSE WG eddsa-sig-01, kid "11").
pub static ED25519: LazyLock<VerifyingKey> = LazyLock::new(|| {
    VerifyingKey::ed25519(&unhex(
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    ))
    .expect("Ed25519 test key")
});

/// P-256 public key of the COSE WG ECDSA and sign1 examples (kid "11").
pub static P256: LazyLock<VerifyingKey> = LazyLock::new(|| {
    VerifyingKey::p256(
        &unhex("bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff"),
        &unhex("20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e"),
    )
    .expect("P-256 test key")
});

/// The 256-bit "sec-256" key of the COSE WG examples.
const SEC_256: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f01f2e3d4c5b6a798897a6b5c4d3e2f100";

/// Base IV of the ChaCha20/Poly1305 key, so Partial IV messages can be opened.
pub const CHACHA_BASE_IV: &str = "5c3a9950bd2852f66e6c8d4f";

/// ChaCha20/Poly1305 with "sec-256" and a Base IV (chacha-poly-enc-01; Partial IV seeds).
pub static CHACHA: LazyLock<SymmetricKey> = LazyLock::new(|| {
    SymmetricKey::new(Algorithm::ChaCha20Poly1305, &unhex::<32>(SEC_256))
        .expect("ChaCha20/Poly1305 test key")
        .with_base_iv(unhex(CHACHA_BASE_IV))
});

/// A128GCM with "our-secret" (aes-gcm-enc-01, the encrypted-tests).
pub static A128: LazyLock<SymmetricKey> = LazyLock::new(|| {
    SymmetricKey::new(Algorithm::A128GCM, &unhex::<16>("849b57219dae48de646d07dbb533566e")).expect("A128GCM test key")
});

/// A256GCM with "sec-256" (aes-gcm-enc-03).
pub static A256: LazyLock<SymmetricKey> =
    LazyLock::new(|| SymmetricKey::new(Algorithm::A256GCM, &unhex::<32>(SEC_256)).expect("A256GCM test key"));

/// Limits with room for up to two leading tags (CWT 61 around COSE_Sign1 18).
fn limits_with_tag_room() -> Limits {
    Limits::DEFAULT.with_max_depth(Limits::DEFAULT.max_depth + 2)
}

/// Whether `part` lies inside `whole` (the zero-copy parsers hand out borrows of
/// the message; an empty slice may point anywhere).
fn within(whole: &[u8], part: &[u8]) -> bool {
    if part.is_empty() {
        return true;
    }
    let start = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    p >= start && p + part.len() <= start + whole.len()
}

/// When coset can decode the header buckets (it may refuse values the profile
/// allows), what it sees must agree with the zero-copy profile reader: the same
/// protected `alg`, and the same `kid` (protected first, else unprotected).
fn check_decoded_headers(
    alg: Algorithm,
    kid: Option<&[u8]>,
    protected: citysec_core::Result<citysec_core::coset::Header>,
    unprotected: citysec_core::Result<citysec_core::coset::Header>,
) {
    let Ok(p) = protected else { return };
    let decoded_alg = p.alg.as_ref().and_then(Algorithm::from_cose);
    assert_eq!(
        decoded_alg,
        Some(alg),
        "coset reads protected alg {:?}, the profile reader {alg}",
        p.alg
    );
    if !p.key_id.is_empty() {
        assert_eq!(
            kid,
            Some(&p.key_id[..]),
            "kid differs from the protected kid coset reads"
        );
    }
    let Ok(u) = unprotected else { return };
    assert!(u.alg.is_none(), "alg in both buckets got through");
    let decoded_kid = if !p.key_id.is_empty() {
        Some(&p.key_id[..])
    } else if !u.key_id.is_empty() {
        Some(&u.key_id[..])
    } else {
        None
    };
    assert_eq!(kid, decoded_kid, "kid differs from the one coset reads");
}

/// What [`sign1_verify`] saw, for the seed replay tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sign1Outcome {
    /// Parsed as a tagged message (default options).
    pub parsed_tagged: bool,
    /// Parsed as an untagged message.
    pub parsed_untagged: bool,
    /// The algorithm whose fixed key verified the signature, if any.
    pub verified: Option<Algorithm>,
}

/// `sign1_verify`: parse tagged and untagged, verify with the fixed Ed25519 and
/// P-256 keys, and run the tag-allowing well-formedness pass.
pub fn sign1_verify(data: &[u8]) -> Sign1Outcome {
    let limits = Limits::DEFAULT;
    let mut out = Sign1Outcome::default();

    let wf_allow = cbor::check_well_formed(data, &limits, Tags::Allow);
    let wf_forbid = cbor::check_well_formed(data, &limits, Tags::Forbid);
    // Forbidding tags only ever rejects more.
    if wf_forbid.is_ok() {
        assert!(
            wf_allow.is_ok(),
            "Tags::Forbid accepted what Tags::Allow refused: {wf_allow:?}"
        );
    }

    let tagged_opts = VerifyOptions::default();
    let untagged_opts = VerifyOptions::default().untagged();
    for (opts, tagged) in [(tagged_opts, true), (untagged_opts, false)] {
        let Ok(msg) = UnverifiedSign1::parse(data, &opts) else {
            continue;
        };
        assert!(
            data.len() <= limits.max_message_size,
            "parsed a {}-byte message",
            data.len()
        );
        if tagged {
            out.parsed_tagged = true;
            // The body passed the tag-free pass; with at most two leading tags the
            // whole message is well-formed once tags count towards the depth.
            let r = cbor::check_well_formed(data, &limits_with_tag_room(), Tags::Allow);
            assert!(
                r.is_ok(),
                "tagged Sign1 parsed but is not well-formed with tags allowed: {r:?}"
            );
        } else {
            out.parsed_untagged = true;
            assert!(
                wf_forbid.is_ok(),
                "untagged Sign1 parsed but is not well-formed: {wf_forbid:?}"
            );
        }
        assert_eq!(msg.algorithm().kind(), citysec_core::AlgorithmKind::Signature);
        // Zero-copy: every part borrows the message.
        assert!(
            within(data, msg.protected_bytes()),
            "protected bytes outside the message"
        );
        assert!(within(data, msg.payload_unverified()), "payload outside the message");
        assert!(within(data, msg.signature()), "signature outside the message");
        assert!(
            msg.kid().is_none_or(|k| within(data, k) && !k.is_empty()),
            "bad kid slice"
        );
        check_decoded_headers(msg.algorithm(), msg.kid(), msg.protected(), msg.unprotected());
        // The Sig_structure embeds the protected bytes and the payload.
        let tbs = msg.to_be_signed(b"aad");
        assert!(tbs.len() > msg.protected_bytes().len() + msg.payload_unverified().len());

        for key in [&*ED25519, &*P256] {
            let algorithm_matches = key.algorithm() == msg.algorithm();
            match msg.verify(&citysec_rustcrypto::PROVIDER, key, &[]) {
                Ok(v) => {
                    assert!(
                        algorithm_matches,
                        "a {} key verified a {} message",
                        key.algorithm(),
                        msg.algorithm()
                    );
                    assert_eq!(v.algorithm(), key.algorithm());
                    assert_eq!(v.payload(), msg.payload_unverified());
                    assert_eq!(v.kid(), msg.kid());
                    assert_eq!(msg.signature().len(), 64);
                    out.verified = Some(v.algorithm());
                }
                Err(e) => {
                    if !algorithm_matches {
                        assert_eq!(e, citysec_core::Error::KeyAlgMismatch);
                    }
                }
            }
            // Same message with other external AAD must never verify too.
            if out.verified == Some(key.algorithm()) {
                assert!(
                    msg.verify(&citysec_rustcrypto::PROVIDER, key, b"other external aad")
                        .is_err(),
                    "signature verified under two different external AADs"
                );
            }
        }
    }
    // A message is either tagged or untagged, never both.
    assert!(
        !(out.parsed_tagged && out.parsed_untagged),
        "parsed both as tagged and untagged"
    );
    out
}

/// What [`encrypt0_open`] saw, for the seed replay tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Encrypt0Outcome {
    /// Parsed as a tagged message (default options).
    pub parsed_tagged: bool,
    /// Parsed as an untagged message.
    pub parsed_untagged: bool,
    /// The algorithm whose fixed key opened the message, if any.
    pub opened: Option<Algorithm>,
    /// Whether the message carried a Partial IV.
    pub partial_iv: bool,
}

/// `encrypt0_open`: parse tagged and untagged, open with the fixed ChaCha20/Poly1305
/// (with Base IV), A128GCM and A256GCM keys.
pub fn encrypt0_open(data: &[u8]) -> Encrypt0Outcome {
    let limits = Limits::DEFAULT;
    let mut out = Encrypt0Outcome::default();
    let tagged_opts = VerifyOptions::default();
    let untagged_opts = VerifyOptions::default().untagged();
    for (opts, tagged) in [(tagged_opts, true), (untagged_opts, false)] {
        let Ok(msg) = UnverifiedEncrypt0::parse(data, &opts) else {
            continue;
        };
        assert!(
            data.len() <= limits.max_message_size,
            "parsed a {}-byte message",
            data.len()
        );
        if tagged {
            out.parsed_tagged = true;
        } else {
            out.parsed_untagged = true;
            let r = cbor::check_well_formed(data, &limits, Tags::Forbid);
            assert!(r.is_ok(), "untagged Encrypt0 parsed but is not well-formed: {r:?}");
        }
        assert_eq!(msg.algorithm().kind(), citysec_core::AlgorithmKind::Aead);
        // Zero-copy: every part borrows the message.
        assert!(
            within(data, msg.protected_bytes()),
            "protected bytes outside the message"
        );
        assert!(within(data, msg.ciphertext()), "ciphertext outside the message");
        assert!(
            msg.kid().is_none_or(|k| within(data, k) && !k.is_empty()),
            "bad kid slice"
        );
        check_decoded_headers(msg.algorithm(), msg.kid(), msg.protected(), msg.unprotected());
        match msg.iv() {
            Some(citysec_core::encrypt0::Iv::Partial(p)) => {
                out.partial_iv = true;
                assert!(!p.is_empty() && within(data, p), "bad Partial IV slice");
            }
            Some(citysec_core::encrypt0::Iv::Full(iv)) => assert!(within(data, iv), "IV outside the message"),
            None => {}
        }

        let mut reused = Vec::new();
        for key in [&*CHACHA, &*A128, &*A256] {
            let algorithm_matches = key.algorithm() == msg.algorithm();
            // open_into (caller's buffer) and open must agree.
            reused.extend_from_slice(b"stale bytes from an earlier message");
            let into = msg.open_into(&citysec_rustcrypto::PROVIDER, key, &[], &mut reused);
            match (&into, msg.open(&citysec_rustcrypto::PROVIDER, key, &[])) {
                (Ok(()), Ok(opened)) => assert_eq!(&reused[..], opened.plaintext(), "open_into and open differ"),
                (Err(a), Err(b)) => {
                    assert_eq!(*a, b, "open_into and open fail differently");
                    assert!(reused.is_empty(), "open_into left bytes in the buffer on error");
                }
                (a, b) => panic!("open_into {a:?} but open {:?}", b.map(|o| o.plaintext().len())),
            }
            match msg.open(&citysec_rustcrypto::PROVIDER, key, &[]) {
                Ok(opened) => {
                    assert!(
                        algorithm_matches,
                        "a {} key opened a {} message",
                        key.algorithm(),
                        msg.algorithm()
                    );
                    assert_eq!(opened.algorithm(), key.algorithm());
                    assert_eq!(opened.kid(), msg.kid());
                    // The plaintext is the ciphertext less the 16-byte tag.
                    assert_eq!(
                        opened.plaintext().len() + 16,
                        msg.ciphertext().len(),
                        "plaintext length"
                    );
                    out.opened = Some(opened.algorithm());
                    // Other external AAD must fail authentication.
                    assert!(
                        msg.open(&citysec_rustcrypto::PROVIDER, key, b"other external aad")
                            .is_err(),
                        "ciphertext opened under two different external AADs"
                    );
                }
                Err(e) => {
                    if !algorithm_matches {
                        assert_eq!(e, citysec_core::Error::KeyAlgMismatch);
                    }
                }
            }
        }
    }
    assert!(
        !(out.parsed_tagged && out.parsed_untagged),
        "parsed both as tagged and untagged"
    );
    out
}

/// What [`cose_key_decode`] saw, for the seed replay tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CoseKeyOutcome {
    /// The decoded key's algorithm, if the input decoded.
    pub algorithm: Option<Algorithm>,
    /// Whether the decoded key is secret.
    pub secret: bool,
    /// The decoded key's kid.
    pub kid: Option<Vec<u8>>,
}

/// `cose_key_decode`: decode, re-encode, decode again; algorithm, kid and secrecy
/// must survive, and the encoding must be stable.
pub fn cose_key_decode(data: &[u8]) -> CoseKeyOutcome {
    let limits = Limits::DEFAULT;
    let Ok(key) = Key::from_cose_key(data, &limits) else {
        return CoseKeyOutcome::default();
    };
    assert!(
        data.len() <= limits.max_message_size,
        "decoded a {}-byte key",
        data.len()
    );
    let r = cbor::check_well_formed(data, &limits, Tags::Forbid);
    assert!(r.is_ok(), "COSE_Key decoded but is not well-formed: {r:?}");
    // Debug must not panic (and never shows secrets; not checked here).
    let _ = format!("{key:?}");
    // A private key's public part is derived (and a stored one checked) by the
    // provider; a key it refuses does not load.
    let Ok(key) = key.complete(&citysec_rustcrypto::PROVIDER) else {
        return CoseKeyOutcome::default();
    };

    let encoded = key.to_cose_key().expect("a decoded key re-encodes");
    let again = Key::from_cose_key(&encoded, &limits).expect("a re-encoded key decodes");
    assert_eq!(
        again.algorithm(),
        key.algorithm(),
        "algorithm changed in the round trip"
    );
    assert_eq!(again.kid(), key.kid(), "kid changed in the round trip");
    assert_eq!(again.is_secret(), key.is_secret(), "secrecy changed in the round trip");
    let encoded_again = again.to_cose_key().expect("a decoded key re-encodes");
    assert_eq!(
        &encoded[..],
        &encoded_again[..],
        "encoding is not stable across a round trip"
    );

    if let Some(public) = key
        .public(&citysec_rustcrypto::PROVIDER)
        .expect("a loaded key has a public half")
    {
        assert!(!public.is_secret(), "public half is secret");
        assert_eq!(public.algorithm(), key.algorithm());
        assert_eq!(public.kid(), key.kid());
        let p = public.to_cose_key().expect("a public key encodes");
        let p2 = Key::from_cose_key(&p, &limits).expect("a public key decodes");
        assert_eq!(p2.algorithm(), key.algorithm());
    } else {
        assert!(
            matches!(key, Key::Symmetric(_)),
            "only symmetric keys lack a public half"
        );
    }

    CoseKeyOutcome {
        algorithm: Some(key.algorithm()),
        secret: key.is_secret(),
        kid: key.kid().map(<[u8]>::to_vec),
    }
}

#[cfg(test)]
mod tests {
    //! Replays the committed seeds through the harness and checks that the seeds
    //! that should reach the deep paths do.

    use std::path::{Path, PathBuf};

    use super::*;

    fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds").join(target);
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.is_file())
            .map(|p: PathBuf| {
                let name = p.file_name().expect("name").to_string_lossy().into_owned();
                (name, std::fs::read(&p).expect("read seed"))
            })
            .collect();
        out.sort();
        assert!(!out.is_empty(), "no seeds for {target}");
        out
    }

    fn find<'a>(all: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
        &all.iter()
            .find(|(n, _)| n.starts_with(name))
            .unwrap_or_else(|| panic!("seed {name} missing"))
            .1
    }

    #[test]
    fn sign1_seeds() {
        let all = seeds("sign1_verify");
        for (_, data) in &all {
            sign1_verify(data);
        }
        let eddsa = sign1_verify(find(&all, "eddsa-examples-eddsa-sig-01"));
        assert_eq!(eddsa.verified, Some(Algorithm::EdDSA));
        let ecdsa = sign1_verify(find(&all, "ecdsa-examples-ecdsa-sig-01"));
        assert_eq!(ecdsa.verified, Some(Algorithm::ES256));
        let untagged = sign1_verify(find(&all, "sign1-tests-sign-pass-03"));
        assert!(untagged.parsed_untagged);
        assert_eq!(untagged.verified, Some(Algorithm::ES256));
        let cwt = sign1_verify(find(&all, "hand-cwt-eddsa"));
        assert_eq!(cwt.verified, Some(Algorithm::EdDSA));
        let wrong_tag = sign1_verify(find(&all, "sign1-tests-sign-fail-01"));
        assert!(!wrong_tag.parsed_tagged && !wrong_tag.parsed_untagged);
    }

    #[test]
    fn encrypt0_seeds() {
        let all = seeds("encrypt0_open");
        for (_, data) in &all {
            encrypt0_open(data);
        }
        assert_eq!(
            encrypt0_open(find(&all, "chacha-poly-examples-chacha-poly-enc-01")).opened,
            Some(Algorithm::ChaCha20Poly1305)
        );
        assert_eq!(
            encrypt0_open(find(&all, "aes-gcm-examples-aes-gcm-enc-01")).opened,
            Some(Algorithm::A128GCM)
        );
        assert_eq!(
            encrypt0_open(find(&all, "aes-gcm-examples-aes-gcm-enc-03")).opened,
            Some(Algorithm::A256GCM)
        );
        assert_eq!(
            encrypt0_open(find(&all, "aes-gcm-examples-aes-gcm-enc-04")).opened,
            None
        );
        let piv = encrypt0_open(find(&all, "hand-chacha-partial-iv"));
        assert!(piv.partial_iv);
        assert_eq!(piv.opened, Some(Algorithm::ChaCha20Poly1305));
    }

    #[test]
    fn cose_key_seeds() {
        let all = seeds("cose_key_decode");
        for (_, data) in &all {
            cose_key_decode(data);
        }
        let ed = cose_key_decode(find(&all, "hand-okp-ed25519-public"));
        assert_eq!(ed.algorithm, Some(Algorithm::EdDSA));
        assert_eq!(ed.kid.as_deref(), Some(&b"1"[..]));
        assert!(!ed.secret);
        assert!(cose_key_decode(find(&all, "hand-okp-ed25519-private")).secret);
        assert_eq!(
            cose_key_decode(find(&all, "hand-ec2-p256-public")).algorithm,
            Some(Algorithm::ES256)
        );
        assert!(cose_key_decode(find(&all, "hand-ec2-p256-private")).secret);
        let sym = cose_key_decode(find(&all, "hand-symmetric-chacha"));
        assert_eq!(sym.algorithm, Some(Algorithm::ChaCha20Poly1305));
        assert!(sym.secret);
        assert_eq!(
            cose_key_decode(find(&all, "hand-symmetric-a128gcm")).algorithm,
            Some(Algorithm::A128GCM)
        );
        assert_eq!(
            cose_key_decode(find(&all, "hand-okp-x25519-public")).algorithm,
            Some(Algorithm::EcdhEsHkdf256)
        );
        assert!(cose_key_decode(find(&all, "hand-okp-x25519-private")).secret);
    }
}
