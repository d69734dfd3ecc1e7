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
# Patches: P2PBUF_KPATCHES (default empty: none) is 1 for patches/*.patch in
# name order, or a list of patch files (-p1, applied in the order given).
# The kernel is then built from a patched copy of the Debian source in
# $P2PBUF_CACHE/src-kpatched/<package>-<version>+kp-<hash>, cached as
# build/<package>-<version>+kp-<hash>-<config hash>, where <hash> is that of
# the patches' contents in order; a patch that does not apply stops the
# build by name. Without it nothing here changes: same source, same key.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The patch files P2PBUF_KPATCHES asks for, as absolute paths.
kpatches=()
case "${P2PBUF_KPATCHES:-}" in
"" | 0) ;;
1)
	for p in "$P2PBUF_TOP"/patches/*.patch; do
		[ -f "$p" ] && kpatches+=("$p")
	done
	[ "${#kpatches[@]}" -gt 0 ] || lab_die "P2PBUF_KPATCHES=1: no patches/*.patch in $P2PBUF_TOP"
	;;
*)
	read -ra plist <<< "$P2PBUF_KPATCHES"
	for p in "${plist[@]}"; do
		if [ -f "$p" ]; then
			kpatches+=("$(readlink -f "$p")")
		elif [ -f "$P2PBUF_TOP/$p" ]; then
			kpatches+=("$P2PBUF_TOP/$p")
		else
			lab_die "P2PBUF_KPATCHES: no such patch file: $p"
		fi
	done
	;;
esac
[ "${#kpatches[@]}" -eq 0 ] || [ -z "${KSRC:-}" ] ||
	lab_die "P2PBUF_KPATCHES patches the Debian source; apply the patches to KSRC ($KSRC) yourself"

if [ -n "${KSRC:-}" ]; then
	src=$(cd "$KSRC" && pwd)
	srcver="user-$(echo "$src" | sha256sum | cut -c1-12)"
else
	src=$("$P2PBUF_TOP/lab/fetch-source.sh")
	srcver=$(basename "$src")
fi
[ -f "$src/Makefile" ] || lab_die "$src is not a kernel source tree"

# A patched copy of the source tree: hard links to the pristine tree, with
# every file a patch touches replaced by a file of its own before patching,
# so that the pristine tree (and its cache entry) never changes.
kpatch_tree() {
	local phash ptree tmp p f out
	phash=$(cat "${kpatches[@]}" | sha256sum | cut -c1-12)
	ptree=$P2PBUF_CACHE/src-kpatched/$srcver+kp-$phash
	mkdir -p "$P2PBUF_CACHE/src-kpatched"
	exec 8> "$ptree.lock"
	flock 8
	if [ ! -f "$ptree/.p2pbuf-patched" ]; then
		lab_log "kernel: patching a copy of $srcver (${#kpatches[@]} patches, $phash)"
		tmp=$ptree.tmp
		rm -rf "$ptree" "$tmp"
		cp -al "$src" "$tmp" 2>/dev/null || { rm -rf "$tmp"; cp -a "$src" "$tmp"; }
		rm -f "$tmp/.p2pbuf-unpacked"
		for p in "${kpatches[@]}"; do
			while IFS= read -r f; do
				[ -f "$tmp/$f" ] || continue
				cp "$tmp/$f" "$tmp/$f.kp-unlink"
				mv -f "$tmp/$f.kp-unlink" "$tmp/$f"
			done < <(awk '/^(---|\+\+\+) [^ \t]+\// { sub(/^(---|\+\+\+) [^\/]+\//, ""); sub(/[ \t].*/, ""); if (!seen[$0]++) print }' "$p")
			if ! out=$(patch -d "$tmp" -p1 -F0 --batch --forward --no-backup-if-mismatch \
				--reject-file=- < "$p" 2>&1); then
				rm -rf "$tmp"
				printf '%s\n' "$out" >&2
				lab_die "P2PBUF_KPATCHES: $(basename "$p") does not apply to $srcver (patch -p1 -F0)"
			fi
		done
		printf '%s\n' "${kpatches[@]}" > "$tmp/.p2pbuf-kpatches"
		touch "$tmp/.p2pbuf-patched"
		mv "$tmp" "$ptree"
	fi
	exec 8>&-
	lab_log "kernel: source patched with $(sed 's|.*/||' "$ptree/.p2pbuf-kpatches" | paste -sd ' ')"
	src=$ptree
	srcver=$srcver+kp-$phash
}
[ "${#kpatches[@]}" -eq 0 ] || kpatch_tree

frags=("$P2PBUF_TOP/lab/kernel.config" "$P2PBUF_TOP/selftests/config")
# Options that upstream renamed after the fragments were written, "OLD NEW":
# when the source has no OLD but has NEW, the fragments are read with NEW
# (CONFIG_PROC_SYSCTL is CONFIG_SYSCTL from Linux 7.3 on). A source that has
# OLD reads the fragments as they are, with the same cache key as before.
renames=("PROC_SYSCTL SYSCTL")
kconfig_has() { grep -rqsx --include='Kconfig*' "config $1" "$src"; }
rename_sed=()
for r in "${renames[@]}"; do
	read -r old new <<< "$r"
	if ! kconfig_has "$old" && kconfig_has "$new"; then
		rename_sed+=(-e "s/^CONFIG_$old=/CONFIG_$new=/")
		lab_log "kernel: CONFIG_$old is CONFIG_$new in $srcver"
	fi
done
if [ "${#rename_sed[@]}" -gt 0 ]; then
	fragdir=$(mktemp -d)
	trap 'rm -rf "$fragdir"' EXIT
	sed "${rename_sed[@]}" "${frags[0]}" > "$fragdir/kernel.config"
	sed "${rename_sed[@]}" "${frags[1]}" > "$fragdir/selftests.config"
	frags=("$fragdir/kernel.config" "$fragdir/selftests.config")
fi
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
