//! A strict, allocation-free CBOR well-formedness pass and a tiny encoder.
//!
//! ciborium (under coset) accepts duplicate map keys and silently joins
//! indefinite-length chunks, so every signed or encrypted object passes through
//! [`check_well_formed`] before coset sees it. The pass enforces the citysec profile:
//! definite lengths only, no duplicate map keys at any depth, valid UTF-8 text, no
//! reserved encodings, declared lengths within the bytes present, and the
//! [`Limits`] on size, depth and entries. It allocates nothing, so it runs the same
//! on firmware.

use crate::{Error, Limits, Result};

mod value;
pub use value::to_value;

/// CBOR major types.
const MAJOR_UINT: u8 = 0;
const MAJOR_NINT: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;
const MAJOR_SIMPLE: u8 = 7;

/// Whether the pass accepts CBOR tags inside the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tags {
    /// Any tag rejects with [`Error::UnexpectedTag`] (COSE structures, headers).
    Forbid,
    /// Tags are accepted and count towards the depth (application payloads).
    Allow,
}

/// A zero-copy cursor over untrusted CBOR bytes: reads heads and definite strings,
/// refusing indefinite lengths, reserved encodings and lengths beyond the input.
/// Fixed-layout decoders (telemetry envelopes) build on it.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// The head of a data item: its major type and argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Major type, 0..=7.
    pub major: u8,
    /// The argument: a value, a length or a count.
    pub arg: u64,
    /// Whether this is a floating-point number (major type 7, 2-, 4- or 8-byte form).
    pub float: bool,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    #[must_use]
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Bytes read so far.
    #[must_use]
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// The bytes not read yet.
    #[must_use]
    pub fn remaining(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.bytes.get(self.pos).ok_or(Error::Malformed)?;
        self.pos = self.pos.checked_add(1).ok_or(Error::Malformed)?;
        Ok(b)
    }

    /// The bytes from `start` to the current position.
    ///
    /// # Errors
    /// [`Error::Malformed`] if `start` lies beyond the position.
    pub fn slice_from(&self, start: usize) -> Result<&'a [u8]> {
        self.bytes.get(start..self.pos).ok_or(Error::Malformed)
    }

    /// Takes the next `len` bytes.
    ///
    /// # Errors
    /// [`Error::Malformed`] if fewer remain.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(len).ok_or(Error::Malformed)?;
        let s = self.bytes.get(self.pos..end).ok_or(Error::Malformed)?;
        self.pos = end;
        Ok(s)
    }

    /// Reads one head. Indefinite lengths and reserved encodings reject.
    ///
    /// # Errors
    /// [`Error::IndefiniteLength`], [`Error::Malformed`].
    pub fn head(&mut self) -> Result<Head> {
        let initial = self.byte()?;
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.array::<2>()?)),
            26 => u64::from(u32::from_be_bytes(self.array::<4>()?)),
            27 => u64::from_be_bytes(self.array::<8>()?),
            31 => return Err(Error::IndefiniteLength),
            _ => return Err(Error::Malformed),
        };
        if major == MAJOR_SIMPLE && info == 24 && arg < 32 {
            // RFC 8949 3.3: simple values 0..=31 in the one-byte form are not well-formed.
            return Err(Error::Malformed);
        }
        Ok(Head {
            major,
            arg,
            float: major == MAJOR_SIMPLE && (25..=27).contains(&info),
        })
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// Takes the content of a definite byte or text string whose head was just read
    /// (text is not checked for UTF-8 here).
    ///
    /// # Errors
    /// [`Error::Malformed`] if the length exceeds the input.
    pub fn take_string(&mut self, head: Head) -> Result<&'a [u8]> {
        let len = usize::try_from(head.arg).map_err(|_| Error::Malformed)?;
        self.take(len)
    }
}

