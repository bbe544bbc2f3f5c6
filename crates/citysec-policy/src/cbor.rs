//! A tiny CBOR encoder and a reader for input that already passed
//! `citysec_core::cbor::check_well_formed`.

use alloc::vec::Vec;

pub(crate) const MAJOR_UINT: u8 = 0;
pub(crate) const MAJOR_NINT: u8 = 1;
pub(crate) const MAJOR_BYTES: u8 = 2;
pub(crate) const MAJOR_TEXT: u8 = 3;
pub(crate) const MAJOR_ARRAY: u8 = 4;
pub(crate) const MAJOR_MAP: u8 = 5;

/// Appends deterministic (preferred, definite-length) CBOR.
#[derive(Debug, Default)]
pub(crate) struct Enc(pub(crate) Vec<u8>);

impl Enc {
    pub(crate) fn head(&mut self, major: u8, arg: u64) {
        let m = major << 5;
        if let Ok(small) = u8::try_from(arg) {
            if small < 24 {
                self.0.push(m | small);
            } else {
                self.0.push(m | 24);
                self.0.push(small);
            }
        } else if let Ok(v) = u16::try_from(arg) {
            self.0.push(m | 25);
            self.0.extend_from_slice(&v.to_be_bytes());
        } else if let Ok(v) = u32::try_from(arg) {
            self.0.push(m | 26);
            self.0.extend_from_slice(&v.to_be_bytes());
        } else {
            self.0.push(m | 27);
            self.0.extend_from_slice(&arg.to_be_bytes());
        }
    }

    pub(crate) fn uint(&mut self, n: u64) {
        self.head(MAJOR_UINT, n);
    }

    pub(crate) fn int(&mut self, n: i64) {
        match u64::try_from(n) {
            Ok(u) => self.head(MAJOR_UINT, u),
            // -1 - n is in 0..=i64::MAX for every negative n.
            Err(_) => self.head(MAJOR_NINT, u64::try_from((-1i64).saturating_sub(n)).unwrap_or(0)),
        }
    }

    pub(crate) fn len(&mut self, major: u8, n: usize) {
        self.head(major, u64::try_from(n).unwrap_or(u64::MAX));
    }

    pub(crate) fn text(&mut self, s: &str) {
        self.len(MAJOR_TEXT, s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.len(MAJOR_BYTES, b.len());
        self.0.extend_from_slice(b);
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.0.push(if b { 0xf5 } else { 0xf4 });
    }

    pub(crate) fn null(&mut self) {
        self.0.push(0xf6);
    }
}

/// Reads items from well-formed CBOR; every method returns `None` on anything unexpected.
#[derive(Debug)]
pub(crate) struct Dec<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// Major type and argument of the next item.
    pub(crate) fn head(&mut self) -> Option<(u8, u64)> {
        let first = *self.take(1)?.first()?;
        let major = first >> 5;
        let info = first & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => u64::from(*self.take(1)?.first()?),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
            _ => return None,
        };
        Some((major, arg))
    }

    pub(crate) fn uint(&mut self) -> Option<u64> {
        match self.head()? {
            (MAJOR_UINT, n) => Some(n),
            _ => None,
        }
    }

    fn string(&mut self, want: u8) -> Option<&'a [u8]> {
        let (major, len) = self.head()?;
        if major != want {
            return None;
        }
        self.take(usize::try_from(len).ok()?)
    }

    pub(crate) fn text(&mut self) -> Option<&'a str> {
        core::str::from_utf8(self.string(MAJOR_TEXT)?).ok()
    }

    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        self.string(MAJOR_BYTES)
    }

    pub(crate) fn map(&mut self) -> Option<u64> {
        match self.head()? {
            (MAJOR_MAP, n) => Some(n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_round_trip() {
        for n in [
            0i64,
            1,
            23,
            24,
            255,
            256,
            65_536,
            -1,
            -24,
            -25,
            -256,
            i64::MIN,
            i64::MAX,
        ] {
            let mut e = Enc::default();
            e.int(n);
            let mut d = Dec::new(&e.0);
            let (major, arg) = d.head().unwrap();
            let back = if major == MAJOR_UINT {
                i64::try_from(arg).unwrap()
            } else {
                -1 - i64::try_from(arg).unwrap()
            };
            assert_eq!(back, n);
            assert!(d.is_done());
        }
    }
}
