#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The steps are functions that step() calls, which shellcheck cannot see.
# shellcheck disable=SC2317
# make distro-check: p2pbuf on a distribution's stock kernel, end to end.
#
#   distro-lane.sh [SUITE]        (default: unstable)
#
# 1. A cached Debian root of SUITE with its kernel, headers, the gcc that
#    built the kernel and dkms (lab/distro-root.sh).
# 2. Inside it (chroot), the install README.md tells a user: the checkout
#    (git archive of P2PBUF_DISTRO_REV, default HEAD) in /usr/src/p2pbuf-0.1,
#    then dkms add, build and install for the root's kernel; the modules
#    must carry the kernel's vermagic and be built by the kernel's gcc.
# 3. The suites (P2PBUF_DISTRO_SUITES, default exporter_test pair_test)
#    built inside the root with that gcc; "demo" among them is make demo's
#    story (lab/demo.sh) told by tools/p2pbuf, built there too.
# 4. A small initramfs (busybox-static of the root, the kernel's 9p and
#    virtio-9p modules: Debian builds them as modules) that mounts the root
#    read-only over virtio-9p and switch_roots into lab/guest/distro-init.sh.
# 5. The distribution kernel booted under QEMU/TCG (P2PBUF_DISTRO_SMP vCPUs,
#    default 1; timeout P2PBUF_BOOT_TIMEOUT, default 600 s) in the lab's
#    topology switch
#    (P2PBUF_TOPO): modprobe of both modules from the DKMS tree, the devices
#    bound as the lab binds them, the suites run; uname -r, the taint and
#    dmesg recorded.
#
# P2PBUF_DISTRO_JOB=bench (lab/bench.sh, make bench) runs the benchmark
# instead of the suites: selftests' p2pbuf_bench, built in the root like
# them, with the provider BAR P2PBUF_IVSHMEM_SIZE (default 64M), guest RAM
# P2PBUF_MEM and P2PBUF_DISTRO_SMP vCPUs (default 1); the kernel's debug
# options that bear on timings (P2PBUF_BENCH_KDEBUG_RE) are read from the
# root's /boot/config and recorded in bench.json.
#
# KTAP on stdout, one line per step, the suites and the guest's own steps as
# nested KTAP. Results and per-phase times (phases.tsv) in
# results/distro/<suite>/ (P2PBUF_RESULTS). Runs as root; the suite's root is
# changed only under /usr/src/p2pbuf-*, /var/lib/dkms, the kernel's
# updates/dkms and /var/lib/p2pbuf-lane. Run it under nice on a shared host.
set -uo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lab/topologies.sh
. "$P2PBUF_TOP/lab/topologies.sh"

suite=${1:-${P2PBUF_DISTRO_SUITE:-unstable}}
topo=${P2PBUF_TOPO:-switch}
rev=${P2PBUF_DISTRO_REV:-HEAD}
job=${P2PBUF_DISTRO_JOB:-check}
case "$job" in
check) suites=${P2PBUF_DISTRO_SUITES:-exporter_test pair_test} ;;
# make bench on this kernel (lab/bench.sh): the benchmark is the one
# "suite", its JSON in results/bench.json.
bench) suites=p2pbuf_bench ;;
*) lab_die "P2PBUF_DISTRO_JOB is check or bench, not '$job'" ;;
esac
timeout_s=${P2PBUF_BOOT_TIMEOUT:-600}
res=${P2PBUF_RESULTS:-$P2PBUF_TOP/results}/distro/$suite
topo_select "$topo" || lab_die "unknown topology '$topo'"
[ "$(id -u)" -eq 0 ] || lab_die "distro-lane.sh runs as root (chroot, dkms)"

rm -rf "$res"
mkdir -p "$res/results"
res=$(cd "$res" && pwd)
log=$res/lane.log
: > "$res/phases.tsv"

# KTAP, printed as it goes: the plan first, so the step count is fixed.
n_suites=$(echo "$suites" | wc -w)
N=0
FAILED=0
echo "TAP version 13"
echo "1..$((11 + n_suites))"

