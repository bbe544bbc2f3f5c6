//! `citysec telemetry ...`: seal and open envelopes, derive device keys.
//!
//! The master secret file holds 32 bytes, raw or as 64 hex digits
//! (`citysec telemetry new-master` writes one with mode 0600).
//!
//! `open` keeps the replay windows in a redb file under `--state DIR` (one
//! gateway), or in Redis with `--store redis://HOST:PORT` (gateways sharing the
//! same devices; the CLI's default `redis` feature). Redis unreachable when `open`
//! starts is exit 2; Redis failing while it checks the window is exit 1 (refused,
//! nothing accepted) with Redis's reason.
//!
//! Recipient mode (`seal --to`, `open --recipient-key`) is COSE_Encrypt with
//! ECDH-ES + HKDF-256 over X25519 (docs/telemetry-envelope.md, "Recipient mode"):
//! confidentiality towards the holder of the X25519 key, no sender authentication
//! and no replay protection.
//!
//! Everything `open` prints from an envelope is made safe for a terminal by the
//! rule in [`OPEN_HELP`].

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use citysec::core::{Algorithm, Key, X25519SecretKey};
use citysec::std_adapters::telemetry::RedbReplayStore;
use citysec::std_adapters::{ExistingFile, KeyFormat, OsRandom, write_key};
use citysec::telemetry::recipient::{open_from, seal_to};
use citysec::telemetry::{Envelope, MasterSecret, Receiver, ReceiverConfig, seal};
use clap::{Args, Subcommand};

use crate::common::write_file;
use crate::inspect::read_token;
use crate::key::read_key;
use crate::out::{Out, outln};
use crate::view::{escape, kid_label, plain_text};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
Examples:
  citysec telemetry new-master --out site.master
  citysec telemetry derive --master site.master --device sensor-0042 --out sensor-0042.key
  citysec telemetry seal --master site.master --device sensor-0042 --seq 1 --topic city/air/no2 reading.json env.cbor
  citysec telemetry open --master site.master --state gateway-state env.cbor
  citysec telemetry open --master site.master --store redis://127.0.0.1:6379 env.cbor
  citysec telemetry seal --to backend.pub --topic city/air/no2 reading.json sealed.cbor
  citysec telemetry open --recipient-key backend.key --topic city/air/no2 sealed.cbor";

const SEAL_HELP: &str = "\
Never seal twice with the same device, epoch and sequence number.

seal refuses (exit 2, nothing written) what open would refuse: a device id of 0 or
more than 64 bytes, a topic over 128 bytes, a sequence number above 2^40 - 1, and an
envelope larger than 65536 bytes (open's limit), so a reading over 65536 bytes minus
the envelope's overhead.

With --to KEY (an X25519 public COSE_Key) the reading is sealed to that key instead
(recipient mode: COSE_Encrypt, ECDH-ES + HKDF-256, ChaCha20/Poly1305, a fresh
ephemeral key and IV; the topic, if any, is the external AAD). It hides the reading
from all but the key's holder; it authenticates no sender and carries no sequence
number. The message must not exceed 65536 bytes either.

Examples:
  citysec telemetry seal --master site.master --device sensor-0042 --seq 1 --topic city/air/no2 reading.json env.cbor
  citysec telemetry seal --to backend.pub --topic city/air/no2 reading.json sealed.cbor";

/// How `open` prints what it found (also in the README and docs).
pub(crate) const OPEN_HELP: &str = "\
Exit 0 and the reading; exit 1 if the envelope is forged, replayed or for another
topic (or, with --recipient-key, does not open with that key).

Output: `device: ID` or `device (hex): HEX`, `seq: N`, `epoch: N`, `topic: T`, then
`reading: TEXT` or `reading (hex): HEX` (or `wrote N bytes to FILE` with --out).
Recipient mode prints `mode: recipient ...`, the topic given, and the reading.
Nothing from the envelope reaches the terminal raw:
  - the device id is printed as text only if it is non-empty UTF-8 without any
    character listed below; otherwise (binary ids) as lowercase hex after
    `device (hex):`;
  - the topic and a UTF-8 reading are printed with `\\` written as `\\\\` and every
    listed character written as `\\u{H}` (H its code point in lowercase hex, no
    leading zeros); a reading has trailing spaces, tabs, CRs and LFs removed first;
    a reading that is not UTF-8 is printed as lowercase hex after `reading (hex):`.
  Listed characters: U+0000-U+001F, U+007F-U+009F (control characters), U+061C,
  U+200E, U+200F, U+202A-U+202E, U+2066-U+2069 (bidirectional formatting) and
  U+2028, U+2029 (line and paragraph separators).
--out FILE gets the exact reading bytes, written with mode 0600 through a temporary
file and an atomic rename (an existing FILE is replaced).

Examples:
  citysec telemetry open --master site.master --state gateway-state env.cbor
  citysec telemetry open --master site.master --store redis://127.0.0.1:6379 env.cbor
  citysec telemetry open --recipient-key backend.key --topic city/air/no2 sealed.cbor";

/// Telemetry subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum TelemetryCommand {
    /// Generate a site master secret (32 random bytes, written with mode 0600).
    #[command(after_help = "Example:\n  citysec telemetry new-master --out site.master")]
    NewMaster(NewMasterArgs),
    /// Derive a device's envelope key (COSE_Key: ChaCha20/Poly1305, kid = device id, Base IV = common IV).
    #[command(
        after_help = "Example:\n  citysec telemetry derive --master site.master --device sensor-0042 --out sensor-0042.key"
    )]
    Derive(DeriveArgs),
    /// Seal a reading as an envelope with an explicit sequence number, or to a recipient key.
    #[command(after_help = SEAL_HELP)]
    Seal(SealArgs),
    /// Open an envelope (replay state kept in a directory or Redis), or a message sealed to a recipient key.
    #[command(after_help = OPEN_HELP)]
    Open(OpenArgs),
}

