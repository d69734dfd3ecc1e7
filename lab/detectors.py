# SPDX-License-Identifier: GPL-2.0
"""The lab's kernel-report detector, used by lab/summary.py.

Every report class the lab's debug kernel can print, as (class, kind, regex,
sample, source). The class is what the summary names; the kind says which
report of the class it was; source is the kernel file and a literal of the
format string the regex was written against, and the sample a line as that
format string prints it. ``detectors.py --check [KERNEL_SOURCE]`` proves
that every sample is classified by its own entry (none is shadowed by an
earlier, more general one), that no line of IGNORE_SAMPLES is a report and,
given the kernel tree, that every cited format string is still there.
lab/detector-selftest.sh runs that check against the lab's 7.2.13 tree and
boots the kernel to provoke the classes for real.

The end of every check boot also records whether lockdep, DMA-API debug and
kmemleak are still on (lab/guest/lib.sh, guest_detector_state, into
detectors.txt): each of them can switch itself off, after which it proves
nothing about the rest of the boot. end_of_boot() turns that record into
findings with the reason the log gives.
"""
import os
import re
import sys
import tempfile

LOCKDEP = "lockdep report"
KASAN = "KASAN report"
UBSAN = "UBSAN report"
DMA_ERR = "DMA-API debug error"
DMA_OFF = "DMA-API debug switched off"
LOCKDEP_OFF = "lockdep switched off"
KMEMLEAK_OFF = "kmemleak switched off"
KMEMLEAK_ERR = "kmemleak error"
KMEMLEAK_LEAK = "kmemleak suspected leak"
RCU = "RCU stall"
HUNG = "hung task"
SOFTLOCKUP = "soft lockup"
HARDLOCKUP = "hard lockup"
BUG = "kernel BUG"
OOPS = "Oops"
PANIC = "kernel panic"
TAINT = "kernel tainted"

# Taint flags (include/linux/panic.h) that only a failure sets: a line the
# patterns missed (a console line split by other output, or pushed out of
# the ring buffer) still leaves its taint. O, E, N (KUnit), I (QEMU's
# inconsistent MTRRs) and the others are expected or harmless.
TAINT_FAILURES = {
    1: "F (module force-loaded)", 3: "R (module force-unloaded)",
    4: "M (machine check)", 5: "B (bad page: KASAN, SLUB)",
    6: "U (user request)", 7: "D (kernel died: Oops, BUG)",
    9: "W (warning)",
}
# L (soft lockup) is no failure by itself: drivers/dma-buf/sw_sync.c sets it
# for every fence it creates (revoke_slow_test, igt). The watchdog's own
# count (/sys/kernel/softlockup_count, kernel/watchdog.c) stands in for it;
# without that file, L fails the boot.
TAINT_SOFTLOCKUP = (14, "L (soft lockup)")
# Taints that a topology asks for, allowed only when the log names that cause:
# vfio.enable_unsafe_noiommu_mode=1 (switch, rp-zen, intel) gives every
# vfio-noiommu group a U (drivers/vfio/group.c, vfio_group_find_or_alloc()),
# and an "unsafe" parameter prints its name (kernel/params.c,
# param_check_unsafe()). A U with no such line still fails the boot.
TAINT_LAB_CAUSES = {
    6: r"Adding kernel taint for vfio-noiommu group on device"
       r"|Setting dangerous option (vfio\.)?enable_unsafe_noiommu_mode - tainting kernel",
}
# The sticky mask cannot show a second U: the causes the lab could reach
# besides vfio-noiommu keep it failing when their line is in the log (a
# config write to a kernel-exclusive offset, drivers/pci/pci-sysfs.c and
# proc.c; any other unsafe parameter, kernel/params.c).
TAINT_OTHER_CAUSES = {
    6: r"Unexpected write to kernel-exclusive config offset"
       r"|Setting dangerous option (?!(vfio\.)?enable_unsafe_noiommu_mode )\S+ - tainting kernel",
}
WARNING = "kernel WARNING"
REVOKE_BOUND = "p2pbuf revoke over its bound"

