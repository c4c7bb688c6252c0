#!/bin/sh
# A stand-in for "train this architecture and print its validation accuracy": looks the NB201 architecture
# string ($1) up in data/nb201/nb201_accuracy.csv and prints its CIFAR-10 validation accuracy (column 3).
# With NAR_ORACLE_LOG set, each call appends the architecture to that file (the tests count the calls).
table="$(dirname "$0")/../../data/nb201/nb201_accuracy.csv"
[ -n "$NAR_ORACLE_LOG" ] && echo "$1" >> "$NAR_ORACLE_LOG"
echo "training $1 ..."
awk -F, -v a="$1" '$2 == a { print $3; found = 1 } END { exit !found }' "$table"
