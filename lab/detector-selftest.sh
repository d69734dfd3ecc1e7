#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Detector self-test: every class of kernel report the lab detects must fail
# a run, named by lab/summary.py. KTAP on stdout, one line per class.
#
#   detector-selftest.sh [KOBJ]
#
# First lab/detectors.py --check (every pattern against its sample line, and
# every format string it was written against found in the kernel source),
# then boots of the switch topology with
# lab/selftest-module/p2pbuf_lab_detect.ko loaded, in which
# selftests/detector_probe asks it to provoke the reports listed in
# P2PBUF_DETECT. Classes share a boot where they can: lockdep switches
# itself off after its first report, so each of its six reports takes a
# boot of its own (detect-a to detect-f); kmemleak must be on for the
# planted leak, so it is switched off in detect-b; DMA-API debug is
# switched off in that boot by dma_debug=off. detect-c also proves that a
# p2pbuf revoke past its bound fails the run, detect-d and detect-e end
# with a step stuck in the kernel (the guest's reaper and guard,
# lab/guest/lib.sh), and detect-f ends in a panic.
# detect-a and detect-c boot as a topology's check does; b, d, e and f,
# whose reports need neither p2pbuf's modules nor a kmemleak scan, load only
# the module and run the probe (vm.sh's job "detect").
# Each boot's results are judged by lab/summary.py like any topology's and
# must fail, naming each provoked class; the boots' logs stay in
# $P2PBUF_RESULTS/detectors/<boot>/ (default: results/detectors). The boots
# run three at a time (a, b, c, then d, e, f) unless P2PBUF_PARALLEL=1.
#
# make check runs this as the host suite "detectors" (lab/check.sh;
# P2PBUF_DETECTORS=0 skips it); make lab-selftest runs it alone. Uses KOBJ
# (or its argument), P2PBUF_MODDIR and P2PBUF_STDIR when set (check.sh's
# lab_prepare), else prepares the lab itself.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

KOBJ=${1:-${KOBJ:-}}
if [ -z "$KOBJ" ] || [ -z "${P2PBUF_MODDIR:-}" ] || [ -z "${P2PBUF_STDIR:-}" ]; then
	lab_prepare > /dev/null
fi
modout=${P2PBUF_BUILD_DIR:-${P2PBUF_BUILD:-$P2PBUF_TOP/build}}/lab-detect
res=${P2PBUF_RESULTS:-$P2PBUF_TOP/results}/detectors
mkdir -p "$modout" "$res"
res=$(cd "$res" && pwd)

LAB_KTAP_LOG=$res/step.log

# The requests of each boot, in order, and its extra command line.
BOOT_A="lockdep_unlock warn atomic_sleep ubsan kasan dma leak oops"
BOOT_B="lockdep_freed hung stall exp_stall tasks_stall kmemleak_off"
APPEND_B="dma_debug=off"
# Boot C runs revoke_bound_canary first, then the third lockdep report
# (lockdep reports once a boot).
BOOT_C="lockdep_exit_held"
SUITES_C="revoke_bound_canary detector_probe"
# Lockdep's irq lock orders and its nest_lock check, a boot each; the last
# one ends the boot in a panic. The guest's two ends of a stuck step
# (lab/guest/lib.sh) end D and E: D's probe then sleeps for good, which the
# reaper finds after the suite's timeout (short here: 25 s, with 5 s of
# grace; the task's 35 s in D stay under the lab's 60 s hung-task timeout);
# E's job then writes "stuck" itself, under a 15 s guard.
BOOT_D="lockdep_safe_unsafe stuck"
VARS_D="P2PBUF_SUITE_TIMEOUT=25 P2PBUF_STUCK_GRACE=5"
BOOT_E="lockdep_irq_inversion"
VARS_E="P2PBUF_DETECT_GUARD=15"
BOOT_F="lockdep_nest panic"

