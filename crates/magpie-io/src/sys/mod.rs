//! Every raw OS call magpie's I/O makes, in one place, each wrapped in a safe function that
//! returns `io::Error`s carrying the OS's error kind.
//!
//! - `fd.rs`: descriptor flags (non-blocking mode).
//! - `socket.rs`: sockets created non-blocking and close-on-exec, non-blocking `connect`,
//!   `accept4`, and the conversions between `SocketAddr` and the C socket addresses.
//! - `signal.rs`: the signal self-pipe (a pipe, and the async-signal-safe write to it).
//! - `epoll.rs` (Linux) / `portable.rs` (elsewhere, over `polling`): the poller, one small
//!   interface (`Poller`, `PollEvents`, `PollEvent`) with two implementations.

#[cfg(target_os = "linux")]
mod epoll;
mod fd;
#[cfg(not(target_os = "linux"))]
mod portable;
pub mod signal;
pub mod socket;

#[cfg(target_os = "linux")]
pub use epoll::{PollEvent, PollEvents, Poller};
pub use fd::set_nonblocking;
#[cfg(not(target_os = "linux"))]
pub use portable::{PollEvent, PollEvents, Poller};
