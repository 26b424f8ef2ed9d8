#[magpie::main]
async fn main(workers: usize) {
    let _ = workers;
}
