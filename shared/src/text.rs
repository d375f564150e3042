//! Text encodings used in more than one place: percent-encoding for URLs and header
//! parameters.

/// What [`percent_encode`] leaves as it is: RFC 3986's unreserved characters (§2.3:
/// `ALPHA / DIGIT / "-" / "." / "_" / "~"`).
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes every byte of `s` except RFC 3986's unreserved characters, which makes it
/// safe in a query string, a path segment or an RFC 8187 `filename*` value (the
/// `percent-encoding` crate does the work).
pub fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
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
