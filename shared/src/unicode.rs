//! How names are compared and which characters they may hold: the uniqueness of userName,
//! e-mail addresses, group and community names is decided on a folded form, so that
//! `ｄａｖｅ`, `Dave` and ` dave` are one name, as are `straße`/`STRASSE`, NFC and NFD
//! `josé`, `ﬁ`/`fi` and `İvan`/`ivan`.

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;

/// The comparison form of a name: outer whitespace trimmed, then Unicode's compatibility
/// caseless form (UAX #31 / Unicode §3.13 D146: NFKC of the full case folding of the NFKC
/// form, composed again), with the dotted capital I's fold `i` + U+0307 read as `i`, as
/// Turkish `İvan` is `ivan` to every reader. Two names are the same name exactly when their
/// folds are equal. ASCII takes a fast path with the same result.
pub fn fold(s: &str) -> String {
    fold_untrimmed(s.trim())
}

/// [`fold`] without trimming, for substring comparisons (`co`, `sw`, `ew` filters).
pub fn fold_untrimmed(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let once: String = s.nfkc().default_case_fold().collect();
    let twice: String = once.nfkc().default_case_fold().nfkc().collect();
    twice.replace("i\u{307}", "i")
}

/// Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt, 15.1): characters
/// that render as nothing, such as U+200B ZERO WIDTH SPACE, U+200D ZERO WIDTH JOINER and
/// U+00AD SOFT HYPHEN, which would make two names look alike and compare apart.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// Refuses control characters (C0 but tab, line feed and carriage return; DEL; C1) in free
/// text such as a name part or an address: NUL and its kin are never stored.
pub fn check_text(attribute: &str, s: &str) -> Result<(), String> {
    match s
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        Some(c) => Err(format!(
            "{attribute} holds the control character U+{:04X}",
            c as u32
        )),
        None => Ok(()),
    }
}

/// Refuses, in a name that identifies (userName, an e-mail address, externalId,
/// employeeNumber, a group's displayName), every control character and every
/// default-ignorable code point.
pub fn check_identifier(attribute: &str, s: &str) -> Result<(), String> {
    match s
        .chars()
        .find(|&c| c.is_control() || is_default_ignorable(c))
    {
        Some(c) => Err(format!(
            "{attribute} holds U+{:04X}, an invisible or control character that names may not hold",
            c as u32
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_names_fold_to_one() {
        let pairs = [
            ("ｄａｖｅ", "dave"),
            ("Dave", "dave"),
            ("strauß", "strauss"),
            ("straß", "strass"),
            ("STRASSE", "straße"),
            ("jose\u{301}", "jos\u{e9}"),
            ("İvan", "ivan"),
            (" dave ", "dave"),
            ("\u{FB01}le", "file"),
            ("Ops ", "ops"),
            ("ΣΊΣΥΦΟΣ", "σίσυφος"),
        ];
        for (a, b) in pairs {
            assert_eq!(fold(a), fold(b), "{a:?} and {b:?}");
        }
    }

    #[test]
    fn different_names_stay_apart() {
        let apart = [
            ("jose", "josé"),
            ("straß", "strauss"),
            ("ivan", "ıvan"),
            ("а", "a"),
        ];
        for (a, b) in apart {
            assert_ne!(fold(a), fold(b), "{a:?} and {b:?}");
        }
    }

    #[test]
    fn invisible_and_control_characters_are_refused_in_identifiers() {
        for bad in [
            "d\u{200B}ave",
            "d\u{200D}ave",
            "da\u{AD}ve",
            "dave\u{0}",
            "\u{FEFF}dave",
            "a\u{7}",
        ] {
            assert!(check_identifier("userName", bad).is_err(), "{bad:?}");
        }
        assert!(check_identifier("userName", "josé.müller@acme.test").is_ok());
        assert!(check_text("formatted", "1 Main St\nSpringfield\t").is_ok());
        assert!(check_text("givenName", "Ann\u{0}").is_err());
        assert!(check_text("givenName", "Ann\u{85}").is_err());
    }
}
