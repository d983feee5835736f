#!/usr/bin/env bash
# Acceptance check of `nvmeplan diff`'s default thresholds: TRIES times, two
# runs of plans/smoke.yaml on the same simulator configuration, diffed with
# the defaults, must exit 0; a slower firmware (`sim:fw=1.1,latency=300us`
# against `sim:fw=1.0`) must exit 1. Prints one line per try and the
# figures; exits 1 when either check fails. About 15 s per try.
#
#   NVMEPLAN=target/release/nvmeplan TRIES=10 ci/diff-noise.sh
#
# NVMEPLAN is the binary that runs the plans (default: a release build made
# here); DIFF_BIN the one that diffs (default: NVMEPLAN).
set -euo pipefail
cd "$(dirname "$0")/.."

TRIES="${TRIES:-10}"
if [ -z "${NVMEPLAN:-}" ]; then
    echo "==> cargo build --release -p nvmeplan"
    cargo build --release --quiet -p nvmeplan
    NVMEPLAN="${CARGO_TARGET_DIR:-target}/release/nvmeplan"
fi
DIFF_BIN="${DIFF_BIN:-$NVMEPLAN}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

run() { # device out
    if ! "$NVMEPLAN" run plans/smoke.yaml --device "$1" --out "$2" >"$2.log" 2>&1; then
        echo "smoke run on $1 failed:" >&2
        cat "$2.log" >&2
        exit 1
    fi
}

same_ok=0
for i in $(seq 1 "$TRIES"); do
    run sim: "$TMP/a$i"
    run sim: "$TMP/b$i"
    set +e
    "$DIFF_BIN" diff "$TMP/a$i/report.json" "$TMP/b$i/report.json" >"$TMP/diff$i.md" 2>&1
    code=$?
    set -e
    verdict="$(tail -n 1 "$TMP/diff$i.md")"
    echo "try $i: same config, exit $code ($verdict)"
    if [ "$code" -eq 0 ]; then
        same_ok=$((same_ok + 1))
    else
        grep -E 'regression|\*\*' "$TMP/diff$i.md" | head -20 || true
    fi
done

run sim:fw=1.0 "$TMP/fw10"
run sim:fw=1.1,latency=300us "$TMP/fw11"
set +e
"$DIFF_BIN" diff "$TMP/fw10/report.json" "$TMP/fw11/report.json" >"$TMP/fw.md" 2>&1
fw_code=$?
set -e
echo "fw=1.1,latency=300us vs fw=1.0: exit $fw_code ($(tail -n 1 "$TMP/fw.md"))"
grep -F '**regression**' "$TMP/fw.md" || true

echo "same config: $same_ok/$TRIES exit 0; slower firmware: exit $fw_code (want 1)"
[ "$same_ok" -eq "$TRIES" ] && [ "$fw_code" -eq 1 ]
