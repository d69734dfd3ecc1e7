# SPDX-License-Identifier: GPL-2.0
# Guest-side functions for lab/guest/init.sh. Sourced inside the guest.

KTAP_N=0
KTAP_FILE=

# A line in the kernel log and on the console, so both carry the lab's steps.
guest_log() {
	echo "p2pbuf-lab: $*" > /dev/kmsg
}

ktap_begin() {
	KTAP_FILE=$1
	KTAP_N=0
	echo "TAP version 13" > "$KTAP_FILE"
	echo "1..$2" >> "$KTAP_FILE"
}

# ktap_check NAME COMMAND...: one test line from a command's exit status.
ktap_check() {
	local name=$1 out
	shift
	KTAP_N=$((KTAP_N + 1))
	guest_log "check: $name"
	if out=$("$@" 2>&1); then
		echo "ok $KTAP_N $name" >> "$KTAP_FILE"
	else
		echo "not ok $KTAP_N $name" >> "$KTAP_FILE"
		printf '# %s\n' "$out" >> "$KTAP_FILE"
	fi
}

ktap_skip() {
	KTAP_N=$((KTAP_N + 1))
	echo "ok $KTAP_N $1 # SKIP $2" >> "$KTAP_FILE"
}

# First PCI device with vendor:device $1 other than $2.
guest_find_pci() {
	local d v p
	for d in /sys/bus/pci/devices/*; do
		read -r v < "$d/vendor"
		read -r p < "$d/device"
		[ "$v:$p" = "$1" ] || continue
		[ "${d##*/}" = "${2:-}" ] && continue
		echo "${d##*/}"
		return 0
	done
	return 1
}

guest_bind() { # BDF DRIVER
	local dev=/sys/bus/pci/devices/$1
	[ -e "$dev/driver" ] && echo "$1" > "$dev/driver/unbind"
	echo "$2" > "$dev/driver_override" && echo "$1" > /sys/bus/pci/drivers_probe &&
		[ "$(basename "$(readlink "$dev/driver")")" = "$2" ]
}

guest_unbind() { # BDF
	local dev=/sys/bus/pci/devices/$1
	[ -e "$dev/driver" ] && echo "$1" > "$dev/driver/unbind"
	echo > "$dev/driver_override"
	[ ! -e "$dev/driver" ]
}

# Load MODULE with ids=ID, expect it to bind BDF by id (driver_override is
# clear), then unbind whatever it bound and unload it.
guest_ids_bind() { # MODULE ID BDF
	local d ok=0
	insmod "$(guest_module_path "$1")" ids="$2" || return 1
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$3/driver")")" = "$1" ] || ok=1
	for d in /sys/bus/pci/drivers/"$1"/0000:*; do
		[ -e "$d" ] && echo "${d##*/}" > "/sys/bus/pci/drivers/$1/unbind"
	done
	rmmod "$1" || ok=1
	return $ok
}

guest_insmod() { # MODULE-NAME [PARAM=VALUE...]
	local m=$1
	shift
	insmod "$(guest_module_path "$m")" "$@"
}

guest_module_path() {
	find "$P2PBUF_MODDIR" -name "$1.ko" | head -n 1
}

guest_dev_node() { # PREFIX BDF
	[ -c "/dev/$1-$2" ]
}

