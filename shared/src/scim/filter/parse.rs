//! The filter parser: one function per grammar rule of RFC 7644 §3.4.2.2, layered
//! `or` → `and` → `not`/group/attribute expression so that `and` binds tighter than `or` and
//! both associate to the left. The whole input must be consumed; nesting is capped at
//! [`MAX_DEPTH`] and `and`/`or` operators at [`MAX_OPERATORS`]; errors carry the byte offset where parsing stopped.

use super::{AttrPath, CompareOp, Filter, Literal};

/// The deepest nesting of parentheses, `not` and value paths accepted.
pub const MAX_DEPTH: usize = 32;

/// The most `and`/`or` operators one filter may hold. A chain is parsed in a loop, but the tree
/// it builds leans one level deeper per operator, and evaluating, printing or dropping it
/// recurses that deep: 20,000 `and`s would overflow a thread's stack.
pub const MAX_OPERATORS: usize = 256;

/// A syntax error and where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {offset}")]
pub struct SyntaxError {
    /// Byte offset in the input.
    pub offset: usize,
    /// What was expected.
    pub message: String,
}

/// A PATCH path (RFC 7644 §3.5.2): `attrPath`, or `attrPath[valFilter]` optionally followed by
/// `.subAttr`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute (with its sub-attribute when written `attr.sub`).
    pub attr: AttrPath,
    /// The value filter, for `attr[…]`.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter: `emails[type eq "work"].value`.
    pub sub: Option<String>,
}

/// Parses a whole filter.
pub fn parse_filter(input: &str) -> Result<Filter, SyntaxError> {
    let mut p = Parser {
        s: input,
        pos: 0,
        depth: 0,
        operators: 0,
    };
    p.ws();
    let f = p.or()?;
    p.ws();
    p.end()?;
    Ok(f)
}

