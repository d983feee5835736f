#!/usr/bin/env bash
# Opens HTML reports in a real headless browser (Debian's chromium) and
# fails unless each page loads without a script error, runs its filter
# script to the end, shows its charts and renders to a non-trivial PNG.
#
# Runs two shipped plans on the simulator (one passing, one with an errored
# step so the failures section is drawn) and renders a diff of them.
#
#   ci/html-check.sh            # leaves screenshots in target/html-check/
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${HTML_CHECK_DIR:-target/html-check}"
rm -rf "$OUT"
mkdir -p "$OUT"

if ! command -v chromium >/dev/null 2>&1; then
    echo "==> installing chromium"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 ||
        { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null; }
fi

cargo build --quiet --locked -p nvmeplan
BIN="${CARGO_TARGET_DIR:-target}/debug/nvmeplan"

# A passing plan and one with an errored step (exit 1 is expected there).
"$BIN" run plans/smoke.yaml --out "$OUT/smoke" --seed 1 >"$OUT/smoke.log"
set +e
"$BIN" run plans/faults.yaml --out "$OUT/faults" --seed 1 >"$OUT/faults.log"
rc=$?
set -e
if [ "$rc" -ne 1 ]; then
    echo "html-check: plans/faults.yaml exited $rc, expected 1 (one step errors by design)" >&2
    exit 1
fi
set +e
"$BIN" diff "$OUT/smoke/report.json" "$OUT/smoke/report.json" --html "$OUT/diff.html" >"$OUT/diff.log"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "html-check: diffing a report with itself exited $rc, expected 0" >&2
    exit 1
fi

# Flags for a root, offline, GPU-less machine: no sandbox, no background
# connections (they are refused here and only add noise), a fresh profile.
chrome() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$OUT/profile-$1" --enable-logging=stderr --v=0 "${@:2}"
}

fail=0
check() {
    local name="$1" page="$2" marker="$3"
    local url="file://$(realpath "$page")"
    chrome "$name" --dump-dom "$url" >"$OUT/$name.dom" 2>"$OUT/$name.console"
    chrome "$name" --window-size=1280,2000 --hide-scrollbars --screenshot="$OUT/$name.png" "$url" \
        >/dev/null 2>>"$OUT/$name.console"
    local problems=""
    grep -q "$marker" "$OUT/$name.dom" || problems="$problems missing:$marker"
    grep -q '<svg' "$OUT/$name.dom" || problems="$problems no-svg-chart"
    if grep -E 'CONSOLE.*(Uncaught|Error)|Failed to load resource' "$OUT/$name.console" >"$OUT/$name.errors"; then
        problems="$problems console-errors($(wc -l <"$OUT/$name.errors"))"
    fi
    local size
    size=$(stat -c %s "$OUT/$name.png" 2>/dev/null || echo 0)
    [ "$size" -gt 20000 ] || problems="$problems screenshot-too-small($size bytes)"
    if [ -n "$problems" ]; then
        echo "FAIL  $name:$problems" >&2
        cat "$OUT/$name.errors" >&2 2>/dev/null || true
        fail=1
    else
        echo "PASS  $name ($size byte screenshot)"
    fi
}

# The report pages set data-nvmeplan-ready once their filter script ran to
# its end; the diff page has no script, so its marker is its table.
check smoke "$OUT/smoke/report.html" 'data-nvmeplan-ready="1"'
check faults "$OUT/faults/report.html" 'data-nvmeplan-ready="1"'
check diff "$OUT/diff.html" 'id="status-changes"'
grep -q 'id="failures"' "$OUT/faults.dom" || { echo "FAIL  faults: no failures section" >&2; fail=1; }

exit "$fail"
