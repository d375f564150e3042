//! Table tests of the filter grammar and round-trip properties over random trees.

use super::parse::{PatchPath, SyntaxError};
use super::*;

fn path(s: &str) -> AttrPath {
    let (urn, rest) = match s.rfind(':') {
        Some(i) => (Some(s[..i].to_owned()), &s[i + 1..]),
        None => (None, s),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((n, sub)) => (n.to_owned(), Some(sub.to_owned())),
        None => (rest.to_owned(), None),
    };
    AttrPath { urn, name, sub }
}

fn eq(p: &str, v: &str) -> Filter {
    Filter::Compare(path(p), CompareOp::Eq, Literal::String(v.into()))
}

fn pr(p: &str) -> Filter {
    Filter::Present(path(p))
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

#[test]
fn filters_parse_into_the_expected_trees() {
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let cases: Vec<(&str, Filter)> = vec![
        (r#"userName eq "bjensen""#, eq("userName", "bjensen")),
        (r#"userName Eq "x""#, eq("userName", "x")),
        (
            r#"name.familyName co "O'Malley""#,
            Filter::Compare(
                path("name.familyName"),
                CompareOp::Co,
                Literal::String("O'Malley".into()),
            ),
        ),
        ("title pr", pr("title")),
        ("title PR and userType pr", and(pr("title"), pr("userType"))),
        (
            r#"a eq "1" or b eq "2" and c eq "3""#,
            or(eq("a", "1"), and(eq("b", "2"), eq("c", "3"))),
        ),
        (
            "a pr and b pr and c pr",
            and(and(pr("a"), pr("b")), pr("c")),
        ),
        ("a pr or b pr or c pr", or(or(pr("a"), pr("b")), pr("c"))),
        (
            r#"(a eq "1" or b eq "2") and c pr"#,
            and(or(eq("a", "1"), eq("b", "2")), pr("c")),
        ),
        ("not (a pr)", Filter::Not(Box::new(pr("a")))),
        (
            "NOT(a pr) and b pr",
            and(Filter::Not(Box::new(pr("a"))), pr("b")),
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"]"#,
            Filter::ValuePath(
                path("emails"),
                Box::new(and(
                    eq("type", "work"),
                    Filter::Compare(
                        path("value"),
                        CompareOp::Co,
                        Literal::String("@example.com".into()),
                    ),
                )),
            ),
        ),
        (
            &*Box::leak(format!(r#"{enterprise}:employeeNumber eq "701984""#).into_boxed_str()),
            eq(&format!("{enterprise}:employeeNumber"), "701984"),
        ),
        (r#"userName eq "a\"b\\c\u00e9""#, eq("userName", "a\"b\\cé")),
        (
            "active eq true",
            Filter::Compare(path("active"), CompareOp::Eq, Literal::Bool(true)),
        ),
        (
            "active eq False",
            Filter::Compare(path("active"), CompareOp::Eq, Literal::Bool(false)),
        ),
        (
            "x eq null",
            Filter::Compare(path("x"), CompareOp::Eq, Literal::Null),
        ),
        (
            "x gt -1.5e3",
            Filter::Compare(
                path("x"),
                CompareOp::Gt,
                Literal::Number(serde_json::from_str("-1.5e3").unwrap()),
            ),
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            Filter::Compare(
                path("meta.lastModified"),
                CompareOp::Ge,
                Literal::String("2011-05-13T04:42:34Z".into()),
            ),
        ),
        ("  organization pr  ", pr("organization")),
        ("members.$ref pr", pr("members.$ref")),
    ];
    for (text, want) in cases {
        assert_eq!(parse_filter(text), Ok(want), "{text}");
    }
}

#[test]
fn malformed_filters_report_where_they_fail() {
    let cases = [
        ("userName eq", 11),
        (r#"userName xx "a""#, 9),
        ("(a pr", 5),
        ("a pr)", 4),
        (r#"userName eq "open"#, 12),
        ("a[b pr", 6),
        ("", 0),
        ("a pr and", 8),
        (r#"userName eq 'single'"#, 12),
        (r#"userName eq "bad \q escape""#, 12),
        ("1abc pr", 0),
        ("a eq 1.2.3", 5),
        ("name.given.family pr", 10),
    ];
    for (text, offset) in cases {
        let err = parse_filter(text).expect_err(text);
        assert_eq!(err.offset, offset, "{text}: {err}");
    }
}

#[test]
fn nesting_is_capped() {
    let deep = format!(
        "{}a pr{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(parse_filter(&deep).unwrap_err().message.contains("nested"));
    let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse_filter(&ok), Ok(pr("a")));
    let nots = format!(
        "{}a pr{}",
        "not (".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(parse_filter(&nots).is_err());
}

#[test]
fn patch_paths_parse_with_value_filters_and_sub_attributes() {
    assert_eq!(
        parse_path("name.givenName"),
        Ok(PatchPath {
            attr: path("name.givenName"),
            filter: None,
            sub: None
        })
    );
    assert_eq!(
        parse_path(r#"emails[type eq "work"].value"#),
        Ok(PatchPath {
            attr: path("emails"),
            filter: Some(eq("type", "work")),
            sub: Some("value".into())
        })
    );
    assert_eq!(
        parse_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#),
        Ok(PatchPath {
            attr: path("members"),
            filter: Some(eq("value", "2819c223-7f76-453a-919d-413861904646")),
            sub: None
        })
    );
    let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
    assert_eq!(parse_path(manager).unwrap().attr, path(manager));
    for bad in [
        "",
        "emails[type eq \"work\"",
        "emails]",
        "name.givenName[x pr]",
        "a b",
    ] {
        assert!(parse_path(bad).is_err(), "{bad:?}");
    }
}

/// A small deterministic generator (xorshift64*), so property runs are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64)]
    }
}

fn random_path(rng: &mut Rng) -> AttrPath {
    let names = [
        "userName", "name", "emails", "active", "title", "x-y_z", "$ref", "A1",
    ];
    let urns = [
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "urn:example:params:v1.5:Thing",
    ];
    AttrPath {
        urn: (rng.below(5) == 0).then(|| rng.pick(&urns).to_string()),
        name: rng.pick(&names[..7]).to_string(),
        sub: (rng.below(3) == 0).then(|| rng.pick(&names).to_string()),
    }
}

fn random_literal(rng: &mut Rng) -> Literal {
    match rng.below(5) {
        0 => Literal::Bool(rng.below(2) == 0),
        1 => Literal::Null,
        2 => Literal::Number(serde_json::Number::from(rng.next() as i64 % 100_000)),
        _ => {
            let alphabet = [
                'a',
                'Z',
                ' ',
                '"',
                '\\',
                '/',
                'é',
                '\u{1F600}',
                '\n',
                '\t',
                ']',
                ')',
                '(',
                'o',
                'r',
            ];
            let len = rng.below(8);
            Literal::String((0..len).map(|_| *rng.pick(&alphabet)).collect())
        }
    }
}

fn random_filter(rng: &mut Rng, depth: usize, in_value_path: bool) -> Filter {
    let choice = if depth == 0 {
        rng.below(2)
    } else {
        rng.below(6)
    };
    match choice {
        0 => Filter::Compare(
            random_path(rng),
            *rng.pick(&CompareOp::ALL),
            random_literal(rng),
        ),
        1 => Filter::Present(random_path(rng)),
        2 => and(
            random_filter(rng, depth - 1, in_value_path),
            random_filter(rng, depth - 1, in_value_path),
        ),
        3 => or(
            random_filter(rng, depth - 1, in_value_path),
            random_filter(rng, depth - 1, in_value_path),
        ),
        4 => Filter::Not(Box::new(random_filter(rng, depth - 1, in_value_path))),
        _ if in_value_path => Filter::Not(Box::new(random_filter(rng, depth - 1, true))),
        _ => {
            let mut p = random_path(rng);
            p.sub = None;
            Filter::ValuePath(p, Box::new(random_filter(rng, depth - 1, true)))
        }
    }
}

#[test]
fn a_printed_random_filter_parses_back_to_the_same_tree() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5000 {
        let depth = rng.below(5);
        let f = random_filter(&mut rng, depth, false);
        let text = f.to_string();
        assert_eq!(parse_filter(&text), Ok(f), "{text}");
    }
}

#[test]
fn a_long_or_chain_prints_without_added_nesting_and_parses_back() {
    let text = vec!["a pr"; MAX_DEPTH + 8].join(" or ");
    let f = parse_filter(&format!("({text}) and b pr")).unwrap();
    assert_eq!(f.to_string(), format!("({text}) and b pr"));
    assert_eq!(parse_filter(&f.to_string()), Ok(f));
}

#[test]
fn a_number_beyond_double_precision_prints_back_to_the_same_value() {
    let f = parse_filter(&format!("x gt 52{}", "1".repeat(64))).unwrap();
    assert_eq!(parse_filter(&f.to_string()), Ok(f));
}

#[test]
fn no_input_makes_the_parsers_panic() {
    let mut rng = Rng(42);
    let pieces = [
        "userName",
        " eq ",
        "\"",
        "\\",
        "(",
        ")",
        "[",
        "]",
        " and ",
        " or ",
        "not",
        " pr",
        ".",
        ":",
        "urn:",
        "é",
        "\u{1F600}",
        "1e",
        "-",
        "true",
        "null",
        " ",
        "\"x\"",
        "emails[type eq \"w\"]",
    ];
    for _ in 0..20_000 {
        let n = rng.below(12);
        let text: String = (0..n).map(|_| *rng.pick(&pieces)).collect();
        let _: Result<Filter, SyntaxError> = parse_filter(&text);
        let _ = parse_path(&text);
    }
    let bytes: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    for window in bytes.chunks(37) {
        let text = String::from_utf8_lossy(window);
        let _ = parse_filter(&text);
        let _ = parse_path(&text);
    }
}

#[test]
fn a_sub_attribute_after_a_value_filter_joins_the_filter_with_and() {
    let joined = parse_filter(r#"emails[type eq "work"].value eq "a@b.c""#).unwrap();
    let written = parse_filter(r#"emails[type eq "work" and value eq "a@b.c"]"#).unwrap();
    assert_eq!(joined, written);
    let present = parse_filter(r#"emails[type eq "work"].value pr and userName sw "a""#);
    assert!(present.is_ok(), "{present:?}");
    assert!(parse_filter(r#"emails[type eq "work"].value"#).is_err());
    assert!(parse_filter(r#"emails[type eq "work"]."#).is_err());
}
