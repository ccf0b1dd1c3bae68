//! Time per built-in pattern over a file (to find the slow ones):
//! `cargo run --release -p ocdoctor-redact --example pattern_cost -- FILE`.
fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let text = String::from_utf8_lossy(&std::fs::read(path).expect("readable")).into_owned();
    for (i, re) in ocdoctor_redact::builtin_patterns().iter().enumerate() {
        let t = std::time::Instant::now();
        let n = re.captures_iter(&text).count();
        println!(
            "{i:2} {:8.3} s {n:8}  {}",
            t.elapsed().as_secs_f64(),
            &re.as_str()[..re.as_str().len().min(70)]
        );
    }
    let mut r = ocdoctor_redact::Redactor::new(b"0123456789abcdef", &[]).expect("key");
    let t = std::time::Instant::now();
    let out = r.redact(&text);
    println!(
        "redact: {:.3} s for {} bytes -> {}",
        t.elapsed().as_secs_f64(),
        text.len(),
        out.len()
    );
}
