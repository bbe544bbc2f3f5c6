//! `citysec audit ...` end to end: append with personal values, checkpoint,
//! prove, verify (checkpoint and proof, receipt, witnesses), pin, cosign,
//! erase and show, and the refusals with their exit codes and reasons.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a failed unwrap or index is a failed test"
)]

mod common;
use common::{citysec, text};
use serde_json::Value;

const ORIGIN: &str = "site.city.example/log";

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap()
}

#[test]
fn a_record_is_proven_cosigned_pinned_and_erased_and_tampering_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_owned();
    let ok = |args: &[&str]| {
        let (code, out, err) = text(&citysec(args));
        assert_eq!(code, 0, "{args:?}: {err}");
        // `audit` commands print JSON; the key and master commands, words.
        if args[0] == "audit" { json(&out) } else { Value::Null }
    };
    let refused = |args: &[&str]| {
        let (code, out, err) = text(&citysec(args));
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(out.is_empty());
        err
    };
    ok(&["telemetry", "new-master", "--out", &p("site.key")]);
    ok(&[
        "key",
        "generate",
        "--alg",
        "EdDSA",
        "--kid",
        "log",
        "--out",
        &p("log.key"),
    ]);
    ok(&["key", "generate", "--alg", "EdDSA", "--kid", "w", "--out", &p("w.key")]);
    std::fs::write(
        p("decision.json"),
        r#"{"kind": "door-decision", "time": 1765000000, "source": "door-7", "door": "north-gate",
            "outcome": "allow", "step": "policy", "rule": "staff", "subject": "alice", "credential_id": "c0ffee"}"#,
    )
    .unwrap();
    std::fs::write(
        p("forced.json"),
        r#"{"kind": "door-sensor", "time": 1765000005, "source": "door-7", "door": "north-gate", "outcome": "forced"}"#,
    )
    .unwrap();
    let appended = ok(&[
        "audit",
        "append",
        "--log",
        &p("site.redb"),
        "--origin",
        ORIGIN,
        "--json",
        "--site-key",
        &p("site.key"),
        "--side-table",
        &p("side.json"),
        &p("decision.json"),
        &p("forced.json"),
        &p("forced.json"),
    ]);
    assert_eq!(
        (appended["first"].as_u64(), appended["end"].as_u64()),
        (Some(0), Some(3))
    );
    let cp = ok(&[
        "audit",
        "checkpoint",
        "--log",
        &p("site.redb"),
        "--key",
        &p("log.key"),
        "--out",
        &p("cp3"),
        "--tiles",
        &p("tiles"),
    ]);
    assert_eq!(cp["size"], 3);
    assert_eq!(cp["root"], appended["root"]);
    let vkey = cp["vkey"].as_str().unwrap().to_owned();
    assert!(vkey.starts_with("site.city.example/log+"));
    assert_eq!(
        std::fs::read_to_string(p("tiles/checkpoint")).unwrap(),
        cp["checkpoint"].as_str().unwrap()
    );
    assert_eq!(std::fs::read(p("tiles/tile/0/000.p/3")).unwrap().len(), 96);

    // The decision's proof and its receipt verify; another record does not.
    let proof = ok(&[
        "audit",
        "prove",
        "--log",
        &p("site.redb"),
        "--index",
        "0",
        "--receipt",
        &p("r0"),
        "--key",
        &p("log.key"),
    ]);
    std::fs::write(p("proof0.json"), proof.to_string()).unwrap();
    std::fs::write(p("rec0"), hex_decode(proof["record"].as_str().unwrap())).unwrap();
    let trust = ["--origin", ORIGIN, "--trust", vkey.as_str()];
    let v = ok(&[
        &["audit", "verify-inclusion"][..],
        &trust,
        &[
            "--checkpoint",
            &p("cp3"),
            "--proof",
            &p("proof0.json"),
            "--record",
            &p("rec0"),
        ],
    ]
    .concat());
    assert_eq!(
        (v["verified"].as_bool(), v["index"].as_u64(), v["size"].as_u64()),
        (Some(true), Some(0), Some(3))
    );
    let v = ok(&[
        &["audit", "verify-inclusion"][..],
        &trust,
        &[
            "--receipt",
            &p("r0"),
            "--receipt-key",
            &p("log.key"),
            "--record",
            &p("rec0"),
        ],
    ]
    .concat());
    assert_eq!(v["root"], cp["root"]);
    let err = refused(
        &[
            &["audit", "verify-inclusion"][..],
            &trust,
            &[
                "--checkpoint",
                &p("cp3"),
                "--proof",
                &p("proof0.json"),
                "--record",
                &p("forced.json"),
            ],
        ]
        .concat(),
    );
    assert_eq!(err.trim(), "rejected: inclusion: proof does not lead to the root");

    // A witness cosigns; a policy asking for it refuses the bare checkpoint.
    let cos = ok(&[
        &["audit", "cosign"][..],
        &trust,
        &[
            "--key",
            &p("w.key"),
            "--name",
            "witness.example",
            "--checkpoint",
            &p("cp3"),
            "--time",
            "1765000100",
            "--out",
            &p("cp3w"),
        ],
    ]
    .concat());
    let wkey = cos["witness"].as_str().unwrap().to_owned();
    let with_witness = [&trust[..], &["--witness", wkey.as_str()]].concat();
    let v = ok(&[
        &["audit", "verify-inclusion"][..],
        &with_witness,
        &[
            "--checkpoint",
            &p("cp3w"),
            "--proof",
            &p("proof0.json"),
            "--record",
            &p("rec0"),
        ],
    ]
    .concat());
    assert_eq!(v["cosigned_by"], serde_json::json!(["witness.example"]));
    let err = refused(
        &[
            &["audit", "verify-inclusion"][..],
            &with_witness,
            &[
                "--checkpoint",
                &p("cp3"),
                "--proof",
                &p("proof0.json"),
                "--record",
                &p("rec0"),
            ],
        ]
        .concat(),
    );
    assert!(err.ends_with("not enough witness cosignatures\n"), "{err}");

    // The door pins size 3, then 4 with a consistency proof.
    ok(&[
        &["audit", "verify-consistency"][..],
        &trust,
        &[
            "--checkpoint",
            &p("cp3"),
            "--proof",
            &p("proof0.json"),
            "--pin",
            &p("door.pin"),
        ],
    ]
    .concat());
    ok(&["audit", "append", "--log", &p("site.redb"), "--json", &p("forced.json")]);
    ok(&[
        "audit",
        "checkpoint",
        "--log",
        &p("site.redb"),
        "--key",
        &p("log.key"),
        "--out",
        &p("cp4"),
    ]);
    let cons = ok(&["audit", "prove", "--log", &p("site.redb"), "--from", "3"]);
    std::fs::write(p("cons.json"), cons.to_string()).unwrap();
    let v = ok(&[
        &["audit", "verify-consistency"][..],
        &trust,
        &[
            "--checkpoint",
            &p("cp4"),
            "--proof",
            &p("cons.json"),
            "--pin",
            &p("door.pin"),
        ],
    ]
    .concat());
    assert_eq!(
        (v["pinned_before"]["size"].as_u64(), v["pinned"]["size"].as_u64()),
        (Some(3), Some(4))
    );
    let v = ok(&[
        &["audit", "verify-consistency"][..],
        &trust,
        &[
            "--checkpoint",
            &p("cp4"),
            "--proof",
            &p("cons.json"),
            "--old",
            &p("cp3"),
        ],
    ]
    .concat());
    assert_eq!(v["verified"], true);
    let err = refused(
        &[
            &["audit", "verify-consistency"][..],
            &trust,
            &[
                "--checkpoint",
                &p("cp3"),
                "--proof",
                &p("cons.json"),
                "--pin",
                &p("door.pin"),
            ],
        ]
        .concat(),
    );
    assert_eq!(
        err.trim(),
        "rejected: consistency with the pin: checkpoint older than the pinned one"
    );

    // An insider rebuilds the log without the door decision (index 0): its next
    // checkpoint does not extend what the door pinned.
    for i in [1u64, 2, 3] {
        let e = ok(&["audit", "prove", "--log", &p("site.redb"), "--index", &i.to_string()]);
        std::fs::write(p(&format!("e{i}")), hex_decode(e["record"].as_str().unwrap())).unwrap();
    }
    ok(&[
        "audit",
        "append",
        "--log",
        &p("edited.redb"),
        "--origin",
        ORIGIN,
        &p("e1"),
        &p("e2"),
        &p("e3"),
        &p("e3"),
        &p("e3"),
    ]);
    ok(&[
        "audit",
        "checkpoint",
        "--log",
        &p("edited.redb"),
        "--key",
        &p("log.key"),
        "--out",
        &p("cp5x"),
    ]);
    let cons = ok(&["audit", "prove", "--log", &p("edited.redb"), "--from", "4"]);
    std::fs::write(p("cons5x.json"), cons.to_string()).unwrap();
    let err = refused(
        &[
            &["audit", "verify-consistency"][..],
            &trust,
            &[
                "--checkpoint",
                &p("cp5x"),
                "--proof",
                &p("cons5x.json"),
                "--pin",
                &p("door.pin"),
            ],
        ]
        .concat(),
    );
    assert_eq!(
        err.trim(),
        "rejected: consistency with the pin: proof does not lead to the root"
    );

    // Show: the personal values from the side table; erased, they are gone.
    let shown = ok(&[
        "audit",
        "show",
        "--log",
        &p("site.redb"),
        "--side-table",
        &p("side.json"),
        "--count",
        "2",
    ]);
    let first = &shown["records"][0];
    assert_eq!(
        (first["kind"].as_str(), first["outcome"].as_str()),
        (Some("door-decision"), Some("allow"))
    );
    assert_eq!(first["subject"]["value"], "alice");
    assert_eq!(first["credential_id"]["value"], "c0ffee");
    assert_eq!(first["subject"]["salt"].as_str().unwrap().len(), 64);
    assert_eq!(shown["records"][1]["outcome"], "forced");
    assert_eq!(
        ok(&["audit", "erase", "--side-table", &p("side.json"), "--value", "alice"])["erased"],
        1
    );
    let shown = ok(&[
        "audit",
        "show",
        "--log",
        &p("site.redb"),
        "--side-table",
        &p("side.json"),
        "--count",
        "1",
    ]);
    assert_eq!(shown["records"][0]["subject"]["value"], "[erased]");
    assert!(shown["records"][0]["subject"].get("salt").is_none());
    assert_eq!(shown["records"][0]["credential_id"]["value"], "c0ffee");
    // The erased record still proves.
    ok(&[
        &["audit", "verify-inclusion"][..],
        &trust,
        &[
            "--checkpoint",
            &p("cp3"),
            "--proof",
            &p("proof0.json"),
            "--record",
            &p("rec0"),
        ],
    ]
    .concat());
}

