/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test, "lockdep" fixture: the lock order lockdep learned while the
 * other tests ran. Included last, so that it runs last.
 */
#ifndef P2PBUF_IMPORTER_LOCKDEP_TESTS_H
#define P2PBUF_IMPORTER_LOCKDEP_TESTS_H

#include "importer_lib.h"

/* Lock order, as lockdep learned it while the tests above ran. */

/* Class @name, or a same-named class lockdep numbered "@name#N". */
static int lockdep_name_is(const char *s, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(s, name, n) && (!s[n] || s[n] == '#');
}

/* Does /proc/lockdep record that a class named @from takes @to next? */
static int lockdep_edge(const char *from, const char *to)
{
	char line[512], *name;
	int in_from = 0, found = 0;
	FILE *f;

	f = fopen("/proc/lockdep", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, " -> [", 5)) {
			name = strstr(line, "] ");
			if (in_from && name && lockdep_name_is(name + 2, to))
				found = 1;
			continue;
		}
		/* "<key> FD: <n> BD: <n> <usage>: <name>" */
		name = strstr(line, " BD:");
		if (name)
			name = strstr(name + 4, ": ");
		in_from = name && lockdep_name_is(name + 2, from);
	}
	fclose(f);
	return found;
}

static long long lockdep_stat(const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f;

	f = fopen("/proc/lockdep_stats", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, key) && strchr(line, ':'))
			v = strtoll(strchr(line, ':') + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * A fixture of its own, declared last, so that this runs after every other
 * test of the program (the harness runs global TEST()s first).
 */
FIXTURE(lockdep) {
};

FIXTURE_SETUP(lockdep)
{
}

FIXTURE_TEARDOWN(lockdep)
{
}

/*
 * The order docs/importer.rst states: file lock -> dma_resv -> engine lock
 * and -> event lock. lockdep must still be on (no report so far) and must
 * have seen each of these nestings; the reverse of any of them would have
 * been a lockdep report, which fails the lab run.
 */
TEST_F(lockdep, learned_lock_order)
{
	static const char resv[] = "reservation_ww_class_mutex";
	struct p2pbuf_imp_info info;
	char bdf[64];
	int fd;

	if (access("/proc/lockdep", R_OK))
		p2pbuf_feature_missing(return, "kernel without lockdep (/proc/lockdep)");
	/*
	 * Off means an earlier report or taint switched it off: then it saw
	 * nothing since, and the edges below prove nothing. That is a failure,
	 * not a reason to skip (the lab's end-of-boot check says why).
	 */
	if (lockdep_stat("debug_locks") != 1)
		TH_LOG("lockdep is off (debug_locks in /proc/lockdep_stats): see dmesg");
	ASSERT_EQ(1, lockdep_stat("debug_locks"));
	EXPECT_EQ(1, lockdep_edge("&file->lock", resv));
	EXPECT_EQ(0, lockdep_edge("&idev->engine.lock", resv));
	EXPECT_EQ(0, lockdep_edge("&file->ev_lock", resv));
	/* Taken under dma_resv at import when the device has an engine. */
	fd = imp_open(bdf, sizeof(bdf));
	if (fd >= 0 && !imp_info(fd, &info) && info.engine[0])
		EXPECT_EQ(1, lockdep_edge(resv, "&idev->engine.lock"));
	if (fd >= 0)
		close(fd);
	/* Taken under dma_resv by invalidations: the vfio-pci tests. */
	if (p2pbuf_env("P2PBUF_VFIO_BDF"))
		EXPECT_EQ(1, lockdep_edge(resv, "&file->ev_lock"));
}

#endif /* P2PBUF_IMPORTER_LOCKDEP_TESTS_H */
