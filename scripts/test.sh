#!/usr/bin/env bash
# The whole test suite, the one command CI runs (.ci/run): every Rust test (the slow ignored-by-default
# ones included) and the Python package's tests (scripts/test-python.sh).
#   scripts/test.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -- --include-ignored
# The Python tests compare against the binary the Rust tests just ran (cargo put it beside them, in
# `target/` or a shared CARGO_TARGET_DIR): building it again under `cargo build`'s profile would compile
# the library a second time.
target_dir=$(cargo metadata --format-version 1 --no-deps | "${1:-python3}" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
NAR_BIN="$target_dir/release/nar" scripts/test-python.sh "$@"
