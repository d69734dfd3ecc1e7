#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Aggregate the lab's results: KTAP of every suite in every topology, the
splat detector over every boot's logs and its end-of-boot detector state,
missing suites and timeouts, a boot the guest ended on a stuck step
(lab/guest/lib.sh), into one table and the final line
"N passed, N failed, N skipped", with a conformance table (exporter x
check) for each topology that ran conform_test. The boots' own failures
(failed or stuck boots, kernel reports) are printed last, next to the
count, where a log cut to its end still shows them.

usage: summary.py RESULTS_ROOT TOPOLOGY... -- SUITE...
Exit status 0 only if nothing failed.
"""
import os
import re
import sys

# Kernel reports that fail a run wherever they appear in a guest's logs, and
# the end-of-boot state of the detectors that can switch themselves off: one
# class each, named in the summary (lab/detectors.py, next to this script).
import detectors
import skips  # lab/skips.py: the expected SKIPs (lab/skips.manifest)
import xfail  # lab/xfail.py: the expected failures (lab/xfail.manifest)

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
PLAN_RE = re.compile(r"^1\.\.(\d+)(?: # SKIP\b ?(.*))?$")
BAIL_RE = re.compile(r"^Bail out!")
# The harness's line that starts a test ("#  RUN           name ...").
RUN_RE = re.compile(r"^#\s+RUN\s+\S")

# The conformance kit (selftests/conform_test): results conform.<exporter>.<check>,
# shown as a table of exporters by checks, in this order (others after them).
CONFORM_SUITE = "conform_test"
CONFORM_EXPORTERS = ["p2pbuf", "vfio", "udmabuf", "heap"]
CONFORM_CHECKS = ["attach_gating", "map_type", "data_both_ways", "revoke_invalidates",
                  "map_after_revoke", "restore", "close_owner", "multi_range", "big_range",
                  "scm_rights", "close_orders", "kmemleak_cycles"]


def nested_failures(lines, most=4, context=12):
    """The failed results of a nested KTAP block (a host suite's guest suites,
    lab/distro-lane.sh), each with its output, as text to append to the
    parent's FAIL note; "" if none is named there. A kselftest-harness test
    prints its output before its result (from its "#  RUN" on), the lab's
    own steps (lab.ktap) after it: both, the last @context lines."""
    out, diag, shown, run = [], [], 0, False
    for i, line in enumerate(lines):
        if line.startswith("#"):
            if RUN_RE.match(line):
                diag, run = [], True
            diag.append(line)
            continue
        m = RESULT_RE.match(line)
        if not m:
            continue
        status, _, name, directive, _ = m.groups()
        # Lines before a result are its own only after its "#  RUN";
        # else they were the previous result's (shown with it).
        before, diag, run = (diag if run else []), [], False
        if status == "ok" or directive == "SKIP":
            continue
        after = []
        for follow in lines[i + 1:]:
            if not follow.startswith("#") or RUN_RE.match(follow):
                break
            after.append(follow)
        shown += 1
        if shown > most:
            out.append("    (more failures in the suite's KTAP)")
            break
        out.append("    not ok %s" % name)
        out.extend("      " + d for d in (before + after)[-context:])
    return ("\n" + "\n".join(out)) if out else ""


def parse_ktap(path, xf=None, where=None, cells=None):
    """Return (passed, failed, skipped, xfailed, notes) of one KTAP file.

    Strict: each test number 1..plan exactly once; a plan of 0 only with
    "# SKIP <reason>" (kselftest's skip-all); "Bail out!", "not ok ... # SKIP"
    and the XFAIL/TODO directives are failures. A result without a directive
    that @xf (lab/xfail.py) names for @where, (topology, suite), is an
    expected failure ("not ok": XFAIL, counted as skipped and in xfailed) or
    an unexpected pass ("ok": XPASS, a failure). @cells, a dict, receives the
    conformance table's cell of each result by name: ok, FAIL, XFAIL, XPASS,
    n/a (a SKIP whose reason starts "n/a:") or skip."""
    passed = failed = skipped = xfailed = 0
    if cells is None:
        cells = {}
    notes = []
    plan = None
    numbers = []
    diag = []  # the "#" lines since the last result: the next test's output
    sub = []  # indented lines since the last result: its nested KTAP
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line[:1] in (" ", "\t"):
                sub.append(line.strip())
                continue
            if line.startswith("#"):
                # A test's output starts at its "#  RUN": the header lines
                # and a grandchild's late lines are not the next test's.
                if RUN_RE.match(line):
                    diag = []
                diag.append(line)
                continue
            m = PLAN_RE.match(line)
            if m and plan is None:
                plan = int(m.group(1))
                if plan == 0:
                    if m.group(2) is None:
                        failed += 1
                        notes.append("FAIL plan 1..0 without a SKIP reason")
                    else:
                        skipped += 1
                        notes.append("SKIP (all): %s" % (m.group(2) or "(no reason given)"))
                continue
            if BAIL_RE.match(line):
                failed += 1
                notes.append("FAIL %s" % line)
                continue
            m = RESULT_RE.match(line)
            if not m:
                continue
            status, num, name, directive, reason = m.groups()
            numbers.append(int(num))
            output, diag = diag, []
            nested, sub = sub, []
            entry = None
            if directive is None and xf is not None:
                entry = xf.lookup(where[0], where[1], name)
            if (directive == "SKIP" and status == "ok" and xf is not None and
                    (reason or "").startswith("avoided:")):
                # Not run on this kernel: an "avoid:" entry must name it.
                entry = xf.lookup(where[0], where[1], name, avoid=True)
                if entry:
                    skipped += 1
                    xfailed += 1
                    notes.append(xf.xfail_note(name, entry))
                    cells[name] = "XFAIL"
                else:
                    failed += 1
                    notes.append("FAIL %s: avoided, but no \"avoid:\" entry of "
                                 "lab/xfail.manifest names it for this kernel" % name)
                    cells[name] = "FAIL"
            elif directive == "SKIP" and status == "ok":
                skipped += 1
                notes.append("SKIP %s: %s" % (name, reason or "(no reason given)"))
                cells[name] = "n/a" if (reason or "").startswith("n/a:") else "skip"
            elif directive in ("XFAIL", "TODO", "SKIP"):
                failed += 1
                notes.append("FAIL %s (%s %s # %s)" % (name, status, num, directive))
                cells[name] = "FAIL"
            elif status == "ok" and entry:
                failed += 1
                notes.append(xf.xpass_note(name, entry))
                cells[name] = "XPASS"
            elif status == "ok":
                passed += 1
                cells[name] = "ok"
            elif entry and entry.explains(output):
                skipped += 1
                xfailed += 1
                notes.append(xf.xfail_note(name, entry))
                cells[name] = "XFAIL"
            elif entry:
                failed += 1
                notes.append(xf.unexplained_note(name, entry))
                cells[name] = "FAIL"
            else:
                failed += 1
                notes.append("FAIL %s%s" % (name, nested_failures(nested)))
                cells[name] = "FAIL"
    if plan is None:
        failed += 1
        notes.append("no KTAP plan line")
    elif sorted(numbers) != list(range(1, plan + 1)):
        failed += 1
        dup = sorted({n for n in numbers if numbers.count(n) > 1})
        missing = sorted(set(range(1, plan + 1)) - set(numbers))
        extra = sorted(n for n in set(numbers) if n > plan or n < 1)
        notes.append("incomplete or inconsistent: %d of %d results%s%s%s" % (
            len(set(numbers) & set(range(1, plan + 1))), plan,
            ", missing %s" % missing[:8] if missing else "",
            ", repeated %s" % dup[:8] if dup else "",
            ", beyond the plan %s" % extra[:8] if extra else ""))
    return passed, failed, skipped, xfailed, notes


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


# lab/guest/lib.sh's guest_stuck(): a step the kernel would not let end.
STUCK_RE = re.compile(r"p2pbuf-lab: stuck: (.*)")
# sysrq w's dump: from its header, each blocked task's lines, up to this many
# in all; it ends at the next sysrq action (the reboot's "sysrq: Resetting")
# or the lab's next line.
BLOCKED_HEADER = "Show Blocked State"
BLOCKED_END = re.compile(r"sysrq: |p2pbuf-lab: ")
BLOCKED_LINES = 160


def stuck_report(topo_dir):
    """(what, blocked tasks) when the guest ended the boot on a stuck step,
    else None. The step from console.log, the dump from the kernel log the
    guest saved then (dmesg-stuck.txt), else from the console."""
    path = os.path.join(topo_dir, "console.log")
    if not os.path.exists(path):
        return None
    what = None
    with open(path, errors="replace") as f:
        for line in f:
            m = STUCK_RE.search(line)
            if m:
                what = m.group(1).strip()
                break
    if what is None:
        return None
    dump = []
    for name in ("dmesg-stuck.txt", "console.log"):
        p = os.path.join(topo_dir, name)
        if not os.path.exists(p):
            continue
        on = False
        with open(p, errors="replace") as f:
            for line in f:
                line = line.rstrip()
                if BLOCKED_HEADER in line:
                    on = True
                elif on and BLOCKED_END.search(line):
                    break
                if on:
                    dump.append("    " + line)
                    if len(dump) >= BLOCKED_LINES:
                        dump.append("    (cut at %d lines; all of it in %s)" % (BLOCKED_LINES, name))
                        break
        if dump:
            break
    return what, "\n".join(dump) or "    (no blocked-task dump in the logs)"


def placed_suites(topo_dir):
    """The suites lab/check.sh placed in a topology (selftests/suites), or
    None when it did not say (every suite is then expected)."""
    path = os.path.join(topo_dir, "suites.txt")
    if not os.path.exists(path):
        return None
    return set(open(path).read().split())


def conformance_table(conform):
    """The lines of the conformance table: @conform is [(topology, {result
    name: cell})] of the topologies whose results have conform_test.ktap."""
    exporters = list(CONFORM_EXPORTERS)
    checks = list(CONFORM_CHECKS)
    grid = []
    for topo, cells in conform:
        by = {}
        for name, cell in cells.items():
            parts = name.split(".", 2)
            if len(parts) != 3 or parts[0] != "conform":
                continue
            if parts[1] not in exporters:
                exporters.append(parts[1])
            if parts[2] not in checks:
                checks.append(parts[2])
            by[(parts[1], parts[2])] = cell
        grid.append((topo, by))
    header = ["topology", "exporter"] + [str(i) for i in range(1, len(checks) + 1)]
    rows = [[topo, exp] + [by.get((exp, c), "-") for c in checks]
            for topo, by in grid for exp in exporters]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    out = ["Conformance (conform_test): ok, FAIL, XFAIL/XPASS (lab/xfail.manifest), "
           "n/a (does not apply),", "skip (other SKIP), - (no result); checks by number:"]
    legend = ["%d %s" % (i, c) for i, c in enumerate(checks, 1)]
    line = " "
    for item in legend:
        if len(line) + len(item) + 2 > 100:
            out.append(line.rstrip())
            line = " "
        line += " " + item + " "
    out.append(line.rstrip())
    out.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return out


def main(argv):
    sep = argv.index("--")
    root, topos, suites = argv[1], argv[2:sep], argv[sep + 1:]
    suites = ["lab"] + suites
    expected = skips.Manifest()
    xfails = xfail.Manifest()
    total_p = total_f = total_s = 0
    table = []
    details = []
    # The boots' own failures (a failed or stuck boot, kernel reports):
    # printed last, next to the count, where a truncated log still shows
    # them; most other failures of a bad boot follow from them.
    boots = []
    conform = []
    for topo in topos:
        d = os.path.join(root, topo)
        row = [topo]
        boot_failed = os.path.exists(os.path.join(d, "boot-failed"))
        placed = placed_suites(d)
        for suite in suites:
            if placed is not None and suite != "lab" and suite not in placed:
                row.append("-")
                continue
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
            cells = {}
            p, f, s, xf, notes = parse_ktap(ktap, xfails, (topo, suite), cells)
            if suite == CONFORM_SUITE:
                conform.append((topo, cells))
            rc_file = os.path.join(d, suite + ".rc")
            if os.path.exists(rc_file):
                rc = int(open(rc_file).read().strip() or "0")
                # kselftest exits 1 (KSFT_FAIL) after a failure, expected or not.
                if rc not in (0, 4) and f == 0 and not (rc == 1 and xf):
                    f += 1
                    notes.append("exit status %d without a failed test (crash or timeout)" % rc)
            f += expected.check_ktap(topo, suite, ktap, notes)
            total_p += p
            total_f += f
            total_s += s
            row.append("%d/%d/%d" % (p, f, s))
            for n in notes:
                details.append("%s/%s: %s" % (topo, suite, n))
        # A stuck step ends the boot too: one failure, the stuck one.
        stuck = stuck_report(d)
        if stuck:
            total_f += 1
            boots.append("%s: FAIL: guest stuck: %s; the guest ended the boot, blocked tasks:\n%s" %
                         (topo, stuck[0], stuck[1]))
        elif boot_failed:
            total_f += 1
            boots.append("%s: FAIL: boot: %s" % (topo, open(os.path.join(d, "boot-failed")).read().strip()))
        found = detectors.find_reports([os.path.join(d, n) for n in ("console.log", "dmesg.txt")])
        leaks = kmemleak_reports(os.path.join(d, "kmemleak.txt"))
        known = {}
        for reason, block in leaks:
            if reason is None:
                found.setdefault(detectors.KMEMLEAK_LEAK, []).append(
                    ("object", "kmemleak.txt", block))
            else:
                known[reason] = known.get(reason, 0) + 1
        for reason, n in known.items():
            total_s += 1
            details.append("%s/kmemleak: SKIP %d object(s): %s" % (topo, n, reason))
            total_f += expected.check(topo, "kmemleak", "known-leak", reason, details)
        # One failure per class, named; the first report of each is shown.
        state = {}
        for cls, text in detectors.end_of_boot(d):
            state.setdefault(cls, []).append(text)
        # Detectors a job switches off on purpose (make bench: its boot has
        # kmemleak=off dma_debug=off); only their "switched off" classes.
        for cls in filter(None, os.environ.get("P2PBUF_DETECTORS_OFF", "").split(",")):
            if cls in (detectors.KMEMLEAK_OFF, detectors.DMA_OFF, detectors.LOCKDEP_OFF):
                hit = [found.pop(cls, None), state.pop(cls, None)]
                if any(hit):
                    details.append("%s: %s on purpose (P2PBUF_DETECTORS_OFF)" % (topo, cls))
        for cls in sorted(set(found) | set(state)):
            total_f += 1
            for text in state.get(cls, []):
                boots.append("%s: FAIL: %s: %s" % (topo, cls, text))
            if cls in found:
                reports = found[cls]
                kinds = sorted({k for k, _, _ in reports})
                _, src, excerpt = reports[0]
                boots.append("%s: FAIL: %s (%s): %d report line(s), the first in %s:\n%s" %
                             (topo, cls, ", ".join(kinds), len(reports), src, excerpt))
        row.append(", ".join(sorted(set(found) | set(state))) or "clean")
        table.append(row)

    # Host-side suites (lint): results/host/<suite>.ktap, one row each.
    host_dir = os.path.join(root, "host")
    host_rows = []
    # Every host suite make check started (host/expected.txt) must have
    # left its KTAP: one that vanished (a script that died before writing
    # it, igt's results never converted) is a failure, not a smaller total.
    expected_path = os.path.join(host_dir, "expected.txt")
    if os.path.exists(expected_path):
        for suite in sorted(set(open(expected_path).read().split())):
            if not os.path.exists(os.path.join(host_dir, suite + ".ktap")):
                total_f += 1
                host_rows.append(("host: " + suite, "MISSING"))
                details.append("host/%s: FAIL: suite missing (no %s.ktap)" % (suite, suite))
    if os.path.isdir(host_dir):
        for name in sorted(os.listdir(host_dir)):
            if not name.endswith(".ktap"):
                continue
            suite = name[:-5]
            p, f, s, xf, notes = parse_ktap(os.path.join(host_dir, name), xfails, ("host", suite))
            f += expected.check_ktap("host", suite, os.path.join(host_dir, name), notes)
            rc_path = os.path.join(host_dir, suite + ".rc")
            if os.path.exists(rc_path):
                rc = open(rc_path).read().strip()
                if rc != "0" and f == 0 and not (rc == "1" and xf):
                    f += 1
                    notes.append("FAIL the script exited %s with every step ok" % rc)
            total_p += p
            total_f += f
            total_s += s
            host_rows.append(("host: " + suite, "%d/%d/%d" % (p, f, s)))
            for n in notes:
                details.append("host/%s: %s" % (suite, n))

    total_f += expected.finish(root, topos, details)
    total_f += xfails.finish(root, topos, details)
    header = ["topology"] + suites + ["kernel log"]
    widths = [max(len(str(r[i])) if i < len(r) else 0 for r in table + [header]) for i in range(len(header))]
    print("\nResults (pass/fail/skip per suite; - = not placed in that topology, selftests/suites):")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for r in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    for name, cell in host_rows:
        print("%s  %s" % (name.ljust(widths[0]), cell))
    if conform:
        print()
        print("\n".join(conformance_table(conform)))
    if details:
        print()
        for line in details:
            print(line)
    if boots:
        print()
        for line in boots:
            print(line)
    print()
    print("%d passed, %d failed, %d skipped" % (total_p, total_f, total_s))
    return 0 if total_f == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
