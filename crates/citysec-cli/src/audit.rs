//! `citysec audit ...`: the site log on the command line (docs/audit-log.md,
//! "The CLI"). Every command prints one JSON object on stdout.

use alloc::collections::BTreeMap;
use std::path::{Path, PathBuf};

use citysec::audit::checkpoint::{CheckpointVerifier, VerifiedCheckpoint, cosign};
use citysec::audit::merkle::{self, Hash};
use citysec::audit::note::{NoteSigner, NoteVerifier};
use citysec::audit::receipt::{Receipt, issue_inclusion};
use citysec::audit::record::{Disclosure, Kind, Outcome, Personal, Record, SALT_LEN};
use citysec::core::provider::Provider;
use citysec::std_adapters::OsRandom;
use citysec::std_adapters::audit::{FilePin, RedbLog};
use clap::{Args, Subcommand};
use serde_json::{Map, Value as Json, json};

use crate::common::{now_or_clock, signer, verifying_key};
use crate::out::{Out, outln};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
The log, its records, checkpoints, proofs and receipts are specified in
docs/audit-log.md; its section \"The CLI\" describes every command and its JSON.

Examples:
  citysec audit append --log site.redb --origin site.city.example/log --json rec.json --site-key site.key --side-table side.json
  citysec audit checkpoint --log site.redb --key log.key --out checkpoint.txt
  citysec audit prove --log site.redb --index 3 > proof.json
  citysec audit verify-inclusion --origin site.city.example/log --trust LOG_VKEY --checkpoint checkpoint.txt --record rec.cbor --proof proof.json
  citysec audit cosign --key witness.key --name witness.example --origin site.city.example/log --trust LOG_VKEY --checkpoint checkpoint.txt
  citysec audit verify-consistency --origin site.city.example/log --trust LOG_VKEY --checkpoint new.txt --proof consistency.json --pin door.pin
  citysec audit show --log site.redb --side-table side.json

Exit codes: 0 ok/verified, 1 rejected (reason on stderr), 2 usage or I/O error.";

/// The provider the commands verify with.
const P: &Provider = &citysec::rustcrypto::PROVIDER;
/// Largest input file read (a checkpoint, a proof, a record, a receipt).
const MAX_INPUT: u64 = 1024 * 1024;

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Append records (CBOR files, or JSON with --json) to a site log in one durable batch.
    Append(AppendArgs),
    /// Sign the log's checkpoint (Ed25519 note key); optionally write the tiles.
    Checkpoint(CheckpointArgs),
    /// Print an inclusion proof (or, with --from, a consistency proof); optionally issue a receipt.
    Prove(ProveArgs),
    /// Verify that a record is in the log: a checkpoint and a proof, or a receipt.
    VerifyInclusion(VerifyInclusionArgs),
    /// Verify that a checkpoint extends an older one or the pinned one.
    VerifyConsistency(VerifyConsistencyArgs),
    /// Cosign a checkpoint as a witness (cosignature/v1), after verifying the log's signature.
    Cosign(CosignArgs),
    /// Print records readable by a person, personal values from the side table or `[erased]`.
    Show(ShowArgs),
    /// Erase every disclosure of one value from a side table.
    Erase(EraseArgs),
}

/// Arguments of `audit append`.
#[derive(Debug, Args)]
pub(crate) struct AppendArgs {
    /// The log (a redb file, created if absent).
    #[arg(long)]
    log: PathBuf,
    /// The log's origin; needed when the log is created, checked otherwise.
    #[arg(long)]
    origin: Option<String>,
    /// The records are JSON descriptions, not CBOR records.
    #[arg(long)]
    json: bool,
    /// The site key (64 hex digits, as `telemetry new-master` writes) for
    /// pseudonyms of personal values in JSON records.
    #[arg(long)]
    site_key: Option<PathBuf>,
    /// The side table (JSON) the disclosures of personal values go to.
    #[arg(long)]
    side_table: Option<PathBuf>,
    /// The record files, appended in this order.
    #[arg(required = true)]
    records: Vec<PathBuf>,
}

