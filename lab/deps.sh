#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install, idempotently, the host packages the lab needs: only those missing.
#   deps.sh [PACKAGE...]    also the named extra packages (make bench: the
#                           plot's python3-matplotlib)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(
	# QEMU and firmware for q35 guests
	qemu-system-x86
	# kernel build dependencies
	bc bison flex libelf-dev libssl-dev cpio xz-utils dwarves rsync kmod python3 perl gcc g++ make
	# selftests/uabi_test_32: the 32-bit (compat ioctl) build of uabi_test
	gcc-multilib
	# static checkers for make lint
	coccinelle ocaml-nox
	# guest userspace helpers (run from the host's root filesystem over 9p)
	util-linux procps
	# the igt root filesystem (lab/igt-rootfs.sh) and the DKMS suite
	debootstrap dkms
	"$@"
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	lab_log "host packages: all present"
	exit 0
fi
lab_log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
lab_root apt-get update -qq || lab_log "apt-get update failed; trying the install anyway"
lab_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
