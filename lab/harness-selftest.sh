#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Harness self-test: a run in which a module WARNs must fail, through the
# splat detector, with the WARNING excerpt shown. Not part of make check.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KOBJ=$("$P2PBUF_TOP/lab/kernel.sh")
out=${P2PBUF_BUILD:-$P2PBUF_TOP/build}/lab-warn
mkdir -p "$out"
make -s -C "$KOBJ" M="$P2PBUF_TOP/lab/selftest-module" MO="$out" modules >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
P2PBUF_TOPOS=${P2PBUF_TOPOS:-switch} P2PBUF_SUITES=${P2PBUF_SUITES:-lab_test} \
	P2PBUF_EXTRA_MODULES="$out/p2pbuf_lab_warn.ko" P2PBUF_LINT=0 \
	P2PBUF_RESULTS=${P2PBUF_RESULTS:-$P2PBUF_TOP/results-harness-selftest} \
	"$P2PBUF_TOP/lab/check.sh" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo
if [ "$rc" -ne 0 ] && grep -q 'kernel WARNING' "$log" &&
	grep -q 'p2pbuf lab harness self-test: deliberate warning' "$log"; then
	echo "harness self-test: PASS - the deliberate WARN failed the run (exit $rc)"
	exit 0
fi
echo "harness self-test: FAIL - a WARNing module did not fail the run (exit $rc)"
exit 1
