#[magpie::test(explore = 10, flavor = "multi_thread")]
async fn on_workers() {}

#[magpie::test(explore = 10, worker_threads = 4)]
async fn with_workers() {}

#[magpie::test(explore = 10, start_paused = false)]
async fn real_clock() {}

fn main() {}
