#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lint: static checks on all sources, as KTAP on stdout.
#   lint.sh [KOBJ]   (default: the lab kernel, built if needed)
# checkpatch --strict, kernel-doc -Wall -Werror, uAPI header
# self-containment (C and C++), sparse and coccicheck when usable. A checker
# that cannot run is reported as SKIP with the reason, never as a pass.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kobj=${1:-$("$P2PBUF_TOP/lab/kernel.sh")}
src=$(readlink -f "$kobj/source")
cd "$P2PBUF_TOP" || exit 1

c_files=$(git ls-files -- 'exporter/*.[ch]' 'importer/*.[ch]' 'uapi/*.h' \
	'lab/selftest-module/*.c' 'lab/test-modules/*.[ch]' 2>/dev/null)
test_files=$(git ls-files -- 'selftests/*.[ch]' 'tools/*.[ch]' 2>/dev/null)
kdoc_files=$(git ls-files -- 'exporter/*.[ch]' 'importer/*.[ch]' 'uapi/*.h' 2>/dev/null)
headers=$(git ls-files -- 'uapi/linux/*.h')

LAB_KTAP_LOG=$(mktemp)
trap 'rm -f "$LAB_KTAP_LOG"' EXIT

cp_run() { # quiet on success; any finding fails
	local o
	o=$(perl "$src/scripts/checkpatch.pl" --no-tree --strict --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG $CP_EXTRA -f "$@" |
		grep -E 'ERROR|WARNING|CHECK')
	[ -z "$o" ] || { echo "$o"; return 1; }
}
CP_EXTRA=
ktap_step "checkpatch --strict: kernel sources" cp_run $(echo "$c_files" | grep -v '^uapi/')
# BIT() does not exist in uAPI headers, so BIT_MACRO does not apply there.
CP_EXTRA="--ignore BIT_MACRO"
ktap_step "checkpatch --strict: uapi headers" cp_run $headers
CP_EXTRA=
if [ -n "$test_files" ]; then
	ktap_step "checkpatch --strict: selftests and tools" cp_run $test_files
fi

kdoc_run() {
	local o
	o=$("$src/scripts/kernel-doc" -none -Wall "$@" 2>&1)
	[ -z "$o" ] || { echo "$o"; return 1; }
}
ktap_step "kernel-doc -Wall: exporter, importer, uapi" kdoc_run $kdoc_files

hdr_c() {
	local h
	for h in $headers; do
		gcc -std=c90 -Wall -Werror -Werror=implicit-function-declaration -fsyntax-only \
			-isystem "$kobj/usr/include" -Iuapi -x c /dev/null -include "$h" -include "$h" || return 1
	done
}
hdr_cxx() {
	local h
	for h in $headers; do
		g++ -std=c++98 -Wall -Werror -fsyntax-only -isystem "$kobj/usr/include" -Iuapi \
			-x c++ /dev/null -include "$h" -include "$h" || return 1
	done
}
ktap_step "uapi headers self-contained (C90)" hdr_c
if command -v g++ > /dev/null; then
	ktap_step "uapi headers self-contained (C++98)" hdr_cxx
else
	ktap_skip "uapi headers self-contained (C++98)" "g++ not installed"
fi

if [ "$(sh "$src/scripts/checker-valid.sh" sparse 2>/dev/null)" = 1 ]; then
	sparse_run() {
		make -s -C "$kobj" M="$P2PBUF_TOP" MO="$(mktemp -d)" C=2 P2PBUF_KUNIT=m modules 2>&1 |
			grep -E 'warning|error' && return 1
		return 0
	}
	ktap_step "sparse" sparse_run
else
	ktap_skip "sparse" "not run - sparse missing or too old for this tree (scripts/checker-valid.sh)"
fi

if command -v spatch > /dev/null; then
	cocci_run() {
		local o rc=0
		# coccicheck echoes every spatch command line: keep only findings
		# (file:line: ...) and failures of the checker itself.
		o=$(make -s -C "$kobj" M="$P2PBUF_TOP" MO="$(mktemp -d)" coccicheck MODE=report \
			DEBUG_FILE=/dev/null 2>&1) || rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "$o" | grep -vE '^/usr/bin/spatch' | tail -n 20
			return 1
		fi
		o=$(echo "$o" | grep -E '^[^ ]+\.[ch]:[0-9]+')
		[ -z "$o" ] || { echo "$o"; return 1; }
	}
	ktap_step "coccicheck MODE=report" cocci_run
else
	ktap_skip "coccicheck" "not run - coccinelle (spatch) not installed"
fi

ktap_finish
