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
# igt's own vgem/dma-buf tests. igt_runner runs twice (below) and writes
# RESULTS_DIR/igt and RESULTS_DIR/igt-own; its output goes to
# RESULTS_DIR/igt-runner.log, each pass's exit status to a line "PASS
# STATUS" of RESULTS_DIR/igt-runner.rc; the host turns both results.json
# into KTAP (lab/igt-results.py).
#
# Environment (from the host, lab/vm.sh): P2PBUF_IGT_ROOTFS, P2PBUF_IGT_SUITES
# (our suites), P2PBUF_IGT_TESTS (igt's tests), P2PBUF_IGT_ARGS (extra
# igt_runner options, e.g. -x filters), P2PBUF_IGT_TEST_TIMEOUT,
# P2PBUF_IGT_TIMEOUT (whole run), P2PBUF_IGT_LEAK_CYCLES (leak_test's cycles
# under igt, default 1000: the KTAP run has done the topology's full count),
# P2PBUF_IGT_MULTIPLE (1, the default: igt_runner's --multiple-mode, one
# execution of each binary for all its subtests; 0: one execution per
# subtest).
R=$1
rootfs=$P2PBUF_IGT_ROOTFS
work=/tmp/igt

log() { echo "p2pbuf-lab: igt: $*" > /dev/kmsg; }

if [ ! -x "$rootfs/usr/bin/igt_runner" ]; then
	echo "igt rootfs $rootfs has no igt_runner" > "$R/igt-runner.log"
	echo "setup 1" > "$R/igt-runner.rc"
	exit 1
fi
mkdir -p "$work"
# shellcheck disable=SC2086
if ! bash "$P2PBUF_TOP/selftests/igt-testroot.sh" "$P2PBUF_STDIR" "$work/root" \
	$P2PBUF_IGT_SUITES -- $P2PBUF_IGT_TESTS > "$R/igt-runner.log" 2>&1; then
	echo "setup 1" > "$R/igt-runner.rc"
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

# Two igt_runner passes over the same test root. Our suites (igt-<suite>,
# igt_adapter) run in --multiple-mode: one execution of each binary for all
# its subtests instead of one per subtest. Under TCG every execution costs
# about a second of igt_runner's work and the dynamic loader's over the 9p
# root; this pass went from 34 executions to 18 (docs/lab.rst has the
# measured figures). igt's own tests run one execution per subtest, as
# igt's CI runs them: in --multiple-mode igt_runner (igt 2.x) splits a
# libigt binary's stderr at the wrong offsets and reports a passing subtest
# as "warn". Each pass writes its own results directory, igt/ and igt-own/
# (lab/igt-results.py reads both). P2PBUF_IGT_MULTIPLE=0 runs our suites
# one execution per subtest too.
multiple=--multiple-mode
[ "${P2PBUF_IGT_MULTIPLE:-1}" = 0 ] && multiple=
# The binaries are those of the test root's list (selftests/igt-testroot.sh
# decides them): ours are igt-<suite>, the rest igt's own.
ours=() own=()
while read -r -a words; do
	for b in "${words[@]}"; do
		case "$b" in
		TESTLIST | END) ;;
		igt-*) ours+=("igt@$b") ;;
		*) own+=("igt@$b") ;;
		esac
	done
done < "$work/root/test-list.txt"
rm -rf /tmp/results/igt /tmp/results/igt-own
: > "$R/igt-runner.rc"
log "igt_runner start, two passes ($(tr '\n' ' ' < "$work/root/test-list.txt"))"
t0=$(date +%s)
total=${P2PBUF_IGT_TIMEOUT:-1200}
# igt_pass NAME RESULTS_DIR SECONDS [OPTION...] -- TEST...: one igt_runner
# run of TESTS (igt@<binary> lines of a --test-list) into
# /tmp/results/RESULTS_DIR, killed SECONDS after the first pass started
# (at least 60 s from now; then 10 s of grace and igt_results to write
# results.json from what ran); its exit status is the line "NAME
# STATUS" of igt-runner.rc. igt_runner exits 0 even when tests fail: the
# verdict is results.json. The KTAP run already stressed the pair: under
# igt, race_test and fuzz_test check the protocol with short runs
# (P2PBUF_IGT_RACE_ITERS, P2PBUF_IGT_RACE_UNBINDS, P2PBUF_IGT_FUZZ_CALLS).
igt_pass() {
	local name=$1 dir=$2 left prc=0 opts=()
	left=$(($3 - ($(date +%s) - t0)))
	shift 3
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] || return 0
	printf '%s\n' "$@" > "$work/$name.list"
	[ "$left" -gt 60 ] || left=60
	echo "igt: pass $name (${left} s): ${opts[*]} $*" >> "$R/igt-runner.log"
	# shellcheck disable=SC2086 # P2PBUF_IGT_ARGS holds several options
	timeout -k 10 "$left" chroot "$rootfs" /usr/bin/env \
		HOME=/tmp PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		P2PBUF_LEAK_CYCLES="${P2PBUF_IGT_LEAK_CYCLES:-1000}" \
		P2PBUF_RACE_ITERS="${P2PBUF_IGT_RACE_ITERS:-100}" \
		P2PBUF_RACE_UNBINDS="${P2PBUF_IGT_RACE_UNBINDS:-3}" \
		P2PBUF_FUZZ_CALLS="${P2PBUF_IGT_FUZZ_CALLS:-500}" \
		P2PBUF_IGT_SUBTESTS="${P2PBUF_IGT_SUBTESTS:-}" \
		igt_runner -o "${opts[@]}" --test-list "$work/$name.list" \
		--per-test-timeout "${P2PBUF_IGT_TEST_TIMEOUT:-180}" \
		--dmesg-warn-level 4 \
		--abort-on-monitored-error=taint,lockdep \
		${P2PBUF_IGT_ARGS:-} \
		"$work/root" "/tmp/results/$dir" >> "$R/igt-runner.log" 2>&1 || prc=$?
	# Killed (lab timeout): igt_results writes results.json from what
	# ran, unfinished subtests as incomplete and the rest notrun.
	if [ ! -f "/tmp/results/$dir/results.json" ] && [ -d "/tmp/results/$dir" ]; then
		chroot "$rootfs" /usr/bin/igt_results "/tmp/results/$dir" >> "$R/igt-runner.log" 2>&1
	fi
	echo "$name $prc" >> "$R/igt-runner.rc"
}
# Our pass leaves a quarter of the budget to igt's own tests (they take
# about a minute), so a hang in ours cannot starve them.
reserve=0
[ ${#own[@]} -eq 0 ] || reserve=$((total / 4))
igt_pass ours igt $((total - reserve)) ${multiple:+"$multiple"} -- "${ours[@]}"
igt_pass own igt-own "$total" -- "${own[@]}"
echo "$(($(date +%s) - t0))" > "$R/igt-seconds"
log "igt_runner exit status $(tr '\n' ' ' < "$R/igt-runner.rc")after $(cat "$R/igt-seconds") s"

for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
	umount -R "${mounted[i]}" || umount -R -l "${mounted[i]}"
done
exit 0
