//! Reading XLSX member files with calamine: the first worksheet, its first row as header, one
//! member row per sheet row. The archive is inspected before anything is inflated, so zip
//! bombs and oversized shared-string tables fail the job with a reason instead of exhausting
//! memory.

use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx};

use super::Mode;
use super::reader::{Columns, Row, Structural, columns_from_header};

/// The largest inflated size of any one part of the workbook.
const MAX_PART_BYTES: u64 = 256 * 1024 * 1024;
/// The largest inflated size of the shared-string table (held in memory by the reader).
const MAX_SHARED_STRINGS_BYTES: u64 = 64 * 1024 * 1024;
/// The largest inflation ratio of a part bigger than 1 MiB.
const MAX_RATIO: u64 = 200;

/// Refuses archives whose declared sizes or ratios betray a bomb.
fn inspect(bytes: &[u8]) -> Result<(), Structural> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| {
        Structural("the file is not a readable XLSX workbook (not a zip archive)".into())
    })?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|_| Structural("the XLSX archive is damaged".into()))?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        total += size;
        let limit = if name == "xl/sharedStrings.xml" {
            MAX_SHARED_STRINGS_BYTES
        } else {
            MAX_PART_BYTES
        };
        if size > limit
            || (size > 1 << 20 && size / packed > MAX_RATIO)
            || total > 4 * MAX_PART_BYTES
        {
            return Err(Structural(format!(
                "the XLSX part {name} inflates to {size} bytes: refused as a possible zip bomb"
            )));
        }
    }
    Ok(())
}

fn text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            s.trim().to_owned()
        }
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

/// Rows handed from the reading thread to the check, at most this many at a time.
const ROWS_IN_FLIGHT: usize = 256;

/// One sheet row with cells, or the reason the sheet could not be read further.
type SheetRow = Result<(u32, Vec<String>), String>;

/// Reads the first worksheet of an XLSX file as a stream of rows: a thread walks the sheet
/// cell by cell and hands over each row once complete, so memory holds the archive, its
/// shared strings and a few hundred rows, whatever the sheet's length.
pub fn open_xlsx(
    mut source: Box<dyn Read + Send>,
    mode: Mode,
) -> Result<(Columns, Box<dyn Iterator<Item = Row> + Send>), Structural> {
    let mut bytes = Vec::new();
    source
        .read_to_end(&mut bytes)
        .map_err(|e| Structural(format!("the file cannot be read: {e}")))?;
    inspect(&bytes)?;
    let book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| Structural(format!("the file is not a readable XLSX workbook: {e}")))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<SheetRow>(ROWS_IN_FLIGHT);
    let (first_tx, first_rx) = std::sync::mpsc::sync_channel::<Result<(), Structural>>(1);
    std::thread::Builder::new()
        .name("xlsx-reader".into())
        .spawn(move || walk(book, &first_tx, &tx))
        .map_err(|e| Structural(format!("the workbook cannot be read now: {e}")))?;
    first_rx
        .recv()
        .map_err(|_| Structural("the workbook reader stopped".into()))??;
    let mut rows = rx.into_iter().peekable();
    let header = match rows.peek() {
        None => return Err(Structural("the worksheet is empty".into())),
        Some(Err(e)) => return Err(Structural(format!("the worksheet is damaged: {e}"))),
        Some(Ok((0, _))) => rows
            .next()
            .and_then(Result::ok)
            .map(|(_, h)| h)
            .unwrap_or_default(),
        Some(Ok(_)) => Vec::new(),
    };
    let (columns, positions) = columns_from_header(header.iter().map(String::as_str), mode)?;
    let width = positions.len();
    let unreadable = move |line: u64, why: String| Row {
        line: line.max(2),
        cells: vec![String::new(); width],
        unreadable: Some(why),
    };
    // The line of the last row handed over (the header is line 1).
    let mut last = 1u64;
    let rows = rows
        .filter(|row| !matches!(row, Ok((_, cells)) if cells.iter().all(String::is_empty)))
        .map(move |row| match row {
            Ok((i, cells)) if u64::from(i) + 1 > last => {
                last = u64::from(i) + 1;
                Row {
                    line: last,
                    cells: positions
                        .iter()
                        .map(|&p| cells.get(p).cloned().unwrap_or_default())
                        .collect(),
                    unreadable: None,
                }
            }
            Ok((i, _)) => unreadable(
                last + 1,
                format!(
                    "the worksheet repeats or reorders its row {}",
                    u64::from(i) + 1
                ),
            ),
            Err(e) => unreadable(last + 1, format!("the worksheet is damaged here: {e}")),
        });
    Ok((columns, Box::new(rows)))
}

