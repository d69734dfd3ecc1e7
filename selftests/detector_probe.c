// SPDX-License-Identifier: GPL-2.0
/*
 * detector_probe: the guest side of the lab's detector self-test
 * (lab/detector-selftest.sh). Not a test of p2pbuf and never a suite of
 * make check: it asks lab/selftest-module/p2pbuf_lab_detect.ko to provoke
 * the kernel reports named in P2PBUF_DETECT (space separated), so that the
 * host can show that each one fails the run. One KTAP line per request.
 *
 * Two requests are checked here rather than on the host:
 *	leak	the planted object must be found, within PROBE_LEAK_ROUNDS
 *		kmemleak scan rounds, by
 *		p2pbuf_kmemleak_in_modules() (p2pbuf_test.h), the parser
 *		behind leak_test's and fault_test's kmemleak verdicts, and
 *		must not be counted as p2pbuf's own by p2pbuf_kmemleak_ours()
 *	hung	the hung-task detector must count both blocked threads
 *		within 30 s
 * and two switch a detector off: "kmemleak_off" (kmemleak's "off" command).
 * "stuck" never returns: its plan line stays missing, and the lab guest ends
 * the boot (lab/detector-selftest.sh, boot detect-d).
 * The short detector timeouts that "hung" and the "*stall" requests need
 * are set just before and restored just after, so that the rest of the
 * boot keeps the lab's normal ones.
 */
#define P2PBUF_NO_HARNESS
#include "p2pbuf_test.h"

#define PROVOKE "/sys/kernel/debug/p2pbuf_lab_detect/provoke"
#define HUNG_COUNT "/proc/sys/kernel/hung_task_detect_count"

static int ktap_n;

static void ktap(int ok, const char *name, const char *why)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++ktap_n, name);
	if (!ok && why)
		printf("# %s\n", why);
	fflush(stdout);
}

static long read_long(const char *path)
{
	char buf[64] = "";
	long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		v = strtol(buf, NULL, 0);
	fclose(f);
	return v;
}

/* Write @val to @path, keeping the old value in @old (if not NULL). */
static int set_knob(const char *path, const char *val, char *old, size_t len)
{
	FILE *f;

	if (!*val)
		return -EINVAL;
	if (old) {
		f = fopen(path, "re");
		if (!f || !fgets(old, len, f)) {
			if (f)
				fclose(f);
			return -ENOENT;
		}
		fclose(f);
		old[strcspn(old, "\n")] = '\0';
	}
	return p2pbuf_sysfs_write(path, val);
}

static int provoke(const char *req)
{
	return p2pbuf_sysfs_write(PROVOKE, req);
}

/* Scan, wait, scan rounds for the planted leak (probe_leak()). */
#define PROBE_LEAK_ROUNDS 4

static void probe_leak(void)
{
	static const char * const lab[] = { "p2pbuf_lab_detect", NULL };
	static const char * const small[] = { "p2pbuf_lab_leak_small", NULL };
	static const char * const large[] = { "p2pbuf_lab_leak_large", NULL };
	char why[160];
	int n = 0, ours, round, total = 0;

	if (provoke("leak")) {
		ktap(0, "leak: planted", strerror(errno));
		return;
	}
	/*
	 * kmemleak reports an object only when a scan finds no reference to
	 * it, and a stale copy of the pointer (a slab sheaf's, see
	 * p2pbuf_lab_leak_small()) can hide it for a while: up to
	 * PROBE_LEAK_ROUNDS scan, wait, scan rounds, until one shows. One
	 * round once missed both objects, on a loaded host; the closing scan
	 * of that boot, half a minute later, found the small one.
	 */
	for (round = 0; !n && round < PROBE_LEAK_ROUNDS; round++) {
		if (p2pbuf_kmemleak_settle()) {
			ktap(0, "leak: p2pbuf_kmemleak_in_modules() finds the planted object",
			     "kmemleak refused a scan");
			return;
		}
		n = p2pbuf_kmemleak_in_modules(lab, NULL, &total);
	}
	printf("# kmemleak: %d scan round(s)\n", round);
	ours = p2pbuf_kmemleak_ours(NULL);
	/* Which of the two: the small one may still be seen through a sheaf. */
	printf("# kmemleak: small object reported %d, large object reported %d\n",
	       p2pbuf_kmemleak_count(small, NULL), p2pbuf_kmemleak_count(large, NULL));
	snprintf(why, sizeof(why),
		 "%d object(s) through p2pbuf_lab_detect, %d through p2pbuf, %d in all",
		 n, ours, total);
	printf("# kmemleak: %s\n", why);
	ktap(n >= 1, "leak: p2pbuf_kmemleak_in_modules() finds the planted object", why);
	ktap(ours == 0, "leak: p2pbuf_kmemleak_ours() does not count it as p2pbuf's", why);
}

