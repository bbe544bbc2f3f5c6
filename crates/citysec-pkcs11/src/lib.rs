#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod uri;

use core::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use citysec_core::provider::SIGNATURE_LEN;
use citysec_core::provider::Signer;
use citysec_core::{Algorithm, VerifyingKey};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

pub use crate::uri::{MAX_URI_LEN, Pkcs11Uri};

/// The environment variable naming the PKCS#11 module (a shared library path)
/// when no option gives it.
pub const MODULE_ENV: &str = "CITYSEC_PKCS11_MODULE";
/// The environment variable holding the user PIN.
pub const PIN_ENV: &str = "CITYSEC_PKCS11_PIN";
/// The environment variable naming a file that holds the user PIN.
pub const PIN_FILE_ENV: &str = "CITYSEC_PKCS11_PIN_FILE";

/// The longest PIN accepted, in bytes (a PIN file is read up to this length).
pub const MAX_PIN_LEN: usize = 256;

/// DER of the Ed25519 curve OID (1.3.101.112), `CKA_EC_PARAMS` of Ed25519 keys.
const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER of PrintableString "edwards25519", the older form of the same.
const ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";
/// DER of the P-256 curve OID (1.2.840.10045.3.1.7).
const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// What can go wrong finding, opening or creating a key in a token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No module path was given and [`MODULE_ENV`] is not set.
    NoModule,
    /// The module could not be loaded or initialised (the path, the reason).
    Module(String),
    /// The URI is not one this crate reads (the reason).
    InvalidUri(&'static str),
    /// The URI carries `pin-value`: a PIN never travels in a URI.
    PinInUri,
    /// The URI carries `module-name` or `module-path`: the module comes from
    /// configuration, never from a URI.
    ModuleInUri,
    /// No PIN: neither the URI's `pin-source`, [`PIN_ENV`] nor [`PIN_FILE_ENV`].
    NoPin,
    /// The PIN file could not be read, is empty or is longer than
    /// [`MAX_PIN_LEN`].
    PinFile(String),
    /// No token matches the URI.
    TokenNotFound,
    /// More than one token matches the URI.
    AmbiguousToken,
    /// The URI names neither `object` nor `id`.
    NoKeySelected,
    /// No private key in the token matches the URI.
    KeyNotFound,
    /// More than one private key matches the URI.
    AmbiguousKey,
    /// The private key has no public key object with its id or label.
    PublicKeyNotFound,
    /// The key is not an Ed25519 or P-256 key, or its public point is malformed.
    WrongKeyType,
    /// The key may not sign (`CKA_SIGN` is false).
    NotASigningKey,
    /// `generate`: a key with this label or id is already in the token.
    KeyExists,
    /// The token refused the PIN.
    PinIncorrect,
    /// The token's PIN is locked.
    PinLocked,
    /// The token is gone, or its session was closed.
    TokenUnavailable,
    /// Another PKCS#11 error (its name).
    Device(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoModule => write!(f, "no PKCS#11 module: give one, or set {MODULE_ENV}"),
            Self::Module(m) => write!(f, "PKCS#11 module: {m}"),
            Self::InvalidUri(r) => write!(f, "PKCS#11 URI: {r}"),
            Self::PinInUri => {
                f.write_str("PKCS#11 URI carries `pin-value`: give the PIN in a file or environment variable")
            }
            Self::ModuleInUri => {
                f.write_str("PKCS#11 URI names a module: give the module as an option or environment variable")
            }
            Self::NoPin => write!(
                f,
                "no PKCS#11 PIN: set {PIN_ENV} or {PIN_FILE_ENV}, or give `pin-source` in the URI"
            ),
            Self::PinFile(m) => write!(f, "PKCS#11 PIN file: {m}"),
            Self::TokenNotFound => f.write_str("no PKCS#11 token matches the URI"),
            Self::AmbiguousToken => f.write_str("more than one PKCS#11 token matches the URI"),
            Self::NoKeySelected => f.write_str("the PKCS#11 URI names no key: give `object` or `id`"),
            Self::KeyNotFound => f.write_str("no private key in the token matches the URI"),
            Self::AmbiguousKey => f.write_str("more than one private key matches the URI"),
            Self::PublicKeyNotFound => f.write_str("the token holds no public key for this private key"),
            Self::WrongKeyType => f.write_str("the token key is not an Ed25519 or P-256 key"),
            Self::NotASigningKey => f.write_str("the token key may not sign"),
            Self::KeyExists => f.write_str("a key with this label or id is already in the token"),
            Self::PinIncorrect => f.write_str("the token refused the PIN"),
            Self::PinLocked => f.write_str("the token's PIN is locked"),
            Self::TokenUnavailable => f.write_str("the token is gone or its session was closed"),
            Self::Device(m) => write!(f, "PKCS#11 error: {m}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<CkError> for Error {
    fn from(e: CkError) -> Self {
        match e {
            CkError::Pkcs11(rv, _) => match rv {
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange => Self::PinIncorrect,
                RvError::PinLocked => Self::PinLocked,
                rv if unavailable(rv) => Self::TokenUnavailable,
                rv => Self::Device(format!("{rv:?}")),
            },
            other => Self::Device(other.to_string()),
        }
    }
}

/// The return values that mean the key can no longer be reached.
const fn unavailable(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::DeviceRemoved
            | RvError::SessionClosed
            | RvError::SessionHandleInvalid
            | RvError::ObjectHandleInvalid
            | RvError::KeyHandleInvalid
            | RvError::UserNotLoggedIn
            | RvError::SlotIdInvalid
    )
}

/// A loaded and initialised PKCS#11 module. Cheap to clone; one per process and
/// path (opening the same path again returns the same module, so it is
/// initialised once).
#[derive(Clone)]
pub struct Module {
    ctx: Pkcs11,
    path: PathBuf,
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

static MODULES: Mutex<Vec<Module>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Module {
    /// Loads and initialises the module at `path` (once per process).
    ///
    /// # Errors
    /// [`Error::Module`] if it cannot be loaded or initialised.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let mut modules = lock(&MODULES);
        if let Some(m) = modules.iter().find(|m| m.path == path) {
            return Ok(m.clone());
        }
        let fail = |e: CkError| Error::Module(format!("{}: {e}", path.display()));
        let ctx = Pkcs11::new(path).map_err(fail)?;
        ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(fail)?;
        let m = Self {
            ctx,
            path: path.to_path_buf(),
        };
        modules.push(m.clone());
        Ok(m)
    }

    /// The module at `path` if given, else the one [`MODULE_ENV`] names.
    ///
    /// # Errors
    /// [`Error::NoModule`]; as [`Self::open`].
    pub fn open_or_env(path: Option<&Path>) -> Result<Self, Error> {
        match path {
            Some(p) => Self::open(p),
            None => match std::env::var_os(MODULE_ENV) {
                Some(p) if !p.is_empty() => Self::open(Path::new(&p)),
                _ => Err(Error::NoModule),
            },
        }
    }

    /// The slot of the one readable token that matches `uri`.
    fn slot(&self, uri: &Pkcs11Uri) -> Result<Slot, Error> {
        let mut found = None;
        for slot in self.ctx.get_slots_with_token()? {
            if uri.slot_id.is_some_and(|id| id != slot.id()) {
                continue;
            }
            // A slot whose token cannot be read (removed, or deleted while the
            // module runs) holds no token this URI can use.
            let Ok(info) = self.ctx.get_token_info(slot) else {
                continue;
            };
            let same = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have.trim_end());
            if same(&uri.token, info.label())
                && same(&uri.manufacturer, info.manufacturer_id())
                && same(&uri.model, info.model())
                && same(&uri.serial, info.serial_number())
            {
                if found.is_some() {
                    return Err(Error::AmbiguousToken);
                }
                found = Some(slot);
            }
        }
        found.ok_or(Error::TokenNotFound)
    }
}

