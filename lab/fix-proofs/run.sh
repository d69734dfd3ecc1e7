#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make fix-proofs: show that every exporter fix of issue 13 has a test that
# fails without it. Each lab/fix-proofs/NN-*.patch reverts one fix. For each
# run this script copies the committed repository (git archive HEAD) into
# ${P2PBUF_RESULTS:-results}/fix-proofs/<run>/src, applies the patch(es),
# runs the lab's targeted check in the copy (one topology, the suites that
# hold the patch's tests, no host suites, igt, detectors or distribution
# kernels) and checks that every test the table below names for the patch
# is reported "not ok" in the suite's KTAP
# (<run>/results/<topology>/<suite>.ktap).
#
#   run.sh each [PATCH...]  one copy and one boot per patch (default: every
#                           patch with a test); PATCH is "05",
#                           "05-restore-silent" or a path to the .patch
#   run.sh all              the patches grouped by topology, all of a
#                           topology's patches applied together in one
#                           copy: one boot per topology (a 2-core host)
#   run.sh list             print the table
#
# Prints KTAP, one line per (patch, test): "ok N - PATCH: TEST fails with
# the fix reverted", else "not ok N - ..." with what happened instead. A
# patch without a test is reported "# SKIP". A run whose lab setup
# (lab.ktap, lab_test) failed proves nothing: its lines are "not ok".
# P2PBUF_FIX_PROOFS_REUSE=1 boots nothing and reports the results an
# earlier run left. Needs what make check needs (lab/deps.sh); never runs
# the full check.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${P2PBUF_RESULTS:-$top/results}/fix-proofs

# PATCH  TOPOLOGY  SUITES  TESTS  ORDER  EVIDENCE
# SUITES and TESTS are comma-separated; "-" means none. ORDER "last": the
# patch may leave a KASAN report or a stuck task behind, so in "all" its
# suites run after every other suite of the boot. EVIDENCE: an extended
# regex that the failure this revert causes prints in the suites' KTAP; a
# test that fails without it failed for another reason (its setup, another
# patch of the same boot) and proves nothing. README has the reasons.
table() {
	cat <<'EOF'
01-attach-route-outside-resv	switch	race_test	race.attach_while_unbind	last	reached p2pdma after remove
02-bus-table-cached-on-route	rp-zen-iommu	lifecycle_test	lc.route_mismatch_one_range	-	cached as a bus address table
03-no-split-retry	rp-zen-iommu	lifecycle_test	lc.route_mismatch	-	EADDRINUSE|Address already in use|\(-98\)
04-bar-unclaimed	switch	lifecycle_test	lc.bar_claimed	-	no p2pbuf_exporter region
05-restore-silent	switch	pair_test,uabi_test,lifecycle_test	pair.dynamic.event_queue_overflow,uabi.round_trip,lc.memory_decode_off	-	not told of the revoke and the restore
06-owner-check-order	-	-	-	-	-
07-debugfs-resv-under-edev-lock	rp-zen-iommu	lifecycle_test	lc.debugfs_no_stall	-	EXPORT waited [0-9]+ ms behind a debugfs reader
08-nonprefetchable-exportable	switch	lifecycle_test	lc.nonprefetchable_refused	-	P2PBUF_EXP_BAR_PROVIDER|EOPNOTSUPP
09-binds-bridges	-	-	-	-	-
10-argsz-uncapped	switch	lifecycle_test	lc.abi_new_binary	-	E2BIG|abi_new_binary:Expected -1 |abi_new_binary:Expected \(7\) \(7\) == errno
11-minsz-is-ksize	switch	lifecycle_test	lc.abi_old_binary	-	a v1 QUERY
12-revoke-not-killable	switch	revoke_slow_test	slow.killable_waits	-	SIGKILL did not end the wait
13-gfp-not-accounted	-	-	-	-	-
14-runtime-pm-not-held	switch	lifecycle_test	lc.runtime_suspend	-	runtime-suspended with an exporter file open
15-pin-budget-per-file	switch	importer_safety_test	safe.pin_budget_edquot	-	pin_budget_edquot:Expected -EDQUOT
16-classifier-outside-bar-is-iova	switch	kunit_maptype	global.exporter_rules	-	p2pbuf_exp_maptype: .*, [1-9][0-9]* failed
17-bus-table-kept-after-revoke	switch	lifecycle_test	lc.table_cached_bus_only	-	a revoke left an unmapped attachment's table of the BAR
18-late-unmap-keeps-bus-table	switch	revoke_slow_test	hold.revoke_mapping.blocks_until_let_go	-	a late unmap left the revoked buffer a table of the BAR
19-remove-does-not-wait-for-transfer	-	-	-	-	-
EOF
}

