//! `citysec credential ...`: issue, verify, challenge, present, and status lists.
//!
//! Claims JSON names registered claims by their RFC 8392 names (`iss`, `sub`,
//! `aud` as a string or a list, `exp`/`nbf`/`iat` as integers, `cti` as hex) and the
//! access profile's claims by theirs (`roles`, `zones`, `kind`, `schedule`,
//! `status`, `cnf`). Any other key is an integer or text claim whose JSON value is
//! carried as CBOR.

use std::path::PathBuf;

use citysec::core::Timestamp;
use citysec::core::coset::cbor::value::Value;
use citysec::credential::status::{INVALID, SUSPENDED, StatusList, VALID};
use citysec::credential::{
    Challenge, ClaimKey, Claims, Confirmation, CredentialKind, Error as CredError, Issuer, ScheduleWindow, StatusRef,
    VerifiedStatusList, Verifier, present,
};
use citysec::std_adapters::OsRandom;
use clap::{Args, Subcommand};
use serde_json::{Map, Value as Json, json};

use crate::common::{now_or_clock, signer, verifying_key, write_file};
use crate::inspect::read_token;
use crate::out::{Out, outln};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
Examples:
  citysec credential issue --key issuer.key --claims claims.json --out staff-17.cwt
  citysec credential verify --trust issuer.pub --aud door-controllers staff-17.cwt
  citysec credential challenge --reader door-7 --out challenge.cbor
  citysec credential present --key phone.key --challenge challenge.cbor --out p.cbor staff-17.cwt
  citysec credential verify --trust issuer.pub --aud door-controllers --challenge challenge.cbor p.cbor
  citysec credential status new --key issuer.key --uri https://issuer.example/status/1 --size 1000 --out list.cwt";

const VERIFY_HELP: &str = "\
Trust: each --trust ISS=FILE binds one public key to one issuer; a credential is
accepted only if the key its kid names verifies it AND its `iss` is that key's issuer
(another issuer: rejected, `credential names another issuer than its key's`). A bare
--trust FILE is allowed only as the single trust anchor (bound to --iss, or else to
the token's own `iss`); several bare ones, or bare and named mixed, are a usage error
(exit 2). With several keys each key file needs a kid; a single key without a kid is
used under the token's kid.

Exit 0: the verified claims as JSON on stdout, and on stderr one line naming the
issuer and kid that verified, e.g.
  verified: issuer \"https://issuer.city.example\", kid h'6973732d31' (\"iss-1\")
Exit 1: rejected, the reason on stderr. Exit 2: usage or I/O error.

Examples:
  citysec credential verify --trust issuer.pub --aud door-controllers --now 1767000000 cred.cwt
  citysec credential verify --trust https://issuer.city.example=city.pub \\
      --trust https://transit.example=transit.pub --aud door-controllers cred.cwt";

/// Credential subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum CredentialCommand {
    /// Sign claims (JSON) as a CWT credential.
    #[command(
        after_help = "Example:\n  citysec credential issue --key issuer.key --claims claims.json --out cred.cwt\n\nclaims.json: {\"iss\": \"https://issuer.city.example\", \"sub\": \"staff-17\", \"aud\": \"door-controllers\",\n              \"exp\": 1767229200, \"roles\": [\"staff\"], \"zones\": [\"lobby\"]}"
    )]
    Issue(IssueArgs),
    /// Verify a credential (or, with --challenge, a presentation) and print its claims as JSON.
    #[command(
        after_help = VERIFY_HELP
    )]
    Verify(VerifyArgs),
    /// Make a reader challenge for proof of possession.
    #[command(after_help = "Example:\n  citysec credential challenge --reader door-7 --out challenge.cbor")]
    Challenge(ChallengeArgs),
    /// Answer a challenge with the holder key (a presentation).
    #[command(
        after_help = "Example:\n  citysec credential present --key phone.key --challenge challenge.cbor --out p.cbor cred.cwt"
    )]
    Present(PresentArgs),
    /// Manage Token Status Lists (revocation).
    #[command(subcommand)]
    Status(StatusCommand),
}

