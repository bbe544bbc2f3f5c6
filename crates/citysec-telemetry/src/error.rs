//! The telemetry error type.

use core::fmt;

/// Result alias for this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why an envelope was not sealed or not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The COSE or crypto layer refused (decryption failure stays opaque:
    /// `Core(DecryptFailed)`; an IV or Partial IV problem is `Core(InvalidIv)`).
    Core(citysec_core::Error),
    /// The bytes are not an envelope of the citysec telemetry profile.
    Malformed,
    /// The device id is empty or longer than [`MAX_DEVICE_ID`](crate::MAX_DEVICE_ID),
    /// or the topic longer than [`MAX_TOPIC`](crate::MAX_TOPIC).
    InvalidParameter,
    /// The device is not one this receiver accepts.
    UnknownDevice,
    /// The key epoch is not one this receiver accepts.
    UnknownEpoch,
    /// The envelope arrived on another topic than the one it was sealed for.
    TopicMismatch,
    /// This sequence number was accepted before.
    Replay,
    /// The sequence number lies below the replay window: too old to tell, refused.
    OutsideWindow,
    /// The sender has used up its sequence space (2^40 numbers).
    SequenceExhausted,
    /// The sender's counter store could not be read, or could not persist a
    /// reservation; the sender stops rather than risk reusing a number.
    CounterStore,
    /// The sender's counter store holds nothing: it was never provisioned, or it was
    /// lost. The sender refuses rather than start again at 0 under the same key;
    /// provision the device at its next key epoch.
    CounterMissing,
    /// The receiver's replay store could not persist the window; nothing was accepted.
    ReplayStore,
    /// The output buffer is too small.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::Core(e) => return fmt::Display::fmt(e, f),
            Self::Malformed => "malformed envelope",
            Self::InvalidParameter => "device id or topic out of range",
            Self::UnknownDevice => "unknown device",
            Self::UnknownEpoch => "unknown key epoch",
            Self::TopicMismatch => "envelope sealed for another topic",
            Self::Replay => "replayed envelope",
            Self::OutsideWindow => "sequence number below the replay window",
            Self::SequenceExhausted => "sequence numbers exhausted",
            Self::CounterStore => "counter store unreadable or failed to persist",
            Self::CounterMissing => "counter store missing: provision the device at its next key epoch",
            Self::ReplayStore => "replay store failed to persist",
            Self::BufferTooSmall => "output buffer too small",
        };
        f.write_str(msg)
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Core(e) => Some(e),
            _ => None,
        }
    }
}

impl From<citysec_core::Error> for Error {
    /// Core's encoder reports a short output buffer as its `BufferTooSmall`; here
    /// it is this crate's [`Error::BufferTooSmall`], as documented on the sealing
    /// functions.
    fn from(e: citysec_core::Error) -> Self {
        match e {
            citysec_core::Error::BufferTooSmall => Self::BufferTooSmall,
            e => Self::Core(e),
        }
    }
}
