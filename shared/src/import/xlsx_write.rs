//! Writing small XLSX workbooks (one sheet of inline strings): the XLSX file templates, and
//! test and benchmark files.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="members" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An XLSX workbook whose first sheet holds `rows` as text cells.
pub fn write_xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for cell in row {
            sheet.push_str(&format!(
                r#"<c t="inlineStr"><is><t>{}</t></is></c>"#,
                escape(cell)
            ));
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    workbook(&sheet)
}

/// A workbook whose only worksheet is the XML `sheet`.
pub(super) fn workbook(sheet: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let parts = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    for (name, body) in parts {
        zip.start_file(name, options).expect("writing to memory");
        zip.write_all(body.as_bytes()).expect("writing to memory");
    }
    zip.finish().expect("writing to memory").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Mode;

    #[test]
    fn a_written_workbook_reads_back_through_the_import_reader() {
        let rows = vec![
            vec!["Matricule".into(), "Community".into()],
            vec!["E1".into(), "R&D <lab>".into()],
            vec![String::new(), String::new()],
            vec!["E2".into(), "Sales".into()],
        ];
        let (columns, read) =
            crate::import::xlsx::open_xlsx(Box::new(Cursor::new(write_xlsx(&rows))), Mode::Delete)
                .unwrap();
        let read: Vec<crate::import::Row> = read.collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].cell(&columns, "community"), "R&D <lab>");
        assert_eq!(
            (read[1].line, read[1].cell(&columns, "matricule")),
            (4, "E2")
        );
    }

    #[test]
    fn garbage_and_truncated_archives_are_structural_errors() {
        let good = write_xlsx(&[vec!["matricule".into(), "community".into()]]);
        for bad in [
            b"not a zip at all".to_vec(),
            good[..good.len() / 2].to_vec(),
            Vec::new(),
        ] {
            assert!(
                crate::import::xlsx::open_xlsx(Box::new(Cursor::new(bad)), Mode::Delete).is_err()
            );
        }
    }
}
