//! The envelope: a COSE_Encrypt0 of one fixed layout (docs/telemetry-envelope.md).
//!
//! ```text
//! 16([ h'a1011818'                     / protected {1: 24}, ChaCha20/Poly1305 /
//!    , { 4: device_id                  / kid, 1..=64 bytes /
//!      , 6: seq                        / Partial IV, minimal big-endian, 1..=5 bytes /
//!      , -65537: epoch                 / key epoch, only when not 0 /
//!      , -65538: topic }               / the stream, only when not empty /
//!    , ciphertext || tag ])
//! ```
//!
//! External AAD: the CBOR array `[device_id (bstr), seq (uint), topic (tstr)]`.
//! Nonce: the common IV XOR the Partial IV left-padded to 12 bytes.
//! The decoder accepts exactly this layout (keys in this order, nothing else), every
//! head in its shortest form (RFC 8949 section 4.2.1, so one envelope has one byte
//! form), reading it with citysec-core's strict `cbor::Reader`; it needs no
//! allocation, and every envelope it accepts also passes the generic COSE profile of
//! citysec-core and `citysec_core::cbor::check_deterministic`.

use alloc::vec::Vec;

use citysec_core::SymmetricKey;
use citysec_core::cbor::write::{self, Sink as _, SliceSink, head_len};
use citysec_core::cbor::{Head, MAJOR_BYTES, MAJOR_MAP, Reader};
use citysec_core::encrypt0;
use citysec_core::provider::Provider;

use crate::{DeviceKey, Error, Result};

/// The protected header: `{1: 24}` (ChaCha20/Poly1305).
pub const PROTECTED: [u8; 4] = [0xa1, 0x01, 0x18, 0x18];
/// Header label of the key epoch.
pub const LABEL_EPOCH: i64 = -65537;
/// Header label of the topic.
pub const LABEL_TOPIC: i64 = -65538;
/// Largest sequence number (a Partial IV of at most 5 bytes).
pub const MAX_SEQ: u64 = (1 << 40) - 1;
/// Longest device id, in bytes.
pub const MAX_DEVICE_ID: usize = 64;
/// Longest topic, in bytes.
pub const MAX_TOPIC: usize = 128;
/// Bytes an envelope adds to its plaintext, at most.
pub const MAX_OVERHEAD: usize = 2 + 5 + 1 + 2 + MAX_DEVICE_ID + 2 + 5 + 10 + 7 + 2 + MAX_TOPIC + 9 + 16;

const TAG_LEN: usize = 16;
/// What [`encrypt0::write_message_start`] writes for [`PROTECTED`]: tag 16, an
/// array of 3, the protected header as a byte string (the parser's fast check).
const PREFIX: [u8; 7] = [0xd0, 0x83, 0x44, 0xa1, 0x01, 0x18, 0x18];
const EPOCH_KEY: [u8; 5] = [0x3a, 0x00, 0x01, 0x00, 0x00];
const TOPIC_KEY: [u8; 5] = [0x3a, 0x00, 0x01, 0x00, 0x01];

/// The Partial IV of `seq`: big-endian without leading zero bytes (one byte for 0).
///
/// # Errors
/// [`Error::SequenceExhausted`] above [`MAX_SEQ`].
pub fn partial_iv(seq: u64) -> Result<([u8; 5], usize)> {
    if seq > MAX_SEQ {
        return Err(Error::SequenceExhausted);
    }
    let be = seq.to_be_bytes();
    let skip = be.iter().take(7).take_while(|b| **b == 0).count();
    let len = 8usize.checked_sub(skip).ok_or(Error::Malformed)?;
    let mut out = [0u8; 5];
    let src = be.get(skip..).ok_or(Error::Malformed)?;
    out.get_mut(..len).ok_or(Error::Malformed)?.copy_from_slice(src);
    Ok((out, len))
}

/// What [`encrypt0::write_enc_structure_start`] writes for [`PROTECTED`] before
/// the external AAD's head: `["Encrypt0", h'a1011818', `. Copied as one constant
/// on the open path (writing it item by item costs ~30 ns of a ~400 ns open); a
/// test checks it against core's writer.
const ENC0_START: [u8; 15] = [
    0x83, 0x68, b'E', b'n', b'c', b'r', b'y', b'p', b't', b'0', 0x44, 0xa1, 0x01, 0x18, 0x18,
];

