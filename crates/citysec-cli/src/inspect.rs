//! `citysec inspect`: diagnostic notation and a readable summary of CBOR and COSE
//! items, with verification or decryption when a key is given.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use citysec::core::coset::cbor::Value;
use citysec::core::encrypt0::{self, TAG_COSE_ENCRYPT0, UnverifiedEncrypt0};
use citysec::core::sign1::{self, TAG_COSE_SIGN1, TAG_CWT, UnverifiedSign1, VerifyOptions};
use citysec::core::{Key, VerifyingKey};
use clap::{Args, ValueEnum};

use crate::key::{describe, read_key};
use crate::out::{Colour, Out, outln};
use crate::view::{self, printable};
use crate::{CmdResult, Failure};

pub(crate) const HELP: &str = "\
FILE may hold raw CBOR, hex text or base64url text (detected; see --encoding),
or be - for stdin. Without --key nothing is authenticated and the output says
UNVERIFIED. With --key a COSE_Sign1 is verified (exit 1 if it does not verify)
and a COSE_Encrypt0 is decrypted with a symmetric key (exit 1 if it does not open).
Secret COSE_Key parameters (d, k) are never printed.

Examples:
  citysec inspect token.cbor
  citysec inspect token.hex --key issuer.pub
  citysec inspect reading.cbor --key door-17.key --external-aad 646f6f722d3137";

/// The largest input `inspect` reads (text encodings of a 64 KiB token fit).
const MAX_INPUT: usize = 1024 * 1024;

/// How the input file is encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Encoding {
    /// Hex text, then base64url (or base64) text, else raw CBOR.
    #[default]
    Auto,
    /// Raw CBOR bytes.
    Raw,
    /// Hex text (whitespace ignored).
    Hex,
    /// Base64url or base64 text, padded or not (whitespace ignored).
    Base64,
}

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The item to inspect (raw CBOR, hex or base64url text; - for stdin).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Verify (COSE_Sign1) or decrypt (COSE_Encrypt0) with this key file.
    #[arg(long, value_name = "KEY")]
    key: Option<PathBuf>,
    /// External AAD bound into the signature or tag, as hex.
    #[arg(long, value_name = "HEX")]
    external_aad: Option<String>,
    /// How FILE is encoded.
    #[arg(long, value_enum, default_value_t = Encoding::Auto)]
    encoding: Encoding,
}

/// What the item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Sign1,
    Encrypt0,
    CoseKey,
    KeySet,
    /// A COSE structure this tool names but does not decode (Mac0, Sign, ...).
    OtherCose(&'static str),
    Plain,
}

/// The outcome of verification or decryption.
enum Verdict {
    /// No key: nothing checked.
    Unverified,
    /// Verified or decrypted; the trusted content.
    Accepted { content: Vec<u8>, key: String },
    /// The message failed; the reason.
    Rejected(String),
}

pub(crate) fn run(args: &InspectArgs, out: &mut Out) -> CmdResult {
    let raw = read_input(&args.file)?;
    let (bytes, encoding) = decode_input(&raw, args.encoding)?;
    if bytes.is_empty() {
        return Err(Failure::usage("the input is empty"));
    }
    let aad = match &args.external_aad {
        Some(h) => hex::decode(h.trim()).map_err(|e| Failure::usage(format!("--external-aad is not hex: {e}")))?,
        None => Vec::new(),
    };
    let value = view::parse(&bytes);
    let (tags, body) = match &value {
        Some(v) => strip_tags(v),
        None => (Vec::new(), None),
    };
    let kind = body.map_or(Kind::Plain, |b| classify(&tags, b));
    let untagged = tags.is_empty();

    let verdict = match &args.key {
        None => Verdict::Unverified,
        Some(path) => {
            let key = read_key(path)?;
            let opts = VerifyOptions::default().with_external_aad(&aad);
            let opts = if untagged { opts.untagged() } else { opts };
            match kind {
                Kind::Sign1 => verify_sign1(&bytes, key, path, &opts)?,
                Kind::Encrypt0 => open_encrypt0(&bytes, key, path, &opts)?,
                other => {
                    return Err(Failure::usage(format!(
                        "--key given, but the input is {}, not a COSE_Sign1 or COSE_Encrypt0",
                        kind_name(other)
                    )));
                }
            }
        }
    };

    match &verdict {
        Verdict::Unverified => {
            let why = match kind {
                Kind::Sign1 => {
                    "UNVERIFIED: signature not checked (pass --key to verify); nothing below is authenticated"
                }
                Kind::Encrypt0 => "UNVERIFIED: not decrypted (pass --key to open); nothing below is authenticated",
                _ => "UNVERIFIED: nothing below is authenticated",
            };
            outln!(out, "{}", out.paint(Colour::Yellow, why));
        }
        Verdict::Accepted { key, .. } => {
            let what = if kind == Kind::Encrypt0 {
                "decrypted and authenticated"
            } else {
                "signature valid"
            };
            outln!(
                out,
                "{}",
                out.paint(Colour::Green, &format!("VERIFIED: {what} with {key}"))
            );
        }
        Verdict::Rejected(reason) => {
            outln!(out, "{}", out.paint(Colour::Red, &format!("REJECTED: {reason}")));
        }
    }
    outln!(out, "input: {} bytes of CBOR ({encoding})", bytes.len());
    summary(out, &tags, body, kind, &bytes, &verdict, &aad, untagged);
    let (diag, redacted) = view::diag_redacted(&bytes);
    outln!(
        out,
        "diagnostic notation{}:",
        if redacted {
            " (secret key parameters redacted)"
        } else {
            ""
        }
    );
    outln!(out, "  {}", sanitize(&diag));

    match verdict {
        Verdict::Rejected(reason) => Err(Failure::Rejected(reason)),
        _ => Ok(()),
    }
}

