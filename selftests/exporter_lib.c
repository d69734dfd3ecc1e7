// SPDX-License-Identifier: GPL-2.0
/*
 * exporter_test's helpers that need no test harness: ioctl wrappers for the
 * p2pbuf exporter and importer, device node paths and a foreign dma-buf.
 * A translation unit of its own, linked into exporter_test; it must not
 * include kselftest_harness.h (see exporter_lib.h).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/udmabuf.h>

#include "exporter_lib.h"

int exp_info(int fd, struct p2pbuf_exp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(fd, P2PBUF_EXP_INFO, info);
}

/* EXPORT ranges; returns the dma-buf fd or -1 with errno. */
int exp_export(int fd, __u32 bar, const struct p2pbuf_exp_range *r,
	       __u32 n, __u32 open_flags, __u64 *size)
{
	struct p2pbuf_exp_export e = {
		.argsz = sizeof(e),
		.bar = bar,
		.open_flags = open_flags,
		.nr_ranges = n,
		.fd = NO_FD,
		.ranges = (uintptr_t)r,
	};

	if (ioctl(fd, P2PBUF_EXP_EXPORT, &e))
		return -1;
	if (size)
		*size = e.size;
	return e.fd;
}

int exp_query(int fd, int buf, struct p2pbuf_exp_attach_state *st,
	      __u32 cap, struct p2pbuf_exp_query *q)
{
	memset(q, 0, sizeof(*q));
	q->argsz = sizeof(*q);
	q->fd = buf;
	q->nr_attachments = cap;
	q->attachments = (uintptr_t)st;
	return ioctl(fd, P2PBUF_EXP_QUERY, q);
}

/* REVOKE or RESTORE; returns the count or -1 with errno. */
int exp_revoke(int fd, unsigned long cmd, __u32 flags, int buf)
{
	struct p2pbuf_exp_revoke r = {
		.argsz = sizeof(r),
		.flags = flags,
		.fd = buf,
		.count = 0xdead,
	};

	if (ioctl(fd, cmd, &r))
		return -1;
	return r.count;
}

/* IMPORT into the importer; returns the handle or -1 with errno. */
int imp_import(int imp, int buf, __u32 flags)
{
	struct p2pbuf_imp_import i = {
		.argsz = sizeof(i),
		.flags = flags,
		.fd = buf,
	};

	if (ioctl(imp, P2PBUF_IMP_IMPORT, &i))
		return -1;
	return i.handle;
}

int imp_map(int imp, __u32 handle, struct p2pbuf_imp_map *m)
{
	memset(m, 0, sizeof(*m));
	m->argsz = sizeof(*m);
	m->handle = handle;
	return ioctl(imp, P2PBUF_IMP_MAP, m);
}

int imp_handle_op(int imp, unsigned long cmd, __u32 handle)
{
	struct p2pbuf_imp_handle h = {
		.argsz = sizeof(h),
		.handle = handle,
	};

	return ioctl(imp, cmd, &h);
}

int imp_status(int imp, __u32 handle, struct p2pbuf_imp_status *s)
{
	memset(s, 0, sizeof(*s));
	s->argsz = sizeof(*s);
	s->handle = handle;
	return ioctl(imp, P2PBUF_IMP_STATUS, s);
}

char *node_path(char *path, size_t len, const char *pfx, const char *bdf)
{
	snprintf(path, len, "/dev/%s%s", pfx, bdf);
	return path;
}

/* A dma-buf of another exporter (udmabuf), or -1. */
int foreign_dmabuf(void)
{
	struct udmabuf_create create = {
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.size = PAGE,
	};
	int dev, memfd, buf = -1;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	memfd = memfd_create("p2pbuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd >= 0 && !ftruncate(memfd, PAGE) &&
	    !fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		create.memfd = memfd;
		buf = ioctl(dev, UDMABUF_CREATE, &create);
	}
	if (memfd >= 0)
		close(memfd);
	close(dev);
	return buf;
}
