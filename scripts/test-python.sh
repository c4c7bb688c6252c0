#!/usr/bin/env bash
# The Python package's tests: a fresh virtual environment, `pip install './python[torch]'` (maturin,
# numpy, torch and torchvision come from the package index) with pytest and pyyaml (the tests' tiny
# configuration), Dask's distributed (the executor test), the official network builders nar.torch is checked against (nasbench-pytorch; xautodl
# with --no-deps, as its numpy<=1.19.5 pin has no wheel for current Pythons, beside the numpy and pyyaml
# it imports), then pytest on python/tests. No wheel cache (--no-cache-dir): torch with its CUDA
# libraries is several gigabytes, and a second copy in the cache has filled a CI disk.
# The tests compare against the command line: $NAR_BIN, or the
# binary built here. The every-architecture checks of nar.torch take about 40 minutes:
# `target/python-test-venv/bin/python -m pytest python/tests --run-slow` runs them too.
#   scripts/test-python.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
venv=target/python-test-venv
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --no-cache-dir './python[torch]' pytest pyyaml nasbench-pytorch distributed
"$venv/bin/pip" install --quiet --no-cache-dir --no-deps xautodl
# The binary the tests compare against: NAR_BIN where the caller built it (scripts/test.sh), else built
# here, where cargo puts it (`target/` or a shared `CARGO_TARGET_DIR`).
if [ -z "${NAR_BIN:-}" ]; then
    cargo build --release --quiet --bin nar
    target_dir=$(cargo metadata --format-version 1 --no-deps | "$python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    NAR_BIN="$target_dir/release/nar"
fi
export NAR_BIN
"$venv/bin/python" -m pytest -q python/tests