/// Arguments of `credential issue`.
#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    /// The issuer's signing key (COSE_Key with a kid, or a `pkcs11:` URI).
    #[arg(long)]
    key: PathBuf,
    /// The claims as JSON.
    #[arg(long)]
    claims: PathBuf,
    /// Bind the credential to this holder public key (sets `cnf`).
    #[arg(long)]
    holder: Option<PathBuf>,
    /// Where to write the credential (raw CBOR).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `credential verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A trusted issuer public key (COSE_Key or PEM) bound to issuer ISS; repeat for
    /// several issuers or keys. A bare FILE (no `=`) is accepted only as the single
    /// trust anchor. The value is split at its first `=`.
    #[arg(long, required = true, value_name = "ISS=FILE")]
    trust: Vec<String>,
    /// With a single bare `--trust FILE`: the issuer that key belongs to (without it,
    /// the token's own `iss` is taken). Not allowed with `--trust ISS=FILE`.
    #[arg(long)]
    iss: Option<String>,
    /// An accepted audience; repeat for several. Without it, any audience is accepted.
    #[arg(long)]
    aud: Vec<String>,
    /// The time to verify at, seconds since the epoch (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// Allowed clock skew in seconds.
    #[arg(long, default_value_t = 60)]
    skew: u64,
    /// A status list token to check revocation against; repeat for several.
    #[arg(long)]
    status: Vec<PathBuf>,
    /// Treat the input as a presentation answering this challenge.
    #[arg(long)]
    challenge: Option<PathBuf>,
    /// Oldest challenge accepted, in seconds.
    #[arg(long, default_value_t = 60)]
    max_age: u64,
    /// The credential or presentation.
    input: PathBuf,
}

/// Arguments of `credential challenge`.
#[derive(Debug, Args)]
pub(crate) struct ChallengeArgs {
    /// The reader's id.
    #[arg(long)]
    reader: String,
    /// The time, seconds since the epoch (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// Where to write the challenge (CBOR).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `credential present`.
#[derive(Debug, Args)]
pub(crate) struct PresentArgs {
    /// The holder's private key (the one the credential's `cnf` names; a key file
    /// or a `pkcs11:` URI).
    #[arg(long)]
    key: PathBuf,
    /// The reader's challenge.
    #[arg(long)]
    challenge: PathBuf,
    /// Where to write the presentation.
    #[arg(long)]
    out: PathBuf,
    /// The credential.
    credential: PathBuf,
}

/// Status list subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum StatusCommand {
    /// Create a signed status list with every entry valid.
    New(StatusNewArgs),
    /// Set entries of a status list to revoked (or suspended) and re-sign it.
    Revoke(StatusRevokeArgs),
    /// Verify a status list and show it.
    Show(StatusShowArgs),
}

