#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of the lab's igt run (see lab/igt.sh). Runs after the KTAP
# suites, with the modules loaded and the devices bound.
#
#   igt.sh RESULTS_DIR
#
# The Debian unstable root with igt ($P2PBUF_IGT_ROOTFS) is part of the
# host's root filesystem, which the guest sees read-only over 9p; /proc,
# /sys (with debugfs and tracefs), /dev and /tmp (with the results share)
# are bind-mounted into it and igt_runner runs chrooted there. The test
# root is assembled in /tmp/igt/root: our suites behind igt_adapter, plus
# igt's own vgem/dma-buf tests. igt_runner writes RESULTS_DIR/igt, its
# output goes to RESULTS_DIR/igt-runner.log, its exit status to
# RESULTS_DIR/igt-runner.rc; the host turns results.json into KTAP.
#
# Environment (from the host, lab/vm.sh): P2PBUF_IGT_ROOTFS, P2PBUF_IGT_SUITES
# (our suites), P2PBUF_IGT_TESTS (igt's tests), P2PBUF_IGT_ARGS (extra
# igt_runner options, e.g. -x filters), P2PBUF_IGT_TEST_TIMEOUT,
# P2PBUF_IGT_TIMEOUT (whole run), P2PBUF_IGT_LEAK_CYCLES (leak_test's cycles
# under igt, default 1000: the KTAP run has done the topology's full count).
R=$1
rootfs=$P2PBUF_IGT_ROOTFS
work=/tmp/igt

log() { echo "p2pbuf-lab: igt: $*" > /dev/kmsg; }

if [ ! -x "$rootfs/usr/bin/igt_runner" ]; then
	echo "igt rootfs $rootfs has no igt_runner" > "$R/igt-runner.log"
	echo 1 > "$R/igt-runner.rc"
	exit 1
fi
mkdir -p "$work"
# shellcheck disable=SC2086
if ! bash "$P2PBUF_TOP/selftests/igt-testroot.sh" "$P2PBUF_STDIR" "$work/root" \
	$P2PBUF_IGT_SUITES -- $P2PBUF_IGT_TESTS > "$R/igt-runner.log" 2>&1; then
	echo 1 > "$R/igt-runner.rc"
	exit 1
fi
cp "$work/root/test-list.txt" "$R/igt-test-list.txt"

# tracefs where igt expects it: else debugfs' automount logs a KERN_WARNING
# notice that igt's dmesg monitor turns into a dmesg-warn.
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
mounted=()
for d in proc sys dev tmp; do
	mount --rbind "/$d" "$rootfs/$d" && mount --make-rslave "$rootfs/$d" && mounted+=("$rootfs/$d")
done

log "igt_runner start ($(tr '\n' ' ' < "$work/root/test-list.txt"))"
t0=$(date +%s)
# igt_runner exits 0 even when tests fail: the verdict is results.json.
# shellcheck disable=SC2086
# The KTAP run already stressed the pair: under igt, race_test and
# fuzz_test check the protocol with short runs (P2PBUF_IGT_RACE_ITERS,
# P2PBUF_IGT_RACE_UNBINDS, P2PBUF_IGT_FUZZ_CALLS).
timeout -k 10 "${P2PBUF_IGT_TIMEOUT:-1200}" chroot "$rootfs" /usr/bin/env \
	HOME=/tmp PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	P2PBUF_LEAK_CYCLES="${P2PBUF_IGT_LEAK_CYCLES:-1000}" \
	P2PBUF_RACE_ITERS="${P2PBUF_IGT_RACE_ITERS:-100}" \
	P2PBUF_RACE_UNBINDS="${P2PBUF_IGT_RACE_UNBINDS:-3}" \
	P2PBUF_FUZZ_CALLS="${P2PBUF_IGT_FUZZ_CALLS:-500}" \
	P2PBUF_IGT_SUBTESTS="${P2PBUF_IGT_SUBTESTS:-}" \
	igt_runner -o \
	--per-test-timeout "${P2PBUF_IGT_TEST_TIMEOUT:-180}" \
	--dmesg-warn-level 4 \
	--abort-on-monitored-error=taint,lockdep \
	${P2PBUF_IGT_ARGS:-} \
	"$work/root" /tmp/results/igt >> "$R/igt-runner.log" 2>&1
rc=$?
echo "$rc" > "$R/igt-runner.rc"
# Killed (lab timeout): igt_results writes results.json from what ran,
# unfinished subtests as incomplete and the rest notrun.
if [ ! -f /tmp/results/igt/results.json ] && [ -d /tmp/results/igt ]; then
	chroot "$rootfs" /usr/bin/igt_results /tmp/results/igt >> "$R/igt-runner.log" 2>&1
fi
echo "$(($(date +%s) - t0))" > "$R/igt-seconds"
log "igt_runner exit $rc after $(cat "$R/igt-seconds") s"

for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
	umount -R "${mounted[i]}" || umount -R -l "${mounted[i]}"
done
exit 0
