#!/usr/bin/env bash
# The Python package's tests: a fresh virtual environment, `pip install ./python` (maturin and numpy
# come from the package index) with pytest, pyyaml (the tests' tiny configuration) and torch (the
# state_dict's strict load into the PyTorch model of bench/torch_ranker.py), then pytest on python/tests. The tests compare against the command
# line, so build it first (`cargo test --release` does).
#   scripts/test-python.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
venv=target/python-test-venv
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet ./python pytest pyyaml torch
cargo build --release --quiet --bin nar
# The binary is where cargo put it: `target/` or a shared `CARGO_TARGET_DIR`.
target_dir=$(cargo metadata --format-version 1 --no-deps | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
export NAR_BIN="$target_dir/release/nar"
"$venv/bin/python" -m pytest -q python/tests
