//! Signed notes, checkpoints and witness cosignatures: the c2sp.org/signed-note
//! example, our own notes on both providers, and every refusal with its exact
//! error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use citysec_audit::Error;
use citysec_audit::checkpoint::{Checkpoint, CheckpointVerifier, MAX_TIMESTAMP, cosign, cosignature_message};
use citysec_audit::merkle::{CompactRange, leaf_hash};
use citysec_audit::note::{
    MAX_NOTE_LEN, MAX_SIGNATURES, Note, NoteSigner, NoteVerifier, TYPE_COSIGNATURE_V1, TYPE_ED25519, key_id,
};
use citysec_core::SigningKey;
use citysec_core::provider::{Provider, Signer};

fn providers() -> [&'static Provider; 2] {
    [&citysec_rustcrypto::PROVIDER, &citysec_ring::PROVIDER]
}

fn signer(seed: u8) -> Box<dyn Signer> {
    citysec_rustcrypto::PROVIDER
        .signer(SigningKey::ed25519(&[seed; 32]))
        .unwrap()
}

/// The example of c2sp.org/signed-note ("Verifier keys", "Example").
const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

#[test]
fn the_specification_example_verifies_on_both_providers() {
    for p in providers() {
        let v = NoteVerifier::from_vkey(p, SPEC_VKEY).unwrap();
        assert_eq!(v.name(), "example.com/foo");
        assert_eq!(v.key_id(), 0x530d_903a);
        assert_eq!(v.to_vkey(), SPEC_VKEY);
        let note = Note::parse(SPEC_NOTE.as_bytes()).unwrap();
        assert_eq!(note.text(), "This is an example message.\n");
        assert_eq!(note.signatures().len(), 1);
        let ok = note.verify(p, core::slice::from_ref(&v)).unwrap();
        assert_eq!(ok.len(), 1);
        // one changed byte of text
        let changed = SPEC_NOTE.replace("example message", "example massage");
        assert_eq!(
            Note::parse(changed.as_bytes())
                .unwrap()
                .verify(p, core::slice::from_ref(&v))
                .unwrap_err(),
            Error::BadSignature
        );
    }
}

