//! The CBOR encoder every citysec crate writes with: preferred (shortest)
//! heads and definite lengths, into a [`Sink`], with no allocation of its own.
//!
//! Three sinks: a [`Counter`] (to size a buffer or a byte string before writing
//! it), a [`SliceSink`] over a caller's buffer (firmware: no allocation) and a
//! `Vec<u8>` (it cannot fail: its error type is [`Infallible`]). [`VecEncoder`]
//! wraps a vector with methods that return nothing, for encoders that only ever
//! write to memory they own.
//!
//! Determinism is the caller's: these functions write what they are given in
//! the order given; a map's keys must be written in the order the format
//! requires.

use alloc::vec::Vec;
use core::convert::Infallible;

use super::{MAJOR_ARRAY, MAJOR_BYTES, MAJOR_MAP, MAJOR_NINT, MAJOR_SIMPLE, MAJOR_TAG, MAJOR_TEXT, MAJOR_UINT};
use crate::Error;

/// Where encoded bytes go.
pub trait Sink {
    /// Why a write failed.
    type Error;
    /// Appends `bytes`.
    ///
    /// # Errors
    /// The sink's: out of room.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
}

/// Counts bytes without storing them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counter(usize);

impl Counter {
    /// A counter at zero.
    #[must_use]
    pub const fn new() -> Self {
        Self(0)
    }

    /// The bytes counted.
    #[inline]
    #[must_use]
    pub const fn len(&self) -> usize {
        self.0
    }

    /// Whether nothing was counted.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl Sink for Counter {
    type Error = Error;

    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.0 = self.0.checked_add(bytes.len()).ok_or(Error::BufferTooSmall)?;
        Ok(())
    }
}

/// Writes into a caller's buffer, refusing to write past its end
/// ([`Error::BufferTooSmall`]).
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> SliceSink<'a> {
    /// A sink writing `buf` from its start.
    #[inline]
    pub const fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The bytes written so far.
    #[inline]
    #[must_use]
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// The written part.
    #[inline]
    #[must_use]
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }

    /// The whole buffer back, with the number of bytes written.
    #[inline]
    #[must_use]
    pub fn into_inner(self) -> (&'a mut [u8], usize) {
        (self.buf, self.pos)
    }
}

impl Sink for SliceSink<'_> {
    type Error = Error;

    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.pos.checked_add(bytes.len()).ok_or(Error::BufferTooSmall)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }
}

impl Sink for Vec<u8> {
    type Error = Infallible;

    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), Infallible> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// The number of bytes `f` writes.
///
/// # Errors
/// `f`'s; [`Error::BufferTooSmall`] if the count overflows.
pub fn count<E: From<Error>>(f: impl FnOnce(&mut Counter) -> Result<(), E>) -> Result<usize, E> {
    let mut c = Counter::new();
    f(&mut c)?;
    Ok(c.len())
}

/// A head (major type and argument) in preferred, shortest form.
///
/// # Errors
/// The sink's.
#[inline]
pub fn head<S: Sink + ?Sized>(s: &mut S, major: u8, arg: u64) -> Result<(), S::Error> {
    let m = major << 5;
    let b = arg.to_be_bytes();
    match (arg, b) {
        (0..=23, [.., low]) => s.put(&[m | low]),
        (24..=0xff, [.., low]) => s.put(&[m | 24, low]),
        (0x100..=0xffff, [.., b6, b7]) => s.put(&[m | 25, b6, b7]),
        (0x1_0000..=0xffff_ffff, [.., b4, b5, b6, b7]) => s.put(&[m | 26, b4, b5, b6, b7]),
        _ => {
            s.put(&[m | 27])?;
            s.put(&b)
        }
    }
}