/// Arguments of `telemetry new-master`.
#[derive(Debug, Args)]
pub(crate) struct NewMasterArgs {
    /// Where to write the secret.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `telemetry derive`.
#[derive(Debug, Args)]
pub(crate) struct DeriveArgs {
    /// The master secret file.
    #[arg(long)]
    master: PathBuf,
    /// The device id (text).
    #[arg(long)]
    device: String,
    /// The key epoch.
    #[arg(long, default_value_t = 0)]
    epoch: u32,
    /// Where to write the device key (mode 0600).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `telemetry seal`.
#[derive(Debug, Args)]
pub(crate) struct SealArgs {
    /// The master secret file.
    #[arg(long, required_unless_present = "to", conflicts_with = "to")]
    master: Option<PathBuf>,
    /// The device id (text).
    #[arg(long, required_unless_present = "to", conflicts_with = "to")]
    device: Option<String>,
    /// The sequence number.
    #[arg(long, required_unless_present = "to", conflicts_with = "to")]
    seq: Option<u64>,
    /// The topic the reading belongs to.
    #[arg(long, default_value = "")]
    topic: String,
    /// The key epoch.
    #[arg(long, conflicts_with = "to")]
    epoch: Option<u32>,
    /// Seal to this recipient instead: an X25519 public COSE_Key (recipient mode).
    #[arg(long, value_name = "KEY")]
    to: Option<PathBuf>,
    /// The reading.
    input: PathBuf,
    /// Where to write the envelope.
    output: PathBuf,
}

/// Arguments of `telemetry open`.
#[derive(Debug, Args)]
pub(crate) struct OpenArgs {
    /// The master secret file.
    #[arg(long, required_unless_present = "recipient_key", conflicts_with = "recipient_key")]
    master: Option<PathBuf>,
    /// Directory of the persistent replay state (created if missing).
    #[arg(
        long,
        required_unless_present_any = ["store", "recipient_key"],
        conflicts_with_all = ["store", "recipient_key"]
    )]
    state: Option<PathBuf>,
    /// Replay state in Redis instead, shared by gateways (`redis://[:PASSWORD@]HOST:PORT`).
    /// The server must run `appendonly yes` and `appendfsync always` and must not
    /// evict with an `allkeys-*` policy; any other server is refused (exit 2).
    #[arg(long, value_name = "URL", conflicts_with = "recipient_key")]
    store: Option<String>,
    /// Accepted key epochs (default 0); repeat for several.
    #[arg(long, conflicts_with = "recipient_key")]
    epoch: Vec<u32>,
    /// Require this topic (recipient mode: the topic it was sealed with, else none).
    #[arg(long)]
    topic: Option<String>,
    /// Open a message sealed to a recipient with this X25519 private COSE_Key instead.
    #[arg(long, value_name = "KEY")]
    recipient_key: Option<PathBuf>,
    /// Write the reading here (mode 0600, atomically) instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The envelope.
    envelope: PathBuf,
}

