//! Fuzzes the XLSX member-file reader (`muster::import::open_any` with the XLSX media type):
//! the bytes are the whole workbook, read in each mode's column set, every row to the end.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::read_every_row(data, muster::import::XLSX));