/// A user PIN, zeroized on drop and never shown by `Debug`.
pub struct Pin(Zeroizing<String>);

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(..)")
    }
}

impl Pin {
    /// The PIN for `uri`: from its `pin-source` file, else [`PIN_ENV`], else the
    /// file [`PIN_FILE_ENV`] names. A trailing newline in a file is dropped.
    ///
    /// # Errors
    /// [`Error::NoPin`]; [`Error::PinFile`].
    pub fn for_uri(uri: &Pkcs11Uri) -> Result<Self, Error> {
        if let Some(path) = &uri.pin_source {
            return Self::from_file(path);
        }
        if let Some(pin) = std::env::var_os(PIN_ENV) {
            let pin = Zeroizing::new(
                pin.into_string()
                    .map_err(|_| Error::PinFile(format!("{PIN_ENV} is not UTF-8")))?,
            );
            if !pin.is_empty() && pin.len() <= MAX_PIN_LEN {
                return Ok(Self(pin));
            }
            return Err(Error::NoPin);
        }
        match std::env::var_os(PIN_FILE_ENV) {
            Some(p) if !p.is_empty() => Self::from_file(Path::new(&p)),
            _ => Err(Error::NoPin),
        }
    }

    /// The PIN in the file at `path` (one trailing newline dropped).
    ///
    /// # Errors
    /// [`Error::PinFile`] if it cannot be read, is not UTF-8, is empty or is
    /// longer than [`MAX_PIN_LEN`].
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let bytes = Zeroizing::new(
            std::fs::read(path).map_err(|e| Error::PinFile(format!("{}: {}", path.display(), e.kind())))?,
        );
        let text =
            core::str::from_utf8(&bytes).map_err(|_| Error::PinFile(format!("{}: not UTF-8", path.display())))?;
        let text = text.strip_suffix('\n').unwrap_or(text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.is_empty() || text.len() > MAX_PIN_LEN {
            return Err(Error::PinFile(format!(
                "{}: empty or longer than {MAX_PIN_LEN} bytes",
                path.display()
            )));
        }
        Ok(Self(Zeroizing::new(text.to_owned())))
    }

