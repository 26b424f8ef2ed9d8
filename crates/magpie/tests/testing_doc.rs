//! The examples that docs/testing.md quotes, run as tests, and the check that the document
//! quotes them word for word: every `// ANCHOR: name` ... `// ANCHOR_END: name` region of
//! this file and of tests/explore.rs (the worked example of `explore`) must appear in it.

// ANCHOR: test_attribute
#[magpie::test]
async fn adds() {
    let two = magpie::spawn(async { 1 + 1 }).await.unwrap();
    assert_eq!(two, 2);
}
// ANCHOR_END: test_attribute

mod paused {
    // ANCHOR: paused_time
    use magpie::time::{self, Instant};
    use std::time::Duration;

    #[magpie::test(start_paused = true)]
    async fn ten_minutes_in_no_time() {
        let start = Instant::now();
        let real = std::time::Instant::now();
        time::sleep(Duration::from_secs(600)).await; // no real time passes
        assert_eq!(start.elapsed(), Duration::from_secs(600));
        time::advance(Duration::from_secs(5)).await; // moves the clock by hand
        assert_eq!(start.elapsed(), Duration::from_secs(605));
        assert!(real.elapsed() < Duration::from_secs(60));
    }
    // ANCHOR_END: paused_time
}

mod one_thread {
    // ANCHOR: current_thread
    use std::cell::Cell;
    use std::rc::Rc;

    #[magpie::test(flavor = "current_thread")]
    async fn local_tasks_share_an_rc() {
        let hits = Rc::new(Cell::new(0));
        let counter = hits.clone();
        magpie::task::spawn_local(async move { counter.set(counter.get() + 1) })
            .await
            .unwrap();
        assert_eq!(hits.get(), 1);
        // `magpie::spawn` runs its task on this thread too.
        let here = std::thread::current().id();
        let there = magpie::spawn(async { std::thread::current().id() });
        assert_eq!(there.await.unwrap(), here);
    }
    // ANCHOR_END: current_thread
}

/// The regions between `// ANCHOR: name` and `// ANCHOR_END: name` in `source`, with the
/// indentation of the anchor line taken off each line.
fn regions(source: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.trim_start().strip_prefix("// ANCHOR: ") else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let end = format!("// ANCHOR_END: {name}");
        let mut text = String::new();
        for line in lines.by_ref() {
            if line.trim_start() == end {
                break;
            }
            text.push_str(line.get(indent..).unwrap_or(""));
            text.push('\n');
        }
        found.push((name.to_owned(), text));
    }
    found
}

#[test]
fn docs_quote_the_examples_word_for_word() {
    let doc = include_str!("../../../docs/testing.md");
    let mut seen = Vec::new();
    for source in [include_str!("testing_doc.rs"), include_str!("explore.rs")] {
        for (name, text) in regions(source) {
            assert!(
                doc.contains(&text),
                "docs/testing.md no longer quotes the `{name}` example; copy it again:\n{text}"
            );
            seen.push(name);
        }
    }
    // The anchors in `regions`'s doc comment and in this test's strings are not regions:
    // only lines that start with the anchor count.
    assert_eq!(
        seen,
        [
            "test_attribute",
            "paused_time",
            "current_thread",
            "worked_example",
            "worked_example_fix"
        ]
    );
}
