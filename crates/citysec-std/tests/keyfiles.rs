//! Key file round trips, permissions and typed errors.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use citysec_core::{Algorithm, Clock, Key, RandomSource, SigningKey, SymmetricKey, X25519SecretKey};
use citysec_std::{
    Error, ExistingFile, KeyFormat, OsRandom, SystemClock, decode_key, encode_key, read_key, read_secret_key, write_key,
};

/// A fresh signing key with its public part attached (a COSE_Key file holds it).
fn signing(alg: Algorithm) -> Key {
    Key::Signing(SigningKey::generate(alg, &mut OsRandom).unwrap().with_kid(*b"kid-1"))
        .complete(&citysec_rustcrypto::PROVIDER)
        .unwrap()
}

fn all_secret_keys() -> Vec<Key> {
    vec![
        signing(Algorithm::EdDSA),
        signing(Algorithm::ES256),
        Key::Symmetric(
            SymmetricKey::generate(Algorithm::ChaCha20Poly1305, &mut OsRandom)
                .unwrap()
                .with_kid(*b"s"),
        ),
        Key::Symmetric(SymmetricKey::generate(Algorithm::A128GCM, &mut OsRandom).unwrap()),
        Key::Symmetric(SymmetricKey::generate(Algorithm::A256GCM, &mut OsRandom).unwrap()),
        Key::X25519Secret(X25519SecretKey::generate(&mut OsRandom).unwrap().with_kid(*b"x"))
            .complete(&citysec_rustcrypto::PROVIDER)
            .unwrap(),
    ]
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Same key: same algorithm, kid, public part and secret (a key read from a
/// PEM file carries no public part until a provider derives it).
fn assert_same(a: &Key, b: &Key) {
    assert_eq!(a.algorithm(), b.algorithm());
    assert_eq!(a.kid(), b.kid());
    let public = |k: &Key| {
        k.public(&citysec_rustcrypto::PROVIDER)
            .unwrap()
            .map(|p| p.to_cose_key().unwrap().to_vec())
    };
    assert_eq!(public(a), public(b));
    assert_eq!(secret(a), secret(b));
}

fn secret(k: &Key) -> Option<Vec<u8>> {
    match k {
        Key::Signing(s) => Some(s.secret_bytes().to_vec()),
        Key::Symmetric(s) => Some(s.secret_bytes().to_vec()),
        Key::X25519Secret(s) => Some(s.secret_bytes().to_vec()),
        _ => None,
    }
}

#[test]
fn cose_key_files_round_trip_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    for (i, key) in all_secret_keys().into_iter().enumerate() {
        let path = dir.path().join(format!("secret-{i}.cose"));
        write_key(&path, &key, KeyFormat::CoseKey, ExistingFile::Refuse).unwrap();
        assert_eq!(mode(&path), 0o600, "secret key file must be 0600");
        let back = read_secret_key(&path).unwrap();
        assert_same(&key, &back);

        if let Some(public) = key.public(&citysec_rustcrypto::PROVIDER).unwrap() {
            let pub_path = dir.path().join(format!("public-{i}.cose"));
            write_key(&pub_path, &public, KeyFormat::CoseKey, ExistingFile::Refuse).unwrap();
            assert_eq!(mode(&pub_path), 0o644);
            let back = read_key(&pub_path).unwrap();
            assert!(!back.is_secret());
            assert_same(&public, &back);
        }
    }
}

#[test]
fn pem_files_round_trip_ed25519_and_p256() {
    let dir = tempfile::tempdir().unwrap();
    for (name, alg) in [("ed25519", Algorithm::EdDSA), ("p256", Algorithm::ES256)] {
        // PEM carries no kid, so compare keys without one.
        let key = Key::Signing(SigningKey::generate(alg, &mut OsRandom).unwrap());
        let path = dir.path().join(format!("{name}.pem"));
        write_key(&path, &key, KeyFormat::Pem, ExistingFile::Refuse).unwrap();
        assert_eq!(mode(&path), 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
        if alg == Algorithm::EdDSA {
            // PKCS#8 v1 without the public key, as RFC 8410 section 10.3 and OpenSSL 3.0 write it.
            assert!(
                text.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"),
                "{text}"
            );
        }
        let back = read_secret_key(&path).unwrap();
        assert_same(&key, &back);

        let public = key.public(&citysec_rustcrypto::PROVIDER).unwrap().unwrap();
        let pub_path = dir.path().join(format!("{name}.pub.pem"));
        write_key(&pub_path, &public, KeyFormat::Pem, ExistingFile::Refuse).unwrap();
        assert_eq!(mode(&pub_path), 0o644);
        let text = std::fs::read_to_string(&pub_path).unwrap();
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{text}");
        let back = read_key(&pub_path).unwrap();
        assert_same(&public, &back);
    }
}

#[test]
fn pem_kid_is_dropped() {
    let key = signing(Algorithm::EdDSA);
    let pem = encode_key(&key, KeyFormat::Pem).unwrap();
    let back = decode_key(&pem).unwrap();
    assert_eq!(back.kid(), None);
    assert_same(&key.with_kid(Vec::new()), &back.with_kid(Vec::new()));
}

/// RFC 8410 section 10.3: an Ed25519 private key in PKCS#8 v1.
#[test]
fn reads_rfc8410_ed25519_pem() {
    let pem = "-----BEGIN PRIVATE KEY-----\n\
               MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
               -----END PRIVATE KEY-----\n";
    let key = decode_key(pem.as_bytes()).unwrap();
    assert_eq!(key.algorithm(), Algorithm::EdDSA);
    assert!(key.is_secret());
}

#[test]
fn pem_not_available_for_symmetric_and_x25519() {
    for key in all_secret_keys().into_iter().skip(2) {
        assert!(matches!(encode_key(&key, KeyFormat::Pem), Err(Error::PemNotAvailable)));
    }
}

#[test]
fn public_key_file_is_not_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    for format in [KeyFormat::CoseKey, KeyFormat::Pem] {
        let public = signing(Algorithm::ES256)
            .public(&citysec_rustcrypto::PROVIDER)
            .unwrap()
            .unwrap();
        let path = dir.path().join(format!("pub-{format:?}"));
        write_key(&path, &public, format, ExistingFile::Refuse).unwrap();
        let err = read_secret_key(&path).unwrap_err();
        assert!(matches!(err, Error::NotSecret), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the key file holds a public key, but a secret key is needed"
        );
    }
}

#[test]
fn garbage_gives_typed_errors() {
    // Not CBOR at all.
    let err = decode_key(b"\xff\x00 definitely not a key").unwrap_err();
    assert!(matches!(err, Error::Key(_)), "{err:?}");
    // Valid CBOR, not a COSE_Key.
    assert!(matches!(decode_key(&[0x83, 1, 2, 3]), Err(Error::Key(_))));
    // Empty file.
    assert!(matches!(decode_key(b""), Err(Error::Key(_))));
    // PEM armour around garbage.
    let bad = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert!(matches!(decode_key(bad.as_bytes()), Err(Error::MalformedPem)));
    let truncated = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2Vw";
    assert!(matches!(decode_key(truncated.as_bytes()), Err(Error::MalformedPem)));
    // A label we do not read.
    let ec = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    match decode_key(ec.as_bytes()) {
        Err(Error::UnsupportedPemLabel(label)) => assert_eq!(label, "EC PRIVATE KEY"),
        other => panic!("{other:?}"),
    }
    // An algorithm we do not read: an X25519 PKCS#8 key (RFC 8410 OID 1.3.101.110).
    let x25519 = "-----BEGIN PRIVATE KEY-----\n\
                  MC4CAQAwBQYDK2VuBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
                  -----END PRIVATE KEY-----\n";
    match decode_key(x25519.as_bytes()) {
        Err(Error::UnsupportedPemAlgorithm(oid)) => assert_eq!(oid, "1.3.101.110"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_file_and_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage");
    std::fs::write(&path, b"hello world").unwrap();
    assert!(matches!(read_key(&path), Err(Error::Key(_))));

    let missing = dir.path().join("missing");
    let err = read_key(&missing).unwrap_err();
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotFound));
    assert!(err.to_string().contains("missing"), "{err}");

    let big = dir.path().join("big");
    std::fs::write(&big, vec![0u8; citysec_std::MAX_KEY_FILE_SIZE + 1]).unwrap();
    assert!(matches!(read_key(&big), Err(Error::FileTooLarge { .. })));
}

#[test]
fn refuse_keeps_existing_files_and_replace_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.cose");
    let first = signing(Algorithm::EdDSA);
    let second = signing(Algorithm::EdDSA);
    write_key(&path, &first, KeyFormat::CoseKey, ExistingFile::Refuse).unwrap();
    let err = write_key(&path, &second, KeyFormat::CoseKey, ExistingFile::Refuse).unwrap_err();
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::AlreadyExists));
    assert_same(&first, &read_key(&path).unwrap());

    write_key(&path, &second, KeyFormat::CoseKey, ExistingFile::Replace).unwrap();
    assert_same(&second, &read_key(&path).unwrap());
    assert_eq!(mode(&path), 0o600);

    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("key.cose")]);
}

