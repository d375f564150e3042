//! The shared pieces of muster's load tools (`muster-load`, `muster-stress`).

pub mod client;

use std::time::Duration;

/// The `p` quantile (0 to 1) of `sorted` latencies, in milliseconds (nearest rank); 0 when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}
