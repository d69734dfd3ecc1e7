#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo: the whole p2pbuf story in one guest, told by tools/p2pbuf.
#
#   demo.sh          on the host: set up the lab as make check does (host
#                    packages, cached debug kernel, modules, tests, tool),
#                    boot one topology (P2PBUF_TOPO, default "switch") with
#                    the guest job "demo", show the story as the guest tells
#                    it, and exit non-zero if a step, the lab's setup or the
#                    kernel (splat detector) failed.
#   demo.sh guest    inside the guest, run by lab/guest/init.sh for the job
#                    "demo": bind, tell the story, unbind, scan kmemleak.
#
# Results: $P2PBUF_RESULTS/demo/<topology>/ (default results/demo/...):
# demo.log (the story), demo.ktap, lab.ktap, console.log, dmesg.txt.

demo_host() {
	set -euo pipefail
	# shellcheck source=lab/lib.sh
	. "$(dirname "$0")/lib.sh"
	local topo=${P2PBUF_TOPO:-switch} res rc=0 vmpid

	lab_prepare

	res=${P2PBUF_RESULTS:-$P2PBUF_TOP/results}/demo/$topo
	rm -rf "$res"
	mkdir -p "$res"
	res=$(cd "$res" && pwd)
	printf 'P2PBUF_TOOL=%q\n' "$P2PBUF_BUILD_DIR/tools/p2pbuf" > "$res/demo.conf"
	: > "$res/demo.log"

	lab_log "demo: topology $topo; the guest boots under TCG (2-3 minutes), then tells the story"
	"$P2PBUF_TOP/lab/vm.sh" "$topo" demo "$res" &
	vmpid=$!
	# The results directory is shared with the guest: follow the story
	# while it is written; tail ends when the VM has exited.
	tail -n +1 -F --pid="$vmpid" "$res/demo.log" 2> /dev/null || true
	wait "$vmpid" || rc=$?
	[ "$rc" -eq 0 ] || echo "guest did not finish (status $rc)" > "$res/boot-failed"

	if [ -s "$res/trace.txt" ]; then
		echo
		lab_log "demo: the story as both modules' tracepoints saw it ($res/trace.txt)"
		sed -e 's/^ *//' "$res/trace.txt"
	fi
	echo
	lab_log "demo: checks of the lab (bind, unbind, kmemleak) and of the kernel log"
	if python3 "$P2PBUF_TOP/lab/summary.py" "$(dirname "$res")" "$topo" -- demo; then
		echo "demo: PASS ($topo; story in $res/demo.log)"
		return 0
	fi
	echo "demo: FAIL ($topo; logs in $res)"
	return 1
}

