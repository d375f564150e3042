//! What the two member-file reader targets share: reading a whole file in each mode's column
//! set, every row to the end, checking what every row must hold.

use std::io::Cursor;

use muster::import::{Mode, open_any};

/// Reads `data` as a member file of `content_type`, in UPSERT and in DELETE columns.
pub fn read_every_row(data: &[u8], content_type: &str) {
    for mode in [Mode::Upsert, Mode::Delete] {
        let Ok((columns, rows)) =
            open_any(Box::new(Cursor::new(data.to_vec())), content_type, mode)
        else {
            continue;
        };
        for row in rows {
            // Data rows come after the header, which is line 1.
            assert!(row.line >= 2, "row at line {}", row.line);
            if row.unreadable.is_none() {
                assert_eq!(row.cells.len(), columns.index.len());
            }
            for (name, _) in &columns.index {
                let cell = row.cell(&columns, name);
                assert_eq!(cell, cell.trim(), "cells are trimmed");
            }
        }
    }
}