/// The reading thread: opens the first sheet (reporting on `opened`), then sends its rows,
/// a row being the run of cells with one row number (the file chooses the numbers, up to
/// u32::MAX, so nothing is sized by them). Stops when the receiver goes away.
fn walk(
    mut book: Xlsx<Cursor<Vec<u8>>>,
    opened: &std::sync::mpsc::SyncSender<Result<(), Structural>>,
    rows: &std::sync::mpsc::SyncSender<SheetRow>,
) {
    let Some(sheet) = book.sheet_names().first().cloned() else {
        let _ = opened.send(Err(Structural("the workbook has no worksheet".into())));
        return;
    };
    let mut cells = match book.worksheet_cells_reader(&sheet) {
        Ok(cells) => cells,
        Err(e) => {
            let why = format!("the worksheet cannot be read: {e}");
            let _ = opened.send(Err(Structural(why)));
            return;
        }
    };
    let _ = opened.send(Ok(()));
    let mut current: Option<(u32, Vec<String>)> = None;
    loop {
        let cell = match cells.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => {
                let _ = rows.send(Err(e.to_string()));
                return;
            }
        };
        let (r, c) = cell.get_position();
        let c = c as usize;
        if c >= 64 {
            continue;
        }
        if current.as_ref().is_some_and(|(at, _)| *at != r)
            && let Some(done) = current.take()
            && rows.send(Ok(done)).is_err()
        {
            return;
        }
        let (_, row) = current.get_or_insert_with(|| (r, Vec::new()));
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text(cell.get_value());
    }
    if let Some(done) = current {
        let _ = rows.send(Ok(done));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_numbered_in_the_billions_costs_memory_for_its_cells_only() {
        let cell = |t: &str| format!(r#"<c t="inlineStr"><is><t>{t}</t></is></c>"#);
        let sheet = format!(
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">{}{}</row><row r="4000000000">{}{}</row></sheetData></worksheet>"#,
            cell("matricule"),
            cell("community"),
            cell("E1"),
            cell("Eng")
        );
        let book = crate::import::xlsx_write::workbook(&sheet);
        let (columns, rows) = open_xlsx(Box::new(Cursor::new(book)), Mode::Delete).unwrap();
        let rows: Vec<Row> = rows.collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 4_000_000_000);
        assert_eq!(rows[0].cell(&columns, "matricule"), "E1");
    }

    #[test]
    fn a_row_numbered_again_or_out_of_order_is_unreadable_and_never_the_header() {
        let cell = |t: &str| format!(r#"<c t="inlineStr"><is><t>{t}</t></is></c>"#);
        let row =
            |r: u32, a: &str, b: &str| format!(r#"<row r="{r}">{}{}</row>"#, cell(a), cell(b));
        let sheet = format!(
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}{}{}{}</sheetData></worksheet>"#,
            row(1, "matricule", "community"),
            row(3, "E3", "Eng"),
            row(2, "E2", "Eng"),
            row(1, "E1", "Eng"),
        );
        let book = crate::import::xlsx_write::workbook(&sheet);
        let (_, rows) = open_xlsx(Box::new(Cursor::new(book)), Mode::Delete).unwrap();
        let rows: Vec<Row> = rows.collect();
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].line, rows[0].unreadable.is_none()), (3, true));
        for late in &rows[1..] {
            assert!(late.line >= 2, "data rows come after the header");
            assert!(
                late.unreadable
                    .as_deref()
                    .is_some_and(|w| w.contains("reorders"))
            );
        }
    }
}
