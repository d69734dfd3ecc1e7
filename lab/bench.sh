#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: p2pbuf's exporter against vfio-pci's, udmabuf and the system
# dma-heap, all imported by p2pbuf_importer, in one boot (docs/bench.rst).
#
#   bench.sh          on the host. By default on a distribution's stock
#                     kernel: P2PBUF_BENCH_KERNEL names a Debian suite of
#                     lab/distro-kernels (default: the first listed), and
#                     lab/distro-lane.sh installs the pair with DKMS in that
#                     suite's root, boots its kernel with 2 vCPUs and runs
#                     the benchmark there, once per topology of P2PBUF_TOPO
#                     (default BENCH_DISTRO_TOPOS: Debian's kernels have no
#                     VFIO_NOIOMMU, so vfio-pci needs the provider's IOMMU
#                     group, which these three give it on the routes
#                     HOST_BRIDGE_IOVA, BUS_ADDR and HOST_BRIDGE_DIRECT). P2PBUF_BENCH_KERNEL=debug runs it on
#                     the lab's debug kernel instead (P2PBUF_TOPO default
#                     switch; host packages plus python3-matplotlib for the
#                     plot, cached debug kernel, modules, tests, as make
#                     check). Both give an 8 GiB provider BAR (a sparse
#                     file), then print the table and write the plot. Exits non-zero if a
#                     measurement failed, the setup failed or the kernel
#                     log has a splat.
#   bench.sh guest    inside the debug lab's guest, run by lab/guest/init.sh
#                     for the job "bench": bind, run selftests'
#                     p2pbuf_bench, unbind. (The distribution kernel's guest
#                     runs it from lab/guest/distro-init.sh.)
#
# Knobs: P2PBUF_BENCH_KERNEL; P2PBUF_TOPO; P2PBUF_IVSHMEM_SIZE (provider BAR,
# default 8G: measure h maps one range above 4 GiB); P2PBUF_MEM (guest RAM,
# default 2G: udmabuf and the heap allocate up to _MAX_SIZE); P2PBUF_BENCH_APPEND (debug kernel only:
# its command line, default: kmemleak, DMA-API debugging and lockdep's
# dependency proving off, as they weigh on every allocation and lock; KASAN
# cannot be turned off at boot); P2PBUF_BENCH_QUICK=1 (p2pbuf_bench
# --quick); P2PBUF_BENCH_CYCLES, _BUF_SIZE, _MAX_SIZE, _POINT_MS,
# _SLAB_CYCLES, _MN, _REPS, _DMA_XFERS, _ROUNDS, _ROUND_CYCLES, _ROUND_M,
# _ROUND_N, _ROUND_REPS,
# _RANGES_SIZE, _BIG_SIZE, _PROFILE_CYCLES, _PROFILE_OFF (a reason: no (i))
# (selftests/p2pbuf_bench.c).
#
# Results: $P2PBUF_RESULTS/bench/<topology>/ (debug kernel) or
# bench/<suite>-<topology>/ (default results/bench/...): bench.json,
# bench.png, table.txt, bench.log (progress); the debug kernel's bench.ktap,
# lab.ktap, console.log, dmesg.txt, or the distribution lane's lane.ktap
# and lane/ (its KTAP, console and guest results).

BENCH_APPEND_DEFAULT="kmemleak=off dma_debug=off lockdep.prove_locking=0"
# make bench's topologies on a distribution kernel: HOST_BRIDGE_IOVA,
# BUS_ADDR, HOST_BRIDGE_DIRECT.
BENCH_DISTRO_TOPOS="rp-zen-iommu switch-passthrough rp-zen-passthrough"
# Debug options of the kernel that bear on the timings, recorded with them.
BENCH_KDEBUG_RE='KASAN|KASAN_INLINE|PROVE_LOCKING|DEBUG_KMEMLEAK|DMA_API_DEBUG|DMABUF_DEBUG|SLUB_DEBUG|DEBUG_ATOMIC_SLEEP|FAILSLAB'

