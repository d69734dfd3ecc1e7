#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the igt run's results.json files into KTAP for lab/summary.py.

usage: igt-results.py TOPO_RESULTS_DIR OUT.ktap

lab/guest/igt.sh runs igt_runner twice: our suites into
TOPO_RESULTS_DIR/igt, igt's own tests into TOPO_RESULTS_DIR/igt-own.
igt_runner exits 0 even when tests fail, so the verdict is results.json.
One KTAP line per igt subtest: pass is ok, skip is ok # SKIP, anything else
(fail, crash, timeout, incomplete, abort, notrun, warn, dmesg-warn,
dmesg-fail) is not ok with its result named; a name both passes report
(igt@runner@aborted after a taint) is kept twice, the second marked with
its directory. Also not ok: neither results.json, one unreadable, a pass's
non-zero exit status (igt-runner.rc, a line "PASS STATUS" each), a
binary of the test list with no result (igt_runner drops a binary that
fails to start with only a message on stderr), and a subtest of a pass's
joblist.txt with no result: after a per-test timeout igt 2.5's runner
moves on to the next binary unless the binary is a libigt one that
reports its subtests over the runner's comms channel, which igt_adapter
is not, so the timed-out suite's later subtests get no result at all,
not even notrun. Prints the totals.
"""
import json
import os
import sys

OK = {"pass"}
SKIP = {"skip"}


def joblist(path):
    """(binary, subtest) pairs of igt_runner's joblist.txt: a line is
    "BINARY" or "BINARY SUBTEST[,SUBTEST...]"."""
    if not os.path.exists(path):
        return []
    pairs = []
    for ln in open(path).read().splitlines():
        w = ln.split(None, 1)
        if len(w) == 2:
            pairs += [(w[0], st) for st in w[1].split(",") if st]
    return pairs


def main(argv):
    d, out = argv[1], argv[2]
    lines = []
    totals = {}

    def bad(name, why):
        n = len([x for x in lines if not x.startswith("#")]) + 1
        lines.append("not ok %d %s" % (n, name))
        lines.append("# %s" % why)

    expected = []
    tl = os.path.join(d, "igt-test-list.txt")
    if os.path.exists(tl):
        words = open(tl).read().split()
        expected = [w for w in words if w not in ("TESTLIST", "END")]
    rc_file = os.path.join(d, "igt-runner.rc")
    rcs = None
    if os.path.exists(rc_file):
        rcs = [ln.split() for ln in open(rc_file).read().splitlines() if ln.strip()]
        rcs = [w if len(w) == 2 else ["igt_runner", " ".join(w)] for w in rcs]
    # lab/guest/igt.sh's two passes: our suites into igt/, igt's own tests
    # into igt-own/ (absent when there are none).
    results = None
    for sub in ("igt", "igt-own"):
        rj = os.path.join(d, sub, "results.json")
        if not os.path.exists(rj):
            continue
        try:
            part = json.load(open(rj))
        except ValueError as e:
            bad("igt: %s/results.json" % sub, "unreadable: %s" % e)
            continue
        if results is None:
            results = {"tests": {}}
        for name, t in part.get("tests", {}).items():
            if name in results["tests"]:
                name = "%s (%s)" % (name, sub)
            results["tests"][name] = t
    if results is None:
        why = "neither igt/ nor igt-own/results.json"
        if rcs is None:
            why += " (igt did not run: boot failed or igt not enabled in this guest)"
        else:
            why += " (exit status %s, see igt-runner.log)" % (
                ", ".join(" ".join(w) for w in rcs) or "none written")
        bad("igt: results.json", why)
    else:
        seen = set()
        for name in sorted(results.get("tests", {})):
            t = results["tests"][name]
            r = t.get("result", "?")
            totals[r] = totals.get(r, 0) + 1
            parts = name.split("@")
            if len(parts) >= 2:
                seen.add(parts[1])
            n = len([x for x in lines if not x.startswith("#")]) + 1
            if r in OK:
                lines.append("ok %d %s" % (n, name))
            elif r in SKIP:
                reason = ""
                for src in (t.get("out", ""), t.get("err", "")):
                    for ln in src.splitlines():
                        if "# SKIP" in ln:
                            reason = ln.split("# SKIP", 1)[1].strip()
                        elif "Test requirement" in ln or "Skipping" in ln:
                            reason = ln.strip()
                        if reason:
                            break
                    if reason:
                        break
                lines.append("ok %d %s # SKIP %s" % (n, name, reason or "igt skip"))
            else:
                lines.append("not ok %d %s" % (n, name))
                lines.append("# result %s, %.1f s" % (r, float(t.get("time", {}).get("end", 0) or 0)
                                                    - float(t.get("time", {}).get("start", 0) or 0)))
                out_txt = (t.get("out", "") + t.get("err", "")).strip().splitlines()
                for ln in out_txt[-8:]:
                    lines.append("#   " + ln)
        names = set(results.get("tests", {}))
        for sub in ("igt", "igt-own"):
            for b, st in joblist(os.path.join(d, sub, "joblist.txt")):
                name = "igt@%s@%s" % (b.lower(), st.lower())
                if name in names or any(k.startswith(name + "@") for k in names):
                    continue
                bad(name, "in %s/joblist.txt but no result (a timeout before it?)" % sub)
        for b in expected:
            if b not in seen:
                bad("igt@" + b, "binary in the test list but no result (did not start?)")
        for pas, rc in rcs or []:
            if rc != "0":
                bad("igt_runner exit status (%s)" % pas,
                    "igt_runner exit %s (1 error/abort, 2 overall timeout, "
                    "124 lab timeout, 137 killed)" % rc)
    plan = len([x for x in lines if not x.startswith("#")])
    with open(out, "w") as f:
        f.write("TAP version 13\n1..%d\n" % plan)
        f.write("\n".join(lines) + "\n")
    secs = ""
    sf = os.path.join(d, "igt-seconds")
    if os.path.exists(sf):
        secs = ", igt_runner %s s" % open(sf).read().strip()
    print("igt: %s%s" % (", ".join("%s %d" % kv for kv in sorted(totals.items())) or "no results", secs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
