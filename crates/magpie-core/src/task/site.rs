//! Where a task was spawned, and its name if it has one, in one pointer of the task header.
//!
//! Most tasks have no name, so the header holds a `&'static Location` (aligned to 8, so its
//! low bit is 0). A named task holds a pointer to a shared `Named { name, location }` with
//! the low bit set: the `TaskName` that `JoinError`s, `TaskInfo`s, slow-poll reports and the
//! timeline clone (a reference count, no copy). The header is on every spawn's path, and
//! the 8 bytes this saves against a name and a location side by side show in `spawn_many`
//! (docs/observability.md, "What it costs").

use std::fmt;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;

/// A task's name (with its spawn location), shared by everything that reports it.
#[derive(Clone)]
pub(crate) struct TaskName(Arc<Named>);

struct Named {
    name: Box<str>,
    location: &'static Location<'static>,
}

impl TaskName {
    pub(crate) fn new(name: &str, location: &'static Location<'static>) -> TaskName {
        TaskName(Arc::new(Named {
            name: name.into(),
            location,
        }))
    }
}

impl std::ops::Deref for TaskName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0.name
    }
}

impl From<&str> for TaskName {
    /// A name with the caller as its spawn location (tests).
    #[track_caller]
    fn from(name: &str) -> TaskName {
        TaskName::new(name, Location::caller())
    }
}

impl PartialEq for TaskName {
    fn eq(&self, other: &TaskName) -> bool {
        **self == **other
    }
}

impl fmt::Debug for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for TaskName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

/// The header's field: a tagged pointer, see the module documentation.
pub(crate) struct Site(NonNull<()>);

// SAFETY: a `Site` is either a `&'static Location` (Send + Sync) or an owned `Arc<Named>`
// reference (`Named` is Send + Sync), so it can move and be shared between threads.
unsafe impl Send for Site {}
// SAFETY: as above; `&Site` only reads.
unsafe impl Sync for Site {}

const NAMED: usize = 1;

impl Site {
    pub(crate) fn new(name: Option<TaskName>, location: &'static Location<'static>) -> Site {
        match name {
            None => {
                // `Location` holds a `&str`: aligned to 8, bit 0 is free.
                debug_assert_eq!(location as *const Location<'_> as usize & NAMED, 0);
                Site(NonNull::from(location).cast())
            }
            Some(TaskName(named)) => {
                let ptr = Arc::into_raw(named).cast_mut();
                // The pointer is to an `Arc`'s contents, aligned to 8: bit 0 is free.
                debug_assert_eq!(ptr as usize & NAMED, 0);
                let tagged = ptr.cast::<u8>().wrapping_add(NAMED).cast::<()>();
                Site(NonNull::new(tagged).expect("Arc::into_raw is never null"))
            }
        }
    }

    /// The `Named` this site owns a reference to, if it is tagged.
    fn named(&self) -> Option<&Named> {
        let raw = self.0.as_ptr();
        if raw as usize & NAMED == 0 {
            return None;
        }
        let ptr = raw.cast::<u8>().wrapping_sub(NAMED).cast::<Named>();
        // SAFETY: tagged sites hold an `Arc<Named>` reference (from `into_raw` in `new`,
        // released only in `drop`), so the pointee is alive for as long as `self`.
        Some(unsafe { &*ptr })
    }

    pub(crate) fn location(&self) -> &'static Location<'static> {
        match self.named() {
            Some(named) => named.location,
            // SAFETY: untagged sites are a `&'static Location` (see `new`).
            None => unsafe { self.0.cast::<Location<'static>>().as_ref() },
        }
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.named().map(|n| &*n.name)
    }

    /// The name, shared.
    pub(crate) fn task_name(&self) -> Option<TaskName> {
        let named = self.named()?;
        let ptr: *const Named = named;
        // SAFETY: `ptr` came from `Arc::into_raw` and this site still holds that
        // reference: adding one for the new `Arc` leaves the site's own untouched.
        unsafe {
            Arc::increment_strong_count(ptr);
            Some(TaskName(Arc::from_raw(ptr)))
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(named) = self.named() {
            let ptr: *const Named = named;
            // SAFETY: the site's own reference, from `Arc::into_raw` in `new`, released
            // once, here.
            drop(unsafe { Arc::from_raw(ptr) });
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_site_gives_back_its_location_and_name() {
        let here = Location::caller();
        let plain = Site::new(None, here);
        assert_eq!(plain.location(), here);
        assert_eq!(plain.name(), None);
        assert!(plain.task_name().is_none());

        let named = Site::new(Some(TaskName::new("fetch", here)), here);
        assert_eq!(named.location(), here);
        assert_eq!(named.name(), Some("fetch"));
        let shared = named.task_name().unwrap();
        drop(named);
        // The clone outlives the site.
        assert_eq!(&*shared, "fetch");
        assert_eq!(std::mem::size_of::<Site>(), std::mem::size_of::<usize>());
    }
}
