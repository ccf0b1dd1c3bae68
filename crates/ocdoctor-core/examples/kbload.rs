//! Time the parts of loading the embedded knowledge base.
fn main() {
    let t = std::time::Instant::now();
    let kb = ocdoctor_core::KnowledgeBase::embedded();
    println!(
        "embedded(): {:.2} ms for {} rules",
        t.elapsed().as_secs_f64() * 1e3,
        kb.rules.len()
    );
}
