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

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use citysec::core::Key;
use citysec::ring::Ring;
use citysec::std_adapters::telemetry::RedbReplayStore;
use citysec::std_adapters::{ExistingFile, KeyFormat, OsRandom, write_key};
use citysec::telemetry::{Envelope, MasterSecret, Receiver, ReceiverConfig, seal};
use clap::{Args, Subcommand};

use crate::inspect::read_token;
use crate::out::{Out, outln};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
Examples:
  citysec telemetry new-master --out site.master
  citysec telemetry derive --master site.master --device sensor-0042 --out sensor-0042.key
  citysec telemetry seal --master site.master --device sensor-0042 --seq 1 --topic city/air/no2 reading.json env.cbor
  citysec telemetry open --master site.master --state gateway-state env.cbor
  citysec telemetry open --master site.master --store redis://127.0.0.1:6379 env.cbor";

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
    /// Seal a reading as an envelope with an explicit sequence number.
    #[command(
        after_help = "Never seal twice with the same device, epoch and sequence number.\n\nExample:\n  citysec telemetry seal --master site.master --device sensor-0042 --seq 1 --topic city/air/no2 reading.json env.cbor"
    )]
    Seal(SealArgs),
    /// Open an envelope, with the replay state kept in a directory across runs.
    #[command(
        after_help = "Exit 0 and the reading; exit 1 if the envelope is forged, replayed or for another topic.\n\nExamples:\n  citysec telemetry open --master site.master --state gateway-state env.cbor\n  citysec telemetry open --master site.master --store redis://127.0.0.1:6379 env.cbor"
    )]
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
    #[arg(long)]
    master: PathBuf,
    /// The device id (text).
    #[arg(long)]
    device: String,
    /// The sequence number.
    #[arg(long)]
    seq: u64,
    /// The topic the reading belongs to.
    #[arg(long, default_value = "")]
    topic: String,
    /// The key epoch.
    #[arg(long, default_value_t = 0)]
    epoch: u32,
    /// The reading.
    input: PathBuf,
    /// Where to write the envelope.
    output: PathBuf,
}

/// Arguments of `telemetry open`.
#[derive(Debug, Args)]
pub(crate) struct OpenArgs {
    /// The master secret file.
    #[arg(long)]
    master: PathBuf,
    /// Directory of the persistent replay state (created if missing).
    #[arg(long, required_unless_present = "store", conflicts_with = "store")]
    state: Option<PathBuf>,
    /// Replay state in Redis instead, shared by gateways (`redis://[:PASSWORD@]HOST:PORT`).
    /// The server must run `appendonly yes` and `appendfsync always` and must not
    /// evict with an `allkeys-*` policy; any other server is refused (exit 2).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Accepted key epochs (default 0); repeat for several.
    #[arg(long)]
    epoch: Vec<u32>,
    /// Require this topic.
    #[arg(long)]
    topic: Option<String>,
    /// Write the reading here instead of printing it.
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
        .derive(&Ring, a.device.as_bytes(), a.epoch)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let k = citysec::core::SymmetricKey::new(key.key().algorithm(), key.key().secret_bytes())
        .map_err(|e| Failure::usage(e.to_string()))?
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

fn seal_cmd(a: &SealArgs, out: &mut Out) -> CmdResult {
    let master = read_master(&a.master)?;
    let key = master
        .derive(&Ring, a.device.as_bytes(), a.epoch)
        .map_err(|e| Failure::usage(e.to_string()))?;
    let reading = std::fs::read(&a.input)
        .map_err(|e| Failure::usage(format!("cannot read `{}`: {}", a.input.display(), e.kind())))?;
    let env = seal(&Ring, &key, a.seq, &a.topic, &reading).map_err(|e| Failure::usage(e.to_string()))?;
    std::fs::write(&a.output, &env)
        .map_err(|e| Failure::usage(format!("cannot write `{}`: {}", a.output.display(), e.kind())))?;
    outln!(
        out,
        "sealed {} bytes as seq {} ({} bytes) to {}",
        reading.len(),
        a.seq,
        env.len(),
        a.output.display()
    );
    Ok(())
}

fn open(a: &OpenArgs, out: &mut Out) -> CmdResult {
    let master = read_master(&a.master)?;
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
            Receiver::new(master, config, store)
                .open(&Ring, &bytes, a.topic.as_deref(), &mut plaintext)
                .map_err(|e| Failure::Rejected(e.to_string()))?
        }
        (None, None) => return Err(Failure::usage("give --state DIR or --store redis://HOST:PORT")),
    };
    let device = String::from_utf8_lossy(env.device_id());
    outln!(out, "device: {device}");
    outln!(out, "seq: {}", env.seq());
    outln!(out, "epoch: {}", env.epoch());
    outln!(out, "topic: {}", env.topic());
    match &a.out {
        Some(path) => {
            std::fs::write(path, &plaintext)
                .map_err(|e| Failure::usage(format!("cannot write `{}`: {}", path.display(), e.kind())))?;
            outln!(out, "wrote {} bytes to {}", plaintext.len(), path.display());
        }
        None => match core::str::from_utf8(&plaintext) {
            Ok(text) if !text.chars().any(|c| c.is_control() && c != '\n') => {
                outln!(out, "reading: {}", text.trim_end());
            }
            _ => outln!(out, "reading (hex): {}", hex::encode(&plaintext)),
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
    let mut receiver = Receiver::new(master, config, store);
    receiver
        .open(&Ring, bytes, topic, plaintext)
        .map_err(|e| match receiver.store().last_error() {
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