# boot NAME APPEND REQUESTS [SUITE] [JOB] [VARS]: one boot (VARS: NAME=VALUE
# words for vm.sh: boot D's short suite timeout, boot E's guard); summary.py's verdict in
# NAME/summary.txt and its exit status in NAME/summary.rc. JOB "check" (the
# default) boots as a topology's check does: p2pbuf's modules bound,
# kmemleak scanned at the start and the end (boot A's planted leak is found
# by the closing scan; boot C's canary needs the exporter); "detect" loads
# only the provoking module and runs the probe (lab/guest/lib.sh,
# guest_job_detect), for the boots whose reports are in the kernel log and
# the end-of-boot state alone.
boot() {
	local name=$1 append=$2 reqs=$3 suite=${4:-detector_probe} job=${5:-check} rc=0
	local vars=()
	read -ra vars <<< "${6:-}"
	rm -rf "${res:?}/$name"
	lab_log "detectors: boot $name ($job): $suite $reqs${append:+ ($append)}"
	P2PBUF_SUITES=$suite P2PBUF_DETECT=$reqs P2PBUF_APPEND=$append \
		P2PBUF_EXTRA_MODULES=$modout/p2pbuf_lab_detect.ko P2PBUF_BOOT_TIMEOUT=${P2PBUF_DETECT_TIMEOUT:-900} \
		env "${vars[@]}" "$P2PBUF_TOP/lab/vm.sh" switch "$job" "$res/$name" >&2 || rc=$?
	[ "$rc" -eq 0 ] || echo "guest did not finish (status $rc)" > "$res/$name/boot-failed"
	rc=0
	# shellcheck disable=SC2086 # SUITE may name more than one
	python3 "$P2PBUF_TOP/lab/summary.py" "$res" "$name" -- $suite \
		> "$res/$name/summary.txt" 2>&1 || rc=$?
	echo "$rc" > "$res/$name/summary.rc"
	lab_log "detectors: boot $name: $(cat "$res/$name/boot-seconds" 2> /dev/null) s"
}

# The summary's FAIL lines (and excerpts) of class CLASS in boot BOOT.
fail_block() { # BOOT CLASS
	awk -v b="$1: " -v p="$1: FAIL: $2" '
		index($0, b) == 1 { on = index($0, p " (") == 1 || index($0, p ": ") == 1 }
		on' "$res/$1/summary.txt"
}

# fails BOOT CLASS [EVIDENCE...]: the boot's run failed, the summary names
# CLASS, and its report (or end-of-boot line) contains every EVIDENCE (EREs).
fails() {
	local b=$1 cls=$2 ev
	shift 2
	if [ "$(cat "$res/$b/summary.rc" 2> /dev/null)" = 0 ]; then
		echo "the run of boot $b passed"
		return 1
	fi
	if ! fail_block "$b" "$cls" | grep -q .; then
		echo "summary.py of boot $b does not name \"$cls\"; it says:"
		grep ': FAIL: ' "$res/$b/summary.txt"
		return 1
	fi
	for ev in "$@"; do
		if ! fail_block "$b" "$cls" | grep -Eq -- "$ev"; then
			echo "\"$cls\" in boot $b, but without /$ev/:"
			fail_block "$b" "$cls"
			return 1
		fi
	done
	fail_block "$b" "$cls" | head -n 3
}

# probe_ok BOOT NAME: detector_probe's own check NAME passed in that boot.
probe_ok() {
	grep -E "^(not )?ok [0-9]+ $2" "$res/$1/detector_probe.ktap" 2> /dev/null
	grep -Eq "^ok [0-9]+ $2" "$res/$1/detector_probe.ktap" 2> /dev/null
}

ktap_step "patterns: each classifies its sample line, each format string is in the kernel source" \
	python3 "$P2PBUF_TOP/lab/detectors.py" --check "$(readlink -f "$KOBJ/source")"

