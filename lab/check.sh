#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: install what is missing, build (or reuse) the debug kernel,
# build modules and tests, boot every topology, run every suite, detect
# splats, and print one summary ending in "N passed, N failed, N skipped",
# after a table of where the time went. The boots, the distribution-kernel
# lanes, the host suites and the detector self-test are independent jobs of
# one pool, run P2PBUF_PARALLEL at a time, longest first.
#
# Environment: P2PBUF_TOPOS (default: all), P2PBUF_SUITES (default: every
# program in selftests/suites, each in the topologies it names there),
# P2PBUF_PARALLEL (jobs at once, default 4), P2PBUF_LEAD_NICE (the first
# job's niceness against the others', default -10), P2PBUF_LINT=0 (no host
# suites), P2PBUF_DISTRO=0 (no distribution kernels, lab/distro-kernels),
# P2PBUF_DETECTORS=0 (no detector self-test,
# lab/detector-selftest.sh), P2PBUF_CACHE, KSRC, P2PBUF_KPATCHES (patched
# kernel, lab/kernel.sh), P2PBUF_KVM=1, P2PBUF_RESULTS (default: results/ in
# the repository), P2PBUF_KEEP_PATH=1 (PATH as it is, lab/lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$P2PBUF_TOP/lab/topologies.sh"
. "$P2PBUF_TOP/lab/igt.sh"

t0=$(date +%s)
topos=${P2PBUF_TOPOS:-$P2PBUF_TOPOLOGIES}
results=${P2PBUF_RESULTS:-$P2PBUF_TOP/results}
rm -rf "$results"
mkdir -p "$results/host"
export P2PBUF_PHASES=$results/host/phases.tsv
: > "$P2PBUF_PHASES"
# The igt root is downloaded while the kernel builds (a cold cache).
igt_rootfs_pid=
if [ "${P2PBUF_IGT:-1}" = 1 ]; then
	# The install is timed here, and lab_prepare does not repeat it.
	lab_phase "host packages" "$P2PBUF_TOP/lab/deps.sh"
	export P2PBUF_DEPS_DONE=1
	"$P2PBUF_TOP/lab/igt-rootfs.sh" > /dev/null 2> "$results/host/igt-rootfs.log" &
	igt_rootfs_pid=$!
