# SPDX-License-Identifier: GPL-2.0
"""Expected failures: lab/xfail.manifest and the rule lab/summary.py enforces.

A test that fails on purpose, because it reaches an upstream defect that
patches/ fixes but the kernel under test does not have, is named by an entry
of the manifest: kernel kind, topology, suite, test and the reason. The
kernel kind of a summary run is "kpatches" when P2PBUF_KPATCHES asks
lab/kernel.sh for every patch of patches/ (1, or a list naming them all),
else "stock"; entries of the other kind are ignored. A partial list is
judged as the stock kernel: its "avoid:" entries keep the known splats from
running, and a defect the partial set fixes shows as an XPASS that names it.

For a top-level KTAP result without a directive that an applicable entry
names:

* "not ok": XFAIL, if the entry's failure pattern explains the test's
  output (Entry.explains: every failed assertion matches it, no timeout or
  signal). Not a failure and not a pass: counted as skipped and shown with
  the entry's reason, as a SKIP is. A failure it does not explain fails the
  run: the entry cannot hide another defect of the same test.
* "ok": XPASS. The defect is gone (a fixed kernel, a test that no longer
  reaches it): the run fails, asking to drop the entry, so that the entry
  cannot hide the test's next real failure.

Every other "not ok" fails the run as before. A SKIP is never judged here
(lab/skips.manifest). An applicable entry whose topology and suite ran in
this invocation but that matched no result is reported as "stale xfail
manifest entry ... (remove it)", a note and not a failure, as for a stale
expected SKIP (lab/skips.py). A malformed manifest, an unknown kernel kind
or topology fails the run.
"""
import fnmatch
import os
import re
import sys

import skips  # lab/skips.py: the topologies, whether a suite ran

LAB = os.path.dirname(os.path.abspath(__file__))
# P2PBUF_XFAIL_MANIFEST replaces it (lab/xfail_selftest.py plants entries so).
MANIFEST = os.environ.get("P2PBUF_XFAIL_MANIFEST") or os.path.join(LAB, "xfail.manifest")
KINDS = ("stock", "kpatches")


def kernel_kind(env=None, patches_dir=None):
    """"kpatches" if P2PBUF_KPATCHES asks for every patch of patches/ (1,
    or a list of files that names each of them), else "stock" (empty or 0:
    none, lab/kernel.sh; a partial list)."""
    value = (os.environ if env is None else env).get("P2PBUF_KPATCHES", "").strip()
    if value in ("", "0"):
        return "stock"
    if value == "1":
        return "kpatches"
    if patches_dir is None:
        patches_dir = os.path.join(os.path.dirname(LAB), "patches")
    try:
        wanted = {f for f in os.listdir(patches_dir) if f.endswith(".patch")}
    except OSError:
        wanted = set()
    given = {os.path.basename(f) for f in value.split()}
    return "kpatches" if wanted and wanted <= given else "stock"


# What a failure an entry explains must not be: the harness's own words for
# a test that did not end by its assertions (kselftest_harness.h).
NOT_AN_ASSERTION = re.compile(r"terminated by timeout|terminated unexpectedly|"
                              r"ended in some other way|Test terminated by signal")
# The harness's line for a failed EXPECT/ASSERT ("file.c:N:test:Expected ...").
ASSERTION = re.compile(r":Expected ")
# A line the test printed itself (an assertion or a TH_LOG), "# file.c:N:"
# or "# file.h:N:" (tests defined in a header, importer_*_tests.h); not the
# harness's framing ("#  RUN", "#  FAIL", "# test: Test failed").
OWN_LINE = re.compile(r"^#\s*[^\s:]+\.[ch]:\d+:")
# Joins the parts of a failure pattern that must all match (Entry.explains).
CONJUNCTION = " && "


class Entry:
    def __init__(self, where, kernel, topo, suite, test, failure, reason):
        self.where = where
        self.kernel = kernel
        self.topo = topo
        self.suite = suite
        self.test = test
        self.failure = failure
        self.reason = reason
        self.matched = 0

    def explains(self, diag):
        """Does this entry's failure pattern explain a failure whose
        diagnostic lines ("# ..." between the test's start and its result) are
        @diag? At least one of the test's own lines (OWN_LINE) must match it,
        every failed assertion must, and the test must have ended by its
        assertions, not by a timeout or a signal. A pattern of several parts
        joined by " && " asks each part to match one of the test's own lines
        and every failed assertion to match a part: the defect's whole
        signature, not either half. "*" explains any failure (host suites
        without harness lines)."""
        if self.failure == "*":
            return True
        parts = [re.compile(p) for p in self.failure.split(CONJUNCTION)]
        if any(NOT_AN_ASSERTION.search(line) for line in diag):
            return False
        own = [line for line in diag if OWN_LINE.search(line)]
        if not all(any(rx.search(line) for line in own) for rx in parts):
            return False
        return all(any(rx.search(line) for rx in parts)
                   for line in diag if ASSERTION.search(line))

    @property
    def avoid(self):
        """An entry whose test must not run on this kernel: running it would
        leave a kernel report that fails the whole boot. The lab hands its
        name to the guest (P2PBUF_AVOID), the test SKIPs with a reason that
        starts "avoided:", and that SKIP is the expected failure."""
        return self.reason.startswith("avoid:")

    def matches(self, topo, suite, test):
        return (fnmatch.fnmatchcase(topo, self.topo) and
                fnmatch.fnmatchcase(suite, self.suite) and
                fnmatch.fnmatchcase(test, self.test))

    def __str__(self):
        return "%s: %s | %s | %s | %s | %s" % (self.where, self.kernel, self.topo,
                                              self.suite, self.test, self.reason)


