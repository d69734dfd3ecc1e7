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

# Host-side KTAP: the checks of one suite (lint, dkms, in-tree build), kept
# in memory and printed at the end by ktap_finish. LAB_KTAP_LOG is where a
# step's output goes (set it before the first ktap_step).
LAB_KTAP_N=0
LAB_KTAP=()

# ktap_step NAME COMMAND...: one result from a command's exit status; on
# failure the last lines of its output follow as KTAP diagnostics.
ktap_step() {
	local name=$1 l
	shift
	LAB_KTAP_N=$((LAB_KTAP_N + 1))
	if "$@" > "$LAB_KTAP_LOG" 2>&1; then
		LAB_KTAP+=("ok $LAB_KTAP_N $name")
	else
		LAB_KTAP+=("not ok $LAB_KTAP_N $name")
		while IFS= read -r l; do LAB_KTAP+=("# $l"); done < <(tail -n 40 "$LAB_KTAP_LOG")
	fi
}

# ktap_skip NAME REASON
ktap_skip() {
	LAB_KTAP_N=$((LAB_KTAP_N + 1))
	LAB_KTAP+=("ok $LAB_KTAP_N $1 # SKIP $2")
}

# Print the suite as KTAP; exit status 1 if any check failed.
ktap_finish() {
	echo "TAP version 13"
	echo "1..$LAB_KTAP_N"
	printf '%s\n' "${LAB_KTAP[@]}"
	printf '%s\n' "${LAB_KTAP[@]}" | grep -q '^not ok' && return 1
	return 0
}

# The common start of every lab job: install what is missing, get the
# (cached) kernel, build modules, tests and tools. Exports KOBJ,
# P2PBUF_BUILD_DIR, P2PBUF_MODDIR and P2PBUF_STDIR for vm.sh.
lab_prepare() {
	"$P2PBUF_TOP/lab/deps.sh"
	KOBJ=$("$P2PBUF_TOP/lab/kernel.sh")
	P2PBUF_BUILD_DIR=${P2PBUF_BUILD:-$P2PBUF_TOP/build}
	"$P2PBUF_TOP/lab/build.sh" "$KOBJ" "$P2PBUF_BUILD_DIR"
	P2PBUF_MODDIR=$P2PBUF_BUILD_DIR/modules
	P2PBUF_STDIR=$P2PBUF_BUILD_DIR/selftests
	export KOBJ P2PBUF_BUILD_DIR P2PBUF_MODDIR P2PBUF_STDIR
}
