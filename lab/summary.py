#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Aggregate the lab's results: KTAP of every suite in every topology, the
splat detector over every boot's logs, missing suites and timeouts, into one
table and the final line "N passed, N failed, N skipped".

usage: summary.py RESULTS_ROOT TOPOLOGY... -- SUITE...
Exit status 0 only if nothing failed.
"""
import os
import re
import sys

# Kernel reports that fail a run wherever they appear in a guest's logs.
SPLAT_PATTERNS = [
    (r"\bBUG:", "kernel BUG"),
    # Both the classic "WARNING: CPU: 1 PID: 2 at file:line" and 7.x's
    # "WARNING: file:line at func+off/size [mod], CPU#1: comm/pid".
    (r"WARNING: CPU: \d+ PID: \d+|WARNING: \S+ at \S+|-+\[ cut here \]-+", "kernel WARNING"),
    (r"\bOops\b|general protection fault|Kernel panic", "Oops/panic"),
    (r"KASAN:", "KASAN report"),
    (r"possible circular locking dependency|possible recursive locking|"
     r"inconsistent lock state|suspicious RCU usage|lock held when returning|"
     r"INFO: trying to register non-static key|DEBUG_LOCKS_WARN_ON|BUG: MAX_LOCKDEP",
     "lockdep report"),
    (r"DMA-API: (?!preallocated|debugging enabled|debugging disabled on kernel command line|"
     r"cacheline tracking)", "DMA-API debug error"),
    (r"rcu: INFO: .* detected stalls|rcu_.* self-detected stall", "RCU stall"),
    (r"blocked for more than \d+ seconds", "hung task"),
    (r"UBSAN:", "UBSAN report"),
    (r"watchdog: BUG: soft lockup", "soft lockup"),
]
# Lines that match a pattern above but are not reports.
SPLAT_IGNORE = [
    r"lockdep: .*enabled",  # none known; kept for local additions
]

# Upstream leaks the tests reach through upstream code, not through ours:
# (every backtrace frame regex must match, in order) -> reason. Each is shown
# in the summary as a SKIP with its reason; any other leak fails the run.
KNOWN_LEAKS = [
    ([r"sg_alloc_table", r"dma_buf_phys_vec_to_sgt", r"vfio_pci_dma_buf_map"],
     "known upstream leak: vfio-pci's mappings leak their scatterlist in 7.2.13 "
     "(drivers/dma-buf/dma-buf-mapping.c:194 zeroes orig_nents, so "
     "dma_buf_free_sgt()'s sg_free_table() frees nothing; p2pbuf_exporter "
     "works around it in exporter/sgt.c)"),
]

RESULT_RE = re.compile(r"^(not ok|ok) (\d+) (.*?)(?: # (SKIP|XFAIL|TODO)\b ?(.*))?$")
PLAN_RE = re.compile(r"^1\.\.(\d+)$")


def parse_ktap(path):
    """Return (passed, failed, skipped, notes) of one KTAP file."""
    passed = failed = skipped = 0
    notes = []
    plan = None
    seen = 0
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = PLAN_RE.match(line)
            if m and plan is None:
                plan = int(m.group(1))
                continue
            m = RESULT_RE.match(line)
            if not m:
                continue
            seen += 1
            status, _, name, directive, reason = m.groups()
            if directive == "SKIP":
                skipped += 1
                notes.append("SKIP %s: %s" % (name, reason or "(no reason given)"))
            elif status == "ok":
                passed += 1
            else:
                failed += 1
                notes.append("FAIL %s" % name)
    if plan is None:
        failed += 1
        notes.append("no KTAP plan line")
    elif seen < plan:
        failed += 1
        notes.append("incomplete: %d of %d results" % (seen, plan))
    return passed, failed, skipped, notes


def find_splats(paths):
    found = []
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            lines = f.readlines()
        for i, line in enumerate(lines):
            if any(re.search(p, line) for p in SPLAT_IGNORE):
                continue
            for pat, what in SPLAT_PATTERNS:
                if re.search(pat, line):
                    excerpt = "".join(lines[max(0, i - 2):i + 12])
                    found.append((what, os.path.basename(path), excerpt))
                    break
    return found


def kmemleak_reports(path):
    """Split a kmemleak report into (known_reason or None, text) objects."""
    if not os.path.exists(path):
        return []
    text = open(path, errors="replace").read()
    blocks = [b for b in re.split(r"(?m)^(?=unreferenced object 0x)", text) if b.strip()]
    out = []
    for b in blocks:
        frames = re.findall(r"(?m)^\s+(\S+)\+0x", b)
        reason = None
        for pats, why in KNOWN_LEAKS:
            pos = 0
            ok = True
            for pat in pats:
                while pos < len(frames) and not re.search(pat, frames[pos]):
                    pos += 1
                if pos == len(frames):
                    ok = False
                    break
            if ok:
                reason = why
                break
        out.append((reason, b))
    return out


def main(argv):
    sep = argv.index("--")
    root, topos, suites = argv[1], argv[2:sep], argv[sep + 1:]
    suites = ["lab"] + suites
    total_p = total_f = total_s = 0
    table = []
    details = []
    for topo in topos:
        d = os.path.join(root, topo)
        row = [topo]
        boot_failed = os.path.exists(os.path.join(d, "boot-failed"))
        for suite in suites:
            ktap = os.path.join(d, suite + ".ktap")
            if not os.path.exists(ktap):
                why = "missing"
                if os.path.exists(os.path.join(d, suite + ".missing")):
                    why = "missing (not built)"
                elif boot_failed:
                    why = "missing (boot failed)"
                row.append("MISSING")
                total_f += 1
                details.append("%s/%s: FAIL: suite %s" % (topo, suite, why))
                continue
            p, f, s, notes = parse_ktap(ktap)
            rc_file = os.path.join(d, suite + ".rc")
            if os.path.exists(rc_file):
                rc = int(open(rc_file).read().strip() or "0")
                if rc not in (0, 4) and f == 0:
                    f += 1
                    notes.append("exit status %d without a failed test (crash or timeout)" % rc)
            total_p += p
            total_f += f
            total_s += s
            row.append("%d/%d/%d" % (p, f, s))
            for n in notes:
                details.append("%s/%s: %s" % (topo, suite, n))
        if boot_failed:
            total_f += 1
            details.append("%s: FAIL: boot: %s" % (topo, open(os.path.join(d, "boot-failed")).read().strip()))
        splats = find_splats([os.path.join(d, n) for n in ("console.log", "dmesg.txt")])
        leaks = kmemleak_reports(os.path.join(d, "kmemleak.txt"))
        known = {}
        for reason, block in leaks:
            if reason is None:
                splats.append(("kmemleak suspected leak", "kmemleak.txt", block))
            else:
                known[reason] = known.get(reason, 0) + 1
        for reason, n in known.items():
            total_s += 1
            details.append("%s/kmemleak: SKIP %d object(s): %s" % (topo, n, reason))
        if splats:
            total_f += 1
            row.append("SPLAT")
            for what, src, excerpt in splats[:5]:
                details.append("%s: FAIL: %s in %s:\n%s" % (topo, what, src, excerpt))
        else:
            row.append("clean")
        table.append(row)

    # Host-side suites (lint): results/host/<suite>.ktap, one row each.
    host_dir = os.path.join(root, "host")
    host_rows = []
    if os.path.isdir(host_dir):
        for name in sorted(os.listdir(host_dir)):
            if not name.endswith(".ktap"):
                continue
            suite = name[:-5]
            p, f, s, notes = parse_ktap(os.path.join(host_dir, name))
            total_p += p
            total_f += f
            total_s += s
            host_rows.append(("host: " + suite, "%d/%d/%d" % (p, f, s)))
            for n in notes:
                details.append("host/%s: %s" % (suite, n))

    header = ["topology"] + suites + ["kernel log"]
    widths = [max(len(str(r[i])) if i < len(r) else 0 for r in table + [header]) for i in range(len(header))]
    print("\nResults (pass/fail/skip per suite):")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for r in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    for name, cell in host_rows:
        print("%s  %s" % (name.ljust(widths[0]), cell))
    if details:
        print()
        for line in details:
            print(line)
    print()
    print("%d passed, %d failed, %d skipped" % (total_p, total_f, total_s))
    return 0 if total_f == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