/// The Enc_structure (COSE's AAD) for this envelope, written into `buf` in one
/// pass: `["Encrypt0", protected, bstr(external_aad)]` with the external AAD
/// `[device_id, seq, topic]`.
fn enc_structure<'b>(device_id: &[u8], seq: u64, topic: &str, buf: &'b mut [u8; 256]) -> Result<&'b [u8]> {
    let dev_len = write::len_arg(device_id.len());
    let topic_len = write::len_arg(topic.len());
    let ext_len = 1usize
        .checked_add(head_len(dev_len))
        .and_then(|n| n.checked_add(device_id.len()))
        .and_then(|n| n.checked_add(head_len(seq)))
        .and_then(|n| n.checked_add(head_len(topic_len)))
        .and_then(|n| n.checked_add(topic.len()))
        .ok_or(Error::InvalidParameter)?;
    let mut w = SliceSink::new(buf);
    w.put(&ENC0_START)?;
    write::head(&mut w, MAJOR_BYTES, write::len_arg(ext_len))?;
    write::array(&mut w, 3)?;
    write::bytes(&mut w, device_id)?;
    write::uint(&mut w, seq)?;
    write::text(&mut w, topic)?;
    let (buf, n) = w.into_inner();
    buf.get(..n).ok_or(Error::Malformed)
}

/// The nonce of sequence number `seq`: the common IV XOR `seq` left-padded to 12
/// bytes, which is core's `encrypt0::partial_iv_nonce` with the Partial IV of
/// `seq` (a test checks it), computed in registers.
fn nonce(common_iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut n = *common_iv;
    let [_, _, _, _, tail @ ..] = &mut n;
    *tail = (u64::from_be_bytes(*tail) ^ seq).to_be_bytes();
    n
}

fn check_params(device_id: &[u8], topic: &str) -> Result<()> {
    if device_id.is_empty() || device_id.len() > MAX_DEVICE_ID || topic.len() > MAX_TOPIC {
        return Err(Error::InvalidParameter);
    }
    Ok(())
}

