#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (once) and print the path of a minimal Debian root of SUITE holding
# that suite's stock kernel, its headers, the gcc that built it, dkms, make,
# kmod and busybox-static: what lab/distro-lane.sh needs to install p2pbuf
# through DKMS as a user would and to boot the distribution kernel.
#
#   distro-root.sh SUITE      prints $P2PBUF_CACHE/distro/<suite>-<kernel release>
#
# SUITE is a Debian suite (unstable, forky, ...) or <base>-backports (e.g.
# trixie-backports: a <base> root with the kernel, headers and
# linux-libc-dev taken from <base>-backports). The root is cached per suite
# and kernel release; a complete root of SUITE is reused as is unless
# P2PBUF_DISTRO_REFRESH=1, which asks the suite (apt inside the cached root)
# for its current kernel and builds a new root only if it changed. A root is
# built in <suite>.tmp and renamed into place when complete, so an
# interrupted build is never reused. Mirror: the system's (lab_mirror);
# signatures: the Debian archive keyring. Run it under nice: debootstrap and
# the package installs are CPU heavy.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

suite=${1:?usage: distro-root.sh SUITE}
dir=${P2PBUF_DISTRO_CACHE:-$P2PBUF_CACHE/distro}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# Bump when the way a root is made changes: older roots are not reused.
DISTRO_ROOT_FORMAT=1

case "$suite" in
*-backports) base=${suite%-backports} target=$suite ;;
experimental) base=unstable target=experimental ;;
*) base=$suite target= ;;
esac
# What the lane needs besides the kernel: the DKMS install (dkms, make, kmod),
# the selftest build (libc6-dev), the initramfs (busybox-static) and the
# guest's scripts (bash, coreutils, util-linux from minbase). initramfs-tools
# first, as the kernel's initramfs tool, so that no dracut comes in: its
# update-initramfs is diverted to a no-op below.
PKGS_BASE="initramfs-tools dkms make kmod busybox-static libc6-dev"
PKGS_KERNEL="linux-image-amd64 linux-headers-amd64 linux-libc-dev"

mkdir -p "$dir"
exec 9> "$dir/$suite.lock"
flock 9

# Run a command chrooted into ROOT, in a private mount namespace (its
# /proc, /sys and /dev mounts vanish with it, whatever happens).
# shellcheck disable=SC2016 # expanded by the inner sh
in_root() { # ROOT COMMAND...
	local r=$1
	shift
	unshare --mount --propagation private -- sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
			mount --bind /dev "$r/dev" && mount --bind /dev/pts "$r/dev/pts" || exit 1
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$r" "$@"
}

# The newest complete root of this suite and format, if any.
cached_root() {
	local r best=
	for r in "$dir/$suite"-*/; do
		r=${r%/}
		[ -f "$r/.p2pbuf-complete" ] || continue
		grep -qx "format $DISTRO_ROOT_FORMAT" "$r/.p2pbuf-complete" || continue
		[ -z "$best" ] || [ "$r" -nt "$best" ] && best=$r
	done
	printf '%s\n' "$best"
}

# The kernel release the linux-image-amd64 of the root's apt points at.
candidate_release() { # ROOT
	in_root "$1" apt-cache ${target:+-t "$target"} depends linux-image-amd64 2> /dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n 1
}

root=$(cached_root)
if [ -n "$root" ]; then
	if [ "${P2PBUF_DISTRO_REFRESH:-0}" != 1 ]; then
		printf '%s\n' "$root"
		exit 0
	fi
	lab_log "distro root: asking $suite for its current kernel"
	in_root "$root" apt-get -qq update >&2 || lab_die "apt-get update in $root failed"
	want=$(candidate_release "$root")
	if [ -n "$want" ] && [ "$root" = "$dir/$suite-$want" ]; then
		printf '%s\n' "$root"
		exit 0
	fi
	lab_log "distro root: $suite now has ${want:-an unknown kernel}; building a new root"
fi

command -v debootstrap > /dev/null || {
	lab_log "distro root: installing debootstrap"
	DEBIAN_FRONTEND=noninteractive lab_root apt-get install -y -qq --no-install-recommends debootstrap > /dev/null
}
[ -r "$keyring" ] || lab_die "missing $keyring (package debian-archive-keyring)"
mirror=$(lab_mirror)
tmp=$dir/$suite.tmp
log=$dir/$suite.log
rm -rf "$tmp"
: > "$log"
t0=$(date +%s)

lab_log "distro root: debootstrap $base from $mirror (log: $log)"
if ! debootstrap --variant=minbase --keyring="$keyring" "$base" "$tmp" "$mirror" >> "$log" 2>&1; then
	tail -n 30 "$log" >&2
	lab_die "distro root: debootstrap $base failed"
fi
t1=$(date +%s)

