//! `citysec attest ...`: challenge, device evidence (a simulator), manufacturer
//! endorsements, appraisal against reference values, and attestation results.
//!
//! Exit codes follow the CLI contract, with one refinement for verdicts: `appraise`
//! and `verify-result` exit 0 only when the result is `affirming`; a `warning` or
//! `contraindicated` result is printed (and written) but exits 1 with the status on
//! stderr, so `citysec attest verify-result ... && open-door` does what it says.

use std::path::{Path, PathBuf};

use citysec::attest::{
    Appraiser, AttestationResult, Challenge, DebugStatus, Endorsement, EvidenceBuilder, Freshness, MemoryNonceStore,
    NonceStore, OemId, ReferenceSet, ReferenceValues, Tier,
};
use citysec::attest::{AttestationVerifiers, Manufacturers};
use citysec::attest::{
    AudienceRule, ExpectedDevice, ExpiryRule, ExternalAppraisal, ExternalEar, ExternalEarPolicy, ExternalEarVerifier,
    TrustVector,
};
use citysec::core::Timestamp;
use citysec::core::coset::cbor::value::Value;
use citysec::core::cwt::TrustDomain;
use citysec::core::cwt::{ClaimsSet, Issuer, TrustAnchors};
use citysec::std_adapters::OsRandom;
use clap::{Args, Subcommand};
use serde_json::{Map, Value as Json, json};

use crate::common::{now_or_clock, signer, verifying_key, write_file};
use crate::inspect::{read_input, read_token};
use crate::out::{Out, outln};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
Examples:
  citysec attest challenge --ttl 60 --out challenge.cbor
  citysec attest evidence --key device.key --claims device.json --challenge challenge.cbor --out evidence.cbor
  citysec attest endorse --key oem.key --iss https://oem.example --device device.pub \\
      --ueid 02001b63000042 --hwmodel door-ctl-2 --out endorsement.cwt
  citysec attest appraise --endorsement endorsement.cwt --reference ref.json --challenge challenge.cbor \\
      --trust oem.pub --key verifier.key --iss https://attest.city.example --aud door-controllers \\
      --out result.cwt evidence.cbor
  citysec attest verify-result --trust verifier.pub --aud door-controllers result.cwt
  citysec attest verify-result --external-trust veraison.pub --config ext.json --nonce <hex> ear.cbor

appraise and verify-result exit 0 only for an affirming result; warning and
contraindicated results are printed but exit 1.";

const CLAIMS_HELP: &str = "\
Example:
  citysec attest evidence --key device.key --claims device.json --nonce 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a --out ev.cbor

device.json (ueid as hex, required; everything else optional):
  {\"ueid\": \"02001b63000042\", \"hwmodel\": \"door-ctl-2\", \"oemid\": \"001b63\",
   \"swname\": \"door-fw\", \"swversion\": \"1.4.2\", \"hwversion\": \"rev-c\",
   \"dbgstat\": \"disabled-permanently\", \"oemboot\": true, \"uptime\": 3600, \"bootcount\": 17,
   \"iat\": 1767000000,
   \"measurements\": [{\"name\": \"bootloader\", \"sha256\": \"<64 hex digits>\"}],
   \"submods\": {\"modem\": {\"swversion\": \"7.1\"}}}";

const REFERENCE_HELP: &str = "\
Exit 0 and the result as JSON when it is affirming; exit 1 otherwise (the result is still
printed and written when one was made).

Freshness: --challenge (the file `attest challenge` wrote: nonce and expiry), --nonce
(hex; this run accepts it once, but a CLI cannot remember used nonces between runs),
--store redis://HOST:PORT (the nonce must come from `attest challenge --store` with the
same store, unexpired and unused; it is used up, for every verifier sharing the store), or
--max-age (timestamp mode: the evidence iat must be at most this old).

Example:
  citysec attest appraise --endorsement e.cwt --reference ref.json --challenge challenge.cbor \\
      --trust oem.pub --key verifier.key --iss https://attest.city.example --aud door-controllers \\
      --out result.cwt evidence.cbor

