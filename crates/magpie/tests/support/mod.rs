//! Helpers for the integration tests that include them: a Prometheus text format parser.
pub mod prometheus;