/// Seals `plaintext` as the envelope for sequence number `seq` on `topic`, into
/// `out`, and returns the envelope's length. Allocates nothing.
///
/// The caller must never seal twice with the same key and `seq`: use a
/// [`Sender`](crate::Sender), which guarantees it across reboots.
///
/// # Errors
/// [`Error::SequenceExhausted`], [`Error::InvalidParameter`],
/// [`Error::BufferTooSmall`] (room for the plaintext plus [`MAX_OVERHEAD`] always
/// suffices); backend errors.
pub fn seal_into(
    backend: &Provider,
    key: &DeviceKey,
    seq: u64,
    topic: &str,
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<usize> {
    check_params(key.device_id(), topic)?;
    let (piv, piv_len) = partial_iv(seq)?;
    let piv = piv.get(..piv_len).ok_or(Error::Malformed)?;
    let mut aad_buf = [0u8; 256];
    let aad = enc_structure(key.device_id(), seq, topic, &mut aad_buf)?;
    let n = nonce(&key.common_iv(), seq);

    let mut w = SliceSink::new(out);
    encrypt0::write_message_start(&mut w, &PROTECTED)?;
    let entries = 2u64
        .saturating_add(u64::from(key.epoch() != 0))
        .saturating_add(u64::from(!topic.is_empty()));
    write::head(&mut w, MAJOR_MAP, entries)?;
    write::uint(&mut w, 4)?;
    write::bytes(&mut w, key.device_id())?;
    write::uint(&mut w, 6)?;
    write::bytes(&mut w, piv)?;
    if key.epoch() != 0 {
        write::int(&mut w, LABEL_EPOCH)?;
        write::uint(&mut w, u64::from(key.epoch()))?;
    }
    if !topic.is_empty() {
        write::int(&mut w, LABEL_TOPIC)?;
        write::text(&mut w, topic)?;
    }
    let ct_len = plaintext.len().checked_add(TAG_LEN).ok_or(Error::BufferTooSmall)?;
    write::head(&mut w, MAJOR_BYTES, write::len_arg(ct_len))?;
    let start = w.position();
    w.put(plaintext)?;
    w.put(&[0u8; TAG_LEN])?;
    let (buf, end) = w.into_inner();
    let body_end = end.checked_sub(TAG_LEN).ok_or(Error::BufferTooSmall)?;
    let body = buf.get_mut(start..body_end).ok_or(Error::BufferTooSmall)?;
    let tag = backend.seal(key.key(), &n, aad, body)?;
    buf.get_mut(body_end..end)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(&tag);
    Ok(end)
}

/// As [`seal_into`], into a new vector.
///
/// # Errors
/// As [`seal_into`].
pub fn seal(backend: &Provider, key: &DeviceKey, seq: u64, topic: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = alloc::vec![0u8; plaintext.len().saturating_add(MAX_OVERHEAD)];
    let n = seal_into(backend, key, seq, topic, plaintext, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// A parsed, not yet authenticated envelope, borrowing the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    device_id: &'a [u8],
    partial_iv: &'a [u8],
    seq: u64,
    epoch: u32,
    topic: &'a str,
    ciphertext: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Parses `bytes` as an envelope of exactly the citysec layout, refusing
    /// anything longer than `max_size` first.
    ///
    /// Every head is read by `citysec_core::cbor::Reader` and must be in its
    /// shortest form (RFC 8949 section 4.2.1): an envelope has one byte form.
    ///
    /// # Errors
    /// `Error::Core(TooLarge)`; `Error::Core(NotDeterministic)` for a head (of any
    /// item, the fixed prefix included) that is not in its shortest form;
    /// `Error::Core(InvalidIv)` for an IV header, a Partial IV longer than 5 bytes
    /// or not minimally encoded; [`Error::InvalidParameter`] for a device id or
    /// topic out of range; `Error::Core(IndefiniteLength)` or `Error::Core(Malformed)`
    /// for an indefinite length or a length beyond the bytes present after the
    /// prefix; `Error::Core(TrailingBytes)`; `Error::Core(DecryptFailed)` for a
    /// ciphertext shorter than the tag; [`Error::Malformed`] for anything else that
    /// is not the layout (other tags, headers, order, ...).
    #[inline(always)]
    pub fn parse(bytes: &'a [u8], max_size: usize) -> Result<Self> {
        if bytes.len() > max_size {
            return Err(Error::Core(citysec_core::Error::TooLarge));
        }
        let Some(rest) = bytes.strip_prefix(&PREFIX) else {
            return Err(prefix_error(bytes));
        };
        let mut r = Reader::new(rest);
        // A map of 2 to 4 entries is one byte in shortest form, `a2` to `a4`;
        // anything else goes through the reader for the exact error.
        let entries = match r.remaining().first() {
            Some(&b @ 0xa2..=0xa4) => {
                r.take(1)?;
                u64::from(b & 0x1f)
            }
            _ => arg(&mut r, 5)?,
        };
        if !(2..=4).contains(&entries) {
            return Err(Error::Malformed);
        }
        key(&mut r, 4)?;
        let device_id = string(&mut r, 2)?;
        key(&mut r, 6)?;
        let partial_iv = string(&mut r, 2)?;
        if partial_iv.is_empty() || partial_iv.len() > 5 || (partial_iv.len() > 1 && partial_iv.first() == Some(&0)) {
            return Err(Error::Core(citysec_core::Error::InvalidIv));
        }
        let seq = partial_iv.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let (mut epoch, mut topic) = (0u32, "");
        let mut remaining = entries.saturating_sub(2);
        if remaining > 0 && r.remaining().starts_with(&EPOCH_KEY) {
            r.take(EPOCH_KEY.len())?;
            let e = arg(&mut r, 0)?;
            if e == 0 {
                return Err(Error::Malformed);
            }
            epoch = u32::try_from(e).map_err(|_| Error::Malformed)?;
            remaining = remaining.saturating_sub(1);
        }
        if remaining > 0 && r.remaining().starts_with(&TOPIC_KEY) {
            r.take(TOPIC_KEY.len())?;
            let t = string(&mut r, 3)?;
            if t.is_empty() {
                return Err(Error::Malformed);
            }
            topic = core::str::from_utf8(t).map_err(|_| Error::Malformed)?;
            remaining = remaining.saturating_sub(1);
        }
        if remaining != 0 {
            // Not the epoch or topic label as written above: another label, or one
            // of them in a longer head.
            return Err(label_error(&mut r));
        }
        let ciphertext = string(&mut r, 2)?;
        if !r.remaining().is_empty() {
            return Err(Error::Core(citysec_core::Error::TrailingBytes));
        }
        if ciphertext.len() < TAG_LEN {
            return Err(Error::Core(citysec_core::Error::DecryptFailed));
        }
        check_params(device_id, topic)?;
        Ok(Self {
            device_id,
            partial_iv,
            seq,
            epoch,
            topic,
            ciphertext,
        })
    }

    /// The device id (the `kid`).
    #[must_use]
    pub const fn device_id(&self) -> &'a [u8] {
        self.device_id
    }

    /// The sequence number.
    #[must_use]
    pub const fn seq(&self) -> u64 {
        self.seq
    }

    /// The key epoch.
    #[must_use]
    pub const fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The topic it claims (authenticated once opened).
    #[must_use]
    pub const fn topic(&self) -> &'a str {
        self.topic
    }

    /// Length of the plaintext inside.
    #[must_use]
    pub const fn plaintext_len(&self) -> usize {
        self.ciphertext.len().saturating_sub(TAG_LEN)
    }

    /// Decrypts with `key` (the device's key for this epoch) into `out`, which is
    /// cleared first. On failure `out` is left empty. Not public: plaintext comes
    /// out of a [`Receiver`](crate::Receiver), which checks the replay window.
    ///
    /// # Errors
    /// `Error::Core(DecryptFailed)` (opaque); `Error::Core(KeyAlgMismatch)` for a key
    /// that is not a ChaCha20/Poly1305 key with a Base IV.
    pub(crate) fn open_into(&self, backend: &Provider, key: &SymmetricKey, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        let common_iv = key.base_iv().ok_or(Error::Core(citysec_core::Error::KeyAlgMismatch))?;
        let n = nonce(common_iv, self.seq);
        let mut aad_buf = [0u8; 256];
        let aad = enc_structure(self.device_id, self.seq, self.topic, &mut aad_buf)?;
        let body_len = self.plaintext_len();
        let (body, tag) = self.ciphertext.split_at(body_len);
        out.extend_from_slice(body);
        if let Err(e) = backend.open(key, &n, aad, out, tag) {
            zeroize::Zeroize::zeroize(out);
            out.clear();
            return Err(Error::Core(e));
        }
        Ok(())
    }
}