fi
lab_prepare
# This machine's speed, to compare the table with another machine's: the
# CPU seconds of a fixed Python loop, the same work on every machine (0.43
# to 0.53 s on one where a warm make check's jobs took 2103 CPU s).
yard=$( { TIMEFORMAT=%U; time python3 -c 'n = 0
for i in range(10000000):
    n += i & 7' > /dev/null 2>&1; } 2>&1) || yard=-
printf 'yardstick: a fixed Python loop, CPU seconds (not in the total)\t%s\n' "$yard" >> "$P2PBUF_PHASES"

# host_suite NAME SCRIPT: a host-side suite as results/host/NAME.ktap.
# Its exit status in NAME.rc: a script that fails after its last KTAP line
# fails the suite (lab/summary.py).
host_suite() {
	local rc=0
	"$P2PBUF_TOP/lab/$2" "$KOBJ" > "$results/host/$1.ktap" || rc=$?
	echo "$rc" > "$results/host/$1.rc"
	return "$rc"
}

# The expected-SKIP and expected-failure rules can fail (synthetic results,
# no boot, a second each).
echo skips-selftest >> "$results/host/expected.txt"
"$P2PBUF_TOP/lab/skips_selftest.py" > "$results/host/skips-selftest.ktap" || true
echo xfail-selftest >> "$results/host/expected.txt"
"$P2PBUF_TOP/lab/xfail_selftest.py" > "$results/host/xfail-selftest.ktap" || true
# So can igt_adapter's subtest selection and the igt results' merge.
echo igt-host-selftest >> "$results/host/expected.txt"
"$P2PBUF_TOP/lab/igt_host_selftest.py" "$P2PBUF_STDIR" > "$results/host/igt-host-selftest.ktap" || true
[ -n "${P2PBUF_SUITES:-}" ] && export P2PBUF_SUITES_EXPLICIT=1
suites_all=${P2PBUF_SUITES:-$(suites_list)}

lab_log "kernel $(cat "$KOBJ/include/config/kernel.release") ($(basename "$KOBJ")), topologies: $topos"
lab_log "suites: $suites_all"
[ -z "$igt_rootfs_pid" ] || wait "$igt_rootfs_pid" || lab_log "igt: early root filesystem build failed: $(tail -n 3 "$results/host/igt-rootfs.log")"
lab_phase "igt root filesystem (after the kernel)" igt_prepare "$topos"

# One boot: the suites placed in this topology (selftests/suites), igt if
# this is igt's topology; a failed or timed-out boot is recorded for the
# summary.
boot_topology() { # TOPO
	local topo=$1 rc
	export P2PBUF_SUITES=$suites_all
	igt_env "$topo"
	P2PBUF_SUITES=$(suites_for "$topo" "$suites_all")
	mkdir -p "$results/$topo"
	echo "$P2PBUF_SUITES" > "$results/$topo/suites.txt"
	"$P2PBUF_TOP/lab/vm.sh" "$topo" "${P2PBUF_JOB:-check}" "$results/$topo" && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] && why="timeout" || why="guest did not finish (status $rc)"
		echo "$why" > "$results/$topo/boot-failed"
	fi
	lab_log "topology $topo: $(cat "$results/$topo/boot-seconds") s"
	igt_collect "$results" "$topo"
}

# The distribution kernels (lab/distro-kernels): the pair installed by DKMS
# into each suite's root and run on the suite's own kernel, one boot per
# topology, as results/host/distro-<suite>-<topology>.ktap. A suite's lanes
# share its root, so they run one after the other, as one job; the first
# installs the pair and builds the suites, the others of the run use that
# (P2PBUF_DISTRO_BUILD_ID, lab/distro-lane.sh): the build does not depend on
# the topology.
P2PBUF_DISTRO_BUILD_ID=check-$(date +%s%N)-$$
export P2PBUF_DISTRO_BUILD_ID
export P2PBUF_DISTRO_SUITES=${P2PBUF_DISTRO_SUITES:-exporter_test importer_test pair_test vgem_test lifetime_test privilege_test uabi_test demo}
distro_lane() { # SUITE TOPO
	P2PBUF_TOPO=$2 P2PBUF_RESULTS=$results/distro-$2 \
		"$P2PBUF_TOP/lab/distro-lane.sh" "$1" > "$results/host/distro-$1-$2.ktap"
}
distro_topos() { # SUITE: its topologies in lab/distro-kernels
	awk -v s="$1" '$1 == s { $1 = ""; print }' "$P2PBUF_TOP/lab/distro-kernels"
}
distro_suite() { # SUITE
	local dtopo
	for dtopo in $(distro_topos "$1"); do
		lab_phase "distribution kernel: $1, $dtopo" distro_lane "$1" "$dtopo" || true
	done
}

# One job of the pool below, timed into results/host/jobs.tsv.
pool_job() { # NAME
	local t0 cpu tf rc=0
	t0=$(date +%s)
	case "$1" in
	boot:*) boot_topology "${1#boot:}" ;;
	lanes:*) distro_suite "${1#lanes:}" ;;
	host:lint) lab_phase "host: lint" host_suite lint lint.sh ;;
	host:intree) lab_phase "host: selftests in-tree build" host_suite selftests-intree selftests-intree.sh ;;
	host:dkms) lab_phase "host: dkms" host_suite dkms dkms-check.sh ;;
	host:floor) lab_phase "host: kernel floor" host_suite floor floor-check.sh ;;
	# Each class of kernel report must fail a run: six boots, one at a
	# time here, beside the other jobs.
	host:detectors) P2PBUF_PARALLEL=1 lab_phase "host: detector self-test" host_suite detectors detector-selftest.sh ;;
	*) lab_log "pool: unknown job $1"; rc=1 ;;
	esac || rc=$?
	# The CPU seconds of the job's processes: the second line of times,
	# the children this subshell waited for (QEMU included). In this
	# shell, not in a command substitution, whose subshell has none.
	cpu=0
	tf=$results/host/times.$BASHPID
	if times > "$tf" 2> /dev/null; then
		cpu=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%d", t + 0.5 }' "$tf") || cpu=0
		rm -f "$tf"
	fi
	printf '%s\t%s\t%s\n' "$1" "$(($(date +%s) - t0))" "${cpu:-0}" >> "$results/host/jobs.tsv"
	return "$rc"
}

