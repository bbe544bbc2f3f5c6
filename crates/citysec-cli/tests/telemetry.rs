//! `citysec telemetry ...` end to end: seal, open with persistent replay state,
//! replay and topic rejections across runs, derive.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap or index is a failed test"
)]

mod common;
use common::{citysec, text};

#[test]
fn seal_open_replay_across_runs() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_owned();
    assert_eq!(text(&citysec(&["telemetry", "new-master", "--out", &p("m")])).0, 0);
    std::fs::write(p("r.json"), b"{\"no2\": 38}\n").unwrap();
    for seq in ["1", "2"] {
        let o = citysec(&[
            "telemetry",
            "seal",
            "--master",
            &p("m"),
            "--device",
            "sensor-1",
            "--seq",
            seq,
            "--topic",
            "city/air",
            &p("r.json"),
            &p(&format!("e{seq}")),
        ]);
        assert_eq!(text(&o).0, 0, "{}", text(&o).2);
    }
    let (master, state) = (p("m"), p("state"));
    let open = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "telemetry",
            "open",
            "--master",
            master.as_str(),
            "--state",
            state.as_str(),
        ];
        args.extend_from_slice(extra);
        let f = p(file);
        args.push(&f);
        text(&citysec(&args))
    };
    let (code, out, _) = open("e2", &[]);
    assert_eq!(code, 0);
    assert!(out.contains("device: sensor-1") && out.contains("seq: 2") && out.contains("topic: city/air"));
    assert!(out.contains("reading: {\"no2\": 38}"), "{out}");
    // a second run (a new process, the state from disk) refuses the replay
    let (code, _, err) = open("e2", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("replayed envelope"), "{err}");
    // an older envelope inside the window is still fine, once
    assert_eq!(open("e1", &[]).0, 0);
    assert_eq!(open("e1", &[]).0, 1);
    // a topic pinned on the gateway
    let o = citysec(&[
        "telemetry",
        "seal",
        "--master",
        &p("m"),
        "--device",
        "sensor-1",
        "--seq",
        "3",
        "--topic",
        "city/air",
        &p("r.json"),
        &p("e3"),
    ]);
    assert_eq!(text(&o).0, 0);
    let (code, _, err) = open("e3", &["--topic", "city/water"]);
    assert_eq!(code, 1);
    assert!(err.contains("another topic"), "{err}");
    // --out writes the reading
    let (code, _, _) = open("e3", &["--out", &p("reading")]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(p("reading")).unwrap(), b"{\"no2\": 38}\n");
    // another master: forged
    assert_eq!(text(&citysec(&["telemetry", "new-master", "--out", &p("m2")])).0, 0);
    let o = citysec(&[
        "telemetry",
        "open",
        "--master",
        &p("m2"),
        "--state",
        &p("state2"),
        &p("e3"),
    ]);
    assert_eq!(text(&o).0, 1);
    // derive writes a 0600 COSE_Key
    assert_eq!(
        text(&citysec(&[
            "telemetry",
            "derive",
            "--master",
            &p("m"),
            "--device",
            "sensor-1",
            "--out",
            &p("k")
        ]))
        .0,
        0
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(p("k")).unwrap().permissions().mode() & 0o777, 0o600);
    // a bad master file is a usage error
    std::fs::write(p("bad"), b"short").unwrap();
    let o = citysec(&[
        "telemetry",
        "open",
        "--master",
        &p("bad"),
        "--state",
        &p("state"),
        &p("e1"),
    ]);
    assert_eq!(text(&o).0, 2);
}