pub(crate) fn run(cmd: TelemetryCommand, out: &mut Out) -> CmdResult {
    match cmd {
        TelemetryCommand::NewMaster(a) => new_master(&a, out),
        TelemetryCommand::Derive(a) => derive(&a, out),
        TelemetryCommand::Seal(a) => seal_cmd(&a, out),
        TelemetryCommand::Open(a) => open(&a, out),
    }
}

fn read_master(path: &Path) -> Result<MasterSecret, Failure> {
    if crate::common::pkcs11_uri(path).is_some() {
        return Err(Failure::usage(
            "a pkcs11: URI can only name an EdDSA or ES256 signing key; the master secret stays in a file",
        ));
    }
    let raw =
        std::fs::read(path).map_err(|e| Failure::usage(format!("cannot read `{}`: {}", path.display(), e.kind())))?;
    let bytes: Vec<u8> = if raw.len() == 32 {
        raw
    } else {
        let text = String::from_utf8(raw).map_err(|_| Failure::usage("the master secret is not 32 bytes or hex"))?;
        hex::decode(text.trim()).map_err(|_| Failure::usage("the master secret is not 32 bytes or hex"))?
    };
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Failure::usage("the master secret must be 32 bytes"))?;
    Ok(MasterSecret::new(arr))
}

fn new_master(a: &NewMasterArgs, out: &mut Out) -> CmdResult {
    let mut secret = [0u8; 32];
    citysec::core::RandomSource::fill(&mut OsRandom, &mut secret).map_err(|e| Failure::usage(e.to_string()))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&a.out)
        .map_err(|e| Failure::usage(format!("cannot create `{}`: {}", a.out.display(), e.kind())))?;
    let text = format!("{}\n", hex::encode(secret));
    secret.fill(0);
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Failure::usage(format!("cannot write `{}`: {}", a.out.display(), e.kind())))?;
    outln!(out, "wrote a new master secret to {} (mode 0600)", a.out.display());
    Ok(())
}

fn derive(a: &DeriveArgs, out: &mut Out) -> CmdResult {
    let master = read_master(&a.master)?;
    let key = master
        .derive(&citysec::ring::PROVIDER, a.device.as_bytes(), a.epoch)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let k = key
        .key()
        .clone()
        .with_kid(a.device.as_bytes().to_vec())
        .with_base_iv(key.common_iv());
    write_key(&a.out, &Key::Symmetric(k), KeyFormat::CoseKey, ExistingFile::Refuse)
        .map_err(|e| Failure::usage(e.to_string()))?;
    outln!(
        out,
        "wrote the key of device `{}` (epoch {}) to {} (COSE_Key, mode 0600)",
        a.device,
        a.epoch,
        a.out.display()
    );
    Ok(())
}

/// The largest envelope `open` accepts (its `ReceiverConfig` and the recipient
/// mode's `Limits` defaults): `seal` refuses to write a larger one.
fn max_envelope() -> usize {
    ReceiverConfig::default()
        .max_envelope
        .min(citysec::core::Limits::DEFAULT.max_message_size)
}

/// Reads the reading, refusing one that cannot fit in an envelope `open` accepts.
fn read_reading(path: &Path) -> Result<Vec<u8>, Failure> {
    let max = max_envelope();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, limit), &mut buf))
        .map_err(|e| Failure::usage(format!("cannot read `{}`: {}", path.display(), e.kind())))?;
    if buf.len() > max {
        return Err(Failure::usage(format!(
            "`{}` is too large: an envelope holds less than {max} bytes of reading",
            path.display()
        )));
    }
    Ok(buf)
}

