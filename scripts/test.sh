#!/usr/bin/env bash
# The whole test suite, the one command CI runs (.ci/run): every Rust test (the slow ignored-by-default
# ones included) and the Python package's tests (scripts/test-python.sh).
#   scripts/test.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -- --include-ignored
scripts/test-python.sh "$@"
