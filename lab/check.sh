#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: install what is missing, build (or reuse) the debug kernel,
# build modules and tests, boot every topology, run every suite, detect
# splats, and print one summary ending in "N passed, N failed, N skipped".
#
# Environment: P2PBUF_TOPOS (default: all), P2PBUF_SUITES (default: every
# program in selftests/suites), P2PBUF_CACHE, KSRC, P2PBUF_KVM=1,
# P2PBUF_RESULTS (default: results/ in the repository).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$P2PBUF_TOP/lab/topologies.sh"
. "$P2PBUF_TOP/lab/igt.sh"

t0=$(date +%s)
lab_prepare

topos=${P2PBUF_TOPOS:-$P2PBUF_TOPOLOGIES}
results=${P2PBUF_RESULTS:-$P2PBUF_TOP/results}
rm -rf "$results"
mkdir -p "$results/host"
if [ "${P2PBUF_LINT:-1}" = 1 ]; then
	lab_log "lint"
	"$P2PBUF_TOP/lab/lint.sh" "$KOBJ" > "$results/host/lint.ktap" || true
	"$P2PBUF_TOP/lab/selftests-intree.sh" "$KOBJ" > "$results/host/selftests-intree.ktap" || true
	"$P2PBUF_TOP/lab/dkms-check.sh" "$KOBJ" > "$results/host/dkms.ktap" || true
fi
export P2PBUF_SUITES=${P2PBUF_SUITES:-$(sed -e 's/#.*//' -e '/^$/d' "$P2PBUF_TOP/selftests/suites" | tr '\n' ' ')}

lab_log "kernel $(cat "$KOBJ/include/config/kernel.release") ($(basename "$KOBJ")), topologies: $topos"
lab_log "suites: $P2PBUF_SUITES"
igt_prepare "$topos"
for topo in $topos; do
	igt_env "$topo"
	"$P2PBUF_TOP/lab/vm.sh" "$topo" "${P2PBUF_JOB:-check}" "$results/$topo" && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] && why="timeout" || why="guest did not finish (status $rc)"
		echo "$why" > "$results/$topo/boot-failed"
	fi
	lab_log "topology $topo: $(cat "$results/$topo/boot-seconds") s"
	igt_collect "$results" "$topo"
done

lab_log "total time $(($(date +%s) - t0)) s"
# shellcheck disable=SC2086
python3 "$P2PBUF_TOP/lab/summary.py" "$results" $topos -- $P2PBUF_SUITES
