//! Where a request came from and which origin it addressed. Forwarding headers
//! (`X-Forwarded-For`, `-Host`, `-Proto`) are believed only as far as the configuration says
//! a proxy writes them; on Lambda the entry point states both from API Gateway's request
//! context, which no client can write.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use super::AppState;
use crate::config::Config;

/// The origin (`https://host`) a request addressed, as stated by the entry point (the
/// Lambda glue fills it from API Gateway's `domainName`); believed as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatedOrigin(pub String);

/// The client address, as stated by the entry point (API Gateway's `sourceIp` on Lambda).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatedClient(pub IpAddr);

fn first_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?;
    Some(v.split(',').next().unwrap_or(v).trim().to_owned()).filter(|v| !v.is_empty())
}

/// The public origin for absolute URLs (`Location`, `meta.location`, upload URLs), in order:
/// `--public-url`; the origin the entry point states; `X-Forwarded-Proto`/`-Host` when a
/// trusted proxy is configured (`trusted_proxy_hops` > 0); else `http://` and `Host`.
pub fn origin(headers: &HeaderMap, extensions: &Extensions, config: &Config) -> String {
    if let Some(url) = &config.public_url {
        return url.clone();
    }
    if let Some(StatedOrigin(origin)) = extensions.get::<StatedOrigin>() {
        return origin.clone();
    }
    let trusted = config.trusted_proxy_hops > 0;
    let forwarded = |name| trusted.then(|| first_value(headers, name)).flatten();
    let proto = forwarded("x-forwarded-proto").unwrap_or_else(|| "http".into());
    let host = forwarded("x-forwarded-host")
        .or_else(|| first_value(headers, "host"))
        .unwrap_or_else(|| "localhost".into());
    format!("{proto}://{host}")
}

/// The public origin of the request being handled (see [`origin`]), as an extractor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin(pub String);

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(origin(
            &parts.headers,
            &parts.extensions,
            &state.config,
        )))
    }
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// The client address behind `hops` trusted proxies: each proxy appends the address it was
/// called from, so the client is the `hops`-th entry counted from the right; whatever a
/// client wrote itself sits further left and is never read. `None` when the header has
/// fewer entries or that one is not an address.
pub fn forwarded_client(headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let index = entries.len().checked_sub(hops)?;
    parse_hop(entries[index])
}

/// The address a request came from, reduced to IPv4 when IPv4-mapped: the one the entry
/// point states; else, behind `trusted_proxy_hops` proxies, the entry they wrote into
/// `X-Forwarded-For` (unknown when they did not); else the TCP peer; else unknown.
pub fn client_address(parts: &Parts, config: &Config) -> Option<IpAddr> {
    let ip = if let Some(StatedClient(ip)) = parts.extensions.get::<StatedClient>() {
        Some(*ip)
    } else if config.trusted_proxy_hops > 0 && parts.headers.contains_key("x-forwarded-for") {
        forwarded_client(&parts.headers, config.trusted_proxy_hops)
    } else {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
    };
    ip.map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(xff: &[&str], peer: Option<&str>) -> Parts {
        let mut req = axum::http::Request::builder()
            .uri("/")
            .header("host", "h.test");
        for v in xff {
            req = req.header("x-forwarded-for", *v);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        if let Some(p) = peer {
            parts
                .extensions
                .insert(ConnectInfo(p.parse::<SocketAddr>().unwrap()));
        }
        parts
    }

    fn hops(n: usize) -> Config {
        Config {
            trusted_proxy_hops: n,
            ..Config::default()
        }
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_is_ignored_unless_a_proxy_is_trusted() {
        let p = parts(&["203.0.113.7"], Some("192.0.2.1:5000"));
        assert_eq!(client_address(&p, &hops(0)), ip("192.0.2.1"));
        assert_eq!(
            client_address(&parts(&["203.0.113.7"], None), &hops(0)),
            None
        );
        assert_eq!(client_address(&parts(&[], None), &hops(1)), None);
    }

    #[test]
    fn the_client_is_counted_from_the_right_so_a_forged_first_hop_is_never_read() {
        let cases = [
            (&["10.0.0.1, 203.0.113.7"][..], 1, ip("203.0.113.7")),
            (&["10.0.0.1, 203.0.113.7, 172.16.0.2"], 2, ip("203.0.113.7")),
            (&["10.0.0.1", "203.0.113.7"], 1, ip("203.0.113.7")),
            (&["[2001:db8::5]:443"], 1, ip("2001:db8::5")),
            (&["::ffff:192.0.2.9"], 1, ip("192.0.2.9")),
            (&["203.0.113.7"], 2, None),
            (&["unknown"], 1, None),
        ];
        for (header, n, expected) in cases {
            let p = parts(header, Some("10.9.9.9:1"));
            assert_eq!(client_address(&p, &hops(n)), expected, "{header:?} {n}");
        }
    }

    #[test]
    fn a_stated_client_wins_over_every_header() {
        let mut p = parts(&["10.0.0.1"], Some("10.9.9.9:1"));
        p.extensions
            .insert(StatedClient("203.0.113.10".parse().unwrap()));
        assert_eq!(client_address(&p, &hops(1)), ip("203.0.113.10"));
    }

    #[test]
    fn forwarded_host_and_proto_are_followed_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "h.test".parse().unwrap());
        headers.insert("x-forwarded-host", "evil.test".parse().unwrap());
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        let none = Extensions::new();
        assert_eq!(origin(&headers, &none, &hops(0)), "http://h.test");
        assert_eq!(origin(&headers, &none, &hops(1)), "https://evil.test");
        let mut stated = Extensions::new();
        stated.insert(StatedOrigin("https://api.example".into()));
        assert_eq!(origin(&headers, &stated, &hops(1)), "https://api.example");
    }
}
