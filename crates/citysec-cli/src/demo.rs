//! `citysec demo`: an end-to-end round trip in memory, with verdicts and timings.

use core::fmt::Display;
use core::time::Duration;
use std::time::Instant;

use citysec::core::coset::HeaderBuilder;
use citysec::core::coset::cbor::Value;
use citysec::core::encrypt0::{self, Iv};
use citysec::core::sign1::{self, Tagging, VerifyOptions};
use citysec::core::{Algorithm, Error, RandomSource as _, SigningKey, SymmetricKey};
use citysec::ring::Ring;
use citysec::std_adapters::OsRandom;
use clap::Args;

use crate::out::{Colour, Out, outln};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
Generates an Ed25519 issuer key and a ChaCha20/Poly1305 device key in memory,
signs an access grant as COSE_Sign1 and verifies it, shows that a tampered
grant is rejected, seals a sensor reading as COSE_Encrypt0 and opens it, and
shows that a wrong key or wrong context is rejected. Nothing touches the disk.
Exit 0 only if every step was accepted or rejected as expected, else 1.

Examples:
  citysec demo
  citysec demo --json";

const ISSUER_KID: &[u8] = b"city-issuer-1";
const DEVICE_KID: &[u8] = b"door-17";
const TELEMETRY_AAD: &[u8] = b"door-17/telemetry";

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Print one JSON object with the steps instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject,
}

#[derive(Debug)]
struct Step {
    name: &'static str,
    expect: Expect,
    accepted: bool,
    as_expected: bool,
    detail: String,
    elapsed: Duration,
}

#[derive(Debug, Default)]
struct Demo {
    steps: Vec<Step>,
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

impl Demo {
    /// Records a step that must succeed; returns its value if it did.
    fn accept<T, E: Display>(
        &mut self,
        name: &'static str,
        (result, elapsed): (Result<T, E>, Duration),
        detail: impl FnOnce(&T) -> String,
    ) -> Option<T> {
        let (accepted, detail, value) = match result {
            Ok(v) => (true, detail(&v), Some(v)),
            Err(e) => (false, format!("unexpectedly failed: {e}"), None),
        };
        self.steps.push(Step {
            name,
            expect: Expect::Accept,
            accepted,
            as_expected: accepted,
            detail,
            elapsed,
        });
        value
    }

    /// Records a step that must be rejected with `want`.
    fn reject<T>(&mut self, name: &'static str, (result, elapsed): (Result<T, Error>, Duration), want: Error) {
        let (accepted, as_expected, detail) = match result {
            Ok(_) => (true, false, "unexpectedly accepted".to_owned()),
            Err(e) if e == want => (false, true, format!("{e}, as expected")),
            Err(e) => (
                false,
                false,
                format!("rejected for the wrong reason: {e} (expected: {want})"),
            ),
        };
        self.steps.push(Step {
            name,
            expect: Expect::Reject,
            accepted,
            as_expected,
            detail,
            elapsed,
        });
    }

    fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.as_expected)
    }
}