/// Arguments of `audit checkpoint`.
#[derive(Debug, Args)]
pub(crate) struct CheckpointArgs {
    /// The log.
    #[arg(long)]
    log: PathBuf,
    /// The log's note key: an Ed25519 private key file or a `pkcs11:` URI.
    #[arg(long)]
    key: PathBuf,
    /// The key's name in the note (default: the origin).
    #[arg(long)]
    name: Option<String>,
    /// Also write the signed checkpoint to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the tree as tlog-tiles (and the checkpoint) under this folder.
    #[arg(long)]
    tiles: Option<PathBuf>,
}

/// Arguments of `audit prove`.
#[derive(Debug, Args)]
pub(crate) struct ProveArgs {
    /// The log.
    #[arg(long)]
    log: PathBuf,
    /// The record's index (an inclusion proof).
    #[arg(long, conflicts_with = "from")]
    index: Option<u64>,
    /// The older tree size (a consistency proof from it).
    #[arg(long)]
    from: Option<u64>,
    /// The tree size the proof is for (default: the log's size).
    #[arg(long)]
    size: Option<u64>,
    /// Also write a COSE Receipt of the inclusion proof here, signed with --key.
    #[arg(long, requires = "key", requires = "index")]
    receipt: Option<PathBuf>,
    /// The log's receipt key (EdDSA or ES256 private key file or `pkcs11:` URI).
    #[arg(long)]
    key: Option<PathBuf>,
}

/// Who a checkpoint must be signed by.
#[derive(Debug, Args)]
pub(crate) struct TrustArgs {
    /// The log's origin.
    #[arg(long)]
    origin: String,
    /// The log's verifier key (vkey text, or a file holding it).
    #[arg(long)]
    trust: String,
    /// A witness's verifier key (vkey text or file); repeatable.
    #[arg(long)]
    witness: Vec<String>,
    /// How many of the witnesses must have cosigned (default: all given).
    #[arg(long)]
    witnesses: Option<usize>,
}

/// Arguments of `audit verify-inclusion`.
#[derive(Debug, Args)]
pub(crate) struct VerifyInclusionArgs {
    #[command(flatten)]
    trust: TrustArgs,
    /// The signed checkpoint (with --proof).
    #[arg(long, requires = "proof")]
    checkpoint: Option<PathBuf>,
    /// The inclusion proof (the JSON `audit prove` prints).
    #[arg(long)]
    proof: Option<PathBuf>,
    /// A COSE Receipt instead of a checkpoint and a proof, verified with --receipt-key.
    #[arg(long, conflicts_with_all = ["checkpoint", "proof"], requires = "receipt_key")]
    receipt: Option<PathBuf>,
    /// The log's receipt public key (a key file or `pkcs11:` URI).
    #[arg(long)]
    receipt_key: Option<PathBuf>,
    /// The record (its CBOR bytes).
    #[arg(long)]
    record: PathBuf,
}

/// Arguments of `audit verify-consistency`.
#[derive(Debug, Args)]
pub(crate) struct VerifyConsistencyArgs {
    #[command(flatten)]
    trust: TrustArgs,
    /// The newer signed checkpoint.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The consistency proof (the JSON `audit prove --from` prints).
    #[arg(long)]
    proof: PathBuf,
    /// The older signed checkpoint.
    #[arg(long, required_unless_present = "pin", conflicts_with = "pin")]
    old: Option<PathBuf>,
    /// A pin file: the proof must start from the pinned checkpoint (the first
    /// checkpoint is pinned as it is); the pin moves, durably, if it does.
    #[arg(long)]
    pin: Option<PathBuf>,
}

/// Arguments of `audit cosign`.
#[derive(Debug, Args)]
pub(crate) struct CosignArgs {
    #[command(flatten)]
    trust: TrustArgs,
    /// The witness's Ed25519 private key file or `pkcs11:` URI.
    #[arg(long)]
    key: PathBuf,
    /// The witness's name.
    #[arg(long)]
    name: String,
    /// The signed checkpoint to cosign.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The cosignature's time, in seconds since the Unix epoch (default: now).
    #[arg(long)]
    time: Option<u64>,
    /// Also write the cosigned checkpoint here.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Arguments of `audit show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The log.
    #[arg(long)]
    log: PathBuf,
    /// The side table of disclosures.
    #[arg(long)]
    side_table: Option<PathBuf>,
    /// The first record shown.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// How many records to show at most.
    #[arg(long, default_value_t = 100)]
    count: u64,
}

