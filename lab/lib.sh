# SPDX-License-Identifier: GPL-2.0
# Common settings for the p2pbuf lab scripts. Sourced, never executed.

P2PBUF_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
P2PBUF_CACHE=${P2PBUF_CACHE:-/var/cache/p2pbuf}
# Debian package that provides the kernel source; the project never pins a host name.
P2PBUF_SRC_PKG=${P2PBUF_SRC_PKG:-linux-source-7.2}
# Debian suites searched for it (the highest version wins), and the suites
# consulted only when none of those has the package at all.
P2PBUF_SRC_SUITES=${P2PBUF_SRC_SUITES:-unstable testing trixie-backports}
P2PBUF_SRC_FALLBACK=${P2PBUF_SRC_FALLBACK-experimental}

# Debian's tools first. The lab installs and runs Debian's packages; a
# user's shims ahead of them in PATH swap the tool and cost CPU on every
# call: pyenv's python3 is a chain of about thirty bash processes, 0.3 s of
# CPU per call on a lab machine, and coccicheck runs python3 twice for
# each of its 75 semantic patches (156 CPU s with pyenv's shims first, 100
# without, docs/lab.rst). P2PBUF_KEEP_PATH=1 keeps PATH as it
# is (a newer spatch or QEMU in /usr/local, ccache's directory).
if [ "${P2PBUF_KEEP_PATH:-0}" != 1 ]; then
	case ":$PATH:" in
	:/usr/sbin:/usr/bin:/sbin:/bin:*) ;;
	*) PATH=/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH} ;;
	esac
	export PATH
fi

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

# lab_apt SUITE...: a private apt configuration for the main component of
# SUITE... on the system's mirror, with its own index in
# $P2PBUF_CACHE/apt/index/<suites joined by +> (one index per suite set).
# The system's apt sources and state are never touched. The index is
# refreshed when it is older than a day, when the mirror changed, or when
# the caller asks (LAB_APT_REFRESH=1). Sets LAB_APT_OPTS (options for
# apt-get and apt-cache) and LAB_APT_DEBS (where downloads go, shared by
# every suite set).
LAB_APT_OPTS=()
lab_apt() {
	local d stamp sources keyring=/usr/share/keyrings/debian-archive-keyring.gpg mirror s
	mirror=$(lab_mirror) || return 1
	d=$P2PBUF_CACHE/apt/index/$(IFS=+; echo "$*")
	LAB_APT_DEBS=$P2PBUF_CACHE/apt/debs
	mkdir -p "$d/etc/apt.conf.d" "$d/etc/preferences.d" "$d/etc/sources.list.d" \
		"$d/state/lists/partial" "$d/cache/archives/partial" "$LAB_APT_DEBS"
	sources=$(for s in "$@"; do echo "deb [signed-by=$keyring] $mirror $s main"; done)
	LAB_APT_OPTS=(
		-o "Dir::Etc::SourceList=$d/etc/sources.list"
		-o "Dir::Etc::SourceParts=$d/etc/sources.list.d"
		-o "Dir::Etc::Parts=$d/etc/apt.conf.d"
		-o "Dir::Etc::PreferencesParts=$d/etc/preferences.d"
		-o "Dir::State=$d/state"
		-o "Dir::Cache=$d/cache"
		-o "Acquire::Languages=none"
		-o "APT::Get::List-Cleanup=0"
		-o "Debug::NoLocking=1"
		-o "APT::Sandbox::User=root"
	)
	stamp=$d/state/updated
	# One updater at a time per index.
	(
		flock 8
		if [ "${LAB_APT_REFRESH:-0}" = 1 ] || [ ! -f "$stamp" ] ||
			[ -n "$(find "$stamp" -mmin +1440)" ] ||
			[ "$sources" != "$(cat "$d/etc/sources.list" 2>/dev/null)" ]; then
			printf '%s\n' "$sources" > "$d/etc/sources.list"
			lab_log "apt update ($mirror: $*; private configuration)"
			if apt-get "${LAB_APT_OPTS[@]}" -qq update >&2; then
				touch "$stamp"
			elif [ -f "$stamp" ]; then
				lab_log "apt update failed; using the index of $(date -r "$stamp" '+%F %R')"
				touch -d @0 "$stamp" # the next run tries again
			else
				lab_die "apt update failed for $mirror: $*"
			fi
		fi
	) 8> "$d.lock"
}

# lab_apt_versions PACKAGE: "VERSION SUITE" for each version of PACKAGE in
# the index lab_apt set up, suites as written in its sources.list.
lab_apt_versions() {
	apt-cache "${LAB_APT_OPTS[@]}" madison "$1" 2>/dev/null | awk -F'|' -v p="$1" '
		NF >= 3 {
			gsub(/ /, "", $1); gsub(/ /, "", $2)
			split($3, f, " "); sub("/.*", "", f[2])
			if ($1 == p) print $2, f[2]
		}'
}

