//! Service configuration, read once at start-up from the environment or given by the CLI.

/// The largest request body accepted (RFC 7644 §3.7 `maxPayloadSize`), in bytes.
pub const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;

/// The largest page a SCIM list returns (`filter.maxResults` in ServiceProviderConfig).
pub const DEFAULT_MAX_RESULTS: usize = 1000;

/// Settings every entry point shares.
#[derive(Debug, Clone)]
pub struct Config {
    /// Public base URL (`https://id.example.com`) used in `Location` and `meta.location`;
    /// when absent it is derived from each request's `Host` and `X-Forwarded-Proto`.
    pub public_url: Option<String>,
    /// Largest request body, in bytes.
    pub max_payload: usize,
    /// Largest SCIM list page.
    pub max_results: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_results: DEFAULT_MAX_RESULTS,
        }
    }
}

impl Config {
    /// Reads `MUSTER_PUBLIC_URL` from the environment; everything else keeps its default.
    pub fn from_env() -> Self {
        let public_url = std::env::var("MUSTER_PUBLIC_URL")
            .ok()
            .map(|u| u.trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        Self {
            public_url,
            ..Self::default()
        }
    }
}
