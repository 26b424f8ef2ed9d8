#[test]
fn smoke() {
    let rt = magpie::Runtime::builder().worker_threads(2).build().unwrap();
    let v = rt.block_on(async {
        let mut hs = Vec::new();
        for i in 0..10_000u64 {
            hs.push(magpie::spawn(async move { i }));
        }
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(v, (0..10_000u64).sum());
    let e = rt.block_on(async { magpie::spawn(async { panic!("boom") }).await.unwrap_err() });
    assert!(e.is_panic());
    let b = rt.block_on(async { magpie::task::spawn_blocking(|| 5).await.unwrap() });
    assert_eq!(b, 5);
    for _ in 0..100 {
        let r = rt.block_on(async {
            let mut hs = Vec::new();
            for _ in 0..100 {
                hs.push(magpie::spawn(async { for _ in 0..10 { magpie::task::yield_now().await } }));
            }
            for h in hs { h.await.unwrap(); }
            1
        });
        assert_eq!(r, 1);
    }
}
