#!/usr/bin/env bash
# Renders a nar report in headless Chromium and saves a full-page PNG, to check it by eye.
#   scripts/screenshot-report.sh RUN_DIR/report.html OUT.png [HEIGHT]
# Installs Debian's chromium if it is missing (needs root and the package registry).
set -euo pipefail
report=$(readlink -f "$1")
out=$(readlink -f "$2")
height=${3:-5200}
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size=1440,"$height" --screenshot="$out" "file://$report" 2>/dev/null
echo "$out"
