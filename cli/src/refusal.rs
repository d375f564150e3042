//! Which refused requests `muster import` sends again, and after how long: a tenant held to
//! its share of requests (429) must slow the command down, not end it while its job runs on.

use std::time::Duration;

/// Refusals waited out, one request after another, before the last answer is taken as is.
pub const MAX_RETRIES: u32 = 8;

/// The longest wait for one refusal, whatever the server asks.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Whether a request answered `status` may be sent again as it is. A 429 (RFC 6585 §4: too
/// many requests) is refused before anything is done, whatever the method; a gateway's or a
/// busy server's 502, 503 or 504 may come after the work began, so only a GET (safe, RFC 9110
/// §9.2.1) is sent again after one.
pub fn retryable(method: &str, status: u16) -> bool {
    status == 429 || (method == "GET" && matches!(status, 502..=504))
}

/// How long to wait before try number `attempt` (1 for the first retry): the server's
/// `Retry-After` in seconds (RFC 9110 §10.2.3) when it gave one, else half a second doubled
/// each time; never more than [`MAX_WAIT`].
pub fn wait(retry_after: Option<&str>, attempt: u32) -> Duration {
    let asked = retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let backoff = Duration::from_millis(500).saturating_mul(1 << attempt.saturating_sub(1).min(10));
    asked.unwrap_or(backoff).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_is_sent_again_whatever_the_method_and_a_gateway_error_only_for_a_get() {
        assert!(retryable("POST", 429));
        assert!(retryable("GET", 429));
        assert!(retryable("GET", 503));
        assert!(retryable("GET", 502));
        assert!(!retryable("POST", 503));
        assert!(!retryable("GET", 500));
        assert!(!retryable("GET", 401));
    }

    #[test]
    fn the_wait_is_what_the_server_asks_within_bounds_else_a_doubling_backoff() {
        assert_eq!(wait(Some("2"), 1), Duration::from_secs(2));
        assert_eq!(wait(Some(" 0 "), 3), Duration::ZERO);
        assert_eq!(wait(Some("86400"), 1), MAX_WAIT);
        assert_eq!(wait(None, 1), Duration::from_millis(500));
        assert_eq!(
            wait(Some("Fri, 04 Dec 2026 23:00:00 GMT"), 3),
            Duration::from_secs(2)
        );
        assert_eq!(wait(None, 60), MAX_WAIT);
    }
}
