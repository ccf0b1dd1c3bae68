//! The redactor on any text: learn, then redact.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut r = ocdoctor_redact::Redactor::new(&[7u8; 32], &[]).expect("a valid key");
    r.learn(&text);
    let out = r.redact(&text);
    // Redacting again must not panic either (pseudonyms are themselves text).
    let _ = r.redact(&out);
});
