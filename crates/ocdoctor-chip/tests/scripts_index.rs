//! The index of the installed scripts agrees with the reference table
//! (tests/data/idcodes.tsv, built from OpenOCD 0.12.0's scripts).

use ocdoctor_chip::ScriptsIndex;
use ocdoctor_chip::scripts::Declared;
use std::path::Path;

const SCRIPTS: &str = "/usr/share/openocd/scripts";

#[test]
fn index_agrees_with_reference_table() {
    let root = Path::new(SCRIPTS);
    if !root.is_dir() {
        assert!(
            std::env::var("OCDOCTOR_SKIP_LIVE").is_ok(),
            "{SCRIPTS} missing (set OCDOCTOR_SKIP_LIVE=1 to skip)"
        );
        return;
    }
    let index = ScriptsIndex::build(root);
    let table = include_str!("data/idcodes.tsv");
    let (mut rows, mut exact, mut id_in_file, mut ctx_ok) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for line in table.lines().skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() < 15 || c[14] != "0.12.0" {
            continue; // rows for master describe files 0.12 does not have
        }
        rows += 1;
        let (cfg, lineno) = (c[1], c[5].parse::<usize>().unwrap_or(0));
        let decls = index.declared_in(cfg);
        let hit = if let Some(var) = c[0].strip_prefix("(from another file: $") {
            let var = var.trim_end_matches(')');
            decls
                .iter()
                .find(|d| d.line == lineno && d.declared == Declared::FromOtherFile(var.into()))
        } else {
            let id = u32::from_str_radix(c[0].trim_start_matches("0x"), 16).ok();
            if decls.iter().any(|d| d.idcode == id) {
                id_in_file += 1;
            }
            decls.iter().find(|d| d.idcode == id && d.line == lineno)
        };
        match hit {
            Some(d) => {
                exact += 1;
                if d.transport_context == c[6] {
                    ctx_ok += 1;
                }
            }
            None => misses.push(format!("{} {} line {}", c[0], cfg, lineno)),
        }
    }
    let pct = 100.0 * exact as f64 / rows as f64;
    println!(
        "scripts index vs idcodes.tsv (0.12.0 rows): {exact}/{rows} rows agree on (cfg, id, line) = {pct:.1} %; \
         id found in the same cfg: {id_in_file}; transport context also equal: {ctx_ok}/{exact}"
    );
    for m in misses.iter().take(40) {
        println!("  miss: {m}");
    }
    assert!(pct >= 95.0, "agreement {pct:.1} % < 95 %");
}
