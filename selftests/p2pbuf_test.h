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
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
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

/*
 * True inside the p2pbuf lab (lab/vm.sh exports P2PBUF_LAB=1), whose kernel
 * configuration guarantees udmabuf, the system dma-heap, vgem, debugfs,
 * kmemleak, fault injection, lockdep and vfio-pci.
 */
static inline bool p2pbuf_in_lab(void)
{
	const char *v = p2pbuf_env("P2PBUF_LAB");

	return v && !strcmp(v, "1");
}

#ifndef P2PBUF_NO_HARNESS
/*
 * A kernel feature the test needs is missing, @fmt says which: a SKIP on a
 * user's kernel; in the lab, whose kernel config guarantees the feature, a
 * failure with the same reason (a SKIP there would hide a broken lab kernel).
 */
static inline __printf(4, 5)
void p2pbuf_feature_verdict(struct __test_metadata *_metadata,
			    const char *file, int line, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!p2pbuf_in_lab())
		SKIP(return, "%s", why);
	snprintf(_metadata->results->reason, sizeof(_metadata->results->reason),
		 "%s (the lab guarantees it: P2PBUF_LAB=1)", why);
	fprintf(TH_LOG_STREAM, "# %s:%d:%s:%s\n", file, line, _metadata->name,
		_metadata->results->reason);
	_metadata->exit_code = KSFT_FAIL;
}

/*
 * p2pbuf_feature_missing(statement, fmt, ...) - use instead of SKIP() for a
 * missing feature that the lab guarantees (p2pbuf_feature_verdict()); then
 * @statement runs, as for SKIP().
 */
#define p2pbuf_feature_missing(statement, fmt, ...) do {		\
	p2pbuf_feature_verdict(_metadata, __FILE__, __LINE__, fmt,	\
			       ##__VA_ARGS__);				\
	statement;							\
} while (0)
#endif

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

/* p2pbuf_exporter's debugfs state of device @bdf, or NULL with errno set. */
static inline FILE *p2pbuf_exp_state_open(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/kernel/debug/p2pbuf_exporter/%s/state",
		 bdf);
	return fopen(path, "re");
}

/*
 * Lines of that state starting with @prefix (NULL: any) and containing
 * @word ("cached-table yes", say; NULL: any), or -errno.
 */
static inline int p2pbuf_exp_state_lines(const char *bdf, const char *prefix,
					 const char *word)
{
	FILE *f = p2pbuf_exp_state_open(bdf);
	char line[512];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		n += (!prefix || !strncmp(line, prefix, strlen(prefix))) &&
		     (!word || strstr(line, word));
	fclose(f);
	return n;
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

/*
 * Make kmemleak report what leaked so far: it reports an object only once it
 * is older than 5 s and was unreferenced in two scans, so scan, wait 6 s,
 * scan. Returns 0 or -errno.
 */
static inline int p2pbuf_kmemleak_settle(void)
{
	if (p2pbuf_kmemleak_scan())
		return -errno;
	sleep(6);
	return p2pbuf_kmemleak_scan();
}

/* Does backtrace frame @frame lie in module @mod ("sym+0x1/0x2 [mod]")? */
static inline int p2pbuf_frame_in_module(const char *frame, const char *mod)
{
	size_t n = strlen(mod);
	const char *p = frame;

	while ((p = strchr(p, '['))) {
		p++;
		/* "[mod]", or "[mod <build id>]" with CONFIG_STACKTRACE_BUILD_ID */
		if (!strncmp(p, mod, n) && (p[n] == ']' || p[n] == ' '))
			return 1;
	}
	return 0;
}

/*
 * Objects kmemleak reports whose allocation backtrace has a frame in one of
 * the NULL-terminated modules @mods, other than those with a frame naming
 * @except (NULL: none). *@total gets every reported object. Returns -errno
 * if kmemleak is not available.
 *
 * A report (print_unreferenced(), mm/kmemleak.c in 7.2) is
 *	unreferenced object 0x... (size N):
 *	  comm "...", pid N, jiffies N
 *	  hex dump (first 32 bytes):
 *	    6b 6b ...
 *	  backtrace (crc 1a2b3c4d):
 *	    __kmalloc_cache_noprof+0x2f4/0x3c0
 *	    p2pbuf_exp_alloc+0x5e/0x90 [p2pbuf_exporter]
 * so the frames are the indented lines after "  backtrace"; the hex dump
 * above them is indented the same way and must not count.
 */
static inline int p2pbuf_kmemleak_in_modules(const char * const *mods,
					     const char *except, int *total)
{
	int n = 0, all = 0, in_bt = 0, hit = 0, excluded = 0, i;
	char line[512];
	FILE *f;

	f = fopen("/sys/kernel/debug/kmemleak", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19)) {
			n += hit && !excluded;
			all++;
			in_bt = 0;
			hit = 0;
			excluded = 0;
			continue;
		}
		if (!strncmp(line, "  backtrace", 11)) {
			in_bt = 1;
			continue;
		}
		if (!in_bt || strncmp(line, "    ", 4))
			continue;
		for (i = 0; mods[i]; i++)
			hit |= p2pbuf_frame_in_module(line, mods[i]);
		if (except && strstr(line, except))
			excluded = 1;
	}
	n += hit && !excluded;
	fclose(f);
	if (total)
		*total = all;
	return n;
}

/*
 * Objects kmemleak reports that were allocated on a path through either
 * p2pbuf module, other than the known upstream leak of vfio-pci's dma-buf
 * mappings (lab/summary.py, KNOWN_LEAKS), which an importer test reaches
 * through p2pbuf_importer. *@total gets every reported object. Returns
 * -errno if kmemleak is not available. lab/detector-selftest.sh proves the
 * parser on a planted leak (selftests/detector_probe.c).
 */
static inline int p2pbuf_kmemleak_ours(int *total)
{
	static const char * const mods[] = {
		"p2pbuf_exporter", "p2pbuf_importer", NULL
	};

	return p2pbuf_kmemleak_in_modules(mods, "vfio_pci_dma_buf_map", total);
}

/*
 * The kernel log from now on: /dev/kmsg opened non-blocking at its end.
 * Returns the fd or -errno.
 */
static inline int p2pbuf_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * Append the text of the records logged since the last call on @fd
 * (p2pbuf_kmsg_open()) to @log, one line each, as far as @len allows.
 * Returns the number of records read or -errno.
 */
static inline int p2pbuf_kmsg_read(int fd, char *log, size_t len)
{
	size_t used = strlen(log);
	char rec[2048];
	int count = 0;
	ssize_t n;

	for (;;) {
		const char *text;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n < 0)
			return errno == EAGAIN ? count : -errno;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;text\n", then continuation lines */
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		if (used < len)
			used += snprintf(log + used, len - used, "%.*s\n",
					 (int)strcspn(text, "\n"), text);
		count++;
	}
}

/* Lines of @log that contain @a and, unless NULL, @b. */
static inline int p2pbuf_log_count(const char *log, const char *a,
				   const char *b)
{
	const char *line, *nl;
	char buf[1024];
	int n = 0;

	for (line = log; *line; line = nl + 1) {
		nl = strchrnul(line, '\n');
		snprintf(buf, sizeof(buf), "%.*s", (int)(nl - line), line);
		n += strstr(buf, a) && (!b || strstr(buf, b));
		if (!*nl)
			break;
	}
	return n;
}

#endif /* P2PBUF_TEST_H */
