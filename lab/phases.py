#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print where make check's time went: the host phases lab/check.sh recorded
(results/host/phases.tsv), the wall clock and CPU seconds of each job of the
pool (results/host/jobs.tsv), then one row per boot: kernel start to init,
each suite, the igt run, and the whole boot (QEMU start to exit); then
the guest's estimate of each suite's CPU seconds (lab/guest/lib.sh).

usage: phases.py RESULTS_ROOT TOPOLOGY...
"""
import os
import sys


def read_int(path):
    try:
        return int(open(path).read().strip())
    except (OSError, ValueError):
        return None


def print_jobs(path):
    """The pool's jobs: wall clock and the CPU seconds (user and system) of
    their processes, QEMU's included. On two cores the pool cannot take less
    than half their sum, however the jobs are packed."""
    if not os.path.exists(path):
        return
    rows = [line.rstrip("\n").split("\t") for line in open(path)]
    rows = [r for r in rows if len(r) >= 3 and r[1].isdigit() and r[2].isdigit()]
    if not rows:
        return
    width = max([len(r[0]) for r in rows] + [24])
    print("\n  %s  %6s  %6s" % ("pool job, most CPU first".ljust(width), "wall", "CPU"))
    for name, wall, cpu in sorted((r[:3] for r in rows), key=lambda r: -int(r[2])):
        print("  %s  %6s  %6s" % (name.ljust(width), wall, cpu))
    total = sum(int(r[2]) for r in rows)
    print("  %s  %6s  %6d" % ("all jobs".ljust(width), "", total))


def main(argv):
    root, topos = argv[1], argv[2:]
    print("\nWhere the time went (seconds, wall clock):")
    path = os.path.join(root, "host", "phases.tsv")
    if os.path.exists(path):
        rows = [line.rstrip("\n").split("\t") for line in open(path) if "\t" in line]
        width = max([len(r[0]) for r in rows] + [10])
        for name, secs in rows:
            print("  %s  %6s" % (name.ljust(width), secs))
    print_jobs(os.path.join(root, "host", "jobs.tsv"))

    suites = []
    per_topo = {}
    for topo in topos:
        d = os.path.join(root, topo)
        cells = {}
        cpu = {}
        if os.path.isdir(d):
            for name in sorted(os.listdir(d)):
                if name.endswith(".seconds") and name != "init-seconds":
                    suite = name[:-len(".seconds")]
                    cells[suite] = read_int(os.path.join(d, name))
                    if suite not in suites:
                        suites.append(suite)
                elif name.endswith(".cpu"):
                    cpu[name[:-len(".cpu")]] = read_int(os.path.join(d, name))
        per_topo[topo] = (read_int(os.path.join(d, "init-seconds")), cells,
                          read_int(os.path.join(d, "igt-seconds")),
                          read_int(os.path.join(d, "boot-seconds")), cpu)
    header = ["boot", "to init"] + suites + ["igt", "whole boot"]
    table = [header]
    for topo in topos:
        init, cells, igt, boot, _ = per_topo[topo]
        row = [topo, init] + [cells.get(s) for s in suites] + [igt, boot]
        table.append(["-" if c is None else str(c) for c in row])
    print_table(table)
    # The guest's busy seconds of each suite (lab/guest/lib.sh,
    # guest_cpu_ticks): what a suite costs, its sleeps left out.
    header = ["guest CPU (s)"] + suites + ["igt"]
    table = [header]
    for topo in topos:
        cpu = per_topo[topo][4]
        if cpu:
            row = [topo] + [cpu.get(s) for s in suites + ["igt"]]
            table.append(["-" if c is None else str(c) for c in row])
    if len(table) > 1:
        print("\n  Guest CPU seconds per suite, estimated from the guest's /proc/stat"
              " (docs/lab.rst):")
        print_table(table)
    return 0


def print_table(table):
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    print()
    for r in table:
        print("  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
