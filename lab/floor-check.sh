#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The floor: a kernel without the API the modules need (kernel-floor.mk)
# must stop make and DKMS with one clear message, before kbuild compiles
# anything; the lab kernel and Linux 7.3 must pass. Also: patches/ applies
# to both sources, 7.2 and 7.3, and a planted patch does not. KTAP on stdout.
#
#   floor-check.sh [KOBJ]     (default: the lab kernel, built if needed)
#
# The kernel below the floor is Debian 13's (trixie main): the headers of
# its current linux-headers-amd64 (linux-headers-<abi>-amd64, -common and
# linux-kbuild-<abi>), downloaded through a private apt configuration
# (lab_apt) and unpacked once into $P2PBUF_CACHE/headers/, with the
# -amd64 Makefile's "include /usr/src/..." pointed into that directory, as
# if the packages were installed there. dkms runs with private trees, as in
# lab/dkms-check.sh: Debian 12's dkms (the host's) and Debian unstable's
# (unpacked from its package, run from there).
set -uo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"
# A user's make, not a sub-make of make check's (which would print
# "Entering directory" around every step and pass its flags down).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

kobj=${1:-$("$P2PBUF_TOP/lab/kernel.sh")}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/p2pbuf-floor.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
LAB_KTAP_LOG=$tmp/log
min=$(sed -n 's/^P2PBUF_MIN_LINUX := //p' "$P2PBUF_TOP/kernel-floor.mk")
api=$(sed -n 's/^[[:space:]]*include\/linux\/[a-z0-9-]*\.h:\([a-z0-9_]*\).*/\1()/p' "$P2PBUF_TOP/kernel-floor.mk")
headers_root=$P2PBUF_CACHE/headers
old_kdir="" old_rel=""

# The functions below are called through ktap_step(), which shellcheck cannot see.
# shellcheck disable=SC2317
fetch_old_headers() {
	local meta abi ver pkgs p deb root
	lab_apt trixie || return 1
	meta=$(apt-cache "${LAB_APT_OPTS[@]}" show --no-all-versions linux-headers-amd64) || return 1
	abi=$(sed -n 's/^Depends:.*linux-headers-\([^ ,]*\)-amd64 (= .*/\1/p' <<< "$meta")
	ver=$(awk '/^Version:/ { print $2; exit }' <<< "$meta")
	if [ -z "$abi" ] || [ -z "$ver" ]; then
		echo "no linux-headers-<abi>-amd64 in: $meta"
		return 1
	fi
	root=$headers_root/linux-headers-${abi}-amd64_$ver
	pkgs=("linux-headers-$abi-amd64" "linux-headers-$abi-common" "linux-kbuild-$abi")
	if [ ! -f "$root/.p2pbuf-unpacked" ]; then
		rm -rf "$root"
		mkdir -p "$root"
		for p in "${pkgs[@]}"; do
			deb=$(lab_apt_download "$p" "$ver") || return 1
			dpkg-deb -x "$deb" "$root" || return 1
		done
		# Installed under $root instead of /: the one absolute path.
		sed -i "s|^include /usr/src/|include $root/usr/src/|" "$root/usr/src/linux-headers-$abi-amd64/Makefile"
		touch "$root/.p2pbuf-unpacked"
		# Older ABIs of the same series are not needed any more.
		find "$headers_root" -mindepth 1 -maxdepth 1 -name 'linux-headers-*' ! -path "$root" \
			-exec rm -rf {} +
	fi
	old_kdir=$root/usr/lib/modules/$abi-amd64/build
	old_rel=$abi-amd64
	echo "${pkgs[*]} $ver in $root"
	[ -f "$old_kdir/.config" ]
}

# The output of the last make/dkms run, and its exit status.
outf=$tmp/out
rc=0
# shellcheck disable=SC2317
run() {
	rc=0
	"$@" > "$outf" 2>&1 || rc=$?
	cat "$outf"
	echo "exit status: $rc"
}

