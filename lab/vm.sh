#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the lab kernel in QEMU for one topology and one guest job.
#
#   vm.sh TOPOLOGY JOB RESULTS_DIR
#
# JOB is what lab/guest/init.sh does: "check" (run the suites), "shell"
# (interactive shell on the serial console), "harness-selftest", "demo",
# "bench", "detect" (the detector self-test's short boots: its module and
# probe only). The
# guest gets the host's root filesystem read-only over virtio-9p (as virtme
# does) and RESULTS_DIR writable as the 9p tag "results". Needs in the
# environment: KOBJ (kernel build tree), P2PBUF_MODDIR (built modules),
# P2PBUF_STDIR (built selftests), P2PBUF_SUITES (space-separated).
# Optional: P2PBUF_IVSHMEM_SIZE, the provider's BAR 2 (size of its shared
# memory, a sparse file, a power of two; default 8G, so that one range can
# be longer than 4 GiB: conform_test's big_range), P2PBUF_MEM
# (guest RAM, default 1G), P2PBUF_SMP (vCPUs, default 2: race_test needs
# two), P2PBUF_APPEND (kernel command line), and
# P2PBUF_BENCH_* (handed to the guest for the bench job),
# P2PBUF_SUITE_TIMEOUT (each suite, default 600 s) and P2PBUF_STUCK_GRACE
# (how long what a step leaves behind may take to die after SIGKILL before
# the guest calls the step stuck, default 55 s; lab/guest/lib.sh).
# Exit status: 0 if the guest finished its job, 124 on timeout, else QEMU's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$P2PBUF_TOP/lab/topologies.sh"