ref.json (one model, or an array of models):
  {\"hwmodel\": \"door-ctl-2\", \"min_version\": \"1.4.0\", \"accepted_versions\": [\"1.4.2\"],
   \"components\": [{\"name\": \"bootloader\", \"sha256\": \"<64 hex digits>\"}],
   \"min_dbgstat\": \"disabled\"}";

/// Attestation subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AttestCommand {
    /// Make a challenge nonce (32 random bytes) with an expiry.
    #[command(
        after_help = "Writes CBOR [nonce, expires] and prints the nonce in hex.\n\nExample:\n  citysec attest challenge --ttl 60 --out challenge.cbor"
    )]
    Challenge(ChallengeArgs),
    /// Device simulator: sign evidence from a JSON claims file with a device key.
    #[command(after_help = CLAIMS_HELP)]
    Evidence(EvidenceArgs),
    /// Manufacturer: endorse a device key for a ueid and hardware model.
    #[command(
        after_help = "Example:\n  citysec attest endorse --key oem.key --iss https://oem.example --device device.pub \\\n      --ueid 02001b63000042 --hwmodel door-ctl-2 --out endorsement.cwt"
    )]
    Endorse(EndorseArgs),
    /// Verifier: appraise evidence, print the result as JSON and write the signed result.
    #[command(after_help = REFERENCE_HELP)]
    Appraise(AppraiseArgs),
    /// Relying party: verify a signed attestation result and print it as JSON.
    #[command(
        after_help = "Exit 0 only for a valid affirming result.\n\nExamples:\n  citysec attest verify-result --trust verifier.pub --aud door-controllers --now 1767000000 result.cwt\n  citysec attest verify-result --external-trust veraison.pub --config ext.json --nonce 6b6b...6b ear.cbor\n\next.json (every field optional but an audience, from here or --aud):\n  {\"audience\": \"door-controllers\", \"audience_required\": false, \"expiry\": {\"max_age\": 300},\n   \"device_submodule\": \"door-ctl\", \"allow_unbound_device\": false, \"skew_seconds\": 60}"
    )]
    VerifyResult(VerifyResultArgs),
}