#[test]
fn detect_format() {
    assert_eq!(KeyFormat::detect(b"  \n-----BEGIN PUBLIC KEY-----"), KeyFormat::Pem);
    assert_eq!(KeyFormat::detect(&[0xa4, 0x01, 0x01]), KeyFormat::CoseKey);
    assert_eq!(KeyFormat::detect(b""), KeyFormat::CoseKey);
}

#[test]
fn system_clock_and_os_random() {
    let now = SystemClock.now().unwrap();
    assert!(now.as_unix_seconds() > 1_700_000_000);
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    OsRandom.fill(&mut a).unwrap();
    OsRandom.fill(&mut b).unwrap();
    assert_ne!(a, b);
}

/// A P-256 key pair made with `openssl genpkey -algorithm EC -pkeyopt
/// ec_paramgen_curve:P-256` (test fixture only).
#[test]
fn reads_openssl_p256_pem_pair() {
    let private = "-----BEGIN PRIVATE KEY-----\n\
                   MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbA017LBYTDTJFn/Z\n\
                   mpoYS9JYegGuqpwS7Fcr4n1RFm2hRANCAARrNjhHsazgP2EqcxEd08mFzDiU1KsR\n\
                   KvkffA+fIU3kxXH+9R/kfbyINK/uAAsGQDc1NOX94Ik+6IeL4kwleZTS\n\
                   -----END PRIVATE KEY-----\n";
    let public = "-----BEGIN PUBLIC KEY-----\n\
                  MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEazY4R7Gs4D9hKnMRHdPJhcw4lNSr\n\
                  ESr5H3wPnyFN5MVx/vUf5H28iDSv7gALBkA3NTTl/eCJPuiHi+JMJXmU0g==\n\
                  -----END PUBLIC KEY-----\n";
    let sk = decode_key(private.as_bytes()).unwrap();
    let pk = decode_key(public.as_bytes()).unwrap();
    assert_eq!(sk.algorithm(), Algorithm::ES256);
    assert_same(&sk.public(&citysec_rustcrypto::PROVIDER).unwrap().unwrap(), &pk);
    let Key::Verifying(vk) = pk else {
        panic!("not a verifying key")
    };
    assert_eq!(vk.as_bytes()[..3], [0x04, 0x6b, 0x36]);
}
