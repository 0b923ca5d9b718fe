//! Time barcode reading on photos: `cargo run --release -p svc-drugs --example barcode_probe -- PHOTO...`
fn main() -> anyhow::Result<()> {
    for path in std::env::args().skip(1) {
        let img = image::open(&path)?.into_luma8();
        let t = std::time::Instant::now();
        let found = svc_drugs::pipeline::barcode::detect(&img);
        println!("{path}: {found:?} in {:?}", t.elapsed());
    }
    Ok(())
}