/// Arguments of `credential status new`.
#[derive(Debug, Args)]
pub(crate) struct StatusNewArgs {
    /// The issuer's signing key (a key file or a `pkcs11:` URI).
    #[arg(long)]
    key: PathBuf,
    /// The issuer name (`iss`) the list is signed for.
    #[arg(long)]
    iss: String,
    /// The list's URI (its `sub`; credentials point at it).
    #[arg(long)]
    uri: String,
    /// Number of entries.
    #[arg(long)]
    size: usize,
    /// Bits per entry (1, 2, 4 or 8).
    #[arg(long, default_value_t = 2)]
    bits: u8,
    /// Validity of the signed list in seconds.
    #[arg(long, default_value_t = 86_400)]
    valid_for: u64,
    /// Issue time, seconds since the epoch (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// Where to write the list token.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `credential status revoke`.
#[derive(Debug, Args)]
pub(crate) struct StatusRevokeArgs {
    /// The issuer's signing key (a key file or a `pkcs11:` URI).
    #[arg(long)]
    key: PathBuf,
    /// The issuer name (`iss`).
    #[arg(long)]
    iss: String,
    /// The entries to set.
    #[arg(long, required = true)]
    index: Vec<usize>,
    /// Suspend (status 2) instead of revoking (status 1).
    #[arg(long)]
    suspend: bool,
    /// Validity of the re-signed list in seconds.
    #[arg(long, default_value_t = 86_400)]
    valid_for: u64,
    /// Issue time, seconds since the epoch (default: the system clock).
    #[arg(long)]
    now: Option<u64>,
    /// The list token, rewritten in place.
    list: PathBuf,
}

/// Arguments of `credential status show`.
#[derive(Debug, Args)]
pub(crate) struct StatusShowArgs {
    /// A trusted issuer public key.
    #[arg(long, required = true)]
    trust: Vec<PathBuf>,
    /// The issuer the keys belong to.
    #[arg(long)]
    iss: String,
    /// The list token.
    list: PathBuf,
}

pub(crate) fn run(cmd: CredentialCommand, out: &mut Out) -> CmdResult {
    match cmd {
        CredentialCommand::Issue(a) => issue(&a, out),
        CredentialCommand::Verify(a) => verify(&a, out),
        CredentialCommand::Challenge(a) => challenge(&a, out),
        CredentialCommand::Present(a) => present_cmd(&a, out),
        CredentialCommand::Status(StatusCommand::New(a)) => status_new(&a, out),
        CredentialCommand::Status(StatusCommand::Revoke(a)) => status_revoke(&a, out),
        CredentialCommand::Status(StatusCommand::Show(a)) => status_show(&a, out),
    }
}

fn rejected(e: CredError) -> Failure {
    Failure::Rejected(e.to_string())
}

// ---- issue

fn issue(a: &IssueArgs, out: &mut Out) -> CmdResult {
    let text = std::fs::read_to_string(&a.claims)
        .map_err(|e| Failure::usage(format!("cannot read `{}`: {}", a.claims.display(), e.kind())))?;
    let json: Json = serde_json::from_str(&text).map_err(|e| Failure::usage(format!("claims are not JSON: {e}")))?;
    let mut claims = claims_from_json(&json)?;
    if let Some(holder) = &a.holder {
        claims.cnf = Some(Confirmation::Key(verifying_key(holder)?));
    }
    let iss = claims
        .iss
        .clone()
        .ok_or_else(|| Failure::usage("the claims need an `iss`"))?;
    let issuer = Issuer::new(iss, signer(&a.key)?).map_err(|e| Failure::usage(format!("cannot issue: {e}")))?;
    let token = issuer
        .issue(&claims)
        .map_err(|e| Failure::usage(format!("cannot issue: {e}")))?;
    write_file(&a.out, &token)?;
    outln!(out, "wrote credential ({} bytes) to {}", token.len(), a.out.display());
    Ok(())
}

// ---- verify

fn verify(a: &VerifyArgs, out: &mut Out) -> CmdResult {
    let input = read_token(&a.input)?;
    let now = now_or_clock(a.now)?;
    // The credential: the input itself, or the one inside a presentation.
    let challenge = match &a.challenge {
        Some(p) => {
            Some(Challenge::from_cbor(&read_token(p)?).map_err(|e| Failure::usage(format!("bad challenge: {e}")))?)
        }
        None => None,
    };
    let credential_bytes = match &challenge {
        Some(_) => presented_credential(&input)?,
        None => input.clone(),
    };
    let peek = peek(&credential_bytes);
    let anchors = trust_anchors(&a.trust, a.iss.as_deref(), peek.iss.as_deref())?;
    let single = anchors.len() == 1;
    let mut verifier = Verifier::new(&citysec::ring::PROVIDER).skew(a.skew);
    for (iss, path) in anchors {
        let mut key = verifying_key(&path)?;
        if key.kid().is_none() {
            if !single {
                return Err(Failure::usage(format!(
                    "`{}` has no kid: with several --trust keys each key needs a kid",
                    path.display()
                )));
            }
            // The single trust anchor without a kid is used under the token's kid.
            key = key.with_kid(peek.kid.clone().unwrap_or_else(|| b"trusted".to_vec()));
        }
        verifier = verifier
            .trust(iss, key)
            .map_err(|e| Failure::usage(format!("cannot trust `{}`: {e}", path.display())))?;
    }
    verifier = if a.aud.is_empty() {
        verifier.any_audience()
    } else {
        a.aud.iter().fold(verifier, |v, aud| v.audience(aud.clone()))
    };
    let mut lists: Vec<VerifiedStatusList> = Vec::new();
    for path in &a.status {
        let token = read_token(path)?;
        lists.push(
            verifier
                .status_list_signers()
                .verify_status_list(&token, citysec::credential::status::DEFAULT_MAX_ENTRIES)
                .map_err(|e| Failure::Rejected(format!("status list `{}`: {e}", path.display())))?,
        );
    }
    let verified = match &challenge {
        Some(c) => verifier.verify_presentation(&input, c, now, a.max_age, &lists),
        None => verifier.verify(&input, now, &lists),
    }
    .map_err(rejected)?;
    crate::out::eprint(&format!(
        "verified: issuer {}, kid {}",
        crate::view::quoted(verified.issuer()),
        crate::view::kid_label(verified.kid())
    ));
    let json = claims_to_json(verified.claims());
    outln!(out, "{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    Ok(())
}

/// The `--trust` values as (issuer, key file) pairs.
///
/// `ISS=FILE` (split at the first `=`) binds the key to ISS. A bare `FILE` is the
/// single trust anchor, bound to `--iss` or else to the token's own `iss`
/// (`claimed`); several bare ones, or bare and named mixed, are usage errors, as
/// is `--iss` with named ones.
fn trust_anchors(
    values: &[String],
    iss: Option<&str>,
    claimed: Option<&str>,
) -> Result<Vec<(String, PathBuf)>, Failure> {
    let mut named = Vec::new();
    let mut bare = Vec::new();
    for v in values {
        match v.split_once('=') {
            Some((name, file)) => {
                if name.is_empty() || file.is_empty() {
                    return Err(Failure::usage(format!(
                        "--trust `{}`: write ISS=FILE with a non-empty issuer and file",
                        v.escape_debug()
                    )));
                }
                named.push((name.to_owned(), PathBuf::from(file)));
            }
            None => bare.push(PathBuf::from(v)),
        }
    }
    match (named.len(), bare.len()) {
        (0, 0) => Err(Failure::usage("give at least one --trust ISS=FILE")),
        (0, 1) => {
            let issuer = iss.or(claimed).unwrap_or_default().to_owned();
            Ok(bare.into_iter().map(|p| (issuer.clone(), p)).collect())
        }
        (0, _) => Err(Failure::usage(
            "several --trust keys: name the issuer of each with --trust ISS=FILE (a bare --trust FILE is allowed only as the single trust anchor)",
        )),
        (_, 0) if iss.is_some() => Err(Failure::usage(
            "--iss applies to a single bare --trust FILE; with --trust ISS=FILE the issuer is in each --trust",
        )),
        (_, 0) => Ok(named),
        _ => Err(Failure::usage(
            "--trust FILE and --trust ISS=FILE mixed: name the issuer of each key with --trust ISS=FILE",
        )),
    }
}

/// What an unverified token says about itself (to pick keys and issuer names).
#[derive(Debug, Default)]
struct Peek {
    iss: Option<String>,
    kid: Option<Vec<u8>>,
}

fn peek(token: &[u8]) -> Peek {
    let Ok(msg) = citysec::core::sign1::UnverifiedSign1::parse(token, &Default::default()) else {
        return Peek::default();
    };
    let claims = Claims::from_cbor(msg.payload_unverified(), &citysec::core::Limits::DEFAULT).ok();
    Peek {
        iss: claims.and_then(|c| c.cwt.iss),
        kid: msg.kid().map(<[u8]>::to_vec),
    }
}

fn presented_credential(presentation: &[u8]) -> Result<Vec<u8>, Failure> {
    let msg = citysec::core::sign1::UnverifiedSign1::parse(presentation, &Default::default())
        .map_err(|e| Failure::Rejected(format!("malformed presentation: {e}")))?;
    let v: Value = citysec::core::coset::cbor::de::from_reader(msg.payload_unverified())
        .map_err(|_| Failure::Rejected("malformed presentation".into()))?;
    if let Value::Map(entries) = v {
        for (k, v) in entries {
            if k == Value::from(1)
                && let Value::Bytes(b) = v
            {
                return Ok(b);
            }
        }
    }
    Err(Failure::Rejected("malformed presentation".into()))
}

// ---- challenge and present

fn challenge(a: &ChallengeArgs, out: &mut Out) -> CmdResult {
    let c = Challenge::new(&mut OsRandom, a.reader.clone(), now_or_clock(a.now)?)
        .map_err(|e| Failure::usage(format!("cannot make a challenge: {e}")))?;
    let bytes = c.to_cbor().map_err(|e| Failure::usage(e.to_string()))?;
    write_file(&a.out, &bytes)?;
    outln!(out, "wrote challenge for `{}` to {}", a.reader, a.out.display());
    Ok(())
}

fn present_cmd(a: &PresentArgs, out: &mut Out) -> CmdResult {
    let holder = signer(&a.key)?;
    let c =
        Challenge::from_cbor(&read_token(&a.challenge)?).map_err(|e| Failure::usage(format!("bad challenge: {e}")))?;
    let cred = read_token(&a.credential)?;
    let p = present(&*holder, &cred, &c).map_err(|e| Failure::usage(e.to_string()))?;
    write_file(&a.out, &p)?;
    outln!(out, "wrote presentation ({} bytes) to {}", p.len(), a.out.display());
    Ok(())
}

// ---- status lists

fn status_new(a: &StatusNewArgs, out: &mut Out) -> CmdResult {
    let issuer = Issuer::new(a.iss.clone(), signer(&a.key)?).map_err(|e| Failure::usage(e.to_string()))?;
    let list = StatusList::new(a.bits, a.size).map_err(|e| Failure::usage(e.to_string()))?;
    let now = now_or_clock(a.now)?;
    let token = list
        .sign(&issuer, &a.uri, now, now.saturating_add(a.valid_for), None)
        .map_err(|e| Failure::usage(e.to_string()))?;
    write_file(&a.out, &token)?;
    outln!(
        out,
        "wrote status list `{}` ({} entries of {} bits) to {}",
        a.uri,
        a.size,
        a.bits,
        a.out.display()
    );
    Ok(())
}

fn status_revoke(a: &StatusRevokeArgs, out: &mut Out) -> CmdResult {
    let key = signer(&a.key)?;
    let verifier = Verifier::new(&citysec::ring::PROVIDER)
        .trust(a.iss.clone(), key.verifying_key().clone())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let current = verifier
        .status_list_signers()
        .verify_status_list(&read_token(&a.list)?, citysec::credential::status::DEFAULT_MAX_ENTRIES)
        .map_err(|e| Failure::Rejected(format!("status list: {e}")))?;
    let mut list = current.list().clone();
    let value = if a.suspend { SUSPENDED } else { INVALID };
    for idx in &a.index {
        list.set(*idx, value)
            .map_err(|e| Failure::usage(format!("index {idx}: {e}")))?;
    }
    let issuer = Issuer::new(a.iss.clone(), key).map_err(|e| Failure::usage(e.to_string()))?;
    let now = now_or_clock(a.now)?;
    let token = list
        .sign(
            &issuer,
            current.uri(),
            now,
            now.saturating_add(a.valid_for),
            current.ttl(),
        )
        .map_err(|e| Failure::usage(e.to_string()))?;
    write_file(&a.list, &token)?;
    outln!(
        out,
        "{} {} entr{} in `{}`",
        if a.suspend { "suspended" } else { "revoked" },
        a.index.len(),
        if a.index.len() == 1 { "y" } else { "ies" },
        current.uri()
    );
    Ok(())
}

fn status_show(a: &StatusShowArgs, out: &mut Out) -> CmdResult {
    let mut verifier = Verifier::new(&citysec::ring::PROVIDER);
    for path in &a.trust {
        verifier = verifier
            .trust(a.iss.clone(), verifying_key(path)?)
            .map_err(|e| Failure::usage(e.to_string()))?;
    }
    let v = verifier
        .status_list_signers()
        .verify_status_list(&read_token(&a.list)?, citysec::credential::status::DEFAULT_MAX_ENTRIES)
        .map_err(|e| Failure::Rejected(format!("status list: {e}")))?;
    let (mut revoked, mut suspended) = (Vec::new(), Vec::new());
    for i in 0..v.list().len() {
        match v.list().get(i) {
            Some(VALID) | None => {}
            Some(SUSPENDED) => suspended.push(i),
            Some(_) => revoked.push(i),
        }
    }
    let json = json!({
        "iss": v.issuer(),
        "uri": v.uri(),
        "iat": v.issued_at().as_unix_seconds(),
        "exp": v.expires_at().as_unix_seconds(),
        "bits": v.list().bits(),
        "entries": v.list().len(),
        "revoked": revoked,
        "suspended": suspended,
    });
    outln!(out, "{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    Ok(())
}

// ---- claims <-> JSON

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn bad(what: &str) -> Failure {
    Failure::usage(format!("claims: {what}"))
}

fn claims_from_json(json: &Json) -> Result<Claims, Failure> {
    let obj = json.as_object().ok_or_else(|| bad("not a JSON object"))?;
    let mut c = Claims::new();
    let text = |v: &Json, name: &str| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| bad(&format!("`{name}` must be a string")))
    };
    let texts = |v: &Json, name: &str| -> Result<Vec<String>, Failure> {
        match v {
            Json::String(s) => Ok(vec![s.clone()]),
            Json::Array(a) => a.iter().map(|x| text(x, name)).collect(),
            _ => Err(bad(&format!("`{name}` must be a string or a list of strings"))),
        }
    };
    let time = |v: &Json, name: &str| {
        v.as_u64()
            .map(Timestamp::from_unix_seconds)
            .ok_or_else(|| bad(&format!("`{name}` must be a non-negative integer")))
    };
    for (k, v) in obj {
        match k.as_str() {
            "iss" => c.iss = Some(text(v, k)?),
            "sub" => c.sub = Some(text(v, k)?),
            "aud" => c.aud = texts(v, k)?,
            "exp" => c.exp = Some(time(v, k)?),
            "nbf" => c.nbf = Some(time(v, k)?),
            "iat" => c.iat = Some(time(v, k)?),
            "cti" => c.cti = Some(hex::decode(text(v, k)?).map_err(|_| bad("`cti` must be hex"))?),
            "roles" => c.roles = texts(v, k)?,
            "zones" => c.zones = texts(v, k)?,
            "kind" => c.kind = Some(CredentialKind::from_text(&text(v, k)?)),
            "schedule" => c.schedule = schedule_from_json(v)?,
            "status" => {
                let idx = v
                    .get("idx")
                    .and_then(Json::as_u64)
                    .ok_or_else(|| bad("`status.idx` must be an integer"))?;
                let uri = v
                    .get("uri")
                    .and_then(Json::as_str)
                    .ok_or_else(|| bad("`status.uri` must be a string"))?;
                c.status = Some(StatusRef {
                    idx,
                    uri: uri.to_owned(),
                });
            }
            "cnf" => {
                let kid = v
                    .get("kid")
                    .and_then(Json::as_str)
                    .ok_or_else(|| bad("`cnf` takes {\"kid\": hex} (or use --holder)"))?;
                c.cnf = Some(Confirmation::KeyId(
                    hex::decode(kid).map_err(|_| bad("`cnf.kid` must be hex"))?,
                ));
            }
            other => {
                let key = other
                    .parse::<i64>()
                    .map_or_else(|_| ClaimKey::Text(other.to_owned()), ClaimKey::Int);
                c.other.push((key, json_to_cbor(v)?));
            }
        }
    }
    Ok(c)
}

fn minute(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60).then(|| h.saturating_mul(60).saturating_add(m))
}