/// Arguments of `attest challenge`.
#[derive(Debug, Args)]
pub(crate) struct ChallengeArgs {
    /// Seconds the nonce stays valid.
    #[arg(long, default_value_t = 300)]
    ttl: u64,
    /// The time, seconds since the epoch (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// Also record the nonce in the verifiers' shared nonce store (`redis://HOST:PORT`).
    /// The server must run `appendonly yes` and `appendfsync always`; any other
    /// server is refused (exit 2).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Where to write the challenge (CBOR).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `attest evidence`.
#[derive(Debug, Args)]
pub(crate) struct EvidenceArgs {
    /// The device's attestation key (EdDSA or ES256 private COSE_Key or PEM, or a
    /// `pkcs11:` URI of a key in a token).
    #[arg(long)]
    key: PathBuf,
    /// The claims as JSON.
    #[arg(long)]
    claims: PathBuf,
    /// The verifier's nonce in hex (overrides the claims file's).
    #[arg(long, conflicts_with = "challenge")]
    nonce: Option<String>,
    /// The verifier's challenge file (its nonce goes into the evidence).
    #[arg(long)]
    challenge: Option<PathBuf>,
    /// Where to write the evidence (raw CBOR).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `attest endorse`.
#[derive(Debug, Args)]
pub(crate) struct EndorseArgs {
    /// The manufacturer's signing key (with a kid; a key file or a `pkcs11:` URI).
    #[arg(long)]
    key: PathBuf,
    /// The manufacturer's name (`iss`).
    #[arg(long)]
    iss: String,
    /// The device's attestation public key.
    #[arg(long)]
    device: PathBuf,
    /// The device's ueid in hex (7 to 33 bytes).
    #[arg(long)]
    ueid: String,
    /// The hardware model (text, 1 to 32 bytes).
    #[arg(long)]
    hwmodel: String,
    /// The manufacturer id: 3 or 16 bytes in hex, or `pen:` and a Private Enterprise Number.
    #[arg(long)]
    oemid: Option<String>,
    /// Validity in seconds (default ten years).
    #[arg(long, default_value_t = 10 * 365 * 86_400)]
    valid_for: u64,
    /// Issue time, seconds since the epoch (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// Where to write the endorsement (CWT).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `attest appraise`.
#[derive(Debug, Args)]
pub(crate) struct AppraiseArgs {
    /// The manufacturer's endorsement of the device.
    #[arg(long)]
    endorsement: PathBuf,
    /// Reference values (JSON).
    #[arg(long)]
    reference: PathBuf,
    /// The challenge file the nonce came from (nonce and expiry).
    #[arg(long, group = "freshness")]
    challenge: Option<PathBuf>,
    /// The expected nonce in hex.
    #[arg(long, group = "freshness")]
    nonce: Option<String>,
    /// Timestamp mode: the oldest accepted evidence `iat`, in seconds.
    #[arg(long, group = "freshness")]
    max_age: Option<u64>,
    /// Nonce mode through the verifiers' shared nonce store (`redis://HOST:PORT`;
    /// `appendonly yes` and `appendfsync always` required, else exit 2).
    #[arg(long, group = "freshness", value_name = "URL")]
    store: Option<String>,
    /// A trusted manufacturer public key; repeat for several.
    #[arg(long, required = true)]
    trust: Vec<PathBuf>,
    /// The manufacturer the trusted keys belong to (default: the endorsement's `iss`).
    #[arg(long)]
    manufacturer: Option<String>,
    /// The verifier's signing key for results (with a kid; a key file or a
    /// `pkcs11:` URI).
    #[arg(long)]
    key: PathBuf,
    /// The verifier's name (`iss` of results).
    #[arg(long)]
    iss: String,
    /// The relying parties' audience.
    #[arg(long)]
    aud: String,
    /// Lifetime of the result in seconds.
    #[arg(long, default_value_t = 3600)]
    result_ttl: u64,
    /// The time, seconds since the epoch (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// Where to write the signed result (CWT).
    #[arg(long)]
    out: PathBuf,
    /// The evidence.
    evidence: PathBuf,
}

/// Arguments of `attest verify-result`.
#[derive(Debug, Args)]
pub(crate) struct VerifyResultArgs {
    /// A trusted citysec verifier public key; repeat for several.
    #[arg(long, required_unless_present = "external_trust", conflicts_with = "external_trust")]
    trust: Vec<PathBuf>,
    /// The public key of an external EAR verifier (Veraison, say): read the
    /// result as an EAR from it, under --config (docs/attestation-result.md).
    #[arg(long, value_name = "FILE")]
    external_trust: Option<PathBuf>,
    /// With --external-trust: the policy, a JSON object (`audience`,
    /// `audience_required`, `expiry`, `device_submodule`,
    /// `allow_unbound_device`, `skew_seconds`). Without it: the strict policy,
    /// audience --aud, submodule `device`.
    #[arg(long, value_name = "EXT.json", requires = "external_trust")]
    config: Option<PathBuf>,
    /// With --external-trust: the device's ueid (hex) the EAR must name.
    #[arg(long, requires = "external_trust")]
    ueid: Option<String>,
    /// With --external-trust: the nonce (hex) the relying party issued.
    #[arg(long, requires = "external_trust")]
    nonce: Option<String>,
    /// The verifier the keys belong to (default: the result's `iss`).
    #[arg(long, conflicts_with = "external_trust")]
    iss: Option<String>,
    /// This relying party's audience (with --external-trust: unless the config names one).
    #[arg(long)]
    aud: Option<String>,
    /// The time, seconds since the epoch (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// The signed result.
    result: PathBuf,
}

pub(crate) fn run(cmd: AttestCommand, out: &mut Out) -> CmdResult {
    match cmd {
        AttestCommand::Challenge(a) => challenge(&a, out),
        AttestCommand::Evidence(a) => evidence(&a, out),
        AttestCommand::Endorse(a) => endorse(&a, out),
        AttestCommand::Appraise(a) => appraise(&a, out),
        AttestCommand::VerifyResult(a) => verify_result(&a, out),
    }
}

// ---- helpers

fn read_json(path: &Path) -> Result<Json, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read `{}`: {}", path.display(), e.kind())))?;
    serde_json::from_str(&text).map_err(|e| Failure::usage(format!("`{}` is not JSON: {e}", path.display())))
}

fn bad(msg: impl Into<String>) -> Failure {
    Failure::usage(msg)
}

fn hex_arg(what: &str, s: &str) -> Result<Vec<u8>, Failure> {
    hex::decode(s).map_err(|_| bad(format!("{what} `{s}` is not hex")))
}

fn digest(what: &str, s: &str) -> Result<[u8; 32], Failure> {
    <[u8; 32]>::try_from(hex_arg(what, s)?.as_slice())
        .map_err(|_| bad(format!("{what} needs 32 bytes (64 hex digits)")))
}

fn oemid_arg(s: &str) -> Result<OemId, Failure> {
    if let Some(pen) = s.strip_prefix("pen:") {
        return pen
            .parse()
            .map(OemId::Pen)
            .map_err(|_| bad(format!("oemid `{s}`: a PEN is a decimal number")));
    }
    let b = hex_arg("oemid", s)?;
    if let Ok(a) = <[u8; 3]>::try_from(b.as_slice()) {
        Ok(OemId::Ieee(a))
    } else {
        <[u8; 16]>::try_from(b.as_slice())
            .map(OemId::Random)
            .map_err(|_| bad("oemid is 3 or 16 bytes in hex, or pen:<decimal>"))
    }
}

fn dbgstat_arg(v: &Json) -> Result<DebugStatus, Failure> {
    let found = match v {
        Json::Number(n) => n.as_u64().and_then(DebugStatus::from_code),
        Json::String(s) => (0..=4)
            .filter_map(DebugStatus::from_code)
            .find(|d| d.name() == s.as_str()),
        _ => None,
    };
    found.ok_or_else(|| bad("dbgstat is 0..4 or a name such as `disabled-permanently`"))
}

/// `[nonce, expires]`.
fn challenge_file(path: &Path) -> Result<(Vec<u8>, Timestamp), Failure> {
    let bytes = read_token(path)?;
    let v: Value =
        citysec::core::coset::cbor::de::from_reader(bytes.as_slice()).map_err(|_| bad("malformed challenge file"))?;
    match v {
        Value::Array(items) => match items.as_slice() {
            [Value::Bytes(n), Value::Integer(e)] => {
                let e = u64::try_from(*e).map_err(|_| bad("malformed challenge file"))?;
                Ok((n.clone(), Timestamp::from_unix_seconds(e)))
            }
            _ => Err(bad("malformed challenge file")),
        },
        _ => Err(bad("malformed challenge file")),
    }
}

/// A token's own `iss` and `kid`, unverified (to name the issuer its trusted keys belong to).
fn peek(token: &[u8]) -> (Option<String>, Option<Vec<u8>>) {
    let Ok(msg) = citysec::core::sign1::UnverifiedSign1::parse(token, &Default::default()) else {
        return (None, None);
    };
    let iss = ClaimsSet::from_cbor(msg.payload_unverified(), &citysec::core::Limits::DEFAULT)
        .ok()
        .and_then(|c| c.iss);
    (iss, msg.kid().map(<[u8]>::to_vec))
}

/// A verifier trusting the key files for `iss` (a key without a kid takes the token's).
fn trusting<D: TrustDomain>(
    paths: &[PathBuf],
    iss: &str,
    token_kid: Option<&[u8]>,
) -> Result<TrustAnchors<D>, Failure> {
    let mut verifier = TrustAnchors::new(&citysec::ring::PROVIDER);
    for (n, path) in paths.iter().enumerate() {
        let mut key = verifying_key(path)?;
        if key.kid().is_none() {
            let kid = token_kid.map_or_else(|| format!("trusted-{n}").into_bytes(), <[u8]>::to_vec);
            key = key.with_kid(kid);
        }
        verifier = verifier
            .trust(iss, key)
            .map_err(|e| bad(format!("cannot trust `{}`: {e}", path.display())))?;
    }
    Ok(verifier)
}

fn text_or_hex(b: &[u8]) -> Json {
    core::str::from_utf8(b).map_or_else(|_| json!({ "hex": hex::encode(b) }), |s| json!(s))
}

/// A trustworthiness vector as `{claim name: value}`.
fn trust_vector_json(v: &TrustVector) -> Json {
    let names = [
        "instance-identity",
        "configuration",
        "executables",
        "file-system",
        "hardware",
        "runtime-opaque",
        "storage-opaque",
        "sourced-data",
    ];
    let mut tv = Map::new();
    for (k, v) in v.iter() {
        let name = usize::try_from(k)
            .ok()
            .and_then(|i| names.get(i))
            .copied()
            .unwrap_or("unknown");
        tv.insert(name.to_owned(), json!(v));
    }
    Json::Object(tv)
}

fn result_json(r: &AttestationResult) -> Json {
    let reasons: Vec<Json> = r
        .reasons
        .iter()
        .map(|x| json!({ "check": x.check.name(), "tier": x.tier.name(), "detail": x.detail }))
        .collect();
    json!({
        "status": r.status.name(),
        "iss": r.issuer,
        "ueid": hex::encode(&r.ueid),
        "hwmodel": text_or_hex(&r.hwmodel),
        "verifier_id": { "developer": r.verifier_id.developer, "build": r.verifier_id.build },
        "nonce": r.nonce.as_ref().map(hex::encode),
        "iat": r.issued_at.as_unix_seconds(),
        "exp": r.expires.as_unix_seconds(),
        "trust_vector": trust_vector_json(&r.trust_vector),
        "reasons": reasons,
    })
}

/// Prints the result; a result that is not affirming is a rejection (exit 1).
fn verdict(r: &AttestationResult, out: &mut Out) -> CmdResult {
    outln!(
        out,
        "{}",
        serde_json::to_string_pretty(&result_json(r)).unwrap_or_default()
    );
    if r.status == Tier::Affirming {
        Ok(())
    } else {
        let why: Vec<&str> = r
            .reasons
            .iter()
            .filter(|x| x.tier != Tier::Affirming)
            .map(|x| x.detail.as_str())
            .collect();
        Err(Failure::Rejected(format!(
            "status {}: {}",
            r.status.name(),
            why.join("; ")
        )))
    }
}

// ---- challenge

fn challenge(a: &ChallengeArgs, out: &mut Out) -> CmdResult {
    let now = now_or_clock(a.now)?;
    // Without --store the CLI keeps no state between runs; the store only shapes the challenge.
    let mut store = MemoryNonceStore::new(1);
    let mut shared = a.store.as_deref().map(shared_nonces).transpose()?;
    let c = match shared.as_deref_mut() {
        Some(s) => Challenge::issue(s, &mut OsRandom, now, a.ttl),
        None => Challenge::issue(&mut store, &mut OsRandom, now, a.ttl),
    }
    .map_err(|e| bad(format!("cannot make a challenge: {}", why(e, shared.as_deref()))))?;
    let v = Value::Array(vec![
        Value::Bytes(c.nonce().to_vec()),
        Value::from(c.expires().as_unix_seconds()),
    ]);
    let mut bytes = Vec::new();
    citysec::core::cbor::write::value(&mut bytes, &v).map_err(|_| bad("cannot encode the challenge"))?;
    write_file(&a.out, &bytes)?;
    outln!(out, "nonce {}", hex::encode(c.nonce()));
    outln!(
        out,
        "expires {} (wrote challenge to {})",
        c.expires().as_unix_seconds(),
        a.out.display()
    );
    Ok(())
}

// ---- evidence (device simulator)

/// Device claims read from JSON, owned; the builder borrows them.
#[derive(Debug, Default)]
struct SimClaims {
    ueid: Option<Vec<u8>>,
    nonce: Option<Vec<u8>>,
    iat: Option<u64>,
    oemid: Option<OemId>,
    hwmodel: Option<Vec<u8>>,
    hwversion: Option<String>,
    uptime: Option<u64>,
    oemboot: Option<bool>,
    dbgstat: Option<DebugStatus>,
    bootcount: Option<u64>,
    swname: Option<String>,
    swversion: Option<String>,
    measurements: Vec<(String, [u8; 32])>,
    submods: Vec<(String, SimClaims)>,
}

fn sim_claims(v: &Json, top: bool) -> Result<SimClaims, Failure> {
    let o = v.as_object().ok_or_else(|| bad("claims must be a JSON object"))?;
    let mut c = SimClaims::default();
    for (k, v) in o {
        let text = || v.as_str().ok_or_else(|| bad(format!("`{k}` must be a string")));
        let uint = || {
            v.as_u64()
                .ok_or_else(|| bad(format!("`{k}` must be an unsigned integer")))
        };
        match k.as_str() {
            "ueid" => c.ueid = Some(hex_arg("ueid", text()?)?),
            "nonce" => c.nonce = Some(hex_arg("nonce", text()?)?),
            "iat" => c.iat = Some(uint()?),
            "oemid" => {
                c.oemid = Some(match v {
                    Json::Number(n) => OemId::Pen(n.as_u64().ok_or_else(|| bad("oemid PEN must be unsigned"))?),
                    _ => oemid_arg(text()?)?,
                });
            }
            "hwmodel" => c.hwmodel = Some(text()?.as_bytes().to_vec()),
            "hwversion" => c.hwversion = Some(text()?.to_owned()),
            "uptime" => c.uptime = Some(uint()?),
            "oemboot" => c.oemboot = Some(v.as_bool().ok_or_else(|| bad("`oemboot` must be true or false"))?),
            "dbgstat" => c.dbgstat = Some(dbgstat_arg(v)?),
            "bootcount" => c.bootcount = Some(uint()?),
            "swname" => c.swname = Some(text()?.to_owned()),
            "swversion" => c.swversion = Some(text()?.to_owned()),
            "measurements" => c.measurements = measurements_json(v)?,
            "submods" if top => {
                let subs = v.as_object().ok_or_else(|| bad("`submods` must be an object"))?;
                for (name, s) in subs {
                    c.submods.push((name.clone(), sim_claims(s, false)?));
                }
            }
            "submods" => return Err(bad("the simulator supports one level of submods")),
            other => return Err(bad(format!("unknown evidence claim `{other}`"))),
        }
    }
    Ok(c)
}

/// `[{"name": .., "sha256": ..}]`, or `{"name": "sha256 hex"}`.
fn measurements_json(v: &Json) -> Result<Vec<(String, [u8; 32])>, Failure> {
    match v {
        Json::Array(items) => items
            .iter()
            .map(|m| {
                let name = m.get("name").and_then(Json::as_str);
                let d = m.get("sha256").and_then(Json::as_str);
                match (name, d) {
                    (Some(n), Some(d)) => Ok((n.to_owned(), digest("sha256", d)?)),
                    _ => Err(bad("a measurement is {\"name\": .., \"sha256\": ..}")),
                }
            })
            .collect(),
        Json::Object(o) => o
            .iter()
            .map(|(n, d)| {
                let d = d.as_str().ok_or_else(|| bad("a digest is a hex string"))?;
                Ok((n.clone(), digest("sha256", d)?))
            })
            .collect(),
        _ => Err(bad("`measurements` must be an array or an object")),
    }
}

fn measurement_refs(c: &SimClaims) -> Vec<(&str, [u8; 32])> {
    c.measurements.iter().map(|(n, d)| (n.as_str(), *d)).collect()
}

fn builder<'a>(
    c: &'a SimClaims,
    measurements: &'a [(&'a str, [u8; 32])],
    submods: &'a [(&'a str, EvidenceBuilder<'a>)],
) -> EvidenceBuilder<'a> {
    let mut b = EvidenceBuilder::submodule().measurements(measurements).submods(submods);
    if let Some(v) = &c.ueid {
        b = b.ueid(v);
    }
    if let Some(v) = &c.nonce {
        b = b.nonce(v);
    }
    if let Some(v) = c.iat {
        b = b.iat(Timestamp::from_unix_seconds(v));
    }
    if let Some(v) = c.oemid {
        b = b.oemid(v);
    }
    if let Some(v) = &c.hwmodel {
        b = b.hwmodel(v);
    }
    if let Some(v) = &c.hwversion {
        b = b.hwversion(v);
    }
    if let Some(v) = c.uptime {
        b = b.uptime(v);
    }
    if let Some(v) = c.oemboot {
        b = b.oemboot(v);
    }
    if let Some(v) = c.dbgstat {
        b = b.dbgstat(v);
    }
    if let Some(v) = c.bootcount {
        b = b.bootcount(v);
    }
    if let Some(v) = &c.swname {
        b = b.swname(v);
    }
    if let Some(v) = &c.swversion {
        b = b.swversion(v);
    }
    b
}

