#!/usr/bin/env bash
# End-to-end test of the VFIO backend against QEMU's NVMe controller: boots a
# Debian cloud kernel under TCG with a virtual Intel IOMMU, binds the NVMe
# functions to vfio-pci inside the guest and runs plans/qemu/*.yaml and
# plans/examples/*.yaml over VFIO,
# once per QEMU configuration. The guest's reports come back base64-encoded
# over a second serial port and are checked here. Fails when a plan fails.
#
# Runs as root on Debian 12 (installs its packages). Environment:
#   E2E_CONFIGS   configurations to boot (default "single multi")
#   E2E_SKIP_APT  set to 1 to skip apt-get (packages already there)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/target/qemu-e2e
mkdir -p "$work"
step() { printf '\n==> e2e: %s\n' "$*"; }
t0=$(date +%s)

if [ "${E2E_SKIP_APT:-0}" != 1 ]; then
    step "packages"
    export DEBIAN_FRONTEND=noninteractive
    # QEMU from bookworm-backports (10.x): Debian 12's own QEMU 7.2 has no
    # `mqes` property on its NVMe device, and the two configurations differ
    # in MQES. Backports has priority 100, so nothing else is upgraded.
    cat > /etc/apt/sources.list.d/nvmeplan-bookworm-backports.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends busybox-static cpio kmod lz4 jq >/dev/null
    apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null
fi
qemu-system-x86_64 --version | head -1
qemu-system-x86_64 -device nvme,help | grep -q 'mqes=' \
    || { echo "e2e: this QEMU's nvme device has no mqes property; install qemu-system-x86 from bookworm-backports" >&2; exit 1; }

step "kernel"
kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || { echo "cannot find the package behind linux-image-cloud-amd64" >&2; exit 1; }
kdir=$work/kernel-$kpkg
if [ ! -d "$kdir" ]; then
    (cd "$work" && rm -f "$kpkg"_*.deb && apt-get download -qq "$kpkg" 2>/dev/null && dpkg-deb -x "$kpkg"_*.deb "$kdir.tmp") 
    mv "$kdir.tmp" "$kdir"
fi
kver=$(ls "$kdir/lib/modules" | head -1)
depmod -b "$kdir" "$kver"
kernel=$kdir/boot/vmlinuz-$kver

step "static nvmeplan"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked -p nvmeplan --target x86_64-unknown-linux-gnu --target-dir "$root/target/static"
bin=$root/target/static/x86_64-unknown-linux-gnu/release/nvmeplan

step "initramfs"
base=$work/base
rm -rf "$base" && mkdir -p "$base"/{bin,proc,sys,dev,tmp,e2e}
cp /bin/busybox "$base/bin/busybox"
install -m 755 ci/qemu/init.sh "$base/init"
for m in kernel/virt/lib/irqbypass.ko kernel/drivers/vfio/vfio.ko kernel/drivers/vfio/vfio_iommu_type1.ko \
         kernel/drivers/vfio/vfio_virqfd.ko kernel/drivers/vfio/pci/vfio-pci-core.ko kernel/drivers/vfio/pci/vfio-pci.ko; do
    src=$kdir/lib/modules/$kver/$m
    if [ -f "$src" ]; then mkdir -p "$base/lib/modules/$kver/$(dirname "$m")"; cp "$src" "$base/lib/modules/$kver/$m"; fi
done
(cd "$base" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/base.cpio.gz"

serial_of() { echo "NVMEPLANE2E$1"; }
# The QEMU device arguments of a configuration. "single": one namespace,
# 16-entry queues (MQES 15), MDTS 5, 4 queue pairs, 5 vectors. "multi": three
# namespaces (one with 4 KiB blocks), 4096-entry queues, MDTS 7, 8 queue
# pairs, 65 vectors.
configs() {
    case $1 in
        single) echo "-drive file=$work/single.img,if=none,id=nvm0,format=raw,discard=unmap -device nvme,serial=$(serial_of single),drive=nvm0,mdts=5,max_ioqpairs=4,msix_qsize=5,mqes=15" ;;
        multi) echo "-device nvme,id=c0,serial=$(serial_of multi),mdts=7,max_ioqpairs=8,mqes=4095 \
-drive file=$work/multi1.img,if=none,id=nvm1,format=raw,discard=unmap -device nvme-ns,bus=c0,nsid=1,drive=nvm1 \
-drive file=$work/multi2.img,if=none,id=nvm2,format=raw,discard=unmap -device nvme-ns,bus=c0,nsid=2,drive=nvm2,logical_block_size=4096,physical_block_size=4096 \
-drive file=$work/multi3.img,if=none,id=nvm3,format=raw,discard=unmap -device nvme-ns,bus=c0,nsid=3,drive=nvm3" ;;
    esac
}

