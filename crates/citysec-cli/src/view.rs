//! Readable views of CBOR values: diagnostic notation (with secret key parameters
//! redacted), COSE header and COSE_Key parameter names, CWT claim names.

use citysec::core::Algorithm;
use citysec::core::coset::cbor::Value;

/// `h'3131' ("11")`: hex, plus the text when the bytes are printable UTF-8.
pub(crate) fn bytes_label(b: &[u8]) -> String {
    match printable(b) {
        Some(text) => format!("h'{}' (\"{text}\")", hex::encode(b)),
        None => format!("h'{}'", hex::encode(b)),
    }
}

/// The bytes as text, if they are non-empty UTF-8 without control characters.
pub(crate) fn printable(b: &[u8]) -> Option<&str> {
    let text = core::str::from_utf8(b).ok()?;
    if text.is_empty() || text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        None
    } else {
        Some(text)
    }
}

/// Whether `c` is printed escaped (see [`escape`]): Unicode control characters
/// (U+0000 to U+001F, U+007F to U+009F), the bidirectional formatting characters
/// (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) and the line and
/// paragraph separators (U+2028, U+2029).
pub(crate) const fn must_escape(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Untrusted text made safe for a terminal: `\` becomes `\\`, each character of
/// [`must_escape`] becomes `\u{H}` (its code point in lowercase hex, no leading
/// zeros), everything else is kept.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if must_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// `"text"` with the text escaped by [`escape`] (and `"` as `\"`).
pub(crate) fn quoted(s: &str) -> String {
    format!("\"{}\"", escape(s).replace('"', "\\\""))
}

/// The bytes as text if they are non-empty UTF-8 with no character of
/// [`must_escape`] (printed as they are); `None` means "print as hex".
pub(crate) fn plain_text(b: &[u8]) -> Option<&str> {
    let text = core::str::from_utf8(b).ok()?;
    (!text.is_empty() && !text.chars().any(must_escape)).then_some(text)
}

/// A key id: `h'HEX'`, followed by `("text")` when [`plain_text`] holds.
pub(crate) fn kid_label(b: &[u8]) -> String {
    match plain_text(b) {
        Some(text) => format!("h'{}' ({})", hex::encode(b), quoted(text)),
        None => format!("h'{}'", hex::encode(b)),
    }
}

/// The length of the first CBOR item in `bytes`, if it is well-formed.
pub(crate) fn item_len(bytes: &[u8]) -> Option<usize> {
    let mut d = minicbor::Decoder::new(bytes);
    d.skip().ok()?;
    Some(d.position())
}

/// Whether `bytes` is exactly one well-formed CBOR item.
pub(crate) fn is_one_item(bytes: &[u8]) -> bool {
    !bytes.is_empty() && item_len(bytes) == Some(bytes.len())
}

/// Parses the first CBOR item into a value tree (ciborium bounds its recursion).
pub(crate) fn parse(bytes: &[u8]) -> Option<Value> {
    citysec::core::coset::cbor::de::from_reader(bytes).ok()
}

/// Diagnostic notation of a value (re-encoded, then shown by minicbor).
pub(crate) fn diag_value(v: &Value) -> String {
    let mut buf = Vec::new();
    match citysec::core::cbor::write::value(&mut buf, v) {
        Ok(()) => minicbor::display(&buf).to_string(),
        Err(_) => format!("{v:?}"),
    }
}

/// Diagnostic notation of `bytes` as they are. If they hold a COSE_Key with secret
/// parameters (anywhere), those are replaced by `"<secret, N bytes>"` and the
/// notation is of the re-encoded, redacted value; the flag says so.
pub(crate) fn diag_redacted(bytes: &[u8]) -> (String, bool) {
    if let Some(mut v) = parse(bytes)
        && redact(&mut v)
    {
        let shown = diag_value(&v);
        // Anything after the first item is shown as it is.
        let rest = item_len(bytes).and_then(|n| bytes.get(n..)).unwrap_or_default();
        if rest.is_empty() {
            return (shown, true);
        }
        return (format!("{shown} {}", minicbor::display(rest)), true);
    }
    (minicbor::display(bytes).to_string(), false)
}

fn secret_placeholder(v: &Value) -> Value {
    let n = match v {
        Value::Bytes(b) => b.len(),
        Value::Text(t) => t.len(),
        _ => 0,
    };
    Value::Text(format!("<secret, {n} bytes>"))
}

/// Replaces the secret parameters of every COSE_Key inside `v`; true if any were.
fn redact(v: &mut Value) -> bool {
    match v {
        Value::Map(entries) => {
            let mut any = false;
            if let Some(kty) = cose_key_kty(entries) {
                for (label, value) in entries.iter_mut() {
                    if int_label(label).is_some_and(|l| is_secret_param(kty, l)) {
                        *value = secret_placeholder(value);
                        any = true;
                    }
                }
            }
            for (_, value) in entries.iter_mut() {
                any |= redact(value);
            }
            any
        }
        Value::Array(items) => items.iter_mut().fold(false, |any, item| redact(item) | any),
        Value::Tag(_, inner) => redact(inner),
        _ => false,
    }
}

/// An integer label as i128.
pub(crate) fn int_label(v: &Value) -> Option<i128> {
    match v {
        Value::Integer(i) => Some(i128::from(*i)),
        _ => None,
    }
}

/// The `kty` of a map that looks like a COSE_Key: label 1 with a registered
/// integer key type (a CWT claims map has a text `iss` under label 1).
pub(crate) fn cose_key_kty(entries: &[(Value, Value)]) -> Option<i128> {
    let (_, kty) = entries.iter().find(|(l, _)| int_label(l) == Some(1))?;
    int_label(kty).filter(|k| (1..=7).contains(k))
}

/// Whether a parameter of a key of type `kty` is secret: `d` (-4) for OKP and EC2,
/// `k` (-1) for symmetric keys, every key-type parameter of other key types (RSA
/// private keys spread over many).
const fn is_secret_param(kty: i128, label: i128) -> bool {
    match kty {
        1 | 2 => label == -4,
        4 => label == -1,
        _ => label < 0,
    }
}

/// `EdDSA (-8)`, or the IANA name with a note for algorithms citysec lacks.
pub(crate) fn alg_name(id: i128) -> String {
    if let Some(alg) = i64::try_from(id).ok().and_then(Algorithm::from_cose_id) {
        return format!("{} ({id})", alg.name());
    }
    let other = match id {
        -35 => "ES384",
        -36 => "ES512",
        -37 => "PS256",
        -47 => "ES256K",
        -257 => "RS256",
        -6 => "direct",
        -19 => "Ed25519",
        -9 => "ESP256",
        2 => "A192GCM",
        4 => "HMAC 256/64",
        5 => "HMAC 256/256",
        6 => "HMAC 384/384",
        7 => "HMAC 512/512",
        _ => return format!("{id} (unknown)"),
    };
    format!("{other} ({id}, not implemented by citysec)")
}

fn alg_value(v: &Value) -> String {
    match v {
        Value::Integer(i) => alg_name(i128::from(*i)),
        other => format!("{} (unknown)", diag_value(other)),
    }
}

fn content_type(v: &Value) -> String {
    let Some(id) = int_label(v) else {
        return diag_value(v);
    };
    let name = match id {
        0 => "text/plain; charset=utf-8",
        16 => "application/cose; cose-type=\"cose-encrypt0\"",
        18 => "application/cose; cose-type=\"cose-sign1\"",
        50 => "application/json",
        60 => "application/cbor",
        61 => "application/cwt",
        101 => "application/cose-key",
        _ => return id.to_string(),
    };
    format!("{id} ({name})")
}

fn value_short(v: &Value) -> String {
    match v {
        Value::Bytes(b) => bytes_label(b),
        other => diag_value(other),
    }
}

/// One header parameter as `name: value`.
pub(crate) fn header_line(label: &Value, value: &Value) -> String {
    match int_label(label) {
        Some(1) => format!("alg: {}", alg_value(value)),
        Some(2) => match value {
            Value::Array(items) => {
                let names: Vec<String> = items
                    .iter()
                    .map(|i| header_label_name(i).unwrap_or_else(|| diag_value(i)))
                    .collect();
                format!("crit: [{}]", names.join(", "))
            }
            other => format!("crit: {}", diag_value(other)),
        },
        Some(3) => format!("content type: {}", content_type(value)),
        Some(4) => format!("kid: {}", value_short(value)),
        Some(5) => format!("IV: {}", value_short(value)),
        Some(6) => format!("Partial IV: {}", value_short(value)),
        Some(7) => format!("counter signature: {}", diag_value(value)),
        Some(n) => format!("label {n}: {}", value_short(value)),
        None => format!("label {}: {}", diag_value(label), value_short(value)),
    }
}

fn header_label_name(v: &Value) -> Option<String> {
    let n = int_label(v)?;
    let name = match n {
        1 => "alg",
        2 => "crit",
        3 => "content type",
        4 => "kid",
        5 => "IV",
        6 => "Partial IV",
        7 => "counter signature",
        _ => return None,
    };
    Some(format!("{name} ({n})"))
}

/// The lines describing a COSE_Key map.
pub(crate) fn cose_key_lines(entries: &[(Value, Value)]) -> Vec<String> {
    let kty = cose_key_kty(entries).unwrap_or(0);
    entries
        .iter()
        .map(|(label, value)| {
            let Some(l) = int_label(label) else {
                return format!("{}: {}", diag_value(label), value_short(value));
            };
            if is_secret_param(kty, l) {
                let n = match value {
                    Value::Bytes(b) => b.len(),
                    _ => 0,
                };
                let name = if kty == 4 {
                    "k"
                } else if l == -4 {
                    "d"
                } else {
                    "param"
                };
                return format!("{name} ({l}): <secret, {n} bytes>");
            }
            match (l, kty) {
                (1, _) => format!("kty: {}", kty_name(value)),
                (2, _) => format!("kid: {}", value_short(value)),
                (3, _) => format!("alg: {}", alg_value(value)),
                (4, _) => format!("key_ops: {}", diag_value(value)),
                (5, _) => format!("Base IV: {}", value_short(value)),
                (-1, 1 | 2) => format!("crv: {}", crv_name(value)),
                (-2, 1 | 2) => format!("x: {}", value_short(value)),
                (-3, 2) => format!("y: {}", value_short(value)),
                (other, _) => format!("label {other}: {}", value_short(value)),
            }
        })
        .collect()
}

fn kty_name(v: &Value) -> String {
    let Some(id) = int_label(v) else {
        return diag_value(v);
    };
    let name = match id {
        1 => "OKP",
        2 => "EC2",
        3 => "RSA",
        4 => "Symmetric",
        5 => "HSS-LMS",
        6 => "WalnutDSA",
        7 => "AKP",
        _ => return format!("{id} (unknown)"),
    };
    format!("{name} ({id})")
}

fn crv_name(v: &Value) -> String {
    let Some(id) = int_label(v) else {
        return diag_value(v);
    };
    let name = match id {
        1 => "P-256",
        2 => "P-384",
        3 => "P-521",
        4 => "X25519",
        5 => "X448",
        6 => "Ed25519",
        7 => "Ed448",
        _ => return format!("{id} (unknown)"),
    };
    format!("{name} ({id})")
}

/// The CWT / EAT claim name for a label, if it is registered and used by citysec.
fn claim_name(label: i128) -> Option<&'static str> {
    Some(match label {
        1 => "iss",
        2 => "sub",
        3 => "aud",
        4 => "exp",
        5 => "nbf",
        6 => "iat",
        7 => "cti",
        8 => "cnf",
        10 => "eat_nonce",
        256 => "ueid",
        258 => "oemid",
        259 => "hwmodel",
        260 => "hwversion",
        261 => "uptime",
        262 => "oemboot",
        263 => "dbgstat",
        265 => "eat_profile",
        266 => "submods",
        267 => "bootcount",
        270 => "swname",
        271 => "swversion",
        273 => "measurements",
        65533 => "status_list",
        65534 => "ttl",
        65535 => "status",
        _ => return None,
    })
}