fn evidence(a: &EvidenceArgs, out: &mut Out) -> CmdResult {
    let key = signer(&a.key)?;
    let mut claims = sim_claims(&read_json(&a.claims)?, true)?;
    if let Some(n) = &a.nonce {
        claims.nonce = Some(hex_arg("nonce", n)?);
    }
    if let Some(p) = &a.challenge {
        claims.nonce = Some(challenge_file(p)?.0);
    }
    if claims.ueid.is_none() {
        return Err(bad("the claims need a `ueid`"));
    }
    let sub_measurements: Vec<Vec<(&str, [u8; 32])>> =
        claims.submods.iter().map(|(_, s)| measurement_refs(s)).collect();
    let subs: Vec<(&str, EvidenceBuilder<'_>)> = claims
        .submods
        .iter()
        .zip(&sub_measurements)
        .map(|((name, s), m)| (name.as_str(), builder(s, m, &[])))
        .collect();
    let top_measurements = measurement_refs(&claims);
    let token = builder(&claims, &top_measurements, &subs)
        .sign_to_vec(&*key)
        .map_err(|e| bad(format!("cannot make evidence: {e}")))?;
    write_file(&a.out, &token)?;
    outln!(out, "wrote evidence ({} bytes) to {}", token.len(), a.out.display());
    Ok(())
}

// ---- endorse

fn endorse(a: &EndorseArgs, out: &mut Out) -> CmdResult {
    let manufacturer = Issuer::new(a.iss.clone(), signer(&a.key)?).map_err(|e| bad(format!("cannot endorse: {e}")))?;
    let mut e = Endorsement::new(
        hex_arg("ueid", &a.ueid)?,
        verifying_key(&a.device)?,
        a.hwmodel.as_bytes().to_vec(),
    )
    .map_err(|e| bad(format!("cannot endorse: {e}")))?;
    if let Some(o) = &a.oemid {
        e = e.with_oemid(oemid_arg(o)?);
    }
    let now = now_or_clock(a.now)?;
    let token = e
        .issue(&manufacturer, now, now.saturating_add(a.valid_for))
        .map_err(|e| bad(format!("cannot endorse: {e}")))?;
    write_file(&a.out, &token)?;
    outln!(out, "wrote endorsement ({} bytes) to {}", token.len(), a.out.display());
    Ok(())
}

// ---- appraise

fn reference_json(v: &Json) -> Result<ReferenceValues, Failure> {
    let field = |k: &str| v.get(k).and_then(Json::as_str);
    let hwmodel = field("hwmodel").ok_or_else(|| bad("a reference needs `hwmodel`"))?;
    let min = field("min_version").ok_or_else(|| bad("a reference needs `min_version`"))?;
    let invalid = |e: citysec::attest::Error| bad(format!("reference for `{hwmodel}`: {e}"));
    let mut r = ReferenceValues::new(hwmodel.as_bytes(), min).map_err(invalid)?;
    for version in v
        .get("accepted_versions")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let version = version.as_str().ok_or_else(|| bad("accepted versions are strings"))?;
        r = r.accept_version(version).map_err(invalid)?;
    }
    if let Some(c) = v.get("components") {
        for (name, d) in measurements_json(c)? {
            r = r.component(name, d).map_err(invalid)?;
        }
    }
    if let Some(d) = v.get("min_dbgstat") {
        r = r.min_debug_status(dbgstat_arg(d)?);
    }
    Ok(r)
}

