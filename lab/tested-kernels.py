#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The 'tested kernels' table, from make check's results.

    tested-kernels.py RESULTS_DIR...                 the table in RST on stdout
    tested-kernels.py RESULTS_DIR... --update FILE   the table between FILE's
                                                     markers (Markdown for .md)

Several results directories make one table (for example make check's and
a debug-lab run on another kernel source, P2PBUF_SRC_PKG=linux-source-7.3).

RESULTS_DIR is what lab/check.sh leaves (P2PBUF_RESULTS, default results/):
each distribution-kernel lane as host/distro-<suite>-<topology>.ktap (the
lane's KTAP) and distro-<topology>/distro/<suite>/ (its files, with
results/uname-r, results/tainted and one <suite>.ktap per test program);
the debug lab's topologies as <topology>/ (lab.ktap, <suite>.ktap,
dmesg.txt, env.sh). One row per kernel release and Debian suite (the lab's
own debug build as one more row). A lane that failed is a row that says so.
The debug lab's suites are counted as make check counts them: a failure
lab/xfail.manifest expects (a vfio-pci defect of the stock kernel, the
conformance canary's planted ones) is an expected failure, not a failed
suite; P2PBUF_KPATCHES=1 in the environment reads a patched kernel's run.
A topology found in two results directories is the later one's.

Map types: "expected" is the topology's P2PBUF_EXPECT_MAP; "seen" only
what a suite printed (lifecycle_test's "map type X", leak_test's "(X, N
processes)", a failed EXPECT_MAP_TYPE's "Expected 'X' == 'Y'"); where none
printed it, a passed pair.*.map_type_both_sides (which asserts that the
importer's and the exporter's map type is the expected one) is named as the
evidence, and nothing is claimed without it.
"""
import argparse
import glob
import os
import re
import sys

import summary  # lab/summary.py: how make check counts a KTAP file
import xfail    # lab/xfail.py: the expected failures (lab/xfail.manifest)

TAINT_FLAGS = "PFSRMBUDAWCIOELKXTN"
RST_BEGIN, RST_END = ".. tested-kernels-begin", ".. tested-kernels-end"
MD_BEGIN = "<!-- tested-kernels-begin -->"
MD_END = "<!-- tested-kernels-end -->"
KTAP_RESULT = re.compile(r"^(not ok|ok) \d+( [^#]*)?(#\s*(\w+))?")
STR_FAIL = re.compile(r"map_type_both_sides:Expected '(\w+)' == '(\w+)'")
SEEN_PATTERNS = (re.compile(r"map type ([A-Z_]+)\b"),
                 re.compile(r"cycles \(([A-Z_]+), \d+ process"))


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


def taint_text(value):
    if value is None:
        return "not recorded"
    try:
        n = int(value)
    except ValueError:
        return value
    flags = "".join(c for i, c in enumerate(TAINT_FLAGS) if n & (1 << i))
    return "%d (%s)" % (n, flags) if flags else "0"


def count_ktap(text):
    """pass, fail, skip of a kselftest KTAP document's top-level results."""
    p = f = s = 0
    for line in text.splitlines():
        m = KTAP_RESULT.match(line)
        if not m:
            continue
        if m.group(1) == "not ok":
            f += 1
        elif (m.group(4) or "").upper() == "SKIP":
            s += 1
        else:
            p += 1
    return p, f, s


def env_value(text, name):
    m = re.search(r"^(?:export )?%s=((?:\\ |\S)*)" % name, text or "", re.M)
    return m.group(1).replace("\\ ", " ").strip("'\"") if m else None


class Run:
    """One boot: a lane's or a lab topology's."""

    def __init__(self, topo):
        self.topo = topo
        self.status = None      # "passed", "failed: ..."
        self.expect = None
        self.seen = set()
        self.evidence = False   # map_type_both_sides passed
        self.suites = []        # (name, pass, fail, skip, xfail)
        self.missing = []       # suites with no KTAP
        self.taint = None

    def read_suites(self, d, names, xfails=None):
        """Each suite's counts; with @xfails (the debug lab's runs), a
        failure lab/xfail.manifest expects is counted as make check counts
        it (summary.parse_ktap()): XFAIL, not a failure."""
        for name in names:
            path = os.path.join(d, name + ".ktap")
            text = read(path)
            if text is None:
                self.missing.append(name)
                continue
            if xfails is None:
                self.suites.append((name,) + count_ktap(text) + (0,))
            else:
                p, f, s, xf, _ = summary.parse_ktap(path, xfails, (self.topo, name))
                self.suites.append((name, p, f, s - xf, xf))
            for line in text.splitlines():
                for pat in SEEN_PATTERNS:
                    self.seen.update(pat.findall(line))
                m = STR_FAIL.search(line)
                if m:
                    self.seen.add(m.group(2))
                if re.match(r"ok \d+ pair\.\w+\.map_type_both_sides$",
                            line.strip()):
                    self.evidence = True

    def map_text(self):
        if not self.expect and not self.seen:
            return "not recorded"
        exp = self.expect or "?"
        if self.seen:
            return "expected %s, seen %s" % (exp, ", ".join(sorted(self.seen)))
        if self.evidence:
            return "expected %s, seen %s (map_type_both_sides passed)" % (
                exp, exp)
        return "expected %s, not seen" % exp

    def suites_text(self):
        if not self.suites:
            return "none ran"
        ok = sum(1 for s in self.suites if s[2] == 0)
        p, f, s, xf = (sum(x[i] for x in self.suites) for i in (1, 2, 3, 4))
        t = "%d/%d suites passed (%d pass, %d fail, %d skip%s)" % (
            ok, len(self.suites), p, f, s,
            ", %d expected failures (lab/xfail.manifest)" % xf if xf else "")
        if self.missing:
            t += ", no KTAP: " + " ".join(self.missing)
        return t


class Row:
    def __init__(self, kernel, dist):
        self.kernel = kernel
        self.dist = dist
        self.cc = None
        self.runs = []

    def cells(self):
        def per(f):
            return "; ".join("%s: %s" % (r.topo, f(r)) for r in self.runs)
        return [self.kernel, self.dist, self.cc or "not recorded",
                per(lambda r: r.status),
                per(Run.map_text), per(Run.suites_text),
                per(lambda r: taint_text(r.taint))]


HEAD = ["Kernel", "Distribution", "Compiler", "Topologies",
        "Map types", "Suites", "Taint"]


def lane_run(results, ktap_path, suite_dir):
    """(suite, kernel, cc, Run) of one distribution-kernel lane."""
    ktap = read(ktap_path) if ktap_path else None
    base = os.path.basename(ktap_path or "")[len("distro-"):-len(".ktap")]
    suite = topo = kernel = cc = None
    if suite_dir:
        suite = os.path.basename(suite_dir)
        topo = os.path.basename(os.path.dirname(os.path.dirname(suite_dir)))
        topo = topo[len("distro-"):]
    if ktap:
        m = re.search(r"^(?:not )?ok 1 distro root: Debian (\S+)", ktap, re.M)
        if m and not suite:
            suite = m.group(1)
        m = re.search(r"topology (\S+)$", ktap, re.M)
        if m and not topo:
            topo = m.group(1)
        m = re.search(r"^# root \S+ kernel ([^,]+), (.+), [^,]+$", ktap, re.M)
        if m:
            kernel, cc = m.group(1), m.group(2)
        m = re.search(r"dkms build \S+ -k (\S+) \((\S+)\)", ktap)
        if m:
            kernel = kernel or m.group(1)
            cc = cc or m.group(2)
    # The rest from the file name, distro-<suite>-<topology>.ktap.
    if suite and not topo and base.startswith(suite + "-"):
        topo = base[len(suite) + 1:]
    if not suite:
        suite, _, topo = base.partition("-")
    run = Run(topo or "?")
    if ktap is None:
        run.status = "failed: no lane KTAP"
    else:
        bad = [ln.split(" ", 3)[-1] for ln in ktap.splitlines()
               if ln.startswith("not ok ")]
        skipped = re.search(r"^ok \d+ \(not reached\) # SKIP (.*)$",
                            ktap, re.M)
        if bad:
            run.status = "failed (%s)" % bad[0]
        elif skipped:
            run.status = "failed (%s)" % skipped.group(1)
        else:
            run.status = "passed"
    if suite_dir:
        r = os.path.join(suite_dir, "results")
        kernel = (read(os.path.join(r, "uname-r")) or "").strip() or kernel
        run.taint = (read(os.path.join(r, "tainted")) or "").strip() or None
        env = read(os.path.join(suite_dir, "env.sh"))
        run.expect = env_value(env, "P2PBUF_EXPECT_MAP")
        names = (env_value(env, "P2PBUF_SUITES") or "").split() or sorted(
            os.path.basename(p)[:-5]
            for p in glob.glob(os.path.join(r, "*_test*.ktap")))
        if os.path.isdir(r):
            run.read_suites(r, names)
    return suite or "?", kernel or "unknown", cc, run


def lab_run(d, xfails):
    """(kernel, cc, Run) of one topology of the debug lab."""
    run = Run(os.path.basename(d))
    env = read(os.path.join(d, "env.sh"))
    run.expect = env_value(env, "P2PBUF_EXPECT_MAP")
    names = env_value(env, "P2PBUF_SUITES") or ""
    failed = read(os.path.join(d, "boot-failed"))
    lab = read(os.path.join(d, "lab.ktap"))
    if failed is not None:
        run.status = "failed (%s)" % (failed.strip() or "boot")
    elif lab is None:
        run.status = "failed (no lab.ktap)"
    elif re.search(r"^not ok", lab, re.M):
        run.status = "failed (lab.ktap)"
    else:
        run.status = "passed"
    run.read_suites(d, [n for n in names.split()
                        if os.path.exists(os.path.join(d, n + ".ktap"))
                        or failed is None], xfails)
    if any(s[2] for s in run.suites) and run.status == "passed":
        run.status = "failed (suites)"
    # The guest's end-of-boot record (lab/guest/lib.sh), "tainted N".
    m = re.search(r"^tainted (\d+)$", read(os.path.join(d, "detectors.txt")) or "", re.M)
    run.taint = m.group(1) if m else None
    kernel = cc = None
    for f in ("dmesg.txt", "console.log"):
        m = re.search(r"Linux version (\S+) \(\S+\) \((.*?), GNU ld",
                      read(os.path.join(d, f)) or "")
        if m:
            kernel, cc = m.group(1), m.group(2)
            break
    return kernel, cc, run


def collect(results, rows, xfails):
    """Adds the rows of one results directory to ROWS; a topology a row
    already has (the same lane in two results directories) is replaced by
    the later one."""
    def row(kernel, dist):
        return rows.setdefault((kernel, dist), Row(kernel, dist))

    def add(r, run):
        r.runs = [x for x in r.runs if x.topo != run.topo] + [run]

    lanes = {}
    for p in glob.glob(os.path.join(results, "host", "distro-*.ktap")):
        lanes[p] = None
    dirs = glob.glob(os.path.join(results, "distro-*", "distro", "*"))
    for d in sorted(x for x in dirs if os.path.isdir(x)):
        topo = os.path.basename(os.path.dirname(os.path.dirname(d)))
        p = os.path.join(results, "host", "%s-%s.ktap" % (
            "distro-" + os.path.basename(d), topo[len("distro-"):]))
        lanes[p if os.path.exists(p) else "missing:" + d] = d
    for p, d in sorted(lanes.items()):
        suite, kernel, cc, run = lane_run(
            results, None if p.startswith("missing:") else p, d)
        r = row(kernel, "Debian " + suite)
        r.cc = r.cc or cc
        add(r, run)

    lab = []
    for d in sorted(glob.glob(os.path.join(results, "*", ""))):
        d = d.rstrip("/")
        name = os.path.basename(d)
        if name == "host" or name.startswith("distro-"):
            continue
        if not os.path.exists(os.path.join(d, "env.sh")):
            continue
        lab.append(lab_run(d, xfails))
    if lab:
        # One build for every topology: the release any of them printed.
        r = row(next((k for k, _, _ in lab if k), "lab debug build"),
                "lab debug build")
        r.cc = next((c for _, c, _ in lab if c), None)
        for _, _, run in lab:
            add(r, run)


def rst(rows):
    out = [".. list-table::", "   :header-rows: 1", ""]
    for cells in [HEAD] + [r.cells() for r in rows]:
        out.append("   * - " + cells[0])
        out.extend("     - " + c for c in cells[1:])
    return "\n".join(out) + "\n"


def md(rows):
    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    out = [line(HEAD), line(["---"] * len(HEAD))]
    out.extend(line(r.cells()) for r in rows)
    return "\n".join(out) + "\n"


def update(path, rows):
    text = read(path)
    if text is None:
        sys.exit("tested-kernels.py: cannot read %s" % path)
    if path.endswith(".md"):
        begin, end, table = MD_BEGIN, MD_END, md(rows)
    else:
        begin, end, table = RST_BEGIN, RST_END, rst(rows)
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        sys.exit("tested-kernels.py: no %s ... %s in %s" % (begin, end, path))
    i = text.index("\n", i) + 1
    new = text[:i] + "\n" + table + "\n" + text[j:]
    if new != text:
        with open(path, "w") as f:
            f.write(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", nargs="+")
    ap.add_argument("--update", metavar="FILE", action="append", default=[])
    a = ap.parse_args()
    found = {}
    # The stock kernel's expected failures unless P2PBUF_KPATCHES says the
    # debug lab ran patched (lab/xfail.py, as for make check's summary).
    xfails = xfail.Manifest()
    for d in a.results:
        collect(d, found, xfails)
    if not found:
        sys.exit("tested-kernels.py: no lane or lab results in %s" % " ".join(a.results))
    rows = [found[k] for k in sorted(found, key=lambda k: (k[1], k[0]))]
    if not a.update:
        sys.stdout.write(rst(rows))
    for f in a.update:
        update(f, rows)


if __name__ == "__main__":
    main()
