use std::cell::Cell;
use std::rc::Rc;

#[magpie::test(explore = 20)]
async fn counts_every_increment() {
    let count = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let count = count.clone();
            magpie::task::spawn_local(async move {
                magpie::task::yield_now().await;
                count.set(count.get() + 1);
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(count.get(), 4);
}

#[magpie::test(explore = 2)]
async fn may_return_a_result() -> Result<(), std::num::ParseIntError> {
    assert_eq!("2".parse::<u8>()?, 2);
    Ok(())
}

fn main() {}
