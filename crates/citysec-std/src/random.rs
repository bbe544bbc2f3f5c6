//! The operating system's random source.

use citysec_core::RandomSource;

/// The operating system's cryptographically secure random number generator
/// (`getrandom`), as a [`RandomSource`].
///
/// Any failure of the OS source is reported as
/// [`citysec_core::Error::Backend`], so key generation fails instead of using
/// weak randomness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> citysec_core::Result<()> {
        getrandom::fill(buf).map_err(|_| citysec_core::Error::Backend)
    }
}
