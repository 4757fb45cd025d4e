//! Any bytes: the reader must return (Ok or Err), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = backstock_x12::parse_all(data);
    let _ = backstock_x12::item_reports(data);
});