/// Checks that `bytes` is exactly one well-formed CBOR item under the citysec profile.
///
/// # Errors
/// [`Error::TooLarge`] before anything is read if `bytes` exceeds the size limit;
/// then the first violation found: [`Error::Malformed`], [`Error::IndefiniteLength`],
/// [`Error::DuplicateMapKey`], [`Error::TooDeep`], [`Error::TooManyEntries`],
/// [`Error::UnexpectedTag`], or [`Error::TrailingBytes`].
pub fn check_well_formed(bytes: &[u8], limits: &Limits, tags: Tags) -> Result<()> {
    if bytes.len() > limits.max_message_size {
        return Err(Error::TooLarge);
    }
    let mut r = Reader::new(bytes);
    skip_item(&mut r, 0, limits, tags)?;
    if r.position() != bytes.len() {
        return Err(Error::TrailingBytes);
    }
    Ok(())
}

/// Skips one item, checking it; `depth` counts the containers around it.
fn skip_item(r: &mut Reader<'_>, depth: usize, limits: &Limits, tags: Tags) -> Result<()> {
    if depth > limits.max_depth {
        return Err(Error::TooDeep);
    }
    let head = r.head()?;
    match head.major {
        MAJOR_UINT | MAJOR_NINT => Ok(()),
        // false, true, null and floats. `undefined` and unassigned simple values have
        // no place in COSE, and decoders disagree on them (ciborium reads `undefined`
        // as null, so two distinct map keys could decode as one).
        MAJOR_SIMPLE => match head.arg {
            20..=22 => Ok(()),
            _ if head.float => Ok(()),
            _ => Err(Error::Malformed),
        },
        MAJOR_BYTES => r.take_string(head).map(|_| ()),
        MAJOR_TEXT => {
            let s = r.take_string(head)?;
            core::str::from_utf8(s).map_err(|_| Error::Malformed)?;
            Ok(())
        }
        MAJOR_ARRAY => {
            let count = entry_count(r, head.arg, 1, limits)?;
            let inner = depth.checked_add(1).ok_or(Error::TooDeep)?;
            for _ in 0..count {
                skip_item(r, inner, limits, tags)?;
            }
            Ok(())
        }
        MAJOR_MAP => {
            let count = entry_count(r, head.arg, 2, limits)?;
            let inner = depth.checked_add(1).ok_or(Error::TooDeep)?;
            let map_start = r.position();
            // The first keys are remembered on the stack and compared directly; a
            // map with more keys than that re-reads its earlier entries.
            let mut seen = [KeyRef::EMPTY; KEY_CACHE];
            for i in 0..count {
                let key_start = r.position();
                // Map keys are integers or strings: keys of other types have no
                // agreed equality, so "no duplicate keys" could not be checked.
                let key_major = r.remaining().first().map(|b| b >> 5);
                if !matches!(key_major, Some(MAJOR_UINT | MAJOR_NINT | MAJOR_BYTES | MAJOR_TEXT)) {
                    return Err(Error::Malformed);
                }
                skip_item(r, inner, limits, tags)?;
                let key = r.bytes.get(key_start..r.position()).ok_or(Error::Malformed)?;
                let this = KeyRef::of(key)?;
                match seen.get(..i) {
                    Some(earlier) => {
                        if earlier.iter().any(|k| k.same(&this, r.bytes, key)) {
                            return Err(Error::DuplicateMapKey);
                        }
                        if let Some(slot) = seen.get_mut(i) {
                            *slot = this.at(key_start);
                        }
                    }
                    None => check_key_unique(r.bytes, map_start, i, key)?,
                }
                skip_item(r, inner, limits, tags)?;
            }
            Ok(())
        }
        MAJOR_TAG => match tags {
            Tags::Forbid => Err(Error::UnexpectedTag),
            Tags::Allow => skip_item(r, depth.checked_add(1).ok_or(Error::TooDeep)?, limits, tags),
        },
        _ => Err(Error::Malformed),
    }
}

/// How many keys per map are remembered for the duplicate check.
const KEY_CACHE: usize = 16;

