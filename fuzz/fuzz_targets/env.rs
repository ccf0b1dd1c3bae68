//! A saved environment snapshot (`ocdoctor env --save`), read, turned into problems and
//! rendered; and the same bytes as a udev rules file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(snap) = ocdoctor_env::EnvSnapshot::from_json(&text) {
        let _ = ocdoctor_env::problems(&snap);
        let _ = ocdoctor_env::render_text(&snap);
        let _ = snap.to_json();
    }
    let _ = ocdoctor_env::udev::parse_rules("/etc/udev/rules.d/fuzz.rules", "fuzz.rules", &text);
});
