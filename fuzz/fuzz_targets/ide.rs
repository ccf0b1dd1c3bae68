//! IDE launch files: the first byte picks the reader (launch.json, Eclipse .launch,
//! platformio.ini), the rest is the file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ocdoctor_ide::IdeContext;
use std::path::Path;

const NAMES: [&str; 3] = [
    "/fuzz/.vscode/launch.json",
    "/fuzz/Project Debug.launch",
    "/fuzz/platformio.ini",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let path = Path::new(NAMES[pick as usize % NAMES.len()]);
    let ctx = IdeContext {
        workspace: "/fuzz".into(),
        ..IdeContext::default()
    };
    let loaded = ocdoctor_ide::load_bytes(path, file, &ctx);
    let _ = loaded.all_problems().count();
});
