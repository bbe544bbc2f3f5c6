//! Reading a bundle payload that already passed
//! `citysec_core::cbor::check_deterministic`, with core's reader.

use citysec_core::cbor::{MAJOR_BYTES, MAJOR_MAP, MAJOR_TEXT, MAJOR_UINT, Reader};

/// Reads items of well-formed CBOR through core's [`Reader`]; every method
/// returns `None` on anything unexpected.
#[derive(Debug)]
pub(crate) struct Dec<'a>(Reader<'a>);

impl<'a> Dec<'a> {
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self(Reader::new(bytes))
    }

    pub(crate) fn is_done(&self) -> bool {
        self.0.remaining().is_empty()
    }

    /// The argument of the next head, which must be of major type `major` (and
    /// not a float).
    fn arg(&mut self, major: u8) -> Option<u64> {
        let h = self.0.head().ok()?;
        (h.major == major && !h.float).then_some(h.arg)
    }

    pub(crate) fn uint(&mut self) -> Option<u64> {
        self.arg(MAJOR_UINT)
    }

    fn string(&mut self, major: u8) -> Option<&'a [u8]> {
        let h = self.0.head().ok()?;
        if h.major != major {
            return None;
        }
        self.0.take_string(h).ok()
    }

    pub(crate) fn text(&mut self) -> Option<&'a str> {
        core::str::from_utf8(self.string(MAJOR_TEXT)?).ok()
    }

    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        self.string(MAJOR_BYTES)
    }

    pub(crate) fn map(&mut self) -> Option<u64> {
        self.arg(MAJOR_MAP)
    }
}

#[cfg(test)]
mod tests {
    use citysec_core::cbor::write::VecEncoder;

    use super::*;

    #[test]
    fn a_bundle_shaped_map_reads_back() {
        let mut e = VecEncoder::new();
        e.map(3);
        e.uint(1);
        e.uint(65_536);
        e.uint(2);
        e.text("zone office");
        e.uint(3);
        e.bytes(&[7; 32]);
        let bytes = e.into_bytes();
        let mut d = Dec::new(&bytes);
        assert_eq!(d.map(), Some(3));
        assert_eq!((d.uint(), d.uint()), (Some(1), Some(65_536)));
        assert_eq!((d.uint(), d.text()), (Some(2), Some("zone office")));
        assert_eq!((d.uint(), d.bytes()), (Some(3), Some(&[7u8; 32][..])));
        assert!(d.is_done());
    }

    #[test]
    fn a_wrong_type_is_none() {
        let mut e = VecEncoder::new();
        e.int(-1);
        e.text("x");
        let bytes = e.into_bytes();
        let mut d = Dec::new(&bytes);
        assert_eq!(d.uint(), None);
        assert_eq!(d.bytes(), None);
    }
}