    /// A PIN from a string the caller obtained (from a prompt, say).
    #[must_use]
    pub fn new(pin: &str) -> Self {
        Self(Zeroizing::new(pin.to_owned()))
    }

    fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"citysec-pkcs11 pin\0");
        h.update(self.0.as_bytes());
        h.finalize().into()
    }

    fn auth(&self) -> AuthPin {
        AuthPin::from(self.0.as_str())
    }
}

/// Opens a user session on the token `uri` names and logs in.
fn login(module: &Module, uri: &Pkcs11Uri, pin: &Pin, rw: bool) -> Result<Session, Error> {
    let slot = module.slot(uri)?;
    let session = if rw {
        module.ctx.open_rw_session(slot)?
    } else {
        module.ctx.open_ro_session(slot)?
    };
    let key = (module.path.clone(), slot.id());
    match session.login(UserType::User, Some(&pin.auth())) {
        Ok(()) => {
            let mut logins = lock(&LOGINS);
            logins.retain(|(k, _)| *k != key);
            logins.push((key, pin.digest()));
            Ok(session)
        }
        // PKCS#11 login state belongs to the process: while another session of
        // this process is logged in, the token checks no PIN. The PIN must then
        // match the one that logged in.
        Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
            let logins = lock(&LOGINS);
            let same = logins
                .iter()
                .find(|(k, _)| *k == key)
                .is_some_and(|(_, d)| bool::from(d.ct_eq(&pin.digest())));
            if same { Ok(session) } else { Err(Error::PinIncorrect) }
        }
        Err(e) => Err(e.into()),
    }
}

/// A module path and a slot id.
type SlotKey = (PathBuf, u64);

/// The PIN that logged in to each (module, slot) of this process, as a digest.
static LOGINS: Mutex<Vec<(SlotKey, [u8; 32])>> = Mutex::new(Vec::new());