step_ok() { N=$((N + 1)); echo "ok $N $1"; }
step_skip() { N=$((N + 1)); echo "ok $N $1 # SKIP $2"; }
step_fail() { # NAME [LOGFILE]
	N=$((N + 1))
	FAILED=1
	echo "not ok $N $1"
	[ -z "${2:-}" ] || tail -n 30 "$2" | sed 's/^/# /'
}
# step NAME COMMAND...: one step from a command's exit status, timed into
# phases.tsv; its output goes to lane.log (the tail follows a failure).
step() {
	local name=$1 t0 rc=0 out
	shift
	out=$res/step.log
	t0=$(date +%s.%N)
	"$@" > "$out" 2>&1 || rc=$?
	{ echo "=== $name (exit $rc)"; cat "$out"; } >> "$log"
	awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$name" 'BEGIN { printf "%s\t%.1f\n", n, b - a }' >> "$res/phases.tsv"
	if [ "$rc" -eq 0 ]; then step_ok "$name"; else step_fail "$name" "$out"; fi
	rm -f "$out"
	return "$rc"
}
# Skip the steps that remain, and end.
skip_rest() { # REASON
	while [ "$N" -lt "$((11 + n_suites))" ]; do step_skip "(not reached)" "$1"; done
	finish
}
finish() {
	echo "# phase times (s):"
	sed 's/^/#   /' "$res/phases.tsv"
	echo "# results: $res"
	exit "$FAILED"
}

# Run a command chrooted into the root, in a private mount namespace;
# LANE_KSRC, when set, is bind-mounted read-only at /mnt.
# shellcheck disable=SC2016 # expanded by the inner sh
in_root() {
	unshare --mount --propagation private -- sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
			mount --bind /dev "$r/dev" && mount --bind /dev/pts "$r/dev/pts" || exit 1
		if [ -n "${LANE_KSRC:-}" ]; then
			mount --bind "$LANE_KSRC" "$r/mnt" && mount -o remount,bind,ro "$r/mnt" || exit 1
		fi
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$root" "$@"
}

# --- 1. the root
root_step() {
	root=$("$P2PBUF_TOP/lab/distro-root.sh" "$suite") || return 1
	echo "$root"
	cat "$root/.p2pbuf-info"
}
# One lane at a time per suite, from before its root is built or
# refreshed to the end: another would re-install the DKMS tree and rebuild
# the programs (or the root) under a guest that runs them.
lanelock=${P2PBUF_DISTRO_CACHE:-$P2PBUF_CACHE/distro}/$suite.lane-lock
mkdir -p "$(dirname "$lanelock")"
exec 7> "$lanelock" || lab_die "cannot open $lanelock"
if ! flock -n 7; then
	lab_log "distro lane: another lane of $suite runs; waiting for it ($lanelock)"
	flock 7 || lab_die "cannot lock $lanelock"
fi
# step runs root_step in this shell: it sets root.
root=
step "distro root: Debian $suite" root_step
if [ -z "$root" ] || [ ! -f "$root/.p2pbuf-info" ]; then skip_rest "no root"; fi
krel=$(sed -n 's/^kernel //p' "$root/.p2pbuf-info")
kcc=$(sed -n 's/^cc //p' "$root/.p2pbuf-info")
cc_text=$(sed -n 's/^cc_text //p' "$root/.p2pbuf-info")
echo "# root $root: kernel $krel, $cc_text, $(du -sh "$root" | cut -f1)"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$P2PBUF_TOP/dkms.conf")

