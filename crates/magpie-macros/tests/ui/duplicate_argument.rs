#[magpie::test(worker_threads = 1, worker_threads = 2)]
async fn duplicate() {}

fn main() {}
