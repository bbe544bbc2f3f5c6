//! Time as a value: [`Timestamp`] and the [`Clock`] trait.

/// Seconds since the Unix epoch (1970-01-01T00:00:00Z), as CWT's NumericDate counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The largest time citysec accepts in a claim: 9999-12-31T23:59:59Z.
    pub const MAX: Self = Self(253_402_300_799);

    /// A timestamp from seconds since the Unix epoch.
    #[must_use]
    pub const fn from_unix_seconds(seconds: u64) -> Self {
        Self(seconds)
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub const fn as_unix_seconds(self) -> u64 {
        self.0
    }

    /// This time plus `seconds`, saturating at `u64::MAX`.
    #[must_use]
    pub const fn saturating_add(self, seconds: u64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// This time minus `seconds`, saturating at the epoch.
    #[must_use]
    pub const fn saturating_sub(self, seconds: u64) -> Self {
        Self(self.0.saturating_sub(seconds))
    }
}

/// A source of the current time.
///
/// Returning `None` means the time is unknown (an RTC not yet set, say); every
/// time check then fails closed.
pub trait Clock {
    /// The current time, or `None` when it is not known.
    fn now(&self) -> Option<Timestamp>;
}

/// A clock that always returns the same time: for tests and for callers that
/// already read their own clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Option<Timestamp> {
        Some(self.0)
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Option<Timestamp> {
        (**self).now()
    }
}
