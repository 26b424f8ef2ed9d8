//! Reading a whole file into memory (`fs::read`, `fs::read_to_string`), in parallel parts
//! when it is large.
//!
//! A large read from the page cache costs two things per page: the page fault that maps
//! the fresh buffer (and zeroes it) and the kernel's copy. Both scale with cores. So a
//! file of at least [`PARALLEL_MIN`] bytes is read as up to [`MAX_PARTS`] contiguous parts
//! at once, each with positioned reads (`pread`) into its own slice of one zeroed buffer:
//! the calling blocking thread reads the first part, scoped threads the others. On this
//! project's 2-core VM a 256 MiB file reads in about 0.6 of the time of one sequential
//! `std::fs::read` (docs/benchmarks.md, `fs_read_large`). Smaller files, and platforms
//! without positioned reads, take `std::fs::read`'s path: one `read_to_end` with the
//! buffer sized from the metadata.
//!
//! The metadata's length is a hint, as for std: a file that grew while it was read is read
//! on to its end; one that shrank ends where its parts found the end. Huge pages were tried
//! (`madvise(MADV_HUGEPAGE)` on the buffer): faster on a warm machine, but a fault may then
//! stall in the kernel's compaction (590 ms for the first 256 MiB read here), so they are
//! not used.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Files at least this large are read in parallel parts.
pub(super) const PARALLEL_MIN: u64 = 8 << 20;

/// At most this many parts (and threads) per read.
pub(super) const MAX_PARTS: usize = 4;

/// The whole file at `path`.
pub(super) fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let hint = file.metadata().map(|m| m.len()).unwrap_or(0);
    let parts = parts_for(hint);
    #[cfg(unix)]
    if parts > 1 {
        return read_in_parts(file, hint as usize, parts);
    }
    let _ = parts;
    let mut buffer = Vec::new();
    buffer.try_reserve_exact(usize::try_from(hint).unwrap_or(0))?;
    file.read_to_end(&mut buffer)?;
    Ok(buffer)
}

/// The whole file at `path`, as UTF-8 (`InvalidData` when it is not).
pub(super) fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the file is not UTF-8: {}", e.utf8_error()),
        )
    })
}

/// How many parts to read a file of `len` bytes in.
fn parts_for(len: u64) -> usize {
    if len < PARALLEL_MIN {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(MAX_PARTS)
}

#[cfg(unix)]
fn read_in_parts(file: File, len: usize, parts: usize) -> io::Result<Vec<u8>> {
    let mut buffer = zeroed(len)?;
    let chunk = len.div_ceil(parts);
    // Each part: how many bytes it read before its end or the file's.
    let results: Vec<io::Result<usize>> = std::thread::scope(|scope| {
        let file = &file;
        let mut slices = buffer.chunks_mut(chunk).enumerate();
        let (_, first) = slices.next().expect("len > 0: at least one part");
        let others: Vec<_> = slices
            .map(|(i, slice)| scope.spawn(move || fill_at(file, slice, (i * chunk) as u64)))
            .collect();
        let mut results = vec![fill_at(file, first, 0)];
        results.extend(others.into_iter().map(|part| {
            part.join()
                .unwrap_or_else(|_| Err(io::Error::other("a part's read panicked")))
        }));
        results
    });
    // The parts are contiguous: the data ends at the first part that came up short.
    let mut end = 0;
    for (i, part) in results.into_iter().enumerate() {
        let got = part?;
        end = i * chunk + got;
        if got < chunk.min(len - i * chunk) {
            break;
        }
    }
    buffer.truncate(end);
    if end == len {
        // The file may have grown since the metadata was read: the rest, from where the
        // parts ended (std's `read_to_end` probes a full buffer before it grows it).
        let mut tail = FileAtEnd {
            file: &file,
            offset: len as u64,
        };
        tail.read_to_end(&mut buffer)?;
    }
    Ok(buffer)
}

/// `len` zero bytes, or an `OutOfMemory` error. Zeroed memory straight from the allocator
/// (`calloc`: for a large buffer, fresh pages the kernel zeroes at their first touch, which
/// the parallel reads make in parallel), not `resize`, whose `memset` would fault in every
/// page on this one thread before the reads start.
#[cfg(unix)]
fn zeroed(len: usize) -> io::Result<Vec<u8>> {
    use std::alloc::{alloc_zeroed, Layout};

    let out_of_memory = || {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("cannot allocate {len} bytes to read the file into"),
        )
    };
    let layout = Layout::array::<u8>(len).map_err(|_| out_of_memory())?;
    assert!(len > 0, "a parallel read has bytes to read");
    // SAFETY: `layout` has a non-zero size (asserted above).
    let ptr = unsafe { alloc_zeroed(layout) };
    if ptr.is_null() {
        return Err(out_of_memory());
    }
    // SAFETY: `ptr` was allocated by the global allocator with `layout`: `len` bytes at an
    // alignment of 1, as a `Vec<u8>` of capacity `len` is; all `len` bytes are initialised
    // (zeroed).
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// Reads into all of `slice` from `offset` on, or up to the end of the file; returns the
/// bytes read.
#[cfg(unix)]
fn fill_at(file: &File, slice: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;

    let mut done = 0;
    while done < slice.len() {
        match file.read_at(&mut slice[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Positioned reads from `offset` on, as a `Read` (the file's own cursor is not used).
#[cfg(unix)]
struct FileAtEnd<'a> {
    file: &'a File,
    offset: u64,
}

#[cfg(unix)]
impl Read for FileAtEnd<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;

        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::{read, PARALLEL_MIN};
    use std::path::PathBuf;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("magpie-read-whole-{name}-{}", std::process::id()))
    }

    /// Bytes that differ at every offset's low bits, so a part in the wrong place shows.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn a_large_file_read_in_parts_is_the_file() {
        let path = temp("large");
        // Not a multiple of the part size: the last part is short.
        let data = pattern(PARALLEL_MIN as usize * 3 + 12_345);
        std::fs::write(&path, &data).unwrap();
        let back = read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(
            back == data,
            "the parts came back in the wrong order or length"
        );
    }

    #[test]
    fn small_and_empty_files_read_whole() {
        let path = temp("small");
        for len in [0, 1, 4096, PARALLEL_MIN as usize - 1] {
            let data = pattern(len);
            std::fs::write(&path, &data).unwrap();
            assert!(read(&path).unwrap() == data, "{len} bytes");
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_file_reads_to_its_end() {
        // /proc files report a length of 0 and have content: the hint is only a hint.
        #[cfg(target_os = "linux")]
        assert!(!read(std::path::Path::new("/proc/self/status"))
            .unwrap()
            .is_empty());
    }
}
