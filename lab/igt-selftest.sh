#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# igt harness self-test, not part of make check: a deliberately failing
# subtest run by igt_runner (selftests/igt_canary through igt_adapter) must
# come back as "fail" in results.json, as "not ok" in the igt KTAP, and make
# the run fail; its passing sibling must pass. One boot of the switch
# topology, only lab_test as a KTAP suite, no igt peer tests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

res=${P2PBUF_RESULTS:-$P2PBUF_TOP/results-igt-selftest}
topo=${P2PBUF_IGT_TOPO:-switch}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
P2PBUF_TOPOS=$topo P2PBUF_SUITES=lab_test P2PBUF_LINT=0 P2PBUF_IGT=1 \
	P2PBUF_DETECTORS=0 P2PBUF_DISTRO=0 \
	P2PBUF_IGT_SUITES=igt_canary P2PBUF_IGT_TESTS= P2PBUF_RESULTS=$res \
	"$P2PBUF_TOP/lab/check.sh" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo
fail=igt@igt-igt_canary@deliberate_failure
pass=igt@igt-igt_canary@canary_pass
json=$res/$topo/igt/results.json
verdict() { # NAME: its result in results.json
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tests"].get(sys.argv[2], {}).get("result", "absent"))' "$json" "$1" 2>/dev/null || echo "no results.json"
}
vf=$(verdict "$fail") vp=$(verdict "$pass")
echo "results.json: $fail: $vf; $pass: $vp; check.sh exit $rc"
if [ "$rc" -ne 0 ] && [ "$vf" = fail ] && [ "$vp" = pass ] &&
	grep -q "^not ok [0-9]* $fail\$" "$res/host/igt-$topo.ktap" &&
	grep -q "^ok [0-9]* $pass\$" "$res/host/igt-$topo.ktap"; then
	echo "igt harness self-test: PASS - the deliberate failure reached results.json and failed the run"
	exit 0
fi
echo "igt harness self-test: FAIL - the deliberate failure was not seen as a failure"
exit 1
