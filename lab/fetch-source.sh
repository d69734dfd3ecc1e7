#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Download Debian's linux-source-7.2 by package name through a private apt
# configuration for Debian unstable (the system's apt sources are never edited;
# the mirror is the one the system already uses), and unpack it into the cache.
# Prints the path of the unpacked source tree on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_dir=$P2PBUF_CACHE/apt
src_root=$P2PBUF_CACHE/src
mkdir -p "$apt_dir/etc/apt.conf.d" "$apt_dir/etc/preferences.d" "$apt_dir/state/lists/partial" \
	"$apt_dir/cache/archives/partial" "$apt_dir/debs" "$src_root"

mirror=$(lab_mirror)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$apt_dir/etc/sources.list" <<SRC
deb [signed-by=$keyring] $mirror $P2PBUF_SUITE main
SRC
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
	-o "Dir::Etc::SourceParts=$apt_dir/etc/sources.list.d"
	-o "Dir::Etc::Parts=$apt_dir/etc/apt.conf.d"
	-o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
	-o "Dir::State=$apt_dir/state"
	-o "Dir::Cache=$apt_dir/cache"
	-o "APT::Get::List-Cleanup=0"
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root"
)
mkdir -p "$apt_dir/etc/sources.list.d"

# Refresh the index at most once a day.
stamp=$apt_dir/state/updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
	lab_log "apt update ($mirror $P2PBUF_SUITE, private configuration)"
	apt-get "${apt_opts[@]}" -qq update >&2
	touch "$stamp"
fi

ver=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$P2PBUF_SRC_PKG" 2>/dev/null |
	awk '/^Version:/ { print $2; exit }')
[ -n "$ver" ] || lab_die "$P2PBUF_SRC_PKG not found in $mirror $P2PBUF_SUITE"

tree=$src_root/$P2PBUF_SRC_PKG-$ver
if [ ! -f "$tree/.p2pbuf-unpacked" ]; then
	deb=$(ls "$apt_dir/debs/${P2PBUF_SRC_PKG}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		lab_log "downloading $P2PBUF_SRC_PKG $ver"
		(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" -qq download "$P2PBUF_SRC_PKG=$ver" >&2)
		deb=$(ls "$apt_dir/debs/${P2PBUF_SRC_PKG}_"*.deb | head -n 1)
	fi
	lab_log "unpacking $(basename "$deb")"
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp/deb"
	dpkg-deb -x "$deb" "$tree.tmp/deb"
	tarball=$(ls "$tree.tmp/deb/usr/src/"linux-source-*.tar.* | head -n 1)
	tar -C "$tree.tmp" -xf "$tarball"
	inner=$(find "$tree.tmp" -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*' | head -n 1)
	mv "$inner" "$tree"
	rm -rf "$tree.tmp"
	touch "$tree/.p2pbuf-unpacked"
fi
printf '%s\n' "$tree"