# The jobs: every boot of the lab kernel, every distribution suite's lanes,
# the host suites and the detector self-test. None needs another's result.
# Each host suite and lane is written to results/host/expected.txt here,
# before anything starts, so that a job which never ran or died early is a
# MISSING suite in the summary, not a smaller total (lab/summary.py).
jobs=()
expect_suite() { echo "$1" >> "$results/host/expected.txt"; }
for topo in $topos; do jobs+=("boot:$topo"); done
# igt's run in its topology (lab/igt.sh; igt_prepare set IGT_TOPO).
[ -z "${IGT_TOPO:-}" ] || expect_suite "igt-$IGT_TOPO"
if [ "${P2PBUF_DETECTORS:-1}" = 1 ]; then
	jobs+=(host:detectors)
	expect_suite detectors
fi
if [ "${P2PBUF_DISTRO:-1}" = 1 ]; then
	for dsuite in $(awk '$1 !~ /^#/ && NF > 1 && !seen[$1]++ { print $1 }' "$P2PBUF_TOP/lab/distro-kernels"); do
		jobs+=("lanes:$dsuite")
		for dtopo in $(distro_topos "$dsuite"); do expect_suite "distro-$dsuite-$dtopo"; done
	done
fi
if [ "${P2PBUF_LINT:-1}" = 1 ]; then
	jobs+=(host:lint host:intree host:dkms host:floor)
	for hs in lint selftests-intree dkms floor; do expect_suite "$hs"; done
fi

# Longest first, by the seconds each job took in the last complete run on
# this machine ($P2PBUF_CACHE/job-seconds.tsv); a job without a figure keeps
# its place before those with one, and the igt topology, the longest boot,
# goes first. P2PBUF_PARALLEL jobs at once (default 4: docs/lab.rst).
job_secs=$P2PBUF_CACHE/job-seconds.tsv
ordered=()
while IFS= read -r j; do ordered+=("$j"); done < <(
	i=0
	for j in "${jobs[@]}"; do
		secs=$(awk -F '\t' -v j="$j" '$1 == j { s = $2 } END { print s }' "$job_secs" 2> /dev/null) || secs=
		if [ "$j" = "boot:${IGT_TOPO:-}" ]; then secs=999999; fi
		printf '%s\t%s\t%s\n' "${secs:-99999}" "$i" "$j"
		i=$((i + 1))
	done | sort -t "$(printf '\t')" -k1,1nr -k2,2n | cut -f3)
if [ "${#ordered[@]}" -ne "${#jobs[@]}" ]; then
	lab_log "pool: ordering gave ${#ordered[@]} of ${#jobs[@]} jobs; keeping the list's order"
	ordered=("${jobs[@]}")