# First match wins: specific entries come before the general ones that would
# also match their lines ("BUG: KASAN:" before "BUG:", lockdep's "WARNING: ..."
# headers before WARN()'s). Each entry: (class, kind, regex, sample, source),
# source being (file of the kernel tree, a literal of its format string) that
# "detectors.py --check SRC" finds in that tree.
LOCKDEP_C = "kernel/locking/lockdep.c"
RCU_STALL_H = "kernel/rcu/tree_stall.h"
REPORTS = [
    # print_error_description(); kasan_non_canonical_hook().
    (KASAN, "KASAN", r"\bKASAN: ",
     "BUG: KASAN: slab-out-of-bounds in p2pbuf_lab_kasan+0x5e/0x90 [p2pbuf_lab_detect]",
     ("mm/kasan/report.c", "BUG: KASAN: %s in %pS")),
    # ubsan_prologue().
    (UBSAN, "UBSAN", r"\bUBSAN: ",
     "UBSAN: array-index-out-of-bounds in lab/selftest-module/p2pbuf_lab_detect.c:98:9",
     ("lib/ubsan.c", "UBSAN: %s in %s:%d:%d")),

    # lockdep, one entry per report header: print_circular_bug_header(),
    # print_deadlock_bug(), print_usage_bug(), print_irq_inversion_bug(),
    # print_bad_irq_dependency(), print_unlock_imbalance_bug(),
    # print_lock_contention_bug(), print_freed_lock_bug(),
    # print_held_locks_bug(), lockdep_sys_exit(),
    # print_lock_nested_lock_not_held(), print_collision(),
    # lockdep_rcu_suspicious(), print_lock_invalid_wait_context(),
    # assign_lock_key(), lockdep_init_map_type(), look_up_lock_class(),
    # print_lockdep_off().
    (LOCKDEP, "circular locking dependency",
     r"WARNING: possible circular locking dependency detected",
     "WARNING: possible circular locking dependency detected",
     (LOCKDEP_C, "WARNING: possible circular locking dependency detected")),
    (LOCKDEP, "recursive locking",
     r"WARNING: possible recursive locking detected",
     "WARNING: possible recursive locking detected",
     (LOCKDEP_C, "WARNING: possible recursive locking detected")),
    (LOCKDEP, "inconsistent lock state",
     r"WARNING: inconsistent lock state",
     "WARNING: inconsistent lock state",
     (LOCKDEP_C, "WARNING: inconsistent lock state")),
    (LOCKDEP, "irq lock inversion",
     r"WARNING: possible irq lock inversion dependency detected",
     "WARNING: possible irq lock inversion dependency detected",
     (LOCKDEP_C, "WARNING: possible irq lock inversion dependency detected")),
    (LOCKDEP, "irq-safe -> irq-unsafe lock order",
     r"WARNING: \S+-safe -> \S+-unsafe lock order detected",
     "WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected",
     (LOCKDEP_C, "WARNING: %s-safe -> %s-unsafe lock order detected")),
    (LOCKDEP, "bad unlock balance",
     r"WARNING: bad unlock balance detected!",
     "WARNING: bad unlock balance detected!",
     (LOCKDEP_C, "WARNING: bad unlock balance detected!")),
    (LOCKDEP, "bad contention",
     r"WARNING: bad contention detected!",
     "WARNING: bad contention detected!",
     (LOCKDEP_C, "WARNING: bad contention detected!")),
    (LOCKDEP, "held lock freed",
     r"WARNING: held lock freed!",
     "WARNING: held lock freed!",
     (LOCKDEP_C, "WARNING: held lock freed!")),
    (LOCKDEP, "still has locks held",
     r"WARNING: .+/\d+ still has locks held!",
     "WARNING: kworker/0:1/42 still has locks held!",
     (LOCKDEP_C, "WARNING: %s/%d still has locks held!")),
    (LOCKDEP, "lock held when returning to user space",
     r"WARNING: lock held when returning to user space!",
     "WARNING: lock held when returning to user space!",
     (LOCKDEP_C, "WARNING: lock held when returning to user space!")),
    (LOCKDEP, "nested lock not taken",
     r"WARNING: Nested lock was not taken",
     "WARNING: Nested lock was not taken",
     (LOCKDEP_C, "WARNING: Nested lock was not taken")),
    (LOCKDEP, "chain_key collision",
     r"WARNING: chain_key collision",
     "WARNING: chain_key collision",
     (LOCKDEP_C, "WARNING: chain_key collision")),
    (LOCKDEP, "suspicious RCU usage",
     r"WARNING: suspicious RCU usage",
     "WARNING: suspicious RCU usage",
     (LOCKDEP_C, "WARNING: suspicious RCU usage")),
    (LOCKDEP, "invalid wait context",
     r"\[ BUG: Invalid wait context \]",
     "[ BUG: Invalid wait context ]",
     (LOCKDEP_C, "[ BUG: Invalid wait context ]")),
    (LOCKDEP, "non-static key",
     r"INFO: trying to register non-static key",
     "INFO: trying to register non-static key.",
     (LOCKDEP_C, "INFO: trying to register non-static key.")),
    (LOCKDEP, "unregistered key",
     r"BUG: key \S+ has not been registered!",
     "BUG: key ffff888003c5d0a8 has not been registered!",
     (LOCKDEP_C, "BUG: key %px has not been registered!")),
    (LOCKDEP, "invalid subclass",
     r"BUG: looking up invalid subclass",
     "BUG: looking up invalid subclass: 9",
     (LOCKDEP_C, "BUG: looking up invalid subclass: %u")),
    (LOCKDEP, "lockdep table full",
     r"BUG: MAX_\w+ too low!",
     "BUG: MAX_LOCKDEP_CHAIN_HLOCKS too low!",
     (LOCKDEP_C, "BUG: MAX_LOCKDEP_CHAIN_HLOCKS too low!")),
    (LOCKDEP, "lockdep switched itself off",
     r"turning off the locking correctness validator",
     "turning off the locking correctness validator.",
     (LOCKDEP_C, "turning off the locking correctness validator.")),
    (LOCKDEP, "DEBUG_LOCKS_WARN_ON",
     r"DEBUG_LOCKS_WARN_ON\(",
     "DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)",
     ("include/linux/debug_locks.h", "DEBUG_LOCKS_WARN_ON(%s)")),
    # spin_dump(), rwlock_bug().
    (LOCKDEP, "spinlock debug",
     r"BUG: spinlock .+ on CPU#\d+",
     "BUG: spinlock already unlocked on CPU#1, insmod/212",
     ("kernel/locking/spinlock_debug.c", "BUG: spinlock %s on CPU#%d, %s/%d")),
    (LOCKDEP, "rwlock debug",
     r"BUG: rwlock .+ on CPU#\d+",
     "BUG: rwlock wrong owner on CPU#0, insmod/212, ffff888003c5d0a8",
     ("kernel/locking/spinlock_debug.c", "BUG: rwlock %s on CPU#%d, %s/%d, %p")),

    # DMA-API debug (pr_fmt "DMA-API: "). Switched off: add_dma_entry(),
    # dma_entry_alloc(), dma_debug_init(). The command line's
    # "dma_debug=off" is not a report; the end-of-boot check names it.
    (DMA_OFF, "cacheline tracking ENOMEM",
     r"DMA-API: cacheline tracking ENOMEM",
     "DMA-API: cacheline tracking ENOMEM, dma-debug disabled",
     ("kernel/dma/debug.c", "cacheline tracking ENOMEM, dma-debug disabled")),
    (DMA_OFF, "out of memory",
     r"DMA-API: debugging out of memory - disabling",
     "DMA-API: debugging out of memory - disabling",
     ("kernel/dma/debug.c", "debugging out of memory - disabling")),
    (DMA_OFF, "out of memory at init",
     r"DMA-API: debugging out of memory error",
     "DMA-API: debugging out of memory error - disabled",
     ("kernel/dma/debug.c", "debugging out of memory error - disabled")),
    # Everything else it prints is an error (err_printk(), WARN_ONCE() of
    # overlapping cachelines, "%d debug entries requested but only %d
    # allocated"), except these informational lines: dma_debug_init(),
    # dma_debug_cmdline(), __dma_entry_alloc_check_leak() (the pool grows
    # under load; no error) and the debugfs driver filter.
    (DMA_ERR, "DMA-API debug",
     r"DMA-API: (?!preallocated \d+ debug entries|debugging enabled by kernel config|"
     r"debugging disabled on kernel command line|dma_debug_entry pool grown to|"
     r"enable driver filter for driver|switching off dma-debug driver filter)",
     "DMA-API: pci 0000:00:06.0: device driver frees DMA memory with different size "
     "[device address=0x0000000003a1c000] [map size=64 bytes] [unmap size=32 bytes]",
     ("kernel/dma/debug.c", "DMA memory with different size ")),

    # kmemleak (pr_fmt "kmemleak: "). Leaks themselves are judged object by
    # object from the kmemleak report (kmemleak_reports() in summary.py),
    # not from "%d new suspected memory leaks", so that known upstream leaks
    # can be told apart. kmemleak_disable(), kmemleak_do_cleanup().
    (KMEMLEAK_OFF, "kmemleak disabled",
     r"kmemleak: (Kernel memory leak detector disabled|Kmemleak disabled without freeing)",
     "kmemleak: Kernel memory leak detector disabled",
     ("mm/kmemleak.c", "Kernel memory leak detector disabled")),
    # mem_pool_alloc(), __alloc_object(), __link_object() (kmemleak_stop()),
    # and the kmemleak_warn() calls on objects kmemleak does not know.
    (KMEMLEAK_ERR, "kmemleak internal error",
     r"kmemleak: (Memory pool empty|Cannot allocate a kmemleak_object|Cannot insert 0x|"
     r"Found object by alias|Partially freeing unknown object|Not resetting the checksum|"
     r"Adding scan area to unknown object|Scan area larger than object|"
     r"Setting excess_ref on unknown object|Not scanning unknown object|"
     r"Updating stack trace for unknown object)",
     "kmemleak: Cannot allocate a kmemleak_object structure",
     ("mm/kmemleak.c", "Cannot allocate a kmemleak_object structure")),

    # RCU (pr_fmt "rcu: ", from tree.c): print_other_cpu_stall(),
    # print_cpu_stall(), check_cpu_stall(), synchronize_rcu_expedited_stall(),
    # rcu_check_gp_kthread_starvation(), rcu_check_gp_kthread_expired_fqs_timer().
    (RCU, "stall",
     r"rcu: INFO: \S+ detected stalls? on CPUs/tasks",
     "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
     (RCU_STALL_H, "INFO: %s detected stalls on CPUs/tasks:")),
    (RCU, "self-detected stall",
     r"rcu: INFO: \S+ self-detected stall on CPU",
     "rcu: INFO: rcu_sched self-detected stall on CPU",
     (RCU_STALL_H, "INFO: %s self-detected stall on CPU")),
    (RCU, "stall (CSD-lock)",
     r"rcu: INFO: \S+ detected stall, but suppressed",
     "rcu: INFO: rcu_sched detected stall, but suppressed full report due to a stuck CSD-lock.",
     (RCU_STALL_H, "INFO: %s detected stall, but suppressed full report")),
    (RCU, "expedited stall",
     r"rcu: INFO: \S+ detected expedited stalls",
     "rcu: INFO: rcu_sched detected expedited stalls on CPUs/tasks: { 1-.... } 2507 jiffies",
     ("kernel/rcu/tree_exp.h", "INFO: %s detected expedited stalls on CPUs/tasks: {")),
    (RCU, "grace-period kthread starved",
     r"rcu: \S+ kthread starved for",
     "rcu: rcu_sched kthread starved for 2502 jiffies! g1234 f0x0 RCU_GP_WAIT_FQS(5) "
     "->state=0x0 ->cpu=1",
     (RCU_STALL_H, "%s kthread starved for %ld jiffies!")),
    (RCU, "grace-period kthread timer",
     r"rcu: \S+ kthread timer wakeup didn't happen",
     "rcu: rcu_sched kthread timer wakeup didn't happen for 2502 jiffies! g1234 f0x0 "
     "RCU_GP_WAIT_FQS(5) ->state=0x402",
     (RCU_STALL_H, "%s kthread timer wakeup didn't happen for %ld jiffies!")),
    # RCU tasks (tasks.h, included by update.c, no pr_fmt): the holdout
    # report of rcu_tasks_pertask()'s check_holdout_task(), the pre-stall
    # notice of rcu_tasks_wait_gp(), tasks_rcu_exit_srcu_stall().
    (RCU, "RCU tasks stall",
     r"INFO: rcu_tasks\w* detected stalls on tasks",
     "INFO: rcu_tasks detected stalls on tasks:",
     ("kernel/rcu/tasks.h", "INFO: rcu_tasks detected stalls on tasks:")),
    (RCU, "RCU tasks grace period too long",
     r"rcu_tasks_wait_gp: \S+ grace period number \d+ \(since boot\) is \d+ jiffies old",
     "rcu_tasks_wait_gp: rcu_tasks grace period number 9 (since boot) is 259 jiffies old.",
     ("kernel/rcu/tasks.h", "%s: %s grace period number %lu (since boot) is %lu jiffies old.")),
    (RCU, "RCU tasks exit stall",
     r"tasks_rcu_exit_srcu_stall: ",
     "tasks_rcu_exit_srcu_stall: rcu_tasks grace period number 9 (since boot) gp_state: "
     "RTGS_WAIT_CBS is 2578 jiffies old.",
     ("kernel/rcu/tasks.h", "(since boot) gp_state: %s is %lu jiffies old.")),

    # Hung tasks (no pr_fmt): hung_task_info(); its blocker lines
    # (debug_show_blocker(), CONFIG_DETECT_HUNG_TASK_BLOCKER); the notice
    # that the report budget (kernel.hung_task_warnings) is spent.
    (HUNG, "blocked task (I/O wait)",
     r"blocked in I/O wait for more than \d+ seconds",
     "INFO: task kworker/u8:1:59 blocked in I/O wait for more than 2 seconds.",
     ("kernel/hung_task.c", " in I/O wait")),
    (HUNG, "blocked task",
     r"INFO: task .+:\d+ blocked for more than \d+ seconds",
     "INFO: task p2pbuf_lab_wait:81 blocked for more than 2 seconds.",
     ("kernel/hung_task.c", "INFO: task %s:%d blocked%s for more than %ld seconds.")),
    (HUNG, "blocker",
     r"INFO: task .+:\d+ (is )?(<.*> )?blocked on an? (mutex|semaphore|rw-semaphore)",
     "INFO: task p2pbuf_lab_wait:81 is blocked on a mutex likely owned by task "
     "p2pbuf_lab_hold:80.",
     ("kernel/hung_task.c", "INFO: task %s:%d is blocked on a mutex likely owned by task")),
    (HUNG, "reports suppressed",
     r"Future hung task reports are suppressed",
     "Future hung task reports are suppressed, see sysctl kernel.hung_task_warnings",
     ("kernel/hung_task.c", "Future hung task reports are suppressed")),

    # Lockups (pr_fmt "watchdog: "): watchdog_timer_fn(),
    # watchdog_hardlockup_check().
    (SOFTLOCKUP, "soft lockup",
     r"BUG: soft lockup - CPU#\d+ stuck for",
     "watchdog: BUG: soft lockup - CPU#1 stuck for 3s! [p2pbuf_lab_spin:82]",
     ("kernel/watchdog.c", "BUG: soft lockup - CPU#%d stuck for %us! [%s:%d]")),
    (HARDLOCKUP, "hard lockup",
     r"Watchdog detected hard LOCKUP on cpu",
     "watchdog: CPU0: Watchdog detected hard LOCKUP on cpu 1",
     ("kernel/watchdog.c", "CPU%u: Watchdog detected hard LOCKUP on cpu %u")),

    # panic().
    (PANIC, "panic", r"Kernel panic - not syncing",
     "Kernel panic - not syncing: Fatal exception",
     ("kernel/panic.c", "Kernel panic - not syncing: %s")),
    # __die_header(); the GP fault handler (GPFSTR).
    (OOPS, "Oops", r"\bOops\b",
     "Oops: general protection fault, probably for non-canonical address "
     "0xdffffc0000000000: 0000 [#1] SMP KASAN",
     ("arch/x86/kernel/dumpstack.c", "Oops: %s: %04lx [#%d]")),
    (OOPS, "general protection fault", r"general protection fault",
     "general protection fault: 0000 [#1] SMP KASAN",
     ("arch/x86/kernel/traps.c", "general protection fault")),
    # p2pbuf's own: a revoke that waited longer than revoke_bound_ms for
    # fences and unmaps (docs/revoke.rst), even if it completed later.
    (REVOKE_BOUND, "revoke bound", r"revoke exceeded its bound of \d+ ms",
     "p2pbuf_exporter 0000:03:00.0: buffer 3: revoke exceeded its bound of 10000 ms",
     ("exporter/revoke_wait.c", "revoke exceeded its bound of %u ms")),
    # report_bug()'s "kernel BUG at"; every "BUG: " line not classified
    # above (DEBUG_ATOMIC_SLEEP's __might_resched(), page faults, "BUG:
    # scheduling while atomic", ...).
    (BUG, "BUG at", r"kernel BUG at ",
     "kernel BUG at lab/selftest-module/p2pbuf_lab_detect.c:99!",
     ("lib/bug.c", "kernel BUG at %s:%u!")),
    (BUG, "BUG", r"\bBUG: ",
     "BUG: sleeping function called from invalid context at p2pbuf_lab_detect.c:331",
     ("kernel/sched/core.c", "BUG: sleeping function called from invalid context")),
    # __warn(), both forms, and CUT_HERE (include/asm-generic/bug.h).
    (WARNING, "WARNING", r"WARNING: \S+:\d+ at |WARNING: at ",
     "WARNING: kernel/dma/debug.c:1014 at check_unmap+0xe01/0x30e0, CPU#0: detector_probe/78",
     ("kernel/panic.c", "WARNING: %s:%d at %pS, CPU#%d: %s/%d")),
    (WARNING, "cut here", r"-+\[ cut here \]-+",
     "------------[ cut here ]------------",
     ("include/asm-generic/bug.h", "------------[ cut here ]------------")),
]

