use std::error::Error;

#[magpie::main(worker_threads = 2)]
async fn main() -> Result<(), Box<dyn Error>> {
    let n: u32 = "41".parse()?;
    let m = magpie::spawn(async move { n + 1 }).await?;
    assert_eq!(m, 42);
    let _handle = magpie::Handle::current();
    Ok(())
}