/// Arguments of `audit erase`.
#[derive(Debug, Args)]
pub(crate) struct EraseArgs {
    /// The side table.
    #[arg(long)]
    side_table: PathBuf,
    /// The personal value (a subject, or a credential id's hex) to erase.
    #[arg(long)]
    value: String,
}

pub(crate) fn run(cmd: AuditCommand, out: &mut Out) -> CmdResult {
    let v = match cmd {
        AuditCommand::Append(a) => append(&a)?,
        AuditCommand::Checkpoint(a) => checkpoint(&a)?,
        AuditCommand::Prove(a) => prove(&a)?,
        AuditCommand::VerifyInclusion(a) => verify_inclusion(&a)?,
        AuditCommand::VerifyConsistency(a) => verify_consistency(&a)?,
        AuditCommand::Cosign(a) => cosign_cmd(&a)?,
        AuditCommand::Show(a) => show(&a)?,
        AuditCommand::Erase(a) => erase(&a)?,
    };
    outln!(out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_INPUT);
    if too_big {
        return Err(Failure::usage(format!("`{}` is larger than 1 MiB", path.display())));
    }
    std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read `{}`: {}", path.display(), e.kind())))
}

fn read_text(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read(path)?).map_err(|_| Failure::usage(format!("`{}` is not UTF-8", path.display())))
}

fn read_json(path: &Path) -> Result<Json, Failure> {
    crate::json::parse_strict(&read_text(path)?).map_err(|e| {
        let why = match e {
            crate::json::StrictError::DuplicateKey(e) => format!("duplicate key: {e}"),
            crate::json::StrictError::Syntax(e) => e.to_string(),
        };
        Failure::usage(format!("`{}`: {why}", path.display()))
    })
}

fn write(path: &Path, bytes: &[u8]) -> CmdResult {
    crate::common::write_file(path, bytes)
}

fn hashes_json(hs: &[Hash]) -> Json {
    Json::Array(hs.iter().map(|h| Json::String(hex::encode(h))).collect())
}

/// A log's refusal is a rejection (exit 1), its storage failing a usage or
/// I/O error (exit 2); `context` prefixes the message.
fn store_failure_in(context: &str, e: &citysec::std_adapters::Error) -> Failure {
    match e {
        citysec::std_adapters::Error::Audit(a) => Failure::Rejected(format!("{context}{a}")),
        other => Failure::usage(format!("{context}{other}")),
    }
}

fn store_failure(e: &citysec::std_adapters::Error) -> Failure {
    store_failure_in("", e)
}

fn open_log(path: &Path) -> Result<RedbLog, Failure> {
    RedbLog::open_existing(path).map_err(|e| store_failure(&e))
}

/// The side table file: `{"version": 1, "disclosures": [{"index", "field",
/// "value", "salt"}]}`.
#[derive(Default)]
struct SideTable {
    entries: Vec<(u64, String, Disclosure)>,
}

impl SideTable {
    fn load(path: &Path) -> Result<Self, Failure> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let bad = || Failure::usage(format!("`{}` is not a side table", path.display()));
        let v = read_json(path)?;
        let list = v.get("disclosures").and_then(Json::as_array).ok_or_else(bad)?;
        let mut entries = Vec::new();
        for d in list {
            let index = d.get("index").and_then(Json::as_u64).ok_or_else(bad)?;
            let field = d.get("field").and_then(Json::as_str).ok_or_else(bad)?;
            let value = d.get("value").and_then(Json::as_str).ok_or_else(bad)?;
            let salt: [u8; SALT_LEN] = d
                .get("salt")
                .and_then(Json::as_str)
                .and_then(|h| hex::decode(h).ok())
                .and_then(|s| s.try_into().ok())
                .ok_or_else(bad)?;
            entries.push((index, field.to_owned(), Disclosure::new(salt, value)));
        }
        Ok(Self { entries })
    }

    fn save(&self, path: &Path) -> CmdResult {
        let list: Vec<Json> = self
            .entries
            .iter()
            .map(|(i, f, d)| json!({"index": i, "field": f, "value": d.value(), "salt": hex::encode(d.salt())}))
            .collect();
        let text = serde_json::to_string_pretty(&json!({"version": 1, "disclosures": list})).unwrap_or_default();
        citysec::std_adapters::write_file(
            path,
            text.as_bytes(),
            0o600,
            citysec::std_adapters::ExistingFile::Replace,
        )
        .map_err(|e| Failure::usage(e.to_string()))
    }

    fn get(&self, index: u64, field: &str) -> Option<&Disclosure> {
        self.entries
            .iter()
            .find(|(i, f, _)| *i == index && f == field)
            .map(|(_, _, d)| d)
    }
}

