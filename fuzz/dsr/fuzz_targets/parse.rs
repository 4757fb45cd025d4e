//! Any bytes: the reader must return (Ok or Err), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = backstock_dsr::parse(data) {
        for sale in &report.sales {
            assert!(backstock_dsr::parse_decimal(&sale.net_amount).is_some());
        }
    }
});
