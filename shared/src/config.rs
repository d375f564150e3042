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
    /// How many proxies in front of `muster serve` append to `X-Forwarded-For` (and write
    /// `X-Forwarded-Host`/`-Proto`); 0 (the default) believes none of those headers. The
    /// client address is then the entry that many places from the right.
    pub trusted_proxy_hops: usize,
    /// SHA-256 (hex) of the operator key that opens the `/admin` routes; `None` closes them.
    pub operator_key_sha256: Option<String>,
    /// The request limits of a tenant that sets none.
    pub default_limits: crate::auth::RequestLimits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_results: DEFAULT_MAX_RESULTS,
            trusted_proxy_hops: 0,
            operator_key_sha256: None,
            default_limits: crate::auth::RequestLimits::DEFAULT,
        }
    }
}

impl Config {
    /// Reads `MUSTER_PUBLIC_URL`, `MUSTER_TRUSTED_PROXY_HOPS` (or `MUSTER_TRUST_FORWARDED_FOR=1`,
    /// one hop) and the operator
    /// key (`MUSTER_OPERATOR_KEY_SHA256`, or `MUSTER_OPERATOR_KEY` hashed at once) from the
    /// environment; everything else keeps its default.
    pub fn from_env() -> Self {
        let public_url = std::env::var("MUSTER_PUBLIC_URL")
            .ok()
            .map(|u| u.trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        // MUSTER_TRUST_FORWARDED_FOR=1, the older spelling, is one trusted proxy.
        let legacy = std::env::var("MUSTER_TRUST_FORWARDED_FOR")
            .is_ok_and(|v| v.trim() == "1" || v.trim().eq_ignore_ascii_case("true"));
        let trusted_proxy_hops = std::env::var("MUSTER_TRUSTED_PROXY_HOPS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(usize::from(legacy));
        let operator_key_sha256 = std::env::var("MUSTER_OPERATOR_KEY_SHA256")
            .ok()
            .map(|h| h.trim().to_ascii_lowercase())
            .or_else(|| {
                std::env::var("MUSTER_OPERATOR_KEY")
                    .ok()
                    .map(|k| crate::auth::sha256_hex(k.trim().as_bytes()))
            })
            .filter(|h| !h.is_empty());
        Self {
            public_url,
            trusted_proxy_hops,
            operator_key_sha256,
            ..Self::default()
        }
    }
}
