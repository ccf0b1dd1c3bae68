//! A log, any bytes: the streaming reader, the chip reading and the diagnosis
//! (`ocdoctor diagnose --no-env`), then every renderer of the report.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = ocdoctor_engine::diagnose_bytes(data, Some("fuzz.log"));
    let _ = report;
    // The streaming reader (what `diagnose FILE` and stdin use).
    let _ = ocdoctor_engine::read_log(std::io::Cursor::new(data), Some("fuzz.log"));
});
