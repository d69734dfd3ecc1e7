/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the tests that drive p2pbuf_importer: finding and opening its
 * device, ioctl wrappers returning 0 or -errno, dma-buf sources (udmabuf,
 * the system dma-heap, vfio-pci), and the dma-buf core's debugfs view of a
 * buffer's attachments. The vfio-pci helpers are in importer_vfio_lib.h,
 * included at the end.
 */
#ifndef P2PBUF_IMPORTER_LIB_H
#define P2PBUF_IMPORTER_LIB_H

#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include <linux/dma-heap.h>
#include <linux/p2pbuf_importer.h>
#include <linux/udmabuf.h>

#include "p2pbuf_test.h"

#define IMP_SYSFS_PCI	"/sys/bus/pci/devices"

static inline int imp_errno(int ret)
{
	return ret < 0 ? -errno : ret;
}

static inline const char *imp_map_type_name(unsigned int t)
{
	static const char * const names[] = {
		[P2PBUF_MAP_UNKNOWN] = "UNKNOWN",
		[P2PBUF_MAP_NOT_P2P] = "NOT_P2P",
		[P2PBUF_MAP_BUS_ADDR] = "BUS_ADDR",
		[P2PBUF_MAP_HOST_BRIDGE_DIRECT] = "HOST_BRIDGE_DIRECT",
		[P2PBUF_MAP_HOST_BRIDGE_IOVA] = "HOST_BRIDGE_IOVA",
		[P2PBUF_MAP_NOT_SUPPORTED] = "NOT_SUPPORTED",
	};

	return t < ARRAY_SIZE(names) ? names[t] : "?";
}

/*
 * The importer's map/unmap cycle benchmark in debugfs
 * (/sys/kernel/debug/p2pbuf_importer/<BDF>/map_cycles, importer/debugfs.c):
 * @n cycles of the dma-buf @dmabuf. Per-cycle times go to @map_ns and
 * @unmap_ns (either may be NULL). Returns 0 or -errno.
 */