# lab_version_max: the highest Debian version among the first words of the
# lines on stdin, with the rest of its first line.
lab_version_max() {
	local best='' bestline='' v line
	while IFS= read -r line; do
		v=${line%% *}
		[ -n "$v" ] || continue
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v bestline=$line
		fi
	done
	[ -z "$bestline" ] || printf '%s\n' "$bestline"
}

# lab_apt_download PACKAGE VERSION: print the path of PACKAGE_VERSION's
# .deb in LAB_APT_DEBS, downloaded through the index lab_apt set up if it
# is not there yet.
lab_apt_download() {
	local pkg=$1 ver=$2 debs
	debs=("$LAB_APT_DEBS/${pkg}_${ver//:/%3a}_"*.deb)
	if [ ! -f "${debs[0]}" ]; then
		lab_log "downloading $pkg $ver"
		(cd "$LAB_APT_DEBS" && apt-get "${LAB_APT_OPTS[@]}" -qq download "$pkg=$ver" >&2) || return 1
		debs=("$LAB_APT_DEBS/${pkg}_${ver//:/%3a}_"*.deb)
		[ -f "${debs[0]}" ] || return 1
	fi
	printf '%s\n' "${debs[0]}"
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

# lab_phase NAME COMMAND...: run COMMAND and append "NAME<TAB>seconds" to
# $P2PBUF_PHASES (if set), the phase table make check prints at its end.
lab_phase() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	"$@" || rc=$?
	[ -z "${P2PBUF_PHASES:-}" ] || printf '%s\t%s\n' "$name" "$(($(date +%s) - t0))" >> "$P2PBUF_PHASES"
	return $rc
}

# The common start of every lab job: install what is missing, get the
# (cached) kernel, build modules, tests and tools. Exports KOBJ,
# P2PBUF_BUILD_DIR, P2PBUF_MODDIR and P2PBUF_STDIR for vm.sh.
lab_prepare() {
	local t0
	[ -n "${P2PBUF_DEPS_DONE:-}" ] || lab_phase "host packages" "$P2PBUF_TOP/lab/deps.sh"
	t0=$(date +%s)
	KOBJ=$("$P2PBUF_TOP/lab/kernel.sh")
	[ -z "${P2PBUF_PHASES:-}" ] ||
		printf 'kernel source + build (cached: %s)\t%s\n' \
			"$([ -f "$KOBJ/.p2pbuf-fresh" ] && echo no || echo yes)" "$(($(date +%s) - t0))" >> "$P2PBUF_PHASES"
	rm -f "$KOBJ/.p2pbuf-fresh"
	P2PBUF_BUILD_DIR=${P2PBUF_BUILD:-$P2PBUF_TOP/build}
	lab_phase "modules, selftests, tools" "$P2PBUF_TOP/lab/build.sh" "$KOBJ" "$P2PBUF_BUILD_DIR"
	P2PBUF_MODDIR=$P2PBUF_BUILD_DIR/modules
	P2PBUF_STDIR=$P2PBUF_BUILD_DIR/selftests
	export KOBJ P2PBUF_BUILD_DIR P2PBUF_MODDIR P2PBUF_STDIR
}

# selftests/suites: one suite a line, optionally followed by the topologies
# it runs in (default: every topology but those of P2PBUF_MAPTYPE_TOPOLOGIES,
# lab/topologies.sh). suites_list prints every suite;
# suites_for TOPO SUITES prints those of SUITES placed in TOPO. A suite list
# given explicitly (P2PBUF_SUITES) runs in every selected topology, except a
# suite whose line ends with the word "only": it runs only where it is
# placed (a canary whose expected failures are listed for that topology).
suites_list() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$P2PBUF_TOP/selftests/suites" | awk '{ print $1 }' | tr '\n' ' '
}

suites_for() { # TOPO SUITES
	local s out=() where
	for s in $2; do
		where=$(sed -e 's/#.*//' "$P2PBUF_TOP/selftests/suites" | awk -v s="$s" '$1 == s { $1 = ""; print }')
		if [ -n "${P2PBUF_SUITES_EXPLICIT:-}" ]; then
			case " $where " in
			*" only "*) ;;
			*) out+=("$s"); continue ;;
			esac
		fi
		case " $where " in
		"  ") case " ${P2PBUF_MAPTYPE_TOPOLOGIES:-} " in
		      *" $1 "*) ;;
		      *) out+=("$s") ;;
		      esac ;;
		*" $1 "*) out+=("$s") ;;
		esac
	done
	echo "${out[*]}"
}