fn cbor(v: &Value) -> Result<Vec<u8>, Error> {
    let mut buf = Vec::new();
    citysec::core::coset::cbor::ser::into_writer(v, &mut buf).map_err(|_| Error::Malformed)?;
    Ok(buf)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

/// Flips the lowest bit of the last byte of `needle` inside `haystack`.
fn tamper(haystack: &[u8], needle: &[u8]) -> Option<Vec<u8>> {
    let start = haystack.windows(needle.len()).position(|w| w == needle)?;
    let last = start.checked_add(needle.len())?.checked_sub(1)?;
    let mut out = haystack.to_vec();
    let byte = out.get_mut(last)?;
    *byte ^= 1;
    Some(out)
}

/// The scenario; stops at the first step whose result later steps need.
fn scenario(d: &mut Demo) -> Option<()> {
    let issuer = d.accept(
        "generate issuer signing key",
        timed(|| SigningKey::generate(Algorithm::EdDSA, &mut OsRandom).map(|k| k.with_kid(ISSUER_KID))),
        |_| "Ed25519, kid \"city-issuer-1\", from the OS random source".to_owned(),
    )?;
    let device = d.accept(
        "generate device key",
        timed(|| -> Result<SymmetricKey, Error> {
            let mut base_iv = [0u8; 12];
            OsRandom.fill(&mut base_iv)?;
            let key = SymmetricKey::generate(Algorithm::ChaCha20Poly1305, &mut OsRandom)?;
            Ok(key.with_kid(DEVICE_KID).with_base_iv(base_iv))
        }),
        |_| "ChaCha20/Poly1305, kid \"door-17\", random Base IV".to_owned(),
    )?;

    // An access grant: iss, sub, aud and a city claim, as CBOR.
    let grant_value = Value::Map(vec![
        (int(1), text("city-issuer-1")),
        (int(2), text("badge-4711")),
        (int(3), text("door-17")),
        (text("zone"), text("lobby")),
    ]);
    let grant = cbor(&grant_value).ok()?;
    let signed = d.accept(
        "sign access grant (COSE_Sign1)",
        timed(|| sign1::sign(&Ring, &issuer, &grant, b"")),
        |m| format!("EdDSA, {} bytes", m.len()),
    )?;
    let public = issuer.verifying_key();
    d.accept(
        "verify access grant",
        timed(|| {
            sign1::verify_with_key(&Ring, &public, &signed, &VerifyOptions::default()).and_then(|v| {
                if v.payload() == grant.as_slice() {
                    Ok(v)
                } else {
                    Err(Error::Malformed)
                }
            })
        }),
        |_| "accepted: signature valid, payload intact".to_owned(),
    );
    // Change one character of "lobby" inside the signed message.
    let tampered = tamper(&signed, b"lobby")?;
    d.reject(
        "verify tampered grant (one byte changed)",
        timed(|| sign1::verify_with_key(&Ring, &public, &tampered, &VerifyOptions::default())),
        Error::BadSignature,
    );

    let reading_value = Value::Map(vec![
        (text("sensor"), text("door-17/temp")),
        (text("seq"), int(1)),
        (text("celsius_x10"), int(215)),
    ]);
    let reading = cbor(&reading_value).ok()?;
    let partial_iv = [0x01u8];
    let sealed = d.accept(
        "seal reading (COSE_Encrypt0, Partial IV 1)",
        timed(|| {
            let protected = HeaderBuilder::new().key_id(DEVICE_KID.to_vec()).build();
            encrypt0::seal_with_headers(
                &Ring,
                &device,
                Iv::Partial(&partial_iv),
                protected,
                citysec::core::coset::Header::default(),
                &reading,
                TELEMETRY_AAD,
                Tagging::Tagged,
            )
        }),
        |m| format!("ChaCha20/Poly1305, {} bytes", m.len()),
    )?;
    let opts = VerifyOptions::default().with_external_aad(TELEMETRY_AAD);
    d.accept(
        "open reading",
        timed(|| {
            encrypt0::open(&Ring, &device, &sealed, &opts).and_then(|o| {
                if o.plaintext() == reading.as_slice() {
                    Ok(o)
                } else {
                    Err(Error::Malformed)
                }
            })
        }),
        |o| format!("accepted: {} bytes of plaintext, tag valid", o.plaintext().len()),
    );

    let wrong = SymmetricKey::generate(Algorithm::ChaCha20Poly1305, &mut OsRandom).ok()?;
    let wrong = match device.base_iv() {
        Some(iv) => wrong.with_kid(DEVICE_KID).with_base_iv(*iv),
        None => wrong.with_kid(DEVICE_KID),
    };
    d.reject(
        "open reading with a wrong key (same kid)",
        timed(|| encrypt0::open(&Ring, &wrong, &sealed, &opts)),
        Error::DecryptFailed,
    );
    let other_context = VerifyOptions::default().with_external_aad(b"door-18/telemetry");
    d.reject(
        "open reading in another door's context (external AAD)",
        timed(|| encrypt0::open(&Ring, &device, &sealed, &other_context)),
        Error::DecryptFailed,
    );
    Some(())
}

pub(crate) fn run(args: &DemoArgs, out: &mut Out) -> CmdResult {
    let mut demo = Demo::default();
    let (finished, total) = timed(|| scenario(&mut demo));
    let passed = finished.is_some() && demo.passed();
    if args.json {
        print_json(out, &demo, passed, total);
    } else {
        print_text(out, &demo, passed, total);
    }
    if passed {
        Ok(())
    } else {
        Err(Failure::Rejected("the demo did not behave as expected".to_owned()))
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn print_text(out: &mut Out, demo: &Demo, passed: bool, total: Duration) {
    outln!(
        out,
        "{}",
        out.paint(
            Colour::Bold,
            "citysec demo: issue, verify, tamper, seal, open (ring backend)"
        )
    );
    outln!(out);
    for (i, s) in demo.steps.iter().enumerate() {
        let verdict = match (s.as_expected, s.accepted) {
            (true, true) => out.paint(Colour::Green, "ok      "),
            (true, false) => out.paint(Colour::Green, "rejected"),
            (false, _) => out.paint(Colour::Red, "FAIL    "),
        };
        outln!(
            out,
            "{:>2}. {:<56} {verdict}  {:>10}  {}",
            i.saturating_add(1),
            s.name,
            ms(s.elapsed),
            s.detail
        );
    }
    outln!(out);
    let expected = demo.steps.iter().filter(|s| s.as_expected).count();
    if passed {
        let line = format!(
            "PASS: all {} steps were accepted or rejected as expected",
            demo.steps.len()
        );
        outln!(out, "{} (total {})", out.paint(Colour::Green, &line), ms(total));
    } else {
        let line = format!("FAIL: {expected} of {} steps behaved as expected", demo.steps.len());
        outln!(out, "{} (total {})", out.paint(Colour::Red, &line), ms(total));
    }
}

fn print_json(out: &mut Out, demo: &Demo, passed: bool, total: Duration) {
    let steps: Vec<serde_json::Value> = demo
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            serde_json::json!({
                "step": i.saturating_add(1),
                "name": s.name,
                "expect": match s.expect { Expect::Accept => "accept", Expect::Reject => "reject" },
                "outcome": if s.accepted { "accepted" } else { "rejected" },
                "as_expected": s.as_expected,
                "detail": s.detail,
                "elapsed_us": u64::try_from(s.elapsed.as_micros()).unwrap_or(u64::MAX),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "demo": "citysec",
        "backend": "ring",
        "passed": passed,
        "total_us": u64::try_from(total.as_micros()).unwrap_or(u64::MAX),
        "steps": steps,
    });
    outln!(out, "{doc}");
}
