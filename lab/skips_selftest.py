#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Self-test of the expected-SKIP rule (lab/skips.py) through lab/summary.py.

usage: skips_selftest.py > results/host/skips-selftest.ktap

Each case writes a synthetic results directory (KTAP files, a kmemleak
report), runs the real lab/summary.py on it, with the real lab/skips.manifest
or a planted one, and checks the exit status and the lines it prints: an
unplanned SKIP, a SKIP in the wrong topology, with the wrong reason or with
no reason, and a manifest that lost an entry must fail the run, naming the
SKIP; a manifest entry that matched nothing must be reported as stale, but
only where its topology and suite ran. The cases lean on the real
manifest's intel exporter_test, rp-zen kmemleak and host lint entries: change
them together. Prints KTAP; exit status 1 if a case failed. No boot, about a
second (lab/check.sh runs it as the host suite skips-selftest).
"""
import os
import re
import subprocess
import sys
import tempfile

LAB = os.path.dirname(os.path.abspath(__file__))
SUMMARY = os.path.join(LAB, "summary.py")
MANIFEST = os.path.join(LAB, "skips.manifest")

NO_ROUTE = "p2pdma cannot route provider to initiator (P2PBUF_EXPECT_MAP=NOT_SUPPORTED)"
SPARSE = "not run - sparse missing or too old for this tree (scripts/checker-valid.sh)"

# exporter_test as intel prints it: three tests that need a mapping SKIP.
INTEL_EXPORTER = [
    "ok 1 exporter.node",
    "ok 2 exporter.map_type",
    "ok 3 exporter.map_ranges # SKIP " + NO_ROUTE,
    "ok 4 exporter.revoke_mapped # SKIP " + NO_ROUTE,
    "ok 5 exporter.map_cycles_kmemleak # SKIP " + NO_ROUTE,
]
SWITCH_EXPORTER = [
    "ok 1 exporter.node",
    "ok 2 exporter.map_type",
    "ok 3 exporter.map_ranges",
    "ok 4 exporter.revoke_mapped",
    "ok 5 exporter.map_cycles_kmemleak",
]
LINT = ["ok 1 checkpatch --strict: kernel sources", "ok 2 sparse # SKIP " + SPARSE]

# One object of the upstream vfio-pci leak (lab/summary.py KNOWN_LEAKS).
VFIO_LEAK = """unreferenced object 0xffff888004a1c000 (size 64):
  comm "importer_test", pid 311, jiffies 4294937296
  hex dump (first 32 bytes):
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
  backtrace (crc 5a1e0c2b):
    kmemleak_alloc+0x4a/0x80
    __kmalloc_noprof+0x2f4/0x5a0
    sg_alloc_table+0x53/0x120
    dma_buf_phys_vec_to_sgt+0x1c4/0x5c0
    vfio_pci_dma_buf_map+0x9b/0x120
    dma_buf_map_attachment+0x1a3/0x3c0
