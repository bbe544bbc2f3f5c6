//! Per-device keys: HKDF-SHA-256 over the site master secret, the device id and a
//! key epoch (docs/telemetry-envelope.md, "Key derivation").

use alloc::vec::Vec;
use core::fmt;

use citysec_core::cbor::write::{Sink as _, SliceSink};
use citysec_core::provider::Provider;
use citysec_core::{Algorithm, SymmetricKey};
use zeroize::Zeroizing;

use crate::{Error, MAX_DEVICE_ID, Result};

/// HKDF salt of the key derivation.
pub const KDF_SALT: &[u8] = b"citysec telemetry v1";
/// Label of the content key in the HKDF info.
pub const KEY_LABEL: &[u8] = b"key";
/// Label of the common IV in the HKDF info.
pub const IV_LABEL: &[u8] = b"iv";

/// A site's master secret (32 bytes). Zeroized on drop; `Debug` shows nothing.
pub struct MasterSecret(Zeroizing<[u8; 32]>);

impl fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterSecret(..)")
    }
}

impl Clone for MasterSecret {
    fn clone(&self) -> Self {
        Self(Zeroizing::new(*self.0))
    }
}

/// The HKDF info: `label || 0x00 || epoch (u32 big-endian) || len(device_id) (u8) || device_id`.
fn info(label: &[u8], device_id: &[u8], epoch: u32, buf: &mut [u8; 80]) -> Result<usize> {
    let len = u8::try_from(device_id.len()).map_err(|_| Error::InvalidParameter)?;
    let mut w = SliceSink::new(buf);
    w.put(label)?;
    w.put(&[0])?;
    w.put(&epoch.to_be_bytes())?;
    w.put(&[len])?;
    w.put(device_id)?;
    Ok(w.position())
}

impl MasterSecret {
    /// A master secret from its 32 bytes.
    #[must_use]
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Derives the ChaCha20/Poly1305 key and common IV of `device_id` in `epoch`,
    /// prepared by `backend` ([`Provider::prepare_aead_key`]) for the many
    /// envelopes it will seal or open.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an empty or over-long device id; provider
    /// errors (`Core(UnsupportedAlgorithm)` from a provider without
    /// ChaCha20/Poly1305).
    pub fn derive(&self, backend: &Provider, device_id: &[u8], epoch: u32) -> Result<DeviceKey> {
        if device_id.is_empty() || device_id.len() > MAX_DEVICE_ID {
            return Err(Error::InvalidParameter);
        }
        let mut buf = [0u8; 80];
        let mut key = Zeroizing::new([0u8; 32]);
        let n = info(KEY_LABEL, device_id, epoch, &mut buf)?;
        backend.hkdf_sha256(
            KDF_SALT,
            self.0.as_slice(),
            buf.get(..n).ok_or(Error::InvalidParameter)?,
            key.as_mut(),
        )?;
        let mut iv = [0u8; 12];
        let n = info(IV_LABEL, device_id, epoch, &mut buf)?;
        backend.hkdf_sha256(
            KDF_SALT,
            self.0.as_slice(),
            buf.get(..n).ok_or(Error::InvalidParameter)?,
            &mut iv,
        )?;
        let key = SymmetricKey::new(Algorithm::ChaCha20Poly1305, key.as_slice())?
            .with_kid(device_id.to_vec())
            .with_base_iv(iv);
        let key = backend.prepare_aead_key(key)?;
        Ok(DeviceKey {
            device_id: device_id.to_vec(),
            epoch,
            key,
        })
    }
}

/// One device's envelope key in one epoch: a ChaCha20/Poly1305 key whose Base IV is
/// the common IV. Firmware is provisioned with this, never with the master secret.
#[derive(Debug)]
pub struct DeviceKey {
    device_id: Vec<u8>,
    epoch: u32,
    key: SymmetricKey,
}

impl DeviceKey {
    /// A device key from provisioned material (what `citysec telemetry derive` prints).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a bad device id; [`Error::Core`] for a key that
    /// is not a ChaCha20/Poly1305 key with a Base IV.
    pub fn from_parts(device_id: &[u8], epoch: u32, key: SymmetricKey) -> Result<Self> {
        if device_id.is_empty() || device_id.len() > MAX_DEVICE_ID {
            return Err(Error::InvalidParameter);
        }
        if key.algorithm() != Algorithm::ChaCha20Poly1305 || key.base_iv().is_none() {
            return Err(Error::Core(citysec_core::Error::KeyAlgMismatch));
        }
        Ok(Self {
            device_id: device_id.to_vec(),
            epoch,
            key,
        })
    }

    /// The device id (also the key's `kid`).
    #[must_use]
    pub fn device_id(&self) -> &[u8] {
        &self.device_id
    }

    /// The key epoch.
    #[must_use]
    pub const fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The AEAD key, with the common IV as its Base IV.
    #[must_use]
    pub const fn key(&self) -> &SymmetricKey {
        &self.key
    }

    /// The common IV.
    #[must_use]
    pub fn common_iv(&self) -> [u8; 12] {
        self.key.base_iv().copied().unwrap_or_default()
    }
}