/// The template that selects the key `uri` names, for `class`.
fn key_template(uri: &Pkcs11Uri, class: ObjectClass) -> Result<Vec<Attribute>, Error> {
    if uri.object.is_none() && uri.id.is_none() {
        return Err(Error::NoKeySelected);
    }
    let mut t = vec![Attribute::Class(class)];
    if let Some(label) = &uri.object {
        t.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    Ok(t)
}

/// A signer whose private key stays in a PKCS#11 token (an HSM, a smart card,
/// SoftHSM2). Ed25519 keys sign with `CKM_EDDSA`; P-256 keys sign a SHA-256
/// digest computed here with `CKM_ECDSA` (tokens such as SoftHSM2 lack
/// `CKM_ECDSA_SHA256`), which returns the raw `r || s` COSE uses.
///
/// Its `kid` is the key's `CKA_LABEL` (the URI's `object`), or its `CKA_ID` when
/// the label is empty. The session is held for the signer's life behind a mutex
/// (PKCS#11 sessions are not shared between threads), so one signer signs one
/// message at a time.
pub struct Pkcs11Signer {
    session: Mutex<Session>,
    key: ObjectHandle,
    public: VerifyingKey,
    uri: Pkcs11Uri,
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("uri", &self.uri)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Signer {
    /// Opens the private key `uri` names (with the PIN [`Pin::for_uri`] finds).
    ///
    /// # Errors
    /// The [`Error`]s of finding the token and the key, logging in and reading
    /// the key: [`Error::TokenNotFound`], [`Error::PinIncorrect`],
    /// [`Error::KeyNotFound`], [`Error::WrongKeyType`], ...
    pub fn open(module: &Module, uri: &Pkcs11Uri) -> Result<Self, Error> {
        let pin = Pin::for_uri(uri)?;
        Self::open_with_pin(module, uri, &pin)
    }

    /// As [`Self::open`], with a PIN the caller supplies.
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_with_pin(module: &Module, uri: &Pkcs11Uri, pin: &Pin) -> Result<Self, Error> {
        let template = key_template(uri, ObjectClass::PRIVATE_KEY)?;
        let session = login(module, uri, pin, false)?;
        let key = exactly_one(session.find_objects(&template)?, Error::KeyNotFound)?;
        let attrs = session.get_attributes(
            key,
            &[
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::Sign,
                AttributeType::Label,
                AttributeType::Id,
            ],
        )?;
        let (mut key_type, mut params, mut sign, mut label, mut id) = (None, None, None, Vec::new(), Vec::new());
        for a in attrs {
            match a {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::EcParams(p) => params = Some(p),
                Attribute::Sign(s) => sign = Some(s),
                Attribute::Label(l) => label = l,
                Attribute::Id(i) => id = i,
                _ => {}
            }
        }
        let alg = match (key_type, params.as_deref()) {
            (Some(KeyType::EC_EDWARDS), Some(p)) if p == ED25519_OID || p == ED25519_NAME => Algorithm::EdDSA,
            (Some(KeyType::EC), Some(P256_OID)) => Algorithm::ES256,
            _ => return Err(Error::WrongKeyType),
        };
        if sign != Some(true) {
            return Err(Error::NotASigningKey);
        }
        let point = public_point(&session, &label, &id)?;
        let kid = if label.is_empty() { id } else { label };
        let public = verifying_key(alg, &point)?;
        let public = if kid.is_empty() { public } else { public.with_kid(kid) };
        Ok(Self {
            session: Mutex::new(session),
            key,
            public,
            uri: uri.clone(),
        })
    }

    /// Creates a key pair of `alg` (EdDSA or ES256) in the token `uri` names,
    /// labelled with its `object` and with `CKA_ID` its `id` (the label's bytes
    /// if it has none), and returns its signer. The private key is sensitive,
    /// not extractable, and can only sign.
    ///
    /// # Errors
    /// [`Error::NoKeySelected`] without `object`; [`Error::KeyExists`] if a key
    /// with this label or id is there; [`Error::WrongKeyType`] for another
    /// algorithm; the errors of finding the token and logging in.
    pub fn generate(module: &Module, uri: &Pkcs11Uri, alg: Algorithm) -> Result<Self, Error> {
        let pin = Pin::for_uri(uri)?;
        let label = uri.object.clone().ok_or(Error::NoKeySelected)?;
        let id = uri.id.clone().unwrap_or_else(|| label.clone().into_bytes());
        let (mechanism, params) = match alg {
            Algorithm::EdDSA => (Mechanism::EccEdwardsKeyPairGen, ED25519_OID),
            Algorithm::ES256 => (Mechanism::EccKeyPairGen, P256_OID),
            _ => return Err(Error::WrongKeyType),
        };
        let session = login(module, uri, &pin, true)?;
        for existing in [
            vec![Attribute::Label(label.as_bytes().to_vec())],
            vec![Attribute::Id(id.clone())],
        ] {
            if !session.find_objects(&existing)?.is_empty() {
                return Err(Error::KeyExists);
            }
        }
        let public = [
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::EcParams(params.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ];
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id),
        ];
        session.generate_key_pair(&mechanism, &public, &private)?;
        drop(session);
        let named = Pkcs11Uri {
            object: Some(label),
            ..uri.clone()
        };
        Self::open_with_pin(module, &named, &pin)
    }

    /// The URI the key was opened with.
    #[must_use]
    pub const fn uri(&self) -> &Pkcs11Uri {
        &self.uri
    }
}

impl Signer for Pkcs11Signer {
    fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// # Errors
    /// [`citysec_core::Error::KeyUnavailable`] if the token is gone or the
    /// session closed; [`citysec_core::Error::Backend`] for any other failure or
    /// a signature that is not 64 bytes.
    fn sign(&self, msg: &[u8]) -> citysec_core::Result<[u8; SIGNATURE_LEN]> {
        let session = lock(&self.session);
        let sig = match self.public.algorithm() {
            Algorithm::EdDSA => session.sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Ed25519)),
                self.key,
                msg,
            ),
            _ => session.sign(&Mechanism::Ecdsa, self.key, &Sha256::digest(msg)),
        };
        let sig = sig.map_err(|e| match e {
            CkError::Pkcs11(rv, _) if unavailable(rv) => citysec_core::Error::KeyUnavailable,
            _ => citysec_core::Error::Backend,
        })?;
        sig.try_into().map_err(|_| citysec_core::Error::Backend)
    }
}

