#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make fuzz: a long run of fuzz_test in one topology.
#
# The check job of make check (lab/check.sh), restricted to one topology
# (P2PBUF_TOPO, default "switch") and to the suite fuzz_test, without lint
# and igt. Knobs, passed to the guest: P2PBUF_FUZZ_CALLS (default 100000)
# and P2PBUF_FUZZ_SEED (default: from the clock; printed in fuzz_test.ktap,
# and with the failing call's index on a failure, for replay).
# P2PBUF_SUITE_TIMEOUT (default 5400 s) bounds the run; the boot gets 600 s
# more. Results: $P2PBUF_RESULTS (default results/fuzz/), as make check's.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

export P2PBUF_TOPOS=${P2PBUF_TOPO:-switch}
export P2PBUF_SUITES=fuzz_test
export P2PBUF_LINT=0 P2PBUF_IGT=0 P2PBUF_DETECTORS=0 P2PBUF_DISTRO=0
export P2PBUF_FUZZ_CALLS=${P2PBUF_FUZZ_CALLS:-100000}
export P2PBUF_SUITE_TIMEOUT=${P2PBUF_SUITE_TIMEOUT:-5400}
export P2PBUF_BOOT_TIMEOUT=${P2PBUF_BOOT_TIMEOUT:-$((P2PBUF_SUITE_TIMEOUT + 600))}
export P2PBUF_RESULTS=${P2PBUF_RESULTS:-$top/results/fuzz}
[ -n "${P2PBUF_FUZZ_SEED:-}" ] && export P2PBUF_FUZZ_SEED
exec "$top/lab/check.sh"
