use std::cell::Cell;
use std::rc::Rc;

#[magpie::main(flavor = "current_thread")]
async fn main() {
    let here = std::thread::current().id();
    assert_eq!(magpie::spawn(async { std::thread::current().id() }).await.unwrap(), here);
    let hits = Rc::new(Cell::new(0));
    let counter = hits.clone();
    magpie::task::spawn_local(async move { counter.set(counter.get() + 1) })
        .await
        .unwrap();
    assert_eq!(hits.get(), 1);
}