/// A record from its JSON description; personal values are committed.
/// A record and the disclosures of its personal fields, by field name.
type WithDisclosures = (Record, Vec<(&'static str, Disclosure)>);

/// A setter of a text field.
type WithText = fn(Record, &str) -> citysec::audit::Result<Record>;

fn record_from_json(v: &Json, site_key: Option<&[u8; 32]>) -> Result<WithDisclosures, Failure> {
    let obj = v
        .as_object()
        .ok_or_else(|| Failure::usage("a JSON record is an object"))?;
    let s = |k: &str| obj.get(k).and_then(Json::as_str);
    let n = |k: &str| obj.get(k).and_then(Json::as_u64);
    let bad = |what: &str| Failure::Rejected(format!("record: {what}"));
    let kind = s("kind").and_then(Kind::from_name).ok_or_else(|| bad("unknown kind"))?;
    let time = n("time").ok_or_else(|| bad("no time"))?;
    let source = s("source").ok_or_else(|| bad("no source"))?;
    let known = [
        "kind",
        "time",
        "source",
        "dropped",
        "door",
        "outcome",
        "step",
        "rule",
        "reason",
        "issuer",
        "subject",
        "credential_id",
        "device",
        "number",
        "tier",
        "name",
        "end",
    ];
    if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(bad(&format!("unknown field `{k}`")));
    }
    let e = |r: citysec::audit::Result<Record>| r.map_err(|e| bad(&e.to_string()));
    let mut r = e(Record::new(kind, time, source))?;
    if let Some(d) = n("dropped") {
        r = r.with_dropped(d);
    }
    let texts: [(&str, WithText); 8] = [
        ("door", Record::with_door),
        ("step", Record::with_step),
        ("rule", Record::with_rule),
        ("reason", Record::with_reason),
        ("issuer", Record::with_issuer),
        ("device", Record::with_device),
        ("tier", Record::with_tier),
        ("name", Record::with_name),
    ];
    for (key, with) in texts {
        if let Some(t) = s(key) {
            r = e(with(r, t))?;
        }
    }
    if let Some(o) = s("outcome") {
        r = r.with_outcome(Outcome::from_name(o).ok_or_else(|| bad("unknown outcome"))?);
    }
    if let Some(x) = n("number") {
        r = r.with_number(x);
    }
    if let Some(x) = n("end") {
        r = r.with_end(x);
    }
    let mut disclosures = Vec::new();
    for field in ["subject", "credential_id"] {
        let Some(value) = s(field) else { continue };
        let key = site_key.ok_or_else(|| Failure::usage("a record with personal values needs --site-key"))?;
        let (p, d) = Personal::commit(P, &mut OsRandom, key, value).map_err(|e| bad(&e.to_string()))?;
        r = if field == "subject" {
            r.with_subject(p)
        } else {
            r.with_credential_id(p)
        };
        disclosures.push((field, d));
    }
    r.to_cbor().map_err(|e| bad(&e.to_string()))?;
    Ok((r, disclosures))
}

fn append(a: &AppendArgs) -> Result<Json, Failure> {
    let site_key: Option<[u8; 32]> = match &a.site_key {
        Some(p) => {
            let bad = || Failure::usage("the site key is 64 hex digits (citysec telemetry new-master makes one)");
            let text = read_text(p)?;
            Some(
                hex::decode(text.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(bad)?,
            )
        }
        None => None,
    };
    let mut records = Vec::new();
    let mut pending = Vec::new();
    for (i, path) in a.records.iter().enumerate() {
        let bytes = if a.json {
            let (r, ds) = record_from_json(&read_json(path)?, site_key.as_ref())?;
            pending.extend(ds.into_iter().map(|(f, d)| (i, f, d)));
            r.to_cbor().map_err(|e| Failure::Rejected(e.to_string()))?
        } else {
            let bytes = read(path)?;
            Record::from_cbor(&bytes).map_err(|e| Failure::Rejected(format!("`{}`: {e}", path.display())))?;
            bytes
        };
        records.push(bytes);
    }
    if !pending.is_empty() && a.side_table.is_none() {
        return Err(Failure::usage("records with personal values need --side-table"));
    }
    let mut log = match (&a.origin, a.log.exists()) {
        (Some(origin), _) => RedbLog::open(&a.log, origin),
        (None, true) => RedbLog::open_existing(&a.log),
        (None, false) => return Err(Failure::usage("a new log needs --origin")),
    }
    .map_err(|e| store_failure(&e))?;
    let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
    let range = log.append(&refs).map_err(|e| store_failure(&e))?;
    if let Some(path) = &a.side_table {
        let mut table = SideTable::load(path)?;
        for (i, field, d) in pending {
            let index = range.start.saturating_add(u64::try_from(i).unwrap_or(u64::MAX));
            table.entries.push((index, field.to_owned(), d));
        }
        table.save(path)?;
    }
    Ok(json!({
        "origin": log.origin(),
        "first": range.start,
        "end": range.end,
        "size": log.size(),
        "root": hex::encode(log.root()),
        "leaf_hashes": hashes_json(&records.iter().map(|r| merkle::leaf_hash(r)).collect::<Vec<_>>()),
    }))
}

fn checkpoint(a: &CheckpointArgs) -> Result<Json, Failure> {
    let log = open_log(&a.log)?;
    let name = a.name.clone().unwrap_or_else(|| log.origin().to_owned());
    let ns = NoteSigner::new(&name, signer(&a.key)?).map_err(|e| Failure::usage(format!("note key: {e}")))?;
    let vkey = ns.verifier(P).map_err(|e| Failure::usage(e.to_string()))?.to_vkey();
    let cp = log.checkpoint().map_err(|e| store_failure(&e))?;
    let note = cp.sign(&ns).map_err(|e| Failure::usage(e.to_string()))?;
    if let Some(out) = &a.out {
        write(out, note.as_bytes())?;
    }
    let mut v = json!({
        "origin": log.origin(),
        "size": log.size(),
        "root": hex::encode(log.root()),
        "vkey": vkey,
        "checkpoint": note,
    });
    if let Some(dir) = &a.tiles {
        let stats = log.write_tiles(dir, log.size(), &note).map_err(|e| store_failure(&e))?;
        if let Some(m) = v.as_object_mut() {
            m.insert("tiles_written".into(), json!(stats.tiles));
            m.insert("bundles_written".into(), json!(stats.bundles));
        }
    }
    Ok(v)
}

fn prove(a: &ProveArgs) -> Result<Json, Failure> {
    let log = open_log(&a.log)?;
    let size = a.size.unwrap_or_else(|| log.size());
    let fail = |e: citysec::std_adapters::Error| store_failure(&e);
    if let Some(from) = a.from {
        let proof = log.consistency_proof(from, size).map_err(fail)?;
        return Ok(json!({
            "size1": from,
            "size2": size,
            "root1": hex::encode(log.root_at(from).map_err(fail)?),
            "root2": hex::encode(log.root_at(size).map_err(fail)?),
            "proof": hashes_json(&proof),
        }));
    }
    let index = a.index.ok_or_else(|| Failure::usage("give --index or --from"))?;
    let proof = log.inclusion_proof(index, size).map_err(fail)?;
    let root = log.root_at(size).map_err(fail)?;
    let record = log.entry(index).map_err(fail)?.unwrap_or_default();
    if let (Some(out), Some(key)) = (&a.receipt, &a.key) {
        let receipt =
            issue_inclusion(&*signer(key)?, size, index, &proof, &root).map_err(|e| Failure::usage(e.to_string()))?;
        write(out, &receipt)?;
    }
    Ok(json!({
        "index": index,
        "size": size,
        "root": hex::encode(root),
        "leaf_hash": hex::encode(merkle::leaf_hash(&record)),
        "record": hex::encode(&record),
        "proof": hashes_json(&proof),
    }))
}

fn vkey_arg(arg: &str) -> Result<NoteVerifier, Failure> {
    let text = if Path::new(arg).is_file() {
        read_text(Path::new(arg))?.trim().to_owned()
    } else {
        arg.to_owned()
    };
    NoteVerifier::from_vkey(P, &text).map_err(|e| Failure::usage(format!("verifier key `{arg}`: {e}")))
}

fn verified_checkpoint(t: &TrustArgs, path: &Path) -> Result<VerifiedCheckpoint, Failure> {
    let mut v = CheckpointVerifier::new(&t.origin, vkey_arg(&t.trust)?).map_err(|e| Failure::usage(e.to_string()))?;
    if !t.witness.is_empty() || t.witnesses.is_some() {
        let ws = t.witness.iter().map(|w| vkey_arg(w)).collect::<Result<Vec<_>, _>>()?;
        let k = t.witnesses.unwrap_or(ws.len());
        v = v.with_witnesses(ws, k).map_err(|e| Failure::usage(e.to_string()))?;
    }
    v.verify(P, &read(path)?)
        .map_err(|e| Failure::Rejected(format!("checkpoint `{}`: {e}", path.display())))
}

/// The hashes of a proof file's `proof` array.
fn proof_hashes(v: &Json, path: &Path) -> Result<Vec<Hash>, Failure> {
    let bad = || Failure::usage(format!("`{}` is not a proof", path.display()));
    let list = v.get("proof").and_then(Json::as_array).ok_or_else(bad)?;
    if list.len() > merkle::MAX_PROOF_LEN {
        return Err(Failure::Rejected(citysec::audit::Error::ProofLength.to_string()));
    }
    list.iter()
        .map(|h| {
            h.as_str()
                .and_then(|h| hex::decode(h).ok())
                .and_then(|b| merkle::hash_from_slice(&b).ok())
                .ok_or_else(bad)
        })
        .collect()
}

fn verify_inclusion(a: &VerifyInclusionArgs) -> Result<Json, Failure> {
    let record = read(&a.record)?;
    let leaf = merkle::leaf_hash(&record);
    if let (Some(path), Some(key)) = (&a.receipt, &a.receipt_key) {
        let bytes = read(path)?;
        let key = verifying_key(key)?;
        let r = Receipt::parse(&bytes)
            .and_then(|r| r.verify_inclusion(P, &key, &leaf))
            .map_err(|e| Failure::Rejected(format!("receipt: {e}")))?;
        return Ok(json!({
            "verified": true,
            "root": hex::encode(r.root()),
            "leaf_hash": hex::encode(leaf),
            // The receipt's size and index are not signed: only the root is.
            "claimed_size": r.claimed_tree_size(),
        }));
    }
    let (Some(cp), Some(proof)) = (&a.checkpoint, &a.proof) else {
        return Err(Failure::usage("give --checkpoint and --proof, or --receipt"));
    };
    let verified = verified_checkpoint(&a.trust, cp)?;
    let pj = read_json(proof)?;
    let index = pj
        .get("index")
        .and_then(Json::as_u64)
        .ok_or_else(|| Failure::usage("the proof names no index"))?;
    let hashes = proof_hashes(&pj, proof)?;
    let c = verified.checkpoint();
    merkle::verify_inclusion(index, c.size(), &leaf, &hashes, c.root())
        .map_err(|e| Failure::Rejected(format!("inclusion: {e}")))?;
    Ok(json!({
        "verified": true,
        "index": index,
        "size": c.size(),
        "root": hex::encode(c.root()),
        "leaf_hash": hex::encode(leaf),
        "cosigned_by": verified.cosignatures().iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
    }))
}

fn verify_consistency(a: &VerifyConsistencyArgs) -> Result<Json, Failure> {
    let new = verified_checkpoint(&a.trust, &a.checkpoint)?;
    let pj = read_json(&a.proof)?;
    let hashes = proof_hashes(&pj, &a.proof)?;
    let n = new.checkpoint();
    if let Some(pin_path) = &a.pin {
        let mut pin = FilePin::open(pin_path).map_err(|e| store_failure(&e))?;
        let from = pin.pinned().map(|p| (p.size(), hex::encode(p.root())));
        pin.accept(&new, &hashes)
            .map_err(|e| store_failure_in("consistency with the pin: ", &e))?;
        return Ok(json!({
            "verified": true,
            "pinned_before": from.map(|(s, r)| json!({"size": s, "root": r})),
            "pinned": {"size": n.size(), "root": hex::encode(n.root())},
        }));
    }
    let old_path = a.old.as_ref().ok_or_else(|| Failure::usage("give --old or --pin"))?;
    let old = verified_checkpoint(&a.trust, old_path)?;
    let o = old.checkpoint();
    merkle::verify_consistency(o.size(), n.size(), o.root(), n.root(), &hashes)
        .map_err(|e| Failure::Rejected(format!("consistency: {e}")))?;
    Ok(json!({
        "verified": true,
        "size1": o.size(),
        "size2": n.size(),
        "root1": hex::encode(o.root()),
        "root2": hex::encode(n.root()),
    }))
}

fn cosign_cmd(a: &CosignArgs) -> Result<Json, Failure> {
    verified_checkpoint(&a.trust, &a.checkpoint)?;
    let note = read_text(&a.checkpoint)?;
    let time = now_or_clock(a.time)?.as_unix_seconds();
    let ns = NoteSigner::cosigner(&a.name, signer(&a.key)?).map_err(|e| Failure::usage(format!("witness key: {e}")))?;
    let vkey = ns.verifier(P).map_err(|e| Failure::usage(e.to_string()))?.to_vkey();
    let cosigned = cosign(&ns, &note, time).map_err(|e| Failure::usage(e.to_string()))?;
    if let Some(out) = &a.out {
        write(out, cosigned.as_bytes())?;
    }
    Ok(json!({"witness": vkey, "time": time, "checkpoint": cosigned}))
}

fn show(a: &ShowArgs) -> Result<Json, Failure> {
    let log = open_log(&a.log)?;
    let side = match &a.side_table {
        Some(p) => SideTable::load(p)?,
        None => SideTable::default(),
    };
    let end = a.from.saturating_add(a.count).min(log.size());
    let mut records = Vec::new();
    for index in a.from..end {
        let bytes = log.entry(index).map_err(|e| store_failure(&e))?.unwrap_or_default();
        let mut m = Map::new();
        m.insert("index".into(), json!(index));
        match Record::from_cbor(&bytes) {
            Ok(r) => describe(&r, index, &side, &mut m),
            Err(_) => {
                m.insert("entry".into(), json!(hex::encode(&bytes)));
            }
        }
        records.push(Json::Object(m));
    }
    Ok(json!({"origin": log.origin(), "size": log.size(), "records": records}))
}

/// The fields of `r` as JSON, personal values from `side` or `[erased]`.
fn describe(r: &Record, index: u64, side: &SideTable, m: &mut Map<String, Json>) {
    let mut put = |k: &str, v: Json| {
        m.insert(k.into(), v);
    };
    put("kind", json!(r.kind().name()));
    put("time", json!(r.time()));
    put("source", json!(r.source()));
    if r.dropped() > 0 {
        put("dropped", json!(r.dropped()));
    }
    let texts = [
        ("door", r.door()),
        ("step", r.step()),
        ("rule", r.rule()),
        ("reason", r.reason()),
        ("issuer", r.issuer()),
        ("device", r.device()),
        ("tier", r.tier()),
        ("name", r.name()),
    ];
    for (k, v) in texts {
        if let Some(v) = v {
            put(k, json!(v));
        }
    }
    if let Some(o) = r.outcome() {
        put("outcome", json!(o.name()));
    }
    if let Some(n) = r.number() {
        put("number", json!(n));
    }
    if let Some(n) = r.end() {
        put("end", json!(n));
    }
    for (field, personal) in [("subject", r.subject()), ("credential_id", r.credential_id())] {
        let Some(p) = personal else { continue };
        let mut v = BTreeMap::new();
        v.insert("pseudonym", json!(hex::encode(p.pseudonym())));
        match side.get(index, field).filter(|d| p.is_opened_by(d)) {
            Some(d) => {
                v.insert("value", json!(d.value()));
                v.insert("salt", json!(hex::encode(d.salt())));
            }
            None => {
                v.insert("value", json!("[erased]"));
            }
        }
        put(field, json!(v));
    }
}

fn erase(a: &EraseArgs) -> Result<Json, Failure> {
    let mut table = SideTable::load(&a.side_table)?;
    let before = table.entries.len();
    table.entries.retain(|(_, _, d)| d.value() != a.value);
    let erased = before.saturating_sub(table.entries.len());
    table.save(&a.side_table)?;
    Ok(json!({"erased": erased}))
}
