#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (once) and print the path of a Debian unstable root filesystem with
# igt-gpu-tools inside, for the lab's igt run.
#
#   igt-rootfs.sh            prints $P2PBUF_CACHE/igt-rootfs-<key>
#
# igt 2.x in Debian unstable needs a newer glibc than the Debian 12 host has,
# so igt_runner and igt's tests run chrooted into this root (which the guest
# sees through the host root shared over 9p). The key hashes the suite, the
# package list and a format number; the root is built in a temporary directory and renamed
# into place only when complete, so an interrupted build is never reused.
# The mirror comes from the system's apt configuration, the signature check
# from the Debian archive keyring. debootstrap is installed if missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IGT_SUITE=${P2PBUF_IGT_SUITE:-unstable}
IGT_PKGS=igt-gpu-tools,igt-gpu-tools-tests,kmod
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# Bump IGT_ROOTFS_FORMAT when the way the root is made changes.
IGT_ROOTFS_FORMAT=1
key=$(echo "$IGT_ROOTFS_FORMAT $IGT_SUITE $IGT_PKGS" | sha256sum | cut -c1-12)
root=$P2PBUF_CACHE/igt-rootfs-$key
mkdir -p "$P2PBUF_CACHE"
# One builder at a time (make check starts one early, in the background).
exec 9> "$root.lock"
flock 9
if [ -x "$root/usr/bin/igt_runner" ] && [ -f "$root/.p2pbuf-complete" ]; then
	printf '%s\n' "$root"
	exit 0
fi

if ! command -v debootstrap > /dev/null; then
	lab_log "igt rootfs: installing debootstrap"
	export DEBIAN_FRONTEND=noninteractive
	lab_root apt-get install -y -qq --no-install-recommends debootstrap > /dev/null ||
		{ lab_root apt-get update -qq && lab_root apt-get install -y -qq --no-install-recommends debootstrap > /dev/null; }
fi
[ -r "$keyring" ] || lab_die "missing $keyring (package debian-archive-keyring)"

mirror=$(lab_mirror)
tmp=$P2PBUF_CACHE/igt-rootfs-$key.tmp
lab_root rm -rf "$tmp"
lab_root mkdir -p "$P2PBUF_CACHE"
lab_log "igt rootfs: debootstrap $IGT_SUITE ($IGT_PKGS) from $mirror into $root"
t0=$(date +%s)
if ! lab_root debootstrap --variant=minbase --keyring="$keyring" --include="$IGT_PKGS" \
	"$IGT_SUITE" "$tmp" "$mirror" > "$P2PBUF_CACHE/igt-rootfs-$key.log" 2>&1; then
	tail -n 30 "$P2PBUF_CACHE/igt-rootfs-$key.log" >&2
	lab_die "igt rootfs: debootstrap failed (log: $P2PBUF_CACHE/igt-rootfs-$key.log)"
fi
# No package cache in the image; igt finds its tests in /usr/libexec/igt-gpu-tools.
lab_root rm -rf "$tmp/var/cache/apt/archives/"*.deb "$tmp/var/lib/apt/lists/"*_Packages
[ -x "$tmp/usr/bin/igt_runner" ] || lab_die "igt rootfs: no igt_runner in $tmp"
dpkg-query --admindir="$tmp/var/lib/dpkg" -W -f='${Version}\n' igt-gpu-tools |
	lab_root tee "$tmp/.p2pbuf-complete" > /dev/null
lab_root rm -rf "$root"
lab_root mv "$tmp" "$root"
lab_log "igt rootfs: igt $(cat "$root/.p2pbuf-complete") ready in $(($(date +%s) - t0)) s, $(du -sh "$root" | cut -f1)"
printf '%s\n' "$root"