/// Refuses an envelope larger than `open` accepts.
fn check_size(env: &[u8], reading: usize) -> CmdResult {
    let max = max_envelope();
    if env.len() > max {
        return Err(Failure::usage(format!(
            "the envelope would be {} bytes, over the {max} bytes `open` accepts: the reading ({reading} bytes) is too large",
            env.len()
        )));
    }
    Ok(())
}

fn seal_cmd(a: &SealArgs, out: &mut Out) -> CmdResult {
    if let Some(to) = &a.to {
        return seal_to_cmd(a, to, out);
    }
    let (Some(master), Some(device), Some(seq)) = (&a.master, &a.device, a.seq) else {
        return Err(Failure::usage("give --master, --device and --seq (or --to KEY)"));
    };
    let master = read_master(master)?;
    let key = master
        .derive(&citysec::ring::PROVIDER, device.as_bytes(), a.epoch.unwrap_or(0))
        .map_err(|e| Failure::usage(e.to_string()))?;
    let reading = read_reading(&a.input)?;
    let env =
        seal(&citysec::ring::PROVIDER, &key, seq, &a.topic, &reading).map_err(|e| Failure::usage(e.to_string()))?;
    check_size(&env, reading.len())?;
    // What `open` parses first: never write an envelope it would refuse as malformed.
    Envelope::parse(&env, max_envelope()).map_err(|e| Failure::usage(format!("cannot seal: {e}")))?;
    write_file(&a.output, &env)?;
    outln!(
        out,
        "sealed {} bytes as seq {} ({} bytes) to {}",
        reading.len(),
        seq,
        env.len(),
        a.output.display()
    );
    Ok(())
}

/// `seal --to KEY`: recipient mode.
fn seal_to_cmd(a: &SealArgs, to: &Path, out: &mut Out) -> CmdResult {
    let recipient = match read_key(to)? {
        Key::X25519Public(k) => k,
        Key::X25519Secret(k) => citysec::ring::PROVIDER
            .x25519_public_key(&k)
            .map_err(|e| Failure::usage(format!("`{}`: {e}", to.display())))?,
        _ => {
            return Err(Failure::usage(format!(
                "`{}` is not an X25519 key (make one with `citysec key generate --alg X25519`)",
                to.display()
            )));
        }
    };
    if a.topic.len() > citysec::telemetry::MAX_TOPIC {
        return Err(Failure::usage(citysec::telemetry::Error::InvalidParameter.to_string()));
    }
    let reading = read_reading(&a.input)?;
    let ephemeral = X25519SecretKey::generate(&mut OsRandom).map_err(|e| Failure::usage(e.to_string()))?;
    let mut iv = [0u8; 12];
    citysec::core::RandomSource::fill(&mut OsRandom, &mut iv).map_err(|e| Failure::usage(e.to_string()))?;
    let sealed = seal_to(
        &citysec::ring::PROVIDER,
        &recipient,
        ephemeral,
        Algorithm::ChaCha20Poly1305,
        &iv,
        &reading,
        a.topic.as_bytes(),
    )
    .map_err(|e| Failure::usage(format!("cannot seal to `{}`: {e}", to.display())))?;
    check_size(&sealed, reading.len())?;
    write_file(&a.output, &sealed)?;
    outln!(
        out,
        "sealed {} bytes to the X25519 key {} ({} bytes) to {}",
        reading.len(),
        recipient.kid().map_or_else(|| "without kid".to_owned(), kid_label),
        sealed.len(),
        a.output.display()
    );
    Ok(())
}