/// The device id of an envelope in the fixed layout, found without parsing the
/// rest: for routing only (a batch assigns envelopes to threads by device), never
/// a substitute for [`Envelope::parse`].
pub(crate) fn device_id_hint(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(&PREFIX)?;
    let rest = rest.get(1..)?.strip_prefix(&[0x04])?;
    let (&head, rest) = rest.split_first()?;
    let (len, rest) = match head {
        0x41..=0x57 => (usize::from(head & 0x1f), rest),
        0x58 => {
            let (&n, rest) = rest.split_first()?;
            (usize::from(n), rest)
        }
        _ => return None,
    };
    rest.get(..len)
}

/// The argument of one head of major type `major`, read by core's strict reader
/// (definite lengths, no reserved encodings) and refused unless in its shortest
/// form. Only the argument leaves this function, so the whole read stays in
/// registers.
///
/// # Errors
/// `Core(NotDeterministic)` for a longer head than needed; [`Error::Malformed`] for
/// another major type (a float included); the reader's errors.
#[inline(always)]
fn arg(r: &mut Reader<'_>, major: u8) -> Result<u64> {
    match short_arg(r, major) {
        Some(a) => Ok(u64::from(a)),
        None => arg_slow(r, major),
    }
}

/// The argument of a shortest head of `major` below 256 (every head on the hot
/// path), read in registers and taken; `None` (nothing taken) for any other head.
#[inline(always)]
fn short_arg(r: &mut Reader<'_>, major: u8) -> Option<u8> {
    let top = major << 5;
    let (a, n) = match *r.remaining() {
        [b, ..] if b & 0xe0 == top && b & 0x1f < 24 => (b & 0x1f, 1),
        [b, a, ..] if b == top | 24 && a >= 24 => (a, 2),
        _ => return None,
    };
    r.take(n).ok().map(|_| a)
}

