//! Every raw OS call magpie's I/O makes, in one place, each wrapped in a safe function that
//! returns `io::Error`s carrying the OS's error kind.
//!
//! - `fd.rs`: descriptor flags (non-blocking mode).
//! - `socket.rs`: sockets created non-blocking and close-on-exec, non-blocking `connect`,
//!   `accept4`, and the conversions between `SocketAddr` and the C socket addresses.
//! - `signal.rs`: the signal self-pipe (a pipe, and the async-signal-safe write to it).

mod fd;
pub mod signal;
pub mod socket;

pub use fd::set_nonblocking;