static void probe_hung(void)
{
	char old_timeout[32], old_interval[32];
	long before = read_long(HUNG_COUNT), now = before;
	int i, ret;

	if (set_knob("/proc/sys/kernel/hung_task_timeout_secs", "2", old_timeout,
		     sizeof(old_timeout)) ||
	    set_knob("/proc/sys/kernel/hung_task_check_interval_secs", "1", old_interval,
		     sizeof(old_interval))) {
		ktap(0, "hung: detector timeout set to 2 s", strerror(errno));
		return;
	}
	ret = provoke("hung");
	/* Both threads reported: the holder, then the waiter and its blocker. */
	for (i = 0; !ret && i < 300 && now < before + 2; i++) {
		usleep(100000);
		now = read_long(HUNG_COUNT);
	}
	/* The count moves before the report is printed: let it out. */
	sleep(1);
	if (!ret)
		ret = provoke("release");
	set_knob("/proc/sys/kernel/hung_task_timeout_secs", old_timeout, NULL, 0);
	set_knob("/proc/sys/kernel/hung_task_check_interval_secs", old_interval, NULL, 0);
	printf("# hung_task_detect_count %ld -> %ld\n", before, now);
	ktap(!ret && now >= before + 2, "hung: hung_task_detect_count moved by 2",
	     ret ? strerror(-ret) : "not both threads detected within 30 s");
}

/* "stall <ms>", "exp_stall <ms>" or "tasks_stall <ms>" with short stall timeouts. */
static void probe_stall(const char *req)
{
	static const char rcu[] = "/sys/module/rcupdate/parameters/";
	/* Empty until read: a knob never read is not written back. */
	char old_rcu[32] = "", old_exp[32] = "", old_tasks[32] = "", old_info[32] = "";
	char old_wd[32] = "", path[128];
	int ret;

	snprintf(path, sizeof(path), "%srcu_cpu_stall_timeout", rcu);
	ret = set_knob(path, "3", old_rcu, sizeof(old_rcu));
	/*
	 * Expedited stalls after 1 s (in ms; 0 would follow the 3 s above):
	 * on a loaded TCG host the expedited grace period can start seconds
	 * into the spin, and 3 s plus PROVE_RCU's 25% then outlasts it.
	 */
	snprintf(path, sizeof(path), "%srcu_exp_cpu_stall_timeout", rcu);
	ret = ret ?: set_knob(path, "1000", old_exp, sizeof(old_exp));
	/* In jiffies: 2 s at HZ=250, 5 s at HZ=100. */
	snprintf(path, sizeof(path), "%srcu_task_stall_timeout", rcu);
	ret = ret ?: set_knob(path, "500", old_tasks, sizeof(old_tasks));
	snprintf(path, sizeof(path), "%srcu_task_stall_info", rcu);
	ret = ret ?: set_knob(path, "250", old_info, sizeof(old_info));
	/* Soft lockups after 2 * 1 s. */
	ret = ret ?: set_knob("/proc/sys/kernel/watchdog_thresh", "1", old_wd, sizeof(old_wd));
	ret = ret ?: provoke(req);
	snprintf(path, sizeof(path), "%srcu_cpu_stall_timeout", rcu);
	set_knob(path, old_rcu, NULL, 0);
	snprintf(path, sizeof(path), "%srcu_exp_cpu_stall_timeout", rcu);
	set_knob(path, old_exp, NULL, 0);
	snprintf(path, sizeof(path), "%srcu_task_stall_timeout", rcu);
	set_knob(path, old_tasks, NULL, 0);
	snprintf(path, sizeof(path), "%srcu_task_stall_info", rcu);
	set_knob(path, old_info, NULL, 0);
	set_knob("/proc/sys/kernel/watchdog_thresh", old_wd, NULL, 0);
	ktap(!ret, req, ret ? strerror(-ret) : NULL);
}

int main(void)
{
	const char *env = p2pbuf_env("P2PBUF_DETECT");
	char *list, *req, *save = NULL, name[96];
	int n = 0, ret;

	if (!env || access(PROVOKE, W_OK)) {
		printf("TAP version 13\n1..0 # SKIP %s\n",
		       env ? "p2pbuf_lab_detect.ko not loaded" : "P2PBUF_DETECT unset");
		return 4;
	}
	/* The plan: one line per request, two for "leak". */
	list = strdup(env);
	for (req = strtok_r(list, " ", &save); req; req = strtok_r(NULL, " ", &save))
		n += strcmp(req, "leak") ? 1 : 2;
	free(list);
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);

	list = strdup(env);
	for (req = strtok_r(list, " ", &save); req; req = strtok_r(NULL, " ", &save)) {
		if (!strcmp(req, "leak")) {
			probe_leak();
			continue;
		}
		if (!strcmp(req, "hung")) {
			probe_hung();
			continue;
		}
		if (strstr(req, "stall")) {
			snprintf(name, sizeof(name), "%s 6000", req);
			probe_stall(name);
			continue;
		}
		if (!strcmp(req, "kmemleak_off")) {
			ret = p2pbuf_sysfs_write("/sys/kernel/debug/kmemleak", "off");
			ktap(!ret, req, ret ? strerror(-ret) : NULL);
			continue;
		}
		if (!strcmp(req, "dma")) {
			/* The second ivshmem, left unbound by the lab. */
			snprintf(name, sizeof(name), "dma %s",
				 p2pbuf_env("P2PBUF_VFIO_BDF") ?: "0000:00:06.0");
			ret = provoke(name);
		} else {
			ret = provoke(req);
		}
		/* The oops thread dies on its own CPU: let its report out. */
		if (!strcmp(req, "oops"))
			sleep(1);
		ktap(!ret, req, ret ? strerror(-ret) : NULL);
	}
	free(list);
	return 0;
}
