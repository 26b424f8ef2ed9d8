#[magpie::test(flavor = "current_thread", worker_threads = 2)]
async fn one_thread() {}

fn main() {}
