#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lab-selftest: the detector self-test alone (lab/detector-selftest.sh),
# which make check also runs as the host suite "detectors". Passes only if
# every class of kernel report fails its run, named by the summary.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

res=${P2PBUF_RESULTS:-$P2PBUF_TOP/results-harness-selftest}
mkdir -p "$res"
P2PBUF_RESULTS=$res "$P2PBUF_TOP/lab/detector-selftest.sh" | tee "$res/detectors.ktap"
rc=${PIPESTATUS[0]}
echo
if [ "$rc" -eq 0 ]; then
	echo "detector self-test: PASS - every class of kernel report failed its run (logs in $res/detectors)"
	exit 0
fi
echo "detector self-test: FAIL - see the 'not ok' lines above (logs in $res/detectors)"
exit 1
