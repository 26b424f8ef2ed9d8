#!/usr/bin/env bash
# AddressSanitizer + LeakSanitizer over magpie's tests, on the nightly toolchain.
#
#   .ci/sanitizers.sh            # ASan (LeakSanitizer is part of it on Linux x86_64)
#
# Flags:
#   -Zsanitizer=address        instrument our code and the std used by it for ASan/LSan
#   --target x86_64-unknown-linux-gnu
#                              required with sanitizers, so build scripts and proc macros
#                              (built for the host) are not instrumented
#   CARGO_TARGET_DIR           a separate directory: the flags change every artefact
#   ASAN_OPTIONS=detect_leaks=1
#                              LeakSanitizer report at exit: "definitely lost" bytes fail the run
#   --lib --tests              unit and integration tests; doc tests are skipped (rustdoc
#                              would need the flags too)
# ThreadSanitizer needs -Zbuild-std (rust-src) and crossbeam's suppressions; not run here.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo ".ci/sanitizers.sh: no nightly toolchain installed; skipping (rustup toolchain install nightly)"
    exit 0
fi
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
export ASAN_OPTIONS="detect_leaks=1"
export CARGO_TARGET_DIR=target/asan
cargo +nightly test --target x86_64-unknown-linux-gnu -p magpie-core -p magpie-timer -p magpie-io -p magpie-sync \
    -p magpie --lib --tests "$@"
