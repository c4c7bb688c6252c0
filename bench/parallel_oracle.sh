#!/usr/bin/env bash
# `nar search --oracle-cmd … --parallel K` against one call at a time, with an oracle that sleeps a fixed
# time and then answers from the NB201 table (tests/oracle/nb201_table.sh): the wall time of a search of
# BUDGET queries for K = 1, 2, 4, 8 (random search, LS and the guided search propose K at a time, REA
# keeps K children running), its speed-up over K = 1, and nar's own time per query at K = 1 (the wall
# time less the oracle's sleeps). The guided search's refitting is included.
#   bench/parallel_oracle.sh [NAR_BINARY] [SLEEP_SECONDS] [BUDGET]
set -euo pipefail
cd "$(dirname "$0")/.."
nar=${1:-target/release/nar}
sleep_s=${2:-1}
budget=${3:-48}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-7s %3s %9s %9s\n' method K wall_s speedup
for method in random rea ls nar; do
    base=""
    for k in 1 2 4 8; do
        start=$(date +%s.%N)
        "$nar" search --space nb201 --method "$method" --budget "$budget" --seeds 1 --batch "$k" --parallel "$k" \
            --oracle-cmd "sleep $sleep_s; sh tests/oracle/nb201_table.sh {arch}" \
            --journal "$work/$method-$k.jsonl" > /dev/null 2>&1
        wall=$(echo "$(date +%s.%N) - $start" | bc -l)
        [ -z "$base" ] && base=$wall && overhead=$(echo "($wall - $budget * $sleep_s) / $budget" | bc -l)
        printf '%-7s %3d %9.2f %9.2f\n' "$method" "$k" "$wall" "$(echo "$base / $wall" | bc -l)"
    done
    printf '%-7s nar'"'"'s own time per query at K = 1: %.3f s\n' "$method" "$overhead"
done
