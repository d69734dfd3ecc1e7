#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the lab's debug kernel, cached by (source version, config hash).
#
#   kernel.sh            print the path of the ready build tree (KOBJ) on stdout
#
# Source: KSRC if set (a user's own tree), else Debian's P2PBUF_SRC_PKG
# (default linux-source-7.2) as lab/fetch-source.sh resolves it; the cache
# key is the unpacked tree's name, <package>-<version>, whatever suite served it.
# Config: allnoconfig + kernel/configs/kvm_guest.config + lab/kernel.config
# (the guest platform) + selftests/config (what the tests need): a lean debug
# kernel with only what the lab boots and loads. Every line of the two
# fragments is verified after olddefconfig.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -n "${KSRC:-}" ]; then
	src=$(cd "$KSRC" && pwd)
	srcver="user-$(echo "$src" | sha256sum | cut -c1-12)"
else
	src=$("$P2PBUF_TOP/lab/fetch-source.sh")
	srcver=$(basename "$src")
fi
[ -f "$src/Makefile" ] || lab_die "$src is not a kernel source tree"

frags=("$P2PBUF_TOP/lab/kernel.config" "$P2PBUF_TOP/selftests/config")
key=$( { echo "allnoconfig kvm_guest.config"; cat "${frags[@]}"; gcc --version | head -n 1; } |
	sha256sum | cut -c1-16)
kobj=$P2PBUF_CACHE/build/$srcver-$key
mkdir -p "$P2PBUF_CACHE/build"

# One builder at a time per cache entry.
exec 9>"$kobj.lock"
flock 9

if [ -f "$kobj/.p2pbuf-built" ]; then
	lab_log "kernel: cached build $kobj"
else
	lab_log "kernel: configuring $srcver (config $key)"
	rm -rf "$kobj"
	mkdir -p "$kobj"
	# Another config of the same source built before: start from a copy of
	# its tree, so that kbuild recompiles only what the changed options
	# reach (P2PBUF_KSEED=0: build from scratch).
	seed=$(ls -dt "$P2PBUF_CACHE/build/$srcver"-*/.p2pbuf-built 2>/dev/null | head -n 1 || true)
	if [ -n "$seed" ] && [ "${P2PBUF_KSEED:-1}" = 1 ]; then
		seed=$(dirname "$seed")
		lab_log "kernel: seeding the build tree from $(basename "$seed")"
		cp -a "$seed/." "$kobj/"
		rm -f "$kobj/.p2pbuf-built" "$kobj/.p2pbuf-fresh" "$kobj/.p2pbuf-build-seconds"
	fi
	make -s -C "$src" O="$kobj" allnoconfig >&2
	"$src/scripts/kconfig/merge_config.sh" -m -O "$kobj" "$kobj/.config" \
		"$src/kernel/configs/kvm_guest.config" "${frags[@]}" >&2
	make -s -C "$src" O="$kobj" olddefconfig >&2

	# Every option we asked for must have survived olddefconfig.
	lost=()
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) opt=${line%%=*}
			grep -q "^$opt=" "$kobj/.config" && lost+=("$line") ;;
		CONFIG_*=*) grep -qx -- "$line" "$kobj/.config" || lost+=("$line") ;;
		esac
	done < <(cat "${frags[@]}")
	if [ "${#lost[@]}" -gt 0 ]; then
		printf '[lab] ERROR: requested option did not survive olddefconfig: %s\n' "${lost[@]}" >&2
		exit 1
	fi

	start=$(date +%s)
	lab_log "kernel: building (about 10 minutes on 2 cores from scratch, once per source+config)"
	if ! make -s -C "$src" O="$kobj" -j"$(nproc)" bzImage modules > "$kobj/build.log" 2>&1; then
		tail -n 40 "$kobj/build.log" >&2
		lab_die "kernel build failed (log: $kobj/build.log)"
	fi
	make -s -C "$src" O="$kobj" headers >> "$kobj/build.log" 2>&1
	ln -sfn "$src" "$kobj/source-tree"
	echo "$(($(date +%s) - start))" > "$kobj/.p2pbuf-build-seconds"
	touch "$kobj/.p2pbuf-built" "$kobj/.p2pbuf-fresh"
	lab_log "kernel: built in $(cat "$kobj/.p2pbuf-build-seconds") s"
fi
lab_log "kernel: $(cat "$kobj/include/config/kernel.release") from $srcver"
printf '%s\n' "$kobj"