# Lines the kernel prints that must never count as a report.
IGNORE_SAMPLES = [
    "DMA-API: preallocated 65536 debug entries",
    "DMA-API: debugging enabled by kernel config",
    "DMA-API: debugging disabled on kernel command line",
    "DMA-API: dma_debug_entry pool grown to 131072 (200%)",
    "kmemleak: Kernel memory leak detector initialized (mem pool available: 14893)",
    "kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
    "kasan: KernelAddressSanitizer initialized (generic)",
    "Running RCU self tests",
    "rcu: Hierarchical RCU implementation.",
    "\tTasks-RCU CPU stall warnings timeout set to 120000 (rcu_task_stall_timeout).",
    "Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar",
    "p2pbuf-lab: check: insmod p2pbuf_exporter",
    "p2pbuf_lab_detect: provoke kasan_oob",
]

TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
COMPILED = [(c, k, re.compile(p)) for c, k, p, _, _ in REPORTS]


def classify(line):
    """Return the REPORTS index of the first entry matching @line, or None."""
    for i, (_, _, rx) in enumerate(COMPILED):
        if rx.search(line):
            return i
    return None


def find_reports(paths):
    """Every report line of the logs @paths, as {class: [(kind, file, excerpt)]}."""
    found = {}
    for path in paths:
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            lines = f.readlines()
        for n, line in enumerate(lines):
            i = classify(line)
            if i is None:
                continue
            cls, kind = REPORTS[i][0], REPORTS[i][1]
            excerpt = "".join(lines[max(0, n - 2):n + 12])
            found.setdefault(cls, []).append((kind, os.path.basename(path), excerpt))
    return found