static inline int imp_map_cycles(const char *bdf, int dmabuf, unsigned int n,
				 unsigned long long *map_ns,
				 unsigned long long *unmap_ns,
				 unsigned int *map_type, unsigned int *nr_segs)
{
	char path[PATH_MAX], cmd[32], name[32], *line = NULL;
	unsigned long long m, u;
	unsigned int i = 0, v;
	size_t cap = 0;
	int fd, ret = 0;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/p2pbuf_importer/%s/map_cycles", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(cmd, sizeof(cmd), "%d %u", dmabuf, n);
	if (write(fd, cmd, strlen(cmd)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	f = fdopen(fd, "r");
	if (!f) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while (getline(&line, &cap, f) > 0) {
		if (sscanf(line, "map_type %31s", name) == 1) {
			for (v = P2PBUF_MAP_UNKNOWN; v <= P2PBUF_MAP_NOT_SUPPORTED; v++)
				if (map_type && !strcmp(name, imp_map_type_name(v)))
					*map_type = v;
		} else if (sscanf(line, "nr_segs %u", &v) == 1) {
			if (nr_segs)
				*nr_segs = v;
		} else if (sscanf(line, "%llu %llu", &m, &u) == 2 && i < n) {
			if (map_ns)
				map_ns[i] = m;
			if (unmap_ns)
				unmap_ns[i] = u;
			i++;
		}
	}
	free(line);
	fclose(f);
	return i == n ? 0 : -EIO;
}

/* Compare map types by name, so that a failure prints both names. */
#define EXPECT_MAP_TYPE(want, seen)					\
	EXPECT_STREQ(imp_map_type_name(want), imp_map_type_name(seen))

/* enum p2pbuf_map_type from a name as in P2PBUF_EXPECT_MAP, or -1. */
static inline int imp_map_type_parse(const char *name)
{
	unsigned int t;

	for (t = P2PBUF_MAP_UNKNOWN; t <= P2PBUF_MAP_NOT_SUPPORTED; t++)
		if (name && !strcmp(name, imp_map_type_name(t)))
			return t;
	return -1;
}

/*
 * Open /dev/p2pbuf-imp-<BDF> for P2PBUF_INITIATOR_BDF, or outside the lab
 * the first importer device there is. Returns the fd or -errno; @bdf gets
 * the device's address.
 */
static inline int imp_open(char *bdf, size_t len)
{
	const char *env = p2pbuf_env("P2PBUF_INITIATOR_BDF");
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int fd;

	if (env) {
		snprintf(bdf, len, "%s", env);
	} else {
		dir = opendir("/dev");
		if (!dir)
			return -errno;
		bdf[0] = '\0';
		while ((de = readdir(dir)))
			if (!strncmp(de->d_name, "p2pbuf-imp-", 11)) {
				snprintf(bdf, len, "%s", de->d_name + 11);
				break;
			}
		closedir(dir);
		if (!bdf[0])
			return -ENOENT;
	}
	snprintf(path, sizeof(path), "/dev/p2pbuf-imp-%s", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Read a sysfs attribute of a PCI device as a number; -1 on error. */
static inline long long imp_pci_attr(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/%s", bdf, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 0);
}

/* Name of the driver bound to @bdf, "" if none. */
static inline void imp_pci_driver(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		name[0] = '\0';
		return;
	}
	target[n] = '\0';
	snprintf(name, len, "%s", basename(target));
}

static inline int imp_info(int fd, struct p2pbuf_imp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return imp_errno(ioctl(fd, P2PBUF_IMP_INFO, info));
}

static inline int imp_import(int fd, int dmabuf, __u32 flags, __u32 *handle,
			     __u64 *size)
{
	struct p2pbuf_imp_import arg = {
		.argsz = sizeof(arg), .flags = flags, .fd = dmabuf,
	};
	int ret = imp_errno(ioctl(fd, P2PBUF_IMP_IMPORT, &arg));

	if (!ret) {
		*handle = arg.handle;
		if (size)
			*size = arg.size;
	}
	return ret;
}

/* P2PBUF_IMP_RELEASE or P2PBUF_IMP_UNMAP. */
static inline int imp_handle_op(int fd, unsigned long cmd, __u32 handle)
{
	struct p2pbuf_imp_handle arg = {
		.argsz = sizeof(arg), .handle = handle,
	};

	return imp_errno(ioctl(fd, cmd, &arg));
}

static inline int imp_map(int fd, __u32 handle, struct p2pbuf_imp_map *m,
			  struct p2pbuf_imp_seg *segs, __u32 max_segs)
{
	memset(m, 0, sizeof(*m));
	m->argsz = sizeof(*m);
	m->handle = handle;
	m->max_segs = max_segs;
	m->segs = (uintptr_t)segs;
	return imp_errno(ioctl(fd, P2PBUF_IMP_MAP, m));
}

static inline int imp_status(int fd, __u32 handle, struct p2pbuf_imp_status *st)
{
	memset(st, 0, sizeof(*st));
	st->argsz = sizeof(*st);
	st->handle = handle;
	return imp_errno(ioctl(fd, P2PBUF_IMP_STATUS, st));
}

static inline int imp_dma(int fd, __u32 handle, __u32 flags, __u64 offset,
			  void *data, __u64 length)
{
	struct p2pbuf_imp_dma arg = {
		.argsz = sizeof(arg), .flags = flags, .handle = handle,
		.offset = offset, .length = length, .data = (uintptr_t)data,
	};

	return imp_errno(ioctl(fd, P2PBUF_IMP_DMA, &arg));
}

#define IMP_TRACEFS	"/sys/kernel/tracing"

/* tracefs at IMP_TRACEFS (the lab's init mounts only debugfs); 0 or -errno. */
static inline int imp_tracefs_mount(void)
{
	if (access(IMP_TRACEFS "/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", IMP_TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		return -errno;
	return 0;
}

/* Enable or disable the p2pbuf_imp trace event @event; 0 or -errno. */
static inline int imp_trace_event(const char *event, int on)
{
	char path[PATH_MAX];

	if (imp_tracefs_mount())
		return -ENOENT;
	snprintf(path, sizeof(path), IMP_TRACEFS "/events/p2pbuf_imp/%s/enable",
		 event);
	return p2pbuf_sysfs_write(path, on ? "1" : "0") ? -errno : 0;
}

/* Empty the trace buffer; 0 or -errno. */
static inline int imp_trace_clear(void)
{
	int fd = open(IMP_TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * The value of "@field=" in the last trace line of @event that contains
 * @match (NULL: any); -ENOENT if there is none.
 */
static inline long long imp_trace_field(const char *event, const char *match,
					const char *field)
{
	char line[1024], key[64], ev[80];
	long long val = -ENOENT;
	char *p;
	FILE *f;

	f = fopen(IMP_TRACEFS "/trace", "re");
	if (!f)
		return -errno;
	snprintf(ev, sizeof(ev), " %s: ", event);
	snprintf(key, sizeof(key), " %s=", field);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, ev) || (match && !strstr(line, match)))
			continue;
		p = strstr(line, key);
		if (p)
			val = strtoll(p + strlen(key), NULL, 0);
	}
	fclose(f);
	return val;
}

/* Wait up to @timeout_ms for one event; 0, -ETIMEDOUT or -errno. */
static inline int imp_read_event(int fd, struct p2pbuf_imp_event *ev,
				 int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (!ret)
		return -ETIMEDOUT;
	n = read(fd, ev, sizeof(*ev));
	if (n < 0)
		return -errno;
	return n == sizeof(*ev) ? 0 : -EIO;
}

/* Discard queued events; returns how many there were. */
static inline int imp_drain_events(int fd)
{
	struct p2pbuf_imp_event ev;
	int n = 0;

	while (imp_read_event(fd, &ev, 0) == 0)
		n++;
	return n;
}

/* A udmabuf over a sealed memfd of @size bytes; *@memfd gets the memfd. */
static inline int imp_udmabuf(size_t size, int *memfd)
{
	struct udmabuf_create create = { .flags = UDMABUF_FLAGS_CLOEXEC };
	int dev, mfd, buf, err;

	*memfd = -1;
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	mfd = memfd_create("p2pbuf-imp", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, size) ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		err = -errno;
		if (mfd >= 0)
			close(mfd);
		close(dev);
		return err;
	}
	create.memfd = mfd;
	create.size = size;
	buf = ioctl(dev, UDMABUF_CREATE, &create);
	err = -errno;
	close(dev);
	if (buf < 0) {
		close(mfd);
		return err;
	}
	*memfd = mfd;
	return buf;
}

/* A buffer of the system dma-heap. */
static inline int imp_heap_buf(size_t size)
{
	struct dma_heap_allocation_data alloc = {
		.len = size, .fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap, ret;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc);
	ret = ret < 0 ? -errno : (int)alloc.fd;
	close(heap);
	return ret;
}

/*
 * How many times @devname is attached to the dma-buf @dmabuf according to
 * /sys/kernel/debug/dma_buf/bufinfo; -ENOENT if that file is not there.
 */
static inline int imp_attach_count(int dmabuf, const char *devname)
{
	char line[512], ino[32];
	int count = 0, in_buf = 0;
	struct stat st;
	FILE *f;

	if (fstat(dmabuf, &st))
		return -errno;
	snprintf(ino, sizeof(ino), "%08llu", (unsigned long long)st.st_ino);
	f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (!in_buf) {
			char *p = line;
			int field;

			/* size, flags, mode, count, exp_name, ino, name */
			for (field = 0; p && field < 5; field++) {
				p = strchr(p, '\t');
				if (p)
					p++;
			}
			if (p && !strncmp(p, ino, strlen(ino)) &&
			    p[strlen(ino)] == '\t')
				in_buf = 1;
			continue;
		}
		if (!strncmp(line, "Total ", 6))
			break;
		if (line[0] == '\t' && !strcmp(line + 1, devname))
			count++;
	}
	fclose(f);
	return count;
}

/* Milliseconds on the monotonic clock. */
static inline long long imp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Nanoseconds on the monotonic clock, the clock of the importer's traces. */
static inline __u64 imp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Fill @len bytes with a pattern derived from @seed. */
static inline void imp_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

/* Offset + 1 of the first byte of @buf that is not @c, 0 if none. */
static inline size_t imp_memchr_not(const void *buf, int c, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (unsigned char)c)
			return i + 1;
	return 0;
}

/* A number read from a sysfs or debugfs file, -1 on error. */
static inline long long imp_sysfs_value(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 0);
}

/* struct imp_vfio and its helpers: they use the ones above. */
#include "importer_vfio_lib.h"

#endif /* P2PBUF_IMPORTER_LIB_H */