# The benchmark on Debian SUITE's stock kernel, through the distribution
# lane (lab/distro-lane.sh, P2PBUF_DISTRO_JOB=bench).
bench_distro() { # SUITE, topology in P2PBUF_TOPO
	local suite=$1 topo=$P2PBUF_TOPO res lane ok=1 rc=0

	grep -Eq "^${suite}[[:space:]]" "$P2PBUF_TOP/lab/distro-kernels" ||
		lab_die "P2PBUF_BENCH_KERNEL: '$suite' is neither debug nor a suite of lab/distro-kernels"
	"$P2PBUF_TOP/lab/deps.sh" python3-matplotlib
	res=${P2PBUF_RESULTS:-$P2PBUF_TOP/results}/bench/$suite-$topo
	rm -rf "$res"
	mkdir -p "$res"
	res=$(cd "$res" && pwd)

	export P2PBUF_DISTRO_JOB=bench P2PBUF_TOPO=$topo P2PBUF_RESULTS=$res/lane
	export P2PBUF_IVSHMEM_SIZE=${P2PBUF_IVSHMEM_SIZE:-8G}
	export P2PBUF_MEM=${P2PBUF_MEM:-2G}
	# Two vCPUs as in the debug lab's bench: importers unmap in parallel.
	export P2PBUF_DISTRO_SMP=${P2PBUF_DISTRO_SMP:-2}
	export P2PBUF_BENCH_KDEBUG_RE=$BENCH_KDEBUG_RE
	export P2PBUF_BENCH_QUICK=${P2PBUF_BENCH_QUICK:-0}
	export P2PBUF_SUITE_TIMEOUT=${P2PBUF_BENCH_TIMEOUT:-2100}
	export P2PBUF_BOOT_TIMEOUT=${P2PBUF_BOOT_TIMEOUT:-2400}
	bench_host_info
	lab_log "bench: Debian $suite's kernel, topology $topo, provider BAR $P2PBUF_IVSHMEM_SIZE, guest RAM $P2PBUF_MEM"
	"$P2PBUF_TOP/lab/distro-lane.sh" "$suite" | tee "$res/lane.ktap" || rc=$?
	lane=$res/lane/distro/$suite
	[ "$rc" -eq 0 ] && ! grep -q '^not ok' "$res/lane.ktap" || ok=0
	for f in bench.json bench.log; do
		[ -f "$lane/results/$f" ] && cp "$lane/results/$f" "$res/"
	done
	echo
	bench_report "$res" || ok=0
	if [ "$ok" = 1 ]; then
		echo "bench: PASS (Debian $suite's $(cat "$lane/results/uname-r"), $topo; results in $res)"
		return 0
	fi
	echo "bench: FAIL (Debian $suite, $topo; logs in $res)"
	return 1
}

# The table and the plot from RES/bench.json; fails without it. Debian's
# python3, where lab/deps.sh installed matplotlib (the PATH's python3 may
# be another installation).
bench_report() { # RES
	[ -s "$1/bench.json" ] || return 1
	/usr/bin/python3 "$P2PBUF_TOP/lab/bench-report.py" "$1/bench.json" \
		"$1/bench.png" | tee "$1/table.txt"
}

# What the guest cannot see: the host's CPU and the emulator.
bench_host_info() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	P2PBUF_BENCH_HOST_CPU="$cpu x $(nproc)"
	export P2PBUF_BENCH_HOST_CPU
	P2PBUF_BENCH_QEMU=$(qemu-system-x86_64 --version | head -n 1)
	export P2PBUF_BENCH_QEMU
}

