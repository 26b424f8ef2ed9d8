use std::time::Duration;

#[magpie::test(start_paused = true)]
async fn an_hour_in_no_time() {
    let real = std::time::Instant::now();
    let start = magpie::time::now();
    magpie::time::sleep(Duration::from_secs(3600)).await;
    assert!(magpie::time::now() - start >= Duration::from_secs(3600));
    assert!(real.elapsed() < Duration::from_secs(60));
}

fn main() {}
