//! Reading member files: CSV (UTF-8 with or without BOM, `,` or `;` detected from the header,
//! header names case-insensitive and in any order), streamed row by row.

use std::io::{BufRead, BufReader, Read};

use super::Mode;
use super::lines::Lines;

/// The largest row accepted, in bytes; longer rows are rejected, not loaded whole into the job.
pub const MAX_ROW_BYTES: usize = 64 * 1024;

/// Where each known column sits in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    /// Index of each named column, if present.
    pub index: Vec<(&'static str, usize)>,
}

impl Columns {
    /// The column's index.
    pub fn get(&self, name: &str) -> Option<usize> {
        self.index.iter().find(|(n, _)| *n == name).map(|(_, i)| *i)
    }
}

/// Columns every file of a mode must have.
pub fn required(mode: Mode) -> &'static [&'static str] {
    match mode {
        Mode::Mirror | Mode::Upsert => &[
            "matricule",
            "email",
            "first_name",
            "last_name",
            "community",
            "role",
        ],
        Mode::Delete => &["matricule", "community"],
    }
}

const OPTIONAL: &[&str] = &["phone", "title"];

/// One data row: its line number (the header is line 1) and its cells by column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the file.
    pub line: u64,
    /// Cell values, trimmed, in the order of [`Columns::index`].
    pub cells: Vec<String>,
    /// Set when the row itself is unreadable (too long, not UTF-8).
    pub unreadable: Option<String>,
}

impl Row {
    /// The cell of column `name` ("" when absent).
    pub fn cell<'a>(&'a self, columns: &Columns, name: &str) -> &'a str {
        columns
            .index
            .iter()
            .position(|(n, _)| *n == name)
            .and_then(|p| self.cells.get(p))
            .map_or("", String::as_str)
    }
}

/// Why a file cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Structural(pub String);

/// The empty file model of a mode (CSV header line).
pub fn template(mode: Mode) -> String {
    let mut cols: Vec<&str> = required(mode).to_vec();
    if mode != Mode::Delete {
        cols.extend(OPTIONAL);
    }
    format!("{}\n", cols.join(","))
}

