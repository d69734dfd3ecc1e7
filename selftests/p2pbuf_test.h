/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the p2pbuf selftests: device discovery from the lab's
 * environment, sysfs binding, and errno assertions.
 */
#ifndef P2PBUF_TEST_H
#define P2PBUF_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

/*
 * The benchmark (bench_*.c) shares these helpers but is no test: it defines
 * P2PBUF_NO_HARNESS and gets them without kselftest_harness.h.
 */
#ifndef P2PBUF_NO_HARNESS
#include "kselftest_harness.h"
#elif !defined(ARRAY_SIZE)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* The call must fail with errno e (iommufd_utils.h style). */
#define EXPECT_ERRNO(e, cmd)			\
	({					\
		errno = 0;			\
		ASSERT_EQ(-1, (cmd));		\
		EXPECT_EQ((e), errno);		\
	})

/* Environment set by the lab's guest init (see lab/guest/init.sh). */
static inline const char *p2pbuf_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Write a string to a sysfs file; returns 0 or -errno. */
static inline int p2pbuf_sysfs_write(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Bind PCI device @bdf to @driver through driver_override; "" unbinds only. */
static inline int p2pbuf_pci_bind(const char *bdf, const char *driver)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	if (access(path, F_OK) == 0)
		p2pbuf_sysfs_write(path, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (p2pbuf_sysfs_write(path, *driver ? driver : "\n"))
		return -errno;
	if (!*driver)
		return 0;
	return p2pbuf_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

/* Number of open file descriptors of this process, or -errno. */
static inline int p2pbuf_count_fds(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* Make sure debugfs is mounted; returns 0 or -errno. */
static inline int p2pbuf_debugfs_mount(void)
{
	if (access("/sys/kernel/debug/dma_buf", F_OK) == 0 ||
	    access("/sys/kernel/debug/kmemleak", F_OK) == 0)
		return 0;
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) &&
	    errno != EBUSY)
		return -errno;
	return 0;
}

/*
 * Number of dma-bufs in the system whose exporter is @exp_name, from the
 * dma-buf core's debugfs list, or -errno if that is not available.
 */
static inline int p2pbuf_count_dmabufs(const char *exp_name)
{
	char line[512], needle[128];
	int n = 0;
	FILE *f;

	if (p2pbuf_debugfs_mount())
		return -ENOENT;
	f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	if (!f)
		return -errno;
	snprintf(needle, sizeof(needle), "\t%s\t", exp_name);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

/* Ask kmemleak for a scan; returns 0 or -errno. */
static inline int p2pbuf_kmemleak_scan(void)
{
	return p2pbuf_sysfs_write("/sys/kernel/debug/kmemleak", "scan");
}

/*
 * Number of objects kmemleak currently reports whose allocation backtrace
 * mentions any of the NULL-terminated @funcs; *@total gets the number of
 * all reported objects. Returns -errno if kmemleak is not available.
 */
static inline int p2pbuf_kmemleak_count(const char * const *funcs, int *total)
{
	int n = 0, all = 0, counted = 0, i;
	char line[512];
	FILE *f;

	f = fopen("/sys/kernel/debug/kmemleak", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19)) {
			all++;
			counted = 0;
			continue;
		}
		for (i = 0; funcs[i] && !counted; i++) {
			if (strstr(line, funcs[i])) {
				counted = 1;
				n++;
			}
		}
	}
	fclose(f);
	if (total)
		*total = all;
	return n;
}

#endif /* P2PBUF_TEST_H */
