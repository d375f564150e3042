//! Scopes of API clients and access tokens: `scim` and `imports`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an access token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The SCIM API of the client's tenant (`scim`).
    Scim,
    /// Member-file imports of the client's tenant (`imports`).
    Imports,
}

/// A scope string that names no [`Scope`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?} (known: scim, imports)")]
pub struct UnknownScope(pub String);

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 2] = [Scope::Scim, Scope::Imports];

    /// The scope's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Scim => "scim",
            Scope::Imports => "imports",
        }
    }

    /// Parses a space-separated scope list (RFC 6749 §3.3), dropping duplicates; the result
    /// is in canonical order.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>, UnknownScope> {
        let mut scopes = Vec::new();
        for word in s.split(' ').filter(|w| !w.is_empty()) {
            scopes.push(word.parse::<Scope>()?);
        }
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// Formats scopes as a space-separated list.
    pub fn format_list(scopes: &[Scope]) -> String {
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        names.join(" ")
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, UnknownScope> {
        match s {
            "scim" => Ok(Scope::Scim),
            "imports" => Ok(Scope::Imports),
            other => Err(UnknownScope(other.to_owned())),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_from_and_print_to_their_names() {
        assert_eq!(
            Scope::parse_list("imports  scim imports"),
            Ok(vec![Scope::Scim, Scope::Imports])
        );
        assert_eq!(Scope::format_list(&Scope::ALL), "scim imports");
        assert_eq!(
            Scope::parse_list("scim admin"),
            Err(UnknownScope("admin".into()))
        );
        assert!("SCIM".parse::<Scope>().is_err());
    }
}