fn schedule_from_json(v: &Json) -> Result<Vec<ScheduleWindow>, Failure> {
    let windows = v.as_array().ok_or_else(|| bad("`schedule` must be a list"))?;
    windows
        .iter()
        .map(|w| {
            let days = w
                .get("days")
                .and_then(Json::as_array)
                .ok_or_else(|| bad("`schedule[].days` must be a list"))?;
            let mut bits = 0u8;
            for d in days {
                let pos = d
                    .as_str()
                    .and_then(|d| DAYS.iter().position(|x| *x == d))
                    .ok_or_else(|| bad("days are mon, tue, wed, thu, fri, sat, sun"))?;
                bits |= 1u8.checked_shl(u32::try_from(pos).unwrap_or(7)).unwrap_or(0);
            }
            let start = w
                .get("start")
                .and_then(Json::as_str)
                .and_then(minute)
                .ok_or_else(|| bad("`start` is HH:MM"))?;
            let end = w
                .get("end")
                .and_then(Json::as_str)
                .and_then(minute)
                .ok_or_else(|| bad("`end` is HH:MM"))?;
            if bits == 0 || start >= end || end > 1440 {
                return Err(bad("a schedule window needs days and start < end <= 24:00"));
            }
            Ok(ScheduleWindow {
                days: bits,
                start_minute: start,
                end_minute: end,
            })
        })
        .collect()
}