log() { printf '[fix-proofs] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 2; }

# field PATCH N: column N of PATCH's row.
field() {
	table | awk -F'\t' -v p="$1" -v n="$2" '$1 == p { print $n }'
}

# resolve ARG: the patch name (no .patch) an argument means.
resolve() {
	local a=${1##*/} m
	a=${a%.patch}
	m=$(table | awk -F'\t' -v a="$a" '$1 == a || substr($1, 1, length(a) + 1) == a "-" { print $1 }')
	[ "$(printf '%s\n' "$m" | grep -c .)" = 1 ] || die "no single patch matches '$1' (run.sh list)"
	[ -f "$here/$m.patch" ] || die "$here/$m.patch missing"
	echo "$m"
}

# join_csv LIST...: comma-separated lists to one space-separated list,
# first occurrence kept, "-" dropped.
join_csv() {
	printf '%s\n' "$@" | tr ',' '\n' | awk '$0 != "-" && $0 != "" && !seen[$0]++' | tr '\n' ' ' | sed 's/ $//'
}

# prove RUN TOPO SUITES PATCH...: copy, patch, check; leaves RUN/results.
prove() {
	local run=$1 topo=$2 suites=$3 p
	shift 3
	# Only report what an earlier run left (P2PBUF_FIX_PROOFS_REUSE=1).
	[ "${P2PBUF_FIX_PROOFS_REUSE:-0}" = 1 ] && return 0
	rm -rf "$run"
	mkdir -p "$run/src"
	if ! git -C "$top" archive HEAD | tar -x -C "$run/src"; then
		log "$run: cannot copy the repository"
		return 1
	fi
	for p in "$@"; do
		# Not git apply: the copy lies inside this repository's work tree
		# (results/), and git apply run in a subdirectory silently skips
		# every path outside it, which is all of them.
		if ! patch -d "$run/src" -p1 --batch --forward --quiet < "$here/$p.patch"; then
			log "$run: $p.patch does not apply"
			return 1
		fi
	done
	log "$run: $* in $topo: lab_test $suites (log: $run/check.log)"
	(
		cd "$run/src" || exit 1
		unset P2PBUF_BUILD P2PBUF_SUITES_EXPLICIT
		P2PBUF_TOPOS=$topo P2PBUF_SUITES="lab_test $suites" P2PBUF_LINT=0 \
			P2PBUF_IGT=0 P2PBUF_DETECTORS=0 P2PBUF_DISTRO=0 \
			P2PBUF_RESULTS=$run/results lab/check.sh
	) > "$run/check.log" 2>&1
	# check.sh fails whenever a test fails, which is the point: no status.
	return 0
}

n=0
failed=0
# report RUN PATCH: one KTAP line per test of PATCH from RUN's results.
report() {
	local run=$1 patch=$2 topo suites tests evidence t s k line why setup=
	topo=$(field "$patch" 2)
	suites=$(join_csv "$(field "$patch" 3)")
	tests=$(join_csv "$(field "$patch" 4)")
	evidence=$(field "$patch" 6)
	if [ -z "$tests" ]; then
		n=$((n + 1))
		echo "ok $n - $patch: no test can fail with this fix reverted # SKIP see lab/fix-proofs/README"
		return
	fi
	k=$run/results/$topo
	if [ ! -d "$k" ]; then
		setup="no results: the check did not run (see $run/check.log)"
	elif [ -f "$k/boot-failed" ]; then
		setup="boot failed: $(cat "$k/boot-failed")"
	elif [ ! -f "$k/lab.ktap" ] || grep -q '^not ok' "$k/lab.ktap"; then
		setup="lab setup failed (modules, binding): see $k/lab.ktap"
	elif [ ! -f "$k/lab_test.ktap" ] || grep -q '^not ok' "$k/lab_test.ktap"; then
		setup="lab_test failed: see $k/lab_test.ktap"
	fi
	for t in $tests; do
		n=$((n + 1))
		if [ -n "$setup" ]; then
			echo "not ok $n - $patch: $t # $setup"
			failed=$((failed + 1))
			continue
		fi
		line=
		for s in $suites; do
			[ -f "$k/$s.ktap" ] || continue
			line=$(grep -E "^(not )?ok [0-9]+ ${t//./\\.}( |$)" "$k/$s.ktap" | tail -n 1)
			[ -n "$line" ] && break
		done
		case "$line" in
		"not ok "*)
			# Not cat | grep -q: with pipefail, cat's SIGPIPE after an
			# early match would turn the match into a miss.
			if grep -Eqs -- "$evidence" "$k"/*.ktap; then
				echo "ok $n - $patch: $t fails with the fix reverted"
				continue
			fi
			why="fails, but without the revert's evidence /$evidence/"
			;;
		"") why="not reported (suite crashed or timed out?): see $k/" ;;
		*"# SKIP"*) why="skipped with the fix reverted:${line#*# SKIP}" ;;
		*) why="passes with the fix reverted" ;;
		esac
		echo "not ok $n - $patch: $t # $why"
		failed=$((failed + 1))
	done
}

# plan PATCH...: the number of KTAP lines the patches give.
plan() {
	local p c total=0
	for p in "$@"; do
		c=$(join_csv "$(field "$p" 4)" | wc -w)
		total=$((total + (c > 0 ? c : 1)))
	done
	echo "$total"
}

all_patches() {
	table | awk -F'\t' '{ print $1 }'
}

mode=${1:-}
[ $# -gt 0 ] && shift
# The check runs in the copy: a relative P2PBUF_RESULTS must not move with it.
if [ "$mode" = each ] || [ "$mode" = all ]; then
	mkdir -p "$out" || die "cannot create $out"
	out=$(cd "$out" && pwd)
fi
case "$mode" in
list)
	printf 'PATCH\tTOPOLOGY\tSUITES\tTESTS\tORDER\tEVIDENCE\n'
	table
	exit 0
	;;
each)
	patches=()
	if [ $# -eq 0 ]; then
		for p in $(all_patches); do
			[ "$(field "$p" 4)" = - ] || patches+=("$p")
		done
	else
		for a in "$@"; do
			m=$(resolve "$a") || exit 2
			patches+=("$m")
		done
	fi
	echo "TAP version 13"
	echo "1..$(plan "${patches[@]}")"
	for p in "${patches[@]}"; do
		if [ "$(field "$p" 4)" != - ]; then
			prove "$out/each-$p" "$(field "$p" 2)" "$(join_csv "$(field "$p" 3)")" "$p" ||
				log "$p: no check ran"
		fi
		report "$out/each-$p" "$p"
	done
	;;
all)
	mapfile -t patches < <(all_patches)
	topos=$(for p in "${patches[@]}"; do field "$p" 2; done | awk '$0 != "-" && !seen[$0]++')
	echo "TAP version 13"
	echo "1..$(plan "${patches[@]}")"
	for topo in $topos; do
		group=()
		first=()
		late=()
		for p in "${patches[@]}"; do
			[ "$(field "$p" 2)" = "$topo" ] || continue
			group+=("$p")
			if [ "$(field "$p" 5)" = last ]; then
				late+=("$(field "$p" 3)")
			else
				first+=("$(field "$p" 3)")
			fi
		done
		prove "$out/all-$topo" "$topo" "$(join_csv "${first[@]}" "${late[@]}")" "${group[@]}" ||
			log "$topo: no check ran"
		for p in "${group[@]}"; do
			report "$out/all-$topo" "$p"
		done
	done
	for p in "${patches[@]}"; do
		[ "$(field "$p" 2)" = - ] && report "$out/none" "$p"
	done
	;;
*)
	echo "usage: $0 each [PATCH...] | all | list" >&2
	exit 2
	;;
esac
echo "# $failed of $n not proven; logs in $out"
[ "$failed" -eq 0 ]
