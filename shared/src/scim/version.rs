//! Resource versions as weak ETags, and the `If-Match` / `If-None-Match` checks of
//! RFC 7644 §3.14.

use super::ScimError;

/// The weak ETag of version `v`: `W/"v"`.
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// The conditional headers of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// `If-Match`, as sent.
    pub if_match: Option<String>,
    /// `If-None-Match`, as sent.
    pub if_none_match: Option<String>,
}

fn listed(header: &str, version: u64) -> bool {
    let wanted = version.to_string();
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == wanted)
}

/// `If-Match` is the directory's version pin (RFC 7644 §3.14).
impl crate::directory::Pin for Preconditions {
    fn check(&self, version: u64) -> Result<(), crate::directory::DirectoryError> {
        match &self.if_match {
            Some(h) if !listed(h, version) => Err(crate::directory::DirectoryError::Precondition(
                format!("the resource is at version {}, not {h}", etag(version)),
            )),
            _ => Ok(()),
        }
    }
    fn pinned(&self) -> bool {
        self.if_match.is_some()
    }
}

impl Preconditions {
    /// Fails with 412 when `If-Match` is present and does not name `version`.
    pub fn check_match(&self, version: u64) -> Result<(), ScimError> {
        Ok(crate::directory::Pin::check(self, version)?)
    }

    /// True when `If-None-Match` names `version`, so a GET may answer 304.
    pub fn not_modified(&self, version: u64) -> bool {
        self.if_none_match
            .as_deref()
            .is_some_and(|h| listed(h, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_weak_strong_star_and_lists() {
        for header in [r#"W/"3""#, r#""3""#, "*", r#"W/"1", W/"3""#] {
            let p = Preconditions {
                if_match: Some(header.into()),
                ..Default::default()
            };
            assert!(p.check_match(3).is_ok(), "{header}");
        }
        let p = Preconditions {
            if_match: Some(r#"W/"2""#.into()),
            ..Default::default()
        };
        assert_eq!(p.check_match(3).unwrap_err().status.as_u16(), 412);
    }
}