# The QEMU set, then the first-week examples, which must run unchanged on
# any drive. check-results.sh checks the report of each.
qemu_plans="smoke data-integrity admin msix reset soak"
example_plans="sequential-write-verify random-mix-qd64 features smart-after-writes negative-and-reset"
export E2E_PLANS="$qemu_plans $example_plans"

status=0
for config in ${E2E_CONFIGS:-single multi}; do
    step "boot: $config"
    for img in single multi1 multi2 multi3; do truncate -s 0 "$work/$img.img"; truncate -s 256M "$work/$img.img"; done
    payload=$work/payload-$config
    rm -rf "$payload" && mkdir -p "$payload/e2e"
    cp "$bin" "$payload/e2e/nvmeplan"
    cp -r plans "$payload/e2e/plans"
    serial_of "$config" > "$payload/e2e/serial"
    plans=$(for p in $qemu_plans; do printf 'plans/qemu/%s.yaml ' "$p"; done)
    plans+=$(for p in $example_plans; do printf 'plans/examples/%s.yaml ' "$p"; done)
    echo "$plans" > "$payload/e2e/plan-list"
    (cd "$payload" && find . | cpio -o -H newc --quiet) > "$work/payload.cpio"
    cat "$work/payload.cpio" "$work/base.cpio.gz" > "$work/initrd-$config"
    results=$work/results-$config.txt
    console=$work/console-$config.log
    rm -f "$results"
    start=$(date +%s)
    # shellcheck disable=SC2046
    timeout "${E2E_TIMEOUT:-600}" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m 1G \
        -kernel "$kernel" -initrd "$work/initrd-$config" \
        -append "console=ttyS0 panic=-1 intel_iommu=on iommu=pt quiet" \
        -display none -no-reboot -nodefaults -device intel-iommu \
        -serial stdio -serial "file:$results" \
        $(configs "$config") > "$console" 2>&1 || echo "qemu exited with $?"
    echo "boot + run took $(( $(date +%s) - start )) s; console log: $console"
    grep -E '^(PASS|FAIL|ERROR|SKIP|plan |e2e:|[0-9]+ passed)|ADDRESS|0000:' "$console" | tail -n 400 || true
    out=$work/out-$config
    rm -rf "$out" && mkdir -p "$out"
    awk -v out="$out" '
        { gsub(/\r/, "") }
        /^E2E-FILE / { name = $2; sub(/^\.\//, "", name); gsub("/", "_", name); file = out "/" name; next }
        /^E2E-END/ { file = ""; next }
        file != "" { gsub(/\r/, ""); print > (file ".b64") }
    ' "$results"
    for b in "$out"/*.b64; do [ -e "$b" ] && base64 -d "$b" > "${b%.b64}" && rm "$b"; done
    code=$(sed -n 's/^E2E-EXIT \([0-9]*\).*/\1/p' "$results" | tail -1)
    guard=$(sed -n 's/^E2E-GUARD \([0-9]*\).*/\1/p' "$results" | tail -1)
    hugepages=$(sed -n 's/^E2E-HUGEPAGES \([0-9]* [0-9]*\).*/\1/p' "$results" | tail -1)
    ci/qemu/check-results.sh "$config" "$out" "${code:-none}" "${guard:-none}" "${hugepages:-none}" || status=1
    # The host's nvmeplan must read each guest report (format version and
    # every field) and renders it as HTML beside it.
    for f in "$out"/*_report.json; do
        [ -e "$f" ] || continue
        "$bin" report "$f" --html "${f%.json}.html" || { echo "e2e[$config]: FAIL: the host cannot read $f"; status=1; }
    done
done
echo "e2e: total $(( $(date +%s) - t0 )) s"
exit $status