# --- 2. DKMS, as README.md has it
dkms_add() {
	# Whatever install a stamp vouched for is about to go.
	rm -f "$stamp"
	# What an earlier run left: removed as a user upgrading would.
	if in_root dkms status -m p2pbuf | grep -q .; then
		in_root dkms remove "p2pbuf/$ver" --all || return 1
	fi
	rm -rf "$root/usr/src/p2pbuf-$ver"
	mkdir -p "$root/usr/src/p2pbuf-$ver"
	git -C "$P2PBUF_TOP" archive --format=tar "$rev" | tar -x -C "$root/usr/src/p2pbuf-$ver" || return 1
	echo "source: $(git -C "$P2PBUF_TOP" rev-parse "$rev")"
	in_root dkms add "p2pbuf/$ver"
}
# dkms 3.x keeps the build's make.log under <kernel>/<arch>/log (on
# success) or build/ (on failure).
dkms_build() {
	local rc=0
	in_root dkms build "p2pbuf/$ver" -k "$krel" || rc=$?
	find "$root/var/lib/dkms/p2pbuf/$ver" -name make.log -exec cat {} +
	return "$rc"
}
# Both installed modules: the kernel's vermagic, built by the kernel's gcc
# (every GCC line of their .comment is the kernel's CONFIG_CC_VERSION_TEXT),
# and what modprobe resolves for the kernel.
modules_check() {
	local m ko tmpko comments
	for m in p2pbuf_exporter p2pbuf_importer; do
		ko=$(in_root modinfo -k "$krel" -n "$m") || return 1
		echo "$m: $ko"
		case "$ko" in */updates/dkms/*) ;; *) echo "not the DKMS build"; return 1 ;; esac
		in_root modinfo -k "$krel" -F vermagic "$m" | grep "^$krel " || { echo "vermagic is not $krel"; return 1; }
		tmpko=$res/$m.ko
		case "$ko" in
		*.xz) xz -dc "$root$ko" > "$tmpko" ;;
		*.zst) zstd -qdc "$root$ko" > "$tmpko" ;;
		*.gz) gzip -dc "$root$ko" > "$tmpko" ;;
		*) cp "$root$ko" "$tmpko" ;;
		esac
		comments=$(readelf -p .comment "$tmpko" | sed -n 's/^ *\[ *[0-9a-f]*\] *//p' | grep '^GCC:' | sort -u)
		rm -f "$tmpko"
		echo "$m .comment: $comments"
		[ "$comments" = "GCC: ${cc_text#* }" ] || { echo "not built by $cc_text alone"; return 1; }
		in_root modprobe -S "$krel" --show-depends "$m" || return 1
	done
}
# P2PBUF_DISTRO_BUILD_ID (make check: one per run): the DKMS install and the
# suites' build of an earlier lane of the same suite in the same run, of the
# same tree and suites, serve this lane too; each of those steps is then a
# SKIP naming that lane, and only the check of the installed modules runs.
# The stamp (that lane's topology; the id, tree, kernel and suites; the
# installed modules' paths and hashes) is removed when an install begins
# and cleared with the suites' build, and a lane that ran in between (make
# bench, make distro-check, another run) changed the modules' hashes.
stamp=$root/var/lib/p2pbuf-lane/build-stamp
tree=$(git -C "$P2PBUF_TOP" rev-parse "$rev^{tree}")
want="${P2PBUF_DISTRO_BUILD_ID:-} $tree $krel $suites"
# What modprobe finds for each module, and a hash of that file: Debian's
# kernels have no CONFIG_MODULE_SRCVERSION_ALL and the modules no version,
# so modinfo's srcversion is empty. Empty when either is missing.
installed() {
	local m ko out=
	for m in p2pbuf_exporter p2pbuf_importer; do
		ko=$(in_root modinfo -k "$krel" -n "$m" 2> /dev/null) && [ -f "$root$ko" ] || return 0
		out="$out$ko=$(sha256sum < "$root$ko" | cut -c1-16) "
	done
	echo "$out"
}
built_by=
if [ -n "${P2PBUF_DISTRO_BUILD_ID:-}" ] && [ -f "$stamp" ] &&
	[ "$(sed -n 2p "$stamp")" = "$want" ] && [ -n "$(installed)" ] &&
	[ "$(sed -n 3p "$stamp")" = "$(installed)" ]; then
	built_by=$(sed -n 1p "$stamp")
fi
reused() { step_skip "$1" "once per suite and run: built by this run's $built_by lane (tree ${tree:0:12})"; }
if [ -n "$built_by" ]; then
	reused "dkms add p2pbuf/$ver (git archive $rev in /usr/src/p2pbuf-$ver)"
	reused "dkms build p2pbuf/$ver -k $krel ($kcc)"
	reused "dkms install p2pbuf/$ver -k $krel"
else
	if ! step "dkms add p2pbuf/$ver (git archive $rev in /usr/src/p2pbuf-$ver)" dkms_add; then
		skip_rest "dkms add failed"
	fi
	if ! step "dkms build p2pbuf/$ver -k $krel ($kcc)" dkms_build; then
		skip_rest "dkms build failed"
	fi
	step "dkms install p2pbuf/$ver -k $krel" in_root dkms install "p2pbuf/$ver" -k "$krel" ||
		skip_rest "dkms install failed"
fi
step "modules: vermagic $krel, built by $kcc, modprobe resolves the DKMS build" modules_check