# The story, as a p2pbuf script: one process holds every fd and import.
demo_story() {
	local p=$P2PBUF_PROVIDER_BDF i=$P2PBUF_INITIATOR_BDF e=$P2PBUF_EXPECT_MAP
	local text="p2pbuf: written by the edu DMA engine into the ivshmem BAR"
	# 24 bytes before the end of range 0, the rest at the start of range 1.
	local off=0xffe8 head=${text:0:24} tail=${text:24}

	cat <<-EOF
	echo "== 1. Both drivers and their devices; INFO of the provider's BARs"
	list
	echo
	echo "== 2. Export two 64 KiB ranges of BAR 2, at 0 and at 1 MiB, as one dma-buf"
	open $p as exporter
	export exporter 2 0:64K 1M:64K as buf
	echo
	EOF
	if [ "$e" = NOT_SUPPORTED ]; then
		cat <<-EOF
		echo "== 3. Import into the edu device: p2pdma has no route between"
		echo "   the two devices here, so the exporter refuses the attachment"
		expect EXDEV import $i buf
		query buf
		echo
		echo "== 4. Close the exporter's file: the buffer is revoked for good"
		close exporter
		close buf
		EOF
		return
	fi
	cat <<-EOF
	echo "== 3. Import the dma-buf into the edu device (dynamic, revocable)"
	import $i buf as imp
	echo
	echo "== 4. Map it for the edu device; the map type seen from both sides"
	map imp expect $e
	query buf
	echo
	echo "== 5. The edu DMA engine writes ${#text} bytes across the two ranges;"
	echo "   the CPU reads the BAR, then the engine reads them back"
	dma imp write $off "$text"
	peek $p 2 $off ${#head} expect "$head"
	peek $p 2 0x100000 ${#tail} expect "$tail"
	dma imp read $off ${#text} expect "$text"
	echo
	echo "== 6. Close the exporter's file: the exporter revokes the buffer,"
	echo "   the importer unmaps and reports the event"
	close exporter
	watch imp 5000
	status imp
	echo
	echo "== 7. Map again: the exporter refuses, the buffer is gone"
	expect ENODEV map imp
	release imp
	close buf
	EOF
}

# The events the story's steps leave in the trace (docs/tracing.rst), the
# first appearance of each in this order; then those of the revoke, which
# nest (the importer's invalidation runs inside the exporter's revoke), in
# any order. KTAP line 2.
demo_trace_check() { # TRACE
	local ev want also missing='' last=0 n
	if [ "$P2PBUF_EXPECT_MAP" = NOT_SUPPORTED ]; then
		want="p2pbuf_exp_export p2pbuf_exp_attach_refused p2pbuf_imp_attach p2pbuf_exp_revoke"
		also=
	else
		want="p2pbuf_exp_export p2pbuf_imp_attach p2pbuf_imp_map p2pbuf_imp_dma p2pbuf_exp_revoke"
		also="p2pbuf_exp_revoke_buf p2pbuf_imp_invalidate"
	fi
	if [ ! -s "$1" ]; then
		echo "not ok 2 the tracepoints tell the story # no trace (tracefs or the events missing)"
		return
	fi
	for ev in $want; do
		n=$(grep -n " $ev: " "$1" | head -n 1 | cut -d: -f1)
		if [ -z "$n" ]; then
			missing="$missing $ev"
		elif [ "$n" -lt "$last" ]; then
			missing="$missing $ev(out of order)"
		else
			last=$n
		fi
	done
	for ev in $also; do
		grep -q " $ev: " "$1" || missing="$missing $ev"
	done
	if [ -z "$missing" ]; then
		echo "ok 2 the tracepoints tell the story: $want $also"
	else
		echo "not ok 2 the tracepoints tell the story: missing$missing"
	fi
}

# demo_run R: tell the story with the tool P2PBUF_TOOL, the devices bound;
# R gets demo.log, trace.txt, demo.ktap and demo.rc. The lab's guest
# (demo_guest) and the distribution kernel's (lab/guest/distro-init.sh)
# both call it.
demo_run() {
	local R=$1 rc T=/sys/kernel/tracing

	{
		echo "p2pbuf demo: topology $P2PBUF_TOPOLOGY, kernel $(uname -r)"
		echo "  provider  $P2PBUF_PROVIDER_BDF (ivshmem, $(numfmt --to=iec "${P2PBUF_PROVIDER_BAR_BYTES:-0}") BAR 2) -> p2pbuf_exporter"
		echo "  initiator $P2PBUF_INITIATOR_BDF (edu, DMA engine) -> p2pbuf_importer"
		echo "  expected map type: $P2PBUF_EXPECT_MAP"
		echo
	} > "$R/demo.log"
	# Both modules' tracepoints record the story (docs/tracing.rst).
	mountpoint -q $T || mount -t tracefs tracefs $T 2> /dev/null
	if [ -w $T/events/p2pbuf_exp/enable ] && [ -w $T/events/p2pbuf_imp/enable ]; then
		: > $T/trace
		echo 1 > $T/events/p2pbuf_exp/enable
		echo 1 > $T/events/p2pbuf_imp/enable
	fi
	guest_log "demo: story"
	demo_story | "${P2PBUF_TOOL:?}" script - >> "$R/demo.log" 2>&1
	rc=$?
	guest_log "demo: story exit $rc"
	if [ -w $T/events/p2pbuf_exp/enable ]; then
		echo 0 > $T/events/p2pbuf_exp/enable
		echo 0 > $T/events/p2pbuf_imp/enable
		grep -v '^#' $T/trace > "$R/trace.txt"
	fi
	{
		echo
		if [ "$rc" -eq 0 ]; then
			echo "story: every step succeeded"
		else
			echo "story: FAILED (p2pbuf exit status $rc)"
		fi
	} >> "$R/demo.log"
	{
		echo "TAP version 13"
		echo "1..2"
		[ "$rc" -eq 0 ] && echo "ok 1 demo story" || echo "not ok 1 demo story"
		demo_trace_check "$R/trace.txt"
	} > "$R/demo.ktap"
	# Both lines count: a story without its trace is not a pass.
	if grep -q '^not ok' "$R/demo.ktap" && [ "$rc" -eq 0 ]; then rc=1; fi
	echo "$rc" > "$R/demo.rc"
}

demo_guest() {
	R=/tmp/results
	# shellcheck source=/dev/null
	. "$R/env.sh"
	# shellcheck source=/dev/null
	. "$R/demo.conf"
	# shellcheck source=lab/guest/lib.sh
	. "$P2PBUF_TOP/lab/guest/lib.sh"

	if [ -e /sys/kernel/debug/kmemleak ]; then
		echo scan > /sys/kernel/debug/kmemleak
		echo clear > /sys/kernel/debug/kmemleak
	fi
	guest_setup
	demo_run "$R"
	guest_teardown
	guest_detector_state
	guest_log "done"
	dmesg > "$R/dmesg.txt"
}

# Sourced (lab/guest/distro-init.sh): the functions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

case "${1:-}" in
guest)
	demo_guest
	;;
"")
	demo_host
	;;
*)
	echo "usage: $0 [guest]" >&2
	exit 2
	;;
esac