fn references(path: &Path) -> Result<ReferenceSet, Failure> {
    let json = read_json(path)?;
    let models: Vec<&Json> = match &json {
        Json::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    models.into_iter().try_fold(ReferenceSet::new(), |set, m| {
        set.with(reference_json(m)?)
            .map_err(|_| bad("two references for the same hwmodel"))
    })
}

fn appraise(a: &AppraiseArgs, out: &mut Out) -> CmdResult {
    let now = now_or_clock(a.now)?;
    let endorsement = read_token(&a.endorsement)?;
    let evidence = read_token(&a.evidence)?;
    let (peek_iss, peek_kid) = peek(&endorsement);
    let manufacturer = a.manufacturer.clone().or(peek_iss).unwrap_or_default();
    let manufacturers = trusting::<Manufacturers>(&a.trust, &manufacturer, peek_kid.as_deref())?.any_audience();
    let signer = Issuer::new(a.iss.clone(), signer(&a.key)?).map_err(|e| bad(format!("verifier key: {e}")))?;
    let appraiser =
        Appraiser::new(manufacturers, signer, a.aud.clone(), references(&a.reference)?).result_ttl(a.result_ttl);
    let mut store = MemoryNonceStore::new(1);
    let mut shared = a.store.as_deref().map(shared_nonces).transpose()?;
    let freshness = match (&a.challenge, &a.nonce, a.max_age) {
        _ if shared.is_some() => match shared.as_deref_mut() {
            Some(s) => Freshness::Nonce(s),
            None => return Err(bad("no nonce store")),
        },
        (Some(p), _, _) => {
            let (nonce, expires) = challenge_file(p)?;
            // An expired challenge is remembered as valid until its expiry, which has passed.
            store
                .insert(&nonce, expires, Timestamp::from_unix_seconds(0))
                .map_err(|e| bad(format!("challenge: {e}")))?;
            Freshness::Nonce(&mut store)
        }
        (None, Some(n), _) => {
            store
                .insert(&hex_arg("nonce", n)?, now.saturating_add(1), now)
                .map_err(|e| bad(format!("nonce: {e}")))?;
            Freshness::Nonce(&mut store)
        }
        (None, None, Some(max_age_seconds)) => Freshness::Timestamp { max_age_seconds },
        (None, None, None) => return Err(bad("choose freshness: --challenge, --nonce, --store or --max-age")),
    };
    let appraisal = appraiser
        .appraise(&endorsement, &evidence, freshness, now)
        .map_err(|e| Failure::Rejected(why(e, shared.as_deref())))?;
    write_file(&a.out, &appraisal.token)?;
    verdict(&appraisal.result, out)
}

// ---- verify-result

fn verify_result(a: &VerifyResultArgs, out: &mut Out) -> CmdResult {
    if let Some(key) = &a.external_trust {
        return verify_external(a, key, out);
    }
    let aud = a.aud.clone().ok_or_else(|| bad("--aud is required"))?;
    let token = read_token(&a.result)?;
    let now = now_or_clock(a.now)?;
    let (peek_iss, peek_kid) = peek(&token);
    let iss = a.iss.clone().or(peek_iss).unwrap_or_default();
    let rp = trusting::<AttestationVerifiers>(&a.trust, &iss, peek_kid.as_deref())?.audience(aud);
    let result = AttestationResult::verify(&rp, &token, now).map_err(|e| Failure::Rejected(e.to_string()))?;
    verdict(&result, out)
}

/// `attest verify-result --external-trust`: an EAR from another verifier.
fn verify_external(a: &VerifyResultArgs, key: &Path, out: &mut Out) -> CmdResult {
    let policy = external_policy(a)?;
    let anchor = ExternalEarVerifier::new(&citysec::ring::PROVIDER, verifying_key(key)?, policy)
        .map_err(|e| bad(format!("cannot trust `{}`: {e}", key.display())))?;
    let raw = read_input(&a.result)?;
    // A JWT is handed over as it is, for the verifier's typed refusal.
    let token = if looks_like_jwt(&raw) {
        raw
    } else {
        read_token(&a.result)?
    };
    let now = now_or_clock(a.now)?;
    let ueid = a.ueid.as_deref().map(|u| hex_arg("--ueid", u)).transpose()?;
    let nonce = a.nonce.as_deref().map(|n| hex_arg("--nonce", n)).transpose()?;
    let expected = ExpectedDevice {
        ueid: ueid.as_deref(),
        nonce: nonce.as_deref(),
    };
    let ear = anchor
        .verify(&token, now, expected)
        .map_err(|e| Failure::Rejected(e.to_string()))?;
    outln!(
        out,
        "{}",
        serde_json::to_string_pretty(&external_json(&ear)).unwrap_or_default()
    );
    if ear.is_affirming() {
        Ok(())
    } else {
        Err(Failure::Rejected(format!(
            "status {}: device `{}` is {}",
            ear.status.name(),
            ear.device.name,
            ear.device.status.name()
        )))
    }
}

/// Text of three base64url parts joined by dots.
fn looks_like_jwt(raw: &[u8]) -> bool {
    let Ok(t) = core::str::from_utf8(raw) else {
        return false;
    };
    let t = t.trim();
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// The policy of `--config`, or the strict one with `--aud`.
fn external_policy(a: &VerifyResultArgs) -> Result<ExternalEarPolicy, Failure> {
    let config: Json = match &a.config {
        None => json!({}),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| bad(format!("cannot read `{}`: {}", path.display(), e.kind())))?;
            serde_json::from_str(&text).map_err(|e| bad(format!("`{}`: {e}", path.display())))?
        }
    };
    let Json::Object(fields) = &config else {
        return Err(bad("the external verifier config must be a JSON object"));
    };
    for k in fields.keys() {
        if ![
            "audience",
            "audience_required",
            "expiry",
            "device_submodule",
            "allow_unbound_device",
            "skew_seconds",
        ]
        .contains(&k.as_str())
        {
            return Err(bad(format!("external verifier config: unknown field `{k}`")));
        }
    }
    let text_field = |name: &str| match fields.get(name) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("external verifier config: `{name}` must be a string"))),
    };
    let bool_field = |name: &str, default: bool| match fields.get(name) {
        None => Ok(default),
        Some(Json::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(format!("external verifier config: `{name}` must be true or false"))),
    };
    let audience = text_field("audience")?
        .or_else(|| a.aud.clone())
        .ok_or_else(|| bad("the external verifier needs an audience: --aud or `audience` in --config"))?;
    let submodule = text_field("device_submodule")?.unwrap_or_else(|| "device".to_owned());
    let mut policy = ExternalEarPolicy::new(&audience, &submodule);
    if !bool_field("audience_required", true)? {
        policy = policy.with_audience(AudienceRule::IfPresent(audience));
    }
    match fields.get("expiry") {
        None => {}
        Some(Json::String(s)) if s == "required" => {}
        Some(Json::Object(o)) if o.len() == 1 => {
            let age = o.get("max_age").and_then(Json::as_u64).ok_or_else(|| {
                bad("external verifier config: `expiry` must be \"required\" or {\"max_age\": seconds}")
            })?;
            policy = policy.with_expiry(ExpiryRule::MaxAge(age));
        }
        Some(_) => {
            return Err(bad(
                "external verifier config: `expiry` must be \"required\" or {\"max_age\": seconds}",
            ));
        }
    }
    if bool_field("allow_unbound_device", false)? {
        policy = policy.allowing_unbound_device();
    }
    match fields.get("skew_seconds") {
        None => {}
        Some(v) => {
            let skew = v
                .as_u64()
                .ok_or_else(|| bad("external verifier config: `skew_seconds` must be a whole number"))?;
            policy = policy.with_skew(skew);
        }
    }
    Ok(policy)
}

