//! Any bytes as a returned file: the first byte picks the extension (.xlsx, .xls, .ods,
//! .et), the rest is the file. Read + locate + normalise + validate + render must not
//! panic, hang or blow up memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nianbao_fuzz::report_caught_panics();
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let ext = nianbao_fuzz::EXTENSIONS[usize::from(pick) % nianbao_fuzz::EXTENSIONS.len()];
    nianbao_fuzz::check_bytes(bytes, ext);
});