# A clean checkout, as "dkms add ." copies it and as make builds it.
# shellcheck disable=SC2317
copy_checkout() {
	mkdir -p "$tmp/checkout" &&
		(cd "$P2PBUF_TOP" && git ls-files -z --cached --others --exclude-standard |
			xargs -0 tar -c --no-recursion) | tar -x -C "$tmp/checkout"
}

# make in the checkout, as a user runs it: no -C, so that only a sub-make
# (kbuild) prints "Entering directory".
# shellcheck disable=SC2317
make_here() {
	(cd "$tmp/checkout" && make "$@")
}

# shellcheck disable=SC2317
make_fails() { # KDIR TARGET...
	local kdir=$1
	shift
	rm -rf "$tmp/mo" && mkdir -p "$tmp/mo"
	run make_here KDIR="$kdir" MO="$tmp/mo" "$@"
	[ "$rc" -ne 0 ]
}

# One line of make's, naming every missing function and the minimum.
# shellcheck disable=SC2317
one_clear_message() {
	local f
	[ "$(wc -l < "$outf")" -eq 1 ] || { echo "more than one line"; return 1; }
	grep -q "\*\*\* p2pbuf needs Linux $min or later .*$old_rel.* lacks " "$outf" || return 1
	for f in $api; do
		grep -qF "$f" "$outf" || { echo "not named: $f"; return 1; }
	done
}

# kbuild never started: no sub-make, and nothing written to MO.
# shellcheck disable=SC2317
kbuild_not_run() {
	! grep -q 'Entering directory' "$outf" || { echo "kbuild ran"; return 1; }
	[ -z "$(find "$tmp/mo" -mindepth 1 -print -quit)" ] || { echo "MO not empty:"; find "$tmp/mo"; return 1; }
}

# make -C KDIR M=...: kbuild's own read of Kbuild stops at the same message
# before anything is compiled.
# shellcheck disable=SC2317
kbuild_stops() {
	rm -rf "$tmp/mo" && mkdir -p "$tmp/mo"
	run make -C "$old_kdir" M="$tmp/checkout" MO="$tmp/mo" modules
	[ "$rc" -ne 0 ] || return 1
	grep -q "Kbuild:.*\*\*\* p2pbuf needs Linux $min or later .* lacks " "$outf" || return 1
	[ -z "$(find "$tmp/mo" -name '*.o' -print -quit)" ] || { echo "objects were compiled"; return 1; }
}

# dkms_skips NAME DKMS... -- CHECKOUT RELEASE KDIR: dkms add and build in
# private trees; the build must be refused by BUILD_EXCLUSIVE (exit 77).
# shellcheck disable=SC2317
dkms_skips() {
	local name=$1 d=() rel kdir
	shift
	while [ "$1" != -- ]; do d+=("$1"); shift; done
	shift
	rel=$2 kdir=$3
	rm -rf "$tmp/dkms-$name" && mkdir -p "$tmp/dkms-$name"/{tree,src,install}
	d+=(--dkmstree "$tmp/dkms-$name/tree" --sourcetree "$tmp/dkms-$name/src"
		--installtree "$tmp/dkms-$name/install")
	"${d[@]}" add "$1" || return 1
	run "${d[@]}" build "p2pbuf/$ver" -k "$rel" --kernelsourcedir "$kdir"
	[ "$rc" -eq 77 ] && grep -q BUILD_EXCLUSIVE "$outf"
}

# Debian unstable's dkms, unpacked (it is a shell script).
new_dkms=
# shellcheck disable=SC2317
fetch_new_dkms() {
	local v deb s f
	read -ra s <<< "$P2PBUF_SRC_SUITES"
	read -ra f <<< "$P2PBUF_SRC_FALLBACK"
	lab_apt "${s[@]}" "${f[@]}" || return 1
	v=$(lab_apt_versions dkms | awk '$2 == "unstable"' | lab_version_max | cut -d' ' -f1)
	[ -n "$v" ] || { echo "no dkms in unstable"; return 1; }
	deb=$(lab_apt_download dkms "$v") || return 1
	mkdir -p "$tmp/dkms-deb" && dpkg-deb -x "$deb" "$tmp/dkms-deb" || return 1
	new_dkms=$tmp/dkms-deb/usr/sbin/dkms
	"$new_dkms" --version
}

