//! How long `muster import` waits between two looks at a job's status: about half the time the
//! job still needs at the pace it has shown, so the command answers soon after the job ends
//! (within [`SHORTEST`] once the end is near) without asking many times a second while a long
//! job runs.

use std::time::{Duration, Instant};

/// The shortest wait between two looks.
pub const SHORTEST: Duration = Duration::from_millis(50);
/// The longest wait between two looks.
pub const LONGEST: Duration = Duration::from_secs(1);
/// The longest wait while the job's pace is unknown: it loads and checks its file (for a
/// time no status foretells), or has saved no count since the first one seen.
const UNKNOWN_PACE: Duration = Duration::from_millis(300);

/// What the looks so far have shown of a job's pace.
pub struct Pace {
    started: Instant,
    /// When rows were first seen applied, and how many.
    first: Option<(Instant, u64)>,
}

impl Pace {
    /// A job followed from `started`.
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            first: None,
        }
    }

    /// The wait before the next look, after one at `now` that saw `done` of `total` rows
    /// applied. Until a pace is known (no row applied, or none since the first seen): a
    /// quarter of the time followed so far (a small file is seen done at once, a large one is
    /// not asked about every 50 ms). Then half the time the rest needs at the pace seen since
    /// the first rows.
    pub fn wait(&mut self, now: Instant, done: u64, total: u64) -> Duration {
        let followed = now.saturating_duration_since(self.started);
        let unknown = (followed / 4).clamp(SHORTEST, UNKNOWN_PACE);
        if done == 0 {
            return unknown;
        }
        let (since, first) = *self.first.get_or_insert((now, done));
        let (rows, secs) = (
            done.saturating_sub(first),
            now.saturating_duration_since(since).as_secs_f64(),
        );
        if rows == 0 || secs <= 0.0 {
            // No pace yet: the job saves its count every few thousand rows.
            return unknown;
        }
        let rest = total.saturating_sub(done) as f64 / (rows as f64 / secs);
        Duration::from_secs_f64(rest / 2.0).clamp(SHORTEST, LONGEST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_that_has_applied_nothing_is_looked_at_soon_then_less_often() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        assert_eq!(pace.wait(start, 0, 0), SHORTEST);
        let later = start + Duration::from_secs(10);
        assert_eq!(pace.wait(later, 0, 200_000), UNKNOWN_PACE);
    }

    #[test]
    fn a_running_job_is_looked_at_after_half_the_time_it_still_needs() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        let t1 = start + Duration::from_secs(1);
        let unknown = Duration::from_millis(250);
        assert_eq!(pace.wait(t1, 10_000, 200_000), unknown, "no pace known yet");
        let t1b = t1 + Duration::from_millis(100);
        assert_eq!(
            pace.wait(t1b, 10_000, 200_000),
            Duration::from_millis(275),
            "none since"
        );
        // 40,000 rows in 2 s: 20,000 rows/s, 150,000 to go (7.5 s).
        let t2 = t1 + Duration::from_secs(2);
        assert_eq!(pace.wait(t2, 50_000, 200_000), LONGEST);
        // 180,000 rows in 9 s: 10,000 to go at 20,000 rows/s (0.5 s).
        let t3 = t1 + Duration::from_secs(9);
        assert_eq!(pace.wait(t3, 190_000, 200_000), Duration::from_millis(250));
    }

    #[test]
    fn a_job_at_its_last_rows_is_looked_at_every_shortest_wait() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        pace.wait(start + Duration::from_millis(100), 1_000, 2_000);
        let done = pace.wait(start + Duration::from_secs(2), 2_000, 2_000);
        assert_eq!(done, SHORTEST);
    }
}