fn open(a: &OpenArgs, out: &mut Out) -> CmdResult {
    if let Some(key) = &a.recipient_key {
        return open_recipient(a, key, out);
    }
    let Some(master) = &a.master else {
        return Err(Failure::usage("give --master (or --recipient-key KEY)"));
    };
    let master = read_master(master)?;
    let epochs = if a.epoch.is_empty() { vec![0] } else { a.epoch.clone() };
    let config = ReceiverConfig::default().with_epochs(&epochs);
    let bytes = read_token(&a.envelope)?;
    let mut plaintext = Vec::new();
    let env = match (&a.store, &a.state) {
        (Some(url), _) => open_shared(url, master, config, &bytes, a.topic.as_deref(), &mut plaintext)?,
        (None, Some(state)) => {
            std::fs::create_dir_all(state)
                .map_err(|e| Failure::usage(format!("cannot create `{}`: {}", state.display(), e.kind())))?;
            let store = RedbReplayStore::open(state.join("replay.redb")).map_err(|e| Failure::usage(e.to_string()))?;
            Receiver::new(&citysec::ring::PROVIDER, master, config, store)
                .open(&bytes, a.topic.as_deref(), &mut plaintext)
                .map_err(|e| Failure::Rejected(e.to_string()))?
        }
        (None, None) => return Err(Failure::usage("give --state DIR or --store redis://HOST:PORT")),
    };
    match plain_text(env.device_id()) {
        Some(text) => outln!(out, "device: {text}"),
        None => outln!(out, "device (hex): {}", hex::encode(env.device_id())),
    }
    outln!(out, "seq: {}", env.seq());
    outln!(out, "epoch: {}", env.epoch());
    outln!(out, "topic: {}", escape(env.topic()));
    print_reading(a, &plaintext, out)
}

/// `open --recipient-key KEY`: recipient mode.
fn open_recipient(a: &OpenArgs, path: &Path, out: &mut Out) -> CmdResult {
    let Key::X25519Secret(secret) = read_key(path)? else {
        return Err(Failure::usage(format!(
            "`{}` is not an X25519 private key",
            path.display()
        )));
    };
    let bytes = read_token(&a.envelope)?;
    let topic = a.topic.as_deref().unwrap_or("");
    let plaintext = open_from(
        &citysec::ring::PROVIDER,
        &secret,
        &bytes,
        topic.as_bytes(),
        &citysec::core::Limits::DEFAULT,
    )
    .map_err(|e| Failure::Rejected(e.to_string()))?;
    outln!(
        out,
        "mode: recipient (X25519 ECDH-ES + HKDF-256); the sender is not authenticated and replays are not detected"
    );
    outln!(out, "topic: {}", escape(topic));
    print_reading(a, &plaintext, out)
}

/// The reading: to `--out` (exact bytes, mode 0600, atomically), or printed by the
/// rule of [`OPEN_HELP`].
fn print_reading(a: &OpenArgs, plaintext: &[u8], out: &mut Out) -> CmdResult {
    match &a.out {
        Some(path) => {
            citysec::std_adapters::write_file(path, plaintext, 0o600, ExistingFile::Replace)
                .map_err(|e| Failure::usage(format!("cannot write `{}`: {e}", path.display())))?;
            outln!(out, "wrote {} bytes to {} (mode 0600)", plaintext.len(), path.display());
        }
        None => match core::str::from_utf8(plaintext) {
            Ok(text) => outln!(
                out,
                "reading: {}",
                escape(text.trim_end_matches([' ', '\t', '\r', '\n']))
            ),
            Err(_) => outln!(out, "reading (hex): {}", hex::encode(plaintext)),
        },
    }
    Ok(())
}

/// `open --store URL`: the replay windows in Redis, shared by gateways.
#[cfg(feature = "redis")]
fn open_shared<'a>(
    url: &str,
    master: MasterSecret,
    config: ReceiverConfig,
    bytes: &'a [u8],
    topic: Option<&str>,
    plaintext: &mut Vec<u8>,
) -> Result<Envelope<'a>, Failure> {
    let store = citysec_std::fleet::RedisReplayStore::open(url).map_err(|e| Failure::usage(e.to_string()))?;
    let mut receiver = Receiver::new(
        &citysec::ring::PROVIDER,
        master,
        config,
        citysec::telemetry::Shared(store),
    );
    receiver
        .open(bytes, topic, plaintext)
        .map_err(|e| match receiver.store().0.last_error() {
            Some(why) => Failure::Rejected(format!("{e}: {why}")),
            None => Failure::Rejected(e.to_string()),
        })
}

/// `open --store URL` in a build without the `redis` feature.
#[cfg(not(feature = "redis"))]
fn open_shared<'a>(
    _url: &str,
    _master: MasterSecret,
    _config: ReceiverConfig,
    _bytes: &'a [u8],
    _topic: Option<&str>,
    _plaintext: &mut Vec<u8>,
) -> Result<Envelope<'a>, Failure> {
    Err(Failure::usage(
        "this citysec was built without the `redis` feature: --store is not available",
    ))
}
