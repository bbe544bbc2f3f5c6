//! A tiny deterministic CBOR writer over three sinks: a counter (to size a buffer or
//! a byte string before writing it), a caller's slice (firmware: no allocation) and a
//! `Vec`.

use alloc::vec::Vec;

use crate::{Error, Result};

pub(crate) const MAJOR_UINT: u8 = 0;
pub(crate) const MAJOR_NINT: u8 = 1;
pub(crate) const MAJOR_BYTES: u8 = 2;
pub(crate) const MAJOR_TEXT: u8 = 3;
pub(crate) const MAJOR_ARRAY: u8 = 4;
pub(crate) const MAJOR_MAP: u8 = 5;

/// Where encoded bytes go.
pub(crate) trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]) -> Result<()>;
}

/// Counts bytes without storing them.
#[derive(Debug, Default)]
pub(crate) struct Counter(pub(crate) usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.0 = self.0.checked_add(bytes.len()).ok_or(Error::BufferTooSmall)?;
        Ok(())
    }
}

/// Writes into a caller's buffer.
#[derive(Debug)]
pub(crate) struct SliceSink<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> SliceSink<'a> {
    pub(crate) const fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) const fn position(&self) -> usize {
        self.pos
    }
}

impl Sink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
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
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

/// The number of bytes `f` writes.
pub(crate) fn count(f: impl FnOnce(&mut Counter) -> Result<()>) -> Result<usize> {
    let mut c = Counter::default();
    f(&mut c)?;
    Ok(c.0)
}

/// A head (major type and argument) in preferred, shortest form.
pub(crate) fn head(s: &mut impl Sink, major: u8, arg: u64) -> Result<()> {
    let m = major << 5;
    let b = arg.to_be_bytes();
    if arg < 24 {
        s.put(&[m | b[7]])
    } else if arg <= 0xff {
        s.put(&[m | 24, b[7]])
    } else if arg <= 0xffff {
        s.put(&[m | 25, b[6], b[7]])
    } else if arg <= 0xffff_ffff {
        s.put(&[m | 26, b[4], b[5], b[6], b[7]])
    } else {
        s.put(&[m | 27])?;
        s.put(&b)
    }
}

/// The length of a head with argument `arg`.
pub(crate) const fn head_len(arg: u64) -> usize {
    if arg < 24 {
        1
    } else if arg <= 0xff {
        2
    } else if arg <= 0xffff {
        3
    } else if arg <= 0xffff_ffff {
        5
    } else {
        9
    }
}

pub(crate) fn uint(s: &mut impl Sink, v: u64) -> Result<()> {
    head(s, MAJOR_UINT, v)
}

pub(crate) fn int(s: &mut impl Sink, v: i64) -> Result<()> {
    match u64::try_from(v) {
        Ok(u) => head(s, MAJOR_UINT, u),
        // -1 - v for negative v, i.e. !v reinterpreted, which cannot overflow.
        Err(_) => head(s, MAJOR_NINT, (!v).unsigned_abs()),
    }
}

pub(crate) fn len_arg(len: usize) -> Result<u64> {
    u64::try_from(len).map_err(|_| Error::BufferTooSmall)
}

pub(crate) fn bytes(s: &mut impl Sink, b: &[u8]) -> Result<()> {
    head(s, MAJOR_BYTES, len_arg(b.len())?)?;
    s.put(b)
}

pub(crate) fn text(s: &mut impl Sink, t: &str) -> Result<()> {
    head(s, MAJOR_TEXT, len_arg(t.len())?)?;
    s.put(t.as_bytes())
}

pub(crate) fn boolean(s: &mut impl Sink, v: bool) -> Result<()> {
    s.put(&[if v { 0xf5 } else { 0xf4 }])
}

pub(crate) fn array(s: &mut impl Sink, n: usize) -> Result<()> {
    head(s, MAJOR_ARRAY, len_arg(n)?)
}

pub(crate) fn map(s: &mut impl Sink, n: usize) -> Result<()> {
    head(s, MAJOR_MAP, len_arg(n)?)
}
