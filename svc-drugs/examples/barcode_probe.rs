//! Time barcode reading on photos, as the service does it (after normalisation):
//! `cargo run --release -p svc-drugs --example barcode_probe -- PHOTO...`
fn main() -> anyhow::Result<()> {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let n = svc_drugs::pipeline::normalize::normalize_with_grey(&bytes, Default::default())?;
        let grey = n.grey.unwrap_or_default();
        let t = std::time::Instant::now();
        let found = svc_drugs::pipeline::barcode::detect(&grey);
        println!(
            "{path}: {}x{} {found:?} in {:?}",
            grey.width(),
            grey.height(),
            t.elapsed()
        );
    }
    Ok(())
}
