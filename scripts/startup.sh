#!/usr/bin/env bash
# Measures the server on the embedded default (SQLite + local files) from a
# fresh, empty data directory: time from exec to the first 200 on /readyz,
# and resident memory after it has idled for 3 seconds. Runs N times
# (default 5) and prints each run and the median.
#   bash scripts/startup.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/stockade" ./app/cmd/stockade
port=18080
ready=(); rss=()
for i in $(seq "$n"); do
  rm -rf "$work/data"
  start=$(date +%s%N)
  STOCKADE_DATA_DIR="$work/data" STOCKADE_HTTP_ADDR="127.0.0.1:$port" STOCKADE_LOG_LEVEL=warn "$work/stockade" serve &
  pid=$!
  until curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; do
    kill -0 "$pid" 2>/dev/null || { echo "server exited"; exit 1; }
  done
  end=$(date +%s%N)
  sleep 3   # idle, then read resident memory (a measurement, not synchronisation)
  kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid"
  ms=$(( (end - start) / 1000000 ))
  echo "run $i: ready in ${ms} ms, idle RSS $(( kb / 1024 )) MiB"
  ready+=("$ms"); rss+=("$kb")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median: ready in $(median "${ready[@]}") ms, idle RSS $(( $(median "${rss[@]}") / 1024 )) MiB"
