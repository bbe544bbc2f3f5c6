//! `citysec key generate` and `citysec key public`.

use std::path::{Path, PathBuf};

use citysec::core::{Algorithm, Key, SigningKey, SymmetricKey, X25519SecretKey};
use citysec::std_adapters::{self as adapters, ExistingFile, KeyFormat, OsRandom};
use clap::{Args, Subcommand, ValueEnum};

use crate::out::{Out, outln};
use crate::view::bytes_label;
use crate::{CmdResult, Failure};

pub(crate) const KEY_HELP: &str = "\
Examples:
  citysec key generate --alg EdDSA --kid issuer-1 --out issuer.key
  citysec key public issuer.key --out issuer.pub";

const GENERATE_HELP: &str = "\
Secret keys are written with mode 0600; the secret is never printed.
PEM (PKCS#8) is available for EdDSA and ES256 only, and cannot hold a kid.
With --pkcs11 the key pair is made in the token (sensitive, not extractable);
every signing --key then accepts the same URI.

Examples:
  citysec key generate --alg EdDSA --kid issuer-1 --out issuer.key
  citysec key generate --alg ES256 --format pem --out device.pem
  citysec key generate --alg ChaCha20Poly1305 --kid door-17 --out door-17.key
  CITYSEC_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so CITYSEC_PKCS11_PIN_FILE=pin \\
    citysec key generate --alg EdDSA --pkcs11 'pkcs11:token=city;object=issuer-1' --out issuer.pub";

const PUBLIC_HELP: &str = "\
KEY may be a COSE_Key or a PEM file. Symmetric keys have no public half.

Examples:
  citysec key public issuer.key --out issuer.pub
  citysec key public device.pem --out device.pub.pem --format pem";

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Generate a new key with the operating system's random source.
    #[command(after_help = GENERATE_HELP)]
    Generate(GenerateArgs),
    /// Write the public half of a key.
    #[command(after_help = PUBLIC_HELP)]
    Public(PublicArgs),
}

/// Algorithms `key generate` makes keys for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AlgArg {
    /// Ed25519 signing key (COSE -8).
    #[value(name = "EdDSA")]
    EdDsa,
    /// P-256 ECDSA signing key (COSE -7).
    #[value(name = "ES256")]
    Es256,
    /// ChaCha20/Poly1305 key (COSE 24).
    #[value(name = "ChaCha20Poly1305")]
    ChaCha20Poly1305,
    /// AES-128-GCM key (COSE 1).
    #[value(name = "A128GCM")]
    A128Gcm,
    /// AES-256-GCM key (COSE 3).
    #[value(name = "A256GCM")]
    A256Gcm,
    /// Static X25519 key-agreement key.
    #[value(name = "X25519")]
    X25519,
}

/// Key file formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    /// COSE_Key as raw CBOR (every key kind, keeps the kid).
    #[default]
    Cose,
    /// PEM: PKCS#8 private keys, SPKI public keys (EdDSA and ES256 only, no kid).
    Pem,
}

impl From<FormatArg> for KeyFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Cose => Self::CoseKey,
            FormatArg::Pem => Self::Pem,
        }
    }
}

/// Arguments of `key generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// The algorithm the key is for.
    #[arg(long, value_enum, ignore_case = true)]
    alg: AlgArg,
    /// Key id stored in the COSE_Key (UTF-8 text).
    #[arg(long, value_name = "ID", conflicts_with = "pkcs11")]
    kid: Option<String>,
    /// Where to write the key (with --pkcs11: where to write its public key).
    #[arg(long, value_name = "KEY", required_unless_present = "pkcs11")]
    out: Option<PathBuf>,
    /// Create the key in a PKCS#11 token instead: the URI names the token and the
    /// key's label (`object`, which becomes its kid); EdDSA and ES256 only. The
    /// module comes from --pkcs11-module or CITYSEC_PKCS11_MODULE, the PIN from
    /// CITYSEC_PKCS11_PIN, CITYSEC_PKCS11_PIN_FILE or the URI's pin-source file.
    #[arg(long, value_name = "URI")]
    pkcs11: Option<String>,
    /// File format.
    #[arg(long, value_enum, default_value_t = FormatArg::Cose)]
    format: FormatArg,
    /// Replace OUT if it exists (atomically).
    #[arg(long)]
    force: bool,
}

