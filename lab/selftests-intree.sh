#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests/ dropped unchanged into a kernel tree as
# tools/testing/selftests/p2pbuf, with the uAPI headers where they would
# live upstream (include/uapi/linux/), built and installed by the kernel's
# own selftest build. KTAP on stdout.
#
#   selftests-intree.sh [KOBJ]   (default: the lab kernel, built if needed)
#
# The kernel tree is never modified: the build runs in a copy made of
# symbolic links (cp -as) into a temporary directory, with O= output there.
set -uo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

kobj=${1:-$("$P2PBUF_TOP/lab/kernel.sh")}
src=$(readlink -f "$kobj/source")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/p2pbuf-intree.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/linux obj=$tmp/obj
progs=$(suites_list)

LAB_KTAP_LOG=$tmp/log

# The functions below are called through ktap_step(), which shellcheck cannot see.
# shellcheck disable=SC2317
copy_tree() {
	cp -as "$src" "$tree"
}
# shellcheck disable=SC2317
drop_in() {
	cp -r "$P2PBUF_TOP/selftests" "$tree/tools/testing/selftests/p2pbuf" &&
		cp "$P2PBUF_TOP"/uapi/linux/*.h "$tree/include/uapi/linux/"
}
# shellcheck disable=SC2317
headers() {
	make -C "$tree" O="$obj" -j"$(nproc)" headers &&
		test -f "$obj/usr/include/linux/p2pbuf_exporter.h"
}
# shellcheck disable=SC2317
selftests_build() {
	make -C "$tree/tools/testing/selftests" TARGETS=p2pbuf O="$obj" V=1 \
		-j"$(nproc)" > "$tmp/build.log" 2>&1
	local rc=$?
	cat "$tmp/build.log"
	[ "$rc" -eq 0 ] || return 1
	# The headers came from the O= tree, through KHDR_INCLUDES.
	grep -q -- "-isystem $obj/usr/include" "$tmp/build.log"
}
# shellcheck disable=SC2317
all_built() {
	local p
	for p in $progs; do
		[ -x "$obj/kselftest/p2pbuf/$p" ] || { echo "missing: $p"; return 1; }
	done
}
# shellcheck disable=SC2317
selftests_install() {
	local p
	make -C "$tree/tools/testing/selftests" TARGETS=p2pbuf O="$obj" install || return 1
	for p in $progs; do
		grep -qx "p2pbuf:$p" "$obj/kselftest/kselftest_install/kselftest-list.txt" ||
			{ echo "p2pbuf:$p not in kselftest-list.txt"; return 1; }
	done
}
# shellcheck disable=SC2317
source_untouched() {
	local changed

	changed=$(find "$src" -newer "$tmp/stamp" -print | head -n 10)
	[ -z "$changed" ] || { echo "changed: $changed"; return 1; }
}

lab_log "selftests in tree: $src (copy in $tmp)"
touch "$tmp/stamp"
ktap_step "copy of the kernel tree (symbolic links)" copy_tree
ktap_step "selftests/ as tools/testing/selftests/p2pbuf, uapi/linux/*.h as include/uapi/linux/" drop_in
ktap_step "make headers O=... installs the p2pbuf uAPI" headers
ktap_step "make -C tools/testing/selftests TARGETS=p2pbuf O=... (KHDR_INCLUDES from O=)" selftests_build
ktap_step "built: ${progs//$'\n'/ }" all_built
ktap_step "make ... install: run_kselftest.sh lists every p2pbuf test" selftests_install
ktap_step "kernel source tree untouched" source_untouched

ktap_finish