fn appraisal_json(a: &ExternalAppraisal) -> Json {
    json!({
        "status": a.status.name(),
        "trust_vector": a.trust_vector.map(|tv| trust_vector_json(&tv)),
        "policy_ids": a.policy_ids,
    })
}

fn external_json(e: &ExternalEar) -> Json {
    let mut submods = Map::new();
    for a in &e.appraisals {
        submods.insert(a.name.clone(), appraisal_json(a));
    }
    let mut device = appraisal_json(&e.device);
    if let Json::Object(d) = &mut device {
        d.insert("submodule".to_owned(), json!(e.device.name));
    }
    json!({
        "kind": "external-ear",
        "profile": e.profile,
        "status": e.status.name(),
        "device": device,
        "submods": Json::Object(submods),
        "verifier_id": { "developer": e.verifier_id.developer, "build": e.verifier_id.build },
        "iat": e.issued_at.as_unix_seconds(),
        "exp": e.expires.map(Timestamp::as_unix_seconds),
        "ueid": e.ueid.as_ref().map(hex::encode),
        "nonce": e.nonce.as_ref().map(hex::encode),
        "aud": e.audience,
    })
}

// ---- --store: challenge nonces shared by verifiers (Redis)

/// A nonce store shared by verifiers, and the reason its last call failed.
trait SharedNonces: NonceStore {
    fn last_failure(&self) -> Option<String>;
}

#[cfg(feature = "redis")]
impl SharedNonces for citysec_std::fleet::RedisNonceStore {
    fn last_failure(&self) -> Option<String> {
        self.last_error().map(str::to_owned)
    }
}

#[cfg(feature = "redis")]
fn shared_nonces(url: &str) -> Result<Box<dyn SharedNonces>, Failure> {
    let store = citysec_std::fleet::RedisNonceStore::open(url).map_err(|e| bad(e.to_string()))?;
    Ok(Box::new(store))
}

#[cfg(not(feature = "redis"))]
fn shared_nonces(_url: &str) -> Result<Box<dyn SharedNonces>, Failure> {
    Err(bad(
        "this citysec was built without the `redis` feature: --store is not available",
    ))
}

/// `e`, with the shared store's reason when it failed.
fn why(e: impl core::fmt::Display, shared: Option<&dyn SharedNonces>) -> String {
    match shared.and_then(SharedNonces::last_failure) {
        Some(reason) => format!("{e}: {reason}"),
        None => e.to_string(),
    }
}