/// Arguments of `key public`.
#[derive(Debug, Args)]
pub(crate) struct PublicArgs {
    /// The key file (COSE_Key or PEM), or a `pkcs11:` URI of a token key.
    #[arg(value_name = "KEY")]
    key: PathBuf,
    /// Where to write the public key.
    #[arg(long, value_name = "PUB")]
    out: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value_t = FormatArg::Cose)]
    format: FormatArg,
    /// Replace PUB if it exists (atomically).
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(cmd: KeyCommand, out: &mut Out) -> CmdResult {
    match cmd {
        KeyCommand::Generate(args) => generate(&args, out),
        KeyCommand::Public(args) => public(&args, out),
    }
}

/// Reads a key file, with the path in the error. A `pkcs11:` URI is refused
/// here: only signing keys live in tokens, and the commands that take one read
/// it through `common::signer` or `common::verifying_key`.
pub(crate) fn read_key(path: &Path) -> Result<Key, Failure> {
    if crate::common::pkcs11_uri(path).is_some() {
        return Err(Failure::usage(format!(
            "`{}`: a pkcs11: URI can only name an EdDSA or ES256 signing key; symmetric and X25519 keys stay in files",
            path.display()
        )));
    }
    adapters::read_key(path).map_err(|e| Failure::usage(format!("cannot use key file `{}`: {e}", path.display())))
}

fn existing(force: bool) -> ExistingFile {
    if force {
        ExistingFile::Replace
    } else {
        ExistingFile::Refuse
    }
}

fn write(path: &Path, key: &Key, format: FormatArg, force: bool) -> CmdResult {
    adapters::write_key(path, key, format.into(), existing(force)).map_err(|e| {
        if e.io_kind() == Some(std::io::ErrorKind::AlreadyExists) {
            Failure::usage(format!(
                "`{}` already exists (use --force to replace it)",
                path.display()
            ))
        } else {
            Failure::usage(e.to_string())
        }
    })
}

fn generate(args: &GenerateArgs, out: &mut Out) -> CmdResult {
    if let Some(uri) = &args.pkcs11 {
        return generate_in_token(args, uri, out);
    }
    let Some(path) = &args.out else {
        return Err(Failure::usage("--out is required"));
    };
    let asymmetric_sig = matches!(args.alg, AlgArg::EdDsa | AlgArg::Es256);
    if args.format == FormatArg::Pem {
        if !asymmetric_sig {
            return Err(Failure::usage(
                "--format pem is available for EdDSA and ES256 keys only",
            ));
        }
        if args.kid.is_some() {
            return Err(Failure::usage(
                "a pem file cannot hold a kid; use --format cose to keep --kid",
            ));
        }
    }
    let mut rng = OsRandom;
    let key = match args.alg {
        AlgArg::EdDsa => SigningKey::generate(Algorithm::EdDSA, &mut rng).map(Key::Signing),
        AlgArg::Es256 => SigningKey::generate(Algorithm::ES256, &mut rng).map(Key::Signing),
        AlgArg::ChaCha20Poly1305 => SymmetricKey::generate(Algorithm::ChaCha20Poly1305, &mut rng).map(Key::Symmetric),
        AlgArg::A128Gcm => SymmetricKey::generate(Algorithm::A128GCM, &mut rng).map(Key::Symmetric),
        AlgArg::A256Gcm => SymmetricKey::generate(Algorithm::A256GCM, &mut rng).map(Key::Symmetric),
        AlgArg::X25519 => X25519SecretKey::generate(&mut rng).map(Key::X25519Secret),
    }
    .and_then(|key| key.complete(&citysec::ring::PROVIDER))
    .map_err(|e| Failure::usage(format!("key generation failed: {e}")))?;
    let key = match &args.kid {
        Some(kid) if kid.is_empty() => return Err(Failure::usage("--kid must not be empty")),
        Some(kid) => key.with_kid(kid.as_bytes().to_vec()),
        None => key,
    };
    write(path, &key, args.format, args.force)?;
    outln!(
        out,
        "wrote {} to {} ({}, mode 0600)",
        describe(&key),
        path.display(),
        format_name(args.format)
    );
    if let Ok(Some(public)) = key.public(&citysec::ring::PROVIDER) {
        outln!(out, "public key: {}", public_hex(&public));
    }
    Ok(())
}