fi
parallel=${P2PBUF_PARALLEL:-4}
# Background jobs ignore SIGINT: on an interrupt or a TERM stop them all
# (QEMU, lanes holding their lock) rather than leave them writing results.
trap 'trap - INT TERM; kill -TERM 0' INT TERM
# The first job, the longest, sets the pool's wall clock when it shares
# the CPU evenly: four jobs on two cores gave the switch boot half a core,
# and it ran alone at the end while the other jobs' CPU seconds would have
# filled that time. At nice -10 (CFS weight 9548 against 1024) it gets a
# core of its own while its guest keeps one vCPU busy, and the three others
# share the other core (about 0.33 each; about 0.16 while both its vCPUs
# are busy); a lane's one-vCPU guest starved at nice 19, a share of a few
# percent (docs/lab.rst). Measured warm, the same commit: -10 10:02 (the
# switch boot 443 s, 243 CPU s), -3 10:42 and 10:45 (556-563 s, 289-300 CPU
# s: a guest that shares its core takes more CPU for the same work).
# P2PBUF_LEAD_NICE=0 turns it off; lowering a niceness needs root; with
# P2PBUF_PARALLEL=1 there is nothing to share and it does not apply.
lead_nice=${P2PBUF_LEAD_NICE:--10}
case "$lead_nice" in
-[0-9] | -1[0-9] | [0-9] | 1[0-9]) ;;
*)
	lab_log "pool: P2PBUF_LEAD_NICE=$lead_nice is not an offset from -19 to 19: not used"
	lead_nice=0
	;;
esac
lab_log "pool, $parallel at once: ${ordered[*]}"
pool_t0=$(date +%s)
running=0
for j in "${ordered[@]}"; do
	if [ "$running" -ge "$parallel" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	if [ "$j" = "${ordered[0]}" ] && [ "$lead_nice" != 0 ] && [ "$parallel" -gt 1 ]; then
		(
			# util-linux's renice -n sets the value, not an increment.
			target=$(($(nice) + lead_nice))
			renice -n "$target" -p "$BASHPID" > /dev/null 2>&1 && [ "$(nice)" = "$target" ] ||
				lab_log "pool: $j runs at niceness $(nice), not $target (lowering it needs root; -20 to 19)"
			pool_job "$j"
		) &
	else
		pool_job "$j" &
	fi
	running=$((running + 1))
done
wait || true
printf 'pool: boots, lanes, host suites, detectors (%s at once), wall clock\t%s\n' "$parallel" "$(($(date +%s) - pool_t0))" >> "$P2PBUF_PHASES"
# The next run's order, from a run of every suite in every topology only
# (a job's seconds in a run of a few suites say nothing about the whole).
# A failure here (a full disk) costs the order, never the summary.
save_job_secs() {
	local tmp
	tmp=$(mktemp "$job_secs.XXXXXX") || return 1
	awk -F '\t' 'NR == FNR { new[$1] = $2; next } !($1 in new) { print } END { for (j in new) print j "\t" new[j] }' \
		"$results/host/jobs.tsv" "$job_secs" > "$tmp" 2> /dev/null ||
		cp "$results/host/jobs.tsv" "$tmp" || { rm -f "$tmp"; return 1; }
	mv "$tmp" "$job_secs" || { rm -f "$tmp"; return 1; }
}
if [ -z "${P2PBUF_SUITES_EXPLICIT:-}" ] && [ -z "${P2PBUF_TOPOS:-}" ] &&
	[ -s "$results/host/jobs.tsv" ] && mkdir -p "$P2PBUF_CACHE" 2> /dev/null; then
	save_job_secs || lab_log "pool: could not write $job_secs (the next run keeps the list's order)"
fi

lab_log "total time $(($(date +%s) - t0)) s"
printf 'total\t%s\n' "$(($(date +%s) - t0))" >> "$P2PBUF_PHASES"
# shellcheck disable=SC2086
python3 "$P2PBUF_TOP/lab/phases.py" "$results" $topos
# The expected failures (lab/xfail.manifest) depend on the kernel's kind:
# P2PBUF_KPATCHES, as lab/kernel.sh read it.
# shellcheck disable=SC2086
P2PBUF_KPATCHES=${P2PBUF_KPATCHES:-} python3 "$P2PBUF_TOP/lab/summary.py" "$results" $topos -- $suites_all