build_module() {
	make -s -C "$KOBJ" M="$P2PBUF_TOP/lab/selftest-module" MO="$modout" W=1 modules 2>&1 |
		tee "$res/module-build.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] && ! grep -qE 'warning:|error:' "$res/module-build.log"
}
ktap_step "p2pbuf_lab_detect.ko builds (W=1)" build_module
if [[ ${LAB_KTAP[-1]} == not* ]]; then
	ktap_finish
	exit 1
fi

t0=$(date +%s)
# Boot C: selftests/revoke_bound_canary holds a mapping past the exporter's
# revoke_bound_ms with the lab's slow importer (docs/revoke.rst).
if [ "${P2PBUF_PARALLEL:-2}" -ge 2 ]; then
	boot detect-a "" "$BOOT_A" &
	boot detect-c "" "$BOOT_C" "$SUITES_C" &
	boot detect-b "$APPEND_B" "$BOOT_B" detector_probe detect
	wait
	# Short boots: one lockdep report each, D and E then a stuck step.
	boot detect-d "" "$BOOT_D" detector_probe detect "$VARS_D" &
	boot detect-e "" "$BOOT_E" detector_probe detect "$VARS_E" &
	boot detect-f "" "$BOOT_F" detector_probe detect
	wait
else
	boot detect-a "" "$BOOT_A"
	boot detect-b "$APPEND_B" "$BOOT_B" detector_probe detect
	boot detect-c "" "$BOOT_C" "$SUITES_C"
	boot detect-d "" "$BOOT_D" detector_probe detect "$VARS_D"
	boot detect-e "" "$BOOT_E" detector_probe detect "$VARS_E"
	boot detect-f "" "$BOOT_F" detector_probe detect
fi
lab_log "detectors: boots took $(($(date +%s) - t0)) s"

A=detect-a
B=detect-b
ktap_step "lockdep bad unlock balance fails the run" fails $A "lockdep report" "bad unlock balance"
ktap_step "lockdep held lock freed fails the run" fails $B "lockdep report" "held lock freed"
ktap_step "lockdep lock held at thread exit fails the run" \
	fails detect-c "lockdep report" "still has locks held"
# The module's own locks in the report: this report, not any of its kind.
ktap_step "lockdep irq-safe -> irq-unsafe lock order fails the run" \
	fails detect-d "lockdep report" "HARDIRQ-safe -> HARDIRQ-unsafe lock order detected" \
	"\(p2pbuf_lab_irq_lock\)\S* -> \(p2pbuf_lab_task_lock\)"
ktap_step "lockdep irq lock inversion fails the run" \
	fails detect-e "lockdep report" "possible irq lock inversion dependency detected" \
	"\(p2pbuf_lab_irq_lock\).*p2pbuf_lab_irq_fn" "\(p2pbuf_lab_task_lock\)"
ktap_step "lockdep nested lock not taken fails the run" \
	fails detect-f "lockdep report" "Nested lock was not taken" \
	"\(p2pbuf_lab_nest_child\)" "p2pbuf_lab_nest_parent"
# A stuck step: the guest, not the host's boot timeout, ends the boot,
# naming the step and showing the stuck task's stack. D: the probe outlives
# its timeout and SIGKILL (the reaper); E: a write blocks the guest's own
# script (the guard).
ktap_step "a suite stuck in uninterruptible sleep fails the run" \
	fails detect-d "guest stuck" "suite detector_probe: thread\(s\) [0-9/:D ]+ still alive" \
	"state:D" "p2pbuf_lab_provoke_write"
ktap_step "a step of the guest's own stuck in the kernel fails the run" \
	fails detect-e "guest stuck" "detect: a write that never returns: 15 s without returning" \
	"state:D" "p2pbuf_lab_provoke_write"
