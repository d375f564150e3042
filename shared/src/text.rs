//! Text encodings used in more than one place: percent-encoding for URLs and header
//! parameters.

/// Percent-encodes every byte of `s` except RFC 3986's unreserved characters (§2.3:
/// `ALPHA / DIGIT / "-" / "." / "_" / "~"`), which makes it safe in a query string, a path
/// segment or an RFC 8187 `filename*` value.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        assert_eq!(
            percent_encode("userName eq \"zoë\"-._~/"),
            "userName%20eq%20%22zo%C3%AB%22-._~%2F"
        );
    }
}
