//! magpie vs tokio vs smol (async-executor + `blocking`) on file reads, all through each
//! runtime's blocking pool.
//!
//! Same structure as `benches/io.rs` (one criterion group per workload, functions `tokio`,
//! `magpie`, `smol`, `tokio_b`, wall time and `/cpu` groups, through
//! [`magpie_benches::run_suite`]).
//!
//! * `fs_read_small`: 2,000 files of 4 KiB, each read whole by its own task, all tasks
//!   spawned at once and joined (`magpie::fs::read`, `tokio::fs::read`,
//!   `blocking::unblock(std::fs::read)`): the cost of a trip to the blocking pool and back
//!   under concurrency.
//! * `fs_read_large`: one 256 MiB file read whole (`fs::read`): one blocking call each, so
//!   this measures the pool's hand-off beside the copy from the page cache.
//!
//! The files are written once per process, before the first iteration, under
//! `std::env::temp_dir()/magpie-bench-fs-<pid>` (removed at the end), so the page cache
//! holds them: the benchmark measures the runtimes, not the disk.
//!
//! `cargo bench -p magpie-benches --bench fs -- [criterion args]`.

use magpie_benches::{run_suite, SmolRuntime, Workload};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Files in `fs_read_small`.
const SMALL_FILES: usize = 2_000;
/// Bytes per file in `fs_read_small`.
const SMALL_SIZE: usize = 4 * 1024;
/// Bytes of the file in `fs_read_large`.
const LARGE_SIZE: usize = 256 * 1024 * 1024;

type TokioRt = tokio::runtime::Runtime;
type MagpieRt = magpie::Runtime;

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "fs_read_small",
        magpie: read_small::magpie,
        tokio: read_small::tokio,
        smol: read_small::smol,
        magpie_variants: &[],
    },
    Workload {
        name: "fs_read_large",
        magpie: read_large::magpie,
        tokio: read_large::tokio,
        smol: read_large::smol,
        magpie_variants: &[],
    },
];

/// The directory holding the files, written on first use.
fn fixture() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("magpie-bench-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("small")).expect("create the fixture directory");
        for i in 0..SMALL_FILES {
            let contents = vec![(i % 251) as u8; SMALL_SIZE];
            std::fs::write(small_file(&dir, i), contents).expect("write a small file");
        }
        let large: Vec<u8> = (0..LARGE_SIZE).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.join("large"), large).expect("write the large file");
        dir
    })
}

fn small_file(dir: &Path, i: usize) -> PathBuf {
    dir.join("small").join(format!("{i:04}"))
}

fn small_paths() -> Vec<PathBuf> {
    let dir = fixture();
    (0..SMALL_FILES).map(|i| small_file(dir, i)).collect()
}

fn large_path() -> PathBuf {
    fixture().join("large")
}

/// 2,000 concurrent reads of 4 KiB files.
mod read_small {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        let paths = small_paths();
        rt.block_on(async move {
            let tasks: Vec<_> = paths
                .into_iter()
                .map(|p| magpie::spawn(async move { magpie::fs::read(p).await }))
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap().expect("read").len(), SMALL_SIZE);
            }
        });
    }

    pub(super) fn tokio(rt: &TokioRt) {
        let paths = small_paths();
        rt.block_on(async move {
            let tasks: Vec<_> = paths
                .into_iter()
                .map(|p| tokio::spawn(async move { tokio::fs::read(p).await }))
                .collect();
            for t in tasks {
                assert_eq!(t.await.unwrap().expect("read").len(), SMALL_SIZE);
            }
        });
    }

    pub(super) fn smol(rt: &SmolRuntime) {
        let paths = small_paths();
        rt.block_on(async move {
            let tasks: Vec<_> = paths
                .into_iter()
                .map(|p| rt.spawn(async move { blocking::unblock(move || std::fs::read(p)).await }))
                .collect();
            for t in tasks {
                assert_eq!(t.await.expect("read").len(), SMALL_SIZE);
            }
        });
    }
}

/// One read of a 256 MiB file.
mod read_large {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        let path = large_path();
        let data = rt.block_on(magpie::fs::read(path)).expect("read");
        assert_eq!(data.len(), LARGE_SIZE);
    }

    pub(super) fn tokio(rt: &TokioRt) {
        let path = large_path();
        let data = rt.block_on(tokio::fs::read(path)).expect("read");
        assert_eq!(data.len(), LARGE_SIZE);
    }

    pub(super) fn smol(rt: &SmolRuntime) {
        let path = large_path();
        let data = rt
            .block_on(blocking::unblock(move || std::fs::read(path)))
            .expect("read");
        assert_eq!(data.len(), LARGE_SIZE);
    }
}

fn main() {
    run_suite(WORKLOADS);
    let _ = std::fs::remove_dir_all(fixture());
}
