use ocdoctor_ide::*;
use std::path::Path;
#[test]
#[ignore]
fn print_all() {
    let ctx = IdeContext {
        workspace: "/ws".into(),
        ..Default::default()
    };
    for dir in [
        "vscode-cortex-debug",
        "vscode-cppdbg",
        "eclipse-embedcdt",
        "stm32cubeide",
        "platformio",
    ] {
        for e in std::fs::read_dir(Path::new("tests/data").join(dir)).unwrap() {
            let p = e.unwrap().path();
            let f = load(&p, &ctx);
            println!("== {} {:?}", p.display(), f.kind);
            for pr in &f.problems {
                println!(
                    "  FILE {} {}:{} {}",
                    pr.id, pr.location.line, pr.location.col, pr.message
                );
            }
            for c in &f.configs {
                println!(
                    "  [{}] {:?} {:?} argv={:?} cwd={:?} gdb={:?} target={:?}",
                    c.name, c.front_end, c.server_type, c.openocd_argv, c.cwd, c.gdb, c.gdb_target
                );
                for n in &c.notes {
                    println!("     note: {n}");
                }
                for pr in &c.problems {
                    println!(
                        "     {} {}:{} {} edit={:?}",
                        pr.id, pr.location.line, pr.location.col, pr.message, pr.edit
                    );
                }
            }
        }
    }
}
