# SPDX-License-Identifier: GPL-2.0
# Common settings for the p2pbuf lab scripts. Sourced, never executed.

P2PBUF_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
P2PBUF_CACHE=${P2PBUF_CACHE:-/var/cache/p2pbuf}
# Debian package that provides the kernel source; the project never pins a host name.
P2PBUF_SRC_PKG=${P2PBUF_SRC_PKG:-linux-source-7.2}
P2PBUF_SUITE=${P2PBUF_SUITE:-unstable}

lab_log() { printf '[lab] %s\n' "$*" >&2; }
lab_die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# Print the Debian mirror the system itself uses (first non-security "deb" URI).
lab_mirror() {
	local m
	m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -- '-security' | head -n 1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		grep -v -- '-security' | head -n 1)
	[ -n "$m" ] || lab_die "no Debian mirror found in the system's apt configuration"
	printf '%s\n' "${m%/}"
}

# Run a command as root (directly, or through sudo when available).
lab_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