/// Reads a token file (raw CBOR, hex or base64url text, `-` for stdin), bounded.
pub(crate) fn read_token(path: &Path) -> Result<Vec<u8>, Failure> {
    let raw = read_input(path)?;
    decode_input(&raw, Encoding::Auto).map(|(bytes, _)| bytes)
}

pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let limit = u64::try_from(MAX_INPUT).unwrap_or(u64::MAX).saturating_add(1);
    let mut buf = Vec::new();
    let result = if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut buf)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut buf))
    };
    result.map_err(|e| Failure::usage(format!("cannot read `{}`: {}", path.display(), e.kind())))?;
    if buf.len() > MAX_INPUT {
        return Err(Failure::usage(format!(
            "`{}` is larger than {MAX_INPUT} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// Decodes the input's text encoding; returns the bytes and what the encoding was.
fn decode_input(raw: &[u8], encoding: Encoding) -> Result<(Vec<u8>, &'static str), Failure> {
    let text = || -> Option<String> {
        let t = core::str::from_utf8(raw).ok()?;
        Some(t.chars().filter(|c| !c.is_whitespace()).collect())
    };
    match encoding {
        Encoding::Raw => Ok((raw.to_vec(), "raw")),
        Encoding::Hex => {
            let t = text().ok_or_else(|| Failure::usage("the input is not hex text"))?;
            let b = hex::decode(t).map_err(|e| Failure::usage(format!("the input is not hex: {e}")))?;
            Ok((b, "hex text"))
        }
        Encoding::Base64 => {
            let t = text().ok_or_else(|| Failure::usage("the input is not base64 text"))?;
            let b = decode_base64(&t).ok_or_else(|| Failure::usage("the input is not base64url or base64"))?;
            Ok((b, "base64 text"))
        }
        Encoding::Auto => {
            if let Some(t) = text().filter(|t| !t.is_empty()) {
                if t.len() % 2 == 0
                    && t.bytes().all(|c| c.is_ascii_hexdigit())
                    && let Ok(b) = hex::decode(&t)
                {
                    return Ok((b, "hex text"));
                }
                if t.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_+/=".contains(&c))
                    && let Some(b) = decode_base64(&t)
                {
                    return Ok((b, "base64 text"));
                }
            }
            Ok((raw.to_vec(), "raw"))
        }
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let normalized: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(normalized).ok()
}

/// The chain of leading tags and the value inside them.
fn strip_tags(v: &Value) -> (Vec<u64>, Option<&Value>) {
    let mut tags = Vec::new();
    let mut cur = v;
    while let Value::Tag(t, inner) = cur {
        tags.push(*t);
        cur = inner;
    }
    (tags, Some(cur))
}

fn tag_name(tag: u64) -> Option<&'static str> {
    Some(match tag {
        16 => "COSE_Encrypt0",
        17 => "COSE_Mac0",
        18 => "COSE_Sign1",
        61 => "CWT",
        96 => "COSE_Encrypt",
        97 => "COSE_Mac",
        98 => "COSE_Sign",
        _ => return None,
    })
}

const fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Sign1 => "a COSE_Sign1",
        Kind::Encrypt0 => "a COSE_Encrypt0",
        Kind::CoseKey => "a COSE_Key",
        Kind::KeySet => "a COSE_KeySet",
        Kind::OtherCose(name) => name,
        Kind::Plain => "plain CBOR",
    }
}

fn is_cose_array(items: &[Value]) -> bool {
    matches!(items, [Value::Bytes(_), Value::Map(_), ..])
}

fn classify(tags: &[u64], body: &Value) -> Kind {
    let innermost = tags.last().copied();
    match (innermost, body) {
        (Some(18 | 61) | None, Value::Array(items)) if items.len() == 4 && is_cose_array(items) => Kind::Sign1,
        (Some(16) | None, Value::Array(items)) if items.len() == 3 && is_cose_array(items) => Kind::Encrypt0,
        (Some(t), Value::Array(_)) if matches!(t, 17 | 96 | 97 | 98) => {
            Kind::OtherCose(tag_name(t).unwrap_or("a COSE structure"))
        }
        (None, Value::Map(entries)) if view::cose_key_kty(entries).is_some() => Kind::CoseKey,
        (None, Value::Array(items))
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| matches!(i, Value::Map(e) if view::cose_key_kty(e).is_some())) =>
        {
            Kind::KeySet
        }
        _ => Kind::Plain,
    }
}

fn verify_sign1(bytes: &[u8], key: Key, path: &Path, opts: &VerifyOptions<'_>) -> Result<Verdict, Failure> {
    let label = describe(&key);
    let vk: VerifyingKey = match key {
        Key::Verifying(k) => k,
        Key::Signing(k) => citysec::ring::PROVIDER
            .public_key(&k)
            .map_err(|e| Failure::usage(format!("`{}`: {e}", path.display())))?,
        _ => {
            return Err(Failure::usage(format!(
                "cannot verify a COSE_Sign1 with `{}` ({label}): a signature key is needed",
                path.display()
            )));
        }
    };
    Ok(
        match sign1::verify_with_key(&citysec::ring::PROVIDER, &vk, bytes, opts) {
            Ok(verified) => Verdict::Accepted {
                content: verified.payload().to_vec(),
                key: label,
            },
            Err(e) => Verdict::Rejected(e.to_string()),
        },
    )
}

fn open_encrypt0(bytes: &[u8], key: Key, path: &Path, opts: &VerifyOptions<'_>) -> Result<Verdict, Failure> {
    let label = describe(&key);
    let Key::Symmetric(sym) = key else {
        return Err(Failure::usage(format!(
            "cannot open a COSE_Encrypt0 with `{}` ({label}): a symmetric key is needed",
            path.display()
        )));
    };
    Ok(match encrypt0::open(&citysec::ring::PROVIDER, &sym, bytes, opts) {
        Ok(opened) => Verdict::Accepted {
            content: opened.into_plaintext(),
            key: label,
        },
        Err(e) => Verdict::Rejected(e.to_string()),
    })
}

/// Escapes control characters so untrusted text cannot drive the terminal.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[expect(clippy::too_many_arguments, reason = "one call site; the pieces of one summary")]
fn summary(
    out: &mut Out,
    tags: &[u64],
    body: Option<&Value>,
    kind: Kind,
    bytes: &[u8],
    verdict: &Verdict,
    aad: &[u8],
    untagged: bool,
) {
    let tag_desc: Vec<String> = tags
        .iter()
        .map(|t| match tag_name(*t) {
            Some(name) => format!("{name} (tag {t})"),
            None => format!("unknown tag {t}"),
        })
        .collect();
    let structure = match kind {
        Kind::Sign1 if untagged => "COSE_Sign1 (untagged)".to_owned(),
        Kind::Encrypt0 if untagged => "COSE_Encrypt0 (untagged)".to_owned(),
        Kind::CoseKey => "COSE_Key".to_owned(),
        Kind::KeySet => "COSE_KeySet".to_owned(),
        Kind::Plain if tags.is_empty() => "plain CBOR (not a COSE structure)".to_owned(),
        _ => tag_desc.join(" containing "),
    };
    outln!(out, "structure: {}", sanitize(&structure));

    match (kind, body) {
        (Kind::Sign1 | Kind::Encrypt0, Some(Value::Array(items))) => cose_summary(out, kind, items, verdict),
        (Kind::CoseKey, Some(Value::Map(entries))) => key_summary(out, entries, bytes),
        (Kind::KeySet, Some(Value::Array(items))) => {
            for (i, item) in items.iter().enumerate() {
                if let Value::Map(entries) = item {
                    outln!(out, "key {i}:");
                    for line in view::cose_key_lines(entries) {
                        outln!(out, "  {}", sanitize(&line));
                    }
                }
            }
        }
        (Kind::Plain, None) => {
            outln!(
                out,
                "note: the input could not be decoded (malformed, or nested too deeply; see below)"
            );
        }
        _ => {}
    }
    if let Some(n) = view::item_len(bytes)
        && n < bytes.len()
    {
        outln!(
            out,
            "note: {} trailing bytes after the first item",
            bytes.len().saturating_sub(n)
        );
    }

    if matches!(verdict, Verdict::Unverified) {
        let opts = VerifyOptions::default().with_external_aad(aad);
        let opts = if untagged { opts.untagged() } else { opts };
        let check = match kind {
            Kind::Sign1 => Some(UnverifiedSign1::parse(bytes, &opts).map(|_| ())),
            Kind::Encrypt0 => Some(UnverifiedEncrypt0::parse(bytes, &opts).map(|_| ())),
            _ => None,
        };
        match check {
            Some(Ok(())) => outln!(
                out,
                "citysec profile: passes the structural checks (signature/tag not checked)"
            ),
            Some(Err(e)) => outln!(out, "citysec profile: would reject: {e}"),
            None => {}
        }
        if kind == Kind::Sign1 && !untagged && !matches!(tags, [TAG_COSE_SIGN1] | [TAG_CWT, TAG_COSE_SIGN1]) {
            outln!(
                out,
                "note: a COSE_Sign1 must carry tag 18 (optionally inside CWT tag 61)"
            );
        }
        if kind == Kind::Encrypt0 && !untagged && tags != [TAG_COSE_ENCRYPT0] {
            outln!(out, "note: a COSE_Encrypt0 must carry tag 16");
        }
    }
}

fn header_map_lines(out: &mut Out, value: &Value) {
    match value {
        Value::Map(entries) if entries.is_empty() => outln!(out, "  (empty)"),
        Value::Map(entries) => {
            for (l, v) in entries {
                outln!(out, "  {}", sanitize(&view::header_line(l, v)));
            }
        }
        other => outln!(out, "  not a map: {}", sanitize(&view::diag_value(other))),
    }
}

fn cose_summary(out: &mut Out, kind: Kind, items: &[Value], verdict: &Verdict) {
    let mut it = items.iter();
    if let Some(Value::Bytes(protected)) = it.next() {
        if protected.is_empty() {
            outln!(out, "protected header: h'' (empty)");
        } else {
            outln!(out, "protected header (h'{}'):", hex::encode(protected));
            match view::parse(protected) {
                Some(v) if view::is_one_item(protected) => header_map_lines(out, &v),
                _ => outln!(out, "  not a single CBOR map"),
            }
        }
    }
    if let Some(unprotected) = it.next() {
        if kind == Kind::Sign1 {
            outln!(out, "unprotected header (not covered by the signature):");
        } else {
            outln!(out, "unprotected header:");
        }
        header_map_lines(out, unprotected);
    }
    let content = it.next();
    let (content_name, trust) = match (kind, verdict) {
        (Kind::Sign1, Verdict::Accepted { .. }) => ("payload", "verified"),
        (Kind::Sign1, _) => ("payload", "UNVERIFIED"),
        (_, _) => ("ciphertext", "encrypted"),
    };
    match content {
        Some(Value::Bytes(c)) if kind == Kind::Sign1 && !matches!(verdict, Verdict::Accepted { .. }) => {
            content_lines(out, &format!("{content_name} ({} bytes, {trust})", c.len()), c);
        }
        Some(Value::Bytes(c)) if kind == Kind::Encrypt0 => {
            outln!(out, "ciphertext: {} bytes (including the 16-byte tag)", c.len());
        }
        Some(Value::Null) => outln!(out, "{content_name}: detached (nil)"),
        _ => {}
    }
    if kind == Kind::Sign1
        && let Some(Value::Bytes(sig)) = it.next()
    {
        outln!(out, "signature: {} bytes", sig.len());
    }
    if let Verdict::Accepted { content, .. } = verdict {
        let name = if kind == Kind::Encrypt0 { "plaintext" } else { "payload" };
        content_lines(out, &format!("{name} ({} bytes, verified)", content.len()), content);
    }
}

fn content_lines(out: &mut Out, heading: &str, content: &[u8]) {
    outln!(out, "{heading}:");
    let mut shown = false;
    if view::is_one_item(content) {
        let (diag, _) = view::diag_redacted(content);
        outln!(out, "  cbor: {}", sanitize(&diag));
        if let Some(v) = view::parse(content)
            && matches!(v, Value::Map(_))
        {
            let claims = view::claim_lines(&v);
            if !claims.is_empty() {
                outln!(out, "  as CWT claims:");
                for line in claims {
                    outln!(out, "    {}", sanitize(&line));
                }
            }
        }
        shown = true;
    }
    if let Some(text) = printable(content) {
        outln!(out, "  text: {text:?}");
        shown = true;
    }
    if !shown {
        outln!(out, "  hex: {}", hex::encode(content));
    }
}

fn key_summary(out: &mut Out, entries: &[(Value, Value)], bytes: &[u8]) {
    for line in view::cose_key_lines(entries) {
        outln!(out, "  {}", sanitize(&line));
    }
    match Key::from_cose_key(bytes, &citysec::core::Limits::DEFAULT) {
        Ok(key) => {
            outln!(out, "key check: valid {}", sanitize(&describe(&key)));
            if key.is_secret() {
                outln!(out, "note: this file holds secret key material; keep it private");
            }
        }
        Err(e) => outln!(out, "key check: citysec would refuse this key: {e}"),
    }
}