/// A map key already read: an integer by value, a string by where its content lies.
#[derive(Clone, Copy, Debug)]
struct KeyRef {
    major: u8,
    /// The integer's argument, or the string content's offset within the key.
    arg: u64,
    /// Offset of the key in the whole input (strings only), and content length.
    start: usize,
    len: usize,
}

impl KeyRef {
    const EMPTY: Self = Self {
        major: u8::MAX,
        arg: 0,
        start: 0,
        len: 0,
    };

    /// The key's value from its encoding (`key` is one checked key item).
    fn of(key: &[u8]) -> Result<Self> {
        let mut kr = Reader::new(key);
        let h = kr.head()?;
        Ok(match h.major {
            MAJOR_BYTES | MAJOR_TEXT => {
                let content_at = kr.position();
                let content = kr.take_string(h)?;
                Self {
                    major: h.major,
                    arg: content_at as u64,
                    start: 0,
                    len: content.len(),
                }
            }
            _ => Self {
                major: h.major,
                arg: h.arg,
                start: 0,
                len: 0,
            },
        })
    }

    /// This key, remembered at `key_start` in the input.
    const fn at(mut self, key_start: usize) -> Self {
        self.start = key_start;
        self
    }

    /// Whether `self` (remembered) and `other` (encoded as `other_key`) denote the
    /// same value.
    fn same(&self, other: &Self, bytes: &[u8], other_key: &[u8]) -> bool {
        if self.major != other.major {
            return false;
        }
        match self.major {
            MAJOR_BYTES | MAJOR_TEXT => {
                if self.len != other.len {
                    return false;
                }
                let mine = usize::try_from(self.arg)
                    .ok()
                    .and_then(|off| self.start.checked_add(off))
                    .and_then(|from| bytes.get(from..from.checked_add(self.len)?));
                let theirs = usize::try_from(other.arg)
                    .ok()
                    .and_then(|off| other_key.get(off..off.checked_add(other.len)?));
                mine.is_some() && mine == theirs
            }
            _ => self.arg == other.arg,
        }
    }
}

/// Validates a declared entry count against the limit and the bytes left
/// (each item takes at least one byte), before any looping.
fn entry_count(r: &Reader<'_>, arg: u64, items_per_entry: usize, limits: &Limits) -> Result<usize> {
    let count = usize::try_from(arg).map_err(|_| Error::TooManyEntries)?;
    if count > limits.max_entries {
        return Err(Error::TooManyEntries);
    }
    let min_bytes = count.checked_mul(items_per_entry).ok_or(Error::Malformed)?;
    if min_bytes > r.remaining().len() {
        return Err(Error::Malformed);
    }
    Ok(count)
}

/// Compares `key` against the first `before` keys of the map whose entries start
/// at `map_start`. Those entries were already checked, so they are re-read with a
/// plain skip that does not repeat the duplicate checks of nested maps (which would
/// make the cost grow with the nesting depth).
fn check_key_unique(bytes: &[u8], map_start: usize, before: usize, key: &[u8]) -> Result<()> {
    let mut r = Reader { bytes, pos: map_start };
    for _ in 0..before {
        let start = r.position();
        skip_checked(&mut r)?;
        let other = bytes.get(start..r.position()).ok_or(Error::Malformed)?;
        if same_key(other, key)? {
            return Err(Error::DuplicateMapKey);
        }
        skip_checked(&mut r)?;
    }
    Ok(())
}

/// Skips one item that an earlier pass already checked, without recursion.
pub(crate) fn skip_checked(r: &mut Reader<'_>) -> Result<()> {
    let mut pending: u64 = 1;
    while pending > 0 {
        pending = pending.checked_sub(1).ok_or(Error::Malformed)?;
        let head = r.head()?;
        let more = match head.major {
            MAJOR_BYTES | MAJOR_TEXT => {
                r.take_string(head)?;
                0
            }
            MAJOR_ARRAY => head.arg,
            MAJOR_MAP => head.arg.checked_mul(2).ok_or(Error::Malformed)?,
            MAJOR_TAG => 1,
            _ => 0,
        };
        pending = pending.checked_add(more).ok_or(Error::Malformed)?;
    }
    Ok(())
}

