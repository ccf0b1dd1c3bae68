//! A fake machine for the checks: an OpenOCD install (bin + scripts), cross GDBs on PATH, a
//! workspace. Everything under one temp dir per test.

#![allow(dead_code)]

use ocdoctor_ide::{IdeContext, IdeFile, Os, load_text};
use std::path::{Path, PathBuf};

pub struct Machine {
    pub root: PathBuf,
    pub ctx: IdeContext,
}

impl Machine {
    pub fn new(name: &str) -> Machine {
        let root = std::env::temp_dir().join(format!("ocdoctor-ide-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for f in [
            "bin/openocd",
            "bin/arm-none-eabi-gdb",
            "bin/gdb-multiarch",
            "share/openocd/scripts/interface/stlink.cfg",
            "share/openocd/scripts/interface/cmsis-dap.cfg",
            "share/openocd/scripts/target/stm32f4x.cfg",
            "share/openocd/scripts/target/rp2040.cfg",
            "share/openocd/scripts/board/stm32f4discovery.cfg",
            "ws/.keep",
            "home/.keep",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "# test\n").unwrap();
        }
        let mut ctx = IdeContext {
            path_var: Some(root.join("bin").to_string_lossy().into_owned()),
            workspace: root.join("ws"),
            os: Os::Linux,
            ..Default::default()
        };
        ctx.env.insert(
            "HOME".into(),
            root.join("home").to_string_lossy().into_owned(),
        );
        Machine { root, ctx }
    }
    pub fn bin(&self, name: &str) -> String {
        self.root
            .join("bin")
            .join(name)
            .to_string_lossy()
            .into_owned()
    }
    pub fn load(&self, file_name: &str, text: &str) -> IdeFile {
        load_text(&self.root.join("ws").join(file_name), text, &self.ctx)
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub fn ids(f: &IdeFile) -> Vec<&'static str> {
    f.all_problems().map(|p| p.id.as_str()).collect()
}

pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}
