// Outside `cargo test` the `#[test]` functions are compiled out, so this only
// checks that the attributes expand to valid items; `tests/expand.rs` runs
// them.

#[magpie::test]
async fn default_workers() {
    assert_eq!(magpie::spawn(async { 1 + 1 }).await.unwrap(), 2);
}

/// Documented, with explicit workers.
#[magpie::test(worker_threads = 2)]
async fn two_workers() {
    let _handle = magpie::Handle::current();
}

#[magpie::test]
async fn returns_result() -> Result<(), std::num::ParseIntError> {
    assert_eq!("7".parse::<i32>()?, 7);
    Ok(())
}

#[magpie::test]
#[should_panic(expected = "boom")]
async fn panics() {
    panic!("boom");
}

#[magpie::test]
#[ignore = "never runs"]
async fn ignored() {}

fn main() {}