/// Whether two encoded keys denote the same value. Integers and strings compare by
/// value, so a non-preferred encoding of the same key still counts as a duplicate;
/// other keys compare by their encoded bytes.
fn same_key(a: &[u8], b: &[u8]) -> Result<bool> {
    let mut ra = Reader::new(a);
    let mut rb = Reader::new(b);
    let ha = ra.head()?;
    let hb = rb.head()?;
    if ha.major != hb.major {
        return Ok(false);
    }
    Ok(match ha.major {
        MAJOR_UINT | MAJOR_NINT => ha.arg == hb.arg,
        MAJOR_BYTES | MAJOR_TEXT => ra.take_string(ha)? == rb.take_string(hb)?,
        _ => a == b,
    })
}

/// Splits leading tags off `bytes`: returns the tag numbers (at most two are read)
/// and the rest.
pub(crate) fn strip_tags(bytes: &[u8]) -> Result<(TagPrefix, &[u8])> {
    let mut tags = TagPrefix::default();
    let mut r = Reader::new(bytes);
    loop {
        let before = r.position();
        let Some(&first) = r.bytes.get(before) else {
            return Err(Error::Malformed);
        };
        if first >> 5 != MAJOR_TAG {
            break;
        }
        let head = r.head()?;
        if !tags.push(head.arg) {
            return Err(Error::WrongTag);
        }
    }
    Ok((tags, r.remaining()))
}

/// Up to two leading tag numbers, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TagPrefix {
    tags: [u64; 2],
    len: u8,
}

impl TagPrefix {
    fn push(&mut self, tag: u64) -> bool {
        match self.len {
            0 => {
                self.tags[0] = tag;
                self.len = 1;
                true
            }
            1 => {
                self.tags[1] = tag;
                self.len = 2;
                true
            }
            _ => false,
        }
    }

    /// The tags read, outermost first.
    pub(crate) fn as_slice(&self) -> &[u64] {
        self.tags.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Appends a CBOR head (major type and argument) in preferred (shortest) form.
pub(crate) fn write_head(out: &mut alloc::vec::Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    if let Ok(small) = u8::try_from(arg) {
        if small < 24 {
            out.push(m | small);
        } else {
            out.push(m | 24);
            out.push(small);
        }
    } else if let Ok(v) = u16::try_from(arg) {
        out.push(m | 25);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(arg) {
        out.push(m | 26);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

/// Appends a definite byte string.
pub(crate) fn write_bytes(out: &mut alloc::vec::Vec<u8>, bytes: &[u8]) {
    write_head(out, MAJOR_BYTES, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Builds a COSE Sig_structure or Enc_structure directly from the wire bytes of the
/// protected header, without re-encoding it.
///
/// `context` is "Signature1" or "Encrypt0"; `payload` is appended for signatures only.
pub(crate) fn to_be_processed(
    context: &str,
    protected: &[u8],
    external_aad: &[u8],
    payload: Option<&[u8]>,
) -> alloc::vec::Vec<u8> {
    let cap = context
        .len()
        .saturating_add(protected.len())
        .saturating_add(external_aad.len())
        .saturating_add(payload.map_or(0, <[u8]>::len))
        .saturating_add(24);
    let mut out = alloc::vec::Vec::with_capacity(cap);
    write_head(&mut out, MAJOR_ARRAY, if payload.is_some() { 4 } else { 3 });
    write_head(&mut out, MAJOR_TEXT, context.len() as u64);
    out.extend_from_slice(context.as_bytes());
    write_bytes(&mut out, protected);
    write_bytes(&mut out, external_aad);
    if let Some(p) = payload {
        write_bytes(&mut out, p);
    }
    out
}

#[cfg(test)]
mod tests;
