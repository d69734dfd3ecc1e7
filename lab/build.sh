#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the modules and the selftests against the lab kernel.
#   build.sh KOBJ BUILD_DIR
# Modules go to BUILD_DIR/modules (MO=), lab/test-modules to
# BUILD_DIR/test-modules, test programs to BUILD_DIR/selftests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kobj=$1 out=$2
src=$(readlink -f "$kobj/source")
mkdir -p "$out/modules" "$out/selftests"
lab_log "build: modules (W=1) against $(cat "$kobj/include/config/kernel.release")"
# P2PBUF_KUNIT=m: the KUnit test modules too (exporter/ and importer/
# maptype_kunit.c), which the product build (make, DKMS) leaves out.
if ! make -s -j"$(nproc)" -C "$kobj" M="$P2PBUF_TOP" MO="$out/modules" W=1 P2PBUF_KUNIT=m \
	modules > "$out/modules.log" 2>&1; then
	cat "$out/modules.log" >&2
	lab_die "module build failed"
fi
# Lab-only test modules (lab/test-modules/*/), never part of the product.
for d in "$P2PBUF_TOP"/lab/test-modules/*/; do
	[ -f "$d/Kbuild" ] || continue
	d=${d%/}
	if ! make -s -C "$kobj" M="$d" MO="$out/modules/test-modules/${d##*/}" W=1 modules \
		>> "$out/modules.log" 2>&1; then
		cat "$out/modules.log" >&2
		lab_die "lab test module ${d##*/} build failed"
	fi
done
if grep -E 'warning:|error:' "$out/modules.log" >&2; then
	lab_die "module build has warnings (W=1)"
fi
# Lab-only test modules (lab/test-modules/), never part of the product.
if ! make -s -j"$(nproc)" -C "$kobj" M="$P2PBUF_TOP/lab/test-modules" MO="$out/test-modules" W=1 modules \
	> "$out/test-modules.log" 2>&1 || grep -E 'warning:|error:' "$out/test-modules.log" >&2; then
	cat "$out/test-modules.log" >&2
	lab_die "lab test module build failed or has warnings (W=1)"
fi
lab_log "build: selftests"
if ! make -s -j"$(nproc)" -C "$P2PBUF_TOP/selftests" KSRC="$src" KHDR_INCLUDES="-isystem $kobj/usr/include" \
	OUTPUT="$out/selftests" > "$out/selftests.log" 2>&1; then
	cat "$out/selftests.log" >&2
	lab_die "selftest build failed"
fi
lab_log "build: tools"
if ! make -s -j"$(nproc)" -C "$P2PBUF_TOP/tools" OUTPUT="$out/tools" KHDR_INCLUDES="-isystem $kobj/usr/include" \
	> "$out/tools.log" 2>&1; then
	cat "$out/tools.log" >&2
	lab_die "tools build failed"
fi
