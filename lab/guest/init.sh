#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the lab guest. The root filesystem is the host's, read-only over
# virtio-9p; /tmp/results is the host's writable results directory. Mounts
# what is needed, loads the modules, binds the devices, runs the suites as
# KTAP, triggers a kmemleak scan, and powers off.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=${TERM:-linux}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /tmp/results
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /tmp/results
R=/tmp/results
# Seconds from kernel start to here: the boot's share of the time.
read -r up _ < /proc/uptime
echo "${up%.*}" > "$R/init-seconds"
# shellcheck source=/dev/null
. "$R/env.sh"
# shellcheck source=lab/guest/lib.sh
. "$P2PBUF_TOP/lab/guest/lib.sh"

trap guest_power_off EXIT
# The last guard (lab/guest/lib.sh): a boot still running 90 s before the
# host's timeout is stuck somewhere no step's own guard saw.
if [ "$P2PBUF_JOB" != shell ] && [ "${P2PBUF_BOOT_TIMEOUT:-0}" -gt 180 ]; then
	guest_timer $((P2PBUF_BOOT_TIMEOUT - 90)) "boot, 90 s before the host's ${P2PBUF_BOOT_TIMEOUT} s timeout"
fi

case "$P2PBUF_JOB" in
check)
	guest_job_check
	;;
shell)
	guest_setup || true
	echo "p2pbuf lab shell: topology $P2PBUF_TOPOLOGY (expect $P2PBUF_EXPECT_MAP)"
	echo "  provider $P2PBUF_PROVIDER_BDF, initiator $P2PBUF_INITIATOR_BDF, vfio $P2PBUF_VFIO_BDF"
	echo "  tests in $P2PBUF_STDIR; results dir $R; exit the shell to power off"
	cd /tmp && setsid -c bash -i < /dev/ttyS0 > /dev/ttyS0 2>&1
	;;
harness-selftest)
	guest_job_check
	;;
detect)
	guest_job_detect
	;;
demo)
	"$P2PBUF_TOP/lab/demo.sh" guest
	;;
bench)
	"$P2PBUF_TOP/lab/bench.sh" guest
	;;
*)
	echo "p2pbuf-lab: unknown job '$P2PBUF_JOB'"
	;;
esac
touch "$R/done"
