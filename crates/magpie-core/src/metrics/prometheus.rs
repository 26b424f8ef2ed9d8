//! [`RuntimeMetrics`] in the Prometheus text exposition format, version 0.0.4.
//!
//! Each family is written as `# HELP`, `# TYPE`, then its samples, all contiguous; counters
//! end in `_total` and durations are in seconds (Prometheus' conventions); per-worker
//! series carry a `worker` label. No label value needs escaping (worker indices and bucket
//! bounds only), but `escape_label` is applied anyway so that a later label cannot break
//! the format.

use super::RuntimeMetrics;
use std::fmt::Write;
use std::time::Duration;

/// What a family is.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

pub(super) fn render(m: &RuntimeMetrics) -> String {
    let mut out = Out(String::with_capacity(4096));
    let workers = m.num_workers();

    out.single("magpie_workers", Kind::Gauge, "Worker threads.", workers);
    out.single(
        "magpie_alive_tasks",
        Kind::Gauge,
        "Tasks spawned and not yet finished or dropped.",
        m.num_alive_tasks(),
    );
    out.single(
        "magpie_spawned_tasks_total",
        Kind::Counter,
        "Tasks spawned since the runtime started, spawn_blocking included.",
        m.spawned_tasks_count(),
    );
    out.single(
        "magpie_global_queue_depth",
        Kind::Gauge,
        "Tasks waiting in the shared injector queue.",
        m.global_queue_depth(),
    );
    out.single(
        "magpie_blocking_threads",
        Kind::Gauge,
        "Blocking-pool threads alive.",
        m.num_blocking_threads(),
    );
    out.single(
        "magpie_idle_blocking_threads",
        Kind::Gauge,
        "Blocking-pool threads waiting for a closure.",
        m.num_idle_blocking_threads(),
    );
    out.single(
        "magpie_blocking_queue_depth",
        Kind::Gauge,
        "Blocking closures queued and not started.",
        m.blocking_queue_depth(),
    );

    out.per_worker(
        "magpie_worker_polls_total",
        Kind::Counter,
        "Polls started by the worker (the running one included).",
        workers,
        |w| m.worker_poll_count(w).to_string(),
    );
    out.per_worker(
        "magpie_worker_parks_total",
        Kind::Counter,
        "Times the worker parked for want of work.",
        workers,
        |w| m.worker_park_count(w).to_string(),
    );
    out.per_worker(
        "magpie_worker_steals_total",
        Kind::Counter,
        "Tasks the worker stole from other workers' queues.",
        workers,
        |w| m.worker_steal_count(w).to_string(),
    );
    out.per_worker(
        "magpie_worker_local_queue_depth",
        Kind::Gauge,
        "Tasks queued on the worker (deque and LIFO slot).",
        workers,
        |w| m.worker_local_queue_depth(w).to_string(),
    );
    out.per_worker(
        "magpie_worker_busy_seconds_total",
        Kind::Counter,
        "Time the worker spent out of its park.",
        workers,
        |w| seconds(m.worker_total_busy_duration(w)),
    );

    let name = "magpie_worker_poll_duration_seconds";
    out.header(
        name,
        "histogram",
        &format!(
            "Poll durations of a random sample of the worker's polls (one in {} on average).",
            super::POLL_TIME_SAMPLE_EVERY
        ),
    );
    for w in 0..workers {
        let h = m.worker_poll_time_histogram(w);
        let mut cumulative = 0;
        for (bound, count) in h.buckets() {
            cumulative += count;
            let le = bound.map_or_else(|| "+Inf".to_owned(), seconds);
            out.sample(
                &format!("{name}_bucket"),
                &[("worker", &w.to_string()), ("le", &le)],
                &cumulative.to_string(),
            );
        }
        let worker = [("worker", &*w.to_string())];
        out.sample(&format!("{name}_sum"), &worker, &seconds(h.sum()));
        out.sample(&format!("{name}_count"), &worker, &h.count().to_string());
    }

    out.single(
        "magpie_io_sources",
        Kind::Gauge,
        "I/O sources registered with the reactor.",
        m.io_sources_registered(),
    );
    out.single(
        "magpie_io_ready_events_total",
        Kind::Counter,
        "Readiness events dispatched by the reactor.",
        m.io_ready_events_count(),
    );
    out.single(
        "magpie_io_driver_turns_total",
        Kind::Counter,
        "Waits of the reactor (driver turns).",
        m.io_driver_turns_count(),
    );
    out.single(
        "magpie_timers_registered_total",
        Kind::Counter,
        "Timers registered.",
        m.timers_registered_count(),
    );
    out.single(
        "magpie_timers_fired_total",
        Kind::Counter,
        "Timers that reached their deadline.",
        m.timers_fired_count(),
    );
    out.single(
        "magpie_timers_pending",
        Kind::Gauge,
        "Timers registered and not yet fired or cancelled.",
        m.timers_pending(),
    );
    out.0
}

/// A duration in seconds, as Prometheus expects (`0.000001` for one microsecond).
fn seconds(d: Duration) -> String {
    d.as_secs_f64().to_string()
}

struct Out(String);

impl Out {
    fn header(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: &str) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{label}=\"{}\"", escape_label(v));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn single(&mut self, name: &str, kind: Kind, help: &str, value: impl ToString) {
        self.header(name, kind.name(), help);
        self.sample(name, &[], &value.to_string());
    }

    fn per_worker(
        &mut self,
        name: &str,
        kind: Kind,
        help: &str,
        workers: usize,
        value: impl Fn(usize) -> String,
    ) {
        self.header(name, kind.name(), help);
        for w in 0..workers {
            self.sample(name, &[("worker", &w.to_string())], &value(w));
        }
    }
}

/// HELP text escapes backslash and newline.
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Label values escape backslash, double quote and newline.
fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_format() {
        assert_eq!(escape_help("a\\b\nc\"d"), "a\\\\b\\nc\"d");
        assert_eq!(escape_label("a\\b\nc\"d"), "a\\\\b\\nc\\\"d");
        assert_eq!(seconds(Duration::from_micros(1)), "0.000001");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5");
    }
}
