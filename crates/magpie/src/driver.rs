//! The runtime's driver: what the one idle worker holding it waits on.
//!
//! For now the runtime has no timers or sockets of its own, so the driver is a sticky
//! condition-variable parker. The timer wheel and the I/O reactor plug in here: `park` will
//! wait in the poller with the next timer deadline as its timeout, `turn` will fire due
//! timers and dispatch ready sockets, `unpark` will be `Poller::notify`.

use magpie_core::{CondvarDriver, Driver};
use std::any::Any;
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct RuntimeDriver {
    parker: CondvarDriver,
}

impl Driver for RuntimeDriver {
    fn park(&self, timeout: Option<Duration>) {
        self.parker.park(timeout);
    }

    fn turn(&self) {
        // Nothing to dispatch yet: no timers, no sockets.
    }

    fn unpark(&self) {
        self.parker.unpark();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