fn detect_delimiter(header: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// Maps header names (any case, spaces or dashes for underscores, a BOM tolerated) to the known
/// columns; fails when a column `mode` requires is missing. Returns the map and the position
/// in the file of each mapped column.
pub fn columns_from_header<'a>(
    names: impl Iterator<Item = &'a str>,
    mode: Mode,
) -> Result<(Columns, Vec<usize>), Structural> {
    let mut columns = Columns::default();
    for (i, name) in names.enumerate() {
        let name = name
            .trim_start_matches('\u{feff}')
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_");
        let known = required(Mode::Upsert)
            .iter()
            .chain(OPTIONAL)
            .find(|k| **k == name);
        if let Some(k) = known
            && columns.get(k).is_none()
        {
            columns.index.push((k, i));
        }
    }
    let missing: Vec<&str> = required(mode)
        .iter()
        .copied()
        .filter(|c| columns.get(c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(Structural(format!(
            "missing required column(s): {} (a {mode:?} file has {})",
            missing.join(", "),
            required(mode).join(", ")
        )));
    }
    let positions = columns.index.iter().map(|(_, i)| *i).collect();
    Ok((columns, positions))
}

/// Opens a member file of either type: CSV streamed, XLSX read sheet-first.
pub fn open_any(
    source: Box<dyn Read + Send>,
    content_type: &str,
    mode: Mode,
) -> Result<(Columns, Box<dyn Iterator<Item = Row> + Send>), Structural> {
    if content_type == super::XLSX {
        return super::xlsx::open_xlsx(source, mode);
    }
    let (columns, rows) = open_rows(source, mode)?;
    Ok((columns, Box::new(rows)))
}

/// Opens a CSV member file for `mode`: reads the header, checks the required columns, and
/// returns the column map and an iterator over the data rows.
pub fn open_rows(
    source: Box<dyn Read + Send>,
    mode: Mode,
) -> Result<(Columns, impl Iterator<Item = Row> + Send), Structural> {
    let mut reader = BufReader::with_capacity(256 * 1024, source);
    let peek = reader
        .fill_buf()
        .map_err(|e| Structural(format!("the file cannot be read: {e}")))?;
    if peek.is_empty() {
        return Err(Structural("the file is empty".into()));
    }
    if peek.contains(&0) {
        return Err(Structural(
            "the file is not text (it holds NUL bytes): send a UTF-8 CSV".into(),
        ));
    }
    let first_line = peek.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = detect_delimiter(first_line);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(Lines::new(reader));
    let mut header = csv::ByteRecord::new();
    match csv.read_byte_record(&mut header) {
        Ok(true) => {}
        Ok(false) => return Err(Structural("the file is empty".into())),
        Err(e) => return Err(Structural(format!("the header cannot be read: {e}"))),
    }
    let mut names = Vec::with_capacity(header.len());
    for raw in header.iter() {
        let Ok(name) = std::str::from_utf8(raw) else {
            return Err(Structural(
                "the header is not UTF-8: save the file as UTF-8".into(),
            ));
        };
        names.push(name);
    }
    let (columns, positions) = columns_from_header(names.into_iter(), mode)?;
    let mut record = csv::ByteRecord::new();
    let rows = std::iter::from_fn(move || {
        loop {
            let start = csv.position().byte();
            match csv.read_byte_record(&mut record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    return Some(Row {
                        line: csv.get_mut().line_at(start),
                        cells: vec![],
                        unreadable: Some(format!("unreadable row: {e}")),
                    });
                }
            }
            let line = csv.get_mut().line_at(start);
            if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            if record.as_slice().len() > MAX_ROW_BYTES {
                return Some(Row {
                    line,
                    cells: vec![],
                    unreadable: Some(format!("the row is longer than {MAX_ROW_BYTES} bytes")),
                });
            }
            let mut cells = Vec::with_capacity(positions.len());
            for &p in &positions {
                let raw = record.get(p).unwrap_or_default();
                match std::str::from_utf8(raw) {
                    Ok(s) => cells.push(s.trim().to_owned()),
                    Err(_) => {
                        return Some(Row {
                            line,
                            cells: vec![],
                            unreadable: Some("the row is not UTF-8".into()),
                        });
                    }
                }
            }
            return Some(Row {
                line,
                cells,
                unreadable: None,
            });
        }
    });
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, mode: Mode) -> Result<(Columns, Vec<Row>), Structural> {
        let (c, r) = open_rows(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            mode,
        )?;
        Ok((c, r.collect()))
    }

    #[test]
    fn headers_match_in_any_case_and_order_with_either_delimiter_and_a_bom() {
        let text = "\u{feff}Role;COMMUNITY;Matricule;email;First Name;last_name\nmember;Eng;E1;a@x.test;Ann;Lee\n";
        let (c, r) = rows(text, Mode::Upsert).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].cell(&c, "matricule"), "E1");
        assert_eq!(r[0].cell(&c, "first_name"), "Ann");
        assert_eq!(r[0].line, 2);
    }

    #[test]
    fn a_missing_required_column_is_a_structural_error() {
        let err = rows("matricule,email\nE1,a@x.test\n", Mode::Upsert).unwrap_err();
        assert!(err.0.contains("first_name"), "{err}");
        assert!(rows("matricule,community\nE1,Eng\n", Mode::Delete).is_ok());
        assert!(rows("", Mode::Delete).is_err());
        assert!(rows("\0\0\x01binary", Mode::Delete).is_err());
    }

    #[test]
    fn quoted_cells_blank_lines_and_long_rows_are_handled() {
        let long = "x".repeat(MAX_ROW_BYTES + 10);
        let text = format!("matricule,community\n\"E,1\",\"Eng \"\"A\"\"\"\n\n,\nE2,{long}\n");
        let (c, r) = rows(&text, Mode::Delete).unwrap();
        assert_eq!(r[0].cell(&c, "matricule"), "E,1");
        assert_eq!(r[0].cell(&c, "community"), "Eng \"A\"");
        assert_eq!(r.len(), 2);
        assert!(r[1].unreadable.is_some());
        assert_eq!(r[1].line, 5);
    }

    #[test]
    fn rows_are_numbered_by_their_first_line_whatever_the_line_breaks() {
        let lines = |text: &str| -> Vec<u64> {
            let (_, r) = rows(text, Mode::Delete).unwrap();
            r.iter().map(|row| row.line).collect()
        };
        let crlf = "matricule,community\r\nE1,Eng\r\n\r\n\"E\r\n2\",Eng\r\nE3,Eng";
        assert_eq!(lines(crlf), [2, 4, 6]);
        assert_eq!(lines("matricule,community\rE1,Eng\r\rE2,Eng\r"), [2, 4]);
        assert_eq!(lines("matricule,community\n\n\nE1,Eng\n"), [4]);
    }

    #[test]
    fn templates_list_each_modes_columns() {
        assert_eq!(template(Mode::Delete), "matricule,community\n");
        assert!(
            template(Mode::Mirror)
                .starts_with("matricule,email,first_name,last_name,community,role")
        );
    }
}