# --- 3. the suites, built in the root with the kernel's gcc against the
# root's libc and uapi headers; kselftest's lib.mk from a kernel source tree
# (KSRC, else the lab's linux-source).
selftests_build() {
	local ksrc=${KSRC:-}
	[ -n "$ksrc" ] || ksrc=$("$P2PBUF_TOP/lab/fetch-source.sh") || return 1
	echo "lib.mk from $ksrc"
	rm -rf "$root/var/lib/p2pbuf-lane"
	mkdir -p "$root/var/lib/p2pbuf-lane/selftests"
	local s goals=()
	for s in $suites; do
		[ "$s" = demo ] || goals+=("/var/lib/p2pbuf-lane/selftests/$s")
	done
	if [ "${#goals[@]}" -gt 0 ]; then
		LANE_KSRC=$ksrc in_root make -C "/usr/src/p2pbuf-$ver/selftests" KSRC=/mnt CC="$kcc" \
			OUTPUT=/var/lib/p2pbuf-lane/selftests "${goals[@]}" || return 1
	fi
	# "demo": make demo's story (lab/demo.sh), told by tools/p2pbuf built
	# here as README.md has a user build it.
	case " $suites " in
	*" demo "*)
		in_root make -C "/usr/src/p2pbuf-$ver/tools" CC="$kcc" \
			OUTPUT=/var/lib/p2pbuf-lane/tools || return 1
		;;
	esac
}
if [ -n "$built_by" ]; then
	reused "selftests built in the root with $kcc: $suites"
else
	step "selftests built in the root with $kcc: $suites" selftests_build || skip_rest "selftest build failed"
	[ -z "${P2PBUF_DISTRO_BUILD_ID:-}" ] || printf '%s\n%s\n%s\n' "$topo" "$want" "$(installed)" > "$stamp"
fi

# --- 4. the initramfs: busybox, the 9p modules (decompressed; the kernel
# may not decompress modules itself), an /init that mounts the root and the
# lane directory and switch_roots into the guest script.
initramfs_build() {
	local d=$res/initramfs m dst
	rm -rf "$d"
	mkdir -p "$d/bin" "$d/proc" "$d/dev" "$d/newroot" "$d/modules"
	cp "$root/usr/bin/busybox" "$d/bin/busybox" || return 1
	: > "$d/modules/order"
	in_root modprobe -S "$krel" --show-depends -a 9p 9pnet_virtio > "$res/initramfs.deps" || return 1
	cat "$res/initramfs.deps"
	while read -r kw m _; do
		[ "$kw" = insmod ] || continue
		dst=$(basename "$m")
		dst=${dst%.xz}
		dst=${dst%.zst}
		dst=${dst%.gz}
		grep -qx "$dst" "$d/modules/order" && continue
		case "$m" in
		*.xz) xz -dc "$root$m" > "$d/modules/$dst" ;;
		*.zst) zstd -qdc "$root$m" > "$d/modules/$dst" ;;
		*.gz) gzip -dc "$root$m" > "$d/modules/$dst" ;;
		*) cp "$root$m" "$d/modules/$dst" ;;
		esac || return 1
		echo "$dst" >> "$d/modules/order"
	done < "$res/initramfs.deps"
	cat > "$d/init" <<'EOF'
#!/bin/busybox sh
# The p2pbuf distro lane's initramfs (lab/distro-lane.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
fail() {
	echo "p2pbuf-initramfs: $*; powering off"
	echo o > /proc/sysrq-trigger
	sleep 600
}
while read -r m; do
	insmod "/modules/$m" || fail "insmod $m failed"
done < /modules/order
opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o "$opts,cache=loose,ro" root /newroot || fail "cannot mount the 9p root"
mount -t 9p -o "$opts" lane /newroot/mnt || fail "cannot mount the lane directory"
umount /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash /mnt/distro-init.sh
EOF
	chmod 755 "$d/init"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$res/initramfs.gz" || return 1
	ls -l "$res/initramfs.gz"
}
step "initramfs: busybox, 9p and 9pnet_virtio with their dependencies" initramfs_build || skip_rest "no initramfs"