guest_ended() { # BOOT
	local why
	why=$(cat "$res/$1/boot-failed" 2> /dev/null) || { echo "boot $1 finished"; return 1; }
	echo "boot $1: $why after $(cat "$res/$1/boot-seconds") s"
	[ "$why" = "guest did not finish (status 1)" ]
}
ktap_step "the guest, not the host's timeout, ends a stuck boot (suite)" guest_ended detect-d
ktap_step "the guest, not the host's timeout, ends a stuck boot (own step)" guest_ended detect-e
ktap_step "kernel panic fails the run" \
	fails detect-f "kernel panic" "Kernel panic - not syncing: p2pbuf lab detector self-test: deliberate panic"
ktap_step "lockdep switched off (end of boot) fails the run" \
	fails $A "lockdep switched off" "debug_locks = 0.*why: WARNING: bad unlock balance"
ktap_step "kernel WARNING fails the run" fails $A "kernel WARNING" "deliberate warning"
ktap_step "taint W (end of boot) fails the run" fails $A "kernel tainted" "W \(warning\)"
ktap_step "kernel BUG (sleeping in atomic context) fails the run" \
	fails $A "kernel BUG" "sleeping function called from invalid context"
ktap_step "UBSAN array index out of bounds fails the run" \
	fails $A "UBSAN report" "array-index-out-of-bounds in .*p2pbuf_lab_detect\.c"
ktap_step "KASAN out-of-bounds fails the run" \
	fails $A "KASAN report" "slab-out-of-bounds in p2pbuf_lab_.*\\[p2pbuf_lab_detect\\]"
ktap_step "DMA-API misuse (unmap with the wrong size) fails the run" \
	fails $A "DMA-API debug error" "different size"
ktap_step "kmemleak planted leak fails the run" \
	fails $A "kmemleak suspected leak" "p2pbuf_lab_leak_fn"
ktap_step "kmemleak helper p2pbuf_kmemleak_in_modules() finds the planted leak" \
	probe_ok $A "leak: p2pbuf_kmemleak_in_modules\(\) finds the planted object"
ktap_step "kmemleak helper p2pbuf_kmemleak_ours() leaves it out" \
	probe_ok $A "leak: p2pbuf_kmemleak_ours\(\) does not count it"
ktap_step "Oops fails the run" fails $A "Oops" "p2pbuf_lab_oops"
ktap_step "hung task fails the run" fails $B "hung task" "p2pbuf_lab_(hold|wait)"
ktap_step "hung task blocker line is named" fails $B "hung task" "\(.*blocker"
ktap_step "hung task in I/O wait is named" fails $B "hung task" "blocked in I/O wait for more than"
ktap_step "RCU stall fails the run" fails $B "RCU stall"
ktap_step "RCU expedited stall is named" fails $B "RCU stall" "expedited stall"
ktap_step "RCU tasks stall is named" fails $B "RCU stall" "RCU tasks"
ktap_step "soft lockup fails the run" fails $B "soft lockup" "p2pbuf_lab_spin"
ktap_step "soft lockup count (end of boot) fails the run" fails $B "soft lockup" "softlockup_count = [1-9]"
ktap_step "DMA-API debug switched off (end of boot) fails the run" \
	fails $B "DMA-API debug switched off" "disabled = Y.*disabled on kernel command line"
ktap_step "kmemleak switched off (end of boot) fails the run" \
	fails $B "kmemleak switched off" "kmemleak is off.*detector disabled"
ktap_step "p2pbuf revoke past its bound fails the run, though it completes" \
	fails detect-c "p2pbuf revoke over its bound" "revoke exceeded its bound of"
canary_ok() {
	grep -E "^(not )?ok [0-9]+ canary.revoke_past_bound" "$res/detect-c/revoke_bound_canary.ktap" 2> /dev/null
	grep -Eq "^ok [0-9]+ canary.revoke_past_bound" "$res/detect-c/revoke_bound_canary.ktap" 2> /dev/null
}
ktap_step "revoke_bound_canary's revoke completed after the hold" canary_ok
ktap_finish