bench_host() {
	set -euo pipefail
	# shellcheck source=lab/lib.sh
	. "$(dirname "$0")/lib.sh"
	local topo=${P2PBUF_TOPO:-switch} res rc=0 vmpid ok=0
	local kernel=${P2PBUF_BENCH_KERNEL:-}

	[ -n "$kernel" ] || kernel=$(awk '!/^#/ && NF { print $1; exit }' "$P2PBUF_TOP/lab/distro-kernels")
	if [ "$kernel" != debug ]; then
		set +e
		# One route per topology, each with the provider in an IOMMU
		# group of its own, which vfio-pci needs on a kernel without
		# VFIO_NOIOMMU. A subshell each: bench_distro exports its
		# results directory and topology for the lane.
		for topo in ${P2PBUF_TOPO:-$BENCH_DISTRO_TOPOS}; do
			(P2PBUF_TOPO=$topo bench_distro "$kernel") || rc=1
		done
		return "$rc"
	fi

	"$P2PBUF_TOP/lab/deps.sh" python3-matplotlib
	lab_prepare

	res=${P2PBUF_RESULTS:-$P2PBUF_TOP/results}/bench/$topo
	rm -rf "$res"
	mkdir -p "$res"
	res=$(cd "$res" && pwd)
	: > "$res/bench.log"

	export P2PBUF_IVSHMEM_SIZE=${P2PBUF_IVSHMEM_SIZE:-8G}
	export P2PBUF_MEM=${P2PBUF_MEM:-2G}
	export P2PBUF_APPEND="${P2PBUF_APPEND:-} ${P2PBUF_BENCH_APPEND-$BENCH_APPEND_DEFAULT}"
	P2PBUF_BENCH_KDEBUG=$(grep -E "^CONFIG_($BENCH_KDEBUG_RE)=" "$KOBJ/.config" |
		sed 's/^CONFIG_//' | tr '\n' ' ')
	export P2PBUF_BENCH_KDEBUG=${P2PBUF_BENCH_KDEBUG% }
	export P2PBUF_BENCH_QUICK=${P2PBUF_BENCH_QUICK:-0}
	# Measure (i) needs function_graph, which the lean debug config leaves out.
	grep -q '^CONFIG_FUNCTION_GRAPH_TRACER=y' "$KOBJ/.config" ||
		export P2PBUF_BENCH_PROFILE_OFF="this kernel has no CONFIG_FUNCTION_GRAPH_TRACER (lab/kernel.config)"
	bench_host_info
	# The benchmark takes minutes under TCG; the guest gives it 2100 s.
	export P2PBUF_BOOT_TIMEOUT=${P2PBUF_BOOT_TIMEOUT:-2400}

	lab_log "bench: topology $topo, provider BAR $P2PBUF_IVSHMEM_SIZE, guest RAM $P2PBUF_MEM"
	lab_log "bench: boot command line adds: $P2PBUF_APPEND"
	"$P2PBUF_TOP/lab/vm.sh" "$topo" bench "$res" &
	vmpid=$!
	tail -n +1 -F --pid="$vmpid" "$res/bench.log" 2> /dev/null || true
	wait "$vmpid" || rc=$?
	[ "$rc" -eq 0 ] || echo "guest did not finish (status $rc)" > "$res/boot-failed"

	echo
	lab_log "bench: checks of the lab (bind, unbind) and of the kernel log"
	# Its command line switches kmemleak and DMA-API debug off on purpose.
	P2PBUF_DETECTORS_OFF="kmemleak switched off,DMA-API debug switched off" \
		python3 "$P2PBUF_TOP/lab/summary.py" "$(dirname "$res")" "$topo" -- bench && ok=1
	bench_report "$res" || ok=0
	if [ "$ok" = 1 ]; then
		echo "bench: PASS ($topo; results in $res)"
		return 0
	fi
	echo "bench: FAIL ($topo; logs in $res)"
	return 1
}

bench_guest() {
	R=/tmp/results
	# shellcheck source=/dev/null
	. "$R/env.sh"
	# shellcheck source=lab/guest/lib.sh
	. "$P2PBUF_TOP/lab/guest/lib.sh"
	local rc quick=()

	[ "${P2PBUF_BENCH_QUICK:-0}" = 1 ] && quick=(--quick)
	guest_setup
	guest_log "bench: start"
	(cd /tmp && timeout -k 5 "${P2PBUF_BENCH_TIMEOUT:-2100}" \
		"$P2PBUF_STDIR/p2pbuf_bench" "${quick[@]}" --out "$R/bench.json") \
		2>> "$R/bench.log"
	rc=$?
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
	} > "$R/bench.ktap"
	guest_teardown
	guest_log "done"
	dmesg > "$R/dmesg.txt"
}

case "${1:-}" in
guest)
	bench_guest
	;;
"")
	bench_host
	;;
*)
	echo "usage: $0 [guest]" >&2
	exit 2
	;;
esac