# --- 5. the boot
# The debug options of the kernel's config that bear on timings, each as
# NAME=value, n when unset: what bench.json records.
bench_kdebug() {
	local cfg=$root/boot/config-$krel o v out=()
	local re=${P2PBUF_BENCH_KDEBUG_RE:-KASAN|PROVE_LOCKING|DEBUG_KMEMLEAK|DMA_API_DEBUG|DMABUF_DEBUG}
	for o in ${re//|/ }; do
		v=$(sed -n "s/^CONFIG_$o=//p" "$cfg" 2> /dev/null)
		out+=("$o=${v:-n}")
	done
	echo "${out[*]}"
}
vmlinuz=$root/usr/lib/modules/$krel/vmlinuz
[ -f "$vmlinuz" ] || vmlinuz=$root/boot/vmlinuz-$krel
cp "$P2PBUF_TOP/lab/guest/distro-init.sh" "$P2PBUF_TOP/lab/guest/lib.sh" \
	"$P2PBUF_TOP/lab/demo.sh" "$res/"
{
	printf 'P2PBUF_SUITES=%q\n' "$suites"
	printf 'P2PBUF_STDIR=%q\n' /var/lib/p2pbuf-lane/selftests
	printf 'P2PBUF_SUITE_TIMEOUT=%q\n' "${P2PBUF_SUITE_TIMEOUT:-300}"
	printf 'P2PBUF_DISTRO_KREL=%q\n' "$krel"
	printf 'export P2PBUF_TOPOLOGY=%q\n' "$topo"
	printf 'export P2PBUF_EXPECT_MAP=%q\n' "$TOPO_EXPECT"
	printf 'export P2PBUF_VFIO_BDF=%q\n' "0000:00:06.0"
	printf 'export P2PBUF_EDU_DMA_BITS=%q\n' "$TOPO_EDU_DMA_BITS"
	printf 'export P2PBUF_LEAK_CYCLES=%q\n' "${P2PBUF_LEAK_CYCLES:-$TOPO_LEAK_CYCLES}"
	printf 'export P2PBUF_RACE_ITERS=%q\n' "${P2PBUF_RACE_ITERS:-$TOPO_RACE_ITERS}"
	printf 'export P2PBUF_ACCEL=tcg\n'
	printf 'P2PBUF_JOB=%q\n' "$job"
	printf 'P2PBUF_TOOL=%q\n' /var/lib/p2pbuf-lane/tools/p2pbuf
	if [ "$job" = bench ]; then
		# The benchmark's knobs and what the guest cannot see.
		for k in $(compgen -e | grep -E '^P2PBUF_BENCH_[A-Z_]+$'); do
			case "$k" in P2PBUF_BENCH_KDEBUG*) continue ;; esac
			printf 'export %s=%q\n' "$k" "${!k}"
		done
		printf 'export P2PBUF_BENCH_KDEBUG=%q\n' "$(bench_kdebug)"
	fi
	printf 'export P2PBUF_PROVIDER_BAR_BYTES=%q\n' "$(numfmt --from=iec "${P2PBUF_IVSHMEM_SIZE:-64M}")"
	# No P2PBUF_LAB: this kernel has none of the lab's debug features,
	# whose tests skip here with their reason.
} > "$res/env.sh"
bar=${P2PBUF_IVSHMEM_SIZE:-64M}
truncate -s "$bar" "$res/ivshmem0"
truncate -s 64M "$res/ivshmem1"
# iomem=relaxed: Debian sets CONFIG_IO_STRICT_DEVMEM, under which
# pci_mmap_resource() (drivers/pci/pci-sysfs.c) refuses to mmap a BAR that
# a driver holds (iomem_is_exclusive(), -EINVAL). pair_test reads the
# provider's BAR through sysfs while p2pbuf_exporter holds it, so every one
# of its cases would fail in the fixture. The pair itself never needs this;
# P2PBUF_DISTRO_STRICT_IOMEM=1 boots with the distribution's default.
# (vfio.enable_unsafe_noiommu_mode of the topology is ignored: Debian has
# no CONFIG_VFIO_NOIOMMU.)
iomem=iomem=relaxed
[ "${P2PBUF_DISTRO_STRICT_IOMEM:-0}" = 1 ] && iomem=
append="console=ttyS0 loglevel=5 panic=-1 $iomem $TOPO_APPEND ${P2PBUF_APPEND:-}"
# shellcheck disable=SC2054 # commas inside QEMU options
qemu=(
	qemu-system-x86_64 -accel tcg -cpu "$TOPO_CPU" -m "${P2PBUF_MEM:-$TOPO_MEM}" -smp "${P2PBUF_DISTRO_SMP:-1}"
	-machine q35 -nographic -no-reboot -nic none -vga none
	-kernel "$vmlinuz" -initrd "$res/initramfs.gz" -append "$append"
	-object "memory-backend-file,id=m0,size=$bar,mem-path=$res/ivshmem0,share=on"
	-object "memory-backend-file,id=m1,size=64M,mem-path=$res/ivshmem1,share=on"
	"${TOPO_DEVICES[@]}"
	-fsdev "local,id=rootfs,path=$root,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=rootfs,mount_tag=root
	-fsdev "local,id=lanefs,path=$res,security_model=none"
	-device virtio-9p-pci,fsdev=lanefs,mount_tag=lane
)
printf '%q ' "${qemu[@]}" > "$res/qemu-cmdline.txt"
boot() {
	local rc=0
	lab_log "distro lane: booting $krel, topology $topo, timeout ${timeout_s}s"
	# At the caller's priority, as the lab's own boots run. Under
	# "nice -n 19" in make check's pool (one session, so one autogroup)
	# two busy guests left this one a few CPU seconds in minutes: its
	# clock calibrated wrongly, timers fired in bursts and the suites'
	# orderings by time (importer_test's unbind during a transfer) could
	# not hold. The pool already bounds how many jobs run at once.
	timeout -k 10 "$timeout_s" "${qemu[@]}" < /dev/null > "$res/console.log" 2>&1 || rc=$?
	rm -f "$res/ivshmem0" "$res/ivshmem1"
	if [ ! -f "$res/results/done" ]; then
		echo "guest did not finish (qemu/timeout status $rc); console:"
		# A stuck step (lab/guest/lib.sh) first: its dump follows it.
		grep -m1 -A 40 'p2pbuf-lab: stuck:' "$res/console.log" ||
			tail -n 40 "$res/console.log"
		return 1
	fi
	echo "kernel start to guest init: $(cat "$res/results/init-seconds") s"
}
step "boot $krel under QEMU/TCG, topology $topo" boot
booted=$?