def _log_lines(d):
    """Lines of a boot's logs, dmesg first (it has every level), without timestamps."""
    out = []
    for name in ("dmesg.txt", "console.log"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            with open(p, errors="replace") as f:
                out.append([TIMESTAMP.sub("", line.rstrip("\n")) for line in f])
    return out


def _first(d, rx):
    for lines in _log_lines(d):
        for line in lines:
            if re.search(rx, line):
                return line.strip()
    return None


# Why each detector may have switched itself off, as the log says it.
# lockdep: any of its own reports (debug_locks_off() in each report path),
# add_taint() "Disabling lock debugging due to kernel taint" (KASAN, bad
# page, Oops, ...: kernel/panic.c), oops_enter() and panic() (kernel/panic.c).
LOCKDEP_OFF_WHY = ("|".join(p for c, _, p, _, _ in REPORTS if c == LOCKDEP) +
                   r"|Disabling lock debugging due to kernel taint|\bOops\b|Kernel panic")
# kernel/dma/debug.c: dma_debug_cmdline() and the switch-offs above.
DMA_OFF_WHY = (r"DMA-API: (debugging disabled on kernel command line|cacheline tracking ENOMEM|"
               r"debugging out of memory)")
# mm/kmemleak.c: the errors that call kmemleak_disable() (kmemleak_stop(),
# __alloc_object() after mem_pool_alloc()), else the disable notice itself
# (the "off" debugfs command or the kmemleak=off boot option print only that).
KMEMLEAK_OFF_WHY = (r"kmemleak: (Memory pool empty|Cannot allocate a kmemleak_object|"
                    r"Cannot insert 0x|Kernel memory leak detector disabled)")


def _why(d, rx, default):
    line = _first(d, rx)
    if line and "Disabling lock debugging due to kernel taint" in line:
        cause = _first(d, "|".join(p for c, _, p, _, _ in REPORTS if c not in (LOCKDEP, WARNING)))
        if cause:
            line += " (first report: %s)" % cause
    return line or default


def _job(d):
    """The guest job of a boot (P2PBUF_JOB of its env.sh, lab/vm.sh), or None."""
    try:
        with open(os.path.join(d, "env.sh"), errors="replace") as f:
            for line in f:
                if line.startswith("P2PBUF_JOB="):
                    return line.strip().split("=", 1)[1]
    except OSError:
        pass
    return None


def end_of_boot(d):
    """Findings [(class, text)] from a boot's detectors.txt, or [] without one."""
    p = os.path.join(d, "detectors.txt")
    if not os.path.exists(p):
        return []
    state = {}
    with open(p, errors="replace") as f:
        for line in f:
            k, _, v = line.strip().partition(" ")
            state[k] = v.strip()
    out = []
    v = state.get("debug_locks", "missing")
    if v != "1":
        out.append((LOCKDEP_OFF, "debug_locks = %s at the end of the boot; why: %s" %
                    (v, _why(d, LOCKDEP_OFF_WHY, "no lockdep report or taint in the log"))))
    v = state.get("dma_api_disabled", "missing")
    if v != "N":
        out.append((DMA_OFF, "dma-api/disabled = %s at the end of the boot; why: %s" %
                    (v, _why(d, DMA_OFF_WHY, "no reason in the log"))))
    v = state.get("dma_api_error_count", "0")
    if v not in ("0", "missing"):
        out.append((DMA_ERR, "dma-api/error_count = %s (only the first error is printed)" % v))
    v = state.get("kmemleak", "missing")
    if v != "on":
        out.append((KMEMLEAK_OFF, "kmemleak is %s at the end of the boot (its debugfs file "
                    "refuses commands); why: %s" %
                    (v, _why(d, KMEMLEAK_OFF_WHY, "no reason in the log"))))
    # A lab boot ends with kmemleak's closing scan into kmemleak.txt
    # (lab/guest/lib.sh, guest_teardown; make demo's too): without that
    # file no leak of the boot was looked for. The detector self-test's
    # "detect" boots and the interactive shell scan nothing on purpose.
    job = _job(d)
    if (v == "on" and job is not None and job not in ("detect", "shell") and
            not os.path.exists(os.path.join(d, "kmemleak.txt"))):
        out.append((KMEMLEAK_ERR, "kmemleak is on, but the boot left no kmemleak.txt: "
                    "its closing scan did not run"))
    v = state.get("hung_task_detect_count", "0")
    if v not in ("0", "missing"):
        out.append((HUNG, "hung_task_detect_count = %s" % v))
    v = state.get("tainted", "missing")
    try:
        bits = [name for bit, name in sorted(TAINT_FAILURES.items())
                if int(v) >> bit & 1 and
                not (bit in TAINT_LAB_CAUSES and _first(d, TAINT_LAB_CAUSES[bit]) and
                     not _first(d, TAINT_OTHER_CAUSES[bit]))]
    except ValueError:
        bits = ["unreadable: %s" % v]
    lockups = state.get("softlockup_count", "missing")
    if lockups == "missing":
        if v.isdigit() and int(v) >> TAINT_SOFTLOCKUP[0] & 1:
            bits.append(TAINT_SOFTLOCKUP[1] + " and no /sys/kernel/softlockup_count")
    elif lockups != "0":
        out.append((SOFTLOCKUP, "softlockup_count = %s at the end of the boot" % lockups))
    if bits:
        out.append((TAINT, "/proc/sys/kernel/tainted = %s at the end of the boot: %s" %
                    (v, ", ".join(bits))))
    return out


def check_taint():
    """A U taint passes with its lab cause in the log and fails without it;
    W fails whatever the log says; L passes while the watchdog counted no
    soft lockup and fails when it did or cannot tell."""
    noiommu = "vfio-pci 0000:03:00.0: Adding kernel taint for vfio-noiommu group on device"
    cases = [(64, "", "0", TAINT),
             (64, noiommu, "0", None),
             (64 | 512, noiommu, "0", TAINT),
             (64, noiommu + "\npci 0000:01:00.0: setpci: Unexpected write to kernel-exclusive "
              "config offset 4", "0", TAINT),
             (64, noiommu + "\nSetting dangerous option foo.bar - tainting kernel", "0", TAINT),
             (64, "Setting dangerous option vfio.enable_unsafe_noiommu_mode - tainting kernel",
              "0", None),
             (16384, "", "0", None),
             (16384, "", "1", SOFTLOCKUP),
             (0, "", "2", SOFTLOCKUP),
             (16384, "", "missing", TAINT)]
    ok = True
    for mask, line, lockups, fails in cases:
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "detectors.txt"), "w") as f:
                f.write("debug_locks 1\ndma_api_disabled N\nkmemleak on\ntainted %d\n" % mask)
                if lockups != "missing":
                    f.write("softlockup_count %s\n" % lockups)
            with open(os.path.join(d, "dmesg.txt"), "w") as f:
                f.write("[    1.000000] %s\n" % line)
            got = [c for c, _ in end_of_boot(d)]
        if got != ([fails] if fails else []):
            print("# taint %d, softlockup_count %s, log %r: %s" %
                  (mask, lockups, line, got or "passes"))
            ok = False
    return ok


