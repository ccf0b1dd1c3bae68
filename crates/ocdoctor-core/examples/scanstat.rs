//! Print what the scanner did on a file: lines, candidate lines, and which patterns picked them.
//! `cargo run --release -p ocdoctor-core --example scanstat -- FILE`
fn main() {
    let path = std::env::args().nth(1).expect("usage: scanstat FILE");
    let t0 = std::time::Instant::now();
    let kb = ocdoctor_core::KnowledgeBase::embedded();
    let t1 = std::time::Instant::now();
    let _ = ocdoctor_core::scanner();
    println!(
        "knowledge base {:.1} ms ({} rules, {} facts), scanner {:.1} ms",
        (t1 - t0).as_secs_f64() * 1e3,
        kb.rules.len(),
        kb.facts.len(),
        t1.elapsed().as_secs_f64() * 1e3
    );
    let t = std::time::Instant::now();
    let r = ocdoctor_core::scanner()
        .scan_reader(std::fs::File::open(&path).expect("open"))
        .expect("read");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} bytes, {} lines, {} candidates, {:.3} s, {:.1} MB/s",
        r.bytes,
        r.lines,
        r.candidates,
        secs,
        r.bytes as f64 / secs / 1e6
    );
    let mut rows: Vec<(u64, String)> = kb
        .rules
        .iter()
        .zip(&r.rules)
        .filter(|(_, h)| h.count > 0)
        .map(|(r, h)| (h.count, r.code.clone()))
        .collect();
    rows.extend(
        kb.facts
            .iter()
            .zip(&r.facts)
            .filter_map(|(f, h)| h.as_ref().map(|h| (h.count, format!("fact {}", f.id)))),
    );
    rows.sort_by(|a, b| b.cmp(a));
    for (n, what) in rows.iter().take(15) {
        println!("{n:>10}  {what}");
    }
}
