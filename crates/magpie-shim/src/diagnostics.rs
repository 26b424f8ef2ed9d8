//! The one door for magpie's own diagnostics.
//!
//! Library code never prints directly: every message the runtime has for a person (a panic it
//! contained in a hook, a waker or the driver; a thread it could not start; a poller that
//! failed) goes through [`report`], so that a single place decides where such messages go.
//! Today that is standard error, one line per message, prefixed `magpie: `; a hook that
//! redirects them (to `tracing`, to a slow-poll reporter) replaces this function's body and
//! nothing else.
//!
//! Panics and errors that reach the user (a `JoinError`, an `io::Error`) are not diagnostics:
//! they are returned, not reported.

use std::fmt;

/// Reports one diagnostic line, e.g.
/// `report(format_args!("the {which} hook panicked; the panic was contained"))`.
pub fn report(message: fmt::Arguments<'_>) {
    eprintln!("magpie: {message}");
}
