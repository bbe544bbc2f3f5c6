//! The system clock.

use std::time::{SystemTime, UNIX_EPOCH};

use citysec_core::{Clock, Timestamp};

/// The operating system's wall clock, as a [`Clock`].
///
/// Returns `None` when the system time lies before the Unix epoch (a device whose
/// real-time clock was never set, say), so every time check fails closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Option<Timestamp> {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        Some(Timestamp::from_unix_seconds(since.as_secs()))
    }
}