# Find devices, load modules, bind; record each step as KTAP in lab.ktap.
guest_setup() {
	P2PBUF_PROVIDER_BDF=$(guest_find_pci 0x1af4:0x1110 "$P2PBUF_VFIO_BDF")
	P2PBUF_INITIATOR_BDF=$(guest_find_pci 0x1234:0x11e8)
	export P2PBUF_PROVIDER_BDF P2PBUF_INITIATOR_BDF
	ktap_begin "$R/lab.ktap" 14
	ktap_check "topology: provider ivshmem present ($P2PBUF_PROVIDER_BDF)" test -n "$P2PBUF_PROVIDER_BDF"
	ktap_check "topology: initiator edu present ($P2PBUF_INITIATOR_BDF)" test -n "$P2PBUF_INITIATOR_BDF"
	ktap_check "topology: vfio ivshmem present ($P2PBUF_VFIO_BDF)" test -e "/sys/bus/pci/devices/$P2PBUF_VFIO_BDF"
	ktap_check "insmod p2pbuf_exporter" guest_insmod p2pbuf_exporter
	# The edu's reach as QEMU was told (lab/topologies.sh, P2PBUF_EDU_STOCK).
	ktap_check "insmod p2pbuf_importer" guest_insmod p2pbuf_importer \
		edu_dma_bits="${P2PBUF_EDU_DMA_BITS:-64}"
	ktap_check "bind provider to p2pbuf_exporter" guest_bind "$P2PBUF_PROVIDER_BDF" p2pbuf_exporter
	ktap_check "bind initiator to p2pbuf_importer" guest_bind "$P2PBUF_INITIATOR_BDF" p2pbuf_importer
	# The lab's test exporter (lab/test-modules/p2pbuf_labexp): the lab
	# guarantees it, and its tests fail in the lab when it is missing.
	ktap_check "insmod p2pbuf_labexp" guest_insmod p2pbuf_labexp
	for m in $P2PBUF_EXTRA_MODULES; do
		insmod "$m" || echo "p2pbuf-lab: insmod $m failed"
	done
}

guest_teardown() {
	ktap_check "unbind provider" guest_unbind "$P2PBUF_PROVIDER_BDF"
	ktap_check "unbind initiator" guest_unbind "$P2PBUF_INITIATOR_BDF"
	ktap_check "rmmod p2pbuf_importer" rmmod p2pbuf_importer
	ktap_check "rmmod p2pbuf_exporter" rmmod p2pbuf_exporter
	ktap_check "ids=1af4:1110: p2pbuf_exporter binds the provider by id" \
		guest_ids_bind p2pbuf_exporter 1af4:1110 "$P2PBUF_PROVIDER_BDF"
	ktap_check "ids=1234:11e8: p2pbuf_importer binds the initiator by id" \
		guest_ids_bind p2pbuf_importer 1234:11e8 "$P2PBUF_INITIATOR_BDF"
	if [ -e /sys/kernel/debug/kmemleak ]; then
		# Objects must be older than ~5 s to be reported: scan twice.
		guest_log "kmemleak: scanning"
		echo scan > /sys/kernel/debug/kmemleak
		sleep 6
		echo scan > /sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak > "$R/kmemleak.txt"
		# The host's summary judges each reported object (lab/summary.py).
		guest_log "kmemleak: scanned, $(grep -c '^unreferenced object' "$R/kmemleak.txt") object(s)"
	fi
}

# A stuck step: a task that the kernel will not let die. A task in
# uninterruptible sleep outlives SIGKILL; timeout(1) then kills itself and
# the next suite starts beside it, only to time out on the locks it holds,
# and the teardown's unbind blocks for good: the boot would run into the
# host's timeout with every later suite lost and no word of where it hung.
# Two mechanisms catch it (docs/lab.rst, "the guest's stuck steps"):
#  - the reaper: each suite and the igt run are a session of their own;
#    what a step leaves behind is killed and must be gone within
#    P2PBUF_STUCK_GRACE seconds (default 55);
#  - the guard: a timer over a step that could block this script itself
#    (setup and teardown write to sysfs; a suite, in case the reaper's own
#    reads of /proc block), and one over the whole boot, 90 s (from init;
#    about 65 s from QEMU's start) before the host's timeout (init.sh).
# guest_stuck then ends the boot at once: the line "p2pbuf-lab: stuck:
# WHAT" (lab/summary.py fails the boot with it and the blocked tasks), the
# blocked tasks' stacks (sysrq w) on the console and in dmesg-stuck.txt,
# then an immediate reboot (sysrq b), which QEMU's -no-reboot turns into its
# exit. Not a power-off: a device's shutdown could wait on the stuck task.
guest_stuck() { # WHAT
	# Once: a reaper and a guard may both find the same step stuck; the
	# second waits for the first one's reboot.
	if ! mkdir /run/p2pbuf-stuck 2> /dev/null; then
		sleep 60
		return 1
	fi
	# /dev/kmsg takes a line of at most 1024 bytes.
	guest_log "stuck: ${1:0:900}"
	# The dump is at KERN_INFO, under the lab's console level.
	echo 7 > /proc/sys/kernel/printk
	echo w > /proc/sysrq-trigger
	# A copy of the kernel log for the host, in the background: a write to
	# the results share must not hold up the reboot.
	dmesg > "$R/dmesg-stuck.txt" &
	sleep 2
	echo b > /proc/sysrq-trigger
}

