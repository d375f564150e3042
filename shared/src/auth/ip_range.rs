//! IP address allowlists: IPv4 and IPv6 networks in CIDR notation, and the matching of a
//! request's source address against them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare address
/// is a network of one. Host bits are cleared when parsing. Parsing and matching are the
/// `ipnet` crate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange(IpNet);

/// A string that is not an address or a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or a CIDR network such as 192.0.2.0/24")]
pub struct InvalidIpRange(pub String);

impl IpRange {
    /// True when `ip` lies in this network. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`)
    /// count as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl FromStr for IpRange {
    type Err = InvalidIpRange;

    fn from_str(s: &str) -> Result<Self, InvalidIpRange> {
        let text = s.trim();
        let net = match text.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) if !text.contains('/') => text
                .parse::<IpAddr>()
                .map(IpNet::from)
                .map_err(|_| InvalidIpRange(s.to_owned()))?,
            Err(_) => return Err(InvalidIpRange(s.to_owned())),
        };
        Ok(Self(net.trunc()))
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.network(), self.0.prefix_len())
    }
}

impl Serialize for IpRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> IpRange {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_v4_networks_match_the_addresses_inside_them() {
        let net = range("10.1.0.0/16");
        assert!(net.contains(ip("10.1.0.0")));
        assert!(net.contains(ip("10.1.255.255")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(!net.contains(ip("::1")));
        assert!(range("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(range("192.0.2.7").contains(ip("192.0.2.7")));
        assert!(!range("192.0.2.7").contains(ip("192.0.2.8")));
    }

    #[test]
    fn cidr_v6_networks_match_and_mapped_v4_addresses_count_as_v4() {
        let net = range("2001:db8::/32");
        assert!(net.contains(ip("2001:db8:ffff::1")));
        assert!(!net.contains(ip("2001:db9::1")));
        assert!(range("::/0").contains(ip("::1")));
        assert!(range("::1").contains(ip("::1")));
        assert!(range("192.0.2.0/24").contains(ip("::ffff:192.0.2.44")));
    }

    #[test]
    fn cidr_parsing_clears_host_bits_and_refuses_nonsense() {
        assert_eq!(range("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(range(" 2001:db8::1/32 ").to_string(), "2001:db8::/32");
        assert_eq!(range("192.0.2.1").to_string(), "192.0.2.1/32");
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0/8",
            "host",
            "1.2.3.4/-1",
            "1.2.3.4/+8",
            "1.2.3.4/8/8",
        ] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad:?} must be refused");
        }
    }
}
