//! Feature `criterion`: benchmarks run their async bodies on a magpie runtime.

use crate::Runtime;
use std::future::Future;

/// `b.to_async(&runtime).iter(|| async { ... })`: criterion drives each measured batch with
/// [`Runtime::block_on`], so the body runs on the calling thread with the runtime's workers,
/// timers and reactor behind it, as in any `block_on`.
///
/// ```
/// use criterion::Criterion;
///
/// let runtime = magpie::Runtime::new().unwrap();
/// let mut c = Criterion::default().sample_size(10).without_plots();
/// c.bench_function("spawn_and_join", |b| {
///     b.to_async(&runtime)
///         .iter(|| async { magpie::spawn(async { 1 + 1 }).await.unwrap() })
/// });
/// ```
impl criterion::async_executor::AsyncExecutor for &Runtime {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        Runtime::block_on(self, future)
    }
}
