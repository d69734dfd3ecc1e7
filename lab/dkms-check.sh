#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# DKMS proof: dkms add, build and install of this repository's dkms.conf
# against the lab kernel, as KTAP on stdout. dkms runs with private trees
# (--dkmstree, --sourcetree, --installtree in a temporary directory), so
# the system's /var/lib/dkms, /usr/src and /lib/modules are not touched.
#
#   dkms-check.sh [KOBJ]      (default: the lab kernel, built if needed)
#
# Installs Debian's dkms if it is missing.
set -uo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

kobj=${1:-$("$P2PBUF_TOP/lab/kernel.sh")}
krel=$(cat "$kobj/include/config/kernel.release")
if ! command -v dkms > /dev/null; then
	lab_log "installing: dkms"
	export DEBIAN_FRONTEND=noninteractive
	lab_root apt-get update -qq || lab_log "apt-get update failed; trying the install anyway"
	lab_root apt-get install -y -qq --no-install-recommends dkms >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/p2pbuf-dkms.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/dkms" "$tmp/src" "$tmp/install/$krel" "$tmp/checkout"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$P2PBUF_TOP/dkms.conf")
dkms=(dkms --dkmstree "$tmp/dkms" --sourcetree "$tmp/src" --installtree "$tmp/install")

LAB_KTAP_LOG=$tmp/log

# Called through ktap_step(), which shellcheck cannot see.
# shellcheck disable=SC2317
# A clean checkout: what "dkms add ." copies from a fresh clone.
copy_checkout() {
	(cd "$P2PBUF_TOP" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 tar -c --no-recursion) | tar -x -C "$tmp/checkout"
}
# shellcheck disable=SC2317
vermagic_ok() {
	local ko
	for ko in "$tmp/install/$krel"/updates/dkms/p2pbuf_{exporter,importer}.ko*; do
		modinfo -F vermagic "$ko" | grep -q "^$krel " || return 1
	done
}

lab_log "dkms: p2pbuf/$ver against $krel ($kobj)"
ktap_step "checkout" copy_checkout
ktap_step "dkms add" "${dkms[@]}" add "$tmp/checkout"
ktap_step "dkms build -k $krel" "${dkms[@]}" build "p2pbuf/$ver" -k "$krel" --kernelsourcedir "$kobj"
ktap_step "dkms install -k $krel" "${dkms[@]}" install "p2pbuf/$ver" -k "$krel" \
	--kernelsourcedir "$kobj" --no-depmod
ktap_step "installed modules carry vermagic $krel" vermagic_ok
ktap_step "dkms status" "${dkms[@]}" status

ktap_finish