# guest_session_tasks SID: "TGID/TID:STATE" of the live threads of session
# SID. Per thread: a killed process whose main thread has exited shows its
# leader as a zombie while another thread may still sleep in the kernel.
# Only stat is read: cmdline or environ would take the task's mm lock, which
# a stuck task may hold (stat takes exec_update_lock, held only across an
# exec: the guard covers that).
guest_session_tasks() {
	local f line sid=$1 out='' tgid
	for f in /proc/[0-9]*/task/[0-9]*/stat; do
		read -r line 2> /dev/null < "$f" || continue
		# After the command's ")": state ppid pgrp session ...
		# shellcheck disable=SC2086 # split into the fields on purpose
		set -- ${line##*) }
		if [ "$4" != "$sid" ] || [ "$1" = Z ] || [ "$1" = X ]; then
			continue
		fi
		tgid=${f#/proc/}
		out="$out${out:+ }${tgid%%/*}/${line%% *}:$1"
	done
	echo "$out"
}

# guest_reap_session SID WHAT: kill what a step run as session SID left
# behind, again on every round (a process may fork before it dies), and
# give it P2PBUF_STUCK_GRACE seconds (default 55) to go; a thread still
# there then is stuck.
guest_reap_session() {
	local grace=${P2PBUF_STUCK_GRACE:-55} t0=$SECONDS tasks t
	tasks=$(guest_session_tasks "$1")
	[ -n "$tasks" ] || return 0
	guest_log "$2: killing what it left: ${tasks:0:800}"
	while [ -n "$tasks" ]; do
		if [ $((SECONDS - t0)) -ge "$grace" ]; then
			guest_stuck "$2: thread(s) $tasks still alive $grace s after SIGKILL"
			return 1
		fi
		for t in $tasks; do kill -9 "${t%%/*}" 2> /dev/null; done
		sleep 1
		tasks=$(guest_session_tasks "$1")
	done
}

# guest_session WHAT COMMAND...: COMMAND as a session of its own, then what
# it left reaped; its exit status. The session id is $!: in a shell without
# job control a background child is no process group leader, so setsid(1)
# calls setsid() without forking. timeout(1) and the harness make process
# groups, never sessions.
guest_session() {
	local what=$1 sid rc=0
	shift
	setsid -w "$@" &
	sid=$!
	wait "$sid" || rc=$?
	guest_reap_session "$sid" "$what"
	return "$rc"
}

# guest_timer SECONDS WHAT: in the background ($!), WHAT is stuck after
# SECONDS unless the timer is stopped (TERM) first. Once fired it ignores
# TERM, so a timer that has logged "stuck" always ends the boot.
guest_timer() {
	(
		# Stopped: its sleep goes too. Not the step's output: the step's
		# file is not held open by a timer's sleep.
		trap 'kill "$sleeper" 2> /dev/null; exit 0' TERM
		sleep "$1" &
		sleeper=$!
		wait "$sleeper"
		trap '' TERM
		guest_stuck "$2: $1 s without returning"
	) > /dev/null 2>&1 &
}

# The guard: a timer over one step at a time.
GUEST_GUARD=
guest_guard_start() { # SECONDS WHAT
	guest_timer "$1" "$2"
	GUEST_GUARD=$!
}

guest_guard_stop() {
	[ -n "$GUEST_GUARD" ] || return 0
	kill "$GUEST_GUARD" 2> /dev/null
	wait "$GUEST_GUARD" 2> /dev/null
	GUEST_GUARD=
}

# guest_guarded SECONDS WHAT COMMAND...: COMMAND under the guard.
guest_guarded() {
	local rc=0
	guest_guard_start "$1" "$2"
	shift 2
	"$@" || rc=$?
	guest_guard_stop
	return "$rc"
}

# A suite's time and then some: its timeout, timeout(1)'s 5 s to SIGKILL,
# the reaper's grace, 30 s for the reaper's own scans.
guest_suite_guard_seconds() {
	echo $((P2PBUF_SUITE_TIMEOUT + 5 + ${P2PBUF_STUCK_GRACE:-55} + 30))
}

# The guest's busy time in USER_HZ ticks, every vCPU (user, nice, system,
# irq and softirq of /proc/stat): an estimate of a suite's work, where its
# wall clock also counts its sleeps. It covers the whole guest (the lab's
# own steps too), is sampled per tick, and is closest to the host's CPU
# time for a boot with a core of its own (docs/lab.rst).
guest_cpu_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

guest_run_suites() {
	local s bin rc wd t0 c0
	for s in $P2PBUF_SUITES; do
		bin=$P2PBUF_STDIR/$s
		guest_log "suite $s: start"
		if [ ! -x "$bin" ]; then
			echo "p2pbuf-lab: suite $s: $bin missing" > "$R/$s.missing"
			continue
		fi
		# Shortly before the timeout, every task's stack goes to the
		# console: a hung suite shows where it hangs.
		(sleep $((P2PBUF_SUITE_TIMEOUT > 30 ? P2PBUF_SUITE_TIMEOUT - 15 : P2PBUF_SUITE_TIMEOUT)) &&
			guest_log "suite $s: about to time out; tasks:" &&
			echo t > /proc/sysrq-trigger) &
		wd=$!
		t0=$SECONDS
		c0=$(guest_cpu_ticks)
		rc=0
		(cd /tmp && guest_guarded "$(guest_suite_guard_seconds)" "suite $s" \
			guest_session "suite $s" timeout -k 5 "$P2PBUF_SUITE_TIMEOUT" "$bin") > "$R/$s.ktap" 2>&1 || rc=$?
		echo "$((SECONDS - t0))" > "$R/$s.seconds"
		echo "$((($(guest_cpu_ticks) - c0 + 50) / 100))" > "$R/$s.cpu"
		kill "$wd" 2> /dev/null
		echo "$rc" > "$R/$s.rc"
		guest_log "suite $s: exit $rc"
	done
}

# guest_power_off: the end of PID 1 (trap ... EXIT in init.sh and
# distro-init.sh). PID 1 must not exit (that panics): wait on a FIFO with a
# builtin while the power-off, which also tears down the 9p root, completes.
guest_power_off() {
	sync
	mkfifo /run/halt
	echo o > /proc/sysrq-trigger
	while :; do
		read -r -t 600 _ <> /run/halt
	done
}

# The end-of-boot state of the detectors that switch themselves off, for
# lab/summary.py (lab/detectors.py, end_of_boot()): lockdep after its first
# report or a taint ("debug_locks:" of /proc/lockdep_stats,
# kernel/locking/lockdep_proc.c), DMA-API debug on ENOMEM or dma_debug=off
# (dma-api/disabled and error_count, kernel/dma/debug.c), kmemleak on an
# internal error or "off" (kmemleak_write(), mm/kmemleak.c, refuses every
# command but "clear" with EPERM once it is off; "scan=off", which only stops
# the automatic scan thread the lab does not run, tells that without the
# cost of a scan), and the hung-task detector's count (kernel/hung_task.c),
# which goes on after its printed reports run out; the soft-lockup watchdog's
# count (kernel/watchdog.c), since sw_sync's fences also set the L taint; and
# the taint mask, which a report leaves behind even where its console lines
# were lost.
guest_detector_state() {
	local k v val d=/sys/kernel/debug/dma-api kmemleak=off
	{
		v=missing
		while read -r k val; do
			[ "$k" = debug_locks: ] && v=$val
		done < /proc/lockdep_stats
		echo "debug_locks $v"
		echo "dma_api_disabled $(cat "$d/disabled" 2> /dev/null || echo missing)"
		echo "dma_api_error_count $(cat "$d/error_count" 2> /dev/null || echo missing)"
		[ -e /sys/kernel/debug/kmemleak ] || kmemleak=missing
		echo scan=off 2> /dev/null > /sys/kernel/debug/kmemleak && kmemleak=on
		echo "kmemleak $kmemleak"
		echo "hung_task_detect_count $(cat /proc/sys/kernel/hung_task_detect_count)"
		echo "softlockup_count $(cat /sys/kernel/softlockup_count 2> /dev/null || echo missing)"
		echo "tainted $(cat /proc/sys/kernel/tainted)"
	} > "$R/detectors.txt" 2> /dev/null
	guest_log "detectors at the end of the boot: $(tr '\n' ' ' < "$R/detectors.txt")"
}

# The detector self-test's boots that provoke only reports of the kernel
# log and the end-of-boot state (lab/detector-selftest.sh): the provoking
# module, its probe, the detector state and dmesg, as guest_job_check()
# records them; no p2pbuf modules and no kmemleak scans, which those
# reports do not need (a scan is seconds of CPU under TCG).
guest_job_detect() {
	local m
	ktap_begin "$R/lab.ktap" "$(echo "$P2PBUF_EXTRA_MODULES" | wc -w)"
	for m in $P2PBUF_EXTRA_MODULES; do
		ktap_check "insmod $(basename "$m" .ko)" insmod "$m"
	done
	guest_run_suites
	# The detector self-test's proof of the guard (lab/detector-selftest.sh,
	# boot detect-e): a write that never returns, under a short guard.
	if [ -n "${P2PBUF_DETECT_GUARD:-}" ]; then
		guest_guarded "$P2PBUF_DETECT_GUARD" "detect: a write that never returns" \
			sh -c 'echo stuck > /sys/kernel/debug/p2pbuf_lab_detect/provoke'
	fi
	guest_detector_state
	guest_log "done"
	dmesg > "$R/dmesg.txt"
}

guest_job_check() {
	local c0
	if [ -e /sys/kernel/debug/kmemleak ]; then
		# Forget what boot left behind; only leaks from here on count.
		guest_log "kmemleak: forgetting boot-time objects"
		echo scan > /sys/kernel/debug/kmemleak
		echo clear > /sys/kernel/debug/kmemleak
		guest_log "kmemleak: ready"
	fi
	guest_guarded "$(guest_suite_guard_seconds)" "setup" guest_setup
	guest_run_suites
	if [ -n "${P2PBUF_IGT_ROOTFS:-}" ]; then
		guest_log "igt: start"
		c0=$(guest_cpu_ticks)
		# igt.sh's own limit, its kill and results, then the grace.
		guest_guarded $((${P2PBUF_IGT_TIMEOUT:-1200} + 120 + ${P2PBUF_STUCK_GRACE:-55})) "igt" \
			guest_session igt env P2PBUF_TOP="$P2PBUF_TOP" P2PBUF_STDIR="$P2PBUF_STDIR" \
			bash "$P2PBUF_TOP/lab/guest/igt.sh" "$R"
		echo "$((($(guest_cpu_ticks) - c0 + 50) / 100))" > "$R/igt.cpu"
		guest_log "igt: done"
	fi
	guest_guarded "$(guest_suite_guard_seconds)" "teardown" guest_teardown
	guest_detector_state
	guest_log "done"
	dmesg > "$R/dmesg.txt"
}