# The same checkout, but the version minimum only as BUILD_EXCLUSIVE_KERNEL_MIN.
# shellcheck disable=SC2317
min_only_checkout() {
	cp -a "$tmp/checkout" "$tmp/checkout-min" &&
		sed -i '/^BUILD_EXCLUSIVE_KERNEL=/d' "$tmp/checkout-min/dkms.conf" &&
		grep -q "^BUILD_EXCLUSIVE_KERNEL_MIN=\"$min\"" "$tmp/checkout-min/dkms.conf"
}

# shellcheck disable=SC2317
passes() { # KDIR
	run make_here KDIR="$1" kernel-api
	[ "$rc" -eq 0 ] && [ ! -s "$outf" ]
}

lab_log "floor: $(echo "$api" | tr '\n' ' ')(Linux $min) against Debian 13's headers and $(basename "$kobj")"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$P2PBUF_TOP/dkms.conf")
krel=$(cat "$kobj/include/config/kernel.release")
# A release just below the minimum (7.1 -> 7.0.0-p2pbuf-floor).
below=${min%.*}.$((${min##*.} - 1)).0-p2pbuf-floor
ktap_step "checkout" copy_checkout
ktap_step "Debian 13 headers (trixie: linux-headers-amd64's linux-headers-<abi>-amd64, -common, linux-kbuild)" \
	fetch_old_headers
# ktap_step runs in this shell: fetch_old_headers set old_kdir.
if [ -n "$old_kdir" ]; then
	ktap_step "make KDIR=<$old_rel> fails" make_fails "$old_kdir"
	ktap_step "... with one message naming ${api//$'\n'/ } and Linux $min" one_clear_message
	ktap_step "... before kbuild runs (no sub-make, nothing in MO=)" kbuild_not_run
	ktap_step "make modules_install KDIR=<$old_rel> fails the same way" make_fails "$old_kdir" modules_install
	ktap_step "... with the same message" one_clear_message
	ktap_step "make -C <$old_rel> M=... (kbuild directly) stops at Kbuild's same message, nothing compiled" \
		kbuild_stops
	ktap_step "dkms $(dkms --version | sed 's/^dkms-//') build -k $old_rel: skipped by BUILD_EXCLUSIVE (77)" \
		dkms_skips old dkms -- "$tmp/checkout" "$old_rel" "$old_kdir"
else
	for t in "make KDIR=<6.12> fails" "... with one message" "... before kbuild runs" \
		"make modules_install fails" "... with the same message" "make -C <6.12> M=... stops" \
		"dkms build -k <6.12>: skipped"; do
		ktap_skip "$t" "no Debian 13 headers"
	done
fi
ktap_step "dkms $(dkms --version | sed 's/^dkms-//') build -k $below (lab kernel's tree, PCI_P2PDMA=y): skipped (77)" \
	dkms_skips below dkms -- "$tmp/checkout" "$below" "$kobj"
ktap_step "Debian unstable's dkms, unpacked" fetch_new_dkms
ktap_step "dkms.conf with BUILD_EXCLUSIVE_KERNEL_MIN=\"$min\" as the only version rule" min_only_checkout
if [ -n "$new_dkms" ]; then
	ktap_step "unstable's dkms build -k $below, KERNEL_MIN only: skipped (77)" \
		dkms_skips new-below "$new_dkms" -- "$tmp/checkout-min" "$below" "$kobj"
	if [ -n "$old_kdir" ]; then
		ktap_step "unstable's dkms build -k $old_rel: skipped (77)" \
			dkms_skips new-old "$new_dkms" -- "$tmp/checkout" "$old_rel" "$old_kdir"
	else
		ktap_skip "unstable's dkms build -k <6.12>: skipped" "no Debian 13 headers"
	fi
else
	ktap_skip "unstable's dkms build -k $below, KERNEL_MIN only: skipped" "no dkms from unstable"
	ktap_skip "unstable's dkms build -k <6.12>: skipped" "no dkms from unstable"
fi
ktap_step "make kernel-api KDIR=<lab kernel $krel> passes" passes "$kobj"
# Linux 7.3 is the other API the project targets: Debian's linux-source-7.3,
# downloaded by package name into the cache if it is not there yet
# (lab/fetch-source.sh: a few seconds from the apt cache, about a minute cold).
fetch73() {
	src73=$(P2PBUF_SRC_PKG=linux-source-7.3 "$P2PBUF_TOP/lab/fetch-source.sh") &&
		[ -f "$src73/.p2pbuf-unpacked" ] && echo "$src73"
}
src73=
ktap_step "Debian's linux-source-7.3, fetched by package name" fetch73
if [ -n "$src73" ] && [ -f "$src73/.p2pbuf-unpacked" ]; then
	ktap_step "make kernel-api KDIR=<$(basename "$src73")> passes" passes "$src73"
else
	ktap_skip "make kernel-api KDIR=<linux-source-7.3> passes" \
		"linux-source-7.3 could not be fetched (see the step above)"
fi

# patches/ (the upstream fixes that P2PBUF_KPATCHES builds in) must apply,
# in order and with no fuzz, to both sources the project targets: on a
# copy of the files they touch, never the cached tree.
# shellcheck disable=SC2317
patches_apply() { # SRC [PATCH...] (default: patches/*.patch)
	local src=$1 work p f
	shift
	[ "$#" -gt 0 ] || set -- "$P2PBUF_TOP"/patches/*.patch
	work=$(mktemp -d "$tmp/kp.XXXXXX") || return 1
	for p in "$@"; do
		while IFS= read -r f; do
			[ -e "$work/$f" ] && continue
			if [ ! -f "$src/$f" ]; then
				echo "$(basename "$p"): no $f in $src"
				return 1
			fi
			mkdir -p "$work/$(dirname "$f")" && cp "$src/$f" "$work/$f" || return 1
		done < <(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p")
		echo "$(basename "$p"):"
		patch -d "$work" -p1 -F0 --batch --forward --no-backup-if-mismatch \
			--reject-file=- < "$p" || return 1
	done
}
# The check can fail: the first patch with its first context line changed
# into one that no source has must not apply.
# shellcheck disable=SC2317
patch_planted_fails() { # SRC
	local first bad=$tmp/planted.patch
	first=$(find "$P2PBUF_TOP/patches" -name '*.patch' | sort | head -n 1)
	awk '!done && /^@@/ { hunk = 1 }
	     hunk && !done && /^ / { print " p2pbuf: a planted line no source has"; done = 1; next }
	     { print }' "$first" > "$bad"
	cmp -s "$first" "$bad" && { echo "nothing planted in $first"; return 1; }
	! patches_apply "$1" "$bad"
}
# The lab's own source, cached by now (lab/kernel.sh fetched it for kobj).
# shellcheck disable=SC2317
fetch72() {
	src72=$("$P2PBUF_TOP/lab/fetch-source.sh") && [ -f "$src72/.p2pbuf-unpacked" ] &&
		echo "$src72"
}
src72=
ktap_step "Debian's linux-source-7.2, the lab's source" fetch72
if [ -n "$src72" ] && [ -f "$src72/.p2pbuf-unpacked" ]; then
	ktap_step "patches/ apply in order, no fuzz, to <$(basename "$src72")>" patches_apply "$src72"
	ktap_step "... a planted patch with a context line no source has does not apply" \
		patch_planted_fails "$src72"
else
	ktap_skip "patches/ apply to the lab's source" "no source (see the step above)"
fi
if [ -n "$src73" ] && [ -f "$src73/.p2pbuf-unpacked" ]; then
	ktap_step "patches/ apply in order, no fuzz, to <$(basename "$src73")>" patches_apply "$src73"
else
	ktap_skip "patches/ apply to linux-source-7.3" \
		"linux-source-7.3 could not be fetched (see above)"
fi

ktap_finish
