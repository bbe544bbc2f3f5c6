//! PKCS#11 URIs (RFC 7512), the subset a signing key needs.

use core::fmt;
use std::path::PathBuf;

use crate::Error;

/// The longest URI accepted, in bytes.
pub const MAX_URI_LEN: usize = 1024;

/// A parsed `pkcs11:` URI naming a token and a private key in it.
///
/// Path attributes read: `token`, `manufacturer`, `model`, `serial` and `slot-id`
/// select the token; `object` (the key's `CKA_LABEL`), `id` (its `CKA_ID`) and
/// `type` (only `private`) select the key. Query attribute read: `pin-source`
/// (a file holding the PIN, as `file:/path` or `/path`). Values are
/// percent-decoded.
///
/// Refused: `pin-value` ([`Error::PinInUri`]: a PIN never travels in a URI),
/// `module-name` and `module-path` ([`Error::ModuleInUri`]: the module comes
/// from configuration, never from the URI), an attribute given twice, an
/// attribute not listed above (including `library-*`, `slot-description`,
/// `slot-manufacturer` and vendor `x-` attributes), a bad percent escape, and a
/// URI longer than [`MAX_URI_LEN`] ([`Error::InvalidUri`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// The token label (`CK_TOKEN_INFO.label`, trailing blanks ignored).
    pub token: Option<String>,
    /// The token manufacturer.
    pub manufacturer: Option<String>,
    /// The token model.
    pub model: Option<String>,
    /// The token serial number.
    pub serial: Option<String>,
    /// The slot id.
    pub slot_id: Option<u64>,
    /// The key's label (`CKA_LABEL`).
    pub object: Option<String>,
    /// The key's id (`CKA_ID`), raw bytes.
    pub id: Option<Vec<u8>>,
    /// Where the PIN is read from, if the URI says.
    pub pin_source: Option<PathBuf>,
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI.
    ///
    /// # Errors
    /// [`Error::InvalidUri`], [`Error::PinInUri`], [`Error::ModuleInUri`] as
    /// listed on the type.
    pub fn parse(uri: &str) -> Result<Self, Error> {
        if uri.len() > MAX_URI_LEN {
            return Err(Error::InvalidUri("longer than 1024 bytes"));
        }
        let rest = uri
            .strip_prefix("pkcs11:")
            .ok_or(Error::InvalidUri("does not start with `pkcs11:`"))?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut out = Self::default();
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or(Error::InvalidUri("a path attribute without `=`"))?;
            let value = decode(value)?;
            match name {
                "token" => set(&mut out.token, text(value)?)?,
                "manufacturer" => set(&mut out.manufacturer, text(value)?)?,
                "model" => set(&mut out.model, text(value)?)?,
                "serial" => set(&mut out.serial, text(value)?)?,
                "slot-id" => {
                    let id = text(value)?
                        .parse::<u64>()
                        .map_err(|_| Error::InvalidUri("`slot-id` is not a decimal number"))?;
                    set(&mut out.slot_id, id)?;
                }
                "object" => set(&mut out.object, text(value)?)?,
                "id" => set(&mut out.id, value)?,
                "type" => {
                    if value != b"private" {
                        return Err(Error::InvalidUri("`type` must be `private` for a signing key"));
                    }
                }
                _ => return Err(Error::InvalidUri("an unsupported path attribute")),
            }
        }
        for attr in query.unwrap_or_default().split('&').filter(|a| !a.is_empty()) {
            let (name, value) = attr
                .split_once('=')
                .ok_or(Error::InvalidUri("a query attribute without `=`"))?;
            match name {
                "pin-value" => return Err(Error::PinInUri),
                "module-name" | "module-path" => return Err(Error::ModuleInUri),
                "pin-source" => {
                    let v = text(decode(value)?)?;
                    let path = v.strip_prefix("file:").unwrap_or(&v);
                    if path.is_empty() {
                        return Err(Error::InvalidUri("an empty `pin-source`"));
                    }
                    set(&mut out.pin_source, PathBuf::from(path))?;
                }
                _ => return Err(Error::InvalidUri("an unsupported query attribute")),
            }
        }
        Ok(out)
    }

    /// True if `s` is meant as a PKCS#11 URI (it starts with `pkcs11:`).
    #[must_use]
    pub fn is_pkcs11(s: &str) -> bool {
        s.starts_with("pkcs11:")
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The URI with its path attributes (never a PIN; `pin-source` is shown).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pkcs11:")?;
        let mut sep = "";
        let mut attr = |f: &mut fmt::Formatter<'_>, name: &str, v: &[u8]| -> fmt::Result {
            write!(f, "{sep}{name}=")?;
            sep = ";";
            encode(f, v, false)
        };
        for (name, v) in [
            ("token", &self.token),
            ("manufacturer", &self.manufacturer),
            ("model", &self.model),
            ("serial", &self.serial),
            ("object", &self.object),
        ] {
            if let Some(v) = v {
                attr(f, name, v.as_bytes())?;
            }
        }
        if let Some(slot) = self.slot_id {
            attr(f, "slot-id", slot.to_string().as_bytes())?;
        }
        if let Some(id) = &self.id {
            attr(f, "id", id)?;
        }
        f.write_str(";type=private")?;
        if let Some(p) = &self.pin_source {
            f.write_str("?pin-source=")?;
            encode(f, p.to_string_lossy().as_bytes(), true)?;
        }
        Ok(())
    }
}

fn set<T>(slot: &mut Option<T>, v: T) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::InvalidUri("an attribute given twice"));
    }
    *slot = Some(v);
    Ok(())
}

fn text(v: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(v).map_err(|_| Error::InvalidUri("an attribute that is not UTF-8"))
}

/// Percent-decodes `s`.
fn decode(s: &str) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes.next().and_then(hex_val);
            let lo = bytes.next().and_then(hex_val);
            match (hi, lo) {
                (Some(h), Some(l)) => out.push(h.wrapping_shl(4) | l),
                _ => return Err(Error::InvalidUri("a bad percent escape")),
            }
        } else {
            out.push(b);
        }
    }
    Ok(out)
}

const fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(b.wrapping_sub(b'a').wrapping_add(10)),
        b'A'..=b'F' => Some(b.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `/` in a
/// query value).
fn encode(f: &mut fmt::Formatter<'_>, v: &[u8], query: bool) -> fmt::Result {
    for &b in v {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (query && b == b'/') {
            write!(f, "{}", char::from(b))?;
        } else {
            write!(f, "%{b:02X}")?;
        }
    }
    Ok(())
}