/// Parses a whole PATCH path.
pub fn parse_path(input: &str) -> Result<PatchPath, SyntaxError> {
    let mut p = Parser {
        s: input,
        pos: 0,
        depth: 0,
        operators: 0,
    };
    p.ws();
    let attr = p.attr_path()?;
    let mut out = PatchPath {
        attr,
        filter: None,
        sub: None,
    };
    if p.eat("[") {
        if out.attr.sub.is_some() {
            return Err(p.error("a value filter follows an attribute, not a sub-attribute"));
        }
        out.filter = Some(p.value_filter()?);
        if p.eat(".") {
            out.sub = Some(p.name()?);
        }
    }
    p.ws();
    p.end()?;
    Ok(out)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
    operators: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn ws(&mut self) -> bool {
        let before = self.pos;
        let trimmed = self.rest().trim_start_matches([' ', '\t', '\n', '\r']);
        self.pos = self.s.len() - trimmed.len();
        self.pos > before
    }

    fn eat(&mut self, token: &str) -> bool {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn end(&self) -> Result<(), SyntaxError> {
        if self.pos == self.s.len() {
            Ok(())
        } else {
            Err(self.error("unexpected text"))
        }
    }

    /// A case-insensitive keyword followed by whitespace, `(`, `)`, `]` or the end.
    fn keyword(&mut self, word: &str) -> bool {
        let rest = self.rest();
        let matches = rest.len() >= word.len()
            && rest.is_char_boundary(word.len())
            && rest[..word.len()].eq_ignore_ascii_case(word)
            && rest[word.len()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || matches!(c, '(' | ')' | ']'));
        if matches {
            self.pos += word.len();
        }
        matches
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("filter nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn operator(&mut self) -> Result<(), SyntaxError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(self.error(format!(
                "filter joins more than {MAX_OPERATORS} expressions with and/or"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter, SyntaxError> {
        let mut left = self.and()?;
        loop {
            let save = self.pos;
            if self.ws() && self.keyword("or") {
                self.operator()?;
                self.ws();
                let right = self.and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn and(&mut self) -> Result<Filter, SyntaxError> {
        let mut left = self.unary()?;
        loop {
            let save = self.pos;
            if self.ws() && self.keyword("and") {
                self.operator()?;
                self.ws();
                let right = self.unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    fn unary(&mut self) -> Result<Filter, SyntaxError> {
        let save = self.pos;
        if self.keyword("not") {
            self.ws();
            if self.rest().starts_with('(') {
                return Ok(Filter::Not(Box::new(self.group()?)));
            }
            self.pos = save;
        }
        if self.rest().starts_with('(') {
            return self.group();
        }
        self.attr_expr()
    }

    fn group(&mut self) -> Result<Filter, SyntaxError> {
        self.enter()?;
        self.eat("(");
        self.ws();
        let inner = self.or()?;
        self.ws();
        if !self.eat(")") {
            return Err(self.error("expected ')'"));
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn value_filter(&mut self) -> Result<Filter, SyntaxError> {
        self.enter()?;
        self.ws();
        let inner = self.or()?;
        self.ws();
        if !self.eat("]") {
            return Err(self.error("expected ']'"));
        }
        self.depth -= 1;
        Ok(inner)
    }

    fn attr_expr(&mut self) -> Result<Filter, SyntaxError> {
        let path = self.attr_path()?;
        if self.eat("[") {
            if path.sub.is_some() {
                return Err(self.error("a value filter follows an attribute, not a sub-attribute"));
            }
            let inner = self.value_filter()?;
            if self.eat(".") {
                // Outside RFC 7644's grammar but sent by several clients:
                // `emails[type eq "work"].value eq "x"` reads as
                // `emails[type eq "work" and value eq "x"]`.
                let sub = AttrPath {
                    urn: None,
                    name: self.name()?,
                    sub: None,
                };
                let tail = self.condition(sub)?;
                let both = Filter::And(Box::new(inner), Box::new(tail));
                return Ok(Filter::ValuePath(path, Box::new(both)));
            }
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        self.condition(path)
    }

    /// The operator and value that follow an attribute path in a comparison.
    fn condition(&mut self, path: AttrPath) -> Result<Filter, SyntaxError> {
        if !self.ws() {
            return Err(self.error("expected an operator after the attribute"));
        }
        if self.keyword("pr") {
            return Ok(Filter::Present(path));
        }
        let op = CompareOp::ALL
            .into_iter()
            .find(|op| self.keyword(op.keyword()))
            .ok_or_else(|| self.error("expected an operator: eq ne co sw ew gt ge lt le pr"))?;
        if !self.ws() {
            return Err(self.error("expected a value after the operator"));
        }
        let value = self.literal()?;
        Ok(Filter::Compare(path, op, value))
    }

    fn name(&mut self) -> Result<String, SyntaxError> {
        let rest = self.rest();
        let len = if rest.starts_with("$ref") {
            4
        } else if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len())
        } else {
            return Err(self.error("expected an attribute name"));
        };
        let name = rest[..len].to_owned();
        self.pos += len;
        Ok(name)
    }

    fn attr_path(&mut self) -> Result<AttrPath, SyntaxError> {
        let start = self.pos;
        let rest = self.rest();
        if rest.len() >= 4 && rest.is_char_boundary(4) && rest[..4].eq_ignore_ascii_case("urn:") {
            let len = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '(' | ')' | '"'))
                .unwrap_or(rest.len());
            let token = &rest[..len];
            let Some(colon) = token.rfind(':') else {
                return Err(self.error("expected an attribute name"));
            };
            let mut inner = Parser {
                s: &token[colon + 1..],
                pos: 0,
                depth: 0,
                operators: 0,
            };
            let (name, sub) = inner.name_and_sub().map_err(|e| SyntaxError {
                offset: start + colon + 1 + e.offset,
                message: e.message,
            })?;
            if inner.pos != inner.s.len() {
                return Err(SyntaxError {
                    offset: start + colon + 1 + inner.pos,
                    message: "unexpected text in attribute path".into(),
                });
            }
            self.pos += len;
            return Ok(AttrPath {
                urn: Some(token[..colon].to_owned()),
                name,
                sub,
            });
        }
        let (name, sub) = self.name_and_sub()?;
        Ok(AttrPath {
            urn: None,
            name,
            sub,
        })
    }

    fn name_and_sub(&mut self) -> Result<(String, Option<String>), SyntaxError> {
        let name = self.name()?;
        let sub = if self.eat(".") {
            Some(self.name()?)
        } else {
            None
        };
        Ok((name, sub))
    }

    fn literal(&mut self) -> Result<Literal, SyntaxError> {
        let rest = self.rest();
        if rest.starts_with('"') {
            return self.string();
        }
        for (word, value) in [
            ("true", Literal::Bool(true)),
            ("false", Literal::Bool(false)),
            ("null", Literal::Null),
        ] {
            if self.keyword(word) {
                return Ok(value);
            }
        }
        if rest.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            let len = rest
                .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
                .unwrap_or(rest.len());
            let number = serde_json::from_str::<serde_json::Number>(&rest[..len])
                .map_err(|_| self.error("malformed number"))?;
            self.pos += len;
            return Ok(Literal::Number(number));
        }
        Err(self.error("expected a value: a \"string\", a number, true, false or null"))
    }

    fn string(&mut self) -> Result<Literal, SyntaxError> {
        let bytes = self.rest().as_bytes();
        let mut i = 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    let raw = &self.rest()[..=i];
                    let s: String = serde_json::from_str(raw)
                        .map_err(|_| self.error("malformed string escape"))?;
                    self.pos += i + 1;
                    return Ok(Literal::String(s));
                }
                _ => i += 1,
            }
        }
        Err(self.error("unterminated string"))
    }
}
