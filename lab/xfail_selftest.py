#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Self-test of the expected-failure rule (lab/xfail.py) and of the
conformance table, through lab/summary.py.

usage: xfail_selftest.py > results/host/xfail-selftest.ktap

Each case writes a synthetic results directory (conform_test KTAP and exit
status, a host suite), runs the real lab/summary.py on it with the real
lab/xfail.manifest or a planted one (P2PBUF_XFAIL_MANIFEST), on a stock or a
patched kernel (P2PBUF_KPATCHES), and checks the exit status and the lines it
prints, in order: a failure an entry names is an XFAIL, counted as skipped;
the same entry on a pass fails the run (XPASS); a stock entry is ignored on
the patched kernel, where its failure fails the run; a failure no entry names
fails it; an entry that matched nothing where its suite ran is reported as
stale; a bad manifest fails the run. The cases lean on the real manifest's
stock rp-zen-iommu conform.vfio.multi_range and conform.vfio.kmemleak_cycles
entries: change them together. The n/a SKIPs of the synthetic conform_test
are admitted by a planted copy of lab/skips.manifest. Prints KTAP; exit
status 1 if a case failed. No boot, about a second (lab/check.sh runs it as
the host suite xfail-selftest).
"""
import os
import re
import subprocess
import sys
import tempfile

LAB = os.path.dirname(os.path.abspath(__file__))
SUMMARY = os.path.join(LAB, "summary.py")
XFAILS = os.path.join(LAB, "xfail.manifest")
SKIPS = os.path.join(LAB, "skips.manifest")

EXPORTERS = ["p2pbuf", "vfio", "udmabuf", "heap"]
CHECKS = ["attach_gating", "map_type", "data_both_ways", "revoke_invalidates",
          "map_after_revoke", "restore", "close_owner", "multi_range", "big_range",
          "scm_rights", "close_orders", "kmemleak_cycles"]
# The checks that do not apply to the exporters of system memory.
NA = {"udmabuf": CHECKS[3:7], "heap": CHECKS[3:8]}
NA_REASON = "n/a: the exporter has no revocation"
# The n/a SKIPs of a synthetic conform_test are admitted by this planted line.
SKIPS_PLANTED = open(SKIPS).read() + "* | conform_test | conform.* | n/a: *\n"
BIG_SKIP = "rp-zen-iommu | conform_test | conform.p2pbuf.big_range | no room in the BAR\n"


# The "#" lines conform_test prints before a failed result.
FAILURE_LINES = {
    "multi_range": ["# conform_test.c:437:multi_range:Expected 0 (0) == ret (-98)",
                    "# conform_test.c:437:multi_range:map of four ranges: Address already in use",
                    "# multi_range: Test terminated by assertion"],
    "kmemleak_cycles": ["# conform_test_leak.c:248:kmemleak_cycles:vfio: 48 objects leaked in "
                        "16 export and 64 map cycles (pid 96; kmemleak 10704 ms, one settle "
                        "for this run's cycles)",
                        "# conform_test_leak.c:252:kmemleak_cycles:Expected 0 (0) == leaks (48)",
                        "# kmemleak_cycles: Test failed"],
    "other": ["# conform_test.c:520:multi_range:Expected 0 (0) == conf_dma_check(...) (17)",
              "# conform_test.c:520:multi_range:vfio: device writes at 65024+1024 read back wrong"],
    "timeout": [],
}


def conform(**cells):
    """conform_test's KTAP lines: every check ok or n/a, but @cells
    ({"vfio__multi_range": "not ok" | "ok" | "skip" | None (no line)})."""
    out = []
    for exp in EXPORTERS:
        for check in CHECKS:
            key = "%s__%s" % (exp, check)
            name = "conform.%s.%s" % (exp, check)
            how = cells.get(key, "n/a" if check in NA.get(exp, ()) else "ok")
            if how is None:
                continue
            n = sum(1 for line in out if not line.startswith("#")) + 1
            if how == "n/a":
                out.append("ok %d %s # SKIP %s" % (n, name, NA_REASON))
            elif how == "skip":
                out.append("ok %d %s # SKIP no room in the BAR" % (n, name))
            elif how == "avoided":
                out.append("ok %d %s # SKIP %s" % (n, name, AVOIDED))
            elif how.startswith("not ok"):
                # The harness's lines of the failure, as conform_test prints
                # them: the defect's own ("not ok"), another assertion
                # ("not ok:other") or the defect's, then a timeout.
                kind = how.split(":")[1] if ":" in how else "defect"
                out.extend(FAILURE_LINES.get(kind if kind != "defect" else check, []))
                if kind == "timeout":
                    out.extend(FAILURE_LINES.get(check, []))
                    out.append("# %s: Test terminated by timeout" % check)
                out.append("not ok %d %s" % (n, name))
            else:
                out.append("%s %d %s" % (how, n, name))
    return out


# conform_test's SKIP of a test that lab/vm.sh told it not to run.
AVOIDED = "avoided: known upstream defect on this kernel (lab/xfail.manifest)"
# rp-zen on the stock kernel: vfio-pci's big_range avoided, its leak listed.
ZEN_STOCK = {"conform_test": conform(vfio__big_range="avoided",
                                     vfio__kmemleak_cycles="not ok"),
             "conform_test.rc": "1\n"}


def avoid_list(kpatches):
    """What lab/xfail.py --avoid rp-zen prints for lab/vm.sh."""
    env = dict(os.environ)
    env.pop("P2PBUF_KPATCHES", None)
    env.pop("P2PBUF_XFAIL_MANIFEST", None)
    if kpatches is not None:
        env["P2PBUF_KPATCHES"] = kpatches
    r = subprocess.run([sys.executable, os.path.join(LAB, "xfail.py"), "--avoid", "rp-zen"],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return r.returncode, "avoid list: [%s]\n" % r.stdout.strip()


def ktap(lines):
    results = sum(1 for line in lines if not line.startswith("#"))
    return "TAP version 13\n1..%d\n%s\n" % (results, "\n".join(lines))


def run(topo_suites, host=None, kpatches=None, xfails=None, suites=("conform_test",),
        skips=""):
    """@topo_suites: {topo: {suite: KTAP lines, suite + ".rc": status}}; every
    topology gets lab.ktap. @host: {suite: KTAP lines or status for .rc}.
    @kpatches: P2PBUF_KPATCHES (None: unset). @xfails: a planted manifest.
    @skips: lines added to the planted skip manifest."""
    with tempfile.TemporaryDirectory() as root:
        files = {}
        for topo, suites_of in topo_suites.items():
            files[topo + "/lab.ktap"] = ktap(["ok 1 modules loaded"])
            for name, v in suites_of.items():
                files["%s/%s" % (topo, name if name.endswith(".rc") else name + ".ktap")] = (
                    v if isinstance(v, str) else ktap(v))
        for name, v in (host or {}).items():
            files["host/%s" % (name if name.endswith(".rc") else name + ".ktap")] = (
                v if isinstance(v, str) else ktap(v))
        for path, text in files.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        env = dict(os.environ)
        env.pop("P2PBUF_KPATCHES", None)
        env.pop("P2PBUF_XFAIL_MANIFEST", None)
        if kpatches is not None:
            env["P2PBUF_KPATCHES"] = kpatches
        env["P2PBUF_SKIPS_MANIFEST"] = os.path.join(root, "skips-planted.manifest")
        with open(env["P2PBUF_SKIPS_MANIFEST"], "w") as f:
            f.write(SKIPS_PLANTED + skips)
        if xfails is not None:
            env["P2PBUF_XFAIL_MANIFEST"] = os.path.join(root, "planted.manifest")
            with open(env["P2PBUF_XFAIL_MANIFEST"], "w") as f:
                f.write(xfails)
        topos = sorted(topo_suites)
        r = subprocess.run([sys.executable, SUMMARY, root] + topos + ["--"] + list(suites),
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        return r.returncode, r.stdout


# rp-zen-iommu on the stock kernel: vfio-pci's two expected failures, and
# kselftest's exit status 1 after them.
ZEN_IOMMU_STOCK = {"conform_test": conform(vfio__multi_range="not ok",
                                           vfio__kmemleak_cycles="not ok"),
                   "conform_test.rc": "1\n"}
MULTI = r"conform\.vfio\.multi_range"
WHERE_STOCK = r" \((xfail|planted)\.manifest:\d+, stock kernel\)$"
XFAIL_MULTI = (r"^rp-zen-iommu/conform_test: XFAIL conform\.vfio\.multi_range: vfio-pci: "
               r"dma_buf_phys_vec_to_sgt\(\) .*patches/0002.*" + WHERE_STOCK)
XFAIL_LEAK = (r"^rp-zen-iommu/conform_test: XFAIL conform\.vfio\.kmemleak_cycles: vfio-pci: "
              r"dma_buf_free_sgt\(\) .*patches/0001.*" + WHERE_STOCK)
# 48 results: 9 n/a SKIPs, 2 XFAILs, 37 passes; lab.ktap's pass.
ZEN_IOMMU_TOTAL = r"^38 passed, 0 failed, 11 skipped$"
HOST_XFAIL = ("* | host | lint | checkpatch --strict: kernel sources | "
              "a planted expected failure of a host suite | *\n")

# A suite whose tests live in a header (importer_*_tests.h), with a line a
# grandchild of the first test printed after its result: the second test's
# failure (a TH_LOG and no assertion) must be judged on its own lines only.
HEADER_TEST = ["#  RUN           imp.first ...",
               "#            OK  imp.first",
               "ok 1 imp.first",
               "# importer_tests.h:10:first:stray words",
               "#  RUN           imp.target ...",
               "# importer_tests.h:20:target:import refused: ret -5",
               "# target: Test failed",
               "#          FAIL  imp.target",
               "not ok 2 imp.target"]
HEADER_XFAIL = "stock | switch | importer_test | imp.target | planted | %s\n"

# A test's failure with a TH_LOG and a failed assertion, as a canary entry
# expects them ("A && B"): the log line matches one part, the assertion the
# other. @extra: lines more before its end (another failed assertion).
def nested_cascade():
    """summary.nested_failures() on two failed lab.ktap steps in a row."""
    import summary
    got = summary.nested_failures([
        "1..3", "not ok 1 modprobe p2pbuf_exporter",
        "# modprobe: FATAL: Module p2pbuf_exporter not found",
        "not ok 2 bind provider to p2pbuf_exporter", "# echo: write error: No such device",
        "ok 3 unbind provider"])
    want = ("\n    not ok modprobe p2pbuf_exporter"
            "\n      # modprobe: FATAL: Module p2pbuf_exporter not found"
            "\n    not ok bind provider to p2pbuf_exporter"
            "\n      # echo: write error: No such device")
    return (0, "ok") if got == want else (1, "got:%s\nwant:%s" % (got, want))


def header_assert(extra=()):
    return (["#  RUN           imp.target ...",
             "# importer_tests.h:20:target:revoke returned before invalidate",
             "# importer_tests.h:21:target:Expected 0 (0) <= buf (-16)"] + list(extra) +
            ["# target: Test failed",
             "#          FAIL  imp.target",
             "not ok 1 imp.target"])


SIGNATURE = r"returned before invalidate && <= buf \(-16\)"

# (name, results, expected exit status, lines that must be printed in this
# order, lines that must not)
def kinds():
    """The kernel kind xfail.kernel_kind() gives each P2PBUF_KPATCHES, with
    a planted patches/ of two files: one line per value, rc 0."""
    sys.path.insert(0, LAB)
    import xfail
    with tempfile.TemporaryDirectory() as d:
        for f in ("0001-a.patch", "0002-b.patch", "README"):
            open(os.path.join(d, f), "w").close()
        values = ("", "0", "1", "x/0001-a.patch", "0002-b.patch /y/0001-a.patch")
        text = "".join("%r: %s\n" % (v, xfail.kernel_kind({"P2PBUF_KPATCHES": v}, d))
                       for v in values)
    return 0, text


CASES = [
    ("stock kernel: vfio-pci's listed failures are XFAIL, counted as skipped; the run passes",
     lambda: run({"rp-zen-iommu": ZEN_IOMMU_STOCK}),
     0, [r"^rp-zen-iommu  1/0/0  37/0/11 ", XFAIL_MULTI, XFAIL_LEAK, ZEN_IOMMU_TOTAL],
     [r"^rp-zen-iommu/conform_test: FAIL", r"exit status 1 without a failed test",
      r"stale xfail manifest entry"]),
    ("the conformance table: after the main table, before the details and the final line",
     lambda: run({"rp-zen-iommu": ZEN_IOMMU_STOCK}),
     0, [r"^Results \(", r"^rp-zen-iommu  1/0/0 ", r"^Conformance \(conform_test\)",
         r"^  1 attach_gating  2 map_type  3 data_both_ways ",
         r"^topology +exporter +1 +2 +3 +4 +5 +6 +7 +8 +9 +10 +11 +12$",
         r"^rp-zen-iommu +p2pbuf +(ok +){11}ok$",
         r"^rp-zen-iommu +vfio +(ok +){7}XFAIL +(ok +){3}XFAIL$",
         r"^rp-zen-iommu +udmabuf +(ok +){3}(n/a +){4}(ok +){4}ok$",
         r"^rp-zen-iommu +heap +(ok +){3}(n/a +){5}(ok +){3}ok$",
         XFAIL_MULTI, ZEN_IOMMU_TOTAL], []),
    ("the table: FAIL, XPASS, skip (a SKIP not n/a) and - (no result)",
     lambda: run({"rp-zen-iommu": {"conform_test": conform(
         vfio__multi_range="ok", vfio__kmemleak_cycles="not ok", p2pbuf__big_range="skip",
         udmabuf__attach_gating="not ok", heap__scm_rights=None)}}, skips=BIG_SKIP),
     1, [r"^rp-zen-iommu +p2pbuf +(ok +){8}skip +ok +ok +ok$",
         r"^rp-zen-iommu +vfio +(ok +){7}XPASS +(ok +){3}XFAIL$",
         r"^rp-zen-iommu +udmabuf +FAIL +ok +ok +(n/a +){4}",
         r"^rp-zen-iommu +heap +(ok +){3}(n/a +){5}ok +- +ok +ok$"], []),
    ("stock kernel: the same entry on a pass is an XPASS and fails the run, asking to drop it",
     lambda: run({"rp-zen-iommu": {"conform_test": conform(vfio__multi_range="ok",
                                                           vfio__kmemleak_cycles="not ok"),
                                   "conform_test.rc": "1\n"}}),
     1, [r"^rp-zen-iommu +vfio +(ok +){7}XPASS +",
         r"^rp-zen-iommu/conform_test: FAIL conform\.vfio\.multi_range: XPASS: passed, but "
         r"xfail\.manifest:\d+ expects it to fail on the stock kernel: the upstream defect is "
         r"gone, drop the entry \(vfio-pci: dma_buf_phys_vec_to_sgt\(\) ",
         r"^38 passed, 1 failed, 10 skipped$"],
     [r"XFAIL " + MULTI]),
    ("patched kernel (P2PBUF_KPATCHES=1): the stock entries are ignored, their failures fail",
     lambda: run({"rp-zen-iommu": ZEN_IOMMU_STOCK}, kpatches="1"),
     1, [r"^rp-zen-iommu +vfio +(ok +){7}FAIL +(ok +){3}FAIL$",
         r"^rp-zen-iommu/conform_test: FAIL conform\.vfio\.multi_range$",
         r"^rp-zen-iommu/conform_test: FAIL conform\.vfio\.kmemleak_cycles$",
         r"^38 passed, 2 failed, 9 skipped$"],
     [r": XFAIL ", r": XPASS: ", r"stale xfail manifest entry"]),
    ("patched kernel: the same tests passing is no XPASS and no stale entry",
     lambda: run({"rp-zen-iommu": {"conform_test": conform()}}, kpatches="1"),
     0, [r"^rp-zen-iommu +vfio +(ok +){11}ok$", r"^40 passed, 0 failed, 9 skipped$"],
     [r": XFAIL ", r": XPASS: ", r"stale xfail manifest entry"]),
    ("P2PBUF_KPATCHES=0 is the stock kernel, as for lab/kernel.sh",
     lambda: run({"rp-zen-iommu": ZEN_IOMMU_STOCK}, kpatches="0"),
     0, [XFAIL_MULTI, ZEN_IOMMU_TOTAL], [r": FAIL conform"]),
    ("a failure no entry names fails the run: another exporter, another topology",
     lambda: run({"rp-zen-iommu": {"conform_test": conform(vfio__multi_range="not ok",
                                                           vfio__kmemleak_cycles="not ok",
                                                           p2pbuf__multi_range="not ok")},
                  "rp-zen": {"conform_test": conform(vfio__multi_range="not ok",
                                                     vfio__kmemleak_cycles="not ok")}}),
     1, [r"^rp-zen/conform_test: FAIL conform\.vfio\.multi_range$",
         r"^rp-zen/conform_test: XFAIL conform\.vfio\.kmemleak_cycles: ",
         r"^rp-zen-iommu/conform_test: FAIL conform\.p2pbuf\.multi_range$",
         r"^rp-zen-iommu/conform_test: XFAIL conform\.vfio\.multi_range: ",
         r"^\d+ passed, 2 failed, \d+ skipped$"],
     [r"^rp-zen/conform_test: XFAIL conform\.vfio\.multi_range"]),
    ("an expected failure with a crash's exit status still fails the run",
     lambda: run({"rp-zen-iommu": {"conform_test": ZEN_IOMMU_STOCK["conform_test"],
                                   "conform_test.rc": "139\n"}}),
     1, [XFAIL_MULTI, r"^rp-zen-iommu/conform_test: exit status 139 without a failed test",
         r"^38 passed, 1 failed, 11 skipped$"], []),
    ("an entry that matched no result where its suite ran is stale, not failed",
     lambda: run({"rp-zen-iommu": {"conform_test": conform(vfio__multi_range="not ok",
                                                           vfio__kmemleak_cycles=None)}}),
     0, [XFAIL_MULTI, r"^stale xfail manifest entry xfail\.manifest:\d+: stock \| rp-zen-iommu \| "
         r"conform_test \| conform\.vfio\.kmemleak_cycles \| .* matched no result in rp-zen-iommu "
         r"on the stock kernel \(remove it\)$"],
     [r"stale xfail manifest entry .*multi_range"]),
    ("a SKIP of a listed test is no XFAIL: the entry is stale",
     lambda: run({"rp-zen-iommu": {"conform_test": conform(vfio__multi_range="n/a",
                                                           vfio__kmemleak_cycles="not ok")}}),
     0, [r"^rp-zen-iommu/conform_test: SKIP conform\.vfio\.multi_range: n/a:",
         r"^stale xfail manifest entry .*conform\.vfio\.multi_range \|"], [r"XFAIL " + MULTI]),
    ("entries of topologies or suites that did not run are not stale",
     lambda: run({"switch": {"exporter_test": ["ok 1 exporter.node"]},
                  "rp-zen-iommu": {"exporter_test": ["ok 1 exporter.node"]}},
                 suites=("exporter_test",)),
     0, [r"^4 passed, 0 failed, 0 skipped$"], [r"stale xfail manifest entry", r"^Conformance"]),
    ("a host suite's listed failure is an XFAIL, its exit status 1 no failure",
     lambda: run({"switch": {"exporter_test": ["ok 1 exporter.node"]}},
                 {"lint": ["not ok 1 checkpatch --strict: kernel sources"], "lint.rc": "1\n"},
                 xfails=HOST_XFAIL, suites=("exporter_test",)),
     0, [r"^host/lint: XFAIL checkpatch --strict: kernel sources: a planted expected failure "
         r"of a host suite \(planted\.manifest:1, stock kernel\)$",
         r"^2 passed, 0 failed, 1 skipped$"], [r"every step ok"]),
    ("stock kernel: a listed test failing another assertion is no XFAIL: the run fails",
     lambda: run({"rp-zen-iommu": {"conform_test": conform(vfio__multi_range="not ok:other",
                                                           vfio__kmemleak_cycles="not ok")}}),
     1, [r"^rp-zen-iommu/conform_test: FAIL conform\.vfio\.multi_range: fails, but not as "
         r"xfail\.manifest:\d+ expects"],
     [r"XFAIL conform\.vfio\.multi_range"]),
    ("stock kernel: a listed failure ended by a timeout is no XFAIL: the run fails",
     lambda: run({"rp-zen-iommu": {"conform_test": conform(vfio__multi_range="not ok",
                                                           vfio__kmemleak_cycles="not ok:timeout")}}),
     1, [r"^rp-zen-iommu/conform_test: FAIL conform\.vfio\.kmemleak_cycles: fails, but not as"],
     [r"XFAIL conform\.vfio\.kmemleak_cycles"]),
    ("stock kernel: an avoided test with an \"avoid:\" entry is an XFAIL, the run passes",
     lambda: run({"rp-zen": ZEN_STOCK}),
     0, [r"^rp-zen +vfio +(ok +){8}XFAIL +(ok +){2}XFAIL$",
         r"^rp-zen/conform_test: XFAIL conform\.vfio\.big_range: avoid: vfio-pci: .*patches/0003",
         r"^38 passed, 0 failed, 11 skipped$"],
     [r"unexpected SKIP", r"stale xfail manifest entry", r": FAIL conform"]),
    ("patched kernel: the same avoided SKIP has no entry and fails the run",
     lambda: run({"rp-zen": ZEN_STOCK}, kpatches="1"),
     1, [r"^rp-zen/conform_test: FAIL conform\.vfio\.big_range: avoided, but no \"avoid:\" entry"],
     [r"XFAIL conform\.vfio\.big_range"]),
    ("stock kernel: an avoided SKIP where no entry names it (switch) fails the run",
     lambda: run({"switch": {"conform_test": conform(vfio__big_range="avoided",
                                                     vfio__kmemleak_cycles="not ok")}}),
     1, [r"^switch/conform_test: FAIL conform\.vfio\.big_range: avoided, but no"], []),
    ("xfail.py --avoid: the stock kernel avoids vfio-pci's big_range in rp-zen, the patched none",
     lambda: (0, avoid_list(None)[1] + avoid_list("1")[1]),
     0, [r"^avoid list: \[conform\.vfio\.big_range\]$", r"^avoid list: \[\]$"], []),
    ("a malformed xfail manifest line fails the run",
     lambda: run({"rp-zen-iommu": ZEN_IOMMU_STOCK},
                 xfails=open(XFAILS).read() + "stock | rp-zen | conform_test | x\n"),
     1, [XFAIL_MULTI, r"^FAIL: planted\.manifest:\d+: malformed xfail manifest line"], []),
    ("an unknown kernel kind or topology fails the run",
     lambda: run({"rp-zen-iommu": ZEN_IOMMU_STOCK},
                 xfails=open(XFAILS).read() + "patched | rp-zen | conform_test | x | y | z\n"
                 "stock | rpzen | conform_test | x | y | z\n"),
     1, [r"^FAIL: planted\.manifest:\d+: unknown kernel kind 'patched'",
         r"^FAIL: planted\.manifest:\d+: unknown topology 'rpzen'",
         r"^38 passed, 2 failed, 11 skipped$"], []),
    ("a test defined in a header: its \"# file.h:N:\" lines are its own and can match",
     lambda: run({"switch": {"importer_test": HEADER_TEST}},
                 xfails=HEADER_XFAIL % "refused: ret -5",
                 suites=("importer_test",)),
     0, [r"^switch/importer_test: XFAIL imp\.target: planted \(planted\.manifest:1, "
         r"stock kernel\)$", r"^2 passed, 0 failed, 1 skipped$"], [r": FAIL imp"]),
    ("a line printed before a test's \"#  RUN\" is not its own: it explains nothing",
     lambda: run({"switch": {"importer_test": HEADER_TEST}},
                 xfails=HEADER_XFAIL % "stray words", suites=("importer_test",)),
     1, [r"^switch/importer_test: FAIL imp\.target: fails, but not as planted\.manifest:1 "
         r"expects"], [r"XFAIL imp\.target"]),
    ("a pattern \"A && B\" needs both: one half of the defect's signature explains nothing",
     lambda: (lambda a, b: (a[0] | b[0], a[1] + b[1]))(
         run({"switch": {"importer_test": HEADER_TEST}},
             xfails=HEADER_XFAIL % "import refused && ret -5", suites=("importer_test",)),
         run({"switch": {"importer_test": HEADER_TEST}},
             xfails=HEADER_XFAIL % "import refused && never printed",
             suites=("importer_test",))),
     1, [r"^switch/importer_test: XFAIL imp\.target: planted ",
         r"^switch/importer_test: FAIL imp\.target: fails, but not as planted\.manifest:1 "],
     []),
    ("\"A && B\": a log line matching A and the assertion matching B is the XFAIL",
     lambda: run({"switch": {"importer_test": header_assert()}},
                 xfails=HEADER_XFAIL % SIGNATURE, suites=("importer_test",)),
     0, [r"^switch/importer_test: XFAIL imp\.target: planted \(planted\.manifest:1, "],
     [r": FAIL imp"]),
    ("\"A && B\": a second failed assertion that matches neither part fails the run",
     lambda: run({"switch": {"importer_test": header_assert(
         ["# importer_tests.h:30:target:Expected 1 (1) == nr (2)"])}},
                 xfails=HEADER_XFAIL % SIGNATURE, suites=("importer_test",)),
     1, [r"^switch/importer_test: FAIL imp\.target: fails, but not as planted\.manifest:1 "],
     [r"XFAIL imp\.target"]),
    ("a pattern with a blank part (\"A &&  && B\", \" \", \".\") is refused: it would explain anything",
     lambda: run({"switch": {"importer_test": header_assert()}},
                 xfails=HEADER_XFAIL % "returned before invalidate &&  && <= buf" +
                 HEADER_XFAIL % "returned before invalidate &&   && <= buf" +
                 HEADER_XFAIL % "returned before invalidate && . && <= buf",
                 suites=("importer_test",)),
     1, [r"^FAIL: planted\.manifest:1: bad failure pattern .*matches a blank line",
         r"^FAIL: planted\.manifest:2: bad failure pattern .*matches a blank line",
         r"^FAIL: planted\.manifest:3: bad failure pattern .*matches a blank line"],
     [r"XFAIL imp\.target"]),
    ("a host suite's failed nested test is named with its last output lines",
     lambda: run({}, host={"distro-x-switch": "\n".join([
         "TAP version 13", "1..2",
         "ok 1 boot",
         "    1..2",
         "    ok 1 imp.first",
         "    #  RUN           imp.target ...",
         "    # importer_file_tests.h:7:target:the transfer began late",
         "    #          FAIL  imp.target",
         "    not ok 2 imp.target",
         "    1..2",
         "    not ok 1 modprobe p2pbuf_exporter",
         "    # modprobe: FATAL: Module p2pbuf_exporter not found",
         "    not ok 2 bind provider to p2pbuf_exporter",
         "    # echo: write error: No such device",
         "not ok 2 importer_test", ""])}, suites=()),
     1, [r"^host/distro-x-switch: FAIL importer_test$", r"^    not ok imp\.target$",
         r"^      # importer_file_tests\.h:7:target:the transfer began late$",
         r"^    not ok modprobe p2pbuf_exporter$",
         r"^      # modprobe: FATAL: Module p2pbuf_exporter not found$",
         r"^    not ok bind provider to p2pbuf_exporter$",
         r"^      # echo: write error: No such device$",
         r"^1 passed, 1 failed"],
     [r"not ok imp\.first"]),
    ("failed steps in a row: each shows its own output, printed after its result",
     nested_cascade, 0, [r"^ok$"], []),
    ("P2PBUF_KPATCHES: 1 or every patch is kpatches, a partial list is stock",
     kinds, 0,
     [r"^'': stock$", r"^'0': stock$", r"^'1': kpatches$",
      r"^'x/0001-a.patch': stock$", r"^'0002-b.patch /y/0001-a.patch': kpatches$"], []),
]


def main():
    out = []
    failed = 0
    for n, (name, fn, want_rc, must, must_not) in enumerate(CASES, 1):
        rc, text = fn()
        lines = text.splitlines()
        why = []
        if rc != want_rc:
            why.append("summary.py exit %d, expected %d" % (rc, want_rc))
        at = 0
        for pat in must:
            hit = [i for i in range(at, len(lines)) if re.search(pat, lines[i])]
            if hit:
                at = hit[0] + 1
            elif any(re.search(pat, line) for line in lines):
                why.append("line matching /%s/ out of order" % pat)
            else:
                why.append("no line matches /%s/" % pat)
        for pat in must_not:
            bad = [line for line in lines if re.search(pat, line)]
            if bad:
                why.append("unwanted line: %s" % bad[0])
        if why:
            failed += 1
            out.append("not ok %d %s" % (n, name))
            out.extend("# " + w for w in why)
            out.extend("#   | " + line for line in lines[-30:])
        else:
            out.append("ok %d %s" % (n, name))
    print("TAP version 13")
    print("1..%d" % len(CASES))
    print("\n".join(out))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
