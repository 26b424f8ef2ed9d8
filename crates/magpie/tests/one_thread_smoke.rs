use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

#[test]
fn smoke() {
    let rt = magpie::Builder::new_current_thread().build().unwrap();
    let out = rt.block_on(async {
        let hits = Rc::new(Cell::new(0));
        let mut hs = vec![];
        for _ in 0..10 {
            let hits = hits.clone();
            hs.push(magpie::task::spawn_local(async move {
                magpie::time::sleep(Duration::from_millis(5)).await;
                hits.set(hits.get() + 1)
            }));
        }
        let t = magpie::spawn(async { std::thread::current().id() });
        let id = t.await.unwrap();
        assert_eq!(id, std::thread::current().id());
        for h in hs { h.await.unwrap(); }
        hits.get()
    });
    assert_eq!(out, 10);
    let h = rt.spawn(async { 5 });
    assert_eq!(rt.block_on(h).unwrap(), 5);
}

#[test]
fn multi_block_on_local() {
    let rt = magpie::Runtime::builder().worker_threads(2).build().unwrap();
    let out = rt.block_on(async {
        let rc = Rc::new(Cell::new(1));
        let r2 = rc.clone();
        magpie::task::spawn_local(async move { magpie::time::sleep(Duration::from_millis(2)).await; r2.set(2) }).await.unwrap();
        rc.get()
    });
    assert_eq!(out, 2);
}

#[test]
fn worker_local_and_block_in_place() {
    let rt = magpie::Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(async {
        let ticker = magpie::spawn(async {
            let mut n = 0;
            for _ in 0..10 { magpie::time::sleep(Duration::from_millis(5)).await; n += 1; }
            n
        });
        let blocker = magpie::spawn(async {
            let l = magpie::task::spawn_local(async { let rc = Rc::new(3); magpie::task::yield_now().await; *rc });
            magpie::task::block_in_place(|| std::thread::sleep(Duration::from_millis(100)));
            l.await.unwrap()
        });
        assert_eq!(ticker.await.unwrap(), 10);
        assert_eq!(blocker.await.unwrap(), 3);
    });
}

#[test]
fn seeded_same_order() {
    fn order(seed: u64) -> Vec<u32> {
        let rt = magpie::Builder::new_current_thread().rng_seed(seed).start_paused(true).build().unwrap();
        rt.block_on(async {
            let log = Rc::new(std::cell::RefCell::new(vec![]));
            let hs: Vec<_> = (0..8u32).map(|i| { let log = log.clone(); magpie::task::spawn_local(async move { log.borrow_mut().push(i); magpie::task::yield_now().await; log.borrow_mut().push(i+100); }) }).collect();
            for h in hs { h.await.unwrap(); }
            let v = log.borrow().clone(); v
        })
    }
    assert_eq!(order(7), order(7));
    let distinct: std::collections::HashSet<_> = (0..30).map(order).collect();
    assert!(distinct.len() > 5, "{}", distinct.len());
}
