#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the distribution-kernel guest (lab/distro-lane.sh), started by
# the lane's initramfs through switch_root. The root is a Debian root
# (lab/distro-root.sh), read-only over virtio-9p, with p2pbuf installed in
# it by DKMS; /mnt is the host's writable lane directory (this script,
# lab/guest/lib.sh, env.sh, and where the results go). Loads the pair with
# modprobe as a user would, binds the devices as the lab does, runs the
# suites as KTAP (and make demo's story if "demo" is among them) or, for
# the lane's job "bench", the benchmark, records the kernel release and its
# taint, and powers off.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=${TERM:-linux}

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
R=/mnt/results
mkdir -p "$R"
read -r up _ < /proc/uptime
echo "${up%.*}" > "$R/init-seconds"
# shellcheck source=/dev/null
. /mnt/env.sh
# shellcheck source=lab/guest/lib.sh
. /mnt/lib.sh

trap guest_power_off EXIT

# The module modprobe would load lives in the DKMS tree, not in the
# kernel's own.
distro_modprobe() { # MODULE [PARAM=VALUE...]
	case "$(modinfo -n "$1")" in
	*/updates/dkms/*) ;;
	*)
		echo "$1 resolves to $(modinfo -n "$1"), not the DKMS build"
		return 1
		;;
	esac
	modprobe "$@"
}

uname -r > "$R/uname-r"
cat /proc/sys/kernel/tainted > "$R/tainted-before"
cat /proc/cmdline > "$R/cmdline"

P2PBUF_PROVIDER_BDF=$(guest_find_pci 0x1af4:0x1110 "$P2PBUF_VFIO_BDF")
P2PBUF_INITIATOR_BDF=$(guest_find_pci 0x1234:0x11e8)
export P2PBUF_PROVIDER_BDF P2PBUF_INITIATOR_BDF
ktap_begin "$R/lab.ktap" 13
ktap_check "kernel is the distribution's $P2PBUF_DISTRO_KREL" test "$(uname -r)" = "$P2PBUF_DISTRO_KREL"
ktap_check "topology: provider ivshmem present ($P2PBUF_PROVIDER_BDF)" test -n "$P2PBUF_PROVIDER_BDF"
ktap_check "topology: initiator edu present ($P2PBUF_INITIATOR_BDF)" test -n "$P2PBUF_INITIATOR_BDF"
ktap_check "topology: vfio ivshmem present ($P2PBUF_VFIO_BDF)" test -e "/sys/bus/pci/devices/$P2PBUF_VFIO_BDF"
ktap_check "modprobe p2pbuf_exporter" distro_modprobe p2pbuf_exporter
ktap_check "modprobe p2pbuf_importer" distro_modprobe p2pbuf_importer \
	edu_dma_bits="${P2PBUF_EDU_DMA_BITS:-64}"
# vfio-pci is a module in Debian's kernel (built in in the lab's):
# the suites' vfio-pci cases need it loaded; its no-IOMMU mode comes from
# the kernel command line (vfio.enable_unsafe_noiommu_mode=1).
ktap_check "modprobe vfio-pci" modprobe vfio-pci
# vgem too (CONFIG_DRM_VGEM=m): vgem_test's control importer.
ktap_check "modprobe vgem" modprobe vgem
ktap_check "bind provider to p2pbuf_exporter" guest_bind "$P2PBUF_PROVIDER_BDF" p2pbuf_exporter
ktap_check "bind initiator to p2pbuf_importer" guest_bind "$P2PBUF_INITIATOR_BDF" p2pbuf_importer
cat /proc/sys/kernel/tainted > "$R/tainted-loaded"
# make bench on this kernel (lab/bench.sh): the benchmark, not the suites.
distro_bench() {
	local quick=() rc t0=$SECONDS
	[ "${P2PBUF_BENCH_QUICK:-0}" = 1 ] && quick=(--quick)
	guest_log "bench: start"
	(cd /tmp && timeout -k 5 "$P2PBUF_SUITE_TIMEOUT" "$P2PBUF_STDIR/p2pbuf_bench" \
		"${quick[@]}" --out "$R/bench.json") 2> "$R/bench.log"
	rc=$?
	echo "$((SECONDS - t0))" > "$R/p2pbuf_bench.seconds"
	echo "$rc" > "$R/p2pbuf_bench.rc"
	guest_log "bench: exit $rc"
	{
		echo "TAP version 13"
		echo "1..1"
		if [ "$rc" -eq 0 ]; then
			echo "ok 1 p2pbuf_bench: every measurement ran"
		else
			echo "not ok 1 p2pbuf_bench: exit status $rc"
			grep 'error' "$R/bench.log" | tail -n 20 | sed 's/^/# /'
		fi
	} > "$R/p2pbuf_bench.ktap"
}
# make demo's story, as the lab tells it (lab/demo.sh), when asked for.
distro_demo() {
	# shellcheck source=lab/demo.sh
	. /mnt/demo.sh
	local t0=$SECONDS
	demo_run "$R"
	echo "$((SECONDS - t0))" > "$R/demo.seconds"
}
if [ "${P2PBUF_JOB:-check}" = bench ]; then
	distro_bench
else
	all_suites=$P2PBUF_SUITES
	P2PBUF_SUITES=$(echo " $all_suites " | sed 's/ demo / /g')
	guest_run_suites
	case " $all_suites " in *" demo "*) distro_demo ;; esac
fi
distro_teardown() {
	ktap_check "unbind provider" guest_unbind "$P2PBUF_PROVIDER_BDF"
	ktap_check "unbind initiator" guest_unbind "$P2PBUF_INITIATOR_BDF"
	ktap_check "modprobe -r p2pbuf_importer p2pbuf_exporter" modprobe -r p2pbuf_importer p2pbuf_exporter
}
# An unbind that waits on a stuck task ends the boot (lab/guest/lib.sh).
guest_guarded "$(guest_suite_guard_seconds)" "teardown" distro_teardown
cat /proc/sys/kernel/tainted > "$R/tainted"
guest_log "done"
dmesg > "$R/dmesg.txt"
touch "$R/done"