/// The length of a head with argument `arg`.
#[inline]
#[must_use]
pub const fn head_len(arg: u64) -> usize {
    match arg {
        0..=23 => 1,
        24..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// The argument for a length (`usize` is at most 64 bits on every target Rust
/// supports).
#[inline]
#[must_use]
pub const fn len_arg(len: usize) -> u64 {
    len as u64
}

/// An unsigned integer.
///
/// # Errors
/// The sink's.
#[inline]
pub fn uint<S: Sink + ?Sized>(s: &mut S, v: u64) -> Result<(), S::Error> {
    head(s, MAJOR_UINT, v)
}

/// An integer, unsigned or negative.
///
/// # Errors
/// The sink's.
#[inline]
pub fn int<S: Sink + ?Sized>(s: &mut S, v: i64) -> Result<(), S::Error> {
    match u64::try_from(v) {
        Ok(u) => head(s, MAJOR_UINT, u),
        // -1 - v for negative v is !v, which cannot overflow.
        Err(_) => head(s, MAJOR_NINT, (!v).unsigned_abs()),
    }
}

/// A byte string.
///
/// # Errors
/// The sink's.
#[inline]
pub fn bytes<S: Sink + ?Sized>(s: &mut S, b: &[u8]) -> Result<(), S::Error> {
    head(s, MAJOR_BYTES, len_arg(b.len()))?;
    s.put(b)
}

/// A text string.
///
/// # Errors
/// The sink's.
#[inline]
pub fn text<S: Sink + ?Sized>(s: &mut S, t: &str) -> Result<(), S::Error> {
    head(s, MAJOR_TEXT, len_arg(t.len()))?;
    s.put(t.as_bytes())
}

/// `true` or `false`.
///
/// # Errors
/// The sink's.
pub fn boolean<S: Sink + ?Sized>(s: &mut S, v: bool) -> Result<(), S::Error> {
    s.put(&[(MAJOR_SIMPLE << 5) | if v { 21 } else { 20 }])
}

/// `null`.
///
/// # Errors
/// The sink's.
pub fn null<S: Sink + ?Sized>(s: &mut S) -> Result<(), S::Error> {
    s.put(&[(MAJOR_SIMPLE << 5) | 22])
}

/// The head of an array of `n` items.
///
/// # Errors
/// The sink's.
#[inline]
pub fn array<S: Sink + ?Sized>(s: &mut S, n: usize) -> Result<(), S::Error> {
    head(s, MAJOR_ARRAY, len_arg(n))
}

/// The head of a map of `n` entries.
///
/// # Errors
/// The sink's.
pub fn map<S: Sink + ?Sized>(s: &mut S, n: usize) -> Result<(), S::Error> {
    head(s, MAJOR_MAP, len_arg(n))
}

/// A tag head (its item follows).
///
/// # Errors
/// The sink's.
pub fn tag<S: Sink + ?Sized>(s: &mut S, tag: u64) -> Result<(), S::Error> {
    head(s, MAJOR_TAG, tag)
}

/// A float in the shortest of half, single and double precision that keeps its
/// bits (NaN payloads included), as ciborium writes it.
///
/// # Errors
/// The sink's.
pub fn float<S: Sink + ?Sized>(s: &mut S, v: f64) -> Result<(), S::Error> {
    let m = MAJOR_SIMPLE << 5;
    if let Some(h) = f16_bits(v) {
        let [a, b] = h.to_be_bytes();
        return s.put(&[m | 25, a, b]);
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the narrowing is checked by widening back"
    )]
    let single = v as f32;
    if f64::from(single).to_bits() == v.to_bits() {
        s.put(&[m | 26])?;
        return s.put(&single.to_be_bytes());
    }
    s.put(&[m | 27])?;
    s.put(&v.to_be_bytes())
}

/// The half-precision float whose widening (NaNs come back quiet) has exactly
/// the bits of `v`, if there is one.
fn f16_bits(v: f64) -> Option<u16> {
    const LOW42: u64 = (1 << 42) - 1;
    const QUIET: u64 = 1 << 51;
    let bits = v.to_bits();
    let sign = u16::from(bits >> 63 == 1) << 15;
    let exp = (bits >> 52) & 0x7ff;
    let man = bits & ((1 << 52) - 1);
    let top10 = u16::try_from(man >> 42).ok()?;
    match exp {
        // zero (an f64 subnormal is far below the smallest half)
        0 => (man == 0).then_some(sign),
        // infinity, or a quiet NaN whose payload fits
        0x7ff if man == 0 => Some(sign | 0x7c00),
        0x7ff => (man & QUIET != 0 && man & LOW42 == 0).then_some(sign | 0x7c00 | top10),
        // normal halves: unbiased exponent -14..=15
        1009..=1038 => {
            let e = u16::try_from(exp.checked_sub(1008)?).ok()?;
            (man & LOW42 == 0).then_some(sign | (e << 10) | top10)
        }
        // subnormal halves: m * 2^-24 with m in 1..1023 (unbiased exponent -24..=-15)
        999..=1008 => {
            let shift = 1051u64.checked_sub(exp)?; // 28 - e, 43..=52
            let full = man | (1 << 52);
            let low = (1u64 << shift).checked_sub(1)?;
            if full & low != 0 {
                return None;
            }
            Some(sign | u16::try_from(full >> shift).ok()?)
        }
        _ => None,
    }
}

/// A [`Value`](coset::cbor::value::Value) tree (the data model of claims a
/// profile does not name), written as ciborium writes it: preferred heads,
/// definite lengths, map entries in the order given, floats in their shortest
/// exact form. A container inside 256 others is refused, as
/// [`to_value`](super::to_value) refuses it.
///
/// # Errors
/// [`Error::TooDeep`] for too deep a tree; [`Error::Malformed`] for a kind of
/// value this encoder does not know; the sink's.
pub fn value<S>(s: &mut S, v: &coset::cbor::value::Value) -> Result<(), Error>
where
    S: Sink + ?Sized,
    Error: From<S::Error>,
{
    value_at(s, v, 0)
}

fn value_at<S>(s: &mut S, v: &coset::cbor::value::Value, depth: usize) -> Result<(), Error>
where
    S: Sink + ?Sized,
    Error: From<S::Error>,
{
    use coset::cbor::value::Value;
    let container = matches!(v, Value::Array(_) | Value::Map(_));
    if container && depth >= super::value::VALUE_NESTING_LIMIT {
        return Err(Error::TooDeep);
    }
    match v {
        Value::Integer(i) => {
            let n = i128::from(*i);
            match u64::try_from(n) {
                Ok(u) => head(s, MAJOR_UINT, u)?,
                // -1 - n for n in -2^64..=-1 is in 0..=2^64-1.
                Err(_) => {
                    let arg = (-1i128).checked_sub(n).ok_or(Error::Malformed)?;
                    head(s, MAJOR_NINT, u64::try_from(arg).map_err(|_| Error::Malformed)?)?;
                }
            }
        }
        Value::Bytes(b) => bytes(s, b)?,
        Value::Text(t) => text(s, t)?,
        Value::Float(f) => float(s, *f)?,
        Value::Bool(b) => boolean(s, *b)?,
        Value::Null => null(s)?,
        Value::Tag(t, inner) => {
            tag(s, *t)?;
            value_at(s, inner, depth)?;
        }
        Value::Array(items) => {
            array(s, items.len())?;
            for item in items {
                value_at(s, item, depth.saturating_add(1))?;
            }
        }
        Value::Map(entries) => {
            map(s, entries.len())?;
            for (k, item) in entries {
                value_at(s, k, depth.saturating_add(1))?;
                value_at(s, item, depth.saturating_add(1))?;
            }
        }
        _ => return Err(Error::Malformed),
    }
    Ok(())
}

/// A vector and the encoder functions as methods that cannot fail.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VecEncoder(pub Vec<u8>);

impl VecEncoder {
    /// An empty encoder.
    #[must_use]
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// The bytes written.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// See [`head()`].
    pub fn head(&mut self, major: u8, arg: u64) {
        let Ok(()) = head(&mut self.0, major, arg);
    }

    /// See [`uint()`].
    pub fn uint(&mut self, v: u64) {
        let Ok(()) = uint(&mut self.0, v);
    }

    /// See [`int()`].
    pub fn int(&mut self, v: i64) {
        let Ok(()) = int(&mut self.0, v);
    }

    /// See [`bytes()`].
    pub fn bytes(&mut self, b: &[u8]) {
        let Ok(()) = bytes(&mut self.0, b);
    }

    /// See [`text()`].
    pub fn text(&mut self, t: &str) {
        let Ok(()) = text(&mut self.0, t);
    }

    /// See [`boolean()`].
    pub fn boolean(&mut self, v: bool) {
        let Ok(()) = boolean(&mut self.0, v);
    }

    /// See [`null()`].
    pub fn null(&mut self) {
        let Ok(()) = null(&mut self.0);
    }

    /// See [`array()`].
    pub fn array(&mut self, n: usize) {
        let Ok(()) = array(&mut self.0, n);
    }

    /// See [`map()`].
    pub fn map(&mut self, n: usize) {
        let Ok(()) = map(&mut self.0, n);
    }

    /// See [`tag()`].
    pub fn tag(&mut self, t: u64) {
        let Ok(()) = tag(&mut self.0, t);
    }

    /// Appends bytes that are already CBOR.
    pub fn raw(&mut self, cbor: &[u8]) {
        self.0.extend_from_slice(cbor);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use alloc::vec::Vec;

    use super::*;

    #[test]
    fn heads_are_shortest_form() {
        for (arg, want) in [
            (0u64, &[0x00][..]),
            (23, &[0x17]),
            (24, &[0x18, 0x18]),
            (255, &[0x18, 0xff]),
            (256, &[0x19, 0x01, 0x00]),
            (65_535, &[0x19, 0xff, 0xff]),
            (65_536, &[0x1a, 0x00, 0x01, 0x00, 0x00]),
            (u64::from(u32::MAX), &[0x1a, 0xff, 0xff, 0xff, 0xff]),
            (u64::from(u32::MAX) + 1, &[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]),
        ] {
            let mut out = Vec::new();
            let Ok(()) = uint(&mut out, arg);
            assert_eq!(out, want, "{arg}");
            assert_eq!(head_len(arg), want.len());
            assert_eq!(count(|c| uint(c, arg)), Ok(want.len()));
        }
    }

    #[test]
    fn negative_integers() {
        for (v, want) in [
            (-1i64, &[0x20][..]),
            (-8, &[0x27]),
            (-24, &[0x37]),
            (-25, &[0x38, 0x18]),
            (-65_601, &[0x3a, 0x00, 0x01, 0x00, 0x40]),
            (i64::MIN, &[0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            (i64::MAX, &[0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        ] {
            let mut out = Vec::new();
            let Ok(()) = int(&mut out, v);
            assert_eq!(out, want, "{v}");
        }
    }

    #[test]
    fn every_kind_of_item() {
        let mut e = VecEncoder::new();
        e.tag(18);
        e.array(4);
        e.map(1);
        e.text("a");
        e.boolean(true);
        e.boolean(false);
        e.null();
        e.bytes(&[1, 2]);
        e.raw(&[0xf6]);
        assert_eq!(
            e.into_bytes(),
            [0xd2, 0x84, 0xa1, 0x61, b'a', 0xf5, 0xf4, 0xf6, 0x42, 1, 2, 0xf6]
        );
    }

    #[test]
    fn slice_sink_refuses_overflow() {
        let mut buf = [0u8; 3];
        let mut s = SliceSink::new(&mut buf);
        bytes(&mut s, &[1, 2]).unwrap();
        assert_eq!(s.written(), [0x42, 1, 2]);
        assert_eq!(bytes(&mut s, &[3]), Err(Error::BufferTooSmall));
        assert_eq!(s.position(), 3);
    }
}