/// [`arg`] through the reader.
#[inline(never)]
fn arg_slow(r: &mut Reader<'_>, major: u8) -> Result<u64> {
    let start = r.position();
    let Head { major: m, arg, float } = r.head()?;
    if !float && r.position().saturating_sub(start) != head_len(arg) {
        return Err(Error::Core(citysec_core::Error::NotDeterministic));
    }
    if m != major || float {
        return Err(Error::Malformed);
    }
    Ok(arg)
}

/// A byte or text string of major type `major`, its head in shortest form.
#[inline(always)]
fn string<'a>(r: &mut Reader<'a>, major: u8) -> Result<&'a [u8]> {
    let len = match short_arg(r, major) {
        Some(a) => usize::from(a),
        None => usize::try_from(arg_slow(r, major)?).map_err(|_| Error::Core(citysec_core::Error::Malformed))?,
    };
    Ok(r.take(len)?)
}

/// The map key `key` (a small unsigned integer: one byte in shortest form); the IV
/// label (5) where another key belongs is refused as an IV error.
#[inline(always)]
fn key(r: &mut Reader<'_>, key: u8) -> Result<()> {
    if r.remaining().first() == Some(&key) {
        r.take(1)?;
        return Ok(());
    }
    other_key(r, key)
}

/// Why the item at `r` is not the one-byte key `key`, through the reader:
/// `Core(InvalidIv)` for label 5, `Core(NotDeterministic)` for a longer head,
/// [`Error::Malformed`] otherwise.
#[cold]
fn other_key(r: &mut Reader<'_>, key: u8) -> Result<()> {
    match arg(r, 0)? {
        5 => Err(Error::Core(citysec_core::Error::InvalidIv)),
        k if k == u64::from(key) => Ok(()),
        _ => Err(Error::Malformed),
    }
}

/// Why the item at `r` is not the label expected there: `Core(NotDeterministic)`
/// for a head in a longer form than needed, [`Error::Malformed`] otherwise.
#[cold]
fn label_error(r: &mut Reader<'_>) -> Error {
    let start = r.position();
    match r.head() {
        Ok(h) if !h.float && r.position().saturating_sub(start) != head_len(h.arg) => {
            Error::Core(citysec_core::Error::NotDeterministic)
        }
        _ => Error::Malformed,
    }
}

/// Why `bytes` does not start with [`PREFIX`]: `Core(NotDeterministic)` if they
/// start with the prefix's items exactly (tag 16, an array of 3, a byte string
/// holding just `{1: 24}`) with some head in a longer form than needed,
/// [`Error::Malformed`] otherwise.
#[cold]
fn prefix_error(bytes: &[u8]) -> Error {
    let mut r = Reader::new(bytes);
    let mut longer = false;
    let mut item = |r: &mut Reader<'_>, major: u8, arg: Option<u64>| -> Option<Head> {
        let start = r.position();
        let h = r.head().ok()?;
        if h.major != major || h.float || arg.is_some_and(|a| a != h.arg) {
            return None;
        }
        longer |= r.position().saturating_sub(start) != head_len(h.arg);
        Some(h)
    };
    let protected_end = item(&mut r, 6, Some(16))
        .and_then(|_| item(&mut r, 4, Some(3)))
        .and_then(|_| item(&mut r, 2, None))
        .and_then(|h| usize::try_from(h.arg).ok())
        .and_then(|len| r.position().checked_add(len));
    let exact = protected_end.is_some_and(|end| {
        item(&mut r, 5, Some(1)).is_some()
            && item(&mut r, 0, Some(1)).is_some()
            && item(&mut r, 0, Some(24)).is_some()
            && r.position() == end
    });
    if exact && longer {
        Error::Core(citysec_core::Error::NotDeterministic)
    } else {
        Error::Malformed
    }
}

#[cfg(test)]
mod tests;
