//! Small text helpers shared by the panels: ages, durations, marks, short hashes.

use crate::consensus::Time;
use crate::store::rows::ProposalMark;

/// "1.2s", "340ms", "3m12s".
pub fn duration_ms(ms: i64) -> String {
    if ms < 0 {
        return "-".into();
    }
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", ms / 60_000, ms / 1000 % 60)
    }
}

/// Age of `then` at `now`.
pub fn age(now: Time, then: Time) -> String {
    duration_ms(now.since(then))
}

/// `HH:MM:SS.mmm` (UTC) of a network time.
pub fn clock(t: Time) -> String {
    let ms = t.ms().rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The feed's mark column.
pub fn mark(m: ProposalMark) -> String {
    match m {
        ProposalMark::New => "new".into(),
        ProposalMark::Changed => "changed".into(),
        ProposalMark::BowOut => "BOW-OUT".into(),
        ProposalMark::Stale => "stale".into(),
        ProposalMark::OtherLedger => "other ledger".into(),
        ProposalMark::Rejected(r) => format!("REJECTED {r}"),
    }
}

/// Truncates to `n` characters with an ellipsis.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}
