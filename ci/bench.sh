#!/usr/bin/env bash
# ioworker benchmark: host cost per IO against fio's null engine, CRC32 +
# stamp check throughput, and the cost of verify and of latency recording.
# Prints one table and writes bench.json (medians of RUNS runs, ours and
# fio's run alternately). Takes about 2 minutes on a 2-core machine.
#
#   RUNS=3 SECS=5 ci/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-3}"
SECS="${SECS:-5}"
SHORT="${SHORT:-3}"
OUT="${BENCH_JSON:-bench.json}"

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v fio >/dev/null 2>&1; then
    echo "==> installing fio"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y fio >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y fio >/dev/null; }
fi

echo "==> cargo build --release (ioworker_bench)"
cargo build --release --quiet -p nvmeplan-driver --example ioworker_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/ioworker_bench"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
RESULTS="$TMP/runs.jsonl"

for i in $(seq "$RUNS"); do
    echo "==> run $i/$RUNS"
    "$BIN" host "$SECS" | tee -a "$RESULTS"
    fio --name=x --ioengine=null --rw=randread --bs=4k --iodepth=32 --size=1g \
        --time_based --runtime="$SECS" --output-format=json >"$TMP/fio.json" 2>/dev/null
    "$BIN" fio "$TMP/fio.json" | tee -a "$RESULTS"
    "$BIN" latency "$SHORT" | tee -a "$RESULTS"
    "$BIN" verify "$SHORT" | tee -a "$RESULTS"
    "$BIN" crc | tee -a "$RESULTS"
done

echo
"$BIN" report "$RESULTS" "$OUT"
echo
echo "wrote $OUT"