#[test]
fn bad_input_is_refused_with_its_reason() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_owned();
    std::fs::write(
        p("bad.json"),
        r#"{"kind": "door-decision", "time": 1, "source": "s", "door": "d"}"#,
    )
    .unwrap();
    let (code, _, err) = text(&citysec(&[
        "audit",
        "append",
        "--log",
        &p("l.redb"),
        "--origin",
        ORIGIN,
        "--json",
        &p("bad.json"),
    ]));
    assert_eq!((code, err.trim()), (1, "rejected: record: not an audit record"));
    std::fs::write(p("junk.cbor"), [0xa1, 0x00]).unwrap();
    let (code, _, err) = text(&citysec(&[
        "audit",
        "append",
        "--log",
        &p("l.redb"),
        "--origin",
        ORIGIN,
        &p("junk.cbor"),
    ]));
    assert_eq!(code, 1);
    assert!(err.ends_with("not an audit record\n"), "{err}");
    let (code, _, err) = text(&citysec(&["audit", "show", "--log", &p("none.redb")]));
    assert_eq!(code, 2, "{err}");
    std::fs::write(
        p("personal.json"),
        r#"{"kind": "credential-refused", "time": 1, "source": "s", "door": "d", "reason": "r", "subject": "bob"}"#,
    )
    .unwrap();
    let (code, _, err) = text(&citysec(&[
        "audit",
        "append",
        "--log",
        &p("l.redb"),
        "--origin",
        ORIGIN,
        "--json",
        &p("personal.json"),
    ]));
    assert_eq!(
        (code, err.trim()),
        (2, "error: a record with personal values needs --site-key")
    );
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
