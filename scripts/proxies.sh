#!/usr/bin/env bash
# Rewrites the zero-cost proxy tables nar ships (data/README.md): synflow of every NAS-Bench-201
# architecture's network on its three image data sets, and of the NB101 sample's 1,000 cells.
# Needs the Python package with torch (pip install './python[torch]'). About 40 minutes of one core for
# NB201 (0.05 s an architecture and data set) and 13 for NB101 (0.8 s a cell); WORKERS processes share it.
# Afterwards record the new SHA-256 in data/README.md and in PROXY_TABLE_SHA256
# (src/spaces/nb201/features.rs, src/spaces/nb101/features.rs): nar refuses a table whose checksum differs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
WORKERS=${WORKERS:-1}
time "$PY" -m nar.torch.proxies --space nb201 --proxies synflow --workers "$WORKERS" \
    --out data/nb201/nb201_proxies.csv
time "$PY" -m nar.torch.proxies --space nb101 --cells data/nb101/nb101_subset_1k.csv --proxies synflow \
    --workers "$WORKERS" --out data/nb101/nb101_proxies.csv
sha256sum data/nb201/nb201_proxies.csv data/nb101/nb101_proxies.csv
