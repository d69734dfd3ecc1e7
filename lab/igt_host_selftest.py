#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Self-test of the igt pass's host-side and adapter logic, with no boot.

usage: igt_host_selftest.py SELFTESTS_DIR > results/host/igt-host-selftest.ktap

SELFTESTS_DIR holds the built igt_adapter and igt_canary (a kselftest-
harness program with canary_pass, deliberate_failure and hang_on_request).
Checks:

- igt_adapter's --run-subtest rule is libigt's: "!" excludes and the last
  matching pattern decides (igt_runner's resume of a libigt binary after
  a timeout writes "*,!NAME" for each subtest already started); with
  P2PBUF_IGT_SUBTESTS, only the first subtests are offered to it. An
  adapter that ignored "!" fails the exclusion cases.
- Stopped as igt_runner stops a test on a timeout (SIGQUIT to the
  adapter and its process group) while igt_canary's hang_on_request
  hangs in the harness's test process, which has a process group of its
  own, and in a child of that process, igt_adapter dies of SIGQUIT and
  leaves no process of the suite behind (72f9929's adapter hung in its
  reaping; the one before left the test process to init). The same when
  the pipe it writes to is closed while the test writes: it dies of
  SIGPIPE (3f4de83's adapter ran on, writing nowhere).
- lab/igt-results.py turns each planted defect of the two-pass layout
  (lab/guest/igt.sh: igt/ and igt-own/) into a "not ok" line: every
  result but pass and skip; a failure in igt-own; igt-own missing while
  the test list names its binary; an unreadable igt-own/results.json;
  neither results.json; a second pass's non-zero exit status; a subtest
  of joblist.txt with no result (igt 2.5's runner does not resume
  igt_adapter after a timeout); and it keeps a name both passes report.

Prints KTAP; exit status 1 if a case failed. About two seconds
(lab/check.sh runs it as the host suite igt-host-selftest).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

LAB = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(LAB, "igt-results.py")

lines = []
failed = 0


def report(ok, name, why=""):
    global failed
    n = len([x for x in lines if not x.startswith("#")]) + 1
    lines.append("%s %d %s" % ("ok" if ok else "not ok", n, name))
    if not ok:
        failed += 1
        lines.append("# " + why)


def adapter_env(**extra):
    """The environment for igt_adapter: not the caller's igt settings
    (make check's P2PBUF_IGT_SUBTESTS), but EXTRA."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("P2PBUF_IGT_")}
    env.update(extra)
    return env


def adapter_case(stdir, name, pattern, want_rc, want_run, extra_env=None):
    """Run igt_canary through igt_adapter with --run-subtest PATTERN."""
    env = adapter_env(**(extra_env or {}))
    try:
        p = subprocess.run([os.path.join(stdir, "igt_adapter"), "--suite",
                            os.path.join(stdir, "igt_canary"), "--run-subtest", pattern],
                           capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        report(False, "adapter." + name, "igt_adapter did not run: %s" % e)
        return
    ran = sorted(ln.split()[2] for ln in p.stdout.splitlines()
                 if ln.startswith("Starting subtest: "))
    ok = p.returncode == want_rc and ran == sorted(want_run)
    report(ok, "adapter." + name,
           "--run-subtest '%s': exit %d, ran %s; want exit %d, ran %s"
           % (pattern, p.returncode, ran, want_rc, sorted(want_run)))


def suite_processes(suite, test):
    """Pids whose command line is SUITE -r ...TEST."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            argv = open("/proc/%s/cmdline" % d).read().split("\0")
        except OSError:
            continue
        if argv[0] == suite and test in argv[1:]:
            pids.append(int(d))
    return pids


def adapter_stop_case(stdir, close_stdout=False):
    """Stop igt_adapter while hang_on_request hangs: by SIGQUIT to its
    group, as igt_runner does on a timeout, or (CLOSE_STDOUT) by closing
    the pipe it writes to, as when igt_runner dies."""
    name = "adapter.no_process_left_after_" + ("stdout_closed" if close_stdout else "stop")
    want = signal.SIGPIPE if close_stdout else signal.SIGQUIT
    suite = os.path.join(stdir, "igt_canary")
    env = adapter_env(P2PBUF_IGT_CANARY_HANG="write" if close_stdout else "1")
    try:
        p = subprocess.Popen([os.path.join(stdir, "igt_adapter"), "--suite", suite,
                              "--run-subtest", "hang_on_request"], stdout=subprocess.PIPE,
                             text=True, env=env, start_new_session=True)
    except OSError as e:
        report(False, name, "igt_adapter did not run: %s" % e)
        return
    p.stdout.readline()  # "Starting subtest: hang_on_request"
    # The suite, its test process and that one's child, all hanging.
    deadline = time.time() + 20
    while len(suite_processes(suite, "global:hang_on_request")) < 3 and time.time() < deadline:
        time.sleep(0.05)
    hung = len(suite_processes(suite, "global:hang_on_request"))
    if close_stdout:
        p.stdout.close()
    else:
        os.killpg(p.pid, signal.SIGQUIT)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    left = suite_processes(suite, "global:hang_on_request")
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    report(hung == 3 and p.returncode == -want and not left, name,
           "%d of 3 suite processes hung before the stop; igt_adapter exit %s (want "
           "-%d), processes left: %s" % (hung, p.returncode, want, left))


def write_json(path, tests, jobs=None):
    """results.json with TESTS {name: result}; JOBS, joblist.txt's lines."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"tests": {k: {"result": v} for k, v in tests.items()}}, f)
    if jobs:
        with open(os.path.join(os.path.dirname(path), "joblist.txt"), "w") as f:
            f.write("".join(ln + "\n" for ln in jobs))


def results_case(name, setup, want_not_ok):
    """Lay out a synthetic topology results directory, run igt-results.py,
    check that the names of its "not ok" lines are exactly WANT_NOT_OK."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "igt-test-list.txt"), "w") as f:
            f.write("TESTLIST\nigt-igt_canary vgem_basic\nEND TESTLIST\n")
        rc = {"ours": "0", "own": "0"}
        setup(d, rc)
        with open(os.path.join(d, "igt-runner.rc"), "w") as f:
            f.write("".join("%s %s\n" % kv for kv in rc.items()))
        out = os.path.join(d, "igt.ktap")
        p = subprocess.run([sys.executable, RESULTS, d, out],
                           capture_output=True, text=True)
        if p.returncode or not os.path.exists(out):
            report(False, "results." + name, "igt-results.py exit %d: %s"
                   % (p.returncode, p.stderr.strip()[-200:]))
            return
        bad = sorted(ln.split(" ", 3)[3] for ln in open(out).read().splitlines()
                     if ln.startswith("not ok "))
        report(bad == sorted(want_not_ok), "results." + name,
               "not ok %s; want not ok %s" % (bad, sorted(want_not_ok)))


OURS = {"igt@igt-igt_canary@canary_pass": "pass"}
OWN = {"igt@vgem_basic@create": "pass"}


def both_pass(d, rc):
    write_json(os.path.join(d, "igt", "results.json"), OURS)
    write_json(os.path.join(d, "igt-own", "results.json"), OWN)


def own_fails(d, rc):
    write_json(os.path.join(d, "igt", "results.json"), OURS)
    write_json(os.path.join(d, "igt-own", "results.json"), {"igt@vgem_basic@create": "fail"})


def own_missing(d, rc):
    write_json(os.path.join(d, "igt", "results.json"), OURS)


def own_unreadable(d, rc):
    own_missing(d, rc)
    os.makedirs(os.path.join(d, "igt-own"))
    with open(os.path.join(d, "igt-own", "results.json"), "w") as f:
        f.write("{\"tests\": {")


def none(d, rc):
    pass


def own_rc(d, rc):
    both_pass(d, rc)
    rc["own"] = "124"


def both_aborted(d, rc):
    write_json(os.path.join(d, "igt", "results.json"),
               dict(OURS, **{"igt@runner@aborted": "fail"}))
    write_json(os.path.join(d, "igt-own", "results.json"),
               dict(OWN, **{"igt@runner@aborted": "fail"}))


# Every igt result but pass and skip is a failure.
BAD_RESULTS = ["fail", "timeout", "notrun", "incomplete", "abort", "crash", "warn",
               "dmesg-warn", "dmesg-fail"]


def own_every_result(d, rc):
    write_json(os.path.join(d, "igt", "results.json"), OURS)
    tests = {"igt@vgem_basic@r-%s" % r: r for r in BAD_RESULTS + ["pass", "skip"]}
    write_json(os.path.join(d, "igt-own", "results.json"), tests)


def ours_timed_out(d, rc):
    # What igt 2.5's runner leaves after a per-test timeout in
    # --multiple-mode: the hung subtest "timeout", the later ones nothing.
    write_json(os.path.join(d, "igt", "results.json"),
               {"igt@igt-igt_canary@canary_pass": "timeout"},
               ["igt-igt_canary canary_pass,deliberate_failure"])
    write_json(os.path.join(d, "igt-own", "results.json"), OWN,
               ["vgem_basic create"])


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    stdir = argv[1]
    adapter_case(stdir, "one_name", "canary_pass", 0, ["canary_pass"])
    every = ["canary_pass", "deliberate_failure", "hang_on_request"]
    adapter_case(stdir, "every_name_fails", "*", 98, every)
    adapter_case(stdir, "exclusion", "*,!deliberate_failure", 0, ["canary_pass", "hang_on_request"])
    adapter_case(stdir, "last_match_excludes", "deliberate_failure,!deliberate_*", 79, [])
    adapter_case(stdir, "last_match_includes", "!canary_pass,canary_*", 0, ["canary_pass"])
    adapter_case(stdir, "no_match", "no_such_subtest", 79, [])
    adapter_case(stdir, "limit_then_exclusion", "*,!canary_pass", 79, [],
                 {"P2PBUF_IGT_SUBTESTS": "1"})
    adapter_case(stdir, "limit", "*", 0, ["canary_pass"], {"P2PBUF_IGT_SUBTESTS": "1"})
    adapter_stop_case(stdir)
    adapter_stop_case(stdir, close_stdout=True)
    results_case("both_pass", both_pass, [])
    results_case("own_failure", own_fails, ["igt@vgem_basic@create"])
    results_case("own_missing", own_missing, ["igt@vgem_basic"])
    results_case("own_unreadable", own_unreadable, ["igt: igt-own/results.json", "igt@vgem_basic"])
    results_case("no_results", none, ["igt: results.json"])
    results_case("own_exit_status", own_rc, ["igt_runner exit status (own)"])
    results_case("every_result", own_every_result,
                 ["igt@vgem_basic@r-%s" % r for r in BAD_RESULTS])
    results_case("joblist_without_result", ours_timed_out,
                 ["igt@igt-igt_canary@canary_pass", "igt@igt-igt_canary@deliberate_failure"])
    results_case("aborted_in_both", both_aborted,
                 ["igt@runner@aborted", "igt@runner@aborted (igt-own)"])
    plan = len([x for x in lines if not x.startswith("#")])
    print("TAP version 13\n1..%d" % plan)
    print("\n".join(lines))
    print("# igt host self-test: %d of %d failed" % (failed, plan))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
