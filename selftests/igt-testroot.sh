#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Assemble an igt_runner test root for the p2pbuf selftests.
#
#   igt-testroot.sh BUILT_DIR OUT_DIR [SUITE...] [-- IGT_TEST...]
#
# BUILT_DIR holds the built suites and igt_adapter (the selftests' OUTPUT).
# OUT_DIR gets a copy of each SUITE (default: every program in
# selftests/suites) and of igt_adapter, one symlink igt-<SUITE> -> igt_adapter
# per suite, and test-list.txt naming the igt-<SUITE> entries. Each IGT_TEST
# after "--" (e.g. vgem_basic) becomes a symlink to igt's installed test
# (IGT_TESTS_DIR, default /usr/libexec/igt-gpu-tools, as seen where
# igt_runner runs) and is added to test-list.txt. Then:
#
#   igt_runner [options] OUT_DIR RESULTS_DIR
#
# runs every harness test as igt@igt-<suite>@<fixture>-<variant>-<test>.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '3,17p' "$0" >&2; exit 2; }
built=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
suites=() igt=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do suites+=("$1"); shift; done
[ $# -gt 0 ] && shift
igt=("$@")
[ ${#suites[@]} -gt 0 ] ||
	mapfile -t suites < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/suites" | awk '{ print $1 }')
igt_dir=${IGT_TESTS_DIR:-/usr/libexec/igt-gpu-tools}

mkdir -p "$out"
cp -f "$built/igt_adapter" "$out/igt_adapter"
list=()
for s in "${suites[@]}"; do
	[ -x "$built/$s" ] || { echo "igt-testroot: $built/$s is missing" >&2; exit 1; }
	cp -f "$built/$s" "$out/$s"
	ln -sfn igt_adapter "$out/igt-$s"
	list+=("igt-$s")
done
for t in "${igt[@]}"; do
	ln -sfn "$igt_dir/$t" "$out/$t"
	list+=("$t")
done
{
	echo TESTLIST
	echo "${list[*]}"
	echo END TESTLIST
} > "$out/test-list.txt"