# --- 6. what the guest reported
nested() { # FILE NAME RC: FILE as a nested KTAP document, then its line
	if [ -s "$1" ]; then sed 's/^/    /' "$1"; fi
	if [ "$3" = 0 ]; then step_ok "$2"; else step_fail "$2"; fi
}
R=$res/results
if [ "$booted" -ne 0 ]; then
	skip_rest "the guest did not finish"
fi
printf 'guest: kernel start to init\t%s\n' "$(cat "$R/init-seconds")" >> "$res/phases.tsv"
lab_rc=0
grep -q '^not ok' "$R/lab.ktap" && lab_rc=1
nested "$R/lab.ktap" "guest: modprobe from the DKMS tree, bind, unbind, unload" "$lab_rc"
for s in $suites; do
	rc=$(cat "$R/$s.rc" 2> /dev/null || echo missing)
	[ -f "$R/$s.seconds" ] && printf 'guest: %s\t%s\n' "$s" "$(cat "$R/$s.seconds")" >> "$res/phases.tsv"
	nested "$R/$s.ktap" "$s" "$rc"
done
echo "# uname -r: $(cat "$R/uname-r")"
echo "# tainted: before modprobe $(cat "$R/tainted-before"), loaded $(cat "$R/tainted-loaded"), end $(cat "$R/tainted")"
# Only O (4096, out-of-tree) and E (8192, unsigned) are expected.
taint_ok() { [ $(($(cat "$R/tainted") & ~(4096 | 8192))) -eq 0 ]; }
if taint_ok; then step_ok "taint only O/E ($(cat "$R/tainted"))"; else step_fail "taint only O/E ($(cat "$R/tainted"))"; fi
# The lab's own detectors (lab/detectors.py), on the kernel log and the
# console: the same patterns as every debug-lab boot.
splats=$(python3 - "$P2PBUF_TOP/lab" "$R/dmesg.txt" "$res/console.log" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import detectors
for cls, reports in sorted(detectors.find_reports(sys.argv[2:]).items()):
    kind, src, excerpt = reports[0]
    print("%s (%s, %d line(s), first in %s):\n%s" % (cls, kind, len(reports), src, excerpt))
PY
)
if [ -z "$splats" ]; then
	step_ok "no kernel splat in dmesg"
else
	step_fail "no kernel splat in dmesg"
	printf '%s\n' "$splats" | sed 's/^/# /' | head -n 20
fi
finish