/// `key generate --pkcs11`: a key pair made in the token; the private key never
/// leaves it.
fn generate_in_token(args: &GenerateArgs, uri: &str, out: &mut Out) -> CmdResult {
    use citysec::core::provider::Signer as _;
    use citysec_pkcs11::{Pkcs11Signer, Pkcs11Uri};

    let alg = match args.alg {
        AlgArg::EdDsa => Algorithm::EdDSA,
        AlgArg::Es256 => Algorithm::ES256,
        _ => {
            return Err(Failure::usage(
                "--pkcs11 makes EdDSA and ES256 signing keys only; symmetric and X25519 keys stay in files",
            ));
        }
    };
    let parsed = Pkcs11Uri::parse(uri).map_err(|e| crate::common::pkcs11_failure(&e))?;
    let module = crate::common::pkcs11_module()?;
    let signer = Pkcs11Signer::generate(&module, &parsed, alg).map_err(|e| crate::common::pkcs11_failure(&e))?;
    let public = Key::Verifying(signer.verifying_key().clone());
    outln!(out, "created {} in the token: {}", describe(&public), signer.uri());
    if let Some(path) = &args.out {
        write(path, &public, args.format, args.force)?;
        outln!(
            out,
            "wrote the public key to {} ({})",
            path.display(),
            format_name(args.format)
        );
    }
    outln!(out, "public key: {}", public_hex(&public));
    Ok(())
}

fn public(args: &PublicArgs, out: &mut Out) -> CmdResult {
    let key = if crate::common::pkcs11_uri(&args.key).is_some() {
        Key::Verifying(crate::common::verifying_key(&args.key)?)
    } else {
        read_key(&args.key)?
    };
    let public = key
        .public(&citysec::ring::PROVIDER)
        .map_err(|e| Failure::usage(format!("`{}`: {e}", args.key.display())))?;
    let Some(public) = public else {
        return Err(Failure::usage(format!(
            "`{}` holds a symmetric key, which has no public half",
            args.key.display()
        )));
    };
    if args.format == FormatArg::Pem && !matches!(public, Key::Verifying(_)) {
        return Err(Failure::usage(
            "--format pem is available for EdDSA and ES256 keys only",
        ));
    }
    if args.format == FormatArg::Pem
        && let Some(kid) = public.kid()
    {
        outln!(
            out,
            "note: pem cannot hold a kid; kid {} is not written",
            bytes_label(kid)
        );
    }
    write(&args.out, &public, args.format, args.force)?;
    outln!(
        out,
        "wrote {} to {} ({})",
        describe(&public),
        args.out.display(),
        format_name(args.format)
    );
    outln!(out, "public key: {}", public_hex(&public));
    Ok(())
}

fn format_name(f: FormatArg) -> &'static str {
    match f {
        FormatArg::Cose => "COSE_Key",
        FormatArg::Pem => "PEM",
    }
}

/// A one-line description of a key without secret material.
pub(crate) fn describe(key: &Key) -> String {
    let kind = match key {
        Key::Signing(_) => "private key",
        Key::Verifying(_) => "public key",
        Key::Symmetric(_) => "symmetric key",
        Key::X25519Secret(_) => "private key",
        Key::X25519Public(_) => "public key",
        _ => "key",
    };
    let alg = match key {
        Key::X25519Secret(_) | Key::X25519Public(_) => "X25519".to_owned(),
        other => format!("{} ({})", other.algorithm().name(), other.algorithm().cose_id()),
    };
    match key.kid() {
        Some(kid) => format!("{alg} {kind}, kid {}", bytes_label(kid)),
        None => format!("{alg} {kind}, no kid"),
    }
}

fn public_hex(key: &Key) -> String {
    match key {
        Key::Verifying(k) => hex::encode(k.as_bytes()),
        Key::X25519Public(k) => hex::encode(k.as_bytes()),
        _ => String::new(),
    }
}
