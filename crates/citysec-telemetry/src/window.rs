//! The sliding replay window (one per device).
//!
//! The window remembers the highest sequence number accepted (`top`) and, for the
//! `size - 1` numbers below it, which were accepted. A number above `top` moves the
//! window; one inside it is accepted once; one below it is refused (too old to
//! tell). The window changes only after the envelope's tag verified, so a forged
//! envelope with a huge sequence number cannot move it.

use crate::{Error, Result};

/// Default window size (sequence numbers remembered).
pub const DEFAULT_WINDOW: u32 = 64;
/// Largest supported window size.
pub const MAX_WINDOW: u32 = 1024;

const WORDS: usize = (MAX_WINDOW as usize) / 64;

/// A replay window's state. Small, `Copy`, and serializable for persistence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest sequence number accepted, if any.
    top: Option<u64>,
    /// Bit `i` set: `top - i` was accepted. Word 0 holds bits 0..64.
    bits: [u64; WORDS],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self::new()
    }
}

/// Length of [`ReplayWindow::to_bytes`].
pub const WINDOW_BYTES: usize = 1 + 8 + WORDS * 8;

impl ReplayWindow {
    /// A window that has accepted nothing.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            top: None,
            bits: [0; WORDS],
        }
    }

    /// The highest accepted sequence number.
    #[must_use]
    pub const fn top(&self) -> Option<u64> {
        self.top
    }

    fn bit(&self, i: u64) -> bool {
        let (w, b) = (i / 64, i % 64);
        usize::try_from(w)
            .ok()
            .and_then(|w| self.bits.get(w))
            .is_some_and(|word| word & (1u64 << b) != 0)
    }

    /// Whether `seq` would be accepted by a window of `size` numbers.
    ///
    /// # Errors
    /// [`Error::Replay`] if it was accepted before; [`Error::OutsideWindow`] if it lies
    /// at or below `top - size`.
    pub fn check(&self, seq: u64, size: u32) -> Result<()> {
        let Some(top) = self.top else { return Ok(()) };
        if seq > top {
            return Ok(());
        }
        let back = top.checked_sub(seq).ok_or(Error::OutsideWindow)?;
        if back >= u64::from(size.clamp(1, MAX_WINDOW)) {
            return Err(Error::OutsideWindow);
        }
        if self.bit(back) { Err(Error::Replay) } else { Ok(()) }
    }

    /// Records `seq` as accepted. Call only after [`Self::check`] passed and the
    /// envelope's tag verified.
    pub fn accept(&mut self, seq: u64, size: u32) {
        let size = u64::from(size.clamp(1, MAX_WINDOW));
        match self.top {
            Some(top) if seq <= top => {
                let back = top.saturating_sub(seq);
                if back < size {
                    self.set(back);
                }
            }
            Some(top) => {
                self.shift(seq.saturating_sub(top), size);
                self.top = Some(seq);
                self.set(0);
            }
            None => {
                self.bits = [0; WORDS];
                self.top = Some(seq);
                self.set(0);
            }
        }
        self.clear_beyond(size);
    }

    fn set(&mut self, i: u64) {
        let (w, b) = (i / 64, i % 64);
        if let Some(word) = usize::try_from(w).ok().and_then(|w| self.bits.get_mut(w)) {
            *word |= 1u64 << b;
        }
    }

    /// Shifts the bits below `size` by `n` places towards older numbers. Bits at
    /// or beyond `size` are left as they are: [`Self::clear_beyond`] clears them
    /// next, and none of them can land below `size`.
    fn shift(&mut self, n: u64, size: u64) {
        if n >= size {
            self.bits = [0; WORDS];
            return;
        }
        // n < size <= MAX_WINDOW, so both fit.
        let (Ok(n), Ok(words_used)) = (usize::try_from(n), usize::try_from(size.div_ceil(64))) else {
            self.bits = [0; WORDS];
            return;
        };
        let (words, bits) = (n / 64, n % 64);
        for i in (0..words_used.min(WORDS)).rev() {
            let src = i.checked_sub(words);
            let hi = src.and_then(|s| self.bits.get(s)).copied().unwrap_or(0);
            let lo = src
                .and_then(|s| s.checked_sub(1))
                .and_then(|s| self.bits.get(s))
                .copied()
                .unwrap_or(0);
            let v = if bits == 0 {
                hi
            } else {
                (hi << bits) | (lo >> (64usize.saturating_sub(bits)))
            };
            if let Some(slot) = self.bits.get_mut(i) {
                *slot = v;
            }
        }
    }

    /// Forgets bits at or beyond `size` (so a smaller configured window behaves exactly).
    fn clear_beyond(&mut self, size: u64) {
        let used = usize::try_from(size.div_ceil(64)).unwrap_or(WORDS);
        if let Some(rest) = self.bits.get_mut(used..) {
            rest.fill(0);
        }
        let partial = size % 64;
        if partial != 0
            && let Some(word) = used.checked_sub(1).and_then(|i| self.bits.get_mut(i))
        {
            *word &= (1u64 << partial).wrapping_sub(1);
        }
    }

    /// The state as bytes: a flag (0 empty, 1 set), `top` big-endian, then the
    /// bitmap words big-endian.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; WINDOW_BYTES] {
        let mut out = [0u8; WINDOW_BYTES];
        if let Some(top) = self.top {
            out[0] = 1;
            out[1..9].copy_from_slice(&top.to_be_bytes());
        }
        for (chunk, word) in out[9..].chunks_exact_mut(8).zip(self.bits) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// The state from [`Self::to_bytes`].
    ///
    /// # Errors
    /// [`Error::Malformed`] for a wrong length or flag.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes: &[u8; WINDOW_BYTES] = bytes.try_into().map_err(|_| Error::Malformed)?;
        let top = match bytes[0] {
            0 => None,
            1 => Some(u64::from_be_bytes(
                bytes[1..9].try_into().map_err(|_| Error::Malformed)?,
            )),
            _ => return Err(Error::Malformed),
        };
        let mut bits = [0u64; WORDS];
        for (word, chunk) in bits.iter_mut().zip(bytes[9..].chunks_exact(8)) {
            *word = u64::from_be_bytes(chunk.try_into().map_err(|_| Error::Malformed)?);
        }
        Ok(Self { top, bits })
    }
}

#[cfg(test)]
mod tests;
