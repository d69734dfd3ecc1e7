# SPDX-License-Identifier: GPL-2.0
# The lab's igt run, sourced by lab/check.sh. Never executed.
#
# In one topology (P2PBUF_IGT_TOPO, default switch) the guest runs, after the
# KTAP suites, igt_runner over our suites (through igt_adapter) and over
# igt's own vgem/dma-buf peer tests (two passes, lab/guest/igt.sh), chrooted into a Debian unstable root with igt
# (lab/igt-rootfs.sh, cached). The host then turns the run's results.json
# into results/host/igt-<topo>.ktap, which lab/summary.py counts like any
# host suite. Only one topology, and only the first P2PBUF_IGT_SUBTESTS
# (default 2) subtests of each of our suites: the KTAP pass has run every
# test; the igt pass proves that each suite speaks igt's protocol under
# igt_runner, and runs igt's own tests (docs/lab.rst).
#
# Environment: P2PBUF_IGT=0 turns it off; P2PBUF_IGT_TOPO; P2PBUF_IGT_SUITES
# (default: P2PBUF_SUITES); P2PBUF_IGT_SUBTESTS (per suite; empty: every
# subtest); P2PBUF_IGT_TESTS (igt's tests, default below);
# P2PBUF_IGT_ARGS (extra igt_runner options, both passes);
# P2PBUF_IGT_MULTIPLE (0: our suites one execution per subtest);
# P2PBUF_IGT_TEST_TIMEOUT (per subtest, default 180 s); P2PBUF_IGT_TIMEOUT
# (both passes, default 1200 s, added to the igt topology's boot timeout).
# Under TCG each execution costs about a second of igt_runner's and the
# loader's work (docs/lab.rst has the measured figures).

# igt's tests that run on vgem (see /work/shared/notes/igt.md, section 3):
# vgem_basic (unload skips: vgem is built in; dmabuf-export skips: no second
# DRM device), dmabuf_sync_file (SW_SYNC is built in), vgem_slow (~11 s).
IGT_DEFAULT_TESTS="vgem_basic dmabuf_sync_file vgem_slow"

# igt_prepare TOPOS: build or reuse the rootfs if the igt topology is selected.
igt_prepare() {
	IGT_TOPO=
	[ "${P2PBUF_IGT:-1}" = 1 ] || return 0
	case " $1 " in
	*" ${P2PBUF_IGT_TOPO:-switch} "*) ;;
	*)
		lab_log "igt: topology ${P2PBUF_IGT_TOPO:-switch} not selected; no igt run"
		return 0
		;;
	esac
	IGT_TOPO=${P2PBUF_IGT_TOPO:-switch}
	# A failed build is not fatal here: the guest then finds no igt_runner
	# and the missing results.json fails the igt suite.
	IGT_ROOTFS=$("$P2PBUF_TOP/lab/igt-rootfs.sh") ||
		{ lab_log "igt: ERROR: root filesystem build failed"; IGT_ROOTFS=/nonexistent; }
	lab_log "igt: in topology $IGT_TOPO, rootfs $IGT_ROOTFS"
}

# igt_env TOPO: export the guest's igt settings for this boot (or none),
# and give that boot the igt run's time on top of its own timeout.
IGT_BOOT_TIMEOUT_SAVED=${P2PBUF_BOOT_TIMEOUT-unset}
igt_env() {
	unset P2PBUF_IGT_ROOTFS
	if [ "$IGT_BOOT_TIMEOUT_SAVED" = unset ]; then
		unset P2PBUF_BOOT_TIMEOUT
	else
		export P2PBUF_BOOT_TIMEOUT=$IGT_BOOT_TIMEOUT_SAVED
	fi
	[ -n "$IGT_TOPO" ] && [ "$1" = "$IGT_TOPO" ] || return 0
	export P2PBUF_IGT_ROOTFS=$IGT_ROOTFS
	# Not the canaries (conform_canary): they fail on purpose, and their
	# verdict is the KTAP pass's, through lab/xfail.manifest.
	local s suites=
	for s in $P2PBUF_SUITES; do
		case "$s" in *_canary) ;; *) suites="$suites${suites:+ }$s" ;; esac
	done
	export P2PBUF_IGT_SUITES=${P2PBUF_IGT_SUITES:-$suites}
	export P2PBUF_IGT_TESTS=${P2PBUF_IGT_TESTS-$IGT_DEFAULT_TESTS}
	export P2PBUF_IGT_ARGS=${P2PBUF_IGT_ARGS:-}
	export P2PBUF_IGT_SUBTESTS=${P2PBUF_IGT_SUBTESTS-2}
	export P2PBUF_IGT_TEST_TIMEOUT=${P2PBUF_IGT_TEST_TIMEOUT:-180}
	export P2PBUF_IGT_TIMEOUT=${P2PBUF_IGT_TIMEOUT:-1200}
	export P2PBUF_BOOT_TIMEOUT=$((${P2PBUF_BOOT_TIMEOUT:-1800} + P2PBUF_IGT_TIMEOUT))
}

# igt_collect RESULTS TOPO: results.json -> RESULTS/host/igt-TOPO.ktap.
igt_collect() {
	[ -n "$IGT_TOPO" ] && [ "$2" = "$IGT_TOPO" ] || return 0
	mkdir -p "$1/host"
	# summary.py fails a suite listed here whose KTAP never appeared.
	echo "igt-$2" >> "$1/host/expected.txt"
	lab_log "$(python3 "$P2PBUF_TOP/lab/igt-results.py" "$1/$2" "$1/host/igt-$2.ktap")"
}