/// The one object found: `none` if there is none, [`Error::AmbiguousKey`] if
/// there are several.
fn exactly_one(found: Vec<ObjectHandle>, none: Error) -> Result<ObjectHandle, Error> {
    match found.as_slice() {
        [] => Err(none),
        [one] => Ok(*one),
        _ => Err(Error::AmbiguousKey),
    }
}

/// The `CKA_EC_POINT` of the public key with `id` (or, without one, `label`).
fn public_point(session: &Session, label: &[u8], id: &[u8]) -> Result<Vec<u8>, Error> {
    let mut t = vec![Attribute::Class(ObjectClass::PUBLIC_KEY)];
    if id.is_empty() {
        t.push(Attribute::Label(label.to_vec()));
    } else {
        t.push(Attribute::Id(id.to_vec()));
    }
    let key = exactly_one(session.find_objects(&t)?, Error::PublicKeyNotFound)?;
    for a in session.get_attributes(key, &[AttributeType::EcPoint])? {
        if let Attribute::EcPoint(p) = a {
            return Ok(p);
        }
    }
    Err(Error::PublicKeyNotFound)
}

/// The public key from a `CKA_EC_POINT`: DER OCTET STRING wrapped (PKCS#11
/// 2.40 and later) or bare (some older tokens).
fn verifying_key(alg: Algorithm, point: &[u8]) -> Result<VerifyingKey, Error> {
    let bare = match point {
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() && rest.len() < 0x80 => rest,
        _ => point,
    };
    let key = match (alg, bare) {
        (Algorithm::EdDSA, b) => <&[u8; 32]>::try_from(b).ok().map(VerifyingKey::ed25519),
        (_, [0x04, xy @ ..]) => xy.split_at_checked(32).and_then(|(x, y)| {
            let x = <&[u8; 32]>::try_from(x).ok()?;
            let y = <&[u8; 32]>::try_from(y).ok()?;
            Some(VerifyingKey::p256(x, y))
        }),
        _ => None,
    };
    key.ok_or(Error::WrongKeyType)?.map_err(|_| Error::WrongKeyType)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;

    #[test]
    fn uris_parse_and_refuse() {
        let u = Pkcs11Uri::parse("pkcs11:token=city%20hsm;object=issuer-2026;id=%01%02;type=private").unwrap();
        assert_eq!(u.token.as_deref(), Some("city hsm"));
        assert_eq!(u.object.as_deref(), Some("issuer-2026"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(
            u.to_string(),
            "pkcs11:token=city%20hsm;object=issuer-2026;id=%01%02;type=private"
        );
        let p = Pkcs11Uri::parse("pkcs11:token=t;object=k?pin-source=file:/run/pin").unwrap();
        assert_eq!(p.pin_source, Some(PathBuf::from("/run/pin")));
        for (bad, err) in [
            ("pkcs11:token=t;object=k?pin-value=1234", Error::PinInUri),
            ("pkcs11:token=t?module-path=/tmp/evil.so", Error::ModuleInUri),
            ("pkcs11:token=t?module-name=evil", Error::ModuleInUri),
            ("pkcs12:token=t", Error::InvalidUri("does not start with `pkcs11:`")),
            ("pkcs11:token=a;token=b", Error::InvalidUri("an attribute given twice")),
            ("pkcs11:token=%zz", Error::InvalidUri("a bad percent escape")),
            ("pkcs11:token=%4", Error::InvalidUri("a bad percent escape")),
            (
                "pkcs11:object=k;type=public",
                Error::InvalidUri("`type` must be `private` for a signing key"),
            ),
            (
                "pkcs11:library-description=x",
                Error::InvalidUri("an unsupported path attribute"),
            ),
            ("pkcs11:token", Error::InvalidUri("a path attribute without `=`")),
            (
                "pkcs11:slot-id=x",
                Error::InvalidUri("`slot-id` is not a decimal number"),
            ),
        ] {
            assert_eq!(Pkcs11Uri::parse(bad), Err(err), "{bad}");
        }
        let long = format!("pkcs11:object={}", "a".repeat(MAX_URI_LEN));
        assert_eq!(
            Pkcs11Uri::parse(&long),
            Err(Error::InvalidUri("longer than 1024 bytes"))
        );
    }

    #[test]
    fn public_points_are_read_wrapped_or_bare() {
        let ed = citysec_rustcrypto::PROVIDER
            .public_key(&citysec_core::SigningKey::ed25519(&[3; 32]))
            .unwrap();
        let raw = ed.as_bytes().to_vec();
        let mut wrapped = vec![0x04, 0x20];
        wrapped.extend_from_slice(&raw);
        assert_eq!(verifying_key(Algorithm::EdDSA, &wrapped).unwrap(), ed);
        assert_eq!(verifying_key(Algorithm::EdDSA, &raw).unwrap(), ed);
        assert_eq!(verifying_key(Algorithm::EdDSA, &raw[..31]), Err(Error::WrongKeyType));
        let p = citysec_rustcrypto::PROVIDER
            .public_key(&citysec_core::SigningKey::p256(&[4; 32]).unwrap())
            .unwrap();
        let sec1 = p.as_bytes().to_vec();
        assert_eq!(sec1.len(), 65);
        let mut wrapped = vec![0x04, 0x41];
        wrapped.extend_from_slice(&sec1);
        assert_eq!(verifying_key(Algorithm::ES256, &wrapped).unwrap(), p);
        assert_eq!(verifying_key(Algorithm::ES256, &sec1).unwrap(), p);
        // A coordinate not below the field prime (a point off the curve is
        // the verifying provider's to refuse, at import).
        let mut off = sec1.clone();
        off[1..33].fill(0xff);
        assert_eq!(verifying_key(Algorithm::ES256, &off), Err(Error::WrongKeyType));
    }

    #[test]
    fn pins_are_not_printed() {
        assert_eq!(format!("{:?}", Pin::new("1234")), "Pin(..)");
    }
}