"""


def ktap(lines):
    return "TAP version 13\n1..%d\n%s\n" % (len(lines), "\n".join(lines))


def summary(results, manifest=None):
    """Write @results ({path: text}), run summary.py on the topologies in it."""
    with tempfile.TemporaryDirectory() as root:
        for path, text in results.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        topos = sorted({p.split("/")[0] for p in results} - {"host"})
        env = dict(os.environ)
        env.pop("P2PBUF_SKIPS_MANIFEST", None)
        if manifest is not None:
            env["P2PBUF_SKIPS_MANIFEST"] = os.path.join(root, "planted.manifest")
            with open(env["P2PBUF_SKIPS_MANIFEST"], "w") as f:
                f.write(manifest)
        r = subprocess.run([sys.executable, SUMMARY, root] + topos + ["--", "exporter_test"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        return r.returncode, r.stdout


def run(topo_suites, host=None, manifest=None):
    """@topo_suites: {topo: exporter_test lines}; every topology gets lab.ktap."""
    res = {}
    for topo, lines in topo_suites.items():
        res[topo + "/lab.ktap"] = ktap(["ok 1 modules loaded"])
        if isinstance(lines, dict):
            res.update({topo + "/" + k: v for k, v in lines.items()})
            lines = lines.get("exporter_test", SWITCH_EXPORTER)
        res[topo + "/exporter_test.ktap"] = ktap(lines)
    for name, lines in (host or {}).items():
        res["host/%s.ktap" % name] = ktap(lines)
    return summary(res, manifest)


def planted(line):
    return line.replace("ok 1 exporter.node", "ok 1 exporter.node # SKIP planted")


def without(pattern):
    """The real manifest minus its entries matching @pattern."""
    text = open(MANIFEST).read()
    return "".join(l for l in text.splitlines(True) if not re.search(pattern, l))


# (name, results, expected exit status, lines that must be printed, lines that must not)
CASES = [
    ("expected SKIPs only (intel, lint): the run passes",
     lambda: run({"intel": INTEL_EXPORTER, "switch": SWITCH_EXPORTER}, {"lint": LINT}),
     0, [r"^10 passed, 0 failed, 4 skipped$"], [r"unexpected SKIP", r"stale manifest entry"]),
    ("a planted SKIP fails the run and is named, still counted as skipped",
     lambda: run({"intel": [planted(l) for l in INTEL_EXPORTER]}),
     1, [r"^intel/exporter_test: SKIP exporter.node: planted$",
         r"^intel/exporter_test: unexpected SKIP intel exporter_test exporter.node: planted$",
         r"^\d+ passed, 1 failed, 4 skipped$"], []),
    ("an intel-only SKIP in switch fails the run",
     lambda: run({"switch": INTEL_EXPORTER}),
     1, [r"^switch/exporter_test: unexpected SKIP switch exporter_test exporter.map_ranges: p2pdma cannot"],
     []),
    ("the right test with another reason fails the run",
     lambda: run({"intel": [l.replace(NO_ROUTE, "no importer: gone") for l in INTEL_EXPORTER]}),
     1, [r"^intel/exporter_test: unexpected SKIP intel exporter_test exporter.revoke_mapped: no importer: gone$"],
     []),
    ("a SKIP without a reason fails the run",
     lambda: run({"intel": INTEL_EXPORTER + ["ok 6 exporter.info # SKIP"]}),
     1, [r"unexpected SKIP intel exporter_test exporter.info: \(no reason given\)$"], []),
    ("a manifest that lost an entry fails the run, naming the SKIP",
     lambda: run({"intel": INTEL_EXPORTER}, manifest=without(r"exporter\.revoke_mapped")),
     1, [r"^intel/exporter_test: unexpected SKIP intel exporter_test exporter.revoke_mapped: p2pdma cannot"],
     [r"unexpected SKIP .*exporter.map_ranges"]),
    ("a host suite's unplanned SKIP fails the run",
     lambda: run({"switch": SWITCH_EXPORTER},
                 {"lint": LINT + ["ok 3 coccicheck # SKIP not run - coccinelle (spatch) not installed"]}),
     1, [r"^host/lint: unexpected SKIP host lint coccicheck: not run - coccinelle"], []),
    ("the known vfio-pci leak is an expected SKIP in rp-zen",
     lambda: run({"rp-zen": {"kmemleak.txt": VFIO_LEAK}}),
     0, [r"^rp-zen/kmemleak: SKIP 1 object\(s\): known upstream leak: vfio-pci"],
     [r"unexpected SKIP", r"stale manifest entry"]),
    ("the same leak in intel (where nothing of vfio-pci maps) is an unexpected SKIP",
     lambda: run({"intel": {"kmemleak.txt": VFIO_LEAK}}),
     1, [r"^unexpected SKIP intel kmemleak known-leak: known upstream leak: vfio-pci"], []),
    ("an entry that matched nothing where it ran is reported stale, not failed",
     lambda: run({"intel": INTEL_EXPORTER[:3] + ["ok 4 exporter.revoke_mapped"] + INTEL_EXPORTER[4:]}),
     0, [r"^stale manifest entry skips.manifest:\d+: intel \| exporter_test \| exporter.revoke_mapped \|"
         r" .* matched no SKIP in intel \(remove it\)$"],
     [r"stale manifest entry .*exporter.map_ranges", r"stale manifest entry .*pair_test"]),
    ("entries of a topology or suite that did not run are not stale",
     lambda: run({"switch": SWITCH_EXPORTER, "rp-zen": SWITCH_EXPORTER}),
     0, [r"^\d+ passed, 0 failed, 0 skipped$"], [r"stale manifest entry"]),
    ("a host entry is stale once its suite ran without that SKIP",
     lambda: run({"switch": SWITCH_EXPORTER}, {"lint": LINT[:1]}),
     0, [r"^stale manifest entry .*host \| lint \| sparse \|.* matched no SKIP in host \(remove it\)$"], []),
    ("a malformed manifest line fails the run",
     lambda: run({"intel": INTEL_EXPORTER}, manifest=open(MANIFEST).read() + "intel | lint\n"),
     1, [r"^FAIL: planted.manifest:\d+: malformed skip manifest line"], []),
    ("a manifest entry for an unknown topology fails the run",
     lambda: run({"intel": INTEL_EXPORTER}, manifest=open(MANIFEST).read() + "intle | x | y | z\n"),
     1, [r"^FAIL: planted.manifest:\d+: unknown topology 'intle'"], []),
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
        for pat in must:
            if not any(re.search(pat, l) for l in lines):
                why.append("no line matches /%s/" % pat)
        for pat in must_not:
            bad = [l for l in lines if re.search(pat, l)]
            if bad:
                why.append("unwanted line: %s" % bad[0])
        if why:
            failed += 1
            out.append("not ok %d %s" % (n, name))
            out.extend("# " + w for w in why)
            out.extend("#   | " + l for l in lines[-25:])
        else:
            out.append("ok %d %s" % (n, name))
    print("TAP version 13")
    print("1..%d" % len(CASES))
    print("\n".join(out))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
