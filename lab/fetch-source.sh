#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Download Debian's kernel source package (P2PBUF_SRC_PKG, default
# linux-source-7.2) by package name and unpack it into the cache. Prints the
# path of the unpacked source tree on stdout.
#
# The package is looked up in every suite of P2PBUF_SRC_SUITES (default:
# unstable, testing, trixie-backports) and the highest version wins, so the
# lab keeps a source when unstable moves on to the next kernel series. Only
# when none of those suites has the package at all are the suites of
# P2PBUF_SRC_FALLBACK (default: experimental; empty for none) consulted. An
# unpacked tree in the cache that is newer than anything in the archive (or
# the archive cannot be reached) is used as it is. The suite that served the
# source is logged on stderr.
#
# apt runs with a private configuration, one index per suite set, refreshed
# at most once a day (lab_apt in lib.sh): the system's apt sources are never
# edited, and the mirror is the one the system already uses.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

pkg=$P2PBUF_SRC_PKG
src_root=$P2PBUF_CACHE/src
mkdir -p "$src_root"
read -ra suites <<< "$P2PBUF_SRC_SUITES"
read -ra fallback <<< "$P2PBUF_SRC_FALLBACK"

index=1
lab_apt "${suites[@]}" "${fallback[@]}" || index=0

# The versions of $pkg in the suites of $1 ("VERSION SUITE" lines), the
# suites in the order given, so that equal versions go to the first suite.
versions_in() {
	local s all
	[ "$index" = 1 ] || return 0
	all=$(lab_apt_versions "$pkg")
	for s in $1; do
		awk -v s="$s" '$2 == s' <<< "$all"
	done
}

# The unpacked trees of $pkg in the cache ("VERSION cache" lines).
versions_cached() {
	local t
	for t in "$src_root/$pkg"-*/.p2pbuf-unpacked; do
		[ -f "$t" ] || continue
		t=$(basename "$(dirname "$t")")
		echo "${t#"$pkg"-} cache"
	done
}

# "VERSION SUITE" lines: the highest version of each suite, on one line.
per_suite() {
	local all s out=()
	all=$(cat)
	while read -r s; do
		[ -n "$s" ] || continue
		out+=("$s $(awk -v s="$s" '$2 == s' <<< "$all" | lab_version_max | cut -d' ' -f1)")
	done < <(awk '!seen[$2]++ { print $2 }' <<< "$all")
	[ "${#out[@]}" -gt 0 ] || out=(none)
	printf '%s, ' "${out[@]}" | sed 's/, $/\n/'
}

# Sets ver and suite: the version to use and where it comes from.
resolve() {
	local found best cached
	found=$(versions_in "${suites[*]}")
	[ -n "$found" ] || found=$(versions_in "${fallback[*]}")
	best=$(lab_version_max <<< "$found")
	cached=$(lab_version_max < <(versions_cached))
	if [ -n "$cached" ] && { [ -z "$best" ] || dpkg --compare-versions "${cached%% *}" gt "${best%% *}"; }; then
		best=$cached
	fi
	[ -n "$best" ] || lab_die "$pkg not found in $(lab_mirror) (suites: ${suites[*]} ${fallback[*]}) nor in $src_root"
	ver=${best%% *} suite=${best#* }
	[ "$suite" != cache ] || suite="the cache, newer than any suite's"
	lab_log "source: $pkg $ver from $suite (newest per suite: $(per_suite <<< "$found"))"
}

resolve
tree=$src_root/$pkg-$ver
exec 9> "$tree.lock"
flock 9
if [ ! -f "$tree/.p2pbuf-unpacked" ]; then
	if ! deb=$(lab_apt_download "$pkg" "$ver"); then
		# The index is behind the archive (the version is gone): once more
		# with a fresh index.
		LAB_APT_REFRESH=1 lab_apt "${suites[@]}" "${fallback[@]}"
		resolve
		tree=$src_root/$pkg-$ver
		deb=$(lab_apt_download "$pkg" "$ver") || lab_die "cannot download $pkg $ver"
	fi
	if [ ! -f "$tree/.p2pbuf-unpacked" ]; then
		lab_log "unpacking $(basename "$deb")"
		rm -rf "$tree" "$tree.tmp"
		mkdir -p "$tree.tmp/deb"
		dpkg-deb -x "$deb" "$tree.tmp/deb"
		tarball=("$tree.tmp/deb/usr/src/"linux-source-*.tar.*)
		tar -C "$tree.tmp" -xf "${tarball[0]}"
		inner=$(find "$tree.tmp" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*' | head -n 1)
		mv "$inner" "$tree"
		rm -rf "$tree.tmp"
		touch "$tree/.p2pbuf-unpacked"
	fi
fi
printf '%s\n' "$tree"
