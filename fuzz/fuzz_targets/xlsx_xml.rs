//! A filled .xlsx with one XML part replaced by the input (first byte: which part), zipped
//! without compression: mutations reach calamine's XML parsing and the report logic
//! instead of dying at the deflate or CRC check.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nianbao_fuzz::report_caught_panics();
    if let Some(xlsx) = nianbao_fuzz::xlsx_with_part(data) {
        nianbao_fuzz::check_bytes(&xlsx, "xlsx");
    }
});
