//! Runtime metrics: how busy the workers are, how many tasks are alive, what the queues,
//! the blocking pool, timers and I/O are doing: [`RuntimeMetrics`], from
//! [`Handle::metrics`](crate::Handle::metrics) or [`Runtime::metrics`](crate::Runtime::metrics).
//!
//! Always on, read live (every call reads the counters as they are now), and cheap enough
//! not to show in the benchmarks (`docs/observability.md` has the measured cost). Serve
//! [`RuntimeMetrics::to_prometheus`] at `/metrics` for Prometheus:
//!
//! ```
//! let rt = magpie::Runtime::builder().worker_threads(2).build().unwrap();
//! rt.block_on(async {
//!     magpie::spawn(async {}).await.unwrap();
//! });
//! let metrics = rt.metrics();
//! assert_eq!(metrics.num_workers(), 2);
//! assert!(metrics.spawned_tasks_count() >= 1);
//! let text = metrics.to_prometheus();
//! assert!(text.contains("# TYPE magpie_spawned_tasks_total counter"));
//! ```
//!
//! `docs/observability.md` explains each metric, when to worry, and the asyncio and tokio
//! equivalents.

pub use magpie_core::metrics::{PollTimeHistogram, RuntimeMetrics, POLL_TIME_SAMPLE_EVERY};
