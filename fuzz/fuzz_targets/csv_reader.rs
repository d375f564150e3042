//! Fuzzes the CSV member-file reader (`muster::import::open_any` with `text/csv`): the bytes
//! are the whole file, read in each mode's column set, every row to the end.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use muster::import::{CSV, Mode, open_any};

fuzz_target!(|data: &[u8]| {
    for mode in [Mode::Upsert, Mode::Delete] {
        let Ok((columns, rows)) = open_any(Box::new(Cursor::new(data.to_vec())), CSV, mode) else {
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
});
