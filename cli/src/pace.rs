//! How long `muster import` waits between two looks at a job's status: about half the time the
//! job still needs at the pace it has shown, so the command answers soon after the job ends
//! (it looks every [`SHORTEST`] as the last rows go in) without asking many times a second
//! while a long job runs.

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
    /// When every row was first seen applied.
    full: Option<Instant>,
}

impl Pace {
    /// A job followed from `started`.
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            first: None,
            full: None,
        }
    }

    /// The wait before the next look, after one at `now` that saw `done` of `total` rows
    /// applied. Until a pace is known (no row applied, or none since the first seen): a
    /// quarter of the time followed so far (a small file is seen done at once, a large one is
    /// not asked about every 50 ms). Then half the time the rest needs at the pace seen since
    /// the first rows. Once every row is applied (a MIRROR's deletions and the report have no
    /// count), a quarter of the time since, so a long tail is not asked about every 50 ms
    /// either. A count that goes back (a job resumed by another run counts again from 0)
    /// starts the pace over.
    pub fn wait(&mut self, now: Instant, done: u64, total: u64) -> Duration {
        let followed = now.saturating_duration_since(self.started);
        let unknown = (followed / 4).clamp(SHORTEST, UNKNOWN_PACE);
        if done == 0 {
            return unknown;
        }
        if total > 0 && done >= total {
            let since = *self.full.get_or_insert(now);
            return (now.saturating_duration_since(since) / 4).clamp(SHORTEST, LONGEST);
        }
        if self.first.is_some_and(|(_, first)| done < first) {
            self.first = None;
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
        Duration::try_from_secs_f64(rest / 2.0)
            .unwrap_or(LONGEST)
            .clamp(SHORTEST, LONGEST)
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
    fn a_job_with_every_row_applied_is_looked_at_soon_then_less_often() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        pace.wait(start + Duration::from_millis(100), 1_000, 2_000);
        let all = start + Duration::from_secs(2);
        assert_eq!(pace.wait(all, 2_000, 2_000), SHORTEST);
        let tail = all + Duration::from_secs(2);
        assert_eq!(pace.wait(tail, 2_000, 2_000), Duration::from_millis(500));
        let long_tail = all + Duration::from_secs(60);
        assert_eq!(pace.wait(long_tail, 2_000, 2_000), LONGEST);
    }

    #[test]
    fn a_count_that_goes_back_starts_the_pace_over() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        pace.wait(start + Duration::from_secs(1), 50_000, 100_000);
        pace.wait(start + Duration::from_secs(2), 60_000, 100_000);
        let resumed = start + Duration::from_secs(3);
        assert_eq!(
            pace.wait(resumed, 10_000, 100_000),
            Duration::from_millis(300)
        );
        // 10,000 rows in 1 s since it resumed: 80,000 to go take 8 s.
        let later = resumed + Duration::from_secs(1);
        assert_eq!(pace.wait(later, 20_000, 100_000), LONGEST);
    }

    #[test]
    fn an_absurd_count_waits_the_longest_not_forever() {
        let start = Instant::now();
        let mut pace = Pace::new(start);
        pace.wait(start, 1, u64::MAX);
        let wait = pace.wait(start + Duration::from_secs(100), 2, u64::MAX);
        assert_eq!(wait, LONGEST);
    }
}