def check_kmemleak_report():
    """A check or demo boot without kmemleak.txt fails as a kmemleak error;
    with it, or a detect boot without it, passes."""
    ok = True
    for job, report, fails in (("check", False, KMEMLEAK_ERR), ("check", True, None),
                               ("demo", False, KMEMLEAK_ERR), ("detect", False, None)):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "detectors.txt"), "w") as f:
                f.write("debug_locks 1\ndma_api_disabled N\nkmemleak on\ntainted 0\n"
                        "softlockup_count 0\n")
            with open(os.path.join(d, "env.sh"), "w") as f:
                f.write("P2PBUF_JOB=%s\n" % job)
            if report:
                open(os.path.join(d, "kmemleak.txt"), "w").close()
            got = [c for c, _ in end_of_boot(d)]
        if got != ([fails] if fails else []):
            print("# job %s, kmemleak.txt %s: %s" %
                  (job, "present" if report else "missing", got or "passes"))
            ok = False
    return ok


def check(src=None):
    """Every sample is classified by its own entry, no ignored line is a
    report, and (with @src, a kernel tree) every cited format string is
    where its entry says."""
    bad = 0
    for i, (cls, kind, _, sample, (path, literal)) in enumerate(REPORTS):
        j = classify(sample)
        if j != i:
            got = "nothing" if j is None else "%s (%s)" % REPORTS[j][:2]
            print("# %s (%s): sample %r classified as %s" % (cls, kind, sample, got))
            bad += 1
        if src is None:
            continue
        # The modules' own reports are checked in this repository.
        if path.startswith(("exporter/", "importer/")):
            path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), path)
        try:
            with open(os.path.join(src, path), errors="replace") as f:
                found = literal in f.read()
        except OSError:
            found = False
        if not found:
            print("# %s (%s): %r not in %s" % (cls, kind, literal, path))
            bad += 1
    for line in IGNORE_SAMPLES:
        j = classify(line)
        if j is not None:
            print("# %r is not a report but classified as %s (%s)" % ((line,) + REPORTS[j][:2]))
            bad += 1
    bad += not check_taint()
    bad += not check_kmemleak_report()
    classes = sorted({r[0] for r in REPORTS})
    print("# %d patterns in %d classes%s: %s" %
          (len(REPORTS), len(classes), ", format strings checked in " + src if src else "",
           ", ".join(classes)))
    return bad == 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--check"] and len(sys.argv) <= 3:
        sys.exit(0 if check(sys.argv[2] if len(sys.argv) == 3 else None) else 1)
    print("usage: detectors.py --check [KERNEL_SOURCE]", file=sys.stderr)
    sys.exit(2)