#[test]
fn vkeys_are_checked() {
    let p = &citysec_rustcrypto::PROVIDER;
    let bad = [
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", // key ID of another key
        "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", // upper-case hex
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",  // not base64
        "example.com/foo+530d903a",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+x",
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/fo o+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        // signature type 2 (ECDSA) is not supported
        "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ];
    for vkey in bad {
        assert_eq!(
            NoteVerifier::from_vkey(p, vkey).unwrap_err(),
            Error::InvalidKey,
            "{vkey}"
        );
    }
}

#[test]
fn our_notes_verify_on_both_providers_and_match_the_key_id_rule() {
    let s = NoteSigner::new("citysec.example/log", signer(1)).unwrap();
    let pubkey = citysec_rustcrypto::PROVIDER
        .public_key(&SigningKey::ed25519(&[1; 32]))
        .unwrap();
    assert_eq!(
        s.key_id(),
        key_id("citysec.example/log", TYPE_ED25519, pubkey.as_bytes())
    );
    let note = s.sign("door-7 allow\nsecond line\n\nafter an empty line\n").unwrap();
    let parsed = Note::parse(note.as_bytes()).unwrap();
    assert_eq!(parsed.text(), "door-7 allow\nsecond line\n\nafter an empty line\n");
    for p in providers() {
        let v = s.verifier(p).unwrap();
        assert_eq!(NoteVerifier::from_vkey(p, &v.to_vkey()).unwrap().key_id(), s.key_id());
        assert_eq!(parsed.verify(p, &[v]).unwrap().len(), 1);
    }
    // text that cannot be a note's
    assert_eq!(s.sign("no newline").unwrap_err(), Error::MalformedNote);
    assert_eq!(s.sign("a\rb\n").unwrap_err(), Error::MalformedNote);
    assert_eq!(s.sign("").unwrap_err(), Error::MalformedNote);
}

#[test]
fn unknown_keys_are_ignored_and_known_ones_must_verify() {
    let p = &citysec_rustcrypto::PROVIDER;
    let log = NoteSigner::new("log.example", signer(1)).unwrap();
    let other = NoteSigner::new("other.example", signer(2)).unwrap();
    // same name as the log, another key: same name, another key ID
    let impostor = NoteSigner::new("log.example", signer(3)).unwrap();
    let trusted = log.verifier(p).unwrap();

    let note = log.sign("hello\n").unwrap();
    let other_line = other.sign("hello\n").unwrap().split_once("\n\n").unwrap().1.to_owned();
    let impostor_line = impostor
        .sign("hello\n")
        .unwrap()
        .split_once("\n\n")
        .unwrap()
        .1
        .to_owned();
    let both = format!("{note}{other_line}{impostor_line}");
    let parsed = Note::parse(both.as_bytes()).unwrap();
    assert_eq!(parsed.signatures().len(), 3);
    assert_eq!(parsed.verify(p, core::slice::from_ref(&trusted)).unwrap().len(), 1);

    // only unknown keys
    let only_other = other.sign("hello\n").unwrap();
    assert_eq!(
        Note::parse(only_other.as_bytes())
            .unwrap()
            .verify(p, core::slice::from_ref(&trusted))
            .unwrap_err(),
        Error::NoKnownSignature
    );
    // the trusted key's line with a signature over other text
    let forged = format!("hello\n\n{}", log.sign("bye\n").unwrap().split_once("\n\n").unwrap().1);
    assert_eq!(
        Note::parse(forged.as_bytes())
            .unwrap()
            .verify(p, core::slice::from_ref(&trusted))
            .unwrap_err(),
        Error::BadSignature
    );
    // a cosigner key never verifies a plain note signature
    let w = NoteSigner::cosigner("log.example", signer(1))
        .unwrap()
        .verifier(p)
        .unwrap();
    assert_ne!(w.key_id(), trusted.key_id(), "the signature type is in the key ID");
    assert_eq!(
        Note::parse(note.as_bytes()).unwrap().verify(p, &[w]).unwrap_err(),
        Error::NoKnownSignature
    );
}

#[test]
fn malformed_notes_are_refused_with_exact_errors() {
    let log = NoteSigner::new("log.example", signer(1)).unwrap();
    let good = log.sign("hello\n").unwrap();
    let line = good.split_once("\n\n").unwrap().1.to_owned();
    let b64 = line.trim_end().rsplit_once(' ').unwrap().1.to_owned();
    let cases: Vec<(String, Error)> = vec![
        ("hello\n".to_owned() + &line, Error::MalformedNote), // no empty line
        (good.trim_end().to_owned(), Error::MalformedNote),   // no final newline
        (good.replace("hello", "hel\tlo"), Error::MalformedNote),
        (good.replace("hello", "hel\rlo"), Error::MalformedNote),
        (good.replace('\u{2014}', "-"), Error::MalformedNote),
        (good.replace("log.example", "log+example"), Error::MalformedNote),
        (good.replace("log.example ", " "), Error::MalformedNote),
        (good.replace(&b64, b64.trim_end_matches('=')), Error::MalformedNote),
        (
            format!("hello\n\n\u{2014} log.example {}\n", STANDARD.encode([1u8, 2, 3, 4])),
            Error::MalformedNote,
        ),
        (format!("hello\n\n{line}\n"), Error::MalformedNote), // an empty line after the signatures
        ("hello\n\n".to_owned(), Error::MalformedNote),
        (
            format!("hello\n\n{}", line.repeat(MAX_SIGNATURES + 1)),
            Error::TooManySignatures,
        ),
        (format!("{}\n\n{line}", "x".repeat(MAX_NOTE_LEN)), Error::TooLarge),
    ];
    for (note, want) in &cases {
        assert_eq!(Note::parse(note.as_bytes()).unwrap_err(), *want, "{note:?}");
    }
    // non-canonical base64: the last character changed in bits base64 drops
    let sig_b64 = b64.clone();
    let tail = sig_b64.trim_end_matches('=');
    let last = tail.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let i = alphabet.find(last).unwrap();
    let tweaked = alphabet.chars().nth(i ^ 1).unwrap();
    let noncanonical = good.replace(
        &sig_b64,
        &format!("{}{tweaked}{}", &tail[..tail.len() - 1], &sig_b64[tail.len()..]),
    );
    assert_eq!(Note::parse(noncanonical.as_bytes()).unwrap_err(), Error::MalformedNote);
    // invalid UTF-8
    let mut bytes = good.into_bytes();
    bytes[1] = 0xff;
    assert_eq!(Note::parse(&bytes).unwrap_err(), Error::MalformedNote);
    // exactly MAX_SIGNATURES lines is fine
    let many = format!("hello\n\n{}", line.repeat(MAX_SIGNATURES));
    assert_eq!(Note::parse(many.as_bytes()).unwrap().signatures().len(), MAX_SIGNATURES);
}

fn site_checkpoint(n: u64) -> Checkpoint {
    let mut range = CompactRange::new();
    for i in 0..n {
        range.append(&leaf_hash(format!("entry {i}").as_bytes())).unwrap();
    }
    Checkpoint::new("citysec.example/site-log", range.size(), range.root()).unwrap()
}

#[test]
fn checkpoint_text_round_trips_and_is_strict() {
    let c = site_checkpoint(7);
    // the root of docs/audit-log.md's vectors for seven entries
    assert_eq!(
        c.to_text(),
        "citysec.example/site-log\n7\nmMl/C6MXXNCLAx3QhLncTmSbZNGijm6mlGRlAxc6tYc=\n"
    );
    assert_eq!(Checkpoint::parse_text(&c.to_text()).unwrap(), c);
    let e = c.clone().with_extension("ext line").unwrap();
    assert_eq!(Checkpoint::parse_text(&e.to_text()).unwrap(), e);
    assert_eq!(Checkpoint::parse_text(&e.to_text()).unwrap().extensions(), ["ext line"]);
    let root = "mMl/C6MXXNCLAx3QhLncTmSbZNGijm6mlGRlAxc6tYc=";
    for bad in [
        format!("o\n07\n{root}\n"),
        format!("o\n+7\n{root}\n"),
        format!("o\n-0\n{root}\n"),
        format!("o\n\n{root}\n"),
        format!("o\n18446744073709551616\n{root}\n"),
        format!("o\n7\n{}\n", &root[4..]),
        format!("o\n7\n{}\n", root.trim_end_matches('=')),
        format!("o\n7\n{root}"),
        format!("o\n7\n{root}\n\n"),
        format!("\n7\n{root}\n"),
        "o\n7\n".to_owned(),
    ] {
        assert_eq!(
            Checkpoint::parse_text(&bad).unwrap_err(),
            Error::MalformedCheckpoint,
            "{bad:?}"
        );
    }
    assert_eq!(
        Checkpoint::parse_text(&format!("o\n18446744073709551615\n{root}\n"))
            .unwrap()
            .size(),
        u64::MAX
    );
    assert_eq!(Checkpoint::parse_text(&format!("o\n0\n{root}\n")).unwrap().size(), 0);
    assert_eq!(
        Checkpoint::new("a\nb", 1, [0; 32]).unwrap_err(),
        Error::MalformedCheckpoint
    );
    assert_eq!(c.with_extension("").unwrap_err(), Error::MalformedCheckpoint);
}

#[test]
fn checkpoints_need_the_log_key_the_origin_and_k_of_n_witnesses() {
    let log = NoteSigner::new("citysec.example/site-log", signer(1)).unwrap();
    let witnesses: Vec<_> = (0..3u8)
        .map(|i| NoteSigner::cosigner(&format!("witness.example/w{i}"), signer(10 + i)).unwrap())
        .collect();
    let c = site_checkpoint(7);
    let signed = c.sign(&log).unwrap();
    let one = cosign(&witnesses[0], &signed, 1_700_000_000).unwrap();
    let two = cosign(&witnesses[1], &one, 1_700_000_005).unwrap();
    for p in providers() {
        let wv: Vec<_> = witnesses.iter().map(|w| w.verifier(p).unwrap()).collect();
        let base = CheckpointVerifier::new("citysec.example/site-log", log.verifier(p).unwrap()).unwrap();
        let v = base.clone().with_witnesses(wv.clone(), 2).unwrap();
        let ok = v.verify(p, two.as_bytes()).unwrap();
        assert_eq!(ok.checkpoint(), &c);
        assert_eq!(
            ok.cosignatures(),
            [
                ("witness.example/w0".to_owned(), 1_700_000_000),
                ("witness.example/w1".to_owned(), 1_700_000_005)
            ]
        );
        assert_eq!(v.verify(p, one.as_bytes()).unwrap_err(), Error::NotEnoughCosignatures);
        let all = base.clone().with_witnesses(wv.clone(), 3).unwrap();
        assert_eq!(all.verify(p, two.as_bytes()).unwrap_err(), Error::NotEnoughCosignatures);
        // no witness policy: the log's signature suffices
        assert!(base.verify(p, signed.as_bytes()).unwrap().cosignatures().is_empty());

        // another log's key; another origin
        let stranger = NoteSigner::new("citysec.example/site-log", signer(9)).unwrap();
        assert_eq!(
            v.verify(p, c.sign(&stranger).unwrap().as_bytes()).unwrap_err(),
            Error::NoKnownSignature
        );
        let elsewhere = Checkpoint::new("citysec.example/other", 7, *c.root()).unwrap();
        assert_eq!(
            v.verify(p, elsewhere.sign(&log).unwrap().as_bytes()).unwrap_err(),
            Error::WrongOrigin
        );

        // a cosignature over another timestamp than the one it carries
        let w2 = &witnesses[2];
        let line = cosign(w2, &signed, 5)
            .unwrap()
            .rsplit_once('\u{2014}')
            .unwrap()
            .1
            .to_owned();
        let raw = STANDARD.decode(line.trim().split_once(' ').unwrap().1).unwrap();
        let mut shifted = raw.clone();
        shifted[4..12].copy_from_slice(&6u64.to_be_bytes());
        let forged = format!("{two}\u{2014} witness.example/w2 {}\n", STANDARD.encode(&shifted));
        assert_eq!(v.verify(p, forged.as_bytes()).unwrap_err(), Error::BadSignature);
        // a timestamp beyond 2^63 - 1 (with a signature made over it)
        let over = MAX_TIMESTAMP + 1;
        let sig = signer(12)
            .sign(cosignature_message(&c.to_text(), over).as_bytes())
            .unwrap();
        let mut raw_over = raw[..4].to_vec();
        raw_over.extend_from_slice(&over.to_be_bytes());
        raw_over.extend_from_slice(&sig);
        let late = format!("{two}\u{2014} witness.example/w2 {}\n", STANDARD.encode(&raw_over));
        assert_eq!(v.verify(p, late.as_bytes()).unwrap_err(), Error::BadSignature);
        // a cosignature of the wrong length
        let short = format!("{two}\u{2014} witness.example/w2 {}\n", STANDARD.encode(&raw[..70]));
        assert_eq!(v.verify(p, short.as_bytes()).unwrap_err(), Error::BadSignature);
        // the third witness's genuine cosignature makes three
        let three = cosign(w2, &two, 1_700_000_009).unwrap();
        assert_eq!(all.verify(p, three.as_bytes()).unwrap().cosignatures().len(), 3);
    }
    // a policy that cannot be met, duplicate witnesses, and a log key as witness
    let p = &citysec_rustcrypto::PROVIDER;
    let base = CheckpointVerifier::new("citysec.example/site-log", log.verifier(p).unwrap()).unwrap();
    let w0 = witnesses[0].verifier(p).unwrap();
    assert_eq!(
        base.clone().with_witnesses(vec![w0.clone()], 2).unwrap_err(),
        Error::InvalidKey
    );
    assert_eq!(
        base.clone().with_witnesses(vec![w0.clone(), w0], 1).unwrap_err(),
        Error::InvalidKey
    );
    assert_eq!(
        base.with_witnesses(vec![log.verifier(p).unwrap()], 1).unwrap_err(),
        Error::InvalidKey
    );
    assert_eq!(
        CheckpointVerifier::new("o", witnesses[0].verifier(p).unwrap()).unwrap_err(),
        Error::InvalidKey
    );
    // cosigning needs a cosigner, a checkpoint and a timestamp in range
    assert_eq!(cosign(&log, &signed, 1).unwrap_err(), Error::InvalidKey);
    assert_eq!(
        cosign(&witnesses[0], &signed, MAX_TIMESTAMP + 1).unwrap_err(),
        Error::Timestamp
    );
    let not_a_checkpoint = log.sign("hello\n").unwrap();
    assert_eq!(
        cosign(&witnesses[0], &not_a_checkpoint, 1).unwrap_err(),
        Error::MalformedCheckpoint
    );
    assert_eq!(witnesses[0].sign("x\n").unwrap_err(), Error::InvalidKey);
    assert_eq!(witnesses[0].sig_type(), TYPE_COSIGNATURE_V1);
}

/// A note that repeats the trusted key's line 64 times costs one signature
/// check: only the first line of a key counts (as in Go's reference code), so a
/// bad line after a good one changes nothing and a bad first line refuses.
#[test]
fn a_key_is_checked_once_whatever_its_lines() {
    let p = &citysec_rustcrypto::PROVIDER;
    let log = NoteSigner::new("log.example", signer(1)).unwrap();
    let trusted = log.verifier(p).unwrap();
    let good = log.sign("hello\n").unwrap();
    let good_line = good.split_once("\n\n").unwrap().1.to_owned();
    let bad_line = log.sign("bye\n").unwrap().split_once("\n\n").unwrap().1.to_owned();
    let repeated = format!("hello\n\n{}", good_line.repeat(MAX_SIGNATURES));
    let parsed = Note::parse(repeated.as_bytes()).unwrap();
    assert_eq!(parsed.signatures_of(&trusted).count(), MAX_SIGNATURES);
    assert_eq!(parsed.verify(p, core::slice::from_ref(&trusted)).unwrap().len(), 1);
    let good_then_bad = format!("{good}{bad_line}");
    assert_eq!(
        Note::parse(good_then_bad.as_bytes())
            .unwrap()
            .verify(p, core::slice::from_ref(&trusted))
            .unwrap()
            .len(),
        1
    );
    let bad_then_good = format!("hello\n\n{bad_line}{good_line}");
    assert_eq!(
        Note::parse(bad_then_good.as_bytes())
            .unwrap()
            .verify(p, core::slice::from_ref(&trusted))
            .unwrap_err(),
        Error::BadSignature
    );
}

#[test]
fn a_vkey_whose_base64_holds_a_plus_round_trips() {
    // Base64 uses `+`: a vkey is cut at its first two `+` only.
    let p = &citysec_rustcrypto::PROVIDER;
    let mut with_plus = 0;
    for seed in 0..=255u8 {
        let v = NoteSigner::new("site.example/log", signer(seed))
            .unwrap()
            .verifier(p)
            .unwrap();
        let vkey = v.to_vkey();
        if vkey.matches('+').count() > 2 {
            with_plus += 1;
        }
        let back = NoteVerifier::from_vkey(p, &vkey).unwrap();
        assert_eq!((back.to_vkey(), back.key_id()), (vkey, v.key_id()));
    }
    assert!(with_plus > 100, "{with_plus} of 256 vkeys hold a `+` in their key");
}

proptest::proptest! {
    /// The size line is the size in decimal, 0 and 2^64 - 1 included.
    #[test]
    fn the_size_line_is_decimal(size in proptest::prelude::any::<u64>()) {
        for n in [size, 0, 1, 9, 10, u64::MAX] {
            let c = Checkpoint::new("o.example/log", n, [7; 32]).unwrap();
            let text = c.to_text();
            let decimal = n.to_string();
            proptest::prop_assert_eq!(text.lines().nth(1), Some(decimal.as_str()));
            proptest::prop_assert_eq!(Checkpoint::parse_text(&text).unwrap(), c);
        }
    }
}
