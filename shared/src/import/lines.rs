//! Line numbers of CSV records. The `csv` crate's record positions are taken before the
//! parser skips the `\n` of a `\r\n` left from the previous record and any blank lines, and
//! count `\n` only: a CRLF file would number every row one line too low. [`Lines`] sits under
//! the parser, turns every line break (`\r\n`, `\r`, `\n`) into one `\n` and remembers where
//! they are, so that a record's first line can be told from its start offset.

use std::collections::VecDeque;
use std::io::{self, Read};

/// A reader that hands on `source` with `\n` for every line break and numbers its lines.
pub(super) struct Lines<R> {
    source: R,
    /// The last byte handed on was a `\r` (now `\n`): a `\n` right after it is dropped.
    after_cr: bool,
    /// Bytes handed on so far.
    offset: u64,
    /// Offsets of the `\n` handed on and not yet passed by [`Lines::line_at`].
    breaks: VecDeque<u64>,
    /// Line breaks already passed.
    passed: u64,
}

impl<R: Read> Lines<R> {
    pub(super) fn new(source: R) -> Self {
        Lines {
            source,
            after_cr: false,
            offset: 0,
            breaks: VecDeque::new(),
            passed: 0,
        }
    }

    /// The 1-based line of the first byte at or after `offset` that is not a line break: where
    /// a record the parser started reading at `offset` really begins. Offsets must not
    /// decrease from one call to the next.
    pub(super) fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = offset;
        while let Some(&at) = self.breaks.front() {
            if at > start {
                break;
            }
            if at == start {
                start += 1;
            }
            self.breaks.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.source.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut out = 0;
            for i in 0..n {
                let b = buf[i];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                if b == b'\r' || b == b'\n' {
                    buf[out] = b'\n';
                    self.breaks.push_back(self.offset);
                } else {
                    buf[out] = b;
                }
                out += 1;
                self.offset += 1;
            }
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_line_break_becomes_one_newline() {
        let mut out = String::new();
        Lines::new("a\r\nb\rc\nd\r\r\ne".as_bytes())
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "a\nb\nc\nd\n\ne");
    }

    #[test]
    fn a_record_starts_on_the_line_after_the_breaks_before_it() {
        let mut lines = Lines::new("h\n\n\nx\ny".as_bytes());
        io::copy(&mut lines, &mut io::sink()).unwrap();
        assert_eq!(lines.line_at(0), 1);
        assert_eq!(lines.line_at(2), 4);
        assert_eq!(lines.line_at(6), 5);
    }
}
