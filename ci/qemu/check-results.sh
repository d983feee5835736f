#!/usr/bin/env bash
# Checks the reports one e2e boot copied out of the guest:
#   check-results.sh CONFIG OUT_DIR PLANS_EXIT_CODE GUARD_EXIT_CODE "FEWEST_FREE TOTAL"
# Every plan's report.json must be complete, ran over VFIO on the QEMU
# controller with the configuration's serial number, and have no failed or
# errored step; the soak must have run its ioworker for the full time with
# zero mismatches; the guard plan must have been refused; CAP.MQES must be
# the configuration's; some DMA memory must have come from 2 MiB hugepages
# (the guest's free hugepage count dropped while the plans ran).
set -uo pipefail
config=$1 out=$2 code=$3 guard=$4 hugepages=${5:-none}
serial="NVMEPLANE2E$config"
want_ns=1; [ "$config" = multi ] && want_ns=3
want_mqes=15; [ "$config" = multi ] && want_mqes=4095
fail=0
bad() { echo "e2e[$config]: FAIL: $*"; fail=1; }

[ "$code" = 0 ] || bad "the guest's nvmeplan run exited with $code"
for plan in ${E2E_PLANS:?the plans qemu-e2e.sh ran}; do
    f=$out/${plan}_report.json
    if [ ! -s "$f" ]; then bad "no report for $plan copied out of the guest"; continue; fi
    jq -e . "$f" >/dev/null 2>&1 || { bad "$plan: report is not valid JSON"; continue; }
    summary=$(jq -r '"\(.summary.passed) passed, \(.summary.failed) failed, \(.summary.errored) errored, \(.summary.skipped) skipped"' "$f")
    echo "e2e[$config]: $plan: $summary in $(jq .duration_ms "$f") ms on $(jq -r .device.backend "$f") ($(jq -r .device.mn "$f" | sed 's/ *$//'))"
    jq -e '.complete == true' "$f" >/dev/null || bad "$plan: report is not complete"
    jq -e '.summary.failed == 0 and .summary.errored == 0 and .summary.passed > 0' "$f" >/dev/null \
        || bad "$plan: $summary: $(jq -c '[.steps[] | select(.outcome == "fail" or .outcome == "error") | {id, reason}]' "$f")"
    jq -e '.device.backend | startswith("pci:")' "$f" >/dev/null || bad "$plan: backend is $(jq -r .device.backend "$f"), not VFIO"
    jq -e --arg sn "$serial" '(.device.sn | rtrimstr(" ")) == $sn' "$f" >/dev/null || bad "$plan: serial is not $serial"
    jq -e --argjson n "$want_ns" '(.device.namespaces | length) == $n' "$f" >/dev/null \
        || bad "$plan: expected $want_ns namespaces, report has $(jq '.device.namespaces | length' "$f")"
    jq -r '.steps[] | select(.outcome == "skip") | "e2e[\($c)]:   skipped \(.id): \(.reason)"' --arg c "$config" "$f"
done
admin=$out/admin_report.json
if [ -s "$admin" ]; then
    mqes=$(jq '[.steps[] | select(.saved.name == "mqes") | .saved.value.mqes][0]' "$admin")
    [ "$mqes" = "$want_mqes" ] || bad "admin: CAP.MQES read $mqes, the configuration sets $want_mqes"
    echo "e2e[$config]:   CAP.MQES $mqes"
fi
soak=$out/soak_report.json
if [ -s "$soak" ]; then
    jq -e '[.steps[] | select(.ioworker != null and .outcome == "pass" and .duration_ms >= 59000)] | length >= 1' "$soak" >/dev/null \
        || bad "soak: no ioworker step passed after running 60 s"
    jq -r '.steps[] | select(.ioworker != null) | "e2e[\($c)]:   soak \(.id): \(.duration_ms) ms"' --arg c "$config" "$soak"
fi
[ "$guard" = 1 ] || bad "the guard plan (destructive steps without --allow-destructive) exited with $guard, not 1"
if [ -s "$out/guard.log" ]; then
    grep -q 'refused: `write` is destructive' "$out/guard.log" || bad "guard.log does not show the write refused"
else
    bad "no guard.log copied out"
fi
read -r hp_min hp_total <<< "$hugepages"
if [ "${hp_total:-0}" -gt 0 ] 2>/dev/null && [ "${hp_min:-x}" -lt "$hp_total" ] 2>/dev/null; then
    echo "e2e[$config]:   hugepages in use: at most $((hp_total - hp_min)) of $hp_total"
else
    bad "no 2 MiB hugepage was used for DMA (guest reported '$hugepages' as fewest free / total)"
fi
[ $fail = 0 ] && echo "e2e[$config]: all checks passed"
exit $fail
