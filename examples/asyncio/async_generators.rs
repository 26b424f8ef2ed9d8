//! Section 8, async generators: `async def` with `yield`, consumed by `async for`.
//!
//! ```python
//! async def ticker(n, delay):
//!     for i in range(n):
//!         yield i
//!         await asyncio.sleep(delay)
//!
//! async for tick in ticker(3, 0.5):
//!     print(tick)
//! squares = [i * i async for i in ticker(4, 0.1)]
//! ```
//!
//! An async iterator is a `Stream`. `magpie::stream::generator(|co| async move { ... })`
//! writes one as an async block that yields with `co.yield_(value).await`; `async for` is
//! `while let Some(x) = stream.next().await` (with `StreamExt`), and the stream adapters
//! (`map`, `filter`, `take`, `collect`) are the comprehensions. `aclose()` is dropping the
//! stream: the generator stops at the `.await` it was suspended on, and its `Drop`s (its
//! `finally`) run.

use crate::{header, ms, say, secs};
use magpie::stream::{self, generator, try_generator, Stream, StreamExt};
use magpie::time;
use std::time::Duration;

/// The generator's `finally:` block.
struct Finally(u32);

impl Drop for Finally {
    fn drop(&mut self) {
        say!("  (ticker({})'s finally ran)", self.0);
    }
}

/// `async def ticker(n, delay)`: yields 0..n, sleeping between items.
fn ticker(n: u32, delay: Duration) -> impl Stream<Item = u32> {
    generator(move |co| async move {
        let _finally = Finally(n);
        for i in 0..n {
            co.yield_(i).await;
            time::sleep(delay).await;
        }
    })
}

/// The section.
pub async fn main() {
    header("8. Async generators: stream::generator, async for");

    // async for tick in ticker(3, 0.5): print(tick)
    let start = time::now();
    let mut ticks = ticker(3, secs(0.5));
    while let Some(tick) = ticks.next().await {
        say!("tick {tick} at {}", ms(time::now() - start));
    }

    // [i * i async for i in ticker(4, 0.1)]: an async comprehension.
    let squares: Vec<u32> = ticker(4, secs(0.1)).map(|i| i * i).collect().await;
    say!("[i * i async for i in ticker(4)] -> {squares:?}");

    // Leaving the loop early (break) and dropping the stream is aclose(): the generator
    // is dropped where it was suspended; its finally runs.
    let mut ticks = ticker(1_000, secs(0.1));
    while let Some(tick) = ticks.next().await {
        if tick == 2 {
            say!("break at tick {tick}");
            break;
        }
    }
    drop(ticks); // await ticks.aclose()

    // A generator that may raise: try_generator ends with the error as its last item.
    let parsed = try_generator(|co| async move {
        for text in ["1", "2", "three", "4"] {
            co.yield_(text.parse::<u32>()?).await;
        }
        Ok::<(), std::num::ParseIntError>(())
    });
    let items: Vec<_> = parsed.collect().await;
    say!("a generator that raises at \"three\": {items:?}");

    // Any other async iterator is a Stream too: the numbers from an iterator, a channel's
    // receiver (section 13), a TCP listener's incoming connections.
    let evens: Vec<u32> = stream::iter(1..=10).filter(|n| n % 2 == 0).collect().await;
    say!("stream::iter(1..=10).filter(even) -> {evens:?}");
}