topo=$1 job=$2 res=$3
topo_select "$topo" || lab_die "unknown topology '$topo' (have: $P2PBUF_TOPOLOGIES)"
: "${KOBJ:?}" "${P2PBUF_MODDIR:?}" "${P2PBUF_STDIR:?}"
# The guest sees the host's files through its read-only 9p root but mounts
# its own tmpfs on /tmp: what it runs must live elsewhere.
case "$(readlink -f "$P2PBUF_MODDIR") $(readlink -f "$P2PBUF_STDIR")" in
/tmp/* | *" /tmp/"*) lab_die "build output under /tmp is invisible to the guest: set P2PBUF_BUILD elsewhere" ;;
esac
# A hang detector, not a time limit: the tests have their own timeouts.
# rp-zen-iommu's suites take ~700 s on a loaded 2-core host, and its 3 GiB
# guest's closing kmemleak scans take minutes more.
timeout_s=${P2PBUF_BOOT_TIMEOUT:-1800}
mkdir -p "$res"
res=$(cd "$res" && pwd)

run=$(mktemp -d "${TMPDIR:-/tmp}/p2pbuf-vm.XXXXXX")
trap 'rm -rf "$run"' EXIT
ivshmem_size=${P2PBUF_IVSHMEM_SIZE:-8G}
truncate -s "$ivshmem_size" "$run/ivshmem0"
truncate -s 64M "$run/ivshmem1"

# What the guest init needs, as shell assignments it sources.
{
	printf 'P2PBUF_TOP=%q\n' "$P2PBUF_TOP"
	printf 'P2PBUF_JOB=%q\n' "$job"
	printf 'P2PBUF_MODDIR=%q\n' "$P2PBUF_MODDIR"
	printf 'P2PBUF_STDIR=%q\n' "$P2PBUF_STDIR"
	printf 'P2PBUF_SUITES=%q\n' "${P2PBUF_SUITES:-}"
	printf 'P2PBUF_SUITE_TIMEOUT=%q\n' "${P2PBUF_SUITE_TIMEOUT:-600}"
	printf 'P2PBUF_STUCK_GRACE=%q\n' "${P2PBUF_STUCK_GRACE:-55}"
	printf 'P2PBUF_BOOT_TIMEOUT=%q\n' "$timeout_s"
	printf 'P2PBUF_EXTRA_MODULES=%q\n' "${P2PBUF_EXTRA_MODULES:-}"
	printf 'export P2PBUF_LAB=1\n'	# features the lab config guarantees must not SKIP
	printf 'export P2PBUF_TOPOLOGY=%q\n' "$topo"
	printf 'export P2PBUF_EXPECT_MAP=%q\n' "$TOPO_EXPECT"
	printf 'export P2PBUF_PROVIDER_BAR_BYTES=%q\n' "$(numfmt --from=iec "$ivshmem_size")"
	# Tests this kernel must not run here ("avoid:" in lab/xfail.manifest).
	printf 'export P2PBUF_AVOID=%q\n' "$(python3 "$P2PBUF_TOP/lab/xfail.py" --avoid "$topo")"
	printf 'export P2PBUF_LEAK_CYCLES=%q\n' "${P2PBUF_LEAK_CYCLES:-$TOPO_LEAK_CYCLES}"
	printf 'export P2PBUF_RACE_ITERS=%q\n' "${P2PBUF_RACE_ITERS:-$TOPO_RACE_ITERS}"
	printf 'export P2PBUF_VFIO_BDF=%q\n' "0000:00:06.0"
	# The QEMU monitor relay below, and the port above the provider.
	printf 'export P2PBUF_MONITOR=%q\n' "/tmp/results/monitor"
	printf 'export P2PBUF_AER_PORT=%q\n' "$TOPO_AER_PORT"
	printf 'export P2PBUF_TEST_MODDIR=%q\n' "$(dirname "$P2PBUF_MODDIR")/test-modules"
	printf 'export P2PBUF_EDU_DMA_BITS=%q\n' "$TOPO_EDU_DMA_BITS"
	printf 'export PATH=%q\n' "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	printf 'export P2PBUF_ACCEL=%q\n' "$([ "${P2PBUF_KVM:-0}" = 1 ] && echo kvm || echo tcg)"
	# The igt run (lab/igt.sh) and the benchmark (lab/bench.sh): only when
	# the host exported them for this boot.
	for v in ${!P2PBUF_IGT_@} ${!P2PBUF_BENCH_@}; do printf 'export %s=%q\n' "$v" "${!v}"; done
	# The detector self-test's requests (lab/detector-selftest.sh).
	for v in ${!P2PBUF_DETECT@}; do printf 'export %s=%q\n' "$v" "${!v}"; done
	# Knobs of race_test and fuzz_test (docs/stress.rst), and
	# lifecycle_test's P2PBUF_SYSTEM_SUSPEND, when set.
	for v in ${!P2PBUF_RACE_@} ${!P2PBUF_FUZZ_@} ${!P2PBUF_SYSTEM_@}; do printf 'export %s=%q\n' "$v" "${!v}"; done
} > "$res/env.sh"
rm -f "$res/done"

accel="-accel tcg,thread=multi"
if [ "${P2PBUF_KVM:-0}" = 1 ]; then
	accel="-accel kvm"
	[ "$TOPO_CPU" = max ] && TOPO_CPU=host
fi

rootflags="trans=virtio,version=9p2000.L,msize=262144,cache=loose"
append="console=ttyS0 loglevel=5 panic=-1"
append="$append root=/dev/root rootfstype=9p rootflags=$rootflags ro"
append="$append init=$P2PBUF_TOP/lab/guest/init.sh kmemleak=on"
# TCG's TSC follows the host clock and is the same on every vCPU. Without
# tsc=reliable 7.2's clocksource watchdog checks the skew between CPUs and,
# on a loaded host, a boot hung for 30 min: CPU 0 looping in
# watchdog_check_skew() for CPU 1, CPU 1 in stop_machine_yield() for CPU 0.
append="$append tsc=reliable"
# A sysctl on the command line needs its "sysctl." prefix (a bare
# "hung_task_timeout_secs=" is no kernel parameter and went to init).
append="$append sysctl.kernel.hung_task_timeout_secs=60 $TOPO_APPEND ${P2PBUF_APPEND:-}"

# The guest asks for a QEMU monitor command by renaming a file to
# monitor.req in its results directory (lifecycle_test injects AER errors
# so); the answer appears as monitor.rsp. Runs while QEMU does. It polls
# five times a second with the builtin read's timeout on a FIFO that no
# one else writes (opened read-write: never at EOF): a sleep(1) per poll
# cost 4 ms of CPU, about 80 CPU s of a make check's boots. Without the
# FIFO it polls with sleep(1).
monitor_relay() { # SOCKET DIR
	local tick=
	{ mkfifo "$run/tick" && exec {tick}<> "$run/tick"; } 2> /dev/null || tick=
	while :; do
		if [ -n "$tick" ]; then
			read -r -t 0.2 -u "$tick" _ || true
		else
			sleep 0.2
		fi
		[ -e "$2/monitor.req" ] || continue
		mv -f "$2/monitor.req" "$2/monitor.cmd"
		python3 "$P2PBUF_TOP/lab/qemu-monitor.py" "$1" "$2/monitor.cmd" \
			> "$2/monitor.tmp" 2>&1 || true
		mv -f "$2/monitor.tmp" "$2/monitor.rsp"
	done
}

qemu=(
	qemu-system-x86_64 $accel -cpu "$TOPO_CPU" -m "${P2PBUF_MEM:-$TOPO_MEM}" -smp "${P2PBUF_SMP:-2}"
	-machine q35 -nographic -no-reboot -nic none -vga none
	-kernel "$KOBJ/arch/x86/boot/bzImage" -append "$append"
	-object "memory-backend-file,id=m0,size=$ivshmem_size,mem-path=$run/ivshmem0,share=on"
	-object "memory-backend-file,id=m1,size=64M,mem-path=$run/ivshmem1,share=on"
	"${TOPO_DEVICES[@]}"
	-fsdev "local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=rootfs,mount_tag=/dev/root
	-fsdev "local,id=resfs,path=$res,security_model=none"
	-device virtio-9p-pci,fsdev=resfs,mount_tag=results
	-monitor "unix:$run/monitor.sock,server=on,wait=off"
)
printf '%q ' "${qemu[@]}" > "$res/qemu-cmdline.txt"
echo >> "$res/qemu-cmdline.txt"

lab_log "boot: topology $topo, job $job, cpu $TOPO_CPU, timeout ${timeout_s}s"
start=$(date +%s)
rc=0
monitor_relay "$run/monitor.sock" "$res" &
relay=$!
trap 'kill "$relay" 2> /dev/null || true; rm -rf "$run"' EXIT
if [ "$job" = shell ]; then
	timeout --foreground -k 10 "$timeout_s" "${qemu[@]}" 2>&1 | tee "$res/console.log" || rc=${PIPESTATUS[0]}
else
	timeout -k 10 "$timeout_s" "${qemu[@]}" < /dev/null > "$res/console.log" 2>&1 || rc=$?
fi
echo "$(($(date +%s) - start))" > "$res/boot-seconds"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	lab_log "boot: topology $topo TIMED OUT after ${timeout_s}s; last console lines:"
	tail -n 40 "$res/console.log" >&2
	exit 124
fi
if [ "$job" != shell ] && [ ! -f "$res/done" ]; then
	lab_log "boot: topology $topo: guest did not finish its job (qemu status $rc); last console lines:"
	tail -n 40 "$res/console.log" >&2
	exit 1
fi
exit 0
