//! `magpie::stream::generator` and `try_generator`: items in order, one step per `poll_next`,
//! laziness, dropping the stream stops the generator, sleeps between yields, the futures-lite
//! combinators, and errors as the last item.

mod common;

use common::{counter, poll_noop, run_on, Tally};
use magpie::stream::{generator, try_generator, Stream, StreamExt};
use std::sync::atomic::Ordering::SeqCst;
use std::task::Poll;
use std::time::{Duration, Instant};

#[test]
fn generator_streams_are_send_and_unpin() {
    fn send_unpin<T: Send + Unpin>(_: &T) {}
    let stream = generator(|co| async move {
        co.yield_(String::from("a")).await;
        magpie::time::sleep(Duration::from_millis(1)).await;
    });
    send_unpin(&stream);
    let stream = try_generator(|co| async move {
        co.yield_(1u8).await;
        Err::<(), String>("e".into())
    });
    send_unpin(&stream);
}

#[test]
fn generator_yields_its_items_in_order_then_ends() {
    run_on("generator order", 1, async {
        let mut stream = generator(|co| async move {
            for i in 0..5u32 {
                co.yield_(i).await;
            }
        });
        for i in 0..5 {
            assert_eq!(stream.next().await, Some(i));
        }
        assert_eq!(stream.next().await, None);
        // Polling after the end stays at the end.
        assert_eq!(stream.next().await, None);
    });
}

#[test]
fn generator_is_lazy_and_runs_one_step_per_item() {
    // Driven by hand, without a runtime: the generator runs only inside poll_next, and stops
    // at each yield until the next poll_next.
    let steps = counter();
    let s = steps.clone();
    let mut stream = generator(move |co| async move {
        s.fetch_add(1, SeqCst);
        co.yield_("first").await;
        s.fetch_add(1, SeqCst);
        co.yield_("second").await;
        s.fetch_add(1, SeqCst);
    });
    assert_eq!(
        steps.load(SeqCst),
        0,
        "the generator ran before the first poll"
    );
    assert_eq!(poll_noop(&mut stream.next()), Poll::Ready(Some("first")));
    assert_eq!(steps.load(SeqCst), 1);
    assert_eq!(poll_noop(&mut stream.next()), Poll::Ready(Some("second")));
    assert_eq!(steps.load(SeqCst), 2);
    assert_eq!(poll_noop(&mut stream.next()), Poll::Ready(None));
    assert_eq!(steps.load(SeqCst), 3);
}

#[test]
fn dropping_the_stream_early_drops_the_generator_future() {
    run_on("generator dropped early", 1, async {
        let tally = Tally::new();
        let after_drop = counter();
        let (t, a) = (tally.clone(), after_drop.clone());
        let mut stream = generator(move |co| async move {
            let _guard = t.guard();
            let mut i = 0u64;
            loop {
                co.yield_(i).await;
                i += 1;
                a.fetch_add(1, SeqCst);
            }
        });
        assert_eq!(stream.next().await, Some(0));
        assert_eq!(stream.next().await, Some(1));
        assert_eq!(tally.created(), 1);
        assert_eq!(tally.dropped(), 0);
        drop(stream);
        tally.assert_all_dropped("the generator's future after the stream was dropped");
        // It stopped at the yield it was suspended on.
        assert_eq!(after_drop.load(SeqCst), 1);
    });
}

#[test]
fn generator_can_sleep_between_yields() {
    let elapsed = run_on("generator with sleeps", 1, async {
        let started = Instant::now();
        let stream = generator(|co| async move {
            for i in 0..4u32 {
                magpie::time::sleep(Duration::from_millis(20)).await;
                co.yield_((i, Instant::now())).await;
            }
        });
        let items: Vec<_> = stream.collect().await;
        assert_eq!(
            items.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert!(items
            .windows(2)
            .all(|w| w[1].1 >= w[0].1 + Duration::from_millis(20)));
        started.elapsed()
    });
    assert!(
        elapsed >= Duration::from_millis(80),
        "sleeps were skipped: {elapsed:?}"
    );
}

#[test]
fn generator_works_with_stream_ext_combinators() {
    run_on("generator combinators", 1, async {
        let naturals = || {
            generator(|co| async move {
                let mut n = 0u64;
                loop {
                    co.yield_(n).await;
                    n += 1;
                }
            })
        };
        let squares_of_odds: Vec<u64> = naturals()
            .filter(|n| n % 2 == 1)
            .map(|n| n * n)
            .take(4)
            .collect()
            .await;
        assert_eq!(squares_of_odds, [1, 9, 25, 49]);

        let zipped: Vec<(u64, char)> = naturals()
            .zip(magpie::stream::iter("abc".chars()))
            .collect()
            .await;
        assert_eq!(zipped, [(0, 'a'), (1, 'b'), (2, 'c')]);

        let sum = naturals().take(101).fold(0, |acc, n| acc + n).await;
        assert_eq!(sum, 5050);

        let chained: Vec<u64> = magpie::stream::once(100)
            .chain(naturals().skip(1).take(2))
            .collect()
            .await;
        assert_eq!(chained, [100, 1, 2]);
    });
}

#[test]
fn generator_can_be_driven_from_another_task() {
    run_on("generator in a spawned task", 2, async {
        let stream = generator(|co| async move {
            for word in ["a", "b", "c"] {
                magpie::task::yield_now().await;
                co.yield_(word.to_string()).await;
            }
        });
        let joined = magpie::spawn(async move { stream.collect::<Vec<_>>().await.concat() })
            .await
            .unwrap();
        assert_eq!(joined, "abc");
    });
}

#[test]
fn yields_racing_in_a_join_are_delivered_one_per_poll() {
    run_on("concurrent yields", 1, async {
        let items: Vec<u8> = generator(|co| async move {
            magpie::join!(co.yield_(1), co.yield_(2), co.yield_(3));
            co.yield_(4).await;
        })
        .collect()
        .await;
        assert_eq!(items, [1, 2, 3, 4]);
    });
}

#[test]
fn a_generator_may_return_early() {
    run_on("generator early return", 1, async {
        let items: Vec<u32> = generator(|co| async move {
            for i in 0.. {
                if i == 3 {
                    return;
                }
                co.yield_(i).await;
            }
        })
        .collect()
        .await;
        assert_eq!(items, [0, 1, 2]);
    });
}

#[test]
fn try_generator_ends_with_the_error_its_body_returned() {
    run_on("try_generator", 1, async {
        let parse_all = |texts: &'static [&'static str]| {
            try_generator(move |co| async move {
                for text in texts {
                    co.yield_(text.parse::<i32>()?).await;
                }
                Ok::<(), std::num::ParseIntError>(())
            })
        };
        let items: Vec<_> = parse_all(&["1", "-2", "x", "4"]).collect().await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0], Ok(1));
        assert_eq!(items[1], Ok(-2));
        assert!(items[2].is_err());

        let items: Vec<_> = parse_all(&["5", "6"]).collect().await;
        assert_eq!(items, [Ok(5), Ok(6)]);

        // `try_next` stops at the error.
        let mut stream = parse_all(&["7", "y"]);
        assert_eq!(stream.try_next().await, Ok(Some(7)));
        assert!(stream.try_next().await.is_err());
        assert_eq!(stream.next().await, None);
    });
}

#[test]
fn generator_size_hint_is_unknown() {
    let stream = generator(|co| async move { co.yield_(1).await });
    assert_eq!(stream.size_hint(), (0, None));
}
