//! Network time as plain milliseconds: the engine never reads a clock, callers pass `now` in.
//!
//! One signed millisecond count serves both rippled clocks: the network clock that close times
//! are taken from, and the steady clock that times rounds. The simulator starts it wherever a
//! scenario wants; a real node passes milliseconds since the Unix epoch.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A point on the network clock, in milliseconds since the network epoch.
///
/// `Time(0)` is special, as in rippled: a close time of zero means "agree to disagree".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Time(pub i64);

impl Time {
    /// The epoch, which doubles as "no close time".
    pub const ZERO: Time = Time(0);

    /// Milliseconds since the epoch.
    pub fn ms(self) -> i64 {
        self.0
    }

    /// Signed milliseconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn since(self, earlier: Time) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This time moved by `ms` milliseconds (either direction).
    pub fn plus(self, ms: i64) -> Time {
        Time(self.0.saturating_add(ms))
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:03}s",
            self.0.div_euclid(1000),
            self.0.rem_euclid(1000)
        )
    }
}
