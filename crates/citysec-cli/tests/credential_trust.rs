//! `citysec credential verify --trust ISS=FILE`: each key bound to one issuer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

mod common;
use common::{citysec, p, text};

const A: &str = "https://a.city.example";
const B: &str = "https://b.transit.example";
const NOW: &str = "1767000000";

/// Keys of issuers A (kid a-1) and B (kid b-1), and tokens: A's own, and one
/// claiming `iss` A but signed with B's key.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let s = Self { dir };
        for (name, kid) in [("a", "a-1"), ("b", "b-1")] {
            let key = s.path(&format!("{name}.key"));
            assert_eq!(
                text(&citysec(&[
                    "key", "generate", "--alg", "EdDSA", "--kid", kid, "--out", &key
                ]))
                .0,
                0
            );
            assert_eq!(
                text(&citysec(&[
                    "key",
                    "public",
                    &key,
                    "--out",
                    &s.path(&format!("{name}.pub"))
                ]))
                .0,
                0
            );
        }
        // A public key without a kid (PEM carries none).
        assert_eq!(
            text(&citysec(&[
                "key",
                "public",
                &s.path("a.key"),
                "--format",
                "pem",
                "--out",
                &s.path("a.pem")
            ]))
            .0,
            0
        );
        let claims = s.path("claims.json");
        std::fs::write(
            &claims,
            format!(r#"{{"iss": "{A}", "sub": "staff-17", "aud": "doors", "exp": 1767229200}}"#),
        )
        .unwrap();
        for (signer, out) in [("a.key", "by-a.cwt"), ("b.key", "a-claimed-by-b.cwt")] {
            let o = citysec(&[
                "credential",
                "issue",
                "--key",
                &s.path(signer),
                "--claims",
                &claims,
                "--out",
                &s.path(out),
            ]);
            assert_eq!(text(&o).0, 0, "{}", text(&o).2);
        }
        s
    }

    fn path(&self, name: &str) -> String {
        p(&self.dir.path().join(name)).to_owned()
    }

    fn verify(&self, trust: &[String], extra: &[&str], token: &str) -> (i32, String, String) {
        let mut args = vec!["credential", "verify", "--now", NOW, "--aud", "doors"];
        for t in trust {
            args.extend_from_slice(&["--trust", t]);
        }
        args.extend_from_slice(extra);
        let token = self.path(token);
        args.push(&token);
        text(&citysec(&args))
    }
}

#[test]
fn a_key_vouches_only_for_its_own_issuer() {
    let s = Setup::new();
    let both = [format!("{A}={}", s.path("a.pub")), format!("{B}={}", s.path("b.pub"))];
    // A's token verifies under A's key; the issuer and kid are named on stderr.
    let (code, stdout, stderr) = s.verify(&both, &[], "by-a.cwt");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, format!("verified: issuer \"{A}\", kid h'612d31' (\"a-1\")\n"));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["iss"], A);
    // A token claiming issuer A, signed with B's key (trusted for B only): refused.
    assert_eq!(
        s.verify(&both, &[], "a-claimed-by-b.cwt"),
        (
            1,
            String::new(),
            "rejected: credential names another issuer than its key's\n".to_owned()
        )
    );
    // Before the binding, a single bare --trust of B's key took the token's own `iss`,
    // and still does (a single anchor; documented): the operator named one key only.
    assert_eq!(s.verify(&[s.path("b.pub")], &[], "a-claimed-by-b.cwt").0, 0);
    // ... unless --iss names the key's issuer.
    assert_eq!(
        s.verify(&[s.path("b.pub")], &["--iss", B], "a-claimed-by-b.cwt"),
        (
            1,
            String::new(),
            "rejected: credential names another issuer than its key's\n".to_owned()
        )
    );
    // A single named anchor without a kid is used under the token's kid.
    let (code, _, stderr) = s.verify(&[format!("{A}={}", s.path("a.pem"))], &[], "by-a.cwt");
    assert_eq!(
        (code, stderr.as_str()),
        (
            0,
            format!("verified: issuer \"{A}\", kid h'612d31' (\"a-1\")\n").as_str()
        )
    );
    // A's name bound to B's key: A's token (kid a-1) finds no trusted key.
    assert_eq!(
        s.verify(&[format!("{A}={}", s.path("b.pub"))], &[], "by-a.cwt"),
        (1, String::new(), "rejected: unknown key\n".to_owned())
    );
}

#[test]
fn several_anchors_must_each_name_their_issuer() {
    let s = Setup::new();
    let usage = |r: (i32, String, String), msg: &str| {
        assert_eq!(r, (2, String::new(), format!("error: {msg}\n")));
    };
    usage(
        s.verify(&[s.path("a.pub"), s.path("b.pub")], &[], "by-a.cwt"),
        "several --trust keys: name the issuer of each with --trust ISS=FILE (a bare --trust FILE is allowed only as the single trust anchor)",
    );
    usage(
        s.verify(&[format!("{A}={}", s.path("a.pub")), s.path("b.pub")], &[], "by-a.cwt"),
        "--trust FILE and --trust ISS=FILE mixed: name the issuer of each key with --trust ISS=FILE",
    );
    usage(
        s.verify(&[format!("{A}={}", s.path("a.pub"))], &["--iss", A], "by-a.cwt"),
        "--iss applies to a single bare --trust FILE; with --trust ISS=FILE the issuer is in each --trust",
    );
    usage(
        s.verify(&[format!("={}", s.path("a.pub"))], &[], "by-a.cwt"),
        &format!(
            "--trust `={}`: write ISS=FILE with a non-empty issuer and file",
            s.path("a.pub")
        ),
    );
    usage(
        s.verify(&[format!("{A}=")], &[], "by-a.cwt"),
        &format!("--trust `{A}=`: write ISS=FILE with a non-empty issuer and file"),
    );
    usage(
        s.verify(
            &[format!("{A}={}", s.path("a.pem")), format!("{B}={}", s.path("b.pub"))],
            &[],
            "by-a.cwt",
        ),
        &format!(
            "`{}` has no kid: with several --trust keys each key needs a kid",
            s.path("a.pem")
        ),
    );
}
