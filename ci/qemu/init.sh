#!/bin/busybox sh
# /init of the e2e guest: load the vfio modules, list and bind every NVMe
# function with nvmeplan, run the plans named in /e2e/plans over VFIO, and
# send the results to the host over the second serial port (ttyS1):
#   E2E-FILE <name> / base64 lines / E2E-END, E2E-GUARD <code>,
#   E2E-HUGEPAGES <fewest free> <total>, then E2E-EXIT <code>.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/hugepages && mount -t hugetlbfs hugetlbfs /dev/hugepages
echo 64 > /proc/sys/vm/nr_hugepages
ulimit -l unlimited
results=/dev/ttyS1
say() { echo "$*" > $results; }
fail() { echo "e2e: $*"; say "E2E-EXIT 99 $*"; sync; poweroff -f; }

kver=$(uname -r)
for m in kernel/virt/lib/irqbypass.ko kernel/drivers/vfio/vfio.ko kernel/drivers/vfio/vfio_iommu_type1.ko \
         kernel/drivers/vfio/vfio_virqfd.ko kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/pci/vfio-pci.ko; do
    [ -f /lib/modules/$kver/$m ] || continue
    insmod /lib/modules/$kver/$m || fail "insmod $m failed"
done
echo "e2e: IOMMU groups: $(ls /sys/kernel/iommu_groups | wc -l); hugepages: $(cat /proc/sys/vm/nr_hugepages)"

cd /e2e
./nvmeplan devices || fail "nvmeplan devices failed"
bdfs=$(./nvmeplan devices --json | sed -n 's/.*"address": "\(.*\)".*/\1/p')
[ -n "$bdfs" ] || fail "no NVMe function found"
dev=""
for bdf in $bdfs; do
    ./nvmeplan bind "$bdf" || fail "bind $bdf failed"
    [ -z "$dev" ] && dev=$bdf
done
./nvmeplan devices
# Destructive steps without the flag must be refused before anything is sent.
./nvmeplan run --device "pci:$dev" plans/qemu/guard.yaml > /tmp/guard.log 2>&1
guard_rc=$?
cat /tmp/guard.log
# Watch the free hugepage count while the plans run: nvmeplan is the only
# user, so a drop proves its DMA memory came from 2 MiB pages.
hp_total=$(sed -n 's/^HugePages_Total: *//p' /proc/meminfo)
echo "${hp_total:-0}" > /tmp/hp-min
(
    min=${hp_total:-0}
    while :; do
        free=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
        if [ -n "$free" ] && [ "$free" -lt "$min" ]; then min=$free; echo "$min" > /tmp/hp-min; fi
        sleep 0.2 2>/dev/null || sleep 1
    done
) &
hp_watch=$!
start=$(date +%s)
./nvmeplan run --device "pci:$dev" --allow-serial "$(cat serial)" --allow-path plans --out /tmp/out $(cat plan-list) 2>&1
rc=$?
end=$(date +%s)
kill $hp_watch 2>/dev/null
echo "e2e: plans exit code $rc in $((end - start)) s; guard plan exit code $guard_rc; fewest free hugepages $(cat /tmp/hp-min) of ${hp_total:-0}"
./nvmeplan unbind "$dev" && ./nvmeplan devices
mkdir -p /tmp/out
for f in $(cd /tmp/out && find . -name report.json) ; do
    say "E2E-FILE $f"
    base64 /tmp/out/$f > $results
    say "E2E-END"
done
say "E2E-FILE guard.log"; base64 /tmp/guard.log > $results; say "E2E-END"
say "E2E-GUARD $guard_rc"
say "E2E-HUGEPAGES $(cat /tmp/hp-min) ${hp_total:-0}"
say "E2E-EXIT $rc"
sync
poweroff -f
