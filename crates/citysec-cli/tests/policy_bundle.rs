//! `citysec policy bundle --scope` and `policy verify-bundle --scope --state`: exit
//! codes and messages.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    reason = "test code: a failed unwrap or index is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{citysec, p};

fn out(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap(),
        String::from_utf8(o.stdout.clone()).unwrap(),
        String::from_utf8(o.stderr.clone()).unwrap(),
    )
}

struct Setup {
    dir: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
    schema: PathBuf,
    policy: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("signer.key");
    let public = dir.path().join("signer.pub");
    let schema = dir.path().join("city.schema");
    let policy = dir.path().join("doors.policy");
    let o = citysec(&["key", "generate", "--alg", "EdDSA", "--kid", "signer", "--out", p(&key)]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let o = citysec(&["key", "public", p(&key), "--out", p(&public)]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    std::fs::write(&schema, "action open; resource door; subject.badge: string;").unwrap();
    std::fs::write(
        &policy,
        r#"permit "badge-7" action open on door when subject.badge == "7";"#,
    )
    .unwrap();
    Setup {
        dir,
        key,
        public,
        schema,
        policy,
    }
}

impl Setup {
    fn bundle(&self, version: u64, scope: &str) -> (Output, PathBuf) {
        let path = self
            .dir
            .path()
            .join(format!("v{version}-{}.bundle", scope.replace(['/', ' '], "_")));
        let v = version.to_string();
        let o = citysec(&[
            "policy",
            "bundle",
            "--key",
            p(&self.key),
            "--version",
            &v,
            "--scope",
            scope,
            "--issued-at",
            "1790000000",
            "--schema",
            p(&self.schema),
            p(&self.policy),
            "--out",
            p(&path),
        ]);
        (o, path)
    }

    fn verify(&self, bundle: &Path, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec!["policy", "verify-bundle", "--trust", p(&self.public)];
        args.extend(extra);
        args.push(p(bundle));
        out(&citysec(&args))
    }
}

#[test]
fn bundle_writes_format_2_with_the_scope() {
    let s = setup();
    let (o, path) = s.bundle(1, "site:lyon-3");
    let (code, stdout, _) = out(&o);
    assert_eq!(code, 0);
    assert!(
        stdout.ends_with(": version 1, scope site:lyon-3, issued at 1790000000\n"),
        "{stdout}"
    );
    let (code, stdout, stderr) = s.verify(&path, &["--scope", "site:lyon-3"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (v["format"].as_u64(), v["scope"].as_str(), v["version"].as_u64()),
        (Some(2), Some("site:lyon-3"), Some(1))
    );
}

#[test]
fn an_invalid_scope_is_a_usage_error() {
    let s = setup();
    let (o, path) = s.bundle(1, "site lyon");
    assert_eq!(
        out(&o),
        (
            2,
            String::new(),
            "error: invalid --scope `site lyon`: use 1 to 64 ASCII letters, digits and `._:/-`\n".into()
        )
    );
    assert!(!path.exists());
}

#[test]
fn verify_bundle_refuses_another_scope() {
    let s = setup();
    let (_, path) = s.bundle(1, "site:lyon-4");
    assert_eq!(
        s.verify(&path, &["--scope", "site:lyon-3"]),
        (
            1,
            String::new(),
            "rejected: bundle is for scope `site:lyon-4`, not `site:lyon-3`\n".into()
        )
    );
    // Without --scope the scope is not checked.
    assert_eq!(s.verify(&path, &[]).0, 0);
}

#[test]
fn verify_bundle_with_state_holds_the_version_across_runs() {
    let s = setup();
    let state = s.dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let (_, v1) = s.bundle(1, "site:lyon-3");
    let (_, v2) = s.bundle(2, "site:lyon-3");
    let args = ["--scope", "site:lyon-3", "--state", p(&state)];
    assert_eq!(s.verify(&v2, &args).0, 0);
    let held = std::fs::read_to_string(state.join("held-state")).unwrap();
    assert!(held.starts_with("citysec-held-state 1\nbundle 2 "), "{held}");
    // A later run refuses the older bundle...
    assert_eq!(
        s.verify(&v1, &args),
        (
            1,
            String::new(),
            "rejected: bundle version 1 is not above the version held (2): rollback refused\n".into()
        )
    );
    // ...and accepts the held one again (a controller reloading after a restart).
    assert_eq!(s.verify(&v2, &args).0, 0);
    // Another bundle with the held version is refused.
    let src = std::fs::read_to_string(&s.policy).unwrap();
    std::fs::write(&s.policy, format!("{src}\n// changed\n")).unwrap();
    let (_, other2) = s.bundle(2, "site:lyon-3");
    assert_eq!(s.verify(&other2, &args).0, 1);
    // A missing state directory is a usage error.
    let missing = s.dir.path().join("missing");
    let (code, _, stderr) = s.verify(&v2, &["--state", p(&missing)]);
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: --state: cannot open `"), "{stderr}");
}