{
	echo "deb [signed-by=$keyring] $mirror $base main"
	[ -z "$target" ] || echo "deb [signed-by=$keyring] $mirror $target main"
} > "$tmp/etc/apt/sources.list"
mkdir -p "$tmp/usr/share/keyrings"
cp "$keyring" "$tmp/usr/share/keyrings/" 2> /dev/null || true
cat > "$tmp/etc/apt/apt.conf.d/90p2pbuf" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Dpkg::Options { "--force-confold"; };
EOF
# The system's mirror may be a snapshot whose Release files have expired:
# the root follows the system's own apt policy on that.
apt-config dump | grep -E '^Acquire::Check-(Valid-Until|Date) ' >> "$tmp/etc/apt/apt.conf.d/90p2pbuf" || true
# No services start in the chroot.
printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
chmod 755 "$tmp/usr/sbin/policy-rc.d"
# The lane boots with its own small initramfs (lab/distro-lane.sh):
# Debian's would be built at every kernel install and never used.
in_root "$tmp" dpkg-divert --local --rename --divert /usr/sbin/update-initramfs.p2pbuf \
	--add /usr/sbin/update-initramfs >> "$log" 2>&1
ln -s /bin/true "$tmp/usr/sbin/update-initramfs"

lab_log "distro root: installing the kernel and headers${target:+ of $target}, $PKGS_BASE"
# shellcheck disable=SC2086 # package lists
if ! { in_root "$tmp" apt-get -q update &&
	in_root "$tmp" apt-get -q install -y $PKGS_BASE &&
	in_root "$tmp" apt-get -q install -y ${target:+-t "$target"} $PKGS_KERNEL; } >> "$log" 2>&1; then
	tail -n 30 "$log" >&2
	lab_die "distro root: package install failed (log: $log)"
fi

krels=$(cd "$tmp/usr/lib/modules" && ls -d [0-9]*)
[ "$(echo "$krels" | wc -l)" = 1 ] || lab_die "distro root: expected one kernel, found: $krels"
krel=$krels
moddir=$tmp/usr/lib/modules/$krel
config=$moddir/config
[ -f "$config" ] || config=$tmp/boot/config-$krel
[ -f "$config" ] || lab_die "distro root: no config for $krel"
[ -f "$moddir/vmlinuz" ] || [ -f "$tmp/boot/vmlinuz-$krel" ] || lab_die "distro root: no vmlinuz for $krel"
[ -d "$moddir/build" ] || lab_die "distro root: no headers (build link) for $krel"

# The kernel's compiler, from its config, e.g. CONFIG_CC_VERSION_TEXT=
# "x86_64-linux-gnu-gcc-16 (Debian 16.2.0-4) 16.2.0": the command is the
# first word (the headers' .kernelvariables name the same), its package gcc-N.
cc_text=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$config")
kcc=${cc_text%% *}
case "$kcc" in
gcc-[0-9]* | *-gcc-[0-9]*) ;;
*) lab_die "distro root: $krel was not built by a versioned gcc ($cc_text)" ;;
esac
if [ ! -x "$tmp/usr/bin/$kcc" ]; then
	lab_log "distro root: installing gcc-${kcc##*gcc-}, the compiler of $krel"
	in_root "$tmp" apt-get -q install -y ${target:+-t "$target"} "gcc-${kcc##*gcc-}" >> "$log" 2>&1 ||
		lab_die "distro root: installing gcc-${kcc##*gcc-} failed (log: $log)"
fi
[ -x "$tmp/usr/bin/$kcc" ] || lab_die "distro root: no $kcc in the root"

in_root "$tmp" apt-get clean >> "$log" 2>&1
rm -f "$tmp/boot/initrd.img-"*
rm -rf "$tmp/var/lib/apt/lists/"*_Packages* "$tmp/var/lib/apt/lists/"*_Translation*
image_ver=$(dpkg-query --admindir="$tmp/var/lib/dpkg" -W -f='${Version}' "linux-image-$krel")
{
	echo "format $DISTRO_ROOT_FORMAT"
	echo "suite $suite"
	echo "kernel $krel"
	echo "image linux-image-$krel $image_ver"
	echo "cc $kcc"
	echo "cc_text $cc_text"
	echo "dkms $(dpkg-query --admindir="$tmp/var/lib/dpkg" -W -f='${Version}' dkms)"
	echo "debootstrap_seconds $((t1 - t0))"
	echo "install_seconds $(($(date +%s) - t1))"
} > "$tmp/.p2pbuf-info"
cp "$tmp/.p2pbuf-info" "$tmp/.p2pbuf-complete"
root=$dir/$suite-$krel
rm -rf "$root"
mv "$tmp" "$root"
lab_log "distro root: $suite, kernel $krel ($image_ver, $kcc) ready in $(($(date +%s) - t0)) s, $(du -sh "$root" | cut -f1)"
printf '%s\n' "$root"