/// Lines naming the claims of a payload that is a CBOR map (CWT labels).
pub(crate) fn claim_lines(payload: &Value) -> Vec<String> {
    let Value::Map(entries) = payload else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|(label, value)| {
            let shown = value_short(value);
            match int_label(label) {
                Some(l @ (4..=6)) => {
                    let when = int_label(value)
                        .and_then(utc_string)
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default();
                    format!("{} ({l}): {shown}{when}", claim_name(l).unwrap_or("?"))
                }
                Some(l) => match claim_name(l) {
                    Some(name) => format!("{name} ({l}): {shown}"),
                    None => format!("{l}: {shown}"),
                },
                None => format!("{}: {shown}", diag_value(label)),
            }
        })
        .collect()
}

/// `2026-01-01T00:00:00Z` for seconds since the epoch, within 0..=year 9999.
pub(crate) fn utc_string(secs: i128) -> Option<String> {
    let secs = u64::try_from(secs).ok().filter(|s| *s <= 253_402_300_799)?;
    let days = secs.checked_div(86_400)?;
    let rem = secs.checked_rem(86_400)?;
    let (h, m, s) = (
        rem.checked_div(3600)?,
        rem.checked_rem(3600)?.checked_div(60)?,
        rem.checked_rem(60)?,
    );
    // Civil-from-days (H. Hinnant), for days since 1970-01-01, all non-negative here.
    let z = days.checked_add(719_468)?;
    let era = z.checked_div(146_097)?;
    let doe = z.checked_sub(era.checked_mul(146_097)?)?;
    let yoe = doe
        .checked_sub(doe.checked_div(1460)?)?
        .checked_add(doe.checked_div(36_524)?)?
        .checked_sub(doe.checked_div(146_096)?)?
        .checked_div(365)?;
    let doy = doe.checked_sub(
        yoe.checked_mul(365)?
            .checked_add(yoe.checked_div(4)?)?
            .checked_sub(yoe.checked_div(100)?)?,
    )?;
    let mp = doy.checked_mul(5)?.checked_add(2)?.checked_div(153)?;
    let d = doy
        .checked_sub(mp.checked_mul(153)?.checked_add(2)?.checked_div(5)?)?
        .checked_add(1)?;
    let month = if mp < 10 {
        mp.checked_add(3)?
    } else {
        mp.checked_sub(9)?
    };
    let year = yoe
        .checked_add(era.checked_mul(400)?)?
        .checked_add(u64::from(month <= 2))?;
    Some(format!("{year:04}-{month:02}-{d:02}T{h:02}:{m:02}:{s:02}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc() {
        assert_eq!(utc_string(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(utc_string(1_767_225_600).unwrap(), "2026-01-01T00:00:00Z");
        assert_eq!(utc_string(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(utc_string(253_402_300_799).unwrap(), "9999-12-31T23:59:59Z");
        assert_eq!(utc_string(253_402_300_800), None);
        assert_eq!(utc_string(-1), None);
    }

    #[test]
    fn redacts_secret_key_params() {
        // {1: 4, -1: h'0102', 3: 24}
        let key = [0xa3, 0x01, 0x04, 0x20, 0x42, 0x01, 0x02, 0x03, 0x18, 0x18];
        let (diag, redacted) = diag_redacted(&key);
        assert!(redacted);
        assert!(diag.contains("<secret, 2 bytes>"), "{diag}");
        assert!(!diag.contains("0102"), "{diag}");
        // A claims map with a text iss is not a key.
        let claims = [0xa1, 0x01, 0x61, b'a'];
        assert!(!diag_redacted(&claims).1);
    }
}
