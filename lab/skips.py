# SPDX-License-Identifier: GPL-2.0
"""Expected SKIPs: lab/skips.manifest and the rule lab/summary.py enforces.

A SKIP is accepted only if an entry of the manifest names it: topology,
suite, test and reason, each a shell-style glob (fnmatch, case-sensitive).
Any other SKIP fails the run as "unexpected SKIP <topo> <suite> <test>:
<reason>"; a SKIP without a reason never matches. A SKIP stays counted as
skipped and keeps its reason in the summary either way.

An entry whose topology and suite ran in this invocation (the suite's KTAP,
or kmemleak.txt for "kmemleak", is in the results) but that matched no SKIP
is reported as "stale manifest entry ... (remove it)". That is a note, not a
failure: it appears when a test got better (a fix, a new route), and a run
must not fail because something passed; the entry is narrow enough that it
can only re-admit the very SKIP it names (docs/lab.rst).

A malformed manifest, or one naming a topology the lab does not have, fails
the run.
"""
import fnmatch
import os
import re

LAB = os.path.dirname(os.path.abspath(__file__))
# P2PBUF_SKIPS_MANIFEST replaces it (lab/skips_selftest.py plants defects so).
MANIFEST = os.environ.get("P2PBUF_SKIPS_MANIFEST") or os.path.join(LAB, "skips.manifest")
# KTAP result lines as lab/summary.py counts them: top level, SKIP directive.
SKIP_RE = re.compile(r"^(?:not ok|ok) \d+ (.*?) # SKIP\b ?(.*)$")


def lab_topologies():
    """The topology names of lab/topologies.sh (P2PBUF_TOPOLOGIES)."""
    with open(os.path.join(LAB, "topologies.sh")) as f:
        m = re.search(r'(?m)^P2PBUF_TOPOLOGIES="([^"]*)"', f.read())
    return m.group(1).split() if m else []


class Entry:
    def __init__(self, where, topo, suite, test, reason):
        self.where = where
        self.topo = topo
        self.suite = suite
        self.test = test
        self.reason = reason
        self.matched = 0

    def matches(self, topo, suite, test, reason):
        return (bool(reason) and
                fnmatch.fnmatchcase(topo, self.topo) and
                fnmatch.fnmatchcase(suite, self.suite) and
                fnmatch.fnmatchcase(test, self.test) and
                fnmatch.fnmatchcase(reason, self.reason))

    def __str__(self):
        return "%s: %s | %s | %s | %s" % (self.where, self.topo, self.suite,
                                         self.test, self.reason)


class Manifest:
    """The expected SKIPs of one summary run."""

    def __init__(self, path=MANIFEST, topologies=None):
        self.entries = []
        self.errors = []
        known = set(lab_topologies() if topologies is None else topologies)
        known.update(("host", "*"))
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            self.errors.append("skip manifest %s unreadable: %s" % (path, e.strerror))
            lines = []
        for n, line in enumerate(lines, 1):
            where = "%s:%d" % (os.path.basename(path), n)
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [x.strip() for x in line.split("|", 3)]
            if len(fields) != 4 or not all(fields):
                self.errors.append("%s: malformed skip manifest line (want "
                                   "'topology | suite | test | reason'): %s"
                                   % (where, line))
                continue
            if fields[0] not in known:
                self.errors.append("%s: unknown topology '%s' (have: %s)"
                                   % (where, fields[0], " ".join(sorted(known))))
                continue
            self.entries.append(Entry(where, *fields))

    def check(self, topo, suite, test, reason, notes):
        """One SKIP: 0 if expected, else 1 with a note appended to @notes."""
        hit = False
        for e in self.entries:
            if e.matches(topo, suite, test, reason):
                e.matched += 1
                hit = True
        if hit:
            return 0
        notes.append("unexpected SKIP %s %s %s: %s"
                     % (topo, suite, test, reason or "(no reason given)"))
        return 1

    def check_ktap(self, topo, suite, path, notes):
        """Every SKIP of one KTAP file: the number of unexpected ones."""
        bad = 0
        with open(path, errors="replace") as f:
            for line in f:
                m = SKIP_RE.match(line.rstrip("\n"))
                # "avoided:" SKIPs are expected failures that were not run;
                # lab/xfail.py judges them (an "avoid:" entry must name them).
                if m and not m.group(2).strip().startswith("avoided:"):
                    bad += self.check(topo, suite, m.group(1), m.group(2).strip(), notes)
        return bad

    def finish(self, root, topos, notes):
        """Stale entries and manifest errors into @notes; the number of failures."""
        for e in self.entries:
            if e.matched:
                continue
            ran = [t for t in topos + ["host"]
                   if fnmatch.fnmatchcase(t, e.topo) and self._ran(root, t, e.suite)]
            if ran:
                notes.append("stale manifest entry %s: matched no SKIP in %s "
                             "(remove it)" % (e, " ".join(ran)))
        notes.extend("FAIL: %s" % err for err in self.errors)
        return len(self.errors)

    @staticmethod
    def _ran(root, topo, suite_glob):
        """Whether a suite matching @suite_glob left results for @topo."""
        d = os.path.join(root, topo)
        if not os.path.isdir(d):
            return False
        names = [n[:-5] for n in os.listdir(d) if n.endswith(".ktap")]
        if topo != "host" and os.path.exists(os.path.join(d, "kmemleak.txt")):
            names.append("kmemleak")
        return any(fnmatch.fnmatchcase(n, suite_glob) for n in names)
