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

/// Reads the first worksheet of an XLSX file into rows.
pub fn open_xlsx(
    mut source: Box<dyn Read + Send>,
    mode: Mode,
) -> Result<(Columns, Vec<Row>), Structural> {
    let mut bytes = Vec::new();
    source
        .read_to_end(&mut bytes)
        .map_err(|e| Structural(format!("the file cannot be read: {e}")))?;
    inspect(&bytes)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| Structural(format!("the file is not a readable XLSX workbook: {e}")))?;
    let sheet = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| Structural("the workbook has no worksheet".into()))?;
    let mut cells = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| Structural(format!("the worksheet cannot be read: {e}")))?;
    let mut grid: Vec<Vec<String>> = Vec::new();
    while let Some(cell) = cells
        .next_cell()
        .map_err(|e| Structural(format!("the worksheet is damaged: {e}")))?
    {
        let (r, c) = cell.get_position();
        let (r, c) = (r as usize, c as usize);
        if c >= 64 {
            continue;
        }
        if grid.len() <= r {
            grid.resize_with(r + 1, Vec::new);
        }
        let row = &mut grid[r];
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        row[c] = text(cell.get_value());
    }
    let mut lines = grid.into_iter().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(Structural("the worksheet is empty".into()));
    };
    let (columns, positions) = columns_from_header(header.iter().map(String::as_str), mode)?;
    let rows = lines
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .map(|(i, cells)| Row {
            line: i as u64 + 1,
            cells: positions
                .iter()
                .map(|&p| cells.get(p).cloned().unwrap_or_default())
                .collect(),
            unreadable: None,
        })
        .collect();
    Ok((columns, rows))
}