class Manifest:
    """The expected failures of one summary run, on one kind of kernel."""

    def __init__(self, path=MANIFEST, kind=None, topologies=None):
        self.kind = kernel_kind() if kind is None else kind
        self.entries = []    # the applicable ones
        self.ignored = 0     # entries of the other kernel kind
        self.errors = []
        self.path = path
        known = set(skips.lab_topologies() if topologies is None else topologies)
        known.update(("host", "*"))
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            self.errors.append("xfail manifest %s unreadable: %s" % (path, e.strerror))
            lines = []
        for n, line in enumerate(lines, 1):
            where = "%s:%d" % (os.path.basename(path), n)
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            # The failure pattern is last: a regex may hold "|".
            fields = [x.strip() for x in line.split("|", 5)]
            if len(fields) != 6 or not all(fields):
                self.errors.append("%s: malformed xfail manifest line (want "
                                   "'kernel | topology | suite | test | reason | failure'): %s"
                                   % (where, line))
                continue
            if fields[0] not in KINDS + ("*",):
                self.errors.append("%s: unknown kernel kind '%s' (have: %s *)"
                                   % (where, fields[0], " ".join(KINDS)))
                continue
            if fields[1] not in known:
                self.errors.append("%s: unknown topology '%s' (have: %s)"
                                   % (where, fields[1], " ".join(sorted(known))))
                continue
            if not fnmatch.fnmatchcase(self.kind, fields[0]):
                self.ignored += 1
                continue
            try:
                if fields[5] != "*":
                    for part in fields[5].split(CONJUNCTION):
                        # A part that matches nothing in particular (blank,
                        # "A &&  && B", or one that a space matches: ".")
                        # would let any line through.
                        if not part.strip() or re.compile(part).search(" "):
                            raise re.error("part '%s' matches a blank line" % part)
            except re.error as err:
                self.errors.append("%s: bad failure pattern '%s': %s" % (where, fields[5], err))
                continue
            kernel, topo, suite, test, reason, failure = fields
            self.entries.append(Entry(where, kernel, topo, suite, test, failure, reason))

    def lookup(self, topo, suite, test, avoid=False):
        """The first applicable entry naming this result (counted as matched),
        or None; only "avoid:" entries with @avoid, only the others without."""
        hit = None
        for e in self.entries:
            if e.avoid == avoid and e.matches(topo, suite, test):
                e.matched += 1
                hit = hit or e
        return hit

    def xfail_note(self, test, e):
        return "XFAIL %s: %s (%s, %s kernel)" % (test, e.reason, e.where, self.kind)

    def avoided(self, topo):
        """The tests the guest of @topo must not run (P2PBUF_AVOID)."""
        return sorted({e.test for e in self.entries
                       if e.avoid and fnmatch.fnmatchcase(topo, e.topo)})

    def unexplained_note(self, test, e):
        return ("FAIL %s: fails, but not as %s expects (failure /%s/: each part "
                "joined by ' && ' must match one of the test's own lines, every failed "
                "assertion must match a part, no timeout or signal)" % (test, e.where, e.failure))

    def xpass_note(self, test, e):
        return ("FAIL %s: XPASS: passed, but %s expects it to fail on the %s kernel: "
                "the upstream defect is gone, drop the entry (%s)"
                % (test, e.where, self.kind, e.reason))

    def finish(self, root, topos, notes):
        """Stale entries and manifest errors into @notes; the number of failures."""
        for e in self.entries:
            if e.matched:
                continue
            ran = [t for t in topos + ["host"]
                   if fnmatch.fnmatchcase(t, e.topo) and skips.Manifest._ran(root, t, e.suite)]
            if ran:
                notes.append("stale xfail manifest entry %s: matched no result in %s on the "
                             "%s kernel (remove it)" % (e, " ".join(ran), self.kind))
        notes.extend("FAIL: %s" % err for err in self.errors)
        return len(self.errors)


def main(argv):
    """xfail.py --avoid TOPOLOGY: the names of the tests the guest of
    TOPOLOGY must not run on this kernel (P2PBUF_KPATCHES decides which),
    space-separated, for lab/vm.sh's P2PBUF_AVOID."""
    if len(argv) != 3 or argv[1] != "--avoid":
        sys.stderr.write("usage: xfail.py --avoid TOPOLOGY\n")
        return 2
    m = Manifest(topologies=set(skips.lab_topologies()) | {argv[2]})
    if m.errors:
        sys.stderr.write("\n".join(m.errors) + "\n")
        return 1
    print(" ".join(m.avoided(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