fn json_to_cbor(v: &Json) -> Result<Value, Failure> {
    Ok(match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (_, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => Value::Float(f),
            _ => return Err(bad("unsupported number")),
        },
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(json_to_cbor).collect::<Result<_, _>>()?),
        Json::Object(o) => Value::Map(
            o.iter()
                .map(|(k, v)| Ok((Value::Text(k.clone()), json_to_cbor(v)?)))
                .collect::<Result<_, Failure>>()?,
        ),
    })
}

fn cbor_to_json(v: &Value) -> Json {
    match v {
        Value::Integer(i) => {
            let i = i128::from(*i);
            i64::try_from(i).map_or_else(|_| Json::String(i.to_string()), Json::from)
        }
        Value::Bytes(b) => json!({ "hex": hex::encode(b) }),
        Value::Float(f) => Json::from(*f),
        Value::Text(t) => Json::String(t.clone()),
        Value::Bool(b) => Json::Bool(*b),
        Value::Null => Json::Null,
        Value::Tag(t, inner) => json!({ "tag": t, "value": cbor_to_json(inner) }),
        Value::Array(a) => Json::Array(a.iter().map(cbor_to_json).collect()),
        Value::Map(m) => {
            let mut obj = Map::new();
            for (k, v) in m {
                let key = match k {
                    Value::Text(t) => t.clone(),
                    other => cbor_to_json(other).to_string(),
                };
                obj.insert(key, cbor_to_json(v));
            }
            Json::Object(obj)
        }
        _ => Json::Null,
    }
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn claims_to_json(c: &Claims) -> Json {
    let mut o = Map::new();
    let put = |o: &mut Map<String, Json>, k: &str, v: Json| {
        o.insert(k.to_owned(), v);
    };
    if let Some(v) = &c.iss {
        put(&mut o, "iss", json!(v));
    }
    if let Some(v) = &c.sub {
        put(&mut o, "sub", json!(v));
    }
    match c.aud.as_slice() {
        [] => {}
        [one] => put(&mut o, "aud", json!(one)),
        many => put(&mut o, "aud", json!(many)),
    }
    for (k, t) in [("exp", c.exp), ("nbf", c.nbf), ("iat", c.iat)] {
        if let Some(t) = t {
            put(&mut o, k, json!(t.as_unix_seconds()));
        }
    }
    if let Some(v) = &c.cti {
        put(&mut o, "cti", json!(hex::encode(v)));
    }
    match &c.cnf {
        Some(Confirmation::Key(k)) => put(
            &mut o,
            "cnf",
            json!({ "alg": k.algorithm().name(), "kid": k.kid().map(hex::encode), "public_key": hex::encode(k.as_bytes()) }),
        ),
        Some(Confirmation::KeyId(kid)) => put(&mut o, "cnf", json!({ "kid": hex::encode(kid) })),
        Some(_) | None => {}
    }
    if let Some(s) = &c.status {
        put(&mut o, "status", json!({ "idx": s.idx, "uri": s.uri }));
    }
    if !c.roles.is_empty() {
        put(&mut o, "roles", json!(c.roles));
    }
    if !c.zones.is_empty() {
        put(&mut o, "zones", json!(c.zones));
    }
    if let Some(k) = &c.kind {
        put(&mut o, "kind", json!(k.as_str()));
    }
    if !c.schedule.is_empty() {
        let windows: Vec<Json> = c
            .schedule
            .iter()
            .map(|w| {
                let days: Vec<&str> = DAYS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| {
                        u32::try_from(*i)
                            .ok()
                            .and_then(|i| 1u8.checked_shl(i))
                            .is_some_and(|b| w.days & b != 0)
                    })
                    .map(|(_, d)| *d)
                    .collect();
                json!({ "days": days, "start": hhmm(w.start_minute), "end": hhmm(w.end_minute) })
            })
            .collect();
        put(&mut o, "schedule", Json::Array(windows));
    }
    for (k, v) in &c.other {
        let key = match k {
            ClaimKey::Int(i) => i.to_string(),
            ClaimKey::Text(t) => t.clone(),
        };
        put(&mut o, &key, cbor_to_json(v));
    }
    Json::Object(o)
}
